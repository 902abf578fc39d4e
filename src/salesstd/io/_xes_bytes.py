"""The bytes of an XES file as the parser reads them: gunzipped, decoded, errors named.

`parse_xes` (in `_xes`) reads blocks from here: a plain file in 1 MiB blocks, a gzip file
inflated by zlib in a background thread a few blocks ahead (zlib releases the GIL), and a
file declaring an encoding expat cannot read (Shift_JIS, GBK, Big5, EUC-KR...) decoded by
Python's incremental decoder and handed on as UTF-8. Errors of the stream or the parser
become `InvalidLogError` messages that name the file and what to do.
"""

from __future__ import annotations

import codecs
import gzip
import itertools
import queue
import re
import threading
import zlib
from contextlib import ExitStack
from typing import TYPE_CHECKING, Final
from xml.parsers import expat

from salesstd.errors import InvalidLogError
from salesstd.io._files import GZIP_MAGIC

if TYPE_CHECKING:
    import io
    from collections.abc import Callable, Iterator

_DEFLATE = 8  # the only compression method of gzip
_GZIP_HEADER = 10  # bytes of a gzip member's fixed header
_READ_SIZE = 1 << 20  # bytes handed to expat at a time
_GZIP_READ = 1 << 18  # compressed bytes read from a gzip file at a time
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib decodes one gzip member: header, deflate, CRC-32, size
_QUEUED = 4  # decompressed blocks the background thread may hold ready for the parser
_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"'>]*)["']""")
# XML 1.0's EncName: a letter, then letters, digits, '.', '_' and '-' (no spaces).
_ENCODING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")
_HEAD_BYTES = 1024


def open_raw(path: str, stack: ExitStack) -> tuple[io.BufferedIOBase, bool]:
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


def gunzip(raw: io.BufferedIOBase) -> Iterator[tuple[bytes, int]]:
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


def plain_blocks(raw: io.BufferedIOBase) -> Iterator[tuple[bytes, int]]:
    """The bytes of the plain file ``raw`` in blocks, each with the bytes read so far."""
    read = raw.read
    tell = raw.tell
    while block := read(_READ_SIZE):
        yield block, tell()


class Ahead:
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
        raw, is_gzip = open_raw(path, stack)
        try:
            for chunk, _ in gunzip(raw) if is_gzip else plain_blocks(raw):
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
    declared = match.group(1).decode("latin-1") if match else "utf-8"
    return bad_line if _is_utf8(declared) else None


def _is_utf8(name: str) -> bool:
    """True if Python reads the encoding `name` as UTF-8 ("utf-8", "utf8", "UTF_8", "U8")."""
    try:
        return codecs.lookup(name).name == "utf-8"
    except LookupError:
        return False


# The names expat reads itself (in any case); any other declared name, even one Python
# aliases to these ("utf8", "UTF_8", "utf-16-le"), is decoded here (see `as_utf8`): expat
# would hand it to pyexpat's codec bridge, which reads single-byte encodings only.
_EXPAT_ENCODINGS = frozenset({"utf-8", "utf-16", "utf-16le", "utf-16be", "iso-8859-1", "us-ascii"})
# How a file's first bytes fix its encoding (XML 1.0, appendix F): a byte order mark, or
# UTF-16 without one ("<?" in two bytes each), whose declaration is then in UTF-16 too.
_SELF_DESCRIBED = (
    (codecs.BOM_UTF8, "utf-8"),
    # UTF-32 before UTF-16: its little-endian mark begins with UTF-16's. expat does not
    # read UTF-32, so these are decoded here like a multi-byte encoding.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (b"<\x00\x00\x00?\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<\x00\x00\x00?", "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00?\x00", "utf-16le"),
    (b"\x00<\x00?", "utf-16be"),
)


def as_utf8(
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
    for prefix, name in _SELF_DESCRIBED:
        if start.startswith(prefix):
            # The first bytes decide the encoding: the parser is told so, as otherwise a
            # declared name expat cannot read ("utf-16-le", or Shift_JIS after a byte order
            # mark) fails inside pyexpat with "multi-byte encodings are not supported".
            if name.startswith("utf-32"):
                return _decoded(chained, name, path), "utf-8"
            return chained, name
    match = _DECLARED_ENCODING.match(start)
    if match is None:
        return chained, None
    declared = match.group(1).decode("latin-1")
    if _ENCODING_NAME.fullmatch(declared) is None:
        raise InvalidLogError(
            f"XES file '{path}' declares the encoding {declared!r}, which is not an encoding "
            "name (a letter, then letters, digits, '.', '_' or '-'; no spaces); fix the "
            'encoding in its <?xml ... encoding=...?> header, e.g. encoding="Shift_JIS".'
        )
    if declared.lower() in _EXPAT_ENCODINGS:
        return chained, None
    if _is_utf8(declared):  # "utf8", "UTF_8": expat reads UTF-8 itself once told so
        return chained, "utf-8"
    if not codecs.lookup(declared)._is_text_encoding:  # noqa: SLF001 - as str.encode checks
        raise LookupError(f"{declared!r} is not a text encoding")
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
        except UnicodeError as err:  # a codec such as 'undefined' raises UnicodeError itself
            at = max(getattr(err, "start", len(chunk)), 0)
            bad_line = line + chunk.count(b"\n", 0, at)
            raise _not_in_encoding(path, encoding, bad_line) from err
        line += chunk.count(b"\n")
        yield text.encode("utf-8"), done
    try:
        text = decoder.decode(b"", final=True)
    except UnicodeError as err:  # the file ends inside a character
        raise _not_in_encoding(path, encoding, line) from err
    if text:
        yield text.encode("utf-8"), done


def _not_in_encoding(path: str, encoding: str, line: int) -> InvalidLogError:
    return InvalidLogError(
        f"XES file '{path}' declares the encoding {encoding} but is not valid {encoding} text "
        f"(first bad byte on line {line}); re-save it in the encoding it declares, or fix the "
        "encoding in its <?xml ... encoding=...?> header."
    )


def translate_error(path: str, err: Exception, *, is_gzip: bool) -> InvalidLogError:
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
