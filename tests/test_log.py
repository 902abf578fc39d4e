"""Known-answer tests of `salesstd.EventLog` on tiny hand-computed logs."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import pickle
import uuid
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import salesstd as ss
from salesstd._base import timestamps as _time
from strategies import differences

UTC = dt.timezone.utc

# Six events of three deals, deliberately out of order. By hand, sorted by (case, time):
#   d1: lead 01-01 00:00, qualified 01-02 12:00, won 01-04 00:00
#   d2: lead 01-03 00:00, lost 01-10 00:00
#   d3: lead 01-05 00:00
# Activities sorted: lead=0, lost=1, qualified=2, won=3.
RECORDS: list[tuple[str, str, str]] = [
    ("d2", "lead", "2024-01-03T00:00:00"),
    ("d1", "lead", "2024-01-01T00:00:00"),
    ("d1", "qualified", "2024-01-02T12:00:00"),
    ("d3", "lead", "2024-01-05T00:00:00"),
    ("d1", "won", "2024-01-04T00:00:00"),
    ("d2", "lost", "2024-01-10T00:00:00"),
]
REPS = ["bob", "ann", "ann", "cid", "bob", "bob"]  # per event, aligned with RECORDS
TEAMS = {"d1": "north", "d2": "south", "d3": "north"}  # one per deal

SORTED_CASE = [0, 0, 0, 1, 1, 2]
SORTED_ACTIVITY = [0, 2, 3, 0, 1, 0]
SORTED_TIME = np.array(
    [
        "2024-01-01T00:00:00",
        "2024-01-02T12:00:00",
        "2024-01-04T00:00:00",
        "2024-01-03T00:00:00",
        "2024-01-10T00:00:00",
        "2024-01-05T00:00:00",
    ],
    dtype="datetime64[ns]",
)
SORTED_REPS = ["ann", "ann", "bob", "bob", "bob", "cid"]


def ns(text: str) -> int:
    """UTC nanoseconds of a naive ISO time string (read as UTC)."""
    return int(np.datetime64(text, "ns").view(np.int64))


def frame_dict() -> dict[str, list[Any]]:
    return {
        "deal": [r[0] for r in RECORDS],
        "stage": [r[1] for r in RECORDS],
        "at": [r[2] for r in RECORDS],
        "rep": list(REPS),
        "team": [TEAMS[r[0]] for r in RECORDS],
    }


def assert_core(log: ss.EventLog) -> None:
    """The hand-computed arrays of the RECORDS log."""
    assert log.case.tolist() == SORTED_CASE
    assert log.activity.tolist() == SORTED_ACTIVITY
    assert log.time.dtype == np.dtype("datetime64[ns]")
    assert np.array_equal(log.time, SORTED_TIME)
    assert log.case_names.tolist() == ["d1", "d2", "d3"]
    assert log.activity_names.tolist() == ["lead", "lost", "qualified", "won"]
    assert log.offsets.tolist() == [0, 3, 5, 6]


@pytest.fixture
def log() -> ss.EventLog:
    return ss.EventLog.from_records(RECORDS)


def make_rich_log() -> ss.EventLog:
    rows = [
        {"deal": r[0], "stage": r[1], "at": r[2], "rep": rep, "team": TEAMS[r[0]]}
        for r, rep in zip(RECORDS, REPS, strict=True)
    ]
    return ss.EventLog.from_records(
        rows, case="deal", activity="stage", time="at", case_attributes=["team"]
    )


@pytest.fixture
def rich_log() -> ss.EventLog:
    return make_rich_log()


# ------------------------------------------------------------------------- constructors


def test_from_records_tuples(log: ss.EventLog) -> None:
    assert_core(log)
    assert dict(log.event_attributes) == {}
    assert dict(log.case_attributes) == {}


def test_from_records_dicts_with_attributes(rich_log: ss.EventLog) -> None:
    assert_core(rich_log)
    assert list(rich_log.event_attributes) == ["rep"]
    assert rich_log.event_attributes["rep"].tolist() == SORTED_REPS
    assert rich_log.case_attributes["team"].tolist() == ["north", "south", "north"]


def test_from_records_tuples_with_names() -> None:
    rows = [(*r, rep) for r, rep in zip(RECORDS, REPS, strict=True)]
    log = ss.EventLog.from_records(rows, names=("case", "activity", "time", "rep"))
    assert_core(log)
    assert log.event_attributes["rep"].tolist() == SORTED_REPS


def test_from_records_dicts_missing_keys_are_none() -> None:
    rows: list[dict[str, object]] = [
        {"case": "d1", "activity": "a", "time": "2024-01-01", "rep": "ann"},
        {"case": "d1", "activity": "b", "time": "2024-01-02"},
    ]
    log = ss.EventLog.from_records(rows)
    assert log.event_attributes["rep"].tolist() == ["ann", None]


def test_from_records_wrong_width_names_record() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"record 1 has 2 fields; expected 3.*names="):
        ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", "b")])


def test_from_arrays() -> None:
    log = ss.EventLog.from_arrays(
        case=np.array([r[0] for r in RECORDS]),
        activity=np.array([r[1] for r in RECORDS]),
        time=np.array([r[2] for r in RECORDS], dtype="datetime64[s]"),
        attributes={"rep": np.array(REPS)},
        case_attributes={"team": [TEAMS[r[0]] for r in RECORDS]},
    )
    assert_core(log)
    assert log.event_attributes["rep"].tolist() == SORTED_REPS
    assert log.case_attributes["team"].tolist() == ["north", "south", "north"]


def test_from_arrays_numeric_case_ids_sort_as_numbers() -> None:
    log = ss.EventLog.from_arrays(
        case=np.array([10, 2, 10, 2]),
        activity=["a", "a", "b", "b"],
        time=["2024-01-01", "2024-01-03", "2024-01-02", "2024-01-04"],
    )
    assert log.case_names.tolist() == [2, 10]  # 2 < 10, not '10' < '2'
    assert all(type(c) is int for c in log.cases)
    assert log.case.tolist() == [0, 0, 1, 1]
    assert [a for a, _ in log.events(10)] == ["a", "b"]


def _frame_log(frame: object, **kwargs: Any) -> ss.EventLog:
    return ss.EventLog.from_frame(
        frame, case="deal", activity="stage", time="at", case_attributes=["team"], **kwargs
    )


def test_from_frame_pandas() -> None:
    log = _frame_log(pd.DataFrame(frame_dict()))
    assert_core(log)
    assert log.event_attributes["rep"].tolist() == SORTED_REPS
    assert log.case_attributes["team"].tolist() == ["north", "south", "north"]


def test_from_frame_polars() -> None:
    log = _frame_log(pl.DataFrame(frame_dict()))
    assert_core(log)
    assert log.event_attributes["rep"].tolist() == SORTED_REPS
    assert log.case_attributes["team"].tolist() == ["north", "south", "north"]


def test_from_frame_pyarrow() -> None:
    log = _frame_log(pa.table(frame_dict()))
    assert_core(log)
    assert log.event_attributes["rep"].tolist() == SORTED_REPS
    assert log.case_attributes["team"].tolist() == ["north", "south", "north"]


def test_from_frame_pandas_datetime_column() -> None:
    data = frame_dict()
    data["at"] = pd.to_datetime(data["at"])  # type: ignore[assignment]
    log = _frame_log(pd.DataFrame(data))
    assert_core(log)


def test_from_frame_attributes_selection() -> None:
    df = pd.DataFrame(frame_dict())
    keep_none = ss.EventLog.from_frame(df, case="deal", activity="stage", time="at", attributes=[])
    assert dict(keep_none.event_attributes) == {}
    keep_rep = ss.EventLog.from_frame(
        df, case="deal", activity="stage", time="at", attributes=["rep"]
    )
    assert list(keep_rep.event_attributes) == ["rep"]
    everything = ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")
    assert list(everything.event_attributes) == ["rep", "team"]


def test_from_frame_rejects_non_frame() -> None:
    with pytest.raises(ss.ParameterError, match=r"expected a DataFrame.*from_records"):
        ss.EventLog.from_frame([1, 2], case="c", activity="a", time="t")


def test_same_log_from_every_source_is_equal() -> None:
    """Records, arrays, pandas, polars and pyarrow give one and the same (equal) log."""
    data = frame_dict()
    rows = [(*r, rep) for r, rep in zip(RECORDS, REPS, strict=True)]
    logs = [
        ss.EventLog.from_records(
            rows, names=("deal", "stage", "at", "rep"), case="deal", activity="stage", time="at"
        ),
        ss.EventLog.from_arrays(
            case=data["deal"],
            activity=data["stage"],
            time=data["at"],
            attributes={"rep": data["rep"]},
        ),
    ]
    logs.extend(
        ss.EventLog.from_frame(frame, case="deal", activity="stage", time="at", attributes=["rep"])
        for frame in (pd.DataFrame(data), pl.DataFrame(data), pa.table(data))
    )
    for other in logs:
        assert other.event_attributes["rep"].tolist() == SORTED_REPS
    names = ["records", "arrays", "pandas", "polars", "pyarrow"]
    equal = {name: other == logs[0] for name, other in zip(names, logs, strict=True)}
    diffs = {name: differences(other, logs[0]) for name, other in zip(names, logs, strict=True)}
    assert diffs == {name: [] for name in names}
    assert equal == dict.fromkeys(names, True)


# ------------------------------------------------------------------------- ordering


def test_sorted_by_case_then_time(log: ss.EventLog) -> None:
    assert [a for a, _ in log.events("d1")] == ["lead", "qualified", "won"]
    assert [a for a, _ in log.events("d2")] == ["lead", "lost"]
    t = log.time.view(np.int64)
    for k in range(log.n_cases):
        lo, hi = log.offsets[k], log.offsets[k + 1]
        assert (np.diff(t[lo:hi]) >= 0).all()


def test_equal_timestamps_keep_input_order() -> None:
    rows = [
        ("d1", "b", "2024-01-02"),
        ("d2", "x", "2024-01-02"),
        ("d1", "a", "2024-01-02"),
        ("d1", "c", "2024-01-01"),
        ("d1", "z", "2024-01-02"),
    ]
    log = ss.EventLog.from_records(rows)
    assert [a for a, _ in log.events("d1")] == ["c", "b", "a", "z"]
    reversed_log = ss.EventLog.from_records(rows[::-1])
    assert [a for a, _ in reversed_log.events("d1")] == ["c", "z", "a", "b"]


def test_order_array_breaks_ties() -> None:
    log = ss.EventLog.from_arrays(
        case=["d1", "d1", "d1", "d1"],
        activity=["b", "a", "c", "d"],
        time=["2024-01-02", "2024-01-02", "2024-01-01", "2024-01-03"],
        order=[5, 1, 9, 0],
    )
    # time first: c (01-01); then the 01-02 tie by order: a (1) before b (5); then d.
    assert [a for a, _ in log.events("d1")] == ["c", "a", "b", "d"]


def test_order_column_breaks_ties_in_frame() -> None:
    df = pd.DataFrame(
        {
            "deal": ["d1", "d1", "d1", "d2", "d2"],
            "stage": ["approved", "registered", "activated", "b", "a"],
            "at": ["2024-01-02T10:00:00"] * 3 + ["2024-01-05", "2024-01-05"],
            "idx": [2, 0, 1, 1, 0],
        }
    )
    log = ss.EventLog.from_frame(df, case="deal", activity="stage", time="at", order="idx")
    assert [a for a, _ in log.events("d1")] == ["registered", "activated", "approved"]
    assert [a for a, _ in log.events("d2")] == ["a", "b"]
    assert "idx" not in log.event_attributes  # the order column is not an attribute


def test_order_applies_when_input_is_already_sorted() -> None:
    log = ss.EventLog.from_arrays(
        case=[1, 1, 2],
        activity=["b", "a", "c"],
        time=np.array(["2024-01-01"] * 3, dtype="datetime64[ns]"),
        order=[2, 1, 0],
    )
    assert [a for a, _ in log.events(1)] == ["a", "b"]


def test_order_does_not_override_time() -> None:
    log = ss.EventLog.from_arrays(
        case=["d1", "d1"],
        activity=["late", "early"],
        time=["2024-01-02", "2024-01-01"],
        order=[0, 1],
    )
    assert [a for a, _ in log.events("d1")] == ["early", "late"]


# ------------------------------------------------------------------------- properties


def test_basic_facts(log: ss.EventLog) -> None:
    assert log.n_events == 6
    assert log.n_cases == 3
    assert log.n_activities == 4
    assert log.activities == ("lead", "lost", "qualified", "won")
    assert log.cases == ("d1", "d2", "d3")
    assert log.start == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert log.end == dt.datetime(2024, 1, 10, tzinfo=UTC)
    assert log.start.tzinfo is not None
    assert log.span == dt.timedelta(days=9)
    assert log.case_lengths.tolist() == [3, 2, 1]
    assert np.array_equal(log.case_start, SORTED_TIME[[0, 3, 5]])
    assert np.array_equal(log.case_end, SORTED_TIME[[2, 4, 5]])
    assert isinstance(log.n_events, int)
    assert isinstance(log.n_cases, int)


def test_repr(log: ss.EventLog) -> None:
    assert repr(log) == "EventLog(cases=3, events=6, activities=4, span='2024-01-01 .. 2024-01-10')"


def test_events_of_one_case(log: ss.EventLog) -> None:
    assert log.events("d2") == [
        ("lead", dt.datetime(2024, 1, 3, tzinfo=UTC)),
        ("lost", dt.datetime(2024, 1, 10, tzinfo=UTC)),
    ]
    with pytest.raises(ss.UnknownStageError, match=r"case 'd4' is not in the log \(d1, d2, d3\)"):
        log.events("d4")


def test_activity_code(log: ss.EventLog) -> None:
    assert log.activity_code("won") == 3
    with pytest.raises(ss.UnknownStageError, match=r"Did you mean 'won'"):
        log.activity_code("wonn")


def test_span_keeps_sub_second_precision() -> None:
    log = ss.EventLog.from_records(
        [("d1", "a", "2024-01-01T00:00:00.000"), ("d1", "b", "2024-01-01T00:00:01.250")]
    )
    assert log.span == dt.timedelta(seconds=1, milliseconds=250)


# ------------------------------------------------------------------------- case attributes


def test_case_attribute_is_one_value_per_case(rich_log: ss.EventLog) -> None:
    assert rich_log.case_attributes["team"].shape == (3,)
    assert "team" not in rich_log.event_attributes


def test_case_attribute_not_constant_names_case() -> None:
    data = frame_dict()
    data["team"][4] = "east"  # d1's 'won' event
    with pytest.raises(
        ss.InvalidLogError,
        match=r"case attribute 'team' is not constant within case 'd1': "
        r"'north' then 'east'.*attributes=",
    ):
        _frame_log(pd.DataFrame(data))


def test_case_attribute_numeric_with_nan_is_constant() -> None:
    log = ss.EventLog.from_arrays(
        case=["d1", "d1", "d2"],
        activity=["a", "b", "a"],
        time=["2024-01-01", "2024-01-02", "2024-01-03"],
        case_attributes={"amount": np.array([np.nan, np.nan, 5.0])},
    )
    got = log.case_attributes["amount"]
    assert np.isnan(got[0])
    assert got[1] == 5.0


def test_same_column_as_event_and_case_attribute_is_refused() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"'team' is given both as an event and a case"):
        ss.EventLog.from_frame(
            pd.DataFrame(frame_dict()),
            case="deal",
            activity="stage",
            time="at",
            attributes=["team"],
            case_attributes=["team"],
        )


# ------------------------------------------------------------------------- where


def test_where_activity(rich_log: ss.EventLog) -> None:
    won = rich_log.where(activity="won")
    assert won.cases == ("d1",)
    assert won.activities == ("won",)
    assert won.activity.tolist() == [0]  # re-coded
    assert won.event_attributes["rep"].tolist() == ["bob"]
    assert won.case_attributes["team"].tolist() == ["north"]
    several = rich_log.where(activity=["lead", "lost"])
    assert several.n_events == 4
    assert several.cases == ("d1", "d2", "d3")
    assert several.activities == ("lead", "lost")
    assert several.offsets.tolist() == [0, 1, 3, 4]


def test_where_cases(rich_log: ss.EventLog) -> None:
    sub = rich_log.where(cases=["d3", "d2"])
    assert sub.cases == ("d2", "d3")
    assert sub.case.tolist() == [0, 0, 1]
    assert sub.case_attributes["team"].tolist() == ["south", "north"]
    assert sub.n_events == 3


def test_where_start_end(log: ss.EventLog) -> None:
    sub = log.where(start="2024-01-02T12:00:00", end="2024-01-05")
    # start inclusive, end exclusive: qualified (01-02 12:00), won (01-04), lead d2 (01-03)
    assert sub.n_events == 3
    assert sub.cases == ("d1", "d2")
    assert [a for a, _ in sub.events("d1")] == ["qualified", "won"]
    aware = log.where(
        start=dt.datetime(2024, 1, 5, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    )
    assert aware.cases == ("d2", "d3")  # 2024-01-05T00:00Z is included
    assert log.where(end=dt.date(2024, 1, 2)).n_events == 1


def test_where_event_attribute(rich_log: ss.EventLog) -> None:
    sub = rich_log.where(attributes={"rep": "ann"})
    assert sub.n_events == 2
    assert [a for a, _ in sub.events("d1")] == ["lead", "qualified"]
    both = rich_log.where(attributes={"rep": ["ann", "cid"]})
    assert both.cases == ("d1", "d3")


def test_where_case_attribute_keeps_whole_cases(rich_log: ss.EventLog) -> None:
    north = rich_log.where(attributes={"team": "north"})
    assert north.cases == ("d1", "d3")
    assert north.n_events == 4
    assert north.case_attributes["team"].tolist() == ["north", "north"]


def test_where_combined_and_original_unchanged(rich_log: ss.EventLog) -> None:
    before = make_rich_log()
    sub = rich_log.where(activity="lead", attributes={"team": "north"}, start="2024-01-02")
    assert sub.cases == ("d3",)
    assert rich_log == before


def test_where_cases_single_id(log: ss.EventLog) -> None:
    """A single id (a string) is one case, as for activity=, not the characters 'd', '1'."""
    assert log.where(cases="d1").cases == ("d1",)
    assert log.where(cases="d1") == log.where(cases=["d1"])


@pytest.mark.parametrize(
    "many",
    [["d1", "d2"], ("d1",), np.array(["d1", "d2"]), pd.Series(["d1"]), {"d1"}],
    ids=type,
)
def test_events_of_several_cases_is_refused_naming_where(log: ss.EventLog, many: Any) -> None:
    """A list of ids was broadcast against the case names (a numpy ValueError, issue 22)."""
    with pytest.raises(
        ss.ParameterError, match=r"^case must be one case id; got .*log\.where\(cases=\[\.\.\.\]\)"
    ) as info:
        log.events(many)
    assert info.value.parameter == "case"
    with pytest.raises(ss.ParameterError, match="case must be one case id; got generator"):
        log.events(c for c in ["d1"])


@pytest.mark.parametrize(
    "many", [["lead", "won"], np.array(["lead"]), pd.Series(["won"])], ids=type
)
def test_activity_code_of_several_names_is_refused(log: ss.EventLog, many: Any) -> None:
    with pytest.raises(
        ss.ParameterError, match=r"^name must be one activity name; got .*once per name"
    ):
        log.activity_code(many)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (c for c in ["d1", "d3"]),
        lambda: iter(["d1", "d3"]),
        lambda: np.array(["d3", "d1"]),
        lambda: pd.Series(["d1", "d3"]),
        lambda: {"d1", "d3"},
        lambda: dict.fromkeys(["d1", "d3"]).keys(),
    ],
    ids=["generator", "iterator", "array", "Series", "set", "keys"],
)
def test_where_cases_takes_any_iterable_of_ids(log: ss.EventLog, make: Any) -> None:
    """A generator was taken as one id: 'no event meets the conditions' (issue 22)."""
    assert log.where(cases=make()) == log.where(cases=["d1", "d3"])
    assert log.where(activity=(a for a in ["lead", "won"])) == log.where(activity=["lead", "won"])


def test_where_refuses_a_mapping_or_an_unhashable_id(log: ss.EventLog) -> None:
    with pytest.raises(ss.ParameterError, match=r"cases must be .*got a dict\. Pass its keys"):
        log.where(cases={"d1": 1})
    with pytest.raises(ss.ParameterError, match="cannot be compared as one value"):
        log.where(cases=np.array("d1"))  # a 0-d array is one value, and unhashable
    with pytest.raises(ss.ParameterError, match="cannot be compared as one value"):
        log.where(cases=[["d1"]])


def test_where_nothing_left(log: ss.EventLog) -> None:
    with pytest.raises(ss.InvalidLogError, match="no event meets the conditions"):
        log.where(cases=["zz"])


def test_where_unknown_activity(log: ss.EventLog) -> None:
    with pytest.raises(ss.UnknownStageError, match=r"activity 'lots' is not in the log.*'lost'"):
        log.where(activity="lots")


def test_where_unknown_attribute(rich_log: ss.EventLog) -> None:
    with pytest.raises(ss.SalesStdError, match=r"attribute 'reps' is not in the log.*'rep'"):
        rich_log.where(attributes={"reps": "ann"})


def test_where_bad_time(log: ss.EventLog) -> None:
    with pytest.raises(ss.ParameterError, match=r"start must be a date or time.*'yesterday'"):
        log.where(start="yesterday")


# ------------------------------------------------------------------------- to_frame


def test_to_frame_pandas(rich_log: ss.EventLog) -> None:
    df = rich_log.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert df.columns.tolist() == ["case", "activity", "time", "rep", "team"]
    assert str(df["time"].dtype) == "datetime64[ns, UTC]"
    assert df["case"].tolist() == ["d1", "d1", "d1", "d2", "d2", "d3"]
    assert df["activity"].tolist() == ["lead", "qualified", "won", "lead", "lost", "lead"]
    assert df["rep"].tolist() == SORTED_REPS
    assert df["team"].tolist() == ["north"] * 3 + ["south"] * 2 + ["north"]
    assert df["time"].iloc[1] == pd.Timestamp("2024-01-02T12:00:00", tz="UTC")


def test_to_frame_polars(rich_log: ss.EventLog) -> None:
    df = rich_log.to_frame(backend="polars")
    assert isinstance(df, pl.DataFrame)
    assert df.columns == ["case", "activity", "time", "rep", "team"]
    assert df.schema["time"] == pl.Datetime("ns", "UTC")
    assert df["case"].to_list() == ["d1", "d1", "d1", "d2", "d2", "d3"]
    assert df["team"].to_list() == ["north"] * 3 + ["south"] * 2 + ["north"]
    assert df["time"][4] == dt.datetime(2024, 1, 10, tzinfo=UTC)


def test_to_frame_bad_backend(log: ss.EventLog) -> None:
    with pytest.raises(
        ss.ParameterError, match=r"backend must be one of 'pandas', 'polars'; got 'spark'"
    ):
        log.to_frame(backend="spark")  # type: ignore[arg-type]


def test_to_frame_round_trip_core(rich_log: ss.EventLog) -> None:
    df = rich_log.to_frame()
    back = ss.EventLog.from_frame(
        df, case="case", activity="activity", time="time", case_attributes=["team"]
    )
    assert_core(back)
    assert back.event_attributes["rep"].tolist() == SORTED_REPS
    assert back.case_attributes["team"].tolist() == ["north", "south", "north"]


def test_to_frame_round_trip_is_equal(rich_log: ss.EventLog) -> None:
    """to_frame then from_frame gives back an equal log (pandas and polars alike)."""
    for backend in ("pandas", "polars"):
        df = rich_log.to_frame(backend=backend)
        back = ss.EventLog.from_frame(
            df, case="case", activity="activity", time="time", case_attributes=["team"]
        )
        assert differences(back, rich_log) == [], backend
        assert back == rich_log, backend


# ------------------------------------------------------------------------- time zones


def test_offsets_converted_to_utc() -> None:
    log = ss.EventLog.from_records(
        [
            ("d1", "a", "2024-01-02T09:00:00+01:00"),
            ("d1", "b", "2024-01-02T09:00:00-05:00"),
            ("d1", "c", "2024-01-02T09:00:00Z"),
            ("d1", "d", "2024-01-02T09:00:00+0530"),
            ("d1", "e", "2024-01-02 09:00:00.250+02"),
        ]
    )
    got = dict(zip([a for a, _ in log.events("d1")], log.time.view(np.int64).tolist(), strict=True))
    assert got == {
        "a": ns("2024-01-02T08:00:00"),
        "b": ns("2024-01-02T14:00:00"),
        "c": ns("2024-01-02T09:00:00"),
        "d": ns("2024-01-02T03:30:00"),
        "e": ns("2024-01-02T07:00:00.250"),
    }


def test_naive_times_are_utc() -> None:
    log = ss.EventLog.from_records([("d1", "a", "2024-07-01T12:00:00")])
    assert log.time.view(np.int64)[0] == ns("2024-07-01T12:00:00")
    assert log.start == dt.datetime(2024, 7, 1, 12, tzinfo=UTC)


def test_naive_times_in_tz_across_spring_dst_change() -> None:
    # Europe/Amsterdam: 2024-03-31 02:00 CET jumps to 03:00 CEST.
    log = ss.EventLog.from_records(
        [("d1", "a", "2024-03-31T01:30:00"), ("d1", "b", "2024-03-31T03:30:00")],
        tz="Europe/Amsterdam",
    )
    t = log.time.view(np.int64)
    assert t.tolist() == [ns("2024-03-31T00:30:00"), ns("2024-03-31T01:30:00")]
    assert (t[1] - t[0]) // 10**9 == 3600  # two wall-clock hours, one real hour


def test_naive_times_in_tz_across_autumn_dst_change() -> None:
    # 2024-10-27 03:00 CEST falls back to 02:00 CET.
    log = ss.EventLog.from_records(
        [
            ("d1", "a", "2024-10-26T12:00:00"),  # CEST, +02:00
            ("d1", "b", "2024-10-27T01:30:00"),  # CEST, +02:00
            ("d1", "c", "2024-10-27T03:30:00"),  # CET, +01:00
            ("d1", "d", "2024-12-01T12:00:00"),  # CET
        ],
        tz="Europe/Amsterdam",
    )
    assert log.time.view(np.int64).tolist() == [
        ns("2024-10-26T10:00:00"),
        ns("2024-10-26T23:30:00"),
        ns("2024-10-27T02:30:00"),
        ns("2024-12-01T11:00:00"),
    ]


def test_tz_ignored_for_times_with_offsets() -> None:
    log = ss.EventLog.from_records(
        [("d1", "a", "2024-07-01T12:00:00+00:00"), ("d1", "b", "2024-07-01T12:00:00")],
        tz="Europe/Amsterdam",
    )
    assert log.time.view(np.int64).tolist() == [
        ns("2024-07-01T10:00:00"),  # naive, CEST
        ns("2024-07-01T12:00:00"),  # explicit offset wins
    ]


def test_tz_applies_to_datetime64_and_naive_datetimes() -> None:
    arrays = ss.EventLog.from_arrays(
        case=["d1"],
        activity=["a"],
        time=np.array(["2024-01-15T12:00"], dtype="datetime64[m]"),
        tz="Europe/Amsterdam",
    )
    objects = ss.EventLog.from_records(
        [("d1", "a", dt.datetime(2024, 1, 15, 12, 0))],  # noqa: DTZ001 - naive on purpose
        tz="Europe/Amsterdam",
    )
    assert arrays.time.view(np.int64)[0] == ns("2024-01-15T11:00:00")
    assert objects.time.view(np.int64)[0] == ns("2024-01-15T11:00:00")


def test_aware_datetime_objects() -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    log = ss.EventLog.from_records(
        [
            ("d1", "a", dt.datetime(2024, 6, 1, 10, 0, tzinfo=plus2)),
            ("d1", "b", pd.Timestamp("2024-06-01T10:00:00.000000001", tz="UTC")),
        ]
    )
    assert log.time.view(np.int64).tolist() == [
        ns("2024-06-01T08:00:00"),
        ns("2024-06-01T10:00:00") + 1,
    ]


def test_tz_with_half_hour_dst_change() -> None:
    """Australia/Lord_Howe moves from +10:30 to +11:00 at 02:00, skipping to 02:30."""
    log = ss.EventLog.from_records(
        [("d1", "a", "2024-10-06T01:45:00"), ("d1", "b", "2024-10-06T02:45:00")],
        tz="Australia/Lord_Howe",
    )
    assert log.time.view(np.int64).tolist() == [
        ns("2024-10-05T15:15:00"),  # 01:45 at +10:30
        ns("2024-10-05T15:45:00"),  # 02:45 at +11:00
    ]


def test_unknown_tz() -> None:
    with pytest.raises(ss.ParameterError, match=r"tz 'Europe/Amsterdamm' is not a known.*IANA"):
        ss.EventLog.from_records([("d1", "a", "2024-01-01")], tz="Europe/Amsterdamm")


def test_pandas_tz_aware_column_is_converted_to_utc() -> None:
    times = pd.to_datetime(["2024-10-27T01:30:00", "2024-10-27T03:30:00"]).tz_localize(
        "Europe/Amsterdam"
    )
    df = pd.DataFrame({"deal": ["d1", "d1"], "stage": ["a", "b"], "at": times})
    log = ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")
    assert log.time.view(np.int64).tolist() == [
        ns("2024-10-26T23:30:00"),
        ns("2024-10-27T02:30:00"),
    ]


def test_polars_tz_aware_column_is_converted_to_utc() -> None:
    df = pl.DataFrame(
        {"deal": ["d1"], "stage": ["a"], "at": [dt.datetime(2024, 1, 2, 9)]}  # noqa: DTZ001
    ).with_columns(pl.col("at").dt.replace_time_zone("America/New_York"))
    log = ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")
    assert log.time.view(np.int64)[0] == ns("2024-01-02T14:00:00")


def test_tz_does_not_shift_tz_aware_frame_column() -> None:
    """`tz=` is for naive times; an aware column already says where it is."""
    times = pd.to_datetime(["2024-01-02T09:00:00+01:00", "2024-01-02T10:00:00+01:00"])
    df = pd.DataFrame({"deal": ["d1", "d1"], "stage": ["a", "b"], "at": times})
    plain = ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")
    with_tz = ss.EventLog.from_frame(
        df, case="deal", activity="stage", time="at", tz="Europe/Amsterdam"
    )
    expected = [ns("2024-01-02T08:00:00"), ns("2024-01-02T09:00:00")]
    assert plain.time.view(np.int64).tolist() == expected
    assert with_tz.time.view(np.int64).tolist() == expected


# ------------------------------------------------------------------------- errors


def test_missing_column_suggests_fix() -> None:
    df = pd.DataFrame({"deal": ["d1"], "stage": ["a"], "timestamp": ["2024-01-01"]})
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'time' not found; the frame has deal, stage, timestamp\. "
        r"Pass time='timestamp'\.",
    ):
        ss.EventLog.from_frame(df, case="deal", activity="stage", time="time")


def test_missing_column_in_records() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"column 'deal' not found.*Pass case="):
        ss.EventLog.from_records([("d1", "a", "2024-01-01")], case="deal")


def test_null_case_id_names_row_and_value() -> None:
    df = pd.DataFrame(
        {
            "deal": ["d1", "d1", None, "d2"],
            "stage": ["a", "b", "c", "d"],
            "at": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        }
    )
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'deal' has a missing value at row 2: (nan|None) "
        r"\(1 bad row in all\).*on_invalid='drop'",
    ):
        ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")


def test_null_activity_names_row() -> None:
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'activity' has a missing value at record 1: None.*on_invalid='drop'",
    ):
        ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", None, "2024-01-02")])


def test_empty_string_activity_is_missing() -> None:
    with pytest.raises(
        ss.InvalidLogError, match=r"column 'activity' has a missing value at row 0: ''"
    ):
        ss.EventLog.from_arrays(case=["d1"], activity=[""], time=["2024-01-01"])


def test_unparseable_timestamp_names_row_value_and_fix() -> None:
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'time' has a value that is not a time at record 2: 'yesterday' "
        r"\(2 bad rows in all\)\. Times must be ISO 8601.*on_invalid='drop'",
    ):
        ss.EventLog.from_records(
            [
                ("d1", "a", "2024-01-01"),
                ("d1", "b", "2024-01-02"),
                ("d1", "c", "yesterday"),
                ("d1", "d", "2024-02-30"),
            ]
        )


def test_missing_timestamp_names_row() -> None:
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'at' has a missing value at record 1: None.*on_invalid='drop'",
    ):
        ss.EventLog.from_records(
            [
                {"deal": "d1", "stage": "a", "at": "2024-01-01"},
                {"deal": "d1", "stage": "b", "at": None},
            ],
            case="deal",
            activity="stage",
            time="at",
        )


def test_nat_in_datetime_column_names_row() -> None:
    df = pd.DataFrame(
        {"deal": ["d1", "d1"], "stage": ["a", "b"], "at": pd.to_datetime(["2024-01-01", "NaT"])}
    )
    with pytest.raises(ss.InvalidLogError, match=r"column 'at' has a missing value at row 1"):
        ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")


@pytest.mark.parametrize("word", ["now", "today"])
def test_words_are_not_timestamps(word: str) -> None:
    """numpy reads 'now' and 'today' as times; an event log must not."""
    with pytest.raises(
        ss.InvalidLogError,
        match=rf"column 'time' has a value that is not a time at record 1: '{word}'",
    ):
        ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", "b", word)])


@pytest.mark.parametrize("value", ["9999-12-31", "1500-01-01", "0001-01-01T00:00:00+01:00"])
def test_out_of_range_timestamp_is_refused_not_wrapped(value: str) -> None:
    """Times outside datetime64[ns] (1677-2262) must raise, not wrap around silently."""
    with pytest.raises(ss.InvalidLogError, match=rf"column 'time'.*record 1.*{value[:4]}"):
        ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", "b", value)])


def test_out_of_range_datetime64_is_refused_not_wrapped() -> None:
    times = np.array(["2024-01-01", "9999-12-31"], dtype="datetime64[s]")
    with pytest.raises(ss.InvalidLogError, match=r"column 'time'.*row 1.*9999"):
        ss.EventLog.from_arrays(case=["d1", "d1"], activity=["a", "b"], time=times)


def test_out_of_range_datetime_object_is_an_invalid_log_error() -> None:
    far = dt.datetime(9999, 12, 31, tzinfo=UTC)
    with pytest.raises(ss.InvalidLogError, match=r"column 'time'.*record 1.*9999"):
        ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", "b", far)])


def test_bare_number_string_is_not_a_year() -> None:
    """A stray number in a time column is an error, not the year 7 (or a wrapped date)."""
    with pytest.raises(ss.InvalidLogError, match=r"column 'time'.*record 1.*7"):
        ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", "b", 7)])


def test_empty_log() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"the log has no events; pass at least one"):
        ss.EventLog.from_records([])
    with pytest.raises(ss.InvalidLogError, match=r"the log has no events"):
        ss.EventLog.from_arrays(case=[], activity=[], time=[])
    empty = pd.DataFrame({"deal": [], "stage": [], "at": []})
    with pytest.raises(ss.InvalidLogError, match=r"the log has no events"):
        ss.EventLog.from_frame(empty, case="deal", activity="stage", time="at")


@pytest.mark.parametrize("values", [[1, 2], [1.5, 2.5]])
def test_numbers_as_timestamps(values: list[float]) -> None:
    with pytest.raises(
        ss.SalesStdError, match=r"timestamps are numbers.*astype\('datetime64\[s\]'\)"
    ):
        ss.EventLog.from_arrays(case=["d1", "d1"], activity=["a", "b"], time=np.array(values))


def test_numbers_as_timestamps_names_the_column() -> None:
    df = pd.DataFrame({"deal": ["d1", "d1"], "stage": ["a", "b"], "ts": [1_700_000_000, 2]})
    with pytest.raises(ss.SalesStdError, match=r"'ts'.*timestamps are numbers|'ts'.*numbers"):
        ss.EventLog.from_frame(df, case="deal", activity="stage", time="ts")


def test_mixed_type_case_ids_in_object_array() -> None:
    with pytest.raises(
        ss.InvalidLogError, match=r"column 'case' mixes value types \(int, str\).*\.astype\(str\)"
    ):
        ss.EventLog.from_arrays(
            case=np.array(["d1", 7], dtype=object),
            activity=["a", "b"],
            time=["2024-01-01", "2024-01-02"],
        )


def test_mixed_type_case_ids_message_names_row_and_value() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"column 'deal' mixes.*row 1.*7"):
        ss.EventLog.from_frame(
            pd.DataFrame(
                {
                    "deal": pd.Series(["d1", 7], dtype=object),
                    "stage": ["a", "b"],
                    "at": ["2024-01-01", "2024-01-02"],
                }
            ),
            case="deal",
            activity="stage",
            time="at",
        )


def test_mixed_type_case_ids_in_records_are_not_coerced() -> None:
    """Case 1 and case '1' are different ids; silently merging them corrupts the log."""
    with pytest.raises(ss.InvalidLogError, match=r"column 'case' mixes value types"):
        ss.EventLog.from_records(
            [("a", "x", "2024-01-01"), (1, "y", "2024-01-02"), ("1", "z", "2024-01-03")]
        )


def test_mixed_type_case_ids_in_lists_are_not_coerced() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"column 'case' mixes value types"):
        ss.EventLog.from_arrays(
            case=["d1", 7],  # type: ignore[arg-type]  # a plain list, as users write it
            activity=["a", "b"],
            time=["2024-01-01", "2024-01-02"],
        )


def test_length_mismatch() -> None:
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'activity' has 2 values but 'case' has 3; every column needs one value",
    ):
        ss.EventLog.from_arrays(
            case=["d1", "d1", "d2"], activity=["a", "b"], time=["2024-01-01"] * 3
        )
    with pytest.raises(ss.InvalidLogError, match=r"column 'rep' has 1 values but 'case' has 2"):
        ss.EventLog.from_arrays(
            case=["d1", "d1"],
            activity=["a", "b"],
            time=["2024-01-01"] * 2,
            attributes={"rep": ["ann"]},
        )


def test_two_dimensional_input() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"case must be one-dimensional; got shape"):
        ss.EventLog.from_arrays(case=[["d1"]], activity=["a"], time=["2024-01-01"])


def test_attribute_named_like_a_core_column() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"attribute column 'time' clashes.*'time_attr'"):
        ss.EventLog.from_records(
            [{"deal": "d1", "stage": "a", "at": "2024-01-01", "time": "x"}],
            case="deal",
            activity="stage",
            time="at",
        )


@pytest.mark.parametrize("bad", ["skip", "ignore", None, True])
def test_bad_on_invalid(bad: object) -> None:
    with pytest.raises(
        ss.ParameterError, match=r"on_invalid must be 'raise' or 'drop'; got .*on_invalid='drop'"
    ):
        ss.EventLog.from_records([("d1", "a", "2024-01-01")], on_invalid=bad)  # type: ignore[arg-type]
    with pytest.raises(ss.ParameterError, match=r"on_invalid must be 'raise' or 'drop'"):
        ss.EventLog.from_arrays(
            case=["d1"],
            activity=["a"],
            time=["2024-01-01"],
            on_invalid=bad,  # type: ignore[arg-type]
        )


def test_errors_are_value_errors() -> None:
    assert issubclass(ss.InvalidLogError, ValueError)
    assert issubclass(ss.ParameterError, ValueError)
    assert issubclass(ss.ParameterError, TypeError)
    assert issubclass(ss.UnknownStageError, LookupError)


# ------------------------------------------------------------------------- on_invalid="drop"


def test_drop_warns_with_count() -> None:
    rows: list[tuple[object, object, object]] = [
        ("d1", "a", "2024-01-01"),
        (None, "b", "2024-01-02"),
        ("d1", None, "2024-01-03"),
        ("d2", "c", "not a time"),
        ("d2", "d", "2024-01-05"),
        ("d2", "e", None),
    ]
    with pytest.warns(
        ss.DroppedEventsWarning,
        match=r"dropped 4 of 6 events with a missing or unparseable case, activity or time",
    ):
        log = ss.EventLog.from_records(rows, on_invalid="drop")
    assert log.n_events == 2
    assert log.cases == ("d1", "d2")
    assert log.activities == ("a", "d")


def test_drop_keeps_attributes_aligned() -> None:
    df = pd.DataFrame(
        {
            "deal": ["d1", "d1", "d2", "d2"],
            "stage": ["a", "b", "c", "d"],
            "at": ["2024-01-02", "bad", "2024-01-03", "2024-01-01"],
            "rep": ["ann", "bob", "cid", "dan"],
            "team": ["n", "n", "s", "s"],
            "idx": [0, 1, 0, 1],
        }
    )
    with pytest.warns(ss.DroppedEventsWarning, match=r"dropped 1 of 4"):
        log = ss.EventLog.from_frame(
            df,
            case="deal",
            activity="stage",
            time="at",
            case_attributes=["team"],
            order="idx",
            on_invalid="drop",
        )
    assert log.event_attributes["rep"].tolist() == ["ann", "dan", "cid"]
    assert log.case_attributes["team"].tolist() == ["n", "s"]


def test_drop_reads_the_kept_attribute_rows_as_without_a_drop() -> None:
    # A dropped row used to turn a list attribute into numpy's own guess: mixed values
    # became text ([1, "a"] -> ["1", "a"]) and list cells of unequal length a ValueError.
    rows: list[tuple[object, ...]] = [
        ("d1", "lead", "2024-01-01", 1, [1, 2]),
        ("d1", "won", "2024-01-02", "a", [1]),
        (None, "lead", "2024-01-03", 2, [3, 4]),
    ]
    names = ("case", "activity", "time", "x", "cells")
    kept = ss.EventLog.from_records(rows[:2], names=names)
    with pytest.warns(ss.DroppedEventsWarning, match=r"dropped 1 of 3"):
        dropped = ss.EventLog.from_records(rows, names=names, on_invalid="drop")
    assert dropped == kept
    assert dropped.event_attributes["x"].tolist() == [1, "a"]


def test_drop_checks_the_order_column_as_without_a_drop() -> None:
    # np.asarray turned a mixed order list into text, which then sorted as text.
    kw: dict[str, Any] = {
        "case": ["d1", "d1", None],
        "activity": ["a", "b", "c"],
        "time": ["2024-01-01"] * 3,
        "order": [10, "a", 2],
    }
    with (
        pytest.warns(ss.DroppedEventsWarning),
        pytest.raises(ss.InvalidLogError, match=r"order mixes value types \(int, str\)"),
    ):
        ss.EventLog.from_arrays(**kw, on_invalid="drop")


def test_drop_everything_raises() -> None:
    with pytest.raises(ss.InvalidLogError, match=r"every one of the 2 events.*nothing is left"):
        ss.EventLog.from_records([("d1", "a", None), (None, "b", "2024-01-01")], on_invalid="drop")


def test_drop_without_bad_rows_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = ss.EventLog.from_records(RECORDS, on_invalid="drop")
    assert log.n_events == 6


@pytest.mark.parametrize("constructor", ["from_records", "from_arrays", "from_frame"])
def test_drop_warning_points_at_the_caller(constructor: str) -> None:
    """The warning's location is the line that called the constructor (this file)."""
    rows = [("d1", "a", "2024-01-01"), ("d1", "b", None)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if constructor == "from_records":
            ss.EventLog.from_records(rows, on_invalid="drop")
        elif constructor == "from_arrays":
            ss.EventLog.from_arrays(
                case=["d1", "d1"],
                activity=["a", "b"],
                time=np.array(["2024-01-01", None], dtype=object),
                on_invalid="drop",
            )
        else:
            df = pd.DataFrame(rows, columns=["case", "activity", "time"])
            ss.EventLog.from_frame(
                df, case="case", activity="activity", time="time", on_invalid="drop"
            )
    assert len(caught) == 1
    assert issubclass(caught[0].category, ss.DroppedEventsWarning)
    assert caught[0].filename == __file__


# ------------------------------------------------------------------------- immutability


def test_pandas_frame_not_mutated() -> None:
    df = pd.DataFrame(frame_dict())
    df["at"] = pd.to_datetime(df["at"]).dt.tz_localize("Europe/Amsterdam")
    before = df.copy(deep=True)
    log = _frame_log(df, tz="UTC")
    assert log.n_events == 6
    pd.testing.assert_frame_equal(df, before)
    assert df.columns.tolist() == ["deal", "stage", "at", "rep", "team"]


def test_polars_frame_not_mutated() -> None:
    df = pl.DataFrame(frame_dict())
    before = df.clone()
    _frame_log(df)
    assert df.equals(before)


def test_numpy_arrays_not_mutated() -> None:
    case = np.array([r[0] for r in RECORDS], dtype=object)
    activity = np.array([r[1] for r in RECORDS])
    time = np.array([r[2] for r in RECORDS], dtype="datetime64[ns]")
    order = np.arange(6)[::-1].copy()
    rep = np.array(REPS)
    copies = [a.copy() for a in (case, activity, time, order, rep)]
    log = ss.EventLog.from_arrays(
        case=case,
        activity=activity,
        time=time,
        order=order,
        attributes={"rep": rep},
        tz="Europe/Amsterdam",
    )
    assert log.n_events == 6
    for original, saved in zip((case, activity, time, order, rep), copies, strict=True):
        assert np.array_equal(original, saved)
        assert original.flags.writeable


def test_already_sorted_arrays_are_not_shared() -> None:
    """Sorted input skips the sort; the log must still not hold the caller's arrays."""
    case = np.array([1, 1, 2])
    activity = np.array(["a", "b", "a"])
    time = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]")
    rep = np.array([1.0, 2.0, 3.0])
    log = ss.EventLog.from_arrays(case=case, activity=activity, time=time, attributes={"rep": rep})
    rep[0] = 99.0
    time[0] = np.datetime64("2020-01-01")
    assert log.event_attributes["rep"].tolist() == [1.0, 2.0, 3.0]
    assert log.time[0] == np.datetime64("2024-01-01", "ns")
    assert not np.shares_memory(log.time, time)


def test_lists_and_records_not_mutated() -> None:
    rows = [list(r) for r in RECORDS]
    rows_copy = copy.deepcopy(rows)
    dict_rows = [{"case": r[0], "activity": r[1], "time": r[2]} for r in RECORDS]
    dict_copy = copy.deepcopy(dict_rows)
    ss.EventLog.from_records(rows)
    ss.EventLog.from_records(dict_rows, tz="Europe/Amsterdam")
    case = [r[0] for r in RECORDS]
    case_copy = list(case)
    ss.EventLog.from_arrays(
        case=case, activity=[r[1] for r in RECORDS], time=[r[2] for r in RECORDS]
    )
    assert rows == rows_copy
    assert dict_rows == dict_copy
    assert case == case_copy


def test_arrays_are_read_only(rich_log: ss.EventLog) -> None:
    arrays = [
        rich_log.case,
        rich_log.activity,
        rich_log.time,
        rich_log.case_names,
        rich_log.activity_names,
        rich_log.offsets,
        *rich_log.event_attributes.values(),
        *rich_log.case_attributes.values(),
    ]
    for arr in arrays:
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = arr[0]


def test_attribute_mappings_cannot_be_mutated(rich_log: ss.EventLog) -> None:
    before = make_rich_log()
    extra = np.zeros(6)
    for mapping in (rich_log.event_attributes, rich_log.case_attributes):
        with pytest.raises(TypeError):
            mapping["x"] = extra  # type: ignore[index]
        with pytest.raises(TypeError):
            del mapping[next(iter(mapping))]  # type: ignore[attr-defined]
        for method, args in (
            ("update", ({"x": extra},)),
            ("pop", ("rep",)),
            ("clear", ()),
            ("setdefault", ("x", extra)),
            ("popitem", ()),
        ):
            if hasattr(mapping, method):
                with pytest.raises(TypeError):
                    getattr(mapping, method)(*args)
    m: Any = rich_log.event_attributes
    with contextlib.suppress(TypeError):
        m |= {"x": extra}
    assert list(rich_log.event_attributes) == ["rep"]
    assert list(rich_log.case_attributes) == ["team"]
    assert rich_log == before


def test_log_is_frozen(log: ss.EventLog) -> None:
    import attrs  # noqa: PLC0415

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        log.case = np.zeros(6, dtype=np.int32)  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(log)


def test_log_pickles_and_copies(rich_log: ss.EventLog) -> None:
    """Logs go to worker processes (dask, multiprocessing): pickle and deepcopy must work."""
    restored = pickle.loads(pickle.dumps(rich_log))  # noqa: S301 - our own bytes
    assert restored == rich_log
    assert not restored.time.flags.writeable
    assert restored.event_attributes["rep"].tolist() == SORTED_REPS
    assert copy.deepcopy(rich_log) == rich_log
    assert copy.copy(rich_log) == rich_log


def test_equality(log: ss.EventLog) -> None:
    same = ss.EventLog.from_records(list(reversed(RECORDS)))
    assert same == log
    other = ss.EventLog.from_records(RECORDS[:-1])
    assert other != log


# ------------------------------------------------- issue 10: one boundary for time values

YEAR_3000 = "3000-01-01"
OUT_OF_RANGE = r"outside the range 1677-09-21 \.\. 2262-04-11"


@pytest.mark.parametrize("unit", ["s", "ms", "us", "D"])
@pytest.mark.parametrize("far", [YEAR_3000, "1500-01-01"])
def test_out_of_range_datetime64_in_any_unit_is_refused_not_wrapped(unit: str, far: str) -> None:
    # Before: datetime64[s] of 3000-01-01 was cast to ns and became 1830-11-23 (1500 -> 2084).
    time = np.array(["2024-01-01", far], dtype=f"datetime64[{unit}]")
    with pytest.raises(ss.InvalidLogError, match=rf"column 'time'.*{OUT_OF_RANGE}.*row 1: '{far}"):
        ss.EventLog.from_arrays(case=["d1", "d2"], activity=["a", "b"], time=time)


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_out_of_range_pandas_column_is_refused_naive_and_tz_aware(unit: str) -> None:
    raw = np.array(["2024-01-01", YEAR_3000], dtype=f"datetime64[{unit}]")
    for col in (pd.Series(raw), pd.Series(raw).dt.tz_localize("Europe/Amsterdam")):
        df = pd.DataFrame({"deal": ["d1", "d2"], "stage": ["a", "b"], "at": col})
        with pytest.raises(ss.InvalidLogError, match=rf"column 'at'.*{OUT_OF_RANGE}.*row 1"):
            ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")


def test_out_of_range_polars_and_arrow_columns_are_refused() -> None:
    raw = np.array(["1500-06-01", "2024-01-01"], dtype="datetime64[us]")
    frames = [
        pl.DataFrame({"deal": ["d1", "d2"], "stage": ["a", "b"], "at": raw}),
        pa.table({"deal": ["d1", "d2"], "stage": ["a", "b"], "at": pa.array(raw)}),
    ]
    for df in frames:
        with pytest.raises(ss.InvalidLogError, match=rf"{OUT_OF_RANGE}.*row 0: '1500-06-01"):
            ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")


def test_in_range_datetime64_seconds_keep_their_value() -> None:
    # The range check must not cost the values that do fit: the edges of 2262 and 1677.
    for edge in ("2262-04-10T12:00:00", "1677-09-22T00:00:00"):
        time = np.array([edge], dtype="datetime64[s]")
        log = ss.EventLog.from_arrays(case=["d1"], activity=["a"], time=time)
        assert str(log.time[0]) == f"{edge}.000000000"


def test_out_of_range_datetime64_in_records_is_refused() -> None:
    rows = [("d1", "a", np.datetime64("2024-01-01")), ("d1", "b", np.datetime64(YEAR_3000))]
    with pytest.raises(ss.InvalidLogError, match=rf"{OUT_OF_RANGE}.*record 1"):
        ss.EventLog.from_records(rows)


def test_out_of_range_time_is_dropped_and_counted_when_asked() -> None:
    time = np.array(["2024-01-01", YEAR_3000], dtype="datetime64[s]")
    with pytest.warns(ss.DroppedEventsWarning, match="dropped 1 of 2 events"):
        log = ss.EventLog.from_arrays(
            case=["d1", "d2"], activity=["a", "b"], time=time, on_invalid="drop"
        )
    assert log.cases == ("d1",)


def test_out_of_range_datetime_attribute_is_refused_naming_column_and_row() -> None:
    when = np.array(["2024-01-01", YEAR_3000], dtype="datetime64[s]")
    with pytest.raises(ss.InvalidLogError, match=rf"attribute column 'due' has {YEAR_3000}.*row 1"):
        ss.EventLog.from_arrays(
            case=["d1", "d2"],
            activity=["a", "b"],
            time=["2024-01-01", "2024-01-02"],
            attributes={"due": when},
        )
    log = ss.EventLog.from_arrays(
        case=["d1", "d2"],
        activity=["a", "b"],
        time=["2024-01-01", "2024-01-02"],
        attributes={"due": when[:1].repeat(2)},
    )
    assert str(log.event_attributes["due"][0]) == "2024-01-01T00:00:00.000000000"


def test_a_span_longer_than_int64_nanoseconds_is_refused() -> None:
    # 1700 .. 2200 fits datetime64[ns] but not as a duration (about 292 years).
    time = np.array(["1700-01-01", "2200-01-01"], dtype="datetime64[s]")
    with pytest.raises(ss.InvalidLogError, match=r"spans 1700-01-01.*2200-01-01.*292 years"):
        ss.EventLog.from_arrays(case=["d1", "d2"], activity=["a", "b"], time=time)
    ok = np.array(["1900-01-01", "2150-01-01"], dtype="datetime64[s]")
    assert ss.EventLog.from_arrays(case=["d1", "d2"], activity=["a", "b"], time=ok).n_events == 2


@pytest.mark.parametrize(
    "far", [np.datetime64(YEAR_3000), np.datetime64("1500-01-01", "s"), YEAR_3000]
)
def test_where_refuses_an_out_of_range_bound(far: object) -> None:
    # Before: where(start=np.datetime64("3000-01-01")) wrapped to 1830 and kept 2024 events.
    log = ss.EventLog.from_records(RECORDS)
    for param in ("start", "end"):
        with pytest.raises(ss.ParameterError, match=rf"{param}=.*{OUT_OF_RANGE}"):
            log.where(**{param: far})  # type: ignore[arg-type]


def test_as_utc_ns_refuses_out_of_range_for_as_of() -> None:
    with pytest.raises(ss.ParameterError, match=rf"as_of=.*{OUT_OF_RANGE}"):
        _time.as_utc_ns(np.datetime64(YEAR_3000), name="as_of")
    assert _time.as_utc_ns(np.datetime64("2024-01-01", "s"), name="as_of") == int(
        np.datetime64("2024-01-01", "ns").view(np.int64)
    )


@pytest.mark.parametrize("offset", ["+99:99", "+25:00", "-24:00", "+05:60", "+0575", "+24"])
def test_impossible_utc_offsets_are_refused(offset: str) -> None:
    rows = [("d1", "a", "2024-01-01T10:00:00+01:00"), ("d1", "b", f"2024-01-02T10:00:00{offset}")]
    with pytest.raises(ss.InvalidLogError, match=rf"UTC offset '\{offset}'.*impossible.*record 1"):
        ss.EventLog.from_records(rows)


def test_largest_possible_utc_offsets_are_kept() -> None:
    log = ss.EventLog.from_records(
        [("d1", "a", "2024-01-01T23:59:00+23:59"), ("d2", "a", "2024-01-01T00:00:00-23:59")]
    )
    assert [str(t) for t in log.time] == [
        "2024-01-01T00:00:00.000000000",
        "2024-01-01T23:59:00.000000000",
    ]


# ------------------------------------------------------------------ issue 10: ids taken exactly

BIG = 2**53


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_nullable_integer_ids_above_2_53_stay_apart(library: str) -> None:
    # Before: Int64 with a null became float64, and 2**53 + 1 merged into 2**53.
    ids = [BIG + 1, None, BIG]
    times = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[us]")
    data = {"deal": ids, "stage": ["a", "b", "c"], "at": times}
    df = (
        pd.DataFrame({**data, "deal": pd.array(ids, dtype="Int64")})
        if library == "pandas"
        else pl.DataFrame(data, schema_overrides={"deal": pl.Int64})
    )
    with pytest.warns(ss.DroppedEventsWarning, match="dropped 1 of 3"):
        log = ss.EventLog.from_frame(
            df, case="deal", activity="stage", time="at", on_invalid="drop"
        )
    assert log.cases == (BIG, BIG + 1)
    assert all(type(c) is int for c in log.cases)
    with pytest.raises(ss.InvalidLogError, match="column 'deal' has a missing value at row 1"):
        ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")


def test_nullable_integer_attribute_keeps_exact_ints() -> None:
    df = pd.DataFrame(
        {
            "deal": ["d1", "d2"],
            "stage": ["a", "b"],
            "at": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "amount": pd.array([BIG + 1, None], dtype="Int64"),
        }
    )
    log = ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")
    assert log.event_attributes["amount"].tolist() == [BIG + 1, None]


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        pytest.param(
            [uuid.UUID(int=5), uuid.UUID(int=3)], (uuid.UUID(int=3), uuid.UUID(int=5)), id="uuid"
        ),
        pytest.param(
            [Decimal("2.5"), Decimal("1.25")], (Decimal("1.25"), Decimal("2.5")), id="decimal"
        ),
        pytest.param([True, False], (False, True), id="bool"),
        pytest.param([np.str_("b"), np.str_("a")], ("a", "b"), id="np.str_"),
        pytest.param([np.int16(7), np.int8(-3)], (-3, 7), id="np.int16"),
        pytest.param([np.uint64(2**64 - 1), 2**63], (2**63, 2**64 - 1), id="uint64-objects"),
        pytest.param([2**70, -(2**70)], (-(2**70), 2**70), id="huge-python-ints"),
        pytest.param(
            [dt.date(2024, 1, 2), dt.date(2024, 1, 1)],
            (dt.date(2024, 1, 1), dt.date(2024, 1, 2)),
            id="date",
        ),
    ],
)
def test_ids_of_any_sortable_type_are_taken_exactly(
    ids: list[Any], expected: tuple[object, ...]
) -> None:
    # Before: all of these raised a bare StopIteration (or OverflowError for 2**63 and up).
    log = ss.EventLog.from_arrays(case=ids, activity=["a", "b"], time=["2024-01-02", "2024-01-01"])
    assert log.cases == expected
    assert [type(c) for c in log.cases] == [type(e) for e in expected]
    first = log.events(expected[0])
    assert [a for a, _ in first] == ["a" if ids[0] == expected[0] else "b"]


def test_uint64_ids_above_2_63_unsorted() -> None:
    # Before: OverflowError from the sort key when the events were not already sorted.
    top = 2**64 - 1
    ids = np.array([top, top - 2, top, top - 1], dtype=np.uint64)
    log = ss.EventLog.from_arrays(
        case=ids,
        activity=["b", "a", "a", "a"],
        time=["2024-01-02", "2024-01-01", "2024-01-01", "2024-01-01"],
    )
    assert log.cases == (top - 2, top - 1, top)
    assert log.case_lengths.tolist() == [1, 1, 2]
    assert [a for a, _ in log.events(top)] == ["a", "b"]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([1 + 2j, 3j], r"column 'case' holds values of type complex.*\.astype\(str\)"),
        ([[1], [2, 3]], r"column 'case'.*list.*\.astype\(str\)"),
        ([1, "a"], r"column 'case' mixes value types \(int, str\)"),
        ([BIG + 1, 1.5], r"column 'case' mixes integers and floats.*9007199254740993"),
        ([uuid.UUID(int=1), "a"], r"mixes value types \(UUID, str\)"),
    ],
)
def test_unusable_ids_are_refused_clearly(ids: list[Any], message: str) -> None:
    with pytest.raises(ss.InvalidLogError, match=message):
        ss.EventLog.from_arrays(case=ids, activity=["a", "b"], time=["2024-01-01", "2024-01-02"])


def test_mixed_small_ints_and_floats_still_work() -> None:
    log = ss.EventLog.from_arrays(case=[1, 1.5], activity=["a", "b"], time=["2024-01-01"] * 2)
    assert log.cases == (1.0, 1.5)


# ---------------------------------------------------- issue 10: frame labels


def test_duplicate_frame_labels_are_refused_by_name() -> None:
    df = pd.DataFrame([["d1", "a", "2024-01-01", 1, 2]], columns=["deal", "stage", "at", "x", "x"])
    with pytest.raises(ss.InvalidLogError, match="column 'x' appears more than once"):
        ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")
    table = pa.table([["d1"], ["a"], ["2024-01-01"], ["a"]], names=["deal", "stage", "at", "at"])
    with pytest.raises(ss.InvalidLogError, match="column 'at' appears more than once"):
        ss.EventLog.from_frame(table, case="deal", activity="stage", time="at")


def test_non_string_frame_labels_are_refused_by_name() -> None:
    df = pd.DataFrame([["d1", "a", "2024-01-01", 1]], columns=["deal", "stage", "at", 0])
    with pytest.raises(ss.InvalidLogError, match=r"column labels must be strings; 0 is a int"):
        ss.EventLog.from_frame(df, case="deal", activity="stage", time="at")


# ------------------------------------------------ issue 10: argument types at the boundary

_R = [("d1", "a", "2024-01-01")]
_DF = pd.DataFrame({"c": ["d1"], "a": ["x"], "t": ["2024-01-01"]})
_T = ["2024-01-01"]
FIVE: Any = 5  # a wrong type for every option below


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ss.EventLog.from_arrays(case=["d1"], activity=["a"], time=_T, tz=FIVE), "tz must"),
        (
            lambda: ss.EventLog.from_arrays(case=["d1"], activity=["a"], time=_T, attributes=FIVE),
            "attributes must map",
        ),
        (
            lambda: ss.EventLog.from_arrays(
                case=["d1"], activity=["a"], time=_T, attributes={FIVE: [1]}
            ),
            "attributes names must be strings",
        ),
        (lambda: ss.EventLog.from_records(FIVE), "records must be an iterable"),
        (lambda: ss.EventLog.from_records(_R, names=FIVE), "names must be a sequence"),
        (lambda: ss.EventLog.from_records([FIVE]), "record 0 is 5"),
        (lambda: ss.EventLog.from_records(_R, case_attributes=FIVE), "case_attributes must be"),
        (
            lambda: ss.EventLog.from_frame(_DF, case="c", activity="a", time="t", attributes=FIVE),
            "attributes must be a column name",
        ),
        (
            lambda: ss.EventLog.from_frame(_DF, case="c", activity="a", time="t", order=FIVE),
            "order must be a column name",
        ),
        (lambda: ss.EventLog.from_records(_R).where(cases=[[1]]), "cases must be a value"),
        (lambda: ss.EventLog.from_records(_R).where(activity=[[1]]), "activity must be a value"),
        (lambda: ss.EventLog.from_records(_R).where(attributes=FIVE), "attributes must map"),
    ],
)
def test_wrong_argument_types_raise_salesstd_errors(call: Any, message: str) -> None:
    # Before: AttributeError / TypeError from deep inside (tz.upper(), len(5), set([[1]])).
    with pytest.raises(ss.SalesStdError, match=message):
        call()


def test_building_a_sorted_log_leaves_the_callers_arrays_writeable() -> None:
    # A log already in (case, time) order is not permuted; its attribute arrays must still
    # be the log's own read-only copies, never the caller's arrays made read-only.
    note = np.array(["a", "b", "c"], dtype=object)
    score = np.array([1.0, 2.0, 3.0])
    log = ss.EventLog.from_arrays(
        case=["d1", "d1", "d2"],
        activity=["lead", "won", "lead"],
        time=np.array(["2024-01-01", "2024-01-02", "2024-01-01"], dtype="datetime64[s]"),
        attributes={"note": note, "score": score},
    )
    assert note.flags.writeable
    assert score.flags.writeable
    note[0] = "changed"
    score[0] = 9.0
    assert log.event_attributes["note"].tolist() == ["a", "b", "c"]
    assert log.event_attributes["score"].tolist() == [1.0, 2.0, 3.0]


# ------------------------------------------------------------------ issue 22


_NA_ROWS = [("d1", "a", "2024-01-01"), ("d1", "b", "2024-01-02"), ("d2", "a", "2024-01-03")]


@pytest.mark.parametrize(
    "build",
    [
        lambda col: ss.EventLog.from_records(
            [(*r, x) for r, x in zip(_NA_ROWS, col, strict=True)],
            names=("case", "activity", "time", "won"),
            case_attributes=["won"],
        ),
        lambda col: ss.EventLog.from_arrays(
            case=[r[0] for r in _NA_ROWS],
            activity=[r[1] for r in _NA_ROWS],
            time=[r[2] for r in _NA_ROWS],
            case_attributes={"won": np.array(col, dtype=object)},
        ),
        lambda col: ss.EventLog.from_frame(
            pd.DataFrame(
                {
                    "case": [r[0] for r in _NA_ROWS],
                    "activity": [r[1] for r in _NA_ROWS],
                    "time": [r[2] for r in _NA_ROWS],
                    "won": pd.array(col, dtype="boolean"),
                }
            ),
            case="case",
            activity="activity",
            time="time",
            case_attributes=["won"],
        ),
    ],
    ids=["records", "object-array", "pandas-boolean"],
)
def test_pd_na_in_a_case_attribute_is_missing(build: Any) -> None:
    log = build([pd.NA, pd.NA, True])
    won = log.case_attributes["won"]
    assert pd.isna(won[0])
    assert won[1] is True or won[1] == True  # noqa: E712
    with pytest.raises(ss.InvalidLogError, match=r"'won' is not constant within case 'd1'"):
        build([pd.NA, True, True])
    assert log == build([None, None, True])


def test_pd_na_compares_as_missing_in_log_equality() -> None:
    def make(value: object) -> ss.EventLog:
        return ss.EventLog.from_arrays(
            case=["d1"],
            activity=["a"],
            time=["2024-01-01"],
            attributes={"x": np.array([value], dtype=object)},
        )

    assert make(pd.NA) == make(None)
    assert make(pd.NA) != make(1)


@pytest.mark.parametrize(
    ("names", "match"),
    [
        ([1, "activity", "time"], r"field labels must be strings; 1 is a int\. Pass names="),
        (("case", "activity", "time", "time"), r"field 'time' appears more than once; rename"),
    ],
)
def test_from_records_checks_its_field_names(names: Any, match: str) -> None:
    rows = [tuple(["d1", "a", "2024-01-01", "2024-01-02"][: len(names)])]
    with pytest.raises(ss.ParameterError, match=match):
        ss.EventLog.from_records(rows, names=names)


def test_from_records_refuses_keys_that_are_not_strings() -> None:
    row: dict[Any, object] = {"case": "d1", "activity": "a", "time": "2024-01-01", 7: 1}
    with pytest.raises(ss.InvalidLogError, match=r"field labels must be strings; 7 is a int"):
        ss.EventLog.from_records([row])


LOW = "1677-09-21T00:12:43.145224193"
HIGH = "2262-04-11T23:47:16.854775807"
EDGE_VALUES: list[dt.datetime | str] = [
    dt.datetime(2262, 2, 1),  # noqa: DTZ001
    dt.datetime(1677, 12, 1),  # noqa: DTZ001
    dt.datetime(2262, 4, 11, 23, 47, 16, 854775),  # noqa: DTZ001
    dt.datetime(2262, 4, 11, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=-1))),
    "2262-02-01",
    "1677-12-01T10:00",
    "2262-04-11T22:00:00-01:00",
    "1677-09-21T01:00:00+00:45",
    LOW,
    HIGH,
    f"{HIGH}Z",
]


@pytest.mark.parametrize("value", EDGE_VALUES, ids=str)
def test_a_time_inside_the_nanosecond_range_is_taken_on_every_path(
    value: dt.datetime | str,
) -> None:
    expected = pd.Timestamp(value)
    want = (expected.tz_convert("UTC").tz_localize(None) if expected.tzinfo else expected).value
    builds: list[Callable[[], ss.EventLog]] = [
        lambda: ss.EventLog.from_records([("d1", "a", value)]),
        lambda: ss.EventLog.from_arrays(
            case=["d1"], activity=["a"], time=np.array([value], dtype=object)
        ),
        lambda: ss.EventLog.from_frame(
            pa.table({"case": ["d1"], "activity": ["a"], "time": [str(value)]}),
            case="case",
            activity="activity",
            time="time",
        ),
    ]
    for build in builds:
        assert int(build().time.view(np.int64)[0]) == want


@pytest.mark.parametrize(
    "value",
    [
        "1677-09-21T00:12:43.145224192",  # one nanosecond before the range
        "2262-04-11T23:47:16.854775808",  # one after
        "2262-05-01",
        "1677-01-01",
        "2262-04-11T23:00:00-01:00",  # inside as written, past it in UTC
        "1677-09-21T00:30:00+01:00",
        dt.datetime(2262, 4, 12),  # noqa: DTZ001
        dt.datetime(1677, 9, 21),  # noqa: DTZ001
    ],
    ids=str,
)
def test_a_time_just_outside_the_nanosecond_range_is_refused_not_wrapped(value: object) -> None:
    with pytest.raises(ss.InvalidLogError, match=OUT_OF_RANGE):
        ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", "b", value)])


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2262-04-12T01:47:16.854775807+02:00", HIGH),  # past the range as written, inside in UTC
        ("2262-04-12T00:30:00+01:00", "2262-04-11T23:30:00"),
        ("1677-09-20T23:12:43.145224193-01:00", LOW),
        ("1677-09-20T23:30:00-01:00", "1677-09-21T00:30:00"),
    ],
)
def test_an_edge_time_whose_utc_instant_is_inside_the_range_is_taken(value: str, utc: str) -> None:
    # The century shift of the edge years and the UTC offset were undone one after the
    # other, and the wall clock left the range in between: these were refused.
    want = int(np.datetime64(utc, "ns").view(np.int64))
    builds: list[Callable[[], ss.EventLog]] = [
        lambda: ss.EventLog.from_records([("d1", "a", value)]),
        lambda: ss.EventLog.from_frame(
            pd.DataFrame({"case": ["d1"], "activity": ["a"], "time": [value]}),
            case="case",
            activity="activity",
            time="time",
        ),
    ]
    for build in builds:
        assert int(build().time.view(np.int64)[0]) == want


def test_an_edge_time_localised_past_the_range_is_refused() -> None:
    # 2262-04-11T20:00 in New York is 2262-04-12T00:00 UTC: past the range, never wrapped.
    with pytest.raises(ss.InvalidLogError, match=OUT_OF_RANGE):
        ss.EventLog.from_records([("d1", "a", "2262-04-11T20:00:00")], tz="America/New_York")


ODD_ZONES = {
    # Zone: naive wall-clock times around a change that is not on a quarter hour.
    "Africa/Monrovia": ("1972-01-06T23:00", "1972-01-07T02:00"),  # -0:44:30 -> 0 at 00:44:30
    "Europe/Amsterdam": ("1937-06-30T23:00", "1937-07-01T02:00"),  # +1:19:32 -> +1:20
    "Australia/Lord_Howe": ("2024-10-06T01:00", "2024-10-06T03:00"),  # half-hour DST
    "Asia/Kathmandu": ("1985-12-31T23:00", "1986-01-01T01:00"),  # +5:30 -> +5:45
    "America/St_Johns": ("2023-11-05T00:00", "2023-11-05T02:00"),  # -2:30 -> -3:30
}


@pytest.mark.parametrize("zone", list(ODD_ZONES))
def test_naive_times_are_localised_as_zoneinfo_reads_each_one(zone: str) -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    start, stop = (np.datetime64(x, "s") for x in ODD_ZONES[zone])
    # Every 10 seconds across the change, and odd seconds and nanoseconds near it.
    walls = np.arange(start, stop, np.timedelta64(10, "s")).astype("datetime64[ns]")
    walls = np.concatenate([walls, walls[::7] + np.timedelta64(1_234_567_891, "ns")])
    log = ss.EventLog.from_arrays(
        case=np.arange(walls.size), activity=["a"] * walls.size, time=walls, tz=zone
    )
    got = log.time.view(np.int64)[np.argsort(log.case_names.astype(np.int64))]
    tz = ZoneInfo(zone)
    for wall, utc in zip(walls.tolist(), got.tolist(), strict=True):
        wall_dt = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=wall // 1000)  # noqa: DTZ001
        offset = wall_dt.replace(tzinfo=tz).utcoffset()
        assert offset is not None
        assert utc == wall - offset // dt.timedelta(microseconds=1) * 1000, (wall_dt, offset)


def test_monrovia_just_after_its_1972_change_is_utc() -> None:
    log = ss.EventLog.from_records([("d1", "a", "1972-01-07T00:44:40")], tz="Africa/Monrovia")
    assert str(log.time[0]) == "1972-01-07T00:44:40.000000000"
