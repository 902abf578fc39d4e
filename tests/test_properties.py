"""Cross-module invariants of EventLog and transitions, checked with Hypothesis."""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesstd as ss
from strategies import (
    ACTIVITIES,
    RECORD_NAMES,
    REPS,
    T0,
    Record,
    build_log,
    differences,
    event_logs,
    event_records,
)


def _pair_counts(tr: ss.TransitionsResult) -> Counter[tuple[str, str]]:
    return Counter(
        dict(
            zip(
                zip(tr.source.tolist(), tr.target.tolist(), strict=True),
                tr.count.tolist(),
                strict=True,
            )
        )
    )


def _variant_counts(tr: ss.TransitionsResult) -> Counter[tuple[str, ...]]:
    return Counter(dict(zip(tr.variants, tr.variant_counts.tolist(), strict=True)))


def _where_or_none(log: ss.EventLog, **kwargs: Any) -> ss.EventLog | None:
    try:
        return log.where(**kwargs)
    except ss.InvalidLogError:
        return None


@given(rows=event_records(), data=st.data())
def test_row_order_does_not_change_the_log(rows: list[Record], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(rows))
    a, b = build_log(rows), build_log(shuffled)
    assert differences(a, b) == []
    assert a == b


@given(rows=event_records(), data=st.data())
def test_renaming_cases_leaves_transitions_unchanged(
    rows: list[Record], data: st.DataObject
) -> None:
    ids = sorted({r[0] for r in rows})
    new_ids = data.draw(st.permutations([f"deal-{i}" for i in range(len(ids))]))
    rename = dict(zip(ids, new_ids, strict=True))
    renamed = [(rename[r[0]], *r[1:]) for r in rows]
    before = ss.transitions(build_log(rows))
    after = ss.transitions(build_log(renamed))
    assert differences(before, after) == []
    assert _variant_counts(before) == _variant_counts(after)


@pytest.mark.parametrize("backend", ["pandas", "polars"])
@given(log=event_logs())
def test_to_frame_from_frame_round_trip(backend: str, log: ss.EventLog) -> None:
    df = log.to_frame(backend=backend)  # type: ignore[arg-type]
    back = ss.EventLog.from_frame(
        df,
        case="case",
        activity="activity",
        time="time",
        case_attributes=list(log.case_attributes),
    )
    assert differences(back, log) == []
    assert back == log


@given(log=event_logs(attributes=False))
def test_to_frame_from_frame_round_trip_core(log: ss.EventLog) -> None:
    for backend in ("pandas", "polars"):
        df = log.to_frame(backend=backend)
        back = ss.EventLog.from_frame(df, case="case", activity="activity", time="time")
        assert differences(back, log) == [], backend


@given(log=event_logs(attributes=True), data=st.data())
def test_where_filters_compose(log: ss.EventLog, data: st.DataObject) -> None:
    activities = data.draw(
        st.lists(st.sampled_from(log.activities), min_size=1, unique=True), label="activity"
    )
    cases = data.draw(st.lists(st.sampled_from(log.cases), unique=True), label="cases")
    reps = data.draw(st.lists(st.sampled_from(REPS), min_size=1, unique=True), label="reps")
    start = T0 + dt.timedelta(seconds=data.draw(st.integers(0, 30 * 86_400), label="start"))
    second: dict[str, Any] = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "cases": st.just(cases),
                "start": st.just(start),
                "attributes": st.sampled_from(
                    [{"rep": reps}, {"segment": ["smb", "ent"]}, {"rep": reps, "segment": "mid"}]
                ),
            },
        ),
        label="second filter",
    )
    first = _where_or_none(log, activity=activities)
    chained = None if first is None else _where_or_none(first, **second)
    combined = _where_or_none(log, activity=activities, **second)
    assert (chained is None) == (combined is None)
    if chained is not None and combined is not None:
        assert differences(chained, combined) == []
        assert chained == combined


@given(rows=event_records())
def test_cases_are_contiguous_and_time_sorted(rows: list[Record]) -> None:
    log = build_log(rows)
    lengths = log.case_lengths
    assert log.offsets[0] == 0
    assert log.offsets[-1] == log.n_events
    assert (lengths >= 1).all()
    assert np.array_equal(log.case, np.repeat(np.arange(log.n_cases), lengths))
    t = log.time.view(np.int64)
    for k in range(log.n_cases):
        lo, hi = int(log.offsets[k]), int(log.offsets[k + 1])
        assert (np.diff(t[lo:hi]) > 0).all()  # distinct times within a case
    assert [str(c) for c in log.cases] == sorted(str(c) for c in log.cases)
    got = Counter(
        zip(
            log.case_names[log.case].tolist(),
            log.activity_names[log.activity].tolist(),
            t.tolist(),
            log.event_attributes["rep"].tolist(),
            strict=False,
        )
    )
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    expected = Counter(
        (c, a, (when - epoch) // dt.timedelta(microseconds=1) * 1000, rep)
        for c, a, when, rep, _ in rows
    )
    assert got == expected
    segments = {r[0]: r[4] for r in rows}
    assert log.case_attributes["segment"].tolist() == [segments[str(c)] for c in log.cases]


@given(rows=event_records())
def test_constructors_do_not_mutate_inputs(rows: list[Record]) -> None:
    saved_rows = copy.deepcopy(rows)
    dict_rows = [dict(zip(RECORD_NAMES, r, strict=True)) for r in rows]
    saved_dicts = copy.deepcopy(dict_rows)
    ss.EventLog.from_records(rows, names=RECORD_NAMES, case_attributes=["segment"])
    ss.EventLog.from_records(dict_rows, case_attributes=["segment"], tz="Europe/Amsterdam")
    assert rows == saved_rows
    assert dict_rows == saved_dicts

    arrays = {
        "case": np.array([r[0] for r in rows]),
        "activity": np.array([r[1] for r in rows], dtype=object),
        "time": np.array([np.datetime64(r[2].replace(tzinfo=None), "ns") for r in rows]),
        "rep": np.array([r[3] for r in rows]),
        "order": np.arange(len(rows))[::-1].copy(),
    }
    saved_arrays = {k: a.copy() for k, a in arrays.items()}
    ss.EventLog.from_arrays(
        case=arrays["case"],
        activity=arrays["activity"],
        time=arrays["time"],
        attributes={"rep": arrays["rep"]},
        order=arrays["order"],
        tz="Europe/Amsterdam",
    )
    for key, arr in arrays.items():
        assert np.array_equal(arr, saved_arrays[key]), key
        assert arr.flags.writeable

    df = pd.DataFrame([dict(zip(RECORD_NAMES, r, strict=True)) for r in rows])
    saved_df = df.copy(deep=True)
    ss.EventLog.from_frame(
        df, case="case", activity="activity", time="time", case_attributes=["segment"]
    )
    pd.testing.assert_frame_equal(df, saved_df)


@given(log=event_logs())
def test_transition_counts_sum_to_events_minus_cases(log: ss.EventLog) -> None:
    tr = ss.transitions(log)
    assert int(tr.count.sum()) == log.n_events - log.n_cases
    assert int(tr.start_counts.sum()) == log.n_cases
    assert int(tr.end_counts.sum()) == log.n_cases
    assert int(tr.variant_counts.sum()) == log.n_cases
    assert (tr.min <= tr.median).all()
    assert (tr.median <= tr.max).all()
    assert (tr.min <= tr.mean * (1 + 1e-12)).all()
    assert (tr.mean <= tr.max * (1 + 1e-12)).all()
    np.testing.assert_allclose(tr.total, tr.mean * tr.count, rtol=1e-12)
    assert set(tr.source.tolist()) | set(tr.target.tolist()) <= set(ACTIVITIES)


@given(log=event_logs(max_cases=8), data=st.data())
def test_counts_over_disjoint_case_sets_add_up(log: ss.EventLog, data: st.DataObject) -> None:
    part = data.draw(st.sets(st.sampled_from(log.cases)), label="first part")
    rest = [c for c in log.cases if c not in part]
    whole = ss.transitions(log)
    if not part or not rest:
        assert int(whole.count.sum()) == log.n_events - log.n_cases
        return
    left = ss.transitions(log.where(cases=list(part)))
    right = ss.transitions(log.where(cases=rest))
    assert _pair_counts(left) + _pair_counts(right) == _pair_counts(whole)
    assert Counter(left.start_activities) + Counter(right.start_activities) == Counter(
        whole.start_activities
    )
    assert Counter(left.end_activities) + Counter(right.end_activities) == Counter(
        whole.end_activities
    )
    assert _variant_counts(left) + _variant_counts(right) == _variant_counts(whole)
    totals = dict.fromkeys(_pair_counts(whole), 0.0)
    for part_result in (left, right):
        for s, t, total in zip(
            part_result.source, part_result.target, part_result.total, strict=True
        ):
            totals[(s, t)] += float(total)
    for i, pair in enumerate(zip(whole.source.tolist(), whole.target.tolist(), strict=True)):
        assert totals[pair] == pytest.approx(float(whole.total[i]), rel=1e-12)
