"""How much the exit shares of each stage drift between periods; used by `forecast`.

``uncertainty="drift"`` treats the forecast window as one more period of the process: the
shares of the moves out of each open stage (to the next stage, to lost, ...) are allowed to
differ from period to period by as much as they did before `as_of`, beyond the binomial
(multinomial) noise of the counts. The between-period variation is a Dirichlet-multinomial
overdispersion, estimated per stage by the method of moments from Pearson's statistic over
the periods; each parameter draw takes its own overdispersion from the spread of that
estimate and tilts the stage's exit shares to a Dirichlet draw with it. Everything is
vectorised over stays, stages and periods.
"""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["ExitDrift", "exit_overdispersion", "tilt_exits"]

#: The overdispersion is capped below 1 (1: every period sends all its exits one way).
RHO_MAX = 1.0 - 1e-9


@attrs.frozen
class ExitDrift:
    """Per open stage: the overdispersion of its exit shares between periods (see below).

    Attributes:
        rho: The method-of-moments estimate, in ``[0, 1)``; 0 where it cannot be estimated.
        periods: Periods with at least one exit from the stage (``I``).
        pearson: Pearson's statistic ``X2`` over the periods x destinations table.
        df: Its degrees of freedom ``(I - 1)(J - 1)``, ``J`` the destinations seen.
        scale: ``sum_i (n_i - 1)(1 - n_i / N) / (I - 1)``: the dispersion of the counts is
            ``phi = 1 + rho x scale`` (``E[X2] = df x phi``).
    """

    rho: NDArray[np.float64]
    periods: NDArray[np.int64]
    pearson: NDArray[np.float64]
    df: NDArray[np.int64]
    scale: NDArray[np.float64]

    def draw(self, rng: np.random.Generator) -> NDArray[np.float64]:
        """One overdispersion per stage from the spread of its estimate.

        The dispersion is drawn as ``phi = X2 / chi2(df)`` (the scaled inverse chi-square
        distribution of a Pearson dispersion estimate, its posterior under the usual
        scale-invariant prior) and turned into ``rho = (phi - 1) / scale``, cut to
        ``[0, 1)``: with few periods the drift is poorly known and the draws spread widely,
        with many they stay near the estimate. Stages without an estimate get 0.
        """
        usable = (self.df > 0) & (self.scale > 0)
        chi2 = rng.chisquare(np.maximum(self.df, 1).astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = (self.pearson / chi2 - 1.0) / self.scale
        return np.where(usable, np.clip(np.nan_to_num(rho), 0.0, RHO_MAX), 0.0)


def exit_overdispersion(
    stage: NDArray[np.intp],
    next_stage: NDArray[np.intp],
    period: NDArray[np.int64],
    *,
    n_open: int,
    n_stages: int,
) -> ExitDrift:
    """Per open stage: the between-period overdispersion of its exit shares.

    One row per exit (a stay that moved): the stage left, the stage entered and the period
    of the exit. For a stage with exits in periods ``i = 1..I`` (``n_i`` exits, ``x_ij`` of
    them to destination ``j``; ``N = sum n_i``, pooled shares ``p_j = sum_i x_ij / N``,
    ``J`` destinations seen), the model is Dirichlet-multinomial: each period has its own
    shares, drawn around ``p`` with ``Var = rho p_j (1 - p_j)``, and its exits are
    multinomial given them. Pearson's statistic
    ``X2 = sum_ij (x_ij - n_i p_j)^2 / (n_i p_j)`` then has expectation
    ``(J - 1) [(I - 1) + rho sum_i (n_i - 1)(1 - n_i / N)]``, and
    ``rho = (X2 / (J - 1) - (I - 1)) / sum_i (n_i - 1)(1 - n_i / N)``, cut to ``[0, 1)``.
    It is 0 (no drift is added) when the stage has exits in fewer than two periods, or
    only one destination.
    """
    labels, pid = np.unique(period, return_inverse=True)
    x = np.zeros((n_open, labels.size, n_stages))
    np.add.at(x, (stage, pid, next_stage), 1.0)
    n = x.sum(axis=2)  # (n_open, I)
    total = n.sum(axis=1)  # (n_open,)
    seen = n > 0
    periods = seen.sum(axis=1).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.nan_to_num(x.sum(axis=1) / total[:, None])  # (n_open, n_stages)
        share = np.nan_to_num(n / total[:, None])
        expected = n[:, :, None] * p[:, None, :]
        cells = np.where(expected > 0, (x - expected) ** 2 / expected, 0.0)
    pearson = cells.sum(axis=(1, 2))
    destinations = (p > 0).sum(axis=1)
    df = np.maximum(periods - 1, 0) * np.maximum(destinations - 1, 0)
    spread = np.where(seen, (n - 1.0) * (1.0 - share), 0.0).sum(axis=1)
    usable = (df > 0) & (spread > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(usable, spread / np.maximum(periods - 1, 1), 0.0)
        rho = (pearson / df - 1.0) / scale
    rho = np.where(usable, np.clip(np.nan_to_num(rho), 0.0, RHO_MAX), 0.0)
    return ExitDrift(rho=rho, periods=periods, pearson=pearson, df=df, scale=scale)


def tilt_exits(
    stage: NDArray[np.intp],
    next_stage: NDArray[np.intp],
    moved: NDArray[np.bool_],
    weight: NDArray[np.float64],
    rho: NDArray[np.float64],
    rng: np.random.Generator,
    *,
    n_stages: int,
) -> NDArray[np.float64]:
    """Reweight the moves so that each stage's exit shares are one period's draw.

    With ``p`` the (weighted) exit shares of an open stage, its period shares are
    ``q ~ Dirichlet(p (1 - rho) / rho)`` (mean ``p``, variance ``rho p (1 - p)``), and every
    move from the stage to ``j`` has its weight multiplied by ``q_j / p_j``: the weighted
    shares of the moves become ``q``, and the stay curve follows the new mix of exits (more
    stays ending as the lost ones end, when more are lost). Stages with ``rho = 0`` and the
    stays still open are left as they are.
    """
    n_open = rho.size
    m = moved
    counts = np.zeros((n_open, n_stages))
    np.add.at(counts, (stage[m], next_stage[m]), weight[m])
    with np.errstate(invalid="ignore", divide="ignore"):
        p = counts / counts.sum(axis=1, keepdims=True)
        concentration = np.where(rho > 0, (1.0 - rho) / rho, 1.0)
    shape = np.nan_to_num(p) * concentration[:, None]
    gamma: NDArray[np.float64] = np.asarray(rng.standard_gamma(shape), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = gamma / gamma.sum(axis=1, keepdims=True)
        ratio = q / p
    usable = (rho > 0)[:, None] & (p > 0) & np.isfinite(ratio)
    usable &= (gamma.sum(axis=1) > 0)[:, None]
    ratio = np.where(usable, ratio, 1.0)
    out: NDArray[np.float64] = weight.copy()
    out[m] *= ratio[stage[m], next_stage[m]]
    return out
