"""Columns from Apache Arrow without a Python object per row: coded text and parsed times.

The readers and `EventLog.from_frame` hand Arrow arrays here. Text columns (and columns
that arrive coded: Arrow dictionaries, pandas and polars categoricals) become a `Coded`
column, sorted distinct values and one int32 code per row, found with Arrow's hash
dictionary encoding rather than a sort of Python strings. Time columns become a `Parsed`
column of UTC nanoseconds, parsed by Arrow's ISO 8601 parser when every value is in a form
that parser and salesstd read the same way, and by salesstd's own parser otherwise, so
the strict semantics (offsets applied exactly, naive times in `tz`, out-of-range and
unparseable values refused by row) never depend on which path ran.

`salesstd.log._build.build` takes `Coded` and `Parsed` columns where it takes arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from salesstd._base import lazy
from salesstd._base import timestamps as _time
from salesstd._base.columns import Coded, objects, sorted_coded, without_views
from salesstd._base.frames import is_string_type

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "Coded",
    "Parsed",
    "code",
    "decoded",
    "is_number",
    "is_text",
    "numpy_values",
    "parse_times",
]


class Parsed:
    """A time column already parsed: UTC nanoseconds, `_time.NAT` where missing or bad.

    `raw` keeps the input so that a refused value is quoted as it was written.
    """

    __slots__ = ("ns", "raw")

    def __init__(self, ns: NDArray[np.int64], raw: Any) -> None:  # noqa: ANN401
        self.ns = ns
        self.raw = raw

    @property
    def size(self) -> int:
        return int(self.ns.size)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: Any) -> Any:  # noqa: ANN401
        if isinstance(index, (int, np.integer)):
            value = self.raw[int(index)]
            return value.as_py() if hasattr(value, "as_py") else value
        return Parsed(self.ns[index], _take(self.raw, index))


def _take(raw: Any, index: Any) -> Any:  # noqa: ANN401
    if hasattr(raw, "take"):
        return raw.take(lazy.pa.array(np.asarray(index)))
    return np.asarray(raw)[index]


def _chunked(values: Any) -> Any:  # noqa: ANN401
    pa = lazy.pa
    if not isinstance(values, pa.ChunkedArray):
        values = pa.chunked_array([values])
    return without_views(values)


def is_text(values: Any) -> bool:  # noqa: ANN401
    """True for an Arrow column of text, or a dictionary (coded) column of text."""
    pa = lazy.pa
    kind = values.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return is_string_type(kind)


def is_number(values: Any) -> bool:  # noqa: ANN401
    """True for an Arrow column of numbers or bools (which are no times: their unit is unknown)."""
    pa = lazy.pa
    kind = values.type
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
    )


def decoded(values: Any) -> Any:  # noqa: ANN401
    """A dictionary column of non-text values (ints, floats, times, bools) as plain values.

    Only text is kept coded. Any other dictionary is cast to its value type, so that a null
    index or a null entry stays null and a NaN stays NaN: the column then takes exactly the
    path its plain form takes (``to_numpy`` of a dictionary would fill a null with some
    dictionary value, and codes would hide a NaN id). Other columns come back as they are.
    """
    pa = lazy.pa
    values = without_views(values)
    kind = values.type
    if pa.types.is_dictionary(kind) and not is_string_type(kind.value_type):
        return values.cast(kind.value_type)
    return values


def code(values: Any) -> Coded:  # noqa: ANN401
    """Code an Arrow array (text, dictionary or any hashable type) by hash, then sort.

    Dictionary columns keep their dictionary: only their indices are read. Other columns are
    dictionary-encoded by hash (one pass, no sort of the rows); then only the distinct values
    are sorted, and the codes remapped to sorted order.
    """
    pa, pc = lazy.pa, lazy.pc
    chunked = _chunked(values)
    if pa.types.is_string_view(chunked.type):
        chunked = chunked.cast(pa.large_string())
    # Hash encoding puts only values it meets in the dictionary: every entry is used.
    encoded = not pa.types.is_dictionary(chunked.type)
    if encoded:
        chunked = pc.dictionary_encode(chunked)
    if chunked.num_chunks == 0:
        return Coded(np.empty(0, dtype=object), np.empty(0, dtype=np.int32))
    if chunked.num_chunks > 1:
        chunked = chunked.unify_dictionaries()
    dictionary = chunked.chunk(0).dictionary
    codes = np.empty(len(chunked), dtype=np.int32)
    start = 0
    for chunk in chunked.chunks:
        stop = start + len(chunk)
        indices = chunk.indices
        if indices.null_count or indices.type != pa.int32():
            indices = indices.cast(pa.int32()).fill_null(-1)
        codes[start:stop] = indices.to_numpy(zero_copy_only=False)
        start = stop
    if dictionary.null_count:
        # A null inside the dictionary is a missing value too.
        null_entries = np.flatnonzero(dictionary.is_null().to_numpy(zero_copy_only=False))
        codes[np.isin(codes, null_entries)] = -1
    return sorted_coded(dictionary, codes, all_used=encoded and not dictionary.null_count)


def numpy_values(values: Any) -> NDArray[Any]:  # noqa: ANN401
    """A non-text Arrow column as numpy: numbers without nulls zero-copy, else via objects.

    Integer columns with nulls become Python ints with None (never floats, which would merge
    ids above 2**53); floats keep NaN for nulls; timestamps become datetime64 in their unit.
    """
    pa = lazy.pa
    chunked = _chunked(values)
    kind = chunked.type
    if pa.types.is_integer(kind) and chunked.null_count:
        return objects(chunked.to_pylist())
    if pa.types.is_floating(kind):
        return np.asarray(chunked.to_numpy(), dtype=np.float64)
    if pa.types.is_timestamp(kind):
        unit = kind.unit
        raw = chunked.cast(pa.int64()).fill_null(_time.NAT).to_numpy()
        return np.asarray(raw).view(f"datetime64[{unit}]")
    if is_string_type(kind):
        return objects(chunked.to_pylist())
    return np.asarray(chunked.to_numpy())


def parse_times(values: Any, *, tz: str | None) -> Parsed:  # noqa: ANN401
    """Parse an Arrow column of times to UTC nanoseconds with salesstd's semantics.

    Timestamps with a zone are UTC already; naive ones are read in `tz` (UTC by default).
    Text is cast by Arrow's ISO 8601 parser when the whole column parses one way (every value
    with an offset, or every value without), which is the usual export. Anything else (mixed
    forms, lowercase separators, spaces, out-of-range years, broken values) goes through
    `salesstd._base.timestamps.parse_times`, which marks bad values NaT for the caller to
    report by row.
    """
    pa, pc = lazy.pa, lazy.pc
    if tz is not None:
        _time.check_zone(tz)
    chunked = _chunked(values)
    kind = chunked.type
    if pa.types.is_dictionary(kind):
        chunked = chunked.cast(kind.value_type)
        kind = chunked.type
    if pa.types.is_string_view(kind):
        chunked = chunked.cast(pa.large_string())
        kind = chunked.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        naive = pa.types.is_date(kind) or kind.tz is None
        as_ts = chunked.cast(pa.timestamp(kind.unit if not pa.types.is_date(kind) else "s"))
        stamps = _int64s(as_ts).view(f"datetime64[{as_ts.type.unit}]")
        del chunked, as_ts
        ns = _time.datetime64_to_ns(stamps)
        if naive:
            ns = _time.localize(ns, tz)
        return _parsed(ns, stamps)
    if not is_string_type(kind):
        return Parsed(_time.parse_times(numpy_values(chunked), tz=tz), chunked)
    for target, naive in ((pa.timestamp("ns", tz="UTC"), False), (pa.timestamp("ns"), True)):
        try:
            cast = pc.cast(chunked, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        ns = _int64s(cast)
        if naive:
            ns = _time.localize(ns, tz)
        # Arrow reads an empty string as an error (so it never gets here), salesstd as
        # missing: both agree that nulls are missing.
        return _parsed(ns, chunked)
    text = objects(chunked.to_pylist())
    return Parsed(_time.parse_times(text, tz=tz), text)


def _int64s(values: Any) -> NDArray[np.int64]:  # noqa: ANN401
    """A chunked Arrow column of 64-bit values as int64, nulls as `_time.NAT`.

    Zero-copy for one chunk without nulls (``fill_null`` would copy even then).
    """
    pa = lazy.pa
    ints = values.cast(pa.int64())
    if ints.null_count:
        ints = ints.fill_null(_time.NAT)
    return np.asarray(ints.to_numpy(), dtype=np.int64)


def _parsed(ns: NDArray[np.int64], raw: Any) -> Parsed:  # noqa: ANN401
    """`Parsed`, keeping `raw` (to quote a refused value) only if some value is NaT.

    Without one, no message quotes the input, and the times as datetime64 (a view of
    `ns`, no memory of its own) stand in for it: the input column is released.
    """
    if bool((ns == _time.NAT).any()):
        return Parsed(ns, raw)
    return Parsed(ns, _time.to_datetime64(ns))
