"""Velocity, stuck deals and the weighted pipeline; public through `salesstd.metrics.flow`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.results import ResultMixin, plain
from salesstd._base.results import array_eq as eq
from salesstd._base.results import frozen_array as readonly
from salesstd._base.timestamps import stamp
from salesstd._engine.episodes import NS_PER_DAY, build_episodes
from salesstd._engine.grouping import days, groups
from salesstd.errors import ParameterError
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics._layout import Layout, layout_rows

__all__ = [
    "PipelineResult",
    "PipelineStage",
    "PipelineTotal",
    "StuckResult",
    "StuckStage",
    "Velocity",
    "VelocityResult",
    "stuck",
    "velocity",
    "weighted_pipeline",
]


@attrs.frozen
class Velocity:
    """Sales velocity of one group and its inputs.

    Attributes:
        opportunities: Deals that entered the funnel in the window.
        won: Of those, deals won by `as_of`.
        lost: Of those, deals lost by `as_of`.
        open: Of those, deals still open at `as_of` (left out of the win rate).
        win_rate: The *closed-deal share* ``won / (won + lost)``: open deals left out, so
            not the chain ``win_rate`` of `conversion` nor the Markov win probability.
        win_rate_low: Lower end of the Wilson interval of `win_rate`.
        win_rate_high: Upper end of that interval.
        avg_won_value: Mean value of the won deals (those with a value).
        cycle_days: Median days from a won deal's first event to its win.
        velocity_per_day: ``opportunities * win_rate * avg_won_value / cycle_days``.
        group: The group label, None when not grouped.
    """

    opportunities: int
    won: int
    lost: int
    open: int
    win_rate: float
    win_rate_low: float
    win_rate_high: float
    avg_won_value: float
    cycle_days: float
    velocity_per_day: float
    group: object = None


@attrs.frozen
class StuckStage:
    """Stuck deals in one open stage at `as_of`.

    Attributes:
        stage: The open stage.
        open: Deals in the stage at `as_of`.
        stuck: Of those, deals in it for longer than `threshold_days`.
        threshold_days: The stage's threshold, days (NaN if it could not be estimated).
        threshold_source: ``"given"`` or ``"estimated"`` (Kaplan-Meier quantile).
        group: The group label, None when not grouped.
    """

    stage: str
    open: int
    stuck: int
    threshold_days: float
    threshold_source: str
    group: object = None


@attrs.frozen
class PipelineStage:
    """The open pipeline in one stage at `as_of`.

    Attributes:
        stage: The open stage.
        deals: Open deals in the stage.
        valued: Of those, deals with a value (missing values count as 0 in `value`).
        value: Total value of the deals.
        probability: The *pipeline win probability* of a deal in the stage: given, or the
            product of the resolved step rates over every stay (backward moves left out).
        probability_source: ``"given"`` or ``"estimated"`` (product of step rates).
        weighted_value: ``value * probability``.
        group: The group label, None when not grouped.
    """

    stage: str
    deals: int
    valued: int
    value: float
    probability: float
    probability_source: str
    weighted_value: float
    group: object = None


@attrs.frozen
class PipelineTotal:
    """The open pipeline of one group, all stages together.

    Attributes:
        deals: Open deals.
        value: Their total value.
        weighted_value: Their total probability-weighted value.
        coverage: ``value / target`` (NaN without a target).
        weighted_coverage: ``weighted_value / target`` (NaN without a target).
        group: The group label, None when not grouped.
    """

    deals: int
    value: float
    weighted_value: float
    coverage: float
    weighted_coverage: float
    group: object = None


@attrs.frozen(repr=False)
class VelocityResult(Layout, ResultMixin):
    """Sales velocity and its four inputs, one row per group.

    Attributes:
        group: Group label of each row (None when not grouped).
        opportunities: Deals that entered the funnel in the window.
        won: Of those, deals won by `as_of`.
        lost: Of those, deals lost by `as_of`.
        open: Of those, deals still open at `as_of`.
        win_rate: The *closed-deal share* ``won / (won + lost)``; open deals are left
            out (see the explanation page "Four win probabilities" for the others).
        win_rate_low: Lower end of the Wilson interval of `win_rate`.
        win_rate_high: Upper end of that interval.
        avg_won_value: Mean `value` of the won deals that have one.
        cycle_days: Median days from a won deal's first event to its win.
        velocity_per_day: ``opportunities x win_rate x avg_won_value / cycle_days``, value
            per day.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        value: The case attribute holding the deal value.
        window_start: Start of the window, UTC.
        as_of: End of the window and censoring time, UTC.
        confidence_level: Coverage of the win-rate interval.
    """

    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    opportunities: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    won: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    lost: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    open: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    win_rate: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    win_rate_low: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    win_rate_high: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    avg_won_value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    cycle_days: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    velocity_per_day: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    groups: tuple[object, ...]
    by: str | None
    value: str
    window_start: np.datetime64
    as_of: np.datetime64
    confidence_level: float

    def at(self, group: object = None) -> Velocity:
        """Velocity and inputs of one group (the only row when not grouped).

        Raises:
            ParameterError: If `group` is not in the result.
        """
        i = self._group_index(group)
        return Velocity(
            opportunities=int(self.opportunities[i]),
            won=int(self.won[i]),
            lost=int(self.lost[i]),
            open=int(self.open[i]),
            win_rate=float(self.win_rate[i]),
            win_rate_low=float(self.win_rate_low[i]),
            win_rate_high=float(self.win_rate_high[i]),
            avg_won_value=float(self.avg_won_value[i]),
            cycle_days=float(self.cycle_days[i]),
            velocity_per_day=float(self.velocity_per_day[i]),
            group=self.group[i],
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            **self._by_column(self.group),
            "opportunities": self.opportunities,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "win_rate": self.win_rate,
            "win_rate_low": self.win_rate_low,
            "win_rate_high": self.win_rate_high,
            "avg_won_value": self.avg_won_value,
            "cycle_days": self.cycle_days,
            "velocity_per_day": self.velocity_per_day,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "value": self.value,
            "by": self.by,
            "window_start": self.window_start,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
        }

    def _summary(self) -> Mapping[str, object]:
        if self.by is not None:
            return {"groups": len(self.groups), "opportunities": int(self.opportunities.sum())}
        return {
            "opportunities": int(self.opportunities[0]),
            "win_rate": float(self.win_rate[0]),
            "velocity_per_day": float(self.velocity_per_day[0]),
        }


def velocity(
    log: EventLog,
    funnel: Funnel,
    *,
    value: str,
    by: str | None = None,
    as_of: object = None,
    window: object = None,
    confidence_level: float = 0.95,
) -> VelocityResult:
    """Sales velocity: the value a pipeline turns into wins per day, with each input shown.

    ``velocity = opportunities x win rate x average won value / sales cycle (days)``, where,
    for the deals that entered the funnel in the window:

    * **opportunities**: deals whose first event (of any activity) lies in the window and
      that have at least one stage event;
    * **win rate**: ``won / (won + lost)`` among them, outcomes reached by `as_of`. Deals
      still open are left out of both counts (they are unresolved, not failures), so on a
      young cohort the rate rests on the deals that closed quickly; the Wilson interval
      shows how much it rests on;
    * **average won value**: the mean of `value` over the won deals (won deals without a
      value are left out of the mean);
    * **sales cycle**: the median number of days from a won deal's first event to its win,
      over the won deals of the window that closed by `as_of` (the closed-won median).
      Deals still open are not in it, so on a young cohort it is short; for a
      censoring-aware estimate (open deals censored, lost deals as a competing outcome) see
      ``salesstd.cycle_time``.

    The velocity is NaN when a factor is undefined (no resolved deal, no won deal) and
    infinite when the median cycle is 0 days.

    Note:
        The four-factor "sales velocity" (or "pipeline velocity") formula is standard in
        sales operations; it is an accounting identity of averages, not an estimate of a
        rate, and a change in it is best read through the input that moved.

    Args:
        log: Events to analyse.
        funnel: The process; its won and lost outcomes decide the results.
        value: Numeric case attribute with the deal value (e.g. ``"amount"``).
        by: A case attribute to split the deals by, or None.
        as_of: End of the window and censoring time; the log's last event by default.
        window: Length of the window ending at `as_of` (a timedelta or a number of days);
            None for the whole log.
        confidence_level: Coverage of the Wilson interval around the win rate.

    Returns:
        One row per group (a single row when not grouped).

    Raises:
        ParameterError: If `value` is not a numeric case attribute, `by` is not a case
            attribute, `window` is not a positive duration, `confidence_level` is not in
            (0, 1), or `as_of` is before the log starts.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03", 100.0), ("d1", "won", "2024-02-10", 100.0),
        ...      ("d2", "lead", "2024-01-15", 50.0), ("d2", "lost", "2024-02-05", 50.0),
        ...      ("d3", "lead", "2024-02-01", 80.0)],
        ...     names=("case", "activity", "time", "amount"), case_attributes=["amount"])
        >>> funnel = ss.Funnel.linear(["lead", "won"], lost="lost")
        >>> vel = ss.velocity(log, funnel, value="amount").at()
        >>> vel.opportunities, vel.win_rate, vel.avg_won_value, vel.cycle_days
        (3, 0.5, 100.0, 38.0)
        >>> round(vel.velocity_per_day, 3)
        3.947
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    values = v.numeric_case_attribute("value", value, log.case_attributes, log.event_attributes)
    level = v.fraction("confidence_level", confidence_level)
    grouped = groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips="strict")
    first = int(log.time.view(np.int64).min())
    if window is None:
        window_start = first
    else:
        window_start = ep.as_of - round(days("window", window) * NS_PER_DAY)
    n_cases = ep.n_cases
    has_stage = np.bincount(ep.case, minlength=n_cases) > 0
    start = ep.first_time
    opp = has_stage & ep.in_scope & (start >= window_start)
    outcome = ep.case_outcome()
    won = opp & (outcome == ep.n_open)
    lost = opp & (outcome > ep.n_open)
    code, n_g = grouped.of_case, grouped.n

    def per_group(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        return np.bincount(code[mask], minlength=n_g).astype(np.int64)

    n_opp, n_won, n_lost = per_group(opp), per_group(won), per_group(lost)
    valued = won & ~np.isnan(values)
    value_sum = np.bincount(code[valued], weights=values[valued], minlength=n_g)
    cycle = (ep.case_close_time()[won] - start[won]) / NS_PER_DAY
    cycle_days = _group_median(cycle, code[won], n_g)
    low, high = stats.proportion_interval(n_won, n_won + n_lost, confidence_level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = n_won / (n_won + n_lost)
        avg_value = value_sum / per_group(valued)
        speed = n_opp * win_rate * avg_value / cycle_days
    return VelocityResult(
        group=objects(grouped.labels),
        opportunities=n_opp,
        won=n_won,
        lost=n_lost,
        open=n_opp - n_won - n_lost,
        win_rate=win_rate,
        win_rate_low=np.asarray(low, dtype=np.float64),
        win_rate_high=np.asarray(high, dtype=np.float64),
        avg_won_value=avg_value,
        cycle_days=cycle_days,
        velocity_per_day=speed,
        groups=grouped.labels,
        by=by,
        value=value,
        window_start=stamp(window_start),
        as_of=stamp(ep.as_of),
        confidence_level=level,
    )


def _group_median(
    values: NDArray[np.float64], code: NDArray[np.int32], n_groups: int
) -> NDArray[np.float64]:
    """Median of `values` per group code (NaN for an empty group), without a loop."""
    order = np.lexsort((values, code))
    ordered = values[order]
    counts = np.bincount(code, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = (ordered[lo] + ordered[hi]) / 2
    return out


@attrs.frozen(repr=False)
class StuckResult(Layout, ResultMixin):
    """Open deals that have sat in their stage longer than the stage's threshold.

    The table (`to_frame`, `to_dict` rows) has one row per stuck deal, sorted by group,
    stage (funnel order) and then by how far past the threshold, most first. The per-stage
    counts are the ``stage_*`` attributes (group-major, open stages in funnel order), by
    `at` and `counts_table`.

    Attributes:
        case: Case id of each stuck deal.
        stage: Its current stage.
        group: Its group label (None when not grouped).
        days_in_stage: Days since it entered the stage, at `as_of`.
        threshold_days: The stage's threshold, days.
        days_over: ``days_in_stage - threshold_days``.
        stage_open: Per (group, stage): open deals in the stage at `as_of`.
        stage_stuck: Per (group, stage): of those, the stuck ones.
        thresholds: Per open stage: the threshold, days (NaN: not estimable, none flagged).
        threshold_sources: Per open stage: ``"given"`` or ``"estimated"``.
        stages: The open stages, in funnel order.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        quantile: The dwell quantile used for estimated thresholds.
        as_of: The censoring time, UTC.
    """

    case: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    stage: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    days_in_stage: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    threshold_days: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    days_over: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    stage_open: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    stage_stuck: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    thresholds: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    threshold_sources: tuple[str, ...]
    stages: tuple[str, ...]
    groups: tuple[object, ...]
    by: str | None
    quantile: float
    as_of: np.datetime64

    def at(self, stage: str, group: object = None) -> StuckStage:
        """Open and stuck counts of one stage (and group), with its threshold.

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: If `group` is not in the result.
        """
        s = self._stage_index(stage)
        g = self._group_index(group)
        row = g * len(self.stages) + s
        return StuckStage(
            stage=stage,
            open=int(self.stage_open[row]),
            stuck=int(self.stage_stuck[row]),
            threshold_days=float(self.thresholds[s]),
            threshold_source=self.threshold_sources[s],
            group=self.groups[g] if self.by is not None else None,
        )

    def counts_table(self) -> dict[str, NDArray[Any]]:
        """The per-stage counts as columns (group, stage, open, stuck, threshold_days)."""
        g, _, s = layout_rows(len(self.groups), 1, len(self.stages))
        return {
            **self._by_column(objects(self.groups)[g]),
            "stage": objects(self.stages)[s],
            "open": self.stage_open.copy(),
            "stuck": self.stage_stuck.copy(),
            "threshold_days": self.thresholds[s],
            "threshold_source": objects(self.threshold_sources)[s],
        }

    def to_dict(self) -> dict[str, object]:
        """JSON-ready contents: parameters, summary, stuck deals (rows) and per-stage counts."""
        out = super().to_dict()
        columns = {k: a.tolist() for k, a in self.counts_table().items()}
        out["counts"] = [
            {k: plain(col[i]) for k, col in columns.items()} for i in range(self.stage_open.size)
        ]
        return out

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            **self._by_column(self.group),
            "case": self.case,
            "stage": self.stage,
            "days_in_stage": self.days_in_stage,
            "threshold_days": self.threshold_days,
            "days_over": self.days_over,
        }

    def _params(self) -> Mapping[str, object]:
        thresholds = dict(zip(self.stages, self.thresholds.tolist(), strict=True))
        return {
            "by": self.by,
            "as_of": self.as_of,
            "quantile": self.quantile,
            "thresholds": thresholds,
        }

    def _summary(self) -> Mapping[str, object]:
        return {
            "stages": len(self.stages),
            "open": int(self.stage_open.sum()),
            "stuck": int(self.stage_stuck.sum()),
        }


def stuck(
    log: EventLog,
    funnel: Funnel,
    *,
    as_of: object = None,
    thresholds: Mapping[str, object] | float | dt.timedelta | None = None,
    quantile: float = 0.9,
    by: str | None = None,
) -> StuckResult:
    """Find the open deals that have been in their current stage for too long.

    A deal is *stuck* when, at `as_of`, it is in an open stage and the days since it
    entered that stage (its current stay; earlier stays there do not add) exceed the
    stage's threshold. By default a stage's threshold is its own `quantile` dwell time: the
    Kaplan-Meier estimate from every stay in the stage (finished ones, and the ones still
    open at `as_of` as censored), over all deals, so "stuck" means "longer than 90% of stays
    in this stage last". Where that quantile cannot be estimated (too few finished stays)
    the threshold is NaN and no deal there is flagged. `thresholds` sets thresholds in days
    instead: one number for every open stage, or ``{stage: days}`` (stages left out keep
    the estimated threshold). With `by`, thresholds are still per stage over all deals; the
    deals and counts are split by group.

    Args:
        log: Events to analyse.
        funnel: The process whose open stages are checked.
        as_of: The censoring time; the log's last event by default.
        thresholds: Days (or timedeltas) per open stage, one number for all, or None.
        quantile: Dwell quantile for the estimated thresholds, in (0, 1).
        by: A case attribute to split the deals by, or None.

    Returns:
        The stuck deals and per-stage counts.

    Raises:
        UnknownStageError: If `thresholds` names a stage the funnel lacks.
        ParameterError: If `thresholds` names an outcome or holds a non-positive duration,
            `quantile` is not in (0, 1), `by` is not a case attribute, or `as_of` is before
            the log starts.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03"), ("d1", "qualified", "2024-01-20"),
        ...      ("d1", "won", "2024-02-10"), ("d2", "lead", "2024-01-15"),
        ...      ("d2", "lost", "2024-02-05"), ("d3", "lead", "2024-02-01")])
        >>> funnel = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> res = ss.stuck(log, funnel, thresholds={"lead": 7})
        >>> res
        StuckResult(stages=2, open=1, stuck=1)
        >>> res.case.tolist(), res.days_in_stage.tolist(), res.days_over.tolist()
        (['d3'], [9.0], [2.0])
        >>> ss.stuck(log, funnel).at("lead").threshold_days
        21.0
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    level = v.fraction("quantile", quantile)
    open_names = funnel.stage_names[: funnel.n_open]
    given: dict[str, float] = {}
    if isinstance(thresholds, Mapping):
        checked = v.stage_mapping("thresholds", thresholds, funnel.stage_names, open_names)
        given = {k: days(f"thresholds[{k!r}]", x) for k, x in checked.items()}
    elif thresholds is not None:
        if not isinstance(thresholds, (int, float, np.number, dt.timedelta, np.timedelta64)):
            raise ParameterError(
                "thresholds must be a number of days, a timedelta or a mapping "
                f"{{stage: days}}; got {type(thresholds).__name__}."
            )
        number = days("thresholds", thresholds)
        given = dict.fromkeys(open_names, number)
    grouped = groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips="strict")
    n_open = ep.n_open
    sel = ep.stage < n_open
    durations = ep.duration_days()
    limit = np.full(n_open, np.nan)
    if len(given) < n_open:
        km = stats.kaplan_meier(durations[sel], ep.moved[sel], ep.stage[sel], n_groups=n_open)
        limit = np.asarray(km.quantile(level).value, dtype=np.float64)
    sources: list[str] = []
    for s, name in enumerate(open_names):
        if name in given:
            limit[s] = given[name]
        sources.append("given" if name in given else "estimated")

    current = np.flatnonzero(ep.censored)
    stage_of = ep.stage[current]
    age = durations[current]
    over = age - limit[stage_of]
    with np.errstate(invalid="ignore"):
        hit = over > 0
    code = grouped.of_case[ep.case[current]].astype(np.int64)
    key = code * n_open + stage_of
    size = grouped.n * n_open
    n_open_now = np.bincount(key, minlength=size).astype(np.int64)
    n_stuck = np.bincount(key[hit], minlength=size).astype(np.int64)
    rows = current[hit]
    order = np.lexsort((-over[hit], stage_of[hit], code[hit]))
    rows = rows[order]
    return StuckResult(
        case=objects(log.case_names[ep.case[rows]].tolist()),
        stage=objects(open_names)[ep.stage[rows]],
        group=objects(grouped.labels)[grouped.of_case[ep.case[rows]]],
        days_in_stage=durations[rows],
        threshold_days=limit[ep.stage[rows]],
        days_over=durations[rows] - limit[ep.stage[rows]],
        stage_open=n_open_now,
        stage_stuck=n_stuck,
        thresholds=limit,
        threshold_sources=tuple(sources),
        stages=open_names,
        groups=grouped.labels,
        by=by,
        quantile=level,
        as_of=stamp(ep.as_of),
    )


@attrs.frozen(repr=False)
class PipelineResult(Layout, ResultMixin):
    """The open pipeline at `as_of`: deals, value and probability-weighted value per stage.

    Rows run group by group, then over the open stages in funnel order.

    Attributes:
        stage: Stage name of each row.
        group: Group label of each row (None when not grouped).
        deals: Open deals in the stage.
        valued: Of those, deals with a value.
        value: Total value of the open deals in the stage (missing values left out).
        probability: Pipeline win probability of a deal in the stage (per row, from
            `probabilities`).
        weighted_value: ``value x probability``.
        probabilities: Per open stage: the win probability used.
        probability_sources: Per open stage: ``"given"`` or ``"estimated"``.
        step_rates: Per open stage: ``advanced / (advanced + lost)`` among the stays that
            left it (NaN if none resolved).
        step_resolved: Per open stage: the denominator of `step_rates`.
        total_value: Per group: total value of the open deals.
        total_weighted: Per group: total weighted value.
        coverage: Per group: ``total_value / target`` (NaN without a target).
        weighted_coverage: Per group: ``total_weighted / target`` (NaN without a target).
        stages: The open stages, in funnel order.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        value_attribute: The case attribute holding the deal value.
        target: The target the pipeline is compared with, or None.
        as_of: The censoring time, UTC.
    """

    stage: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    deals: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    valued: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    probability: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    weighted_value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    probabilities: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    probability_sources: tuple[str, ...]
    step_rates: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    step_resolved: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    total_value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    total_weighted: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    coverage: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    weighted_coverage: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    stages: tuple[str, ...]
    groups: tuple[object, ...]
    by: str | None
    value_attribute: str
    target: float | None
    as_of: np.datetime64

    def at(self, stage: str, group: object = None) -> PipelineStage:
        """Open deals, value and weighted value of one stage (and group).

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: If `group` is not in the result.
        """
        s = self._stage_index(stage)
        row = self._group_index(group) * len(self.stages) + s
        return PipelineStage(
            stage=stage,
            deals=int(self.deals[row]),
            valued=int(self.valued[row]),
            value=float(self.value[row]),
            probability=float(self.probability[row]),
            probability_source=self.probability_sources[s],
            weighted_value=float(self.weighted_value[row]),
            group=self.group[row],
        )

    def total(self, group: object = None) -> PipelineTotal:
        """The whole open pipeline of one group (or of all deals when not grouped).

        Raises:
            ParameterError: If `group` is not in the result.
        """
        g = self._group_index(group)
        n_s = len(self.stages)
        return PipelineTotal(
            deals=int(self.deals[g * n_s : (g + 1) * n_s].sum()),
            value=float(self.total_value[g]),
            weighted_value=float(self.total_weighted[g]),
            coverage=float(self.coverage[g]),
            weighted_coverage=float(self.weighted_coverage[g]),
            group=self.groups[g] if self.by is not None else None,
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        s = np.tile(np.arange(len(self.stages)), len(self.groups))
        return {
            **self._by_column(self.group),
            "stage": self.stage,
            "deals": self.deals,
            "valued": self.valued,
            "value": self.value,
            "probability": self.probability,
            "probability_source": objects(self.probability_sources)[s],
            "weighted_value": self.weighted_value,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "value": self.value_attribute,
            "by": self.by,
            "as_of": self.as_of,
            "target": self.target,
            "probabilities": dict(zip(self.stages, self.probabilities.tolist(), strict=True)),
        }

    def _summary(self) -> Mapping[str, object]:
        out: dict[str, object] = {
            "deals": int(self.deals.sum()),
            "value": float(self.total_value.sum()),
            "weighted_value": float(self.total_weighted.sum()),
        }
        if self.target is not None and self.by is None:
            out["coverage"] = float(self.coverage[0])
        return out


def weighted_pipeline(
    log: EventLog,
    funnel: Funnel,
    *,
    value: str,
    probabilities: Mapping[str, float] | None = None,
    as_of: object = None,
    target: float | None = None,
    by: str | None = None,
) -> PipelineResult:
    """Value the open pipeline at `as_of`, per stage, weighted by each stage's win probability.

    The open deals are those in an open stage at `as_of` (not yet won or lost). Per stage:
    their count, their total `value` (deals without a value are left out of the total and
    of `valued`), the stage's win probability ``p`` and the weighted value ``value x p``.
    With a `target` (a quota or plan for the period the pipeline must cover), *pipeline
    coverage* is ``total value / target``, weighted and unweighted; with `by`, every group
    is compared with the same target (e.g. a per-rep quota).

    The win probability of a stage is taken from `probabilities` where given; otherwise it
    is estimated from the log as the product of the *resolved step rates* from that stage
    to the last open stage (where a later stage's probability is given, the product stops
    there and uses it: ``p(s) = step(s) x p(s + 1)``, ``p(won) = 1``). A stage's step
    rate is ``advanced / (advanced + lost)`` over
    the stays that left it by `as_of`: advanced is a move to a later stage or to won, lost
    a move to a lost outcome; backward moves and stays still open are left out (they are
    not resolved). Stages a forward jump skips count as passed (``skips="implied"``), so
    each step rate is a one-stage step and the product is the win probability of a deal
    that moves forward through the funnel one stage at a time. The rates pool all deals
    (also with `by`), so every group is valued on one scale. This suits a linear funnel;
    for branching funnels, or to count backward moves, pass `probabilities` (e.g. from a
    Markov model of the funnel).

    This *pipeline win probability* is one of four in the library, each answering a
    slightly different question: conversion's chain ``win_rate`` counts each deal once per
    stage (first entries), the Markov ``win_probability`` follows backward moves, and the
    closed-deal share ``won / (won + lost)`` leaves open deals out. The explanation page
    "Four win probabilities" computes all four on one small log.

    Args:
        log: Events to analyse.
        funnel: The process whose open stages hold the pipeline.
        value: Numeric case attribute with the deal value (e.g. ``"amount"``).
        probabilities: Win probability per open stage, each in [0, 1]; stages left out are
            estimated (through the given probabilities of the stages after them).
        as_of: The censoring time; the log's last event by default.
        target: A positive amount to compare the pipeline with, or None.
        by: A case attribute to split the deals by, or None.

    Returns:
        Deals, value and weighted value per (group and) open stage, with group totals.

    Raises:
        UnknownStageError: If `probabilities` names a stage the funnel lacks.
        ParameterError: If `probabilities` names an outcome or holds a value outside
            [0, 1], `value` is not a numeric case attribute, `target` is not a positive
            number, `by` is not a case attribute, or `as_of` is before the log starts.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03", 100.0), ("d1", "qualified", "2024-01-20", 100.0),
        ...      ("d1", "won", "2024-02-10", 100.0), ("d2", "lead", "2024-01-15", 50.0),
        ...      ("d2", "lost", "2024-02-05", 50.0), ("d3", "lead", "2024-02-01", 80.0)],
        ...     names=("case", "activity", "time", "amount"), case_attributes=["amount"])
        >>> funnel = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> res = ss.weighted_pipeline(log, funnel, value="amount", target=200)
        >>> res.at("lead")
        PipelineStage(stage='lead', deals=1, valued=1, value=80.0, probability=0.5, \
probability_source='estimated', weighted_value=40.0, group=None)
        >>> res.total().coverage, res.total().weighted_coverage
        (0.4, 0.2)
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    values = v.numeric_case_attribute("value", value, log.case_attributes, log.event_attributes)
    open_names = funnel.stage_names[: funnel.n_open]
    given: dict[str, float] = {}
    if probabilities is not None:
        checked = v.stage_mapping("probabilities", probabilities, funnel.stage_names, open_names)
        given = {
            k: v.fraction(f"probabilities[{k!r}]", x, inclusive=True) for k, x in checked.items()
        }
    goal = None if target is None else v.positive_number("target", target)
    grouped = groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips="implied")
    n_open, n_g = ep.n_open, grouped.n
    size = n_g * n_open

    leaving = ep.moved & (ep.stage < n_open)
    nxt = ep.next_stage
    advanced = np.bincount(ep.stage[leaving & (nxt > ep.stage) & (nxt <= n_open)], minlength=n_open)
    lost = np.bincount(ep.stage[leaving & (nxt > n_open)], minlength=n_open)
    resolved = (advanced + lost).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = advanced / resolved
    # p(s) = step(s) x p(s + 1), p(won) = 1, a given probability replacing the estimate.
    prob = np.empty(n_open)
    after = 1.0
    for k in range(n_open - 1, -1, -1):
        after = given.get(open_names[k], float(step[k]) * after)
        prob[k] = after
    sources = tuple("given" if name in given else "estimated" for name in open_names)

    current = np.flatnonzero(ep.censored)
    key = grouped.of_case[ep.case[current]].astype(np.int64) * n_open + ep.stage[current]
    amount = values[ep.case[current]]
    has_value = ~np.isnan(amount)
    deals = np.bincount(key, minlength=size).astype(np.int64)
    valued = np.bincount(key[has_value], minlength=size).astype(np.int64)
    total = np.bincount(key[has_value], weights=amount[has_value], minlength=size)
    g, _, s = layout_rows(n_g, 1, n_open)
    row_prob = prob[s]
    with np.errstate(invalid="ignore"):
        weighted = np.where(total == 0, 0.0, total * row_prob)
    total_value = total.reshape(n_g, n_open).sum(axis=1)
    total_weighted = weighted.reshape(n_g, n_open).sum(axis=1)
    if goal is None:
        coverage = np.full(n_g, np.nan)
        weighted_coverage = np.full(n_g, np.nan)
    else:
        coverage = total_value / goal
        weighted_coverage = total_weighted / goal
    return PipelineResult(
        stage=objects(open_names)[s],
        group=objects(grouped.labels)[g],
        deals=deals,
        valued=valued,
        value=total,
        probability=row_prob,
        weighted_value=weighted,
        probabilities=prob,
        probability_sources=sources,
        step_rates=step,
        step_resolved=resolved,
        total_value=total_value,
        total_weighted=total_weighted,
        coverage=coverage,
        weighted_coverage=weighted_coverage,
        stages=open_names,
        groups=grouped.labels,
        by=by,
        value_attribute=value,
        target=goal,
        as_of=stamp(ep.as_of),
    )
