"""Tests of salesstd.bottleneck and stats.beta_binomial_shrinkage."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import salesstd as ss
import strategies
from _data import DATA
from salesstd import stats
from salesstd._base import text as _text
from salesstd._engine import grouping as _common
from salesstd._engine.counts import step_counts
from salesstd._engine.episodes import build_episodes
from salesstd._engine.grouping import Period
from salesstd.errors import ParameterError, UnknownStageError

F = ss.Funnel.linear(["lead", "demo", "won"], lost="lost")
# lead: d1, d3 advance; d2, d4 lost -> 0.5. demo: d1 won, d3 lost -> 0.5.
# Dwell in lead: d1 2, d2 8, d3 2, d4 28 days; in demo: d1 2, d3 16 days.
ROWS = [
    ("d1", "lead", "2024-01-01", "ann"),
    ("d1", "demo", "2024-01-03", "ann"),
    ("d1", "won", "2024-01-05", "ann"),
    ("d2", "lead", "2024-01-01", "bob"),
    ("d2", "lost", "2024-01-09", "bob"),
    ("d3", "lead", "2024-01-02", "ann"),
    ("d3", "demo", "2024-01-04", "ann"),
    ("d3", "lost", "2024-01-20", "ann"),
    ("d4", "lead", "2024-01-03", "bob"),
    ("d4", "lost", "2024-01-31", "bob"),
]


def small_log() -> ss.EventLog:
    return ss.EventLog.from_records(
        ROWS, names=("case", "activity", "time", "rep"), case_attributes=["rep"]
    )


def small_report(**kwargs: object) -> ss.BottleneckReport:
    options: dict[str, object] = {
        "by": None,
        "benchmark": {"lead": 0.9, "demo": 0.5},
        "sla": {"lead": 2, "demo": 2},
        "n_boot": 200,
    }
    options.update(kwargs)
    return ss.bottlenecks(small_log(), F, **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------- known answers


def test_conversion_lens_known_answer() -> None:
    row = small_report().at("lead", lens="conversion")
    assert (row.current, row.benchmark) == (0.5, 0.9)
    assert row.gap == pytest.approx(0.4)
    # 4 entries over a span of 30 days (< 1 month counts as 1); P(win | past lead) = 0.5.
    assert row.impact == pytest.approx(0.4 * 4 * 0.5)
    assert row.unit == "wins per period"
    assert row.impact_low <= row.impact <= row.impact_high
    demo = small_report().at("demo", lens="conversion")
    assert demo.gap == 0.0
    assert demo.impact == 0.0
    assert not demo.significant


def test_conversion_current_is_the_conversion_step_rate() -> None:
    sim = ss.datasets.synthetic_pipeline(300, seed=4)
    report = ss.bottlenecks(sim.log, sim.funnel, n_boot=50)
    conv = ss.conversion(sim.log, sim.funnel)
    for stage in sim.stages:
        assert report.at(stage, lens="conversion").current == conv.at(stage).rate


def test_dwell_lens_known_answer() -> None:
    report = small_report()
    lead = report.at("lead", lens="dwell")
    # KM median of 2, 2, 8, 28 days (all ended) = 2; demo: 2, 16 -> 2.
    assert lead.current == 2.0
    assert lead.benchmark == 2.0
    assert lead.gap == 0.0
    assert lead.unit == "days per deal"
    slow = small_report(sla={"lead": 1.5}).at("lead", lens="dwell")
    assert slow.gap == pytest.approx(0.5)
    assert slow.impact == pytest.approx(0.5)  # one stay per deal
    no_sla = small_report(sla={"lead": 1.5}).at("demo", lens="dwell")
    assert np.isnan(no_sla.benchmark)
    assert not no_sla.significant


def test_dwell_current_is_time_in_stage_median_and_visits_scale_impact() -> None:
    sim = ss.datasets.synthetic_pipeline(400, seed=2, backward=0.2)
    sla = dict.fromkeys(sim.stages, 1.0)
    report = ss.bottlenecks(sim.log, sim.funnel, sla=sla, n_boot=20)
    tis = ss.time_in_stage(sim.log, sim.funnel)
    chain = ss.MarkovFunnel.from_log(sim.log, sim.funnel)
    assert isinstance(chain, ss.MarkovFunnel)
    visits = np.diag(chain.fundamental_matrix())
    for i, stage in enumerate(sim.stages):
        row = report.at(stage, lens="dwell")
        assert row.current == tis.at(stage).median_days
        assert row.impact == pytest.approx((row.current - 1.0) * visits[i])
    assert visits[1:].max() > 1.0  # backward moves bring deals back


@settings(deadline=None)
@given(strategies.event_records(max_cases=8, max_events=8))
def test_step_counts_are_the_conversion_counts(rows: list[strategies.Record]) -> None:
    # Any order of stages and outcomes: skips, backward moves, events after a close.
    log = strategies.build_log(rows)
    funnel = ss.Funnel.linear(["lead", "qualified", "proposal", "won"], lost="lost")
    conv = ss.conversion(log, funnel, by="segment")
    groups = _common.groups(log, "segment")
    ep = build_episodes(log, funnel, skips="strict")
    entered, advanced, lost = step_counts(ep, groups.of_case, groups.n)
    assert entered.ravel().tolist() == conv.entered.tolist()
    assert advanced.ravel().tolist() == conv.advanced.tolist()
    assert lost.ravel().tolist() == conv.lost.tolist()
    report = ss.bottlenecks(log, funnel, by="segment", n_boot=5)
    assert report.n_cases == conv.n_cases
    pooled = ss.conversion(log, funnel)
    for stage in funnel.stage_names[: funnel.n_open]:
        np.testing.assert_equal(report.at(stage, lens="conversion").current, pooled.at(stage).rate)


@pytest.mark.parametrize(
    ("seed", "period", "as_of"),
    [(1, "month", None), (2, "week", None), (3, "month", "2024-04-10"), (4, "quarter", None)],
)
def test_wip_lens_is_wip_and_throughput(seed: int, period: Period, as_of: str | None) -> None:
    # The lens counts from the episodes directly; it must agree with the public metrics.
    sim = ss.datasets.synthetic_pipeline(600, seed=seed, backward=0.2, skip=0.2)
    report = ss.bottlenecks(
        sim.log, sim.funnel, by=None, benchmark=0.5, period=period, as_of=as_of, n_boot=5
    )
    w = ss.wip(sim.log, sim.funnel, period=period, as_of=as_of)
    tp = ss.throughput(sim.log, sim.funnel, period=period, as_of=as_of)
    n_p, n_s, n_all = len(w.periods), len(sim.stages), len(tp.stages)
    k = min(6, n_p)
    series = np.asarray(w.wip, dtype=np.float64).reshape(n_p, n_s)
    net = (np.asarray(tp.entries) - np.asarray(tp.exits)).reshape(n_p, n_all)[n_p - k :, :n_s]
    for i, stage in enumerate(sim.stages):
        row = report.at(stage, lens="wip")
        assert row.current == series[-1, i]
        assert row.impact == net[:, i].mean()
        if k >= 3:
            half = sps.t.ppf(0.95, k - 1) * net[:, i].std(ddof=1) / np.sqrt(k)
            assert (row.impact_low, row.impact_high) == (
                net[:, i].mean() - half,
                net[:, i].mean() + half,
            )
        before = series[n_p - k - 1, i] if n_p > k else 0.0
        # The direction words follow the sign of the growth.
        if row.impact > 0:
            assert f"up from {_text.count(before)} " in row.explanation
            assert "arrivals exceeded departures by " in row.explanation
        elif row.impact < 0:
            assert f"down from {_text.count(before)} " in row.explanation
            assert "departures exceeded arrivals by " in row.explanation
            assert f"by {_text.plural(-row.impact, 'deal')} per {period}" in row.explanation
        else:
            assert "arrivals matched departures" in row.explanation


def test_wip_lens_known_answer() -> None:
    # Deals enter "lead" and stay: 1, 2, 3, 4, 5, 6 new deals in Jan..Jun.
    rows = []
    for month in range(1, 7):
        rows += [(f"m{month}-{k}", "lead", f"2024-{month:02d}-10") for k in range(month)]
    log = ss.EventLog.from_records(rows)
    f = ss.Funnel.linear(["lead", "won"], lost="lost")
    # 21 deals and none won or lost yet: the log is told so, and the WIP lens still reads.
    with pytest.warns(ss.VocabularyWarning, match="never occurs"):
        report = ss.bottlenecks(log, f, by=None, benchmark=0.5, n_boot=10)
    row = report.at("lead", lens="wip")
    net = np.arange(1.0, 7.0)
    half = sps.t.ppf(0.95, 5) * net.std(ddof=1) / np.sqrt(6)
    assert row.current == 21.0
    assert row.impact == pytest.approx(3.5)
    assert (row.impact_low, row.impact_high) == pytest.approx((3.5 - half, 3.5 + half))
    assert row.significant
    assert row.unit == "deals per period"
    assert "up from 0" in row.explanation


def test_leverage_rows_are_the_markov_sensitivities() -> None:
    report = small_report()
    chain = ss.MarkovFunnel.from_log(small_log(), F)
    assert isinstance(chain, ss.MarkovFunnel)
    sens = chain.sensitivity()
    row = report.at("lead", lens="leverage", target="demo")
    assert row.impact == sens.at("lead", "demo").elasticity
    assert row.current == sens.at("lead", "demo").probability
    assert not row.significant
    assert np.isnan(row.impact_low)


def test_explanations_carry_the_numbers() -> None:
    report = small_report()
    sentences = report.explain("lead")
    assert len(sentences) == int((report.stage == "lead").sum())
    conv = report.at("lead", lens="conversion").explanation
    assert "converts 50% of its resolved entries (2 of 4 advanced)" in conv
    assert "benchmark of 90%, 40 percentage points short" in conv
    assert "a 50% chance of winning" in conv
    assert "0.8 wins per month" in conv
    assert conv in sentences


def test_result_protocol() -> None:
    report = small_report()
    assert repr(report).startswith("BottleneckReport(findings=")
    assert "stages=2, cases=4" in repr(report)
    data = report.to_dict()
    json.dumps(data)
    assert data["parameters"]["benchmark"] == {"lead": 0.9, "demo": 0.5}  # type: ignore[index]
    assert len(data["rows"]) == report.stage.size  # type: ignore[arg-type]
    assert "<table>" in report._repr_html_()
    frame = report.to_frame()
    assert list(frame["stage"]) == report.stage.tolist()
    assert {"lens", "impact", "impact_low", "impact_high", "unit"} <= set(frame.columns)


def test_top_returns_significant_findings_in_report_order() -> None:
    sim = ss.datasets.synthetic_pipeline(
        1500, seed=3, advance={"Proposal": 0.3}, skip=0.0, backward=0.0, rep_effect=0.0
    )
    standard = {"Lead": 0.55, "Qualified": 0.7, "Discovery": 0.75, "Proposal": 0.6}
    report = ss.bottlenecks(sim.log, sim.funnel, benchmark=standard, n_boot=200)
    top = report.top(3)
    assert top
    assert all(f.significant for f in top)
    assert top[0] == report.at(top[0].stage, lens=top[0].lens)  # type: ignore[arg-type]
    assert report.top(1, lens="conversion")[0].stage == "Proposal"
    assert repr(report).endswith("top='Proposal (conversion)')")


def test_same_seed_same_report_and_seed_changes_intervals() -> None:
    sim = ss.datasets.synthetic_pipeline(300, seed=5)
    a = ss.bottlenecks(sim.log, sim.funnel, n_boot=100, seed=1)
    assert a == ss.bottlenecks(sim.log, sim.funnel, n_boot=100, seed=1)
    b = ss.bottlenecks(sim.log, sim.funnel, n_boot=100, seed=2)
    assert not np.array_equal(a.impact_low, b.impact_low, equal_nan=True)


# --------------------------------------------------------------------- errors


def test_unknown_by_suggests_the_attribute() -> None:
    with pytest.raises(ParameterError, match="Did you mean 'rep'"):
        ss.bottlenecks(small_log(), F, by="reps")


def test_top_quartile_without_by_has_no_conversion_benchmark() -> None:
    # The top quartile of no groups is no benchmark: the conversion rows say so, and the
    # report still has its descriptive rows (it used to raise).
    report = ss.bottlenecks(small_log(), F, by=None, n_boot=20)
    row = report.at("lead", lens="conversion")
    assert row.current == 0.5
    assert np.isnan(row.benchmark)
    assert not row.significant
    assert "no benchmark for it (pass by= or benchmark=)" in row.explanation
    assert [f.lens for f in report.describe()] == ["losses", "time"]


def test_bad_benchmarks_and_options() -> None:
    with pytest.raises(UnknownStageError, match="Did you mean 'demo'"):
        ss.bottlenecks(small_log(), F, benchmark={"dmo": 0.5})
    with pytest.raises(ParameterError, match=r"For 90% pass 0\.9"):
        ss.bottlenecks(small_log(), F, benchmark=90)
    with pytest.raises(ParameterError, match="top_quartile"):
        ss.bottlenecks(small_log(), F, benchmark="top_decile")
    with pytest.raises(ParameterError, match="outcome"):
        ss.bottlenecks(small_log(), F, sla={"won": 3})
    with pytest.raises(ParameterError, match="positive duration"):
        ss.bottlenecks(small_log(), F, sla={"lead": -1})
    with pytest.raises(ParameterError, match="n_boot"):
        ss.bottlenecks(small_log(), F, n_boot=0)
    with pytest.raises(ParameterError, match="period"):
        ss.bottlenecks(small_log(), F, period="fortnight")  # type: ignore[arg-type]


def test_at_unknown_stage_and_lens() -> None:
    report = small_report()
    with pytest.raises(UnknownStageError, match="Did you mean 'demo'"):
        report.at("dem", lens="dwell")
    with pytest.raises(UnknownStageError, match="Did you mean 'lead'"):
        report.explain("lea")
    with pytest.raises(ParameterError, match="Did you mean 'dwell'"):
        report.at("lead", lens="dwel")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="no leverage row"):
        report.at("lead", lens="leverage", target="lead")


# --------------------------------------------------------------------- properties


@settings(deadline=None)
@given(st.data())
def test_ranking_rule_and_invariants(data: st.DataObject) -> None:
    funnel = data.draw(strategies.funnels())
    log = data.draw(strategies.stage_logs(funnel))
    report = ss.bottlenecks(log, funnel, by="segment", n_boot=30)
    json.dumps(report.to_dict())
    n_open = funnel.n_open
    assert (report.lens == "conversion").sum() == n_open
    assert (report.lens == "dwell").sum() == n_open
    sig = report.significant
    # Findings first; their gap is positive and their interval excludes zero.
    assert not (np.diff(sig.astype(int)) > 0).any()
    assert (report.gap[sig] > 0).all()
    assert (report.impact_low[sig] > 0).all()
    for lens in ("conversion", "dwell", "wip", "leverage"):
        rows = np.flatnonzero(report.lens == lens)
        order = rows[np.argsort(report.rank[rows])]
        assert report.rank[rows].tolist() == sorted(report.rank[rows].tolist())
        s = report.significant[order]
        assert not (np.diff(s.astype(int)) > 0).any()  # never a non-finding before a finding
        for block in (order[s], order[~s]):
            impact = np.nan_to_num(report.impact[block], nan=-1e300)
            assert (np.diff(impact) <= 1e-12).all()
    finite = np.isfinite(report.impact_low) & np.isfinite(report.impact_high)
    assert (report.impact_low[finite] <= report.impact_high[finite] + 1e-9).all()
    conv = report.lens == "conversion"
    rate = report.current[conv]
    ok = np.isfinite(rate)
    assert ((rate[ok] >= 0) & (rate[ok] <= 1)).all()


# --------------------------------------------------------------------- shrinkage


def _direct_shrinkage(x: list[int], n: list[int]) -> tuple[list[float], float, float]:
    p = sum(x) / sum(n)
    big_n = sum(n)
    k = sum(1 for m in n if m > 0)
    spread = sum(m * (xi / m - p) ** 2 for xi, m in zip(x, n, strict=True) if m > 0)
    rho = (spread / (p * (1 - p)) - (k - 1)) / (big_n - sum(m * m for m in n) / big_n)
    if rho <= 0:
        return [p] * len(x), float("inf"), float("inf")
    size = 1 / rho - 1
    a, b = p * size, (1 - p) * size
    return [(xi + a) / (m + a + b) for xi, m in zip(x, n, strict=True)], a, b


def test_shrinkage_matches_direct_computation() -> None:
    x, n = [2, 30, 60, 0], [10, 100, 100, 0]
    rates, a, b = stats.beta_binomial_shrinkage(x, n)
    want, wa, wb = _direct_shrinkage(x, n)
    assert rates.tolist() == pytest.approx(want)
    assert (float(a), float(b)) == pytest.approx((wa, wb))
    assert rates[3] == pytest.approx(92 / 210)  # no trials: the population rate
    # shrunk rates lie between each entity's own rate and the population rate
    own = np.array([0.2, 0.3, 0.6])
    p = 92 / 210
    assert ((rates[:3] - own) * (rates[:3] - p) <= 0).all()


def test_shrinkage_pools_when_entities_do_not_differ() -> None:
    rates, a, b = stats.beta_binomial_shrinkage([50, 51, 49], [100, 100, 100])
    assert rates.tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert np.isinf(a)
    assert np.isinf(b)


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=2, max_size=8),
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=2, max_size=8),
)
def test_shrinkage_is_vectorised_over_leading_axes(
    first: list[tuple[int, int]], second: list[tuple[int, int]]
) -> None:
    size = min(len(first), len(second))
    pairs = [first[:size], second[:size]]
    x = np.array([[min(a, b) for a, b in row] for row in pairs])
    n = np.array([[max(a, b) for a, b in row] for row in pairs])
    rates, a, b = stats.beta_binomial_shrinkage(x, n)
    for i in range(2):
        r1, a1, b1 = stats.beta_binomial_shrinkage(x[i], n[i])
        np.testing.assert_allclose(rates[i], r1)
        np.testing.assert_allclose([a[i], b[i]], [a1, b1])
        if n[i].sum() > 0:
            assert ((r1 >= 0) & (r1 <= 1)).all()


def test_shrinkage_rejects_bad_counts() -> None:
    with pytest.raises(ParameterError, match="same shape"):
        stats.beta_binomial_shrinkage([1, 2], [3])
    with pytest.raises(ParameterError, match="successes <= trials"):
        stats.beta_binomial_shrinkage([4], [3])


# --------------------------------------------------------------------- planted answers

STANDARD = {"Lead": 0.55, "Qualified": 0.7, "Discovery": 0.75, "Proposal": 0.6, "Negotiation": 0.7}
N_DEALS = 4000
SEEDS = range(20)


def _planted(seed: int) -> ss.datasets.SyntheticPipeline:
    # Proposal converts at 0.3 for every rep (standard 0.6); Discovery takes 3x as long.
    return ss.datasets.synthetic_pipeline(
        N_DEALS,
        seed=seed,
        advance={"Proposal": 0.3},
        dwell_mean={"Discovery": 42.0},
        skip=0.0,
        backward=0.0,
        rep_effect=0.0,
        activity_rate=0.0,
    )


def _true_effects() -> tuple[float, float]:
    """Planted effects from the generator's true parameters.

    Conversion: extra wins per month = expected first entries into Proposal per month over
    the log's span (deals created uniformly over 2024 reach Proposal after Lead, Qualified
    and Discovery dwells; Monte Carlo over those true gamma dwells) x (0.6 - 0.3) x the true
    P(win | past Proposal) = 0.7. Dwell: true median of the planted Discovery dwell minus
    the standard one, x 1 visit (no backward moves).
    """
    sim = _planted(0)
    standard = ss.datasets.synthetic_pipeline(1, seed=0)
    rng = np.random.default_rng(12345)
    m = 400_000
    delay = sum(
        rng.gamma(d.shape, d.mean / d.shape, m)
        for d in (sim.dwell_distribution(s) for s in ("Lead", "Qualified", "Discovery"))
    )
    days = 366.0  # 2024
    reached = np.mean(rng.uniform(0, days, m) + delay < days)
    per_month = N_DEALS * 0.55 * 0.7 * 0.75 * reached / (days / (365.2425 / 12))
    conversion = per_month * (0.6 - 0.3) * sim.win_probability()["Negotiation"]
    dwell = (
        sim.dwell_distribution("Discovery").median - standard.dwell_distribution("Discovery").median
    )
    return float(conversion), float(dwell)


def test_planted_stages_rank_first_with_the_planted_impact() -> None:
    true_conv, true_dwell = _true_effects()
    base = ss.datasets.synthetic_pipeline(1, seed=0)
    sla = {s: base.dwell_distribution(s).median for s in base.stages}
    conv_first = dwell_first = conv_close = dwell_close = 0
    for seed in SEEDS:
        sim = _planted(seed)
        report = ss.bottlenecks(
            sim.log, sim.funnel, benchmark=STANDARD, sla=sla, n_boot=300, seed=seed
        )
        conv = report.top(1, lens="conversion")
        dwell = report.top(1, lens="dwell")
        if conv and conv[0].stage == "Proposal":
            conv_first += 1
            conv_close += abs(conv[0].impact / true_conv - 1) <= 0.2
        if dwell and dwell[0].stage == "Discovery":
            dwell_first += 1
            dwell_close += abs(dwell[0].impact / true_dwell - 1) <= 0.2
    assert conv_first >= 19
    assert dwell_first >= 19
    assert conv_close >= 19
    assert dwell_close >= 19


def test_no_conversion_finding_when_reps_do_not_differ() -> None:
    with_finding = 0
    for seed in SEEDS:
        sim = ss.datasets.synthetic_pipeline(
            N_DEALS, seed=100 + seed, rep_effect=0.0, activity_rate=0.0
        )
        report = ss.bottlenecks(sim.log, sim.funnel, n_boot=500, seed=seed)
        with_finding += bool(report.top(1, lens="conversion"))
    assert with_finding <= 5


def test_no_dwell_finding_when_reps_do_not_differ() -> None:
    # Dwell never depends on the rep in the generator: any dwell finding is a false one.
    with_finding = pooled = 0
    for seed in SEEDS:
        sim = ss.datasets.synthetic_pipeline(
            N_DEALS, seed=100 + seed, rep_effect=0.0, activity_rate=0.0
        )
        report = ss.bottlenecks(sim.log, sim.funnel, seed=seed)
        with_finding += bool(report.top(1, lens="dwell"))
        # When the shrinkage pools the reps, the benchmark is the current median itself.
        dwell = report.lens == "dwell"
        pooled += int((report.benchmark[dwell] == report.current[dwell]).sum())
        assert (report.gap[dwell] >= 0).all()
    assert with_finding <= 1
    assert pooled >= len(SEEDS)  # about half of the stages


def _reps_differ_in_dwell(seed: int, factors: tuple[float, ...]) -> ss.EventLog:
    """Twenty reps in four blocks of five; block i stays `factors[i]` x as long in Discovery.

    Each block's deals come from its own simulated pipeline (every other parameter alike).
    """
    parts = []
    for i, factor in enumerate(factors):
        sim = ss.datasets.synthetic_pipeline(
            N_DEALS, seed=10 * seed + i, rep_effect=0.0, activity_rate=0.0,
            dwell_mean={"Discovery": 14.0 * factor},
        )  # fmt: skip
        log = sim.log
        rep = np.asarray(log.case_attributes["rep"], dtype=object)[log.case]
        keep = np.isin(rep, [f"rep-{r:02d}" for r in range(5 * i + 1, 5 * i + 6)])
        names = np.array([f"{i}-{c}" for c in log.case_names[log.case[keep]]], dtype=object)
        parts.append((names, log.activity_names[log.activity[keep]], log.time[keep], rep[keep]))
    case, activity, time, rep = (np.concatenate(column) for column in zip(*parts, strict=True))
    return ss.EventLog.from_arrays(
        case=case, activity=activity, time=time, case_attributes={"rep": rep}
    )


def test_top_quartile_dwell_sees_reps_that_differ() -> None:
    funnel = ss.datasets.synthetic_pipeline(1, seed=0).funnel
    first = 0
    for seed in range(10):
        log = _reps_differ_in_dwell(seed, (0.6, 0.85, 1.15, 1.4))
        report = ss.bottlenecks(log, funnel, seed=seed)
        found = report.top(5, lens="dwell")
        first += bool(found) and found[0].stage == "Discovery" and len(found) == 1
        row = report.at("Discovery", lens="dwell")
        assert row.benchmark < row.current
    assert first >= 9


def test_top_quartile_sees_reps_that_differ() -> None:
    # Strong rep differences at every stage: the best quarter of reps sets a higher bar.
    sim = ss.datasets.synthetic_pipeline(4000, seed=7, rep_effect=1.0, activity_rate=0.0)
    report = ss.bottlenecks(sim.log, sim.funnel, n_boot=300)
    conv = report.lens == "conversion"
    assert (report.gap[conv] > 0).all()
    assert report.significant[conv].sum() >= 3
    # The benchmark is below the best raw rep rate (shrinkage) and above the pooled rate.
    res = ss.conversion(sim.log, sim.funnel, by="rep")
    for stage in sim.stages:
        row = report.at(stage, lens="conversion")
        reps = res.rate[res.stage == stage]
        assert row.current < row.benchmark < np.nanmax(reps)


# --------------------------------------------------------------------- real data


MAVEN = ss.Funnel.linear(["Engaging", "Won"], lost="Lost")


@pytest.mark.skipif(
    not (DATA / "maven-crm").exists(), reason="shared/data/maven-crm is not present"
)
def test_maven_crm_against_the_raw_table() -> None:
    log = ss.datasets.load_crm_opportunities()
    deals = ss.datasets.load_crm_tables().sales_pipeline
    stage = np.asarray(deals["deal_stage"], dtype=object)
    agent = np.asarray(deals["sales_agent"], dtype=object)
    engaged = ~np.isnat(deals["engage_date"])
    won, lost = (stage == "Won") & engaged, (stage == "Lost") & engaged
    report = ss.bottlenecks(log, MAVEN, by="sales_agent", n_boot=300)
    row = report.at("Engaging", lens="conversion")
    assert row.current == pytest.approx(won.sum() / (won.sum() + lost.sum()))
    raw = np.array(
        [
            won[agent == a].sum() / (won[agent == a].sum() + lost[agent == a].sum())
            for a in np.unique(agent[engaged])
        ]
    )
    assert np.quantile(raw, 0.25) <= row.benchmark <= raw.max()
    assert report.at("Engaging", lens="wip").current == int((stage == "Engaging").sum())
    json.dumps(report.to_dict())


# --------------------------------------------------------------------- issue 9: intervals

BENCHMARK_LENSES = ("conversion", "dwell", "wip")


def _assert_intervals_hold_their_estimates(report: ss.BottleneckReport) -> None:
    """Every interval holds its estimate; `significant` agrees with the interval."""
    has = np.isfinite(report.impact) & (
        np.isfinite(report.impact_low) | np.isfinite(report.impact_high)
    )
    low = np.where(np.isnan(report.impact_low), -np.inf, report.impact_low)
    high = np.where(np.isnan(report.impact_high), np.inf, report.impact_high)
    bad = has & ~((low <= report.impact) & (report.impact <= high))
    assert not bad.any(), [
        (report.lens[i], report.stage[i], low[i], report.impact[i], high[i])
        for i in np.flatnonzero(bad)
    ]
    sig = report.significant
    assert np.isin(report.lens[sig], BENCHMARK_LENSES).all()
    assert (report.gap[sig] > 0).all()
    assert (report.impact_low[sig] > 0).all()
    assert (report.impact[sig] >= report.impact_low[sig]).all()
    # ... and every benchmark row with a positive gap whose interval excludes 0 is one.
    bench = np.isin(report.lens, BENCHMARK_LENSES)
    with np.errstate(invalid="ignore"):
        should = bench & (report.gap > 0) & (report.impact_low > 0)
    assert (should == sig).all()
    assert not report.significant[report.descriptive].any()


@settings(deadline=None)
@given(st.data())
def test_every_interval_holds_its_estimate_on_walks(data: st.DataObject) -> None:
    funnel = data.draw(strategies.funnels(back_edges=data.draw(st.booleans())))
    log = data.draw(strategies.stage_logs(funnel))
    stages = list(funnel.stage_names[: funnel.n_open])
    options: dict[str, object] = {
        "n_boot": data.draw(st.integers(1, 40)),
        "seed": data.draw(st.integers(0, 5)),
        "confidence_level": data.draw(st.sampled_from([0.5, 0.8, 0.9, 0.99])),
        "by": data.draw(st.sampled_from(["segment", None])),
    }
    if data.draw(st.booleans()):
        options["benchmark"] = data.draw(st.floats(0, 1))
    if data.draw(st.booleans()):
        options["sla"] = {s: data.draw(st.floats(0.01, 30)) for s in stages}
    report = ss.bottlenecks(log, funnel, **options)  # type: ignore[arg-type]
    _assert_intervals_hold_their_estimates(report)


@settings(deadline=None)
@given(strategies.event_records(max_cases=8, max_events=8), st.integers(1, 30))
def test_every_interval_holds_its_estimate_on_noisy_logs(
    rows: list[strategies.Record], n_boot: int
) -> None:
    # Any order of stages and outcomes: skips, backward moves, events after a close.
    log = strategies.build_log(rows)
    funnel = ss.Funnel.linear(["lead", "qualified", "proposal", "won"], lost="lost")
    _assert_intervals_hold_their_estimates(ss.bottlenecks(log, funnel, by="segment", n_boot=n_boot))


@settings(deadline=None, max_examples=15)
@given(
    st.integers(0, 10_000),
    st.sampled_from([0.0, 0.5, 1.0]),
    st.sampled_from(["rep", "team"]),
)
def test_every_interval_holds_its_estimate_on_synthetic_pipelines(
    seed: int, rep_effect: float, by: str
) -> None:
    sim = ss.datasets.synthetic_pipeline(600, seed=seed, rep_effect=rep_effect, activity_rate=0.0)
    report = ss.bottlenecks(sim.log, sim.funnel, by=by, n_boot=100, seed=seed)
    _assert_intervals_hold_their_estimates(report)


def _strictly_inside(row: ss.Finding) -> bool:
    return row.impact_low < row.impact < row.impact_high


@pytest.mark.skipif(
    not (DATA / "maven-crm").exists(), reason="shared/data/maven-crm is not present"
)
def test_maven_dwell_interval_is_of_the_estimate() -> None:
    # It printed "save 0.986 days per deal (7.56 to 18.9)": the bootstrap drew a fresh set
    # of agents from a normal model instead of varying the agents at hand.
    log = ss.datasets.load_crm_opportunities()
    for by in ("sales_agent", "manager", "regional_office"):
        row = ss.bottlenecks(log, MAVEN, by=by).at("Engaging", lens="dwell")
        assert _strictly_inside(row), (by, row)
        assert 0 < row.benchmark <= row.current


def _skewed_reps_log() -> ss.EventLog:
    """Five reps of 40 deals each; rep r0 is ten times as fast as the other four."""
    rows = []
    for g, scale in enumerate([0.1, 1.0, 1.1, 1.2, 1.3]):
        for j in range(40):
            start = np.datetime64("2024-01-01") + np.timedelta64(j, "D")
            end = start + np.timedelta64(round(scale * 10 * (0.5 + j / 40) * 86_400), "s")
            outcome = "won" if j % 2 else "lost"
            rows += [(f"g{g}-{j}", "lead", str(start), f"r{g}")]
            rows += [(f"g{g}-{j}", outcome, str(end), f"r{g}")]
    return ss.EventLog.from_records(
        rows, names=("case", "activity", "time", "rep"), case_attributes=["rep"]
    )


def test_dwell_benchmark_is_the_fastest_quarter_against_the_typical_rep() -> None:
    # One very fast rep pulled the random-effects mean down, so the 25th percentile of the
    # deviations from it was above 0: a benchmark slower than the median and "save -4.07
    # days (-0.324 to 8.2)". Now the fastest quarter is compared with the median rep.
    log = _skewed_reps_log()
    f = ss.Funnel.linear(["lead", "won"], lost="lost")
    row = ss.bottlenecks(log, f, n_boot=300).at("lead", lens="dwell")
    assert row.current == 9.75
    # Reps' medians ~ 0.975, 9.75, 10.7, 11.7, 12.7 days: the quarter (r1) over the
    # median (r2), shrunk a little toward each other.
    assert 9.75 / 1.1 <= row.benchmark < row.current
    assert _strictly_inside(row)


def test_top_quartile_intervals_hold_their_estimates_strictly() -> None:
    # Reps that really differ: a positive shortfall sits inside the bootstrap's own
    # percentile interval, not on an end of it (which would mean it had to be widened).
    # The bootstrap used to draw a fresh set of reps from the prior: seed 0's Proposal
    # printed 1.5 wins per month (1.76 to 7.01), marked significant.
    total = 0
    for seed in range(5):
        sim = ss.datasets.synthetic_pipeline(3000, seed=seed, rep_effect=0.8, activity_rate=0.0)
        report = ss.bottlenecks(sim.log, sim.funnel, n_boot=300, seed=seed)
        for stage in sim.stages:
            row = report.at(stage, lens="conversion")
            if row.impact > 0:
                total += 1
                assert _strictly_inside(row), (seed, row)
    assert total >= 20


# --------------------------------------------------------------------- issue 9: sentences


def test_wip_sentence_says_down_when_the_stock_falls() -> None:
    # It said "up from 73 ...: arrivals exceeded departures by -2 deals per month".
    # 12 deals enter lead in January; 2 leave (to lost) each month Feb..Jul.
    rows = [(f"d{k}", "lead", "2024-01-05") for k in range(12)]
    rows += [(f"d{k}", "lost", f"2024-{2 + k // 2:02d}-10") for k in range(12)]
    log = ss.EventLog.from_records(rows)
    f = ss.Funnel.linear(["lead", "won"], lost="lost")
    row = ss.bottlenecks(log, f, by=None, n_boot=10, as_of="2024-07-31").at("lead", lens="wip")
    assert row.current == 0.0
    assert row.impact == -2.0
    assert row.explanation.startswith("lead holds 0 open deals, down from 12 ")
    assert "departures exceeded arrivals by 2 deals per month on average" in row.explanation
    assert "-2 deals" not in row.explanation


def test_sentences_use_plurals_percents_and_points() -> None:
    report = small_report(sla={"lead": 1.5})
    dwell = report.at("lead", lens="dwell").explanation
    assert "with 1 stay per deal" in dwell
    assert "save 0.5 days per deal" in dwell
    assert "a median 2 days in lead against a benchmark of 1.5 days (the SLA)" in dwell
    assert "within the benchmark of 2 days" in small_report().at("demo", lens="dwell").explanation
    assert "no benchmark for it" in report.at("demo", lens="dwell").explanation
    conv = report.at("lead", lens="conversion").explanation
    assert "a 50% chance of winning" in conv
    assert "40 percentage points short" in conv
    lev = report.at("lead", lens="leverage", target="demo")
    assert "(now 50%) by 1% of its value" in lev.explanation
    assert f"by {_text.percent(lev.impact / 100)} of its value." in lev.explanation
    for sentence in report.explanation:
        assert " 1 stays" not in sentence
        assert "save -" not in sentence
        assert "by -" not in sentence


# --------------------------------------------------------------------- issue 9: descriptive


@pytest.mark.parametrize("seed", range(6))
def test_descriptive_findings_when_reps_do_not_differ(seed: int) -> None:
    # Identical reps: no benchmark gap is real, yet the report says where the funnel loses
    # the largest share of its deals (planted: Qualified converts 0.35) and where deals
    # stay longest (planted: Negotiation, a mean of 40 days).
    sim = ss.datasets.synthetic_pipeline(
        2000, seed=200 + seed, rep_effect=0.0, activity_rate=0.0,
        advance={"Qualified": 0.35}, dwell_mean={"Negotiation": 40.0},
    )  # fmt: skip
    report = ss.bottlenecks(sim.log, sim.funnel, n_boot=100, seed=seed)
    losses, time = report.describe()
    assert (losses.lens, losses.stage, losses.descriptive) == ("losses", "Qualified", True)
    assert (time.lens, time.stage, time.descriptive) == ("time", "Negotiation", True)
    conv = ss.conversion(sim.log, sim.funnel)
    at = conv.at("Qualified")
    assert losses.current == at.lost
    assert losses.impact == pytest.approx(at.lost / (at.lost + at.advanced))
    assert time.impact == ss.time_in_stage(sim.log, sim.funnel).at("Negotiation").median_days
    for row in (losses, time):
        assert not row.significant
        assert np.isnan(row.benchmark)
        assert "save" not in row.explanation
        assert "would add" not in row.explanation
        assert "Descriptive" in row.explanation
    assert "the largest share of the 5 open stages" in losses.explanation
    assert "the longest median stay" in time.explanation
    # Ranked after every significant finding.
    first_descriptive = int(np.flatnonzero(report.descriptive)[0])
    assert not report.significant[first_descriptive:].any()


def test_descriptive_rows_in_the_report_and_its_table() -> None:
    report = small_report()
    assert set(report.lens[report.descriptive]) == {"losses", "time"}
    assert (report.lens == "losses").sum() == 2
    frame = report.to_frame()
    assert frame["descriptive"].tolist() == report.descriptive.tolist()
    json.dumps(report.to_dict())
    assert report.at("lead", lens="losses").unit == "share of resolved entries lost"
    assert report.top(5, lens="time") == ()
