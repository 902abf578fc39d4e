"""The code behind `salesstd.forecast`; the package docstring is the guide."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.timestamps import stamp
from salesstd._engine.chain import solve_chain, zero_moves
from salesstd._engine.episodes import NS_PER_DAY, build_episodes, resolve_as_of
from salesstd._engine.grouping import days
from salesstd.errors import ParameterError
from salesstd.forecast._drift import ExitDrift, exit_overdispersion, tilt_exits
from salesstd.forecast._results import (
    BacktestResult,
    BacktestRow,
    ForecastResult,
    Model,
    StageForecast,
    Uncertainty,
)
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.markov import MarkovFunnel

MAX_SIMULATIONS = 10_000_000
"""The most simulations `forecast` and `backtest_forecast` run (their `n`)."""

__all__ = [
    "BacktestResult",
    "BacktestRow",
    "ForecastResult",
    "StageForecast",
    "backtest_forecast",
    "forecast",
]

_UNCERTAINTIES: tuple[Uncertainty, ...] = ("parameters", "process", "drift")
_MODELS: tuple[Model, ...] = ("renewal", "markov")

#: Deal x simulation cells simulated at once (memory stays in the tens of MB).
_CELLS = 1_000_000
#: Parameter draws (Bayesian-bootstrap refits) shared out over the simulations.
_PARAMETER_SETS = 100
#: The same with ``uncertainty="drift"``: its draws of the drift have a long tail (few
#: periods, few degrees of freedom), so the ends of the interval need more of them to be
#: stable to a few wins from seed to seed (on BPIC 2012: 100 draws move the 5% end by up
#: to 30 wins between seeds, 400 by about 10).
_DRIFT_PARAMETER_SETS = 400
#: Jump steps after which a simulated deal still moving is stopped (as not won).
_MAX_JUMPS = 10_000


# --------------------------------------------------------------------------- the model


@attrs.frozen
class _Stays:
    """The stays in open stages the model is fitted on (``skips="strict"``), one row each.

    `time` and `offsets` hold the distinct stay lengths that ended in a move, per open
    stage (the steps of its Kaplan-Meier curve); `step` is the step of each stay that moved
    (-1 if censored), `last` the last step at or before each stay's length (-1 if none);
    `exit` is when each stay ended (ns; `as_of` for a stay still open).
    """

    n_open: int
    n_stages: int
    stage: NDArray[np.intp]
    moved: NDArray[np.bool_]
    next_stage: NDArray[np.intp]
    case: NDArray[np.intp]
    exit: NDArray[np.int64]
    time: NDArray[np.float64]
    offsets: NDArray[np.int64]
    step: NDArray[np.intp]
    last: NDArray[np.intp]


@attrs.frozen
class _Chain:
    """One fitted model: what the simulation needs (see `_fit`)."""

    n_open: int
    probabilities: NDArray[np.float64]  # (S, S); NaN row: an open stage never left
    time: NDArray[np.float64]  # Kaplan-Meier steps, concatenated per open stage
    survival: NDArray[np.float64]
    offsets: NDArray[np.int64]  # (n_open + 1,)
    step_next: NDArray[np.float64]  # (steps, S): cumulative share of each next stage per step


def _stays(log: EventLog, funnel: Funnel, as_of_ns: int, history_ns: int | None) -> _Stays:
    """The stays of the log up to `as_of_ns` (entered within `history_ns` of it, if given)."""
    ep = build_episodes(log, funnel, as_of=stamp(as_of_ns), skips="strict")
    keep = ep.stage < ep.n_open
    if history_ns is not None:
        keep &= ep.enter >= as_of_ns - history_ns
    stage = ep.stage[keep].astype(np.intp)
    duration = ep.duration_days()[keep]
    moved = ep.moved[keep]
    times, offsets = [], [0]
    step = np.full(stage.size, -1, dtype=np.intp)
    last = np.full(stage.size, -1, dtype=np.intp)
    for g in range(ep.n_open):
        mine = stage == g
        tau = np.unique(duration[mine & moved])
        lo = offsets[-1]
        hit = mine & moved
        step[hit] = lo + np.searchsorted(tau, duration[hit])
        k = np.searchsorted(tau, duration[mine], side="right") - 1
        last[mine] = np.where(k >= 0, lo + k, -1)
        times.append(tau)
        offsets.append(lo + tau.size)
    return _Stays(
        n_open=ep.n_open,
        n_stages=ep.n_stages,
        stage=stage,
        moved=moved,
        next_stage=ep.next_stage[keep].astype(np.intp),
        case=ep.case[keep].astype(np.intp),
        exit=ep.exit[keep],
        time=np.concatenate([np.empty(0), *times]),
        offsets=np.asarray(offsets, dtype=np.int64),
        step=step,
        last=last,
    )


def _fit(stays: _Stays, weight: NDArray[np.float64] | None = None) -> _Chain:
    """Fit the model on the stays, each with a weight (1 by default).

    The transition probabilities are the (weighted) shares of the moves out of each open
    stage; the stay curve of each open stage is the Kaplan-Meier estimate
    ``S(t) = prod_{t_k <= t} (1 - d_k / n_k)`` with weighted events ``d_k`` and weighted
    numbers at risk ``n_k``; each step also records where the stays ending on it moved.
    """
    w = np.ones(stays.stage.size) if weight is None else weight
    n_open, n_stages, n_steps = stays.n_open, stays.n_stages, stays.time.size
    m = stays.moved
    counts = zero_moves(n_open, n_stages)
    np.add.at(counts, (stays.stage[m], stays.next_stage[m]), w[m])
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        probabilities = np.where(totals > 0, counts / totals, np.nan)
    probabilities[n_open:] = np.eye(n_stages)[n_open:]
    events = np.bincount(stays.step[m], weights=w[m], minlength=n_steps)
    ends = stays.last >= 0
    ending = np.bincount(stays.last[ends], weights=w[ends], minlength=n_steps)
    survival = np.empty(n_steps)
    for g in range(n_open):
        lo, hi = int(stays.offsets[g]), int(stays.offsets[g + 1])
        at_risk = np.cumsum(ending[lo:hi][::-1])[::-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            survival[lo:hi] = np.cumprod(1.0 - events[lo:hi] / at_risk)
    per_step = np.zeros((n_steps, n_stages))
    np.add.at(per_step, (stays.step[m], stays.next_stage[m]), w[m])
    with np.errstate(invalid="ignore", divide="ignore"):
        step_next = np.cumsum(per_step / per_step.sum(axis=1, keepdims=True), axis=1)
    return _Chain(
        n_open=n_open,
        probabilities=probabilities,
        time=stays.time,
        survival=np.clip(survival, 0.0, 1.0),
        offsets=stays.offsets,
        step_next=step_next,
    )


def _draw_stay(
    chain: _Chain,
    stage: NDArray[np.intp],
    age: NDArray[np.float64] | None,
    u: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Remaining stay (days) in `stage` of deals `age` days there, and the curve step it ends on.

    Inverse CDF of the Kaplan-Meier stay conditional on ``T > age`` (``T >= 0`` for a fresh
    stay, ``age=None``): the first step time at which ``S(t) <= u x S(age)``. When the curve
    never falls that low (its last stays were still open, or the deal is already older than
    every recorded stay), the stay is infinite (no move) and its step -1.
    """
    out = np.full(stage.size, np.inf)
    where = np.full(stage.size, -1, dtype=np.intp)
    for g in range(chain.n_open):
        lo, hi = int(chain.offsets[g]), int(chain.offsets[g + 1])
        mask = stage == g
        if lo == hi or not mask.any():
            continue
        times, surv = chain.time[lo:hi], chain.survival[lo:hi]
        if age is None:
            a = np.zeros(int(mask.sum()))
            s_age = np.ones(a.size)
        else:
            a = age[mask]
            k = np.searchsorted(times, a, side="right") - 1
            s_age = np.where(k >= 0, surv[np.maximum(k, 0)], 1.0)
        j = np.searchsorted(-surv, -(u[mask] * s_age), side="left")
        found = (j < times.size) & (s_age > 0)
        t = np.full(a.size, np.inf)
        t[found] = times[j[found]] - a[found]
        step = np.full(a.size, -1, dtype=np.intp)
        step[found] = lo + j[found]
        out[mask] = t
        where[mask] = step
    return out, where


def _jump(rows: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.intp]:
    """Next stage by cumulative rows (one per deal); -1 where a row is empty or NaN."""
    nxt = (u[:, None] >= rows).sum(axis=1)
    empty = ~(rows[:, -1] > 0)
    nxt = np.minimum(nxt, rows.shape[1] - 1)
    return np.where(empty, -1, nxt).astype(np.intp)


def _simulate(
    chains: list[_Chain],
    start: tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]],
    *,
    horizon: float,
    n: int,
    model: Model,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Simulate `n` futures of the open deals; per-simulation wins and value, per-deal wins.

    `start` holds each open deal's stage, age in it (days) and value. The simulations are
    split evenly over `chains` (one model each: several for parameter uncertainty).
    """
    stage0, age0, values = start
    d = stage0.size
    totals = np.zeros(n, dtype=np.int64)
    value_totals = np.zeros(n, dtype=np.float64)
    per_deal = np.zeros(d, dtype=np.int64)
    if d == 0:
        return totals, value_totals, per_deal
    batch = max(1, _CELLS // d)
    for chain, sims in zip(chains, np.array_split(np.arange(n), len(chains)), strict=True):
        rows = np.cumsum(np.nan_to_num(chain.probabilities, nan=0.0), axis=1)
        for first in range(0, sims.size, batch):
            part = sims[first : first + batch]
            b = part.size
            stage = np.tile(stage0, b)
            elapsed, step = _draw_stay(chain, stage, np.tile(age0, b), rng.random(b * d))
            won = np.zeros(b * d, dtype=bool)
            active = np.flatnonzero(elapsed <= horizon)
            for _ in range(_MAX_JUMPS):
                if not active.size:
                    break
                u = rng.random(active.size)
                table = chain.step_next[step[active]] if model == "renewal" else rows[stage[active]]
                nxt = _jump(table, u)
                stage[active] = np.maximum(nxt, 0)
                won[active[nxt == chain.n_open]] = True
                active = active[(nxt >= 0) & (nxt < chain.n_open)]
                stay, step[active] = _draw_stay(chain, stage[active], None, rng.random(active.size))
                elapsed[active] += stay
                active = active[elapsed[active] <= horizon]
            grid = won.reshape(b, d)
            totals[part] = grid.sum(axis=1)
            per_deal += grid.sum(axis=0)
            value_totals[part] = grid @ values
    return totals, value_totals, per_deal


# --------------------------------------------------------------------------- public functions


def forecast(
    log: EventLog,
    funnel: Funnel,
    *,
    horizon: object,
    as_of: object = None,
    value: str | None = None,
    n: int = 10_000,
    seed: int | None = None,
    confidence_level: float = 0.9,
    model: Model = "renewal",
    uncertainty: Uncertainty = "drift",
    history: object = None,
) -> ForecastResult:
    """Forecast how many open deals are won, and for how much, within `horizon` of `as_of`.

    The *open pipeline* is the deals in an open stage at `as_of` (recorded stages only,
    ``skips="strict"``; not yet won or lost). The *expected wins* are the expected number
    of them whose first outcome is won and falls in ``(as_of, as_of + horizon]``; the
    *expected won value* sums the `value` attribute of those deals (a deal without a value
    counts as 0). Deals created after `as_of` are not part of the forecast. The interval is
    the central `confidence_level` range of the simulated totals.

    The model is fitted on the stays in open stages up to `as_of` (events after it are
    never read), as `salesstd.markov.MarkovFunnel.from_log` fits them: a Kaplan-Meier curve
    of the stay in each open stage (stays still open at `as_of` censored there) and the
    moves out of each stage. Each open deal is simulated from its current stage,
    conditioned on the time it has already spent there: its remaining stay is drawn from
    the curve conditional on ``T > age`` (inverse CDF on the step function), later stays
    afresh, and moves follow until the deal is won, lost, or the horizon passes. Where the
    curve keeps mass beyond its last step (the longest stays were still open, or the deal
    is already older than every recorded stay in its stage), that mass means "does not
    move": the deal is not won within any horizon in that draw.

    Where a deal goes when it leaves a stage depends on `model`:

    * ``"renewal"`` (default): on how long it stayed. The stay and the next stage are drawn
      together from the stays of the data: the next stage is that of the stays that ended
      at the drawn length (a nonparametric Markov renewal process, the Aalen-Johansen view
      of a stay with competing exits). A deal that has sat in a stage far longer than the
      deals that advanced is then more likely to end as the long stays ended (in real
      funnels, often lost).
    * ``"markov"``: not at all. The next stage follows the stage's transition
      probabilities (the shares of its observed moves), independent of the stay: the
      semi-Markov model of `MarkovFunnel`. It over-forecasts where fast stays advance and
      slow ones are lost.

    With ``uncertainty="parameters"`` the model is refitted on 100 Bayesian-
    bootstrap reweightings of the cases (each case weighted by an exponential draw, so
    every stay of a case shares its weight) and the simulations are shared out over them:
    the interval reflects how well the stay curves and the moves are known as well as
    the luck of the draw. ``"process"`` keeps the model at its estimate. Neither covers a
    process that changes over time (a falling win rate, a holiday slowdown).

    ``uncertainty="drift"`` (the default) adds that change, as far as the log shows it:
    real processes drift, and on BPIC 2012 it brings the share of 90% intervals that hold
    the actual count from 10 to 13 of 15 weekly cutoffs, at about 1.6 times the width. The
    forecast
    window is treated as one more period of the process, whose exit shares may differ
    from the fitted ones as much as they differed between past periods. The history
    before `as_of` is cut into periods as long as the horizon, ending at `as_of`
    (``(as_of - h, as_of]``, ``(as_of - 2h, as_of - h]``, ...), so the forecast window is
    the next one. For each open stage, the variation of its exit shares (to the next
    stage, to lost, ...) between those periods beyond what the counts alone would show is
    a Dirichlet-multinomial overdispersion ``rho``: each period's shares scatter around
    the pooled ones with variance ``rho p (1 - p)``. It is estimated by the method of
    moments from Pearson's statistic over the periods (`ForecastResult.drift`, computed
    whatever `uncertainty`) and is 0 when the stage has exits in fewer than two periods
    (`ForecastResult.drift_periods`), or a single destination. Each of 400 Bayesian-
    bootstrap refits then draws its own ``rho`` from the spread of that estimate (wide
    with few periods), its own period shares ``q ~ Dirichlet(p (1 - rho) / rho)`` per
    stage, and reweights every move by ``q_j / p_j``: the stay curves follow the new mix
    of exits. On a process that does not drift ``rho`` is near 0 and the interval barely
    changes. It does not foresee a change the history has not shown (a first drop of the
    win rate), nor does it model drifting stay lengths. `history` is the other lever: it
    fits on recent stays only, at the price of a shorter view of long stays.

    The *naive weighted pipeline* beside it sums, over the open deals, the probability of
    ever winning from their stage (the absorbing-chain win probability of the transition
    probabilities, as `MarkovFunnel.win_probability` computes it). It ignores the horizon
    (a deal that will take months still counts) and the age of the deal (a deal that has
    sat in a stage far longer than usual counts like a fresh one), so it is usually well
    above the forecast within a short horizon.

    Args:
        log: Events to analyse.
        funnel: The process whose open stages hold the pipeline.
        horizon: How far ahead to count wins: days (a number) or a timedelta, > 0.
        as_of: The forecast time; the log's last event by default.
        value: A numeric case attribute to sum over the won deals (e.g. ``"amount"``).
        n: Number of simulations, >= 1.
        seed: Seed of the random generator (an int), or None for fresh entropy. One seed
            and the same inputs give the same result.
        confidence_level: Coverage of the central interval of the simulated totals.
        model: ``"renewal"`` or ``"markov"``; see above.
        uncertainty: ``"parameters"``, ``"process"`` or ``"drift"``; see above.
        history: Fit on the stays that entered their stage within this long before
            `as_of` (days or a timedelta); None (default) uses the whole log before it.

    Returns:
        Expected wins and value, their intervals, a per-stage breakdown, per-deal win
        probabilities and the naive weighted pipeline.

    Raises:
        ParameterError: If `horizon` or `history` is not a positive duration, `n` not a
            whole number >= 1, `seed` not an int or None, `confidence_level` not in (0, 1),
            `value` not a numeric case attribute, `model` or `uncertainty` unknown, or
            `as_of` before the log starts.
        UnknownStageError: If the funnel declares its activities and the log has another.

    Note:
        Markov renewal (semi-Markov) processes: Pyke, R. (1961). Markov renewal processes:
        definitions and preliminary properties. *Ann. Math. Statist.* 32(4), 1231-1242.
        Nonparametric estimation of the renewal kernel with censoring (Kaplan-Meier stay,
        Aalen-Johansen split by exit): Lagakos, S. W., Sommer, C. J. and Zelen, M. (1978).
        Semi-Markov models for partially censored data. *Biometrika* 65(2), 311-317. The
        Bayesian bootstrap: Rubin, D. B. (1981). The Bayesian bootstrap. *Ann. Statist.*
        9(1), 130-134. Moment estimate of extra-binomial variation from Pearson's
        statistic: Williams, D. A. (1982). Extra-binomial variation in logistic linear
        models. *Applied Statistics* 31(2), 144-148; for multinomial counts in clusters,
        Brier, S. S. (1980). Analysis of contingency tables under cluster sampling.
        *Biometrika* 67(3), 591-596.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-11"),
        ...      ("d2", "lead", "2024-01-05"), ("d2", "won", "2024-01-15"),
        ...      ("d3", "lead", "2024-01-14")])
        >>> funnel = ss.Funnel.linear(["lead", "won"], lost="lost")
        >>> res = ss.forecast(log, funnel, horizon=9, seed=1, n=200)
        >>> res.wins, res.naive, res.at("lead").open_deals
        (1.0, 1.0, 1)
        >>> ss.forecast(log, funnel, horizon=8, seed=1, n=200).wins
        0.0

        Every recorded stay in ``lead`` lasted 10 days and was won. d3 entered ``lead`` on
        14 January, a day before the forecast time (the log's last event, 15 January), so
        it is won 9 days later: inside a 9-day horizon, outside an 8-day one.

        Both wins fall in the last 9 days before the forecast time, a single period of the
        horizon's length, so there is no history of drift to add:

        >>> lead = ss.forecast(log, funnel, horizon=9, seed=1, n=200, uncertainty="drift")
        >>> lead.at("lead").drift, lead.at("lead").drift_periods, lead.wins
        (0.0, 1, 1.0)
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    horizon_days = days("horizon", horizon)
    n_sims = v.positive_int("n", n, limit=MAX_SIMULATIONS, unit="simulations")
    level = v.fraction("confidence_level", confidence_level)
    mode = v.choice("uncertainty", uncertainty, _UNCERTAINTIES)
    kind = v.choice("model", model, _MODELS)
    history_ns = None if history is None else round(days("history", history) * NS_PER_DAY)
    v.random_seed("seed", seed)
    values = (
        None
        if value is None
        else v.numeric_case_attribute("value", value, log.case_attributes, log.event_attributes)
    )
    cutoff = resolve_as_of(log, as_of)
    return _forecast(
        log,
        funnel,
        cutoff=cutoff,
        horizon_days=horizon_days,
        values=values,
        value=value,
        n=n_sims,
        seed=seed,
        level=level,
        model=kind,
        uncertainty=mode,
        history_ns=history_ns,
    )


def _forecast(
    log: EventLog,
    funnel: Funnel,
    *,
    cutoff: int,
    horizon_days: float,
    values: NDArray[np.float64] | None,
    value: str | None,
    n: int,
    seed: int | None,
    level: float,
    model: Model,
    uncertainty: Uncertainty,
    history_ns: int | None,
) -> ForecastResult:
    stays = _stays(log, funnel, cutoff, history_ns)
    chain = _fit(stays)
    drift = _drift(stays, cutoff, horizon_days)
    ep = build_episodes(log, funnel, as_of=stamp(cutoff), skips="strict")
    open_ep = np.flatnonzero(ep.censored)
    deal = ep.case[open_ep]
    stage0 = ep.stage[open_ep].astype(np.intp)
    age0 = (cutoff - ep.enter[open_ep]) / NS_PER_DAY
    deal_values = np.zeros(deal.size) if values is None else np.nan_to_num(values[deal], nan=0.0)
    rng = np.random.default_rng(seed)
    chains = [chain]
    if uncertainty != "process":
        # One weight per case with a stay, drawn in case order: a log cut after `as_of`
        # (fewer cases) draws the same weights.
        _, unit = np.unique(stays.case, return_inverse=True)
        n_units = int(unit.max(initial=-1)) + 1
        if uncertainty == "drift":
            # Set by set: 400 sets of weights for every case would not fit a large log.
            moves = (stays.stage, stays.next_stage, stays.moved)
            chains = []
            for _ in range(min(n, _DRIFT_PARAMETER_SETS)):
                w = rng.standard_exponential(n_units)[unit]
                rho = drift.draw(rng)
                chains.append(_fit(stays, tilt_exits(*moves, w, rho, rng, n_stages=stays.n_stages)))
        else:
            weights = rng.standard_exponential((min(n, _PARAMETER_SETS), n_units))
            chains = [_fit(stays, w[unit]) for w in weights]
    totals, value_totals, per_deal = _simulate(
        chains,
        (stage0, age0, deal_values),
        horizon=horizon_days,
        n=n,
        model=model,
        rng=rng,
    )
    n_open = chain.n_open
    if history_ns is None:
        win_probability = MarkovFunnel.from_log(log, funnel, as_of=stamp(cutoff)).win_probability()
    else:
        win_probability = solve_chain(chain.probabilities, n_open).win
    probability = per_deal / n
    open_deals = np.bincount(stage0, minlength=n_open).astype(np.int64)
    expected = np.bincount(stage0, weights=probability, minlength=n_open)
    expected_value = (
        np.full(n_open, np.nan)
        if values is None
        else np.bincount(stage0, weights=probability * deal_values, minlength=n_open)
    )
    names = funnel.stage_names
    return ForecastResult(
        stages=tuple(names[:n_open]),
        open_deals=open_deals,
        expected_wins=expected,
        win_probability=win_probability,
        weighted_pipeline=open_deals * win_probability,
        expected_value=expected_value,
        drift=drift.rho,
        drift_periods=drift.periods,
        cases=objects(log.case_names[deal]),
        deal_stage=objects(names[int(s)] for s in stage0),
        deal_age_days=age0,
        deal_probability=probability,
        simulated_wins=totals,
        simulated_value=value_totals if values is not None else np.empty(0),
        as_of=stamp(cutoff),
        horizon_days=horizon_days,
        value_attribute=value,
        n=n,
        seed=seed,
        confidence_level=level,
        model=model,
        uncertainty=uncertainty,
        history_days=None if history_ns is None else history_ns / NS_PER_DAY,
    )


def _drift(stays: _Stays, cutoff: int, horizon_days: float) -> ExitDrift:
    """Exit-share overdispersion per open stage over horizon-long periods before `cutoff`.

    The periods are ``(cutoff - (k + 1) h, cutoff - k h]`` for ``k = 0, 1, ...`` (``h`` the
    horizon), so the forecast window ``(cutoff, cutoff + h]`` is the next one; each move
    counts in the period of its exit.
    """
    m = stays.moved
    length = max(1, round(horizon_days * NS_PER_DAY))
    period = (cutoff - stays.exit[m]) // length
    return exit_overdispersion(
        stays.stage[m],
        stays.next_stage[m],
        period.astype(np.int64),
        n_open=stays.n_open,
        n_stages=stays.n_stages,
    )


def backtest_forecast(
    log: EventLog,
    funnel: Funnel,
    *,
    cutoffs: Iterable[object],
    horizon: object,
    n: int = 10_000,
    seed: int | None = None,
    confidence_level: float = 0.9,
    model: Model = "renewal",
    uncertainty: Uncertainty = "drift",
    history: object = None,
) -> BacktestResult:
    """Check `forecast` against history: forecast at past cutoffs, then count what happened.

    For each cutoff the model is fitted and the open pipeline simulated with the events up
    to the cutoff only (``forecast(log, funnel, as_of=cutoff, ...)``, which reads nothing
    later). The *actual* count is the number of deals open at the cutoff whose first
    outcome is won and falls in ``(cutoff, cutoff + horizon]``, read from the full log.
    A row is *inside* when ``low <= actual <= high``; over many cutoffs the share inside
    should be near `confidence_level` if the model is right.

    Args:
        log: Events to analyse; it must reach ``cutoff + horizon`` for every cutoff.
        funnel: The process whose open stages hold the pipeline.
        cutoffs: Forecast times (ISO strings, dates, datetimes), at least one.
        horizon: How far ahead to count wins: days (a number) or a timedelta, > 0.
        n: Number of simulations per forecast, >= 1.
        seed: Seed of the random generator (an int; each cutoff uses it), or None.
        confidence_level: Coverage of each forecast interval.
        model: ``"renewal"`` or ``"markov"``; see `forecast`.
        uncertainty: ``"parameters"``, ``"process"`` or ``"drift"``; see `forecast`.
        history: Fitting window before each cutoff (days or a timedelta), or None; see
            `forecast`.

    Returns:
        One row per cutoff: open deals, forecast, interval, actual wins, whether the
        actual count fell inside, and the naive weighted pipeline.

    Raises:
        ParameterError: If `cutoffs` is empty, a cutoff is before the log starts or its
            ``cutoff + horizon`` is after the log's last event (what happened is not known),
            or another option is invalid (see `forecast`).

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-11"),
        ...      ("d2", "lead", "2024-01-05"), ("d2", "won", "2024-01-15"),
        ...      ("d3", "lead", "2024-01-14"), ("d3", "won", "2024-01-24")])
        >>> funnel = ss.Funnel.linear(["lead", "won"], lost="lost")
        >>> bt = ss.backtest_forecast(log, funnel, cutoffs=["2024-01-12"], horizon=7,
        ...                           n=200, seed=1)
        >>> row = bt.at("2024-01-12")
        >>> row.open_deals, row.forecast, row.actual, row.inside
        (1, 1.0, 1, True)
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    horizon_days = days("horizon", horizon)
    n_sims = v.positive_int("n", n, limit=MAX_SIMULATIONS, unit="simulations")
    level = v.fraction("confidence_level", confidence_level)
    mode = v.choice("uncertainty", uncertainty, _UNCERTAINTIES)
    kind = v.choice("model", model, _MODELS)
    history_ns = None if history is None else round(days("history", history) * NS_PER_DAY)
    v.random_seed("seed", seed)
    if isinstance(cutoffs, (str, bytes)) or not isinstance(cutoffs, Iterable):
        cutoffs = [cutoffs]
    given = list(cutoffs)
    v.non_empty("cutoffs", given, example='cutoffs=["2024-01-01", "2024-02-01"]')
    last = int(log.time.view(np.int64).max())
    horizon_ns = round(horizon_days * NS_PER_DAY)
    times = []
    for c in given:
        ns = resolve_as_of(log, _cutoff(c))
        if ns + horizon_ns > last:
            raise ParameterError(
                f"cutoff {c!r} plus the horizon ({horizon_days:g} days) is after the log's "
                f"last event ({str(log.time.max())[:19]}), so what happened is not known; "
                "pick an earlier cutoff or a shorter horizon."
            )
        times.append(ns)
    rows: dict[str, list[float]] = {k: [] for k in ("open", "fc", "lo", "hi", "act", "naive")}
    for ns in times:
        res = _forecast(
            log,
            funnel,
            cutoff=ns,
            horizon_days=horizon_days,
            values=None,
            value=None,
            n=n_sims,
            seed=seed,
            level=level,
            model=kind,
            uncertainty=mode,
            history_ns=history_ns,
        )
        interval = res.wins_interval
        rows["open"].append(res.n_open)
        rows["fc"].append(res.wins)
        rows["lo"].append(interval.low)
        rows["hi"].append(interval.high)
        rows["act"].append(_actual_wins(log, funnel, ns, ns + horizon_ns))
        rows["naive"].append(res.naive)
    actual = np.asarray(rows["act"], dtype=np.int64)
    low, high = np.asarray(rows["lo"]), np.asarray(rows["hi"])
    return BacktestResult(
        cutoff=np.asarray(times, dtype=np.int64).view("datetime64[ns]"),
        open_deals=np.asarray(rows["open"], dtype=np.int64),
        forecast=np.asarray(rows["fc"]),
        low=low,
        high=high,
        actual=actual,
        inside=(low <= actual) & (actual <= high),
        weighted_pipeline=np.asarray(rows["naive"]),
        horizon_days=horizon_days,
        n=n_sims,
        seed=seed,
        confidence_level=level,
        model=kind,
        uncertainty=mode,
        history_days=None if history_ns is None else history_ns / NS_PER_DAY,
    )


def _cutoff(value: object) -> object:
    """A cutoff must be a time: None (the log's end) is refused."""
    if value is None:
        raise ParameterError("a cutoff must be a time; got None. Pass e.g. '2024-01-01'.")
    return value


def _actual_wins(log: EventLog, funnel: Funnel, cutoff: int, until: int) -> int:
    """Deals open at `cutoff` (recorded stages) whose first outcome is won by `until`."""
    before = build_episodes(log, funnel, as_of=stamp(cutoff), skips="strict")
    open_cases = before.case[before.censored]
    after = build_episodes(log, funnel, as_of=stamp(until), skips="strict")
    return int((after.case_outcome()[open_cases] == funnel.n_open).sum())
