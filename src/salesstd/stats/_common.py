"""Shared by the estimators: interval types, input checks, sorting and counting by (group, time).

Private; the public names are re-exported by `salesstd.stats`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from salesstd._base import lazy
from salesstd._base import validation as v
from salesstd.errors import ParameterError

__all__ = ["Bounds", "Interval"]


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


def _z(level: float) -> float:
    return float(lazy.special.ndtri(0.5 + 0.5 * level))


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
        raise ParameterError(
            f"durations must be numbers; got {values!r}.", parameter="durations"
        ) from err
    if arr.ndim != 1:
        raise ParameterError(
            f"durations must be one-dimensional; got shape {arr.shape}.", parameter="durations"
        )
    bad = ~(arr >= 0) | np.isinf(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise ParameterError(
            f"durations must be finite and >= 0; got {arr[i].item()!r} at position {i}. "
            "Measure each duration from the start of the spell.",
            parameter="durations",
        )
    return arr


def _codes(
    name: str, values: ArrayLike, size: int, *, limit: int | None, limit_name: str
) -> NDArray[np.intp]:
    arr = np.asarray(values)
    if arr.shape != (size,):
        raise ParameterError(
            f"{name} must have one entry per duration ({size}); got {arr.shape}.", parameter=name
        )
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)):
            arr = arr.astype(np.int64)
        elif size:
            raise ParameterError(
                f"{name} must be integer codes; got dtype {arr.dtype}.", parameter=name
            )
        else:
            arr = arr.astype(np.int64)
    if size and int(arr.min()) < 0:
        i = int(np.argmin(arr))
        raise ParameterError(f"{name} must be >= 0; got {arr[i]} at position {i}.", parameter=name)
    if limit is not None and size and int(arr.max()) >= limit:
        i = int(np.argmax(arr))
        raise ParameterError(
            f"{name} must be < {limit_name}={limit}; got {arr[i]} at position {i}. "
            f"Pass {limit_name}={int(arr[i]) + 1} or more.",
            parameter=name,
        )
    return arr.astype(np.intp, copy=False)


def _observed(values: ArrayLike, size: int) -> NDArray[np.intp]:
    arr = np.asarray(values)
    if arr.shape != (size,):
        raise ParameterError(
            f"observed must have one entry per duration ({size}); got shape {arr.shape}.",
            parameter="observed",
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
            f"at position {i}.",
            parameter="observed",
        )
    raise ParameterError(f"observed must be booleans; got dtype {arr.dtype}.", parameter="observed")


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


def sort_spells(
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
        raise ParameterError(f"{name} must be numbers; got {t!r}.", parameter=name) from err
    if arr.ndim > 1:
        raise ParameterError(
            f"{name} must be a number or a 1-D array; got shape {arr.shape}.", parameter=name
        )
    if np.isnan(arr).any():
        raise ParameterError(f"{name} must not be NaN; got {t!r}.", parameter=name)
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


def _group_code(group: object, n_groups: int) -> int:
    if isinstance(group, bool) or not isinstance(group, (int, np.integer)):
        raise ParameterError(f"group must be an integer code; got {group!r}.", parameter="group")
    if not 0 <= int(group) < n_groups:
        raise ParameterError(
            f"group must be between 0 and {n_groups - 1}; got {group!r}.", parameter="group"
        )
    return int(group)
