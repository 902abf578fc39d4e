"""Work in progress, throughput and Little's law; public through `salesstd.metrics.flow`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as eq
from salesstd._base.results import frozen_array as readonly
from salesstd._base.timestamps import stamp
from salesstd._engine.episodes import NS_PER_DAY, Episodes, Skips, build_episodes
from salesstd._engine.grouping import (
    PERIODS,
    Groups,
    Period,
    groups,
    period_edges,
    period_label,
)
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics._layout import (
    Layout,
    layout_rows,
    period_index,
)

__all__ = [
    "LittlesLawResult",
    "StageFlow",
    "StageThroughput",
    "StageWip",
    "ThroughputResult",
    "WipResult",
    "littles_law",
    "throughput",
    "wip",
]


@attrs.frozen
class StageWip:
    """Deals in one open stage at the end of one period.

    Attributes:
        stage: The open stage.
        period: ISO date of the period's first day.
        wip: Deals in the stage at the period's end (its last instant, or `as_of`).
        group: The group label, None when not grouped.
    """

    stage: str
    period: str
    wip: int
    group: object = None


@attrs.frozen
class StageThroughput:
    """Flows through one stage in one period (or the whole window).

    Attributes:
        stage: The stage.
        period: ISO date of the period's first day; None for the whole window.
        entries: Episodes that started in the stage in the period.
        exits: Episodes that ended by a move in the period: `advanced` + `lost` + `moved_back`.
        advanced: Exits to a later stage or to won.
        lost: Exits to a lost outcome.
        moved_back: Exits to an earlier open stage.
        group: The group label, None when not grouped.
    """

    stage: str
    period: str | None
    entries: int
    exits: int
    advanced: int
    lost: int
    moved_back: int
    group: object = None


@attrs.frozen
class StageFlow:
    """Little's law quantities of one open stage over the whole window.

    Attributes:
        stage: The open stage.
        entries: Episodes that entered the stage in the window.
        stage_days: Total days deals spent in the stage in the window.
        avg_wip: Time-average work in progress, ``L = stage_days / window_days``.
        arrivals_per_day: Arrival rate, ``lambda = entries / window_days``.
        little_days: Time in stage implied by Little's law, ``W = L / lambda``.
        km_mean_days: Kaplan-Meier mean stay restricted to the window length.
        open: Deals in the stage at `as_of`.
        group: The group label, None when not grouped.
    """

    stage: str
    entries: int
    stage_days: float
    avg_wip: float
    arrivals_per_day: float
    little_days: float
    km_mean_days: float
    open: int
    group: object = None


@attrs.frozen(eq=False)
class _Flows:
    """Entries and exits per (group, period, stage), the shared base of wip and throughput."""

    groups: Groups
    starts: NDArray[np.int64]  # period starts, P
    ends: NDArray[np.int64]  # period end instants, P (the last is as_of)
    entries: NDArray[np.int64]  # (G, P, S)
    advanced: NDArray[np.int64]  # (G, P, S)
    lost: NDArray[np.int64]  # (G, P, S)
    back: NDArray[np.int64]  # (G, P, S)
    episodes: Episodes


def _flows(
    log: EventLog,
    funnel: Funnel,
    *,
    period: object,
    by: str | None,
    as_of: object,
    skips: Skips,
) -> _Flows:
    period = v.choice("period", period, PERIODS)
    grouped = groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips=skips)
    first = int(log.time.view(np.int64).min())
    edges = period_edges(first, ep.as_of, period)
    starts = edges[:-1]
    ends = np.minimum(edges[1:] - 1, ep.as_of)
    n_g, n_p, n_s = grouped.n, starts.size, ep.n_stages
    size = n_g * n_p * n_s
    base = grouped.of_case[ep.case].astype(np.int64) * (n_p * n_s) + ep.stage

    def count(times: NDArray[np.int64], keys: NDArray[np.int64]) -> NDArray[np.int64]:
        # Period p holds the times t with end[p-1] < t <= end[p].
        bins = np.searchsorted(ends, times, side="left")
        flat = np.bincount(keys + bins * n_s, minlength=size)
        return np.asarray(flat, dtype=np.int64).reshape(n_g, n_p, n_s)

    leaving = ep.moved & (ep.stage < ep.n_open)
    nxt = ep.next_stage
    to_later = leaving & (nxt > ep.stage) & (nxt <= ep.n_open)
    to_lost = leaving & (nxt > ep.n_open)
    to_back = leaving & (nxt < ep.stage)
    return _Flows(
        groups=grouped,
        starts=starts,
        ends=ends,
        entries=count(ep.enter, base),
        advanced=count(ep.exit[to_later], base[to_later]),
        lost=count(ep.exit[to_lost], base[to_lost]),
        back=count(ep.exit[to_back], base[to_back]),
        episodes=ep,
    )


@attrs.frozen(repr=False)
class WipResult(Layout, ResultMixin):
    """Work in progress: deals in each open stage at the end of each period.

    Rows run group by group (groups in sorted order), then period by period, then over the
    open stages in funnel order.

    Attributes:
        stage: Stage name of each row.
        period_start: ISO date of the first day of each row's period.
        group: Group label of each row (None when not grouped).
        wip: Deals in the stage at the period's end.
        stages: The open stages, in funnel order.
        periods: ISO dates of the periods' first days.
        period_end: End instant of each period (its last nanosecond, or `as_of`), UTC.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        period: The calendar period: day, week, month, quarter or year.
        as_of: The censoring time, UTC.
        skips: How skipped stages were counted ("strict" or "implied").
        n_cases: Cases with an event at or before `as_of`.
    """

    stage: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    period_start: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    wip: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    stages: tuple[str, ...]
    periods: tuple[str, ...]
    period_end: NDArray[np.datetime64] = attrs.field(converter=readonly, eq=eq)
    groups: tuple[object, ...]
    by: str | None
    period: str
    as_of: np.datetime64
    skips: str
    n_cases: int

    def at(self, stage: str, group: object = None, *, period: str | None = None) -> StageWip:
        """WIP of one stage (and group) at the end of one period, the last one by default.

        Args:
            stage: An open stage.
            group: The group label when the result is grouped.
            period: ISO date of the period's first day, as in `periods`; None for the last
                period (WIP at `as_of`).

        Raises:
            UnknownStageError: If `stage` is not an open stage of the result.
            ParameterError: If `group` or `period` is not in the result.
        """
        s = self._stage_index(stage)
        g = self._group_index(group)
        p = period_index(self.periods, period)
        row = (g * len(self.periods) + p) * len(self.stages) + s
        return StageWip(
            stage=stage, period=self.periods[p], wip=int(self.wip[row]), group=self.group[row]
        )

    def series(self, stage: str, group: object = None) -> NDArray[np.int64]:
        """WIP of one stage (and group) at the end of every period, in period order.

        Raises:
            UnknownStageError: If `stage` is not an open stage of the result.
            ParameterError: If `group` is not in the result.
        """
        s = self._stage_index(stage)
        g = self._group_index(group)
        n_p, n_s = len(self.periods), len(self.stages)
        return np.array(self.wip[g * n_p * n_s + s : (g + 1) * n_p * n_s : n_s], dtype=np.int64)

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            **self._by_column(self.group),
            "period": self.period_start,
            "stage": self.stage,
            "wip": self.wip,
        }

    def _params(self) -> Mapping[str, object]:
        return {"period": self.period, "by": self.by, "as_of": self.as_of, "skips": self.skips}

    def _summary(self) -> Mapping[str, object]:
        n_p, n_s = len(self.periods), len(self.stages)
        last = self.wip.reshape(len(self.groups), n_p, n_s)[:, -1, :] if self.wip.size else 0
        return {
            "stages": n_s,
            "periods": n_p,
            "cases": self.n_cases,
            "wip": int(np.sum(last)),
        }


def wip(
    log: EventLog,
    funnel: Funnel,
    *,
    period: Period = "month",
    by: str | None = None,
    as_of: object = None,
    skips: Skips = "strict",
) -> WipResult:
    """Count the deals in each open stage at the end of each calendar period.

    A deal is in a stage at time ``t`` when it entered the stage at or before ``t`` and had
    not left it by ``t`` (a move at exactly ``t`` has left); a deal still in the stage at
    `as_of` counts there up to and including `as_of`. Each period is counted at its end: its
    last instant, or `as_of` for the period that holds `as_of`. The periods run from the one
    holding the log's first event to the one holding `as_of`. Won and lost are not work in
    progress.

    Args:
        log: Events to analyse.
        funnel: The process whose open stages are counted.
        period: ``"day"``, ``"week"`` (ISO weeks, starting on Monday), ``"month"``,
            ``"quarter"`` or ``"year"``.
        by: A case attribute to split the deals by (missing values form a group labelled
            None), or None.
        as_of: The censoring time; the log's last event by default.
        skips: ``"strict"`` counts only recorded stages; ``"implied"`` adds the stages a
            forward jump passes over, for zero time (so they never add to WIP).

    Returns:
        WIP per (group,) period and open stage.

    Raises:
        ParameterError: If `period` or `skips` is not one of the choices, `by` is not a
            case attribute, or `as_of` is before the log starts.
        UnknownStageError: If the funnel declares its activities and the log has another.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03"), ("d1", "qualified", "2024-01-20"),
        ...      ("d1", "won", "2024-02-10"), ("d2", "lead", "2024-01-15"),
        ...      ("d2", "lost", "2024-02-05"), ("d3", "lead", "2024-02-01")])
        >>> funnel = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> res = ss.wip(log, funnel)
        >>> res
        WipResult(stages=2, periods=2, cases=3, wip=1)
        >>> res.series("lead").tolist(), res.series("qualified").tolist()
        ([1, 1], [1, 0])
        >>> res.at("lead", period="2024-01-01")
        StageWip(stage='lead', period='2024-01-01', wip=1, group=None)
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    flows = _flows(log, funnel, period=period, by=by, as_of=as_of, skips=skips)
    ep = flows.episodes
    n_open = ep.n_open
    net = flows.entries - flows.advanced - flows.lost - flows.back
    stock = np.cumsum(net[:, :, :n_open], axis=1)
    n_g, n_p = flows.groups.n, flows.starts.size
    g, p, s = layout_rows(n_g, n_p, n_open)
    names = funnel.stage_names
    periods = tuple(period_label(x) for x in flows.starts.tolist())
    return WipResult(
        stage=objects(names[:n_open])[s],
        period_start=objects(periods)[p],
        group=objects(flows.groups.labels)[g],
        wip=stock.reshape(-1),
        stages=names[:n_open],
        periods=periods,
        period_end=flows.ends.view("datetime64[ns]"),
        groups=flows.groups.labels,
        by=by,
        period=str(period),
        as_of=stamp(ep.as_of),
        skips=skips,
        n_cases=int(ep.in_scope.sum()),
    )


@attrs.frozen(repr=False)
class ThroughputResult(Layout, ResultMixin):
    """Entries into and exits out of each stage in each period, exits split by destination.

    Rows run group by group, then period by period, then over all stages in funnel order
    (outcomes too: their entries are the deals won or lost in the period; they have no exits).

    Attributes:
        stage: Stage name of each row.
        period_start: ISO date of the first day of each row's period.
        group: Group label of each row (None when not grouped).
        entries: Episodes that started in the stage in the period.
        exits: Episodes of the stage that ended by a move in the period.
        advanced: Exits to a later stage or to won.
        lost: Exits to a lost outcome.
        moved_back: Exits to an earlier open stage.
        stages: All stages, in funnel order.
        periods: ISO dates of the periods' first days.
        period_end: End instant of each period (its last nanosecond, or `as_of`), UTC.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        period: The calendar period.
        as_of: The censoring time, UTC.
        skips: How skipped stages were counted.
        n_cases: Cases with an event at or before `as_of`.
    """

    stage: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    period_start: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    entries: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    exits: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    advanced: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    lost: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    moved_back: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    stages: tuple[str, ...]
    periods: tuple[str, ...]
    period_end: NDArray[np.datetime64] = attrs.field(converter=readonly, eq=eq)
    groups: tuple[object, ...]
    by: str | None
    period: str
    as_of: np.datetime64
    skips: str
    n_cases: int

    def at(self, stage: str, group: object = None, *, period: str | None = None) -> StageThroughput:
        """Flows of one stage (and group) in one period, or summed over the window.

        Args:
            stage: A stage of the funnel.
            group: The group label when the result is grouped.
            period: ISO date of the period's first day, as in `periods`; None for the
                totals over the whole window.

        Raises:
            UnknownStageError: If `stage` is not in the result.
            ParameterError: If `group` or `period` is not in the result.
        """
        s = self._stage_index(stage)
        g = self._group_index(group)
        n_p, n_s = len(self.periods), len(self.stages)
        if period is None:
            rows: slice | int = slice(g * n_p * n_s + s, (g + 1) * n_p * n_s, n_s)
        else:
            rows = (g * n_p + period_index(self.periods, period)) * n_s + s
        return StageThroughput(
            stage=stage,
            period=period,
            entries=int(np.sum(self.entries[rows])),
            exits=int(np.sum(self.exits[rows])),
            advanced=int(np.sum(self.advanced[rows])),
            lost=int(np.sum(self.lost[rows])),
            moved_back=int(np.sum(self.moved_back[rows])),
            group=self.groups[g] if self.by is not None else None,
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            **self._by_column(self.group),
            "period": self.period_start,
            "stage": self.stage,
            "entries": self.entries,
            "exits": self.exits,
            "advanced": self.advanced,
            "lost": self.lost,
            "moved_back": self.moved_back,
        }

    def _params(self) -> Mapping[str, object]:
        return {"period": self.period, "by": self.by, "as_of": self.as_of, "skips": self.skips}

    def _summary(self) -> Mapping[str, object]:
        return {
            "stages": len(self.stages),
            "periods": len(self.periods),
            "cases": self.n_cases,
            "entries": int(self.entries.sum()),
            "exits": int(self.exits.sum()),
        }


def throughput(
    log: EventLog,
    funnel: Funnel,
    *,
    period: Period = "month",
    by: str | None = None,
    as_of: object = None,
    skips: Skips = "strict",
) -> ThroughputResult:
    """Count entries into and exits out of each stage per calendar period.

    An entry is the start of an episode (a stay of a deal in a stage; a re-entry counts
    again). An exit is the end of an episode by a move, counted in the period of the move
    and split by destination: *advanced* (to a later open stage or to won), *lost* (to a
    lost outcome) or *moved back* (to an earlier open stage). A deal still in a stage at
    `as_of` has not exited. Periods are those of `wip`, and for every open stage the WIP at
    a period's end is the running sum of ``entries - exits`` up to that period. Won and lost
    rows count the deals closed in each period.

    Args:
        log: Events to analyse.
        funnel: The process whose stages are counted.
        period: ``"day"``, ``"week"``, ``"month"``, ``"quarter"`` or ``"year"``.
        by: A case attribute to split the deals by, or None.
        as_of: The censoring time; the log's last event by default.
        skips: ``"strict"`` counts recorded stages; ``"implied"`` also counts an entry and
            an advance for each stage a forward jump passes over.

    Returns:
        Entries and exits per (group,) period and stage.

    Raises:
        ParameterError: If `period` or `skips` is not one of the choices, `by` is not a
            case attribute, or `as_of` is before the log starts.
        UnknownStageError: If the funnel declares its activities and the log has another.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03"), ("d1", "qualified", "2024-01-20"),
        ...      ("d1", "won", "2024-02-10"), ("d2", "lead", "2024-01-15"),
        ...      ("d2", "lost", "2024-02-05"), ("d3", "lead", "2024-02-01")])
        >>> funnel = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> res = ss.throughput(log, funnel)
        >>> res.at("lead", period="2024-02-01")
        StageThroughput(stage='lead', period='2024-02-01', entries=1, exits=1, advanced=0, \
lost=1, moved_back=0, group=None)
        >>> res.at("won").entries
        1
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    flows = _flows(log, funnel, period=period, by=by, as_of=as_of, skips=skips)
    ep = flows.episodes
    n_g, n_p, n_s = flows.groups.n, flows.starts.size, ep.n_stages
    g, p, s = layout_rows(n_g, n_p, n_s)
    names = funnel.stage_names
    periods = tuple(period_label(x) for x in flows.starts.tolist())
    advanced, lost, back = (a.reshape(-1) for a in (flows.advanced, flows.lost, flows.back))
    return ThroughputResult(
        stage=objects(names)[s],
        period_start=objects(periods)[p],
        group=objects(flows.groups.labels)[g],
        entries=flows.entries.reshape(-1),
        exits=advanced + lost + back,
        advanced=advanced,
        lost=lost,
        moved_back=back,
        stages=names,
        periods=periods,
        period_end=flows.ends.view("datetime64[ns]"),
        groups=flows.groups.labels,
        by=by,
        period=str(period),
        as_of=stamp(ep.as_of),
        skips=skips,
        n_cases=int(ep.in_scope.sum()),
    )


@attrs.frozen(repr=False)
class LittlesLawResult(Layout, ResultMixin):
    """Little's law per open stage over the window from the log's first event to `as_of`.

    Rows run group by group, then over the open stages in funnel order.

    Attributes:
        stage: Stage name of each row.
        group: Group label of each row (None when not grouped).
        entries: Episodes that entered the stage in the window.
        stage_days: Total days spent in the stage in the window (open stays up to `as_of`).
        avg_wip: Time-average WIP, ``L = stage_days / window_days``.
        arrivals_per_day: Arrival rate, ``lambda = entries / window_days``.
        little_days: ``W = L / lambda``, days; also the mean stay with open stays cut at
            `as_of`.
        km_mean_days: Kaplan-Meier mean stay restricted to `window_days` (open stays
            censored), days.
        open: Deals in the stage at `as_of`.
        stages: The open stages, in funnel order.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        window_start: The log's first event, UTC.
        as_of: The end of the window and censoring time, UTC.
        window_days: Length of the window, days.
        skips: How skipped stages were counted.
        n_cases: Cases with an event at or before `as_of`.
    """

    stage: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    entries: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    stage_days: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    avg_wip: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    arrivals_per_day: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    little_days: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    km_mean_days: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    open: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    stages: tuple[str, ...]
    groups: tuple[object, ...]
    by: str | None
    window_start: np.datetime64
    as_of: np.datetime64
    window_days: float
    skips: str
    n_cases: int

    def at(self, stage: str, group: object = None) -> StageFlow:
        """Little's law quantities of one open stage (and group).

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: If `group` is not in the result.
        """
        row = self._group_index(group) * len(self.stages) + self._stage_index(stage)
        return StageFlow(
            stage=stage,
            entries=int(self.entries[row]),
            stage_days=float(self.stage_days[row]),
            avg_wip=float(self.avg_wip[row]),
            arrivals_per_day=float(self.arrivals_per_day[row]),
            little_days=float(self.little_days[row]),
            km_mean_days=float(self.km_mean_days[row]),
            open=int(self.open[row]),
            group=self.group[row],
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            **self._by_column(self.group),
            "stage": self.stage,
            "entries": self.entries,
            "stage_days": self.stage_days,
            "avg_wip": self.avg_wip,
            "arrivals_per_day": self.arrivals_per_day,
            "little_days": self.little_days,
            "km_mean_days": self.km_mean_days,
            "open": self.open,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "by": self.by,
            "window_start": self.window_start,
            "as_of": self.as_of,
            "skips": self.skips,
        }

    def _summary(self) -> Mapping[str, object]:
        return {
            "stages": len(self.stages),
            "cases": self.n_cases,
            "window_days": self.window_days,
            "avg_wip": float(self.avg_wip.sum()),
        }


def littles_law(
    log: EventLog,
    funnel: Funnel,
    *,
    by: str | None = None,
    as_of: object = None,
    skips: Skips = "strict",
) -> LittlesLawResult:
    """Average WIP, arrival rate and the time in stage they imply, per open stage.

    Over the window from the log's first event to `as_of` (``window_days`` long):

    * **average WIP** ``L`` is the time-average number of deals in the stage, computed
      exactly as the total days deals spent there (stays still open at `as_of` counted up
      to `as_of`) divided by ``window_days``;
    * **arrival rate** ``lambda`` is the number of entries into the stage per day;
    * **Little's law time** ``W = L / lambda`` is the average time in stage they imply;
    * **Kaplan-Meier mean** is the mean stay estimated with the open stays treated as
      censored (not finished), restricted to ``window_days``.

    Note:
        Little's law ``L = lambda W`` (Little, 1961) holds for the long-run averages of a
        stable process. On a finite window that starts empty, as this one does (no deal
        is in a stage before the log's first event), it holds exactly as an identity when
        ``W`` is the observed mean stay *including censored time* (open stays cut at
        `as_of`): both sides are the same stage-days, so `little_days` *is* that observed
        mean. What it does not say is how long a stay really lasts. That is what
        `km_mean_days` estimates, counting an open stay as "at least this long" rather than
        "this long"; it is never smaller than `little_days`.

        The two agree when the process is stable and the window long compared with a stay:
        few stays are open at `as_of`, so cutting them changes little. A gap
        (``km_mean_days`` well above ``little_days``) means much of the stage time is still
        in flight: arrivals are rising, stays are getting longer (work piling up in the
        stage), or the window is short for this stage. Then ``L / lambda`` understates the
        time a deal will spend there, and the current `avg_wip` understates the WIP the
        present arrival rate will build up to (``lambda x km_mean_days``).

        References: J. D. C. Little (1961), "A proof for the queuing formula L = lambda W",
        Operations Research 9(3); S.-H. Kim and W. Whitt (2013), "Statistical analysis
        with Little's law", Operations Research 61(4).

    Args:
        log: Events to analyse.
        funnel: The process whose open stages are measured.
        by: A case attribute to split the deals by, or None.
        as_of: The end of the window and censoring time; the log's last event by default.
        skips: ``"strict"`` counts recorded stages; ``"implied"`` adds a zero-length stay
            for each stage a forward jump passes over (more arrivals, no more stage-days).

    Returns:
        One row per (group and) open stage.

    Raises:
        ParameterError: If `skips` is not "strict" or "implied", `by` is not a case
            attribute, or `as_of` is before the log starts.
        UnknownStageError: If the funnel declares its activities and the log has another.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03"), ("d1", "qualified", "2024-01-20"),
        ...      ("d1", "won", "2024-02-10"), ("d2", "lead", "2024-01-15"),
        ...      ("d2", "lost", "2024-02-05"), ("d3", "lead", "2024-02-01")])
        >>> funnel = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> lead = ss.littles_law(log, funnel).at("lead")
        >>> lead.entries, lead.stage_days, round(lead.avg_wip, 3)
        (3, 47.0, 1.237)
        >>> round(lead.little_days, 3), lead.km_mean_days
        (15.667, 19.0)
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    grouped = groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips=skips)
    first = int(log.time.view(np.int64).min())
    window_days = (ep.as_of - first) / NS_PER_DAY
    n_open, n_g = ep.n_open, grouped.n
    size = n_g * n_open
    sel = ep.stage < n_open
    key = grouped.of_case[ep.case[sel]].astype(np.int64) * n_open + ep.stage[sel]
    durations = ep.duration_days()[sel]
    moved = ep.moved[sel]
    entries = np.bincount(key, minlength=size).astype(np.int64)
    stage_days = np.bincount(key, weights=durations, minlength=size).astype(np.float64)
    open_now = np.bincount(key[~moved], minlength=size).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        avg_wip = stage_days / window_days if window_days > 0 else np.full(size, np.nan)
        rate = entries / window_days if window_days > 0 else np.full(size, np.nan)
        little = avg_wip / rate
    km_mean = np.full(size, np.nan)
    if window_days > 0:
        km = stats.kaplan_meier(durations, moved, key, n_groups=size)
        km_mean = np.asarray(km.restricted_mean(window_days).value, dtype=np.float64)
    g, _, s = layout_rows(n_g, 1, n_open)
    names = funnel.stage_names[:n_open]
    return LittlesLawResult(
        stage=objects(names)[s],
        group=objects(grouped.labels)[g],
        entries=entries,
        stage_days=stage_days,
        avg_wip=avg_wip,
        arrivals_per_day=rate,
        little_days=little,
        km_mean_days=np.where(entries > 0, km_mean, np.nan),
        open=open_now,
        stages=names,
        groups=grouped.labels,
        by=by,
        window_start=stamp(first),
        as_of=stamp(ep.as_of),
        window_days=float(window_days),
        skips=skips,
        n_cases=int(ep.in_scope.sum()),
    )
