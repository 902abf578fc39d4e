"""Shared result behaviour: ``to_dict()``, ``to_frame()``, ``__repr__`` and ``_repr_html_``.

A result class lists its table in `_table()` (column name to a numpy array, one entry per
row), its parameters in `_params()` and its one-line summary in `_summary()`; this mixin
derives the rest, so every result prints, converts and serialises the same way.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base.frames import FrameBackend, make_frame
from salesstd._base.timestamps import timedelta64_seconds

_HTML_ROWS = 20


def frozen_array(values: Any) -> NDArray[Any]:  # noqa: ANN401
    """A read-only copy of `values`: result arrays cannot be changed in place."""
    arr = np.array(values, copy=True)
    arr.flags.writeable = False
    return arr


def same_array(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """Equality of result arrays: same shape and values, NaN equal to NaN."""
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    if a.dtype.kind == "O" or b.dtype.kind == "O":
        return bool(a.tolist() == b.tolist())
    return bool(np.array_equal(a, b))


#: attrs comparison for array fields of frozen results (``attrs.field(eq=array_eq)``).
array_eq = attrs.cmp_using(eq=same_array)


def plain(value: object) -> object:
    """A JSON-ready Python value: numpy scalars unwrapped, NaN as None, times as ISO text."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "Mm":  # tolist() would turn nanoseconds into bare integers
            return [plain(x) for x in value]
        return [plain(x) for x in value.tolist()]
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value.astype("datetime64[ns]")) + "Z"
    if isinstance(value, np.timedelta64):
        seconds = timedelta64_seconds(value)  # read in its own unit: 585 years never wrap
        return None if math.isnan(seconds) else seconds
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(x) for x in value]
    if isinstance(value, Mapping):
        return {str(k): plain(x) for k, x in value.items()}
    return value


class ResultMixin:
    """Mixin for frozen attrs result classes; see the module docstring."""

    def _table(self) -> Mapping[str, NDArray[Any]]:
        raise NotImplementedError

    def _params(self) -> Mapping[str, object]:
        return {}

    def _summary(self) -> Mapping[str, object]:
        return {}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready contents: the parameters, the summary and the table as a list of rows.

        Returns:
            A dict of plain ``str``/``int``/``float``/``list`` values that ``json.dumps``
            accepts; missing numbers are ``None``.
        """
        table = self._table()
        names = list(table)
        n = len(next(iter(table.values()))) if table else 0
        columns = {k: plain(np.asarray(a)) for k, a in table.items()}
        rows = [{k: columns[k][i] for k in names} for i in range(n)]  # type: ignore[index]
        return {
            "kind": type(self).__name__,
            "parameters": plain(dict(self._params())),
            "summary": plain(dict(self._summary())),
            "rows": rows,
        }

    def to_frame(self, *, backend: FrameBackend = "pandas") -> Any:  # noqa: ANN401
        """The table as a DataFrame, one row per entry.

        Args:
            backend: ``"pandas"`` or ``"polars"``.

        Returns:
            A DataFrame of the chosen library.

        Raises:
            MissingDependencyError: If that library is not installed.
        """
        return make_frame(self._table(), backend=backend)

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return reduce_sealed(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={_short(val)}" for k, val in self._summary().items())
        return f"{type(self).__name__}({inner})"

    def _repr_html_(self) -> str:
        table = self._table()
        names = list(table)
        n = len(next(iter(table.values()))) if table else 0
        head = "".join(f"<th>{html.escape(k)}</th>" for k in names)
        body = []
        for i in range(min(n, _HTML_ROWS)):
            cells = "".join(f"<td>{html.escape(_short(table[k][i]))}</td>" for k in names)
            body.append(f"<tr>{cells}</tr>")
        more = f"<p>{n - _HTML_ROWS} more rows; use to_frame().</p>" if n > _HTML_ROWS else ""
        caption = html.escape(repr(self))
        return (
            f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{more}"
        )


def reduce_sealed(obj: object) -> tuple[Callable[..., object], tuple[object, ...]]:
    """``__reduce__`` for a frozen attrs class whose array fields must stay read-only.

    attrs' own pickling restores the fields as they come out of the pickle, and numpy
    unpickles every array writeable; `_restore_sealed` sets the fields the same way, but
    read-only. Use it as ``def __reduce__(self): return reduce_sealed(self)``.
    """
    fields = attrs.fields(type(obj))  # type: ignore[arg-type]
    return (_restore_sealed, (type(obj), {f.name: getattr(obj, f.name) for f in fields}))


def _restore_sealed(cls: type[object], state: Mapping[str, object]) -> object:
    result = object.__new__(cls)
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
        object.__setattr__(result, name, value)
    return result


def _short(value: object) -> str:
    value = plain(value) if isinstance(value, np.generic) else value
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


V = TypeVar("V")


class ReadOnlyDict(dict[str, V]):
    """A dict that refuses changes (so a frozen object's mappings stay put) yet pickles.

    Subclasses set `message`, the text of the `TypeError` a change raises.
    """

    message = "this mapping belongs to a frozen object and is read-only; build a new object."

    def _refuse(self) -> TypeError:
        return TypeError(self.message)

    def __setitem__(self, key: str, value: V) -> None:
        raise self._refuse()

    def __delitem__(self, key: str) -> None:
        raise self._refuse()

    def __ior__(self, other: object) -> ReadOnlyDict[V]:  # type: ignore[override,misc]
        raise self._refuse()

    def clear(self) -> None:
        raise self._refuse()

    def pop(self, *_args: object) -> V:
        raise self._refuse()

    def popitem(self) -> tuple[str, V]:
        raise self._refuse()

    def setdefault(self, *_args: object) -> V:
        raise self._refuse()

    def update(self, *_args: object, **_kwargs: object) -> None:
        raise self._refuse()

    def __reduce__(self) -> tuple[type[ReadOnlyDict[V]], tuple[dict[str, V]]]:
        return (type(self), (dict(self),))
