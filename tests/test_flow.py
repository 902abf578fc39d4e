"""Tests of salesstd.metrics.flow: WIP, throughput, Little's law, velocity, stuck, pipeline."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

import _data
import salesstd as ss
import strategies
from _data import DATA
from salesstd import stats
from salesstd.errors import ParameterError, UnknownStageError

NS_PER_DAY = 86_400 * 10**9

F3 = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")

# d1: lead Jan 3 -> qualified Jan 20 -> won Feb 10; d2: lead Jan 15 -> lost Feb 5;
# d3: lead Feb 1, still open at the log's end (Feb 10).
ROWS = [
    ("d1", "lead", "2024-01-03", 100.0, "smb"),
    ("d1", "qualified", "2024-01-20", 100.0, "smb"),
    ("d1", "won", "2024-02-10", 100.0, "smb"),
    ("d2", "lead", "2024-01-15", 50.0, "ent"),
    ("d2", "lost", "2024-02-05", 50.0, "ent"),
    ("d3", "lead", "2024-02-01", 80.0, "smb"),
]
NAMES = ("case", "activity", "time", "amount", "segment")


def small_log(rows: Sequence[tuple[object, ...]] | None = None) -> ss.EventLog:
    return ss.EventLog.from_records(
        ROWS if rows is None else rows, names=NAMES, case_attributes=["amount", "segment"]
    )


def ns(text: str) -> int:
    return int(np.datetime64(text, "ns").view(np.int64))


# --------------------------------------------------------------------- WIP, known answers


def test_wip_month_by_hand() -> None:
    res = ss.wip(small_log(), F3)
    assert res.periods == ("2024-01-01", "2024-02-01")
    assert res.stages == ("lead", "qualified")
    # End of January: d2 in lead, d1 in qualified. At as_of (Feb 10): d3 in lead; d1 left
    # qualified for won exactly at as_of, so it is no longer there.
    assert res.wip.tolist() == [1, 1, 1, 0]
    assert res.series("lead").tolist() == [1, 1]
    assert res.series("qualified").tolist() == [1, 0]
    assert res.period_end.tolist() == [ns("2024-02-01") - 1, ns("2024-02-10")]
    assert res.at("qualified", period="2024-01-01").wip == 1
    assert res.at("lead") == ss.StageWip(stage="lead", period="2024-02-01", wip=1)
    assert repr(res) == "WipResult(stages=2, periods=2, cases=3, wip=1)"


def test_wip_counts_a_deal_that_enters_at_the_period_end_instant() -> None:
    rows = [
        ("a", "lead", "2024-01-01T00:00:00", 1.0, "x"),
        ("a", "qualified", "2024-01-02T00:00:00", 1.0, "x"),
        ("b", "lead", "2024-01-01T23:59:59.999999999", 1.0, "x"),
        ("b", "won", "2024-01-03T12:00:00", 1.0, "x"),
    ]
    res = ss.wip(small_log(rows), F3, period="day")
    assert res.periods == ("2024-01-01", "2024-01-02", "2024-01-03")
    # End of Jan 1: a and b (b entered at the very last nanosecond) in lead.
    assert res.series("lead").tolist() == [2, 1, 0]
    # a moves to qualified at midnight Jan 2: in qualified at the end of Jan 2 and at as_of.
    assert res.series("qualified").tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    ("period", "labels"),
    [
        (
            "week",
            ("2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29", "2024-02-05"),
        ),
        ("quarter", ("2024-01-01",)),
        ("year", ("2024-01-01",)),
    ],
)
def test_wip_calendar_periods(period: str, labels: tuple[str, ...]) -> None:
    # 2024-01-03 is a Wednesday: its ISO week starts on Monday 2024-01-01.
    res = ss.wip(small_log(), F3, period=period)  # type: ignore[arg-type]
    assert res.periods == labels
    assert res.at("lead").wip == 1
    assert res.at("qualified").wip == 0


def test_wip_week_periods_start_on_monday_across_a_year_end() -> None:
    rows = [("a", "lead", "2024-12-31", 1.0, "x"), ("a", "won", "2025-01-07", 1.0, "x")]
    res = ss.wip(small_log(rows), F3, period="week")
    assert res.periods == ("2024-12-30", "2025-01-06")
    assert res.series("lead").tolist() == [1, 0]


def test_wip_as_of_cuts_the_log() -> None:
    res = ss.wip(small_log(), F3, as_of="2024-01-18")
    assert res.periods == ("2024-01-01",)
    assert res.as_of == np.datetime64("2024-01-18", "ns")
    assert res.series("lead").tolist() == [2]  # d1 and d2; d1 moves on only on Jan 20
    assert res.n_cases == 2


def test_wip_implied_skips_never_add_stock() -> None:
    rows = [("a", "lead", "2024-01-01", 1.0, "x"), ("a", "won", "2024-02-15", 1.0, "x")]
    for skips in ("strict", "implied"):
        res = ss.wip(small_log(rows), F3, skips=skips)
        assert res.series("qualified").tolist() == [0, 0]
        assert res.series("lead").tolist() == [1, 0]


def test_wip_by_group_with_a_missing_label() -> None:
    rows = [*ROWS, ("d4", "qualified", "2024-01-10", 10.0, None)]
    res = ss.wip(small_log(rows), F3, by="segment")
    assert res.groups == ("ent", "smb", None)
    assert res.series("lead", "ent").tolist() == [1, 0]
    assert res.series("lead", "smb").tolist() == [0, 1]
    assert res.series("qualified", "smb").tolist() == [1, 0]
    assert res.series("qualified", None).tolist() == [1, 1]
    frame = res.to_frame()
    assert list(frame.columns) == ["segment", "period", "stage", "wip"]
    assert len(frame) == 3 * 2 * 2
    assert frame["segment"].tolist()[:4] == ["ent"] * 4
    with pytest.raises(ParameterError, match="Did you mean 'smb'"):
        res.at("lead", "smbb")
    with pytest.raises(ParameterError, match="not grouped"):
        ss.wip(small_log(), F3).at("lead", "smb")


def test_wip_errors() -> None:
    log = small_log()
    with pytest.raises(ParameterError, match="Did you mean 'month'"):
        ss.wip(log, F3, period="mnth")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="Did you mean 'segment'"):
        ss.wip(log, F3, by="segmnt")
    with pytest.raises(ParameterError, match="skips"):
        ss.wip(log, F3, skips="loose")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="before the log starts"):
        ss.wip(log, F3, as_of="2023-12-31")
    res = ss.wip(log, F3)
    with pytest.raises(UnknownStageError, match="Did you mean 'lead'"):
        res.at("leed")
    with pytest.raises(ParameterError, match="Did you mean '2024-01-01'"):
        res.at("lead", period="2024-01-02")


# --------------------------------------------------------------------- throughput


def test_throughput_by_hand() -> None:
    res = ss.throughput(small_log(), F3)
    assert res.stages == ("lead", "qualified", "won", "lost")
    jan = res.at("lead", period="2024-01-01")
    assert (jan.entries, jan.exits, jan.advanced, jan.lost, jan.moved_back) == (2, 1, 1, 0, 0)
    feb = res.at("lead", period="2024-02-01")
    assert (feb.entries, feb.exits, feb.advanced, feb.lost, feb.moved_back) == (1, 1, 0, 1, 0)
    qualified = res.at("qualified")
    assert qualified.period is None
    assert (qualified.entries, qualified.exits, qualified.advanced) == (1, 1, 1)
    assert res.at("won", period="2024-02-01").entries == 1
    assert res.at("lost", period="2024-01-01").entries == 0
    assert res.at("won").exits == 0
    assert res.exits.tolist() == (res.advanced + res.lost + res.moved_back).tolist()
    assert repr(res) == "ThroughputResult(stages=4, periods=2, cases=3, entries=6, exits=3)"


def test_throughput_moves_back_and_implied_skips() -> None:
    rows = [
        ("a", "lead", "2024-01-01", 1.0, "x"),
        ("a", "qualified", "2024-01-05", 1.0, "x"),
        ("a", "lead", "2024-01-09", 1.0, "x"),
        ("a", "won", "2024-01-20", 1.0, "x"),
    ]
    strict = ss.throughput(small_log(rows), F3)
    q = strict.at("qualified")
    assert (q.entries, q.exits, q.moved_back, q.advanced) == (1, 1, 1, 0)
    lead = strict.at("lead")
    assert (lead.entries, lead.exits, lead.advanced) == (2, 2, 2)  # lead -> won is a jump
    implied = ss.throughput(small_log(rows), F3, skips="implied")
    # The jump lead -> won passes qualified, which the case had reached before: no implied
    # stay is added for it, so the counts are the strict ones.
    assert implied.at("qualified").entries == 1
    jump = [("b", "lead", "2024-01-01", 1.0, "x"), ("b", "won", "2024-01-03", 1.0, "x")]
    assert ss.throughput(small_log(jump), F3).at("qualified").entries == 0
    passed = ss.throughput(small_log(jump), F3, skips="implied").at("qualified")
    assert (passed.entries, passed.advanced) == (1, 1)


def test_throughput_by_group_adds_up() -> None:
    log = small_log()
    whole = ss.throughput(log, F3)
    split = ss.throughput(log, F3, by="segment")
    assert split.groups == ("ent", "smb")
    n = whole.entries.size
    for name in ("entries", "exits", "advanced", "lost", "moved_back"):
        parts = getattr(split, name).reshape(2, n).sum(axis=0)
        assert parts.tolist() == getattr(whole, name).tolist()
    assert split.at("lead", "ent").lost == 1
    assert split.at("lead", "ent").group == "ent"


# --------------------------------------------------------------------- Little's law


def test_littles_law_by_hand() -> None:
    res = ss.littles_law(small_log(), F3)
    assert res.window_days == 38.0  # Jan 3 .. Feb 10
    lead = res.at("lead")
    # Stays in lead: d1 17 days, d2 21 days, d3 9 days so far (open at as_of).
    assert (lead.entries, lead.stage_days, lead.open) == (3, 47.0, 1)
    assert lead.avg_wip == pytest.approx(47 / 38)
    assert lead.arrivals_per_day == pytest.approx(3 / 38)
    assert lead.little_days == pytest.approx(47 / 3)
    # Kaplan-Meier: d3 censored at 9; S = 1/2 after 17 and 0 after 21: area 17 + 4/2 = 19.
    assert lead.km_mean_days == pytest.approx(19.0)
    qualified = res.at("qualified")
    assert (qualified.entries, qualified.stage_days, qualified.open) == (1, 21.0, 0)
    assert qualified.little_days == pytest.approx(21.0)
    assert qualified.km_mean_days == pytest.approx(21.0)


def test_littles_law_holds_exactly_on_a_steady_log() -> None:
    # A deal arrives every 2 days and stays exactly 4 days in lead, then wins; the last one
    # closes at as_of, so nothing is censored.
    start = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    rows: list[tuple[object, ...]] = []
    for k in range(6):
        t = start + dt.timedelta(days=2 * k)
        rows += [
            (f"d{k}", "lead", t, 1.0, "x"),
            (f"d{k}", "won", t + dt.timedelta(days=4), 1.0, "x"),
        ]
    res = ss.littles_law(small_log(rows), F3)
    lead = res.at("lead")
    assert res.window_days == 14.0
    assert lead.avg_wip == pytest.approx(24 / 14)
    assert lead.arrivals_per_day == pytest.approx(6 / 14)
    assert lead.avg_wip == pytest.approx(lead.arrivals_per_day * 4.0)
    assert lead.little_days == pytest.approx(4.0)
    assert lead.km_mean_days == pytest.approx(4.0)
    # WIP at the end of each day: one deal in days 0-1 and 12-13, two in days 2-11, none
    # at as_of (the last deal wins then); the days add up to the 24 stage-days.
    wip = ss.wip(small_log(rows), F3, period="day")
    series = wip.series("lead").tolist()
    assert series == [1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 0]
    assert sum(series) == 24


def test_littles_law_by_group_and_single_instant_window() -> None:
    res = ss.littles_law(small_log(), F3, by="segment")
    assert res.at("lead", "ent").stage_days == 21.0
    assert res.at("lead", "smb").entries == 2
    assert np.isnan(res.at("qualified", "ent").little_days)  # no arrivals
    frame = res.to_frame()
    assert list(frame.columns)[:3] == ["segment", "stage", "entries"]
    one = ss.littles_law(small_log([("a", "lead", "2024-01-01", 1.0, "x")]), F3)
    assert one.window_days == 0.0
    assert np.isnan(one.at("lead").avg_wip)
    assert one.at("lead").entries == 1


# --------------------------------------------------------------------- velocity


def test_velocity_by_hand() -> None:
    res = ss.velocity(small_log(), F3, value="amount")
    vel = res.at()
    assert (vel.opportunities, vel.won, vel.lost, vel.open) == (3, 1, 1, 1)
    assert vel.win_rate == 0.5
    low, high = sps.binomtest(1, 2).proportion_ci(0.95, method="wilson")
    assert (vel.win_rate_low, vel.win_rate_high) == pytest.approx((low, high))
    assert vel.avg_won_value == 100.0
    assert vel.cycle_days == 38.0
    assert vel.velocity_per_day == pytest.approx(3 * 0.5 * 100 / 38)
    assert repr(res).startswith("VelocityResult(opportunities=3, win_rate=0.5, ")


def test_velocity_window_and_groups() -> None:
    log = small_log()
    recent = ss.velocity(log, F3, value="amount", window=20).at()  # from Jan 21
    assert (recent.opportunities, recent.won, recent.lost, recent.open) == (1, 0, 0, 1)
    assert np.isnan(recent.win_rate)
    assert np.isnan(recent.velocity_per_day)
    same = ss.velocity(log, F3, value="amount", window=dt.timedelta(days=20))
    assert same.window_start == np.datetime64("2024-01-21", "ns")
    assert same.at().opportunities == 1
    split = ss.velocity(log, F3, value="amount", by="segment")
    assert split.at("smb").won == 1
    assert split.at("smb").opportunities == 2
    assert split.at("ent").win_rate == 0.0
    assert np.isnan(split.at("ent").cycle_days)  # no won deal: no cycle, no velocity
    assert np.isnan(split.at("ent").velocity_per_day)
    assert list(split.to_frame().columns)[:2] == ["segment", "opportunities"]


def test_velocity_won_deals_without_a_value_are_left_out_of_the_mean() -> None:
    rows = [
        ("a", "lead", "2024-01-01", 100.0, "x"),
        ("a", "won", "2024-01-11", 100.0, "x"),
        ("b", "lead", "2024-01-01", None, "x"),
        ("b", "won", "2024-01-21", None, "x"),
    ]
    vel = ss.velocity(small_log(rows), F3, value="amount").at()
    assert (vel.won, vel.avg_won_value, vel.cycle_days) == (2, 100.0, 15.0)


def test_velocity_errors() -> None:
    log = small_log()
    with pytest.raises(ParameterError, match="Did you mean 'amount'"):
        ss.velocity(log, F3, value="amout")
    with pytest.raises(ParameterError, match="numeric case attribute"):
        ss.velocity(log, F3, value="segment")
    with pytest.raises(ParameterError, match="window must be a positive duration"):
        ss.velocity(log, F3, value="amount", window=0)
    with pytest.raises(ParameterError, match="confidence_level"):
        ss.velocity(log, F3, value="amount", confidence_level=95)
    events = ss.EventLog.from_records(
        [("a", "lead", "2024-01-01", 5.0)], names=("case", "activity", "time", "amount")
    )
    with pytest.raises(ParameterError, match="event attribute"):
        ss.velocity(events, F3, value="amount")


# --------------------------------------------------------------------- stuck


def test_stuck_with_explicit_thresholds() -> None:
    res = ss.stuck(small_log(), F3, thresholds={"lead": 7})
    assert res.case.tolist() == ["d3"]
    assert res.stage.tolist() == ["lead"]
    assert res.days_in_stage.tolist() == [9.0]
    assert res.threshold_days.tolist() == [7.0]
    assert res.days_over.tolist() == [2.0]
    assert res.threshold_sources == ("given", "estimated")
    assert res.at("lead") == ss.StuckStage(
        stage="lead", open=1, stuck=1, threshold_days=7.0, threshold_source="given"
    )
    assert repr(res) == "StuckResult(stages=2, open=1, stuck=1)"
    assert ss.stuck(small_log(), F3, thresholds={"lead": 9}).case.size == 0  # 9 is not > 9
    assert ss.stuck(small_log(), F3, thresholds=dt.timedelta(days=8)).case.tolist() == ["d3"]


def test_stuck_default_thresholds_are_kaplan_meier_quantiles() -> None:
    res = ss.stuck(small_log(), F3)
    # lead stays: 17 and 21 finished, 9 censored: S = 1/2 after 17, 0 after 21.
    assert res.at("lead").threshold_days == 21.0
    assert ss.stuck(small_log(), F3, quantile=0.5).at("lead").threshold_days == 17.0
    assert res.case.size == 0
    km = stats.kaplan_meier([17.0, 21.0, 9.0], [True, True, False])
    assert km.quantile(0.9).value.tolist() == [21.0]


def test_stuck_orders_by_group_stage_and_excess() -> None:
    rows = [
        ("a", "lead", "2024-01-01", 1.0, "x"),
        ("b", "lead", "2024-01-05", 1.0, "y"),
        ("c", "lead", "2024-01-03", 1.0, "x"),
        ("d", "qualified", "2024-01-02", 1.0, "x"),
        ("e", "lead", "2024-01-30", 1.0, "x"),
    ]
    res = ss.stuck(small_log(rows), F3, thresholds=10, by="segment")
    assert res.case.tolist() == ["a", "c", "d", "b"]
    assert res.group.tolist() == ["x", "x", "x", "y"]
    assert res.days_over.tolist() == [19.0, 17.0, 18.0, 15.0]
    assert res.at("lead", "x").open == 3
    assert res.at("lead", "x").stuck == 2
    counts = res.counts_table()
    assert counts["stuck"].tolist() == [2, 1, 1, 0]
    out = json.loads(json.dumps(res.to_dict()))
    assert out["rows"][0]["case"] == "a"
    assert out["counts"][0] == {
        "segment": "x",
        "stage": "lead",
        "open": 3,
        "stuck": 2,
        "threshold_days": 10.0,
        "threshold_source": "given",
    }


def test_stuck_errors() -> None:
    log = small_log()
    with pytest.raises(UnknownStageError, match="Did you mean 'lead'"):
        ss.stuck(log, F3, thresholds={"leed": 5})
    with pytest.raises(ParameterError, match="outcome"):
        ss.stuck(log, F3, thresholds={"won": 5})
    with pytest.raises(ParameterError, match="positive duration"):
        ss.stuck(log, F3, thresholds={"lead": -1})
    with pytest.raises(ParameterError, match="mapping"):
        ss.stuck(log, F3, thresholds=["lead"])  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="quantile"):
        ss.stuck(log, F3, quantile=1.0)


# --------------------------------------------------------------------- weighted pipeline


def test_weighted_pipeline_by_hand() -> None:
    res = ss.weighted_pipeline(small_log(), F3, value="amount", target=200)
    # Step rates: lead 1 advanced / (1 + 1 lost); qualified 1/1. p(lead) = 0.5 * 1.
    assert res.step_rates.tolist() == [0.5, 1.0]
    assert res.step_resolved.tolist() == [2, 1]
    assert res.probabilities.tolist() == [0.5, 1.0]
    lead = res.at("lead")
    assert (lead.deals, lead.valued, lead.value, lead.weighted_value) == (1, 1, 80.0, 40.0)
    assert res.at("qualified").deals == 0
    total = res.total()
    assert (total.deals, total.value, total.weighted_value) == (1, 80.0, 40.0)
    assert (total.coverage, total.weighted_coverage) == (0.4, 0.2)
    assert repr(res) == "PipelineResult(deals=1, value=80, weighted_value=40, coverage=0.4)"


def test_weighted_pipeline_given_probabilities_and_groups() -> None:
    rows = [
        *ROWS,
        ("d4", "qualified", "2024-01-25", 30.0, "ent"),
        ("d5", "qualified", "2024-01-26", None, "ent"),
    ]
    res = ss.weighted_pipeline(
        small_log(rows), F3, value="amount", probabilities={"qualified": 0.25}, by="segment"
    )
    assert res.probability_sources == ("estimated", "given")
    # d4 and d5 start in qualified: they entered the funnel there, not in lead, so lead's
    # step rate is d1's advance against d2's loss, 1 / (1 + 1); p(lead) = 0.5 x the given
    # p(qualified).
    assert res.step_rates.tolist() == [0.5, 1.0]
    assert res.probabilities.tolist() == [0.125, 0.25]
    q = res.at("qualified", "ent")
    assert (q.deals, q.valued, q.value, q.probability, q.weighted_value) == (
        2,
        1,
        30.0,
        0.25,
        7.5,
    )
    assert res.at("lead", "smb").weighted_value == 10.0  # 80 x 0.125
    assert np.isnan(res.total("ent").coverage)
    assert res.total("ent").weighted_value == 7.5
    assert list(res.to_frame().columns)[:3] == ["segment", "stage", "deals"]


def test_weighted_pipeline_errors() -> None:
    log = small_log()
    with pytest.raises(UnknownStageError, match="Did you mean 'qualified'"):
        ss.weighted_pipeline(log, F3, value="amount", probabilities={"qualifed": 0.5})
    with pytest.raises(ParameterError, match="between 0 and 1"):
        ss.weighted_pipeline(log, F3, value="amount", probabilities={"lead": 1.5})
    with pytest.raises(ParameterError, match="between 0 and 1"):
        ss.weighted_pipeline(log, F3, value="amount", probabilities={"lead": -0.1})
    with pytest.raises(ParameterError, match="outcome"):
        ss.weighted_pipeline(log, F3, value="amount", probabilities={"lost": 0.0})
    with pytest.raises(ParameterError, match="not a case attribute"):
        ss.weighted_pipeline(log, F3, value="price")
    with pytest.raises(ParameterError, match="numeric"):
        ss.weighted_pipeline(log, F3, value="segment")
    with pytest.raises(ParameterError, match="target must be a positive number"):
        ss.weighted_pipeline(log, F3, value="amount", target=0)
    with pytest.raises(UnknownStageError, match="Did you mean"):
        ss.weighted_pipeline(log, F3, value="amount").at("leads")


def test_weighted_pipeline_accepts_integer_and_object_amounts() -> None:
    log = ss.EventLog.from_records(
        [("a", "lead", "2024-01-01", 5), ("b", "lead", "2024-01-02", 7)],
        names=("case", "activity", "time", "amount"),
        case_attributes=["amount"],
    )
    res = ss.weighted_pipeline(log, F3, value="amount", probabilities={"lead": 0.1})
    assert res.at("lead").value == 12.0
    assert res.at("lead").weighted_value == pytest.approx(1.2)
    flags = ss.EventLog.from_records(
        [("a", "lead", "2024-01-01", True)],
        names=("case", "activity", "time", "amount"),
        case_attributes=["amount"],
    )
    with pytest.raises(ParameterError, match="bool values"):
        ss.weighted_pipeline(flags, F3, value="amount")


# --------------------------------------------------------------------- results round-trip


def all_results(log: ss.EventLog, funnel: ss.Funnel, by: str | None = None) -> list[object]:
    return [
        ss.wip(log, funnel, by=by),
        ss.throughput(log, funnel, by=by),
        ss.littles_law(log, funnel, by=by),
        ss.velocity(log, funnel, value="amount", by=by),
        ss.stuck(log, funnel, thresholds=1, by=by),
        ss.weighted_pipeline(log, funnel, value="amount", by=by, target=10),
    ]


@pytest.mark.parametrize("by", [None, "segment"])
def test_results_serialise(by: str | None) -> None:
    for res in all_results(small_log(), F3, by=by):
        out = json.loads(json.dumps(res.to_dict()))  # type: ignore[attr-defined]
        assert out["kind"] == type(res).__name__
        assert out["rows"]
        assert out["parameters"]["by"] == by
        frame = res.to_frame()  # type: ignore[attr-defined]
        assert len(frame) == len(out["rows"])
        assert "<table>" in res._repr_html_()  # type: ignore[attr-defined]


def test_results_compare_by_value() -> None:
    for a, b in zip(all_results(small_log(), F3), all_results(small_log(), F3), strict=True):
        assert a == b
    assert ss.wip(small_log(), F3) != ss.wip(small_log(), F3, as_of="2024-02-05")
    nan_rates = ss.velocity(small_log(), F3, value="amount", window=5)
    assert nan_rates == ss.velocity(small_log(), F3, value="amount", window=5)


def test_result_arrays_are_read_only() -> None:
    res = ss.wip(small_log(), F3)
    with pytest.raises(ValueError, match="read-only"):
        res.wip[0] = 5


# --------------------------------------------------------------------- properties


FIXED = ss.Funnel.linear(["lead", "qualified", "proposal", "won"], lost="lost")
PERIOD_CHOICES = st.sampled_from(["day", "week", "month"])
SKIPS = st.sampled_from(["strict", "implied"])
RANDOM_LOGS = strategies.funnels(back_edges=True).flatmap(
    lambda f: st.tuples(st.just(f), strategies.stage_logs(f))
)


def case_starts(log: ss.EventLog) -> np.ndarray:
    return np.asarray(log.time.view(np.int64)[log.offsets[:-1]])


@given(RANDOM_LOGS, PERIOD_CHOICES, SKIPS)
def test_property_wip_is_bounded_by_started_cases(pair, period, skips) -> None:  # type: ignore[no-untyped-def]
    funnel, log = pair
    res = ss.wip(log, funnel, period=period, skips=skips)
    assert (res.wip >= 0).all()
    n_p, n_s = len(res.periods), len(res.stages)
    total = res.wip.reshape(n_p, n_s).sum(axis=1)
    started = np.searchsorted(np.sort(case_starts(log)), res.period_end.view(np.int64), "right")
    assert (total <= started).all()


@given(RANDOM_LOGS, PERIOD_CHOICES, SKIPS, st.booleans())
def test_property_stock_equals_entries_minus_exits(pair, period, skips, grouped) -> None:  # type: ignore[no-untyped-def]
    funnel, log = pair
    by = "segment" if grouped else None
    w = ss.wip(log, funnel, period=period, skips=skips, by=by)
    t = ss.throughput(log, funnel, period=period, skips=skips, by=by)
    n_g, n_p = len(w.groups), len(w.periods)
    n_open, n_all = len(w.stages), len(t.stages)
    net = (t.entries - t.exits).reshape(n_g, n_p, n_all)[:, :, :n_open]
    stock = w.wip.reshape(n_g, n_p, n_open)
    assert (np.cumsum(net, axis=1) == stock).all()
    # Over the whole window: entries - exits == WIP at the end, per stage.
    for stage in w.stages:
        for group in w.groups:
            flows = t.at(stage, group)
            assert flows.entries - flows.exits == w.at(stage, group).wip
    assert (t.exits == t.advanced + t.lost + t.moved_back).all()


@given(RANDOM_LOGS, SKIPS)
def test_property_littles_law_identity(pair, skips) -> None:  # type: ignore[no-untyped-def]
    funnel, log = pair
    res = ss.littles_law(log, funnel, skips=skips)
    w = ss.wip(log, funnel, skips=skips)
    assert res.open.tolist() == [w.at(s).wip for s in w.stages]
    if res.window_days > 0:
        has = res.entries > 0
        assert np.allclose(res.avg_wip[has], res.arrivals_per_day[has] * res.little_days[has])
        assert (res.km_mean_days[has] >= res.little_days[has] - 1e-9).all()
        assert (res.little_days[has] <= res.window_days + 1e-9).all()


def with_amounts(log: ss.EventLog) -> ss.EventLog:
    """The same log with a case attribute ``amount`` (case code + 1) beside ``segment``."""
    return ss.EventLog.from_arrays(
        case=np.asarray(log.case_names)[log.case],
        activity=np.asarray(log.activity_names)[log.activity],
        time=log.time,
        case_attributes={
            "amount": log.case.astype(float) + 1.0,
            "segment": np.asarray(log.case_attributes["segment"], dtype=object)[log.case],
        },
    )


@given(strategies.stage_logs(FIXED))
def test_property_velocity_by_group_matches_numpy(log) -> None:  # type: ignore[no-untyped-def]
    amounts = with_amounts(log)
    res = ss.velocity(amounts, FIXED, value="amount", by="segment")
    whole = ss.velocity(amounts, FIXED, value="amount").at()
    assert int(res.opportunities.sum()) == whole.opportunities == log.n_cases
    assert int(res.won.sum()) == whole.won
    names = np.asarray(amounts.activity_names, dtype=object)[amounts.activity]
    t = amounts.time.view(np.int64)
    starts = t[amounts.offsets[:-1]]
    segment = np.asarray(amounts.case_attributes["segment"], dtype=object)
    for label in res.groups:
        row = res.at(label)
        in_group = np.array([s == label for s in segment])
        won_event = (names == "won") & in_group[amounts.case]
        assert row.won == int(won_event.sum())
        assert row.lost == int(((names == "lost") & in_group[amounts.case]).sum())
        cycles = (t[won_event] - starts[amounts.case[won_event]]) / NS_PER_DAY
        if cycles.size:
            assert row.cycle_days == pytest.approx(float(np.median(cycles)))
            won_codes = amounts.case[won_event]
            assert row.avg_won_value == pytest.approx(float((won_codes + 1.0).mean()))
        else:
            assert np.isnan(row.cycle_days)


@given(RANDOM_LOGS)
def test_property_stuck_and_pipeline_agree_with_wip(pair) -> None:  # type: ignore[no-untyped-def]
    funnel, log = pair
    amounts = with_amounts(log)
    w = ss.wip(amounts, funnel)
    at_end = [w.at(s).wip for s in w.stages]
    stuck = ss.stuck(amounts, funnel)
    assert stuck.stage_open.tolist() == at_end
    assert (stuck.stage_stuck <= stuck.stage_open).all()
    assert (stuck.days_in_stage > stuck.threshold_days).all()
    pipe = ss.weighted_pipeline(amounts, funnel, value="amount")
    assert pipe.deals.tolist() == at_end
    p = pipe.probabilities
    assert ((p >= 0) & (p <= 1) | np.isnan(p)).all()
    finite = ~np.isnan(pipe.weighted_value)
    assert (pipe.weighted_value[finite] <= pipe.value[finite] + 1e-9).all()
    vel = ss.velocity(amounts, funnel, value="amount").at()
    assert vel.won + vel.lost + vel.open == vel.opportunities
    if vel.won + vel.lost:
        assert vel.win_rate_low <= vel.win_rate <= vel.win_rate_high


@given(strategies.stage_logs(FIXED), st.booleans())
def test_property_groups_add_up(log, implied) -> None:  # type: ignore[no-untyped-def]
    skips: Literal["implied", "strict"] = "implied" if implied else "strict"
    whole = ss.throughput(log, FIXED, skips=skips)
    split = ss.throughput(log, FIXED, skips=skips, by="segment")
    n = whole.entries.size
    assert (split.entries.reshape(-1, n).sum(axis=0) == whole.entries).all()
    assert (split.exits.reshape(-1, n).sum(axis=0) == whole.exits).all()
    lw = ss.littles_law(log, FIXED, skips=skips)
    ls = ss.littles_law(log, FIXED, skips=skips, by="segment")
    k = lw.entries.size
    assert (ls.entries.reshape(-1, k).sum(axis=0) == lw.entries).all()
    assert np.allclose(ls.stage_days.reshape(-1, k).sum(axis=0), lw.stage_days)


@given(strategies.event_logs(max_cases=6, max_events=6), PERIOD_CHOICES)
def test_property_messy_logs(log, period) -> None:  # type: ignore[no-untyped-def]
    # Random activities: backward moves, events after a close, non-stage-free logs.
    w = ss.wip(log, FIXED, period=period)
    t = ss.throughput(log, FIXED, period=period)
    assert (w.wip >= 0).all()
    for stage in w.stages:
        flows = t.at(stage)
        assert flows.entries - flows.exits == w.at(stage).wip
    json.dumps(w.to_dict())
    json.dumps(t.to_dict())


# --------------------------------------------------------------------- planted answers


@pytest.fixture(scope="module")
def sim() -> ss.datasets.SyntheticPipeline:
    return ss.datasets.synthetic_pipeline(3000, seed=11, skip=0.0, rep_effect=0.0)


def open_deals_by_last_stage(sim: ss.datasets.SyntheticPipeline) -> dict[str, int]:
    """Independently of the episodes: each case's last stage event, counted if open."""
    log = sim.log
    names = np.asarray(log.activity_names, dtype=object)
    stage_names = [*sim.stages, sim.won, sim.lost]
    is_stage = np.isin(names[log.activity], np.array(stage_names, dtype=object))
    idx = np.flatnonzero(is_stage)
    case = log.case[idx]
    last = idx[np.append(case[1:] != case[:-1], True)]
    final = names[log.activity[last]]
    return {s: int((final == s).sum()) for s in sim.stages}


def test_planted_wip_at_as_of_is_the_open_deals(sim: ss.datasets.SyntheticPipeline) -> None:
    expected = open_deals_by_last_stage(sim)
    assert sum(expected.values()) > 50
    res = ss.wip(sim.log, sim.funnel, as_of=sim.as_of)
    assert {s: res.at(s).wip for s in sim.stages} == expected
    pipe = ss.weighted_pipeline(sim.log, sim.funnel, value="amount", as_of=sim.as_of)
    assert {s: pipe.at(s).deals for s in sim.stages} == expected
    amount = np.asarray(sim.log.case_attributes["amount"], dtype=float)
    assert pipe.total().value == pytest.approx(
        float(amount[np.isin(sim.log.case_names, np.array(open_case_ids(sim)))].sum())
    )


def open_case_ids(sim: ss.datasets.SyntheticPipeline) -> list[object]:
    closed = np.isin(
        np.asarray(sim.log.activity_names, dtype=object)[sim.log.activity],
        np.array([sim.won, sim.lost], dtype=object),
    )
    done = set(np.asarray(sim.log.case_names)[np.unique(sim.log.case[closed])].tolist())
    return [c for c in sim.log.case_names.tolist() if c not in done]


def test_planted_step_rates_recover_advance_probabilities(
    sim: ss.datasets.SyntheticPipeline,
) -> None:
    pipe = ss.weighted_pipeline(sim.log, sim.funnel, value="amount", as_of=sim.as_of)
    for s, stage in enumerate(sim.stages):
        p = sim.advance_probability(stage)
        n = int(pipe.step_resolved[s])
        se = np.sqrt(p * (1 - p) / n)
        assert abs(pipe.step_rates[s] - p) < 4 * se, stage
    truth = np.cumprod([sim.advance_probability(s) for s in sim.stages][::-1])[::-1]
    assert np.allclose(pipe.probabilities, truth, atol=0.06)


def test_planted_dwell_means_and_quantiles(sim: ss.datasets.SyntheticPipeline) -> None:
    flow = ss.littles_law(sim.log, sim.funnel, as_of=sim.as_of)
    stuck = ss.stuck(sim.log, sim.funnel, as_of=sim.as_of)
    for stage in sim.stages:
        dist = sim.dwell_distribution(stage)
        row = flow.at(stage)
        assert row.km_mean_days == pytest.approx(dist.mean, rel=0.08), stage
        assert row.little_days <= row.km_mean_days
        q90 = float(sps.gamma(a=dist.shape, scale=dist.scale).ppf(0.9))
        assert stuck.at(stage).threshold_days == pytest.approx(q90, rel=0.12), stage
    # About 10% of the open deals' stays outlast the 90% quantile, give or take their age.
    share = stuck.stage_stuck.sum() / stuck.stage_open.sum()
    assert 0.0 < share < 0.3


def test_planted_velocity_inputs(sim: ss.datasets.SyntheticPipeline) -> None:
    vel = ss.velocity(sim.log, sim.funnel, value="amount", as_of=sim.as_of).at()
    names = np.asarray(sim.log.activity_names, dtype=object)[sim.log.activity]
    won_cases = np.unique(sim.log.case[names == sim.won])
    lost_cases = np.unique(sim.log.case[names == sim.lost])
    assert (vel.opportunities, vel.won, vel.lost) == (3000, won_cases.size, lost_cases.size)
    amount = np.asarray(sim.log.case_attributes["amount"], dtype=float)
    assert vel.avg_won_value == pytest.approx(float(amount[won_cases].mean()))
    starts = sim.log.time.view(np.int64)[sim.log.offsets[:-1]]
    won_at = sim.log.time.view(np.int64)[names == sim.won]
    assert vel.cycle_days == pytest.approx(
        float(np.median((won_at - starts[sim.log.case[names == sim.won]]) / NS_PER_DAY))
    )
    assert vel.velocity_per_day == pytest.approx(
        vel.opportunities * vel.win_rate * vel.avg_won_value / vel.cycle_days
    )


# --------------------------------------------------------------------- real data


MAVEN = ss.Funnel.linear(["Engaging", "Won"], lost="Lost")


@pytest.fixture(scope="module")
def maven() -> tuple[ss.EventLog, ss.datasets.CrmTables]:
    return ss.datasets.load_crm_opportunities(), ss.datasets.load_crm_tables()


def test_maven_velocity_matches_the_raw_table(maven) -> None:  # type: ignore[no-untyped-def]
    log, tables = maven
    deals = tables.sales_pipeline
    stage = np.asarray(deals["deal_stage"], dtype=object)
    engaged = ~np.isnat(deals["engage_date"])
    won = stage == "Won"
    vel = ss.velocity(log, MAVEN, value="close_value").at()
    assert vel.opportunities == int(engaged.sum()) == 8300
    assert vel.won == int(won.sum())
    assert vel.lost == int((stage == "Lost").sum())
    assert vel.open == int((stage == "Engaging").sum()) == 1589
    assert vel.avg_won_value == pytest.approx(float(deals["close_value"][won].mean()))
    cycle = (deals["close_date"][won] - deals["engage_date"][won]).astype(float)
    assert vel.cycle_days == float(np.median(cycle))


def test_maven_open_pipeline(maven) -> None:  # type: ignore[no-untyped-def]
    log, tables = maven
    deals = tables.sales_pipeline
    is_open = np.asarray(deals["deal_stage"], dtype=object) == "Engaging"
    w = ss.wip(log, MAVEN, period="quarter")
    assert w.at("Engaging").wip == int(is_open.sum())
    pipe = ss.weighted_pipeline(log, MAVEN, value="sales_price", by="regional_office")
    price = np.asarray(log.case_attributes["sales_price"], dtype=float)
    open_codes = np.flatnonzero(np.asarray(log.case_attributes["deal_stage"]) == "Engaging")
    assert float(pipe.total_value.sum()) == pytest.approx(float(np.nansum(price[open_codes])))
    won, lost = (
        int((deals["deal_stage"] == "Won").sum()),
        int((deals["deal_stage"] == "Lost").sum()),
    )
    assert pipe.probabilities[0] == pytest.approx(won / (won + lost))
    t = ss.throughput(log, MAVEN, period="month")
    assert t.at("Won").entries == won
    assert t.at("Engaging").exits == won + lost


@pytest.fixture(scope="module")
def bpic2012() -> ss.EventLog:
    path = DATA / "bpic2012" / "BPI_Challenge_2012.xes.gz"
    if not path.is_file():
        pytest.skip(f"real-data file {path} is absent: {_data.ABSENT}")
    return ss.read_xes(path, lifecycle="complete")


BPIC = ss.Funnel.linear(
    ["A_SUBMITTED", "A_PARTLYSUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "A_FINALIZED", "won"],
    lost=["A_DECLINED", "A_CANCELLED"],
    aliases={"A_APPROVED": "won", "A_REGISTERED": "won", "A_ACTIVATED": "won"},
)


@pytest.mark.slow
def test_bpic2012_wip_and_flows(bpic2012: ss.EventLog) -> None:
    log = bpic2012
    w = ss.wip(log, BPIC, period="week")
    t = ss.throughput(log, BPIC, period="week")
    # Independent count: cases with no outcome event whose last stage event is an open stage.
    names = np.asarray(log.activity_names, dtype=object)
    stage_of = np.array([BPIC.stage_of(a) or "" for a in names], dtype=object)[log.activity]
    idx = np.flatnonzero(stage_of != "")
    case = log.case[idx]
    outcome = np.isin(stage_of[idx], np.array(["won", "A_DECLINED", "A_CANCELLED"], dtype=object))
    closed = np.zeros(log.n_cases, dtype=bool)
    closed[case[outcome]] = True
    last = idx[np.append(case[1:] != case[:-1], True)]
    last = last[~closed[log.case[last]]]
    open_count = {s: int((stage_of[last] == s).sum()) for s in w.stages}
    assert {s: w.at(s).wip for s in w.stages} == open_count
    assert sum(open_count.values()) == 399  # the open applications the data README states
    for stage in w.stages:
        flows = t.at(stage)
        assert flows.entries - flows.exits == w.at(stage).wip
    law = ss.littles_law(log, BPIC)
    assert np.allclose(law.avg_wip, law.arrivals_per_day * law.little_days)
    assert (law.km_mean_days >= law.little_days - 1e-9).all()
