"""The code behind `salesstd.io`; the package docstring is the guide."""

from __future__ import annotations

import functools
import os
import stat
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal, ParamSpec

import numpy as np
from numpy.typing import NDArray

from salesstd._base import lazy
from salesstd._base import validation as v
from salesstd._base.columns import ColumnReader, objects
from salesstd._base.progress import check_progress, progress_bar
from salesstd.errors import DroppedEventsWarning, InvalidLogError, ParameterError
from salesstd.io._csv import csv_columns, python_columns
from salesstd.io._xes import parse_xes
from salesstd.log import Coded, EventLog, column_options, from_columns

__all__ = ["read_csv", "read_parquet", "read_xes"]


P = ParamSpec("P")


def _memory_reported(fix: str) -> Callable[[Callable[P, EventLog]], Callable[P, EventLog]]:
    """A reader that reports running out of memory as an `InvalidLogError` saying `fix`.

    numpy and pyarrow raise MemoryError when an allocation fails (a file far bigger than the
    memory, or a process under a memory limit); the reader says which file and what to do.
    """

    def decorate(read: Callable[P, EventLog]) -> Callable[P, EventLog]:
        @functools.wraps(read)
        def reported(*args: P.args, **kwargs: P.kwargs) -> EventLog:
            try:
                return read(*args, **kwargs)
            except MemoryError as err:
                path = args[0] if args else kwargs.get("path")
                name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
                raise InvalidLogError(
                    f"reading {name!r} ran out of memory ({err or 'no detail'}). {fix}"
                ) from err

        return reported

    return decorate


@_memory_reported(
    "Pass attributes= and case_attributes= naming only the columns you need, or read it "
    "where more memory is free."
)
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
    r"""Read a CSV file (plain or gzip-compressed) of one event per row.

    The file is read by pyarrow's CSV reader in blocks of about a megabyte: text columns
    arrive dictionary-encoded (one code per row, never one Python string per row) and
    times are parsed as they are read, so peak memory stays within a few times the
    finished log however large the file. Case ids and activities are read as text, exactly
    as written (an empty cell is a missing id). Times are ISO 8601 text: values with a UTC
    offset are converted to UTC, naive values are read as UTC or in `tz`. Attribute columns
    whose every non-empty value is a whole number become int64, those that are all numbers
    float64 (empty cells NaN); the rest stay text (empty cells ``''``). Whole numbers that
    int64 cannot hold, or that a float would round (beyond 2**53, with empty cells), stay
    exact as Python ints in an object column (empty cells None), so distinct values never
    become equal floats. Types are decided from the text, never guessed by pyarrow
    (``'true'`` stays text), on each column's distinct values.

    Quoted fields may hold the delimiter, doubled quotes and line breaks; blank lines are
    skipped. A file pyarrow refuses (a row with the wrong number of fields, broken quoting,
    bytes that are not text in `encoding`) is read again by Python's csv module for a
    message that names the line.

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
        progress: Draw a progress bar of the bytes read on stderr (needs tqdm:
            ``pip install 'salesstd[progress]'``); ``None`` draws one only when stderr is a
            terminal.

    Returns:
        The log, sorted by (case, time).

    Raises:
        InvalidLogError: If the file is missing, not text in `encoding`, a corrupt gzip,
            lacks a named column, or has a missing id or unparseable time (naming the line).

    Examples:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "deals.csv").write_text(
        ...     "deal,stage,at,amount\n"
        ...     "d1,lead,2024-01-02T09:00:00+01:00,100\n"
        ...     "d1,won,2024-01-09T10:00:00+01:00,100\n"
        ...     "d2,lead,2024-01-03T12:00:00Z,\n"
        ... )
        >>> log = ss.read_csv(folder / "deals.csv", case="deal", activity="stage", time="at")
        >>> log.n_events, log.n_cases
        (3, 2)
        >>> log.event_attributes["amount"].tolist()
        [100.0, 100.0, nan]
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
    show = check_progress(progress)
    file = _check_path(path)
    opts = column_options(
        case=case,
        activity=activity,
        time=time,
        attributes=attributes,
        case_attributes=case_attributes,
        order=order,
        tz=tz,
        on_invalid=on_invalid,
    )
    got = csv_columns(file, opts, delimiter=delimiter, encoding=encoding, progress=show)
    if got is None:  # refused by Arrow: the csv module reads it, or says why not
        columns, row_label, name = python_columns(
            file,
            case=opts.case,
            activity=opts.activity,
            time=opts.time,
            delimiter=delimiter,
            encoding=encoding,
        )
    else:
        (columns, row_label), name = got, os.path.basename(file)  # noqa: PTH119
    if opts.order is not None and isinstance(columns.get(opts.order), Coded):
        columns[opts.order] = columns[opts.order].values()  # compared as values, not codes
    return EventLog(**from_columns(columns, opts, where=f"file {name!r}", row_label=row_label))


def _check_path(path: object) -> str:
    """The path as a string, or a ParameterError for anything that is not a path."""
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(
            f"path must be a file path (str or pathlib.Path); got {type(path).__name__} {path!r}.",
            parameter="path",
        )
    try:
        out = os.fspath(path)
    except TypeError as err:  # its __fspath__ returned neither str nor bytes
        raise ParameterError(
            f"path must be a file path; {type(path).__name__}.__fspath__() gave no path ({err}).",
            parameter="path",
        ) from err
    if not isinstance(out, str):
        raise ParameterError(
            f"path must be a text path, not bytes; got {path!r}.", parameter="path"
        )
    if "\x00" in out:  # the operating system takes no NUL in a path
        raise ParameterError(
            f"path {out!r} contains a NUL character ('\\x00'), which no file name can hold; "
            "check how the path was built.",
            parameter="path",
        )
    try:
        mode = os.stat(out).st_mode  # noqa: PTH116
    except (OSError, ValueError):  # a missing file is reported by each reader in its words
        return out
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        # The readers open a file more than once (its header, then its columns): the second
        # open of a pipe waits for a writer that never comes.
        raise InvalidLogError(
            f"{out!r} is a pipe, not a file; the readers read a file more than once, which a "
            "pipe cannot be. Save it to a file first (e.g. zcat log.csv.gz > log.csv)."
        )
    return out


@_memory_reported(
    "Pass attributes= and case_attributes= naming only the columns you need, or read it "
    "where more memory is free."
)
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
    opts = column_options(
        case=case,
        activity=activity,
        time=time,
        attributes=attributes,
        case_attributes=case_attributes,
        order=order,
        tz=tz,
        on_invalid=on_invalid,
    )
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
    wanted = {opts.case, opts.activity, opts.time, opts.order, *(opts.case_attributes or ())}
    wanted.update(names if opts.attributes is None else opts.attributes)
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
        # One column at a time: from_columns converts each as soon as it is read (text to
        # codes, times to ns) and hands Arrow's memory back, so only one column's Arrow
        # buffers are alive at once. A short table is read a group of neighbouring columns
        # at a time (each Parquet read costs time in the number of columns of the file).
        group = _ParquetGroups(file, needed, file.metadata.num_rows)

        def read(name: str) -> Any:  # noqa: ANN401
            try:
                column = group.column(name)
            except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ...
                raise InvalidLogError(
                    f"file {p!r} is not a readable Parquet file ({err}). Use read_csv "
                    "or read_xes for other formats."
                ) from err
            bar.update(1)
            return column

        columns = ColumnReader(names, read)
        return EventLog(
            **from_columns(
                columns,
                opts,
                where=f"file {os.path.basename(p)!r}",  # noqa: PTH119
                row_label=lambda i: f"row {i}",
                aware=aware,
            )
        )


class _ParquetGroups:
    """Columns of a Parquet file read by name, with their next neighbours when rows are few.

    Each read of a Parquet file takes time in the number of columns the file has, so a
    wide table read column by column takes time in the square of its width. A read here
    also fetches the columns that follow in `needed`, up to `CELLS` values in all, and
    hands each out once; a tall table (a million rows) is still read one column at a time.
    A column already handed out is not fetched again as a neighbour: the caller asks for
    each column in `needed` once (twice only if it has two roles, and then reads it again).
    """

    CELLS = 1 << 20

    def __init__(self, file: Any, needed: list[str], rows: int) -> None:  # noqa: ANN401
        self._file = file
        self._needed = needed
        self._position = {name: i for i, name in enumerate(needed)}
        self._per_read = max(1, self.CELLS // max(rows, 1))
        self._ready: dict[str, Any] = {}
        self._handed: set[str] = set()

    def column(self, name: str) -> Any:  # noqa: ANN401
        self._handed.add(name)
        if name in self._ready:
            return self._ready.pop(name)
        start = self._position[name]
        following = self._needed[start + 1 : start + self._per_read]
        group = [
            name,
            *(c for c in following if c not in self._handed and c not in self._ready),
        ]
        table = self._file.read(columns=group, use_threads=False)
        got = dict(zip(group, table.columns, strict=True))
        del table
        column = got.pop(name)
        self._ready.update(got)
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


@_memory_reported(
    "Keep fewer events (lifecycle=), drop attribute keys you do not need from the file, or "
    "read it where more memory is free."
)
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
    show = check_progress(progress)
    file = _check_path(path)
    for param, key in (("case", case), ("activity", activity), ("time", time)):
        if not isinstance(key, str):
            raise ParameterError(
                f"{param} must be an XES attribute key (str); got {key!r}.", parameter=param
            )
    opts = column_options(
        case=case,
        activity=activity,
        time=time,
        attributes=None,
        case_attributes=None,
        order=None,
        tz=tz,
        on_invalid=on_invalid,
    )
    policy, case, activity, time = opts.on_invalid, opts.case, opts.activity, opts.time
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
    case_key = f"trace {case}"
    _refuse_shared_ids(objects(trace_cols[case]), np.unique(cols.event_trace), case, name)
    events = cols.event_trace
    # Each column is made when from_columns reads it, and the parsed values are let go then:
    # a file with thousands of attribute keys never holds them all twice.
    makers: dict[str, Callable[[], Any]] = {
        case_key: partial(_xes_column, trace_cols.pop(case), events)
    }
    for key in cols.event_columns:
        makers[key] = partial(_pop_xes_column, cols.event_columns, key, None)
    case_attr_names: list[str] = []
    for key in trace_cols:
        out_key = key if key not in makers else f"case:{key}"
        makers[out_key] = partial(_pop_xes_column, trace_cols, key, events)
        case_attr_names.append(out_key)
    for param, key in (("activity", activity), ("time", time)):
        if key not in makers:
            v.require_column(
                key, list(cols.event_columns), param=param, where=f"events of {name!r}"
            )
    event_attr_names = [k for k in cols.event_columns if k not in (activity, time)]
    return EventLog(
        **from_columns(
            ColumnReader(list(makers), lambda key: makers.pop(key)()),
            opts._replace(
                case=case_key, attributes=event_attr_names, case_attributes=case_attr_names
            ),
            where=f"file {name!r}",
            row_label=lambda i: f"event {i}",
        )
    )


def _pop_xes_column(columns: dict[str, Any], key: str, take: NDArray[np.int64] | None) -> Any:  # noqa: ANN401
    """`_xes_column` of `columns[key]`, taken out of `columns` so its values can go."""
    return _xes_column(columns.pop(key), take)


def _xes_column(
    values: list[object] | NDArray[np.object_], take: NDArray[np.int64] | None = None
) -> Any:  # noqa: ANN401
    """An XES column for `from_columns`: Arrow text when every value is text, else objects.

    Text goes to Arrow (ids hash-coded, dates parsed by Arrow's ISO 8601 reader); numbers,
    booleans and mixed columns stay Python objects, exactly as parsed, and so do the object
    arrays of keys few events have (one Arrow call per key would cost more than the key).
    `take` (the trace of each event) spreads a trace column over the trace's events.
    """
    pa = lazy.pa
    if isinstance(values, np.ndarray):
        return values if take is None else values[take]
    try:
        array = pa.array(values, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        column = objects(values)
        return column if take is None else column[take]
    return array if take is None else array.take(pa.array(take))


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
