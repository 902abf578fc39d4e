"""Empirical-Bayes shrinkage: beta-binomial rates, normal-normal random effects.

Private; `beta_binomial_shrinkage` is public through `salesstd.stats`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from salesstd.errors import ParameterError

__all__ = ["beta_binomial_shrinkage"]


def beta_binomial_shrinkage(
    successes: ArrayLike, trials: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Shrink each entity's rate toward the population by empirical-Bayes beta-binomial.

    Each entity ``i`` (a rep, a team) has ``x_i`` successes in ``n_i`` trials. The model
    takes its true rate from a common Beta(alpha, beta) distribution and ``x_i`` as binomial
    given that rate; the shrunk rate is the posterior mean ``(x_i + alpha) / (n_i + alpha +
    beta)``: an entity with few trials is pulled strongly toward the population rate, one
    with many keeps close to its own ``x_i / n_i``. An entity with no trials gets the
    population rate.

    alpha and beta are estimated by the method of moments on the last axis: the population
    rate is the pooled ``p = sum(x) / sum(n)`` and the intraclass correlation
    ``rho = 1 / (alpha + beta + 1)`` solves ``S = p (1 - p) ((k - 1) + rho (N - sum(n²) /
    N))``, where ``S = sum(n_i (x_i / n_i - p)²)`` over the ``k`` entities with trials and
    ``N = sum(n)``. **Fallback:** when the rates spread no more than binomial noise alone
    explains (``rho <= 0``), or every rate is 0 or 1 alike, the entities are taken not to
    differ: ``alpha`` and ``beta`` are infinite and every shrunk rate is ``p``. ``rho`` is
    capped just below 1 (no pooling at all).

    Args:
        successes: Successes per entity, shape ``(..., k)``; leading axes are independent
            problems (for example bootstrap replicates), solved at once.
        trials: Trials per entity, same shape, ``>= successes``.

    Returns:
        ``(shrunk_rates, alpha, beta)``: shrunk rates of the shape of `successes` (NaN
        where a problem has no trials at all), and alpha and beta of shape ``(...)``.

    Raises:
        ParameterError: If the shapes differ, a count is negative, or successes exceed
            trials.

    Note:
        The moment estimator of the beta-binomial is that of Kleinman, J. C. (1973),
        "Proportions with extraneous variance: single and independent samples", *Journal
        of the American Statistical Association* 68(341), 46-54; shrinking by the posterior
        mean is the empirical-Bayes estimate of Efron, B. and Morris, C. (1975), "Data
        analysis using Stein's estimator and its generalizations", *JASA* 70(350), 311-319.

    Examples:
        >>> rates, a, b = beta_binomial_shrinkage([2, 30, 60], [10, 100, 100])
        >>> [round(float(r), 3) for r in rates], round(float(a), 2), round(float(b), 2)
        ([0.281, 0.307, 0.592], 2.24, 2.87)
        >>> beta_binomial_shrinkage([5, 5], [10, 10])[0].tolist()
        [0.5, 0.5]
    """
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if x.shape != n.shape:
        raise ParameterError(
            f"successes and trials must have the same shape; got {x.shape} and {n.shape}."
        )
    if (x < 0).any() or (n < 0).any() or (x > n).any():
        raise ParameterError(
            "successes and trials must be counts with 0 <= successes <= trials per entity."
        )
    total_n = n.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x.sum(axis=-1) / total_n
        has = n > 0
        k = has.sum(axis=-1)
        own = np.where(has, x / np.where(has, n, 1.0), 0.0)
        spread = (n * (own - p[..., None]) ** 2).sum(axis=-1)
        binom = p * (1 - p)
        denom = total_n - (n**2).sum(axis=-1) / total_n
        rho = (spread / binom - (k - 1)) / denom
    pooled = ~(rho > 0) | ~(binom > 0)  # NaN (no trials, no spread) pools too
    rho = np.where(pooled, np.nan, np.minimum(rho, 1 - 1e-9))
    with np.errstate(invalid="ignore", divide="ignore"):
        size = 1 / rho - 1
        alpha = np.where(pooled, np.inf, p * size)
        beta = np.where(pooled, np.inf, (1 - p) * size)
        shrunk = (x + alpha[..., None]) / (n + size[..., None])
    shrunk = np.where(pooled[..., None], p[..., None], shrunk)
    return (
        np.asarray(shrunk, dtype=np.float64),
        np.asarray(alpha, dtype=np.float64),
        np.asarray(beta, dtype=np.float64),
    )


# ---------------------------------------------------------------------------------------------
# Vectorised helpers of the bottleneck benchmarks (private)
# ---------------------------------------------------------------------------------------------


def nanquantile(x: NDArray[np.float64], q: float) -> NDArray[np.float64]:
    """``numpy.nanquantile(x, q, axis=-1)`` (its default linear method), value for value.

    One sort of the last axis (NaN sorts last) and a gather of the two neighbours, where
    numpy's nanquantile calls a Python function per row. NaN where a row is all NaN.
    """
    ordered = np.sort(x, axis=-1)
    n = np.count_nonzero(~np.isnan(x), axis=-1)
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    gamma = virtual - previous
    last = np.maximum(n - 1, 0)
    lo = np.clip(previous, 0, last).astype(np.intp)
    hi = np.minimum(lo + 1, last)
    a = np.take_along_axis(ordered, lo[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(ordered, hi[..., None], axis=-1)[..., 0]
    diff = b - a
    out = a + diff * gamma  # numpy's _lerp, including its form for gamma >= 0.5
    out = np.where(gamma >= 0.5, b - diff * (1 - gamma), out)  # noqa: PLR2004
    return np.where(n > 0, out, np.nan)


class _RandomEffects(NamedTuple):
    """DerSimonian-Laird fit over the last axis (leading axes are separate problems)."""

    q: NDArray[np.float64]  # Cochran's Q around the fixed-effect mean
    k: NDArray[np.int64]  # estimates used (finite, with a finite positive variance)
    tau2: NDArray[np.float64]  # between-entity variance, >= 0 (NaN with fewer than 2)
    deviation: NDArray[np.float64]  # shrunk deviations from the random-effects mean


def random_effects(x: NDArray[np.float64], se2: NDArray[np.float64]) -> _RandomEffects:
    """Normal-normal empirical Bayes: ``x_i ~ N(theta_i, se2_i)``, ``theta_i ~ N(mu, tau2)``.

    ``tau2`` is the DerSimonian-Laird moment estimate; each entity's deviation from the
    random-effects mean ``mu`` is shrunk by ``tau2 / (tau2 + se2_i)`` (all 0 when
    ``tau2 = 0``: the entities do not differ beyond their noise). Entries with NaN `x` or a
    non-positive or non-finite `se2` are left out (NaN deviation).
    """
    ok = np.isfinite(x) & np.isfinite(se2) & (se2 > 0)
    safe_se2 = np.where(ok, se2, 1.0)
    xz = np.where(ok, x, 0.0)
    w = np.where(ok, 1.0 / safe_se2, 0.0)
    k = np.count_nonzero(ok, axis=-1)
    enough = k >= 2  # noqa: PLR2004 - no spread to estimate from fewer entities
    with np.errstate(invalid="ignore", divide="ignore"):
        sum_w = w.sum(axis=-1)
        mu = (w * xz).sum(axis=-1) / sum_w
        q = (w * (xz - mu[..., None]) ** 2).sum(axis=-1)
        scale = sum_w - (w**2).sum(axis=-1) / sum_w
        tau2 = np.where(enough, np.maximum(0.0, (q - (k - 1)) / scale), np.nan)
        w_re = np.where(ok, 1.0 / (safe_se2 + tau2[..., None]), 0.0)
        mu_re = (w_re * xz).sum(axis=-1) / w_re.sum(axis=-1)
        shrink = tau2[..., None] / (tau2[..., None] + safe_se2)
        deviation = np.where(ok & enough[..., None], shrink * (xz - mu_re[..., None]), np.nan)
    return _RandomEffects(np.where(enough, q, np.nan), k, tau2, deviation)


_QPROFILE_GRID = 512


def qprofile_draws(
    x: NDArray[np.float64], se2: NDArray[np.float64], u: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Draws of ``tau2`` from its Q-profile confidence distribution, one per `u`.

    The generalised Q statistic ``Q(tau2) = Σ (x_i - mu(tau2))² / (se2_i + tau2)``, with
    ``mu(tau2)`` the mean weighted by ``1 / (se2_i + tau2)``, is chi-square with ``k - 1``
    degrees of freedom at the true ``tau2`` and decreases in ``tau2``; solving ``Q(tau2) =
    u`` for ``u`` drawn from that chi-square gives draws whose quantiles are the Q-profile
    confidence limits (0 when ``u >= Q(0)``: homogeneity not rejected at that level).
    `x` and `se2` are ``(problems, k)`` (entries left out as in `random_effects`), `u` is
    ``(draws, problems)``; the equation is solved by interpolation on a grid of ``tau2``.
    """
    ok = np.isfinite(x) & np.isfinite(se2) & (se2 > 0)
    xz = np.where(ok, x, 0.0)
    safe_se2 = np.where(ok, se2, 1.0)
    k = np.count_nonzero(ok, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = xz.sum(axis=-1) / k
        spread = np.where(ok, (xz - mean[:, None]) ** 2, 0.0).sum(axis=-1)
        # Q(tau2) <= spread / tau2, so Q(top) <= u for every draw u >= u.min().
        top = spread / np.maximum(u.min(axis=0), 1e-12)
    grid = np.nan_to_num(top)[:, None] * np.linspace(0.0, 1.0, _QPROFILE_GRID) ** 2
    w = np.where(ok[:, None, :], 1.0 / (safe_se2[:, None, :] + grid[:, :, None]), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = (w * xz[:, None, :]).sum(axis=-1) / w.sum(axis=-1)
        q = (w * (xz[:, None, :] - mu[:, :, None]) ** 2).sum(axis=-1)  # decreasing in tau2
    out = np.full(u.shape, np.nan)
    for p in np.flatnonzero(k >= 2).tolist():  # noqa: PLR2004 - one interpolation per problem
        out[:, p] = np.interp(u[:, p], q[p, ::-1], grid[p, ::-1])
    return out
