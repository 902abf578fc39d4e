"""The code behind `salesstd.log`; the package docstring is the guide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from salesstd._base import columns as _columns
from salesstd._base import timestamps as _time
from salesstd._base import validation as v
from salesstd._base.frames import check_labels, frame_columns, make_frame
from salesstd._base.results import ReadOnlyDict
from salesstd._base.timestamps import to_datetime
from salesstd.errors import InvalidLogError, ParameterError
from salesstd.log._build import (
    RESERVED,
    build,
    column_map,
    column_options,
    from_columns,
    row_label,
)

if TYPE_CHECKING:
    from salesstd._base.frames import FrameBackend

__all__ = ["EventLog"]


class _AttributeDict(ReadOnlyDict[NDArray[Any]]):
    message = "EventLog attributes are read-only; build a new log instead."


def _readonly(values: ArrayLike) -> NDArray[Any]:
    """A read-only array that the caller cannot change.

    A copy, unless `values` is already read-only all the way down its base chain (as the
    internal constructors hand over), which nobody can write to.
    """
    if isinstance(values, np.ndarray) and _sealed_already(values):
        return values
    arr = np.array(values, copy=True)
    arr.flags.writeable = False
    return arr


def _sealed_already(arr: NDArray[Any]) -> bool:
    """True if neither `arr` nor any array it views can be written."""
    node: object = arr
    while isinstance(node, np.ndarray):
        if node.flags.writeable:
            return False
        node = node.base
    return node is None


def _readonly_map(values: Mapping[str, ArrayLike]) -> Mapping[str, NDArray[Any]]:
    return _AttributeDict({k: _readonly(a) for k, a in values.items()})


def _arrays_equal(a: NDArray[Any], b: NDArray[Any]) -> bool:
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return False
    if a.dtype.kind in "fMm":
        return bool(np.array_equal(a, b, equal_nan=True))
    if a.dtype.kind == "O":
        return bool(_columns.same_values(a, b).all())
    return bool(np.array_equal(a, b))


def _maps_equal(a: Mapping[str, NDArray[Any]], b: Mapping[str, NDArray[Any]]) -> bool:
    return list(a) == list(b) and all(_arrays_equal(a[k], b[k]) for k in a)


_array_eq = attrs.cmp_using(eq=_arrays_equal)
_map_eq = attrs.cmp_using(eq=_maps_equal)


@attrs.frozen(repr=False)
class EventLog:
    """Immutable columnar event log, sorted by (case, time).

    Build one with `from_frame`, `from_records`, `from_arrays` or a reader (`read_csv`,
    `read_parquet`, `read_xes`); the constructor itself checks only the internal invariants.

    Attributes:
        case: int32 case code of each event; codes index `case_names` and rise along the log.
        activity: int32 activity code of each event; codes index `activity_names`.
        time: ``datetime64[ns]`` time of each event, UTC.
        case_names: The caller's case ids, one per code, in sorted order.
        activity_names: The activity names, one per code, in sorted order.
        offsets: int64, length ``n_cases + 1``; case ``k`` is ``offsets[k]:offsets[k+1]``.
        event_attributes: Extra per-event columns, aligned with `time`.
        case_attributes: Per-case columns, aligned with `case_names`.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-02"), ("d1", "won", "2024-01-09"),
        ...      ("d2", "lead", "2024-01-03")])
        >>> log
        EventLog(cases=2, events=3, activities=2, span='2024-01-02 .. 2024-01-09')
        >>> log.n_cases, log.n_events, log.activities
        (2, 3, ('lead', 'won'))
    """

    case: NDArray[np.int32] = attrs.field(converter=_readonly, eq=_array_eq)
    activity: NDArray[np.int32] = attrs.field(converter=_readonly, eq=_array_eq)
    time: NDArray[np.datetime64] = attrs.field(converter=_readonly, eq=_array_eq)
    case_names: NDArray[np.object_] = attrs.field(converter=_readonly, eq=_array_eq)
    activity_names: NDArray[np.object_] = attrs.field(converter=_readonly, eq=_array_eq)
    offsets: NDArray[np.int64] = attrs.field(converter=_readonly, eq=_array_eq)
    event_attributes: Mapping[str, NDArray[Any]] = attrs.field(
        factory=dict, converter=_readonly_map, eq=_map_eq
    )
    case_attributes: Mapping[str, NDArray[Any]] = attrs.field(
        factory=dict, converter=_readonly_map, eq=_map_eq
    )

    __hash__ = None  # type: ignore[assignment]  # arrays are unhashable

    def __reduce__(self) -> tuple[Callable[..., EventLog], tuple[object, ...]]:
        # Rebuild through the constructor, so unpickled arrays are read-only again.
        return (_restore, (attrs.asdict(self, recurse=False),))

    def __attrs_post_init__(self) -> None:
        n = self.case.size
        if n == 0:
            raise InvalidLogError("the log has no events; pass at least one event.")
        if self.activity.size != n or self.time.size != n:
            raise InvalidLogError("case, activity and time must have one value per event.")
        if self.time.dtype != np.dtype("datetime64[ns]"):
            raise InvalidLogError(f"time must be datetime64[ns] UTC; got {self.time.dtype}.")
        n_cases = self.case_names.size
        if self.offsets.size != n_cases + 1 or self.offsets[0] != 0 or self.offsets[-1] != n:
            raise InvalidLogError("offsets must run from 0 to n_events, one step per case.")
        steps = np.diff(self.case)
        if (steps < 0).any() or (steps > 1).any() or self.case[0] != 0:
            raise InvalidLogError("events must be sorted by case code, codes 0..n_cases-1.")
        same = steps == 0
        t = self.time.view(np.int64)
        if (same & (t[1:] < t[:-1])).any():
            raise InvalidLogError("events of a case must be sorted by time.")
        for name, col in self.event_attributes.items():
            if col.shape != (n,):
                raise InvalidLogError(f"event attribute {name!r} needs one value per event.")
        for name, col in self.case_attributes.items():
            if col.shape != (n_cases,):
                raise InvalidLogError(f"case attribute {name!r} needs one value per case.")

    # ----------------------------------------------------------------- constructors

    @classmethod
    def from_arrays(
        cls,
        *,
        case: ArrayLike,
        activity: ArrayLike,
        time: ArrayLike,
        attributes: Mapping[str, ArrayLike] | None = None,
        case_attributes: Mapping[str, ArrayLike] | None = None,
        order: ArrayLike | None = None,
        tz: str | None = None,
        on_invalid: Literal["raise", "drop"] = "raise",
    ) -> EventLog:
        """Build a log from one array per column, all of the same length.

        Args:
            case: Case (deal) id of each event, all of one kind and kept exactly: strings,
                integers of any width (uint64 above 2**63 and Python ints included),
                floats, or any other sortable type such as UUID, Decimal or bool.
            activity: Activity name of each event.
            time: Time of each event: ``datetime64`` of any unit, ISO 8601 strings (UTC
                offsets are converted to UTC) or `datetime` objects. Times must lie in
                1677-09-21 .. 2262-04-11, what ``datetime64[ns]`` holds, and within about
                292 years of each other; others are refused, never wrapped round.
            attributes: Extra per-event columns by name.
            case_attributes: Per-case columns given per event; each must be constant within
                a case.
            order: Tie-breaker for events of a case at the same time; without it equal
                timestamps keep input order.
            tz: IANA zone for naive times; naive times are UTC by default.
            on_invalid: ``"raise"`` (default) refuses a missing id or time; ``"drop"`` drops
                those events with a `DroppedEventsWarning` that counts them.

        Returns:
            The log, sorted by (case, time).

        Raises:
            InvalidLogError: If a column is missing values or has the wrong length, a time
                is out of range or has an impossible UTC offset, ids mix types or cannot be
                sorted, or no events remain.

        Examples:
            >>> import numpy as np
            >>> log = ss.EventLog.from_arrays(
            ...     case=np.array([2, 1, 1]), activity=["won", "lead", "won"],
            ...     time=np.array(["2024-01-05", "2024-01-01", "2024-01-03"],
            ...                   dtype="datetime64[ns]"))
            >>> log.case_names.tolist(), log.n_events
            ([1, 2], 3)
        """
        return cls(
            **build(
                {"case": case, "activity": activity, "time": time},
                names={"case": "case", "activity": "activity", "time": "time"},
                attributes=column_map("attributes", attributes),
                case_attributes=column_map("case_attributes", case_attributes),
                order=order,
                tz=tz,
                on_invalid=v.on_invalid(on_invalid),
                row_label=row_label,
            )
        )

    @classmethod
    def from_records(
        cls,
        records: Iterable[Sequence[object] | Mapping[str, object]],
        *,
        names: Sequence[str] = RESERVED,
        case: str = "case",
        activity: str = "activity",
        time: str = "time",
        case_attributes: Sequence[str] | None = None,
        tz: str | None = None,
        on_invalid: Literal["raise", "drop"] = "raise",
    ) -> EventLog:
        """Build a log from plain rows: tuples ``(case, activity, time, ...)`` or dicts.

        Args:
            records: Rows as sequences (named by `names`) or as mappings (named by their keys).
            names: Field names of sequence rows; the default reads ``(case, activity, time)``.
                Fields beyond case, activity and time become event attributes.
            case: Name of the case field.
            activity: Name of the activity field.
            time: Name of the time field.
            case_attributes: Fields holding one value per case.
            tz: IANA zone for naive times (UTC by default).
            on_invalid: ``"raise"`` or ``"drop"``, as in `from_arrays`.

        Returns:
            The log, sorted by (case, time).

        Raises:
            InvalidLogError: If a row has the wrong number of fields or a field is missing,
                or a record's key is not a string.
            ParameterError: If `names` repeats a name or holds one that is not a string.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [{"deal": "d1", "stage": "lead", "at": "2024-01-02T09:00:00+01:00",
            ...       "rep": "ann"}], case="deal", activity="stage", time="at")
            >>> str(log.time[0]), log.event_attributes["rep"].tolist()
            ('2024-01-02T08:00:00.000000000', ['ann'])
        """
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
            raise ParameterError(
                f"records must be an iterable of rows (tuples or dicts); got {records!r}.",
                parameter="records",
            )
        if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
            raise ParameterError(
                f"names must be a sequence of field names; got {names!r}.", parameter="names"
            )
        check_labels(
            list(names),
            what="field",
            fix="Pass names= as strings, e.g. names=('case', 'activity', 'time', 'rep').",
            error=ParameterError,
            parameter="names",
        )
        rows = list(records)
        if not rows:
            raise InvalidLogError("the log has no events; pass at least one record.")
        columns: dict[str, list[object]]
        if isinstance(rows[0], Mapping):
            keys: list[str] = []
            for row in rows:
                if not isinstance(row, Mapping):
                    raise InvalidLogError("records mix dicts and tuples; use one kind.")
                keys.extend(k for k in row if k not in keys)
            check_labels(keys, what="field", fix="Use strings as the keys of every record.")
            columns = {k: [r.get(k) for r in rows] for k in keys}  # type: ignore[union-attr]
        else:
            width = len(names)
            for i, row in enumerate(rows):
                if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
                    raise InvalidLogError(
                        f"record {i} is {row!r}; each record must be a tuple of fields "
                        f"({', '.join(map(str, names))}) or a dict."
                    )
                if isinstance(row, Mapping) or len(row) != width:
                    raise InvalidLogError(
                        f"record {i} has {len(row)} fields; expected {width} "
                        f"({', '.join(names)}). Pass names= to name every field."
                    )
            columns = {name: [r[j] for r in rows] for j, name in enumerate(names)}  # type: ignore[index]
        opts = column_options(
            case=case,
            activity=activity,
            time=time,
            attributes=None,
            case_attributes=case_attributes,
            order=None,
            tz=tz,
            on_invalid=on_invalid,
        )
        return cls(
            **from_columns(columns, opts, where="records", row_label=lambda i: f"record {i}")
        )

    @classmethod
    def from_frame(
        cls,
        frame: Any,  # noqa: ANN401 - any DataFrame library narwhals understands
        *,
        case: str,
        activity: str,
        time: str,
        attributes: Sequence[str] | None = None,
        case_attributes: Sequence[str] | None = None,
        order: str | None = None,
        tz: str | None = None,
        on_invalid: Literal["raise", "drop"] = "raise",
    ) -> EventLog:
        """Build a log from a pandas, polars or pyarrow table (anything narwhals reads).

        Only the columns the log uses are read. Categorical and dictionary columns are used
        as codes; text columns are hash-coded (Arrow text on up to one thread per CPU).

        Args:
            frame: The table, one row per event. It is never modified.
            case: Column with the case (deal) id; integer columns with nulls (pandas or
                polars ``Int64``) keep exact integers, never floats.
            activity: Column with the activity or stage name.
            time: Column with the event time (datetime of any unit, tz-aware or naive, or ISO
                strings).
            attributes: Columns kept as event attributes; ``None`` keeps every other column
                that is not a case attribute, ``[]`` keeps none.
            case_attributes: Columns with one value per case (constant within each case).
            order: Column that orders events of a case with equal timestamps.
            tz: IANA zone for naive times (UTC by default); a time column that carries its
                own zone is converted to UTC and `tz` does not apply to it.
            on_invalid: ``"raise"`` or ``"drop"``, as in `from_arrays`.

        Returns:
            The log, sorted by (case, time).

        Raises:
            InvalidLogError: If a column is missing, labels repeat or are not strings, or a
                column holds missing or unusable ids or times (as in `from_arrays`).
            MissingDependencyError: If narwhals cannot read `frame`.

        Examples:
            >>> import pandas as pd
            >>> df = pd.DataFrame({"deal": ["d1", "d1"], "stage": ["lead", "won"],
            ...                    "at": pd.to_datetime(["2024-01-02", "2024-01-09"])})
            >>> ss.EventLog.from_frame(df, case="deal", activity="stage", time="at").n_events
            2
        """
        columns, aware = frame_columns(frame)
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
        return cls(
            **from_columns(
                columns,
                opts,
                where="frame",
                row_label=row_label,
                aware=aware,
                threads=True,
            )
        )

    # ----------------------------------------------------------------- basic facts

    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(self.case.size)

    @property
    def n_cases(self) -> int:
        """Number of cases."""
        return int(self.case_names.size)

    @property
    def n_activities(self) -> int:
        """Number of distinct activities."""
        return int(self.activity_names.size)

    @property
    def activities(self) -> tuple[str, ...]:
        """Activity names in code order (sorted)."""
        return tuple(self.activity_names.tolist())

    @property
    def cases(self) -> tuple[object, ...]:
        """Case ids in code order (sorted)."""
        return tuple(self.case_names.tolist())

    @property
    def start(self) -> dt.datetime:
        """Time of the earliest event, as an aware UTC datetime (microseconds)."""
        return to_datetime(int(self.time.view(np.int64).min()))

    @property
    def end(self) -> dt.datetime:
        """Time of the latest event, as an aware UTC datetime (microseconds)."""
        return to_datetime(int(self.time.view(np.int64).max()))

    @property
    def span(self) -> dt.timedelta:
        """Time from the earliest to the latest event."""
        t = self.time.view(np.int64)
        return dt.timedelta(microseconds=(int(t.max()) - int(t.min())) / 1000)

    @property
    def case_lengths(self) -> NDArray[np.int64]:
        """Number of events of each case, in case-code order."""
        return np.diff(self.offsets)

    @property
    def case_start(self) -> NDArray[np.datetime64]:
        """Time of each case's first event."""
        return self.time[self.offsets[:-1]]

    @property
    def case_end(self) -> NDArray[np.datetime64]:
        """Time of each case's last event."""
        return self.time[self.offsets[1:] - 1]

    def activity_code(self, name: object) -> int:
        """The code of activity `name`.

        Raises:
            ParameterError: If `name` is several names (a list, an array): one at a time,
                or ``log.where(activity=[...])`` for the events of several.
            UnknownStageError: If the log has no such activity.
        """
        v.one_value(
            "name",
            name,
            kind="activity name",
            many="activity_code looks up one activity; call it once per name, or use "
            "log.where(activity=[...]) to keep the events of several.",
        )
        matches = np.flatnonzero(self.activity_names == name)
        if matches.size:
            return int(matches[0])
        v.known_names("activity", [name], self.activities)
        return -1  # pragma: no cover - known_names raised

    def events(self, case: object) -> list[tuple[str, dt.datetime]]:
        """The (activity, time) events of one case, in order; for inspection, not for loops.

        Raises:
            ParameterError: If `case` is several ids (a list, an array, a generator); use
                ``log.where(cases=[...])`` for several cases.
            UnknownStageError: If the log has no such case.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-02"), ("d1", "won", "2024-01-09")])
            >>> [a for a, _ in log.events("d1")]
            ['lead', 'won']
        """
        v.one_value(
            "case",
            case,
            kind="case id",
            many="events() shows one case; use log.where(cases=[...]) to keep several.",
        )
        matches = np.flatnonzero(self.case_names == case)
        if not matches.size:
            v.known_names("case", [case], self.cases)
        k = int(matches[0])
        lo, hi = int(self.offsets[k]), int(self.offsets[k + 1])
        t = self.time.view(np.int64)
        return [
            (str(self.activity_names[self.activity[i]]), to_datetime(int(t[i])))
            for i in range(lo, hi)
        ]

    # ----------------------------------------------------------------- filtering

    def where(
        self,
        *,
        activity: object | Collection[object] | None = None,
        cases: object | Collection[object] | None = None,
        start: object = None,
        end: object = None,
        attributes: Mapping[str, object] | None = None,
    ) -> EventLog:
        """Keep the events that meet every condition given; cases left empty disappear.

        Args:
            activity: Activity name, or several (any iterable), to keep.
            cases: Case id, or several, to keep: a list, set, array, Series or any other
                iterable of ids (a generator is read once); a str is one id.
            start: Keep events at or after this time (ISO string, datetime, datetime64);
                a time outside 1677-09-21 .. 2262-04-11 is refused.
            end: Keep events strictly before this time.
            attributes: Attribute name to a value or a collection of values to keep; event
                attributes filter events, case attributes filter whole cases.

        Returns:
            A new log; this one is unchanged. Activities and cases are re-coded to those left.

        Raises:
            InvalidLogError: If no event meets the conditions.
            UnknownStageError: If an activity is not in the log.
            ParameterError: If an attribute name is not in the log, or `start` or `end` is
                not a time the log can hold.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-02"), ("d1", "won", "2024-01-09"),
            ...      ("d2", "lead", "2024-01-03")])
            >>> log.where(activity="won").cases
            ('d1',)
            >>> log.where(end="2024-01-05").n_events
            2
        """
        if attributes is not None and not isinstance(attributes, Mapping):
            raise ParameterError(
                f"attributes must map attribute names to values, e.g. {{'rep': 'ann'}}; "
                f"got {attributes!r}.",
                parameter="attributes",
            )
        keep = np.ones(self.n_events, dtype=bool)
        if activity is not None:
            wanted = _as_collection(activity, name="activity")
            v.known_names("activity", wanted, self.activities)
            codes = [self.activity_code(a) for a in wanted]
            keep &= np.isin(self.activity, codes)
        if cases is not None:
            keep_case = _isin(self.case_names, _as_collection(cases, name="cases"))
            keep &= keep_case[self.case]
        t = self.time.view(np.int64)
        if start is not None:
            keep &= t >= _time.as_utc_ns(start, name="start")
        if end is not None:
            keep &= t < _time.as_utc_ns(end, name="end")
        for name, wanted_value in (attributes or {}).items():
            values = _as_collection(wanted_value, name=f"attributes[{name!r}]")
            if name in self.event_attributes:
                keep &= _isin(self.event_attributes[name], values)
            elif name in self.case_attributes:
                keep &= _isin(self.case_attributes[name], values)[self.case]
            else:
                known = [*self.event_attributes, *self.case_attributes]
                raise ParameterError(
                    f"attribute {name!r} is not in the log ({v.listing(known) or 'none'})."
                    + v.did_you_mean(name, known)
                )
        if not keep.any():
            raise InvalidLogError("no event meets the conditions given to where().")
        return self._take(np.flatnonzero(keep))

    def _take(self, idx: NDArray[np.intp]) -> EventLog:
        """Sub-log of the events at sorted positions `idx` (already in log order)."""
        case = self.case[idx]
        used_cases, case_codes = np.unique(case, return_inverse=True)
        act = self.activity[idx]
        used_acts, act_codes = np.unique(act, return_inverse=True)
        counts = np.bincount(case_codes.reshape(-1), minlength=used_cases.size)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return EventLog(
            case=case_codes.reshape(-1).astype(np.int32),
            activity=act_codes.reshape(-1).astype(np.int32),
            time=self.time[idx],
            case_names=self.case_names[used_cases],
            activity_names=self.activity_names[used_acts],
            offsets=offsets,
            event_attributes={k: a[idx] for k, a in self.event_attributes.items()},
            case_attributes={k: a[used_cases] for k, a in self.case_attributes.items()},
        )

    # ----------------------------------------------------------------- export

    def to_frame(self, *, backend: FrameBackend = "pandas") -> Any:  # noqa: ANN401
        """One row per event: ``case``, ``activity``, ``time`` (UTC), then the attributes.

        Case attributes are repeated on every event of their case. The result reads back with
        ``EventLog.from_frame(df, case="case", activity="activity", time="time",
        case_attributes=list(log.case_attributes))``.

        Args:
            backend: ``"pandas"`` or ``"polars"``.

        Returns:
            A DataFrame of the chosen library.

        Raises:
            MissingDependencyError: If that library is not installed.

        Examples:
            >>> log = ss.EventLog.from_records([("d1", "lead", "2024-01-02")])
            >>> log.to_frame().columns.tolist()
            ['case', 'activity', 'time']
        """
        columns: dict[str, NDArray[Any]] = {
            "case": self.case_names[self.case],
            "activity": self.activity_names[self.activity],
            "time": self.time,
        }
        columns.update(self.event_attributes)
        columns.update({k: a[self.case] for k, a in self.case_attributes.items()})
        return make_frame(columns, backend=backend, utc=("time",))

    def __repr__(self) -> str:
        first = str(self.time.min())[:10]
        last = str(self.time.max())[:10]
        return (
            f"EventLog(cases={self.n_cases}, events={self.n_events}, "
            f"activities={self.n_activities}, span='{first} .. {last}')"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{k}</th><td>{val}</td></tr>"
            for k, val in (
                ("cases", self.n_cases),
                ("events", self.n_events),
                ("activities", self.n_activities),
                ("first event", str(self.time.min())[:19]),
                ("last event", str(self.time.max())[:19]),
                ("event attributes", ", ".join(self.event_attributes) or "-"),
                ("case attributes", ", ".join(self.case_attributes) or "-"),
            )
        )
        return f"<table><caption>EventLog</caption>{rows}</table>"


# --------------------------------------------------------------------- building


def _restore(fields: dict[str, Any]) -> EventLog:
    return EventLog(**fields)


def _as_collection(value: object, *, name: str) -> list[object]:
    """One value or several as a list; each must be hashable (it is looked up in a set).

    Any iterable but a str or bytes is several values (a generator is read once); a 0-d
    array is one value, refused below as unhashable.
    """
    several = (
        isinstance(value, Iterable)
        and not isinstance(value, (str, bytes))
        and not (isinstance(value, np.ndarray) and value.ndim == 0)
    )
    if isinstance(value, Mapping):
        raise ParameterError(
            f"{name} must be a value or a collection of values; got a {type(value).__name__}. "
            "Pass its keys or its values as a list.",
            parameter=name,
        )
    values = list(cast("Iterable[object]", value)) if several else [value]
    odd = [item for item in values if not isinstance(item, Hashable)]
    if odd:
        raise ParameterError(
            f"{name} must be a value or a collection of values; {odd[0]!r} is a "
            f"{type(odd[0]).__name__}, which cannot be compared as one value.",
            parameter=name,
        )
    return values


def _isin(values: NDArray[Any], wanted: list[object]) -> NDArray[np.bool_]:
    if values.dtype.kind == "O":
        wanted_set = set(wanted)
        return np.fromiter((x in wanted_set for x in values), dtype=bool, count=values.size)
    return np.isin(values, np.asarray(wanted))
