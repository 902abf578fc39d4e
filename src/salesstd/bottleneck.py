"""Bottlenecks: a ranked, explained list of where the process loses the most.

`bottlenecks` looks at every open stage through four lenses and turns each into an impact
figure with an interval:

1. **conversion** - the stage's step rate falls short of a benchmark; impact in extra wins
   per period.
2. **dwell** - deals stay longer in the stage than a benchmark; impact in days of cycle
   time per deal that passes the stage.
3. **wip** - work piles up in the stage: its work in progress grows; impact in deals per
   period.
4. **leverage** - how much the overall win probability moves with the stage's rate
   (an elasticity), for deciding where effort pays most.

Everything starts from the same stage episodes as the funnel metrics
(`salesstd.metrics.conversion`, `time_in_stage`, `wip`, `throughput`), so skips, open deals
and re-entries mean the same here; the lenses count from the episodes once instead of
calling those functions (the tests hold them to the same numbers).

A benchmark taken from the best groups (the top quartile of reps) is corrected for noise:
the groups' rates or median dwells are shrunk toward the population before the quartile is
taken, so that when the groups do not really differ there is no shortfall, and the
benchmark's own uncertainty is carried into the impact interval, so that a finding whose
interval includes zero never outranks one whose interval excludes it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from salesstd import _markov_chain as mc
from salesstd import _validate as v
from salesstd import stats
from salesstd._markov_results import SensitivityResult
from salesstd._results import ResultMixin
from salesstd._results import array_eq as _eq
from salesstd._results import frozen_array as _ro
from salesstd.errors import ParameterError
from salesstd.markov import _move_probabilities, _sensitivity
from salesstd.metrics import _common
from salesstd.metrics._conversion_results import datetime_utc, objects
from salesstd.metrics._episodes import NS_PER_DAY, Episodes, build_episodes
from salesstd.metrics._flow_common import period_edges
from salesstd.stats import (
    _kaplan_meier,
    _nanquantile,
    _qprofile_draws,
    _quantile_estimate,
    _quantile_step,
    _random_effects,
    _sort_spells,
)

if TYPE_CHECKING:
    from salesstd.funnel import Funnel
    from salesstd.log import EventLog

__all__ = ["BottleneckReport", "Finding", "bottlenecks"]

Lens = Literal["conversion", "dwell", "wip", "leverage"]
LENSES: tuple[Lens, ...] = ("conversion", "dwell", "wip", "leverage")
UNITS: dict[str, str] = {
    "conversion": "wins per period",
    "dwell": "days per deal",
    "wip": "deals per period",
    "leverage": "elasticity",
}
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
class Finding:
    """One row of a `BottleneckReport`: a stage (or transition) seen through one lens.

    Attributes:
        stage: The open stage.
        target: For a transition (leverage lens with the Markov model), the stage moved to;
            else None.
        lens: ``"conversion"``, ``"dwell"``, ``"wip"`` or ``"leverage"``.
        current: The stage's value: step rate, median dwell (days), WIP at `as_of`, or
            the move's probability.
        benchmark: What it is compared with (NaN where there is none).
        gap: How far it falls short, positive when worse than the benchmark.
        impact: The gap turned into an effect, in `unit`.
        impact_low: Lower end of the impact's interval (NaN if none).
        impact_high: Upper end (NaN if none or open).
        unit: ``"wins per period"``, ``"days per deal"``, ``"deals per period"`` or
            ``"elasticity"``.
        significant: True when the gap is positive and the interval excludes zero: a finding.
        rank: Rank within the lens, 1 = largest impact among the significant rows first.
        explanation: One sentence with the numbers.
    """

    stage: str
    target: str | None
    lens: str
    current: float
    benchmark: float
    gap: float
    impact: float
    impact_low: float
    impact_high: float
    unit: str
    significant: bool
    rank: int
    explanation: str


@attrs.frozen(repr=False)
class BottleneckReport(ResultMixin):
    """Where the process loses the most, one row per (stage, lens), best finding first.

    Rows are ordered by: significant findings first; then rank within the lens; then lens
    (conversion, dwell, wip, leverage). Within a lens the rows are sorted by impact, and a
    row whose interval includes zero never comes before one whose interval excludes it.

    Attributes:
        stage: Stage of each row.
        target: Target stage of a transition row (leverage with the Markov model), else None.
        lens: Lens of each row.
        current: Current value (see `Finding`).
        benchmark: Benchmark value.
        gap: Shortfall against the benchmark, positive when worse.
        impact: Impact in `unit`.
        impact_low: Lower end of the impact interval.
        impact_high: Upper end of the impact interval.
        unit: Unit of the impact.
        significant: Gap positive and interval excluding zero.
        rank: Rank within the lens.
        explanation: One sentence per row.
        stages: The funnel's open stages.
        benchmark_option: The `benchmark` option: ``"top_quartile"``, a rate or a mapping.
        sla: The `sla` option ({stage: days}) or None.
        by: The case attribute whose groups define the top quartile, or None.
        as_of: The censoring time (UTC).
        confidence_level: Coverage of the intervals.
        period: The calendar period of the per-period figures.
        n_boot: Bootstrap replicates behind the conversion and top-quartile dwell intervals.
        seed: Seed of the bootstraps.
        n_cases: Cases that entered an open stage.
    """

    stage: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    target: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    lens: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    current: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    benchmark: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    gap: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    impact: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    impact_low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    impact_high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    unit: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    significant: NDArray[np.bool_] = attrs.field(converter=_ro, eq=_eq)
    rank: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    explanation: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    stages: tuple[str, ...]
    benchmark_option: object
    sla: Mapping[str, float] | None
    by: str | None
    as_of: dt.datetime
    confidence_level: float
    period: str
    n_boot: int
    seed: int
    n_cases: int

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_findings(self) -> int:
        """Number of significant findings."""
        return int(self.significant.sum())

    def _finding(self, i: int) -> Finding:
        target = self.target[i]
        return Finding(
            stage=str(self.stage[i]),
            target=None if target is None else str(target),
            lens=str(self.lens[i]),
            current=float(self.current[i]),
            benchmark=float(self.benchmark[i]),
            gap=float(self.gap[i]),
            impact=float(self.impact[i]),
            impact_low=float(self.impact_low[i]),
            impact_high=float(self.impact_high[i]),
            unit=str(self.unit[i]),
            significant=bool(self.significant[i]),
            rank=int(self.rank[i]),
            explanation=str(self.explanation[i]),
        )

    def top(self, n: int = 5, *, lens: Lens | None = None) -> tuple[Finding, ...]:
        """The first `n` significant findings, best first (of one lens if given).

        Raises:
            ParameterError: If `n` is not a whole number >= 1 or `lens` is not a lens.
        """
        v.positive_int("n", n)
        keep = self.significant.copy()
        if lens is not None:
            v.choice("lens", lens, LENSES)
            keep &= self.lens == lens
        return tuple(self._finding(int(i)) for i in np.flatnonzero(keep)[:n])

    def at(self, stage: str, *, lens: Lens, target: str | None = None) -> Finding:
        """The row of one stage and lens (and target, for a transition row).

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: If `lens` is not a lens, or the row is absent (a transition
                never observed).
        """
        v.result_stage(stage, self.stages)
        v.choice("lens", lens, LENSES)
        hit = (self.stage == stage) & (self.lens == lens)
        if target is not None:
            hit &= self.target == target
        rows = np.flatnonzero(hit)
        if rows.size == 0:
            raise ParameterError(
                f"the report has no {lens} row for stage {stage!r}"
                + ("" if target is None else f" and target {target!r}")
                + "."
            )
        return self._finding(int(rows[0]))

    def explain(self, stage: str) -> tuple[str, ...]:
        """The sentences explaining every row of `stage`, in report order.

        Raises:
            UnknownStageError: If `stage` is not an open stage.
        """
        v.result_stage(stage, self.stages)
        return tuple(str(e) for e in self.explanation[self.stage == stage])

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "stage": self.stage,
            "target": self.target,
            "lens": self.lens,
            "current": self.current,
            "benchmark": self.benchmark,
            "gap": self.gap,
            "impact": self.impact,
            "impact_low": self.impact_low,
            "impact_high": self.impact_high,
            "unit": self.unit,
            "significant": self.significant,
            "rank": self.rank,
            "explanation": self.explanation,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "benchmark": self.benchmark_option,
            "sla": None if self.sla is None else dict(self.sla),
            "by": self.by,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
            "period": self.period,
            "n_boot": self.n_boot,
            "seed": self.seed,
        }

    def _summary(self) -> Mapping[str, object]:
        first = np.flatnonzero(self.significant)
        top = None if first.size == 0 else f"{self.stage[first[0]]} ({self.lens[first[0]]})"
        return {
            "findings": self.n_findings,
            "stages": len(self.stages),
            "cases": self.n_cases,
            "top": top,
        }


# --------------------------------------------------------------------- the lenses


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


def _step_counts(
    ep: Episodes, of_case: NDArray[np.int32], n_groups: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """First entries, advances and losses per (group, open stage), as `conversion` counts them.

    `conversion`'s default reading (``skips="implied"``, first entries) depends on each
    case only through the furthest forward position it reached (the stage code for open
    stages and won, from the strict episodes) and its outcome: a case whose furthest
    position is ``f`` entered every open stage up to ``f`` (a forward jump passes the
    stages between), advanced from each stage below ``f`` (the move that reached ``f``
    came after its first entry into them), and at ``f`` itself is lost if it ended lost
    and open otherwise. So the counts come from one pass over the episodes and one over
    the cases, with no implied episodes.

    Returns:
        ``(entries, advanced, lost)``, each ``(n_groups, n_open)``.
    """
    n_open = ep.n_open
    furthest = np.full(ep.n_cases, -1, dtype=np.int64)
    if ep.size:
        # Episodes are sorted by case: each case's block starts where the case changes.
        starts = np.flatnonzero(np.diff(ep.case, prepend=-1))
        position = np.where(ep.stage <= n_open, ep.stage, -1)
        furthest[ep.case[starts]] = np.maximum.reduceat(position, starts)
    lost_case = ep.case_outcome() > n_open
    reached = furthest >= 0
    key = of_case[reached].astype(np.int64) * (n_open + 1) + furthest[reached]
    size = n_groups * (n_open + 1)
    at = np.bincount(key, minlength=size).reshape(n_groups, n_open + 1)
    at_least = np.cumsum(at[:, ::-1], axis=1)[:, ::-1]  # cases whose furthest is >= each
    lost_key = key[lost_case[reached]]
    lost = np.bincount(lost_key, minlength=size).reshape(n_groups, n_open + 1)
    return at_least[:, :n_open], at_least[:, 1:], lost[:, :n_open]


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
    entered, advanced, lost = _step_counts(ep, grouping.of_case, n_g)
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
    return rows, int(entered[:, 0].sum()) if n_s else 0


@attrs.frozen
class _Stays:
    """First stays of cases in the open stages, with their Kaplan-Meier curves per stage."""

    case: NDArray[np.int32]
    stage: NDArray[np.int32]
    days: NDArray[np.float64]
    ended: NDArray[np.bool_]
    km: stats.KaplanMeier


def _first_stays(ep: Episodes) -> _Stays:
    """The first recorded stay of each case in each open stage (`time_in_stage`'s stays)."""
    first = np.flatnonzero((ep.stage < ep.n_open) & (ep.entry == 0))
    stage = ep.stage[first]
    days = (ep.exit[first] - ep.enter[first]) / NS_PER_DAY
    ended = ep.moved[first]
    km = _kaplan_meier(_sort_spells(days, ended, stage, ep.n_open, 2), ep.n_open)
    return _Stays(ep.case[first], stage, days, ended, km)


def _median_variance(km: stats.KaplanMeier) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per curve: the median and Greenwood's variance of the survival at the median's step."""
    step, found = _quantile_step(km, 0.5)
    median = np.full(km.n_groups, np.nan)
    var = np.full(km.n_groups, np.nan)
    at = step[found]
    median[found] = km.time[at]
    with np.errstate(invalid="ignore"):  # S = 0 there: Greenwood's sum is infinite
        var[found] = km.survival[at] ** 2 * km.greenwood[at]
    return median, var


def _log_slope(
    km: stats.KaplanMeier, var: NDArray[np.float64], level: float
) -> NDArray[np.float64]:
    """Per stage: the density of log(dwell) at the median, read off the pooled curve.

    The Siddiqui-Bloch-Gastwirth difference quotient ``2h / (log t(0.5 + h) - log t(0.5 -
    h))`` of the Kaplan-Meier quantiles, with the Hall-Sheather bandwidth ``h`` (capped at
    0.25); where the curve does not reach ``0.5 + h``, the width of the median's
    Brookmeyer-Crowley interval stands in (``2 z sd(S(median)) / log(high / low)``, with
    `var` the variance of the survival at the median).
    """
    z = float(sps.norm.ppf(0.5 + level / 2))
    n = np.asarray(km.n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.minimum(
            n ** (-1 / 3) * z ** (2 / 3) * (1.5 * sps.norm.pdf(0.0) ** 2) ** (1 / 3), 0.25
        )
    h = np.nan_to_num(h, nan=0.25, posinf=0.25)
    ends = []
    for sign in (-1.0, 1.0):
        step, found = _quantile_step(km, 0.5 + sign * h)
        t = np.full(km.n_groups, np.nan)
        t[found] = km.time[step[found]]
        ends.append(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 2 * h / (np.log(ends[1]) - np.log(ends[0]))
    good = np.isfinite(out) & (out > 0)
    if not good.all():
        mid = _quantile_estimate(km, 0.5, km.confidence_band(level))
        with np.errstate(divide="ignore", invalid="ignore"):
            band = 2 * z * np.sqrt(var) / (np.log(mid.high) - np.log(mid.low))
        out = np.where(good, out, band)
    return np.where(np.isfinite(out) & (out > 0), out, np.nan)


def _dwell_benchmark(
    stays: _Stays,
    grouping: _common.Groups,
    median: tuple[NDArray[np.float64], NDArray[np.float64]],
    *,
    level: float,
    visits: NDArray[np.float64],
    n_boot: int,
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Top-quartile dwell benchmark per stage, and the impact interval (see `bottlenecks`).

    Returns the benchmark and the low and high ends of the impact interval.
    """
    km = stays.km
    n_s, n_g = km.n_groups, grouping.n
    current, var_c = median  # the pooled median and the variance of the survival there
    slope2 = _log_slope(km, var_c, level) ** 2
    rows = grouping.of_case[stays.case].astype(np.int64) * n_s + stays.stage
    km_g = _kaplan_meier(_sort_spells(stays.days, stays.ended, rows, n_g * n_s, 2), n_g * n_s)
    median_g, var_g = _median_variance(km_g)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.log(median_g.reshape(n_g, n_s).T)  # (stage, group) log medians
        se2 = var_g.reshape(n_g, n_s).T / slope2[:, None]
        se2_c = var_c / slope2
    x = np.where(np.isfinite(x), x, np.nan)  # a median of 0 days has no log
    fit = _random_effects(x, se2)
    ratio = np.exp(_nanquantile(fit.deviation, 0.25))
    bench = current * ratio

    # Parametric bootstrap of the model, the between-group variance drawn from its
    # confidence distribution, vectorised over (replicate, stage, group).
    rng = np.random.default_rng([seed, 1])
    u = rng.chisquare(np.maximum(fit.k - 1, 1), size=(n_boot, n_s))
    tau2 = _qprofile_draws(x, se2, u)
    noise = np.sqrt(se2)[None]
    truth = rng.standard_normal((n_boot, n_s, n_g)) * np.sqrt(tau2)[:, :, None]
    x_b = np.where(np.isnan(x)[None], np.nan, truth + rng.standard_normal(truth.shape) * noise)
    fit_b = _random_effects(x_b, np.broadcast_to(se2, x_b.shape))
    current_b = current * np.exp(rng.standard_normal((n_boot, n_s)) * np.sqrt(se2_c))
    reps = current_b * (1 - np.exp(_nanquantile(fit_b.deviation, 0.25))) * visits
    tail = (1 - level) / 2
    low, high = np.full(n_s, np.nan), np.full(n_s, np.nan)
    for s in np.flatnonzero(np.isfinite(bench)).tolist():  # one quantile per stage
        finite = reps[:, s][np.isfinite(reps[:, s])]
        if finite.size:
            low[s], high[s] = np.quantile(finite, [tail, 1 - tail])
    return bench, low, high


def _dwell_lens(
    ep: Episodes,
    funnel: Funnel,
    *,
    sla: Mapping[str, float] | None,
    grouping: _common.Groups | None,
    level: float,
    visits: NDArray[np.float64],
    n_boot: int,
    seed: int,
) -> _Rows:
    stages = [s.name for s in funnel.open_stages]
    n_s = len(stages)
    stays = _first_stays(ep)
    current, var_c = _median_variance(stays.km)
    if not np.isfinite(visits).all():
        # Where the chain cannot say, count stays per entering deal directly.
        is_open = ep.stage < n_s
        every = np.bincount(ep.stage[is_open], minlength=n_s)
        first = np.asarray(stays.km.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            observed = np.where(first > 0, every / np.maximum(first, 1), np.nan)
        visits = np.where(np.isfinite(visits), visits, observed)
    bench = np.full(n_s, np.nan)
    low = high = np.full(n_s, np.nan)
    if sla is not None:
        for name, days in sla.items():
            bench[stages.index(name)] = days
        mid = _quantile_estimate(stays.km, 0.5, stays.km.confidence_band(level))
        low = (mid.low - bench) * visits
        high = (mid.high - bench) * visits
    elif grouping is not None:
        bench, low, high = _dwell_benchmark(
            stays, grouping, (current, var_c), level=level, visits=visits, n_boot=n_boot, seed=seed
        )
    gap = current - bench
    impact = gap * visits
    explanation = []
    for i, name in enumerate(stages):
        explanation.append(
            f"Deals stay a median {_fmt(current[i])} days in {name} against a benchmark of "
            f"{_fmt(bench[i])}; with {_fmt(visits[i])} stays per deal that enters it, "
            f"meeting the benchmark would save {_fmt(impact[i])} days per deal "
            f"({_fmt(low[i])} to {_fmt(high[i])})."
        )
    return _Rows(
        lens="dwell",
        stage=stages,
        target=[None] * n_s,
        current=current,
        benchmark=bench,
        gap=gap,
        impact=impact,
        low=np.asarray(low, dtype=np.float64),
        high=np.asarray(high, dtype=np.float64),
        explanation=explanation,
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


# --------------------------------------------------------------------- the function


def _check_benchmark(value: object, stages: list[str], every: list[str]) -> object:
    if isinstance(value, str):
        return v.choice("benchmark", value, ("top_quartile",))
    if isinstance(value, Mapping):
        out = v.stage_mapping("benchmark", value, every, stages)
        return {k: v.fraction(f"benchmark[{k!r}]", x, inclusive=True) for k, x in out.items()}
    return v.fraction("benchmark", value, inclusive=True)


def _check_sla(value: object, stages: list[str], every: list[str]) -> dict[str, float] | None:
    if value is None:
        return None
    out = v.stage_mapping("sla", value, every, stages)
    return {k: _common.days(f"sla[{k!r}]", x) for k, x in out.items()}


def bottlenecks(
    log: EventLog,
    funnel: Funnel,
    *,
    benchmark: str | float | Mapping[str, float] = "top_quartile",
    by: str | None = "rep",
    as_of: object = None,
    confidence_level: float = 0.9,
    period: _common.Period = "month",
    sla: Mapping[str, float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> BottleneckReport:
    """Rank where the process loses the most, by stage and lens, with the numbers explained.

    Every open stage is seen through four lenses. Each row has a current value, a
    benchmark, the gap (positive when the stage does worse), an impact in a stated unit,
    an interval for the impact, and one sentence (`BottleneckReport.explain`). A row is a
    *finding* (``significant``) when its gap is positive and its impact interval excludes
    zero.

    **1. Conversion shortfall** (unit: wins per period). The current value is the stage's
    step rate over resolved first entries, as `salesstd.conversion` computes it by default
    (advanced / (advanced + lost); skips implied; open deals left out). The benchmark is:

    * ``"top_quartile"`` (default): each group of `by` (each rep) gets its own step rate,
      shrunk toward the population by empirical-Bayes beta-binomial
      (`salesstd.stats.beta_binomial_shrinkage`), so a rep with a handful of deals cannot
      set the bar; the benchmark is the 75th percentile of the shrunk rates. When reps do
      not differ beyond binomial noise, shrinkage pools them all at the population rate and
      the shortfall is 0. This lens sees stages where reps *differ*; a stage that is low
      for everyone needs a standard target instead:
    * a rate in [0, 1] for every stage, or a mapping ``{stage: rate}`` of standard targets
      (stages left out have no benchmark).

    ``impact = (benchmark - rate) x entries per period x P(win | advanced past the stage)``:
    the extra wins per period if the stage converted at the benchmark. *Entries per period*
    is the number of first entries into the stage divided by the log's span (first event
    to `as_of`) in periods of mean length (a month is 365.2425 / 12 days). *P(win | past
    the stage)* is the product of the later stages' step rates (1 for the last open
    stage), which assumes a linear funnel. The interval is a percentile interval from a
    parametric bootstrap of the fitted model, `n_boot` replicates: each group's rate at
    each stage is drawn from the fitted Beta(alpha, beta) (the pooled rate when the
    groups do not differ, and always with a given benchmark), its advances from the
    binomial with the group's resolved entries, and the entries from a Poisson with the
    observed count; the rates, the shrinkage (re-fitted), the benchmark, the downstream
    win probability and the impact are recomputed. Re-fitting the shrinkage carries the
    uncertainty of the spread between groups: when the groups barely differ, many
    replicates pool them and give a zero shortfall, so the interval reaches 0.

    **2. Dwell excess** (unit: days per deal). The current value is the Kaplan-Meier median
    dwell of the stage's first stays (`salesstd.time_in_stage`; open stays censored). The
    benchmark is the stage's `sla` in days when given; otherwise the dwell of the fastest
    quartile of the groups of `by`, corrected for noise as the conversion benchmark is:

    * each group's median is compared with the others on the log scale, with a standard
      error by the delta method: the Greenwood variance of the group's survival at its
      median over the squared density of log(dwell) there. The density is read off the
      pooled curve of the stage (the difference quotient ``2h / log(t(0.5 + h) / t(0.5 -
      h))`` of its quantiles, Hall-Sheather bandwidth ``h``; the width of its
      Brookmeyer-Crowley interval where the curve stops short of ``0.5 + h``): groups
      that differ by a scale factor share it, and a small group's own curve is too ragged
      to give it;
    * the log medians are shrunk by the normal-normal empirical-Bayes model: between-group
      variance ``tau²`` by DerSimonian-Laird, each group's deviation from the
      random-effects mean multiplied by ``tau² / (tau² + se²)``. The benchmark is the
      stage's median times ``exp`` of the 25th percentile of the shrunk deviations. When
      the groups do not differ beyond their noise (``tau² = 0``) every deviation shrinks
      to 0: the benchmark is the current median itself and the excess 0.

    ``impact = (median - benchmark) x visits``, the days of cycle time saved per deal that
    enters the stage, where *visits* is the expected number of stays in the stage per deal
    that enters it: the diagonal of the fundamental matrix of the Markov chain
    (`salesstd.MarkovFunnel.fundamental_matrix`; 1 without backward moves), or the
    observed every-stay / first-stay ratio where the chain cannot give it. With `sla`, the
    interval takes the median's Brookmeyer-Crowley interval, with the benchmark as given:
    ``(low - sla) x visits`` to ``(high - sla) x visits`` (its upper end NaN when open).
    With the top quartile, the benchmark is uncertain too, and the interval says so: it is
    the percentile interval of a parametric bootstrap of the model, `n_boot` replicates,
    each drawing ``tau²`` from its Q-profile confidence distribution (a spread that noise
    alone could explain often gives none), the groups' true log medians from ``N(0,
    tau²)`` and their estimates with their standard errors, and the stage's median from its
    own sampling distribution; the shrinkage is re-fitted and the impact recomputed. When
    the groups barely differ, many replicates pool them and give no excess, so the
    interval reaches 0 and the row is not a finding.

    **3. Work piling up** (unit: deals per period). The current value is the stage's work
    in progress at `as_of` (`salesstd.wip`). ``impact`` is how fast it grows: the mean
    excess of arrivals over departures (entries - exits, `salesstd.throughput`) over the
    last six periods (fewer if the log is shorter), which is the WIP's growth per period
    over them; the interval is the t interval of that mean (none under three periods). The
    benchmark is 0 (no growth). The net flows of successive periods are treated as
    independent; a regression on the WIP series itself would not be (a stock carries its
    past).

    **4. Leverage** (unit: elasticity), one row per observed move ``stage -> target``: the
    percent change in the win probability from the first stage per percent change in the
    move's probability, the other exits of `stage` rescaled
    (`salesstd.MarkovFunnel.sensitivity`); the current value is the move's probability.
    Leverage says where effort pays most, not what is broken: its rows have no benchmark
    or interval and are never findings; they rank after the findings, by elasticity.

    **Ranking.** Within a lens the rows are sorted by impact, with every row whose
    interval excludes zero before every row whose interval does not; ``rank`` numbers
    them. The report lists significant findings first, then by rank, then by lens.

    Args:
        log: Events to analyse.
        funnel: The process: open stages in order, won and lost.
        benchmark: ``"top_quartile"``, a rate in [0, 1], or ``{stage: rate}`` (conversion).
        by: The case attribute whose groups (reps, teams) define the top quartile, or None
            (then `benchmark` must be a rate or mapping, and the dwell lens needs `sla`).
        as_of: The censoring time (ISO string, date, datetime); default the log's last event.
        confidence_level: Coverage of the intervals, in (0, 1).
        period: ``"day"``, ``"week"``, ``"month"``, ``"quarter"`` or ``"year"``: the unit
            of "per period" and of the WIP series.
        sla: ``{stage: days}``: the dwell standard per stage (timedelta or days, > 0), or
            None for the top quartile of the groups.
        n_boot: Bootstrap replicates for the conversion intervals and the top-quartile
            dwell intervals, >= 1.
        seed: Seed of the bootstraps (the report is the same for the same seed).

    Returns:
        The ranked rows; `BottleneckReport.top` gives the findings.

    Raises:
        ParameterError: If an option has a bad value, `by` is not a case attribute (the
            message suggests the closest), or ``benchmark="top_quartile"`` with ``by=None``.
        UnknownStageError: If `benchmark` or `sla` names a stage the funnel lacks.

    Note:
        Empirical-Bayes shrinkage: Efron & Morris (1975), JASA 70(350), 311-319. Random
        effects: DerSimonian, R. and Laird, N. (1986), "Meta-analysis in clinical trials",
        *Controlled Clinical Trials* 7(3), 177-188. Q-profile: Viechtbauer, W. (2007),
        "Confidence intervals for the amount of heterogeneity in meta-analysis",
        *Statistics in Medicine* 26(1), 37-52. Median interval: Brookmeyer, R. and
        Crowley, J. (1982), *Biometrics* 38(1), 29-41. Density at a quantile: Bloch, D. A.
        and Gastwirth, J. L. (1968), *Ann. Math. Statist.* 39(3), 1083-1085; bandwidth:
        Hall, P. and Sheather, S. J. (1988), *JRSS B* 50(3), 381-391. Parametric bootstrap:
        Davison, A. C. and Hinkley, D. V. (1997), *Bootstrap Methods and their
        Application*, Cambridge, chapter 2.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "demo", "2024-01-03"),
        ...      ("d1", "won", "2024-01-05"),
        ...      ("d2", "lead", "2024-01-01"), ("d2", "lost", "2024-01-09"),
        ...      ("d3", "lead", "2024-01-02"), ("d3", "demo", "2024-01-04"),
        ...      ("d3", "lost", "2024-01-20"),
        ...      ("d4", "lead", "2024-01-03"), ("d4", "lost", "2024-01-31")])
        >>> f = ss.Funnel.linear(["lead", "demo", "won"], lost="lost")
        >>> report = ss.bottlenecks(log, f, by=None, benchmark={"lead": 0.9, "demo": 0.5},
        ...                         sla={"lead": 2, "demo": 2}, n_boot=50)
        >>> row = report.at("lead", lens="conversion")
        >>> row.current, row.benchmark, row.unit
        (0.5, 0.9, 'wins per period')
        >>> round(row.impact, 3)  # (0.9 - 0.5) x 4 entries in one month x 0.5 won after demo
        0.8
        >>> report.at("demo", lens="dwell").current  # median of 2 and 16 days
        2.0
    """
    stages = [s.name for s in funnel.open_stages]
    bench_opt = _check_benchmark(benchmark, stages, list(funnel.stage_names))
    sla_opt = _check_sla(sla, stages, list(funnel.stage_names))
    if by is None and bench_opt == "top_quartile":
        raise ParameterError(
            "benchmark='top_quartile' compares the groups of `by`, but by=None; pass "
            "by= a case attribute (such as 'rep'), or benchmark= a rate or {stage: rate}."
        )
    level = v.fraction("confidence_level", confidence_level)
    v.choice("period", period, _common.PERIODS)
    v.positive_int("n_boot", n_boot)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParameterError(f"seed must be a whole number; got {seed!r}.")
    grouping = _common.groups(log, by)

    # Every lens reads the strict episodes (recorded stages only); see `_step_counts`.
    strict = build_episodes(log, funnel, as_of=as_of, skips="strict")
    conv, n_cases = _conversion_lens(
        log,
        strict,
        funnel,
        benchmark=bench_opt,
        grouping=grouping,
        level=level,
        period=period,
        n_boot=n_boot,
        seed=seed,
    )
    # The Markov chain of `MarkovFunnel.from_log`, without its dwell curves (not used here).
    probabilities = _move_probabilities(strict)
    try:
        chain = mc.solve_chain(probabilities, strict.n_open)
        visits = np.diag(chain.fundamental).astype(np.float64)
    except (np.linalg.LinAlgError, ValueError):
        visits = np.full(strict.n_open, np.nan)
    dwell = _dwell_lens(
        strict,
        funnel,
        sla=sla_opt,
        grouping=None if by is None else grouping,
        level=level,
        visits=visits,
        n_boot=n_boot,
        seed=seed,
    )
    piling = _wip_lens(log, funnel, strict, level=level, period=period)
    leverage = _leverage_lens(_sensitivity(funnel.stage_names, strict.n_open, probabilities, 0))
    blocks = [conv, dwell, piling, leverage]

    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "stage",
            "target",
            "lens",
            "current",
            "benchmark",
            "gap",
            "impact",
            "low",
            "high",
            "significant",
            "rank",
            "lens_order",
            "explanation",
        )
    }
    for order, rows in enumerate(blocks):
        significant = (
            (rows.gap > 0) & (rows.low > 0)
            if rows.lens != "leverage"
            else np.zeros(len(rows.stage), dtype=bool)
        )
        sort_impact = np.where(np.isfinite(rows.impact), rows.impact, -np.inf)
        ranking = np.lexsort((-sort_impact, ~significant))
        rank = np.empty(len(rows.stage), dtype=np.int64)
        rank[ranking] = np.arange(1, len(rows.stage) + 1)
        cols["stage"] += rows.stage
        cols["target"] += rows.target
        cols["lens"] += [rows.lens] * len(rows.stage)
        cols["current"] += rows.current.tolist()
        cols["benchmark"] += rows.benchmark.tolist()
        cols["gap"] += rows.gap.tolist()
        cols["impact"] += rows.impact.tolist()
        cols["low"] += rows.low.tolist()
        cols["high"] += rows.high.tolist()
        cols["significant"] += significant.tolist()
        cols["rank"] += rank.tolist()
        cols["lens_order"] += [order] * len(rows.stage)
        cols["explanation"] += rows.explanation
    sig = np.array(cols["significant"], dtype=bool)
    rank_all = np.array(cols["rank"], dtype=np.int64)
    order_all = np.lexsort((np.array(cols["lens_order"]), rank_all, ~sig))

    def pick(name: str, dtype: type[Any]) -> NDArray[Any]:
        if dtype is object:
            return objects(cols[name])[order_all]
        out: NDArray[Any] = np.asarray(cols[name], dtype=dtype)
        return out[order_all]

    return BottleneckReport(
        stage=pick("stage", object),
        target=pick("target", object),
        lens=pick("lens", object),
        current=pick("current", np.float64),
        benchmark=pick("benchmark", np.float64),
        gap=pick("gap", np.float64),
        impact=pick("impact", np.float64),
        impact_low=pick("low", np.float64),
        impact_high=pick("high", np.float64),
        unit=objects([UNITS[x] for x in cols["lens"]])[order_all],
        significant=sig[order_all],
        rank=rank_all[order_all],
        explanation=pick("explanation", object),
        stages=tuple(stages),
        benchmark_option=bench_opt,
        sla=sla_opt,
        by=grouping.name,
        as_of=datetime_utc(strict.as_of),
        confidence_level=level,
        period=period,
        n_boot=n_boot,
        seed=seed,
        n_cases=n_cases,
    )
