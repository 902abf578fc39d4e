"""Case-resampling bootstrap of a `MarkovFunnel` (see `MarkovFunnel.bootstrap`).

Each replicate draws the cases with replacement, as a weight per case (how many times it was
drawn: ``bincount`` of ``n`` uniform draws among the ``n`` cases in scope), and re-weights
per-episode summaries instead of copying the log: the move counts are a weighted
``bincount`` over the moves, and the stay means come from a weighted Kaplan-Meier curve
computed on the stays sorted once by (stage, duration). With integer weights this is exactly
the estimator applied to the resampled log.
"""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._engine import chain as mc
from salesstd._engine.episodes import Episodes

MAX_REPLICATES = 100_000
"""The most bootstrap replicates `MarkovFunnel.bootstrap` draws (its `n_boot`)."""


@attrs.frozen(eq=False)
class _Stays:
    """Open-stage stays sorted by (stage, duration), with their tie groups."""

    case: NDArray[np.int32]
    observed: NDArray[np.float64]
    tie_starts: NDArray[np.int64]
    tie_stage_end: NDArray[np.int64]
    tie_width: NDArray[np.float64]
    stage_ties: NDArray[np.int64]  # offsets of each stage's tie groups, length n_open + 1
    stage_offsets: NDArray[np.int64]  # offsets of each stage's stays, length n_open + 1

    @classmethod
    def build(cls, ep: Episodes) -> _Stays:
        keep = np.flatnonzero(ep.stage < ep.n_open)
        stage = ep.stage[keep]
        dur = ep.duration_days()[keep]
        order = np.lexsort((dur, stage))
        stage, dur = stage[order], dur[order]
        n = stage.size
        new = np.ones(n, dtype=bool)
        if n > 1:
            new[1:] = (stage[1:] != stage[:-1]) | (dur[1:] != dur[:-1])
        tie_starts = np.flatnonzero(new)
        tie_stage = stage[tie_starts]
        tie_time = dur[tie_starts]
        stage_offsets = np.searchsorted(stage, np.arange(ep.n_open + 1)).astype(np.int64)
        stage_ties = np.searchsorted(tie_stage, np.arange(ep.n_open + 1)).astype(np.int64)
        prev = np.empty(tie_time.size)
        if tie_time.size:
            prev[1:] = tie_time[:-1]
        prev[stage_ties[:-1][stage_ties[:-1] < tie_time.size]] = 0.0
        return cls(
            case=ep.case[keep][order],
            observed=ep.moved[keep][order].astype(np.float64),
            tie_starts=tie_starts.astype(np.int64),
            tie_stage_end=stage_offsets[tie_stage + 1],
            tie_width=tie_time - prev,
            stage_ties=stage_ties,
            stage_offsets=stage_offsets,
        )

    def means(self, case_weight: NDArray[np.float64]) -> NDArray[np.float64]:
        """Weighted Kaplan-Meier area up to each stage's longest (unweighted) stay."""
        n_open = self.stage_ties.size - 1
        out = np.full(n_open, np.nan)
        if not self.tie_starts.size:
            return out
        w = case_weight[self.case]
        tail = np.zeros(w.size + 1)
        tail[:-1] = np.cumsum(w[::-1])[::-1]
        at_risk = tail[self.tie_starts] - tail[self.tie_stage_end]
        events = np.add.reduceat(w * self.observed, self.tie_starts)
        with np.errstate(divide="ignore", invalid="ignore"):
            keep = 1.0 - np.where(at_risk > 0, events / at_risk, 0.0)
        before = np.empty_like(keep)  # survival just before each tie group's time
        for k in range(n_open):
            lo, hi = int(self.stage_ties[k]), int(self.stage_ties[k + 1])
            if hi > lo:
                run = np.cumprod(keep[lo:hi])
                before[lo] = 1.0
                before[lo + 1 : hi] = run[:-1]
        area = before * self.tie_width
        for k in range(n_open):
            lo, hi = int(self.stage_ties[k]), int(self.stage_ties[k + 1])
            if hi > lo and at_risk[lo] > 0:
                out[k] = float(area[lo:hi].sum())
        return out


def replicates(
    ep: Episodes, n_boot: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Win probability and expected days to close per open stage, one row per replicate."""
    n_open, n_states = ep.n_open, ep.n_stages
    stays = _Stays.build(ep)
    moved = (ep.stage < n_open) & ep.moved
    code = (ep.stage[moved].astype(np.int64) * n_states + ep.next_stage[moved]).astype(np.int64)
    move_case = ep.case[moved]
    pool = np.flatnonzero(ep.in_scope)
    win = np.full((n_boot, n_open), np.nan)
    days = np.full((n_boot, n_open), np.nan)
    weight = np.zeros(ep.n_cases)
    for b in range(n_boot):
        weight[pool] = np.bincount(rng.integers(0, pool.size, pool.size), minlength=pool.size)
        counts = np.bincount(code, weights=weight[move_case], minlength=n_states * n_states)
        p = mc.probabilities(counts.reshape(n_states, n_states), n_open)
        chain = mc.solve_chain(p, n_open)
        win[b] = chain.win
        days[b] = mc.expected_times(p, n_open, stays.means(weight), chain, won=False)
    return win, days


def percentile_interval(
    values: NDArray[np.float64], confidence_level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Per column: the percentile interval of the finite replicates, and how many there are."""
    alpha = (1.0 - confidence_level) / 2.0
    n_col = values.shape[1]
    low, high = np.full(n_col, np.nan), np.full(n_col, np.nan)
    valid = np.isfinite(values).sum(axis=0).astype(np.int64)
    for k in range(n_col):
        col = values[:, k][np.isfinite(values[:, k])]
        if col.size:
            low[k], high[k] = np.quantile(col, [alpha, 1.0 - alpha])
    return low, high, valid
