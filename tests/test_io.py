"""Tests of the readers `read_csv`, `read_parquet` and `read_xes`, on tiny files and real logs."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import salesstd as ss
from _data import data_file
from salesstd.io import _readers
from salesstd.io._readers import _ParquetGroups
from strategies import differences

CSV = """deal,stage,at,rep,amount,score,note,idx
d2,lead,2024-01-03T00:00:00+01:00,bob,100,1.5,x,0
d1,lead,2024-01-01T00:00:00Z,ann,200,,y,0
d1,won,2024-01-04T00:00:00Z,ann,300,2,z,1
d1,qualified,2024-01-04T00:00:00Z,ann,400,2.5,,2
"""


def ns(text: str) -> int:
    return int(np.datetime64(text, "ns").view(np.int64))


def write(tmp_path: Path, text: str, name: str = "deals.csv", *, compress: bool = False) -> Path:
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def read(path: Path, **kwargs: object) -> ss.EventLog:
    return ss.read_csv(path, case="deal", activity="stage", time="at", **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- read_csv


@pytest.mark.parametrize("compress", [False, True])
def test_read_csv_plain_and_gzip(tmp_path: Path, *, compress: bool) -> None:
    log = read(
        write(tmp_path, CSV, "deals.csv.gz" if compress else "deals.csv", compress=compress),
        order="idx",
    )
    assert log.cases == ("d1", "d2")
    # d1: lead 01-01, then won/qualified tie at 01-04 broken by idx (won 1, qualified 2)
    assert [a for a, _ in log.events("d1")] == ["lead", "won", "qualified"]
    assert log.time.view(np.int64).tolist() == [
        ns("2024-01-01"),
        ns("2024-01-04"),
        ns("2024-01-04"),
        ns("2024-01-02T23:00:00"),
    ]
    assert list(log.event_attributes) == ["rep", "amount", "score", "note"]


def test_read_csv_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    log = read(write(tmp_path, CSV, "deals.csv", compress=True))
    assert log.n_events == 4


def test_read_csv_equal_times_keep_file_order_without_order(tmp_path: Path) -> None:
    log = read(write(tmp_path, CSV))
    assert [a for a, _ in log.events("d1")] == ["lead", "won", "qualified"]


def test_read_csv_typed_attributes(tmp_path: Path) -> None:
    log = read(write(tmp_path, CSV), order="idx")
    attrs = log.event_attributes
    assert attrs["amount"].dtype == np.int64
    assert attrs["amount"].tolist() == [200, 300, 400, 100]
    assert attrs["score"].dtype == np.float64
    score = attrs["score"].tolist()
    assert np.isnan(score[0])
    assert score[1:] == [2.0, 2.5, 1.5]
    assert attrs["rep"].tolist() == ["ann", "ann", "ann", "bob"]
    assert attrs["note"].tolist() == ["y", "z", "", "x"]
    assert all(isinstance(x, str) for x in attrs["note"].tolist())


def test_read_csv_ids_stay_text(tmp_path: Path) -> None:
    text = "deal,stage,at\n007,1,2024-01-01\n7,2,2024-01-02\n"
    log = read(write(tmp_path, text))
    assert log.cases == ("007", "7")  # two deals, leading zero kept
    assert log.activities == ("1", "2")


def test_read_csv_case_attribute(tmp_path: Path) -> None:
    text = "deal,stage,at,team\nd1,a,2024-01-01,n\nd1,b,2024-01-02,n\nd2,a,2024-01-03,s\n"
    log = read(write(tmp_path, text), case_attributes=["team"])
    assert log.case_attributes["team"].tolist() == ["n", "s"]
    assert "team" not in log.event_attributes


def test_read_csv_tz_for_naive_times(tmp_path: Path) -> None:
    text = "deal,stage,at\nd1,a,2011-10-29T20:00:00\nd1,b,2011-10-30T20:00:00\n"
    log = read(write(tmp_path, text), tz="Europe/Amsterdam")
    t = log.time.view(np.int64)
    assert t.tolist() == [ns("2011-10-29T18:00:00"), ns("2011-10-30T19:00:00")]
    assert (t[1] - t[0]) // 10**9 == 25 * 3600


def test_read_csv_semicolon_delimiter(tmp_path: Path) -> None:
    log = read(write(tmp_path, CSV.replace(",", ";")), delimiter=";")
    assert log.n_events == 4


def test_read_csv_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.replace("\n", "\r\n").encode())
    log = read(path)
    assert log.n_events == 4
    assert "deal" not in log.event_attributes


def test_read_csv_error_names_line(tmp_path: Path) -> None:
    text = "deal,stage,at\nd1,a,2024-01-01\nd1,b,2024-13-45\n"
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'at' has a value that is not a time at line 3: '2024-13-45'.*"
        r"on_invalid='drop'",
    ):
        read(write(tmp_path, text))


def test_read_csv_missing_id_names_line(tmp_path: Path) -> None:
    text = "deal,stage,at\nd1,a,2024-01-01\nd1,b,2024-01-02\n,c,2024-01-03\n"
    with pytest.raises(
        ss.InvalidLogError, match=r"column 'deal' has a missing value at line 4: ''"
    ):
        read(write(tmp_path, text))


def test_read_csv_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    """The line in a message is the file's line, so an editor can jump to it."""
    text = "deal,stage,at\nd1,a,2024-01-01\n\nd1,b,bad\n"  # 'bad' is on line 4
    with pytest.raises(ss.InvalidLogError, match=r"not a time at line 4: 'bad'"):
        read(write(tmp_path, text))


def test_read_csv_drop(tmp_path: Path) -> None:
    text = "deal,stage,at\nd1,a,2024-01-01\nd1,b,bad\n,c,2024-01-03\n"
    with pytest.warns(ss.DroppedEventsWarning, match=r"dropped 2 of 3 events"):
        log = read(write(tmp_path, text), on_invalid="drop")
    assert log.n_events == 1


def test_read_csv_missing_column(tmp_path: Path) -> None:
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'time' not found; the file 'deals.csv' has deal, stage, at, .*Pass time=",
    ):
        ss.read_csv(write(tmp_path, CSV), case="deal", activity="stage", time="time")
    with pytest.raises(ss.InvalidLogError, match=r"column 'stag' not found.*Pass activity='stage'"):
        ss.read_csv(write(tmp_path, CSV), case="deal", activity="stag", time="at")


def test_read_csv_wrong_delimiter_suggests_delimiter(tmp_path: Path) -> None:
    """A ';' file read with ',' has one column; the fix to suggest is delimiter=';'."""
    path = write(tmp_path, CSV.replace(",", ";"))
    with pytest.raises(ss.InvalidLogError, match=r"delimiter"):
        read(path)


def test_read_csv_ragged_rows_suggest_delimiter(tmp_path: Path) -> None:
    text = "deal,stage,at\nd1,a,2024-01-01\nd1;b;2024-01-02\n"
    with pytest.raises(
        ss.InvalidLogError,
        match=r"file '.*deals.csv' line 3 has 1 fields but the header has 3; "
        r"check the delimiter \(delimiter=','\)",
    ):
        read(write(tmp_path, text))


def test_read_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes("deal,stage,at\nd1,caf\u00e9,2024-01-01\n".encode("latin-1"))
    with pytest.raises(
        ss.InvalidLogError,
        match=r"is not valid UTF-8 text: byte b'\\xe9' on line 2\. Pass encoding=.*latin-1",
    ):
        read(path)
    log = read(path, encoding="latin-1")
    assert log.activities == ("caf\u00e9",)


def test_read_csv_unknown_encoding(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"encoding 'utf-99' is not known"):
        read(write(tmp_path, CSV), encoding="utf-99")


def test_read_csv_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode() * 50)[:-30])
    with pytest.raises(ss.InvalidLogError, match=r"is a truncated or corrupt gzip file.*again"):
        read(path)


def test_read_csv_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"file '.*deals.csv' is empty; a header row"):
        read(write(tmp_path, ""))


def test_read_csv_header_only(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"has a header but no events"):
        read(write(tmp_path, "deal,stage,at\n"))


def test_read_csv_duplicate_header(tmp_path: Path) -> None:
    text = "deal,stage,at,stage\nd1,a,2024-01-01,b\n"
    with pytest.raises(ss.InvalidLogError, match=r"has the column 'stage' twice; rename one"):
        read(write(tmp_path, text))


def test_read_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        ss.InvalidLogError, match=r"file '.*nope.csv' does not exist; check the path"
    ):
        read(tmp_path / "nope.csv")


def test_read_csv_directory(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"is a directory; pass the path of a file"):
        read(tmp_path)


# ------------------------------------------------------------------------- read_parquet


def _parquet(tmp_path: Path, table: pa.Table) -> Path:
    path = tmp_path / "deals.parquet"
    pq.write_table(table, path)
    return path


def test_read_parquet(tmp_path: Path) -> None:
    table = pa.table(
        {
            "deal": ["d2", "d1", "d1"],
            "stage": ["lead", "won", "lead"],
            "at": pa.array(
                [
                    dt.datetime(2024, 1, 3, 9, tzinfo=dt.timezone.utc),
                    dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
                    dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                ],
                type=pa.timestamp("us", tz="Europe/Amsterdam"),
            ),
            "amount": [1.5, 2.5, 3.5],
            "team": ["s", "n", "n"],
        }
    )
    log = ss.read_parquet(
        _parquet(tmp_path, table),
        case="deal",
        activity="stage",
        time="at",
        case_attributes=["team"],
    )
    assert log.cases == ("d1", "d2")
    assert [a for a, _ in log.events("d1")] == ["lead", "won"]
    assert log.time.view(np.int64).tolist() == [
        ns("2024-01-01"),
        ns("2024-01-02"),
        ns("2024-01-03T09:00:00"),
    ]
    assert log.event_attributes["amount"].tolist() == [3.5, 2.5, 1.5]
    assert log.case_attributes["team"].tolist() == ["n", "s"]


def test_read_parquet_string_times(tmp_path: Path) -> None:
    table = pa.table({"deal": ["d1"], "stage": ["a"], "at": ["2024-01-01T10:00:00+02:00"]})
    log = ss.read_parquet(_parquet(tmp_path, table), case="deal", activity="stage", time="at")
    assert log.time.view(np.int64).tolist() == [ns("2024-01-01T08:00:00")]


def test_read_parquet_a_column_in_two_roles_is_read_for_each(tmp_path: Path) -> None:
    # Columns are converted as they are read; one read both as the time and as the order
    # (or as the case and an attribute) must still reach each role in that role's form.
    table = pa.table(
        {
            "deal": ["d1", "d1", "d2"],
            "stage": ["won", "lead", "lead"],
            "at": ["2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z"],
        }
    )
    path = _parquet(tmp_path, table)
    log = ss.read_parquet(path, case="deal", activity="stage", time="at", order="at")
    assert [a for a, _ in log.events("d1")] == ["lead", "won"]
    assert log.time.view(np.int64).tolist() == [
        ns("2024-01-01"),
        ns("2024-01-02"),
        ns("2024-01-03"),
    ]
    log = ss.read_parquet(path, case="deal", activity="stage", time="at", attributes=["deal", "at"])
    assert log.event_attributes["deal"].tolist() == ["d1", "d1", "d2"]
    assert log.event_attributes["at"].tolist() == [
        "2024-01-01T00:00:00Z",
        "2024-01-02T00:00:00Z",
        "2024-01-03T00:00:00Z",
    ]


def test_read_parquet_aware_times_ignore_tz(tmp_path: Path) -> None:
    """`tz=` applies to naive times only; a tz-aware Parquet column must not move."""
    table = pa.table(
        {
            "deal": ["d1"],
            "stage": ["a"],
            "at": pa.array(
                [dt.datetime(2024, 1, 1, 8, tzinfo=dt.timezone.utc)],
                type=pa.timestamp("ns", tz="UTC"),
            ),
        }
    )
    log = ss.read_parquet(
        _parquet(tmp_path, table), case="deal", activity="stage", time="at", tz="Europe/Amsterdam"
    )
    assert log.time.view(np.int64).tolist() == [ns("2024-01-01T08:00:00")]


def test_read_parquet_missing_column(tmp_path: Path) -> None:
    table = pa.table({"deal": ["d1"], "stage": ["a"], "timestamp": ["2024-01-01"]})
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'at' not found; the file 'deals.parquet' has deal, stage, timestamp",
    ):
        ss.read_parquet(_parquet(tmp_path, table), case="deal", activity="stage", time="at")


def test_read_parquet_not_parquet(tmp_path: Path) -> None:
    path = write(tmp_path, CSV, "deals.parquet")
    with pytest.raises(
        ss.InvalidLogError, match=r"is not a readable Parquet file.*Use read_csv or read_xes"
    ):
        ss.read_parquet(path, case="deal", activity="stage", time="at")


def test_read_parquet_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"does not exist; check the path"):
        ss.read_parquet(tmp_path / "nope.parquet", case="deal", activity="stage", time="at")


# ------------------------------------------------------------------------- read_xes

XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace>
    <string key="concept:name" value="d2"/>
    <string key="team" value="south"/>
    <event>
      <string key="concept:name" value="lead"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2024-01-03T10:00:00.000+01:00"/>
      <int key="amount" value="5"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="d1"/>
    <string key="team" value="north"/>
    <event>
      <string key="concept:name" value="won"/>
      <string key="lifecycle:transition" value="start"/>
      <date key="time:timestamp" value="2024-01-04T00:00:00Z"/>
    </event>
    <event>
      <string key="concept:name" value="won"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2024-01-04T00:00:00Z"/>
    </event>
    <event>
      <string key="concept:name" value="lead"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2024-01-01T00:00:00.000+00:00"/>
      <int key="amount" value="7"/>
    </event>
  </trace>
</log>
"""


def test_read_xes(tmp_path: Path) -> None:
    log = ss.read_xes(write(tmp_path, XES, "log.xes"))
    assert log.cases == ("d1", "d2")
    # d1 sorted by time; the start/complete tie of 'won' keeps file order.
    assert [a for a, _ in log.events("d1")] == ["lead", "won", "won"]
    assert log.event_attributes["lifecycle:transition"].tolist() == [
        "complete",
        "start",
        "complete",
        "complete",
    ]
    assert log.event_attributes["amount"].tolist() == [7, None, None, 5]
    assert log.case_attributes["team"].tolist() == ["north", "south"]
    assert log.time.view(np.int64).tolist() == [
        ns("2024-01-01"),
        ns("2024-01-04"),
        ns("2024-01-04"),
        ns("2024-01-03T09:00:00"),
    ]


def test_read_xes_gzip_and_lifecycle_filter(tmp_path: Path) -> None:
    path = write(tmp_path, XES, "log.xes.gz", compress=True)
    complete = ss.read_xes(path, lifecycle="COMPLETE")
    assert complete.n_events == 3
    assert [a for a, _ in complete.events("d1")] == ["lead", "won"]
    starts = ss.read_xes(path, lifecycle="start")
    assert starts.cases == ("d1",)


def test_read_xes_lifecycle_matching_nothing(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"has no events with lifecycle 'schedule'"):
        ss.read_xes(write(tmp_path, XES, "log.xes"), lifecycle="schedule")


def test_read_xes_missing_timestamp_names_event(tmp_path: Path) -> None:
    text = XES.replace('<date key="time:timestamp" value="2024-01-04T00:00:00Z"/>', "", 1)
    with pytest.raises(
        ss.InvalidLogError,
        match=r"column 'time:timestamp' has a missing value at event 1: None.*on_invalid='drop'",
    ):
        ss.read_xes(write(tmp_path, text, "log.xes"))


def test_read_xes_missing_case_key(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"column 'case:id' not found.*Pass case="):
        ss.read_xes(write(tmp_path, XES, "log.xes"), case="case:id")


def test_read_xes_not_xml(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"is not well-formed XML"):
        ss.read_xes(write(tmp_path, "deal,stage,at\nd1,a,2024-01-01\n", "log.xes"))


def test_read_xes_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(XES.encode() * 3)[:-40])
    with pytest.raises(ss.InvalidLogError, match=r"truncated or corrupt gzip"):
        ss.read_xes(path)


def test_read_xes_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ss.InvalidLogError, match=r"does not exist"):
        ss.read_xes(tmp_path / "nope.xes")


# ------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def bpic_xes() -> ss.EventLog:
    return ss.read_xes(data_file("bpic2012", "BPI_Challenge_2012.xes.gz"))


@pytest.fixture(scope="module")
def bpic_csv() -> ss.EventLog:
    return ss.read_csv(
        data_file("bpic2012", "bpic2012_events.csv.gz"),
        case="case_id",
        activity="activity",
        time="timestamp",
        order="event_index",
    )


def _assert_same_transitions(a: ss.TransitionsResult, b: ss.TransitionsResult) -> None:
    assert a.source.tolist() == b.source.tolist()
    assert a.target.tolist() == b.target.tolist()
    assert a.count.tolist() == b.count.tolist()
    for name in ("mean", "median", "min", "max", "total", "std"):
        np.testing.assert_allclose(
            getattr(a, name), getattr(b, name), rtol=1e-9, atol=0, equal_nan=True, err_msg=name
        )
    assert a.start_activities == b.start_activities
    assert a.end_activities == b.end_activities
    assert dict(zip(a.variants, a.variant_counts.tolist(), strict=True)) == dict(
        zip(b.variants, b.variant_counts.tolist(), strict=True)
    )


@pytest.mark.slow
def test_bpic2012_xes_and_csv_agree(bpic_xes: ss.EventLog, bpic_csv: ss.EventLog) -> None:
    for log in (bpic_xes, bpic_csv):
        assert log.n_events == 262_200
        assert log.n_cases == 13_087
    assert bpic_xes.cases == bpic_csv.cases
    assert np.array_equal(bpic_xes.offsets, bpic_csv.offsets)
    assert np.array_equal(bpic_xes.time, bpic_csv.time)
    # Both files name the activity without its lifecycle ('W_Afhandelen leads' for the
    # SCHEDULE, START and COMPLETE events alike); the lifecycle is a separate field in each.
    assert bpic_xes.activities == bpic_csv.activities
    assert len(bpic_xes.activities) == 24
    assert not any(a.endswith(("SCHEDULE", "START", "COMPLETE")) for a in bpic_xes.activities)
    x_act = bpic_xes.activity_names[bpic_xes.activity]
    c_act = bpic_csv.activity_names[bpic_csv.activity]
    assert np.array_equal(x_act, c_act)
    x_life = bpic_xes.event_attributes["lifecycle:transition"].astype(str)
    c_life = bpic_csv.event_attributes["lifecycle"].astype(str)
    assert np.array_equal(np.char.upper(x_life), c_life)
    assert set(c_life.tolist()) == {"SCHEDULE", "START", "COMPLETE"}


@pytest.mark.slow
def test_bpic2012_transitions_agree(bpic_xes: ss.EventLog, bpic_csv: ss.EventLog) -> None:
    x, c = ss.transitions(bpic_xes), ss.transitions(bpic_csv)
    assert int(x.count.sum()) == 262_200 - 13_087
    _assert_same_transitions(x, c)
    # Activity+lifecycle names distinguish W_ SCHEDULE/START/COMPLETE: compare those too.
    names = []
    for log, key in ((bpic_xes, "lifecycle:transition"), (bpic_csv, "lifecycle")):
        life = np.char.upper(log.event_attributes[key].astype(str))
        act = log.activity_names[log.activity].astype(str)
        names.append(np.char.add(np.char.add(act, "+"), life))
    assert np.array_equal(names[0], names[1])
    split = [
        ss.EventLog.from_arrays(case=log.case_names[log.case], activity=full, time=log.time)
        for log, full in zip((bpic_xes, bpic_csv), names, strict=True)
    ]
    sx, sc = ss.transitions(split[0]), ss.transitions(split[1])
    _assert_same_transitions(sx, sc)
    assert sx.n_pairs > x.n_pairs


@pytest.mark.slow
def test_bpic2012_lifecycle_complete_matches_csv(bpic_csv: ss.EventLog) -> None:
    xes = ss.read_xes(data_file("bpic2012", "BPI_Challenge_2012.xes.gz"), lifecycle="complete")
    csv = bpic_csv.where(attributes={"lifecycle": "COMPLETE"})
    assert xes.n_events == csv.n_events
    assert xes.cases == csv.cases
    _assert_same_transitions(ss.transitions(xes), ss.transitions(csv))


@pytest.mark.slow
def test_bpic2012_equal_timestamp_triple_in_event_index_order(
    bpic_csv: ss.EventLog, tmp_path: Path
) -> None:
    """A_APPROVED, A_REGISTERED, A_ACTIVATED share a timestamp; event_index orders them.

    The rows of 300 cases are shuffled into a new file; read with order="event_index" they
    come back in file order, ties included.
    """
    source = data_file("bpic2012", "bpic2012_events.csv.gz")
    with gzip.open(source, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    case_col, act_col, idx_col = (header.index(k) for k in ("case_id", "activity", "event_index"))
    keep = set(bpic_csv.cases[:300])
    subset = [r for r in body if r[case_col] in keep]
    shuffled = list(subset)
    random.Random(2012).shuffle(shuffled)  # noqa: S311 - a fixed shuffle, not a secret
    path = tmp_path / "shuffled.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *shuffled])
    log = ss.read_csv(
        path, case="case_id", activity="activity", time="timestamp", order="event_index"
    )
    expected: dict[str, list[str]] = {}
    for r in sorted(subset, key=lambda r: (r[case_col], int(r[idx_col]))):
        expected.setdefault(r[case_col], []).append(r[act_col])
    assert log.n_cases == 300
    got = {str(c): [a for a, _ in log.events(c)] for c in log.cases}
    assert got == expected
    # 173688 has A_REGISTERED (21), A_APPROVED (22), O_ACCEPTED (23), A_ACTIVATED (24)
    # at 2011-10-13T10:37:29.226+02:00; the unshuffled log keeps that order too.
    full = [a for a, _ in bpic_csv.events("173688")]
    assert full.index("A_REGISTERED") < full.index("A_APPROVED") < full.index("A_ACTIVATED")
    assert full == expected["173688"]


def _utc_seconds(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["xes", "csv"])
def test_bpic2012_duration_across_dst_switch(
    source: str, bpic_xes: ss.EventLog, bpic_csv: ss.EventLog
) -> None:
    """Case 180721 waits from 2011-10-29 (+02:00) to 2011-10-31 (+01:00).

    Raw strings: W_Afhandelen leads SCHEDULE at 2011-10-29T20:02:19.067+02:00 and START at
    2011-10-31T10:15:59.478+01:00: in UTC 18:02:19.067 to 09:15:59.478 two days later,
    39 h 13 min 40.411 s = 141220.411 s (the wall clocks differ by one hour less).
    """
    log = bpic_xes if source == "xes" else bpic_csv
    case = log.where(cases=["180721"])
    assert case.n_events == 20
    t = case.time.view(np.int64)
    waited = (int(t[3]) - int(t[2])) / 1e9
    assert waited == pytest.approx(141_220.411, abs=1e-6)
    assert waited == pytest.approx(
        _utc_seconds("2011-10-31T10:15:59.478+01:00")
        - _utc_seconds("2011-10-29T20:02:19.067+02:00"),
        abs=1e-6,
    )
    span = (int(t[-1]) - int(t[0])) / 1e9
    # first event 2011-10-29T20:01:32.292+02:00, last 2011-11-07T11:18:12.506+01:00
    assert span == pytest.approx(8 * 86_400 + 16 * 3600 + 16 * 60 + 40.214, abs=1e-6)
    stats = ss.transitions(case).at("W_Afhandelen leads", "W_Afhandelen leads")
    # SCHEDULE->START 141220.411 s, START->COMPLETE 7.772 s, COMPLETE->START 3941.926 s
    assert stats.count == 3
    assert stats.max == pytest.approx(141_220.411, rel=1e-12)
    assert stats.min == pytest.approx(7.772, rel=1e-9)
    assert stats.median == pytest.approx(3941.926, rel=1e-9)
    assert stats.total == pytest.approx(141_220.411 + 7.772 + 3941.926, rel=1e-12)


@pytest.fixture(scope="module")
def receipt_xes() -> ss.EventLog:
    return ss.read_xes(data_file("receipt", "08_receipt.xes.gz"))


def test_receipt_csv_with_offsets_matches_xes(receipt_xes: ss.EventLog) -> None:
    csv = ss.read_csv(
        data_file("receipt", "receipt.csv"),
        case="case:concept:name",
        activity="concept:name",
        time="time:timestamp",
    )
    for log in (csv, receipt_xes):
        assert log.n_events == 8577
        assert log.n_cases == 1434
    assert csv.cases == receipt_xes.cases
    assert csv.activities == receipt_xes.activities
    assert np.array_equal(csv.offsets, receipt_xes.offsets)
    assert np.array_equal(csv.time, receipt_xes.time)
    assert np.array_equal(csv.activity, receipt_xes.activity)
    _assert_same_transitions(ss.transitions(csv), ss.transitions(receipt_xes))


def test_receipt_csv_and_xes_logs_have_no_field_differences_in_core(
    receipt_xes: ss.EventLog,
) -> None:
    csv = ss.read_csv(
        data_file("receipt", "receipt.csv"),
        case="case:concept:name",
        activity="concept:name",
        time="time:timestamp",
        attributes=[],
    )
    core = ss.EventLog.from_arrays(
        case=receipt_xes.case_names[receipt_xes.case],
        activity=receipt_xes.activity_names[receipt_xes.activity],
        time=receipt_xes.time,
    )
    assert differences(csv, core) == []


# ------------------------------------------------------- issue 10: nothing lost on the way in


def test_csv_integers_beyond_int64_stay_exact(tmp_path: Path) -> None:
    # Before: both became the float 9.223372036854776e18, equal to each other.
    text = (
        "deal,stage,at,big,sparse\n"
        "d1,a,2024-01-01,9223372036854775808,9007199254740993\n"
        "d1,b,2024-01-02,9223372036854775809,\n"
        "d2,a,2024-01-03,-99999999999999999999,9007199254740992\n"
    )
    log = read(write(tmp_path, text))
    assert log.event_attributes["big"].tolist() == [
        2**63,
        2**63 + 1,
        -99999999999999999999,
    ]
    assert log.event_attributes["sparse"].tolist() == [2**53 + 1, None, 2**53]
    assert all(type(x) is int for x in log.event_attributes["big"])


def test_csv_small_integers_with_blanks_are_still_floats(tmp_path: Path) -> None:
    log = read(write(tmp_path, "deal,stage,at,n\nd1,a,2024-01-01,3\nd1,b,2024-01-02,\n"))
    assert log.event_attributes["n"].dtype == np.float64


@pytest.mark.parametrize("delimiter", [";;", "", 5, None, '"', "\n"])
def test_read_csv_bad_delimiter_is_a_parameter_error(tmp_path: Path, delimiter: object) -> None:
    # Before: the csv module's TypeError ("delimiter" must be a 1-character string).
    with pytest.raises(ss.ParameterError, match=r"delimiter must be one character"):
        read(write(tmp_path, CSV), delimiter=delimiter)


def test_csv_impossible_offset_names_the_line(tmp_path: Path) -> None:
    text = "deal,stage,at\nd1,a,2024-01-01T00:00:00+01:00\nd1,b,2024-01-02T00:00:00+99:99\n"
    with pytest.raises(ss.InvalidLogError, match=r"UTC offset '\+99:99'.*impossible.*line 3"):
        read(write(tmp_path, text))


def test_parquet_timestamp_us_out_of_range_is_refused(tmp_path: Path) -> None:
    # Before: Arrow timestamp[us] of the year 3000 became 1830-11-23 without a word.
    times = pa.array(np.array(["2024-01-01", "3000-01-01"], dtype="datetime64[us]"))
    table = pa.table({"deal": ["d1", "d2"], "stage": ["a", "b"], "at": times})
    path = tmp_path / "deals.parquet"
    pq.write_table(table, path)
    with pytest.raises(
        ss.InvalidLogError, match=r"column 'at'.*outside the range.*row 1: '3000-01-01"
    ):
        ss.read_parquet(path, case="deal", activity="stage", time="at")


XES_TWO = """<log xes.version="1.0">
<trace><string key="concept:name" value="{a}"/>
  <event><string key="concept:name" value="lead"/>
         <date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event>
</trace>
{between}
<trace><string key="concept:name" value="{b}"/>
  <event><string key="concept:name" value="won"/>
         <date key="time:timestamp" value="2024-01-02T00:00:00Z"/></event>
</trace>
</log>"""

STRAY = """<event><string key="concept:name" value="stray"/>
  <date key="time:timestamp" value="2024-01-05T00:00:00Z"/></event>"""


def test_xes_traces_sharing_an_id_are_refused(tmp_path: Path) -> None:
    # Before: both traces merged silently into one case 'c1' with two events.
    path = write(tmp_path, XES_TWO.format(a="c1", b="c1", between=""), "log.xes")
    with pytest.raises(
        ss.InvalidLogError, match=r"traces 0 and 1 \(0-based\) both have concept:name='c1'"
    ):
        ss.read_xes(path)


def test_xes_event_outside_any_trace_is_refused_or_dropped_with_a_count(tmp_path: Path) -> None:
    # Before: the stray event vanished without a word.
    text = XES_TWO.format(a="c1", b="c2", between=STRAY + STRAY)
    path = write(tmp_path, text, "log.xes")
    with pytest.raises(ss.InvalidLogError, match=r"2 <event> elements outside any <trace>"):
        ss.read_xes(path)
    with pytest.warns(ss.DroppedEventsWarning, match=r"2 <event> elements outside any <trace>"):
        log = ss.read_xes(path, on_invalid="drop")
    assert log.cases == ("c1", "c2")
    assert log.n_events == 2


def test_xes_boolean_case_ids_are_taken_as_bools(tmp_path: Path) -> None:
    text = (
        XES_TWO.format(a="x", b="y", between="")
        .replace(
            '<string key="concept:name" value="x"/>', '<boolean key="concept:name" value="true"/>'
        )
        .replace(
            '<string key="concept:name" value="y"/>', '<boolean key="concept:name" value="false"/>'
        )
    )
    log = ss.read_xes(write(tmp_path, text, "log.xes"))
    assert log.cases == (False, True)
    assert [a for a, _ in log.events(True)]  # noqa: FBT003 == ["lead"]


@pytest.mark.parametrize("lifecycle", [5, 1.5, b"complete", {"a": 1}])
def test_read_xes_bad_lifecycle_is_a_parameter_error(tmp_path: Path, lifecycle: object) -> None:
    # Before: lifecycle=5 raised TypeError ('int' object is not iterable).
    path = write(tmp_path, XES_TWO.format(a="c1", b="c2", between=""), "log.xes")
    with pytest.raises(ss.ParameterError, match=r"lifecycle must be None, a string"):
        ss.read_xes(path, lifecycle=lifecycle)  # type: ignore[arg-type]


def test_parquet_decimal_ids_are_kept_and_list_ids_refused(tmp_path: Path) -> None:
    # Before: both raised a bare StopIteration.
    path = tmp_path / "deals.parquet"
    times = ["2024-01-02", "2024-01-01", "2024-01-03"]
    ids = pa.array([Decimal("2.50"), Decimal("1.25"), Decimal("2.50")])
    pq.write_table(pa.table({"deal": ids, "stage": ["a", "b", "c"], "at": times}), path)
    log = ss.read_parquet(path, case="deal", activity="stage", time="at")
    assert log.cases == (Decimal("1.25"), Decimal("2.50"))
    assert log.case_lengths.tolist() == [1, 2]
    lists = pa.array([[1, 2], [3], [1, 2]])
    pq.write_table(pa.table({"deal": lists, "stage": ["a", "b", "c"], "at": times}), path)
    with pytest.raises(ss.InvalidLogError, match=r"column 'deal' holds values of type ndarray"):
        ss.read_parquet(path, case="deal", activity="stage", time="at")


@pytest.mark.parametrize(
    "call",
    [
        lambda: ss.read_xes(5),  # type: ignore[arg-type]
        lambda: ss.read_csv(5, case="deal", activity="stage", time="at"),  # type: ignore[arg-type]
        lambda: ss.read_parquet(5, case="deal", activity="stage", time="at"),  # type: ignore[arg-type]
    ],
)
def test_readers_refuse_a_path_that_is_not_a_path(call: Any) -> None:
    with pytest.raises(ss.ParameterError, match=r"path must be a file path.*got int 5"):
        call()


class _BrokenPath:
    """An os.PathLike whose __fspath__ returns no path."""

    def __fspath__(self) -> Any:
        return 5


@pytest.mark.parametrize(
    "read",
    [
        ss.read_xes,
        lambda p: ss.read_csv(p, case="deal", activity="stage", time="at"),
        lambda p: ss.read_parquet(p, case="deal", activity="stage", time="at"),
    ],
)
def test_readers_refuse_a_path_like_that_gives_no_path(read: Any) -> None:
    # Before: os.fspath's TypeError escaped.
    with pytest.raises(ss.ParameterError, match=r"_BrokenPath.__fspath__\(\) gave no path"):
        read(_BrokenPath())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("suffix", ["csv", "parquet", "xes"])
def test_readers_refuse_a_named_pipe_instead_of_waiting_for_ever(
    tmp_path: Path, suffix: str
) -> None:
    # Before: read_csv hung (the second open of the pipe waits for a writer).
    pipe = tmp_path / f"log.{suffix}"
    os.mkfifo(pipe)
    kw: dict[str, Any] = {"case": "deal", "activity": "stage", "time": "at"}
    read = {"csv": ss.read_csv, "parquet": ss.read_parquet}.get(suffix)
    with pytest.raises(ss.InvalidLogError, match=r"is a pipe, not a file"):
        ss.read_xes(pipe) if read is None else read(pipe, **kw)


def test_readers_refuse_a_bad_tz_or_key_type(tmp_path: Path) -> None:
    xes = write(tmp_path, XES_TWO.format(a="c1", b="c2", between=""), "log.xes")
    with pytest.raises(ss.ParameterError, match="tz must be an IANA time zone name"):
        ss.read_xes(xes, tz=5)  # type: ignore[arg-type]
    with pytest.raises(ss.ParameterError, match="case must be an XES attribute key"):
        ss.read_xes(xes, case=5)  # type: ignore[arg-type]
    with pytest.raises(ss.ParameterError, match="tz must be an IANA time zone name"):
        read(write(tmp_path, CSV), tz=5)


def test_xes_with_an_unknown_declared_encoding_is_an_invalid_log(tmp_path: Path) -> None:
    # Found by tests/test_fuzz_input.py: a LookupError escaped from the XML parser.
    path = tmp_path / "odd.xes"
    path.write_text(
        '<?xml version="1.0" encoding="U0TF-8"?>\n<log><trace>'
        '<string key="concept:name" value="c1"/><event>'
        '<string key="concept:name" value="lead"/>'
        '<date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event></trace></log>',
        encoding="utf-8",
    )
    with pytest.raises(ss.InvalidLogError, match="declares an encoding Python does not know"):
        ss.read_xes(path)


# ------------------------------------------------------------------------- options at the edge


def _table_readers(tmp_path: Path) -> dict[str, Any]:
    """Every reader of a table by column names, over the same three events."""
    frame = pa.table(
        {
            "deal": ["d1", "d1", "d2"],
            "stage": ["lead", "won", "lead"],
            "at": pa.array(
                [dt.datetime(2024, 1, d, tzinfo=dt.timezone.utc) for d in (1, 2, 3)],
                type=pa.timestamp("us", tz="UTC"),
            ),
            "rep": ["ann", "ann", "bob"],
            "team": ["n", "n", "s"],
        }
    )
    csv_path = write(
        tmp_path,
        "deal,stage,at,rep,team\n"
        "d1,lead,2024-01-01T00:00:00Z,ann,n\n"
        "d1,won,2024-01-02T00:00:00Z,ann,n\n"
        "d2,lead,2024-01-03T00:00:00Z,bob,s\n",
    )
    parquet_path = _parquet(tmp_path, frame)
    records = [
        {"deal": d, "stage": s, "at": str(t), "rep": r, "team": m}
        for d, s, t, r, m in zip(*(frame.column(i).to_pylist() for i in range(5)), strict=True)
    ]
    return {
        "csv": lambda **kw: ss.read_csv(csv_path, **kw),
        "parquet": lambda **kw: ss.read_parquet(parquet_path, **kw),
        "frame": lambda **kw: ss.EventLog.from_frame(frame, **kw),
        "records": lambda **kw: ss.EventLog.from_records(
            records,
            **{k: v for k, v in kw.items() if k not in {"attributes", "order"}},
        ),
    }


READERS = ["csv", "parquet", "frame", "records"]
NAMES = {"case": "deal", "activity": "stage", "time": "at"}


OPTION_CHECKS = [
    ("case", ["deal"], r"case must be a column name \(str\); got \['deal'\]"),
    ("time", {"at": 1}, r"time must be a column name \(str\); got \{'at': 1\}"),
    ("order", {"x": 1}, r"order must be a column name \(str\) or None; got \{'x': 1\}"),
    ("case_attributes", 5, r"case_attributes must be a column name, a list .*got 5"),
    ("attributes", 5, r"attributes must be a column name, a list .*got 5"),
    ("case_attributes", [1], r"case_attributes must name columns as strings; got 1"),
    ("on_invalid", "skip", r"on_invalid must be 'raise' or 'drop'; got 'skip'"),
    ("tz", "Mars/Base", r"Mars/Base"),
]


@pytest.mark.parametrize(
    ("reader", "option", "value", "message"),
    [
        (reader, *check)
        for reader in READERS
        for check in OPTION_CHECKS
        # from_records has no `attributes` or `order` option (every field is an attribute)
        if not (reader == "records" and check[0] in {"attributes", "order"})
    ],
)
def test_every_reader_checks_its_options_before_using_them(
    tmp_path: Path, reader: str, option: str, value: object, message: str
) -> None:
    call = _table_readers(tmp_path)[reader]
    with pytest.raises(ss.ParameterError, match=message):
        call(**{**NAMES, option: value})


@pytest.mark.parametrize("reader", READERS)
def test_a_generator_of_names_is_read_once_on_every_path(tmp_path: Path, reader: str) -> None:
    call = _table_readers(tmp_path)[reader]
    options: dict[str, object] = {"case_attributes": (c for c in ["team"])}
    if reader != "records":
        options["attributes"] = (c for c in ["rep"])
    log = call(**NAMES, **options)
    assert list(log.event_attributes) == ["rep"]
    assert log.case_attributes["team"].tolist() == ["n", "s"]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("option", ["case", "activity"])
def test_case_or_activity_naming_the_time_column_is_refused_on_every_path(
    tmp_path: Path, reader: str, option: str
) -> None:
    call = _table_readers(tmp_path)[reader]
    with pytest.raises(
        ss.ParameterError, match=rf"{option}='at' is also the time column \(time='at'\)"
    ):
        call(**{**NAMES, option: "at"})


def test_read_xes_refuses_the_activity_naming_the_time_key(tmp_path: Path) -> None:
    path = write(tmp_path, XES, "log.xes")
    with pytest.raises(ss.ParameterError, match="activity='time:timestamp' is also the time"):
        ss.read_xes(path, activity="time:timestamp")


@pytest.mark.parametrize(
    "call",
    [
        lambda p: ss.read_csv(p, case="deal", activity="stage", time="at"),
        lambda p: ss.read_parquet(p, case="deal", activity="stage", time="at"),
        ss.read_xes,
    ],
)
def test_readers_refuse_a_path_with_a_nul(tmp_path: Path, call: Any) -> None:
    path = str(tmp_path / "a\x00.csv")
    with pytest.raises(ss.ParameterError, match=r"path '.*a\\x00\.csv' contains a NUL"):
        call(path)
    with pytest.raises(ss.ParameterError, match="contains a NUL"):
        call(Path(path))


# ------------------------------------------------------------------------- wide tables

WIDE = 20_000


def _wide_table() -> pa.Table:
    columns: dict[str, Any] = {
        "deal": ["d1", "d1", "d2"],
        "stage": ["lead", "won", "lead"],
        "at": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"],
    }
    numbers = pa.array([1, 2, 3])
    columns.update({f"x{i}": numbers for i in range(WIDE)})
    return pa.table(columns)


def test_a_wide_parquet_file_is_read_in_few_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each Parquet read costs time in the file's width: 20,000 columns read one by one took
    # seconds. A short table is read a group of columns at a time.
    path = _parquet(tmp_path, _wide_table())
    reads: list[int] = []
    original = pq.ParquetFile.read

    def counted(self: pq.ParquetFile, *args: Any, **kwargs: Any) -> pa.Table:
        reads.append(len(kwargs.get("columns") or args[0]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", counted)
    log = ss.read_parquet(path, case="deal", activity="stage", time="at")
    assert len(log.event_attributes) == WIDE
    assert log.event_attributes[f"x{WIDE - 1}"].tolist() == [1, 2, 3]
    assert len(reads) <= 3
    assert sum(reads) == WIDE + 3


def test_parquet_columns_are_each_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reads of x0 and x1 (asked for after the case, activity and time) fetched deal,
    # stage and at again as their neighbours, though those had been handed out already.
    columns: dict[str, Any] = {"x0": [1, 2, 3], "x1": [4, 5, 6]}
    columns.update(_wide_table().select(["deal", "stage", "at"]).to_pydict())
    columns.update({f"y{i}": [i, i, i] for i in range(6)})
    path = _parquet(tmp_path, pa.table(columns))
    reads: list[list[str]] = []
    original = pq.ParquetFile.read

    def counted(self: pq.ParquetFile, *args: Any, **kwargs: Any) -> pa.Table:
        reads.append(list(kwargs.get("columns") or args[0]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", counted)
    monkeypatch.setattr(_ParquetGroups, "CELLS", 15)
    log = ss.read_parquet(path, case="deal", activity="stage", time="at")
    assert log.event_attributes["x1"].tolist() == [4, 5, 6]
    assert log.event_attributes["y5"].tolist() == [5, 5, 5]
    read = [c for group in reads for c in group]
    assert sorted(read) == sorted(columns)


def test_a_wide_frame_is_read() -> None:
    # Column names were looked up in a list, once per column: quadratic in the width.
    table = _wide_table()
    log = ss.EventLog.from_frame(table, case="deal", activity="stage", time="at")
    assert len(log.event_attributes) == WIDE
    picked = ss.EventLog.from_frame(
        table, case="deal", activity="stage", time="at", attributes=[f"x{WIDE - 1}"]
    )
    assert list(picked.event_attributes) == [f"x{WIDE - 1}"]


# ------------------------------------------------------------------------- memory

SPARSE_XES_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
import salesstd as ss
try:
    log = ss.read_xes(sys.argv[1])
except ss.SalesStdError as err:
    print("error", err)
else:
    print("log", log.n_events, len(log.event_attributes))
"""


def _sparse_xes(path: Path, *, traces: int, events: int, keys: int) -> None:
    """Every event with `keys` attribute keys of its own: keys times events cells, mostly empty."""
    k = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<log>\n')
        for t in range(traces):
            out.write(f'<trace><string key="concept:name" value="c{t}"/>\n')
            for _ in range(events):
                out.write(
                    '<event><string key="concept:name" value="a"/>'
                    '<date key="time:timestamp" value="2024-01-01T00:00:00Z"/>'
                )
                for _ in range(keys):
                    out.write(f'<string key="k{k}" value="v{k}"/>')
                    k += 1
                out.write("</event>\n")
            out.write("</trace>\n")
        out.write("</log>\n")


def _child(script: str, path: Path, *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `script` on `path` in a fresh interpreter that imports this salesstd."""
    return subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS limits memory on Linux")
def test_xes_with_many_sparse_keys_is_read_under_a_1_gib_limit(tmp_path: Path) -> None:
    # 1,500 events each with 20 keys of its own: 30,000 keys. Padded to every event, the
    # keys took 1.2 GB and 25 s, and under a 1 GB limit the interpreter died (SIGSEGV).
    path = tmp_path / "sparse.xes"
    _sparse_xes(path, traces=150, events=10, keys=20)
    done = _child(SPARSE_XES_CHILD, path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("log 1500 30000"), done.stdout


def test_sparse_keys_keep_their_values_through_a_lifecycle_filter(tmp_path: Path) -> None:
    # A key first met late is stored sparsely; a dropped event's values are taken back out.
    events = []
    for i in range(12):
        transition = "start" if i % 3 == 2 else "complete"
        events.append(
            f'<event><string key="concept:name" value="a{i}"/>'
            f'<string key="lifecycle:transition" value="{transition}"/>'
            f'<date key="time:timestamp" value="2024-01-{i + 1:02d}T00:00:00Z"/>'
            f'<int key="only{i}" value="{i}"/>'
            + ('<string key="late" value="x"/>' if i >= 8 else "")
            + "</event>"
        )
    text = f'<log><trace><string key="concept:name" value="c"/>{"".join(events)}</trace></log>'
    log = ss.read_xes(write(tmp_path, text, "log.xes"), lifecycle="complete")
    kept = [i for i in range(12) if i % 3 != 2]
    assert [a for a, _ in log.events("c")] == [f"a{i}" for i in kept]
    assert sorted(log.event_attributes, key=lambda k: (len(k), k)) == sorted(
        ["lifecycle:transition", "late", *(f"only{i}" for i in kept)], key=lambda k: (len(k), k)
    )
    for row, i in enumerate(kept):
        column = log.event_attributes[f"only{i}"].tolist()
        assert column == [i if r == row else None for r in range(len(kept))]
    assert log.event_attributes["late"].tolist() == [None] * 6 + ["x", "x"]


@pytest.mark.parametrize(
    ("reader", "target"),
    [
        (ss.read_xes, "parse_xes"),
        (lambda p: ss.read_csv(p, case="deal", activity="stage", time="at"), "csv_columns"),
    ],
)
def test_running_out_of_memory_is_an_invalid_log_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: Any, target: str
) -> None:
    def fail(*_: object, **__: object) -> None:
        raise MemoryError

    monkeypatch.setattr(_readers, target, fail)
    path = write(tmp_path, CSV)
    with pytest.raises(ss.InvalidLogError, match=r"reading '.*deals\.csv' ran out of memory"):
        reader(path)


@pytest.mark.parametrize(
    "options",
    [{"attributes": ["at", "note"]}, {"attributes": ["note"], "order": "at"}],
    ids=["time as attribute", "time as order"],
)
def test_the_time_kept_as_an_attribute_is_read_by_arrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    # The time also kept as an attribute or the order sent the file to the csv module, whose
    # field limit (128 KiB) refused a long notes column; lifting that limit changed a
    # process-wide setting. Arrow reads it now: coded text, each distinct time parsed once.
    note = "n" * 300_000
    path = write(
        tmp_path,
        f'deal,stage,at,note\nd1,lead,2024-01-01T00:00:00Z,"{note}"\n'
        "d1,won,2024-01-02T00:00:00Z,short\nd2,lead,2024-01-01T00:00:00Z,\n",
    )

    def no_csv_module(*_: object, **__: object) -> None:
        raise AssertionError("the csv module read the file")

    monkeypatch.setattr(_readers, "python_columns", no_csv_module)
    before = csv.field_size_limit()
    log = read(path, **options)
    assert csv.field_size_limit() == before
    assert log.event_attributes["note"].tolist() == [note, "short", ""]
    assert log.time.astype("datetime64[D]").astype(str).tolist() == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-01",
    ]
    if "at" in options["attributes"]:
        times = log.event_attributes["at"].tolist()
        assert times == ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z"]


WIDE_CSV_CHILD = """
import resource, sys
import salesstd as ss
import pyarrow.csv  # loaded before the baseline: its import is not the read's memory
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
log = ss.read_csv(sys.argv[1], case="deal", activity="stage", time="at", attributes=["x7"])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(log.n_events, list(log.event_attributes), (after - before) // 1024)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kB on Linux")
def test_a_wide_csv_read_for_a_few_columns_stays_small(tmp_path: Path) -> None:
    # Arrow inferred a type for every column of the first block only to list the header:
    # about 10 kB a column, 300 MB for 30,000 columns of a 0.35 MB file, whatever was asked.
    width = 30_000
    head = ",".join(["deal", "stage", "at", *(f"x{i}" for i in range(width))])
    rows = [f"d{r},lead,2024-01-0{r + 1}," + ",".join(["1"] * width) for r in range(3)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    done = _child(WIDE_CSV_CHILD, path, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    events, attributes, grown_mb = done.stdout.split(" ", 2)
    assert (events, attributes) == ("3", "['x7']")
    assert int(grown_mb) < 150  # 290 MB before


@pytest.mark.parametrize("zipped", [False, True])
def test_the_csv_header_is_read_as_arrow_reads_it(tmp_path: Path, *, zipped: bool) -> None:
    # A byte-order mark, a quoted name holding the delimiter, a doubled quote and a line break.
    text = '\ufeffdeal,"st,age","a""t",note\nd1,lead,2024-01-01,"x\ny"\nd1,won,2024-01-02,z\n'
    data = text.encode("utf-8")
    path = tmp_path / ("h.csv.gz" if zipped else "h.csv")
    path.write_bytes(gzip.compress(data) if zipped else data)
    log = ss.read_csv(path, case="deal", activity="st,age", time='a"t')
    assert list(log.activity_names) == ["lead", "won"]
    assert list(log.event_attributes["note"]) == ["x\ny", "z"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("d\u00e9al,stage,at\nd1,lead,2024-01-01\n".encode("latin-1"))
    assert (
        ss.read_csv(
            latin, case="d\u00e9al", activity="stage", time="at", encoding="latin-1"
        ).n_events
        == 1
    )
