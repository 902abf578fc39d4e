"""Building an `EventLog` from columns: validation, dropping, factorizing, sorting.

Private to `salesstd.log` and the readers. `from_columns` picks the named columns of a table,
`build` checks them and returns the fields of the log (the caller constructs the frozen
`EventLog`, which re-checks only its cheap invariants).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from salesstd._base import columns as _columns
from salesstd._base import lazy
from salesstd._base import timestamps as _time
from salesstd._base import validation as v
from salesstd.errors import DroppedEventsWarning, InvalidLogError, ParameterError
from salesstd.log import _arrow as arrow
from salesstd.log._arrow import Coded, Parsed

RESERVED = ("case", "activity", "time")


def _sealed(arr: NDArray[Any]) -> NDArray[Any]:
    """Mark a freshly built array read-only so `_readonly` takes it without a copy."""
    if not arr.flags.owndata:
        arr = arr.copy()
    arr.flags.writeable = False
    return arr


def row_label(i: int) -> str:
    """Label of input row `i` in messages."""
    return f"row {i}"


def from_columns(
    columns: Mapping[str, Any],
    opts: ColumnOptions,
    *,
    where: str,
    row_label: Callable[[int], str],
    aware: Collection[str] = (),
    threads: bool = False,
) -> dict[str, Any]:
    """Pick the named columns out of a table (dict of arrays) and build the log.

    `opts` are the reader's options as `column_options` checked them (each reader checks
    them once, before reading). `aware` names columns that carried a time zone (already
    converted to UTC), to which `tz` does not apply. `threads` converts the columns side by
    side (see `_convert_all`): for tables whose columns all exist already, not for readers
    that make each column as it is read (two at once would double their memory).
    """
    case, activity, time, attributes, case_attributes, order, tz, policy = opts
    names = list(columns)
    known = columns.keys()  # membership by hash: a wide table has thousands of columns
    for param, col in (("case", case), ("activity", activity), ("time", time)):
        v.require_column(col, known, param=param, where=where)
    case_cols = case_attributes or []
    for col in case_cols:
        v.require_column(col, known, param="case_attributes", where=where)
    if order is not None:
        v.require_column(order, known, param="order", where=where)
    used = {case, activity, time, *case_cols, *([order] if order else [])}
    if attributes is None:
        event_cols = [c for c in names if c not in used]
    else:
        event_cols = attributes
        for col in event_cols:
            v.require_column(col, known, param="attributes", where=where)
    zone = None if time in aware else tz
    jobs: list[tuple[str, str]] = [(case, "id"), (activity, "id"), (time, "time")]
    jobs += [(c, "attribute") for c in (*event_cols, *case_cols)]
    if order is not None:
        jobs.append((order, "order"))

    def finish(job: tuple[str, str], values: Any) -> Any:  # noqa: ANN401
        return _from_arrow(values, role=job[1], tz=zone if job[1] == "time" else None)

    converted = _convert_all(columns, jobs, finish, threads=threads)  # in the order of jobs
    # Taken out of the list one by one, so build's dicts hold the only references and each
    # column goes as soon as build has its sorted copy.
    converted.reverse()
    got = converted.pop
    return build(
        {"case": got(), "activity": got(), "time": got()},
        names={"case": case, "activity": activity, "time": time},
        attributes={c: got() for c in event_cols},
        case_attributes={c: got() for c in case_cols},
        order=got() if order is not None else None,
        tz=zone,
        on_invalid=policy,
        row_label=row_label,
    )


class ColumnOptions(NamedTuple):
    """The options of a table reader, checked: names as str, lists of names as lists."""

    case: str
    activity: str
    time: str
    attributes: list[str] | None
    case_attributes: list[str] | None
    order: str | None
    tz: str | None
    on_invalid: v.OnInvalid


def column_options(
    *,
    case: object,
    activity: object,
    time: object,
    attributes: object,
    case_attributes: object,
    order: object,
    tz: object,
    on_invalid: object,
) -> ColumnOptions:
    """Check the options every table reader takes, before any column is read.

    Every reader (`read_csv`, `read_parquet`, `read_xes`, `EventLog.from_frame`,
    `from_records`) calls this once and hands the result to `from_columns`, so a bad option
    gets one message whatever the source. A one-shot iterable
    of names (a generator) is read once, here, into a list. The time column cannot also be
    the case or the activity: a log needs ids and times as separate facts.

    Raises:
        ParameterError: If a name is not a str, a list option is not names, `case` or
            `activity` names the time column, `tz` is not a zone or `on_invalid` not a policy.
    """
    for param, col in (("case", case), ("activity", activity), ("time", time)):
        if not isinstance(col, str):
            raise ParameterError(
                f"{param} must be a column name (str); got {col!r}.", parameter=param
            )
    for param, col in (("case", case), ("activity", activity)):
        if col == time:
            raise ParameterError(
                f"{param}={col!r} is also the time column (time={time!r}); the {param} and "
                f"the time must be different columns. Pass {param}= the column with the "
                f"{'case id' if param == 'case' else 'activity name'}.",
                parameter=param,
            )
    if order is not None and not isinstance(order, str):
        raise ParameterError(
            f"order must be a column name (str) or None; got {order!r}.", parameter="order"
        )
    return ColumnOptions(
        case=str(case),
        activity=str(activity),
        time=str(time),
        attributes=column_names("attributes", attributes),
        case_attributes=column_names("case_attributes", case_attributes),
        order=order,
        tz=_zone(tz),
        on_invalid=v.on_invalid(on_invalid),
    )


def _zone(tz: object) -> str | None:
    if tz is not None:
        _time.check_zone(tz)  # type: ignore[arg-type]
    return tz  # type: ignore[return-value]


def _convert_all(
    columns: Mapping[str, Any],
    jobs: list[tuple[str, str]],
    finish: Callable[[tuple[str, str], Any], Any],
    *,
    threads: bool,
) -> list[Any]:
    """Each job's column read from `columns` and passed through `finish`, in order.

    Without `threads`, one column at a time: a reader makes each column as it is read, and
    the converted form replaces it (Arrow's memory handed back) before the next is read.
    With `threads` (a table whose columns all exist already), the columns are read in
    order, then those that arrive as Arrow arrays are finished side by side on up to one
    thread per CPU: Arrow's hash encoding and casts run without the interpreter lock.
    Columns of Python objects stay on this thread. Either way the error raised is the one
    a plain loop would raise first.
    """
    if not threads:
        return [_finished(finish, job, partial(columns.__getitem__, job[0])) for job in jobs]
    raw, failure = _read_until_error(columns, jobs)
    arrow = [i for i, values in enumerate(raw) if _is_arrow(values)]
    workers = min(len(arrow), os.cpu_count() or 1)
    if workers < 2:  # noqa: PLR2004
        out = [_finished(finish, jobs[i], partial(raw.__getitem__, i)) for i in range(len(raw))]
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="salesstd-columns") as pool:
            futures = {
                i: pool.submit(_finished, finish, jobs[i], partial(raw.__getitem__, i))
                for i in arrow
            }
            # In job order: a failed job raises here, as in a loop, before any later job.
            out = [
                futures[i].result() if i in futures else finish(jobs[i], values)
                for i, values in enumerate(raw)
            ]
    if failure is not None:
        raise failure
    return out


def _finished(
    finish: Callable[[tuple[str, str], Any], Any],
    job: tuple[str, str],
    read: Callable[[], Any],
) -> Any:  # noqa: ANN401
    """`finish` of the column `read` returns; after an Arrow column, Arrow's memory goes back.

    Arrow's allocator keeps what it frees (a column just read and converted, the hash
    tables of its encoding) for the thread that freed it, and only that thread can return
    it: about 20 MB per million events that would otherwise stay while the log is built.
    `read` is called here so that, for a reader, this is the column's only reference.
    """
    values = read()
    arrow = _is_arrow(values)
    try:
        return finish(job, values)
    finally:
        if arrow:
            del values
            lazy.pa.default_memory_pool().release_unused()


def _read_until_error(
    columns: Mapping[str, Any], jobs: list[tuple[str, str]]
) -> tuple[list[Any], Exception | None]:
    """The jobs' columns read in order, up to the first that fails to read, and its error."""
    raw: list[Any] = []
    for name, _ in jobs:
        try:
            raw.append(columns[name])
        except Exception as err:  # noqa: BLE001, PERF203 - raised after the earlier jobs finish
            return raw, err
    return raw, None


def _is_arrow(values: object) -> bool:
    return type(values).__module__.startswith("pyarrow")


def _from_arrow(values: Any, *, role: str, tz: str | None = None) -> Any:  # noqa: ANN401
    """An Arrow or `Coded` column as `build` takes it; any other column unchanged.

    Text and dictionary columns of text become `Coded` (ids and attributes), times `Parsed`,
    and everything else numpy: a dictionary of other values is decoded first, so its nulls
    and NaNs are seen exactly as in the plain column. The order column is compared as
    values, so it is never coded.
    """
    if isinstance(values, Coded):
        if role == "time":
            # Each distinct text is parsed once; rows take their value by code.
            table = np.append(_time.parse_times(values.uniques, tz=tz), _time.NAT)
            return Parsed(table[values.codes], values)
        return values.values() if role == "order" else values
    if not _is_arrow(values):
        return values
    values = arrow.decoded(values)  # only text stays coded: other values as they are
    if role == "time":
        if arrow.is_number(values):
            # Numbers are refused by `build`, naming the column, as from numpy or pandas.
            return arrow.numpy_values(values)
        return arrow.parse_times(values, tz=tz)
    if role != "order" and arrow.is_text(values):
        return arrow.code(values)
    return arrow.numpy_values(values)


def column_names(param: str, value: object) -> list[str] | None:
    """A column-name option: None, one name, or an iterable of names (all str)."""
    if value is not None and (
        isinstance(value, (bytes, Mapping)) or not isinstance(value, (str, Iterable))
    ):
        raise ParameterError(
            f"{param} must be a column name, a list of column names, or None; got {value!r}.",
            parameter=param,
        )
    return v.string_list(param, value)


def column_map(param: str, value: object) -> dict[str, Any]:
    """A mapping option of column name to values (``attributes=`` of `from_arrays`)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParameterError(
            f"{param} must map column names to arrays, e.g. {{'rep': [...]}}; got {value!r}.",
            parameter=param,
        )
    odd = [k for k in value if not isinstance(k, str)]
    if odd:
        raise ParameterError(f"{param} names must be strings; got {odd[0]!r}.", parameter=param)
    return dict(value)


def build(
    core: dict[str, Any],
    *,
    names: Mapping[str, str],
    attributes: dict[str, Any],
    case_attributes: dict[str, Any],
    order: Any,  # noqa: ANN401
    tz: str | None,
    on_invalid: v.OnInvalid,
    row_label: Callable[[int], str],
) -> dict[str, Any]:
    """Validate, drop (if asked), factorize, sort; return the fields of the log.

    `core`, `attributes` and `case_attributes` are consumed: build empties those dicts as it
    goes, so each input column is released as soon as its sorted copy exists (peak memory is
    part of the contract). Callers pass dicts made for the call.
    """
    case_raw = _column(core["case"], names["case"])
    act_raw = _column(core["activity"], names["activity"])
    time_in = _column(core["time"], names["time"])
    n = case_raw.size
    act_in_size = n
    extra = {**attributes, **case_attributes}
    lengths = {names["activity"]: act_raw.size, names["time"]: time_in.size}
    lengths.update({k: _column(a, k).size for k, a in extra.items()})
    if order is not None:
        lengths["order"] = _columns.as_1d(order, name="order").size
    for col, size in lengths.items():
        if size != n:
            raise InvalidLogError(
                f"column {col!r} has {size} values but {names['case']!r} has {n}; "
                "every column needs one value per event."
            )
    if n == 0:
        raise InvalidLogError("the log has no events; pass at least one event.")
    for col in extra:
        if col in RESERVED:
            raise InvalidLogError(
                f"attribute column {col!r} clashes with the log's own {col!r} column; "
                f"rename it (e.g. to '{col}_attr') or leave it out with attributes=[...]."
            )
    if set(attributes) & set(case_attributes):
        both = sorted(set(attributes) & set(case_attributes))
        raise InvalidLogError(
            f"column {both[0]!r} is given both as an event and a case attribute; pick one."
        )

    try:
        ns = time_in.ns if isinstance(time_in, Parsed) else _time.parse_times(time_in, tz=tz)
    except ParameterError as err:
        if time_in.dtype.kind not in "iufb":
            raise
        raise InvalidLogError(
            f"column {names['time']!r}: timestamps are numbers ({time_in.dtype}), e.g. "
            f"{time_in[0].item()!r} at {row_label(0)}; their unit would be a guess. Convert "
            "them to datetimes first, e.g. values.astype('datetime64[s]') for epoch seconds."
        ) from err
    bad_time = ns == _time.NAT
    bad_case = _missing(case_raw)
    bad_act = _missing(act_raw)
    bad = bad_time | bad_case | bad_act
    if bad.any():
        if on_invalid == "raise":
            _raise_first_bad(
                bad_case, bad_act, bad_time, case_raw, act_raw, time_in, names, row_label
            )
        keep = np.flatnonzero(~bad)
        if keep.size == 0:
            raise InvalidLogError(
                f"every one of the {n} events has a missing case, activity or time; "
                "nothing is left after on_invalid='drop'."
            )
        warnings.warn(
            f"dropped {n - keep.size} of {n} events with a missing or unparseable case, "
            "activity or time (on_invalid='drop'); times outside 1677-09-21 .. 2262-04-11 "
            "count as unparseable.",
            DroppedEventsWarning,
            stacklevel=v.caller_stacklevel(),
        )
        case_raw, act_raw, ns = case_raw[keep], act_raw[keep], ns[keep]
        attributes = {k: _rows(a, keep, k) for k, a in attributes.items()}
        case_attributes = {k: _rows(a, keep, k) for k, a in case_attributes.items()}
        order = _rows(order, keep, "order") if order is not None else None
        n = keep.size

    _time.check_span(ns, column=names["time"])
    # One stable sort by (case, [order], time); string (or other object) ids are coded first
    # so the sort is over integers, numeric ids are sorted as they are.
    case_uniques: NDArray[Any] | None
    if isinstance(case_raw, Coded):
        case_uniques, case_key = case_raw.uniques, case_raw.codes
    else:
        case_vals = _columns.homogeneous(case_raw, name=f"column {names['case']!r}")
        if case_vals.dtype.kind in "OUS":
            case_uniques, case_key = _columns.factorize(case_vals)
        else:
            case_uniques, case_key = None, case_vals
    order_key = (
        None
        if order is None
        else _columns.homogeneous(_columns.as_1d(order, name="order"), name="order")
    )
    perm: NDArray[np.intp] | None
    if _is_sorted(case_key, ns, order_key):
        perm = None
    else:
        perm = _columns.case_time_order(case_key, ns, order_key)

    def take(a: NDArray[Any]) -> NDArray[Any]:
        return a if perm is None else a[perm]

    # From here on only the local names hold the inputs; drop the dicts' references.
    core.clear()
    del extra, case_raw, time_in

    # Intermediates are released as soon as they are used: at ten million events each
    # int64 column is 80 MB, and peak memory is part of the contract.
    sorted_time = _sealed(take(ns)).view("datetime64[ns]")
    del ns, order_key
    sorted_case = take(case_key)
    del case_key
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(sorted_case[1:], sorted_case[:-1], out=starts[1:])
    codes = np.cumsum(starts, dtype=np.int32)
    codes -= 1
    first_rows = np.flatnonzero(starts)
    del starts
    offsets = np.append(first_rows, n).astype(np.int64)
    if case_uniques is None:
        case_names = _columns.to_object(sorted_case[first_rows])
    elif case_uniques.dtype.kind == "O":
        case_names = case_uniques[sorted_case[first_rows]]  # a fresh array of the objects
    else:
        case_names = _columns.to_object(case_uniques[sorted_case[first_rows]])
    del sorted_case

    if isinstance(act_raw, Coded):
        # Coded columns arrive compact; only dropped rows can leave a value unused.
        compact = act_raw.compact() if n != act_in_size else act_raw
        act_uniques, act_codes = compact.uniques, compact.codes
    else:
        act_vals = _columns.homogeneous(act_raw, name=f"column {names['activity']!r}")
        act_uniques, act_codes = _columns.factorize(act_vals)
    act_sorted = take(act_codes)
    del act_codes, act_raw

    # A coded attribute is reordered as codes (an int32 gather) and only then expanded to
    # objects, from a small table of distinct values rather than a scattered object column.
    event_attrs: dict[str, NDArray[Any]] = {}
    for k in list(attributes):
        a = attributes.pop(k)
        if isinstance(a, Coded):
            event_attrs[k] = _sealed(Coded(a.uniques, take(a.codes)).values())
        elif perm is not None:
            event_attrs[k] = _sealed(take(_attribute_array(a, k, row_label)))
        else:  # possibly the caller's own array: the log copies it
            event_attrs[k] = _attribute_array(a, k, row_label)
        del a
    case_attrs: dict[str, NDArray[Any]] = {}
    for name in list(case_attributes):
        col = case_attributes.pop(name)
        if isinstance(col, Coded):
            # Coded text: constancy is checked on the codes, one integer comparison per row.
            col_codes = take(col.codes)
            _check_constant(name, col_codes, codes, case_names, shown=col.uniques)
            case_attrs[name] = _sealed(Coded(col.uniques, col_codes[first_rows]).values())
            continue
        values = take(_attribute_array(col, name, row_label))
        _check_constant(name, values, codes, case_names)
        case_attrs[name] = _sealed(values[first_rows])

    return {
        "case": _sealed(codes),
        "activity": _sealed(act_sorted),
        "time": sorted_time,
        "case_names": _sealed(case_names),
        "activity_names": _sealed(_columns.to_object(act_uniques)),
        "offsets": _sealed(offsets),
        "event_attributes": event_attrs,
        "case_attributes": case_attrs,
    }


def _is_sorted(case: NDArray[Any], ns: NDArray[np.int64], order: NDArray[Any] | None) -> bool:
    """True if events already run by (case, [order], time) so no sort (and no copy) is needed."""
    if case.size < 2:  # noqa: PLR2004
        return True
    up = case[1:] > case[:-1]
    same = case[1:] == case[:-1]
    if not bool((up | same).all()):
        return False
    t_ok = ns[1:] >= ns[:-1]
    if order is None:
        return bool((up | (same & t_ok)).all())
    tie = ns[1:] == ns[:-1]
    o_ok = order[1:] >= order[:-1]
    return bool((up | (same & (ns[1:] > ns[:-1])) | (same & tie & o_ok)).all())


def _column(values: Any, name: str) -> Any:  # noqa: ANN401
    """A column as `build` handles it: `Coded` and `Parsed` as they are, anything else 1-d."""
    if isinstance(values, (Coded, Parsed)):
        return values
    return _columns.as_1d(values, name=name)


def _missing(values: Any) -> NDArray[np.bool_]:  # noqa: ANN401
    """Missing ids: null, NaN, NaT or the empty string."""
    if isinstance(values, Coded):
        return values.missing(empty_text=True)
    return _columns.null_mask(values)


def _rows(values: Any, keep: NDArray[np.intp], name: str) -> Any:  # noqa: ANN401
    """The kept rows of a column, read as `_column` reads it (a list stays objects)."""
    if isinstance(values, (Coded, Parsed)):
        return values[keep]
    return _columns.as_1d(values, name=name)[keep]


def _attribute_array(
    values: Any,  # noqa: ANN401
    name: str,
    label: Callable[[int], str] = row_label,
) -> NDArray[Any]:
    """An attribute column as numpy; datetimes become UTC datetime64[ns].

    Raises:
        InvalidLogError: If a datetime lies outside what datetime64[ns] holds (a cast would
            wrap the year 3000 round to 1830).
    """
    if isinstance(values, Coded):
        return values.values()
    if isinstance(values, Parsed):
        return _time.to_datetime64(values.ns)
    arr = _columns.as_1d(values, name=name)
    if arr.dtype.kind == "M":
        ns = _time.to_datetime64(_time.datetime64_to_ns(arr))
        lost = np.flatnonzero(np.isnat(ns) & ~np.isnat(arr))
        if lost.size:
            i = int(lost[0])
            raise InvalidLogError(
                f"attribute column {name!r} has {arr[i]} at {label(i)}, outside the range "
                f"{_time.RANGE_TEXT} ({lost.size} such value{'s' if lost.size != 1 else ''}). "
                "Fix those values, or store the column as text."
            )
        return ns
    if arr.dtype.kind in "US":
        # Text is kept as Python str objects whatever the source (numpy 'U', pandas object,
        # pyarrow), so the same data gives an equal log from every library.
        return _columns.to_object(arr)
    return arr


def _check_constant(
    name: str,
    values: NDArray[Any],
    codes: NDArray[np.int32],
    case_names: NDArray[Any],
    *,
    shown: NDArray[Any] | None = None,
) -> None:
    """Raise if a case attribute takes two values within one case.

    With `shown`, `values` are codes into it (-1 missing) and the message quotes `shown`.
    """
    if values.size < 2:  # noqa: PLR2004
        return
    same_case = codes[1:] == codes[:-1]
    a, b = values[1:], values[:-1]
    if values.dtype.kind == "O":
        differ = ~_columns.same_values(a, b)
    elif values.dtype.kind in "fMm":
        differ = ~((a == b) | (_columns.null_mask(a) & _columns.null_mask(b)))
    else:
        differ = a != b
    clash = np.flatnonzero(same_case & differ)
    if clash.size:
        i = int(clash[0])
        case = case_names[codes[i]]
        first, then = values[i], values[i + 1]
        if shown is not None:
            first = None if first < 0 else shown[first]
            then = None if then < 0 else shown[then]
        raise InvalidLogError(
            f"case attribute {name!r} is not constant within case {case!r}: "
            f"{first!r} then {then!r}. Pass it in attributes= instead, "
            "to keep it per event."
        )


def _raise_first_bad(
    bad_case: NDArray[np.bool_],
    bad_act: NDArray[np.bool_],
    bad_time: NDArray[np.bool_],
    case_raw: NDArray[Any],
    act_raw: NDArray[Any],
    time_in: NDArray[Any],
    names: Mapping[str, str],
    row_label: Callable[[int], str],
) -> None:
    firsts = [
        (int(np.argmax(mask)), key, arr)
        for key, mask, arr in (
            ("case", bad_case, case_raw),
            ("activity", bad_act, act_raw),
            ("time", bad_time, time_in),
        )
        if mask.any()
    ]
    row, key, arr = min(firsts, key=lambda f: f[0])
    count = int((bad_case | bad_act | bad_time).sum())
    value = arr[row]
    if isinstance(value, np.datetime64):
        value = str(value)  # .item() gives a bare int for ns and a datetime for the year 3000
    elif isinstance(value, np.generic):
        value = value.item()
    what = "a missing value" if _columns.is_null(arr[row]) else "a value that is not a time"
    if key != "time":
        what = "a missing value"
    elif not _columns.is_null(arr[row]) and (reason := _time.why_not_a_time(arr[row])):
        what = f"a time that {reason}"
    hint = (
        " Times must be ISO 8601 (e.g. '2024-01-31T09:00:00+01:00') or datetimes."
        if key == "time"
        else ""
    )
    raise InvalidLogError(
        f"column {names[key]!r} has {what} at {row_label(row)}: {value!r} "
        f"({count} bad row{'s' if count != 1 else ''} in all).{hint} "
        "Fix the data, or pass on_invalid='drop' to drop such rows with a warning."
    )
