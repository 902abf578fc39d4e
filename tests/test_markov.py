"""Tests of `salesstd.markov`: the funnel as an absorbing Markov chain."""

from __future__ import annotations

import csv
import json
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesstd as ss
from _data import data_file
from salesstd._engine.episodes import build_episodes
from salesstd.errors import ParameterError, UnknownStageError
from salesstd.markov import _bootstrap as mb
from strategies import funnels, stage_logs

# --------------------------------------------------------------------- hand-computed log

# Funnel a -> b -> won, any open stage -> lost; as_of = last event, 01-06.
#   d1: a 01-01, b 01-03, won 01-06     a 2 (moved)  b 3 (moved)
#   d2: a 01-01, b 01-05, lost 01-06    a 4 (moved)  b 1 (moved)
#   d3: a 01-01, lost 01-03             a 2 (moved)
#   d4: a 01-01                         a 5+ (censored at 01-06)
# Moves: a->b 2, a->lost 1, b->won 1, b->lost 1.
# Stay in a, Kaplan-Meier: S(2) = 1 - 2/4 = 0.5, S(4) = 0.5 (1 - 1/2) = 0.25; restricted mean
# to the longest stay (5): 2 * 1 + 2 * 0.5 + 1 * 0.25 = 3.25. Stay in b: S(1) = 0.5, S(3) = 0,
# mean to 3: 1 + 2 * 0.5 = 2.
FUNNEL = ss.Funnel.linear(["a", "b", "won"], lost="lost")
ROWS = [
    ("d1", "a", "2024-01-01"),
    ("d1", "b", "2024-01-03"),
    ("d1", "won", "2024-01-06"),
    ("d2", "a", "2024-01-01"),
    ("d2", "b", "2024-01-05"),
    ("d2", "lost", "2024-01-06"),
    ("d3", "a", "2024-01-01"),
    ("d3", "lost", "2024-01-03"),
    ("d4", "a", "2024-01-01"),
]


def hand() -> ss.MarkovFunnel:
    chain = ss.MarkovFunnel.from_log(ss.EventLog.from_records(ROWS), FUNNEL)
    assert isinstance(chain, ss.MarkovFunnel)
    return chain


def fit(log: ss.EventLog, funnel: ss.Funnel, *, as_of: object = None) -> ss.MarkovFunnel:
    chain = ss.MarkovFunnel.from_log(log, funnel, as_of=as_of)
    assert isinstance(chain, ss.MarkovFunnel)
    return chain


def test_hand_log_counts_and_probabilities() -> None:
    chain = hand()
    assert chain.states == ("a", "b", "won", "lost")
    assert chain.n_open == 2
    assert chain.counts.tolist() == [[0, 2, 0, 1], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert chain.probabilities[0].tolist() == pytest.approx([0, 2 / 3, 0, 1 / 3])
    assert chain.probabilities[1].tolist() == pytest.approx([0, 0, 0.5, 0.5])
    assert chain.probabilities[2:].tolist() == [[0, 0, 1, 0], [0, 0, 0, 1]]
    assert chain.n_cases == 4
    assert str(chain.as_of) == "2024-01-06 00:00:00+00:00"


def test_hand_log_dwell_is_censoring_aware() -> None:
    chain = hand()
    assert chain.dwell_mean_days.tolist() == pytest.approx([3.25, 2.0])
    assert chain.dwell.n.tolist() == [4, 2]
    assert chain.dwell.n_censored.tolist() == [1, 0]
    row = chain.at("a")
    assert (row.visits, row.moves, row.censored) == (4, 3, 1)


def test_hand_log_absorbing_algebra() -> None:
    chain = hand()
    assert chain.win_probability().tolist() == pytest.approx([1 / 3, 1 / 2])
    assert np.allclose(chain.fundamental_matrix(), np.array([[1, 2 / 3], [0, 1]]))
    assert np.allclose(chain.absorption_probabilities(), np.array([[1 / 3, 2 / 3], [1 / 2, 1 / 2]]))
    assert chain.expected_steps().tolist() == pytest.approx([5 / 3, 1])
    assert chain.expected_time_to_close().tolist() == pytest.approx([3.25 + 2 / 3 * 2, 2])
    # Given won: Q*_ab = (2/3)(1/2)/(1/3) = 1, so a won deal always passes b.
    assert chain.expected_time_to_close(given="won").tolist() == pytest.approx([5.25, 2])


def test_hand_log_sensitivity_closed_form() -> None:
    sens = hand().sensitivity()
    assert sens.start == "a"
    assert sens.win_probability == pytest.approx(1 / 3)
    pairs = list(zip(sens.source.tolist(), sens.target.tolist(), strict=True))
    assert pairs == [("a", "b"), ("b", "won"), ("b", "lost"), ("a", "lost")]
    assert sens.derivative.tolist() == pytest.approx([0.5, 2 / 3, -2 / 3, -0.5])
    assert sens.elasticity.tolist() == pytest.approx([1, 1, -1, -0.5])
    row = sens.at("b", "won")
    assert row.probability == 0.5
    assert row.derivative == pytest.approx(2 / 3)
    from_b = hand().sensitivity(start="b")
    assert from_b.at("a", "b").derivative == 0.0  # a is not reachable from b
    assert from_b.at("b", "won").derivative == pytest.approx(1.0)


def test_deterministic_stays_give_exact_expected_time() -> None:
    # a always lasts 2 days, b 3 days; d3 goes back from b to a once.
    rows = [
        ("d1", "a", "2024-01-01"),
        ("d1", "b", "2024-01-03"),
        ("d1", "won", "2024-01-06"),
        ("d2", "a", "2024-01-01"),
        ("d2", "b", "2024-01-03"),
        ("d2", "lost", "2024-01-06"),
        ("d3", "a", "2024-01-01"),
        ("d3", "b", "2024-01-03"),
        ("d3", "a", "2024-01-06"),
        ("d3", "b", "2024-01-08"),
        ("d3", "won", "2024-01-11"),
    ]
    f = FUNNEL.with_edge("b", "a")
    chain = fit(ss.EventLog.from_records(rows), f)
    assert chain.dwell_mean_days.tolist() == [2.0, 3.0]
    assert chain.probabilities[1].tolist() == [0.25, 0, 0.5, 0.25]
    # Visits to a and b from a: 1 / (1 - 1/4) each; time 4/3 * 2 + 4/3 * 3 = 20/3, which is
    # also the mean cycle time of the three deals (5, 5, 10 days).
    assert chain.expected_steps()[0] == pytest.approx(8 / 3)
    assert chain.expected_time_to_close()[0] == pytest.approx(20 / 3)
    assert chain.win_probability()[0] == pytest.approx(2 / 3)
    # b_a = b_b, so conditioning on winning leaves Q unchanged here.
    assert chain.expected_time_to_close(given="won")[0] == pytest.approx(20 / 3)


def test_stage_never_left_is_undefined_and_spreads_to_its_feeders_only() -> None:
    f = ss.Funnel.from_edges(
        [("a", "b"), ("a", "c"), ("b", "won"), ("c", "won"), ("a", "lost"), ("b", "lost")],
        won="won",
        lost="lost",
        order=["a", "b", "c"],
    )
    rows = [
        ("d1", "a", "2024-01-01"),
        ("d1", "b", "2024-01-02"),
        ("d1", "won", "2024-01-04"),
        ("d2", "a", "2024-01-01"),
        ("d2", "c", "2024-01-03"),  # c is never left
    ]
    chain = fit(ss.EventLog.from_records(rows), f)
    assert np.isnan(chain.probabilities[2]).all()
    win = chain.win_probability()
    assert np.isnan(win[0])  # a can reach c
    assert np.isnan(win[2])
    assert win[1] == 1.0  # b cannot reach c
    assert chain.expected_time_to_close()[1] == 2.0
    assert np.isnan(chain.sensitivity().derivative).all()
    # Giving c an exit makes the whole chain defined.
    fixed = chain.with_probability("c", "won", 1.0)
    assert fixed.win_probability().tolist() == [1.0, 1.0, 1.0]
    json.dumps(chain.to_dict())


def test_cycle_without_exit_is_undefined() -> None:
    f = ss.Funnel.linear(["a", "b", "won"], lost="lost").with_edge("b", "a")
    rows = [
        ("d1", "a", "2024-01-01"),
        ("d1", "b", "2024-01-02"),
        ("d1", "a", "2024-01-03"),
        ("d1", "b", "2024-01-04"),
    ]
    chain = fit(ss.EventLog.from_records(rows), f)
    assert chain.probabilities[:2, :2].tolist() == [[0, 1], [1, 0]]
    assert np.isnan(chain.win_probability()).all()
    assert np.isnan(chain.fundamental_matrix()).all()


# --------------------------------------------------------------------- what-ifs


def test_with_probability_rescales_the_other_exits() -> None:
    chain = hand()
    new = chain.with_probability("a", "b", 0.9)
    assert new.probabilities[0].tolist() == pytest.approx([0, 0.9, 0, 0.1])
    assert new.win_probability()[0] == pytest.approx(0.45)
    assert new.counts.tolist() == chain.counts.tolist()  # counts stay as observed
    assert chain.probabilities[0, 1] == pytest.approx(2 / 3)  # the original is unchanged
    assert new.with_probability("a", "lost", 1.0).probabilities[0].tolist() == [0, 0, 0, 1]


def test_with_dwell_changes_expected_times_along_the_fundamental_matrix() -> None:
    chain = hand()
    base = chain.expected_time_to_close()
    n = chain.fundamental_matrix()
    longer = chain.with_dwell("b", mean_days=5.0)
    assert longer.expected_time_to_close() == pytest.approx(base + n[:, 1] * 3.0)
    halved = chain.with_dwell("a", factor=0.5)
    assert halved.dwell_mean_days.tolist() == pytest.approx([1.625, 2.0])
    assert halved.win_probability().tolist() == pytest.approx(chain.win_probability().tolist())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda c: c.at("bb"), UnknownStageError, "Did you mean 'b'"),
        (lambda c: c.at("won"), UnknownStageError, "outcome"),
        (lambda c: c.with_probability("a", "b", 1.5), ParameterError, "between 0 and 1"),
        (lambda c: c.with_probability("a", "b", -0.1), ParameterError, "between 0 and 1"),
        (lambda c: c.with_probability("a", "wonn", 0.5), UnknownStageError, "Did you mean"),
        (lambda c: c.with_probability("x", "b", 0.5), UnknownStageError, "not an open stage"),
        (lambda c: c.with_probability("a", "a", 0.5), ParameterError, "itself"),
        (lambda c: c.with_dwell("a"), ParameterError, "exactly one"),
        (lambda c: c.with_dwell("a", mean_days=1, factor=2), ParameterError, "exactly one"),
        (lambda c: c.with_dwell("a", mean_days=-1), ParameterError, "positive"),
        (lambda c: c.sensitivity(start="lsot"), UnknownStageError, "outcome|not an open"),
        (lambda c: c.expected_time_to_close(given="wonn"), ParameterError, "Did you mean"),
        (lambda c: c.sensitivity().at("a", "wonn"), UnknownStageError, "Did you mean"),
        (lambda c: c.sensitivity().at("a", "won"), ParameterError, "probability 0"),
    ],
)
def test_errors(call, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        call(hand())


def test_no_other_exit_to_rescale_is_refused() -> None:
    chain = hand().with_probability("a", "b", 1.0)
    with pytest.raises(ParameterError, match="no exit besides"):
        chain.with_probability("a", "b", 0.5)
    assert np.isnan(chain.sensitivity().at("a", "b").derivative)


def test_by_splits_cases_and_unknown_attribute_is_refused() -> None:
    rows = [(*r, {"d1": "eu", "d2": "us", "d3": "eu", "d4": None}[r[0]]) for r in ROWS]
    log = ss.EventLog.from_records(
        rows, names=("case", "activity", "time", "region"), case_attributes=["region"]
    )
    chains = ss.MarkovFunnel.from_log(log, FUNNEL, by="region")
    assert isinstance(chains, dict)
    assert list(chains) == ["eu", "us", None]
    assert np.sum([c.counts for c in chains.values()], axis=0).tolist() == hand().counts.tolist()
    assert chains["eu"].win_probability()[0] == pytest.approx(0.5)
    assert chains["eu"].group == "eu"
    assert chains["eu"].by == "region"
    assert chains[None].n_cases == 1
    with pytest.raises(ParameterError, match="Did you mean 'region'"):
        ss.MarkovFunnel.from_log(log, FUNNEL, by="regoin")


def test_as_of_censors_later_events() -> None:
    chain = fit(ss.EventLog.from_records(ROWS), FUNNEL, as_of="2024-01-04")
    # By 01-04: d1 in b since 01-03 (censored), d2 and d4 still in a, d3 lost.
    assert chain.counts.tolist()[0] == [0, 1, 0, 1]
    assert chain.counts[1].sum() == 0
    assert np.isnan(chain.win_probability()).all()
    with pytest.raises(ParameterError, match="before the log starts"):
        ss.MarkovFunnel.from_log(ss.EventLog.from_records(ROWS), FUNNEL, as_of="2023-01-01")


def test_results_convert_and_print() -> None:
    chain = hand()
    assert repr(chain) == "MarkovFunnel(stages=2, cases=4, win=0.3333)"
    data = chain.to_dict()
    json.dumps(data)
    rows: Any = data["rows"]
    moves: Any = data["transitions"]
    assert [r["stage"] for r in rows] == ["a", "b"]
    assert moves[0] == {
        "from": "a",
        "to": "b",
        "count": 2,
        "probability": pytest.approx(2 / 3),
    }
    frame = chain.to_frame()
    assert list(frame.columns) == [
        "stage",
        "visits",
        "moves",
        "censored",
        "dwell_mean_days",
        "win_probability",
        "expected_steps",
        "expected_days_to_close",
        "expected_days_to_win",
    ]
    table = chain.transition_frame(backend="polars")
    assert table.columns == ["from", "to", "count", "probability"]
    assert table.height == 4
    sens = chain.sensitivity()
    json.dumps(sens.to_dict())
    assert repr(sens) == "SensitivityResult(start='a', moves=4, win=0.3333)"
    assert "<table>" in chain._repr_html_()
    assert chain == hand()


# --------------------------------------------------------------------- planted answers


@pytest.fixture(scope="module")
def sim() -> ss.datasets.SyntheticPipeline:
    return ss.datasets.synthetic_pipeline(6000, seed=11, rep_effect=0.0)


def test_planted_probabilities_and_win_rates(sim) -> None:  # type: ignore[no-untyped-def]
    chain = fit(sim.log, sim.funnel)
    assert chain.states == (*sim.stages, sim.won, sim.lost)
    truth = sim.transition_matrix()
    assert np.abs(chain.probabilities - truth).max() < 0.04
    true_win = np.array(list(sim.win_probability().values()))
    assert np.abs(chain.win_probability() - true_win).max() < 0.03
    # The closed form on the true matrix is what the chain algebra gives on it too.
    planted = chain.with_probability(sim.stages[0], sim.stages[1], truth[0, 1])
    assert planted.probabilities[0, 1] == truth[0, 1]


def test_planted_dwell_and_time_to_close(sim) -> None:  # type: ignore[no-untyped-def]
    chain = fit(sim.log, sim.funnel)
    true_mean = np.array([sim.dwell_distribution(s).mean for s in sim.stages])
    assert np.abs(chain.dwell_mean_days / true_mean - 1).max() < 0.08
    n = len(sim.stages)
    q = sim.transition_matrix()[:n, :n]
    true_time = np.linalg.solve(np.eye(n) - q, true_mean)
    assert np.abs(chain.expected_time_to_close() / true_time - 1).max() < 0.06


def test_sensitivity_equals_finite_differences(sim) -> None:  # type: ignore[no-untyped-def]
    chain = fit(sim.log, sim.funnel)
    for start in (sim.stages[0], sim.stages[2]):
        sens = chain.sensitivity(start=start)
        s = sim.stages.index(start)
        h = 1e-6
        for row in range(sens.source.size):
            src, tgt = str(sens.source[row]), str(sens.target[row])
            p = float(sens.probability[row])
            lo, hi = max(p - h, 0.0), min(p + h, 1.0)
            up = chain.with_probability(src, tgt, hi).win_probability()[s]
            down = chain.with_probability(src, tgt, lo).win_probability()[s]
            assert sens.derivative[row] == pytest.approx((up - down) / (hi - lo), abs=1e-6)
        assert np.all(np.diff(np.abs(sens.elasticity)) <= 0)


def test_bootstrap_is_reproducible_and_brackets_the_estimate(sim) -> None:  # type: ignore[no-untyped-def]
    boot = ss.MarkovFunnel.bootstrap(sim.log, sim.funnel, n_boot=60, seed=4)
    again = ss.MarkovFunnel.bootstrap(sim.log, sim.funnel, n_boot=60, seed=4)
    assert boot == again
    assert boot.win_replicates.shape == (60, len(sim.stages))
    assert np.all(boot.win_low <= boot.win_probability)
    assert np.all(boot.win_probability <= boot.win_high)
    assert np.all(boot.days_low <= boot.expected_days_to_close)
    assert np.all(boot.expected_days_to_close <= boot.days_high)
    assert boot.replicates.tolist() == [60] * len(sim.stages)
    row = boot.at(sim.stages[1])
    assert row.win_low == boot.win_low[1]
    json.dumps(boot.to_dict())
    assert repr(boot).startswith("MarkovBootstrap(stages=5, cases=6000, n_boot=60")


def test_bootstrap_intervals_cover_the_planted_win_probability() -> None:
    # 95% intervals over 20 independent simulations: at most 3 misses has probability 0.98.
    covered = 0
    for seed in range(20):
        sim = ss.datasets.synthetic_pipeline(500, seed=200 + seed, rep_effect=0.0)
        boot = ss.MarkovFunnel.bootstrap(sim.log, sim.funnel, n_boot=100, seed=seed)
        truth = sim.win_probability()[sim.stages[0]]
        covered += int(boot.win_low[0] <= truth <= boot.win_high[0])
    assert covered >= 17


def test_weighted_stay_means_equal_kaplan_meier_on_repeated_rows(sim) -> None:  # type: ignore[no-untyped-def]
    ep = build_episodes(sim.log, sim.funnel, skips="strict")
    stays = mb._Stays.build(ep)
    chain = fit(sim.log, sim.funnel)
    ones = np.ones(ep.n_cases)
    assert stays.means(ones) == pytest.approx(chain.dwell_mean_days, rel=1e-12)
    weight = np.random.default_rng(0).integers(0, 3, ep.n_cases).astype(float)
    rows = np.flatnonzero(ep.stage < ep.n_open)
    rep = np.repeat(rows, weight[ep.case[rows]].astype(int))
    days = ep.duration_days()
    km = ss.stats.kaplan_meier(days[rep], ep.moved[rep], ep.stage[rep], n_groups=ep.n_open)
    longest = np.array([days[rows][ep.stage[rows] == k].max() for k in range(ep.n_open)])
    assert stays.means(weight) == pytest.approx(km.restricted_mean(longest).value, rel=1e-10)


def test_bootstrap_refuses_bad_options() -> None:
    log = ss.EventLog.from_records(ROWS)
    with pytest.raises(ParameterError, match="n_boot"):
        ss.MarkovFunnel.bootstrap(log, FUNNEL, n_boot=0)
    with pytest.raises(ParameterError, match=r"For 95% pass 0\.95"):
        ss.MarkovFunnel.bootstrap(log, FUNNEL, confidence_level=95)
    with pytest.raises(ParameterError, match="seed"):
        ss.MarkovFunnel.bootstrap(log, FUNNEL, seed=-1)


# --------------------------------------------------------------------- properties


@settings(deadline=None)
@given(funnels(back_edges=True).flatmap(lambda f: st.tuples(st.just(f), stage_logs(f))))
def test_chain_invariants(case: tuple[ss.Funnel, ss.EventLog]) -> None:
    funnel, log = case
    chain = fit(log, funnel)
    n = chain.n_open
    p = chain.probabilities
    rows = p[:n].sum(axis=1)
    assert np.all(np.isnan(rows) | np.isclose(rows, 1.0))
    assert np.array_equal(p[n:, n:], np.eye(len(chain.states) - n))
    ep = build_episodes(log, funnel, skips="strict")
    assert int(chain.counts.sum()) == int((ep.moved & (ep.stage < n)).sum())
    win = chain.win_probability()
    ok = ~np.isnan(win)
    assert np.all((win[ok] >= 0) & (win[ok] <= 1))
    absorbed = chain.absorption_probabilities()[ok].sum(axis=1)
    assert np.allclose(absorbed, 1.0)
    assert np.all(chain.expected_steps()[ok] >= 1 - 1e-9)
    close = chain.expected_time_to_close()
    assert np.all(close[ok] >= -1e-9)
    assert np.array_equal(np.isnan(close), ~ok)
    json.dumps(chain.to_dict())
    sens = chain.sensitivity()
    if ok[0]:
        for row in range(sens.source.size):
            src, tgt = str(sens.source[row]), str(sens.target[row])
            prob = float(sens.probability[row])
            if not 0 < prob < 1:
                continue
            h = min(1e-7, prob / 2, (1 - prob) / 2)
            up = chain.with_probability(src, tgt, prob + h).win_probability()[0]
            down = chain.with_probability(src, tgt, prob - h).win_probability()[0]
            assert sens.derivative[row] == pytest.approx((up - down) / (2 * h), abs=1e-5)


@settings(deadline=None)
@given(funnels().flatmap(lambda f: st.tuples(st.just(f), stage_logs(f))))
def test_groups_add_up(case: tuple[ss.Funnel, ss.EventLog]) -> None:
    funnel, log = case
    chains = ss.MarkovFunnel.from_log(log, funnel, by="segment")
    assert isinstance(chains, dict)
    total = fit(log, funnel)
    assert np.sum([c.counts for c in chains.values()], axis=0).tolist() == total.counts.tolist()
    assert sum(c.n_cases for c in chains.values()) == total.n_cases
    assert np.sum([c.dwell.n for c in chains.values()], axis=0).tolist() == total.dwell.n.tolist()


# --------------------------------------------------------------------- real data


def test_maven_crm_win_probability_matches_the_raw_table() -> None:
    with data_file("maven-crm", "sales_pipeline.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["engage_date"]]
    won = sum(r["deal_stage"] == "Won" for r in rows)
    lost = sum(r["deal_stage"] == "Lost" for r in rows)
    engaging = sum(r["deal_stage"] == "Engaging" for r in rows)
    log = ss.datasets.load_crm_opportunities()
    f = ss.Funnel.linear(["Engaging", "Won"], lost="Lost")
    chain = fit(log, f)
    assert chain.counts[0].tolist() == [0, won, lost]
    assert chain.win_probability()[0] == pytest.approx(won / (won + lost))
    row = chain.at("Engaging")
    assert row.censored == engaging
    assert row.expected_steps == 1.0
    # One stage: the time to close is the mean stay, the KM restricted mean of the dwell.
    dwell = ss.time_in_stage(log, f).at("Engaging")
    assert row.expected_days_to_close == pytest.approx(chain.dwell_mean_days[0])
    assert dwell.censored == engaging
    by_office = ss.MarkovFunnel.from_log(log, f, by="regional_office")
    assert isinstance(by_office, dict)
    assert len(by_office) == 3
    assert sum(int(c.counts[0, 1]) for c in by_office.values()) == won


@pytest.mark.slow
def test_bootstrap_of_a_million_events_is_quick() -> None:
    sim = ss.datasets.synthetic_pipeline(100_000, seed=5, rep_effect=0.0)
    assert sim.log.n_events > 900_000
    start = time.perf_counter()
    boot = ss.MarkovFunnel.bootstrap(sim.log, sim.funnel, n_boot=200, seed=1)
    assert time.perf_counter() - start < 30
    truth = np.array(list(sim.win_probability().values()))
    assert np.all((boot.win_low <= truth + 0.01) & (truth - 0.01 <= boot.win_high))


# --------------------------------------------------------------------- size limit (issue 22)

_HUGE_FUNNEL = ss.Funnel.linear([f"s{i}" for i in range(10_000)], won="won", lost="lost")
_TINY_LOG = ss.EventLog.from_records(
    [("d1", "s0", "2024-01-01"), ("d1", "s1", "2024-01-02"), ("d2", "s0", "2024-01-01")]
)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: ss.MarkovFunnel.from_log(_TINY_LOG, _HUGE_FUNNEL), id="MarkovFunnel.from_log"
        ),
        pytest.param(
            lambda: ss.MarkovFunnel.bootstrap(_TINY_LOG, _HUGE_FUNNEL, n_boot=2, seed=0),
            id="MarkovFunnel.bootstrap",
        ),
        pytest.param(
            lambda: ss.forecast(_TINY_LOG, _HUGE_FUNNEL, horizon=5, n=10, seed=0), id="forecast"
        ),
        pytest.param(
            lambda: ss.backtest_forecast(
                _TINY_LOG, _HUGE_FUNNEL, cutoffs=["2024-01-01"], horizon=1, n=10, seed=0
            ),
            id="backtest_forecast",
        ),
        pytest.param(
            # n_boot at its limit: the chain's size is checked before any bootstrap runs.
            lambda: ss.bottlenecks(_TINY_LOG, _HUGE_FUNNEL, by=None, n_boot=100_000),
            id="bottlenecks",
        ),
    ],
)
def test_a_funnel_too_large_for_dense_matrices_is_refused_with_the_limit(call: Any) -> None:
    """10,000 stages died with numpy's MemoryError (10,000 x 10,002 float64 matrices).

    The size is checked once, where the chain's matrices are allocated (`_engine.chain`),
    which every entry point reaches.
    """
    with pytest.raises(
        ss.FunnelError,
        match=r"^the Markov chain builds dense 10,002 x 10,002 matrices \(763 MB each\) for a "
        r"funnel of 10,002 stages \(10,000 open, 2 outcomes\); the limit is 2,000 stages\.",
    ):
        call()


def test_a_funnel_at_the_limit_is_still_fitted() -> None:
    funnel = ss.Funnel.linear([f"s{i}" for i in range(1_998)], won="won", lost="lost")
    log = ss.EventLog.from_records(
        [("d1", "s0", "2024-01-01"), ("d1", "s1", "2024-01-02"), ("d1", "won", "2024-01-03")]
    )
    chain = ss.MarkovFunnel.from_log(log, funnel)
    assert chain.n_open == 1_998
    assert chain.at("s0").win_probability == 1.0
