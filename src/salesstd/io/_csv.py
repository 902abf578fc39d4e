"""Reading CSV: Arrow's CSV reader on the main path, the csv module as the error reporter.

`csv_columns` reads the file with `pyarrow.csv` (whole up to `WHOLE_FILE_BYTES`, streamed
beyond) in blocks, on one thread: every column but the time arrives as an Arrow dictionary
(text is never one Python string per row), and the time is parsed by Arrow's ISO 8601
parser as it reads when the first block shows one form (all with a UTC offset, or all
without), so its text never exists as a column; otherwise it arrives as text and is parsed
block by block. Each block leaves Arrow for numpy as soon as it is converted, and Arrow's
allocator hands the freed memory back. Attribute types are inferred on each column's
distinct values. Whenever Arrow refuses the file
(ragged rows, bad quoting, bytes that are not UTF-8, a missing or duplicate header name, no
events) the file is read again by `python_columns`, the standard library's csv module, whose
messages name the line; that path is the error reporter, and returns a log only for the
rare file Arrow refuses and the csv module takes. Line numbers for messages about values
(a missing id, a bad time) are found the same way, by re-reading the file on first use.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from salesstd._base import columns as _columns
from salesstd._base import lazy
from salesstd._base import timestamps as _time
from salesstd._base.columns import sorted_coded
from salesstd._base.progress import progress_bar
from salesstd.errors import InvalidLogError
from salesstd.io._files import GZIP_MAGIC, decode, read_bytes
from salesstd.log import Coded, ColumnOptions, Parsed
from salesstd.log import parse_times as parse_arrow_times

BLOCK_BYTES = 1 << 20  # Arrow's block: ~17k rows of a typical export, parsed per batch
PROBE_BYTES = 1 << 16  # enough for the header row (a longer one goes the csv-module way)
WHOLE_FILE_BYTES = 256 << 20  # files up to this size are parsed whole, then converted
_EXACT_IN_FLOAT = 2**53

Columns = dict[str, Any]
RowLabel = Callable[[int], str]


def csv_columns(
    path: str,
    opts: ColumnOptions,
    *,
    delimiter: str,
    encoding: str,
    progress: bool | None,
) -> tuple[Columns, RowLabel] | None:
    """The file's columns as `from_columns` takes them, or None when Arrow refuses the file.

    `opts` are the checked options of `read_csv`. Ids and activities are `Coded`, the time
    `Parsed`, attributes typed by `infer`; columns that are not asked for are None. None
    means: read it with `python_columns`, which raises the csv module's message (or reads
    what Arrow could not).
    """
    pa, pcsv = lazy.pa, lazy.pcsv
    case, activity, time, tz = opts.case, opts.activity, opts.time, opts.tz
    parse = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    try:
        names = _header(path, encoding, delimiter)
        if len(set(names)) != len(names) or not {case, activity, time} <= set(names):
            return None
        event_cols = [c for c in names if c not in {case, activity, time}]
        if opts.attributes is not None:
            event_cols = opts.attributes
        order = [] if opts.order is None else [opts.order]
        extra = {*event_cols, *(opts.case_attributes or ()), *order}
        # The time also kept as an attribute or the order is read as coded text: its
        # distinct values are parsed once by `from_columns`, and the text is the attribute.
        coded = [c for c in names if c in {case, activity} or c in extra]
        size = Path(path).stat().st_size
        whole = size <= WHOLE_FILE_BYTES
        if whole and not _has_quote(path):
            # Without a quote no value can hold a line break: Arrow may split the file at
            # any line, which parses faster.
            parse = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=False)
        stamp = None if time in extra else _time_type(path, time, encoding, parse)
        file = _File(path, size, whole, encoding, parse)
        try:
            got = _read(file, coded, time, stamp, tz=tz, progress=progress)
        except pa.ArrowInvalid:
            if stamp is None:
                raise
            # A later value is not in the form the first block showed: read the time as
            # text, parsed with salesstd's own rules (which report each bad value).
            got = _read(file, coded, time, None, tz=tz, progress=progress)
    except (pa.ArrowException, OSError, UnicodeError, LookupError, csv.Error):
        return None
    parts, ns, raw_times = got
    if parts[case].rows == 0:
        return None
    out: Columns = dict.fromkeys(names)
    for c in coded:
        out[c] = parts.pop(c).coded()
        lazy.pa.default_memory_pool().release_unused()  # the merge's hash table and copies
    for c in extra:
        if c in out and c not in (case, activity, time):
            out[c] = infer(out[c])
    if time not in extra:
        out[time] = Parsed(ns, raw_times)
    return out, _Lines(path, delimiter, encoding)


class _File(NamedTuple):
    """One CSV file as every read of it sees it: path, size, whole or streamed, options."""

    path: str
    size: int
    whole: bool  # parsed whole (one thread), else streamed block by block
    encoding: str
    parse: Any  # pyarrow.csv.ParseOptions


def _time_type(path: str, time: str, encoding: str, parse: Any) -> Any:  # noqa: ANN401
    """The Arrow type to parse the time column as while reading, from the first block's values.

    ``timestamp("ns", tz="UTC")`` when every value there has a UTC offset,
    ``timestamp("ns")`` when none has, None (read as text) otherwise. These are the two
    casts `parse_times` tries, done by the same ISO 8601 parser inside the CSV reader, so
    the nanoseconds are the same; the text never exists as a column. A later value in
    another form (or no time at all) makes that read fail, and the caller reads the time
    as text.
    """
    pa, pc, pcsv = lazy.pa, lazy.pc, lazy.pcsv
    probe = pcsv.ReadOptions(block_size=PROBE_BYTES, encoding=encoding, use_threads=False)
    convert = pcsv.ConvertOptions(column_types={time: pa.string()}, include_columns=[time])
    try:
        with _open(path) as (_, stream):
            reader = pcsv.open_csv(
                stream, read_options=probe, parse_options=parse, convert_options=convert
            )
            values = reader.read_next_batch().column(0)
    except (pa.ArrowException, StopIteration, OSError, UnicodeError, LookupError):
        return None
    for target in (pa.timestamp("ns", tz="UTC"), pa.timestamp("ns")):
        try:
            pc.cast(values, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return target
    return None


def _read(
    file: _File,
    coded: list[str],
    time: str,
    stamp: Any,  # noqa: ANN401
    *,
    tz: object,
    progress: bool | None,
) -> tuple[dict[str, _CodedParts], NDArray[np.int64], _TimeText]:
    """The coded columns and the time in UTC nanoseconds, gathered batch by batch.

    With `stamp` (see `_time_type`) Arrow parses the time as it reads and naive values are
    read in `tz`; without, the time arrives as text and each batch is parsed by
    `parse_times`. Each batch is released once its values are in numpy, so Arrow holds
    one batch (or, for a file read whole, the batches not yet converted) at a time.

    Raises:
        pyarrow.ArrowInvalid: If Arrow refuses the file, or a time is not of type `stamp`.
    """
    pa, pcsv = lazy.pa, lazy.pcsv
    types = dict.fromkeys(coded, pa.dictionary(pa.int32(), pa.string()))
    if time not in types:
        types[time] = pa.string() if stamp is None else stamp
    # No spelling of a missing value: an empty or "NULL" time stays text (read as text) or
    # refuses the timestamp type, so every value that is not a time is reported by row.
    convert = pcsv.ConvertOptions(column_types=types, include_columns=list(types), null_values=[])
    # One thread: blocks that Arrow's worker threads allocate stay with those threads'
    # allocators after they are freed (about 20 MB per million events, that
    # `release_unused` cannot reach); on one thread all of it is handed back. On two cores
    # the threads saved little time.
    read = pcsv.ReadOptions(block_size=BLOCK_BYTES, encoding=file.encoding, use_threads=False)
    seen = _Rows(file.size)
    parts = {c: _CodedParts(seen) for c in coded}
    ns_all = _Growing(np.int64, seen)
    raw_times = _TimeText()
    rows = 0
    with (
        _open(file.path) as (raw, stream),
        progress_bar(progress, total=file.size, desc=Path(file.path).name, unit="B") as bar,
    ):
        reader: Iterable[Any]
        if file.whole:
            # A file of ordinary size is parsed whole; its text columns arrive as
            # dictionary codes and its times as int64, so the table is small next to the file.
            table = pcsv.read_csv(
                stream, read_options=read, parse_options=file.parse, convert_options=convert
            )
            seen.rows, seen.read_bytes = table.num_rows, file.size  # buffers sized exactly
            reader = _draining(table.to_batches())
            del table
            # The parser's blocks are freed but kept by Arrow's allocator: hand them back
            # before numpy allocates the columns, so the two never add up.
            pa.default_memory_pool().release_unused()
        else:
            # A big file is streamed block by block, so memory stays bounded.
            reader = pcsv.open_csv(
                stream, read_options=read, parse_options=file.parse, convert_options=convert
            )
        done = 0
        for batch in reader:
            for c in coded:
                parts[c].add(batch.column(c))
            if time not in parts:  # else coded text, parsed by `from_columns`
                times = batch.column(time)
                if stamp is None:
                    ns = parse_arrow_times(times, tz=tz).ns  # type: ignore[arg-type]
                    if bool((ns == _time.NAT).any()):
                        raw_times.add(rows, times)  # kept only to quote a refused value
                else:
                    ns = times.to_numpy().view(np.int64)  # no nulls: zero-copy
                    if stamp.tz is None:
                        ns = _time.localize(ns, tz)  # type: ignore[arg-type]
                ns_all.add(ns)
                del times, ns
            rows += batch.num_rows
            del batch
            position = raw.tell()
            bar.update(position - done)
            done = position
            if not file.whole:
                seen.read_bytes, seen.rows = position, rows
    pa.default_memory_pool().release_unused()  # every batch is gone: return their memory
    return parts, ns_all.done(), raw_times


def _draining(batches: list[Any]) -> Iterator[Any]:
    """The batches in order, each dropped from the list as it is handed out."""
    batches.reverse()
    while batches:
        yield batches.pop()


class _CodedParts:
    """A text column gathered batch by batch: each batch's dictionary, and its codes in numpy.

    The codes leave Arrow's memory as soon as a batch is read, so only the small per-batch
    dictionaries stay in Arrow; `coded` merges them by hash at the end. The CSV reader never
    makes a null (empty cells are ``''``), so every code is a valid index.
    """

    def __init__(self, rows: _Rows) -> None:
        self._dictionaries: list[Any] = []
        self._codes = _Growing(np.int32, rows)

    @property
    def rows(self) -> int:
        """Rows gathered so far."""
        return self._codes.size

    def add(self, column: Any) -> None:  # noqa: ANN401
        self._dictionaries.append(column.dictionary)
        self._codes.add(column.indices.to_numpy())

    def coded(self) -> Coded:
        """Sorted distinct values and one code per row, over all batches."""
        pa, pc = lazy.pa, lazy.pc
        sizes = [len(d) for d in self._dictionaries]
        merged = pc.dictionary_encode(pa.concat_arrays(self._dictionaries))
        self._dictionaries = []
        entry = merged.indices.to_numpy()  # each batch dictionary entry in the merged one
        codes = self._codes.done()
        start = offset = 0
        for rows, size in zip(self._codes.sizes, sizes, strict=True):
            local = codes[start : start + rows]
            np.take(entry[offset : offset + size], local, out=local)  # in place: codes now global
            start += rows
            offset += size
        # Each batch's dictionary holds only values of that batch: every entry is used.
        return sorted_coded(merged.dictionary, codes, all_used=True)


def _header(path: str, encoding: str, delimiter: str) -> list[str]:
    """The column names: the first record, read by the csv module a line at a time.

    Only the lines of the header are read and decoded (a quoted name may span lines). Arrow
    would infer a type for every column of a first block to show its schema, which costs
    about 10 kB a column: 300 MB for an export of 30,000 columns, however few are asked for.
    The csv module reads quotes, doubled quotes and delimiters as Arrow's defaults do; a
    header it reads otherwise than Arrow would fail the later read, which falls back to the
    csv-module path with its messages.
    """
    with Path(path).open("rb") as first:
        zipped = first.read(2) == GZIP_MAGIC
    with (
        gzip.open(path, "rb") if zipped else Path(path).open("rb") as raw,
        io.TextIOWrapper(raw, encoding=encoding, newline="") as text,
    ):
        names = next(csv.reader(text, delimiter=delimiter), [])
    if names:
        names[0] = names[0].removeprefix("\ufeff")  # a UTF-8 byte-order mark, as Arrow skips
    return names


def _has_quote(path: str) -> bool:
    """True if the file (as stored) holds a double quote; gzip files count as quoted."""
    with Path(path).open("rb") as handle:
        if handle.read(2) == GZIP_MAGIC:
            return True
        handle.seek(0)
        # Read in blocks, not mapped: a mapped file's pages count as the process's memory.
        while block := handle.read(BLOCK_BYTES):
            if b'"' in block:
                return True
    return False


class _Rows:
    """A running guess of the file's rows, from the bytes read so far, to size the buffers."""

    def __init__(self, file_bytes: int) -> None:
        self.file_bytes = max(file_bytes, 1)
        self.read_bytes = 0
        self.rows = 0

    def guess(self) -> int:
        if not self.read_bytes:
            return 1 << 16
        return int(self.rows * max(self.file_bytes / self.read_bytes, 1.0) * 1.02) + 1024


class _Growing:
    """A numpy column filled batch by batch, grown in place (`realloc`), never concatenated."""

    def __init__(self, dtype: Any, rows: _Rows) -> None:  # noqa: ANN401
        self._array: NDArray[Any] = np.empty(0, dtype=dtype)
        self._rows = rows
        self.size = 0
        self.sizes: list[int] = []

    def add(self, values: NDArray[Any]) -> None:
        stop = self.size + values.size
        if stop > self._array.size:
            capacity = max(stop, self._rows.guess(), int(self._array.size * 1.5))
            if self.size:
                self._array.resize(capacity, refcheck=False)
            else:  # `resize` would write zeros over memory about to be filled
                self._array = np.empty(capacity, dtype=self._array.dtype)
        self._array[self.size : stop] = values
        self.size = stop
        self.sizes.append(int(values.size))

    def done(self) -> NDArray[Any]:
        """The filled part; the buffer is shrunk to it in place."""
        self._array.resize(self.size, refcheck=False)
        return self._array


class _open:  # noqa: N801 - used as a function in a with statement
    """The file as an Arrow stream, gunzipped when it starts with the gzip magic bytes."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._raw: Any = None

    def __enter__(self) -> tuple[Any, Any]:
        pa = lazy.pa
        self._raw = pa.OSFile(self._path)
        if self._raw.read(2) == GZIP_MAGIC:
            self._raw.seek(0)
            return self._raw, pa.CompressedInputStream(self._raw, "gzip")
        self._raw.seek(0)
        return self._raw, self._raw

    def __exit__(self, *exc: object) -> None:
        if self._raw is not None:
            self._raw.close()


class _TimeText:
    """The text of the time column, kept only for the batches with a value left unparsed."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._chunks: list[Any] = []

    def add(self, start: int, chunk: Any) -> None:  # noqa: ANN401
        self._starts.append(start)
        self._chunks.append(chunk)

    def __getitem__(self, row: int) -> object:
        k = bisect.bisect_right(self._starts, row) - 1
        if k < 0 or row - self._starts[k] >= len(self._chunks[k]):
            return None  # not kept: the row parsed, so no message quotes it
        return self._chunks[k][row - self._starts[k]].as_py()


class _Lines:
    """Row number -> ``line N`` of the file, found on first use by re-reading the file.

    Only messages need line numbers, so the main path never counts lines.
    """

    def __init__(self, path: str, delimiter: str, encoding: str) -> None:
        self._path, self._delimiter, self._encoding = path, delimiter, encoding
        self._lines: list[int] | None = None

    def __call__(self, row: int) -> str:
        if self._lines is None:
            self._lines = _line_numbers(self._path, self._delimiter, self._encoding)
        if 0 <= row < len(self._lines):
            return f"line {self._lines[row]}"
        return f"row {row}"  # the csv module could not re-read the file: count rows


def _line_numbers(path: str, delimiter: str, encoding: str) -> list[int]:
    """The file line on which each event row ends (the header and blank lines skipped)."""
    try:
        p, raw = read_bytes(path)
        text = decode(p, raw, encoding)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        lines = [reader.line_num for row in reader if row]
    except (InvalidLogError, csv.Error):
        return []
    return lines[1:]


def python_columns(
    path: str, *, case: object, activity: object, time: object, delimiter: str, encoding: str
) -> tuple[Columns, RowLabel, str]:
    """The file read by the csv module: every message names the line (the error reporter).

    Returns the columns, the row labels and the file's name for messages.
    """
    p, raw = read_bytes(path)
    text = decode(p, raw, encoding)
    columns, lines = _text_columns(text, delimiter=delimiter, name=str(p))
    _check_delimiter(list(columns), (case, activity, time), delimiter, p.name)
    typed: Columns = {}
    for k, col in columns.items():
        if k in (case, activity, time):
            typed[k] = col
        else:
            typed[k] = infer(Coded(*_columns.factorize(col)))
    return typed, lambda i: f"line {lines[i]}", p.name


def _check_delimiter(
    header: list[str], wanted: tuple[object, ...], delimiter: str, name: str
) -> None:
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


def _text_columns(
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


def infer(col: Coded) -> Any:  # noqa: ANN401
    """Type a text column from its distinct values: int64, float64, exact ints, or text.

    Whole numbers become int64, numbers float64 (blank as NaN); anything else stays text
    (the `Coded` column itself). Whole numbers that int64 cannot hold, or that float64
    would round when blanks force floats, become Python ints (blank as None) instead: equal
    floats would merge them. Each rule is applied to the distinct values and spread to the
    rows by their codes, so the work grows with the number of distinct values.
    """
    uniques = col.uniques
    blank = np.asarray(uniques == "", dtype=bool)
    text_values = uniques[~blank]
    if text_values.size == 0:
        return col
    has_blank = bool(blank.any()) or bool((col.codes < 0).any())
    text = text_values.astype("U")
    try:
        ints = text.astype(np.int64)
    except OverflowError:
        if _all_whole(text):
            try:
                return _spread(col, blank, [int(x) for x in text_values], None, object)
            except ValueError:  # e.g. "--5": not a number after all
                pass
        return _floats(col, blank, text)
    except ValueError:
        ints = None
    if ints is not None:
        if not has_blank:
            return _spread(col, blank, ints, 0, np.int64)
        if bool(((ints > _EXACT_IN_FLOAT) | (ints < -_EXACT_IN_FLOAT)).any()):
            return _spread(col, blank, [int(x) for x in text_values], None, object)
    return _floats(col, blank, text)


def _all_whole(text: NDArray[Any]) -> bool:
    stripped = np.char.lstrip(np.char.strip(text), "+-")
    return bool(np.char.isdigit(stripped).all())


def _spread(
    col: Coded,
    blank: NDArray[np.bool_],
    values: Any,  # noqa: ANN401
    missing: object,
    dtype: Any,  # noqa: ANN401
) -> NDArray[Any]:
    """One value per row: `values` for the non-blank distinct values, `missing` for blanks."""
    table = np.empty(col.uniques.size + 1, dtype=dtype)
    table[:] = missing
    table[:-1][~blank] = values
    return table[col.codes]  # a missing code (-1) takes the spare last slot


def _floats(col: Coded, blank: NDArray[np.bool_], text: NDArray[Any]) -> Any:  # noqa: ANN401
    try:
        numbers = text.astype(np.float64)
    except ValueError:
        return col
    return _spread(col, blank, numbers, np.nan, np.float64)
