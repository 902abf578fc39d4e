"""Streaming reader of XES event logs (IEEE 1849) into plain columns.

`parse_xes` reads a ``.xes`` file, gzip-compressed or not, with the standard library's
`xml.etree.ElementTree.iterparse` and returns one Python list per attribute key, ready to be
turned into a data frame by the caller. Memory stays flat: every trace is dropped from the
XML tree as soon as its events have been copied into the columns.

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
import os
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING
from xml.parsers import expat

import attrs
import numpy as np

from salesstd.errors import InvalidLogError, ParameterError

if TYPE_CHECKING:
    import io
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray


__all__ = ["XesColumns", "parse_xes"]

_GZIP_MAGIC = b"\x1f\x8b"
_LIFECYCLE_KEY = "lifecycle:transition"
_DEFAULT_LIFECYCLE = "complete"
_CHUNK = 1 << 16
_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
_HEAD_BYTES = 1024


@attrs.frozen
class XesColumns:
    """Columns read from an XES file by `parse_xes`.

    Attributes:
        event_columns: One list per event-attribute key, each of length ``n_events`` (the kept
            events, in file order), with None where an event lacks the key.
        trace_columns: One list per trace-attribute key, each of length ``n_traces`` (every
            trace of the file, in file order, also those without kept events), with None where
            a trace lacks the key.
        event_trace: int64 array of length ``n_events``: the index (``0 .. n_traces - 1``) of
            the trace each event belongs to.
        orphan_events: Number of ``<event>`` elements directly under ``<log>``, outside any
            trace; they are not in the columns (they have no case), and the caller decides
            whether to refuse the file or drop them with a warning.
    """

    event_columns: dict[str, list[object]]
    trace_columns: dict[str, list[object]]
    event_trace: NDArray[np.int64]
    orphan_events: int = 0


def _parse_int(text: str) -> object:
    return int(text)


def _parse_float(text: str) -> object:
    return float(text)


def _parse_bool(text: str) -> object:
    lowered = text.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise ValueError(text)


def _keep_text(text: str) -> object:
    return text


# Typed XES attribute elements and how their ``value`` is converted.
_CONVERTERS: dict[str, Callable[[str], object]] = {
    "string": _keep_text,
    "id": _keep_text,
    "date": _keep_text,
    "int": _parse_int,
    "float": _parse_float,
    "boolean": _parse_bool,
}
# Composite attribute elements: their children are ignored, a ``value`` (if any) is kept.
_COMPOSITES = frozenset({"list", "container"})


class _Columns:
    """Column builder that pads with None for rows lacking a key."""

    __slots__ = ("columns", "n_rows")

    def __init__(self) -> None:
        self.columns: dict[str, list[object]] = {}
        self.n_rows = 0

    def append(self, row: dict[str, object]) -> None:
        n = self.n_rows
        columns = self.columns
        for key, value in row.items():
            column = columns.get(key)
            if column is None:
                column = [None] * n
                columns[key] = column
            elif len(column) < n:
                column.extend([None] * (n - len(column)))
            column.append(value)
        self.n_rows = n + 1

    def finish(self) -> dict[str, list[object]]:
        n = self.n_rows
        for column in self.columns.values():
            if len(column) < n:
                column.extend([None] * (n - len(column)))
        return self.columns


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


def _open_binary(path: str, stack: ExitStack) -> tuple[io.BufferedIOBase, bool]:
    """Open ``path`` for reading, transparently decompressing gzip (detected by magic bytes)."""
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
    if magic == _GZIP_MAGIC:
        return stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")), True
    return raw, False


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
        stream, _ = _open_binary(path, stack)
        try:
            while chunk := stream.read(_CHUNK):
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


def _translate_error(path: str, err: Exception, *, is_gzip: bool) -> InvalidLogError:
    """Turn an error raised while reading or parsing ``path`` into an InvalidLogError."""
    if isinstance(err, ET.ParseError):
        bad_line = _declares_utf8_but_is_not(path)
        if bad_line is not None:
            return InvalidLogError(
                f"XES file '{path}' declares UTF-8 but is not valid UTF-8 (first bad byte on "
                f"line {bad_line}); re-save it as UTF-8 or declare its real encoding in the "
                "<?xml ... encoding=...?> header."
            )
        line, column = err.position
        return InvalidLogError(
            f"XES file '{path}' is not well-formed XML ({expat.ErrorString(err.code)} at "
            f"line {line}, column {column}); check that it is a complete XES file."
        )
    if is_gzip or isinstance(err, (EOFError, zlib.error)):
        return _gzip_error(path)
    return InvalidLogError(
        f"XES file '{path}' could not be read ({err}); check the file and the disk."
    )


def _local_name(tag: str, cache: dict[str, str]) -> str:
    """Return ``tag`` without its ``{namespace}`` prefix, memoised in ``cache``."""
    name = cache.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag
        cache[tag] = name
    return name


def _where(trace_index: int, event_index: int | None) -> str:
    if event_index is None:
        return f"trace {trace_index} (0-based)"
    return f"event {event_index} of trace {trace_index} (both 0-based)"


def _read_attributes(
    element: ET.Element,
    names: dict[str, str],
    path: str,
    trace_index: int,
    event_index: int | None,
) -> tuple[dict[str, object], list[ET.Element]]:
    """Read the top-level attributes of a trace or event; return them and the child events."""
    values: dict[str, object] = {}
    events: list[ET.Element] = []
    converters = _CONVERTERS
    for child in element:
        tag = child.tag
        kind = names.get(tag)
        if kind is None:
            kind = _local_name(tag, names)
        convert = converters.get(kind)
        if convert is None:
            if kind == "event":
                events.append(child)
                continue
            if kind not in _COMPOSITES:
                continue
        attrib = child.attrib
        key = attrib.get("key")
        if key is None:
            raise InvalidLogError(
                f"XES file '{path}' has a <{kind}> attribute without a key in "
                f"{_where(trace_index, event_index)}; give every attribute element a "
                'key="..." attribute.'
            )
        text = attrib.get("value")
        if text is None:
            if convert is not None:  # a list/container without a value of its own is skipped
                values[key] = None
        elif convert is None or convert is _keep_text:
            values[key] = text
        else:
            try:
                values[key] = convert(text)
            except ValueError as err:
                raise InvalidLogError(
                    f"XES file '{path}' has a <{kind}> attribute {key!r} with value {text!r} "
                    f"in {_where(trace_index, event_index)} that is not a valid {kind}; fix the "
                    "value or declare the attribute as <string>."
                ) from err
    return values, events


def _read_log(stream: io.BufferedIOBase, path: str, wanted: frozenset[str] | None) -> XesColumns:
    """Stream ``stream`` through iterparse and collect the columns (errors propagate raw)."""
    names: dict[str, str] = {}
    events = _Columns()
    traces = _Columns()
    event_trace: list[int] = []
    orphans = 0
    root: ET.Element | None = None
    depth = 0
    for kind, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314
        if kind == "start":
            depth += 1
            if root is None:
                root = element
                root_name = _local_name(element.tag, names)
                if root_name != "log":
                    raise InvalidLogError(
                        f"XES file '{path}' contains no traces (its root element is "
                        f"<{root_name}>, not <log>); pass an XES event log."
                    )
            continue
        if depth == 2 and root is not None and _local_name(element.tag, names) == "trace":  # noqa: PLR2004
            trace_index = traces.n_rows
            trace_values, trace_events = _read_attributes(element, names, path, trace_index, None)
            traces.append(trace_values)
            for event_index, event in enumerate(trace_events):
                event_values, _ = _read_attributes(event, names, path, trace_index, event_index)
                if wanted is not None:
                    transition = event_values.get(_LIFECYCLE_KEY)
                    if transition is None:
                        transition = _DEFAULT_LIFECYCLE
                    if str(transition).lower() not in wanted:
                        continue
                events.append(event_values)
                event_trace.append(trace_index)
            # Drop the finished trace (and any log-level element before it) from the tree.
            element.clear()
            root.clear()
        elif depth == 2 and root is not None and _local_name(element.tag, names) == "event":  # noqa: PLR2004
            orphans += 1
            element.clear()
        depth -= 1
    if traces.n_rows == 0:
        raise InvalidLogError(
            f"XES file '{path}' contains no traces; pass an XES log with at least one <trace>."
        )
    return XesColumns(
        event_columns=events.finish(),
        trace_columns=traces.finish(),
        event_trace=np.asarray(event_trace, dtype=np.int64),
        orphan_events=orphans,
    )


def parse_xes(
    path: str | os.PathLike[str],
    *,
    lifecycle: str | Sequence[str] | None = None,
) -> XesColumns:
    """Read an XES event log (plain or gzip-compressed) into columns.

    Events come out in file order, trace by trace. Each typed XES attribute element becomes a
    value: ``string`` and ``id`` give `str`, ``int`` gives `int`, ``float`` gives `float`,
    ``boolean`` gives `bool`, and ``date`` gives the raw ISO 8601 string as written (not
    parsed). Children of nested attributes and of ``list``/``container`` elements are ignored;
    global defaults and log-level attributes are ignored. Gzip is detected by its magic bytes,
    not by the file extension, and XML namespaces are stripped from tag names.

    Args:
        path: The ``.xes`` or ``.xes.gz`` file.
        lifecycle: None keeps every event. A string or a sequence of strings keeps only the
            events whose ``lifecycle:transition`` matches one of them case-insensitively; an
            event without ``lifecycle:transition`` counts as ``"complete"`` (the XES default).

    Returns:
        The event columns, the trace columns and the trace index of each event. Every trace of
        the file is in the trace columns, also one whose events were all filtered out.

    Raises:
        InvalidLogError: The file does not exist or cannot be read, is a truncated or corrupt
            gzip file, is not well-formed XML, declares UTF-8 but is not UTF-8, has no ``<log>``
            root or no traces, has a trace or event attribute element without a key, or has an
            ``int``/``float``/``boolean`` value that does not parse.
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
        stream, is_gzip = _open_binary(file, stack)
        try:
            return _read_log(stream, file, wanted)
        except (ET.ParseError, EOFError, zlib.error, OSError) as err:
            raise _translate_error(file, err, is_gzip=is_gzip) from err
        except LookupError as err:  # the <?xml encoding=...?> names no codec Python knows
            raise InvalidLogError(
                f"XES file '{file}' declares an encoding Python does not know ({err}); "
                "re-save it as UTF-8 or fix the encoding in its <?xml ... ?> header."
            ) from err
