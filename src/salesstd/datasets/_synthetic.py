"""A seeded generator of B2B pipelines with known ("planted") parameters.

The simulation is vectorised: it advances every open deal by one stage move per loop
iteration with numpy, so the Python loop runs over moves (about as many as the longest deal
has stage events), never over deals or events.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from salesstd.datasets._params import (
    DEFAULT_MIX,
    DEFAULT_STAGES,
    NS_PER_S,
    S_PER_DAY,
    DwellFamily,
    PerStage,
    PilotEffect,
    Spec,
    TimeLike,
    odds_scale,
    rep_multipliers,
)
from salesstd.datasets._pipeline import SyntheticPipeline
from salesstd.errors import ParameterError
from salesstd.log import EventLog

__all__ = ["synthetic_pipeline"]


def synthetic_pipeline(
    n_deals: int,
    *,
    seed: int,
    stages: Sequence[str] = DEFAULT_STAGES,
    won: str = "Won",
    lost: str = "Lost",
    advance: PerStage | None = None,
    skip: PerStage = 0.05,
    backward: PerStage = 0.05,
    dwell_mean: PerStage | None = None,
    dwell_shape: PerStage | None = None,
    dwell_family: DwellFamily = "gamma",
    n_teams: int = 4,
    reps_per_team: int = 5,
    rep_effect: float | Sequence[float] = 0.25,
    amount_median: float = 25_000.0,
    amount_sigma: float = 0.8,
    activity_rate: PerStage | None = None,
    activity_mix: Mapping[str, float] = DEFAULT_MIX,
    pilot: PilotEffect | None = None,
    start: TimeLike = "2024-01-01",
    as_of: TimeLike = "2025-01-01",
) -> SyntheticPipeline:
    """Simulate a B2B sales pipeline whose true parameters are known.

    The generative model, per deal (all deals independent given the reps' multipliers):

    1. **Creation.** The deal is created at a time uniform on ``[start, as_of)`` (whole
       seconds) with an ``<stages[0]>`` stage event at that time. It gets a rep drawn
       uniformly from ``n_teams * reps_per_team`` reps (case attributes ``rep``, ``team``),
       an amount ``round(exp(N(log(amount_median), amount_sigma)), 2)`` (``amount``) and,
       with a `pilot`, a group: ``"pilot"`` with probability ``pilot.share``, else
       ``"control"`` (``group``).
    2. **Dwell.** On entering a stage (first time or again) the deal stays there for a
       duration drawn afresh from that stage's dwell distribution (family `dwell_family`,
       mean `dwell_mean` days, shape `dwell_shape`; times `pilot.dwell_factor` for a pilot
       deal in the pilot stage), rounded to whole seconds, at least 1 second. The dwell does
       not depend on where the deal goes next, on the rep or on the amount.
    3. **Censoring.** If entry + dwell is at or after `as_of`, the deal is still open there:
       no further stage event. Every event of the log is before `as_of`.
    4. **Move.** Otherwise, at entry + dwell, the deal leaving stage ``s`` moves:
       backwards to the previous stage with probability ``backward[s]``; else forward with
       probability ``q = advance_probability(s, rep, group)`` (``advance[s]`` with its odds
       ``p / (1 - p)`` multiplied by the rep's multiplier and, for a pilot deal in the pilot
       stage, by ``pilot.advance_odds_ratio``); else to `lost`. Forward from the last stage
       is `won`; from any other stage it is the next stage, or with probability
       ``skip[s]`` the one after it (one stage skipped; only where that is an open stage).
       So the advance probability of a stage is P(forward | the deal leaves it, not
       backwards): a skip counts as advancing, lost as not; backward moves are outside it.
       Each move is one stage event at the moment of leaving; the deal then enters the new
       stage (step 2) or, at won or lost, stops: no event follows a close.
    5. **Activities.** During each stay in a stage, from entry until the next stage event
       (or `as_of` if still open there), non-stage activities occur as a Poisson process
       of rate ``activity_rate[s]`` per day: their count is Poisson(rate x days in stage),
       their times uniform (whole seconds) in ``[entry, exit)``, each named by an
       independent draw from `activity_mix`. An activity at the same second as the stage
       entry comes after it in the log.

    Rep multipliers: a float `rep_effect` is the standard deviation ``sigma`` of
    ``log(multiplier)``; the multipliers are ``exp(z - mean(z))`` with ``z`` drawn
    ``N(0, sigma)`` per rep, so their geometric mean is 1 (0 makes all reps equal). A
    sequence gives the multipliers directly, one per rep. Reps are ``rep-01``, ...,
    teams ``team-1``, ...; rep ``i`` is in team ``i // reps_per_team + 1``.

    Per-stage parameters (`advance`, `skip`, `backward`, `dwell_mean`, `dwell_shape`,
    `activity_rate`) take one number for every stage or a mapping from stage name to value
    for some stages (the others keep their defaults). Defaults for the default stages:
    advance Lead 0.55, Qualified 0.7, Discovery 0.75, Proposal 0.6, Negotiation 0.7;
    dwell mean 5, 10, 14, 21, 14 days; activity rate 0.3, 0.25, 0.3, 0.2, 0.35 per day.
    For other stage names: advance 0.7, dwell mean 14, activity rate 0.25 each. A float
    `skip` applies to every stage that has two stages after it (0 elsewhere); a float
    `backward` to every stage but the first (0 there).

    The random draws use ``numpy.random.default_rng(seed)`` in a fixed order, so one seed
    and one set of arguments give the same log on every run (numpy keeps a `Generator`'s
    streams the same across platforms; a new numpy version may change them). The stage
    events are drawn before any activity, so `activity_rate` and `activity_mix` change the
    activities only, never the stage events.

    Args:
        n_deals: Number of deals (cases), >= 1.
        seed: Seed of the random generator.
        stages: Open stages in process order, at least one; names must differ from each
            other, from `won`, `lost` and the activity names.
        won: Name of the won outcome (a stage event).
        lost: Name of the lost outcome (a stage event).
        advance: Advance probability per stage, in [0, 1] (see step 4).
        skip: Probability, in [0, 1], that a forward move skips one stage.
        backward: Probability, in [0, 1), that leaving a stage moves back one stage.
        dwell_mean: Mean dwell per stage, days, > 0.
        dwell_shape: Gamma shape (coefficient of variation ``1 / sqrt(shape)``), or the
            lognormal sigma of ``log(days)``, > 0. Default 2 for gamma, 0.75 for lognormal.
        dwell_family: ``"gamma"`` or ``"lognormal"``; see `DwellDistribution`.
        n_teams: Number of teams, >= 1.
        reps_per_team: Reps in each team, >= 1.
        rep_effect: Spread of the reps' odds multipliers, or the multipliers themselves.
        amount_median: Median deal amount, > 0.
        amount_sigma: Standard deviation of ``log(amount)``, >= 0.
        activity_rate: Non-stage activities per day in each stage, >= 0.
        activity_mix: Activity name to its share (normalised to sum to 1); empty for no
            activities.
        pilot: A pilot group and its effect, or None for no ``group`` attribute.
        start: Start of the creation period (ISO string, date, datetime; naive is UTC).
        as_of: End of the log, after `start`: the censoring time.

    Returns:
        The log and the true parameters.

    Raises:
        ParameterError: If an argument is out of range or of the wrong type, or past a
            limit that keeps the simulation in memory: 10,000,000 deals, 100,000 reps,
            1,998 stages, a dwell mean of 36,525 days, 100 activities per day; or if the
            simulation runs out of memory.
        UnknownStageError: If a per-stage mapping or the pilot names an unknown stage.

    Examples:
        >>> sim = ss.datasets.synthetic_pipeline(50, seed=1)
        >>> sim.log.n_cases, sim.log.cases[:2]
        (50, ('D001', 'D002'))
        >>> sim.log.events("D001")[0][0], sorted(sim.log.case_attributes)
        ('Lead', ['amount', 'rep', 'team'])
        >>> ss.datasets.synthetic_pipeline(50, seed=1).log == sim.log
        True
    """
    spec = Spec.build(
        n_deals=n_deals,
        seed=seed,
        stages=stages,
        won=won,
        lost=lost,
        advance=advance,
        skip=skip,
        backward=backward,
        dwell_mean=dwell_mean,
        dwell_shape=dwell_shape,
        dwell_family=dwell_family,
        n_teams=n_teams,
        reps_per_team=reps_per_team,
        amount_median=amount_median,
        amount_sigma=amount_sigma,
        activity_rate=activity_rate,
        activity_mix=activity_mix,
        pilot=pilot,
        start=start,
        as_of=as_of,
    )
    rng = np.random.default_rng(seed)
    multipliers = rep_multipliers(rep_effect, spec.n_reps, rng)
    try:
        log = _simulate(spec, multipliers, rng)
    except MemoryError as err:
        raise ParameterError(
            f"there is not enough memory to simulate {spec.n_deals:,} deals with these "
            "activity rates and dwell times; pass a smaller n_deals (or activity_rate).",
            parameter="n_deals",
        ) from err
    return SyntheticPipeline(
        log=log,
        stages=spec.stages,
        won=won,
        lost=lost,
        advance=dict(zip(spec.stages, spec.advance.tolist(), strict=True)),
        skip=dict(zip(spec.stages, spec.skip.tolist(), strict=True)),
        backward=dict(zip(spec.stages, spec.backward.tolist(), strict=True)),
        dwell=dict(zip(spec.stages, spec.dwell, strict=True)),
        activity_rate=dict(zip(spec.stages, spec.activity_rate.tolist(), strict=True)),
        activity_mix=dict(zip(spec.mix_names, spec.mix_p.tolist(), strict=True)),
        reps=spec.reps,
        rep_team=spec.rep_team,
        rep_multiplier=multipliers,
        amount_median=spec.amount_median,
        amount_sigma=spec.amount_sigma,
        pilot=pilot,
        start=_as_datetime(spec.start_s),
        as_of=_as_datetime(spec.end_s),
        n_deals=spec.n_deals,
        seed=int(seed),
    )


def _as_datetime(seconds: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)


# --------------------------------------------------------------------------- simulation


def _draw_dwell_days(
    spec: Spec, stage: NDArray[np.intp], rng: np.random.Generator
) -> NDArray[np.float64]:
    shape = np.array([d.shape for d in spec.dwell])[stage]
    scale = np.array([d.scale for d in spec.dwell])[stage]
    if spec.dwell[0].family == "gamma":
        days: NDArray[np.float64] = rng.gamma(shape, scale)
    else:
        days = rng.lognormal(np.log(scale), shape)
    return days


def _simulate(spec: Spec, multipliers: NDArray[np.float64], rng: np.random.Generator) -> EventLog:
    n, s = spec.n_deals, len(spec.stages)
    won_code, lost_code = s, s + 1

    # Per-deal draws, in a fixed order.
    created = spec.start_s + rng.integers(0, spec.end_s - spec.start_s, size=n)
    rep = rng.integers(0, spec.n_reps, size=n)
    amount = np.round(rng.lognormal(math.log(spec.amount_median), spec.amount_sigma, size=n), 2)
    in_pilot = (
        rng.random(n) < spec.pilot.share if spec.pilot is not None else np.zeros(n, dtype=bool)
    )

    # True advance probability per (rep, group, stage).
    ratio = np.broadcast_to(multipliers[:, None, None], (spec.n_reps, 2, s)).copy()
    if spec.pilot is not None:
        ratio[:, 1, spec.pilot_stage] *= spec.pilot.advance_odds_ratio
    p_adv = odds_scale(np.broadcast_to(spec.advance, ratio.shape), ratio)
    dwell_factor = np.ones((2, s))
    if spec.pilot is not None:
        dwell_factor[1, spec.pilot_stage] = spec.pilot.dwell_factor
    group = in_pilot.astype(np.intp)

    ev_case: list[NDArray[np.int64]] = [np.arange(n)]
    ev_code: list[NDArray[np.int64]] = [np.zeros(n, dtype=np.int64)]
    ev_time: list[NDArray[np.int64]] = [created]
    stay_stage: list[NDArray[np.int64]] = []
    stay_start: list[NDArray[np.int64]] = []
    stay_end: list[NDArray[np.int64]] = []

    active = np.arange(n)
    stage = np.zeros(n, dtype=np.int64)
    now = created.copy()
    while active.size:
        cur = stage[active]
        g = group[active]
        days = _draw_dwell_days(spec, cur, rng) * dwell_factor[g, cur]
        secs = np.maximum(1, np.rint(days * S_PER_DAY)).astype(np.int64)
        entered = now[active]
        leave = entered + secs
        open_ = leave >= spec.end_s
        stay_stage.append(cur)
        stay_start.append(entered)
        stay_end.append(np.where(open_, spec.end_s, leave))

        moving = ~open_
        idx, cur, g, leave = active[moving], cur[moving], g[moving], leave[moving]
        u = rng.random((3, idx.size))
        back = u[0] < spec.backward[cur]
        forward = ~back & (u[1] < p_adv[rep[idx], g, cur])
        jump = u[2] < spec.skip[cur]
        nxt = np.where(forward, cur + 1 + jump, lost_code)
        nxt = np.where(forward & (cur == s - 1), won_code, nxt)
        nxt = np.where(back, cur - 1, nxt)

        ev_case.append(idx)
        ev_code.append(nxt)
        ev_time.append(leave)
        stage[idx] = nxt
        now[idx] = leave
        active = idx[nxt < s]

    # Every stage event heads a block: itself, then the activities of the stay it starts
    # (none after won or lost). Events were recorded move by move, each move's events in
    # rising case order, so a stable sort by case puts the blocks of each case in time order.
    case = np.concatenate(ev_case)
    code = np.concatenate(ev_code)
    time = np.concatenate(ev_time)
    starts_stay = code < s  # aligned, in order, with the stays recorded above
    stay_len = np.zeros(case.size, dtype=np.int64)
    stay_len[starts_stay] = np.concatenate(stay_end) - np.concatenate(stay_start)
    n_acts = np.zeros(case.size, dtype=np.int64)
    if spec.mix_p.size:
        st_stage = np.concatenate(stay_stage)
        expected = spec.activity_rate[st_stage] * stay_len[starts_stay] / S_PER_DAY
        n_acts[starts_stay] = rng.poisson(expected)
    order = np.argsort(case, kind="stable")
    case, code, time = case[order], code[order], time[order]
    stay_len, n_acts = stay_len[order], n_acts[order]
    size = 1 + n_acts
    head = np.cumsum(size) - size
    total = int(size.sum())
    out_code = np.empty(total, dtype=np.int64)
    out_time = np.empty(total, dtype=np.int64)
    out_code[head] = code
    out_time[head] = time
    if total > case.size:
        busy = n_acts > 0
        body = np.ones(total, dtype=bool)
        body[head] = False
        out_time[body] = _sorted_times(n_acts[busy], time[busy], stay_len[busy], rng)
        out_code[body] = s + 2 + rng.choice(spec.mix_p.size, size=total - case.size, p=spec.mix_p)
    out_case = np.repeat(case, size)
    return _assemble(spec, out_case, out_code, out_time, rep, amount, in_pilot)


def _sorted_times(
    count: NDArray[np.int64],
    start: NDArray[np.int64],
    length: NDArray[np.int64],
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """For each stay, `count` uniform whole-second times in ``[start, start + length)``, sorted.

    Sorted uniforms without a sort: for ``k`` points, the partial sums of ``k + 1``
    exponential spacings divided by their total are distributed as the order statistics of
    ``k`` uniforms on (0, 1).
    """
    reps = count + 1
    spacing = rng.standard_exponential(int(reps.sum()))
    run = np.cumsum(spacing)
    last = np.cumsum(reps) - 1
    first = last - count
    before = run[first] - spacing[first]
    seg = np.repeat(np.arange(count.size), reps)
    keep = np.ones(run.size, dtype=bool)
    keep[last] = False
    seg = seg[keep]
    frac = (run[keep] - before[seg]) / (run[last] - before)[seg]
    offset = np.floor(frac * length[seg]).astype(np.int64)
    out: NDArray[np.int64] = start[seg] + np.minimum(offset, length[seg] - 1)
    return out


def _assemble(
    spec: Spec,
    case: NDArray[np.int64],
    code: NDArray[np.int64],
    time_s: NDArray[np.int64],
    rep: NDArray[np.int64],
    amount: NDArray[np.float64],
    in_pilot: NDArray[np.bool_],
) -> EventLog:
    """Build the log directly from sorted arrays (no re-sort, no string factorising)."""
    n = spec.n_deals
    names = [*spec.stages, spec.won, spec.lost, *spec.mix_names]
    order = np.argsort(np.array(names, dtype=object), kind="stable")
    present = np.bincount(code, minlength=len(names)) > 0
    # Keep only activities that occur, recoded in sorted-name order.
    kept = [i for i in order.tolist() if present[i]]
    remap = np.full(len(names), -1, dtype=np.int32)
    remap[kept] = np.arange(len(kept), dtype=np.int32)
    activity_names = np.empty(len(kept), dtype=object)
    activity_names[:] = [names[i] for i in kept]

    width = len(str(n))
    ids = np.char.add("D", np.char.zfill(np.arange(1, n + 1).astype(str), max(3, width)))
    counts = np.bincount(case, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    case_attributes: dict[str, NDArray[Any]] = {
        "rep": np.array(spec.reps, dtype=object)[rep],
        "team": np.array(spec.rep_team, dtype=object)[rep],
        "amount": amount,
    }
    if spec.pilot is not None:
        case_attributes["group"] = np.where(in_pilot, "pilot", "control").astype(object)
    return EventLog(
        case=case.astype(np.int32),
        activity=remap[code],
        time=(time_s * NS_PER_S).view("datetime64[ns]"),
        case_names=ids.astype(object),
        activity_names=activity_names,
        offsets=offsets,
        case_attributes=case_attributes,
    )
