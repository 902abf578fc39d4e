from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesstd as ss
from salesstd._engine.episodes import build_episodes, event_stays

FUNNEL = ss.Funnel.linear(["lead", "qual", "prop", "neg", "won"], lost="lost")
LOG = ss.EventLog.from_records(
    [
        ("d1", "lead", "2024-01-01"),
        ("d1", "call", "2024-01-02"),
        ("d1", "prop", "2024-01-05"),
        ("d1", "neg", "2024-01-07"),
        ("d1", "prop", "2024-01-08"),
        ("d1", "won", "2024-01-10"),
        ("d1", "call", "2024-01-11"),
        ("d2", "qual", "2024-01-02"),
        ("d2", "qual", "2024-01-03"),
        ("d2", "lost", "2024-01-06"),
        ("d3", "lead", "2024-01-04"),
    ]
)


def _days(ns: np.ndarray) -> list[str]:
    return [str(x)[:10] for x in ns.view("datetime64[ns]")]


def test_implied_episodes_known_answer() -> None:
    ep = build_episodes(LOG, FUNNEL)
    names = [FUNNEL.stage_names[s] for s in ep.stage]
    # d1 jumps from lead to prop: qual is implied. d2 was created in qual: it enters the
    # funnel there, and nothing before it is implied.
    assert names == ["lead", "qual", "prop", "neg", "prop", "won", "qual", "lost", "lead"]
    assert ep.implied.tolist() == [False, True] + [False] * 7
    assert _days(ep.enter)[:3] == ["2024-01-01", "2024-01-05", "2024-01-05"]
    # The open deal d3 is censored at the log's end (its last event: d1's call on Jan 11).
    assert _days(ep.exit)[-1] == "2024-01-11"
    assert ep.censored.tolist() == [False] * 8 + [True]
    assert ep.entry.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert ep.case_outcome().tolist() == [FUNNEL.n_open, FUNNEL.n_open + 1, -1]


def test_a_log_without_any_stage_is_refused() -> None:
    calls = ss.EventLog.from_records([("d1", "call", "2024-01-01"), ("d2", "mail", "2024-01-02")])
    with pytest.raises(ss.FunnelError, match="no stage or outcome of the funnel"):
        build_episodes(calls, FUNNEL)


def test_strict_keeps_recorded_stages_only() -> None:
    ep = build_episodes(LOG, FUNNEL, skips="strict")
    assert ep.size == 8
    assert not ep.implied.any()


def test_episodes_are_cached_per_log_funnel_as_of_and_skips() -> None:
    first = build_episodes(LOG, FUNNEL)
    assert build_episodes(LOG, FUNNEL) is first
    assert build_episodes(LOG, FUNNEL, skips="strict") is not first
    assert build_episodes(LOG, FUNNEL, as_of="2024-01-09") is not first
    equal_log = ss.EventLog.from_frame(
        LOG.to_frame(), case="case", activity="activity", time="time"
    )
    again = build_episodes(equal_log, FUNNEL)
    assert again is not first
    assert again.stage.tolist() == first.stage.tolist()


def test_cached_arrays_cannot_be_changed() -> None:
    ep = build_episodes(LOG, FUNNEL)
    with pytest.raises(ValueError, match="read-only"):
        ep.stage[0] = 3


def test_as_of_cuts_events_and_censors() -> None:
    ep = build_episodes(LOG, FUNNEL, as_of="2024-01-06T12:00")
    # d1 is in prop at the cut (entered Jan 5), d2 lost on Jan 6, d3 still in lead.
    assert ep.case_outcome().tolist() == [-1, FUNNEL.n_open + 1, -1]
    assert int(ep.censored.sum()) == 2


# --------------------------------------------------------------------- event_stays

TIE_FUNNEL = ss.Funnel.linear(["a", "b", "c", "won"], lost="lost")


@st.composite
def tied_logs(draw: st.DrawFn) -> ss.EventLog:
    """Stages and calls on few distinct days, so events often share a timestamp."""
    rows = [
        (
            f"c{draw(st.integers(0, 3))}",
            draw(st.sampled_from(["a", "b", "c", "won", "lost", "call", "mail"])),
            f"2024-01-0{draw(st.integers(1, 4))}",
        )
        for _ in range(draw(st.integers(1, 30)))
    ]
    # At least one stage event: a log with none is refused (no stage of the funnel occurs).
    rows.append((f"c{draw(st.integers(0, 3))}", "a", f"2024-01-0{draw(st.integers(1, 4))}"))
    return ss.EventLog.from_records(rows)


@settings(max_examples=200, deadline=None)
@given(log=tied_logs(), skips=st.sampled_from(["strict", "implied"]))
def test_event_stays_is_the_latest_stay_entered_by_the_event(log: ss.EventLog, skips: str) -> None:
    ep = build_episodes(log, TIE_FUNNEL, skips=skips)  # type: ignore[arg-type]
    events = np.arange(log.n_events)
    got = event_stays(log, ep, events).tolist()
    t = log.time.view(np.int64)
    real = [j for j in range(ep.size) if not ep.implied[j]]
    for i in events.tolist():
        candidates = [j for j in real if ep.case[j] == log.case[i] and ep.enter[j] <= t[i]]
        assert got[i] == (candidates[-1] if candidates else -1), i


def test_a_log_copy_with_more_case_attributes_shares_the_cached_episodes() -> None:
    first = build_episodes(LOG, FUNNEL)
    extra = attrs.evolve(LOG, case_attributes={**LOG.case_attributes, "k": np.arange(LOG.n_cases)})
    assert build_episodes(extra, FUNNEL) is first
    assert build_episodes(LOG.where(activity=list(LOG.activities)), FUNNEL) is not first


@pytest.mark.parametrize(
    "value",
    [
        np.timedelta64(213504, "D"),  # 585 years: cast to ns it wrapped round to 1,526 s
        np.timedelta64(2**62, "s"),
        np.timedelta64(367, "D"),
        np.timedelta64(1, "M"),  # no fixed length
        np.timedelta64("NaT"),
    ],
    ids=str,
)
def test_a_long_timedelta64_min_stay_is_refused_not_wrapped(value: np.timedelta64) -> None:
    log = ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", "b", "2024-01-02")])
    with pytest.raises(ss.ParameterError, match=r"min_stay must be between 0 and a year"):
        build_episodes(log, ss.Funnel.linear(["a", "b"]), min_stay=value)


def test_a_timedelta64_min_stay_is_read_in_its_own_unit() -> None:
    log = ss.EventLog.from_records([("d1", "a", "2024-01-01"), ("d1", "b", "2024-01-02")])
    funnel = ss.Funnel.linear(["a", "b"])
    for value in (np.timedelta64(1, "h"), np.timedelta64(3_600_000, "ms"), 3600):
        eps = build_episodes(log, funnel, min_stay=value)
        assert eps == build_episodes(log, funnel, min_stay=3600.0)
