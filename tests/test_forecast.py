"""Tests of salesstd.forecast: known answers, properties, planted answers, BPIC 2012."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import _data
import salesstd as ss
import strategies
from _data import DATA
from salesstd import stats
from salesstd._engine.episodes import build_episodes
from salesstd.errors import ParameterError, UnknownStageError
from salesstd.forecast._drift import ExitDrift, exit_overdispersion, tilt_exits

BPIC = DATA / "bpic2012" / "BPI_Challenge_2012.xes.gz"
# `ss.forecast` is the function; the module holds the private pieces tested below.
fc_module = importlib.import_module("salesstd.forecast._forecast")

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


@pytest.mark.parametrize("uncertainty", ["process", "parameters", "drift"])
@pytest.mark.parametrize(
    ("age", "horizon", "wins"),
    [(0.0, 10.0, 1.0), (0.0, 9.99, 0.0), (4.0, 6.0, 1.0), (4.0, 5.9, 0.0), (9.5, 0.5, 1.0)],
)
def test_one_open_deal_with_a_fixed_stay(
    age: float, horizon: float, wins: float, uncertainty: Literal["process", "parameters", "drift"]
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
        "drift",
        "drift_periods",
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
    with pytest.raises(ParameterError, match="Did you mean 'drift'"):
        ss.forecast(log, F2, horizon=5, uncertainty="drfit")  # type: ignore[arg-type]
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


# --------------------------------------------------------------------- drift between periods


def two_periods() -> ss.EventLog:
    """Exits from lead in two 10-day periods before the log's end (1 March), 4 in each.

    (Feb 10, Feb 20]: 1 won, 3 lost; (Feb 20, Mar 1]: 3 won, 1 lost; one deal opens on
    1 March. Pearson's X2 of [[1, 3], [3, 1]] is 2, with 1 degree of freedom, and
    ``sum_i (n_i - 1)(1 - n_i / N) = 2 x 3 x 1/2 = 3``: ``rho = (2 / 1 - 1) / 3 = 1/3``.
    """
    rows = [("open", "lead", "2024-03-01")]
    for i, outcome in enumerate(["won", "lost", "lost", "lost"]):
        rows += [(f"a{i}", "lead", "2024-02-14"), (f"a{i}", outcome, "2024-02-15")]
    for i, outcome in enumerate(["won", "won", "won", "lost"]):
        rows += [(f"b{i}", "lead", "2024-02-24"), (f"b{i}", outcome, "2024-02-25")]
    return ss.EventLog.from_records(rows)


def test_drift_by_hand() -> None:
    res = ss.forecast(two_periods(), F2, horizon=10, n=50, seed=1, uncertainty="drift")
    lead = res.at("lead")
    assert lead.drift == pytest.approx(1 / 3)
    assert lead.drift_periods == 2
    assert res.to_dict()["rows"][0]["drift"] == pytest.approx(1 / 3)  # type: ignore[index]
    # Estimated whatever the uncertainty; one 20-day period holds every exit: no drift.
    default = ss.forecast(two_periods(), F2, horizon=10, n=50, seed=1)
    assert default.at("lead").drift == pytest.approx(1 / 3)
    long = ss.forecast(two_periods(), F2, horizon=20, n=50, seed=1, uncertainty="drift")
    assert (long.at("lead").drift, long.at("lead").drift_periods) == (0.0, 1)


def test_overdispersion_is_the_moment_estimate_from_pearsons_statistic() -> None:
    # Stage 0 exits to stages 1 (next), 3 and 4 (lost) in three periods of unequal size.
    table = np.array([[30, 5, 15], [12, 6, 2], [50, 30, 20]])
    rows, cols = np.nonzero(table)
    reps = table[rows, cols]
    period = np.repeat(rows, reps).astype(np.int64) * 7 - 3  # any labels will do
    dest = np.repeat(np.array([1, 3, 4])[cols], reps)
    drift = exit_overdispersion(
        np.zeros(dest.size, dtype=np.intp), dest, period, n_open=3, n_stages=5
    )
    chi2 = sps.chi2_contingency(table, correction=False)
    assert drift.pearson[0] == pytest.approx(chi2.statistic)
    assert int(drift.df[0]) == chi2.dof == 4
    n = table.sum(axis=1)
    spread = float(((n - 1) * (1 - n / n.sum())).sum())
    assert drift.rho[0] == pytest.approx((chi2.statistic / 2 - 2) / spread)
    assert drift.rho[0] > 0
    # The stages without exits have no estimate and no periods.
    assert drift.rho[1:].tolist() == [0.0, 0.0]
    assert drift.periods.tolist() == [3, 0, 0]


@pytest.mark.parametrize(
    ("table", "why"),
    [
        ([[8, 2]], "one period"),
        ([[8], [3]], "one destination"),
        ([[8, 2], [16, 4]], "the same shares in every period"),
    ],
)
def test_no_overdispersion(table: list[list[int]], why: str) -> None:
    counts = np.array(table)
    rows, cols = np.nonzero(counts)
    reps = counts[rows, cols]
    drift = exit_overdispersion(
        np.zeros(int(reps.sum()), dtype=np.intp),
        np.repeat(cols + 1, reps),
        np.repeat(rows, reps).astype(np.int64),
        n_open=1,
        n_stages=3,
    )
    assert drift.rho.tolist() == [0.0], why
    assert drift.periods.tolist() == [counts.shape[0]]
    assert drift.draw(np.random.default_rng(0)).tolist() == [0.0], why  # X2 = 0 or no df


def test_overdispersion_recovers_a_planted_dirichlet_multinomial() -> None:
    rng = np.random.default_rng(11)
    p, rho, n_periods, size = np.array([0.5, 0.3, 0.2]), 0.05, 400, 120
    shares = rng.dirichlet(p * (1 - rho) / rho, n_periods)
    counts = np.array([rng.multinomial(size, q) for q in shares])
    rows, cols = np.nonzero(counts)
    reps = counts[rows, cols]
    drift = exit_overdispersion(
        np.zeros(int(reps.sum()), dtype=np.intp),
        np.repeat(cols + 1, reps),
        np.repeat(rows, reps).astype(np.int64),
        n_open=1,
        n_stages=4,
    )
    assert drift.rho[0] == pytest.approx(rho, abs=0.01)


def test_drift_draws_follow_the_spread_of_the_estimate() -> None:
    # phi = X2 / chi2(df): E[phi] = X2 / (df - 2), so E[rho] = (400 / 198 - 1) / 10.
    drift = ExitDrift(
        rho=np.array([0.1, 0.0]),
        periods=np.array([201, 1]),
        pearson=np.array([400.0, 0.0]),
        df=np.array([200, 0]),
        scale=np.array([10.0, 0.0]),
    )
    rng = np.random.default_rng(5)
    draws = np.array([drift.draw(rng) for _ in range(20_000)])
    assert draws[:, 0].mean() == pytest.approx((400 / 198 - 1) / 10, abs=0.001)
    assert np.all(draws[:, 1] == 0.0)


def test_tilted_exit_shares_are_dirichlet_draws() -> None:
    # 60 moves to stage 1, 40 to stage 3 (lost), 10 stays still open; rho = 0.1.
    stage = np.zeros(110, dtype=np.intp)
    dest = np.r_[np.full(60, 1), np.full(40, 3), np.full(10, -1)].astype(np.intp)
    moved = dest >= 0
    weight = np.ones(110)
    rng = np.random.default_rng(3)
    rho = np.array([0.1])
    shares = []
    for _ in range(4000):
        w = tilt_exits(stage, dest, moved, weight, rho, rng, n_stages=4)
        assert np.all(w[~moved] == 1.0)
        shares.append(w[dest == 1].sum() / w[moved].sum())
    q = np.array(shares)
    assert q.mean() == pytest.approx(0.6, abs=0.005)
    assert q.var() == pytest.approx(0.1 * 0.6 * 0.4, rel=0.1)
    unchanged = tilt_exits(stage, dest, moved, weight, np.array([0.0]), rng, n_stages=4)
    np.testing.assert_array_equal(unchanged, weight)


# --------------------------------------------------------------------- properties


LOGS = strategies.funnels(back_edges=True).flatmap(
    lambda f: st.tuples(st.just(f), strategies.stage_logs(f))
)


@settings(max_examples=40)
@given(
    LOGS,
    st.floats(0.5, 60.0),
    st.sampled_from(["renewal", "markov"]),
    st.sampled_from(["parameters", "drift"]),
)
def test_property_bounds(pair, horizon, model, uncertainty) -> None:  # type: ignore[no-untyped-def]
    funnel, log = pair
    res = ss.forecast(
        log, funnel, horizon=horizon, n=40, seed=0, model=model, uncertainty=uncertainty
    )
    assert np.all((res.drift >= 0) & (res.drift < 1))
    assert np.all(res.drift[res.drift_periods < 2] == 0)
    assert np.all(res.expected_wins >= 0)
    assert np.all(res.expected_wins <= res.open_deals + 1e-9)
    assert np.all((res.deal_probability >= 0) & (res.deal_probability <= 1))
    assert np.all(res.simulated_wins <= res.n_open)
    interval = res.wins_interval
    assert interval.low - 1e-9 <= res.wins <= interval.high + 1e-9  # quantiles interpolate
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


def test_planted_homogeneous_pipeline_shows_little_drift() -> None:
    # The synthetic pipeline does not change over time: the drift estimates stay near 0,
    # the drift interval covers about as often as the parameter interval and is barely
    # wider (here 18 of 20 inside either way, 10.1 vs 9.0 wins wide).
    inside = {"parameters": 0, "drift": 0}
    width = {"parameters": 0.0, "drift": 0.0}
    rho = []
    for seed in range(20):
        sim, cut, actual = planted(seed)
        for mode in ("parameters", "drift"):
            res = ss.forecast(
                sim.log, sim.funnel, as_of=cut, horizon=30, n=500, seed=1, uncertainty=mode
            )
            interval = res.wins_interval
            inside[mode] += interval.low <= actual <= interval.high
            width[mode] += interval.high - interval.low
        rho.append(res.drift)
    assert float(np.mean(rho)) < 0.01
    assert 15 <= inside["drift"] <= 20
    assert width["drift"] < 1.25 * width["parameters"]


def drifting_pipeline(
    seed: int, *, sd: float, periods: int = 10
) -> tuple[ss.EventLog, dt.datetime, int]:
    """One-stage pipeline whose win share changes every 30 days; forecast after `periods`.

    Deals arrive at 6 a day for ``30 x (periods + 1)`` days and stay in lead an exponential
    20 days on average; a deal leaving in 30-day period k is won with probability
    ``share_k ~ Beta(a, a)`` (mean 0.5, standard deviation `sd`; 0.5 exactly if sd is 0).
    The forecast time is the end of period ``periods - 1``; the actual count is the deals
    open then and won within the next 30 days, from the generator itself.
    """
    rng = np.random.default_rng(seed)
    cut, end = 30.0 * periods, 30.0 * (periods + 1)
    n = int(rng.poisson(6 * end))
    arrive = rng.uniform(0, end, n)
    leave = arrive + rng.exponential(20.0, n)
    k = int(leave.max() // 30) + 1
    a = (1 / (4 * sd**2) - 1) / 2 if sd > 0 else 1.0  # Var Beta(a, a) = 1 / (4 (2a + 1))
    share = rng.beta(a, a, k) if sd > 0 else np.full(k, 0.5)
    won = rng.random(n) < share[(leave // 30).astype(int)]
    rows = [(f"d{i}", "lead", day(float(t))) for i, t in enumerate(arrive)]
    rows += [
        (f"d{i}", "won" if won[i] else "lost", day(float(leave[i])))
        for i in np.flatnonzero(leave < end)
    ]
    actual = int(((arrive <= cut) & (leave > cut) & (leave <= cut + 30) & won).sum())
    return ss.EventLog.from_records(rows), day(cut), actual


@pytest.mark.parametrize(
    ("sd", "parameters_inside", "drift_inside"),
    [(0.1, (14, 26), (32, 40)), (0.0, (32, 40), (32, 40))],
)
def test_planted_drift_is_covered(
    sd: float, parameters_inside: tuple[int, int], drift_inside: tuple[int, int]
) -> None:
    # With the win share drifting by sd 0.1 between periods (rho = 0.04), the parameter
    # interval under-covers and the drift interval covers near nominal (over pipelines
    # 1000-1399: 61% vs 92%, 18 vs 38 wins wide); when it does not drift (sd 0) both
    # cover about 90% (89.5% vs 92.75%) and the drift interval is 8% wider. Seeds 0-39
    # here: 21 vs 34 and 36 vs 36 inside.
    inside = {"parameters": 0, "drift": 0}
    width = {"parameters": 0.0, "drift": 0.0}
    rho = []
    for seed in range(40):
        log, cut, actual = drifting_pipeline(seed, sd=sd)
        for mode in ("parameters", "drift"):
            res = ss.forecast(log, F2, as_of=cut, horizon=30, n=500, seed=1, uncertainty=mode)
            interval = res.wins_interval
            inside[mode] += interval.low <= actual <= interval.high
            width[mode] += interval.high - interval.low
        rho.append(res.at("lead").drift)
        assert res.at("lead").drift_periods == 10
    assert parameters_inside[0] <= inside["parameters"] <= parameters_inside[1]
    assert drift_inside[0] <= inside["drift"] <= drift_inside[1]
    if sd > 0:
        assert float(np.mean(rho)) == pytest.approx(0.04, abs=0.015)
    else:
        assert float(np.mean(rho)) < 0.005
        assert width["drift"] < 1.2 * width["parameters"]


# --------------------------------------------------------------------- BPIC 2012


@pytest.fixture(scope="module")
def bpic() -> tuple[ss.EventLog, ss.Funnel]:
    if not BPIC.exists():
        pytest.skip(f"BPIC 2012 not found at {BPIC} ({_data.ABSENT})")
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
    out = {
        model: ss.backtest_forecast(
            log,
            funnel,
            cutoffs=CUTOFFS,
            horizon=30,
            n=10_000,
            seed=2012,
            model=model,
            uncertainty="parameters",
        )
        for model in ("renewal", "markov")
    }
    out["drift"] = ss.backtest_forecast(  # the default uncertainty
        log, funnel, cutoffs=CUTOFFS, horizon=30, n=10_000, seed=2012
    )
    return out


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
def test_bpic2012_forecasts_land_inside_their_intervals_twice(
    bpic_backtests: dict[str, ss.BacktestResult],
) -> None:
    # With uncertainty="drift" (docs/explanation/forecast-backtest.md): January and
    # February are inside; December's 223 wins sit on the low end of its interval (225 with
    # this seed, 205-228 over seeds 1-10, inside for 7), as October and November gave
    # little sign of the drop. The parameter interval alone covers February only.
    drift, renewal = bpic_backtests["drift"], bpic_backtests["renewal"]
    assert int(drift.inside.sum()) >= 2
    assert drift.inside[1:].all()
    assert drift.low[0] - 10 <= drift.actual[0]
    assert renewal.inside.tolist() == [False, False, True]
    assert drift.actual.tolist() == renewal.actual.tolist()
    # The drift estimates come from the exits before each cutoff only: the point forecasts
    # move little (the tilts average out), the intervals widen.
    assert np.all(np.abs(drift.forecast - renewal.forecast) / renewal.forecast < 0.03)
    assert np.all(drift.high - drift.low > renewal.high - renewal.low)
    assert np.all(drift.high - drift.low < 2.5 * (renewal.high - renewal.low))


@pytest.mark.slow
def test_bpic2012_weekly_backtest_coverage(bpic: tuple[ss.EventLog, ss.Funnel]) -> None:
    log, funnel = bpic
    cutoffs = [
        str(d) for d in np.arange(np.datetime64("2011-11-01"), np.datetime64("2012-02-14"), 7)
    ]
    bt = ss.backtest_forecast(
        log, funnel, cutoffs=cutoffs, horizon=30, n=2000, seed=2012, uncertainty="parameters"
    )
    assert bt.cutoff.size == 15
    assert int(bt.inside.sum()) >= 9
    assert np.all(bt.forecast < bt.weighted_pipeline)
    drift = ss.backtest_forecast(
        log, funnel, cutoffs=cutoffs, horizon=30, n=2000, seed=2012, uncertainty="drift"
    )
    # 10 -> 13 of 15 inside (nominal 13.5); intervals 51 -> 81 wins wide on average.
    assert int(drift.inside.sum()) >= 11
    assert int(drift.inside.sum()) > int(bt.inside.sum())
    assert np.mean(drift.high - drift.low) < 1.7 * np.mean(bt.high - bt.low)
