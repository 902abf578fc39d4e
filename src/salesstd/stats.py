"""Interval estimates and survival curves for many groups at once.

The metrics modules call these building blocks many times, so every function works on whole
arrays: proportions are broadcast over counts, and survival curves are estimated for all
groups (stages, teams, reps, ...) in one pass: one sort by (group, time), then counts per
distinct time and cumulative sums that restart at each group. Nothing loops over observations
in Python; groups are looped over only to sort each one's block of durations, when they are
few and large (see `_sort_spells`).

Curves are stored the way `EventLog` stores cases: the steps of all groups concatenated, in
group order, with ``group_offsets`` of length ``n_groups + 1``, so group ``g`` is the slice
``group_offsets[g]:group_offsets[g + 1]``.

Durations are plain floats in whatever unit the caller chose (the metrics modules pass days);
right-censored observations (deals still open) count as at risk up to their censoring time and
are never treated as failures.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from salesstd import _validate as v
from salesstd._results import array_eq as _eq
from salesstd.errors import ParameterError

__all__ = [
    "Bounds",
    "CumulativeIncidence",
    "Interval",
    "KaplanMeier",
    "QuantileEstimate",
    "RestrictedMean",
    "beta_binomial_shrinkage",
    "cumulative_incidence",
    "kaplan_meier",
    "proportion_interval",
]

# A survival value within this distance of 1 - q counts as reaching it, so that a curve that
# lands exactly on 0.5 (n/2 events among n uncensored cases) has its median there whichever
# way the last bit of the product rounds.
_TOL = 1e-10


@attrs.frozen
class Interval:
    """A confidence interval for one estimate.

    Attributes:
        low: Lower bound.
        high: Upper bound.
        level: Confidence level, a fraction such as 0.95.
        method: How the interval was computed, such as ``"wilson"``.

    Examples:
        >>> Interval(0.1, 0.4, 0.95, "wilson")
        Interval(low=0.1, high=0.4, level=0.95, method='wilson')
    """

    low: float = attrs.field(converter=float)
    high: float = attrs.field(converter=float)
    level: float = attrs.field(converter=float)
    method: str = attrs.field(converter=str)


class Bounds(NamedTuple):
    """Lower and upper bounds of intervals, as arrays of one shape."""

    low: NDArray[np.float64]
    high: NDArray[np.float64]


class QuantileEstimate(NamedTuple):
    """A quantile of survival time per group, with its confidence interval.

    NaN where the curve (for `value`), its lower band (for `low`) or its upper band (for
    `high`) never reaches the target level during follow-up.
    """

    value: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]


class RestrictedMean(NamedTuple):
    """Restricted mean survival time per group and its standard error."""

    value: NDArray[np.float64]
    standard_error: NDArray[np.float64]


# ---------------------------------------------------------------------------------------------
# Proportions
# ---------------------------------------------------------------------------------------------


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
            f"{where}. Pass the number of trials as the second argument."
        )
    return k, n


def _whole(name: str, values: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise ParameterError(f"{name} must be whole numbers; got dtype {arr.dtype} ({values!r}).")
    out = arr.astype(np.float64)
    bad = ~np.isfinite(out) | (out < 0) | (out != np.floor(out))
    if bad.any():
        first = out.flat[int(np.argmax(bad))]
        raise ParameterError(f"{name} must be whole numbers >= 0; got {first:g}.")
    return out


def _z(level: float) -> float:
    return float(special.ndtri(0.5 + 0.5 * level))


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
    low = np.where(k == 0, 0.0, special.betaincinv(a, b, tail))
    high = np.where(k == n, 1.0, special.betainccinv(a, b, tail))
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


# ---------------------------------------------------------------------------------------------
# Shared machinery: read-only arrays, sorting and counting by (group, time)
# ---------------------------------------------------------------------------------------------


def _seal(values: ArrayLike) -> NDArray[Any]:
    """A read-only array: taken as is if already sealed and owning its data, else copied."""
    if isinstance(values, np.ndarray) and not values.flags.writeable and values.base is None:
        return values
    arr = np.array(values, copy=True)
    arr.flags.writeable = False
    return arr


def _owned(arr: NDArray[Any]) -> NDArray[Any]:
    """Seal a freshly computed array without copying it (when it owns its memory)."""
    out = arr if arr.base is None else arr.copy()
    out.flags.writeable = False
    return out


class _Table(NamedTuple):
    """Counts per distinct (group, time), in (group, time) order."""

    group: NDArray[np.intp]  # group of each distinct time
    time: NDArray[np.float64]
    at_risk: NDArray[np.int64]  # observations in the group with duration >= time
    counts: NDArray[np.int64]  # (runs, n_codes): observations ending there with each code
    n: NDArray[np.int64]  # observations per group
    n_groups: int


class _Spells(NamedTuple):
    """Observations sorted by (group, duration); group ``g`` is ``offsets[g]:offsets[g + 1]``."""

    time: NDArray[np.float64]
    code: NDArray[Any]  # narrow integer code of each observation
    offsets: NDArray[np.int64]


def _durations(values: ArrayLike) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"durations must be numbers; got {values!r}.") from err
    if arr.ndim != 1:
        raise ParameterError(f"durations must be one-dimensional; got shape {arr.shape}.")
    bad = ~(arr >= 0) | np.isinf(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise ParameterError(
            f"durations must be finite and >= 0; got {arr[i].item()!r} at position {i}. "
            "Measure each duration from the start of the spell."
        )
    return arr


def _codes(
    name: str, values: ArrayLike, size: int, *, limit: int | None, limit_name: str
) -> NDArray[np.intp]:
    arr = np.asarray(values)
    if arr.shape != (size,):
        raise ParameterError(f"{name} must have one entry per duration ({size}); got {arr.shape}.")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)):
            arr = arr.astype(np.int64)
        elif size:
            raise ParameterError(f"{name} must be integer codes; got dtype {arr.dtype}.")
        else:
            arr = arr.astype(np.int64)
    if size and int(arr.min()) < 0:
        i = int(np.argmin(arr))
        raise ParameterError(f"{name} must be >= 0; got {arr[i]} at position {i}.")
    if limit is not None and size and int(arr.max()) >= limit:
        i = int(np.argmax(arr))
        raise ParameterError(
            f"{name} must be < {limit_name}={limit}; got {arr[i]} at position {i}. "
            f"Pass {limit_name}={int(arr[i]) + 1} or more."
        )
    return arr.astype(np.intp, copy=False)


def _observed(values: ArrayLike, size: int) -> NDArray[np.intp]:
    arr = np.asarray(values)
    if arr.shape != (size,):
        raise ParameterError(
            f"observed must have one entry per duration ({size}); got shape {arr.shape}."
        )
    if arr.dtype.kind == "b":
        return arr.astype(np.intp)
    if arr.dtype.kind in "iuf":
        ok = (arr == 0) | (arr == 1)
        if ok.all():
            return arr.astype(np.intp)
        i = int(np.argmin(ok))
        raise ParameterError(
            f"observed must be True (event) or False (censored); got {arr[i].item()!r} "
            f"at position {i}."
        )
    raise ParameterError(f"observed must be booleans; got dtype {arr.dtype}.")


def _n_groups(groups: ArrayLike | None, n_groups: int | None, size: int) -> tuple[Any, int]:
    if n_groups is not None:
        v.positive_int("n_groups", n_groups)
    if groups is None:
        return None, 1 if n_groups is None else n_groups
    codes = _codes("groups", groups, size, limit=n_groups, limit_name="n_groups")
    if n_groups is None:
        n_groups = int(codes.max()) + 1 if size else 0
    return codes, n_groups


def _small_int(limit: int) -> type[np.signedinteger[Any]]:
    """The narrowest signed integer type that holds 0 .. limit (narrow codes gather fast)."""
    for kind in (np.int8, np.int16, np.int32):
        if limit <= np.iinfo(kind).max:
            return kind
    return np.int64


# Sorting each group's durations on its own pays while the Python call per group costs less
# than the argsort it replaces: at most this many groups, and at least this many
# observations per group on average.
_MAX_GROUP_SORTS = 4096
_MIN_PER_GROUP_SORT = 64
_ONE = np.uint64(1)


def _sort_spells(
    durations: NDArray[np.float64],
    codes: NDArray[Any],
    groups: NDArray[np.integer[Any]] | None,
    n_groups: int,
    n_codes: int,
) -> _Spells:
    """Sort by (group, time): a stable radix sort of the narrow group codes, then the times.

    With two codes (event or censored) the code rides in the lowest bit of the duration's
    bit pattern (a duration >= 0 sorts like its IEEE bits read as an unsigned integer), so
    each group's block is sorted by value, with no argsort and no gather after it; with
    many tiny groups or more codes, one argsort of the times and a stable radix sort of
    the group codes (which keeps the time order within each group).
    """
    size = durations.size
    narrow = None if groups is None or n_groups <= 1 else groups.astype(_small_int(n_groups))
    grouped = narrow is not None
    if narrow is not None:
        n_obs = np.bincount(narrow, minlength=n_groups).astype(np.int64)
    else:  # everything in group 0 (later groups, if any, are empty)
        n_obs = np.zeros(n_groups, dtype=np.int64)
        n_obs[:1] = size
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(n_obs, out=offsets[1:])
    if n_codes == 2 and (  # noqa: PLR2004
        not grouped or (n_groups <= _MAX_GROUP_SORTS and size >= _MIN_PER_GROUP_SORT * n_groups)
    ):
        # +0.0 turns -0.0 (whose sign bit would sort it last) into 0.0.
        key = np.add(durations, 0.0).view(np.uint64) << _ONE
        key |= codes.astype(np.uint64)
        if narrow is not None:
            key = key[np.argsort(narrow, kind="stable")]
            for g in np.flatnonzero(n_obs > 1).tolist():
                key[offsets[g] : offsets[g + 1]].sort()
        else:
            key.sort()
        code = (key & _ONE).astype(np.int8)
        key >>= _ONE
        return _Spells(key.view(np.float64), code, offsets)
    order = np.argsort(durations)
    time = durations[order]
    code = codes.astype(_small_int(n_codes))[order]
    if narrow is not None:
        by_group = np.argsort(narrow[order], kind="stable")
        time = time[by_group]
        code = code[by_group]
    return _Spells(time, code, offsets)


def _tabulate(spells: _Spells, n_groups: int, n_codes: int) -> _Table:
    """Count each code per distinct (group, time) of observations sorted by (group, time)."""
    time, code, obs_offsets = spells
    size = time.size
    new = np.empty(size, dtype=bool)
    new[:1] = True
    np.not_equal(time[1:], time[:-1], out=new[1:])
    boundaries = obs_offsets[1:-1]
    new[boundaries[boundaries < size]] = True
    starts = np.flatnonzero(new)
    counts = np.zeros((starts.size, n_codes), dtype=np.int64)
    if size:
        for value in range(1, n_codes):
            hit = code if n_codes == 2 else (code == value).view(np.int8)  # noqa: PLR2004
            counts[:, value] = np.add.reduceat(hit, starts, dtype=np.int64)
        lengths = np.diff(starts, append=size)
        counts[:, 0] = lengths - counts[:, 1:].sum(axis=1)
    run_group = np.searchsorted(obs_offsets, starts, side="right") - 1
    at_risk = obs_offsets[run_group + 1] - starts
    return _Table(run_group, time[starts], at_risk, counts, np.diff(obs_offsets), n_groups)


def _per_group(table: _Table, n_codes: int) -> NDArray[np.int64]:
    """``(n_groups, n_codes)`` observations of each code per group."""
    flat = table.group[:, None] * n_codes + np.arange(n_codes)
    counts = np.bincount(
        flat.ravel(), weights=table.counts.ravel(), minlength=table.n_groups * n_codes
    )
    return np.rint(counts).astype(np.int64).reshape(table.n_groups, n_codes)


def _offsets(step_group: NDArray[np.intp], n_groups: int) -> NDArray[np.int64]:
    out = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(step_group, minlength=n_groups), out=out[1:])
    return out


def _step_groups(offsets: NDArray[np.int64]) -> NDArray[np.intp]:
    return np.repeat(np.arange(offsets.size - 1), np.diff(offsets))


def _starts(offsets: NDArray[np.int64]) -> NDArray[np.int64]:
    """First index of each non-empty group."""
    out: NDArray[np.int64] = offsets[:-1][offsets[:-1] < offsets[1:]]
    return out


def _reset_cumsum(x: NDArray[Any], starts: NDArray[np.int64]) -> NDArray[Any]:
    """Running sums of a 1-D array that restart at each of `starts` (sorted, unique)."""
    if starts.size <= 1:
        return np.cumsum(x)
    sums = np.add.reduceat(x, starts)
    adjusted = x.copy()
    adjusted[starts[1:]] -= sums[:-1]
    return np.cumsum(adjusted)


def _segment_cumsum(x: NDArray[np.float64], starts: NDArray[np.int64]) -> NDArray[np.float64]:
    """Running sums that restart at each group, to the group's own precision.

    Restarting a single running sum leaves rounding errors of the size of the previous
    group's total; one correction pass (running sums of the residuals ``x - diff(y)``, which
    are tiny) brings them down to the group's own scale.
    """
    y = _reset_cumsum(x, starts)
    if starts.size <= 1:
        return y
    prev = np.empty_like(y)
    prev[0] = 0.0
    prev[1:] = y[:-1]
    prev[starts] = 0.0
    residual = x - (y - prev)
    y += _reset_cumsum(residual, starts)
    return y


def _segment_revsum(x: NDArray[np.float64], offsets: NDArray[np.int64]) -> NDArray[np.float64]:
    """Sums from each element to the end of its group (reverse running sums)."""
    ends = offsets[1:][offsets[:-1] < offsets[1:]]
    rev_starts = (offsets[-1] - ends)[::-1]
    return _segment_cumsum(x[::-1], rev_starts)[::-1]


def _group_sums(x: NDArray[np.float64], offsets: NDArray[np.int64]) -> NDArray[np.float64]:
    """Sum of the steps of each group (0 for a group without steps)."""
    out = np.zeros(offsets.size - 1)
    has = offsets[:-1] < offsets[1:]
    if has.any():
        out[has] = np.add.reduceat(x, offsets[:-1][has])
    return out


def _km_survival(
    d: NDArray[np.int64], n: NDArray[np.int64], starts: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Kaplan-Meier survival just after each step, per group.

    A step where everyone at risk has the event (``d == n``) is its group's last, so the
    survival is set to 0 there alone.
    """
    dead = d == n
    with np.errstate(divide="ignore"):
        log_factor = np.log1p(-d / n.astype(np.float64))
    log_factor[dead] = 0.0
    survival = np.exp(_segment_cumsum(log_factor, starts))
    survival[dead] = 0.0
    return survival


def _greenwood_terms(d: NDArray[np.int64], n: NDArray[np.int64]) -> NDArray[np.float64]:
    """``d / (n (n - d))`` per step, 0 where ``d == n`` (the caller decides what that means)."""
    with np.errstate(divide="ignore"):
        term: NDArray[np.float64] = d / (n.astype(np.float64) * (n - d))
    term[d == n] = 0.0
    return term


def _first_index(
    mask: NDArray[np.bool_], offsets: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Per group, the index of the first True step and whether there is one."""
    size = mask.size
    idx = np.where(mask, np.arange(size), size)
    starts = offsets[:-1]
    first = np.full(starts.size, size, dtype=np.int64)
    nonempty = starts < offsets[1:]
    if nonempty.any():
        first[nonempty] = np.minimum.reduceat(idx, starts[nonempty])
    found = first < offsets[1:]
    return first, found


def _times(t: ArrayLike, name: str) -> tuple[NDArray[np.float64], bool]:
    try:
        arr = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be numbers; got {t!r}.") from err
    if arr.ndim > 1:
        raise ParameterError(f"{name} must be a number or a 1-D array; got shape {arr.shape}.")
    if np.isnan(arr).any():
        raise ParameterError(f"{name} must not be NaN; got {t!r}.")
    return np.atleast_1d(arr), arr.ndim == 0


def _last_step(
    time: NDArray[np.float64], offsets: NDArray[np.int64], queries: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """For each group and query time t, the index of the last step at or before t.

    Returns the (groups, queries) index array and a mask of where such a step exists.
    """
    n_groups = offsets.size - 1
    n_q = queries.size
    order = np.argsort(queries, kind="stable")
    first_q = np.searchsorted(queries[order], time, side="left")
    key = _step_groups(offsets) * (n_q + 1) + first_q
    hist = np.bincount(key, minlength=n_groups * (n_q + 1)).reshape(n_groups, n_q + 1)
    count = np.cumsum(hist[:, :n_q], axis=1)
    index = np.empty((n_groups, n_q), dtype=np.int64)
    index[:, order] = offsets[:-1, None] + count - 1
    found = np.empty((n_groups, n_q), dtype=bool)
    found[:, order] = count > 0
    return index, found


def _index_at(
    time: NDArray[np.float64], offsets: NDArray[np.int64], t: ArrayLike, name: str
) -> NDArray[np.int64]:
    queries, scalar = _times(t, name)
    index, found = _last_step(time, offsets, queries)
    index[~found] = -1
    out: NDArray[np.int64] = index[:, 0] if scalar else index
    return out


def _gather_at(
    values: NDArray[np.float64],
    time: NDArray[np.float64],
    offsets: NDArray[np.int64],
    n: NDArray[np.int64],
    t: ArrayLike,
    *,
    fill: float,
    name: str,
) -> NDArray[np.float64]:
    """Step-aligned `values` at times `t`, per group.

    `fill` before a group's first step, NaN for a group without observations; the shape is
    ``(groups, [len(t),] *values.shape[1:])``.
    """
    queries, scalar = _times(t, name)
    index, found = _last_step(time, offsets, queries)
    out = np.full((*found.shape, *values.shape[1:]), fill)
    out[found] = values[index[found]]
    out[n == 0] = np.nan
    result: NDArray[np.float64] = out[:, 0] if scalar else out
    return result


def _short_repr(name: str, **fields: object) -> str:
    return f"{name}({', '.join(f'{k}={val}' for k, val in fields.items())})"


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class KaplanMeier:
    """Kaplan-Meier survival curves of several groups, stored as concatenated steps.

    The curve of group ``g`` is the slice ``group_offsets[g]:group_offsets[g + 1]`` of the
    step arrays, one step per distinct time at which an event happened in that group, in
    increasing time. Before its first step a curve is 1; it is constant between steps and
    after the last one. Build one with `kaplan_meier`.

    Attributes:
        time: Distinct event times, per group ascending.
        survival: Estimated survival probability S(t) just after each step.
        at_risk: Observations still at risk at each step (duration >= time).
        events: Events at each step.
        greenwood: Greenwood's sum ``Σ d / (n (n - d))`` over the steps so far; the variance
            of ``survival`` is ``survival**2 * greenwood``. Infinite once ``survival`` is 0.
        group_offsets: int64, length ``n_groups + 1``; group ``g``'s steps are
            ``group_offsets[g]:group_offsets[g + 1]``.
        n: Observations per group.
        n_events: Events per group.
        n_censored: Censored observations per group.
    """

    time: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    survival: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    at_risk: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    events: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    greenwood: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    group_offsets: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n_events: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n_censored: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return _short_repr(
            "KaplanMeier",
            groups=self.n_groups,
            n=int(self.n.sum()),
            events=int(self.n_events.sum()),
            steps=int(self.time.size),
        )

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.group_offsets.size - 1)

    def steps(self, group: int | np.integer[Any]) -> slice:
        """The slice of the step arrays that holds one group's curve.

        Args:
            group: Group code, ``0 <= group < n_groups``.

        Returns:
            A slice for `time`, `survival`, `at_risk`, `events` and `greenwood`.

        Raises:
            ParameterError: If `group` is not a valid group code.
        """
        g = _group_code(group, self.n_groups)
        return slice(int(self.group_offsets[g]), int(self.group_offsets[g + 1]))

    @property
    def standard_error(self) -> NDArray[np.float64]:
        """Greenwood standard error of `survival` at each step (NaN where survival is 0)."""
        with np.errstate(invalid="ignore"):
            out: NDArray[np.float64] = self.survival * np.sqrt(self.greenwood)
        return out

    def confidence_band(self, confidence_level: float = 0.95) -> Bounds:
        """Pointwise log-log confidence band of the survival curve, aligned with `survival`.

        With ``S`` the survival and ``V`` Greenwood's sum at a step, ``g = log(-log S)`` has
        standard error ``sqrt(V) / |log S|``; the bounds are ``exp(-exp(g ± z·se))``. They
        stay inside [0, 1]. Where ``S`` is 0 (everyone left at risk had the event) the band is
        undefined and NaN.

        Args:
            confidence_level: Pointwise coverage, between 0 and 1 (exclusive).

        Returns:
            ``(low, high)`` arrays aligned with `survival`.

        Note:
            Greenwood, M. (1926). The natural duration of cancer. *Reports on Public Health
            and Medical Subjects* 33. Kalbfleisch, J. D. and Prentice, R. L. (2002). *The
            Statistical Analysis of Failure Time Data*, 2nd ed., section 1.4. This is R's
            ``survfit(conf.type="log-log")`` band and lifelines' default; it equals
            ``scipy.stats.ecdf(...).sf.confidence_interval(method="log-log")`` and lifelines'
            ``KaplanMeierFitter.confidence_interval_`` wherever S > 0.

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 3.0, 4.0], [True, True, False, True])
            >>> low, high = km.confidence_band()
            >>> low.round(3).tolist(), high.round(3).tolist()
            ([0.128, 0.058, nan], [0.961, 0.845, nan])
        """
        z = _z(v.fraction("confidence_level", confidence_level))
        return _loglog_band(self.survival, self.greenwood, z)

    def index_at(self, t: ArrayLike) -> NDArray[np.int64]:
        """Index into the step arrays of each group's last step at or before chosen times.

        Gathers any step-aligned array (`survival`, a `confidence_band` bound, ...) at
        chosen times for all groups at once: ``arr[index]`` where ``index >= 0``.

        Args:
            t: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            int64 of shape ``(n_groups,)`` for one time, ``(n_groups, len(t))`` for an
            array; -1 where the time is before the group's first step (or it has none).

        Raises:
            ParameterError: If a time is NaN or `t` has more than one dimension.

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 2.0, 3.0], [True, True, False, True], [0, 1, 1, 1])
            >>> km.index_at([0.5, 2.0, 9.0]).tolist()
            [[-1, 0, 0], [-1, 1, 2]]
        """
        return _index_at(self.time, self.group_offsets, t, "t")

    def survival_at(self, t: ArrayLike) -> NDArray[np.float64]:
        """The survival curves evaluated at chosen times.

        Args:
            t: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            Shape ``(n_groups,)`` for one time, ``(n_groups, len(t))`` for an array: the
            probability of still being in the state after each time; 1 before a group's first
            event, NaN for a group without observations.

        Raises:
            ParameterError: If a time is NaN or `t` has more than one dimension.

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 3.0, 4.0], [True, True, False, True])
            >>> km.survival_at([0.5, 1.0, 3.5]).round(4).tolist()
            [[1.0, 0.75, 0.5]]
        """
        return _gather_at(
            self.survival, self.time, self.group_offsets, self.n, t, fill=1.0, name="t"
        )

    def quantile(self, q: float = 0.5, *, confidence_level: float = 0.95) -> QuantileEstimate:
        """Quantile of the time to event per group, with the Brookmeyer-Crowley interval.

        The ``q`` quantile is the smallest event time at which the survival curve is at or
        below ``1 - q`` (``q = 0.5`` gives the median). Its interval collects the times
        whose pointwise log-log band (see `confidence_band`) contains ``1 - q``: the lower
        limit is the first event time at which the band's lower bound is at or below
        ``1 - q``, the upper limit the first at which its upper bound is. NaN marks a level
        that is not reached during follow-up (for `high`: the interval is open above).

        Args:
            q: Fraction of events, between 0 and 1 (exclusive).
            confidence_level: Coverage of the interval, between 0 and 1 (exclusive).

        Returns:
            ``(value, low, high)`` arrays of length `n_groups`.

        Raises:
            ParameterError: If `q` or `confidence_level` is not between 0 and 1.

        Note:
            Brookmeyer, R. and Crowley, J. (1982). A confidence interval for the median
            survival time. *Biometrics* 38(1), 29-41. The quantile is the one lifelines
            reports (``median_survival_time_``, ``qth_survival_time``); R's ``survfit`` and
            SAS instead take the midpoint when the curve sits exactly on ``1 - q`` over an
            interval. The limits equal lifelines' ``qth_survival_times(q,
            kmf.confidence_interval_)`` except where a band reaches the level only at a
            time where the curve drops to 0: lifelines sets the band to 0 there and reports
            that time, here the band is undefined (as in R and scipy) and the limit NaN.

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 2.0, 3.0, 4.0, 5.0], [1, 1, 0, 1, 0, 1])
            >>> est = km.quantile(0.5)
            >>> est.value.tolist(), est.low.tolist(), est.high.tolist()
            ([3.0], [1.0], [nan])
        """
        fraction = v.fraction("q", q)
        return _quantile_estimate(self, fraction, self.confidence_band(confidence_level))

    def restricted_mean(self, horizon: float | ArrayLike) -> RestrictedMean:
        """Restricted mean survival time: the area under each curve from 0 to `horizon`.

        The expected time spent in the state during the first `horizon` time units; with
        right censoring it replaces the plain mean, which the censored tail leaves undefined.
        Past a group's last observation its curve is taken as constant at its last value.

        The standard error is the square root of the Greenwood-type variance
        ``Σ_{t_i <= horizon} A_i² d_i / (n_i (n_i - d_i))`` with ``A_i`` the area under the
        curve from ``t_i`` to `horizon` (a step where ``n_i = d_i`` contributes 0, since the
        curve is 0 after it).

        Args:
            horizon: Upper limit of the integral, >= 0, in the unit of the durations: one
                number for all groups, or an array of one per group (NaN gives NaN).

        Returns:
            ``(value, standard_error)`` arrays of length `n_groups`; NaN for a group without
            observations.

        Raises:
            ParameterError: If a horizon is negative or infinite, or an array of horizons
                does not have one entry per group.

        Note:
            Irwin, J. O. (1949). The standard error of an estimate of expectation of life.
            *J. Hygiene* 47, 188-189. Klein, J. P. and Moeschberger, M. L. (2003). *Survival
            Analysis*, 2nd ed., section 4.5. The variance is the one R's ``survival``
            package reports as ``se(rmean)`` (``print.survfit(fit, rmean=horizon)``).

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 3.0, 4.0], [True, True, False, True])
            >>> rm = km.restricted_mean(3.0)
            >>> rm.value.tolist(), rm.standard_error.round(4).tolist()
            ([2.25], [0.4146])
            >>> two = kaplan_meier([1.0, 2.0, 1.0, 3.0], [True, True, True, False], [0, 0, 1, 1])
            >>> two.restricted_mean([2.0, 3.0]).value.tolist()
            [1.5, 2.0]
        """
        h = _horizons(horizon, self.n_groups)
        skip = np.isnan(h) | (self.n == 0)
        h[skip] = 0.0  # NaN must stay out of the running sums, which span all groups
        time, surv = self.time, self.survival
        offsets = self.group_offsets
        h_step = np.repeat(h, np.diff(offsets))
        nxt = np.full(time.size, np.inf)
        nxt[:-1] = time[1:]
        has = offsets[1:] > offsets[:-1]
        nxt[offsets[1:][has] - 1] = np.inf
        width = np.clip(np.minimum(nxt, h_step) - time, 0.0, None)
        area = surv * width
        first_time = np.full(self.n_groups, np.inf)
        first_time[has] = time[offsets[:-1][has]]
        value = np.minimum(first_time, h) + _group_sums(area, offsets)
        tail = _segment_revsum(area, offsets)
        weight = _greenwood_terms(self.events, self.at_risk)
        weight[time > h_step] = 0.0
        var = _group_sums(weight * tail**2, offsets)
        value[skip] = np.nan
        var[skip] = np.nan
        return RestrictedMean(value, np.sqrt(var))


def _quantile_estimate(km: KaplanMeier, q: float, band: Bounds) -> QuantileEstimate:
    """`KaplanMeier.quantile` with the band given (computed once for several quantiles)."""
    out = []
    for curve in (km.survival, band.low, band.high):
        first, found = _first_index(curve <= 1.0 - q + _TOL, km.group_offsets)
        times = np.full(km.n_groups, np.nan)
        times[found] = km.time[first[found]]
        out.append(times)
    return QuantileEstimate(out[0], out[1], out[2])


def _quantile_step(
    km: KaplanMeier, q: float | NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Per group, the index of the step that gives the `q` quantile, and whether it exists.

    `q` is one fraction for every group or an array of one per group.
    """
    level = 1.0 - np.asarray(q, dtype=np.float64) + _TOL
    if level.ndim:
        level = np.repeat(level, np.diff(km.group_offsets))
    return _first_index(km.survival <= level, km.group_offsets)


def _group_code(group: object, n_groups: int) -> int:
    if isinstance(group, bool) or not isinstance(group, (int, np.integer)):
        raise ParameterError(f"group must be an integer code; got {group!r}.")
    if not 0 <= int(group) < n_groups:
        raise ParameterError(f"group must be between 0 and {n_groups - 1}; got {group!r}.")
    return int(group)


def _horizons(horizon: object, n_groups: int) -> NDArray[np.float64]:
    """One horizon per group: a number for all, or an array of one per group (NaN allowed)."""
    if isinstance(horizon, (bool, np.bool_, str, bytes)):
        raise ParameterError(f"horizon must be a number >= 0; got {horizon!r}.")
    try:
        arr = np.asarray(horizon, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"horizon must be a number >= 0; got {horizon!r}.") from err
    if arr.ndim == 0:
        if not (np.isfinite(arr) and arr >= 0):
            raise ParameterError(f"horizon must be a finite number >= 0; got {horizon!r}.")
        return np.full(n_groups, float(arr))
    if arr.shape != (n_groups,):
        raise ParameterError(
            f"horizon must be one number or one per group ({n_groups}); got shape {arr.shape}."
        )
    bad = ~np.isnan(arr) & ~((arr >= 0) & np.isfinite(arr))
    if bad.any():
        i = int(np.argmax(bad))
        raise ParameterError(
            f"horizons must be finite and >= 0 (or NaN); got {arr[i].item()!r} at group {i}."
        )
    out: NDArray[np.float64] = arr.copy()
    return out


def _loglog_band(estimate: NDArray[np.float64], greenwood: NDArray[np.float64], z: float) -> Bounds:
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(estimate)
        se = np.sqrt(1 / log_s**2 * greenwood)
        center = np.log(-log_s)
        low = np.exp(-np.exp(center + z * se))
        high = np.exp(-np.exp(center - z * se))
    undefined = (estimate <= 0) | (estimate >= 1)
    low[undefined] = np.nan
    high[undefined] = np.nan
    return Bounds(low, high)


def kaplan_meier(
    durations: ArrayLike,
    observed: ArrayLike,
    groups: ArrayLike | None = None,
    *,
    n_groups: int | None = None,
) -> KaplanMeier:
    """Kaplan-Meier estimates of survival for every group at once.

    ``S(t) = Π_{t_i <= t} (1 - d_i / n_i)`` over the distinct event times ``t_i`` of a group,
    with ``d_i`` events at ``t_i`` and ``n_i`` observations whose duration is at least
    ``t_i``. An observation censored at the same time as an event is counted at risk for it
    (events before censorings, the standard convention).

    Args:
        durations: Time from the start of each spell to its event or censoring, >= 0, in
            any unit (the metrics modules pass days).
        observed: True where the event happened, False where the spell is right-censored
            (still open at the end of observation).
        groups: Integer group code of each observation, ``0 .. n_groups - 1``; None puts all
            observations in one group.
        n_groups: Number of groups, when some codes may not occur (their curves are empty);
            default: the largest code + 1.

    Returns:
        The curves of all groups, concatenated with group offsets.

    Raises:
        ParameterError: If a duration is negative, NaN or infinite, if the arrays differ in
            length, if `observed` is not boolean or if a group code is out of range.

    Note:
        Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete
        observations. *JASA* 53(282), 457-481. The curve equals ``scipy.stats.ecdf`` on
        ``scipy.stats.CensoredData(uncensored=..., right=...)``, group by group.

    Examples:
        >>> km = kaplan_meier(
        ...     [1.0, 2.0, 2.0, 3.0, 4.0, 5.0], [True, True, False, True, False, True])
        >>> km.time.tolist(), km.survival.round(4).tolist()
        ([1.0, 2.0, 3.0, 5.0], [0.8333, 0.6667, 0.4444, 0.0])
        >>> km.at_risk.tolist(), km.events.tolist()
        ([6, 5, 3, 1], [1, 1, 1, 1])
        >>> two = kaplan_meier([1.0, 2.0, 1.5, 3.0], [True, True, True, False], [0, 0, 1, 1])
        >>> two
        KaplanMeier(groups=2, n=4, events=3, steps=3)
        >>> two.time[two.steps(1)].tolist()
        [1.5]
    """
    time = _durations(durations)
    events = _observed(observed, time.size)
    codes, n_g = _n_groups(groups, n_groups, time.size)
    return _kaplan_meier(_sort_spells(time, events, codes, n_g, 2), n_g)


def _kaplan_meier(spells: _Spells, n_groups: int) -> KaplanMeier:
    """Kaplan-Meier curves of observations sorted by `_sort_spells` (code 1: an event).

    For callers inside the package that already hold valid arrays and want the sorted
    observations too (the naive median, the longest stay): ``_kaplan_meier(spells, n)`` with
    ``spells = _sort_spells(durations, observed, groups, n, 2)``.
    """
    table = _tabulate(spells, n_groups, 2)
    d_run = table.counts[:, 1]
    keep = d_run > 0
    offsets = _offsets(table.group[keep], n_groups)
    d = d_run[keep]
    n_risk = table.at_risk[keep]
    starts = _starts(offsets)
    survival = _km_survival(d, n_risk, starts)
    greenwood = _segment_cumsum(_greenwood_terms(d, n_risk), starts)
    greenwood[d == n_risk] = np.inf
    n_events = np.zeros(n_groups, dtype=np.int64)
    if starts.size:
        n_events[offsets[:-1] < offsets[1:]] = np.add.reduceat(d, starts)
    return KaplanMeier(
        time=_owned(table.time[keep]),
        survival=_owned(survival),
        at_risk=_owned(n_risk),
        events=_owned(d),
        greenwood=_owned(greenwood),
        group_offsets=_owned(offsets),
        n=_owned(table.n),
        n_events=_owned(n_events),
        n_censored=_owned(table.n - n_events),
    )


# ---------------------------------------------------------------------------------------------
# Aalen-Johansen cumulative incidence
# ---------------------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of competing causes, for several groups.

    One step per distinct time at which any cause happened in a group; group ``g`` is the
    slice ``group_offsets[g]:group_offsets[g + 1]``. Column ``k - 1`` of the 2-D arrays is
    cause ``k``. Build one with `cumulative_incidence`.

    Attributes:
        time: Distinct event times (any cause), per group ascending.
        at_risk: Observations still at risk at each step (duration >= time).
        events: ``(steps, n_causes)`` events of each cause at each step.
        survival_before: Overall Kaplan-Meier survival (no event of any cause) just before
            each step, S(t-).
        survival: Overall survival just after each step, S(t).
        incidence: ``(steps, n_causes)`` cumulative incidence ``CIF_k(t)`` just after each
            step; at every step ``incidence.sum(axis=1) + survival == 1``.
        group_offsets: int64, length ``n_groups + 1``.
        n: Observations per group.
        n_events: ``(n_groups, n_causes)`` events of each cause per group.
        n_censored: Censored observations per group.
    """

    time: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    at_risk: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    events: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    survival_before: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    survival: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    incidence: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    group_offsets: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n_events: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n_censored: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return _short_repr(
            "CumulativeIncidence",
            groups=self.n_groups,
            causes=self.n_causes,
            n=int(self.n.sum()),
            events=self.n_events.sum(axis=0).tolist(),
            steps=int(self.time.size),
        )

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.group_offsets.size - 1)

    @property
    def n_causes(self) -> int:
        """Number of causes (columns of `incidence`)."""
        return int(self.incidence.shape[1])

    def steps(self, group: int | np.integer[Any]) -> slice:
        """The slice of the step arrays that holds one group's curves.

        Args:
            group: Group code, ``0 <= group < n_groups``.

        Returns:
            A slice for the rows of every step array.

        Raises:
            ParameterError: If `group` is not a valid group code.
        """
        g = _group_code(group, self.n_groups)
        return slice(int(self.group_offsets[g]), int(self.group_offsets[g + 1]))

    @property
    def variance(self) -> NDArray[np.float64]:
        """Delta-method variance of `incidence`, ``(steps, n_causes)`` (see `confidence_band`).

        Computed on each access (a few passes over the steps), so `cumulative_incidence`
        pays nothing for it when only the curves are needed.
        """
        return _aj_variance(
            self.incidence,
            self.survival_before,
            self.events,
            self.at_risk,
            _starts(self.group_offsets),
        )

    @property
    def standard_error(self) -> NDArray[np.float64]:
        """Delta-method standard error of `incidence`, ``(steps, n_causes)``."""
        out: NDArray[np.float64] = np.sqrt(self.variance)
        return out

    def at(self, horizon: ArrayLike) -> NDArray[np.float64]:
        """Cumulative incidence of each cause by chosen horizons.

        Args:
            horizon: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            ``(n_groups, n_causes)`` for one horizon, ``(n_groups, len(horizon), n_causes)``
            for an array: the probability of having had each cause by that time; 0 before a
            group's first event, NaN for a group without observations.

        Raises:
            ParameterError: If a horizon is NaN or `horizon` has more than one dimension.

        Examples:
            >>> ci = cumulative_incidence([1.0, 2.0, 3.0, 4.0], [1, 2, 0, 1])
            >>> ci.at(2.5).tolist()
            [[0.25, 0.25]]
            >>> ci.at([0.5, 5.0]).round(4).tolist()
            [[[0.0, 0.0], [0.75, 0.25]]]
        """
        return _gather_at(
            self.incidence, self.time, self.group_offsets, self.n, horizon, fill=0.0, name="horizon"
        )

    def survival_at(self, horizon: ArrayLike) -> NDArray[np.float64]:
        """Overall survival (no event of any cause yet) by chosen horizons.

        Args:
            horizon: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            ``(n_groups,)`` for one horizon, ``(n_groups, len(horizon))`` for an array; 1
            before a group's first event, NaN for a group without observations. With `at`,
            ``at(h).sum(axis=-1) + survival_at(h) == 1``.

        Raises:
            ParameterError: If a horizon is NaN or `horizon` has more than one dimension.

        Examples:
            >>> ci = cumulative_incidence([1.0, 2.0, 3.0, 4.0], [1, 2, 0, 1])
            >>> ci.survival_at([0.5, 2.5]).round(4).tolist()
            [[1.0, 0.5]]
        """
        return _gather_at(
            self.survival, self.time, self.group_offsets, self.n, horizon, fill=1.0, name="horizon"
        )

    def index_at(self, horizon: ArrayLike) -> NDArray[np.int64]:
        """Index into the step arrays of each group's last step at or before chosen times.

        Gathers any step-aligned array (a `confidence_band` bound, `variance`, ...) at
        chosen times for all groups at once: ``arr[index]`` where ``index >= 0``.

        Args:
            horizon: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            int64 of shape ``(n_groups,)`` for one time, ``(n_groups, len(horizon))`` for an
            array; -1 where the time is before the group's first step (or it has none).

        Raises:
            ParameterError: If a time is NaN or `horizon` has more than one dimension.
        """
        return _index_at(self.time, self.group_offsets, horizon, "horizon")

    def confidence_band(self, confidence_level: float = 0.95) -> Bounds:
        """Pointwise confidence band of each cumulative incidence, aligned with `incidence`.

        The variance is the delta-method (Greenwood-type) estimate at ``t = t_m``:

            Σ_{i<=m} (F(t) - F(t_i))² d_i / (n_i (n_i - d_i))
                   + S(t_{i-1})² d_ki (n_i - d_ki) / n_i³
                   - 2 (F(t) - F(t_i)) S(t_{i-1}) d_ki / n_i²

        with ``d_i`` events of any cause, ``d_ki`` of cause k and ``n_i`` at risk (a step
        where ``n_i = d_i`` contributes 0 to the first sum: only its own time follows it).
        The band is ``exp(-exp(log(-log F) ± z·se / (F |log F|)))``, inside [0, 1]; NaN where
        ``F`` is 0 or 1.

        Args:
            confidence_level: Pointwise coverage, between 0 and 1 (exclusive).

        Returns:
            ``(low, high)`` arrays of shape ``(steps, n_causes)``.

        Note:
            Collett, D. (2015). *Modelling Survival Data in Medical Research*, 3rd ed.,
            p. 411; Marubini, E. and Valsecchi, M. G. (1995). *Analysing Survival Data from
            Clinical Trials and Observational Studies*; SAS ``PROC LIFETEST`` documentation.
            The variance and band equal lifelines' ``AalenJohansenFitter`` ``variance_``
            and ``confidence_interval_`` on data without tied event times (where lifelines
            would jitter the times instead), except that lifelines returns NaN at a step
            where every observation at risk has an event.

        Examples:
            >>> ci = cumulative_incidence([1.0, 2.0, 3.0, 4.0, 5.0], [1, 2, 0, 1, 0])
            >>> low, high = ci.confidence_band()
            >>> low[:, 0].round(3).tolist(), high[:, 0].round(3).tolist()
            ([0.008, 0.008, 0.053], [0.582, 0.582, 0.849])
        """
        z = _z(v.fraction("confidence_level", confidence_level))
        f = self.incidence
        with np.errstate(divide="ignore", invalid="ignore"):
            log_f = np.log(f)
            se = np.sqrt(self.variance) / (f * np.abs(log_f))
            center = np.log(-log_f)
            low = np.exp(-np.exp(center + z * se))
            high = np.exp(-np.exp(center - z * se))
        undefined = (f <= 0) | (f >= 1)
        low[undefined] = np.nan
        high[undefined] = np.nan
        return Bounds(low, high)


def cumulative_incidence(
    durations: ArrayLike,
    cause: ArrayLike,
    groups: ArrayLike | None = None,
    *,
    n_groups: int | None = None,
    n_causes: int | None = None,
) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of competing causes, for every group at once.

    With competing outcomes (a deal in a stage either advances or is lost, and open deals
    are censored), the chance of each outcome by time t is
    ``CIF_k(t) = Σ_{t_i <= t} S(t_i-) d_ki / n_i``, where ``S`` is the Kaplan-Meier survival
    from any cause, ``d_ki`` the events of cause k at ``t_i`` and ``n_i`` the observations at
    risk. Unlike ``1 - KM`` with the other causes treated as censored, the curves of all
    causes and ``S`` add up to 1.

    Args:
        durations: Time from the start of each spell to its event or censoring, >= 0.
        cause: Integer outcome of each observation: 0 for censored, ``1 .. n_causes`` for
            the cause that happened (for a funnel stage: 1 = advanced, 2 = lost).
        groups: Integer group code of each observation; None puts all in one group.
        n_groups: Number of groups; default the largest code + 1.
        n_causes: Number of causes; default the largest cause code (at least 1).

    Returns:
        The curves of all groups, concatenated with group offsets.

    Raises:
        ParameterError: If a duration is negative or not finite, if the arrays differ in
            length or if a group or cause code is out of range.

    Note:
        Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for
        non-homogeneous Markov chains based on censored observations. *Scandinavian Journal
        of Statistics* 5(3), 141-150. Kalbfleisch and Prentice (2002), section 8.2. Tied
        times are handled exactly (all events at ``t_i`` share ``S(t_i-)``); there is no
        jittering. The values equal lifelines' ``AalenJohansenFitter.cumulative_density_``.

    Examples:
        >>> ci = cumulative_incidence([1.0, 2.0, 3.0, 4.0], [1, 2, 0, 1])
        >>> ci.time.tolist()
        [1.0, 2.0, 4.0]
        >>> ci.incidence.round(4).tolist()
        [[0.25, 0.0], [0.25, 0.25], [0.75, 0.25]]
        >>> ci.survival.round(4).tolist()
        [0.75, 0.5, 0.0]
    """
    time = _durations(durations)
    if n_causes is not None:
        v.positive_int("n_causes", n_causes)
    codes = _codes("cause", cause, time.size, limit=None, limit_name="n_causes")
    if n_causes is not None and time.size and int(codes.max()) > n_causes:
        i = int(np.argmax(codes))
        raise ParameterError(
            f"cause must be between 0 and n_causes={n_causes}; got {codes[i]} at position {i}. "
            f"Pass n_causes={int(codes[i])} or more."
        )
    k = n_causes if n_causes is not None else max(int(codes.max()) if time.size else 1, 1)
    group_codes, n_g = _n_groups(groups, n_groups, time.size)
    table = _tabulate(_sort_spells(time, codes, group_codes, n_g, k + 1), n_g, k + 1)
    by_cause = table.counts[:, 1:]
    d_run = by_cause.sum(axis=1)
    keep = d_run > 0
    offsets = _offsets(table.group[keep], n_g)
    starts = _starts(offsets)
    d = d_run[keep]
    dk = np.ascontiguousarray(by_cause[keep])
    n_risk = table.at_risk[keep]
    survival = _km_survival(d, n_risk, starts)
    before = np.empty_like(survival)
    before[1:] = survival[:-1]
    before[starts] = 1.0
    incidence = np.empty(dk.shape)
    for col in range(k):  # a handful of causes, each a whole-array pass
        incidence[:, col] = _segment_cumsum(before * dk[:, col] / n_risk, starts)
    n_events = _per_group(table, k + 1)[:, 1:]
    return CumulativeIncidence(
        time=_owned(table.time[keep]),
        at_risk=_owned(n_risk),
        events=_owned(dk),
        survival_before=_owned(before),
        survival=_owned(survival),
        incidence=_owned(incidence),
        group_offsets=_owned(offsets),
        n=_owned(table.n),
        n_events=_owned(n_events),
        n_censored=_owned(table.n - n_events.sum(axis=1)),
    )


def _aj_variance(
    incidence: NDArray[np.float64],
    before: NDArray[np.float64],
    dk: NDArray[np.int64],
    n: NDArray[np.int64],
    starts: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Delta-method variance of each cumulative incidence at each step (lifelines' formula).

    The sum of ``w_i (F(t) - F(t_i))²`` is expanded into running sums of ``w``, ``w F`` and
    ``w F²``, so every step's variance comes from cumulative sums. A step where everyone at
    risk has an event gets ``w = 0``: it is its group's last, where ``F(t) - F(t_i)`` is 0.
    """
    nf = n.astype(np.float64)
    w = _greenwood_terms(dk.sum(axis=1), n)
    sum_w = _segment_cumsum(w, starts)
    variance = np.empty(incidence.shape)
    for k in range(incidence.shape[1]):
        f = incidence[:, k]
        events = dk[:, k].astype(np.float64)
        jump = before * events / nf  # S(t_i-) d_ki / n_i
        wf = w * f
        quad = f * (f * sum_w - 2 * _segment_cumsum(wf, starts)) + _segment_cumsum(wf * f, starts)
        own = _segment_cumsum(before**2 * events * (nf - events) / nf**3, starts)
        cross = f * _segment_cumsum(jump / nf, starts) - _segment_cumsum(f * jump / nf, starts)
        variance[:, k] = np.maximum(quad + own - 2 * cross, 0.0)
    return variance


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


def _nanquantile(x: NDArray[np.float64], q: float) -> NDArray[np.float64]:
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


def _random_effects(x: NDArray[np.float64], se2: NDArray[np.float64]) -> _RandomEffects:
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


def _qprofile_draws(
    x: NDArray[np.float64], se2: NDArray[np.float64], u: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Draws of ``tau2`` from its Q-profile confidence distribution, one per `u`.

    The generalised Q statistic ``Q(tau2) = Σ (x_i - mu(tau2))² / (se2_i + tau2)``, with
    ``mu(tau2)`` the mean weighted by ``1 / (se2_i + tau2)``, is chi-square with ``k - 1``
    degrees of freedom at the true ``tau2`` and decreases in ``tau2``; solving ``Q(tau2) =
    u`` for ``u`` drawn from that chi-square gives draws whose quantiles are the Q-profile
    confidence limits (0 when ``u >= Q(0)``: homogeneity not rejected at that level).
    `x` and `se2` are ``(problems, k)`` (entries left out as in `_random_effects`), `u` is
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
