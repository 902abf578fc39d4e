"""The conversion, wip and leverage lenses of `bottlenecks`, and the rows every lens returns.

Private; see `salesstd.bottleneck`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import lazy
from salesstd._base import text as _text
from salesstd._engine import chain as mc
from salesstd._engine import grouping as _common
from salesstd._engine.counts import step_counts
from salesstd._engine.episodes import NS_PER_DAY, Episodes, segment_starts
from salesstd._engine.grouping import period_edges
from salesstd.stats import nanquantile as _nanquantile

if TYPE_CHECKING:
    from salesstd.funnel import Funnel
    from salesstd.log import EventLog

#: Mean length of each calendar period in days (for entries per period).
PERIOD_DAYS: dict[str, float] = {
    "day": 1.0,
    "week": 7.0,
    "month": 365.2425 / 12,
    "quarter": 365.2425 / 4,
    "year": 365.2425,
}
#: Periods of WIP the growth slope is fitted over (the most recent ones).
WIP_PERIODS = 6
_MIN_WIP_PERIODS = 3


@attrs.frozen
class _Rows:
    """Rows of one lens, in stage order (before ranking)."""

    lens: str
    stage: list[str]
    target: list[str | None]
    current: NDArray[np.float64]
    benchmark: NDArray[np.float64]
    gap: NDArray[np.float64]
    impact: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    explanation: list[str]


def _percentile_interval(
    reps: NDArray[np.float64], estimate: NDArray[np.float64], level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per stage (the last axis of ``reps``): the percentile interval of the replicates.

    The replicates are drawn around the estimate (see `bottlenecks`), so the interval holds
    it; where Monte Carlo error leaves it out (a handful of replicates, or an estimate on a
    boundary such as a shortfall of exactly 0) the interval is widened to reach it. NaN
    where the estimate is not finite or no replicate is.
    """
    n_s = reps.shape[-1]
    tail = (1 - level) / 2
    low, high = np.full(n_s, np.nan), np.full(n_s, np.nan)
    for s in np.flatnonzero(np.isfinite(estimate)).tolist():  # one quantile per stage
        finite = reps[:, s][np.isfinite(reps[:, s])]
        if finite.size:
            q_low, q_high = np.quantile(finite, [tail, 1 - tail])
            low[s] = min(q_low, estimate[s])
            high[s] = max(q_high, estimate[s])
    return low, high


def _interval(
    low: float,
    high: float,
    level: float,
    unit: str = "",
    fmt: Callable[[float], str] = _text.number,
) -> str:
    """``"90% interval 0.2 to 1.4 wins per month"``; an open upper end says so."""
    if not np.isfinite(low) and not np.isfinite(high):
        return "no interval"
    tail = f" {unit}" if unit else ""
    if not np.isfinite(high):
        return f"{_text.percent(level)} interval from {fmt(low)}{tail} up"
    return f"{_text.percent(level)} interval {fmt(low)} to {fmt(high)}{tail}"


def _downstream(rate: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(win | advanced past each stage): product of the later stages' step rates (last axis)."""
    rest = np.ones_like(rate)
    rest[..., :-1] = np.cumprod(rate[..., :0:-1], axis=-1)[..., ::-1]
    return rest


def _rates_and_benchmark(
    adv: NDArray[Any], res: NDArray[Any], fixed: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], ...]:
    """Pooled step rate, benchmark and prior of each stage; the last axis runs over groups.

    Leading axes (replicates) are carried through. The benchmark is `fixed`, or the 75th
    percentile of the groups' shrunk rates (groups with resolved entries only).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = adv.sum(axis=-1) / res.sum(axis=-1)
    if fixed is not None:
        nan = np.full(rate.shape, np.nan)
        return rate, np.broadcast_to(fixed, rate.shape), nan, nan
    res_full = np.broadcast_to(res, adv.shape)
    shrunk, alpha, beta = stats.beta_binomial_shrinkage(adv, res_full)
    shrunk = np.where(res_full > 0, shrunk, np.nan)
    some = np.asarray(np.isfinite(shrunk).any(axis=-1), dtype=bool)
    filled = np.where(some[..., None], shrunk, 0.0)  # all-NaN rows: no benchmark
    bench = np.where(some, _nanquantile(filled, 0.75), np.nan)
    return rate, bench, alpha, beta


@attrs.frozen
class _StepTotals:
    """Pooled first-entry counts per open stage (`step_counts` summed over the groups)."""

    entered: NDArray[np.int64]
    advanced: NDArray[np.int64]
    lost: NDArray[np.int64]


def _conversion_sentence(
    name: str,
    i: int,
    totals: _StepTotals,
    numbers: dict[str, NDArray[np.float64]],
    *,
    level: float,
    period: str,
) -> str:
    rate, bench, impact = numbers["rate"][i], numbers["bench"][i], numbers["impact"][i]
    adv, lost = int(totals.advanced[i]), int(totals.lost[i])
    if not np.isfinite(rate):
        return f"{name} has no resolved entries yet (none advanced or lost): no step rate."
    head = (
        f"{name} converts {_text.percent(rate)} of its resolved entries "
        f"({_text.count(adv)} of {_text.count(adv + lost)} advanced)"
    )
    if not np.isfinite(bench):
        return f"{head}; there is no benchmark for it (pass by= or benchmark=)."
    unit = f"wins per {period}"
    interval = _interval(numbers["low"][i], numbers["high"][i], level, unit)
    gap = bench - rate
    if gap <= 0:
        where = "at" if gap == 0 else f"{_text.points(-gap)} above"
        return (
            f"{head}, {where} its benchmark of {_text.percent(bench)}: no shortfall ({interval})."
        )
    return (
        f"{head} against a benchmark of {_text.percent(bench)}, {_text.points(gap)} short; "
        f"at {_text.number(numbers['per_period'][i])} entries per {period} and a "
        f"{_text.percent(numbers['win_after'][i])} chance of winning once past it, closing "
        f"the gap would add {_text.plural(impact, 'win')} per {period} ({interval})."
    )


def _conversion_lens(
    log: EventLog,
    ep: Episodes,
    funnel: Funnel,
    *,
    benchmark: object,
    grouping: _common.Groups,
    level: float,
    period: str,
    n_boot: int,
    seed: int,
) -> tuple[_Rows, int, _StepTotals]:
    stages = [s.name for s in funnel.open_stages]
    n_s, n_g = len(stages), grouping.n
    entered, advanced, lost = step_counts(ep, grouping.of_case, n_g)
    t = log.time.view(np.int64)
    span_periods = max((ep.as_of - int(t.min())) / NS_PER_DAY / PERIOD_DAYS[period], 1.0)

    fixed: NDArray[np.float64] | None = None
    if isinstance(benchmark, Mapping):
        fixed = np.full(n_s, np.nan)
        for name, value in benchmark.items():
            fixed[stages.index(name)] = value
    elif grouping.name is None:
        fixed = np.full(n_s, np.nan)  # the top quartile of no groups: no benchmark
    elif not isinstance(benchmark, str):
        fixed = np.full(n_s, float(benchmark))  # type: ignore[arg-type]

    adv_g = advanced.T  # (stage, group)
    res_g = (advanced + lost).T
    entries = entered.sum(axis=0).astype(np.float64)
    rate, bench, alpha, beta = _rates_and_benchmark(adv_g, res_g, fixed)
    per_period = entries / span_periods
    win_after = _downstream(np.nan_to_num(rate, nan=0.0))
    impact = (bench - rate) * per_period * win_after

    # Parametric bootstrap of the fitted model for the groups at hand, vectorised over
    # (replicate, stage, group): each group's true rate is drawn from its posterior
    # Beta(alpha + advanced, beta + resolved - advanced) (the pooled rate where the groups
    # do not differ), so the replicates vary around this report's estimate, not around
    # that of a fresh set of groups drawn from the prior.
    rng = np.random.default_rng(seed)
    pooled = ~np.isfinite(alpha)
    a_post = np.where(pooled, 1.0, alpha)[:, None] + adv_g
    b_post = np.where(pooled, 1.0, beta)[:, None] + res_g - adv_g
    p_group = rng.beta(a_post[None], b_post[None], size=(n_boot, n_s, n_g))
    p_group = np.where(pooled[None, :, None], np.nan_to_num(rate)[None, :, None], p_group)
    adv_b = rng.binomial(np.broadcast_to(res_g, p_group.shape), p_group)
    rate_b, bench_b, _, _ = _rates_and_benchmark(adv_b, res_g[None], fixed)
    per_period_b = rng.poisson(entries, size=(n_boot, n_s)) / span_periods
    win_b = _downstream(np.nan_to_num(rate_b, nan=0.0))
    reps = (bench_b - rate_b) * per_period_b * win_b
    low, high = _percentile_interval(reps, impact, level)
    totals = _StepTotals(entered.sum(axis=0), advanced.sum(axis=0), lost.sum(axis=0))
    numbers = {
        "rate": rate,
        "bench": bench,
        "impact": impact,
        "low": low,
        "high": high,
        "per_period": per_period,
        "win_after": win_after,
    }
    explanation = [
        _conversion_sentence(name, i, totals, numbers, level=level, period=period)
        for i, name in enumerate(stages)
    ]
    rows = _Rows(
        lens="conversion",
        stage=stages,
        target=[None] * n_s,
        current=rate,
        benchmark=bench,
        gap=bench - rate,
        impact=impact,
        low=low,
        high=high,
        explanation=explanation,
    )
    # Cases that entered the funnel at an open stage (a case enters at its first record).
    firsts = np.flatnonzero(segment_starts(ep.case))
    entering = ep.case[firsts[ep.stage[firsts] < ep.n_open]]
    n_cases = int(np.count_nonzero(grouping.of_case[entering] >= 0)) if n_s else 0
    return rows, n_cases, totals


def _wip_sentence(
    name: str, numbers: tuple[float, ...], *, k: int, period: str, level: float
) -> str:
    now, before, growth, low, high = numbers
    head = f"{name} holds {_text.plural(now, 'open deal')}"
    window = f"at the start of the last {_text.plural(k, period)}"
    interval = _interval(low, high, level)
    if growth == 0:
        return (
            f"{head}, as many as {window}: arrivals matched departures "
            f"(net flow 0 deals per {period}, {interval})."
        )
    direction, more, fewer = (
        ("up", "arrivals", "departures") if growth > 0 else ("down", "departures", "arrivals")
    )
    return (
        f"{head}, {direction} from {_text.count(before)} {window}: {more} exceeded {fewer} by "
        f"{_text.plural(abs(growth), 'deal')} per {period} on average (net flow "
        f"{_text.number(growth)} per {period}, {interval})."
    )


def _wip_lens(log: EventLog, funnel: Funnel, ep: Episodes, *, level: float, period: str) -> _Rows:
    """WIP growth per open stage over the last periods, as `wip` and `throughput` count it.

    Only the WIP at the ends of the last ``WIP_PERIODS + 1`` periods is needed: the
    entries and the exits (moves out of a stay) up to each of those ends, counted from the
    strict episodes (the default of `wip` and `throughput`) in one pass.
    """
    stages = [s.name for s in funnel.open_stages]
    n_s = len(stages)
    edges = period_edges(int(log.time.view(np.int64).min()), ep.as_of, period)
    ends = np.minimum(edges[1:] - 1, ep.as_of)
    n_p = ends.size
    k = min(WIP_PERIODS, n_p)
    cuts = ends[max(n_p - k - 1, 0) :]  # the period ends the WIP is needed at
    n_c = cuts.size
    is_open = ep.stage < n_s
    leaving = is_open & ep.moved & (ep.next_stage != ep.stage)

    def upto(times: NDArray[np.int64], stage: NDArray[np.int32]) -> NDArray[np.int64]:
        # Period p holds the times t with end[p-1] < t <= end[p]; cumulated: t <= cut.
        bins = np.searchsorted(cuts, times, side="left")
        flat = np.bincount(bins * n_s + stage, minlength=(n_c + 1) * n_s)
        return np.cumsum(flat.reshape(n_c + 1, n_s)[:n_c], axis=0)

    stock = upto(ep.enter[is_open], ep.stage[is_open]) - upto(
        ep.exit[leaving], ep.stage[leaving]
    )  # (cuts, stage): WIP at each cut
    # Nothing is in progress before the first period.
    start = np.zeros((0 if n_p > k else 1, n_s), dtype=np.int64)
    series = np.vstack([start, stock])
    net = np.diff(series, axis=0)  # entries - exits in each of the last k periods
    growth = net.mean(axis=0)
    low = np.full(n_s, np.nan)
    high = np.full(n_s, np.nan)
    if k >= _MIN_WIP_PERIODS:
        half = lazy.sps.t.ppf(0.5 + level / 2, k - 1) * net.std(axis=0, ddof=1) / np.sqrt(k)
        low, high = growth - half, growth + half
    current = series[-1].astype(np.float64)
    before = series[0].astype(np.float64)
    explanation = [
        _wip_sentence(
            name,
            (current[i], before[i], growth[i], low[i], high[i]),
            k=k,
            period=period,
            level=level,
        )
        for i, name in enumerate(stages)
    ]
    return _Rows(
        lens="wip",
        stage=stages,
        target=[None] * n_s,
        current=current,
        benchmark=np.zeros(n_s),
        gap=growth,
        impact=growth,
        low=low,
        high=high,
        explanation=explanation,
    )


def _leverage_sentence(
    src: str, tgt: str, prob: float, elastic: float, sens: mc.SensitivityTable
) -> str:
    head = (
        f"Raising the probability of {src} -> {tgt} (now {_text.percent(prob)}) by 1% of "
        f"its value, the other exits of {src} rescaled,"
    )
    start = f"the win probability from {sens.start} (now {_text.percent(sens.win_probability)})"
    if not np.isfinite(elastic):
        return f"{head} has no computable effect on {start}."
    if elastic == 0:
        return f"{head} leaves {start} unchanged."
    verb = "raises" if elastic > 0 else "lowers"
    return f"{head} {verb} {start} by {_text.percent(abs(elastic) / 100)} of its value."


def _leverage_lens(sens: mc.SensitivityTable) -> _Rows:
    n = int(sens.source.size)
    elastic = np.asarray(sens.elasticity, dtype=np.float64)
    prob = np.asarray(sens.probability, dtype=np.float64)
    nan = np.full(n, np.nan)
    explanation = [
        _leverage_sentence(str(src), str(tgt), prob[i], elastic[i], sens)
        for i, (src, tgt) in enumerate(zip(sens.source, sens.target, strict=True))
    ]
    return _Rows(
        lens="leverage",
        stage=[str(x) for x in sens.source],
        target=[str(x) for x in sens.target],
        current=prob,
        benchmark=nan,
        gap=nan,
        impact=elastic,
        low=nan,
        high=nan,
        explanation=explanation,
    )
