"""Tests of salesstd.forecast: known answers, properties, planted answers, BPIC 2012."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesstd as ss
import strategies
from salesstd import stats
from salesstd.errors import ParameterError, UnknownStageError
from salesstd.metrics._episodes import build_episodes

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BPIC = DATA / "bpic2012" / "BPI_Challenge_2012.xes.gz"
# `ss.forecast` is the function; the module holds the private pieces tested below.
fc_module = importlib.import_module("salesstd.forecast")

F2 = ss.Funnel.linear(["lead", "won"], lost="lost")
F3 = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def day(n: float) -> dt.datetime:
    return START + dt.timedelta(days=n)


def ten_day_wins(open_start: float, *, closed: int = 4) -> ss.EventLog:
    """`closed` deals each stay exactly 10 days in lead and are won; one deal opens later.

    The log ends with the last win (day 3 * (closed - 1) + 10); the open deal enters lead
    at `open_start`.
    """
    rows: list[tuple[str, str, dt.datetime, float]] = []
    for i in range(closed):
        rows += [
            (f"d{i}", "lead", day(3 * i), 100.0 + i),
            (f"d{i}", "won", day(3 * i + 10), 100.0 + i),
        ]
    rows.append(("open", "lead", day(open_start), 500.0))
    return ss.EventLog.from_records(
        rows, names=("case", "activity", "time", "amount"), case_attributes=["amount"]
    )


# --------------------------------------------------------------------- known answers


@pytest.mark.parametrize("uncertainty", ["process", "parameters"])
@pytest.mark.parametrize(
    ("age", "horizon", "wins"),
    [(0.0, 10.0, 1.0), (0.0, 9.99, 0.0), (4.0, 6.0, 1.0), (4.0, 5.9, 0.0), (9.5, 0.5, 1.0)],
)
def test_one_open_deal_with_a_fixed_stay(
    age: float, horizon: float, wins: float, uncertainty: Literal["process", "parameters"]
) -> None:
    log = ten_day_wins(19.0 - age)  # the log ends on day 19 (the last win)
    res = ss.forecast(
        log, F2, horizon=horizon, n=50, seed=3, value="amount", uncertainty=uncertainty
    )
    assert res.n_open == 1
    assert res.cases.tolist() == ["open"]
    assert res.deal_age_days.tolist() == pytest.approx([age])
    assert res.wins == wins
    assert res.wins_interval.low == res.wins_interval.high == wins
    assert res.won_value == 500.0 * wins
    assert res.naive == 1.0  # P(win | lead) = 1, whatever the horizon and the age


def test_a_deal_older_than_every_recorded_stay_does_not_move() -> None:
    log = ten_day_wins(19.0 - 12.0, closed=4)  # 12 days in lead; every stay lasted 10
    res = ss.forecast(log, F2, horizon=1000, n=20, seed=1)
    assert res.wins == 0.0
    assert res.naive == 1.0


def test_horizon_accepts_a_timedelta() -> None:
    log = ten_day_wins(15.0)
    by_days = ss.forecast(log, F2, horizon=6, n=20, seed=1)
    by_delta = ss.forecast(log, F2, horizon=dt.timedelta(days=6), n=20, seed=1)
    assert by_days.wins == by_delta.wins == 1.0
    assert by_delta.horizon_days == 6.0


def test_two_stages_add_up_their_stays() -> None:
    rows = []
    for i in range(3):
        rows += [
            (f"d{i}", "lead", day(i)),
            (f"d{i}", "qualified", day(i + 2)),
            (f"d{i}", "won", day(i + 5)),
        ]
    rows.append(("open", "lead", day(6)))  # log ends on day 7: age 1 in lead
    log = ss.EventLog.from_records(rows)
    # one more day in lead, three in qualified: won on day 4 after as_of
    assert ss.forecast(log, F3, horizon=4, n=20, seed=1).wins == 1.0
    assert ss.forecast(log, F3, horizon=3.99, n=20, seed=1).wins == 0.0
    res = ss.forecast(log, F3, horizon=4, n=20, seed=1)
    assert res.at("lead").open_deals == 1
    assert res.at("qualified").open_deals == 0
    assert res.stages == ("lead", "qualified")


def competing_exits() -> ss.EventLog:
    """Stays of 1 day end won, stays of 10 days end lost (3 each); one deal 5 days in."""
    rows = []
    for i in range(3):
        rows += [(f"w{i}", "lead", day(i)), (f"w{i}", "won", day(i + 1))]
        rows += [(f"l{i}", "lead", day(i)), (f"l{i}", "lost", day(i + 10))]
    rows += [("open", "lead", day(7)), ("late", "other", day(12))]
    return ss.EventLog.from_records(rows)


def test_renewal_model_lets_the_stay_decide_the_exit() -> None:
    log = competing_exits()
    funnel = F2.with_activities(None)
    renewal = ss.forecast(log, funnel, horizon=30, n=4000, seed=5, uncertainty="process")
    markov = ss.forecast(
        log, funnel, horizon=30, n=4000, seed=5, model="markov", uncertainty="process"
    )
    # 5 days in: only the 10-day stays are left, and they all ended lost.
    assert renewal.wins == 0.0
    # The semi-Markov model ignores the stay: it wins with the share of wins, 1/2.
    assert markov.wins == pytest.approx(0.5, abs=0.03)
    assert renewal.naive == markov.naive == pytest.approx(0.5)


def test_per_stage_and_per_deal_parts_add_up() -> None:
    sim = ss.datasets.synthetic_pipeline(300, seed=2)
    res = ss.forecast(sim.log, sim.funnel, horizon=30, value="amount", n=500, seed=1)
    assert res.expected_wins.sum() == pytest.approx(res.wins)
    assert res.deal_probability.sum() == pytest.approx(res.wins)
    assert res.expected_value.sum() == pytest.approx(res.won_value)
    assert int(res.open_deals.sum()) == res.n_open == res.cases.size
    assert res.weighted_pipeline == pytest.approx(res.open_deals * res.win_probability)
    low, high = res.value_interval.low, res.value_interval.high
    assert low <= res.won_value <= high
    assert res.simulated_wins.size == 500
    row = res.at("Proposal")
    assert row.stage == "Proposal"
    assert row.expected_wins == pytest.approx(float(res.expected_wins[3]))


def test_without_value_the_value_columns_are_empty() -> None:
    res = ss.forecast(ten_day_wins(15.0), F2, horizon=6, n=10, seed=1)
    assert np.isnan(res.won_value)
    assert np.isnan(res.value_interval.low)
    assert np.isnan(res.at("lead").expected_value)
    assert "won_value" not in res.to_dict()["summary"]  # type: ignore[operator]


def test_no_open_deals() -> None:
    log = ss.EventLog.from_records([("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-05")])
    res = ss.forecast(log, F2, horizon=10, n=5, seed=1)
    assert res.n_open == 0
    assert res.wins == 0.0
    assert res.naive == 0.0


def test_seed_makes_it_reproducible() -> None:
    sim = ss.datasets.synthetic_pipeline(200, seed=4)
    a = ss.forecast(sim.log, sim.funnel, horizon=20, n=300, seed=7)
    b = ss.forecast(sim.log, sim.funnel, horizon=20, n=300, seed=7)
    c = ss.forecast(sim.log, sim.funnel, horizon=20, n=300, seed=8)
    assert a == b
    assert a.to_dict() == b.to_dict()
    assert not np.array_equal(a.simulated_wins, c.simulated_wins)


def test_nothing_after_as_of_is_read() -> None:
    sim = ss.datasets.synthetic_pipeline(300, seed=6)
    cut = "2024-09-01"
    full = ss.forecast(sim.log, sim.funnel, as_of=cut, horizon=30, value="amount", n=300, seed=2)
    cut_ns = int(np.datetime64(cut, "ns").view(np.int64))
    truncated = sim.log.where(end=np.datetime64(cut_ns + 1, "ns"))
    short = ss.forecast(truncated, sim.funnel, as_of=cut, horizon=30, value="amount", n=300, seed=2)
    assert full.to_dict() == short.to_dict()
    assert full.n_open >= 10


def test_backtest_by_hand() -> None:
    rows = [
        ("d1", "lead", "2024-01-01"),
        ("d1", "won", "2024-01-11"),
        ("d2", "lead", "2024-01-05"),
        ("d2", "won", "2024-01-15"),
        ("d3", "lead", "2024-01-14"),
        ("d3", "won", "2024-01-24"),
        ("d4", "lead", "2024-01-12"),
        ("d4", "lost", "2024-01-13"),
        ("d5", "lead", "2024-01-13"),
        ("d5", "won", "2024-02-20"),
    ]
    log = ss.EventLog.from_records(rows)
    bt = ss.backtest_forecast(log, F2, cutoffs=["2024-01-12", "2024-01-16"], horizon=7, n=200)
    # At Jan 12: d2 (7 days in) open; d4 enters lead at Jan 12 (cut there, 0 days in).
    first = bt.at("2024-01-12")
    assert first.open_deals == 2
    assert first.actual == 1  # d2 won on Jan 15; d4 was lost
    assert bt.cutoff.dtype == np.dtype("datetime64[ns]")
    second = bt.at(dt.datetime(2024, 1, 16, tzinfo=dt.timezone.utc))
    assert second.open_deals == 2  # d3 and d5
    assert second.actual == 0  # d3 is won on Jan 24, 8 days later; d5 much later
    assert bt.inside.tolist() == [
        lo <= a <= hi for lo, a, hi in zip(bt.low, bt.actual, bt.high, strict=True)
    ]
    assert bt.coverage == float(bt.inside.mean())
    assert repr(bt) == f"BacktestResult(cutoffs=2, horizon_days=7, inside={bt.inside.sum()})"


def test_backtest_forecasts_do_not_see_the_future() -> None:
    sim = ss.datasets.synthetic_pipeline(300, seed=9)
    cut = "2024-08-01"
    bt = ss.backtest_forecast(sim.log, sim.funnel, cutoffs=[cut], horizon=30, n=300, seed=4)
    direct = ss.forecast(sim.log, sim.funnel, as_of=cut, horizon=30, n=300, seed=4)
    assert bt.forecast[0] == direct.wins
    assert bt.weighted_pipeline[0] == direct.naive
    # Deleting every event after the cutoff + horizon leaves the row unchanged.
    end = np.datetime64("2024-09-02", "ns")
    shorter = sim.log.where(end=end)
    again = ss.backtest_forecast(shorter, sim.funnel, cutoffs=[cut], horizon=30, n=300, seed=4)
    assert again.to_dict()["rows"] == bt.to_dict()["rows"]


def test_results_serialise_and_print() -> None:
    sim = ss.datasets.synthetic_pipeline(150, seed=3)
    res = ss.forecast(sim.log, sim.funnel, horizon=14, value="amount", n=100, seed=1)
    data = res.to_dict()
    json.dumps(data)
    assert data["parameters"]["model"] == "renewal"  # type: ignore[index]
    rows = data["rows"]
    assert isinstance(rows, list)
    assert [r["stage"] for r in rows] == list(res.stages)
    assert repr(res).startswith(f"ForecastResult(open_deals={res.n_open}, horizon_days=14,")
    assert "<table>" in res._repr_html_()
    frame = res.to_frame()
    assert list(frame.columns) == [
        "stage",
        "open_deals",
        "expected_wins",
        "win_probability",
        "weighted_pipeline",
        "expected_value",
    ]
    with pytest.raises(ValueError, match="read-only"):
        res.expected_wins[0] = 1.0
    bt = ss.backtest_forecast(sim.log, sim.funnel, cutoffs=["2024-10-01"], horizon=14, n=50)
    json.dumps(bt.to_dict())
    assert list(bt.to_frame().columns)[:2] == ["cutoff", "open_deals"]


def test_errors() -> None:
    log = ten_day_wins(15.0)
    with pytest.raises(ParameterError, match="horizon must be a positive duration"):
        ss.forecast(log, F2, horizon=0)
    with pytest.raises(ParameterError, match="horizon must be a timedelta"):
        ss.forecast(log, F2, horizon="30d")
    with pytest.raises(ParameterError, match="n must be a whole number"):
        ss.forecast(log, F2, horizon=5, n=0)
    with pytest.raises(ParameterError, match="seed must be an int"):
        ss.forecast(log, F2, horizon=5, seed="x")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"For 90% pass 0\.9"):
        ss.forecast(log, F2, horizon=5, confidence_level=90)
    with pytest.raises(ParameterError, match="Did you mean 'amount'"):
        ss.forecast(log, F2, horizon=5, value="amont")
    with pytest.raises(ParameterError, match="model"):
        ss.forecast(log, F2, horizon=5, model="semi")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="uncertainty"):
        ss.forecast(log, F2, horizon=5, uncertainty="both")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="history must be a positive duration"):
        ss.forecast(log, F2, horizon=5, history=-1)
    with pytest.raises(ParameterError, match="before the log starts"):
        ss.forecast(log, F2, horizon=5, as_of="2020-01-01")
    res = ss.forecast(log, F2, horizon=5, n=5, seed=1)
    with pytest.raises(UnknownStageError, match="Did you mean 'lead'"):
        res.at("laed")
    with pytest.raises(UnknownStageError, match="not an open stage"):
        res.at("won")
    with pytest.raises(ParameterError, match="cutoffs"):
        ss.backtest_forecast(log, F2, cutoffs=[], horizon=5)
    with pytest.raises(ParameterError, match="what happened is not known"):
        ss.backtest_forecast(log, F2, cutoffs=["2024-01-15"], horizon=30)
    with pytest.raises(ParameterError, match="a cutoff must be a time"):
        ss.backtest_forecast(log, F2, cutoffs=[None], horizon=1)
    bt = ss.backtest_forecast(log, F2, cutoffs="2024-01-05", horizon=3, n=5, seed=1)
    with pytest.raises(ParameterError, match="not in the backtest"):
        bt.at("2024-01-06")


# --------------------------------------------------------------------- properties


LOGS = strategies.funnels(back_edges=True).flatmap(
    lambda f: st.tuples(st.just(f), strategies.stage_logs(f))
)


@settings(max_examples=40)
@given(LOGS, st.floats(0.5, 60.0), st.sampled_from(["renewal", "markov"]))
def test_property_bounds(pair, horizon, model) -> None:  # type: ignore[no-untyped-def]
    funnel, log = pair
    res = ss.forecast(log, funnel, horizon=horizon, n=40, seed=0, model=model)
    assert np.all(res.expected_wins >= 0)
    assert np.all(res.expected_wins <= res.open_deals + 1e-9)
    assert np.all((res.deal_probability >= 0) & (res.deal_probability <= 1))
    assert np.all(res.simulated_wins <= res.n_open)
    interval = res.wins_interval
    assert interval.low <= res.wins <= interval.high
    finite = res.win_probability[~np.isnan(res.win_probability)]
    assert np.all((finite >= -1e-12) & (finite <= 1 + 1e-12))
    assert np.all(res.deal_age_days >= 0)
    json.dumps(res.to_dict())


@given(LOGS)
def test_property_unit_weights_give_the_kaplan_meier_curves(pair) -> None:  # type: ignore[no-untyped-def]
    funnel, log = pair
    as_of = int(log.time.view(np.int64).max())
    stays = fc_module._stays(log, funnel, as_of, None)
    chain = fc_module._fit(stays)
    ep = build_episodes(log, funnel, skips="strict")
    keep = ep.stage < ep.n_open
    km = stats.kaplan_meier(
        ep.duration_days()[keep], ep.moved[keep], ep.stage[keep], n_groups=ep.n_open
    )
    np.testing.assert_array_equal(chain.time, km.time)
    np.testing.assert_allclose(chain.survival, km.survival, atol=1e-12)
    np.testing.assert_array_equal(chain.offsets, km.group_offsets)
    # The same chain as MarkovFunnel's (helper A's estimator of the semi-Markov model).
    markov = ss.MarkovFunnel.from_log(log, funnel)
    np.testing.assert_array_equal(chain.probabilities, markov.probabilities)
    np.testing.assert_array_equal(chain.time, markov.dwell.time)
    np.testing.assert_allclose(chain.survival, markov.dwell.survival, atol=1e-12)
    # Doubling every weight changes nothing; the destination shares sum to 1 per step.
    twice = fc_module._fit(stays, np.full(stays.stage.size, 2.0))
    np.testing.assert_allclose(twice.survival, chain.survival, atol=1e-12)
    if chain.step_next.size:
        np.testing.assert_allclose(chain.step_next[:, -1], 1.0)


# --------------------------------------------------------------------- planted answers


def planted(seed: int) -> tuple[ss.datasets.SyntheticPipeline, str, int]:
    """A pipeline to 2025-01-01; forecast at 2024-11-01, actual from the full log."""
    sim = ss.datasets.synthetic_pipeline(1200, seed=seed, rep_effect=0.0, as_of="2025-01-01")
    cut = "2024-11-01"
    cut_ns = int(np.datetime64(cut, "ns").view(np.int64))
    before = build_episodes(sim.log, sim.funnel, as_of=np.datetime64(cut_ns, "ns"), skips="strict")
    open_cases = before.case[before.censored]
    until = np.datetime64(cut_ns + 30 * 86_400 * 10**9, "ns")
    after = build_episodes(sim.log, sim.funnel, as_of=until, skips="strict")
    actual = int((after.case_outcome()[open_cases] == sim.funnel.n_open).sum())
    return sim, cut, actual


@pytest.mark.parametrize("model", ["renewal", "markov"])
def test_planted_forecast_covers_the_continued_generator(
    model: Literal["renewal", "markov"],
) -> None:
    # The generator's deals up to the cutoff are exactly the log truncated there (creation
    # times are drawn on the whole period), so the events after it are the truth. Over 20
    # pipelines a 90% interval misses about twice; 6 or more misses has probability ~1%.
    inside = 0
    errors = []
    for seed in range(20):
        sim, cut, actual = planted(seed)
        res = ss.forecast(sim.log, sim.funnel, as_of=cut, horizon=30, n=500, seed=1, model=model)
        interval = res.wins_interval
        inside += interval.low <= actual <= interval.high
        errors.append(res.wins - actual)
    assert inside >= 15
    assert abs(float(np.mean(errors))) < 2.0  # about 13 wins a pipeline; SE of the mean ~0.8


def test_planted_backtest_matches_the_planted_truth() -> None:
    sim, cut, actual = planted(0)
    bt = ss.backtest_forecast(sim.log, sim.funnel, cutoffs=[cut], horizon=30, n=500, seed=2)
    assert int(bt.actual[0]) == actual
    assert bt.forecast[0] < bt.weighted_pipeline[0]


# --------------------------------------------------------------------- BPIC 2012


@pytest.fixture(scope="module")
def bpic() -> tuple[ss.EventLog, ss.Funnel]:
    if not BPIC.exists():
        pytest.skip(f"BPIC 2012 not found at {BPIC} (the shared data folder is absent)")
    log = ss.read_xes(BPIC, lifecycle="complete")
    log = log.where(activity=[a for a in log.activities if a.startswith("A_")])
    funnel = ss.Funnel.linear(
        ["A_SUBMITTED", "A_PARTLYSUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "A_FINALIZED", "won"],
        lost=["A_DECLINED", "A_CANCELLED"],
        aliases={"A_APPROVED": "won", "A_REGISTERED": "won", "A_ACTIVATED": "won"},
    )
    return log, funnel


CUTOFFS: Sequence[str] = ("2011-12-01", "2012-01-01", "2012-02-01")


@pytest.fixture(scope="module")
def bpic_backtests(
    bpic: tuple[ss.EventLog, ss.Funnel],
) -> dict[str, ss.BacktestResult]:
    log, funnel = bpic
    return {
        model: ss.backtest_forecast(
            log, funnel, cutoffs=CUTOFFS, horizon=30, n=10_000, seed=2012, model=model
        )
        for model in ("renewal", "markov")
    }


@pytest.mark.slow
def test_bpic2012_actual_wins_and_open_pipeline(
    bpic_backtests: dict[str, ss.BacktestResult],
) -> None:
    bt = bpic_backtests["renewal"]
    # Counted independently in the investigation behind docs/explanation/forecast-backtest.md.
    assert bt.open_deals.tolist() == [707, 645, 853]
    assert bt.actual.tolist() == [223, 185, 280]


@pytest.mark.slow
def test_bpic2012_renewal_beats_markov_and_the_naive_pipeline(
    bpic_backtests: dict[str, ss.BacktestResult],
) -> None:
    renewal, markov = bpic_backtests["renewal"], bpic_backtests["markov"]
    err_renewal = np.abs(renewal.forecast - renewal.actual)
    assert np.all(err_renewal < np.abs(markov.forecast - markov.actual))
    assert np.all(err_renewal < np.abs(renewal.weighted_pipeline - renewal.actual))
    assert np.all(err_renewal / renewal.actual < 0.2)
    assert bool(renewal.at("2012-02-01").inside)
    assert not markov.inside.any()


@pytest.mark.slow
@pytest.mark.xfail(
    reason="1 of 3 inside: the BPIC win rate fell from Oct-Nov to Dec-Jan and the 30 days "
    "from Dec 1 and Jan 1 hold the holidays; the model is time-homogeneous "
    "(docs/explanation/forecast-backtest.md)",
    strict=True,
)
def test_bpic2012_forecasts_land_inside_their_intervals_twice(
    bpic_backtests: dict[str, ss.BacktestResult],
) -> None:
    assert int(bpic_backtests["renewal"].inside.sum()) >= 2


@pytest.mark.slow
def test_bpic2012_weekly_backtest_coverage(bpic: tuple[ss.EventLog, ss.Funnel]) -> None:
    log, funnel = bpic
    cutoffs = [
        str(d) for d in np.arange(np.datetime64("2011-11-01"), np.datetime64("2012-02-14"), 7)
    ]
    bt = ss.backtest_forecast(log, funnel, cutoffs=cutoffs, horizon=30, n=2000, seed=2012)
    assert bt.cutoff.size == 15
    assert int(bt.inside.sum()) >= 9
    assert np.all(bt.forecast < bt.weighted_pipeline)
