"""Tests of `salesstd.scoring`: known answers, bands, composite, shrinkage, ramp, real data."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import Counter

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

import salesstd as ss
from _data import DATA
from strategies import funnels, stage_logs, standards

MAVEN_CSV = DATA / "maven-crm" / "sales_pipeline.csv"
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
K = ss.KPI

# Five deals, times in days after 2024-01-01 (the log ends at day 10):
#   d1 ann 100: lead 0, call 1, qualified 2, call 3, call 4, won 10
#   d2 ann  50: lead 1, qualified 3, won 8
#   d3 bob 200: lead 0, qualified 1, call 2, call 3, won 5
#   d4 bob  80: lead 2, lost 4, call 6 (an event after the close: breaks the standard)
#   d5 bob  30: lead 3, call 4: open in lead
DEALS: dict[str, tuple[str, float, list[tuple[str, float]]]] = {
    "d1": (
        "ann",
        100.0,
        [("lead", 0), ("call", 1), ("qualified", 2), ("call", 3), ("call", 4), ("won", 10)],
    ),
    "d2": ("ann", 50.0, [("lead", 1), ("qualified", 3), ("won", 8)]),
    "d3": ("bob", 200.0, [("lead", 0), ("qualified", 1), ("call", 2), ("call", 3), ("won", 5)]),
    "d4": ("bob", 80.0, [("lead", 2), ("lost", 4), ("call", 6)]),
    "d5": ("bob", 30.0, [("lead", 3), ("call", 4)]),
}
FUNNEL = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")


def _log(deals: dict[str, tuple[str, float, list[tuple[str, float]]]]) -> ss.EventLog:
    rows = [
        (case, act, T0 + dt.timedelta(days=day), rep, amount)
        for case, (rep, amount, events) in deals.items()
        for act, day in events
    ]
    return ss.EventLog.from_records(
        rows, names=("case", "activity", "time", "rep", "amount"), case_attributes=["rep", "amount"]
    )


LOG = _log(DEALS)
ALL_KPIS = (
    K("win", "win_rate", 0.5),
    K("lead_conv", "stage_conversion", 0.5, stage="lead"),
    K("cycle", "cycle_time", 6, direction="lower"),
    K("lead_dwell", "dwell", 2, stage="lead", direction="lower"),
    K("calls_q", "activities_per_deal", 1, stage="qualified", activity="call"),
    K("calls_lead", "activities_per_deal", 1, stage="lead", activity="call"),
    K("comp", "compliance_rate", 0.9),
    K("deals", "deals_handled", 2),
    K("won_value", "won_value", 100),
    K("vel", "velocity", 20),
)


# --------------------------------------------------------------------- known answers


@pytest.mark.parametrize(
    ("kpi", "ann", "bob"),
    [
        ("win", (1.0, 2), (0.5, 2)),  # ann 2 won of 2; bob 1 won, 1 lost, d5 open (left out)
        ("lead_conv", (1.0, 2), (0.5, 2)),  # bob: d3 advanced, d4 lost, d5 open
        ("cycle", (7.0, 2), (5.0, 1)),  # ann wins after 10 and 7 days: median 7; bob 5
        ("lead_dwell", (2.0, 2), (2.0, 3)),  # bob: 1, 2 and 7+ (open): KM median 2
        ("calls_q", (1.0, 2), (2.0, 1)),  # ann: d1 two calls, d2 none; bob: d3 two calls
        ("calls_lead", (0.5, 2), (1 / 3, 3)),  # d1 one call in lead; d5 one; d4's is late
        ("comp", (1.0, 2), (2 / 3, 3)),  # d4 has an event after its close
        ("deals", (2.0, 2), (3.0, 3)),
        ("won_value", (150.0, 2), (200.0, 1)),
        ("vel", (2 * 1.0 * 75 / 8.5, 2), (3 * 0.5 * 200 / 5, 3)),
    ],
)
def test_every_metric_on_a_tiny_log(
    kpi: str, ann: tuple[float, int], bob: tuple[float, int]
) -> None:
    card = ss.scorecard(LOG, ss.Standard(FUNNEL, kpis=ALL_KPIS), shrinkage="none")
    for rep, (value, n) in (("ann", ann), ("bob", bob)):
        row = card.at(kpi, rep)
        assert row.value == pytest.approx(value)
        assert row.raw_value == pytest.approx(value)
        assert row.n == n
        assert row.small_sample  # every sample here is below min_sample=10


def test_row_layout_and_records() -> None:
    std = ss.Standard(FUNNEL, kpis=ALL_KPIS)
    card = ss.scorecard(LOG, std, shrinkage="none", min_sample=1)
    assert card.entities == ("ann", "bob")
    assert card.kpi.tolist() == [k.name for k in ALL_KPIS] * 2
    assert card.entity.tolist() == ["ann"] * 10 + ["bob"] * 10
    row = card.at("lead_conv", "bob")
    assert (row.stage, row.metric, row.period) == ("lead", "stage_conversion", None)
    expected = ss.stats.proportion_interval(1, 2, confidence_level=0.9)
    assert (row.low, row.high) == pytest.approx((float(expected.low), float(expected.high)))
    assert math.isnan(card.at("deals", "bob").low)
    assert repr(card) == "ScorecardResult(entities=2, kpis=10, best='bob')"
    # With min_sample=10 the durations, means and velocity (n <= 3 here) are not scored.
    strict = ss.scorecard(LOG, std, shrinkage="none")
    unscored = {"cycle", "lead_dwell", "calls_q", "calls_lead", "vel"}
    assert [k for k in strict.kpis if not strict.at(k, "bob").scored] == [
        k.name for k in ALL_KPIS if k.name in unscored
    ]
    assert strict.score("bob").kpis_scored == 5


def test_bands_gap_and_attainment() -> None:
    kpis = (
        K("w_meets", "win_rate", 0.5, tolerance=0.1),  # ann 1.0 exceeds, bob 0.5 meets
        K("w_high", "win_rate", 0.7, tolerance=0.1),  # bob 0.5 below
        K("c_wide", "cycle_time", 6, direction="lower", tolerance=1),  # 7 and 5: both meet
        K("c_tight", "cycle_time", 6, direction="lower", tolerance=0.5),
    )
    card = ss.scorecard(LOG, ss.Standard(FUNNEL, kpis=kpis), shrinkage="none")
    assert card.at("w_meets", "ann").band == "exceeds"
    assert card.at("w_meets", "bob").band == "meets"
    assert card.at("w_high", "bob").band == "below"
    assert card.at("w_high", "bob").gap == pytest.approx(-0.2)
    assert card.at("w_high", "bob").attainment == pytest.approx(0.5 / 0.7)
    assert [card.at("c_wide", r).band for r in ("ann", "bob")] == ["meets", "meets"]
    ann, bob = card.at("c_tight", "ann"), card.at("c_tight", "bob")
    assert (ann.band, bob.band) == ("below", "exceeds")
    assert (ann.gap, bob.gap) == (-1.0, 1.0)  # lower is better: target - value
    assert (ann.attainment, bob.attainment) == (6 / 7, 6 / 5)


def test_composite_is_the_weighted_mean_of_capped_attainments_and_ranks_follow() -> None:
    kpis = (
        K("win", "win_rate", 0.4, weight=3),  # ann 2.5 -> capped 1.5; bob 1.25
        K("cycle", "cycle_time", 6, direction="lower", weight=1),  # ann 6/7, bob 6/5
    )
    std = ss.Standard(FUNNEL, kpis=kpis)
    card = ss.scorecard(LOG, std, shrinkage="none", min_sample=1)
    assert card.at("win", "ann").attainment == 1.5  # the ratio 2.5, clipped to the cap
    ann = (3 * 1.5 + 6 / 7) / 4
    bob = (3 * 1.25 + 6 / 5) / 4
    assert card.score("ann").composite == pytest.approx(ann)
    assert card.score("bob").composite == pytest.approx(bob)
    assert (card.score("ann").rank, card.score("bob").rank) == (1, 2)
    assert card.ranking() == ("ann", "bob")
    assert card.rank.tolist() == [1, 1, 2, 2]
    loose = ss.scorecard(LOG, std, shrinkage="none", attainment_cap=10, min_sample=1)
    assert loose.at("win", "ann").attainment == 2.5
    assert loose.score("ann").composite == pytest.approx((3 * 2.5 + 6 / 7) / 4)
    # With min_sample=10 cycle time (n=2 and 1, not shrunk) is shown but not scored.
    strict = ss.scorecard(LOG, std, shrinkage="none")
    assert strict.at("cycle", "ann").attainment == pytest.approx(6 / 7)
    assert not strict.at("cycle", "ann").scored
    assert strict.score("ann").composite == 1.5
    assert strict.score("bob").composite == pytest.approx(1.25)


def test_entities_with_only_small_samples_rank_after_established_ones() -> None:
    kpis = (
        K("win", "win_rate", 0.4, weight=3),  # ann 2.5 -> 1.5 (n=2); bob 1.25 (n=2)
        K("deals", "deals_handled", 2),  # ann 1.0 (n=2); bob 1.5 (n=3)
    )
    std = ss.Standard(FUNNEL, kpis=kpis)
    open_table = ss.scorecard(LOG, std, shrinkage="none", min_sample=1)
    assert open_table.score("ann").composite == pytest.approx((3 * 1.5 + 1.0) / 4)
    assert open_table.score("bob").composite == pytest.approx((3 * 1.25 + 1.5) / 4)
    assert open_table.ranking() == ("ann", "bob")
    tiered = ss.scorecard(LOG, std, shrinkage="none", min_sample=3)  # only bob's deals: n=3
    assert tiered.score("ann").composite == open_table.score("ann").composite
    assert tiered.ranking() == ("bob", "ann")


def test_nan_values_are_left_out_of_the_composite_and_rank_last() -> None:
    kpis = (K("win", "win_rate", 0.5), K("cycle", "cycle_time", 6, direction="lower"))
    deals = {**DEALS}
    deals["d6"] = ("cyd", 10.0, [("lead", 0), ("qualified", 2)])  # open, no close
    card = ss.scorecard(_log(deals), ss.Standard(FUNNEL, kpis=kpis), shrinkage="none")
    cyd = card.score("cyd")
    assert math.isnan(cyd.composite)
    assert (cyd.rank, cyd.kpis_scored) == (3, 0)
    assert card.at("win", "cyd").band is None
    assert card.at("win", "cyd").n == 0


def test_default_kpis_score_against_the_population() -> None:
    card = ss.scorecard(LOG, ss.Standard(FUNNEL), shrinkage="none")
    assert card.default_kpis
    assert card.kpis == ("win_rate", "conversion_lead", "conversion_qualified", "cycle_time")
    assert card.at("win_rate", "ann").target == pytest.approx(3 / 4)  # pooled: 3 won of 4
    assert card.at("conversion_lead", "bob").target == pytest.approx(3 / 4)
    pop = ss.cycle_time(LOG, FUNNEL).at().median_days
    assert card.at("cycle_time", "ann").target == pop
    assert card.at("win_rate", "bob").band == "below"


def test_period_scores_cohorts_and_counts_add_up() -> None:
    deals = {**DEALS}
    deals["d7"] = ("ann", 40.0, [("lead", 40), ("won", 45)])
    deals["d8"] = ("bob", 60.0, [("lead", 41), ("lost", 43)])
    log = _log(deals)
    std = ss.Standard(FUNNEL, kpis=(K("deals", "deals_handled", 1), K("win", "win_rate", 0.5)))
    card = ss.scorecard(log, std, period="month", shrinkage="none")
    assert card.periods == ("2024-01-01", "2024-02-01")
    assert card.at("deals", "ann", "2024-02-01").value == 1.0
    assert card.at("win", "bob", "2024-02-01").value == 0.0
    assert card.at("win", "bob", "2024-01-01").value == 0.5
    whole = ss.scorecard(log, std, shrinkage="none")
    for rep in ("ann", "bob"):
        total = sum(card.at("deals", rep, p).value for p in card.periods)
        assert total == whole.at("deals", rep).value
    assert card.ranking("2024-02-01") == ("ann", "bob")
    with pytest.raises(ss.ParameterError, match="period"):
        card.at("deals", "ann", "2023-01-01")


def test_without_by_all_deals_are_one_entity() -> None:
    card = ss.scorecard(LOG, ss.Standard(FUNNEL, kpis=ALL_KPIS), by=None, shrinkage="none")
    assert card.entities == (None,)
    assert card.at("win").value == 0.75
    assert card.at("deals").value == 5.0
    assert "entity" in card.to_frame().columns


# --------------------------------------------------------------------- frames and dicts


def test_long_and_wide_frames() -> None:
    kpis = (K("win", "win_rate", 0.5), K("cycle", "cycle_time", 6, direction="lower"))
    card = ss.scorecard(LOG, ss.Standard(FUNNEL, kpis=kpis))
    long = card.to_frame()
    assert isinstance(long, pd.DataFrame)
    assert len(long) == 4
    assert {"rep", "kpi", "value", "target", "band", "rank"} <= set(long.columns)
    assert long["rep"].tolist() == ["ann", "ann", "bob", "bob"]
    wide = card.to_frame(form="wide")
    assert list(wide.columns) == [
        "rep",
        "win_value",
        "win_score",
        "cycle_value",
        "cycle_score",
        "composite",
        "rank",
    ]
    assert wide["rep"].tolist() == ["ann", "bob"]
    assert wide["win_value"].tolist() == [card.at("win", r).value for r in ("ann", "bob")]
    with pytest.raises(ss.ParameterError, match="form"):
        card.to_frame(form="tall")  # type: ignore[arg-type]


def test_to_dict_passes_json_dumps() -> None:
    card = ss.scorecard(LOG, ss.Standard(FUNNEL, kpis=ALL_KPIS), period="week")
    out = json.loads(json.dumps(card.to_dict()))
    assert out["kind"] == "ScorecardResult"
    assert out["parameters"]["by"] == "rep"
    assert len(out["rows"]) == card.value.size


# --------------------------------------------------------------------- errors


def test_unknown_by_names_the_attributes() -> None:
    with pytest.raises(
        ss.ParameterError,
        match=r"'repp'.*\(case attributes: rep, amount; event attributes: none\)"
        r".*Did you mean 'rep'",
    ):
        ss.scorecard(LOG, ss.Standard(FUNNEL), by="repp")


def test_bad_options() -> None:
    std = ss.Standard(FUNNEL)
    with pytest.raises(ss.ParameterError, match=r"shrinkage.*Did you mean 'none'"):
        ss.scorecard(LOG, std, shrinkage="nnone")  # type: ignore[arg-type]
    with pytest.raises(ss.ParameterError, match="confidence_level"):
        ss.scorecard(LOG, std, confidence_level=90)
    with pytest.raises(ss.ParameterError, match="period"):
        ss.scorecard(LOG, std, period="decade")  # type: ignore[arg-type]
    with pytest.raises(ss.ParameterError, match="min_sample"):
        ss.scorecard(LOG, std, min_sample=0)


def test_unknown_kpi_and_entity_in_at() -> None:
    card = ss.scorecard(LOG, ss.Standard(FUNNEL))
    with pytest.raises(ss.UnknownStageError, match="Did you mean 'win_rate'"):
        card.at("win_rat", "ann")
    with pytest.raises(ss.ParameterError, match="Did you mean 'ann'"):
        card.at("win_rate", "anne")


def test_velocity_needs_a_value_attribute() -> None:
    std = ss.Standard(FUNNEL, kpis=(K("vel", "velocity", 20),))
    with pytest.raises(ss.ParameterError, match="price"):
        ss.scorecard(LOG, std, value="price")


# --------------------------------------------------------------------- shrinkage


def _true_win(sim: ss.datasets.SyntheticPipeline, reps: tuple[object, ...]) -> np.ndarray:
    return np.array([sim.win_probability(rep=str(r))[sim.stages[0]] for r in reps])


def test_shrunk_win_rates_beat_raw_rates_in_mean_squared_error() -> None:
    raw_mse, shrunk_mse = [], []
    for seed in range(20):
        sim = ss.datasets.synthetic_pipeline(300, seed=seed, rep_effect=0.4)
        std = ss.Standard(sim.funnel, kpis=(K("win", "win_rate", 0.2),))
        shrunk = ss.scorecard(sim.log, std)
        raw = ss.scorecard(sim.log, std, shrinkage="none")
        truth = _true_win(sim, shrunk.entities)
        raw_mse.append(float(np.mean((raw.value - truth) ** 2)))
        shrunk_mse.append(float(np.mean((shrunk.value - truth) ** 2)))
    raw_a, shrunk_a = np.array(raw_mse), np.array(shrunk_mse)
    # Measured: raw 0.0081, shrunk 0.0041; shrinkage wins in 20 of 20 seeds.
    assert shrunk_a.mean() < 0.75 * raw_a.mean()
    assert (shrunk_a < raw_a).mean() >= 0.8


def _with_extra_reps(sim: ss.datasets.SyntheticPipeline, *, strong: bool) -> ss.EventLog:
    """The simulated log plus rep-zz (2 deals, both won) and, if `strong`, rep-yy (60 of 80)."""
    frame = sim.log.to_frame()
    frame["time"] = frame["time"].dt.tz_convert("UTC")
    start = frame["time"].min()
    outcomes = [("rep-zz", "Won")] * 2
    if strong:
        outcomes += [("rep-yy", "Won")] * 60 + [("rep-yy", "Lost")] * 20
    rows = []
    for i, (rep, outcome) in enumerate(outcomes):
        opened = start + pd.Timedelta(days=10 + i % 50)
        for activity, when in (("Lead", opened), (outcome, opened + pd.Timedelta(days=9))):
            rows.append(("Z%03d" % i, activity, when, rep, "team-1", 1000.0))  # noqa: UP031
    extra = pd.DataFrame(rows, columns=["case", "activity", "time", "rep", "team", "amount"])
    return ss.EventLog.from_frame(
        pd.concat([frame, extra], ignore_index=True),
        case="case",
        activity="activity",
        time="time",
        case_attributes=["rep", "team", "amount"],
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_two_of_two_won_never_ranks_first(seed: int) -> None:
    sim = ss.datasets.synthetic_pipeline(600, seed=seed)
    log = _with_extra_reps(sim, strong=False)
    std = ss.Standard(sim.funnel, kpis=(K("win", "win_rate", 0.2),))
    raw = ss.scorecard(log, std, shrinkage="none", min_sample=1)
    assert raw.at("win", "rep-zz").value == 1.0
    assert raw.score("rep-zz").rank == 1  # the raw rate would crown it
    card = ss.scorecard(log, std)
    assert card.at("win", "rep-zz").n == 2
    assert card.at("win", "rep-zz").small_sample
    assert card.at("win", "rep-zz").value < 0.5  # pulled most of the way to the population
    assert card.score("rep-zz").rank > 1
    assert card.ranking()[0] != "rep-zz"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shrinkage_alone_puts_60_of_80_ahead_of_2_of_2(seed: int) -> None:
    sim = ss.datasets.synthetic_pipeline(600, seed=seed)
    log = _with_extra_reps(sim, strong=True)
    std = ss.Standard(sim.funnel, kpis=(K("win", "win_rate", 0.7),))
    raw = ss.scorecard(log, std, shrinkage="none", min_sample=1)
    assert raw.ranking()[:2] == ("rep-zz", "rep-yy")
    card = ss.scorecard(log, std, min_sample=1)  # no small-sample tier: shrinkage alone
    assert card.at("win", "rep-yy").value > card.at("win", "rep-zz").value
    assert card.ranking()[0] == "rep-yy"


def test_shrinkage_interval_is_the_beta_posterior() -> None:
    sim = ss.datasets.synthetic_pipeline(400, seed=5, rep_effect=0.6)
    std = ss.Standard(sim.funnel, kpis=(K("win", "win_rate", 0.2),))
    card = ss.scorecard(sim.log, std, confidence_level=0.8)
    raw = ss.scorecard(sim.log, std, shrinkage="none")
    won = np.round(raw.value * raw.n).astype(int)
    rates, alpha, beta = ss.stats.beta_binomial_shrinkage(won, raw.n)
    assert np.isfinite(alpha)
    np.testing.assert_allclose(card.value, rates)
    lo = sps.beta.ppf(0.1, won + alpha, raw.n - won + beta)
    np.testing.assert_allclose(card.low, lo)
    assert ((card.low <= card.value) & (card.value <= card.high)).all()


# --------------------------------------------------------------------- properties


@given(st.data())
def test_shrunk_rates_lie_between_raw_and_pooled(data: st.DataObject) -> None:
    funnel = data.draw(funnels())
    log = data.draw(stage_logs(funnel, max_cases=12))
    std = ss.Standard(funnel, kpis=(K("win", "win_rate", 0.5), K("n", "deals_handled", 1)))
    card = ss.scorecard(log, std, by="segment")
    raw = ss.scorecard(log, std, by="segment", shrinkage="none")
    win = card.kpi == "win"
    n = card.n[win]
    has = n > 0
    if has.any():
        won = raw.value[win][has] * n[has]
        pooled = won.sum() / n[has].sum()
        r, s = raw.value[win][has], card.value[win][has]
        assert (s >= np.minimum(r, pooled) - 1e-9).all()
        assert (s <= np.maximum(r, pooled) + 1e-9).all()
    assert np.isnan(card.value[win][~has]).all()
    deals = card.value[card.kpi == "n"]
    assert np.nansum(deals) == log.n_cases
    k = len(card.kpis)
    comp, ranks = card.composite[::k], card.rank[::k]
    scored = (card.n >= card.min_sample) & card.scored
    tier = np.where(np.isfinite(comp), np.where(scored.reshape(-1, k).any(axis=1), 0, 1), 2)
    for i in range(comp.size):
        ahead = (tier < tier[i]) | ((tier == tier[i]) & (comp > comp[i]))
        expected = 1 + int(ahead.sum()) if tier[i] < 2 else 1 + int((tier < 2).sum())
        assert ranks[i] == expected
    json.dumps(card.to_dict())


@given(st.data())
def test_every_attainment_lies_in_zero_to_the_cap(data: st.DataObject) -> None:
    funnel = data.draw(funnels())
    log = data.draw(stage_logs(funnel, max_cases=12))  # stays from 1 second to 20 days
    std = data.draw(standards(funnel))
    unmeasured = ("won_value", "velocity", "activities_per_deal")  # no amount, no activities
    kept = tuple(k for k in std.kpis if k.metric not in unmeasured)
    std = attrs.evolve(std, kpis=kept)
    cap = data.draw(st.sampled_from((0.5, 1.0, 1.5, 2.0)))
    floor = data.draw(st.sampled_from((0.0, 60.0, 3600.0)))
    card = ss.scorecard(log, std, by="segment", attainment_cap=cap, dwell_floor=floor, min_sample=1)
    att = card.attainment[~np.isnan(card.attainment)]
    assert ((att >= 0) & (att <= cap)).all()
    comp = card.composite[~np.isnan(card.composite)]
    assert ((comp >= 0) & (comp <= cap * (1 + 1e-12))).all()  # a weighted mean of them
    assert not (card.scored & np.isnan(card.attainment)).any()
    if floor > 0:  # a dwell median is never a stay shorter than the floor
        dwell = (card.metric == "dwell") & ~np.isnan(card.raw_value)
        assert (card.raw_value[dwell] >= floor / 86_400).all()


# --------------------------------------------------------------------- data-entry noise


def test_a_dwell_kpi_is_not_judged_on_stays_shorter_than_the_floor() -> None:
    deals = {**DEALS}
    # cyd clicks d6-d8 through qualified in 10 seconds; d9 stays there 4 days.
    ten_s = 10 / 86_400
    for i, start in enumerate((0.0, 1.0, 2.0)):
        deals[f"d{6 + i}"] = (
            "cyd",
            1.0,
            [("lead", start), ("qualified", start + 1), ("won", start + 1 + ten_s)],
        )
    deals["d9"] = ("cyd", 1.0, [("lead", 0), ("qualified", 1), ("won", 5)])
    log = _log(deals)
    std = ss.Standard(FUNNEL, kpis=(K("q", "dwell", 2, stage="qualified", direction="lower"),))
    raw = ss.scorecard(log, std, shrinkage="none", dwell_floor=0, min_sample=1)
    assert raw.at("q", "cyd").value == pytest.approx(ten_s)
    assert raw.at("q", "cyd").n == 4
    assert raw.at("q", "cyd").attainment == 1.5  # 2 days / 10 s = 17,280, clipped to the cap
    card = ss.scorecard(log, std, shrinkage="none", min_sample=1)  # dwell_floor=60 seconds
    assert card.at("q", "cyd").value == 4.0
    assert card.at("q", "cyd").n == 1
    assert card.at("q", "cyd").attainment == 0.5
    assert card.dwell_floor_seconds == 60.0
    assert json.loads(json.dumps(card.to_dict()))["parameters"]["dwell_floor_seconds"] == 60.0
    same = ss.scorecard(
        log, std, shrinkage="none", min_sample=1, dwell_floor=dt.timedelta(minutes=1)
    )
    assert same == card


def test_bad_dwell_floor() -> None:
    std = ss.Standard(FUNNEL)
    with pytest.raises(ss.ParameterError, match=r"dwell_floor.*got -1.*dwell_floor=60"):
        ss.scorecard(LOG, std, dwell_floor=-1)
    with pytest.raises(ss.ParameterError, match=r"dwell_floor must be a number of seconds"):
        ss.scorecard(LOG, std, dwell_floor="1m")  # type: ignore[arg-type]


PLANTED = (0.4, 0.6, 0.75, 0.9, 1.1, 1.3, 1.6, 2.5)  # odds multipliers of rep-01 .. rep-08


def _clicking_worst_rep() -> tuple[ss.datasets.SyntheticPipeline, ss.EventLog]:
    """A pipeline with planted rep effects in which rep-01, the worst, clicks through stages.

    On every deal of rep-01, each stage event after the first is moved to 3 seconds apart
    just before the deal's last stage event: the deal waits in its first stage, then is
    clicked through every later stage in seconds (its cycle time is unchanged).
    """
    sim = ss.datasets.synthetic_pipeline(
        1600, seed=11, n_teams=2, reps_per_team=4, rep_effect=PLANTED
    )
    frame = sim.log.to_frame().reset_index(drop=True)
    stage = frame["activity"].isin(sim.funnel.stage_names) & (frame["rep"] == "rep-01")
    rows = frame[stage].sort_values(["case", "time"], kind="stable")
    by_case = rows.groupby("case")["time"]
    pos = rows.groupby("case").cumcount()
    from_end = by_case.transform("size") - 1 - pos
    moved = pos > 0
    rows.loc[moved, "time"] = by_case.transform("max")[moved] - pd.to_timedelta(
        3 * from_end[moved], unit="s"
    )
    frame.loc[rows.index, "time"] = rows["time"]
    log = ss.EventLog.from_frame(
        frame,
        case="case",
        activity="activity",
        time="time",
        case_attributes=["rep", "team", "amount"],
    )
    return sim, log


def test_sub_minute_stays_do_not_decide_the_ranking() -> None:
    sim, log = _clicking_worst_rep()
    dwell = tuple(
        K(f"{s.name} dwell", "dwell", 7, stage=s.name, direction="lower")
        for s in sim.funnel.open_stages
    )
    for std in (
        ss.Standard(sim.funnel, kpis=(K("win", "win_rate", 0.3), *dwell)),
        ss.Standard.from_log(log, sim.funnel, by="rep"),  # learned on the noisy log
    ):
        card = ss.scorecard(log, std)
        ranking = card.ranking()
        half = len(ranking) // 2
        # Before the dwell floor rep-01 ranked first (its dwell attainments ~450,000).
        assert "rep-08" in ranking[:half]
        assert "rep-01" not in ranking[:half]
        assert ranking[-1] == "rep-01"
        rows = card.metric == "dwell"
        assert (card.attainment[rows & ~np.isnan(card.attainment)] <= card.attainment_cap).all()


# --------------------------------------------------------------------- ramp


def _ramp_log() -> ss.EventLog:
    """Rep old from the log's start; new1 ramps in 20 days; new2 never reaches 0.75."""
    deals: dict[str, tuple[str, float, list[tuple[str, float]]]] = {
        "o1": ("old", 1.0, [("lead", 0), ("won", 4)]),
        "o2": ("old", 1.0, [("lead", 100), ("won", 104)]),
        # new1 starts day 60: lost at 62, won at 69, won at 80 -> two wins in a row at 80
        "a1": ("new1", 1.0, [("lead", 60), ("lost", 62)]),
        "a2": ("new1", 1.0, [("lead", 61), ("won", 69)]),
        "a3": ("new1", 1.0, [("lead", 64), ("won", 80)]),
        # new2 starts day 95: lost, won, lost -> never two wins in a row
        "b1": ("new2", 1.0, [("lead", 95), ("lost", 96)]),
        "b2": ("new2", 1.0, [("lead", 96), ("won", 99)]),
        "b3": ("new2", 1.0, [("lead", 97), ("lost", 101)]),
    }
    return _log(deals)


def test_ramp_known_answer() -> None:
    log = _ramp_log()
    std = ss.Standard(FUNNEL, kpis=(K("win", "win_rate", 0.75),))
    r = ss.ramp(log, std, kpi="win", window=2, period="quarter")
    assert r.excluded == ("old",)
    assert r.rep.tolist() == ["new1", "new2"]
    assert r.rep_reached.tolist() == [True, False]
    assert r.rep_days.tolist() == [20.0, 9.0]  # new1: day 80 - 60; new2 censored at day 104
    assert r.cohort.tolist() == ["2024-01-01", "2024-04-01"]  # day 60: Mar 1; day 95: Apr 5
    first = r.at("2024-01-01")
    assert (first.reps, first.reached, first.median_days) == (1, 1, 20.0)
    assert math.isnan(r.at("2024-04-01").median_days)
    assert r.target == 0.75
    json.dumps(r.to_dict())
    assert repr(r) == "RampResult(cohorts=2, reps=2, reached=1)"


def test_ramp_population_target_and_lower_is_better() -> None:
    log = _ramp_log()
    std = ss.Standard(FUNNEL)
    r = ss.ramp(log, std, kpi="win_rate", window=1)
    assert r.target == pytest.approx(5 / 8)  # pooled win rate of the whole log
    assert r.rep_reached.tolist() == [True, True]
    assert r.rep_days.tolist() == [9.0, 4.0]  # first win at day 69 and day 99
    c = ss.ramp(log, std, kpi="cycle_time", window=1)
    assert c.direction == "lower"
    assert c.target == ss.cycle_time(log, FUNNEL).at().median_days


def test_ramp_on_a_stage_conversion_kpi_and_new_after() -> None:
    log = _ramp_log()
    std = ss.Standard(FUNNEL, kpis=(K("lead", "stage_conversion", 0.75, stage="lead"),))
    r = ss.ramp(log, std, kpi="lead", window=2)
    # lead -> won passes qualified: the lead entry advanced, as for the win rate above
    assert (r.metric, r.stage) == ("stage_conversion", "lead")
    assert r.rep_days.tolist() == [20.0, 9.0]
    everyone = ss.ramp(log, std, kpi="lead", window=2, new_after=0)
    assert everyone.excluded == ()
    assert everyone.rep.tolist() == ["new1", "new2", "old"]
    assert everyone.rep_days.tolist() == [20.0, 9.0, 104.0]  # old: two wins by day 104
    assert everyone.at("2024-01-01").reps == 2


def test_ramp_errors() -> None:
    std = ss.Standard(FUNNEL, kpis=(K("win", "win_rate", 0.5), K("deals", "deals_handled", 3)))
    with pytest.raises(ss.ParameterError, match="Did you mean 'win'"):
        ss.ramp(LOG, std, kpi="wim")
    with pytest.raises(ss.ParameterError, match="per-deal"):
        ss.ramp(LOG, std, kpi="deals")
    with pytest.raises(ss.ParameterError, match="window"):
        ss.ramp(LOG, std, kpi="win", window=0)
    with pytest.raises(ss.ParameterError, match="Did you mean 'rep'"):
        ss.ramp(LOG, std, by="reps")


# --------------------------------------------------------------------- real data


@pytest.mark.skipif(not MAVEN_CSV.exists(), reason="shared/data/maven-crm is not present")
def test_maven_agent_win_rates_match_the_raw_table() -> None:
    with MAVEN_CSV.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    won = Counter(r["sales_agent"] for r in rows if r["deal_stage"] == "Won")
    closed = Counter(r["sales_agent"] for r in rows if r["deal_stage"] in ("Won", "Lost"))
    log = ss.datasets.load_crm_opportunities()
    funnel = ss.Funnel.linear(["Engaging", "Won"], lost="Lost")
    std = ss.Standard(funnel, kpis=(K("win", "win_rate", 0.6),))
    raw = ss.scorecard(log, std, by="sales_agent", shrinkage="none")
    shrunk = ss.scorecard(log, std, by="sales_agent")
    assert set(raw.entities) == set(closed)
    for agent in raw.entities:
        row = raw.at("win", agent)
        assert row.n == closed[agent]
        assert row.value == pytest.approx(won[agent] / closed[agent])
    pooled = sum(won.values()) / sum(closed.values())
    for agent in shrunk.entities:
        r, s = raw.at("win", agent).value, shrunk.at("win", agent).value
        assert min(r, pooled) - 1e-12 <= s <= max(r, pooled) + 1e-12


@pytest.mark.parametrize("seed", [0, 1])
def test_kpi_values_equal_the_public_metrics_per_rep(seed: int) -> None:
    """The scorecard reads its own fast paths; they must give the public metrics' numbers."""
    sim = ss.datasets.synthetic_pipeline(800, seed=seed, skip=0.15, backward=0.1)
    log, funnel = sim.log, sim.funnel
    stages = [s.name for s in funnel.open_stages]
    as_of = log.start + (log.end - log.start) * 0.7  # plenty of open deals
    std = ss.Standard(
        funnel,
        kpis=[
            K("cycle", "cycle_time", 30, direction="lower"),
            *(K(f"dwell {s}", "dwell", 5, stage=s, direction="lower") for s in stages),
            K("win", "win_rate", 0.2),
            K(f"conv {stages[1]}", "stage_conversion", 0.5, stage=stages[1]),
        ],
    )
    card = ss.scorecard(log, std, by="rep", shrinkage="none", as_of=as_of, confidence_level=0.9)
    cycle = ss.cycle_time(log, funnel, by="rep", as_of=as_of)
    dwell = ss.time_in_stage(log, funnel, by="rep", as_of=as_of, confidence_level=0.9)
    conv = ss.conversion(log, funnel, by="rep", as_of=as_of)
    checked = 0
    for rep in cycle.groups:
        row = card.at("cycle", rep)
        assert row.raw_value == pytest.approx(cycle.at(rep).median_days, nan_ok=True)
        assert row.n == cycle.at(rep).closed_won
        for s in stages:
            got, want = card.at(f"dwell {s}", rep), dwell.at(s, rep)
            assert got.raw_value == pytest.approx(want.median_days, nan_ok=True)
            assert (got.low, got.high) == pytest.approx(
                (want.median_low_days, want.median_high_days), nan_ok=True
            )
            assert got.n == want.n
            checked += 1
        c = conv.at(stages[1], rep)
        assert card.at(f"conv {stages[1]}", rep).raw_value == pytest.approx(c.rate, nan_ok=True)
    assert checked >= 5 * len(stages)
    assert np.isfinite(np.asarray(card.raw_value, dtype=float)).mean() > 0.8  # numbers, not NaN
