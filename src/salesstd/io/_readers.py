"""The code behind `salesstd.io`; the package docstring is the guide."""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from salesstd._base import lazy
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.progress import check_progress, progress_bar
from salesstd.errors import DroppedEventsWarning, InvalidLogError, ParameterError
from salesstd.io._files import decode, read_bytes
from salesstd.io._xes import parse_xes
from salesstd.log import EventLog, from_columns

__all__ = ["read_csv", "read_parquet", "read_xes"]


def read_csv(
    path: str | os.PathLike[str],
    *,
    case: str,
    activity: str,
    time: str,
    attributes: Sequence[str] | None = None,
    case_attributes: Sequence[str] | None = None,
    order: str | None = None,
    tz: str | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    on_invalid: Literal["raise", "drop"] = "raise",
    progress: bool | None = False,
) -> EventLog:
    """Read a CSV file (plain or gzip-compressed) of one event per row.

    Case ids and activities are read as text, exactly as written. Times are ISO 8601 text:
    values with a UTC offset are converted to UTC, naive values are read as UTC or in `tz`.
    Attribute columns whose every non-empty value is a whole number become int64, those
    that are all numbers float64 (empty cells NaN); the rest stay text. Whole numbers that
    int64 cannot hold, or that a float would round (beyond 2**53, with empty cells), stay
    exact as Python ints in an object column (empty cells None), so distinct values never
    become equal floats.

    Args:
        path: The file; gzip is recognised by its first bytes, not its name.
        case: Column with the case (deal) id.
        activity: Column with the activity or stage.
        time: Column with the event time.
        attributes: Columns kept per event; ``None`` keeps all the others.
        case_attributes: Columns with one value per case.
        order: Column that orders events of a case with equal timestamps.
        tz: IANA zone for naive times (UTC by default).
        delimiter: Field separator.
        encoding: Text encoding of the file.
        on_invalid: ``"raise"`` or ``"drop"`` rows with a missing id or time.
        progress: Draw a progress bar on stderr while reading (needs tqdm:
            ``pip install 'salesstd[progress]'``); ``None`` draws one only when stderr is a
            terminal.

    Returns:
        The log, sorted by (case, time).

    Raises:
        InvalidLogError: If the file is missing, not text in `encoding`, a corrupt gzip,
            lacks a named column, or has a missing id or unparseable time (naming the line).
    """
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise ParameterError(
            f"delimiter must be one character other than a quote or a line break; got "
            f"{delimiter!r}. Pass e.g. delimiter=';' or delimiter='\\t'.",
            parameter="delimiter",
        )
    if not isinstance(encoding, str):
        raise ParameterError(
            f"encoding must be a codec name such as 'utf-8'; got {encoding!r}.",
            parameter="encoding",
        )
    check_progress(progress)
    p, raw = read_bytes(_check_path(path))
    text = decode(p, raw, encoding)
    columns, lines = _csv_columns(text, delimiter=delimiter, name=str(p))
    _check_delimiter(list(columns), (case, activity, time), delimiter, p.name)
    keep_text = {case, activity}
    typed = {k: (col if k in keep_text or k == time else _infer(col)) for k, col in columns.items()}
    return EventLog(
        **from_columns(
            typed,
            case=case,
            activity=activity,
            time=time,
            attributes=attributes,
            case_attributes=case_attributes,
            order=order,
            tz=tz,
            on_invalid=on_invalid,
            where=f"file {p.name!r}",
            row_label=lambda i: f"line {lines[i]}",
        )
    )


def _check_path(path: object) -> str:
    """The path as a string, or a ParameterError for anything that is not a path."""
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(
            f"path must be a file path (str or pathlib.Path); got {type(path).__name__} {path!r}.",
            parameter="path",
        )
    out = os.fspath(path)
    if not isinstance(out, str):
        raise ParameterError(
            f"path must be a text path, not bytes; got {path!r}.", parameter="path"
        )
    return out


def _check_delimiter(header: list[str], wanted: tuple[str, ...], delimiter: str, name: str) -> None:
    """A one-column header that contains another separator means the wrong delimiter."""
    if len(header) != 1 or all(w in header for w in wanted):
        return
    for candidate in (";", "\t", "|", ","):
        if candidate != delimiter and candidate in header[0]:
            raise InvalidLogError(
                f"file {name!r} reads as one column {header[0][:60]!r} with "
                f"delimiter={delimiter!r}; it looks separated by {candidate!r}. "
                f"Pass delimiter={candidate!r}."
            )


def _csv_columns(
    text: str, *, delimiter: str, name: str
) -> tuple[dict[str, NDArray[Any]], list[int]]:
    """Columns as object arrays of text, and the file line on which each row ends."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if row:  # blank lines are not events
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as err:
        raise InvalidLogError(
            f"file {name!r} is not valid CSV near line {reader.line_num}: {err}."
        ) from err
    if not rows or not any(rows[0]):
        raise InvalidLogError(f"file {name!r} is empty; a header row and events are needed.")
    header = rows[0]
    body = rows[1:]
    lines = lines[1:]
    width = len(header)
    for i, row in enumerate(body):
        if len(row) != width:
            raise InvalidLogError(
                f"file {name!r} line {lines[i]} has {len(row)} fields but the header has "
                f"{width}; check the delimiter (delimiter={delimiter!r}) and quoting."
            )
    if len(set(header)) != width:
        dup = next(h for h in header if header.count(h) > 1)
        raise InvalidLogError(f"file {name!r} has the column {dup!r} twice; rename one.")
    if not body:
        raise InvalidLogError(f"file {name!r} has a header but no events.")
    cols = list(zip(*body, strict=True))
    out: dict[str, NDArray[Any]] = {}
    for h, col in zip(header, cols, strict=True):
        arr = np.empty(len(col), dtype=object)
        arr[:] = col
        out[h] = arr
    return out, lines


def _infer(col: NDArray[Any]) -> NDArray[Any]:
    """Whole numbers to int64, numbers to float64 (blank as NaN); anything else stays text.

    Whole numbers that int64 cannot hold, or that float64 would round when blanks force
    floats, become Python ints (blank as None) instead: equal floats would merge them.
    """
    filled = col != ""
    values = col[filled]
    if values.size == 0:
        return col
    text = values.astype("U")
    try:
        ints = text.astype(np.int64)
    except OverflowError:
        if _all_whole(text):
            try:
                return _python_ints(col, filled)
            except ValueError:  # e.g. "--5": not a number after all
                pass
        return _floats(col, filled, text)
    except ValueError:
        ints = None
    if ints is not None:
        if filled.all():
            return np.asarray(ints)
        if bool(((ints > _EXACT_IN_FLOAT) | (ints < -_EXACT_IN_FLOAT)).any()):
            return _python_ints(col, filled)
    return _floats(col, filled, text)


_EXACT_IN_FLOAT = 2**53


def _all_whole(text: NDArray[Any]) -> bool:
    stripped = np.char.lstrip(np.char.strip(text), "+-")
    return bool(np.char.isdigit(stripped).all())


def _python_ints(col: NDArray[Any], filled: NDArray[np.bool_]) -> NDArray[Any]:
    out = np.empty(col.size, dtype=object)
    out[filled] = [int(x) for x in col[filled]]
    return out


def _floats(col: NDArray[Any], filled: NDArray[np.bool_], text: NDArray[Any]) -> NDArray[Any]:
    try:
        numbers = text.astype(np.float64)
    except ValueError:
        return col
    out = np.full(col.size, np.nan)
    out[filled] = numbers
    return out


def read_parquet(
    path: str | os.PathLike[str],
    *,
    case: str,
    activity: str,
    time: str,
    attributes: Sequence[str] | None = None,
    case_attributes: Sequence[str] | None = None,
    order: str | None = None,
    tz: str | None = None,
    on_invalid: Literal["raise", "drop"] = "raise",
    progress: bool | None = False,
) -> EventLog:
    """Read a Parquet file of one event per row (needs pyarrow).

    Args:
        path: The file.
        case: Column with the case id.
        activity: Column with the activity or stage.
        time: Column with the event time (timestamp, or ISO 8601 text).
        attributes: Columns kept per event; ``None`` keeps all the others.
        case_attributes: Columns with one value per case.
        order: Column that orders events of a case with equal timestamps.
        tz: IANA zone for naive times (UTC by default).
        on_invalid: ``"raise"`` or ``"drop"`` rows with a missing id or time.
        progress: Draw a progress bar on stderr while reading (needs tqdm:
            ``pip install 'salesstd[progress]'``); ``None`` draws one only when stderr is a
            terminal.

    Returns:
        The log, sorted by (case, time).

    Raises:
        InvalidLogError: If the file is missing or not Parquet, or a column is bad.
        MissingDependencyError: If pyarrow is not installed.
    """
    p = _check_path(path)
    show = check_progress(progress)
    pa, pq = lazy.pa, lazy.pq
    if not os.path.exists(p):  # noqa: PTH110
        raise InvalidLogError(f"file {p!r} does not exist; check the path.")
    try:
        schema = pq.read_schema(p)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ...
        raise InvalidLogError(
            f"file {p!r} is not a readable Parquet file ({err}). Use read_csv or read_xes "
            "for other formats."
        ) from err
    names = list(schema.names)
    _check_parquet_names(names, p)
    wanted = {case, activity, time, order}
    wanted.update(c for c in (case_attributes or ()) if isinstance(c, str))
    if attributes is None:
        wanted.update(names)
    else:
        wanted.update(c for c in attributes if isinstance(c, str))
    needed = [c for c in names if c in wanted]
    # Text columns are read as dictionaries: Parquet stores them dictionary-encoded, and the
    # codes are used as they are, never expanded into one string per row.
    text = [
        c
        for c in needed
        if pa.types.is_string(schema.field(c).type)
        or pa.types.is_large_string(schema.field(c).type)
    ]
    try:
        file = pq.ParquetFile(p, read_dictionary=text)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ...
        raise InvalidLogError(
            f"file {p!r} is not a readable Parquet file ({err}). Use read_csv or read_xes "
            "for other formats."
        ) from err
    aware = {
        c for c in needed if pa.types.is_timestamp(schema.field(c).type) and schema.field(c).type.tz
    }
    with progress_bar(
        show,
        total=len(needed),
        desc=os.path.basename(p),  # noqa: PTH119
        unit="columns",
    ) as bar:
        columns = _ParquetColumns(file, names, bar, p)
        return EventLog(
            **from_columns(
                columns,
                case=case,
                activity=activity,
                time=time,
                attributes=attributes,
                case_attributes=case_attributes,
                order=order,
                tz=tz,
                on_invalid=on_invalid,
                where=f"file {os.path.basename(p)!r}",  # noqa: PTH119
                row_label=lambda i: f"row {i}",
                aware=aware,
            )
        )


class _ParquetColumns(Mapping[str, Any]):
    """The columns of a Parquet file by name, each read from the file when it is used.

    `from_columns` converts each column as soon as it reads it (text to codes, times to
    nanoseconds), so only one column's Arrow buffers are alive at a time: peak memory is the
    log being built plus one column, not the whole table.
    """

    def __init__(self, file: Any, names: list[str], bar: Any, path: str) -> None:  # noqa: ANN401
        self._file = file
        self._names = names
        self._bar = bar
        self._path = path

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, name: str) -> Any:  # noqa: ANN401
        if name not in self._names:
            raise KeyError(name)
        try:
            column = self._file.read(columns=[name]).column(0)
        except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ...
            raise InvalidLogError(
                f"file {self._path!r} is not a readable Parquet file ({err}). Use read_csv "
                "or read_xes for other formats."
            ) from err
        self._bar.update(1)
        return column


def _check_parquet_names(names: list[str], path: str) -> None:
    """Refuse duplicate column names (Parquet allows them), naming the first."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidLogError(
                f"file {os.path.basename(path)!r} has the column {name!r} twice; rename one."  # noqa: PTH119
            )
        seen.add(name)


def read_xes(
    path: str | os.PathLike[str],
    *,
    lifecycle: str | Sequence[str] | None = None,
    case: str = "concept:name",
    activity: str = "concept:name",
    time: str = "time:timestamp",
    tz: str | None = None,
    on_invalid: Literal["raise", "drop"] = "raise",
    progress: bool | None = False,
) -> EventLog:
    """Read an XES event log (IEEE 1849), plain or gzip-compressed.

    Every event is kept by default, with ``lifecycle:transition`` as an event attribute.
    Trace attributes become case attributes (the trace's `case` key is the case id);
    the other event attributes become event attributes.

    Nothing is lost without a word: two traces with the same id (which would silently merge
    into one case) are refused, naming the id and both traces; an ``<event>`` outside any
    trace (it has no case) is refused, or dropped with a `DroppedEventsWarning` that counts
    it under ``on_invalid="drop"``.

    Args:
        path: The ``.xes`` or ``.xes.gz`` file.
        lifecycle: ``None`` keeps every event; a transition name such as ``"complete"``,
            or a list of them, keeps only those (case-insensitive; events without a
            lifecycle count as complete).
        case: Trace attribute holding the case id.
        activity: Event attribute holding the activity.
        time: Event attribute holding the timestamp.
        tz: IANA zone for timestamps written without a UTC offset.
        on_invalid: ``"raise"`` or ``"drop"`` events with a missing activity or time, or
            outside any trace.
        progress: Draw a progress bar on stderr while reading (needs tqdm:
            ``pip install 'salesstd[progress]'``); ``None`` draws one only when stderr is a
            terminal.

    Returns:
        The log, sorted by (case, time); equal timestamps keep file order.

    Raises:
        InvalidLogError: If the file is missing, not XES, malformed, a corrupt gzip, a
            trace lacks its id, two traces share an id, or an event stands outside any
            trace (with ``on_invalid="raise"``).
        ParameterError: If `lifecycle` is not None, a string or a sequence of strings.
    """
    policy = v.on_invalid(on_invalid)
    show = check_progress(progress)
    file = _check_path(path)
    for param, key in (("case", case), ("activity", activity), ("time", time)):
        if not isinstance(key, str):
            raise ParameterError(
                f"{param} must be an XES attribute key (str); got {key!r}.", parameter=param
            )
    with progress_bar(show, total=None, desc=os.path.basename(file), unit="B") as bar:  # noqa: PTH119
        seen = [0]

        def advance(done: int, total: int) -> None:
            if seen[0] == 0:
                bar.set_total(total)
            bar.update(done - seen[0])
            seen[0] = done

        cols = parse_xes(file, lifecycle=lifecycle, on_progress=advance)
    name = os.path.basename(file)  # noqa: PTH119
    if cols.orphan_events:
        message = (
            f"file {name!r} has {cols.orphan_events} <event> element"
            f"{'s' if cols.orphan_events != 1 else ''} outside any <trace>; such events have "
            "no case"
        )
        if policy == "raise":
            raise InvalidLogError(
                f"{message}. Move them into their traces, or pass on_invalid='drop' to drop "
                "them with a warning."
            )
        warnings.warn(
            f"{message} and were dropped (on_invalid='drop').",
            DroppedEventsWarning,
            stacklevel=v.caller_stacklevel(),
        )
    if not cols.event_trace.size:
        raise InvalidLogError(
            f"file {name!r} has no events"
            + (f" with lifecycle {lifecycle!r}" if lifecycle is not None else "")
            + "."
        )
    trace_cols = cols.trace_columns
    if case not in trace_cols:
        v.require_column(case, list(trace_cols), param="case", where=f"traces of {name!r}")
    columns: dict[str, Any] = {}
    case_key = f"trace {case}"
    case_ids = objects(trace_cols[case])
    _refuse_shared_ids(case_ids, np.unique(cols.event_trace), case, name)
    columns[case_key] = case_ids[cols.event_trace]
    for key, values in cols.event_columns.items():
        columns[key] = objects(values)
    case_attr_names: list[str] = []
    for key, values in trace_cols.items():
        if key == case:
            continue
        out_key = key if key not in columns else f"case:{key}"
        columns[out_key] = objects(values)[cols.event_trace]
        case_attr_names.append(out_key)
    for param, key in (("activity", activity), ("time", time)):
        if key not in columns:
            v.require_column(
                key, list(cols.event_columns), param=param, where=f"events of {name!r}"
            )
    event_attr_names = [k for k in cols.event_columns if k not in (activity, time)]
    return EventLog(
        **from_columns(
            columns,
            case=case_key,
            activity=activity,
            time=time,
            attributes=event_attr_names,
            case_attributes=case_attr_names,
            order=None,
            tz=tz,
            on_invalid=on_invalid,
            where=f"file {name!r}",
            row_label=lambda i: f"event {i}",
        )
    )


def _refuse_shared_ids(
    case_ids: NDArray[np.object_], used: NDArray[np.int64], case: str, name: str
) -> None:
    """Two traces (with events) under one id would merge into one case: refuse, naming both."""
    first: dict[object, int] = {}
    for trace in used.tolist():
        key = case_ids[trace]
        if key is None:
            continue  # a missing id is reported by the on_invalid policy
        try:
            earlier = first.setdefault((type(key), key), trace)
        except TypeError:
            continue
        if earlier != trace:
            raise InvalidLogError(
                f"file {name!r}: traces {earlier} and {trace} (0-based) both have "
                f"{case}={key!r}; their events would merge into one case. Give every trace "
                "its own id, or pass case= a trace attribute that is unique."
            )
