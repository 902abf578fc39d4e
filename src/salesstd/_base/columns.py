"""Column helpers shared by the log constructors: null masks, type checks, factorizing.

Private: the public constructors in `log.py` validate their arguments, then call these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from salesstd._base import lazy
from salesstd.errors import InvalidLogError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

_CHUNK = 1 << 18


def as_1d(values: Any, *, name: str) -> NDArray[Any]:  # noqa: ANN401
    """A 1-d numpy view or copy of `values`; never the caller's array itself if it is written."""
    if isinstance(values, (list, tuple)):
        # Plain Python sequences become object arrays, so mixed types stay visible instead of
        # numpy turning [1, "a"] into the strings ["1", "a"].
        try:
            arr = np.asarray(values, dtype=object)
        except ValueError:  # ragged nesting
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
    else:
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
    except ValueError:  # an array-like value (a Parquet list cell) is there, not missing
        return False
    except (TypeError, ArithmeticError):  # pandas.NA refuses bool(); Decimal sNaN
        return True


def same_value(x: object, y: object) -> bool:
    """True if two cell values are equal, or both missing (None, NaN, NaT, pandas NA, "").

    Identity and ``==`` answer most pairs; only a pair they call different is checked for
    missing values. Never asks ``bool()`` of a comparison that cannot give one without
    catching it: ``pd.NA == x`` is NA, whose truth value pandas refuses, and an
    array-valued cell compares element by element.
    """
    if x is y:
        return True
    try:
        if x == y:
            return True
    except (TypeError, ValueError, ArithmeticError):  # NA inside, or array-valued cells
        pass
    return is_null(x) and is_null(y)


def same_values(a: NDArray[Any], b: NDArray[Any]) -> NDArray[np.bool_]:
    """`same_value` of each pair of `a` and `b` (object arrays of one shape), mostly in C.

    numpy compares object arrays with one identity-then-``==`` call per pair in C; only the
    pairs found different are checked for missing values. Cells whose comparison has no
    truth value (pandas NA, arrays) make numpy raise: then pair by pair.
    """
    try:
        same = np.asarray(a == b)
    except (TypeError, ValueError, ArithmeticError):
        same = None
    if same is None or same.dtype != np.bool_ or same.shape != a.shape:
        return np.fromiter(
            (same_value(x, y) for x, y in zip(a, b, strict=True)), dtype=bool, count=a.size
        )
    differ = np.flatnonzero(~same)
    if differ.size:
        same[differ] = null_mask(a[differ]) & null_mask(b[differ])
    return same


def homogeneous(arr: NDArray[Any], *, name: str) -> NDArray[Any]:
    """Return `arr` with one value type, refusing mixed types instead of coercing.

    Ids are taken exactly: strings (and `str` subclasses such as ``np.str_``) stay text;
    integers of any width (Python ints, numpy ints, uint64 above 2**63) become int64 or
    uint64, or stay Python ints when neither holds them all; numbers mixing ints and floats
    become float64 only when every int survives the round trip. Any other single type that
    can be sorted (bool, UUID, Decimal, datetime, ...) stays as objects.

    Raises:
        InvalidLogError: If the values mix types, or their type cannot be sorted, naming the
            column, the types and the fix.
    """
    kind = arr.dtype.kind
    if kind in "iufUSb":
        return arr
    if kind == "M":
        return arr
    if kind != "O":
        raise InvalidLogError(
            f"{name} has values of dtype {arr.dtype}, which cannot be ids; convert the "
            "column to strings or integers first, e.g. with .astype(str)."
        )
    if arr.size == 0:
        return arr
    types = set(map(type, arr))
    if all(issubclass(t, str) for t in types):
        return arr
    ints = [t for t in types if issubclass(t, (int, np.integer)) and not _is_bool(t)]
    if len(ints) == len(types):
        return _exact_ints(arr)
    floats = [t for t in types if issubclass(t, (float, np.floating))]
    if ints and len(ints) + len(floats) == len(types):
        bad = next(
            (x for x in arr if not isinstance(x, (float, np.floating)) and abs(int(x)) > _EXACT),
            None,
        )
        if bad is None:
            return arr.astype(np.float64)
        raise InvalidLogError(
            f"{name} mixes integers and floats, and the integer {bad!r} is not exact as a "
            "float, so cases could merge. Convert the column to one type first, e.g. to "
            "strings with .astype(str)."
        )
    if len(types) == 1:
        (only,) = types
        try:
            np.unique(arr)
            hash(arr[0])
        except (TypeError, ValueError, ArithmeticError) as err:
            raise InvalidLogError(
                f"{name} holds values of type {only.__name__} (e.g. {arr[0]!r}), which cannot "
                "be sorted or hashed as ids. Convert the column to strings first, e.g. with "
                ".astype(str)."
            ) from err
        if _is_bool(only):
            return arr.astype(bool)
        return arr
    names = sorted(t.__name__ for t in types)
    first_type = type(arr[0])
    row = next((i for i, x in enumerate(arr) if type(x) is not first_type), 0)
    raise InvalidLogError(
        f"{name} mixes value types ({', '.join(names)}): row 0 holds {arr[0]!r}, row {row} "
        f"holds {arr[row]!r}. Ids must be all strings or all numbers; convert the column "
        "first, e.g. to strings with .astype(str)."
    )


def _is_bool(t: type) -> bool:
    return issubclass(t, (bool, np.bool_))


_INT64 = np.iinfo(np.int64)
_EXACT = 2**53  # integers up to this size survive a float64 round trip
_UINT64 = np.iinfo(np.uint64)


def _exact_ints(arr: NDArray[Any]) -> NDArray[Any]:
    """Integers in an object array as int64, uint64, or (when neither holds all) Python ints."""
    values = [int(x) for x in arr]
    lo, hi = min(values), max(values)
    if lo >= _INT64.min and hi <= _INT64.max:
        return np.array(values, dtype=np.int64)
    if lo >= 0 and hi <= _UINT64.max:
        return np.array(values, dtype=np.uint64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def is_text(arr: NDArray[Any]) -> bool:
    """True for text ids: 'U'/'S' arrays, or object arrays of `str` (as `homogeneous` left)."""
    if arr.dtype.kind in "US":
        return True
    return arr.dtype.kind == "O" and arr.size > 0 and isinstance(arr[0], str)


def factorize(arr: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int32]]:
    """Sorted unique values and int32 codes.

    Text (object arrays of str, or 'U') is factorized a chunk at a time, so a
    10-million-row column never has a full fixed-width copy in memory; the chunks'
    dictionaries are then merged.
    """
    if arr.dtype.kind not in "OU" or not is_text(arr):
        # Numbers, or objects of one sortable type (Python ints, UUID, Decimal, ...): the
        # values themselves are compared, never their text (Decimal('1.0') == Decimal('1')).
        uniques, inverse = np.unique(arr, return_inverse=True)
        return uniques, np.asarray(inverse.reshape(-1), dtype=np.int32)
    parts = [_factorize_text(arr[start : start + _CHUNK]) for start in range(0, arr.size, _CHUNK)]
    if len(parts) == 1:
        return parts[0]
    uniques = np.unique(np.concatenate([p[0] for p in parts]))
    codes = np.empty(arr.size, dtype=np.int32)
    for k, (local, chunk_codes) in enumerate(parts):
        remap = np.searchsorted(uniques, local).astype(np.int32)
        codes[k * _CHUNK : k * _CHUNK + chunk_codes.size] = remap[chunk_codes]
    return uniques, codes


def _factorize_text(chunk: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.int32]]:
    """Factorize one chunk of text.

    In an object array the same label is usually the same Python object many times over,
    so the object pointers are deduplicated first (an integer sort) and only the distinct
    objects are compared as strings. Equal strings held by different objects still merge
    in the second step, so the result is exact.
    """
    if chunk.dtype.kind == "O":
        pointers = object_pointers(chunk)
        if pointers is not None:
            ptr_uniques, ptr_codes = np.unique(pointers, return_inverse=True)
            ptr_codes = ptr_codes.reshape(-1)
            representative = np.empty(ptr_uniques.size, dtype=np.intp)
            representative[ptr_codes] = np.arange(chunk.size, dtype=np.intp)
            distinct = chunk[representative].astype("U")
            uniques, value_codes = np.unique(distinct, return_inverse=True)
            return uniques, value_codes.reshape(-1)[ptr_codes].astype(np.int32)
        chunk = chunk.astype("U")
    uniques, inverse = np.unique(chunk, return_inverse=True)
    return uniques, inverse.reshape(-1).astype(np.int32)


def object_pointers(chunk: NDArray[Any]) -> NDArray[np.intp] | None:
    """The object pointers of an object array as integers (no copy), where numpy allows it."""
    try:
        return np.frombuffer(np.ascontiguousarray(chunk), dtype=np.intp)
    except (ValueError, TypeError, BufferError):  # pragma: no cover - non-CPython buffers
        return None


def case_time_order(
    case_key: NDArray[Any], ns: NDArray[np.int64], order: NDArray[Any] | None
) -> NDArray[np.intp]:
    """Permutation that sorts events by (case, [order], time), stable on ties.

    Events are first put in time order with one stable sort (nearly free when the export is
    already in time order, as CRM exports usually are); then a stable sort by case keeps
    that order within each case. Integer case keys are sorted in linear time: by counting
    (`group_order`) when they span at most a few times as many values as there are events
    (always so for coded ids), else by LSD radix, two 16-bit passes of numpy's radix sort,
    when they span less than 2**32. Other keys fall back to `np.lexsort`.
    """
    in_time_order = order is None and bool((ns[1:] >= ns[:-1]).all())
    if in_time_order:
        by_time = None  # the usual export: rows already in time order
    else:
        by_time = np.argsort(ns, kind="stable") if order is None else np.lexsort((order, ns))
    perm = _linear_order(case_key, by_time)
    if perm is not None:
        return perm
    rank = np.arange(ns.size) if by_time is None else _rank(by_time)
    return np.lexsort((rank, case_key))


def _linear_order(
    case_key: NDArray[Any], by_time: NDArray[np.intp] | None
) -> NDArray[np.intp] | None:
    """The stable order of integer keys after `by_time`, in linear time; None for other keys."""
    if case_key.dtype.kind not in "iu" or case_key.size == 0:
        return None
    low, high = int(case_key.min()), int(case_key.max())
    span = high - low + 1
    if span > 2**32:
        return None
    ordered = case_key if by_time is None else case_key[by_time]
    limit = _COUNTING_SPAN * max(ordered.size, 1024)
    if low >= 0 and high < limit:
        # Codes (and small non-negative ids) are counted as they are: no copy.
        perm = group_order(ordered, high + 1)
    else:
        # Subtract in a 64-bit dtype of the key's kind (uint64 above 2**63 does not fit
        # int64, and int8 127 - (-128) wraps); the differences are below 2**32.
        wide = np.uint64 if case_key.dtype.kind == "u" else np.int64
        key = ordered.astype(wide, copy=False) - wide(low)
        perm = group_order(key, span) if span <= limit else _radix_order(key.astype(np.uint32))
    return perm if by_time is None else by_time[perm]


# Keys spanning up to this many values per event are sorted by counting (`group_order`).
_COUNTING_SPAN = 4


def group_order(key: NDArray[np.integer[Any]], n_groups: int) -> NDArray[np.intp]:
    """Stable argsort of integer keys in ``0 .. n_groups - 1``, by counting, in linear time.

    The counting sort is scipy's: a compressed sparse row matrix with one row per key value
    and one entry per element, in column (element) order. Converting the coordinates to rows
    counts the entries of each row and places them row by row; the canonical form keeps each
    row's columns ascending, which is exactly the stable order. About five times faster than
    two radix passes, and it never compares.
    """
    n = key.size
    index_dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    rows = key.astype(index_dtype, copy=False)  # scipy is slowest on unsigned indices
    matrix = lazy.sparse.csr_array(
        (np.ones(n, dtype=np.int8), (rows, np.arange(n, dtype=index_dtype))),
        shape=(n_groups, max(n, 1)),
    )
    matrix.sort_indices()  # a no-op unless scipy ever leaves a row unsorted
    return np.asarray(matrix.indices, dtype=np.intp)


def _radix_order(key: NDArray[np.uint32]) -> NDArray[np.intp]:
    """Stable argsort of 32-bit keys: a 16-bit radix pass on the low half, then the high."""
    perm = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    high = (key[perm] >> 16).astype(np.uint16)
    if not high.any():
        return perm
    return perm[np.argsort(high, kind="stable")]


def _rank(perm: NDArray[np.intp]) -> NDArray[np.int64]:
    rank = np.empty(perm.size, dtype=np.int64)
    rank[perm] = np.arange(perm.size, dtype=np.int64)
    return rank


def without_views(values: Any) -> Any:  # noqa: ANN401
    """An Arrow column with its view types (``string_view``, ``binary_view``) as large ones.

    Plain or as a dictionary's values: Arrow has no sort, take or dictionary cast for view
    types, so a dictionary of them is rebuilt chunk by chunk on large values (the indices are
    kept). Any other column comes back as it is.
    """
    pa = lazy.pa

    def large(kind: Any) -> Any:  # noqa: ANN401
        if pa.types.is_string_view(kind):
            return pa.large_string()
        if pa.types.is_binary_view(kind):
            return pa.large_binary()
        return None

    kind = values.type
    if not pa.types.is_dictionary(kind):
        target = large(kind)
        return values if target is None else values.cast(target)
    target = large(kind.value_type)
    if target is None:
        return values
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    rebuilt = [
        pa.DictionaryArray.from_arrays(chunk.indices, chunk.dictionary.cast(target))
        for chunk in chunks
    ]
    return pa.chunked_array(rebuilt, type=pa.dictionary(kind.index_type, target))


def objects(values: Iterable[object]) -> NDArray[np.object_]:
    """A 1-d object array of `values`, never reshaped: tuples and lists stay single elements."""
    return np.fromiter(values, dtype=object)


def to_object(values: NDArray[Any]) -> NDArray[np.object_]:
    """Python objects (str, int, float) for names handed back to the caller."""
    if values.dtype.kind == "O":  # its elements are the Python objects already
        return np.array(values, dtype=object, copy=True)
    out = np.empty(values.size, dtype=object)
    if values.dtype.kind in "Mm":
        out[:] = list(values)  # tolist() would give bare ints for nanoseconds
    else:
        out[:] = values.tolist()
    return out


class Coded:
    """A coded column: sorted distinct values and one int32 code per row (-1: missing).

    Attributes:
        uniques: The distinct values, sorted as `numpy.unique` sorts them, as Python objects.
        codes: One code per row into `uniques`; -1 where the value is missing (null).
    """

    __slots__ = ("codes", "uniques")

    def __init__(self, uniques: NDArray[np.object_], codes: NDArray[np.int32]) -> None:
        self.uniques = uniques
        self.codes = codes

    @property
    def size(self) -> int:
        return int(self.codes.size)

    def __len__(self) -> int:
        return self.size

    def __array__(self, *_args: object, **_kwargs: object) -> NDArray[Any]:
        raise TypeError("a Coded column is not an array; use .codes or .values()")

    def __getitem__(self, index: Any) -> Any:  # noqa: ANN401
        """The value at row `index` (None if missing), or the rows `index` as a `Coded`."""
        if isinstance(index, (int, np.integer)):
            code = int(self.codes[index])
            return None if code < 0 else self.uniques[code]
        return Coded(self.uniques, self.codes[index])

    def missing(self, *, empty_text: bool) -> NDArray[np.bool_]:
        """True where the value is null, and (if `empty_text`) where it is the empty string."""
        out = self.codes < 0
        # The distinct values are sorted and of one type, so "" can only come first.
        if empty_text and self.uniques.size and _is_empty_text(self.uniques[0]):
            out |= self.codes == 0
        return np.asarray(out, dtype=bool)

    def compact(self) -> Coded:
        """The same column without distinct values that no row uses."""
        keep = _used(self.codes, self.uniques.size)
        if keep is None:
            return self
        return Coded(self.uniques[keep], _remap(self.codes, keep, None, self.uniques.size))

    def values(self) -> NDArray[np.object_]:
        """One Python object per row (None where missing)."""
        table = np.empty(self.uniques.size + 1, dtype=object)
        table[:-1] = self.uniques
        return table[self.codes]


def _is_empty_text(value: object) -> bool:
    return isinstance(value, str) and not value


def sorted_coded(
    uniques: Any,  # noqa: ANN401
    codes: NDArray[np.int32],
    *,
    presorted: bool = False,
    all_used: bool = False,
) -> Coded:
    """A `Coded` column from distinct values in any order: unused ones dropped, rest sorted.

    `uniques` is an object array or an Arrow array. Only the distinct values are sorted (by
    Arrow, in code-point order, as `numpy.unique` sorts text), and the codes are remapped
    to that order; -1 (missing) stays -1. Values are turned into Python objects once, at
    the end. `presorted` says the caller knows an object array of text is strictly
    increasing already (a pandas index that says so), and `all_used` that some code uses
    every value (a hash encoding's dictionary); each skips a check.
    """
    pa, pc = lazy.pa, lazy.pc
    keep = None if all_used else _used(codes, len(uniques))
    if isinstance(uniques, np.ndarray):
        values = uniques if keep is None else uniques[keep]
        if presorted or _is_sorted_text(values):  # pandas categories are usually sorted
            return Coded(values, _remap(codes, keep, None, len(uniques)))
        try:
            arrow = pa.array(values.tolist())
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            order = np.asarray(sorted(range(values.size), key=values.__getitem__), dtype=np.intp)
            return Coded(values[order], _remap(codes, keep, order, len(uniques)))
        order = pc.sort_indices(arrow).to_numpy()
        return Coded(values[order], _remap(codes, keep, order, len(uniques)))
    arrow = uniques if keep is None else uniques.take(pa.array(keep))
    order = pc.sort_indices(arrow).to_numpy()
    return Coded(
        objects(arrow.take(pa.array(order)).to_pylist()),
        _remap(codes, keep, order, len(uniques)),
    )


def _used(codes: NDArray[np.int32], n: int) -> NDArray[np.intp] | None:
    """The values among `n` that some code uses, or None when every one is used."""
    used = np.zeros(n + 1, dtype=bool)
    used[codes] = True  # -1 (missing) marks the spare last slot
    used = used[:-1]
    return None if used.all() else np.flatnonzero(used)


def _remap(
    codes: NDArray[np.int32], keep: NDArray[np.intp] | None, order: NDArray[Any] | None, n: int
) -> NDArray[np.int32]:
    """Codes into `n` values, after keeping `keep` (None: all) and reordering by `order`."""
    if keep is None and order is None:
        return codes
    rank = np.full(n + 1, -1, dtype=np.int32)
    kept = np.arange(n, dtype=np.intp) if keep is None else keep
    position = np.arange(kept.size, dtype=np.int32)
    if order is not None:
        position[order] = np.arange(order.size, dtype=np.int32)
    rank[kept] = position
    return rank[codes]


def _is_sorted_text(values: NDArray[np.object_]) -> bool:
    """True if `values` are all str and strictly increasing (one C loop of comparisons)."""
    if values.size < 2:  # noqa: PLR2004
        return bool(values.size == 0 or isinstance(values[0], str))
    try:
        increasing = bool(np.all(values[1:] > values[:-1]))
    except TypeError:  # not all comparable
        return False
    return increasing and all(isinstance(values[i], str) for i in (0, -1)) and all_str(values)


def all_str(values: NDArray[np.object_]) -> bool:
    """True if every value is exactly a `str` (one pass over the distinct values)."""
    return set(map(type, values.tolist())) <= {str}


class ColumnReader(Mapping[str, Any]):
    """Columns by name, each made by `read(name)` when it is used, never cached.

    `from_columns` converts each column as soon as it reads it and lets the raw one go, so
    a table's columns are never all alive at once in two forms.
    """

    def __init__(self, names: list[str], read: Callable[[str], Any]) -> None:
        self._names = names
        self._known = frozenset(names)  # looked up by hash: a wide table has 10,000s of names
        self._read = read

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._known  # by hash, and without reading the column

    def __getitem__(self, name: str) -> Any:  # noqa: ANN401
        if name not in self._known:
            raise KeyError(name)
        return self._read(name)
