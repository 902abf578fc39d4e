"""Streaming reader of XES event logs (IEEE 1849) into plain columns.

`parse_xes` reads a ``.xes`` file, gzip-compressed or not, with the standard library's expat
parser (`xml.parsers.expat`) and returns one Python list per attribute key, ready to be turned
into a data frame by the caller. No element tree is built: expat's start and end handlers
append each attribute value to its column as the file streams through, so memory holds only
the columns and a few 1 MiB blocks. A gzip file is decompressed by zlib in a background thread
(zlib releases the GIL while it inflates), a few blocks ahead of the parser. A file declaring
an encoding expat cannot read (the multi-byte Shift_JIS, GBK, Big5, EUC-KR...) is decoded by
Python's incremental decoder as it streams and parsed as UTF-8.

The reader is safe against hostile XML: a document type declaration (``<!DOCTYPE ...>``, the
only place where entities can be declared) is refused before any entity in it could be
expanded, so neither entity expansion ("billion laughs") nor external entities (local files,
URLs) can happen; only the five predefined entities and character references are decoded.

Values are typed by their XES element (``string``/``id`` give `str`, ``int`` gives `int`,
``float`` gives `float`, ``boolean`` gives `bool`); ``date`` values are kept as the raw ISO 8601
string written in the file, because the caller parses timestamps. Nested attributes and the
children of ``list``/``container`` elements are ignored, global defaults
(``<global scope="event">``) are not applied (PM4Py does not apply them either) and log-level
attributes are ignored.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Final, NoReturn
from xml.parsers import expat

import attrs
import numpy as np

from salesstd.errors import InvalidLogError, ParameterError
from salesstd.io._xes_bytes import (
    Ahead,
    as_utf8,
    gunzip,
    open_raw,
    plain_blocks,
    translate_error,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray


__all__ = ["XesColumns", "parse_xes"]

_LIFECYCLE_KEY = "lifecycle:transition"
_DEFAULT_LIFECYCLE = "complete"
_SHARED_MAX = 1 << 16  # distinct string values remembered before the memo starts afresh


@attrs.frozen
class XesColumns:
    """Columns read from an XES file by `parse_xes`.

    Attributes:
        event_columns: One column per event-attribute key, each of length ``n_events`` (the
            kept events, in file order), with None where an event lacks the key: a list, or
            an object array for a key first met after the first event and held by few.
        trace_columns: One column per trace-attribute key, each of length ``n_traces`` (every
            trace of the file, in file order, also those without kept events), with None where
            a trace lacks the key; lists or object arrays as for events.
        event_trace: int64 array of length ``n_events``: the index (``0 .. n_traces - 1``) of
            the trace each event belongs to.
        orphan_events: Number of ``<event>`` elements directly under ``<log>``, outside any
            trace; they are not in the columns (they have no case), and the caller decides
            whether to refuse the file or drop them with a warning.
    """

    event_columns: dict[str, list[object] | NDArray[np.object_]]
    trace_columns: dict[str, list[object] | NDArray[np.object_]]
    event_trace: NDArray[np.int64]
    orphan_events: int = 0


_XML_SPACE = " \t\r\n"
# The lexical forms of xs:long and xs:double (XES 1849 types int and float), with the
# leading and trailing XML whitespace that XML Schema collapses; Java's "Infinity" (as
# OpenXES writes it) is taken too. Python's int() and float() would also take "1_000",
# Unicode digits and spaces, "nan" or "infinity": not XES.
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:INF|Infinity)|NaN"
)


def _parse_int(text: str) -> int:
    value = text.strip(_XML_SPACE)
    if _INT_TEXT.fullmatch(value) is None:
        raise ValueError(text)
    return int(value)


def _parse_float(text: str) -> float:
    value = text.strip(_XML_SPACE)
    if _FLOAT_TEXT.fullmatch(value) is None:
        raise ValueError(text)
    return float(value.replace("Infinity", "inf").replace("INF", "inf"))


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise ValueError(text)


# What an element is to the reader, by its local name. A typed attribute element maps to the
# function converting its ``value``, or to ``_SHARED`` (``string``: the text, one `str` object
# per distinct value, see `_read_log`) or ``_KEEP`` (``id``, ``date``: the text as is, as these
# rarely repeat); ``list``/``container`` map to ``_COMPOSITE`` (their children are ignored, a
# ``value`` of their own is kept as text); anything else is ``_IGNORED``.
_SHARED: Final = object()
_KEEP: Final = object()
_COMPOSITE: Final = object()
_EVENT: Final = object()
_IGNORED: Final = object()
_ROLES: dict[str, object] = {
    "string": _SHARED,
    "id": _KEEP,
    "date": _KEEP,
    "int": _parse_int,
    "float": _parse_float,
    "boolean": _parse_bool,
    "list": _COMPOSITE,
    "container": _COMPOSITE,
    "event": _EVENT,
}


def _lifecycle_filter(lifecycle: str | Sequence[str] | None) -> frozenset[str] | None:
    if lifecycle is None:
        return None
    if isinstance(lifecycle, str):
        return frozenset({lifecycle.lower()})
    if isinstance(lifecycle, (bytes, Mapping)) or not isinstance(lifecycle, Iterable):
        raise ParameterError(
            f"lifecycle must be None, a string or a non-empty sequence of strings, got "
            f"{lifecycle!r}; pass e.g. lifecycle='complete' or lifecycle=['start', 'complete'].",
            parameter="lifecycle",
        )
    values = list(lifecycle)
    if not values or not all(isinstance(value, str) for value in values):
        raise ParameterError(
            f"lifecycle must be None, a string or a non-empty sequence of strings, got "
            f"{lifecycle!r}; pass e.g. lifecycle='complete' or lifecycle=['start', 'complete'].",
            parameter="lifecycle",
        )
    return frozenset(value.lower() for value in values)


def _where(trace_index: int, event_index: int | None) -> str:
    if event_index is None:
        return f"trace {trace_index} (0-based)"
    return f"event {event_index} of trace {trace_index} (both 0-based)"


def _local_name(name: str) -> str:
    """``name`` without the ``namespace-uri}`` prefix expat puts before namespaced names."""
    return name.rpartition("}")[2]


def _role(name: str, roles: dict[str, object]) -> object:
    """What element ``name`` is to the reader (see `_ROLES`), memoised in ``roles``."""
    role = _ROLES.get(_local_name(name), _IGNORED)
    roles[name] = role
    return role


def _key_and_value(attrs: list[str]) -> tuple[str | None, str | None]:
    """The ``key`` and ``value`` XML attributes of an element, from expat's ordered list."""
    key = value = None
    for i in range(0, len(attrs), 2):
        if attrs[i] == "key":
            key = attrs[i + 1]
        elif attrs[i] == "value":
            value = attrs[i + 1]
    return key, value


_DENSE_SHARE = 4  # a sparse column with values in over a quarter of its rows becomes a list


class _Columns:
    """The attribute columns of events (or traces) as they are read, dense or sparse.

    A key met in the first row is a `dense` list, one entry per row (None where a row lacks
    it), appended to on the parser's hot path. A key first met later is kept `sparse`, as
    the rows that have it and their values, so that thousands of keys each held by a few
    events cost memory in their values, not in keys times events; once it fills a quarter
    of its rows it becomes a dense list. `rows_written` holds the keys written by the row
    being read outside the hot path (new keys, sparse ones), which `drop_row` takes back out.
    """

    def __init__(self) -> None:
        self.dense: dict[str, list[object]] = {}
        self.sparse: dict[str, tuple[list[int], list[object]]] = {}
        self.rows_written: list[str] = []
        self.keys: dict[str, None] = {}  # every key, in the order first met

    def store(self, key: str, value: object, row: int) -> None:
        """Put `value` in row `row` of column `key`; a repeated key in one row: the last wins."""
        column = self.dense.get(key)
        if column is not None:
            if len(column) > row:
                column[row] = value
                return
            if len(column) < row:
                column.extend([None] * (row - len(column)))
            column.append(value)
            return
        entry = self.sparse.get(key)
        if entry is None:
            self.keys[key] = None
            if row == 0:
                self.dense[key] = [value]
            else:
                self.sparse[key] = ([row], [value])
            self.rows_written.append(key)
            return
        rows, values = entry
        if rows[-1] == row:
            values[-1] = value
            return
        rows.append(row)
        values.append(value)
        self.rows_written.append(key)
        if len(rows) * _DENSE_SHARE > row:
            column = [None] * (row + 1)
            for r, v in zip(rows, values, strict=True):
                column[r] = v
            self.dense[key] = column
            del self.sparse[key]

    def value(self, key: str, row: int) -> object:
        """The value of `key` in row `row`, None if the row lacks it."""
        column = self.dense.get(key)
        if column is not None:
            return column[row] if len(column) > row else None
        entry = self.sparse.get(key)
        if entry is not None and entry[0][-1] == row:
            return entry[1][-1]
        return None

    def drop_row(self, row: int) -> None:
        """Take row `row` (the last one written) back out of every column."""
        for column in self.dense.values():
            if len(column) > row:
                del column[row:]
        for key in self.rows_written:
            entry = self.sparse.get(key)
            if entry is not None:
                rows, values = entry
                if rows and rows[-1] == row:
                    rows.pop()
                    values.pop()
                if not rows:
                    del self.sparse[key]
                    self.keys.pop(key, None)
            elif not self.dense.get(key, True):  # a key first met in this row
                del self.dense[key]
                self.keys.pop(key, None)
        self.rows_written.clear()

    def finish(self, n_rows: int) -> dict[str, list[object] | NDArray[np.object_]]:
        """Every column with `n_rows` values, in the order keys were first met.

        Dense columns are lists; sparse ones object arrays (None where a row lacks the key),
        made one at a time as the sparse values are let go.
        """
        out: dict[str, list[object] | NDArray[np.object_]] = {}
        for key in self.keys:
            column = self.dense.get(key)
            if column is not None:
                if len(column) < n_rows:
                    column.extend([None] * (n_rows - len(column)))
                out[key] = column
                continue
            rows, values = self.sparse.pop(key)
            array = np.full(n_rows, None, dtype=object)
            array[np.asarray(rows, dtype=np.intp)] = np.fromiter(values, dtype=object)
            out[key] = array
        return out


def _refuse_dtd(path: str, parser: expat.XMLParserType, what: str) -> NoReturn:
    raise InvalidLogError(
        f"XES file '{path}' contains {what} (line {parser.CurrentLineNumber}); XES logs need "
        "none, and salesstd refuses document type declarations so that no entity is expanded "
        "or fetched from outside the file. Remove the <!DOCTYPE ...> declaration."
    )


def _read_log(
    blocks: Iterable[tuple[bytes, int]],
    path: str,
    wanted: frozenset[str] | None,
    advance: Callable[[int], None] | None = None,
    encoding: str | None = None,
) -> XesColumns:
    """Stream ``blocks`` through an expat parser whose handlers fill the columns directly.

    ``blocks`` are the file's bytes (decompressed), each with the bytes of the file read so
    far, which are handed to ``advance`` after the block is parsed.

    No element tree is built: the start handler appends each attribute value to its column as
    soon as expat reports the element. The end handler is ``list.append`` (a C call, no Python
    frame): the depth of an element is the number of starts minus the number of ends, and an
    event or trace is finished when the next element at its level or above starts, or at the
    end of the file. Events that the lifecycle filter drops are then taken back out of the
    columns. Errors raised by expat, by the stream or by the handlers propagate raw.
    """
    parser = expat.ParserCreate(encoding, namespace_separator="}")
    parser.ordered_attributes = True  # attributes as [name, value, ...]: cheaper than a dict
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse_doctype(*_: object) -> None:
        _refuse_dtd(path, parser, "a document type declaration <!DOCTYPE ...>")

    def refuse_entity(*_: object) -> None:
        _refuse_dtd(path, parser, "an entity declaration <!ENTITY ...>")

    def refuse_external(*_: object) -> int:
        _refuse_dtd(path, parser, "a reference to an external entity")

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_external

    roles: dict[str, object] = {}  # element name -> role, see _ROLES
    roles_get = roles.get
    events = _Columns()
    event_columns_get = events.dense.get  # the hot path writes to dense columns only
    traces = _Columns()
    # ``string`` values repeat (activities, resources, lifecycle transitions): one str object
    # per distinct value saves memory and lets the caller deduplicate by object identity.
    shared: dict[str, str] = {}
    shared_setdefault = shared.setdefault
    written = events.rows_written  # keys the event being read wrote off the hot path
    trace_ends: list[int] = []  # number of kept events when each trace closed
    ends: list[str] = []  # one entry per closed element since the last trace started
    starts = 0  # elements started since the last trace started, plus that trace's depth
    n_kept = 0  # kept events so far: the row of the event being read
    n_traces = 0
    trace_index = -1
    event_index = -1  # position of the event being read in its trace, kept or not
    in_trace = False
    attribute_depth = 0  # depth of the open event's attributes (4), or 0 between events
    orphans = 0

    def where() -> str:
        return _where(trace_index, event_index if attribute_depth else None)

    def attribute(name: str, attrs: list[str], columns: _Columns, row: int) -> None:
        """Read the attribute element ``name`` into row ``row`` of ``columns`` (any case)."""
        role = roles_get(name) or _role(name, roles)
        if role is _IGNORED or role is _EVENT:
            return
        key, text = _key_and_value(attrs)
        if key is None:
            raise InvalidLogError(
                f"XES file '{path}' has a <{_local_name(name)}> attribute without a key in "
                f'{where()}; give every attribute element a key="..." attribute.'
            )
        value: object
        if text is None:
            if role is _COMPOSITE:  # a list/container without a value of its own is skipped
                return
            value = None
        elif role is _SHARED:
            value = shared_setdefault(text, text)
        elif role is _KEEP or role is _COMPOSITE:
            value = text
        else:
            try:
                value = role(text)  # type: ignore[operator]
            except ValueError as err:
                kind = _local_name(name)
                raise InvalidLogError(
                    f"XES file '{path}' has a <{kind}> attribute {key!r} with value {text!r} "
                    f"in {where()} that is not a valid {kind}; fix the value or declare the "
                    "attribute as <string>."
                ) from err
        columns.store(key, value, row)

    def close_event() -> None:
        nonlocal n_kept, attribute_depth
        attribute_depth = 0
        if wanted is None:
            n_kept += 1
            return
        transition = events.value(_LIFECYCLE_KEY, n_kept)
        if transition is None:
            transition = _DEFAULT_LIFECYCLE
        if str(transition).lower() in wanted:
            n_kept += 1
            return
        events.drop_row(n_kept)  # take the event back out

    def start(name: str, attrs: list[str]) -> None:
        nonlocal starts, n_kept, attribute_depth, event_index
        starts += 1
        depth = starts - len(ends)
        if depth == attribute_depth:
            # A child of the open event: the hot path, for ``<string key="k" value="v"/>``.
            try:
                key_name, key, value_name, text = attrs
            except ValueError:  # not exactly two XML attributes
                attribute(name, attrs, events, n_kept)
                return
            if key_name == "key" and value_name == "value":
                column = event_columns_get(key)
                if column is not None and len(column) == n_kept:
                    role = roles_get(name)
                    if role is _SHARED:
                        column.append(shared_setdefault(text, text))
                        return
                    if role is _KEEP:
                        column.append(text)
                        return
            attribute(name, attrs, events, n_kept)
            return
        if depth == 3 and in_trace and roles_get(name) is _EVENT:  # noqa: PLR2004
            # The next event of the trace (the second hot path): close the one before it.
            if attribute_depth:
                if wanted is None:
                    n_kept += 1
                else:
                    close_event()
            attribute_depth = 4
            event_index += 1
            if written:
                written.clear()
            return
        structure(name, attrs, depth)

    def structure(name: str, attrs: list[str], depth: int) -> None:
        """Any element but a child of an open event: log, trace, event, trace attribute."""
        nonlocal starts, n_traces, trace_index, event_index, in_trace, attribute_depth, orphans
        if depth > 3:  # noqa: PLR2004 - nested attributes are ignored
            return
        if (
            attribute_depth
        ):  # an element at depth 3 or above starts: the event before it is complete
            close_event()
        if depth == 3:  # noqa: PLR2004 - a child of a trace
            if in_trace:
                if (roles_get(name) or _role(name, roles)) is _EVENT:
                    attribute_depth = depth + 1
                    event_index += 1
                    if written:
                        written.clear()
                else:
                    attribute(name, attrs, traces, trace_index)
            return
        if in_trace:
            in_trace = False
            trace_ends.append(n_kept)
        if depth == 2:  # noqa: PLR2004 - a child of the log
            local = _local_name(name)
            if local == "trace":
                in_trace = True
                trace_index = n_traces
                n_traces += 1
                event_index = -1
                starts -= len(ends)  # keep `ends` short
                ends.clear()
                if len(shared) > _SHARED_MAX:  # values rarely repeat: bound the memo's memory
                    shared.clear()
            elif local == "event":
                orphans += 1
        else:
            local = _local_name(name)
            if local != "log":
                raise InvalidLogError(
                    f"XES file '{path}' contains no traces (its root element is <{local}>, "
                    "not <log>); pass an XES event log."
                )

    parser.StartElementHandler = start
    parser.EndElementHandler = ends.append
    parse = parser.Parse
    for chunk, done in blocks:
        parse(chunk, False)  # noqa: FBT003 - expat's signature
        if advance is not None:
            advance(done)
    parse(b"", True)  # noqa: FBT003
    if attribute_depth:
        close_event()
    if in_trace:
        trace_ends.append(n_kept)
    if n_traces == 0:
        raise InvalidLogError(
            f"XES file '{path}' contains no traces; pass an XES log with at least one <trace>."
        )
    per_trace = np.asarray(trace_ends, dtype=np.int64)  # kept events of each trace
    per_trace[1:] -= per_trace[:-1].copy()
    return XesColumns(
        event_columns=events.finish(n_kept),
        trace_columns=traces.finish(n_traces),
        event_trace=np.repeat(np.arange(n_traces, dtype=np.int64), per_trace),
        orphan_events=orphans,
    )


def parse_xes(
    path: str | os.PathLike[str],
    *,
    lifecycle: str | Sequence[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> XesColumns:
    """Read an XES event log (plain or gzip-compressed) into columns.

    Events come out in file order, trace by trace. Each typed XES attribute element becomes a
    value: ``string`` and ``id`` give `str`, ``int`` gives `int`, ``float`` gives `float`,
    ``boolean`` gives `bool`, and ``date`` gives the raw ISO 8601 string as written (not
    parsed); equal ``string`` values are mostly one shared `str` object. Children of nested
    attributes and of ``list``/``container`` elements are ignored; global defaults and
    log-level attributes are ignored. Gzip is detected by its magic bytes, not by the file
    extension, and XML namespaces are stripped from tag names.

    Args:
        path: The ``.xes`` or ``.xes.gz`` file.
        lifecycle: None keeps every event. A string or a sequence of strings keeps only the
            events whose ``lifecycle:transition`` matches one of them case-insensitively; an
            event without ``lifecycle:transition`` counts as ``"complete"`` (the XES default).
        on_progress: Called as ``on_progress(done, total)`` with the bytes of the file (as
            stored, compressed or not) read so far and its size, after each block.

    Returns:
        The event columns, the trace columns and the trace index of each event. Every trace of
        the file is in the trace columns, also one whose events were all filtered out.

    Raises:
        InvalidLogError: The file does not exist or cannot be read, is a truncated or corrupt
            gzip file, is not well-formed XML, is not text in the encoding it declares, contains a
            document type declaration (``<!DOCTYPE ...>``: refused, so that no entity can be
            expanded or fetched), has no ``<log>`` root or no traces, has a trace or event
            attribute element without a key, or has an ``int``/``float``/``boolean`` value that
            is not in the XES (XML Schema) form: ``1_000``, ``nan`` or Unicode digits are refused.
        ParameterError: ``lifecycle`` is an empty sequence or holds something other than strings.

    Examples:
        >>> import tempfile, pathlib
        >>> xes = '''<log><trace><string key="concept:name" value="c1"/>
        ...   <event><string key="concept:name" value="a"/><int key="n" value="3"/></event>
        ...   <event><string key="concept:name" value="b"/></event>
        ... </trace></log>'''
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     file = pathlib.Path(tmp) / "tiny.xes"
        ...     _ = file.write_text(xes, encoding="utf-8")
        ...     columns = parse_xes(file)
        >>> columns.event_columns
        {'concept:name': ['a', 'b'], 'n': [3, None]}
        >>> columns.trace_columns
        {'concept:name': ['c1']}
        >>> columns.event_trace.tolist()
        [0, 0]
    """
    wanted = _lifecycle_filter(lifecycle)
    file = os.fspath(path)
    with ExitStack() as stack:
        raw, is_gzip = open_raw(file, stack)
        advance = None
        if on_progress is not None:
            total = os.fstat(raw.fileno()).st_size

            def advance(done: int) -> None:
                on_progress(done, total)

        try:
            # gzip is decompressed in a thread of its own while expat parses.
            blocks = stack.enter_context(Ahead(gunzip(raw))) if is_gzip else plain_blocks(raw)
            blocks, encoding = as_utf8(blocks, file)
            columns = _read_log(blocks, file, wanted, advance, encoding)
        except (expat.ExpatError, EOFError, zlib.error, OSError) as err:
            raise translate_error(file, err, is_gzip=is_gzip) from err
        except LookupError as err:  # the <?xml encoding=...?> names no codec Python knows
            raise InvalidLogError(
                f"XES file '{file}' declares an encoding Python does not know ({err}); "
                "re-save it as UTF-8 or fix the encoding in its <?xml ... ?> header."
            ) from err
        if advance is not None:
            advance(total)  # the last bytes (a gzip trailer) may have yielded no block
        return columns
