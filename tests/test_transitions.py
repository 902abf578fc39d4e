"""Known-answer tests of `salesstd.transitions`, and the PM4Py oracle test on four real logs."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import polars as pl
import pytest

import _data
import salesstd as ss
from _data import DATA
from strategies import differences

H = 3600.0

# Six cases, times in hours after 2024-01-01T00:00Z (rows given case by case, shuffled below).
#   c1: a 0, b 1, c 3          (a,b) 1h  (b,c) 2h
#   c2: a 0, b 2, c 3          (a,b) 2h  (b,c) 1h
#   c3: a 0, b 4               (a,b) 4h
#   c4: a 0, b 7, c 8          (a,b) 7h  (b,c) 1h
#   c5: d 0, a 24              (d,a) 24h
#   c6: a 0, d 0.5             (a,d) 0.5h
# By hand:
#   (a,b): n=4, times 1,2,4,7 h: mean 3.5, median (2+4)/2 = 3 (even), min 1, max 7, total 14,
#          std: squares 6.25+2.25+0.25+12.25 = 21, /3 = 7, sqrt(7) h
#   (b,c): n=3, times 2,1,1 h: mean 4/3, median 1 (odd), min 1, max 2, total 4,
#          std: (4/9+1/9+1/9)/2 = 1/3, sqrt(1/3) h
#   (a,d), (d,a): n=1 each, std NaN
# Rows ordered by count, then source, then target: (a,b), (b,c), (a,d), (d,a).
CASES: dict[str, list[tuple[str, float]]] = {
    "c1": [("a", 0), ("b", 1), ("c", 3)],
    "c2": [("a", 0), ("b", 2), ("c", 3)],
    "c3": [("a", 0), ("b", 4)],
    "c4": [("a", 0), ("b", 7), ("c", 8)],
    "c5": [("d", 0), ("a", 24)],
    "c6": [("a", 0), ("d", 0.5)],
}


def _rows() -> list[tuple[str, str, Any]]:
    t0 = np.datetime64("2024-01-01T00:00:00", "ns")
    rows = [
        (case, act, t0 + np.timedelta64(int(hours * 3600), "s"))
        for case, events in CASES.items()
        for act, hours in events
    ]
    return rows[::2] + rows[1::2]  # shuffled, but each case's events stay in time order


@pytest.fixture
def log() -> ss.EventLog:
    rows = _rows()
    return ss.EventLog.from_arrays(
        case=[r[0] for r in rows],
        activity=[r[1] for r in rows],
        time=np.array([r[2] for r in rows], dtype="datetime64[ns]"),
    )


@pytest.fixture
def tr(log: ss.EventLog) -> ss.TransitionsResult:
    return ss.transitions(log)


def test_pairs_and_counts(tr: ss.TransitionsResult) -> None:
    assert tr.source.tolist() == ["a", "b", "a", "d"]
    assert tr.target.tolist() == ["b", "c", "d", "a"]
    assert tr.count.tolist() == [4, 3, 1, 1]
    assert tr.n_pairs == 4
    assert tr.n_cases == 6
    assert tr.n_events == 15
    assert int(tr.count.sum()) == tr.n_events - tr.n_cases


def test_time_statistics(tr: ss.TransitionsResult) -> None:
    assert tr.mean.tolist() == pytest.approx([3.5 * H, 4 / 3 * H, 0.5 * H, 24 * H], rel=1e-12)
    assert tr.median.tolist() == pytest.approx([3 * H, 1 * H, 0.5 * H, 24 * H], rel=1e-12)
    assert tr.min.tolist() == pytest.approx([1 * H, 1 * H, 0.5 * H, 24 * H], rel=1e-12)
    assert tr.max.tolist() == pytest.approx([7 * H, 2 * H, 0.5 * H, 24 * H], rel=1e-12)
    assert tr.total.tolist() == pytest.approx([14 * H, 4 * H, 0.5 * H, 24 * H], rel=1e-12)
    assert tr.std[:2].tolist() == pytest.approx([math.sqrt(7) * H, math.sqrt(1 / 3) * H], rel=1e-12)
    assert np.isnan(tr.std[2:]).all()


def test_std_matches_numpy_ddof1(tr: ss.TransitionsResult) -> None:
    ab = np.array([1, 2, 4, 7]) * H
    assert tr.at("a", "b").std == pytest.approx(float(np.std(ab, ddof=1)), rel=1e-12)
    assert tr.at("a", "b").median == float(np.median(ab))


def test_at(tr: ss.TransitionsResult) -> None:
    bc = tr.at("b", "c")
    assert bc == ss.TransitionStats(
        source="b",
        target="c",
        count=3,
        mean=bc.mean,
        median=1 * H,
        min=1 * H,
        max=2 * H,
        total=4 * H,
        std=bc.std,
    )
    assert bc.mean == pytest.approx(4 / 3 * H, rel=1e-12)
    assert type(bc.count) is int
    assert type(bc.mean) is float
    single = tr.at("d", "a")
    assert single.count == 1
    assert math.isnan(single.std)


def test_at_unknown_pair(tr: ss.TransitionsResult) -> None:
    with pytest.raises(ss.UnknownStageError, match=r"pair 'b -> a' is not in the log.*a -> b"):
        tr.at("b", "a")
    with pytest.raises(ss.UnknownStageError, match=r"Did you mean 'a -> b'"):
        tr.at("a", "bb")


def test_start_and_end_activities(tr: ss.TransitionsResult) -> None:
    assert tr.start_activities == {"a": 5, "d": 1}
    assert list(tr.start_activities) == ["a", "d"]
    assert tr.end_activities == {"c": 3, "a": 1, "b": 1, "d": 1}
    assert list(tr.end_activities) == ["c", "a", "b", "d"]  # most first, ties by name
    assert tr.start_counts.sum() == tr.n_cases
    assert tr.end_counts.sum() == tr.n_cases


def test_variants(tr: ss.TransitionsResult) -> None:
    assert tr.variants == (("a", "b", "c"), ("a", "b"), ("d", "a"), ("a", "d"))
    assert tr.variant_counts.tolist() == [3, 1, 1, 1]


def test_equal_timestamps_give_zero_duration_in_input_order() -> None:
    log = ss.EventLog.from_records(
        [("d1", "x", "2024-01-01"), ("d1", "z", "2024-01-02"), ("d1", "y", "2024-01-02")]
    )
    tr = ss.transitions(log)
    assert tr.at("z", "y").total == 0.0
    assert tr.at("x", "z").total == 86_400.0
    assert tr.variants == (("x", "z", "y"),)


def test_sub_second_durations() -> None:
    log = ss.EventLog.from_records(
        [("d1", "a", "2024-01-01T00:00:00.000000001"), ("d1", "b", "2024-01-01T00:00:00.5")]
    )
    assert ss.transitions(log).at("a", "b").mean == pytest.approx(0.499999999, rel=1e-12)


def test_single_event_cases_have_no_pairs() -> None:
    log = ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d2", "b", "2024-01-02")])
    tr = ss.transitions(log)
    assert tr.n_pairs == 0
    assert tr.count.tolist() == []
    assert tr.start_activities == {"a": 1, "b": 1}
    assert tr.end_activities == {"a": 1, "b": 1}
    assert tr.to_dict()["rows"] == []
    assert len(tr.to_frame()) == 0


def test_self_loops() -> None:
    log = ss.EventLog.from_records(
        [("d1", "a", "2024-01-01"), ("d1", "a", "2024-01-03"), ("d1", "a", "2024-01-04")]
    )
    stats = ss.transitions(log).at("a", "a")
    assert stats.count == 2
    assert stats.mean == 1.5 * 86_400


def test_repr(tr: ss.TransitionsResult) -> None:
    assert repr(tr) == "TransitionsResult(pairs=4, cases=6, events=15)"
    html = tr._repr_html_()
    assert html.startswith("<table><caption>TransitionsResult(pairs=4")
    assert "<td>&#x27;a&#x27;</td>" in html


def test_result_equals_itself_and_a_recomputation(
    log: ss.EventLog, tr: ss.TransitionsResult
) -> None:
    """NaN std (single occurrences) must not make a result unequal to itself."""
    again = ss.transitions(log)
    assert differences(tr, again) == []
    reflexive = tr == tr  # noqa: PLR0124 - reflexivity is the point
    recomputed = tr == again
    assert (reflexive, recomputed) == (True, True)


def test_result_arrays_read_only(tr: ss.TransitionsResult) -> None:
    for arr in (tr.source, tr.count, tr.mean, tr.std, tr.start_counts):
        assert not arr.flags.writeable


# ------------------------------------------------------------------------- tables


def test_to_frame_timedelta_pandas(tr: ss.TransitionsResult) -> None:
    df = tr.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert df.columns.tolist() == [
        "source",
        "target",
        "count",
        "mean",
        "median",
        "min",
        "max",
        "total",
        "std",
    ]
    assert df["source"].tolist() == ["a", "b", "a", "d"]
    assert df["count"].tolist() == [4, 3, 1, 1]
    assert str(df["mean"].dtype) == "timedelta64[ns]"
    assert df["mean"].iloc[0] == pd.Timedelta(hours=3.5)
    assert df["median"].iloc[0] == pd.Timedelta(hours=3)
    assert df["total"].iloc[1] == pd.Timedelta(hours=4)
    exact_ns = math.sqrt(7) * H * 1e9
    assert abs(df["std"].iloc[0].value - exact_ns) <= 1
    assert pd.isna(df["std"].iloc[2])


def test_to_frame_seconds_pandas(tr: ss.TransitionsResult) -> None:
    df = tr.to_frame(durations="seconds")
    assert df.columns.tolist() == [
        "source",
        "target",
        "count",
        "mean_s",
        "median_s",
        "min_s",
        "max_s",
        "total_s",
        "std_s",
    ]
    assert df["mean_s"].dtype == np.float64
    assert df["max_s"].tolist() == [7 * H, 2 * H, 0.5 * H, 24 * H]
    assert np.isnan(df["std_s"].iloc[3])


def test_to_frame_polars(tr: ss.TransitionsResult) -> None:
    df = tr.to_frame(backend="polars")
    assert isinstance(df, pl.DataFrame)
    assert df.schema["source"] == pl.String
    assert df.schema["mean"] == pl.Duration("ns")
    assert df["count"].to_list() == [4, 3, 1, 1]
    assert df["min"].to_list()[0].total_seconds() == 1 * H
    assert df["std"].to_list()[2] is None
    seconds = tr.to_frame(backend="polars", durations="seconds")
    assert seconds["total_s"].to_list() == [14 * H, 4 * H, 0.5 * H, 24 * H]


# ------------------------------------------------------------------------- overflow
# A timedelta64[ns] holds +-2**63 ns, about 292 years; a total over many deals passes that.

CENTURIES = {"x1": 150, "x2": 180, "x3": 200}  # years from 1800-01-01 to the second event


def _exact_seconds(years_by_case: dict[str, int]) -> list[int]:
    t0 = dt.datetime(1800, 1, 1, tzinfo=dt.timezone.utc)
    return [
        int((dt.datetime(1800 + years, 1, 1, tzinfo=dt.timezone.utc) - t0).total_seconds())
        for years in years_by_case.values()
    ]


def test_total_past_292_years_is_exact_in_seconds_and_frames() -> None:
    log = ss.EventLog.from_records(
        [(c, "a", "1800-01-01") for c in CENTURIES]
        + [(c, "b", f"{1800 + y}-01-01") for c, y in CENTURIES.items()]
    )
    exact = _exact_seconds(CENTURIES)
    assert sum(exact) * 10**9 > 2**63  # the ns sum does not fit an int64
    tr = ss.transitions(log)
    assert tr.total.tolist() == [float(sum(exact))]
    assert tr.mean.tolist() == [sum(exact) / 3]
    assert tr.max.tolist() == [float(max(exact))]
    df = tr.to_frame()
    assert str(df["total"].dtype) == "timedelta64[ms]"
    assert df["total"].iloc[0].total_seconds() == sum(exact)
    assert df["max"].iloc[0].total_seconds() == max(exact)
    polars = tr.to_frame(backend="polars")
    assert polars.schema["total"] == pl.Duration("ms")
    assert polars["total"].to_list() == [dt.timedelta(seconds=sum(exact))]


def test_total_too_large_for_any_timedelta_is_refused() -> None:
    log = ss.EventLog.from_records([("d", "a", "2024-01-01"), ("d", "b", "2024-01-02")])
    huge = attrs.evolve(ss.transitions(log), total=np.array([1e17]))
    with pytest.raises(ss.ParameterError, match=r"total = 1e\+17 seconds.*durations=\"seconds\""):
        huge.to_frame()
    assert huge.to_frame(durations="seconds")["total_s"].tolist() == [1e17]


def test_bundled_crm_totals_are_exact() -> None:
    log = ss.datasets.load_crm_opportunities()
    t = log.time.view(np.int64)
    same = np.flatnonzero(log.case[1:] == log.case[:-1])
    names = log.activity_names
    src, dst = names[log.activity[same]], names[log.activity[same + 1]]
    df = ss.transitions(log).to_frame()
    assert not df["total"].isna().any()
    for row in df.itertuples():
        pick = same[(src == row.source) & (dst == row.target)]
        exact_ns = sum(int(d) for d in (t[pick + 1] - t[pick]).tolist())  # Python ints
        assert abs(row.total.total_seconds() - exact_ns / 1e9) <= 1e-3
    won = df[(df["source"] == "Engaging") & (df["target"] == "Won")]
    assert won["total"].iloc[0].total_seconds() / 86_400 / 365.25 > 292


def test_to_frame_bad_durations(tr: ss.TransitionsResult) -> None:
    with pytest.raises(ss.ParameterError, match=r"durations must be one of.*got 'secs'"):
        tr.to_frame(durations="secs")  # type: ignore[arg-type]


def test_to_dict_is_json(tr: ss.TransitionsResult) -> None:
    out = json.loads(json.dumps(tr.to_dict(), allow_nan=False))
    assert out["kind"] == "TransitionsResult"
    assert out["summary"] == {"pairs": 4, "cases": 6, "events": 15}
    assert out["rows"][0] == {
        "source": "a",
        "target": "b",
        "count": 4,
        "mean_s": 3.5 * H,
        "median_s": 3 * H,
        "min_s": 1 * H,
        "max_s": 7 * H,
        "total_s": 14 * H,
        "std_s": pytest.approx(math.sqrt(7) * H, rel=1e-12),
    }
    assert out["rows"][3]["std_s"] is None
    assert out["start_activities"] == {"a": 5, "d": 1}
    assert out["end_activities"] == {"c": 3, "a": 1, "b": 1, "d": 1}
    assert out["variants"][0] == {"variant": ["a", "b", "c"], "count": 3}
    assert len(out["variants"]) == 4


# ------------------------------------------------------------------------- PM4Py oracle

ORACLES = {
    "running-example": ("running-example", "running-example.xes"),
    "receipt": ("receipt", "08_receipt.xes.gz"),
    "helpdesk": ("helpdesk", "helpdesk.xes.gz"),
    "roadtraffic100traces": ("roadtraffic100", "roadtraffic100traces.xes"),
}
STATS = {
    "mean": "mean_s",
    "median": "median_s",
    "min": "min_s",
    "max": "max_s",
    "total": "sum_s",
    "std": "stdev_s",
}


def _oracle(name: str) -> tuple[dict[str, Any], Path]:
    folder, file = ORACLES[name]
    oracle_path = DATA / "oracles" / "pm4py" / f"{name}.json"
    log_path = DATA / folder / file
    for path in (oracle_path, log_path):
        if not path.is_file():
            pytest.skip(f"real-data file {path} is absent: {_data.ABSENT}")
    oracle: dict[str, Any] = json.loads(oracle_path.read_text(encoding="utf-8"))
    return oracle, log_path


@pytest.mark.parametrize("name", list(ORACLES))
def test_matches_pm4py_oracle(name: str) -> None:
    oracle, path = _oracle(name)
    log = ss.read_xes(path)
    tr = ss.transitions(log)
    assert log.n_cases == oracle["n_cases"]
    assert log.n_events == oracle["n_events"]
    assert list(log.activities) == sorted(oracle["activities"])
    assert tr.n_pairs == oracle["n_dfg_edges"] == len(oracle["dfg"])
    ours = {
        (s, t): i
        for i, (s, t) in enumerate(zip(tr.source.tolist(), tr.target.tolist(), strict=True))
    }
    assert set(ours) == {(e["source"], e["target"]) for e in oracle["dfg"]}
    for edge in oracle["dfg"]:
        pair = (edge["source"], edge["target"])
        stats = tr.at(*pair)
        assert stats.count == edge["frequency"], pair
        for ours_key, theirs_key in STATS.items():
            expected = edge[theirs_key]
            got = getattr(stats, ours_key)
            if expected is None:  # the oracle stores null stdev for a single occurrence
                assert edge["frequency"] == 1, pair
                assert math.isnan(got), (pair, ours_key)
            else:
                assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (pair, ours_key)
    assert tr.start_activities == oracle["start_activities"]
    assert tr.end_activities == oracle["end_activities"]
    assert len(tr.variants) == oracle["n_variants"]
    counts = dict(zip(tr.variants, tr.variant_counts.tolist(), strict=True))
    top = oracle["top_variants"]
    for variant in top:
        assert counts[tuple(variant["variant"])] == variant["count"], variant["variant"]
    assert tr.variant_counts[: len(top)].tolist() == [v["count"] for v in top]


@pytest.mark.parametrize("name", list(ORACLES))
def test_case_durations_match_pm4py_oracle(name: str) -> None:
    oracle, path = _oracle(name)
    log = ss.read_xes(path)
    seconds = (log.case_end - log.case_start).astype(np.int64) / 1e9
    ours = dict(zip((str(c) for c in log.cases), seconds.tolist(), strict=True))
    expected = oracle["case_duration_s_per_case"]
    assert ours.keys() == expected.keys()
    for case, value in expected.items():
        assert ours[case] == pytest.approx(value, rel=1e-9, abs=1e-9), case
    summary = oracle["case_duration_s"]
    assert summary["count"] == log.n_cases
    assert float(np.mean(seconds)) == pytest.approx(summary["mean"], rel=1e-9)
    assert float(np.median(seconds)) == pytest.approx(summary["median"], rel=1e-9)
