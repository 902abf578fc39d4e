"""Stage conversion: how many deals enter each stage and the share that move on.

Two views of the same question. `conversion` counts entries into each open stage and what
became of them by `as_of` (advanced, lost, moved back, still open), with a step rate and its
interval, the cumulative rate from the top of the funnel and the win rate from each stage.
`conversion_curves` follows each deal from its first entry into a stage and estimates, with
the Aalen-Johansen estimator, the share that has advanced (or been lost) within any number
of days, counting deals that are still open as censored instead of as failures.

Both start from the stage episodes of `salesstd.metrics._episodes` (one row per stay of a
case in a stage), so skips, re-entries, outcomes and censoring mean the same here as in
every other funnel metric.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd import stats
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics import _common
from salesstd.metrics._conversion_results import (
    ConversionCurves,
    ConversionResult,
    DenominatorKind,
    Entries,
    IncidenceCurve,
    IncidencePoint,
    Method,
    StageConversion,
    datetime_utc,
    objects,
    read_at,
)
from salesstd.metrics._episodes import NS_PER_DAY, Episodes, Skips, build_episodes, segment_starts

__all__ = [
    "ConversionCurves",
    "ConversionResult",
    "IncidenceCurve",
    "IncidencePoint",
    "StageConversion",
    "conversion",
    "conversion_curves",
]

DEFAULT_HORIZONS: tuple[float, ...] = (7.0, 30.0, 90.0)


# --------------------------------------------------------------------- computing


@attrs.frozen
class _Units:
    """The entries a conversion counts, with what became of each by `as_of`."""

    case: NDArray[np.int32]
    stage: NDArray[np.int32]
    enter: NDArray[np.int64]
    advanced: NDArray[np.bool_]
    lost: NDArray[np.bool_]
    moved_back: NDArray[np.bool_]
    lost_code: NDArray[np.int32]  # index among the lost outcomes; -1 if not lost
    resolved_at: NDArray[np.int64]  # when it advanced or was lost; as_of if open
    implied: NDArray[np.bool_]  # an implied pass (a skip), not a recorded stay
    entered_funnel: NDArray[np.bool_]  # the case's first recorded stay: it entered here


def _first_forward(ep: Episodes, unit: NDArray[np.intp]) -> NDArray[np.int64]:
    """For each unit episode: the first later episode of its case further forward, or -1.

    One pass per open stage: a suffix minimum of the indices of the episodes past that stage
    gives, for every episode, the nearest such index after it; it belongs to the same case
    only if that case has one (indices of later cases are larger).
    """
    n = ep.size
    out = np.full(unit.size, -1, dtype=np.int64)
    if n == 0:
        return out
    pos = ep.position()
    idx = np.arange(n, dtype=np.int64)
    stage_u = ep.stage[unit]
    for s in range(ep.n_open):
        pick = np.flatnonzero(stage_u == s)
        if pick.size == 0:
            continue
        cand = np.where(pos > s, idx, n)
        after = np.empty(n, dtype=np.int64)
        after[:-1] = np.minimum.accumulate(cand[:0:-1])[::-1]
        after[-1] = n
        i = unit[pick]
        k = after[i]
        found = k < n
        found[found] = ep.case[k[found]] == ep.case[i[found]]
        out[pick] = np.where(found, k, -1)
    return out


def step_counts(
    ep: Episodes, of_case: NDArray[np.integer], n_groups: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """First entries, advances and losses per (group, open stage), as `conversion` counts them.

    `conversion`'s default reading (``skips="implied"``, first entries) depends on each
    case almost only through the position it was first recorded at (``p``), the furthest
    forward position it reached (``f``; the stage code for open stages and won, from the
    strict episodes) and its outcome: it entered every open stage from ``p`` to ``f`` (it
    enters the funnel at ``p``; a forward jump passes the stages between), advanced from
    each stage below ``f`` (the move that reached ``f`` came after its first entry into
    them), and at ``f`` itself is lost if it ended lost and open otherwise. A case that
    later moved back below ``p`` entered those earlier stages too; the few such entries are
    followed one by one. So the counts come from one pass over the episodes and one over
    the cases, with no implied episodes. Cases with a negative group code are left out.

    Args:
        ep: Strict (or implied) episodes.
        of_case: Group code of each case (-1: not counted).
        n_groups: Number of groups.

    Returns:
        ``(entries, advanced, lost)``, each ``(n_groups, n_open)``.
    """
    n_open = ep.n_open
    furthest = np.full(ep.n_cases, -1, dtype=np.int64)
    first = np.full(ep.n_cases, -1, dtype=np.int64)
    position = np.where(ep.stage <= n_open, ep.stage, -1)
    if ep.size:
        # Episodes are sorted by case: each case's block starts where the case changes.
        starts = np.flatnonzero(segment_starts(ep.case))
        furthest[ep.case[starts]] = np.maximum.reduceat(position, starts)
        first[ep.case[starts]] = position[starts]
    lost_case = ep.case_outcome() > n_open
    counted = (furthest >= 0) & (of_case >= 0)
    group = of_case[counted].astype(np.int64)
    key = group * (n_open + 1) + furthest[counted]
    size = n_groups * (n_open + 1)
    at = np.bincount(key, minlength=size).reshape(n_groups, n_open + 1)
    at_least = np.cumsum(at[:, ::-1], axis=1)[:, ::-1]  # cases whose furthest is >= each
    # Cases enter the funnel at their first recorded stage: those first recorded past a
    # stage never entered it.
    first_key = group * (n_open + 1) + first[counted]
    at_first = np.bincount(first_key, minlength=size).reshape(n_groups, n_open + 1)
    above = np.cumsum(at_first[:, ::-1], axis=1)[:, ::-1]  # cases whose first is >= each
    first_past = np.zeros_like(above)
    first_past[:, :-1] = above[:, 1:]  # first recorded past each stage
    entries = at_least[:, :n_open] - first_past[:, :n_open]
    advanced = at_least[:, 1:] - first_past[:, :n_open]
    lost = np.bincount(key[lost_case[counted]], minlength=size).reshape(n_groups, n_open + 1)
    lost = lost[:, :n_open]
    # Rare: a case that moved back below the stage it was first recorded in entered that
    # earlier stage too; count those first entries one by one.
    if ep.size:
        below = (ep.stage < n_open) & (ep.entry == 0) & ~ep.implied & (ep.stage < first[ep.case])
        unit = np.flatnonzero(below)
        if unit.size:
            g = of_case[ep.case[unit]].astype(np.int64)
            mine = g >= 0
            unit, g = unit[mine], g[mine]
            went_on = _first_forward(ep, unit) >= 0
            was_lost = ~went_on & lost_case[ep.case[unit]]
            k = g * n_open + ep.stage[unit]
            flat = n_groups * n_open
            entries = entries + np.bincount(k, minlength=flat).reshape(n_groups, n_open)
            advanced = advanced + np.bincount(k[went_on], minlength=flat).reshape(n_groups, n_open)
            lost = lost + np.bincount(k[was_lost], minlength=flat).reshape(n_groups, n_open)
    return entries, advanced, lost


def _units(ep: Episodes, entries: Entries) -> _Units:
    n_open = ep.n_open
    is_open = ep.stage < n_open
    if entries == "first":
        unit = np.flatnonzero(is_open & (ep.entry == 0))
        k = _first_forward(ep, unit)
        advanced = k >= 0
        case = ep.case[unit]
        outcome = ep.case_outcome()[case]
        lost = ~advanced & (outcome > n_open)
        moved_back = np.zeros(unit.size, dtype=bool)
        lost_code = np.where(lost, outcome - n_open - 1, -1).astype(np.int32)
        resolved_at = np.full(unit.size, ep.as_of, dtype=np.int64)
        resolved_at[advanced] = ep.enter[k[advanced]]
        resolved_at[lost] = ep.case_close_time()[case[lost]]
    else:
        unit = np.flatnonzero(is_open)
        nxt = ep.next_stage[unit]
        stage_u = ep.stage[unit]
        advanced = (nxt >= 0) & (nxt <= n_open) & (nxt > stage_u)
        lost = nxt > n_open
        moved_back = (nxt >= 0) & (nxt < stage_u)
        lost_code = np.where(lost, nxt - n_open - 1, -1).astype(np.int32)
        resolved_at = ep.exit[unit]
    return _Units(
        implied=ep.implied[unit],
        entered_funnel=segment_starts(ep.case)[unit],
        case=ep.case[unit],
        stage=ep.stage[unit],
        enter=ep.enter[unit],
        advanced=advanced,
        lost=lost,
        moved_back=moved_back,
        lost_code=lost_code,
        resolved_at=resolved_at,
    )


def _count(key: NDArray[np.int64], mask: NDArray[np.bool_] | None, n: int) -> NDArray[np.int64]:
    chosen = key if mask is None else key[mask]
    return np.bincount(chosen, minlength=n).astype(np.int64)


def _products(
    rate: NDArray[np.float64], n_stages: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cumulative (top down) and win-rate (bottom up) products within each block of stages."""
    if rate.size == 0:
        return rate.copy(), rate.copy()
    blocks = rate.reshape(-1, n_stages)
    cumulative = np.asarray(np.cumprod(blocks, axis=1), dtype=np.float64)
    win = np.asarray(np.cumprod(blocks[:, ::-1], axis=1)[:, ::-1], dtype=np.float64)
    return cumulative.reshape(-1), win.reshape(-1)


def conversion(
    log: EventLog,
    funnel: Funnel,
    *,
    by: str | None = None,
    period: _common.Period | None = None,
    skips: Skips = "implied",
    entries: Entries = "first",
    window: dt.timedelta | float | None = None,
    as_of: object = None,
    min_stay: float | dt.timedelta | None = None,
    confidence_level: float = 0.95,
    method: Method = "wilson",
) -> ConversionResult:
    """Count entries into each open stage, what became of them, and the share that advanced.

    **The unit.** With ``entries="first"`` (default) the unit is a case's first entry into a
    stage. A case enters the funnel at its first recorded stage: a deal created directly in
    a later stage did not enter the stages before it (`entered_funnel` counts the cases
    that entered at each stage). With ``skips="implied"`` (default) a case that jumps
    forward between two recorded stages (lead -> proposal) has entered the stages it jumped
    over, at the moment of the jump, and advanced from them; ``skips="strict"`` counts only
    stages actually recorded. Each row says how many of its entries were `recorded` and how
    many `implied`. With ``entries="every"`` the unit is every entry (every stay of a case
    in a stage, re-entries after a backward move included).

    **Data-entry noise.** With `min_stay` (say 60 seconds), a recorded stay that ended less
    than `min_stay` after it began is read as a correction (a rep clicking through stages)
    and dropped; see `salesstd.metrics` on stage episodes.

    **What became of it** by `as_of` (default: the log's last event):

    * first entries: *advanced* if the case later reaches any stage further forward (a later
      open stage or won), whatever happened in between; *lost* if it reached a lost outcome
      without advancing first (counted per lost outcome too); otherwise *open*.
    * every entry: judged by the case's next stage: *advanced* if it is further forward,
      *lost* if it is a lost outcome, *moved back* if it is an earlier open stage, *open* if
      there is none yet.

    An open entry is censored, never a failure: it is neither advanced nor lost.

    **The rate** of each stage is ``converted / denominator``, both reported:

    * without `window`: ``converted = advanced`` and the denominator is the *resolved*
      entries: advanced + lost (+ moved back in the every-entry view, where a move back
      counts as not advancing). Open entries are left out.
    * with `window` (say 30 days): an entry is *mature* if it happened at least `window`
      before `as_of`; ``converted`` counts mature entries that advanced within `window` of
      entering and the denominator is the mature entries (lost, moved back and still-open
      mature entries all count as not converted). Entries too recent to judge are reported
      as `immature` and left out.

    Each rate has an interval (Wilson or Jeffreys, from `stats.proportion_interval`). The
    *cumulative* rate of a stage is the product of the step rates from the first open stage
    through it: the estimated share of top-of-funnel deals that get past the stage. The
    *win rate* from a stage is the product of the step rates from it through the last open
    stage. Both products assume a linear funnel in which deals pass the stages in order (a
    branching funnel needs the Markov model) and carry no interval.

    With `by`, rows are computed per group of cases (a case attribute; a missing value is a
    group of its own). With `period`, entries are grouped by the calendar period in which
    the case entered the stage (cohorts); the periods are those in which some entry
    happened, the same list in every group. Counts add up over groups and periods.

    Args:
        log: Events to analyse.
        funnel: The process: the open stages and their order, won and lost outcomes.
        by: A case attribute to split the cases by, or None.
        period: ``"day"``, ``"week"`` (ISO weeks, from Monday), ``"month"``, ``"quarter"``
            or ``"year"`` to split entries by when they happened, or None.
        skips: ``"implied"`` or ``"strict"``, see above.
        entries: ``"first"`` or ``"every"``, see above.
        window: The conversion window: a `datetime.timedelta` or a number of days, > 0; or
            None for rates over resolved entries.
        as_of: The censoring time (ISO string, date, datetime); default the log's last event.
        min_stay: Stays shorter than this are data-entry corrections: a number of seconds
            or a `datetime.timedelta`; None (default) keeps every stay.
        confidence_level: Coverage of the intervals, in (0, 1).
        method: ``"wilson"`` or ``"jeffreys"``.

    Returns:
        One row per (group, period, stage): counts, denominator, rate, interval, cumulative
        rate and win rate.

    Raises:
        ParameterError: If an option has a bad value, `by` is not a case attribute, or
            `as_of` is before the log starts.
        UnknownStageError: If the funnel declares its activities and the log has another.

    Note:
        The Wilson score interval (Wilson 1927) and the Jeffreys interval (the Beta(1/2, 1/2)
        posterior's equal-tailed interval) are those recommended by Brown, Cai & DasGupta
        (2001), "Interval estimation for a binomial proportion", Statistical Science 16(2).

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "qualified", "2024-01-03"),
        ...      ("d1", "won", "2024-01-10"),
        ...      ("d2", "lead", "2024-01-02"), ("d2", "lost", "2024-01-05"),
        ...      ("d3", "lead", "2024-01-04"), ("d3", "qualified", "2024-01-06")])
        >>> f = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> conv = ss.conversion(log, f)
        >>> conv
        ConversionResult(stages=2, cases=3, overall=0.6667)
        >>> conv.entered.tolist(), conv.advanced.tolist(), conv.lost.tolist()
        ([3, 2], [2, 1], [1, 0])
        >>> conv.open.tolist(), conv.denominator.tolist(), conv.rate.tolist()
        ([0, 1], [3, 1], [0.6666666666666666, 1.0])
        >>> q = conv.at("qualified")
        >>> q.win_rate, round(q.cumulative, 4), round(q.low, 4)
        (1.0, 0.6667, 0.2065)
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    v.choice("entries", entries, ("first", "every"))
    v.choice("method", method, ("wilson", "jeffreys"))
    v.choice("skips", skips, ("implied", "strict"))
    if period is not None:
        v.choice("period", period, _common.PERIODS)
    window_days = None if window is None else _common.days("window", window)
    level = v.fraction("confidence_level", confidence_level)
    grouping = _common.groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips=skips, min_stay=min_stay)
    units = _units(ep, entries)

    stages = tuple(s.name for s in funnel.open_stages)
    lost_outcomes = tuple(s.name for s in funnel.lost)
    n_stages, n_lost, n_groups = len(stages), len(lost_outcomes), grouping.n

    if period is None:
        period_labels: tuple[str | None, ...] = (None,)
        period_code = np.zeros(units.case.size, dtype=np.int64)
    else:
        starts, period_code = np.unique(
            _common.period_start(units.enter, period), return_inverse=True
        )
        period_labels = tuple(_common.period_label(int(s)) for s in starts)
    n_periods = len(period_labels)
    n_rows = n_groups * n_periods * n_stages
    group_code = grouping.of_case[units.case].astype(np.int64)
    key = (group_code * n_periods + period_code.reshape(-1)) * n_stages + units.stage

    entered = _count(key, None, n_rows)
    implied = _count(key, units.implied, n_rows)
    entered_funnel = _count(key, units.entered_funnel, n_rows)
    advanced = _count(key, units.advanced, n_rows)
    lost = _count(key, units.lost, n_rows)
    moved_back = _count(key, units.moved_back, n_rows)
    open_ = entered - advanced - lost - moved_back
    lost_key = key[units.lost] * max(n_lost, 1) + units.lost_code[units.lost]
    lost_by = np.bincount(lost_key, minlength=n_rows * n_lost).astype(np.int64)
    lost_by = lost_by.reshape(n_rows, n_lost)

    if window_days is None:
        converted = advanced
        denominator = advanced + lost + moved_back
        immature = np.zeros(n_rows, dtype=np.int64)
        kind: DenominatorKind = "resolved"
    else:
        window_ns = round(window_days * NS_PER_DAY)
        mature = units.enter <= ep.as_of - window_ns
        in_time = units.advanced & (units.resolved_at - units.enter <= window_ns) & mature
        converted = _count(key, in_time, n_rows)
        denominator = _count(key, mature, n_rows)
        immature = entered - denominator
        kind = "mature"

    with np.errstate(invalid="ignore", divide="ignore"):
        rate = converted / denominator
    low, high = stats.proportion_interval(
        converted, denominator, confidence_level=level, method=method
    )
    cumulative, win_rate = _products(rate, n_stages)

    reached = np.zeros(ep.n_cases, dtype=bool)
    reached[units.case] = True
    return ConversionResult(
        stage=np.tile(objects(stages), n_groups * n_periods),
        group=np.repeat(objects(grouping.labels), n_periods * n_stages),
        period=np.tile(np.repeat(objects(period_labels), n_stages), n_groups),
        entered=entered,
        recorded=entered - implied,
        implied=implied,
        entered_funnel=entered_funnel,
        advanced=advanced,
        lost=lost,
        lost_by_outcome=lost_by,
        open=open_,
        moved_back=moved_back,
        immature=immature,
        converted=converted,
        denominator=denominator,
        rate=rate,
        low=low,
        high=high,
        cumulative=cumulative,
        win_rate=win_rate,
        stages=stages,
        won=funnel.won.name,
        lost_outcomes=lost_outcomes,
        groups=grouping.labels,
        periods=period_labels,
        by=grouping.name,
        period_unit=period,
        skips=skips,
        entries=entries,
        window_days=window_days,
        denominator_kind=kind,
        as_of=datetime_utc(ep.as_of),
        confidence_level=level,
        method=method,
        n_cases=int(reached.sum()),
    )


def conversion_curves(
    log: EventLog,
    funnel: Funnel,
    *,
    by: str | None = None,
    skips: Skips = "implied",
    as_of: object = None,
    min_stay: float | dt.timedelta | None = None,
    horizons: Sequence[dt.timedelta | float] | dt.timedelta | float | None = None,
    confidence_level: float = 0.95,
) -> ConversionCurves:
    """Estimate the share of deals that advance (or are lost) within t days of entering a stage.

    For each open stage, each case's first entry into it (implied entries included with
    ``skips="implied"``, as in `conversion`) is followed until the case reaches a stage
    further forward (*advanced*; time = days from entry to that stage) or a lost outcome
    first (*lost*; time = days to the loss). A case that has done neither by `as_of` is
    *censored* there: it counts as at risk until then and as nothing after, never as a
    failure. Advancing and being lost are competing risks, and the Aalen-Johansen estimator
    gives the cumulative incidence of each: the estimated share of entries that advance
    within t days, and the share lost within t days, as if every deal had been followed
    that long; ``still_open = 1 - advanced - lost``. Each comes with a pointwise interval
    (`stats.CumulativeIncidence.confidence_band`).

    This is the censoring-aware counterpart of ``conversion(..., window=t)``: the window
    drops recent entries, these curves use them up to `as_of`. The naive share "advanced
    within t days / entered" counts recent, still-open entries as not converted and is
    biased low while deals are open.

    Args:
        log: Events to analyse.
        funnel: The process: the open stages and their order, won and lost outcomes.
        by: A case attribute to split the cases by, or None.
        skips: ``"implied"`` or ``"strict"``, as in `conversion`.
        as_of: The censoring time; default the log's last event.
        min_stay: Stays shorter than this are data-entry corrections, as in `conversion`.
        horizons: Days after entry at which to read the curves for the table: one or
            several numbers or `datetime.timedelta` values, each > 0; default 7, 30 and 90
            days. The full curves are kept whatever the horizons (`ConversionCurves.curve`).
        confidence_level: Coverage of the pointwise intervals, in (0, 1).

    Returns:
        One table row per (group, stage, horizon), plus the full curves.

    Raises:
        ParameterError: If an option has a bad value, `by` is not a case attribute, or
            `as_of` is before the log starts.
        UnknownStageError: If the funnel declares its activities and the log has another.

    Note:
        Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for
        non-homogeneous Markov chains based on censored observations. *Scandinavian Journal
        of Statistics* 5(3), 141-150. For the competing-risks reading: Putter, H., Fiocco, M.
        and Geskus, R. B. (2007). Tutorial in biostatistics: competing risks and multi-state
        models. *Statistics in Medicine* 26(11), 2389-2430.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-03"),
        ...      ("d2", "lead", "2024-01-01"), ("d2", "lost", "2024-01-05"),
        ...      ("d3", "lead", "2024-01-04")])
        >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
        >>> curves = ss.conversion_curves(log, f, horizons=[3, 10])
        >>> curves
        ConversionCurves(stages=1, horizons=2, cases=3)
        >>> curves.advanced.tolist(), curves.lost.tolist(), curves.still_open.tolist()
        ([0.5, 0.5], [0.0, 0.5], [0.5, 0.0])

        d3 entered a day before the log ends and is censored then, before anything happened
        to d1 or d2; the estimates rest on those two: half advanced, half lost by day 10.
        Counting d3 as not converted would say a third advanced.
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    v.choice("skips", skips, ("implied", "strict"))
    hs = _horizons(horizons)
    level = v.fraction("confidence_level", confidence_level)
    grouping = _common.groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips=skips, min_stay=min_stay)
    units = _units(ep, "first")
    stages = tuple(s.name for s in funnel.open_stages)
    n_stages, n_groups = len(stages), grouping.n
    n_blocks, n_h = n_stages * n_groups, len(hs)

    block = grouping.of_case[units.case].astype(np.int64) * n_stages + units.stage
    cause = np.zeros(units.case.size, dtype=np.int64)
    cause[units.advanced] = 1
    cause[units.lost] = 2
    ci = stats.cumulative_incidence(
        _common.ns_to_days(units.resolved_at - units.enter),
        cause,
        block,
        n_groups=n_blocks,
        n_causes=2,
    )
    h_arr = np.array(hs, dtype=np.float64)
    values = ci.at(h_arr)  # (blocks, horizons, 2)
    low, high, survival = read_at(ci, h_arr, level)

    reached = np.zeros(ep.n_cases, dtype=bool)
    reached[units.case] = True
    advanced, lost = values[:, :, 0].reshape(-1), values[:, :, 1].reshape(-1)
    return ConversionCurves(
        stage=np.repeat(np.tile(objects(stages), n_groups), n_h),
        group=np.repeat(objects(grouping.labels), n_stages * n_h),
        horizon_days=np.tile(h_arr, n_blocks),
        entered=np.repeat(ci.n, n_h),
        advanced=advanced,
        advanced_low=low[:, :, 0].reshape(-1),
        advanced_high=high[:, :, 0].reshape(-1),
        lost=lost,
        lost_low=low[:, :, 1].reshape(-1),
        lost_high=high[:, :, 1].reshape(-1),
        still_open=survival.reshape(-1),
        stages=stages,
        outcomes=tuple(s.name for s in funnel.stages[funnel.n_open :]),
        groups=grouping.labels,
        horizons=hs,
        by=grouping.name,
        skips=skips,
        as_of=datetime_utc(ep.as_of),
        confidence_level=level,
        n_cases=int(reached.sum()),
        incidence=ci,
    )


def _horizons(value: object) -> tuple[float, ...]:
    if value is None:
        return DEFAULT_HORIZONS
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        return (_common.days("horizons", value),)  # one duration, or the error naming it
    out = tuple(_common.days("horizons", h) for h in value)
    v.non_empty("horizons", out, example="horizons=(7, 30, 90)")
    return out
