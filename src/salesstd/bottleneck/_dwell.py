"""The dwell lens of `bottlenecks`: median stays against an SLA or a noise-corrected top quartile.

Private; see `salesstd.bottleneck`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import lazy
from salesstd._base import text as _text
from salesstd._engine import grouping as _common
from salesstd._engine.episodes import NS_PER_DAY, Episodes
from salesstd.bottleneck._lenses import _interval, _percentile_interval, _Rows
from salesstd.stats import kaplan_meier_sorted as _kaplan_meier
from salesstd.stats import nanquantile as _nanquantile
from salesstd.stats import qprofile_draws as _qprofile_draws
from salesstd.stats import quantile_estimate as _quantile_estimate
from salesstd.stats import quantile_step as _quantile_step
from salesstd.stats import random_effects as _random_effects
from salesstd.stats import sort_spells as _sort_spells

if TYPE_CHECKING:
    from salesstd.funnel import Funnel


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
    z = float(lazy.sps.norm.ppf(0.5 + level / 2))
    n = np.asarray(km.n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.minimum(
            n ** (-1 / 3) * z ** (2 / 3) * (1.5 * lazy.sps.norm.pdf(0.0) ** 2) ** (1 / 3), 0.25
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


def _quartile_ratio(deviation: NDArray[np.float64]) -> NDArray[np.float64]:
    """How much faster the fastest quarter of the groups is than the typical (median) group.

    ``exp`` of the 25th minus the 50th percentile of the shrunk log-median deviations
    (last axis): at most 1, and exactly 1 when the groups do not differ (all 0).
    """
    return np.exp(_nanquantile(deviation, 0.25) - _nanquantile(deviation, 0.5))


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
    bench = current * _quartile_ratio(fit.deviation)
    impact = (current - bench) * visits

    # Parametric bootstrap of the model for the groups at hand (Laird and Louis), vectorised
    # over (replicate, stage, group): tau2 is drawn from its Q-profile confidence
    # distribution; given it, each group's true log median from its posterior (its
    # estimate shrunk toward the random-effects mean, with the posterior variance), and a
    # new estimate around that with the group's standard error. The shrinkage is re-fitted
    # and the impact recomputed, so the replicates vary around this report's estimate.
    rng = np.random.default_rng([seed, 1])
    u = rng.chisquare(np.maximum(fit.k - 1, 1), size=(n_boot, n_s))
    tau2 = _qprofile_draws(x, se2, u)[:, :, None]
    ok = np.isfinite(x) & np.isfinite(se2) & (se2 > 0)
    xz = np.where(ok, x, 0.0)[None]
    safe_se2 = np.where(ok, se2, 1.0)[None]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(ok[None], 1.0 / (safe_se2 + tau2), 0.0)
        mu = (w * xz).sum(axis=-1, keepdims=True) / w.sum(axis=-1, keepdims=True)
        shrink = tau2 / (tau2 + safe_se2)
    post_mean = mu + shrink * (xz - mu)
    post_sd = np.sqrt(shrink * safe_se2)
    noise = rng.standard_normal((2, n_boot, n_s, n_g))
    x_b = np.where(ok[None], post_mean + post_sd * noise[0] + np.sqrt(safe_se2) * noise[1], np.nan)
    fit_b = _random_effects(x_b, np.broadcast_to(se2, x_b.shape))
    current_b = current * np.exp(rng.standard_normal((n_boot, n_s)) * np.sqrt(se2_c))
    reps = current_b * (1 - _quartile_ratio(fit_b.deviation)) * visits
    low, high = _percentile_interval(reps, impact, level)
    return bench, low, high


def _dwell_sentence(name: str, numbers: tuple[float, ...], *, source: str, level: float) -> str:
    current, bench, visits, impact, low, high = numbers
    if not np.isfinite(current):
        return (
            f"Fewer than half of the deals that entered {name} have left it: its median "
            "stay is not reached yet."
        )
    head = f"Deals stay a median {_text.days(current)} in {name}"
    if not np.isfinite(bench):
        return f"{head}; there is no benchmark for it (pass sla= or by=)."
    interval = _interval(low, high, level, "days per deal")
    if current <= bench:
        return (
            f"{head}, within the benchmark of {_text.days(bench)} ({source}): nothing to "
            f"save ({interval})."
        )
    return (
        f"{head} against a benchmark of {_text.days(bench)} ({source}); with "
        f"{_text.plural(visits, 'stay')} per deal that enters it, meeting the benchmark would "
        f"save {_text.days(impact)} per deal ({interval})."
    )


def _dwell_lens(
    ep: Episodes,
    funnel: Funnel,
    stays: _Stays,
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
    source = "no benchmark"
    if sla is not None:
        source = "the SLA"
        for name, days in sla.items():
            bench[stages.index(name)] = days
        mid = _quantile_estimate(stays.km, 0.5, stays.km.confidence_band(level))
        low = (mid.low - bench) * visits
        high = (mid.high - bench) * visits
    elif grouping is not None:
        source = f"the fastest quarter of {grouping.name}, shrunk for noise"
        bench, low, high = _dwell_benchmark(
            stays, grouping, (current, var_c), level=level, visits=visits, n_boot=n_boot, seed=seed
        )
    gap = current - bench
    impact = gap * visits
    explanation = [
        _dwell_sentence(
            name,
            (current[i], bench[i], visits[i], impact[i], low[i], high[i]),
            source=source,
            level=level,
        )
        for i, name in enumerate(stages)
    ]
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
