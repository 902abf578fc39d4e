"""Confidence intervals for binomial proportions (Wilson, Jeffreys).

Private; `proportion_interval` is public through `salesstd.stats`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from salesstd._base import lazy
from salesstd._base import validation as v
from salesstd.errors import ParameterError
from salesstd.stats._common import Bounds, _z

__all__ = ["proportion_interval"]


def proportion_interval(
    successes: ArrayLike,
    trials: ArrayLike,
    *,
    confidence_level: float = 0.95,
    method: Literal["wilson", "jeffreys"] = "wilson",
) -> Bounds:
    """Two-sided confidence interval for a binomial proportion, for many counts at once.

    The proportion is ``successes / trials``; `successes` and `trials` are broadcast against
    each other, so one call covers every stage or group. Where ``trials`` is 0 the bounds are
    NaN: there is no rate to bound.

    - ``"wilson"``: the score interval, without continuity correction,
      ``(k + z²/2 ± z·sqrt(k(n-k)/n + z²/4)) / (n + z²)``, with ``z`` the normal quantile at
      ``(1 + confidence_level) / 2``. It is 0 at ``k = 0`` and 1 at ``k = n``.
    - ``"jeffreys"``: the equal-tailed interval of the Beta(k + 1/2, n - k + 1/2) posterior,
      with the usual boundary fix: the lower bound is 0 when ``k = 0`` and the upper bound 1
      when ``k = n``.

    Args:
        successes: Number of successes (whole numbers >= 0), any shape.
        trials: Number of trials (whole numbers >= `successes`), broadcastable with
            `successes`.
        confidence_level: Coverage of the interval, between 0 and 1 (exclusive).
        method: ``"wilson"`` or ``"jeffreys"``.

    Returns:
        ``(low, high)`` float arrays of the broadcast shape (0-dimensional for scalar
        inputs; ``float(low)`` gives the number).

    Raises:
        ParameterError: If a count is negative, fractional or not finite, if successes exceed
            trials, or if `confidence_level` or `method` is invalid.

    Note:
        Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
        inference. *JASA* 22(158), 209-212. Jeffreys interval: Brown, L. D., Cai, T. T. and
        DasGupta, A. (2001). Interval estimation for a binomial proportion. *Statistical
        Science* 16(2), 101-133, which recommends both intervals over the Wald interval.
        The Wilson bounds equal ``scipy.stats.binomtest(k, n).proportion_ci(level,
        method="wilson")``.

    Examples:
        >>> low, high = proportion_interval([3, 0], [10, 4])
        >>> low.round(4).tolist(), high.round(4).tolist()
        ([0.1078, 0.0], [0.6032, 0.4899])
        >>> low, high = proportion_interval(3, 10, method="jeffreys")
        >>> round(float(low), 4), round(float(high), 4)
        (0.0927, 0.6058)
    """
    level = v.fraction("confidence_level", confidence_level)
    kind = v.choice("method", method, ("wilson", "jeffreys"))
    k, n = _counts(successes, trials)
    if kind == "wilson":
        low, high = _wilson(k, n, level)
    else:
        low, high = _jeffreys(k, n, level)
    return Bounds(low, high)


def _counts(successes: ArrayLike, trials: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    k = _whole("successes", successes)
    n = _whole("trials", trials)
    try:
        k, n = np.broadcast_arrays(k, n)
    except ValueError as err:
        raise ParameterError(
            f"successes and trials must have broadcastable shapes; got {k.shape} and {n.shape}."
        ) from err
    over = k > n
    if over.any():
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(over)), over.shape))
        where = f" at index {at[0] if len(at) == 1 else at}" if over.ndim else ""
        raise ParameterError(
            f"successes must not exceed trials; got successes={k[at]:g} > trials={n[at]:g}"
            f"{where}. Pass the number of trials as the second argument.",
            parameter="successes",
        )
    return k, n


def _whole(name: str, values: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise ParameterError(
            f"{name} must be whole numbers; got dtype {arr.dtype} ({values!r}).", parameter=name
        )
    out = arr.astype(np.float64)
    bad = ~np.isfinite(out) | (out < 0) | (out != np.floor(out))
    if bad.any():
        first = out.flat[int(np.argmax(bad))]
        raise ParameterError(f"{name} must be whole numbers >= 0; got {first:g}.", parameter=name)
    return out


def _wilson(
    k: NDArray[np.float64], n: NDArray[np.float64], level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    z = _z(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 2 * (n + z**2)
        center = (2 * n * p + z**2) / denom
        delta = z / denom * np.sqrt(4 * n * p * (1 - p) + z**2)
        low = np.where(k == 0, 0.0, center - delta)
        high = np.where(k == n, 1.0, center + delta)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _jeffreys(
    k: NDArray[np.float64], n: NDArray[np.float64], level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    tail = 0.5 * (1.0 - level)
    a = k + 0.5
    b = n - k + 0.5
    low = np.where(k == 0, 0.0, lazy.special.betaincinv(a, b, tail))
    high = np.where(k == n, 1.0, lazy.special.betainccinv(a, b, tail))
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)
