from __future__ import annotations

import numpy as np
import pytest

import salesstd as ss
from salesstd.metrics._episodes import build_episodes

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
    assert names == ["lead", "qual", "prop", "neg", "prop", "won", "lead", "qual", "lost", "lead"]
    assert ep.implied.tolist() == [False, True, False, False, False, False, True] + [False] * 3
    assert _days(ep.enter)[:3] == ["2024-01-01", "2024-01-05", "2024-01-05"]
    # The open deal d3 is censored at the log's end (its last event: d1's call on Jan 11).
    assert _days(ep.exit)[-1] == "2024-01-11"
    assert ep.censored.tolist() == [False] * 9 + [True]
    assert ep.entry.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert ep.case_outcome().tolist() == [FUNNEL.n_open, FUNNEL.n_open + 1, -1]


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
