"""Tests of `salesstd.datasets`: the bundled Maven CRM data and the synthetic pipeline.

Statistical checks compare an observed count or mean with the value the planted parameters
imply and allow ``Z`` standard errors (``Z = 5``: a correct generator fails such a check
with probability below 1e-6). Seeds are fixed, so the tests are deterministic anyway; the
bound says how far off a result may be before it means a bug rather than noise.
"""

from __future__ import annotations

import csv
import json
import math
import zipfile
from collections import Counter
from importlib import resources
from typing import Any, Literal, cast

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import _data
import salesstd as ss
from salesstd.datasets import PilotEffect, SyntheticPipeline, _synthetic, synthetic_pipeline
from salesstd.errors import ParameterError, UnknownStageError

DATA = _data.DATA / "maven-crm"
Z = 5.0
NS_PER_DAY = 86_400 * 10**9
CrmTable = Literal["sales_pipeline", "accounts", "products", "sales_teams"]
TABLES: tuple[CrmTable, ...] = ("sales_pipeline", "accounts", "products", "sales_teams")


def _raw(name: str) -> list[dict[str, str]]:
    path = DATA / f"{name}.csv"
    if not path.is_file():
        pytest.skip(f"real-data file {path} is absent: {_data.ABSENT}")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ============================================================================ Maven CRM


def test_bundled_archive_is_the_public_data_byte_for_byte() -> None:
    archive = resources.files("salesstd.datasets").joinpath("data").joinpath("maven_crm.zip")
    with archive.open("rb") as handle, zipfile.ZipFile(handle) as zf:
        for name in TABLES:
            _raw(name)  # skips if the shared data is absent
            assert zf.read(f"{name}.csv") == (DATA / f"{name}.csv").read_bytes()
        assert "public domain" in zf.read("PROVENANCE.md").decode().lower()


@pytest.mark.parametrize("name", TABLES)
def test_tables_hold_the_csv_values(name: CrmTable) -> None:
    rows = _raw(name)
    table = ss.datasets.load_crm_tables().table(name)
    assert list(table) == list(rows[0])
    for column, values in table.items():
        assert values.size == len(rows)
        assert not values.flags.writeable
        cells = [r[column] for r in rows]
        if values.dtype.kind == "O":
            assert values.tolist() == [c or None for c in cells]
        elif values.dtype.kind == "M":
            as_text = [str(x) if not np.isnat(x) else "" for x in values]
            assert as_text == cells
        else:
            expected = np.array([float(c) if c else np.nan for c in cells])
            np.testing.assert_array_equal(values.astype(np.float64), expected)


def test_tables_repr_and_frames() -> None:
    tables = ss.datasets.load_crm_tables()
    pipeline = _raw("sales_pipeline")
    assert f"sales_pipeline={len(pipeline)} rows" in repr(tables)
    pytest.importorskip("pandas")
    frame = tables.to_frame("accounts")
    assert frame.shape == (len(_raw("accounts")), len(tables.accounts))
    with pytest.raises(ParameterError, match="Did you mean 'accounts'"):
        tables.table("acounts")  # type: ignore[arg-type]


def test_crm_log_counts_match_the_raw_csv() -> None:
    rows = _raw("sales_pipeline")
    stage_counts = Counter(r["deal_stage"] for r in rows)
    assert len(rows) == 8800
    log = ss.datasets.load_crm_opportunities()
    dated = [r for r in rows if r["engage_date"]]
    closed = [r for r in rows if r["close_date"]]
    assert len(dated) == len(rows) - stage_counts["Prospecting"]
    assert log.n_cases == len(dated)
    assert log.n_events == len(dated) + len(closed)
    counts = Counter(log.activity_names[log.activity].tolist())
    assert counts == {
        "Engaging": len(dated),
        "Won": stage_counts["Won"],
        "Lost": stage_counts["Lost"],
    }
    prospecting = {r["opportunity_id"] for r in rows if r["deal_stage"] == "Prospecting"}
    assert prospecting.isdisjoint(log.cases)


def test_crm_events_are_the_two_dates_of_each_deal() -> None:
    rows = {r["opportunity_id"]: r for r in _raw("sales_pipeline")}
    log = ss.datasets.load_crm_opportunities()
    names = log.activity_names[log.activity]
    days = log.time.astype("datetime64[D]").astype(str)
    for k, case in enumerate(log.cases):
        lo, hi = int(log.offsets[k]), int(log.offsets[k + 1])
        row = rows[str(case)]
        expected = [("Engaging", row["engage_date"])]
        if row["close_date"]:
            expected.append((row["deal_stage"], row["close_date"]))
        assert list(zip(names[lo:hi].tolist(), days[lo:hi].tolist(), strict=True)) == expected


def test_crm_open_deals_have_no_close_event() -> None:
    log = ss.datasets.load_crm_opportunities()
    stage = log.case_attributes["deal_stage"]
    is_open = stage == "Engaging"
    assert (
        int(is_open.sum()) == Counter(r["deal_stage"] for r in _raw("sales_pipeline"))["Engaging"]
    )
    last = log.activity_names[log.activity[log.offsets[1:] - 1]]
    assert (log.case_lengths[is_open] == 1).all()
    assert (last[is_open] == "Engaging").all()
    assert (last[~is_open] == stage[~is_open]).all()
    value = log.case_attributes["close_value"]
    assert np.isnan(value[is_open]).all()
    assert not np.isnan(value[~is_open]).any()
    assert (value[stage == "Lost"] == 0).all()


def test_crm_case_attributes_are_joined_and_corrected() -> None:
    teams = {r["sales_agent"]: r for r in _raw("sales_teams")}
    products = {r["product"]: r for r in _raw("products")}
    accounts = {r["account"]: r for r in _raw("accounts")}
    rows = {r["opportunity_id"]: r for r in _raw("sales_pipeline")}
    log = ss.datasets.load_crm_opportunities()
    attrs = log.case_attributes
    assert set(attrs) >= {
        "sales_agent",
        "manager",
        "regional_office",
        "product",
        "series",
        "sales_price",
        "account",
        "sector",
        "close_value",
    }
    fixes = {"GTXPro": "GTX Pro", "technolgy": "technology", "Philipines": "Philippines"}
    for k, case in enumerate(log.cases):
        row = rows[str(case)]
        agent = row["sales_agent"]
        product = fixes.get(row["product"], row["product"])
        assert attrs["sales_agent"][k] == agent
        assert attrs["manager"][k] == teams[agent]["manager"]
        assert attrs["regional_office"][k] == teams[agent]["regional_office"]
        assert attrs["product"][k] == product
        assert attrs["series"][k] == products[product]["series"]
        assert attrs["sales_price"][k] == int(products[product]["sales_price"])
        account = accounts.get(row["account"])
        if account is None:
            assert row["account"] == ""
            assert attrs["account"][k] is None
            assert attrs["sector"][k] is None
            assert np.isnan(attrs["revenue"][k])
        else:
            assert attrs["account"][k] == row["account"]
            assert attrs["sector"][k] == fixes.get(account["sector"], account["sector"])
            assert attrs["revenue"][k] == float(account["revenue"])
            location = account["office_location"]
            assert attrs["office_location"][k] == fixes.get(location, location)
    assert "GTXPro" not in set(attrs["product"].tolist())
    assert "GTXPro" in set(ss.datasets.load_crm_tables().sales_pipeline["product"].tolist())


# ============================================================================ synthetic


def _codes(sim: SyntheticPipeline) -> tuple[np.ndarray, np.ndarray]:
    """State code of every event (stages, then won, lost; -1 for an activity), and time."""
    names = [*sim.stages, sim.won, sim.lost]
    code = np.array([names.index(a) if a in names else -1 for a in sim.log.activity_names])
    return code[sim.log.activity], sim.log.time.view(np.int64)


def _moves(sim: SyntheticPipeline) -> dict[str, np.ndarray]:
    """Every stage move: consecutive stage events of one case."""
    code, t = _codes(sim)
    keep = code >= 0
    case, code, t = sim.log.case[keep], code[keep], t[keep]
    same = case[1:] == case[:-1]
    return {
        "case": case[:-1][same],
        "src": code[:-1][same],
        "dst": code[1:][same],
        "t0": t[:-1][same],
        "t1": t[1:][same],
    }


def _last_stage(sim: SyntheticPipeline) -> tuple[np.ndarray, np.ndarray]:
    """Per case: state code and time of its last stage event."""
    code, t = _codes(sim)
    idx = np.flatnonzero(code >= 0)
    case = sim.log.case[idx]
    last = idx[np.flatnonzero(np.append(case[1:] != case[:-1], True))]
    return code[last], t[last]


def _within(observed: float, expected: float, se: float) -> None:
    assert abs(observed - expected) <= Z * se, (observed, expected, se)


def _check_binomial(hits: int, n: int, p: float) -> None:
    assert n > 0
    _within(hits / n, p, math.sqrt(p * (1 - p) / n) + 1e-12)


@pytest.fixture(scope="module")
def plain() -> SyntheticPipeline:
    """Large sample, no skips, no backward moves, all reps equal."""
    return synthetic_pipeline(60_000, seed=11, skip=0.0, backward=0.0, rep_effect=0.0)


@pytest.fixture(scope="module")
def rich() -> SyntheticPipeline:
    """Large sample with everything switched on."""
    return synthetic_pipeline(
        60_000,
        seed=12,
        skip=0.1,
        backward=0.08,
        rep_effect=0.5,
        pilot=PilotEffect("Proposal", share=0.4, advance_odds_ratio=2.0, dwell_factor=0.6),
    )


def test_same_seed_same_pipeline_and_other_seed_differs() -> None:
    a = synthetic_pipeline(300, seed=5, pilot=PilotEffect("Discovery"))
    b = synthetic_pipeline(300, seed=5, pilot=PilotEffect("Discovery"))
    c = synthetic_pipeline(300, seed=6, pilot=PilotEffect("Discovery"))
    assert a.log == b.log
    assert a == b
    np.testing.assert_array_equal(a.rep_multiplier, b.rep_multiplier)
    assert a.log != c.log


def test_activity_settings_do_not_change_stage_events() -> None:
    full = synthetic_pipeline(500, seed=3)
    quiet = synthetic_pipeline(500, seed=3, activity_mix={})
    busy = synthetic_pipeline(500, seed=3, activity_rate=2.0)
    assert set(quiet.log.activities) <= {*quiet.stages, quiet.won, quiet.lost}
    base = full.log.where(activity=[*quiet.log.activities])
    assert base == quiet.log
    assert busy.log.where(activity=[*quiet.log.activities]) == quiet.log
    assert busy.log.n_events > full.log.n_events


def test_advance_probability_recovered_from_exits(plain: SyntheticPipeline) -> None:
    m = _moves(plain)
    s = len(plain.stages)
    for i, stage in enumerate(plain.stages):
        exits = m["src"] == i
        forward = exits & ((m["dst"] == i + 1) | ((i == s - 1) & (m["dst"] == s)))
        _check_binomial(int(forward.sum()), int(exits.sum()), plain.advance[stage])


def test_share_entering_proposal_that_reaches_negotiation(plain: SyntheticPipeline) -> None:
    # A cohort old enough that every deal has closed: the deal-level share that, having
    # entered Proposal, ever reaches Negotiation is advance["Proposal"] (no skips, no
    # backward moves).
    code, _ = _codes(plain)
    created = plain.log.case_start.view(np.int64)
    as_of = np.datetime64(plain.as_of.replace(tzinfo=None), "ns").astype(np.int64)
    old = created < as_of - 200 * NS_PER_DAY
    last, _ = _last_stage(plain)
    assert (last[old] >= len(plain.stages)).all()  # the cohort is fully closed
    p, n = plain.stages.index("Proposal"), plain.stages.index("Negotiation")
    entered = np.zeros(plain.n_deals, dtype=bool)
    reached = np.zeros(plain.n_deals, dtype=bool)
    entered[plain.log.case[code == p]] = True
    reached[plain.log.case[code == n]] = True
    _check_binomial(
        int((reached & entered & old).sum()),
        int((entered & old).sum()),
        plain.advance["Proposal"],
    )


def test_advance_with_reps_and_pilot_matches_the_true_probabilities(
    rich: SyntheticPipeline,
) -> None:
    m = _moves(rich)
    rep = rich.log.case_attributes["rep"]
    pilot = rich.log.case_attributes["group"] == "pilot"
    s = len(rich.stages)
    for i, stage in enumerate(rich.stages):
        exits = (m["src"] == i) & (m["dst"] != i - 1)  # not backwards
        forward = exits & (m["dst"] > i) & (m["dst"] != s + 1)  # on, skip or won; not lost
        cases = m["case"][exits]
        table = {
            (r, g): rich.advance_probability(stage, rep=r, pilot=g)
            for r in rich.reps
            for g in (False, True)
        }
        q = np.array([table[r, bool(g)] for r, g in zip(rep[cases], pilot[cases], strict=True)])
        _within(float(forward.sum()), float(q.sum()), math.sqrt(float((q * (1 - q)).sum())))


def test_pilot_effect_shows_in_the_pilot_stage(rich: SyntheticPipeline) -> None:
    m = _moves(rich)
    group = rich.log.case_attributes["group"]
    assert set(group.tolist()) == {"pilot", "control"}
    assert rich.pilot is not None
    _check_binomial(int((group == "pilot").sum()), rich.n_deals, rich.pilot.share)
    p = rich.stages.index("Proposal")
    exits = (m["src"] == p) & (m["dst"] != p - 1)
    in_pilot = group[m["case"]] == "pilot"
    rate = {}
    for flag in (False, True):
        sel = exits & (in_pilot == flag)
        rate[flag] = float((sel & (m["dst"] > p) & (m["dst"] != len(rich.stages) + 1)).sum())
        rate[flag] /= float(sel.sum())
    assert rate[True] > rate[False] + 0.1  # odds ratio 2 around 0.6: about +0.15
    assert "group" not in synthetic_pipeline(50, seed=1).log.case_attributes


def test_reps_really_differ() -> None:
    low, high = [0.25] * 4, [4.0] * 4
    sim = synthetic_pipeline(
        40_000, seed=8, n_teams=2, reps_per_team=4, rep_effect=low + high, skip=0.0, backward=0.0
    )
    np.testing.assert_array_equal(sim.rep_multiplier, low + high)
    m = _moves(sim)
    rep = sim.log.case_attributes["rep"][m["case"]]
    lead = m["src"] == 0
    for name in (sim.reps[0], sim.reps[-1]):
        sel = lead & (rep == name)
        _check_binomial(
            int((sel & (m["dst"] == 1)).sum()),
            int(sel.sum()),
            sim.advance_probability("Lead", rep=name),
        )
    assert sim.advance_probability("Lead", rep=sim.reps[0]) < sim.advance["Lead"]
    assert sim.advance_probability("Lead", rep=sim.reps[-1]) > sim.advance["Lead"]
    team = sim.log.case_attributes["team"]
    rep_of_case = sim.log.case_attributes["rep"]
    lookup = dict(zip(sim.reps, sim.rep_team, strict=True))
    assert [lookup[r] for r in rep_of_case.tolist()] == team.tolist()
    assert sim.teams == ("team-1", "team-2")


def test_rep_multipliers_have_geometric_mean_one() -> None:
    sim = synthetic_pipeline(10, seed=4, rep_effect=0.7)
    assert abs(float(np.log(sim.rep_multiplier).mean())) < 1e-12
    assert float(np.log(sim.rep_multiplier).std()) > 0.1
    flat = synthetic_pipeline(10, seed=4, rep_effect=0.0)
    assert (flat.rep_multiplier == 1.0).all()
    with pytest.raises(ParameterError, match="one per rep"):
        synthetic_pipeline(10, seed=4, rep_effect=[1.0, 2.0])


def test_skips_and_backward_moves_at_their_planted_rates(rich: SyntheticPipeline) -> None:
    m = _moves(rich)
    s = len(rich.stages)
    for i, stage in enumerate(rich.stages):
        exits = m["src"] == i
        back = exits & (m["dst"] == i - 1)
        if i == 0:
            assert rich.backward[stage] == 0.0
            assert not back.any()
        else:
            _check_binomial(int(back.sum()), int(exits.sum()), rich.backward[stage])
        forward = exits & (m["dst"] > i) & (m["dst"] != s + 1)
        jumps = forward & (m["dst"] == i + 2) & (i + 2 < s)
        if i + 2 < s:
            _check_binomial(int(jumps.sum()), int(forward.sum()), rich.skip[stage])
        else:
            assert rich.skip[stage] == 0.0
            assert not jumps.any()


def test_no_skips_or_backward_moves_when_switched_off(plain: SyntheticPipeline) -> None:
    m = _moves(plain)
    s = len(plain.stages)
    open_dst = m["dst"] < s
    assert (m["dst"][open_dst] == m["src"][open_dst] + 1).all()
    assert (m["src"][m["dst"] == s] == s - 1).all()


def test_dwell_means_recovered_for_uncensored_stays(rich: SyntheticPipeline) -> None:
    m = _moves(rich)
    as_of = np.datetime64(rich.as_of.replace(tzinfo=None), "ns").astype(np.int64)
    created = rich.log.case_start.view(np.int64)
    old = created < as_of - 250 * NS_PER_DAY  # every stay of these deals ended
    last, _ = _last_stage(rich)
    assert (last[old] >= len(rich.stages)).all()
    pilot = rich.log.case_attributes["group"] == "pilot"
    for i, stage in enumerate(rich.stages):
        for flag in (False, True):
            sel = (m["src"] == i) & old[m["case"]] & (pilot[m["case"]] == flag)
            days = (m["t1"][sel] - m["t0"][sel]) / NS_PER_DAY
            dist = rich.dwell_distribution(stage, pilot=flag)
            sd = dist.mean / math.sqrt(dist.shape)  # gamma
            _within(float(days.mean()), dist.mean, sd / math.sqrt(days.size))
    proposal = rich.dwell_distribution("Proposal", pilot=True)
    assert proposal.mean == pytest.approx(0.6 * rich.dwell["Proposal"].mean)


def test_lognormal_dwell_follows_the_planted_distribution() -> None:
    sim = synthetic_pipeline(
        30_000, seed=21, dwell_family="lognormal", dwell_shape=0.9, as_of="2030-01-01"
    )
    m = _moves(sim)
    as_of = np.datetime64(sim.as_of.replace(tzinfo=None), "ns").astype(np.int64)
    old = sim.log.case_start.view(np.int64) < as_of - 3 * 365 * NS_PER_DAY
    last, _ = _last_stage(sim)
    assert (last[old] >= len(sim.stages)).all()  # no stay of these deals is censored
    for i, stage in enumerate(sim.stages):
        sel = (m["src"] == i) & old[m["case"]]
        days = (m["t1"][sel] - m["t0"][sel]) / NS_PER_DAY
        dist = sim.dwell[stage]
        assert dist.median == dist.scale
        se = dist.median * dist.shape * math.sqrt(math.pi / 2) / math.sqrt(days.size)
        _within(float(np.median(days)), dist.median, se)
        test = stats.kstest(days, stats.lognorm(s=dist.shape, scale=dist.scale).cdf)
        assert test.pvalue > 1e-6


def test_gamma_dwell_medians_match_scipy() -> None:
    sim = synthetic_pipeline(5, seed=0)
    for dist in sim.dwell.values():
        assert dist.median == pytest.approx(stats.gamma(a=dist.shape, scale=dist.scale).median())
        assert dist.mean == pytest.approx(stats.gamma(a=dist.shape, scale=dist.scale).mean())


def test_open_deals_are_censored_at_as_of(rich: SyntheticPipeline) -> None:
    last, t_last = _last_stage(rich)
    s = len(rich.stages)
    is_open = last < s
    assert is_open.sum() > 0
    assert f"open={int(is_open.sum())}" in repr(rich)
    as_of = np.datetime64(rich.as_of.replace(tzinfo=None), "ns").astype(np.int64)
    assert (rich.log.time.view(np.int64) < as_of).all()
    # Deals created in the last 2 days are open at least when they are still in Lead:
    created = rich.log.case_start.view(np.int64)
    recent = created >= as_of - 2 * NS_PER_DAY
    lead = rich.dwell["Lead"]
    p_still_in_lead = 1 - stats.gamma(a=lead.shape, scale=lead.scale).cdf(2.0)
    n = int(recent.sum())
    share = float(is_open[recent].mean())
    assert share >= p_still_in_lead - Z * math.sqrt(p_still_in_lead * (1 - p_still_in_lead) / n)
    assert (t_last[is_open] < as_of).all()


def test_activities_occur_at_the_planted_rate_within_stays(rich: SyntheticPipeline) -> None:
    code, _ = _codes(rich)
    case = rich.log.case
    # Stage each event belongs to: the latest stage event of its case at or before it.
    pos = np.where(code >= 0, np.arange(code.size), 0)
    pos = np.maximum.accumulate(pos)
    current = code[pos]
    is_activity = code < 0
    assert (case[pos] == case).all()  # every activity follows a stage event of its case
    assert (current[is_activity] < len(rich.stages)).all()  # none after won or lost
    m = _moves(rich)
    last, t_last = _last_stage(rich)
    as_of = np.datetime64(rich.as_of.replace(tzinfo=None), "ns").astype(np.int64)
    for i, stage in enumerate(rich.stages):
        days = ((m["t1"][m["src"] == i] - m["t0"][m["src"] == i]) / NS_PER_DAY).sum()
        days += ((as_of - t_last[last == i]) / NS_PER_DAY).sum()  # open stays
        expected = rich.activity_rate[stage] * days
        _within(float((is_activity & (current == i)).sum()), expected, math.sqrt(expected))
    names = rich.log.activity_names[rich.log.activity[is_activity]]
    counts = Counter(names.tolist())
    total = int(is_activity.sum())
    for name, share in rich.activity_mix.items():
        _check_binomial(counts[name], total, share)


def test_amounts_are_lognormal_around_the_median(plain: SyntheticPipeline) -> None:
    logs = np.log(plain.log.case_attributes["amount"])
    se = plain.amount_sigma / math.sqrt(logs.size)
    _within(float(logs.mean()), math.log(plain.amount_median), se)
    assert float(logs.std()) == pytest.approx(plain.amount_sigma, rel=0.02)


def test_win_probability_recovered_on_a_closed_cohort() -> None:
    sim = synthetic_pipeline(
        40_000, seed=31, rep_effect=0.0, start="2024-01-01", as_of="2030-01-01"
    )
    last, _ = _last_stage(sim)
    as_of = np.datetime64(sim.as_of.replace(tzinfo=None), "ns").astype(np.int64)
    old = sim.log.case_start.view(np.int64) < as_of - 300 * NS_PER_DAY
    assert (last[old] >= len(sim.stages)).all()  # a cohort in which every deal closed
    won = int((last[old] == len(sim.stages)).sum())
    _check_binomial(won, int(old.sum()), sim.win_probability()["Lead"])
    matrix = sim.transition_matrix()
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)


def test_true_probabilities_by_hand() -> None:
    sim = synthetic_pipeline(5, seed=0, advance=0.5, skip=0.0, backward=0.0)
    win = sim.win_probability()
    for i, stage in enumerate(sim.stages):
        assert win[stage] == pytest.approx(0.5 ** (len(sim.stages) - i))
    sim = synthetic_pipeline(5, seed=0, pilot=PilotEffect("Proposal", advance_odds_ratio=1.5))
    assert sim.advance_probability("Proposal", pilot=True) == pytest.approx(0.9 / 1.3)
    assert sim.advance_probability("Lead", pilot=True) == sim.advance["Lead"]
    with pytest.raises(UnknownStageError, match="Did you mean 'Proposal'"):
        sim.advance_probability("Proposl")
    with pytest.raises(ParameterError, match="rep"):
        sim.advance_probability("Lead", rep="nobody")


def test_result_protocol() -> None:
    sim = synthetic_pipeline(40, seed=2, pilot=PilotEffect("Qualified"))
    assert repr(sim).startswith("SyntheticPipeline(deals=40, events=")
    data = sim.to_dict()
    json.dumps(data)
    rows = cast("list[dict[str, object]]", data["rows"])
    params = cast("dict[str, dict[str, object]]", data["parameters"])
    assert [row["stage"] for row in rows] == list(sim.stages)
    assert params["pilot"]["stage"] == "Qualified"
    assert "<table>" in sim._repr_html_()


def test_funnels() -> None:
    pytest.importorskip("salesstd.funnel")
    sim = synthetic_pipeline(200, seed=9, skip=0.2, backward=0.2)
    funnel = sim.funnel
    assert funnel.won.name == sim.won
    allowed = set(sim.allowed_funnel.edges)
    assert set(funnel.edges) <= allowed
    names = [*sim.stages, sim.won, sim.lost]
    m = _moves(sim)
    seen = {(names[a], names[b]) for a, b in zip(m["src"], m["dst"], strict=True)}
    assert seen <= allowed
    assert seen - set(funnel.edges)  # skips and backward moves are deviations


def test_custom_stages_and_names() -> None:
    sim = synthetic_pipeline(
        300,
        seed=1,
        stages=["New", "Demo"],
        won="Signed",
        lost="Dropped",
        advance={"Demo": 0.9},
        activity_mix={"Ping": 1},
    )
    assert sim.advance == {"New": 0.7, "Demo": 0.9}
    assert sim.skip == {"New": 0.0, "Demo": 0.0}
    assert set(sim.log.activities) <= {"New", "Demo", "Signed", "Dropped", "Ping"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_deals": 0}, "n_deals"),
        ({"advance": 1.2}, r"advance for stage 'Lead' must be in \[0, 1\]"),
        ({"advance": {"Leed": 0.5}}, "Did you mean 'Lead'"),
        ({"skip": {"Negotiation": 0.1}}, "skip for stage 'Negotiation' must be 0"),
        ({"backward": {"Lead": 0.1}}, "backward for stage 'Lead' must be 0"),
        ({"backward": 1.0}, "backward"),
        ({"dwell_mean": 0.0}, "dwell mean"),
        ({"dwell_family": "weibull"}, "dwell_family"),
        ({"as_of": "2023-01-01"}, "as_of must be after start"),
        ({"stages": ["Lead", "Won"]}, "'Won' is used twice"),
        ({"pilot": PilotEffect("Pitch")}, "stage 'Pitch'"),
        ({"amount_sigma": -1.0}, "amount_sigma"),
        ({"activity_mix": {"Call": 0}}, "activity_mix"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"n_deals": 10, "seed": 0, **kwargs}
    with pytest.raises((ParameterError, UnknownStageError), match=match):
        synthetic_pipeline(**args)


def test_pilot_effect_validates() -> None:
    with pytest.raises(ParameterError, match="share"):
        PilotEffect("Lead", share=1.5)
    with pytest.raises(ParameterError, match="dwell_factor"):
        PilotEffect("Lead", dwell_factor=0)


# ---------------------------------------------------------------------------- property


@st.composite
def pipelines(draw: st.DrawFn) -> SyntheticPipeline:
    n_stages = draw(st.integers(1, 6))
    stages = [f"S{i}" for i in range(n_stages)]
    prob = st.floats(0.0, 1.0)
    advance = draw(st.one_of(prob, st.dictionaries(st.sampled_from(stages), prob)))
    pilot = draw(
        st.none()
        | st.builds(
            PilotEffect,
            st.sampled_from(stages),
            share=st.floats(0.05, 0.95),
            advance_odds_ratio=st.floats(0.2, 5.0),
            dwell_factor=st.floats(0.2, 5.0),
        )
    )
    return synthetic_pipeline(
        draw(st.integers(1, 80)),
        seed=draw(st.integers(0, 2**32)),
        stages=stages,
        advance=advance,
        skip=draw(prob),
        backward=draw(st.floats(0.0, 0.9)),
        dwell_mean=draw(st.floats(0.01, 60.0)),
        dwell_family=draw(st.sampled_from(["gamma", "lognormal"])),
        rep_effect=draw(st.floats(0.0, 1.5)),
        activity_rate=draw(st.floats(0.0, 2.0)),
        pilot=pilot,
        start="2024-01-01",
        as_of=draw(st.sampled_from(["2024-02-01", "2024-07-01", "2026-01-01"])),
    )


@given(pipelines())
def test_any_parameters_give_a_valid_log_of_allowed_moves(sim: SyntheticPipeline) -> None:
    log = sim.log
    s = len(sim.stages)
    assert log.n_cases == sim.n_deals
    code, t = _codes(sim)
    # Every case starts with the first stage, at its creation, within the period.
    assert (code[log.offsets[:-1]] == 0).all()
    start = np.datetime64(sim.start.replace(tzinfo=None), "ns").astype(np.int64)
    as_of = np.datetime64(sim.as_of.replace(tzinfo=None), "ns").astype(np.int64)
    assert (t >= start).all()
    assert (t < as_of).all()
    # Stage moves are the allowed ones, with skips / backward moves only when enabled.
    m = _moves(sim)
    src, dst = m["src"], m["dst"]
    assert (src < s).all()  # nothing follows won or lost
    allowed = (dst == src + 1) | (dst == s + 1)
    skip = np.array([sim.skip[x] for x in sim.stages])
    back = np.array([sim.backward[x] for x in sim.stages])
    allowed |= (dst == src + 2) & (dst < s) & (skip[src] > 0)
    allowed |= (dst == src - 1) & (back[src] > 0)
    assert allowed.all()
    assert ((dst != s) | (src == s - 1)).all()  # won only from the last stage
    # Events after a close: none (the last stage event is the last event of a closed case).
    pos = np.maximum.accumulate(np.where(code >= 0, np.arange(code.size), 0))
    assert (code[pos][code < 0] < s).all()
    assert set(log.activities) <= {*sim.stages, sim.won, sim.lost, *sim.activity_mix}
    assert {"rep", "team", "amount"} <= set(log.case_attributes)
    assert ("group" in log.case_attributes) == (sim.pilot is not None)
    matrix = sim.transition_matrix()
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert all(0.0 <= p <= 1.0 for p in sim.win_probability().values())


# --------------------------------------------------------------------- limits (issue 22)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"n_teams": 10**6, "reps_per_team": 10**6},
            r"^n_teams x reps_per_team must be at most 100,000 reps; got 1,000,000 x 1,000,000 ",
        ),
        (
            {"n_teams": 10**400, "reps_per_team": 1},
            r"^n_teams x reps_per_team must be at most 100,000 reps; got 1000000000.*\.\.\. x 1 ",
        ),
        (
            {"n_teams": 1_000, "reps_per_team": 1_000},
            r"^n_teams x reps_per_team must be at most 100,000 reps; got 1,000 x 1,000",
        ),
        ({"dwell_mean": 1e300}, r"^dwell_mean for stage 'Lead' must be in \[0, 36525\]"),
        (
            {"dwell_mean": {"Proposal": 1e300}},
            r"^dwell_mean for stage 'Proposal' must be in \[0, 36525\]; got 1e\+300",
        ),
        ({"activity_rate": 1e300}, r"^activity_rate for stage 'Lead' must be in \[0, 100\]"),
        ({"dwell_shape": 1e300}, r"^dwell_shape for stage 'Lead' must be in \[0, 1e\+06\]"),
        (
            {"dwell_family": "lognormal", "dwell_shape": 50},
            r"^dwell_shape for stage 'Lead' must be in \[0, 10\]",
        ),
        ({"amount_median": 1e300}, r"^amount_median must be at most 1e\+15"),
        ({"amount_sigma": 1e300}, r"^amount_sigma must be at most 10"),
        ({"rep_effect": 1e300}, r"^rep_effect must be at most 10"),
        ({"stages": 5}, r"^stages must be a non-empty sequence of stage names; got int 5\."),
        ({"stages": []}, r"^stages must be a non-empty sequence of stage names; got none"),
        (
            {"stages": [f"S{i}" for i in range(5_000)]},
            r"^stages must name at most 1,998 stages .*; got 5,000",
        ),
        ({"activity_mix": None}, r"^activity_mix must map activity names to shares.*got None"),
        ({"dwell_family": ["gamma"]}, r"^dwell_family must be one of .*; got list"),
    ],
    ids=lambda x: x if isinstance(x, str) and not x.startswith("^") else None,
)
def test_sizes_and_ranges_are_refused_with_the_limit(options: dict[str, Any], message: str) -> None:
    """Each died with MemoryError, numpy's 'lam' error or a TypeError before issue 22."""
    with pytest.raises(ParameterError, match=message):
        synthetic_pipeline(10, seed=0, **options)


def test_too_many_deals_is_refused_with_the_limit() -> None:
    with pytest.raises(ParameterError, match=r"^n_deals must be at most 10,000,000 deals"):
        synthetic_pipeline(10**8, seed=0)


def test_running_out_of_memory_is_a_parameter_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_memory(*_: object) -> None:
        raise MemoryError

    monkeypatch.setattr(_synthetic, "_simulate", no_memory)
    with pytest.raises(ParameterError, match="not enough memory to simulate 10 deals"):
        synthetic_pipeline(10, seed=0)


def test_stages_may_be_any_sequence_of_names() -> None:
    expected = synthetic_pipeline(20, seed=0, stages=["A", "B"]).log
    names = np.array(["A", "B"])
    assert synthetic_pipeline(20, seed=0, stages=names).log == expected  # type: ignore[arg-type]
    assert synthetic_pipeline(20, seed=0, stages=("A", "B")).log == expected
