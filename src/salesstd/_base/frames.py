"""DataFrames in and out: any library narwhals reads, pandas or polars out.

pandas, polars and pyarrow are optional extras; they are imported inside these functions and a
missing one raises `MissingDependencyError` naming the pip command that installs it.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from types import ModuleType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from salesstd._base import lazy
from salesstd._base.columns import (
    Coded,
    ColumnReader,
    all_str,
    object_pointers,
    sorted_coded,
    without_views,
)
from salesstd._base.validation import choice
from salesstd.errors import InvalidLogError, MissingDependencyError, ParameterError

FrameBackend = Literal["pandas", "polars"]

_EXTRA = {"pandas": "pandas", "polars": "polars", "pyarrow": "arrow", "matplotlib": "plot"}


def require(module: str) -> ModuleType:
    """Import an optional dependency or raise an error naming the pip command."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = _EXTRA.get(module.split(".", maxsplit=1)[0], module)
        raise MissingDependencyError(
            f"this needs {module.split('.', maxsplit=1)[0]}, which is not installed. "
            f"Install it with: pip install 'salesstd[{extra}]'"
        ) from err


def frame_columns(frame: Any) -> tuple[Mapping[str, Any], set[str]]:  # noqa: ANN401
    """Columns of any narwhals-readable table, converted on first use, and the tz-aware ones.

    A column is converted only when the caller reads it, so columns a log does not use cost
    nothing. Text and categorical columns (pandas ``object`` of str, ``string``, ``category``;
    polars ``String``, ``Categorical``, ``Enum``; Arrow ``string`` and ``dictionary``) come
    back as Arrow arrays, to be hash-coded without a Python object per row; a categorical's
    codes are used as they are. Other columns come back as numpy arrays.

    Tz-aware datetime columns are converted to UTC (and returned naive, as UTC). Datetimes
    keep their own unit (``datetime64[s]``, ``[us]``...): the range check and the cast to
    nanoseconds happen in one place, `_time.parse_times`, so the year 3000 is refused rather
    than wrapped. Integer columns with nulls (pandas ``Int64``, polars ``Int64``) become
    Python ints with None, never floats, so ids above 2**53 stay apart; boolean columns with
    nulls become bools with None (never pandas' NA).

    Raises:
        ParameterError: If `frame` is not a table narwhals understands.
        InvalidLogError: If its column labels are not unique strings.
    """
    nw = lazy.nw
    _check_labels(frame)
    try:
        df = nw.from_native(frame, eager_only=True)
    except TypeError as err:
        raise ParameterError(
            f"expected a DataFrame (pandas, polars or pyarrow); got {type(frame).__name__}. "
            "For plain rows use EventLog.from_records, for arrays EventLog.from_arrays."
        ) from err
    aware = {
        str(name)
        for name, dtype in df.schema.items()
        if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None
    }
    # Each column is converted when from_columns reads it, and only then.
    return ColumnReader(
        [str(n) for n in df.columns], lambda name: _convert(df.get_column(name))
    ), aware


def _convert(series: Any) -> Any:  # noqa: ANN401
    nw = lazy.nw
    dtype = series.dtype
    if isinstance(dtype, nw.Datetime):
        if dtype.time_zone is not None:
            if dtype.time_zone != "UTC":
                series = series.dt.convert_time_zone("UTC")
            series = series.dt.replace_time_zone(None)
        return np.asarray(series.to_numpy())
    boolean = isinstance(dtype, nw.Boolean)
    if (dtype.is_integer() or boolean) and series.null_count() > 0:
        # Missing is None, as from records or Arrow (pandas would give NaN or pd.NA).
        missing = np.asarray(series.is_null().to_numpy(), dtype=bool)
        values = np.asarray(series.fill_null(False if boolean else 0).to_numpy()).astype(object)
        values[missing] = None
        return values
    if isinstance(dtype, (nw.String, nw.Object)):
        coded = _pandas_text(series.to_native())
        if coded is not None:
            return coded
    if isinstance(dtype, nw.Categorical):
        coded = _pandas_categorical(series.to_native())
        if coded is not None:
            return coded
    if isinstance(dtype, (nw.String, nw.Categorical, nw.Enum, nw.Object)):
        text = _arrow_column(series)
        if text is not None:
            return text
    return np.asarray(series.to_numpy())


def _pandas_categorical(native: Any) -> Coded | None:  # noqa: ANN401
    """A pandas categorical of text as its own codes and categories (never expanded).

    None for anything else: categories of other values (ints, times) go on as an Arrow
    dictionary, which `from_columns` decodes, so they give what the plain column gives; an
    Arrow dictionary held by pandas (``ArrowDtype``) has no ``.cat`` and goes that way too.
    """
    if not type(native).__module__.startswith("pandas"):
        return None
    pd = require("pandas")
    if not isinstance(native.dtype, pd.CategoricalDtype):
        return None
    index = native.cat.categories
    if not all_str(np.asarray(index, dtype=object)):
        return None
    codes = np.asarray(native.cat.codes.to_numpy(), dtype=np.int32)
    # pandas caches both facts of its index (unique by construction, so increasing is strict).
    presorted = bool(index.inferred_type == "string" and index.is_monotonic_increasing)
    return sorted_coded(np.asarray(index, dtype=object), codes, presorted=presorted)


def _pandas_text(native: Any) -> Coded | None:  # noqa: ANN401
    """A pandas object column of text, hash-coded by `pandas.factorize`; else None.

    Rows that hold the same string object (pandas and Arrow share one object per distinct
    string when they build a column) are coded by their object's address first, an integer
    hash; only the distinct objects are then hashed as text. Columns with other values
    (ints, mixed types) return None and take the general path, which refuses mixed ids.
    """
    if not type(native).__module__.startswith("pandas") or native.dtype != object:
        return None
    pd = require("pandas")
    values = native.to_numpy()
    try:
        codes, uniques = _factorize_objects(values, pd)
    except TypeError:  # unhashable values (lists, dicts): the general path names them
        return None
    distinct = np.asarray(uniques, dtype=object)
    if not all_str(distinct):  # ints, mixed types: the general path checks and refuses
        return None
    return sorted_coded(distinct, np.asarray(codes, dtype=np.int32))


def _factorize_objects(values: NDArray[np.object_], pd: ModuleType) -> tuple[Any, Any]:
    """`pandas.factorize` of an object array, by object address first where that pays."""
    pointers = object_pointers(values) if _shares_objects(values, pd) else None
    if pointers is None:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return codes, uniques
    # Any row of an address holds that very object, so the last write per code will do.
    by_address, addresses = pd.factorize(pointers)
    representative = np.empty(addresses.size, dtype=np.intp)
    representative[by_address] = np.arange(by_address.size, dtype=np.intp)
    distinct_codes, uniques = pd.factorize(values[representative], use_na_sentinel=True)
    return np.asarray(distinct_codes)[by_address], uniques


_SAMPLE = 4096


def _shares_objects(values: NDArray[np.object_], pd: ModuleType) -> bool:
    """True if, in a sample, equal values are mostly one shared object (coding by address pays)."""
    sample = values[:_SAMPLE]
    pointers = object_pointers(sample)
    if pointers is None or values.size <= _SAMPLE:
        return False
    return bool(pd.unique(pointers).size <= 2 * pd.unique(sample).size)


def _arrow_column(series: Any) -> Any:  # noqa: ANN401
    """The series as an Arrow array of text or a dictionary (categorical), or None.

    A dictionary of other values is returned as it is, for `from_columns` to decode (as it
    decodes every Arrow column, nulls kept): numpy's view of it would fill each null with a
    dictionary value.
    """
    pa = lazy.pa
    try:
        array = series.to_arrow()
    except (pa.ArrowException, TypeError, ValueError, OverflowError):  # mixed or huge values
        return None
    array = without_views(array)
    kind = array.type
    return array if pa.types.is_dictionary(kind) or is_string_type(kind) else None


def is_string_type(kind: Any) -> bool:  # noqa: ANN401
    """True for an Arrow text type: string, large_string or string_view."""
    pa = lazy.pa
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _check_labels(frame: Any) -> None:  # noqa: ANN401
    """Refuse duplicate or non-string column labels, naming them (pandas and Arrow allow both)."""
    labels = getattr(frame, "column_names", None)  # pyarrow
    if labels is None:
        columns = getattr(frame, "columns", None)
        if columns is None or isinstance(columns, (str, bytes)):
            return
        try:
            labels = list(columns)
        except TypeError:
            return
    check_labels(
        list(labels),
        fix="Rename the columns first, e.g. df.columns = [str(c) for c in df.columns].",
    )


def check_labels(
    labels: Sequence[object],
    *,
    fix: str,
    what: str = "column",
    error: type[Exception] = InvalidLogError,
    parameter: str | None = None,
) -> None:
    """Refuse labels (of columns, record fields) that are not strings or that repeat.

    One wording on every path that names columns: frames, records (``names=``, dict keys).
    `fix` follows the message on a label that is not a string; `error` is raised (with
    `parameter` for a `ParameterError`).
    """
    extra: dict[str, Any] = {} if parameter is None else {"parameter": parameter}
    odd = [label for label in labels if not isinstance(label, str)]
    if odd:
        raise error(
            f"{what} labels must be strings; {odd[0]!r} is a {type(odd[0]).__name__}. {fix}",
            **extra,
        )
    counts = Counter(labels)
    dups = sorted(str(label) for label, count in counts.items() if count > 1)
    if dups:
        raise error(
            f"{what} {dups[0]!r} appears more than once"
            + (f" (also {', '.join(map(repr, dups[1:]))})" if len(dups) > 1 else "")
            + f"; rename the duplicates so every {what} has its own name.",
            **extra,
        )


def make_frame(
    columns: Mapping[str, NDArray[Any]],
    *,
    backend: FrameBackend = "pandas",
    utc: Collection[str] = (),
) -> Any:  # noqa: ANN401
    """Build a pandas or polars DataFrame; `utc` names datetime64 columns to mark as UTC."""
    backend = choice("backend", backend, ("pandas", "polars"))
    if backend == "pandas":
        pd = require("pandas")
        data = {}
        for name, arr in columns.items():
            series = pd.Series(arr, name=name, copy=True)
            if name in utc:
                series = series.dt.tz_localize("UTC")
            data[name] = series
        return pd.DataFrame(data)
    pl = require("polars")
    series_list = []
    for name, arr in columns.items():
        s = pl.Series(name, arr)
        if name in utc:
            s = s.dt.replace_time_zone("UTC")
        series_list.append(s)
    return pl.DataFrame(series_list)
