"""`read_csv` on pyarrow's streaming reader: files of several blocks, progress, refusals by line.

The expectations are computed here from the file with the standard library (csv and
datetime), never by salesstd, so they hold whichever reader salesstd runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import random
from pathlib import Path

import numpy as np
import pytest

import salesstd as ss
from salesstd.io import _csv

OFFSETS = ("+00:00", "+01:00", "-05:00", "+05:30", "Z", "")  # "" is naive: read as UTC
ROWS = 40_000  # about 3 MB: a dozen of the small blocks set below


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read in 256 KiB blocks, so that every file here spans several of Arrow's batches."""
    monkeypatch.setattr(_csv, "BLOCK_BYTES", 1 << 18)


def synthetic_text(seed: int, rows: int = ROWS) -> str:
    """A seeded export with every awkward cell the reader must keep exactly."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data, not a secret
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if seed % 2 else "\n")
    writer.writerow(["deal", "stage", "at", "rep", "amount", "big", "note", "flag"])
    base = dt.datetime(2023, 3, 1, tzinfo=dt.timezone.utc)
    for i in range(rows):
        deal = f"D-{rng.randrange(3000):05d}"
        at = base + dt.timedelta(seconds=rng.randrange(400 * 86_400))
        off = rng.choice(OFFSETS)
        if off in ("", "Z"):
            text = at.strftime("%Y-%m-%dT%H:%M:%S") + off
        else:
            sign = 1 if off[0] == "+" else -1
            delta = dt.timedelta(hours=int(off[1:3]), minutes=int(off[4:6])) * sign
            text = (at + delta).strftime("%Y-%m-%dT%H:%M:%S") + off
        note = rng.choice(["", "plain", "two\nlines", 'a "quoted", comma', "ünïcödé", "true"])
        amount = "" if rng.random() < 0.1 else f"{rng.randrange(10**6) / 100:.2f}"
        big = "" if rng.random() < 0.05 else str(2**62 + rng.randrange(10**6) * 1021)
        stage = rng.choice(["lead", "won", "lost"])
        writer.writerow([deal, stage, text, "", amount, big, note, "true"])
        if i % 5000 == 17:
            out.write("\n")  # a blank line: not an event
    return out.getvalue()


def expected(text: str) -> dict[str, list[object]]:
    """The log the file must give, from the csv module and datetime: rows by (case, time)."""
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    header, body = rows[0], rows[1:]
    col = {h: [r[k] for r in body] for k, h in enumerate(header)}

    def utc_ns(value: str) -> int:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        delta = stamp - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 10**9

    times = [utc_ns(t) for t in col["at"]]
    order = sorted(range(len(body)), key=lambda i: (col["deal"][i], times[i]))  # stable
    return {
        "case": [col["deal"][i] for i in order],
        "activity": [col["stage"][i] for i in order],
        "time": [times[i] for i in order],
        "rep": [col["rep"][i] for i in order],
        "amount": [float(col["amount"][i]) if col["amount"][i] else None for i in order],
        "big": [int(col["big"][i]) if col["big"][i] else None for i in order],
        "note": [col["note"][i] for i in order],
        "flag": [col["flag"][i] for i in order],
    }


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("compress", [False, True])
def test_a_file_of_several_blocks_reads_as_the_csv_module_reads_it(
    tmp_path: Path, seed: int, *, compress: bool
) -> None:
    text = synthetic_text(seed)
    data = text.encode("utf-8")
    path = tmp_path / "export.csv"
    path.write_bytes(gzip.compress(data) if compress else data)
    log = ss.read_csv(path, case="deal", activity="stage", time="at")
    want = expected(text)
    assert log.n_events == len(want["case"]) == ROWS
    assert log.case_names[log.case].tolist() == want["case"]
    assert log.activity_names[log.activity].tolist() == want["activity"]
    assert log.time.view(np.int64).tolist() == want["time"]
    attrs = log.event_attributes
    assert attrs["rep"].tolist() == want["rep"]  # an all-blank column stays text
    assert attrs["amount"].dtype == np.float64
    got_amount = attrs["amount"].tolist()
    assert [None if np.isnan(x) else x for x in got_amount] == want["amount"]
    assert attrs["big"].dtype == object  # beyond 2**53 with blanks: exact ints
    assert attrs["big"].tolist() == want["big"]
    assert attrs["note"].tolist() == want["note"]  # quoted newlines, quotes, "true": text
    assert attrs["flag"].tolist() == want["flag"] == ["true"] * ROWS


def test_progress_true_draws_a_bar_of_the_file_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: read_csv accepted progress=True and drew nothing.
    path = tmp_path / "export.csv"
    path.write_text(synthetic_text(0, rows=2000), encoding="utf-8")
    log = ss.read_csv(path, case="deal", activity="stage", time="at", progress=True)
    err = capsys.readouterr().err
    assert log.n_events == 2000
    assert "export.csv:" in err  # the bar's label: the file
    assert "B/s" in err  # counted in bytes of the file


def test_progress_false_draws_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "export.csv"
    path.write_text(synthetic_text(0, rows=200), encoding="utf-8")
    ss.read_csv(path, case="deal", activity="stage", time="at", progress=False)
    assert capsys.readouterr().err == ""


def test_a_field_beyond_the_csv_modules_size_limit_is_read(tmp_path: Path) -> None:
    # Before: the csv module refused any field over 128 KiB ("field larger than field limit").
    note = "x" * 200_000
    path = tmp_path / "long.csv"
    path.write_text(f'deal,stage,at,note\nd1,lead,2024-01-01T00:00:00Z,"{note}"\n')
    log = ss.read_csv(path, case="deal", activity="stage", time="at")
    assert log.event_attributes["note"].tolist() == [note]


def _late_row_file(tmp_path: Path, bad_row: str) -> tuple[Path, int]:
    """A file whose bad row sits after ~2 MB of rows with quoted line breaks; its line."""
    text = synthetic_text(3, rows=30_000)
    lines = text.count("\n") + 1  # the bad row's line number, counting every line break
    path = tmp_path / "late.csv"
    path.write_text(text + bad_row + "\n", encoding="utf-8")
    return path, lines


def test_a_missing_id_deep_in_the_file_names_its_line(tmp_path: Path) -> None:
    path, line = _late_row_file(tmp_path, ",won,2024-01-01T00:00:00Z,,,,,true")
    with pytest.raises(
        ss.InvalidLogError, match=rf"column 'deal' has a missing value at line {line}:"
    ):
        ss.read_csv(path, case="deal", activity="stage", time="at")


def test_a_bad_time_deep_in_the_file_names_its_line_and_value(tmp_path: Path) -> None:
    path, line = _late_row_file(tmp_path, "D-1,won,2024-13-01T00:00:00Z,,,,,true")
    with pytest.raises(
        ss.InvalidLogError, match=rf"column 'at' has .* at line {line}: '2024-13-01T00:00:00Z'"
    ):
        ss.read_csv(path, case="deal", activity="stage", time="at")


def test_a_ragged_row_deep_in_the_file_names_its_line(tmp_path: Path) -> None:
    path, line = _late_row_file(tmp_path, "D-1,won")
    with pytest.raises(ss.InvalidLogError, match=rf"line {line} has 2 fields but the header has 8"):
        ss.read_csv(path, case="deal", activity="stage", time="at")


def test_drop_deep_in_the_file_counts_the_dropped_rows(tmp_path: Path) -> None:
    path, _ = _late_row_file(tmp_path, "D-1,won,not a time,,,,,true")
    with pytest.warns(ss.DroppedEventsWarning, match="dropped 1 of 30001 events"):
        log = ss.read_csv(path, case="deal", activity="stage", time="at", on_invalid="drop")
    assert log.n_events == 30_000


def test_the_time_column_also_as_an_attribute_keeps_its_text(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("deal,stage,at\nd1,lead,2024-01-01T01:00:00+01:00\n")
    log = ss.read_csv(path, case="deal", activity="stage", time="at", case_attributes=["at"])
    assert log.case_attributes["at"].tolist() == ["2024-01-01T01:00:00+01:00"]
    assert log.time.view(np.int64).tolist() == [1_704_067_200 * 10**9]


def test_attributes_given_as_a_generator_are_not_used_up(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("deal,stage,at,rep,n\nd1,lead,2024-01-01,ann,5\n")
    log = ss.read_csv(
        path,
        case="deal",
        activity="stage",
        time="at",
        attributes=(c for c in ["rep", "n"]),  # type: ignore[arg-type]
    )
    assert sorted(log.event_attributes) == ["n", "rep"]
    assert log.event_attributes["n"].tolist() == [5]


def uniform_text(rows: int, *, naive: bool, tail: str = "") -> str:
    """A seeded export whose times all have a UTC offset (or none), then `tail` rows."""
    rng = random.Random(rows)  # noqa: S311 - seeded test data, not a secret
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["deal", "stage", "at", "rep"])
    base = dt.datetime(2023, 3, 20)  # noqa: DTZ001 - wall-clock text, zone written below
    for _ in range(rows):
        at = base + dt.timedelta(seconds=rng.randrange(20 * 86_400))  # across a DST change
        off = "" if naive else rng.choice(["+00:00", "+01:00", "-05:00", "+05:30", "Z"])
        writer.writerow(
            [f"D-{rng.randrange(500):04d}", rng.choice(["lead", "won"]), at.isoformat() + off, "r"]
        )
    return out.getvalue() + tail


def _read_both_ways(path: Path, **kw: object) -> tuple[ss.EventLog, ss.EventLog]:
    """The log read with times parsed by the CSV reader, and with times read as text."""
    typed = ss.read_csv(path, case="deal", activity="stage", time="at", **kw)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv, "_time_type", lambda *_a, **_k: None)
        text = ss.read_csv(path, case="deal", activity="stage", time="at", **kw)  # type: ignore[arg-type]
    return typed, text


def test_the_time_form_is_taken_from_the_first_block(tmp_path: Path) -> None:
    # Before: the time always arrived as text and was cast batch by batch afterwards.
    pa = pytest.importorskip("pyarrow")
    pcsv = pytest.importorskip("pyarrow.csv")
    parse = pcsv.ParseOptions(newlines_in_values=True)
    for name, text, want in [
        ("offset", uniform_text(500, naive=False), pa.timestamp("ns", tz="UTC")),
        ("naive", uniform_text(500, naive=True), pa.timestamp("ns")),
        ("mixed", synthetic_text(0, rows=500), None),
    ]:
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        assert _csv._time_type(str(path), "at", "utf-8", parse) == want, name


@pytest.mark.parametrize("tz", [None, "Europe/Amsterdam", "America/New_York"])
@pytest.mark.parametrize("naive", [False, True])
def test_times_parsed_while_reading_equal_times_read_as_text(
    tmp_path: Path, tz: str | None, *, naive: bool
) -> None:
    path = tmp_path / "u.csv"
    text = uniform_text(20_000, naive=naive)
    path.write_text(text, encoding="utf-8")
    typed, as_text = _read_both_ways(path, tz=tz)
    assert typed == as_text
    rows = list(csv.reader(io.StringIO(text)))[1:]
    zone = dt.timezone.utc if tz is None else __import__("zoneinfo").ZoneInfo(tz)
    want = []
    for row in rows:
        stamp = dt.datetime.fromisoformat(row[2].replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=zone)
        want.append(int(stamp.timestamp()) * 10**9)
    assert sorted(typed.time.view(np.int64).tolist()) == sorted(want)


@pytest.mark.parametrize("naive", [False, True])
def test_a_later_time_in_the_other_form_is_read_as_text(tmp_path: Path, *, naive: bool) -> None:
    # The first block fixes the form; a value deep in the file in the other form (with or
    # without an offset) makes Arrow refuse the type, and the whole time column is read
    # as text: both forms are read, nothing is dropped.
    other = "2024-01-01T10:00:00+02:00" if naive else "2024-01-01T10:00:00"
    path = tmp_path / "late.csv"
    path.write_text(uniform_text(30_000, naive=naive, tail=f"D-late,won,{other},r\n"))
    log = ss.read_csv(path, case="deal", activity="stage", time="at")
    assert log.n_events == 30_001
    late = log.time[log.offsets[log.cases.index("D-late")]]
    want = "2024-01-01T08:00:00" if naive else "2024-01-01T10:00:00"
    assert late == np.datetime64(want, "ns")


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("NULL", r"a value that is not a time at line {line}: 'NULL'"),
        ("", r"a missing value at line {line}: ''"),
        ("3000-01-01T00:00:00Z", r"a time that is outside the range .* at line {line}"),
        ("2024-01-01T00:00:00+24:00", r"a time that has the UTC offset '\+24:00'"),
    ],
)
def test_a_value_arrow_cannot_type_deep_in_the_file_is_reported(
    tmp_path: Path, value: str, what: str
) -> None:
    # Arrow would read "NULL" (or an empty cell) in a timestamp column as a null by default:
    # the reader turns that off, so such a value is reported, never read as missing unseen.
    text = uniform_text(30_000, naive=False)
    line = text.count("\n") + 1
    path = tmp_path / "bad.csv"
    path.write_text(text + f"D-bad,won,{value},r\n", encoding="utf-8")
    with pytest.raises(ss.InvalidLogError, match="column 'at' has " + what.format(line=line)):
        ss.read_csv(path, case="deal", activity="stage", time="at")


def test_the_quote_check_reads_past_the_first_block(tmp_path: Path) -> None:
    # A quote after the first block still switches on quoted line breaks.
    body = uniform_text(30_000, naive=False)
    path = tmp_path / "q.csv"
    path.write_text(body + 'D-q,won,2024-01-01T00:00:00Z,"two\nlines"\n', encoding="utf-8")
    assert _csv._has_quote(str(path))
    log = ss.read_csv(path, case="deal", activity="stage", time="at")
    assert log.event_attributes["rep"][log.offsets[log.cases.index("D-q")]] == "two\nlines"
    plain = tmp_path / "plain.csv"
    plain.write_text(body, encoding="utf-8")
    assert not _csv._has_quote(str(plain))
