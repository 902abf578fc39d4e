"""Result classes of `salesstd.scoring` (re-exported there; see that module)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.frames import FrameBackend, make_frame
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd.errors import UnknownStageError

__all__ = [
    "EntityScore",
    "KpiScore",
    "RampCohort",
    "RampResult",
    "ScorecardResult",
]

Form = Literal["long", "wide"]


def _same(label: object, value: object) -> bool:
    return label is value or (label is not None and value is not None and bool(label == value))


@attrs.frozen
class KpiScore:
    """One KPI of one entity (in one period): one row of a `ScorecardResult`.

    Attributes:
        kpi: The KPI's name.
        metric: What it measures (``"win_rate"``, ``"cycle_time"``, ...).
        entity: The entity (value of the `by` attribute; None for a missing value).
        value: The scored value (shrunk for proportions with empirical-Bayes shrinkage).
        raw_value: The entity's own estimate, before any shrinkage.
        target: The target the value is scored against.
        gap: ``value - target`` for higher-is-better KPIs, ``target - value`` for
            lower-is-better ones: positive is better than target.
        attainment: ``value / target`` (higher is better) or ``target / value`` (lower is
            better), clipped to ``[0, attainment_cap]``; NaN where undefined.
        band: ``"below"``, ``"meets"`` or ``"exceeds"``; None where the value is NaN.
        low: Lower end of the interval around `value`.
        high: Upper end of that interval.
        n: Size of the sample behind the value.
        small_sample: True if `n` is below the scorecard's `min_sample`.
        scored: True if the row enters the entity's composite: a finite attainment, and for
            an estimate that is not shrunk (cycle time, dwell, activities per deal,
            velocity) a sample of at least `min_sample`.
        stage: The KPI's stage, if it has one.
        period: The period start (ISO date), None without `period`.
    """

    kpi: str
    metric: str
    entity: object
    value: float
    raw_value: float
    target: float
    gap: float
    attainment: float
    band: str | None
    low: float
    high: float
    n: int
    small_sample: bool
    scored: bool
    stage: str | None = None
    period: str | None = None


@attrs.frozen
class EntityScore:
    """The composite score and rank of one entity (in one period).

    Attributes:
        entity: The entity.
        composite: Weighted mean of the (capped) attainments of its scored KPIs.
        rank: 1 for the best composite in the period; entities whose every KPI is a small
            sample rank after the others, entities without a composite last.
        kpis_scored: Number of KPIs that enter the composite (`KpiScore.scored`).
        period: The period start (ISO date), None without `period`.
    """

    entity: object
    composite: float
    rank: int
    kpis_scored: int
    period: str | None = None


@attrs.frozen(repr=False)
class ScorecardResult(ResultMixin):
    """Entities scored on the KPIs of a standard; see `salesstd.scorecard`.

    Arrays run over rows in "long" layout: one row per (period, entity, KPI), periods in
    time order, entities in sorted order (a missing value last), KPIs in the standard's
    order. `composite` and `rank` repeat on every row of an entity.

    Attributes:
        period: Period start (ISO date) of each row (all None without `period`).
        entity: Entity of each row.
        kpi: KPI name of each row.
        metric: KPI metric of each row.
        stage: KPI stage of each row (None if it has none).
        value: Scored value (shrunk for proportions with empirical-Bayes shrinkage).
        raw_value: The entity's own estimate.
        target: Target of each row.
        gap: Signed gap, positive is better.
        attainment: ``value / target`` or ``target / value`` (lower is better), clipped to
            ``[0, attainment_cap]``.
        scored: True where the row enters the composite (see `KpiScore.scored`).
        band: ``"below"``, ``"meets"``, ``"exceeds"``, or None for a NaN value.
        low: Lower end of the interval around `value`.
        high: Upper end of that interval.
        n: Sample behind each value.
        small_sample: ``n < min_sample``.
        weight: KPI weight.
        composite: The entity's composite score.
        rank: The entity's rank within its period (1 = best; see `salesstd.scorecard`).
        entities: Entity labels in sorted order.
        kpis: KPI names in the standard's order.
        periods: Period starts in time order (``(None,)`` without `period`).
        by: The case attribute naming the entities.
        period_unit: The `period` option, or None.
        shrinkage: ``"empirical_bayes"`` or ``"none"``.
        default_kpis: True if the standard had no KPIs and the funnel's own were scored.
        as_of: The censoring time (UTC).
        confidence_level: Coverage of the intervals.
        attainment_cap: Upper bound of every attainment.
        min_sample: Samples below this size are flagged (and, for estimates that are not
            shrunk, not scored).
        dwell_floor_seconds: Stays that ended in a move sooner than this were not judged
            by dwell KPIs.
        value_attribute: Case attribute with the deal value (won_value, velocity).
        standard: Name of the standard.
    """

    period: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    entity: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    kpi: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    metric: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    stage: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    value: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    raw_value: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    target: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    gap: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    attainment: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    scored: NDArray[np.bool_] = attrs.field(converter=_ro, eq=_eq)
    band: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    n: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    small_sample: NDArray[np.bool_] = attrs.field(converter=_ro, eq=_eq)
    weight: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    composite: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    rank: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    entities: tuple[object, ...]
    kpis: tuple[str, ...]
    periods: tuple[str | None, ...]
    by: str
    period_unit: str | None
    shrinkage: str
    default_kpis: bool
    as_of: dt.datetime
    confidence_level: float
    attainment_cap: float
    min_sample: int
    dwell_floor_seconds: float
    value_attribute: str
    standard: str

    __hash__ = None  # type: ignore[assignment]

    def at(self, kpi: str, entity: object = None, period: object = None) -> KpiScore:
        """The row of one KPI for one entity (and period).

        Args:
            kpi: A KPI name (or, for the funnel's default KPIs, e.g. ``"win_rate"``).
            entity: The entity's label.
            period: The period start (ISO date) when scored with `period`.

        Raises:
            UnknownStageError: If `kpi` is not a KPI of the scorecard.
            ParameterError: If `kpi` is not a str, or `entity` or `period` is not in the
                result.
        """
        i = self._row(kpi, entity, period)
        return KpiScore(
            kpi=str(self.kpi[i]),
            metric=str(self.metric[i]),
            entity=self.entity[i],
            value=float(self.value[i]),
            raw_value=float(self.raw_value[i]),
            target=float(self.target[i]),
            gap=float(self.gap[i]),
            attainment=float(self.attainment[i]),
            band=self.band[i],
            low=float(self.low[i]),
            high=float(self.high[i]),
            n=int(self.n[i]),
            small_sample=bool(self.small_sample[i]),
            scored=bool(self.scored[i]),
            stage=self.stage[i],
            period=self.period[i],
        )

    def score(self, entity: object, period: object = None) -> EntityScore:
        """Composite score and rank of one entity (and period).

        Raises:
            ParameterError: If `entity` or `period` is not in the result.
        """
        i = self._row(self.kpis[0], entity, period)
        first = i - self.kpis.index(str(self.kpi[i]))
        block = slice(first, first + len(self.kpis))
        return EntityScore(
            entity=self.entity[i],
            composite=float(self.composite[i]),
            rank=int(self.rank[i]),
            kpis_scored=int(self.scored[block].sum()),
            period=self.period[i],
        )

    def ranking(self, period: object = None) -> tuple[object, ...]:
        """Entities from best to worst composite (in one period).

        Raises:
            ParameterError: If `period` is not in the result.
        """
        p = self._period_index(period)
        k = len(self.kpis)
        n_e = len(self.entities)
        rows = np.arange(p * n_e * k, (p + 1) * n_e * k, k)
        order = np.argsort(self.rank[rows], kind="stable")
        return tuple(self.entity[rows[order]].tolist())

    def _period_index(self, period: object) -> int:
        if self.period_unit is None:
            if period is not None:
                raise v.not_split("period", period, "period")
            return 0
        return v.result_label("period", period, self.periods, fix="pass one of its periods")

    def _row(self, kpi: object, entity: object, period: object) -> int:
        v.text("kpi", kpi, what="KPI name", known=self.kpis)
        if kpi not in self.kpis:
            raise UnknownStageError(
                f"KPI {kpi!r} is not in the scorecard ({v.listing(self.kpis)})."
                + v.did_you_mean(kpi, self.kpis),
                name=kpi,
                known=self.kpis,
            )
        p = self._period_index(period)
        e = v.result_label(
            "entity", entity, self.entities, fix=f"pass a value of the {self.by!r} attribute"
        )
        k = len(self.kpis)
        return (p * len(self.entities) + e) * k + self.kpis.index(str(kpi))

    def _table(self) -> Mapping[str, NDArray[Any]]:
        head: dict[str, NDArray[Any]] = {}
        if self.period_unit is not None:
            head["period"] = self.period
        head[self.by] = self.entity
        return {
            **head,
            "kpi": self.kpi,
            "metric": self.metric,
            "stage": self.stage,
            "value": self.value,
            "raw_value": self.raw_value,
            "target": self.target,
            "gap": self.gap,
            "attainment": self.attainment,
            "scored": self.scored,
            "band": self.band,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "small_sample": self.small_sample,
            "weight": self.weight,
            "composite": self.composite,
            "rank": self.rank,
        }

    def wide_table(self) -> dict[str, NDArray[Any]]:
        """One row per (period,) entity: each KPI's value and score, composite and rank.

        Columns: the `by` attribute (and ``period``), then ``<kpi>_value`` and
        ``<kpi>_score`` (the attainment that enters the composite; NaN where the row is not
        scored) per KPI, then ``composite`` and ``rank``.
        """
        k = len(self.kpis)
        first = np.arange(0, self.value.size, k)
        out: dict[str, NDArray[Any]] = {}
        if self.period_unit is not None:
            out["period"] = self.period[first]
        out[self.by] = self.entity[first]
        score = np.where(self.scored, self.attainment, np.nan)
        for j, name in enumerate(self.kpis):
            out[f"{name}_value"] = self.value[first + j]
            out[f"{name}_score"] = score[first + j]
        out["composite"] = self.composite[first]
        out["rank"] = self.rank[first]
        return out

    def to_frame(self, *, form: Form = "long", backend: FrameBackend = "pandas") -> Any:  # noqa: ANN401
        """The scorecard as a DataFrame.

        Args:
            form: ``"long"`` (one row per entity and KPI, with the `by` column and ``rank``)
                or ``"wide"`` (one row per entity; see `wide_table`).
            backend: ``"pandas"`` or ``"polars"``.

        Raises:
            ParameterError: If `form` is not "long" or "wide".
            MissingDependencyError: If the backend library is not installed.
        """
        chosen = v.choice("form", form, ("long", "wide"))
        table = self._table() if chosen == "long" else self.wide_table()
        return make_frame(table, backend=backend)

    def _params(self) -> Mapping[str, object]:
        return {
            "standard": self.standard,
            "by": self.by,
            "period": self.period_unit,
            "shrinkage": self.shrinkage,
            "default_kpis": self.default_kpis,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
            "attainment_cap": self.attainment_cap,
            "min_sample": self.min_sample,
            "dwell_floor_seconds": self.dwell_floor_seconds,
            "value": self.value_attribute,
        }

    def _summary(self) -> Mapping[str, object]:
        out: dict[str, object] = {"entities": len(self.entities), "kpis": len(self.kpis)}
        if self.period_unit is not None:
            out["periods"] = len(self.periods)
        else:
            ranking = self.ranking()
            out["best"] = ranking[0] if ranking else None
        return out


@attrs.frozen
class RampCohort:
    """Ramp-up of one start cohort: one row of a `RampResult`.

    Attributes:
        cohort: Start of the period in which the reps of the cohort had their first deal.
        reps: New reps in the cohort.
        reached: Of those, reps whose rolling KPI met the target by `as_of`.
        median_days: Kaplan-Meier median of the days from first deal to target.
        median_low_days: Lower end of its Brookmeyer-Crowley interval.
        median_high_days: Upper end (NaN where open above).
    """

    cohort: str
    reps: int
    reached: int
    median_days: float
    median_low_days: float
    median_high_days: float


@attrs.frozen(repr=False)
class RampResult(ResultMixin):
    """How fast new reps come up to the standard; see `salesstd.ramp`.

    Rows (the table, `at`) are start cohorts in time order; the per-rep arrays hold the
    new reps behind them, in sorted order.

    Attributes:
        cohort: Cohort start (ISO date) of each row.
        reps: New reps per cohort.
        reached: Reps per cohort whose rolling KPI met the target by `as_of`.
        median_days: Kaplan-Meier median days from first deal to target.
        median_low_days: Lower end of its Brookmeyer-Crowley interval.
        median_high_days: Upper end (NaN where open above).
        rep: The new reps.
        rep_cohort: Cohort of each rep.
        rep_first_deal: Time of each rep's first deal (UTC).
        rep_days: Days from first deal to target, or to `as_of` if not reached.
        rep_reached: True where the target was met (else censored).
        excluded: Reps left out because their first deal was within `new_after` of the
            log's start (they may have started before the log).
        by: The case attribute naming the reps.
        kpi: The KPI name (or metric) followed.
        metric: Its metric.
        stage: Its stage, if any.
        target: The target the rolling value must meet.
        direction: ``"higher"`` or ``"lower"``.
        window: Deals in the rolling window.
        new_after_days: Reps whose first deal is at least this many days after the log's
            start count as new.
        period_unit: The cohort period.
        as_of: The censoring time (UTC).
        confidence_level: Coverage of the median intervals.
    """

    cohort: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    reps: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    reached: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    median_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    median_low_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    median_high_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    rep: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    rep_cohort: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    rep_first_deal: NDArray[np.datetime64] = attrs.field(converter=_ro, eq=_eq)
    rep_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    rep_reached: NDArray[np.bool_] = attrs.field(converter=_ro, eq=_eq)
    excluded: tuple[object, ...]
    by: str
    kpi: str
    metric: str
    stage: str | None
    target: float
    direction: str
    window: int
    new_after_days: float
    period_unit: str
    as_of: dt.datetime
    confidence_level: float

    __hash__ = None  # type: ignore[assignment]

    def at(self, cohort: object) -> RampCohort:
        """The row of one start cohort (its period start as an ISO date).

        Raises:
            ParameterError: If `cohort` is not in the result.
        """
        labels = tuple(self.cohort.tolist())
        i = v.result_label("cohort", cohort, labels, fix="pass one of its cohort starts")
        return RampCohort(
            cohort=str(self.cohort[i]),
            reps=int(self.reps[i]),
            reached=int(self.reached[i]),
            median_days=float(self.median_days[i]),
            median_low_days=float(self.median_low_days[i]),
            median_high_days=float(self.median_high_days[i]),
        )

    def per_rep(self) -> dict[str, NDArray[Any]]:
        """The new reps: rep, cohort, first deal, days to target (or censoring), reached."""
        return {
            self.by: self.rep,
            "cohort": self.rep_cohort,
            "first_deal": self.rep_first_deal,
            "days": self.rep_days,
            "reached": self.rep_reached,
        }

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "cohort": self.cohort,
            "reps": self.reps,
            "reached": self.reached,
            "median_days": self.median_days,
            "median_low_days": self.median_low_days,
            "median_high_days": self.median_high_days,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "by": self.by,
            "kpi": self.kpi,
            "metric": self.metric,
            "stage": self.stage,
            "target": self.target,
            "direction": self.direction,
            "window": self.window,
            "new_after_days": self.new_after_days,
            "period": self.period_unit,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
        }

    def _summary(self) -> Mapping[str, object]:
        return {
            "cohorts": int(self.cohort.size),
            "reps": int(self.rep.size),
            "reached": int(self.rep_reached.sum()),
        }
