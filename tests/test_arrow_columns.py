"""Columns that arrive as Arrow, categoricals or plain text all give the same log.

Issue 12: text is hash-coded (Arrow dictionary encoding, pandas.factorize) instead of sorted
as Python strings, coded columns (pandas and polars categoricals, Arrow dictionaries) are
used as codes, and times are parsed by Arrow where its ISO 8601 reading equals salesstd's.
The reference in every test is a log built from plain Python rows.
"""

from __future__ import annotations

import math
import statistics
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesstd as ss
from salesstd._base import frames as frames_module
from salesstd._base.columns import (
    Coded,
    ColumnReader,
    case_time_order,
    group_order,
    same_value,
    same_values,
    sorted_coded,
)
from salesstd.log._arrow import code, parse_times

ROWS = [
    ("d2", "lead", "2024-03-01T09:00:00+01:00", "ann"),
    ("d1", "lead", "2024-03-01T08:00:00+01:00", "bob"),
    ("d1", "offer", "2024-03-04T10:30:00+01:00", "bob"),
    ("d2", "lost", "2024-03-05T12:00:00+01:00", "ann"),
    ("d1", "won", "2024-03-09T16:00:00+01:00", "bob"),
    ("d3", "lead", "2024-03-02T11:15:00+01:00", "ann"),
]
COLUMNS = ["deal", "stage", "at", "rep"]
KW: dict[str, Any] = {"case": "deal", "activity": "stage", "time": "at", "case_attributes": ["rep"]}


def _reference() -> ss.EventLog:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    return ss.EventLog.from_arrays(
        case=frame["deal"].tolist(),
        activity=frame["stage"].tolist(),
        time=frame["at"].tolist(),
        case_attributes={"rep": frame["rep"].tolist()},
    )


def _frames() -> dict[str, object]:
    base = pd.DataFrame(ROWS, columns=COLUMNS)
    text = ["deal", "stage", "rep"]
    arrow = pa.Table.from_pandas(base, preserve_index=False)
    coded = arrow
    for name in text:
        i = coded.schema.get_field_index(name)
        coded = coded.set_column(i, name, coded[name].dictionary_encode())
    return {
        "pandas object": base,
        "pandas category": base.astype(dict.fromkeys(text, "category")),
        "pandas category with unused categories": base.astype(
            {"stage": pd.CategoricalDtype(["call", "lead", "lost", "offer", "won", "zzz"])}
        ),
        "pandas category in its own order": base.astype(
            {"stage": pd.CategoricalDtype(["won", "lost", "offer", "lead"], ordered=True)}
        ),
        "pandas string[pyarrow]": base.astype(dict.fromkeys([*text, "at"], "string[pyarrow]")),
        "polars": pl.from_pandas(base),
        "polars categorical": pl.from_pandas(base).with_columns(
            pl.col("deal").cast(pl.Categorical), pl.col("stage").cast(pl.Categorical)
        ),
        "polars enum": pl.from_pandas(base).with_columns(
            pl.col("stage").cast(pl.Enum(["won", "lost", "offer", "lead"]))
        ),
        "arrow": arrow,
        "arrow dictionary": coded,
    }


@pytest.mark.parametrize("kind", list(_frames()))
def test_every_frame_kind_gives_the_log_of_the_plain_rows(kind: str) -> None:
    log = ss.EventLog.from_frame(_frames()[kind], **KW)
    assert log == _reference()
    assert log.activities == ("lead", "lost", "offer", "won")  # unused categories dropped
    assert log.case_names.tolist() == ["d1", "d2", "d3"]
    assert log.case_attributes["rep"].tolist() == ["bob", "ann", "ann"]
    assert all(type(x) is str for x in log.case_names)


def test_a_missing_id_in_a_categorical_is_named_by_row() -> None:
    frame = pd.DataFrame(ROWS, columns=COLUMNS).astype({"deal": "category"})
    frame.loc[3, "deal"] = None
    with pytest.raises(ss.InvalidLogError, match=r"column 'deal' has a missing value at row 3"):
        ss.EventLog.from_frame(frame, **KW)


def test_an_empty_string_id_is_missing_whatever_the_dtype() -> None:
    rows = [(d, "" if s == "offer" else s, t, r) for d, s, t, r in ROWS]
    for dtype in ("object", "category", "string[pyarrow]"):
        frame = pd.DataFrame(rows, columns=COLUMNS).astype({"stage": dtype})
        with pytest.raises(ss.InvalidLogError, match=r"'stage' has a missing value at row 2"):
            ss.EventLog.from_frame(frame, **KW)


def test_a_bad_time_in_text_is_quoted_as_written() -> None:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    frame.loc[4, "at"] = "2024-03-09T25:00:00+01:00"
    for kind in (frame, pa.Table.from_pandas(frame, preserve_index=False)):
        with pytest.raises(ss.InvalidLogError, match=r"row 4: '2024-03-09T25:00:00\+01:00'"):
            ss.EventLog.from_frame(kind, **KW)


def test_case_attribute_not_constant_is_refused_on_codes() -> None:
    frame = pd.DataFrame(ROWS, columns=COLUMNS).astype({"rep": "category"})
    frame.loc[2, "rep"] = "ann"
    with pytest.raises(ss.InvalidLogError, match="'rep' is not constant within case 'd1'"):
        ss.EventLog.from_frame(frame, **KW)


def _cells() -> list[Any]:
    array = np.array([1, 2])
    nan = float("nan")
    return [
        None, "", "a", "a", 1, 1.0, nan, nan, np.float64("nan"), pd.NA, pd.NaT,
        np.datetime64("NaT"), Decimal("sNaN"), Decimal(1), True, array, array, np.array([1, 2]),
    ]  # fmt: skip


def test_same_values_is_same_value_pair_by_pair() -> None:
    # The vectorised check (numpy's == in C, nulls only where it says different) answers
    # as the per-pair one for every pair of awkward cells: NA, NaN, NaT, "", arrays.
    cells = _cells()
    for shift in range(len(cells)):
        a = np.empty(len(cells), dtype=object)
        b = np.empty(len(cells), dtype=object)
        a[:] = cells
        b[:] = cells[shift:] + cells[:shift]
        expected = [same_value(x, y) for x, y in zip(a, b, strict=True)]
        assert same_values(a, b).tolist() == expected
    assert same_value(None, "")
    assert same_value(pd.NA, float("nan"))
    assert not same_value(pd.NA, "a")
    assert not same_value(np.array([1, 2]), np.array([1, 2]))  # no truth value: not the same
    for x in cells:
        assert same_value(x, x)
    typed = np.array(["a", "b", None, ""], dtype=object)
    assert same_values(typed, typed[[0, 1, 3, 2]]).tolist() == [True, True, True, True]


def test_column_names_are_checked_without_reading_a_column() -> None:
    # from_columns checks each option's column with `in` on the reader's keys: that must
    # be a lookup of the name (by hash), not a read of the column.
    read: list[str] = []

    def reading(name: str) -> list[str]:
        read.append(name)
        return ["d1"]

    columns = ColumnReader(["deal", "stage", "at"], reading)
    assert "stage" in columns
    assert "stage" in columns.keys()  # noqa: SIM118 - the view from_columns checks
    assert "nope" not in columns
    assert read == []


def test_code_sorts_distinct_values_and_keeps_nulls_missing() -> None:
    coded = code(pa.chunked_array([["b", None, "a"], ["c", "a", "b"]]))
    assert coded.uniques.tolist() == ["a", "b", "c"]
    assert coded.codes.tolist() == [1, -1, 0, 2, 0, 1]
    assert coded.values().tolist() == ["b", None, "a", "c", "a", "b"]


def test_code_merges_chunks_whose_dictionaries_differ() -> None:
    left = pa.array(["x", "y"]).dictionary_encode()
    right = pa.array(["z", "x"]).dictionary_encode()
    coded = code(pa.chunked_array([left, right]))
    assert coded.values().tolist() == ["x", "y", "z", "x"]
    assert coded.uniques.tolist() == ["x", "y", "z"]


def test_sorted_coded_drops_unused_values() -> None:
    coded = sorted_coded(np.array(["q", "p", "unused"], dtype=object), np.array([0, 1, -1, 0]))
    assert isinstance(coded, Coded)
    assert coded.uniques.tolist() == ["p", "q"]
    assert coded.codes.tolist() == [1, 0, -1, 1]


@pytest.mark.parametrize(
    ("values", "tz", "expected"),
    [
        (["2024-01-05T10:00:00+02:00", "2024-01-05T10:00:00Z"], None, ["08:00", "10:00"]),
        (["2024-01-05T10:00:00", "2024-01-05 11:30"], None, ["10:00", "11:30"]),
        (["2024-07-01T10:00:00", "2024-01-05T10:00:00"], "Europe/Berlin", ["08:00", "09:00"]),
        # mixed offsets and naive: not one Arrow cast, salesstd's own parser
        (["2024-01-05T10:00:00+01:00", "2024-01-05T10:00:00"], None, ["09:00", "10:00"]),
    ],
)
def test_parse_times_follows_salesstd_semantics(
    values: list[str], tz: str | None, expected: list[str]
) -> None:
    parsed = parse_times(pa.array(values), tz=tz)
    got = [str(x)[11:16] for x in parsed.ns.view("datetime64[ns]")]
    assert got == expected


def test_parse_times_marks_what_it_cannot_read_as_missing() -> None:
    parsed = parse_times(pa.array(["2024-01-05T10:00:00Z", "3000-01-01T00:00:00Z", None]), tz=None)
    assert parsed.ns[0] != np.iinfo(np.int64).min
    assert parsed.ns[1:].tolist() == [np.iinfo(np.int64).min] * 2
    assert parsed[1] == "3000-01-01T00:00:00Z"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 2**20), min_size=1, max_size=300),
    st.lists(st.integers(-(10**12), 10**12), min_size=300, max_size=300),
    st.integers(0, 2**31),
)
def test_case_time_order_equals_lexsort(cases: list[int], times: list[int], shift: int) -> None:
    key = np.asarray(cases, dtype=np.int64) + shift
    ns = np.asarray(times[: key.size], dtype=np.int64)
    expected = np.lexsort((ns, key))
    assert case_time_order(key, ns, None).tolist() == expected.tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]),
    st.data(),
)
def test_case_time_order_equals_lexsort_for_every_integer_dtype(
    dtype: str, data: st.DataObject
) -> None:
    # Keys over the dtype's whole range (its extremes included) go through the counting
    # sort, the radix sort or lexsort by their span; each must equal lexsort.
    info = np.iinfo(dtype)
    values = st.integers(int(info.min), int(info.max))
    keys = data.draw(st.lists(values, min_size=1, max_size=200))
    times = data.draw(st.lists(st.integers(0, 5), min_size=len(keys), max_size=len(keys)))
    key = np.asarray(keys, dtype=dtype)
    ns = np.asarray(times, dtype=np.int64)
    assert case_time_order(key, ns, None).tolist() == np.lexsort((ns, key)).tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=300), st.integers(41, 100))
def test_group_order_is_a_stable_argsort(keys: list[int], n_groups: int) -> None:
    key = np.asarray(keys, dtype=np.int64)
    assert group_order(key, n_groups).tolist() == np.argsort(key, kind="stable").tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from("abcd"), st.integers(0, 10**6)),
        min_size=2,
        max_size=200,
    )
)
def test_transition_medians_equal_numpy_medians(rows: list[tuple[int, str, int]]) -> None:
    log = ss.EventLog.from_arrays(
        case=[f"c{c}" for c, _, _ in rows],
        activity=[a for _, a, _ in rows],
        time=np.asarray([t for _, _, t in rows], dtype="datetime64[s]"),
    )
    result = ss.transitions(log)
    moves = _moves_ns(log)
    for src, tgt, median, low, high in zip(
        result.source, result.target, result.median, result.min, result.max, strict=True
    ):
        durations = moves[src, tgt] / 1e9
        assert median == pytest.approx(float(np.median(durations)), abs=1e-9)
        assert (low, high) == (durations.min(), durations.max())


def _moves_ns(log: ss.EventLog) -> dict[tuple[str, str], np.ndarray]:
    """Each directly-follows pair's durations in nanoseconds, found the plain way."""
    t = log.time.view(np.int64)
    same = np.flatnonzero(log.case[1:] == log.case[:-1])
    names = log.activity_names
    src, tgt = names[log.activity[same]], names[log.activity[same + 1]]
    return {
        (a, b): t[hit + 1] - t[hit]
        for a, b in set(zip(src.tolist(), tgt.tolist(), strict=True))
        for hit in [same[(src == a) & (tgt == b)]]
    }


@pytest.mark.parametrize(
    ("unit", "gap"),
    [("s", 1), ("ms", 1), ("s", 2**31 + 5), ("ns", 7)],
    ids=["whole-seconds", "milliseconds", "past-2**31-seconds", "nanoseconds"],
)
def test_transition_order_statistics_on_every_time_resolution(unit: str, gap: int) -> None:
    # Whole-second durations below 2**31 s take the exact integer path (partitioned
    # medians), the others sorted nanoseconds; both must give numpy's min, median and max.
    rng = np.random.default_rng(7)
    n = 400
    steps = rng.integers(0, 50, n) * (gap if gap < 2**31 else 1) + rng.integers(0, 3, n)
    if gap >= 2**31:
        steps[n // 2] += gap  # each case's move across the middle lasts over 68 years
    log = ss.EventLog.from_arrays(
        case=[f"c{i % 37}" for i in range(n)],
        activity=rng.choice(list("abc"), n).tolist(),
        time=np.cumsum(steps).astype(f"datetime64[{unit}]"),
    )
    result = ss.transitions(log)
    moves = _moves_ns(log)
    for src, tgt, median, low, high in zip(
        result.source, result.target, result.median, result.min, result.max, strict=True
    ):
        durations = moves[src, tgt] / 1e9
        assert median == float(np.median(durations))
        assert (low, high) == (durations.min(), durations.max())
    # Whole seconds take exact integer sums, the rest float sums: both agree with
    # Python's exact statistics to the last few bits.
    for i in range(result.source.size):
        exact = [Fraction(int(d), 10**9) for d in moves[result.source[i], result.target[i]]]
        assert result.total[i] == pytest.approx(float(sum(exact)), rel=1e-15)
        assert result.mean[i] == pytest.approx(float(statistics.mean(exact)), rel=1e-15)
        if len(exact) > 1:
            want = math.sqrt(float(statistics.variance(exact)))
            assert result.std[i] == pytest.approx(want, rel=1e-12)


def test_object_text_shared_by_address_codes_like_arrow_text() -> None:
    # Over 4096 rows whose equal strings are mostly one shared object, ids are coded by the
    # objects' addresses first; equal strings held by distinct objects, None and NaN must
    # still come out as with Arrow strings and plain lists.
    rng = np.random.default_rng(3)
    n = 12_000
    deals = [f"deal-{i:04d}" for i in range(900)]
    stages = ["lead", "offer", "won", "lost"]
    case = [deals[i] for i in rng.integers(0, 900, n)]
    for i in range(0, n, 97):
        case[i] = "".join(list(case[i]))  # an equal string in a new object
    stage = [stages[i] for i in rng.integers(0, 4, n)]
    note: list[object] = [["a", "b", None, float("nan")][i] for i in rng.integers(0, 4, n)]
    frame = pd.DataFrame(
        {
            "deal": np.array(case, dtype=object),
            "stage": np.array(stage, dtype=object),
            "at": np.datetime64("2024-01-01", "s") + np.arange(n).astype("timedelta64[s]"),
            "note": np.array(note, dtype=object),
        }
    )
    values = frame["deal"].to_numpy()
    assert frames_module._shares_objects(values, pd)
    assert len(set(map(id, values))) > 900  # the copies are distinct objects
    kw: dict[str, Any] = {"case": "deal", "activity": "stage", "time": "at"}
    got = ss.EventLog.from_frame(frame, **kw)
    arrow = ss.EventLog.from_frame(frame.astype({"deal": "string[pyarrow]"}), **kw)
    plain = ss.EventLog.from_arrays(
        case=case,
        activity=stage,
        time=frame["at"].to_numpy(),
        attributes={"note": np.array([x if isinstance(x, str) else None for x in note])},
    )
    assert got == plain
    assert arrow == plain
    assert got.case_names.tolist() == sorted(set(case))


def test_object_ids_of_mixed_types_are_refused_on_the_address_path() -> None:
    n = 6000
    ids: list[object] = [f"d{i % 50}" for i in range(n)]
    ids[4500] = 17
    frame = pd.DataFrame(
        {
            "deal": np.array(ids, dtype=object),
            "stage": ["lead"] * n,
            "at": np.datetime64("2024-01-01", "s") + np.arange(n).astype("timedelta64[s]"),
        }
    )
    with pytest.raises(ss.InvalidLogError, match="'deal'"):
        ss.EventLog.from_frame(frame, case="deal", activity="stage", time="at")


@pytest.mark.parametrize(
    "values",
    [
        pa.array(["2024-03-01T09:00:00+01:00", "2024-03-02T00:00:00Z"]),
        pa.array([1_709_280_000_000_000, 1_709_337_600_000_000], type=pa.timestamp("us", "UTC")),
    ],
)
def test_parsed_times_let_the_arrow_column_go_when_every_value_parsed(values: Any) -> None:
    # Before: `raw` held the Arrow column (text or timestamps) until the log was built.
    got = parse_times(values, tz=None)
    assert not isinstance(got.raw, (pa.Array, pa.ChunkedArray))
    assert np.shares_memory(got.raw, got.ns)  # a view of the times: no memory of its own
    assert got[1] == np.datetime64("2024-03-02T00:00:00", "ns")


def test_parsed_times_keep_the_input_to_quote_a_value_that_did_not_parse() -> None:
    values = pa.array([1_709_280_000, None, 32_503_680_000], type=pa.timestamp("s", "UTC"))
    got = parse_times(values, tz=None)
    assert got.ns[1] == got.ns[2] == np.iinfo(np.int64).min  # null, and the year 3000
    assert np.isnat(got[1])
    assert got[2] == np.datetime64("3000-01-01T00:00:00", "s")


@pytest.mark.parametrize("unit", ["D", "h", "m", "s", "ms", "us", "10s", "2D"])
def test_datetime64_to_ns_is_exact_in_every_unit(unit: str) -> None:
    from salesstd._base import timestamps as _time  # noqa: PLC0415 - private helper under test

    raw = np.array([-5_000, 0, 1, 7, 19_000], dtype=np.int64)
    stamps = raw.view(f"datetime64[{unit}]")
    want = [int(x) for x in stamps.astype("datetime64[ns]").view(np.int64)]
    assert _time.datetime64_to_ns(stamps).tolist() == want
    # One value outside what ns holds: only that one is NaT, the rest exactly as before.
    far = np.append(raw, 10**17).view(f"datetime64[{unit}]")
    got = _time.datetime64_to_ns(far)
    assert got[:-1].tolist() == want
    assert got[-1] == _time.NAT


@pytest.mark.parametrize("n", [10, 6000], ids=["small", "coded-by-address"])
def test_unhashable_ids_in_an_object_column_are_named_not_a_type_error(n: int) -> None:
    # pandas.factorize raises TypeError on lists; the reader must say which column and why.
    frame = pd.DataFrame(
        {
            "deal": [["d", i % 7] for i in range(n)],
            "stage": ["lead"] * n,
            "at": np.datetime64("2024-01-01", "s") + np.arange(n).astype("timedelta64[s]"),
            "tags": [["x"]] * n,
        }
    )
    with pytest.raises(ss.InvalidLogError, match=r"column 'deal' holds values of type list"):
        ss.EventLog.from_frame(frame, case="deal", activity="stage", time="at")
    # As an attribute, a list is a value like any other and is kept as it is.
    frame["deal"] = [f"d{i % 7}" for i in range(n)]
    log = ss.EventLog.from_frame(frame, case="deal", activity="stage", time="at")
    assert log.event_attributes["tags"][0] == ["x"]


# ------------------------------------------------------------------ issue 22: dictionaries

NON_TEXT: dict[str, list[Any]] = {
    "int": [1, None, 2],
    "float": [1.5, None, 2.5],
    "timestamp": [pd.Timestamp("2024-01-01"), None, pd.Timestamp("2024-01-02")],
    "bool": [True, None, False],
}


def _dictionary(values: list[Any], *, chunked: bool) -> Any:
    array = pa.array(values).dictionary_encode()
    if not chunked:
        return array
    # Two chunks with dictionaries of their own: the null sits in the second.
    return pa.chunked_array([array[:1], pa.array(values[1:]).dictionary_encode()])


def _with(column: str, values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "case": ["x", "y", "z"],
        "activity": ["a", "b", "c"],
        "time": ["2024-01-01", "2024-01-02", "2024-01-03"],
    }
    return {**base, column: values}


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize(
    ("column", "kind"),
    [(c, k) for c in ("case", "activity") for k in NON_TEXT] + [("time", "timestamp")],
)
def test_a_null_in_a_dictionary_of_non_text_values_is_missing(
    column: str, kind: str, *, chunked: bool
) -> None:
    table = pa.table(_with(column, _dictionary(NON_TEXT[kind], chunked=chunked)))
    kw: dict[str, Any] = {"case": "case", "activity": "activity", "time": "time"}
    with pytest.raises(
        ss.InvalidLogError, match=rf"column '{column}' has a missing value at row 1"
    ):
        ss.EventLog.from_frame(table, **kw)
    with pytest.warns(ss.DroppedEventsWarning, match="dropped 1 of 3 events"):
        log = ss.EventLog.from_frame(table, **kw, on_invalid="drop")
    assert log.n_events == 2
    plain = pa.table(_with(column, pa.array(NON_TEXT[kind])))
    with pytest.warns(ss.DroppedEventsWarning, match="dropped 1 of 3 events"):
        assert log == ss.EventLog.from_frame(plain, **kw, on_invalid="drop")


@pytest.mark.parametrize("kind", list(NON_TEXT))
def test_a_dictionary_attribute_of_non_text_values_equals_the_plain_column(kind: str) -> None:
    kw: dict[str, Any] = {"case": "case", "activity": "activity", "time": "time"}
    plain = ss.EventLog.from_frame(pa.table(_with("n", pa.array(NON_TEXT[kind]))), **kw)
    for chunked in (False, True):
        coded = pa.table(_with("n", _dictionary(NON_TEXT[kind], chunked=chunked)))
        log = ss.EventLog.from_frame(coded, **kw)
        assert log == plain
        assert ss.EventLog.from_frame(coded.to_pandas(), **kw) == plain  # pandas categorical
    got = plain.event_attributes["n"]
    assert ss.EventLog.from_frame(pa.table(_with("n", NON_TEXT[kind])), **kw) == plain
    assert pd.isna(got[1])
    assert not pd.isna(got[2])


def test_an_int_dictionary_null_activity_is_not_read_as_a_value() -> None:
    table = pa.table(_with("activity", pa.array([1, None, 2]).dictionary_encode()))
    with pytest.warns(ss.DroppedEventsWarning, match="dropped 1 of 3"):
        log = ss.EventLog.from_frame(
            table, case="case", activity="activity", time="time", on_invalid="drop"
        )
    assert list(log.activity_names) == [1, 2]
    assert log.cases == ("x", "z")


@pytest.mark.parametrize("value_type", [pa.int64(), pa.string()])
def test_pandas_arrow_dictionary_columns_are_read(value_type: Any) -> None:
    values = [1, None, 2] if value_type == pa.int64() else ["1", None, "2"]
    dtype = pd.ArrowDtype(pa.dictionary(pa.int32(), value_type))
    frame = pd.DataFrame(_with("n", pd.Series(pa.array(values).dictionary_encode(), dtype=dtype)))
    log = ss.EventLog.from_frame(frame, case="case", activity="activity", time="time")
    expected = ss.EventLog.from_frame(
        pa.table(_with("n", pa.array(values))), case="case", activity="activity", time="time"
    )
    assert log == expected


def test_a_float_dictionary_nan_id_is_missing_in_parquet(tmp_path: Any) -> None:
    import pyarrow.parquet as pq  # noqa: PLC0415

    path = tmp_path / "d.parquet"
    pq.write_table(
        pa.table(_with("case", pa.array([1.0, float("nan"), 2.0]).dictionary_encode())), path
    )
    with pytest.raises(ss.InvalidLogError, match="column 'case' has a missing value at row 1"):
        ss.read_parquet(path, case="case", activity="activity", time="time")


@pytest.mark.parametrize("coded", [False, True])
def test_a_numeric_time_column_is_refused_alike_on_every_path(
    tmp_path: Any, *, coded: bool
) -> None:
    import pyarrow.parquet as pq  # noqa: PLC0415

    time = pa.array([1.5, 2.5, 3.5])
    table = pa.table(_with("time", time.dictionary_encode() if coded else time))
    pq.write_table(table, tmp_path / "t.parquet")
    kw: dict[str, Any] = {"case": "case", "activity": "activity", "time": "time"}
    message = r"column 'time': timestamps are numbers \(float64\), e\.g\. 1\.5 at row 0"
    builds: list[Any] = [
        lambda: ss.EventLog.from_frame(table, **kw),
        lambda: ss.EventLog.from_frame(table.to_pandas(), **kw),
        lambda: ss.read_parquet(tmp_path / "t.parquet", **kw),
    ]
    for build in builds:
        with pytest.raises(ss.InvalidLogError, match=message):
            build()


def _view_dictionary(values: list[Any], kind: Any) -> Any:
    """Two chunks of an Arrow dictionary of view values (string_view or binary_view)."""
    half = len(values) // 2
    parts = (values[:half], values[half:])
    return pa.chunked_array([pa.array(part, type=kind).dictionary_encode() for part in parts])


@pytest.mark.parametrize("column", ["case", "activity", "time", "n"])
@pytest.mark.parametrize("binary", [False, True])
def test_a_dictionary_of_view_values_gives_the_log_of_its_large_form(
    column: str, *, binary: bool
) -> None:
    # Arrow has no sort, take or dictionary cast for view types: these raised
    # ArrowNotImplementedError from from_frame instead of reading the column.
    values: list[Any] = _with("n", ["p", None, "q"])[column]
    if binary:
        values = [None if v is None else v.encode() for v in values]
    view, large = (
        (pa.binary_view(), pa.large_binary()) if binary else (pa.string_view(), pa.large_string())
    )
    kw: dict[str, Any] = {"case": "case", "activity": "activity", "time": "time"}

    def build(values: Any) -> Any:
        try:
            return ss.EventLog.from_frame(pa.table(_with(column, values)), **kw)
        except ss.SalesStdError as err:  # binary times are refused, alike on both
            return type(err), str(err)

    assert build(_view_dictionary(values, view)) == build(pa.array(values, type=large))
