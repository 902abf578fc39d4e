"""Timestamps to int64 nanoseconds since the epoch, UTC, without a DataFrame library.

ISO 8601 strings are parsed in bulk: UTC offsets (``+02:00``, ``+0200``, ``+02``, ``Z``) are cut
off and applied as integer arithmetic, and numpy parses what is left in C. Naive times are UTC
unless a time zone is given, in which case each distinct quarter hour is localised once with
`zoneinfo` (value by value where a zone change falls inside it).
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from salesstd.errors import InvalidLogError, ParameterError

NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S
NS_PER_HOUR = 60 * NS_PER_MIN
NAT = np.iinfo(np.int64).min

# Positions in ``YYYY-MM-DDTHH:MM``: an offset sign can only stand after them.
_MIN_OFFSET_POS = 16
_DIGIT_0 = ord("0")
# Years that int64 nanoseconds hold whole; the first and last are held in part.
MIN_YEAR = 1678
MAX_YEAR = 2261
# What datetime64[ns] holds: 1677-09-21T00:12:43.145224193 .. 2262-04-11T23:47:16.854775807.
LOW_NS = NAT + 1
HIGH_NS = int(np.iinfo(np.int64).max)
# Text of the partly held years 1677 and 2262 is parsed a century inside (same leap-year
# pattern, so one fixed shift for the whole year) and shifted back with a range check:
# numpy wraps text outside the range round without a word.
_EDGE_YEARS = {MIN_YEAR - 1: 100, MAX_YEAR + 1: -100}
_EDGE_SHIFT_NS = {
    year: int(
        (np.datetime64(f"{year + years}-01-01", "D") - np.datetime64(f"{year}-01-01", "D")).astype(
            np.int64
        )
    )
    * 86_400
    * NS_PER_S
    for year, years in _EDGE_YEARS.items()
}
_NS_PER_UNIT = {
    "W": 7 * 86_400 * NS_PER_S,
    "D": 86_400 * NS_PER_S,
    "h": NS_PER_HOUR,
    "m": NS_PER_MIN,
    "s": NS_PER_S,
    "ms": 1_000_000,
    "us": 1_000,
    "ns": 1,
}
RANGE_TEXT = "1677-09-21 .. 2262-04-11 (what datetime64[ns] can hold)"
# A UTC offset must be less than a day (ISO 8601, Python's datetime.timezone).
_MAX_OFFSET_HOURS = 23
_MAX_OFFSET_MINUTES = 59
_DATE_LEN = 10
_BUCKET_NS = 15 * NS_PER_MIN


def parse_times(values: Any, *, tz: str | None = None) -> NDArray[np.int64]:  # noqa: ANN401
    """Convert timestamps to int64 UTC nanoseconds; unparseable or missing values become NaT.

    Args:
        values: A 1-d array-like of datetime64, ISO strings, or `datetime` objects.
        tz: IANA zone name for naive times; ``None`` reads naive times as UTC.

    Strings must start with a date ``YYYY-MM-DD`` (then optionally ``T`` or a space and a
    time, then optionally an offset); words numpy would accept such as ``"now"`` are refused.
    Nothing is wrapped around: values of any kind outside what ``datetime64[ns]`` holds
    (1677-09-21T00:12:43.145224193 .. 2262-04-11T23:47:16.854775807 UTC, checked exactly,
    ``datetime64`` in its own unit before any cast), and text with an impossible UTC offset
    (24 hours or more, or 60 minutes or more) are NaT; the caller reports them,
    `why_not_a_time` saying why.

    Returns:
        int64 nanoseconds since 1970-01-01 UTC, with `NAT` (int64 min) where a value is
        missing, cannot be parsed, or is out of range.

    Raises:
        ParameterError: If the values are numbers (whose unit would be a guess) or `tz` is
            not a known zone.
    """
    if tz is not None:
        _zone(tz)  # a bad zone is refused even when every value carries its own offset
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    kind = arr.dtype.kind
    if kind == "M":
        return _localize(datetime64_to_ns(arr), tz)
    if kind in "iufb":
        raise ParameterError(
            f"timestamps are numbers (dtype {arr.dtype}); their unit would be a guess. "
            "Convert them first, e.g. values.astype('datetime64[s]') for epoch seconds."
        )
    if kind in "US":
        return _parse_strings(arr, tz)
    return _parse_objects(arr, tz)


def datetime64_to_ns(arr: NDArray[Any]) -> NDArray[np.int64]:
    """datetime64 of any unit to int64 ns; values ns cannot hold become NaT (numpy would wrap).

    The range is checked in the array's own unit before any cast: ``datetime64[s]`` of the
    year 3000 would otherwise become 1830 in nanoseconds without a word.
    """
    unit, count = np.datetime_data(arr.dtype)
    if unit == "ns" and count == 1:
        return np.array(arr.view(np.int64), dtype=np.int64, copy=True)
    if unit in _NS_PER_UNIT and arr.size:
        # Usually every value fits: then one cast, without the masks and copies below
        # (at ten million values each of those is 80 MB).
        raw = arr.view(np.int64)
        lo, hi = _unit_bounds(unit, count)
        if lo <= int(raw.min()) and int(raw.max()) <= hi:  # NaT (int64 min) fails `lo <=`
            return np.asarray(arr.astype("datetime64[ns]").view(np.int64), dtype=np.int64)
    inside = in_range(arr)
    out = np.full(arr.size, NAT, dtype=np.int64)
    out[inside] = arr[inside].astype("datetime64[ns]").view(np.int64)
    return out


def in_range(arr: NDArray[Any]) -> NDArray[np.bool_]:
    """True where a datetime64 value (of any unit) is not NaT and fits in datetime64[ns].

    Compared as integers in the array's own unit, so nothing is cast (and wrapped) first.
    """
    unit, count = np.datetime_data(arr.dtype)
    raw = arr.view(np.int64)
    if unit == "generic":
        return np.zeros(arr.size, dtype=bool)
    if unit in ("ps", "fs", "as"):
        return np.asarray(raw != NAT, dtype=bool)  # all of int64 is a tiny span around 1970
    lo, hi = _unit_bounds(unit, count)
    return np.asarray((raw != NAT) & (raw >= lo) & (raw <= hi), dtype=bool)


def _unit_bounds(unit: str, count: int) -> tuple[int, int]:
    """The least and greatest value of ``datetime64[<count><unit>]`` that ns can hold."""
    if unit == "Y":  # a calendar value stands for its first instant: 1678 .. 2262
        lo, hi = 1678 - 1970, 2262 - 1970
    elif unit == "M":  # 1677-10 .. 2262-04
        lo, hi = (1677 - 1970) * 12 + 9, (2262 - 1970) * 12 + 3
    else:
        per_unit = _NS_PER_UNIT[unit]
        lo, hi = -(-LOW_NS // per_unit), HIGH_NS // per_unit
    return -(-lo // count), hi // count


def _parse_objects(arr: NDArray[Any], tz: str | None) -> NDArray[np.int64]:
    """Object arrays: all strings go the bulk way; datetimes and pandas Timestamps one by one."""
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    types = set(map(type, arr))
    if types <= {str, type(None), float}:
        missing = np.fromiter((not isinstance(v, str) for v in arr), dtype=bool, count=arr.size)
        strings = arr.copy()
        strings[missing] = ""
        return _parse_strings(strings.astype("U"), tz)
    out = np.full(arr.size, NAT, dtype=np.int64)
    naive = np.zeros(arr.size, dtype=bool)
    for i, value in enumerate(arr):
        out[i], naive[i] = _one_object(value)
    if tz is not None and naive.any():
        out[naive] = _localize(out[naive], tz)
    return out


def _one_object(value: object) -> tuple[int, bool]:
    """One non-string timestamp: (UTC ns or NaT, whether it was naive)."""
    if isinstance(value, np.datetime64):
        return int(datetime64_to_ns(np.array([value]))[0]), True
    if isinstance(value, str):
        parsed = _parse_strings(np.array([value]), None)
        return int(parsed[0]), not _has_offset(value)
    try:
        ns, naive = _datetime_object(value)
    except (OverflowError, ValueError):
        return NAT, False
    if ns != NAT and not LOW_NS <= ns <= HIGH_NS:
        return NAT, False
    return ns, naive


def _datetime_object(value: object) -> tuple[int, bool]:
    if isinstance(value, dt.datetime):
        nanos = int(getattr(value, "nanosecond", 0))
        if value.tzinfo is None or value.utcoffset() is None:
            base = value.replace(tzinfo=dt.timezone.utc)
            naive = True
        else:
            base = value.astimezone(dt.timezone.utc)
            naive = False
        micros = (base - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(
            microseconds=1
        )
        return micros * 1000 + nanos, naive
    if isinstance(value, dt.date):
        days = (value - dt.date(1970, 1, 1)).days
        return days * 86_400 * NS_PER_S, True
    return NAT, False


def _has_offset(text: str) -> bool:
    stripped = text.strip()
    return (
        stripped.endswith(("Z", "z"))
        or (len(stripped) > _MIN_OFFSET_POS and stripped[_MIN_OFFSET_POS:].count("+") > 0)
        or (len(stripped) > _MIN_OFFSET_POS and "-" in stripped[_MIN_OFFSET_POS:])
    )


def _parse_strings(
    arr: NDArray[Any], tz: str | None, *, fallback: bool = True
) -> NDArray[np.int64]:
    """Bulk ISO 8601 parse of a 'U' or 'S' array.

    If numpy refuses any value, `fallback` re-parses row by row so that only the bad values
    become NaT; without it the numpy error propagates.
    """
    n = arr.size
    if n == 0:
        return np.empty(0, dtype=np.int64)
    try:
        raw = np.char.strip(arr).astype("S") if arr.dtype.kind == "U" else np.char.strip(arr)
    except UnicodeEncodeError:
        # Non-ASCII text cannot be a timestamp; parse row by row to find which.
        if not fallback:
            raise
        return _parse_rowwise(arr, tz)
    width = raw.dtype.itemsize
    if width == 0:
        return np.full(n, NAT, dtype=np.int64)
    grid = raw.view(np.uint8).reshape(n, width)
    length = np.count_nonzero(grid, axis=1)
    rows = np.arange(n)

    def char_at(pos: NDArray[np.int64]) -> NDArray[np.uint8]:
        safe = np.clip(pos, 0, width - 1)
        got = grid[rows, safe]
        return np.where((pos >= 0) & (pos < length), got, 0).astype(np.uint8)

    def digits(pos: NDArray[np.int64], count: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        value = np.zeros(n, dtype=np.int64)
        ok = np.ones(n, dtype=bool)
        for k in range(count):
            c = char_at(pos + k).astype(np.int64) - _DIGIT_0
            ok &= (c >= 0) & (c <= 9)  # noqa: PLR2004
            value = value * 10 + c
        return value, ok

    length64 = length.astype(np.int64)
    cut = length64.copy()
    offset_min = np.zeros(n, dtype=np.int64)
    has_offset = np.zeros(n, dtype=bool)
    bad_offset = np.zeros(n, dtype=bool)

    last = char_at(length64 - 1)
    zulu = (last == ord("Z")) | (last == ord("z"))
    zulu &= length64 > _MIN_OFFSET_POS - 6
    cut[zulu] = length64[zulu] - 1
    has_offset |= zulu

    for span in (6, 5, 3):
        start = length64 - span
        sign = char_at(start)
        cand = ((sign == ord("+")) | (sign == ord("-"))) & (start >= _MIN_OFFSET_POS) & ~has_offset
        if not cand.any():
            continue
        hours, ok_h = digits(start + 1, 2)
        if span == 6:  # noqa: PLR2004
            minutes, ok_m = digits(start + 4, 2)
            ok_m &= char_at(start + 3) == ord(":")
        elif span == 5:  # noqa: PLR2004
            minutes, ok_m = digits(start + 3, 2)
        else:
            minutes, ok_m = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
        hit = cand & ok_h & ok_m
        # An offset is less than a day and its minutes less than an hour; "+25:00" or
        # "+99:99" is a broken value, not a far-away zone.
        bad_offset |= hit & ((hours > _MAX_OFFSET_HOURS) | (minutes > _MAX_OFFSET_MINUTES))
        signed = np.where(sign == ord("-"), -1, 1) * (hours * 60 + minutes)
        offset_min[hit] = signed[hit]
        cut[hit] = start[hit]
        has_offset |= hit

    # The value must start with YYYY-MM-DD and a year that int64 nanoseconds can hold; a
    # time follows after 'T' or a space. Anything else (numpy would take "now", "today",
    # or "7" as the year 7) is blanked, so it parses as NaT and is reported.
    year, ok = digits(np.zeros(n, dtype=np.int64), 4)
    month, ok_m = digits(np.full(n, 5, dtype=np.int64), 2)
    day, ok_d = digits(np.full(n, 8, dtype=np.int64), 2)
    ok &= ok_m & ok_d & (length64 >= _DATE_LEN)
    ok &= (char_at(np.full(n, 4, dtype=np.int64)) == ord("-")) & (
        char_at(np.full(n, 7, dtype=np.int64)) == ord("-")
    )
    sep = char_at(np.full(n, _DATE_LEN, dtype=np.int64))
    ok &= (length64 == _DATE_LEN) | (sep == ord("T")) | (sep == ord("t")) | (sep == ord(" "))
    ok &= (year >= MIN_YEAR - 1) & (year <= MAX_YEAR + 1) & ~bad_offset
    del month, day
    cut[~ok] = 0
    has_offset &= ok

    trimmed = grid.copy()
    trimmed[np.arange(width)[None, :] >= cut[:, None]] = 0
    edge = {y: np.flatnonzero(ok & (year == y)) for y in _EDGE_YEARS}
    for y, rows_y in edge.items():
        if rows_y.size:
            digits_y = np.frombuffer(f"{y + _EDGE_YEARS[y]:04d}".encode(), dtype=np.uint8)
            trimmed[rows_y, :4] = digits_y
    naive_text = trimmed.view(f"S{width}").reshape(n)
    try:
        # numpy warns (and parses anyway) on a zone it cannot place, e.g. "T000:00+01:00"
        # cut as "T000:00"; such a value is not ISO 8601 and must not pass half-read.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # Through 'U': numpy 2.4 crashes (a segfault, not a ValueError) casting a bytes
            # array of more than a few hundred values with one bad date to datetime64.
            as_text = naive_text.astype("U")
            parsed = np.array(as_text.astype("datetime64[ns]").view(np.int64), dtype=np.int64)
    except (ValueError, OverflowError, UserWarning, DeprecationWarning):
        if not fallback:
            raise
        return _parse_rowwise(arr, tz)
    # The century of an edge year and the UTC offset are undone in one step: undone one
    # after the other, a time whose wall clock lies past the range but whose UTC instant
    # lies inside it ('2262-04-12T01:00:00+02:00') would leave the range in between.
    step = np.zeros(n, dtype=np.int64)
    for y, rows_y in edge.items():
        step[rows_y] = -_EDGE_SHIFT_NS[y]
    shifted = (parsed != NAT) & has_offset
    step[shifted] -= offset_min[shifted] * NS_PER_MIN
    moved = np.flatnonzero(step)
    parsed[moved] = _shift(parsed[moved], step[moved])
    nat = parsed == NAT
    naive_rows = ~nat & ~has_offset
    if tz is not None and naive_rows.any():
        parsed[naive_rows] = _localize(parsed[naive_rows], tz)
    return parsed


def _shift(ns: NDArray[np.int64], by: Any) -> NDArray[np.int64]:  # noqa: ANN401
    """``ns + by`` where it stays inside what datetime64[ns] holds, NaT where it would not.

    `by` is one int or an array of them, each less than 2**63 in size; NaT stays NaT.
    """
    step = np.broadcast_to(np.asarray(by, dtype=np.int64), ns.shape)
    with np.errstate(over="ignore"):
        out = ns + step
    # int64 addition wraps: a sum that overflowed moved against the sign of `by`.
    wrapped = ((step > 0) & (out < ns)) | ((step < 0) & (out > ns))
    return np.where(wrapped | (ns == NAT) | (out == NAT), NAT, out).astype(np.int64)


def _parse_rowwise(arr: NDArray[Any], tz: str | None) -> NDArray[np.int64]:
    """Slow path used only when the bulk parse fails: NaT for each value that does not parse."""
    out = np.full(arr.size, NAT, dtype=np.int64)
    for i, value in enumerate(arr):
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
        try:
            text.encode("ascii")
            out[i] = _parse_strings(np.array([text]), tz, fallback=False)[0]
        except (ValueError, OverflowError, UnicodeEncodeError, UserWarning, DeprecationWarning):
            out[i] = NAT
    return out


def localize(ns: NDArray[np.int64], tz: str | None) -> NDArray[np.int64]:
    """Naive nanoseconds read as wall-clock times in `tz` (None: UTC) to UTC; NaT stays."""
    return _localize(ns, tz)


def check_zone(tz: str) -> None:
    """Refuse an unknown IANA zone name (`ParameterError` naming it)."""
    _zone(tz)


def _localize(ns: NDArray[np.int64], tz: str | None) -> NDArray[np.int64]:
    """Read naive wall-clock nanoseconds as local time in `tz` and return UTC nanoseconds.

    Exactly as `zoneinfo` reads each value (``fold=0``: a time in a gap or an overlap takes
    the offset in force before the change), without a Python call per value: each distinct
    quarter hour of wall-clock time is looked up once, at its first and its last
    microsecond. Where both agree the whole quarter hour has that offset; the few quarter
    hours that hold a change (Monrovia's 1972 change came at 00:44:30, Amsterdam's 1937
    one moved by 19:32) are looked up value by value. A result outside what datetime64[ns]
    holds is NaT.
    """
    if tz is None:
        return ns
    zone = _zone(tz)
    if ns.size == 0:
        return ns
    valid = ns != NAT
    buckets = np.where(valid, ns // _BUCKET_NS, 0)
    unique_buckets, inverse = np.unique(buckets, return_inverse=True)
    inverse = inverse.reshape(-1)
    last = dt.timedelta(minutes=15) - dt.timedelta(microseconds=1)
    starts = unique_buckets.tolist()
    offsets = np.array(
        [_offset_ns(_WALL_EPOCH + dt.timedelta(minutes=15 * b), zone) for b in starts],
        dtype=np.int64,
    )
    # A quarter hour followed by the next one in the data ends where that one starts (a
    # change right on the boundary only sends the quarter hour to the exact path, harmless);
    # any other is looked up at its last microsecond.
    followed = np.zeros(unique_buckets.size, dtype=bool)
    followed[:-1] = np.diff(unique_buckets) == 1
    mixed = np.zeros(unique_buckets.size, dtype=bool)
    mixed[:-1] = followed[:-1] & (offsets[1:] != offsets[:-1])
    alone = np.flatnonzero(~followed)
    ends = np.array(
        [
            _offset_ns(_WALL_EPOCH + dt.timedelta(minutes=15 * starts[k]) + last, zone)
            for k in alone.tolist()
        ],
        dtype=np.int64,
    )
    mixed[alone] = ends != offsets[alone]
    per_value = offsets[inverse]
    for i in np.flatnonzero(mixed[inverse] & valid).tolist():
        wall = _WALL_EPOCH + dt.timedelta(microseconds=int(ns[i]) // 1000)
        per_value[i] = _offset_ns(wall, zone)
    return _shift(ns, -per_value)


_WALL_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - wall-clock arithmetic, zone applied later


def _offset_ns(wall: dt.datetime, zone: dt.tzinfo) -> int:
    """The UTC offset of a naive wall-clock time in `zone` (fold 0), in nanoseconds."""
    delta = wall.replace(tzinfo=zone).utcoffset() or dt.timedelta(0)
    return delta // dt.timedelta(microseconds=1) * 1000


def _zone(tz: str) -> dt.tzinfo:
    if not isinstance(tz, str):
        raise ParameterError(
            f"tz must be an IANA time zone name such as 'Europe/Amsterdam'; got {tz!r}.",
            parameter="tz",
        )
    if tz.upper() == "UTC":
        return dt.timezone.utc
    try:
        from zoneinfo import ZoneInfo  # noqa: PLC0415

        return ZoneInfo(tz)
    except (KeyError, ValueError) as err:  # ZoneInfoNotFoundError is a KeyError
        raise ParameterError(
            f"tz {tz!r} is not a known time zone; pass an IANA name such as "
            "'Europe/Amsterdam' or 'UTC'.",
            parameter="tz",
        ) from err


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def to_datetime(ns: int) -> dt.datetime:
    """Nanoseconds since the epoch as an aware UTC `datetime` (microseconds, floored)."""
    return _EPOCH + dt.timedelta(microseconds=int(ns) // 1000)


def stamp(ns: int) -> np.datetime64:
    """Nanoseconds since the epoch as a ``datetime64[ns]`` scalar (UTC)."""
    return np.datetime64(int(ns), "ns")


def to_datetime64(ns: NDArray[np.int64]) -> NDArray[np.datetime64]:
    """View int64 nanoseconds as ``datetime64[ns]`` (no copy)."""
    return ns.view("datetime64[ns]")


def as_utc_ns(value: object, *, name: str) -> int:
    """One user-given point in time (str, datetime, date, datetime64) as UTC nanoseconds.

    Raises:
        ParameterError: If `value` is not a time, or one outside the range the log can hold
            (``np.datetime64("3000-01-01")`` is refused, not wrapped to 1830).
    """
    if isinstance(value, (str, dt.datetime, dt.date, np.datetime64)) and not isinstance(
        value, bool
    ):
        got = int(parse_times(np.array([value], dtype=object))[0])
        if got != NAT:
            return got
        reason = why_not_a_time(value)
        if reason:
            raise ParameterError(
                f"{name}={value!r} {reason}; pass a time inside that range.", parameter=name
            )
    raise ParameterError(
        f"{name} must be a date or time such as '2024-06-30' or a datetime; got {value!r}.",
        parameter=name,
    )


def why_not_a_time(value: object) -> str:
    """Why a present value did not parse as a time, for messages ('' when nothing specific).

    Tells a time outside the range datetime64[ns] holds, and an impossible UTC offset, from
    other unparseable text.
    """
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return ""
        return f"is outside the range {RANGE_TEXT}"
    if isinstance(value, (dt.datetime, dt.date)):
        return f"is outside the range {RANGE_TEXT}"
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return ""
    text = value.strip()
    head = text[:4]
    if len(text) >= _DATE_LEN and head.isdigit() and not MIN_YEAR <= int(head) <= MAX_YEAR:
        return f"is outside the range {RANGE_TEXT}"
    for span in (6, 5, 3):
        tail = text[-span:]
        if len(text) > _MIN_OFFSET_POS + 1 and tail[:1] in "+-" and tail[1:3].isdigit():
            minutes = tail[-2:] if span > 3 else "00"  # noqa: PLR2004
            if int(tail[1:3]) > _MAX_OFFSET_HOURS or (
                minutes.isdigit() and int(minutes) > _MAX_OFFSET_MINUTES
            ):
                return (
                    f"has the UTC offset {tail!r}, which is impossible (an offset is less "
                    "than 24 hours, e.g. '+05:30')"
                )
    return ""


def timedelta64_seconds(value: np.timedelta64) -> float:
    """Seconds of a `numpy.timedelta64`, read in its own unit: no cast that can wrap.

    (``np.timedelta64(213504, "D").astype("timedelta64[ns]")`` wraps 585 years round to
    1,526 seconds.) NaT and units without a fixed length (months, years, generic) give NaN,
    which callers refuse.
    """
    unit, count = np.datetime_data(value.dtype)
    if np.isnat(value) or unit not in _NS_PER_UNIT:
        return float("nan")
    return int(value.astype(np.int64)) * count * _NS_PER_UNIT[unit] / NS_PER_S


def check_span(ns: NDArray[np.int64], *, column: str) -> None:
    """Refuse times whose span overflows int64 nanoseconds (about 292 years) as a duration.

    Raises:
        InvalidLogError: Naming the earliest and latest time, so durations never wrap.
    """
    if ns.size == 0:
        return
    lo, hi = int(ns.min()), int(ns.max())
    if hi - lo > HIGH_NS:
        first = str(np.int64(lo).view("datetime64[ns]"))
        last = str(np.int64(hi).view("datetime64[ns]"))
        raise InvalidLogError(
            f"column {column!r} spans {first} .. {last}, more than the about 292 years "
            "a duration in nanoseconds can hold; durations would overflow. Check those "
            "values (a mistyped year?) or drop them."
        )
