"""The conversion, wip and leverage lenses of `bottlenecks`, and the rows every lens returns.

Private; see `salesstd.bottleneck`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from salesstd import stats
from salesstd._markov_results import SensitivityResult
from salesstd.metrics import _common
from salesstd.metrics._episodes import NS_PER_DAY, Episodes, segment_starts
from salesstd.metrics._flow_common import period_edges
from salesstd.metrics.conversion import step_counts
from salesstd.stats._shrinkage import _nanquantile

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


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"  # noqa: PLR2004


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
) -> tuple[_Rows, int]:
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
    elif not isinstance(benchmark, str):
        fixed = np.full(n_s, float(benchmark))  # type: ignore[arg-type]

    adv_g = advanced.T  # (stage, group)
    res_g = (advanced + lost).T
    entries = entered.sum(axis=0).astype(np.float64)
    rate, bench, alpha, beta = _rates_and_benchmark(adv_g, res_g, fixed)
    per_period = entries / span_periods
    win_after = _downstream(np.nan_to_num(rate, nan=0.0))
    impact = (bench - rate) * per_period * win_after

    # Parametric bootstrap from the fitted model, vectorised over (replicate, stage, group).
    rng = np.random.default_rng(seed)
    pooled = ~np.isfinite(alpha)
    with np.errstate(invalid="ignore"):
        p_group = rng.beta(
            np.where(pooled, 1.0, alpha)[None, :, None],
            np.where(pooled, 1.0, beta)[None, :, None],
            size=(n_boot, n_s, n_g),
        )
    p_group = np.where(pooled[None, :, None], np.nan_to_num(rate)[None, :, None], p_group)
    adv_b = rng.binomial(np.broadcast_to(res_g, p_group.shape), p_group)
    rate_b, bench_b, _, _ = _rates_and_benchmark(adv_b, res_g[None], fixed)
    per_period_b = rng.poisson(entries, size=(n_boot, n_s)) / span_periods
    win_b = _downstream(np.nan_to_num(rate_b, nan=0.0))
    reps = (bench_b - rate_b) * per_period_b * win_b
    tail = (1 - level) / 2
    low, high = np.full(n_s, np.nan), np.full(n_s, np.nan)
    for s in range(n_s):  # one quantile per stage
        finite = reps[:, s][np.isfinite(reps[:, s])]
        if finite.size:
            low[s], high[s] = np.quantile(finite, [tail, 1 - tail])
    gap = bench - rate
    explanation = []
    for i, name in enumerate(stages):
        explanation.append(
            f"{name} converts {_fmt(rate[i])} of resolved entries against a benchmark of "
            f"{_fmt(bench[i])}; at {_fmt(per_period[i])} entries per {period} and a "
            f"{_fmt(win_after[i])} chance of winning once past it, closing the gap would "
            f"add {_fmt(impact[i])} wins per {period} "
            f"({_fmt(low[i])} to {_fmt(high[i])})."
        )
    rows = _Rows(
        lens="conversion",
        stage=stages,
        target=[None] * n_s,
        current=rate,
        benchmark=bench,
        gap=gap,
        impact=impact,
        low=low,
        high=high,
        explanation=explanation,
    )
    # Cases that entered the funnel at an open stage (a case enters at its first record).
    firsts = np.flatnonzero(segment_starts(ep.case))
    entering = ep.case[firsts[ep.stage[firsts] < ep.n_open]]
    return rows, int(np.count_nonzero(grouping.of_case[entering] >= 0)) if n_s else 0


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
        half = sps.t.ppf(0.5 + level / 2, k - 1) * net.std(axis=0, ddof=1) / np.sqrt(k)
        low, high = growth - half, growth + half
    current = series[-1].astype(np.float64)
    before = series[0].astype(np.float64)
    explanation = []
    for i, name in enumerate(stages):
        explanation.append(
            f"{name} holds {_fmt(current[i])} open deals, up from {_fmt(before[i])} "
            f"{k} {period}s earlier: arrivals exceeded departures by {_fmt(growth[i])} "
            f"deals per {period} ({_fmt(low[i])} to {_fmt(high[i])})."
        )
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


def _leverage_lens(sens: SensitivityResult) -> _Rows:
    n = int(sens.source.size)
    elastic = np.asarray(sens.elasticity, dtype=np.float64)
    prob = np.asarray(sens.probability, dtype=np.float64)
    nan = np.full(n, np.nan)
    explanation = [
        f"Raising the probability of {src} -> {tgt} (now {_fmt(prob[i])}) by 1%, the "
        f"other exits of {src} rescaled, changes the win probability from "
        f"{sens.start} ({_fmt(sens.win_probability)}) by {_fmt(elastic[i])}%."
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
