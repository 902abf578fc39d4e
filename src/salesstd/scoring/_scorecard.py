"""The code behind `salesstd.scoring`; the package docstring is the guide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import lazy
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.timestamps import to_datetime
from salesstd._engine import grouping as _common
from salesstd._engine.counts import stage_units
from salesstd._engine.episodes import (
    NS_PER_DAY,
    build_episodes,
    duration_ns,
    resolve_min_stay,
)
from salesstd.errors import ParameterError
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.scoring._kpis import (
    METRIC_FUNCS,
    NEEDS_MIN_SAMPLE,
    PROPORTIONS,
    RAMP_METRICS,
    Context,
    Estimate,
    Kpi,
    check_kpi,
    default_kpis,
    forget_keyed,
    population_target,
)
from salesstd.scoring._results import (
    EntityScore,
    KpiScore,
    RampCohort,
    RampResult,
    ScorecardResult,
)
from salesstd.standard import Standard

__all__ = [
    "EntityScore",
    "KpiScore",
    "RampCohort",
    "RampResult",
    "ScorecardResult",
    "ramp",
    "scorecard",
]

Shrinkage = Literal["empirical_bayes", "none"]


# --------------------------------------------------------------------- scoring


def _shrink(
    est: Estimate, n_periods: int, n_entities: int, level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Empirical-Bayes shrunk rates and posterior intervals, one beta prior per period."""
    assert est.successes is not None  # noqa: S101 - proportions always carry counts
    x = est.successes.reshape(n_periods, n_entities)
    t = est.n.astype(np.float64).reshape(n_periods, n_entities)
    value = np.full((n_periods, n_entities), np.nan)
    low = np.full_like(value, np.nan)
    high = np.full_like(value, np.nan)
    tail = (1.0 - level) / 2
    for p in range(n_periods):
        has = t[p] > 0
        if not has.any():
            continue
        shrunk, alpha, beta = stats.beta_binomial_shrinkage(x[p], t[p])
        a, b = float(alpha), float(beta)
        value[p] = np.where(has, shrunk, np.nan)
        if np.isfinite(a) and np.isfinite(b):
            lo = lazy.sps.beta.ppf(tail, x[p] + a, t[p] - x[p] + b)
            hi = lazy.sps.beta.ppf(1 - tail, x[p] + a, t[p] - x[p] + b)
        else:  # no spread beyond binomial noise: every entity is the population
            pooled_lo, pooled_hi = stats.proportion_interval(
                x[p].sum(), t[p].sum(), confidence_level=level
            )
            lo = np.full(n_entities, float(pooled_lo))
            hi = np.full(n_entities, float(pooled_hi))
        low[p] = np.where(has, lo, np.nan)
        high[p] = np.where(has, hi, np.nan)
    return value.reshape(-1), low.reshape(-1), high.reshape(-1)


def _attainment(
    value: NDArray[np.float64], target: NDArray[np.float64], sign: NDArray[np.float64], cap: float
) -> NDArray[np.float64]:
    """``value / target`` (higher is better) or ``target / value``, clipped to ``[0, cap]``.

    NaN where the value is NaN or the target is not positive; a lower-is-better value of 0
    (``target / 0``) is ``cap``.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf: clipped below
        ratio = np.where(sign > 0, value / target, target / value)
    ratio = np.where((target > 0) & ~np.isnan(value), ratio, np.nan)
    return np.asarray(np.clip(ratio, 0.0, cap), dtype=np.float64)


def _composite(
    attainment: NDArray[np.float64],
    weight: NDArray[np.float64],
    scored: NDArray[np.bool_],
    n_kpis: int,
) -> NDArray[np.float64]:
    """Per entity: the weighted mean of the attainments of its scored rows (NaN if none)."""
    att = attainment.reshape(-1, n_kpis)
    ok = scored.reshape(-1, n_kpis)
    w_ok = np.where(ok, np.broadcast_to(weight.reshape(-1, n_kpis), att.shape), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.where(ok, att, 0.0) * w_ok).sum(axis=1) / w_ok.sum(axis=1)
    return np.asarray(out, dtype=np.float64)


def _ranks(
    composite: NDArray[np.float64], established: NDArray[np.bool_], n_periods: int
) -> NDArray[np.int64]:
    """Rank 1 = best composite per period: established entities first, then the others."""
    blocks = composite.reshape(n_periods, -1)
    solid = established.reshape(n_periods, -1)
    out = np.empty(blocks.shape, dtype=np.int64)
    for p in range(n_periods):
        c = blocks[p]
        ranks = np.zeros(c.size, dtype=np.int64)
        taken = 0
        for tier in (np.isfinite(c) & solid[p], np.isfinite(c) & ~solid[p]):
            if tier.any():
                ranks[tier] = taken + lazy.sps.rankdata(-c[tier], method="min").astype(np.int64)
                taken += int(tier.sum())
        ranks[~np.isfinite(c)] = taken + 1
        out[p] = ranks
    return out.reshape(-1)


def _band(
    value: NDArray[np.float64], gap: NDArray[np.float64], tolerance: NDArray[np.float64]
) -> NDArray[np.object_]:
    out = np.empty(value.size, dtype=object)
    out[:] = "meets"
    out[gap > tolerance] = "exceeds"
    out[gap < -tolerance] = "below"
    out[np.isnan(value)] = None
    return out


def _period_codes(
    log: EventLog, as_of: int, period: str | None
) -> tuple[NDArray[np.int64], tuple[str | None, ...]]:
    """Per case: the code of the period of its first event (-1 if after `as_of`)."""
    first = log.time.view(np.int64)[log.offsets[:-1]]
    in_scope = first <= as_of
    if period is None:
        return np.where(in_scope, 0, -1).astype(np.int64), (None,)
    starts = _common.period_start(first, period)
    uniques, inverse = np.unique(starts[in_scope], return_inverse=True)
    codes = np.full(first.size, -1, dtype=np.int64)
    codes[in_scope] = inverse.reshape(-1)
    return codes, tuple(_common.period_label(int(s)) for s in uniques)


def _score_kpis(
    ctx: Context,
    kpis: Sequence[Kpi],
    keys: NDArray[np.int64],
    pcodes: NDArray[np.int64],
    shape: tuple[int, int],
    chosen: str,
    level: float,
    cols: dict[str, NDArray[np.float64]],
    count: NDArray[np.int64],
) -> None:
    """Fill `cols` and `count` with each KPI's values, intervals, targets and weights."""
    n_p, n_e = shape
    n_k = len(kpis)
    n_rows = n_p * n_e * n_k
    for j, kpi in enumerate(kpis):
        func = METRIC_FUNCS[kpi.metric]
        est = func(ctx, kpi, keys, n_p * n_e)
        rows = np.arange(j, n_rows, n_k)
        cols["raw"][rows] = est.value
        count[rows] = est.n
        if kpi.metric in PROPORTIONS and chosen == "empirical_bayes":
            val, lo, hi = _shrink(est, n_p, n_e, level)
        else:
            val, lo, hi = est.value, est.low, est.high
        cols["value"][rows] = np.where(est.n > 0, val, np.nan)
        cols["low"][rows], cols["high"][rows] = lo, hi
        if np.isnan(kpi.target):
            pop = population_target(func(ctx, kpi, pcodes, n_p), kpi)
            cols["target"][rows] = np.repeat(pop, n_e)
        else:
            cols["target"][rows] = kpi.target
        cols["weight"][rows] = kpi.weight
        cols["tol"][rows] = kpi.tolerance
        cols["sign"][rows] = 1.0 if kpi.direction == "higher" else -1.0


def scorecard(
    log: EventLog,
    standard: Standard,
    *,
    by: str | None = "rep",
    shrinkage: Shrinkage = "empirical_bayes",
    period: _common.Period | None = None,
    as_of: object = None,
    confidence_level: float = 0.9,
    value: str = "amount",
    min_sample: int = 10,
    attainment_cap: float = 1.5,
    dwell_floor: dt.timedelta | float = 60.0,
    min_stay: float | dt.timedelta | None = None,
) -> ScorecardResult:
    """Score each entity (rep, team, segment) on the KPIs of a standard.

    **Entities** are the values of the case attribute `by` (default ``"rep"``): a deal
    belongs to the entity that owns it; a missing value is an entity of its own, labelled
    None. With `period`, deals are split into cohorts by the period of their first event and
    every entity is scored in every period (rows of a period with no deals are NaN).

    **Each KPI's value** per entity (deals of the entity, events up to `as_of`, open deals
    censored as in the metrics):

    * ``win_rate``: won / (won + lost) among its deals; open deals are left out.
    * ``stage_conversion``: the step rate of the KPI's stage from `conversion` (first
      entries, implied skips): advanced / (advanced + lost).
    * ``compliance_rate``: share of its deals that break none of the standard's rules
      (`salesstd.check_conformance`: a deal fits when it has no violation).
    * ``cycle_time``: median days from first event to a win, from `cycle_time` (open deals
      censored, lost deals a competing outcome). Lower is usually better.
    * ``dwell``: Kaplan-Meier median days in the KPI's stage, from `time_in_stage`, judged
      on real stays only: a stay that ended in a move less than `dwell_floor` (default 60
      seconds) after it began is set aside. Such a stay records a rep clicking a deal
      through stages, not time the deal spent there; counted, a handful of them would make
      a median of seconds and an attainment in the hundreds of thousands. Each deal's first
      remaining stay is used and `n` counts them, so a rep who clicks through on most deals
      has a small dwell sample, which is then not scored (below).
    * ``activities_per_deal``: mean number of events of the KPI's activity per deal that
      stayed in the KPI's stage, counting events while the deal was in that stage.
    * ``deals_handled``: number of its deals with an event by `as_of`.
    * ``won_value``: total `value` of its won deals.
    * ``velocity``: sales velocity per day, from `velocity`.

    **Shrinkage.** With ``shrinkage="empirical_bayes"`` (default) the three proportions are
    replaced by the posterior mean of a beta-binomial model fitted to all entities of the
    period (`stats.beta_binomial_shrinkage`): ``(x + alpha) / (n + alpha + beta)``. An
    entity with few deals is pulled towards the population rate, one with many keeps close
    to its own; so 2 of 2 won does not outrank 60 of 80. The interval is then the
    posterior's equal-tailed interval ``Beta(x + alpha, n - x + beta)`` (the pooled Wilson
    interval when the entities do not differ beyond noise). With ``"none"`` the raw rate and
    its Wilson interval are used. Durations and counts are never shrunk: they are the
    entity's own Kaplan-Meier or plain estimates, and ``small_sample`` flags those resting on
    fewer than `min_sample` deals (for proportions: fewer than `min_sample` resolved
    trials). ``raw_value`` always holds the entity's own estimate.

    **Scoring** each (entity, KPI) row against the KPI's `target`:

    * ``gap = value - target`` if higher is better, ``target - value`` if lower is better:
      positive is better than target.
    * ``attainment = value / target`` (higher is better) or ``target / value`` (lower is
      better), clipped to ``[0, attainment_cap]`` (default ``[0, 1.5]``): 1.0 is on target,
      1.2 is 20% better, 1.5 is "50% better or more"; NaN when the value is NaN or the
      target is not positive. The bound is a clip rather than a smooth transform so that
      values up to the cap keep their plain reading; it is there because a ratio is
      unbounded above (a dwell of seconds against a target of days gives 100,000), and no
      single KPI may carry the composite: one KPI at the cap adds at most
      ``(cap - 1) * weight / total weight`` over being on target.
    * ``band``: ``"exceeds"`` if ``gap > tolerance``, ``"below"`` if ``gap < -tolerance``,
      else ``"meets"``; None when the value is NaN.
    * ``scored``: whether the row enters the composite. A row with a NaN attainment is not
      scored; nor is an estimate that is neither shrunk nor an exact total (``cycle_time``,
      ``dwell``, ``activities_per_deal``, ``velocity``) resting on fewer than `min_sample`
      observations: it is shown, flagged ``small_sample``, and the entity is ranked on its
      other KPIs. Proportions are shrunk instead (with ``shrinkage="none"`` they are scored
      as they are); ``deals_handled`` and ``won_value`` are counts and sums, not estimates.
    * ``composite`` per entity: the weighted mean (KPI weights) of the attainments of its
      scored rows, so it lies in ``[0, attainment_cap]``; NaN if no row is scored.
    * ``rank``: 1 is the highest composite in the period (ties share the best rank), with
      one rule so that tiny samples are not rewarded: entities with at least one scored KPI
      resting on ``n >= min_sample`` are ranked first; entities whose every scored KPI is a
      small sample come after them (in composite order), and entities without a composite
      last. Shrinkage already pulls a 2-of-2 record towards the population; this rule keeps
      it from topping a table of entities whose records are long.

    A standard **without KPIs** is scored on the funnel's own: ``win_rate``,
    ``conversion_<stage>`` for every open stage and ``cycle_time`` (lower is better), each
    with the population value (pooled rate; population median) of the period as target.

    Args:
        log: Events to analyse.
        standard: The standard: its funnel and KPIs (`salesstd.Standard`).
        by: Case attribute naming the entities; None scores all deals as one entity.
        shrinkage: ``"empirical_bayes"`` or ``"none"``.
        period: ``"day"``, ``"week"``, ``"month"``, ``"quarter"`` or ``"year"`` to score
            deal cohorts by the period of their first event, or None.
        as_of: The censoring time; default the log's last event.
        confidence_level: Coverage of the intervals, in (0, 1).
        value: Numeric case attribute with the deal value (for won_value and velocity).
        min_sample: Samples smaller than this are flagged ``small_sample`` (and, for
            estimates that are not shrunk, not scored).
        attainment_cap: Upper bound of every attainment, > 0.
        dwell_floor: Stays that ended in a move sooner than this (seconds, or a timedelta;
            0 judges every stay) are not judged by ``dwell`` KPIs. Unlike `min_stay`, this
            changes no other KPI: the deal still counts as having been in the stage.
        min_stay: Stays shorter than this are data-entry corrections (seconds or a
            `datetime.timedelta`), dropped before anything is computed; see
            `salesstd.conversion`. None (default) keeps every stay.

    Returns:
        One row per (period, entity, KPI), with composite and rank per entity.

    Raises:
        ParameterError: If `by` is not a case attribute, an option has a bad value, a KPI
            is malformed, or `as_of` is before the log starts.
        UnknownStageError: If a KPI names a stage the funnel lacks.

    Note:
        The beta-binomial moment estimator is Kleinman (1973), *JASA* 68(341), 46-54; the
        empirical-Bayes posterior mean is Efron and Morris (1975), *JASA* 70(350), 311-319.
        Ranking shrunk rather than raw rates is the remedy of Gelman and Price (1999), "All
        maps of parameter estimates are misleading", *Statistics in Medicine* 18, 3221-3234.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01", "ann"), ("d1", "won", "2024-01-05", "ann"),
        ...      ("d2", "lead", "2024-01-02", "ann"), ("d2", "lost", "2024-01-04", "ann"),
        ...      ("d3", "lead", "2024-01-02", "bob"), ("d3", "won", "2024-01-09", "bob")],
        ...     names=("case", "activity", "time", "rep"), case_attributes=["rep"])
        >>> funnel = ss.Funnel.linear(["lead", "won"], lost="lost")
        >>> std = ss.Standard(funnel)
        >>> card = ss.scorecard(log, std, shrinkage="none")
        >>> card.at("win_rate", "ann").value, card.at("win_rate", "bob").value
        (0.5, 1.0)
        >>> card.at("cycle_time", "bob").value, card.at("cycle_time", "bob").band
        (7.0, 'below')
        >>> card.ranking()
        ('bob', 'ann')
        >>> card.at("cycle_time", "bob").scored  # one won deal: below min_sample=10
        False
    """
    v.instance("log", log, EventLog)
    v.instance("standard", standard, Standard)
    funnel = standard.funnel
    chosen = v.choice("shrinkage", shrinkage, ("empirical_bayes", "none"))
    level = v.fraction("confidence_level", confidence_level)
    if period is not None:
        v.choice("period", period, _common.PERIODS)
    min_n = v.positive_int("min_sample", min_sample)
    cap = v.positive_number("attainment_cap", attainment_cap)
    floor = duration_ns("dwell_floor", dwell_floor)
    if not isinstance(value, str):
        raise ParameterError(f"value must name a case attribute; got {value!r}.", parameter="value")
    grouped = _common.groups(log, by)
    kpis = [check_kpi(k, funnel) for k in standard.kpis]
    default = not kpis
    if default:
        kpis = default_kpis(funnel)
    names = [k.name for k in kpis]
    dupes = sorted({x for x in names if names.count(x) > 1})
    if dupes:
        raise ParameterError(f"KPI names must differ; {v.listing(dupes)} appear twice.")
    min_ns = resolve_min_stay(min_stay)
    cutoff = build_episodes(log, funnel, as_of=as_of, skips="strict", min_stay=min_stay).as_of
    ctx = Context(
        log=log,
        funnel=funnel,
        as_of=cutoff,
        level=level,
        value=value,
        standard=standard,
        dwell_floor=floor,
        min_stay=min_ns,
    )
    pcodes, periods = _period_codes(log, cutoff, period)
    n_e, n_p, n_k = grouped.n, len(periods), len(kpis)
    keys = np.where(pcodes >= 0, pcodes * n_e + grouped.of_case, -1).astype(np.int64)
    n_rows = n_p * n_e * n_k

    cols = {
        k: np.full(n_rows, np.nan)
        for k in ("value", "raw", "target", "low", "high", "weight", "tol", "sign")
    }
    count = np.zeros(n_rows, dtype=np.int64)
    try:
        _score_kpis(ctx, kpis, keys, pcodes, (n_p, n_e), chosen, level, cols, count)
    finally:
        forget_keyed()  # the keyed log shares this log's arrays: do not keep them alive

    val, target, sign = cols["value"], cols["target"], cols["sign"]
    gap = sign * (val - target) + 0.0  # no -0.0
    attainment = _attainment(val, target, sign, cap)
    estimate = np.tile(np.array([k.metric in NEEDS_MIN_SAMPLE for k in kpis]), n_p * n_e)
    scored = np.isfinite(attainment) & ~(estimate & (count < min_n))
    composite = _composite(attainment, cols["weight"], scored, n_k)
    adequate = (count >= min_n) & scored
    solid = np.asarray(adequate.reshape(-1, n_k).any(axis=1), dtype=bool)
    rank = _ranks(composite, solid, n_p)

    def per_row(labels: Sequence[object], inner: int) -> NDArray[np.object_]:
        return np.repeat(objects(labels), inner)

    return ScorecardResult(
        period=per_row(periods, n_e * n_k),
        entity=np.tile(per_row(grouped.labels, n_k), n_p),
        kpi=np.tile(objects(names), n_p * n_e),
        metric=np.tile(objects([k.metric for k in kpis]), n_p * n_e),
        stage=np.tile(objects([k.stage for k in kpis]), n_p * n_e),
        value=val,
        raw_value=cols["raw"],
        target=target,
        gap=gap,
        attainment=attainment,
        scored=scored,
        band=_band(val, gap, cols["tol"]),
        low=cols["low"],
        high=cols["high"],
        n=count,
        small_sample=count < min_n,
        weight=cols["weight"],
        composite=np.repeat(composite, n_k),
        rank=np.repeat(rank, n_k),
        entities=grouped.labels,
        kpis=tuple(names),
        periods=periods,
        by=by if by is not None else "entity",
        period_unit=period,
        shrinkage=chosen,
        default_kpis=default,
        as_of=to_datetime(cutoff),
        confidence_level=level,
        attainment_cap=cap,
        min_sample=min_n,
        dwell_floor_seconds=floor / 1e9,
        value_attribute=value,
        standard=str(standard.name),
    )


# --------------------------------------------------------------------- ramp


def _ramp_kpi(standard: Standard, kpi: object, funnel: Funnel) -> Kpi:
    """The KPI `ramp` follows: a KPI of the standard by name, else a metric by name."""
    kpis = [check_kpi(k, funnel) for k in standard.kpis]
    v.text("kpi", kpi, what="KPI name or metric", known=[*(k.name for k in kpis), *RAMP_METRICS])
    for k in kpis:
        if k.name == kpi:
            chosen = k
            break
    else:
        by_metric = [k for k in kpis if k.metric == kpi]
        if by_metric:
            chosen = by_metric[0]
        elif kpi in ("win_rate", "cycle_time"):
            direction = "lower" if kpi == "cycle_time" else "higher"
            chosen = Kpi(name=str(kpi), metric=str(kpi), target=np.nan, direction=direction)
        else:
            known = [*(k.name for k in kpis), "win_rate", "cycle_time"]
            raise ParameterError(
                f"kpi={kpi!r} is neither a KPI of the standard nor a metric ramp can follow "
                f"({v.listing(known)}).{v.did_you_mean(kpi, known)}",
                parameter="kpi",
            )
    if chosen.metric not in RAMP_METRICS:
        raise ParameterError(
            f"kpi={kpi!r} measures {chosen.metric}; ramp follows per-deal KPIs "
            f"({v.listing(RAMP_METRICS)}).",
            parameter="kpi",
        )
    return chosen


def _ramp_units(
    log: EventLog, funnel: Funnel, kpi: Kpi, as_of: np.datetime64
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """The per-deal observations of a KPI: (case, time it became known, value)."""
    if kpi.metric == "stage_conversion":
        ep = build_episodes(log, funnel, as_of=as_of)
        u = stage_units(ep, "first")
        stage = funnel.stage_names.index(str(kpi.stage))
        pick = (u.stage == stage) & (u.advanced | u.lost)
        return (
            u.case[pick].astype(np.int64),
            u.resolved_at[pick],
            u.advanced[pick].astype(np.float64),
        )
    ep = build_episodes(log, funnel, as_of=as_of, skips="strict")
    outcome = ep.case_outcome()
    close = ep.case_close_time()
    if kpi.metric == "win_rate":
        case = np.flatnonzero(outcome >= ep.n_open)
        return case.astype(np.int64), close[case], (outcome[case] == ep.n_open).astype(float)
    case = np.flatnonzero(outcome == ep.n_open)
    days = (close[case] - ep.first_time[case]) / NS_PER_DAY
    return case.astype(np.int64), close[case], np.asarray(days, dtype=np.float64)


def ramp(
    log: EventLog,
    standard: Standard,
    *,
    by: str = "rep",
    kpi: str = "win_rate",
    window: int = 10,
    new_after: dt.timedelta | float = 30.0,
    period: _common.Period = "quarter",
    as_of: object = None,
    confidence_level: float = 0.95,
) -> RampResult:
    """How long new reps take to come up to the standard, by start cohort.

    **New reps.** A rep (a value of the case attribute `by`; deals with a missing value are
    left out) starts at the first event of their first deal. Only reps whose start is at
    least `new_after` (default 30 days) after the log's first event count as new: a rep
    active from the log's very start may have started long before it, so their ramp is
    unknown.

    **Rolling KPI.** Each deal of the rep gives one observation when it resolves:

    * ``win_rate``: 1 if won, 0 if lost, at its close (open deals give none yet);
    * ``stage_conversion`` (a KPI of the standard with a stage): 1 if the deal's first entry
      into the stage advanced, 0 if it was lost, when that happened;
    * ``cycle_time``: the days from its first event to its win, at its win.

    After each observation, the rolling value is the mean (rates) or median (cycle time) of
    the rep's last `window` observations; it is defined only once the rep has `window` of
    them. The rep *reaches* the standard at the first observation where the rolling value
    meets the target: at least ``target - tolerance`` when higher is better, at most
    ``target + tolerance`` when lower is better.

    **Time to standard** is the days from the rep's start to that moment; a rep who has not
    reached it by `as_of` is censored at ``as_of - start``. Reps are grouped into cohorts by
    the `period` of their start and each cohort's median time to standard is the
    Kaplan-Meier median with its Brookmeyer-Crowley interval (NaN if fewer than half of the
    cohort reached the standard during follow-up).

    **Target.** `kpi` names a KPI of the standard (its target, direction and tolerance are
    used) or a metric: the first KPI of the standard with that metric, else for
    ``"win_rate"`` and ``"cycle_time"`` the population value of the whole log (pooled win
    rate; median won cycle time) with zero tolerance.

    Args:
        log: Events to analyse.
        standard: The standard: funnel and KPIs (`salesstd.Standard`).
        by: Case attribute naming the reps.
        kpi: A KPI name of the standard, or ``"win_rate"`` / ``"cycle_time"``.
        window: Number of deals in the rolling window, >= 1.
        new_after: Days (or a timedelta) after the log's start from which a first deal
            makes a rep new.
        period: Cohort period: ``"day"``, ``"week"``, ``"month"``, ``"quarter"``, ``"year"``.
        as_of: The censoring time; default the log's last event.
        confidence_level: Coverage of the median intervals, in (0, 1).

    Returns:
        One row per start cohort, plus the new reps behind them (`RampResult.per_rep`).

    Raises:
        ParameterError: If `by` is not a case attribute, `kpi` is unknown or not per-deal,
            or an option has a bad value.

    Note:
        Kaplan, E. L. and Meier, P. (1958), *JASA* 53(282), 457-481; Brookmeyer, R. and
        Crowley, J. (1982), *Biometrics* 38(1), 29-41.

    Examples:
        >>> rows = [
        ...     ("d0", "lead", "2024-01-01", "old"), ("d0", "won", "2024-01-05", "old"),
        ...     ("d1", "lead", "2024-03-01", "new"), ("d1", "lost", "2024-03-03", "new"),
        ...     ("d2", "lead", "2024-03-02", "new"), ("d2", "won", "2024-03-11", "new"),
        ...     ("d3", "lead", "2024-03-05", "new"), ("d3", "won", "2024-03-21", "new")]
        >>> log = ss.EventLog.from_records(
        ...     rows, names=("case", "activity", "time", "rep"), case_attributes=["rep"])
        >>> std = ss.Standard(ss.Funnel.linear(["lead", "won"], lost="lost"))
        >>> r = ss.ramp(log, std, kpi="win_rate", window=2)
        >>> r.rep.tolist(), r.rep_days.tolist(), r.rep_reached.tolist(), r.target
        (['new'], [20.0], [True], 0.75)
    """
    v.instance("log", log, EventLog)
    v.instance("standard", standard, Standard)
    funnel = standard.funnel
    followed = _ramp_kpi(standard, kpi, funnel)
    size = v.positive_int("window", window)
    lead_in = _common.days("new_after", new_after, allow_zero=True)
    v.choice("period", period, _common.PERIODS)
    level = v.fraction("confidence_level", confidence_level)
    if by is None:
        raise ParameterError(
            "ramp needs by= a case attribute naming the reps; got None.", parameter="ramp"
        )
    grouped = _common.groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips="strict")
    cutoff = ep.as_of
    rep_of_case = grouped.of_case.astype(np.int64)
    known = np.array([lab is not None for lab in grouped.labels], dtype=bool)
    n_r = grouped.n

    target = followed.target
    if np.isnan(target):
        ctx = Context(
            log=log, funnel=funnel, as_of=cutoff, level=level, value="", standard=standard
        )
        everyone = np.where(ep.in_scope, 0, -1).astype(np.int64)
        est = METRIC_FUNCS[followed.metric](ctx, followed, everyone, 1)
        target = float(population_target(est, followed)[0])

    # Start of each rep: the first event of their first deal.
    big = np.iinfo(np.int64).max
    first = np.full(n_r, big, dtype=np.int64)
    scope = np.flatnonzero(ep.in_scope)
    np.minimum.at(first, rep_of_case[scope], ep.first_time[scope])
    log_start = int(log.time.view(np.int64).min())
    active = known & (first != big)
    new = active & (first >= log_start + round(lead_in * NS_PER_DAY))

    case, when, y = _ramp_units(log, funnel, followed, np.datetime64(cutoff, "ns"))
    rep = rep_of_case[case]
    order = np.lexsort((when, rep))
    rep, when, y = rep[order], when[order], y[order]
    reach = np.full(n_r, big, dtype=np.int64)
    if y.size >= size:
        windows = sliding_window_view(y, size)
        rolled = (
            windows.mean(axis=1) if followed.metric != "cycle_time" else np.median(windows, axis=1)
        )
        end = np.arange(size - 1, y.size)
        full = rep[end - size + 1] == rep[end]
        if followed.direction == "higher":
            meets = rolled >= target - followed.tolerance
        else:
            meets = rolled <= target + followed.tolerance
        hit = end[full & meets]
        np.minimum.at(reach, rep[hit], when[hit])

    chosen = np.flatnonzero(new)
    reached = reach[chosen] != big
    stop = np.where(reached, reach[chosen], cutoff)
    rep_days = (stop - first[chosen]) / NS_PER_DAY
    starts = _common.period_start(first[chosen], period)
    cohorts, cohort_code = np.unique(starts, return_inverse=True)
    cohort_code = cohort_code.reshape(-1)
    n_c = cohorts.size
    if n_c:
        km = stats.kaplan_meier(rep_days, reached, cohort_code, n_groups=n_c)
        med = km.quantile(0.5, confidence_level=level)
        median, low, high = med.value, med.low, med.high
    else:
        median = low = high = np.empty(0)
    labels = [_common.period_label(int(s)) for s in cohorts]
    return RampResult(
        cohort=objects(labels),
        reps=np.bincount(cohort_code, minlength=n_c).astype(np.int64),
        reached=np.bincount(cohort_code[reached], minlength=n_c).astype(np.int64),
        median_days=np.asarray(median, dtype=np.float64),
        median_low_days=np.asarray(low, dtype=np.float64),
        median_high_days=np.asarray(high, dtype=np.float64),
        rep=objects([grouped.labels[i] for i in chosen]),
        rep_cohort=objects([labels[c] for c in cohort_code]),
        rep_first_deal=first[chosen].view("datetime64[ns]"),
        rep_days=np.asarray(rep_days, dtype=np.float64),
        rep_reached=reached,
        excluded=tuple(grouped.labels[i] for i in np.flatnonzero(active & ~new)),
        by=by,
        kpi=followed.name,
        metric=followed.metric,
        stage=followed.stage,
        target=target,
        direction=followed.direction,
        window=size,
        new_after_days=lead_in,
        period_unit=str(period),
        as_of=to_datetime(cutoff),
        confidence_level=level,
    )
