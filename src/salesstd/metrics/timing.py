"""Time in stage and cycle time, with open deals censored rather than dropped.

Two questions about time. `time_in_stage` asks how long deals stay in each open stage: the
*dwell* of a stay is the time from entering the stage to leaving it for the next stage (or
an outcome). `cycle_time` asks how long a deal takes from its first event to its close.

In both, a deal that is still open at `as_of` has not finished: its stay (or its life so
far) is *right-censored* at `as_of`. We know it lasted at least that long, not how long it
will last. Averaging only the deals that did finish keeps the quick ones and drops the slow
ones that are still running, so it is biased short, and the more deals are open the worse it
gets. Both functions use the Kaplan-Meier estimator instead, which counts an open deal as
"still in the stage" for as long as it has been observed and then drops it from the risk set
without calling it a failure or a success. With competing outcomes (won, lost) `cycle_time`
uses the Aalen-Johansen cumulative incidence. See the explanation page "Open deals are
censored, not failures" for the reasoning and a worked example.

Both start from the stage episodes of `salesstd.metrics._episodes`, so skips, re-entries,
outcomes and censoring mean the same here as in every other funnel metric.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.timestamps import to_datetime
from salesstd._engine import grouping as _common
from salesstd._engine.counts import at_last_step, first_reaching
from salesstd._engine.episodes import NS_PER_DAY, Skips, build_episodes
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics._timing_results import (
    CycleTime,
    CycleTimeResult,
    DwellTable,
    Entries,
    StageDwell,
    TimeInStageResult,
)
from salesstd.stats import kaplan_meier_sorted as _kaplan_meier
from salesstd.stats import quantile_estimate as _quantile_estimate
from salesstd.stats import sort_spells as _sort_spells

__all__ = [
    "CycleTime",
    "CycleTimeResult",
    "DwellTable",
    "StageDwell",
    "TimeInStageResult",
    "cycle_time",
    "time_in_stage",
]


def _group_max(values: NDArray[np.float64], code: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """Largest value per group code; NaN for a group without values."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, code, values)
    out[np.isneginf(out)] = np.nan
    return out


def _sorted_median(values: NDArray[np.float64], counts: NDArray[np.int64]) -> NDArray[np.float64]:
    """Median of each group of `values` (mean of the two middle ones); NaN for an empty group.

    `values` are sorted by (group, value), group ``g`` holding the next ``counts[g]``.
    """
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    out = np.full(counts.size, np.nan)
    some = counts > 0
    lo = starts[some] + (counts[some] - 1) // 2
    hi = starts[some] + counts[some] // 2
    out[some] = (values[lo] + values[hi]) / 2
    return out


# --------------------------------------------------------------------- time in stage


def time_in_stage(
    log: EventLog,
    funnel: Funnel,
    *,
    by: str | None = None,
    as_of: object = None,
    min_stay: float | dt.timedelta | None = None,
    entries: Entries = "first",
    skips: Skips = "implied",
    confidence_level: float = 0.95,
    horizon: dt.timedelta | float | None = None,
) -> TimeInStageResult:
    """Estimate how long deals stay in each open stage, counting open deals as censored.

    **The stay.** A case *stays* in an open stage from its first event there until its next
    stage event in another stage (an open stage or an outcome); that time is the *dwell*.
    Non-stage activities (calls, meetings) do not end a stay. A stay still running at
    `as_of` (default: the log's last event) is *censored* at `as_of`: it has lasted at
    least ``as_of - entered`` so far. Outcomes (won, lost) have no dwell. A stage that a case
    only passed by a skip (lead -> proposal passes qualified, with ``skips="implied"``) is
    not a stay and gives no dwell observation: the case spent no recorded time there. With
    ``entries="first"`` (default) each case's first recorded stay in a stage is counted;
    with ``entries="every"`` every stay (re-entries after a backward move too).

    **The estimates**, per (group, stage), from the Kaplan-Meier curve ``S(t)``, the
    estimated share of stays still running after ``t`` days:

    * ``median_days``: the first time at which ``S`` falls to 0.5 or below; ``q25_days``
      and ``q75_days`` where it falls to 0.75 and 0.25. Each has the Brookmeyer-Crowley
      interval. A quantile the curve does not reach during follow-up is NaN (too many
      stays still running to say); so is an interval end that is open.
    * ``rmst_days``: the restricted mean, the area under ``S`` from 0 to the horizon: the
      expected days in the stage within the first `horizon` days. Without `horizon`, each
      row's horizon is its longest stay (ended or still running), which makes the figure the
      Kaplan-Meier mean when the longest stay has ended; rows with different horizons are
      not comparable, so pass `horizon` to compare groups or stages. Past a row's longest
      stay its curve is taken as flat.
    * ``naive_median_days``: the median over the stays that ended, ignoring the censored
      ones. It is biased short (the long stays are the ones still running) and is there
      only to show how far off such a report would be. No mean over ended stays is given.

    Args:
        log: Events to analyse.
        funnel: The process: its open stages, in order, and its outcomes.
        by: A case attribute to split the cases by, or None. A missing value is a group of
            its own, labelled None.
        as_of: The censoring time (ISO string, date, datetime); default the log's last event.
            Events after it are ignored.
        min_stay: Stays shorter than this are data-entry corrections (seconds or a
            `datetime.timedelta`); see `salesstd.conversion`. None keeps every stay.
        entries: ``"first"`` or ``"every"``, see above.
        skips: ``"implied"`` (default) or ``"strict"``: how a forward jump is read. Since
            implied passes are not stays (and are not counted when numbering a case's
            stays), the result is the same either way; the option is accepted for
            consistency with the other metrics.
        confidence_level: Coverage of the quantile intervals, in (0, 1).
        horizon: Upper limit of the restricted mean: a `datetime.timedelta` or a number of
            days, > 0; None for each row's longest stay.

    Returns:
        One row per (group, open stage): counts and dwell estimates in days.

    Raises:
        ParameterError: If an option has a bad value, `by` is not a case attribute, or
            `as_of` is before the log starts.
        UnknownStageError: If the funnel declares its activities and the log has another.

    Note:
        Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete
        observations. *JASA* 53(282), 457-481. Brookmeyer, R. and Crowley, J. (1982). A
        confidence interval for the median survival time. *Biometrics* 38(1), 29-41 (with
        the log-log pointwise band). Restricted mean: Irwin (1949); Royston, P. and Parmar,
        M. K. B. (2013), *BMC Medical Research Methodology* 13, 152. The curves come from
        `salesstd.stats.kaplan_meier`, which equals ``scipy.stats.ecdf`` on censored data.

    Examples:
        Five deals; d4 is still in lead and d5 in qualified on 11 January:

        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "qualified", "2024-01-03"),
        ...      ("d1", "won", "2024-01-08"),
        ...      ("d2", "lead", "2024-01-01"), ("d2", "qualified", "2024-01-05"),
        ...      ("d2", "lost", "2024-01-06"),
        ...      ("d3", "lead", "2024-01-02"), ("d3", "lost", "2024-01-09"),
        ...      ("d4", "lead", "2024-01-08"),
        ...      ("d5", "lead", "2024-01-03"), ("d5", "qualified", "2024-01-04")])
        >>> f = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> dwell = ss.time_in_stage(log, f, as_of="2024-01-11")
        >>> dwell
        TimeInStageResult(stages=2, cases=5, stays=8, censored=2)
        >>> lead = dwell.at("lead")
        >>> lead.n, lead.exits, lead.censored
        (5, 4, 1)
        >>> lead.median_days, lead.q25_days, lead.q75_days, round(lead.rmst_days, 2)
        (4.0, 2.0, 7.0, 3.9)
        >>> lead.naive_median_days
        3.0
        >>> dwell.median_days.tolist()
        [4.0, 5.0]
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    v.choice("entries", entries, ("first", "every"))
    v.choice("skips", skips, ("implied", "strict"))
    level = v.fraction("confidence_level", confidence_level)
    horizon_days = None if horizon is None else _common.days("horizon", horizon)
    grouping = _common.groups(log, by)
    # Implied passes are not stays and are not counted when numbering a case's stays, so the
    # stays are exactly the recorded (strict) episodes of open stages, whatever `skips` says;
    # the strict episodes are the cheaper to build (the implied ones are derived from them).
    ep = build_episodes(log, funnel, as_of=as_of, skips="strict", min_stay=min_stay)

    stages = tuple(s.name for s in funnel.open_stages)
    outcomes = tuple(s.name for s in funnel.stages if s.is_outcome)
    n_open, n_groups = len(stages), grouping.n
    n_rows = n_groups * n_open

    is_open = ep.stage < ep.n_open
    if entries == "first":
        is_open &= ep.entry == 0
    idx = np.flatnonzero(is_open)
    entry = ep.entry[idx].astype(np.int64)
    case = ep.case[idx]
    stage = ep.stage[idx]
    enter = ep.enter[idx]
    days = (ep.exit[idx] - enter) / NS_PER_DAY
    ended = ep.moved[idx]
    row = grouping.of_case[case].astype(np.int64) * n_open + stage

    # One sort by (row, days) gives the curves, each row's longest stay and the naive median.
    spells = _sort_spells(days, ended, row, n_rows, 2)
    km = _kaplan_meier(spells, n_rows)
    band = km.confidence_band(level)
    quantiles = {q: _quantile_estimate(km, q, band) for q in (0.25, 0.5, 0.75)}
    n = np.diff(spells.offsets)
    exits = np.asarray(km.n_events, dtype=np.int64)
    longest = np.full(n_rows, np.nan)
    longest[n > 0] = spells.time[spells.offsets[1:][n > 0] - 1]
    if horizon_days is None:
        row_horizon = longest
        rmst, rmst_se = _rmst_own_horizon(km, row_horizon)
    else:
        row_horizon = np.where(np.isnan(longest), np.nan, horizon_days)
        rm = km.restricted_mean(horizon_days)
        rmst, rmst_se = rm.value[:n_rows], rm.standard_error[:n_rows]
    ended_sorted = spells.code.view(bool)
    naive = _sorted_median(spells.time[ended_sorted], exits)

    labels = np.array([*grouping.labels, 0], dtype=object)[:-1]
    stays = DwellTable(
        case=log.case_names[case],
        stage=np.array(stages, dtype=object)[stage],
        entered=enter.view("datetime64[ns]"),
        days=days,
        censored=~ended,
        entry=entry,
        group=labels[grouping.of_case[case]],
        by=grouping.name,
    )
    return TimeInStageResult(
        stage=np.tile(np.array(stages, dtype=object), n_groups),
        group=np.repeat(objects(grouping.labels), n_open),
        n=n,
        exits=exits,
        censored=n - exits,
        median_days=quantiles[0.5].value[:n_rows],
        median_low_days=quantiles[0.5].low[:n_rows],
        median_high_days=quantiles[0.5].high[:n_rows],
        q25_days=quantiles[0.25].value[:n_rows],
        q25_low_days=quantiles[0.25].low[:n_rows],
        q25_high_days=quantiles[0.25].high[:n_rows],
        q75_days=quantiles[0.75].value[:n_rows],
        q75_low_days=quantiles[0.75].low[:n_rows],
        q75_high_days=quantiles[0.75].high[:n_rows],
        rmst_days=rmst,
        rmst_se_days=rmst_se,
        horizon_days=row_horizon,
        naive_median_days=naive,
        stages=stages,
        outcomes=outcomes,
        groups=grouping.labels,
        by=grouping.name,
        entries=entries,
        skips=skips,
        as_of=to_datetime(ep.as_of),
        confidence_level=level,
        horizon=horizon_days,
        n_cases=int(np.count_nonzero(np.bincount(case, minlength=log.n_cases))),
        stays=stays,
    )


def _rmst_own_horizon(
    km: stats.KaplanMeier, horizon: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Restricted mean of each row up to its own horizon (its longest stay).

    One `restricted_mean` call per row on that row's curve alone, so the work is linear in
    the total number of steps. A row whose stays all lasted 0 days has a mean of 0.
    """
    n_rows = horizon.size
    value = np.full(n_rows, np.nan)
    se = np.full(n_rows, np.nan)
    for r in np.flatnonzero(~np.isnan(horizon)).tolist():
        h = float(horizon[r])
        if h <= 0:
            value[r], se[r] = 0.0, 0.0
            continue
        sl = km.steps(r)
        one = stats.KaplanMeier(
            time=km.time[sl],
            survival=km.survival[sl],
            at_risk=km.at_risk[sl],
            events=km.events[sl],
            greenwood=km.greenwood[sl],
            group_offsets=np.array([0, sl.stop - sl.start], dtype=np.int64),
            n=km.n[r : r + 1],
            n_events=km.n_events[r : r + 1],
            n_censored=km.n_censored[r : r + 1],
        )
        rm = one.restricted_mean(h)
        value[r], se[r] = float(rm.value[0]), float(rm.standard_error[0])
    return value, se


# --------------------------------------------------------------------- cycle time


def cycle_time(
    log: EventLog,
    funnel: Funnel,
    *,
    outcome: str = "won",
    by: str | None = None,
    as_of: object = None,
    min_stay: float | dt.timedelta | None = None,
    confidence_level: float = 0.95,
) -> CycleTimeResult:
    """Estimate the days from a deal's first event to its close, counting open deals as censored.

    **The clock** starts at a case's first event of any activity (a stage or not) and stops
    at its first outcome (won or lost). A case without an outcome by `as_of` (default: the
    log's last event) is open: censored at `as_of`. Cases whose first event is after `as_of`
    are left out. Each row also counts the cases closed won, closed lost and still open.

    **outcome="any"**: the time to close, whatever the outcome, by Kaplan-Meier (open deals
    censored). ``share`` is the estimated share closed within the follow-up (``1 - S`` at
    the group's longest observed time); the median and quartiles are Kaplan-Meier quantiles
    with Brookmeyer-Crowley intervals for the median.

    **outcome="won"** (default), **"lost"** (any lost outcome) **or the name of an outcome
    stage**: the outcomes compete (a lost deal can no longer be won), so the chance of
    closing that way by ``t`` days is the Aalen-Johansen cumulative incidence ``CIF(t)``,
    with open deals censored and the other outcomes as competing events. Then:

    * ``share = CIF(t_max)``: the estimated share of deals that close that way within
      ``t_max`` days of their first event, ``t_max`` being the longest observed time
      (``follow_up_days``). It is not the share that will *ever* close that way.
    * the time distribution *given* that outcome is estimated as ``CIF(t) / CIF(t_max)``;
      the median is the first ``t`` with ``CIF(t) >= 0.5 * CIF(t_max)``, and the quartiles
      use 0.25 and 0.75. Limitation: deals that close that way only after ``t_max`` are not
      in the data, so when many deals are still open and closes keep coming late, these
      conditional times are biased short; a longer follow-up (later `as_of`) reduces this.
      They carry no interval (``median_low_days`` and ``median_high_days`` are NaN).

    Never is the time averaged over closed deals only: open deals are censored, not failures.

    Args:
        log: Events to analyse.
        funnel: The process: its open stages and its won and lost outcomes.
        outcome: ``"won"``, ``"lost"``, ``"any"``, or the name of an outcome stage.
        by: A case attribute to split the cases by, or None. A missing value is a group of
            its own, labelled None.
        as_of: The censoring time (ISO string, date, datetime); default the log's last event.
        min_stay: Stays shorter than this are data-entry corrections (seconds or a
            `datetime.timedelta`); see `salesstd.conversion`. None keeps every stay.
        confidence_level: Coverage of the intervals, in (0, 1).

    Returns:
        One row per group: counts, the share closing that way and the time to close.

    Raises:
        ParameterError: If an option has a bad value, `by` is not a case attribute, or
            `as_of` is before the log starts.
        UnknownStageError: If the funnel declares its activities and the log has another.

    Note:
        Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for
        non-homogeneous Markov chains based on censored observations. *Scandinavian
        Journal of Statistics* 5(3), 141-150. Putter, H., Fiocco, M. and Geskus, R. B.
        (2007). Tutorial in biostatistics: competing risks and multi-state models.
        *Statistics in Medicine* 26(11), 2389-2430, on why ``1 - KM`` with the competing
        outcome censored overstates the chance of an outcome. Kaplan and Meier (1958) and
        Brookmeyer and Crowley (1982) for ``"any"``.

    Examples:
        Five deals on 11 January: d1 won after 7 days, d2 lost after 5, d3 lost after 7,
        d4 (3 days old) and d5 (9 days old) still open:

        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-08"),
        ...      ("d2", "lead", "2024-01-01"), ("d2", "lost", "2024-01-06"),
        ...      ("d3", "lead", "2024-01-02"), ("d3", "lost", "2024-01-09"),
        ...      ("d4", "lead", "2024-01-08"), ("d5", "lead", "2024-01-02")])
        >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
        >>> ss.cycle_time(log, f, outcome="any", as_of="2024-01-11")
        CycleTimeResult(outcome='any', cases=5, share=0.75, median_days=7)
        >>> won = ss.cycle_time(log, f, as_of="2024-01-11").at()
        >>> won.closed_won, won.closed_lost, won.open, won.share, won.median_days
        (1, 2, 2, 0.25, 7.0)
        >>> ss.cycle_time(log, f, outcome="lost", as_of="2024-01-11").at().share
        0.5
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    level = v.fraction("confidence_level", confidence_level)
    names = ["any", "won", "lost", *(s.name for s in funnel.stages if s.is_outcome)]
    chosen = v.choice("outcome", outcome, list(dict.fromkeys(names)))
    grouping = _common.groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, min_stay=min_stay)
    n_open, n_groups = ep.n_open, grouping.n

    won_code = n_open
    lost_codes = [s.position for s in funnel.lost]
    if chosen == "any":
        target = [won_code, *lost_codes]
    elif chosen == "won":
        target = [won_code]
    elif chosen == "lost":
        target = lost_codes
    else:
        target = [funnel.stage(chosen).position]
    outcome_names = tuple(funnel.stage_names[c] for c in target)

    scope = np.flatnonzero(ep.in_scope)
    start = ep.first_time[scope]
    reached = ep.case_outcome()[scope]
    closed = reached >= 0
    end = np.where(closed, ep.case_close_time()[scope], ep.as_of)
    days = (end - start) / NS_PER_DAY
    group = grouping.of_case[scope].astype(np.int64)

    n = np.bincount(group, minlength=n_groups).astype(np.int64)
    won = np.bincount(group[reached == won_code], minlength=n_groups).astype(np.int64)
    lost = np.bincount(group[reached > won_code], minlength=n_groups).astype(np.int64)
    follow_up = _group_max(days, group, n_groups)
    nan = np.full(n_groups, np.nan)

    if chosen == "any":
        km = stats.kaplan_meier(days, closed, group, n_groups=n_groups)
        offsets = km.group_offsets
        band = km.confidence_band(level)
        ones = np.where(n > 0, 1.0, np.nan)
        share = 1.0 - at_last_step(km.survival, offsets, ones)
        share_low = 1.0 - at_last_step(band.high, offsets, nan)
        share_high = 1.0 - at_last_step(band.low, offsets, nan)
        mid = km.quantile(0.5, confidence_level=level)
        median, median_low, median_high = mid.value, mid.low, mid.high
        q25 = km.quantile(0.25, confidence_level=level).value
        q75 = km.quantile(0.75, confidence_level=level).value
    else:
        cause = np.where(np.isin(reached, target), 1, np.where(closed, 2, 0))
        cif = stats.cumulative_incidence(days, cause, group, n_groups=n_groups, n_causes=2)
        offsets = cif.group_offsets
        band = cif.confidence_band(level)
        incidence = np.ascontiguousarray(cif.incidence[:, 0])
        zeros = np.where(n > 0, 0.0, np.nan)
        share = at_last_step(incidence, offsets, zeros)
        share_low = at_last_step(np.ascontiguousarray(band.low[:, 0]), offsets, nan)
        share_high = at_last_step(np.ascontiguousarray(band.high[:, 0]), offsets, nan)
        median, median_low, median_high = nan.copy(), nan.copy(), nan.copy()
        q25, q75 = nan.copy(), nan.copy()
        with np.errstate(invalid="ignore"):
            for q, out in ((0.5, median), (0.25, q25), (0.75, q75)):
                first = first_reaching(incidence, q * share, offsets)
                out[first >= 0] = cif.time[first[first >= 0]]

    return CycleTimeResult(
        group=np.array([*grouping.labels, 0], dtype=object)[:-1],
        n=n,
        closed_won=won,
        closed_lost=lost,
        open=n - won - lost,
        share=share,
        share_low=share_low,
        share_high=share_high,
        median_days=median,
        median_low_days=median_low,
        median_high_days=median_high,
        q25_days=q25,
        q75_days=q75,
        follow_up_days=follow_up,
        outcome=chosen,
        outcomes=outcome_names,
        groups=grouping.labels,
        by=grouping.name,
        as_of=to_datetime(ep.as_of),
        confidence_level=level,
    )
