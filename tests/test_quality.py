"""Where a funnel meets a real export: vocabulary checks, data quality, late entries, noise."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import warnings

import numpy as np
import pytest

import salesstd as ss
from salesstd._engine.vocabulary import near_matches, normalize

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def _t(days: float, seconds: float = 0.0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, seconds=seconds)


# --------------------------------------------------------------------- vocabulary


def _crm_log(won: str = "Closed Won", lost: str = "Closed Lost", n: int = 30) -> ss.EventLog:
    rows = []
    for i in range(n):
        rows.append((f"o{i}", "Prospección", _t(i)))
        rows.append((f"o{i}", "Diseño", _t(i + 3)))
        rows.append((f"o{i}", won if i % 3 else lost, _t(i + 9)))
    return ss.EventLog.from_records(rows)


def test_outcome_names_that_do_not_match_warn_with_the_closest_name() -> None:
    log = _crm_log()
    funnel = ss.Funnel.linear(["Prospección", "Diseño", "Won"], lost="Lost")
    with pytest.warns(ss.VocabularyWarning) as record:
        conv = ss.conversion(log, funnel)
    messages = [str(w.message) for w in record]
    won = next(m for m in messages if "'Won'" in m)
    assert "'Won' never occurs in the log; the log has 'Closed Won'" in won
    assert "aliases={'Closed Won': 'Won'}" in won
    lost = next(w.message for w in record if "'Lost'" in str(w.message))
    assert isinstance(lost, ss.VocabularyWarning)
    assert lost.name == "Lost"
    assert lost.closest[0] == "Closed Lost"
    # The answer is still what it is (nothing closes): the warning is what tells the user.
    assert np.isnan(conv.overall)


def test_a_misspelt_stage_warns_and_the_alias_fixes_it() -> None:
    log = _crm_log()
    funnel = ss.Funnel.linear(["Prospección", "Diseno", "Closed Won"], lost="Closed Lost")
    with pytest.warns(ss.VocabularyWarning, match="'Diseno' never occurs.*'Diseño'"):
        ss.conversion(log, funnel)
    fixed = ss.Funnel.linear(
        ["Prospección", "Diseno", "Closed Won"], lost="Closed Lost", aliases={"Diseño": "Diseno"}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conv = ss.conversion(log, fixed)
    assert conv.at("Diseno").entered == 30


def test_an_activity_spelt_like_an_occurring_stage_warns() -> None:
    rows = [("a", "Proposal", _t(0)), ("a", "proposal ", _t(1)), ("a", "Won", _t(2))]
    log = ss.EventLog.from_records(rows)
    funnel = ss.Funnel.linear(["Proposal", "Won"])
    with pytest.warns(ss.VocabularyWarning, match="activity 'proposal ' .* nearly matches"):
        ss.conversion(log, funnel)


def test_no_stage_in_common_is_an_error_naming_the_log_activities() -> None:
    log = _crm_log()
    funnel = ss.Funnel.linear(["Lead", "Wonn"], lost="Lsot")
    with pytest.raises(ss.FunnelError, match="no stage or outcome of the funnel") as err:
        ss.time_in_stage(log, funnel)
    assert "'Prospección'" in str(err.value)


def test_an_absent_stage_warns_only_on_a_log_big_enough_to_expect_it() -> None:
    funnel = ss.Funnel.linear(["Prospección", "Diseño", "Closed Won"], lost=["Closed Lost", "X"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss.conversion(_crm_log(n=5), funnel)  # 5 deals: no loss to 'X' yet is no news
    with pytest.warns(ss.VocabularyWarning, match=r"outcome 'X' never occurs .*30 cases"):
        ss.conversion(_crm_log(n=30), funnel)


def test_declared_activities_are_not_taken_for_misspelt_stages() -> None:
    rows = [("a", "Lead", _t(0)), ("a", "Lead call", _t(1)), ("a", "Won", _t(2))]
    funnel = ss.Funnel.linear(["Lead", "Won"]).with_activities(["Lead call"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss.conversion(ss.EventLog.from_records(rows), funnel)


def test_normalize_and_near_matches() -> None:
    assert normalize(" Closed_Won ") == "closed won"
    assert normalize("DISEÑO") == "diseno"
    assert near_matches("won", ["Closed Won", "Closed Lost"], words=True) == ["Closed Won"]
    assert near_matches("won", ["Closed Won"], words=False) == []
    assert near_matches("Lead", ["Meeting", "Call"], words=True) == []


# --------------------------------------------------------------------- entry semantics


def _late_entry_log() -> ss.EventLog:
    """10 deals recorded at A (5 advance to B, 5 lost); 30 deals created directly at B."""
    rows = []
    for i in range(10):
        rows.append((f"a{i}", "A", _t(0)))
        rows.append((f"a{i}", "B" if i < 5 else "lost", _t(4)))
    for i in range(30):
        rows.append((f"b{i}", "B", _t(1)))
        rows.append((f"b{i}", "won" if i % 2 else "lost", _t(8)))
    return ss.EventLog.from_records(rows)


def test_deals_created_at_a_later_stage_do_not_inflate_the_first() -> None:
    funnel = ss.Funnel.linear(["A", "B", "won"], lost="lost")
    conv = ss.conversion(_late_entry_log(), funnel)
    a, b = conv.at("A"), conv.at("B")
    # The truth among deals that were at A: 5 of 10 advanced (not 35 of 40 = 0.875).
    assert (a.entered, a.advanced, a.lost, a.rate) == (10, 5, 5, 0.5)
    assert (a.recorded, a.implied, a.entered_funnel) == (10, 0, 10)
    assert (b.entered, b.recorded, b.implied, b.entered_funnel) == (35, 35, 0, 30)
    assert conv.n_cases == 40
    frame = conv.to_frame()
    assert frame["entered_funnel"].tolist() == [10, 30]
    assert json.dumps(conv.to_dict())


def test_implied_entries_fill_only_gaps_between_recorded_stages() -> None:
    rows = [
        ("j", "A", _t(0)), ("j", "C", _t(2)), ("j", "won", _t(3)),  # jumps over B
        ("k", "C", _t(0)), ("k", "won", _t(1)),  # created at C: never at A or B
    ]  # fmt: skip
    funnel = ss.Funnel.linear(["A", "B", "C", "won"], lost="lost")
    conv = ss.conversion(ss.EventLog.from_records(rows), funnel)
    assert conv.entered.tolist() == [1, 1, 2]
    assert conv.implied.tolist() == [0, 1, 0]
    assert conv.recorded.tolist() == [1, 0, 2]
    assert conv.entered_funnel.tolist() == [1, 0, 1]


def test_the_markov_chain_and_dwell_start_where_deals_were_first_recorded() -> None:
    funnel = ss.Funnel.linear(["A", "B", "won"], lost="lost")
    log = _late_entry_log()
    dwell = ss.time_in_stage(log, funnel)
    assert dwell.at("A").n == 10
    chain = ss.MarkovFunnel.from_log(log, funnel)
    assert isinstance(chain, ss.MarkovFunnel)
    assert chain.at("A").win_probability == pytest.approx(0.5 * 15 / 30)


# --------------------------------------------------------------------- min_stay


def _noisy_log() -> ss.EventLog:
    rows = [
        # d1 clicks through B in 4 seconds on its way to C.
        ("d1", "A", _t(0)), ("d1", "B", _t(2)), ("d1", "C", _t(2, 4)), ("d1", "won", _t(6)),
        # d2 is moved to C by mistake and back to B 3 seconds later.
        ("d2", "A", _t(0)), ("d2", "B", _t(1)), ("d2", "C", _t(3)), ("d2", "B", _t(3, 3)),
        ("d2", "lost", _t(9)),
        # d3 is created at A and moved to B within seconds: it really starts at B.
        ("d3", "A", _t(1)), ("d3", "B", _t(1, 10)), ("d3", "C", _t(5)),
    ]  # fmt: skip
    return ss.EventLog.from_records(rows)


def test_min_stay_reads_click_throughs_as_corrections() -> None:
    funnel = ss.Funnel.linear(["A", "B", "C", "won"], lost="lost")
    log = _noisy_log()
    raw = ss.conversion(log, funnel, skips="strict")
    assert raw.entered.tolist() == [3, 3, 3]
    clean = ss.conversion(log, funnel, skips="strict", min_stay=60)
    # d1: A -> C (B dropped); d2: A -> B -> lost (the C blip and the return merge into B);
    # d3: enters at B.
    assert clean.entered.tolist() == [2, 2, 2]
    assert clean.entered_funnel.tolist() == [2, 1, 0]
    assert clean.at("B").lost == 1
    implied = ss.conversion(log, funnel, min_stay=dt.timedelta(minutes=1))
    assert implied.entered.tolist() == [2, 3, 2]
    assert implied.implied.tolist() == [0, 1, 0]
    dwell = ss.time_in_stage(log, funnel, min_stay=60)
    assert dwell.at("B").n == 2  # d2 and d3; d1's 4-second stay is gone


def test_min_stay_zero_or_none_changes_nothing_and_bad_values_are_refused() -> None:
    funnel = ss.Funnel.linear(["A", "B", "C", "won"], lost="lost")
    log = _noisy_log()
    assert ss.conversion(log, funnel, min_stay=0) == ss.conversion(log, funnel)
    for bad in (-1, "60s", float("nan"), True):
        with pytest.raises(ss.ParameterError, match="min_stay"):
            ss.conversion(log, funnel, min_stay=bad)  # type: ignore[arg-type]


def _planted_noisy_pipeline(seed: int) -> tuple[ss.EventLog, ss.datasets.SyntheticPipeline]:
    """A planted pipeline, then late entries and sub-minute corrections added to it."""
    pd = pytest.importorskip("pandas", reason="the noisy export is built with pandas")
    sim = ss.datasets.synthetic_pipeline(
        20_000, seed=seed, backward=0.0, skip=0.0, rep_effect=0.0, activity_rate=0.0
    )
    frame = sim.log.to_frame()
    frame.columns = ["case", "activity", "time", *frame.columns[3:]]
    rng = np.random.default_rng(seed)
    stages = list(sim.stages)
    pos = frame["activity"].map({s: i for i, s in enumerate(stages)})
    # Late entries: a third of the deals lose the records before their second stage.
    cases = frame["case"].unique()
    late = set(rng.choice(cases, size=len(cases) // 3, replace=False).tolist())
    first_pos = pos.groupby(frame["case"]).transform("min")
    drop = frame["case"].isin(late) & (pos == first_pos) & (pos == 0)
    frame = frame[~drop]
    pos = pos[~drop]
    # Corrections: on a fifth of the stage moves, a rep first picks the stage after the
    # right one and fixes it 5 seconds later.
    moves = frame[pos.notna() & (pos > 0) & (pos < len(stages) - 1)]
    picked = moves.sample(frac=0.2, random_state=seed)
    wrong = picked.copy()
    wrong["activity"] = [stages[int(p) + 1] for p in pos[picked.index]]
    fixed = picked.copy()
    fixed["time"] = fixed["time"] + dt.timedelta(seconds=5)
    noisy = pd.concat([frame.drop(picked.index), wrong, fixed], ignore_index=True)
    log = ss.EventLog.from_frame(noisy, case="case", activity="activity", time="time")
    return log, sim


def test_min_stay_recovers_the_planted_rates_from_a_noisy_export() -> None:
    log, sim = _planted_noisy_pipeline(seed=7)
    noisy = ss.conversion(log, sim.funnel)
    clean = ss.conversion(log, sim.funnel, min_stay=60)
    errors = {s: abs(clean.at(s).rate - sim.advance_probability(s)) for s in sim.stages}
    assert max(errors.values()) <= 0.03, errors
    # Without min_stay the corrections read as passes of the stage after: inflated.
    worst = max(noisy.at(s).rate - sim.advance_probability(s) for s in sim.stages)
    assert worst > 0.03


# --------------------------------------------------------------------- data quality


def test_data_quality_counts_every_kind_of_noise() -> None:
    rows = [
        ("d1", "A", _t(0)), ("d1", "B", _t(2)), ("d1", "C", _t(2, 4)), ("d1", "won", _t(6)),
        ("d1", "call", _t(7)),  # after close
        ("d2", "B", _t(1)), ("d2", "B", _t(2)), ("d2", "A", _t(3)),  # late, repeat, back
        ("d2", "call", _t(3)), ("d2", "call", _t(3)),  # a duplicate row
        ("d3", "call", _t(1)),  # no stage at all
        ("d4", "won", _t(2)),  # created closed
    ]  # fmt: skip
    log = ss.EventLog.from_records(rows)
    funnel = ss.Funnel.linear(["A", "B", "C", "won"], lost="lost")
    dq = ss.data_quality(log, funnel)
    assert dq.count("late_entries") == 1
    assert dq.count("created_closed") == 1
    assert dq.count("short_stays") == 1
    assert dq.count("backward_moves") == 1
    assert dq.count("repeated_stage_events") == 1
    assert dq.count("duplicate_events") == 1
    assert dq.count("events_after_close") == 1
    assert dq.count("cases_without_stage") == 1
    assert dict(dq.non_stage) == {"call": 4}
    assert dict(dq.entered_at) == {"A": 1, "B": 1, "C": 0, "won": 1, "lost": 0}
    assert "outcome 'lost' never occurs" in dq.vocabulary[0]
    assert len(dq.findings) == 10
    assert json.dumps(dq.to_dict())
    assert "late_entries" in dq._repr_html_()


def _as_of_log() -> ss.EventLog:
    rows = [
        ("d1", "A", _t(0)), ("d1", "call", _t(1)), ("d1", "won", _t(4)),
        ("d2", "A", _t(1)), ("d2", "B", _t(19)), ("d2", "B", _t(19)),  # a duplicate, later
        ("d2", "email", _t(20)),  # a non-stage activity seen only later
        ("d3", "call", _t(2)), ("d3", "meeting", _t(14)),  # no stage, ever
        ("d4", "call", _t(3)), ("d4", "A", _t(11)),  # no stage by day 9, one later
        ("d5", "A", _t(14)),  # nothing by day 9
        ("d6", "meeting", _t(4)),  # no stage
    ]  # fmt: skip
    return ss.EventLog.from_records(rows)


def test_data_quality_as_of_leaves_later_events_out_of_every_check() -> None:
    """duplicate_events, non_stage_activities, cases_without_stage and vocabulary counted
    events after as_of (issue 22)."""
    log, funnel = _as_of_log(), ss.Funnel.linear(["A", "B", "won"], lost="lost")
    whole = ss.data_quality(log, funnel)
    assert whole.count("duplicate_events") == 1
    assert dict(whole.non_stage) == {"call": 3, "meeting": 2, "email": 1}
    assert whole.cases[list(whole.check).index("non_stage_activities")] == 5
    assert whole.count("cases_without_stage") == 2  # d3, d6
    assert whole.count("vocabulary") == 1  # 'lost'

    dq = ss.data_quality(log, funnel, as_of=_t(9))
    assert dq.count("duplicate_events") == 0
    assert dq.count("non_stage_activities") == 4  # the calls of d1, d3, d4; d6's meeting
    assert dict(dq.non_stage) == {"call": 3, "meeting": 1}
    assert dq.cases[list(dq.check).index("non_stage_activities")] == 4
    assert dq.count("cases_without_stage") == 3  # d3, d4, d6; d5 has no event yet
    assert dq.count("vocabulary") == 2  # 'B' is first recorded after as_of; 'lost' never
    assert any("stage 'B' never occurs" in m for m in dq.vocabulary)
    assert dq.count("repeated_stage_events") == 0
    assert dq.count("events_after_close") == 0


def test_data_quality_as_of_before_any_stage_reports_the_stages_absent() -> None:
    rows = [("d1", "call", _t(0)), ("d1", "A", _t(3)), ("d1", "won", _t(5))]
    dq = ss.data_quality(
        ss.EventLog.from_records(rows), ss.Funnel.linear(["A", "won"]), as_of=_t(1)
    )
    assert dq.count("cases_without_stage") == 1
    assert dict(dq.non_stage) == {"call": 1}
    assert dq.count("vocabulary") == 2  # neither 'A' nor 'won' occurs by then


def test_data_quality_of_a_clean_log_finds_nothing() -> None:
    rows = [("d1", "A", _t(0)), ("d1", "won", _t(3)), ("d2", "A", _t(1)), ("d2", "lost", _t(2))]
    dq = ss.data_quality(
        ss.EventLog.from_records(rows), ss.Funnel.linear(["A", "won"], lost="lost")
    )
    assert dq.findings == ()
    assert dq.events.sum() == 0


def test_every_call_warns_even_when_the_episodes_come_from_the_cache() -> None:
    log = _crm_log()
    funnel = ss.Funnel.linear(["Prospección", "Diseño", "Won"], lost="Closed Lost")
    ss.data_quality(log, funnel)  # builds and caches the episodes without warning
    for _ in range(2):
        with pytest.warns(ss.VocabularyWarning, match="'Won' never occurs"):
            ss.conversion(log, funnel)


_NFC = unicodedata.normalize("NFC", "Diseño")
_NFD = unicodedata.normalize("NFD", "Diseño")


def test_names_differing_only_in_unicode_normalisation_are_explained() -> None:
    """NFD and NFC 'Diseño' were shown as two identical-looking names (issue 22)."""
    assert _NFC != _NFD
    log = ss.EventLog.from_records(
        [("d1", "Lead", _t(0)), ("d1", _NFD, _t(1)), ("d1", "Won", _t(2))]
    )
    funnel = ss.Funnel.linear(["Lead", _NFC, "Won"])
    note = (
        f"({_NFC!r} in the funnel and {_NFD!r} in the log differ only in Unicode "
        "normalisation: NFC vs NFD; write both the same way"
    )
    with pytest.warns(ss.VocabularyWarning) as record:
        result = ss.conversion(log, funnel)
    assert any(note in str(w.message) for w in record)
    assert result.at(_NFC).recorded == 0  # a near-match, explained, not merged
    with pytest.raises(ss.UnknownStageError, match="Did you mean") as info:
        result.at(_NFD)
    assert "differ only in Unicode normalisation: NFD vs NFC" in str(info.value)


def test_an_activity_spelt_in_another_normal_form_beside_the_stage_is_explained() -> None:
    log = ss.EventLog.from_records(
        [("d1", "Lead", _t(0)), ("d1", _NFC, _t(1)), ("d2", _NFD, _t(1)), ("d1", "Won", _t(2))]
    )
    with pytest.warns(ss.VocabularyWarning, match="nearly matches stage") as record:
        ss.conversion(log, ss.Funnel.linear(["Lead", _NFC, "Won"]))
    assert any("NFC vs NFD" in str(w.message) for w in record)
