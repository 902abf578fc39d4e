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
from collections.abc import Iterable, Sequence
from typing import cast

import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.timestamps import to_datetime
from salesstd._engine import grouping as _common
from salesstd._engine.counts import stage_units
from salesstd._engine.episodes import NS_PER_DAY, Skips, build_episodes
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics._conversion_results import (
    ConversionCurves,
    ConversionResult,
    DenominatorKind,
    Entries,
    IncidenceCurve,
    IncidencePoint,
    Method,
    StageConversion,
    read_at,
)

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
    units = stage_units(ep, entries)

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
        as_of=to_datetime(ep.as_of),
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
    units = stage_units(ep, "first")
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
        as_of=to_datetime(ep.as_of),
        confidence_level=level,
        n_cases=int(reached.sum()),
        incidence=ci,
    )


def _horizons(value: object) -> tuple[float, ...]:
    if value is None:
        return DEFAULT_HORIZONS
    several = isinstance(value, Sequence) or (isinstance(value, np.ndarray) and value.ndim > 0)
    if isinstance(value, (str, bytes)) or not several:
        return (_common.days("horizons", value),)  # one duration, or the error naming it
    out = tuple(_common.days("horizons", h) for h in cast("Iterable[object]", value))
    v.non_empty("horizons", out, example="horizons=(7, 30, 90)")
    return out
