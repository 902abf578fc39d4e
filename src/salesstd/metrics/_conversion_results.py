"""Result classes of `salesstd.metrics.conversion` (re-exported there; see that module)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd._engine import grouping as _common
from salesstd._engine.episodes import Skips

__all__ = [
    "ConversionCurves",
    "ConversionResult",
    "IncidenceCurve",
    "IncidencePoint",
    "StageConversion",
]

Entries = Literal["first", "every"]
Method = Literal["wilson", "jeffreys"]
DenominatorKind = Literal["resolved", "mature"]


# --------------------------------------------------------------------- records


@attrs.frozen
class StageConversion:
    """Conversion of one stage (in one group and period): one row of a `ConversionResult`.

    Attributes:
        stage: The open stage.
        entered: Entries into the stage (first entries or every entry, per `entries`).
        recorded: Entries recorded in the log (``entered - implied``).
        implied: Entries implied by a skip over the stage between two recorded stages.
        entered_funnel: Cases whose first recorded stage is this one (they entered the
            funnel here; a deal created at a later stage never entered the earlier ones).
        advanced: Entries that moved further forward by `as_of`.
        lost: Entries that ended in a lost outcome instead.
        lost_by_outcome: `lost` split by lost outcome name.
        open: Entries with no resolution by `as_of` (censored; never counted as lost).
        moved_back: Entries whose next stage was an earlier open stage (every-entry view).
        immature: Entries less than `window` before `as_of`, left out of the rate.
        converted: The rate's numerator: advanced (within `window` if one is given).
        denominator: The rate's denominator (see `ConversionResult.denominator_kind`).
        rate: ``converted / denominator``; NaN if the denominator is 0.
        low: Lower end of the interval around `rate`.
        high: Upper end of the interval around `rate`.
        cumulative: Product of the step rates from the first open stage through this one.
        win_rate: The *chain win rate*: product of the step rates from this stage through
            the last open stage, each deal counted once per stage (its first entry).
            Not the Markov ``win_probability`` (absorption over every stay, backward
            moves included), the weighted-pipeline ``probability`` (every stay,
            backward moves left out) or the closed-deal share ``won / (won + lost)``
            (`velocity`, the scorecard's ``win_rate``); see the explanation page
            "Four win probabilities".
        group: The group's label (None when not grouped or for a missing value).
        period: Start of the entry period as an ISO date, None without `period`.
    """

    stage: str
    entered: int
    advanced: int
    lost: int
    lost_by_outcome: Mapping[str, int] = attrs.field(hash=False)
    open: int
    moved_back: int
    immature: int
    converted: int
    denominator: int
    rate: float
    low: float
    high: float
    cumulative: float
    win_rate: float
    group: object = None
    period: str | None = None
    recorded: int = 0
    implied: int = 0
    entered_funnel: int = 0


@attrs.frozen(eq=False)
class IncidenceCurve:
    """Aalen-Johansen cumulative incidence curves of one stage (in one group).

    Steps: the values at `time_days[i]` hold from that time until the next one. Before the
    first time nothing has happened: advanced and lost are 0, still open 1.

    Attributes:
        stage: The open stage.
        group: The group's label (None when not grouped or for a missing value).
        time_days: Days from first entry at which the curves step, increasing.
        advanced: Estimated share advanced by each time.
        lost: Estimated share lost by each time.
        still_open: Estimated share neither advanced nor lost by each time.
        entered: Number of first entries into the stage.
    """

    stage: str
    group: object
    time_days: NDArray[np.float64]
    advanced: NDArray[np.float64]
    lost: NDArray[np.float64]
    still_open: NDArray[np.float64]
    entered: int


@attrs.frozen
class IncidencePoint:
    """The cumulative incidences of one stage (in one group) at one horizon.

    Attributes:
        stage: The open stage.
        horizon_days: Days after first entry.
        entered: Number of first entries into the stage.
        advanced: Estimated share of entries advanced within the horizon.
        advanced_low: Lower end of the pointwise interval around `advanced` (NaN if the
            estimate is 0 or 1).
        advanced_high: Upper end of that interval.
        lost: Estimated share lost within the horizon.
        lost_low: Lower end of the pointwise interval around `lost`.
        lost_high: Upper end of that interval.
        still_open: Estimated share neither advanced nor lost (``1 - advanced - lost``).
        group: The group's label (None when not grouped or for a missing value).
    """

    stage: str
    horizon_days: float
    entered: int
    advanced: float
    advanced_low: float
    advanced_high: float
    lost: float
    lost_low: float
    lost_high: float
    still_open: float
    group: object = None


# --------------------------------------------------------------------- results


@attrs.frozen(repr=False)
class ConversionResult(ResultMixin):
    """Per-stage conversion counts, rates and intervals; see `conversion`.

    Arrays run over rows in "long" layout: one row per (group, period, stage), groups in
    sorted order (a missing value last), periods in time order, open stages in funnel order.

    Attributes:
        stage: Stage name of each row.
        group: Group label of each row (all None when not grouped).
        period: Period start (ISO date) of each row (all None without `period`).
        entered: Entries into the stage.
        recorded: Entries recorded in the log (``entered - implied``).
        implied: Entries implied by a skip over the stage between two recorded stages
            (``skips="implied"``); always 0 with ``skips="strict"``.
        entered_funnel: Cases whose first recorded stage is this one: they entered the
            funnel here (a deal created at a later stage never entered the earlier ones).
        advanced: Entries that moved further forward by `as_of` (any time).
        lost: Entries that ended in a lost outcome.
        lost_by_outcome: Lost entries per lost outcome: shape ``(rows, len(lost_outcomes))``.
        open: Entries unresolved at `as_of`.
        moved_back: Entries whose next stage was an earlier open stage (always 0 in the
            first-entry view).
        immature: Entries less than `window_days` before `as_of` (0 without a window).
        converted: Numerator of each rate.
        denominator: Denominator of each rate.
        rate: Step rate ``converted / denominator``; NaN where the denominator is 0.
        low: Lower interval bound of each rate.
        high: Upper interval bound of each rate.
        cumulative: Product of the step rates from the first open stage through this one.
        win_rate: The *chain win rate*: product of the step rates from this stage through
            the last open stage, each deal counted once per stage (its first entry).
            Not the Markov ``win_probability`` (absorption over every stay, backward
            moves included), the weighted-pipeline ``probability`` (every stay,
            backward moves left out) or the closed-deal share ``won / (won + lost)``
            (`velocity`, the scorecard's ``win_rate``); see the explanation page
            "Four win probabilities".
        stages: The open stages in funnel order.
        won: The funnel's won outcome.
        lost_outcomes: The funnel's lost outcomes.
        groups: Group labels in row order (``(None,)`` when not grouped).
        periods: Period starts in row order (``(None,)`` without `period`).
        by: The case attribute grouped by, or None.
        period_unit: The `period` option, or None.
        skips: The `skips` option.
        entries: The `entries` option.
        window_days: The conversion window in days, or None.
        denominator_kind: ``"resolved"`` (advanced + lost, + moved back for every entry)
            without a window, ``"mature"`` (entries at least the window before `as_of`)
            with one.
        as_of: The censoring time (UTC).
        confidence_level: Coverage of the intervals.
        method: ``"wilson"`` or ``"jeffreys"``.
        n_cases: Cases that entered at least one open stage by `as_of`.
    """

    stage: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    group: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    period: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    entered: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    recorded: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    implied: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    entered_funnel: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    advanced: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    lost: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    lost_by_outcome: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    open: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    moved_back: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    immature: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    converted: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    denominator: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    rate: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    cumulative: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    win_rate: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    stages: tuple[str, ...]
    won: str
    lost_outcomes: tuple[str, ...]
    groups: tuple[object, ...]
    periods: tuple[str | None, ...]
    by: str | None
    period_unit: str | None
    skips: Skips
    entries: Entries
    window_days: float | None
    denominator_kind: DenominatorKind
    as_of: dt.datetime
    confidence_level: float
    method: Method
    n_cases: int

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_rows(self) -> int:
        """Number of rows: groups x periods x stages."""
        return int(self.stage.size)

    @property
    def overall(self) -> float:
        """Win rate from the first open stage, over all groups and periods together.

        The product over stages of (converted summed over groups and periods) / (denominator
        summed likewise): the counts add up over a partition of the entries, so this is the
        ungrouped figure. NaN if a stage has no denominator.
        """
        n_stages = len(self.stages)
        if n_stages == 0:
            return float("nan")
        num = self.converted.reshape(-1, n_stages).sum(axis=0)
        den = self.denominator.reshape(-1, n_stages).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            steps = num / den
        return float(np.prod(steps))

    def interval(
        self, stage: str, group: object = None, *, period: str | None = None
    ) -> stats.Interval:
        """The interval around one stage's rate as a `stats.Interval`.

        Raises:
            UnknownStageError: If `stage` is not an open stage of the funnel.
            ParameterError: If `group` or `period` is not in the result.
        """
        i = self._row(stage, group, period)
        return stats.Interval(
            low=float(self.low[i]),
            high=float(self.high[i]),
            level=self.confidence_level,
            method=self.method,
        )

    def at(self, stage: str, group: object = None, *, period: str | None = None) -> StageConversion:
        """The row of one stage (in one group and period).

        Args:
            stage: An open stage of the funnel.
            group: The group's label when grouped (`by`); None selects the missing-value
                group of a grouped result, and is the only choice when not grouped.
            period: The period start (ISO date, as in `period`) when `period` was given.

        Returns:
            The counts, rate, interval and products of that row.

        Raises:
            UnknownStageError: If `stage` is not an open stage of the funnel.
            ParameterError: If `group` or `period` is not in the result.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-09"),
            ...      ("d2", "lead", "2024-01-02"), ("d2", "lost", "2024-01-05")])
            >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
            >>> row = ss.conversion(log, f).at("lead")
            >>> row.entered, row.advanced, row.lost, row.rate
            (2, 1, 1, 0.5)
            >>> ss.conversion(log, f).at("Lead")
            Traceback (most recent call last):
            ...
            salesstd.errors.UnknownStageError: stage 'Lead' is not an open stage of the \
funnel (lead). Did you mean 'lead'?
        """
        i = self._row(stage, group, period)
        lost_by = {
            name: int(self.lost_by_outcome[i, k]) for k, name in enumerate(self.lost_outcomes)
        }
        return StageConversion(
            stage=str(self.stage[i]),
            entered=int(self.entered[i]),
            advanced=int(self.advanced[i]),
            lost=int(self.lost[i]),
            lost_by_outcome=lost_by,
            open=int(self.open[i]),
            moved_back=int(self.moved_back[i]),
            immature=int(self.immature[i]),
            converted=int(self.converted[i]),
            denominator=int(self.denominator[i]),
            rate=float(self.rate[i]),
            low=float(self.low[i]),
            high=float(self.high[i]),
            cumulative=float(self.cumulative[i]),
            win_rate=float(self.win_rate[i]),
            group=self.group[i],
            period=self.period[i],
            recorded=int(self.recorded[i]),
            implied=int(self.implied[i]),
            entered_funnel=int(self.entered_funnel[i]),
        )

    def _row(self, stage: str, group: object, period: str | None) -> int:
        s = v.result_stage(stage, self.stages, (self.won, *self.lost_outcomes))
        g = _group_index(self.by, group, self.groups)
        p = 0
        if self.period_unit is not None:
            p = v.result_label(
                "period", period, self.periods, fix="pass one of these period starts"
            )
        elif period is not None:
            raise v.not_split("period", period, "period")
        return (g * len(self.periods) + p) * len(self.stages) + s

    def _table(self) -> Mapping[str, NDArray[Any]]:
        table: dict[str, NDArray[Any]] = {}
        if self.by is not None:
            table[self.by] = self.group
        if self.period_unit is not None:
            table["period"] = self.period
        table["stage"] = self.stage
        table["entered"] = self.entered
        table["recorded"] = self.recorded
        table["implied"] = self.implied
        table["entered_funnel"] = self.entered_funnel
        table["advanced"] = self.advanced
        table["lost"] = self.lost
        for k, name in enumerate(self.lost_outcomes):
            table[f"lost_{name}"] = self.lost_by_outcome[:, k]
        table["open"] = self.open
        table["moved_back"] = self.moved_back
        table["immature"] = self.immature
        table["converted"] = self.converted
        table["denominator"] = self.denominator
        table["rate"] = self.rate
        table["low"] = self.low
        table["high"] = self.high
        table["cumulative"] = self.cumulative
        table["win_rate"] = self.win_rate
        return table

    def _params(self) -> Mapping[str, object]:
        return {
            "by": self.by,
            "period": self.period_unit,
            "skips": self.skips,
            "entries": self.entries,
            "window_days": self.window_days,
            "denominator_kind": self.denominator_kind,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
            "method": self.method,
            "stages": list(self.stages),
            "won": self.won,
            "lost_outcomes": list(self.lost_outcomes),
        }

    def _summary(self) -> Mapping[str, object]:
        out: dict[str, object] = {"stages": len(self.stages)}
        if self.by is not None:
            out["groups"] = len(self.groups)
        if self.period_unit is not None:
            out["periods"] = len(self.periods)
        out["cases"] = self.n_cases
        out["overall"] = self.overall
        return out


@attrs.frozen(repr=False)
class ConversionCurves(ResultMixin):
    """Cumulative incidence of advancing and of being lost, per stage; see `conversion_curves`.

    The table has one row per (group, stage, horizon): groups in sorted order, open stages in
    funnel order, horizons as given. The full step curves are kept too (`curve`, `at`).

    Attributes:
        stage: Stage name of each row.
        group: Group label of each row (all None when not grouped).
        horizon_days: Horizon of each row, days after first entry.
        entered: First entries into the stage (the number at risk at time 0).
        advanced: Estimated share advanced within the horizon.
        advanced_low: Lower end of the pointwise interval around `advanced` (NaN where the
            estimate is 0 or 1).
        advanced_high: Upper end of that interval.
        lost: Estimated share lost within the horizon.
        lost_low: Lower end of the pointwise interval around `lost`.
        lost_high: Upper end of that interval.
        still_open: The estimated share that has done neither within the horizon (the
            Kaplan-Meier survival from both causes; ``1 - advanced - lost``).
        stages: The open stages in funnel order.
        outcomes: The funnel's won and lost outcomes.
        groups: Group labels (``(None,)`` when not grouped).
        horizons: The horizons, days.
        by: The case attribute grouped by, or None.
        skips: The `skips` option.
        as_of: The censoring time (UTC).
        confidence_level: Coverage of the pointwise intervals.
        n_cases: Cases that entered at least one open stage by `as_of`.
        incidence: The estimator's output: one block of steps per (group, stage), block
            ``group * len(stages) + stage``; cause 1 is advanced, cause 2 lost.
    """

    stage: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    group: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    horizon_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    entered: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    advanced: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    advanced_low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    advanced_high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    lost: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    lost_low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    lost_high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    still_open: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    stages: tuple[str, ...]
    outcomes: tuple[str, ...]
    groups: tuple[object, ...]
    horizons: tuple[float, ...]
    by: str | None
    skips: Skips
    as_of: dt.datetime
    confidence_level: float
    n_cases: int
    incidence: stats.CumulativeIncidence

    __hash__ = None  # type: ignore[assignment]

    def curve(self, stage: str, group: object = None) -> IncidenceCurve:
        """The full step curves of one stage (in one group).

        Args:
            stage: An open stage of the funnel.
            group: The group's label when grouped; None selects the missing-value group of
                a grouped result, and is the only choice when not grouped.

        Returns:
            Times (days from first entry) and the advanced and lost shares at each.

        Raises:
            UnknownStageError: If `stage` is not an open stage of the funnel.
            ParameterError: If `group` is not in the result.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-03"),
            ...      ("d2", "lead", "2024-01-01"), ("d2", "lost", "2024-01-05")])
            >>> c = ss.conversion_curves(log, ss.Funnel.linear(["lead", "won"], lost="lost"))
            >>> cur = c.curve("lead")
            >>> cur.time_days.tolist(), cur.advanced.tolist(), cur.lost.tolist()
            ([2.0, 4.0], [0.5, 0.5], [0.0, 0.5])
        """
        b = self._block(stage, group)
        steps = self.incidence.steps(b)
        return IncidenceCurve(
            stage=self.stages[b % len(self.stages)],
            group=self.groups[b // len(self.stages)],
            time_days=_ro(self.incidence.time[steps]),
            advanced=_ro(self.incidence.incidence[steps, 0]),
            lost=_ro(self.incidence.incidence[steps, 1]),
            still_open=_ro(self.incidence.survival[steps]),
            entered=int(self.incidence.n[b]),
        )

    def at(self, stage: str, group: object = None, *, horizon: object) -> IncidencePoint:
        """The cumulative incidences of one stage (in one group) at any horizon.

        Args:
            stage: An open stage of the funnel.
            group: The group's label when grouped (see `curve`).
            horizon: Days after first entry (a number or a `datetime.timedelta`), > 0.

        Returns:
            The advanced, lost and still-open shares at the horizon.

        Raises:
            UnknownStageError: If `stage` is not an open stage of the funnel.
            ParameterError: If `group` is not in the result or `horizon` is not positive.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-03"),
            ...      ("d2", "lead", "2024-01-01"), ("d2", "lost", "2024-01-05")])
            >>> c = ss.conversion_curves(log, ss.Funnel.linear(["lead", "won"], lost="lost"))
            >>> p = c.at("lead", horizon=3)
            >>> p.entered, p.advanced, p.lost, p.still_open
            (2, 0.5, 0.0, 0.5)
        """
        h = _common.days("horizon", horizon)
        b = self._block(stage, group)
        at = np.array([h])
        values = self.incidence.at(at)[b, 0]
        low, high, survival = read_at(self.incidence, at, self.confidence_level)
        return IncidencePoint(
            stage=self.stages[b % len(self.stages)],
            horizon_days=h,
            entered=int(self.incidence.n[b]),
            advanced=float(values[0]),
            advanced_low=float(low[b, 0, 0]),
            advanced_high=float(high[b, 0, 0]),
            lost=float(values[1]),
            lost_low=float(low[b, 0, 1]),
            lost_high=float(high[b, 0, 1]),
            still_open=float(survival[b, 0]),
            group=self.groups[b // len(self.stages)],
        )

    def _block(self, stage: str, group: object) -> int:
        s = v.result_stage(stage, self.stages, self.outcomes)
        g = _group_index(self.by, group, self.groups)
        return g * len(self.stages) + s

    def _table(self) -> Mapping[str, NDArray[Any]]:
        table: dict[str, NDArray[Any]] = {}
        if self.by is not None:
            table[self.by] = self.group
        table["stage"] = self.stage
        table["horizon_days"] = self.horizon_days
        table["entered"] = self.entered
        table["advanced"] = self.advanced
        table["advanced_low"] = self.advanced_low
        table["advanced_high"] = self.advanced_high
        table["lost"] = self.lost
        table["lost_low"] = self.lost_low
        table["lost_high"] = self.lost_high
        table["still_open"] = self.still_open
        return table

    def _params(self) -> Mapping[str, object]:
        return {
            "by": self.by,
            "skips": self.skips,
            "as_of": self.as_of,
            "horizons": list(self.horizons),
            "confidence_level": self.confidence_level,
            "stages": list(self.stages),
        }

    def _summary(self) -> Mapping[str, object]:
        out: dict[str, object] = {"stages": len(self.stages)}
        if self.by is not None:
            out["groups"] = len(self.groups)
        out["horizons"] = len(self.horizons)
        out["cases"] = self.n_cases
        return out


def _group_index(by: str | None, group: object, labels: tuple[object, ...]) -> int:
    if by is None:
        if group is not None:
            raise v.not_split("group", group, "by")
        return 0
    return v.result_label(
        "group", group, labels, fix=f"the result is grouped by {by!r}: pass group= one of them"
    )


def read_at(
    ci: stats.CumulativeIncidence, at: NDArray[np.float64], level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Each block's band (blocks, H, causes) and overall survival (blocks, H) at times `at`.

    Before a block's first step the survival is 1 and the band NaN (the estimate is 0
    there); an empty block is NaN throughout.
    """
    band_low, band_high = ci.confidence_band(level)
    shape = (ci.n_groups, at.size, ci.n_causes)
    low, high = np.full(shape, np.nan), np.full(shape, np.nan)
    survival = np.ones(shape[:2])
    for b in range(ci.n_groups):
        lo, hi = int(ci.group_offsets[b]), int(ci.group_offsets[b + 1])
        i = np.searchsorted(ci.time[lo:hi], at, side="right") - 1
        found = i >= 0
        low[b, found] = band_low[lo + i[found]]
        high[b, found] = band_high[lo + i[found]]
        survival[b, found] = ci.survival[lo + i[found]]
    survival[ci.n == 0] = np.nan
    return low, high, survival
