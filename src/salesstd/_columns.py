"""Column helpers shared by the log constructors: null masks, type checks, factorizing.

Private: the public constructors in `log.py` validate their arguments, then call these.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from salesstd.errors import InvalidLogError

_CHUNK = 1 << 18


def as_1d(values: Any, *, name: str) -> NDArray[Any]:  # noqa: ANN401
    """A 1-d numpy view or copy of `values`; never the caller's array itself if it is written."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        raise InvalidLogError(f"{name} must be a sequence of values, one per event; got a scalar.")
    if arr.ndim != 1:
        raise InvalidLogError(f"{name} must be one-dimensional; got shape {arr.shape}.")
    return arr


def null_mask(arr: NDArray[Any]) -> NDArray[np.bool_]:
    """True where a value is missing: None, NaN, NaT, pandas NA, or the empty string."""
    kind = arr.dtype.kind
    if kind == "f":
        return np.asarray(np.isnan(arr), dtype=bool)
    if kind in "Mm":
        return np.asarray(np.isnat(arr), dtype=bool)
    if kind in "US":
        return np.asarray(arr == arr.dtype.type(), dtype=bool)
    if kind == "O":
        types = set(map(type, arr))
        if types <= {str}:
            return np.asarray(arr == "", dtype=bool)
        return np.fromiter((is_null(v) for v in arr), dtype=bool, count=arr.size)
    return np.zeros(arr.size, dtype=bool)


def is_null(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    try:
        return bool(value != value)  # NaN, NaT  # noqa: PLR0124
    except (TypeError, ValueError):  # pandas.NA refuses bool()
        return True


def homogeneous(arr: NDArray[Any], *, name: str) -> NDArray[Any]:
    """Return `arr` with one value type, refusing mixed types instead of coercing.

    Strings stay as they are (object or 'U'); numbers keep their dtype; Python ints in an
    object array become int64, Python floats float64.
    """
    kind = arr.dtype.kind
    if kind in "iufUSMb":
        return arr
    if kind != "O":
        raise InvalidLogError(f"{name} has values of dtype {arr.dtype}, which cannot be ids.")
    types = set(map(type, arr))
    if types <= {str}:
        return arr
    if types <= {int, np.int64, np.int32}:
        return arr.astype(np.int64)
    if types <= {float, int, np.float64}:
        return arr.astype(np.float64)
    names = sorted(t.__name__ for t in types)
    raise InvalidLogError(
        f"{name} mixes value types ({', '.join(names)}); ids must be all strings or all "
        f"numbers. Convert the column first, e.g. to strings with .astype(str)."
    )


def factorize(arr: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int32]]:
    """Sorted unique values and int32 codes.

    Strings (object arrays of str, or 'U') are converted and sorted a chunk at a time, so a
    10-million-row column never has a full fixed-width copy in memory.
    """
    text = arr.dtype.kind in "OU"
    if arr.size <= _CHUNK or not text:
        chunk = arr.astype("U") if arr.dtype.kind == "O" else arr
        uniques, inverse = np.unique(chunk, return_inverse=True)
        return uniques, np.asarray(inverse.reshape(-1), dtype=np.int32)
    parts: list[tuple[NDArray[Any], NDArray[np.int32]]] = []
    for start in range(0, arr.size, _CHUNK):
        local, local_codes = np.unique(arr[start : start + _CHUNK].astype("U"), return_inverse=True)
        parts.append((local, local_codes.reshape(-1).astype(np.int32)))
    uniques = np.unique(np.concatenate([p[0] for p in parts]))
    codes = np.empty(arr.size, dtype=np.int32)
    for k, (local, chunk_codes) in enumerate(parts):
        remap = np.searchsorted(uniques, local).astype(np.int32)
        codes[k * _CHUNK : k * _CHUNK + chunk_codes.size] = remap[chunk_codes]
    return uniques, codes


def to_object(values: NDArray[Any]) -> NDArray[np.object_]:
    """Python objects (str, int, float) for names handed back to the caller."""
    out = np.empty(values.size, dtype=object)
    out[:] = values.tolist()
    return out
