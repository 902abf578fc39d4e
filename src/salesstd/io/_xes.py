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

import codecs
import gzip
import itertools
import os
import queue
import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Final, NoReturn
from xml.parsers import expat

import attrs
import numpy as np

from salesstd.errors import InvalidLogError, ParameterError
from salesstd.io._files import GZIP_MAGIC

if TYPE_CHECKING:
    import io
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray


__all__ = ["XesColumns", "parse_xes"]

_DEFLATE = 8  # the only compression method of gzip
_GZIP_HEADER = 10  # bytes of a gzip member's fixed header
_LIFECYCLE_KEY = "lifecycle:transition"
_DEFAULT_LIFECYCLE = "complete"
_READ_SIZE = 1 << 20  # bytes handed to expat at a time
_GZIP_READ = 1 << 18  # compressed bytes read from a gzip file at a time
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib decodes one gzip member: header, deflate, CRC-32, size
_QUEUED = 4  # decompressed blocks the background thread may hold ready for the parser
_SHARED_MAX = 1 << 16  # distinct string values remembered before the memo starts afresh
_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
_HEAD_BYTES = 1024


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


def _open_raw(path: str, stack: ExitStack) -> tuple[io.BufferedIOBase, bool]:
    """Open ``path`` for reading as stored; True if it is gzip (detected by magic bytes)."""
    try:
        raw: io.BufferedIOBase = stack.enter_context(open(path, "rb"))  # noqa: PTH123, SIM115
        magic = raw.read(2)
        raw.seek(0)
    except FileNotFoundError as err:
        raise InvalidLogError(
            f"XES file '{path}' does not exist; check the path and the working directory."
        ) from err
    except OSError as err:
        raise InvalidLogError(
            f"XES file '{path}' cannot be read ({err.strerror or err}); "
            "check that the path names a readable file."
        ) from err
    return raw, magic == GZIP_MAGIC


def _gunzip(raw: io.BufferedIOBase) -> Iterator[tuple[bytes, int]]:
    """Decompress the gzip file ``raw`` in blocks of at most `_READ_SIZE` bytes.

    Yields each block with the number of compressed bytes read so far. As in `gzip.GzipFile`
    (which reads in small steps, each of which would wait for the GIL in a thread), members
    follow one another, zero bytes between or after members are skipped, a member that does
    not start with the gzip magic bytes and method raises `gzip.BadGzipFile` and a file that
    ends inside a member EOFError; zlib checks the rest of each header, the CRC-32 and the
    length, raising ``zlib.error``.
    """
    read = raw.read
    tell = raw.tell
    pending = _gzip_member(b"", read)
    decompressor = zlib.decompressobj(_GZIP_WBITS)
    while True:
        if not pending:
            pending = read(_GZIP_READ)
        if pending:
            block = decompressor.decompress(pending, _READ_SIZE)
            pending = decompressor.unconsumed_tail
            if block:
                yield block, tell()
        else:  # the end of the file: the output zlib still holds, then the member must end
            block = decompressor.flush()
            if block:
                yield block, tell()
            if not decompressor.eof:
                raise EOFError("the file ends inside a gzip member")
        if decompressor.eof:  # a member ends: zero padding, then the end or another member
            pending = decompressor.unused_data.lstrip(b"\0")
            while not pending:
                more = read(_GZIP_READ)
                if not more:
                    return
                pending = more.lstrip(b"\0")
            pending = _gzip_member(pending, read)
            decompressor = zlib.decompressobj(_GZIP_WBITS)


def _gzip_member(pending: bytes, read: Callable[[int], bytes]) -> bytes:
    """``pending`` and more bytes, once they start like a gzip member (as GzipFile checks)."""
    while len(pending) < _GZIP_HEADER:
        more = read(_GZIP_READ)
        if not more:
            break
        pending += more
    if pending[:2] != GZIP_MAGIC:
        raise gzip.BadGzipFile(f"Not a gzipped file ({pending[:2]!r})")
    if len(pending) < _GZIP_HEADER:
        raise EOFError("the file ends inside a gzip header")
    if pending[2] != _DEFLATE:
        raise gzip.BadGzipFile("Unknown compression method")
    return pending


def _blocks(raw: io.BufferedIOBase) -> Iterator[tuple[bytes, int]]:
    """The bytes of the plain file ``raw`` in blocks, each with the bytes read so far."""
    read = raw.read
    tell = raw.tell
    while block := read(_READ_SIZE):
        yield block, tell()


class _Ahead:
    """Runs an iterator of blocks in a background thread, a few blocks ahead of its reader.

    zlib releases the GIL while it inflates, so the next blocks are decompressed while expat
    parses the current one on the calling thread. Exceptions raised by the iterator are raised
    again in the reader, at the block where they happened. Leaving the ``with`` block (also on
    an error in the reader) stops the thread and waits for it, so the file under the iterator
    may be closed next.
    """

    _END: Final = object()

    def __init__(self, blocks: Iterator[tuple[bytes, int]]) -> None:
        self._blocks = blocks
        self._queue: queue.Queue[object] = queue.Queue(maxsize=_QUEUED)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="salesstd-xes-gunzip", daemon=True)

    def _put(self, item: object) -> bool:
        """Queue ``item`` unless the reader has left; False once it has."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def _run(self) -> None:
        try:
            for block in self._blocks:
                if not self._put(block):
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the reader, raised there
            self._put(err)
        else:
            self._put(self._END)

    def __enter__(self) -> Iterator[tuple[bytes, int]]:
        self._thread.start()
        return self._read()

    def _read(self) -> Iterator[tuple[bytes, int]]:
        get = self._queue.get
        while (item := get()) is not self._END:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _gzip_error(path: str) -> InvalidLogError:
    return InvalidLogError(
        f"XES file '{path}' is a truncated or corrupt gzip file; download or compress it again."
    )


def _declares_utf8_but_is_not(path: str) -> int | None:
    """Return the line of the first invalid UTF-8 byte if the file claims UTF-8, else None.

    A file without an encoding declaration claims UTF-8 (the XML default). Only called after
    the XML parser failed, to tell an encoding problem from malformed XML.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    line = 1
    bad_line: int | None = None
    with ExitStack() as stack:
        raw, is_gzip = _open_raw(path, stack)
        try:
            for chunk, _ in _gunzip(raw) if is_gzip else _blocks(raw):
                if len(head) < _HEAD_BYTES:
                    head += chunk[:_HEAD_BYTES]
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as err:
                    bad_line = line + chunk.count(b"\n", 0, max(err.start, 0))
                    break
                line += chunk.count(b"\n")
            else:
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            bad_line = line
        except (OSError, EOFError, zlib.error):
            return None
    if bad_line is None:
        return None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None  # a UTF-16 file: the parse error is not about UTF-8
    match = _DECLARED_ENCODING.match(head.removeprefix(codecs.BOM_UTF8))
    declared = match.group(1).decode("ascii").lower() if match else "utf-8"
    return bad_line if declared in _UTF8_NAMES else None


# Encodings expat reads itself; any other declared encoding is decoded here (see `_as_utf8`).
_EXPAT_ENCODINGS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "iso8859-1", "ascii"})


def _as_utf8(
    blocks: Iterator[tuple[bytes, int]], path: str
) -> tuple[Iterator[tuple[bytes, int]], str | None]:
    """The blocks as UTF-8 if the file declares an encoding expat cannot read, and its name.

    expat reads UTF-8, UTF-16, ISO-8859-1 and ASCII, and refuses multi-byte encodings
    (Shift_JIS, GB2312, GBK, Big5, EUC-KR: what Japanese, Chinese and Korean systems
    export). For any encoding but those four, the blocks are decoded by Python's
    incremental decoder as they stream (a character split between two blocks is joined)
    and handed on as UTF-8, and the parser is told so (the second value); the file's own
    declaration is then ignored. Other files pass through untouched, with None.

    Raises:
        LookupError: If the declared encoding is not known to Python.
    """
    head: list[tuple[bytes, int]] = []
    size = 0
    for block in blocks:
        head.append(block)
        size += len(block[0])
        if size >= _HEAD_BYTES:
            break
    chained = itertools.chain(head, blocks)
    start = b"".join(chunk for chunk, _ in head)[:_HEAD_BYTES]
    if start.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return chained, None  # a byte order mark decides the encoding
    match = _DECLARED_ENCODING.match(start)
    if match is None:
        return chained, None
    declared = match.group(1).decode("ascii")
    if codecs.lookup(declared).name in _EXPAT_ENCODINGS:
        return chained, None
    return _decoded(chained, declared, path), "utf-8"


def _decoded(
    blocks: Iterator[tuple[bytes, int]], encoding: str, path: str
) -> Iterator[tuple[bytes, int]]:
    """The blocks decoded from `encoding` and encoded as UTF-8, each with its bytes read."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    done = 0
    for chunk, done in blocks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as err:
            bad_line = line + chunk.count(b"\n", 0, max(err.start, 0))
            raise _not_in_encoding(path, encoding, bad_line) from err
        line += chunk.count(b"\n")
        yield text.encode("utf-8"), done
    try:
        text = decoder.decode(b"", final=True)
    except UnicodeDecodeError as err:  # the file ends inside a character
        raise _not_in_encoding(path, encoding, line) from err
    if text:
        yield text.encode("utf-8"), done


def _not_in_encoding(path: str, encoding: str, line: int) -> InvalidLogError:
    return InvalidLogError(
        f"XES file '{path}' declares the encoding {encoding} but is not valid {encoding} text "
        f"(first bad byte on line {line}); re-save it in the encoding it declares, or fix the "
        "encoding in its <?xml ... encoding=...?> header."
    )


def _translate_error(path: str, err: Exception, *, is_gzip: bool) -> InvalidLogError:
    """Turn an error raised while reading or parsing ``path`` into an InvalidLogError."""
    if isinstance(err, expat.ExpatError):
        bad_line = _declares_utf8_but_is_not(path)
        if bad_line is not None:
            return InvalidLogError(
                f"XES file '{path}' declares UTF-8 but is not valid UTF-8 (first bad byte on "
                f"line {bad_line}); re-save it as UTF-8 or declare its real encoding in the "
                "<?xml ... encoding=...?> header."
            )
        line, column = err.lineno, err.offset
        return InvalidLogError(
            f"XES file '{path}' is not well-formed XML ({expat.ErrorString(err.code)} at "
            f"line {line}, column {column}); check that it is a complete XES file."
        )
    if is_gzip or isinstance(err, (EOFError, zlib.error)):
        return _gzip_error(path)
    return InvalidLogError(
        f"XES file '{path}' could not be read ({err}); check the file and the disk."
    )


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
        raw, is_gzip = _open_raw(file, stack)
        advance = None
        if on_progress is not None:
            total = os.fstat(raw.fileno()).st_size

            def advance(done: int) -> None:
                on_progress(done, total)

        try:
            # gzip is decompressed in a thread of its own while expat parses.
            blocks = stack.enter_context(_Ahead(_gunzip(raw))) if is_gzip else _blocks(raw)
            blocks, encoding = _as_utf8(blocks, file)
            columns = _read_log(blocks, file, wanted, advance, encoding)
        except (expat.ExpatError, EOFError, zlib.error, OSError) as err:
            raise _translate_error(file, err, is_gzip=is_gzip) from err
        except LookupError as err:  # the <?xml encoding=...?> names no codec Python knows
            raise InvalidLogError(
                f"XES file '{file}' declares an encoding Python does not know ({err}); "
                "re-save it as UTF-8 or fix the encoding in its <?xml ... ?> header."
            ) from err
        if advance is not None:
            advance(total)  # the last bytes (a gzip trailer) may have yielded no block
        return columns
