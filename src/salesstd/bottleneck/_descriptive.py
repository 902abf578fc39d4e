"""The descriptive lenses of `bottlenecks`: where the funnel loses deals, where they stay longest.

They compare with no benchmark and claim no improvement: they say where the funnel stands,
so that a report on a funnel that plainly loses deals is never empty, even when the groups
do not differ. Private; see `salesstd.bottleneck`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import text as _text
from salesstd._engine.episodes import NS_PER_DAY, Episodes
from salesstd.bottleneck._dwell import _median_variance, _Stays
from salesstd.bottleneck._lenses import _interval, _Rows, _StepTotals
from salesstd.stats import quantile_estimate as _quantile_estimate

if TYPE_CHECKING:
    from salesstd.funnel import Funnel

#: Tells the reader a descriptive sentence sets no target.
_NO_CLAIM = "Descriptive: no benchmark, so it does not say this can improve."


def _ranks(key: NDArray[np.float64]) -> NDArray[np.int64]:
    """1 + how many finite keys are larger (ties share a rank); NaN ranks after all."""
    finite = np.sort(key[np.isfinite(key)])
    larger = finite.size - np.searchsorted(finite, key, side="right")
    return np.where(np.isfinite(key), larger + 1, key.size).astype(np.int64)


def _ordinal(rank: int) -> str:
    """``1 -> ""``, ``2 -> "2nd "``, ``3 -> "3rd "``, ``11 -> "11th "``."""
    if rank == 1:
        return ""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    if 11 <= rank % 100 <= 13:  # noqa: PLR2004
        suffix = "th"
    return f"{rank}{suffix} "


def _losses_lens(funnel: Funnel, totals: _StepTotals, *, level: float) -> _Rows:
    """Per open stage: the share of its resolved first entries that were lost there.

    The impact is that share (lost / (advanced + lost)) with its Wilson interval; the
    current value is the number of deals lost. Open deals are left out, as in `conversion`.
    """
    stages = [s.name for s in funnel.open_stages]
    n_s = len(stages)
    lost = totals.lost.astype(np.float64)
    resolved = (totals.advanced + totals.lost).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = lost / resolved
    low, high = stats.proportion_interval(totals.lost, totals.advanced + totals.lost,
                                          confidence_level=level)  # fmt: skip
    by_share, by_count = _ranks(share), _ranks(lost)
    explanation = []
    for i, name in enumerate(stages):
        open_now = int(totals.entered[i] - resolved[i])
        still = f"; {_text.plural(open_now, 'deal')} still open there" if open_now else ""
        if resolved[i] == 0:
            explanation.append(f"{name} has no resolved entries yet{still}. {_NO_CLAIM}")
            continue
        ranking = (
            f": the {_ordinal(int(by_share[i]))}largest share of the {n_s} open stages, and "
            f"the {_ordinal(int(by_count[i]))}most deals lost"
            if n_s > 1
            else ""
        )
        explanation.append(
            f"{name} loses {_text.percent(share[i])} of its resolved entries "
            f"({_text.count(lost[i])} of {_text.count(resolved[i])} lost{still}; "
            f"{_interval(low[i], high[i], level, fmt=_text.percent)}){ranking}. {_NO_CLAIM}"
        )
    nan = np.full(n_s, np.nan)
    return _Rows(
        lens="losses",
        stage=stages,
        target=[None] * n_s,
        current=lost,
        benchmark=nan,
        gap=nan,
        impact=share,
        low=np.asarray(low, dtype=np.float64),
        high=np.asarray(high, dtype=np.float64),
        explanation=explanation,
    )


def _time_lens(ep: Episodes, funnel: Funnel, stays: _Stays, *, level: float) -> _Rows:
    """Per open stage: the Kaplan-Meier median of first stays (open stays censored).

    The impact is that median in days with its Brookmeyer-Crowley interval; the sentence
    adds the days all stays there add up to (open ones counted up to `as_of`).
    """
    stages = [s.name for s in funnel.open_stages]
    n_s = len(stages)
    median, _ = _median_variance(stays.km)
    mid = _quantile_estimate(stays.km, 0.5, stays.km.confidence_band(level))
    is_open = ep.stage < n_s
    spent = (ep.exit[is_open] - ep.enter[is_open]) / NS_PER_DAY  # float: no int64 overflow
    total = np.bincount(ep.stage[is_open], weights=spent, minlength=n_s)
    still = np.bincount(stays.stage[~stays.ended], minlength=n_s)
    first = np.bincount(stays.stage, minlength=n_s)
    by_median, by_total = _ranks(median), _ranks(total.astype(np.float64))
    explanation = []
    for i, name in enumerate(stages):
        open_part = f", {_text.count(still[i])} still there" if still[i] else ""
        stays_part = f"{_text.plural(first[i], 'deal')} entered{open_part}"
        days_part = f"all stays there add up to {_text.count(round(total[i]))} deal-days" + (
            f", the {_ordinal(int(by_total[i]))}most of the {n_s} open stages" if n_s > 1 else ""
        )
        if not np.isfinite(median[i]):
            explanation.append(
                f"Fewer than half of the deals that entered {name} have left it ({stays_part}):"
                f" its median stay is not reached yet; {days_part}. {_NO_CLAIM}"
            )
            continue
        explanation.append(
            f"Deals stay a median {_text.days(median[i])} in {name} ({stays_part}; "
            f"{_interval(mid.low[i], mid.high[i], level, 'days')})"
            + (f": the {_ordinal(int(by_median[i]))}longest median stay" if n_s > 1 else "")
            + f"; {days_part}. {_NO_CLAIM}"
        )
    nan = np.full(n_s, np.nan)
    return _Rows(
        lens="time",
        stage=stages,
        target=[None] * n_s,
        current=median,
        benchmark=nan,
        gap=nan,
        impact=median,
        low=np.asarray(mid.low, dtype=np.float64),
        high=np.asarray(mid.high, dtype=np.float64),
        explanation=explanation,
    )
