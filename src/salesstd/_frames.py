"""DataFrames in and out: any library narwhals reads, pandas or polars out.

pandas, polars and pyarrow are optional extras; they are imported inside these functions and a
missing one raises `MissingDependencyError` naming the pip command that installs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping
from types import ModuleType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from salesstd.errors import MissingDependencyError, ParameterError

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


def frame_columns(frame: Any) -> tuple[dict[str, NDArray[Any]], set[str]]:  # noqa: ANN401
    """Columns of any narwhals-readable table as numpy arrays, and the names of tz-aware ones.

    Tz-aware datetime columns are converted to UTC (and returned naive, as UTC).

    Raises:
        ParameterError: If `frame` is not a table narwhals understands.
    """
    import narwhals as nw  # noqa: PLC0415

    try:
        df = nw.from_native(frame, eager_only=True)
    except TypeError as err:
        raise ParameterError(
            f"expected a DataFrame (pandas, polars or pyarrow); got {type(frame).__name__}. "
            "For plain rows use EventLog.from_records, for arrays EventLog.from_arrays."
        ) from err
    out: dict[str, NDArray[Any]] = {}
    aware: set[str] = set()
    for name in df.columns:
        series = df[name]
        dtype = series.dtype
        if isinstance(dtype, nw.Datetime):
            if dtype.time_zone is not None:
                series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
                aware.add(str(name))
            out[str(name)] = np.asarray(series.to_numpy()).astype("datetime64[ns]")
        else:
            out[str(name)] = np.asarray(series.to_numpy())
    return out, aware


def make_frame(
    columns: Mapping[str, NDArray[Any]],
    *,
    backend: FrameBackend = "pandas",
    utc: Collection[str] = (),
) -> Any:  # noqa: ANN401
    """Build a pandas or polars DataFrame; `utc` names datetime64 columns to mark as UTC."""
    if backend == "pandas":
        pd = require("pandas")
        data = {}
        for name, arr in columns.items():
            series = pd.Series(arr, name=name, copy=True)
            if name in utc:
                series = series.dt.tz_localize("UTC")
            data[name] = series
        return pd.DataFrame(data)
    if backend == "polars":
        pl = require("polars")
        series_list = []
        for name, arr in columns.items():
            s = pl.Series(name, arr)
            if name in utc:
                s = s.dt.replace_time_zone("UTC")
            series_list.append(s)
        return pl.DataFrame(series_list)
    raise ParameterError(f"backend must be 'pandas' or 'polars'; got {backend!r}.")
