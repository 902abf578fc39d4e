"""Tests of `salesstd.metrics.conversion`: known answers, properties, planted answers, BPIC 2012."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

import _data
import salesstd as ss
from _data import DATA
from strategies import T0, funnels, stage_logs

BPIC = DATA / "bpic2012" / "BPI_Challenge_2012.xes.gz"
BPIC_CSV = DATA / "bpic2012" / "bpic2012_events.csv.gz"
DAY = 86_400 * 10**9

# Five deals, times in days after Monday 2024-01-01 (the log ends at day 12):
#   d1 north: lead 0, qualified 2, proposal 5, won 9
#   d2 south: lead 0, proposal 3 (skips qualified), lost 10
#   d3 north: lead 1, qualified 4, lead 6 (back), qualified 8, no_budget 12
#   d4 (no region): lead 2, qualified 3, call 4 (not a stage): open in qualified
#   d5 south: qualified 5 (starts there), proposal 7: open in proposal
DEALS: dict[str, tuple[str | None, list[tuple[str, float]]]] = {
    "d1": ("north", [("lead", 0), ("qualified", 2), ("proposal", 5), ("won", 9)]),
    "d2": ("south", [("lead", 0), ("proposal", 3), ("lost", 10)]),
    "d3": (
        "north",
        [("lead", 1), ("qualified", 4), ("lead", 6), ("qualified", 8), ("no_budget", 12)],
    ),
    "d4": (None, [("lead", 2), ("qualified", 3), ("call", 4)]),
    "d5": ("south", [("qualified", 5), ("proposal", 7)]),
}
STAGES = ["lead", "qualified", "proposal"]


def _at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


@pytest.fixture
def log() -> ss.EventLog:
    rows = [
        (case, activity, _at(days), region)
        for case, (region, events) in DEALS.items()
        for activity, days in events
    ]
    return ss.EventLog.from_records(
        rows[::-1], names=("case", "activity", "time", "region"), case_attributes=["region"]
    )


@pytest.fixture
def funnel() -> ss.Funnel:
    return ss.Funnel.linear([*STAGES, "won"], lost=["lost", "no_budget"])


def _col(result: ss.ConversionResult, name: str) -> list[Any]:
    return np.asarray(getattr(result, name)).tolist()  # type: ignore[no-any-return]


# --------------------------------------------------------------------- known answers


def test_first_entries_implied(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel)
    assert _col(conv, "stage") == STAGES
    # lead: d1-d4 (d5 was created in qualified: it entered the funnel there, not in lead).
    # qualified: d2 implied (advanced), d3 lost to no_budget after moving back, d4 open.
    assert _col(conv, "entered") == [4, 5, 3]
    assert _col(conv, "recorded") == [4, 4, 3]
    assert _col(conv, "implied") == [0, 1, 0]
    assert _col(conv, "entered_funnel") == [4, 1, 0]
    assert _col(conv, "advanced") == [4, 3, 1]
    assert _col(conv, "lost") == [0, 1, 1]
    assert _col(conv, "open") == [0, 1, 1]
    assert _col(conv, "moved_back") == [0, 0, 0]
    assert conv.lost_by_outcome.tolist() == [[0, 0], [0, 1], [1, 0]]
    assert conv.lost_outcomes == ("lost", "no_budget")
    assert _col(conv, "denominator") == [4, 4, 2]
    assert _col(conv, "converted") == [4, 3, 1]
    assert _col(conv, "rate") == [1.0, 0.75, 0.5]
    assert _col(conv, "cumulative") == [1.0, 0.75, 0.375]
    assert _col(conv, "win_rate") == [0.375, 0.375, 0.5]
    assert conv.overall == 0.375
    assert conv.n_cases == 5
    assert conv.denominator_kind == "resolved"
    assert repr(conv) == "ConversionResult(stages=3, cases=5, overall=0.375)"


def test_first_entries_strict(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel, skips="strict")
    # Only recorded stages: d5 never entered lead, d2 never entered qualified.
    assert _col(conv, "entered") == [4, 4, 3]
    assert _col(conv, "advanced") == [4, 2, 1]  # d2's jump past qualified advances lead
    assert _col(conv, "lost") == [0, 1, 1]
    assert _col(conv, "open") == [0, 1, 1]
    assert _col(conv, "rate") == [1.0, 2 / 3, 0.5]


def test_every_entry_counts_moves_back(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel, entries="every")
    # d3 enters lead and qualified twice; its first qualified stay ends by moving back.
    assert _col(conv, "entered") == [5, 6, 3]
    assert _col(conv, "implied") == [0, 1, 0]
    assert _col(conv, "advanced") == [5, 3, 1]
    assert _col(conv, "moved_back") == [0, 1, 0]
    assert _col(conv, "lost") == [0, 1, 1]
    assert _col(conv, "open") == [0, 1, 1]
    # A move back is resolved and not advanced: it is in the denominator.
    assert _col(conv, "denominator") == [5, 5, 2]
    assert _col(conv, "rate") == [1.0, 0.6, 0.5]
    strict = ss.conversion(log, funnel, entries="every", skips="strict")
    assert _col(strict, "entered") == [5, 5, 3]
    assert _col(strict, "advanced") == [5, 2, 1]
    assert _col(strict, "moved_back") == [0, 1, 0]


def test_window_counts_mature_entries(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel, window=6)
    # Mature: entered by day 12 - 6 = 6. d5 entered proposal at day 7: immature.
    assert conv.denominator_kind == "mature"
    assert conv.window_days == 6.0
    assert _col(conv, "immature") == [0, 0, 1]
    assert _col(conv, "denominator") == [4, 5, 2]
    # qualified: d1 (3 days), d2 (0), d5 (2) advanced within 6 days; d3 lost, d4 open.
    assert _col(conv, "converted") == [4, 3, 1]
    assert _col(conv, "rate") == [1.0, 0.6, 0.5]
    # The outcome counts still cover every entry.
    assert _col(conv, "entered") == [4, 5, 3]
    assert _col(conv, "open") == [0, 1, 1]

    short = ss.conversion(log, funnel, window=dt.timedelta(days=3.5))
    # Mature: by day 8.5, so d5's proposal entry (day 7) counts, open: not converted.
    # d1 took 4 days from proposal to won: too slow for 3.5 days.
    assert _col(short, "immature") == [0, 0, 0]
    assert _col(short, "converted") == [4, 3, 0]
    assert _col(short, "denominator") == [4, 5, 3]
    assert _col(short, "rate") == [1.0, 0.6, 0.0]


def test_as_of_censors_open_deals(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel, as_of=_at(8.5))
    # Nothing after day 8.5 exists: d1's win, d2's and d3's losses are in the future.
    assert _col(conv, "advanced") == [4, 3, 0]
    assert _col(conv, "lost") == [0, 0, 0]
    assert _col(conv, "open") == [0, 2, 3]
    assert _col(conv, "denominator") == [4, 3, 0]
    rate = _col(conv, "rate")
    assert rate[:2] == [1.0, 1.0]
    assert math.isnan(rate[2])
    assert math.isnan(conv.low[2])
    assert math.isnan(conv.high[2])
    assert math.isnan(conv.overall)
    assert conv.as_of == _at(8.5)


def test_by_region(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel, by="region")
    assert conv.groups == ("north", "south", None)
    assert _col(conv, "group") == ["north"] * 3 + ["south"] * 3 + [None] * 3
    assert _col(conv, "entered") == [2, 2, 1, 1, 2, 2, 1, 1, 0]  # d5: not in south's lead
    assert _col(conv, "advanced") == [2, 1, 1, 1, 2, 0, 1, 0, 0]
    assert _col(conv, "lost") == [0, 1, 0, 0, 0, 1, 0, 0, 0]
    assert _col(conv, "open") == [0, 0, 0, 0, 0, 1, 0, 1, 0]
    assert conv.at("qualified", "north").rate == 0.5
    assert conv.at("proposal", "south").rate == 0.0
    assert math.isnan(conv.at("qualified", None).rate)  # d4: open, nothing resolved
    # overall pools the groups: the ungrouped figure.
    assert conv.overall == ss.conversion(log, funnel).overall
    assert repr(conv) == "ConversionResult(stages=3, groups=3, cases=5, overall=0.375)"
    frame = conv.to_frame()
    assert frame.columns[:2].tolist() == ["region", "stage"]
    assert frame["region"].tolist()[:6:3] == ["north", "south"]
    assert frame["region"].isna().tolist() == [False] * 6 + [True] * 3


def test_by_week(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel, period="week")
    assert conv.periods == ("2024-01-01", "2024-01-08")
    assert _col(conv, "period") == ["2024-01-01"] * 3 + ["2024-01-08"] * 3
    # d5 entered proposal on Monday 2024-01-08: the only entry of the second week.
    assert _col(conv, "entered") == [4, 5, 2, 0, 0, 1]
    assert _col(conv, "advanced") == [4, 3, 1, 0, 0, 0]
    assert _col(conv, "open") == [0, 1, 0, 0, 0, 1]
    row = conv.at("proposal", period="2024-01-08")
    assert (row.entered, row.open, row.period) == (1, 1, "2024-01-08")
    assert conv.to_frame().columns[:2].tolist() == ["period", "stage"]
    month = ss.conversion(log, funnel, period="month", by="region")
    assert month.periods == ("2024-01-01",)
    assert month.entered.tolist() == ss.conversion(log, funnel, by="region").entered.tolist()


def test_at_record(log: ss.EventLog, funnel: ss.Funnel) -> None:
    row = ss.conversion(log, funnel).at("qualified")
    assert row == ss.StageConversion(
        stage="qualified",
        entered=5,
        advanced=3,
        lost=1,
        lost_by_outcome={"lost": 0, "no_budget": 1},
        open=1,
        moved_back=0,
        immature=0,
        converted=3,
        denominator=4,
        rate=0.75,
        low=row.low,
        high=row.high,
        cumulative=0.75,
        win_rate=0.375,
        recorded=4,
        implied=1,
        entered_funnel=1,
    )
    assert type(row.rate) is float
    assert type(row.entered) is int


def test_intervals_match_scipy(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel, confidence_level=0.9)
    ci = sps.binomtest(3, 4).proportion_ci(0.9, method="wilson")
    assert conv.at("qualified").low == pytest.approx(ci.low, abs=1e-12)
    assert conv.at("qualified").high == pytest.approx(ci.high, abs=1e-12)
    jeff = ss.conversion(log, funnel, method="jeffreys")
    assert jeff.at("qualified").low == pytest.approx(sps.beta.ppf(0.025, 3.5, 1.5), abs=1e-12)
    assert jeff.at("qualified").high == pytest.approx(sps.beta.ppf(0.975, 3.5, 1.5), abs=1e-12)
    interval = jeff.interval("qualified")
    assert (interval.level, interval.method) == (0.95, "jeffreys")
    assert interval.low == jeff.at("qualified").low


def test_to_frame_and_dict(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel, window=6)
    frame = conv.to_frame()
    assert frame.columns.tolist() == [
        "stage",
        "entered",
        "recorded",
        "implied",
        "entered_funnel",
        "advanced",
        "lost",
        "lost_lost",
        "lost_no_budget",
        "open",
        "moved_back",
        "immature",
        "converted",
        "denominator",
        "rate",
        "low",
        "high",
        "cumulative",
        "win_rate",
    ]
    assert frame["lost_no_budget"].tolist() == [0, 1, 0]
    data = json.loads(json.dumps(ss.conversion(log, funnel, as_of=_at(8.5)).to_dict()))
    assert data["kind"] == "ConversionResult"
    assert data["parameters"]["denominator_kind"] == "resolved"
    assert data["rows"][2]["rate"] is None  # NaN
    assert data["summary"]["cases"] == 5
    polars = conv.to_frame(backend="polars")
    assert polars.columns == frame.columns.tolist()
    assert "<table>" in conv._repr_html_()


def test_curves_known_answer(log: ss.EventLog, funnel: ss.Funnel) -> None:
    curves = ss.conversion_curves(log, funnel, horizons=(7, 30))
    # qualified (first entries): d2 advances at 0 days, d5 at 2, d1 at 3, d3 is lost at 8,
    # d4 is censored at 9. proposal: d1 advances at 4, d5 censored at 5, d2 lost at 7.
    q7 = curves.at("qualified", horizon=7)
    assert (q7.entered, q7.lost) == (5, 0.0)
    assert [q7.advanced, q7.still_open] == pytest.approx([0.6, 0.4])
    q30 = curves.at("qualified", horizon=30)
    assert [q30.advanced, q30.lost, q30.still_open] == pytest.approx([0.6, 0.2, 0.2])
    # d5's censoring leaves d2 alone at risk at day 7: the loss takes the remaining 2/3.
    p30 = curves.at("proposal", horizon=dt.timedelta(days=30))
    assert [p30.advanced, p30.lost, p30.still_open] == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert curves.stage.tolist() == [
        "lead",
        "lead",
        "qualified",
        "qualified",
        "proposal",
        "proposal",
    ]
    assert curves.horizon_days.tolist() == [7.0, 30.0] * 3
    assert curves.advanced.tolist() == pytest.approx([1.0, 1.0, 0.6, 0.6, 1 / 3, 1 / 3])
    assert curves.lost.tolist() == pytest.approx([0.0, 0.0, 0.0, 0.2, 2 / 3, 2 / 3])
    cur = curves.curve("qualified")
    assert cur.time_days.tolist() == [0.0, 2.0, 3.0, 8.0]
    assert cur.advanced.round(12).tolist() == [0.2, 0.4, 0.6, 0.6]
    assert cur.lost.round(12).tolist() == [0.0, 0.0, 0.0, 0.2]
    assert cur.still_open.round(12).tolist() == [0.8, 0.6, 0.4, 0.2]
    assert cur.entered == 5
    assert repr(curves) == "ConversionCurves(stages=3, horizons=2, cases=5)"
    data = json.loads(json.dumps(curves.to_dict()))
    assert data["rows"][0]["stage"] == "lead"
    assert curves.to_frame().columns.tolist() == [
        "stage",
        "horizon_days",
        "entered",
        "advanced",
        "advanced_low",
        "advanced_high",
        "lost",
        "lost_low",
        "lost_high",
        "still_open",
    ]


def test_curves_by_group(log: ss.EventLog, funnel: ss.Funnel) -> None:
    curves = ss.conversion_curves(log, funnel, by="region", horizons=30)
    assert curves.groups == ("north", "south", None)
    assert curves.entered.tolist() == [2, 2, 1, 1, 2, 2, 1, 1, 0]
    north = curves.at("qualified", "north", horizon=30)
    assert (north.advanced, north.lost) == (0.5, 0.5)
    empty = curves.at("proposal", None, horizon=30)
    assert empty.entered == 0
    assert math.isnan(empty.advanced)
    assert repr(curves) == "ConversionCurves(stages=3, groups=3, horizons=1, cases=5)"
    assert curves.to_frame().columns[0] == "region"


# --------------------------------------------------------------------- by= event attribute


def _event_region_log(change: dict[str, str | None] | None = None) -> ss.EventLog:
    """The fixture's deals with region on every event instead of as a case attribute."""
    rows = [
        (case, activity, _at(days), (change or {}).get(f"{case}:{activity}", region))
        for case, (region, events) in DEALS.items()
        for activity, days in events
    ]
    return ss.EventLog.from_records(rows, names=("case", "activity", "time", "region"))


def test_by_constant_event_attribute_groups_as_the_case_attribute(
    log: ss.EventLog, funnel: ss.Funnel
) -> None:
    events = _event_region_log()
    assert "region" in events.event_attributes
    assert "region" not in events.case_attributes
    grouped = ss.conversion(events, funnel, by="region")
    assert grouped.to_dict() == ss.conversion(log, funnel, by="region").to_dict()
    assert grouped.groups == ("north", "south", None)
    # north holds d1 and d3: both enter lead; d1 advances, d3 advances and later moves back.
    assert grouped.at("lead", group="north").entered == 2


def test_by_event_attribute_that_changes_within_a_deal_names_it(funnel: ss.Funnel) -> None:
    moved = _event_region_log({"d3:no_budget": "south"})
    with pytest.raises(
        ss.ParameterError,
        match=r"by='region' is an event attribute that changes within deal 'd3' "
        r"\('north' then 'south'\).*Choose another column.*case_attributes=\['region'\]",
    ):
        ss.conversion(moved, funnel, by="region")
    # A value missing on one event of a deal is a change too (missing counts as a value).
    with pytest.raises(ss.ParameterError, match=r"within deal 'd1' \('north' then None\)"):
        ss.conversion(_event_region_log({"d1:won": None}), funnel, by="region")


# --------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"by": "regoin"}, "by='regoin' is not an attribute of the log.*Did you mean 'region'"),
        ({"skips": "implicit"}, "skips must be one of.*Did you mean 'implied'"),
        ({"entries": "firts"}, "entries must be one of 'first', 'every'.*Did you mean 'first'"),
        ({"method": "wilsn"}, "method must be one of.*Did you mean 'wilson'"),
        ({"period": "months"}, "period must be one of.*Did you mean 'month'"),
        ({"window": 0}, "window must be a positive duration; got 0"),
        ({"window": -3}, "window must be a positive duration"),
        ({"window": "30d"}, "window must be a timedelta or a number of days"),
        ({"confidence_level": 95}, r"between 0 and 1 \(exclusive\); got 95. For 95% pass 0.95"),
        ({"as_of": "2023-12-01"}, "before the log starts"),
    ],
)
def test_bad_options(
    log: ss.EventLog, funnel: ss.Funnel, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ss.ParameterError, match=match):
        ss.conversion(log, funnel, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"by": "regoin"}, "Did you mean 'region'"),
        ({"skips": "strikt"}, "Did you mean 'strict'"),
        ({"horizons": []}, "horizons must hold at least one value"),
        ({"horizons": [7, 0]}, "horizons must be a positive duration; got 0"),
        ({"horizons": "30"}, "horizons must be a timedelta or a number of days"),
        ({"confidence_level": 0}, "between 0 and 1"),
        ({"as_of": "2023-12-01"}, "before the log starts"),
    ],
)
def test_bad_curve_options(
    log: ss.EventLog, funnel: ss.Funnel, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ss.ParameterError, match=match):
        ss.conversion_curves(log, funnel, **kwargs)


def test_bad_rows(log: ss.EventLog, funnel: ss.Funnel) -> None:
    conv = ss.conversion(log, funnel)
    with pytest.raises(ss.UnknownStageError, match="Did you mean 'qualified'"):
        conv.at("Qualifed")
    with pytest.raises(ss.UnknownStageError, match="'won' is an outcome"):
        conv.at("won")
    with pytest.raises(ss.ParameterError, match="computed with by=None"):
        conv.at("lead", "north")
    with pytest.raises(ss.ParameterError, match="computed with period=None"):
        conv.at("lead", period="2024-01-01")
    grouped = ss.conversion(log, funnel, by="region", period="week")
    with pytest.raises(
        ss.ParameterError, match=r"group 'nrth' is not in the result.*grouped by 'region'.*'north'"
    ):
        grouped.at("lead", "nrth", period="2024-01-01")
    with pytest.raises(ss.ParameterError, match="period '2024-01-02' is not in the result"):
        grouped.at("lead", "north", period="2024-01-02")
    curves = ss.conversion_curves(log, funnel)
    with pytest.raises(ss.UnknownStageError, match="Did you mean 'proposal'"):
        curves.curve("propsal")
    with pytest.raises(ss.ParameterError, match="horizon must be a positive duration"):
        curves.at("lead", horizon=-1)


# --------------------------------------------------------------------- properties


def _reference(
    log: ss.EventLog,
    funnel: ss.Funnel,
    *,
    skips: str,
    entries: str,
    window: float | None,
) -> dict[str, Counter[str]]:
    """Conversion counts computed case by case in plain Python, as the docs define them."""
    n_open = funnel.n_open
    codes = funnel.stage_codes(log)
    t = log.time.view(np.int64)
    cutoff = int(t.max())
    names = funnel.stage_names
    out = {s.name: Counter[str]() for s in funnel.open_stages}
    for c in range(log.n_cases):
        lo, hi = int(log.offsets[c]), int(log.offsets[c + 1])
        episodes: list[tuple[int, int]] = []
        for i in range(lo, hi):
            code = int(codes[log.activity[i]])
            if code < 0:
                continue
            if episodes and episodes[-1][0] == code:
                continue
            episodes.append((code, int(t[i])))
            if code >= n_open:
                break
        # A case enters the funnel at its first recorded stage; implied passes fill only the
        # gaps between recorded stages.
        marked = [(code, time, False) for code, time in episodes]
        if skips == "implied" and episodes:
            filled: list[tuple[int, int, bool]] = []
            furthest = episodes[0][0] if episodes[0][0] <= n_open else -1
            for code, time in episodes:
                pos = code if code <= n_open else -1
                filled += [(k, time, True) for k in range(furthest + 1, pos)]
                filled.append((code, time, False))
                furthest = max(furthest, pos)
            marked = filled
        episodes = [(code, time) for code, time, _ in marked]
        seen: set[int] = set()
        for i, (code, time) in enumerate(episodes):
            if code >= n_open or (entries == "first" and code in seen):
                continue
            seen.add(code)
            later = episodes[i + 1 :]
            if entries == "first":
                ahead = [x for x in later if x[0] <= n_open and x[0] > code]
                fate = "advanced" if ahead else "open"
                if not ahead and later and later[-1][0] > n_open:
                    fate = f"lost_{names[later[-1][0]]}"
                resolved = ahead[0][1] if ahead else None
            elif not later:
                fate, resolved = "open", None
            else:
                nxt = later[0][0]
                resolved = later[0][1]
                if nxt > n_open:
                    fate = f"lost_{names[nxt]}"
                elif nxt > code:
                    fate = "advanced"
                else:
                    fate = "moved_back"
            row = out[names[code]]
            row["entered"] += 1
            row["implied"] += marked[i][2]
            row["recorded"] += not marked[i][2]
            row["entered_funnel"] += i == 0
            row[fate] += 1
            if fate.startswith("lost_"):
                row["lost"] += 1
            if window is None:
                row["denominator"] += fate != "open"
                row["converted"] += fate == "advanced"
            else:
                mature = time <= cutoff - round(window * DAY)
                row["denominator"] += mature
                row["immature"] += not mature
                in_time = resolved is not None and resolved - time <= round(window * DAY)
                row["converted"] += mature and fate == "advanced" and in_time
    return out


COUNTS = (
    "entered",
    "recorded",
    "implied",
    "entered_funnel",
    "advanced",
    "lost",
    "open",
    "moved_back",
    "immature",
    "converted",
    "denominator",
)


@given(
    data=st.data(),
    funnel=funnels(back_edges=True, max_aliases=0),
    skips=st.sampled_from(["implied", "strict"]),
    entries=st.sampled_from(["first", "every"]),
    window=st.none() | st.integers(1, 30),
)
def test_matches_case_by_case_reference(
    data: st.DataObject, funnel: ss.Funnel, skips: str, entries: str, window: int | None
) -> None:
    log = data.draw(stage_logs(funnel))
    conv = ss.conversion(log, funnel, skips=skips, entries=entries, window=window)  # type: ignore[arg-type]
    expected = _reference(log, funnel, skips=skips, entries=entries, window=window)
    for i, stage in enumerate(conv.stages):
        row = conv.at(stage)
        want = expected[stage]
        got = {name: getattr(row, name) for name in COUNTS}
        got.update({f"lost_{k}": n for k, n in row.lost_by_outcome.items()})
        assert got == {k: want[k] for k in got}, (stage, i)


@given(data=st.data(), funnel=funnels(back_edges=True), entries=st.sampled_from(["first", "every"]))
def test_counts_and_intervals_are_consistent(
    data: st.DataObject, funnel: ss.Funnel, entries: str
) -> None:
    log = data.draw(stage_logs(funnel))
    window = data.draw(st.none() | st.floats(0.5, 40))
    method = data.draw(st.sampled_from(["wilson", "jeffreys"]))
    conv = ss.conversion(log, funnel, entries=entries, window=window, method=method)  # type: ignore[arg-type]
    assert (conv.advanced >= 0).all()
    assert (conv.advanced <= conv.entered).all()
    assert (conv.converted <= conv.denominator).all()
    total = conv.advanced + conv.lost + conv.open + conv.moved_back
    assert total.tolist() == conv.entered.tolist()
    assert conv.lost_by_outcome.sum(axis=1).tolist() == conv.lost.tolist()
    if entries == "first":
        assert not conv.moved_back.any()
    if window is None:
        assert (conv.denominator == conv.entered - conv.open).all()
        assert not conv.immature.any()
    else:
        assert (conv.denominator + conv.immature == conv.entered).all()
    some = conv.denominator > 0
    assert np.isnan(conv.rate[~some]).all()
    assert np.isnan(conv.low[~some]).all()
    rate, low, high = conv.rate[some], conv.low[some], conv.high[some]
    assert ((low >= 0) & (low <= rate + 1e-12) & (rate <= high + 1e-12) & (high <= 1)).all()
    assert json.loads(json.dumps(conv.to_dict()))["summary"]["stages"] == funnel.n_open


@given(
    data=st.data(),
    funnel=funnels(max_lost=2).map(
        lambda f: ss.Funnel.linear(
            [s.name for s in f.open_stages] + [f.won.name], lost=[s.name for s in f.lost]
        )
    ),
)
def test_cumulative_never_increases_on_a_linear_funnel(
    data: st.DataObject, funnel: ss.Funnel
) -> None:
    log = data.draw(stage_logs(funnel))
    conv = ss.conversion(log, funnel, skips=data.draw(st.sampled_from(["implied", "strict"])))
    cumulative = conv.cumulative
    steps = np.diff(cumulative)
    defined = ~np.isnan(steps)
    assert (steps[defined] <= 1e-12).all()
    assert (conv.win_rate[~np.isnan(conv.win_rate)] <= 1.0).all()
    # The first stage's win rate is the product of every step rate.
    assert np.isnan(conv.win_rate[0]) or conv.win_rate[0] == pytest.approx(
        float(np.prod(conv.rate))
    )


@given(data=st.data(), funnel=funnels(back_edges=True), entries=st.sampled_from(["first", "every"]))
def test_groups_and_periods_partition_the_counts(
    data: st.DataObject, funnel: ss.Funnel, entries: str
) -> None:
    log = data.draw(stage_logs(funnel))
    window = data.draw(st.none() | st.integers(1, 20))
    period = data.draw(st.sampled_from(["day", "week", "month", "quarter", "year"]))
    whole = ss.conversion(log, funnel, entries=entries, window=window)  # type: ignore[arg-type]
    split = ss.conversion(log, funnel, entries=entries, window=window, by="segment", period=period)  # type: ignore[arg-type]
    n = funnel.n_open
    for name in COUNTS:
        parts = getattr(split, name).reshape(-1, n).sum(axis=0)
        assert parts.tolist() == getattr(whole, name).tolist(), name
    blocks = len(split.groups) * len(split.periods)
    by_outcome = split.lost_by_outcome.reshape(blocks, n, len(split.lost_outcomes))
    assert by_outcome.sum(axis=0).tolist() == whole.lost_by_outcome.tolist()
    assert split.overall == pytest.approx(whole.overall, nan_ok=True)
    assert split.n_cases == whole.n_cases
    named = [str(g) for g in split.groups if g is not None]
    assert named == sorted(named)
    assert None not in split.groups[:-1]
    assert list(split.periods) == sorted(split.periods)  # type: ignore[type-var]


@given(data=st.data(), funnel=funnels(back_edges=True))
def test_curves_agree_with_counts(data: st.DataObject, funnel: ss.Funnel) -> None:
    log = data.draw(stage_logs(funnel))
    skips = data.draw(st.sampled_from(["implied", "strict"]))
    horizons = data.draw(st.lists(st.floats(0.01, 100), min_size=1, max_size=4))
    curves = ss.conversion_curves(log, funnel, skips=skips, horizons=horizons)  # type: ignore[arg-type]
    conv = ss.conversion(log, funnel, skips=skips)  # type: ignore[arg-type]
    n_h = len(horizons)
    assert curves.entered[::n_h].tolist() == conv.entered.tolist()
    some = curves.entered > 0
    total = curves.advanced + curves.lost + curves.still_open
    assert np.allclose(total[some], 1.0)
    assert np.isnan(curves.advanced[~some]).all()
    for stage in conv.stages:
        cur = curves.curve(stage)
        assert (np.diff(cur.advanced) >= -1e-12).all()
        assert (np.diff(cur.lost) >= -1e-12).all()
        row = conv.at(stage)
        if row.entered == 0:
            continue
        # Censoring only moves weight onto later events: the estimate is at least the
        # observed share, and equals it when nothing is censored.
        far = curves.at(stage, horizon=10_000)
        assert far.advanced >= row.advanced / row.entered - 1e-12
        assert far.lost >= row.lost / row.entered - 1e-12
        if row.open == 0:
            assert far.advanced == pytest.approx(row.advanced / row.entered)
            assert far.lost == pytest.approx(row.lost / row.entered)


# --------------------------------------------------------------------- planted answers


def test_wilson_intervals_cover_the_planted_advance_probabilities() -> None:
    covered = total = 0
    for seed in range(40):
        sim = ss.datasets.synthetic_pipeline(
            300, seed=seed, backward=0.0, skip=0.0, rep_effect=0.0, activity_rate=0.0
        )
        conv = ss.conversion(sim.log, sim.funnel)
        for stage in sim.stages:
            row = conv.at(stage)
            truth = sim.advance_probability(stage)
            covered += row.low <= truth <= row.high
            total += 1
    coverage = covered / total
    assert total == 200
    assert coverage >= 0.90, coverage


def test_strict_skips_recover_the_planted_rates_and_implied_skips_inflate_them() -> None:
    covered = total = 0
    pooled: dict[str, Counter[str]] = {"strict": Counter(), "implied": Counter()}
    for seed in range(20):
        sim = ss.datasets.synthetic_pipeline(
            400, seed=seed, backward=0.0, skip=0.3, rep_effect=0.0, activity_rate=0.0
        )
        for skips in ("strict", "implied"):
            conv = ss.conversion(sim.log, sim.funnel, skips=skips)
            pooled[skips]["converted"] += conv.at("Discovery").converted
            pooled[skips]["denominator"] += conv.at("Discovery").denominator
            if skips == "strict":
                for stage in sim.stages:
                    row = conv.at(stage)
                    covered += row.low <= sim.advance_probability(stage) <= row.high
                    total += 1
    # In the generator a skip counts as advancing and the skipped stage is never recorded.
    # Strict counting matches that definition; implied counting adds entries into the
    # skipped stage that all advance, so its rate sits above the planted one.
    assert covered / total >= 0.9, covered / total
    truth = 0.75  # the default advance probability of Discovery
    strict_rate = pooled["strict"]["converted"] / pooled["strict"]["denominator"]
    implied_rate = pooled["implied"]["converted"] / pooled["implied"]["denominator"]
    assert abs(strict_rate - truth) < 0.02, strict_rate
    assert implied_rate > truth + 0.03, implied_rate


def test_aalen_johansen_is_unbiased_under_heavy_censoring_where_the_naive_share_is_not() -> None:
    kwargs: dict[str, Any] = {
        "backward": 0.0,
        "skip": 0.0,
        "rep_effect": 0.0,
        "activity_rate": 0.0,
        "start": "2024-01-01",
    }
    # Deals created over 45 days and read at the end of them: many are still open.
    sim = ss.datasets.synthetic_pipeline(4000, seed=11, as_of="2024-02-15", **kwargs)
    # The same generator run to completion: deals created over ten years, read after them.
    full = ss.datasets.synthetic_pipeline(4000, seed=11, as_of="2034-01-01", **kwargs)
    horizon = 20.0
    for stage in ("Qualified", "Discovery"):
        # Truth: the dwell does not depend on where the deal goes, so P(advanced within h)
        # = P(advance) * P(dwell <= h).
        dwell = sim.dwell_distribution(stage)
        truth = sim.advance_probability(stage) * float(
            sps.gamma.cdf(horizon, a=dwell.shape, scale=dwell.scale)
        )
        censored = ss.conversion(sim.log, sim.funnel).at(stage)
        assert censored.open > 0.2 * censored.entered  # heavily censored
        aj = ss.conversion_curves(sim.log, sim.funnel, confidence_level=0.99).at(
            stage, horizon=horizon
        )
        aj_full = ss.conversion_curves(full.log, sim.funnel).at(stage, horizon=horizon)
        window_full = ss.conversion(full.log, sim.funnel, window=horizon).at(stage)
        naive = censored.advanced / censored.entered
        assert aj.advanced_low <= truth <= aj.advanced_high, (stage, aj, truth)
        assert abs(aj.advanced - truth) < 0.04, (stage, aj.advanced, truth)
        assert abs(aj_full.advanced - truth) < 0.04, (stage, aj_full.advanced, truth)
        assert abs(window_full.rate - truth) < 0.04, (stage, window_full.rate, truth)
        # The naive share counts open deals as failures: even counting advances after
        # 20 days it falls far below the truth within 20 days.
        assert naive < truth - 0.08, (stage, naive, truth)


# --------------------------------------------------------------------- real data


def _bpic() -> tuple[ss.EventLog, ss.Funnel]:
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


@pytest.mark.slow
def test_bpic2012_entries_and_open_applications() -> None:
    log, funnel = _bpic()
    if not BPIC_CSV.exists():
        pytest.skip(f"{BPIC_CSV} not found")
    conv = ss.conversion(log, funnel, skips="strict")
    events = pd.read_csv(BPIC_CSV, usecols=["case_id", "activity", "lifecycle"])
    events = events[(events["lifecycle"] == "COMPLETE") & events["activity"].str.startswith("A_")]
    cases_with = events.groupby("activity")["case_id"].nunique()
    direct = [int(cases_with[s]) for s in conv.stages]
    assert conv.entered.tolist() == direct == [13087, 13087, 7367, 5113, 5015]
    won_cases = set(events.loc[events["activity"].isin(["A_APPROVED"]), "case_id"])
    lost_cases = set(events.loc[events["activity"].isin(["A_DECLINED", "A_CANCELLED"]), "case_id"])
    open_cases = set(events["case_id"]) - won_cases - lost_cases
    assert len(open_cases) == 399
    # Each open application is open at its furthest stage, and nowhere counted as lost.
    assert int(conv.open.sum()) == 399
    assert conv.open.tolist() == [0, 0, 69, 3, 327]
    assert int(conv.lost.sum()) == len(lost_cases) == 10442
    assert conv.lost_by_outcome.sum(axis=0).tolist() == [7635, 2807]
    assert int(conv.at("A_FINALIZED").advanced) == len(won_cases) == 2246
    assert conv.n_cases == 13087
    # No application skips a stage or goes back: every view and skip rule agree.
    for entries in ("first", "every"):
        other = ss.conversion(log, funnel, entries=entries, skips="implied")
        assert other.entered.tolist() == conv.entered.tolist()
        assert other.advanced.tolist() == conv.advanced.tolist()
    assert conv.overall == pytest.approx(float(np.prod(conv.rate)))
    assert round(conv.overall, 4) == 0.1854


@pytest.mark.slow
def test_bpic2012_curves() -> None:
    log, funnel = _bpic()
    conv = ss.conversion(log, funnel, skips="strict")
    curves = ss.conversion_curves(log, funnel, skips="strict", horizons=(1, 30, 365))
    for stage in conv.stages:
        row = conv.at(stage)
        far = curves.at(stage, horizon=365)
        # Open applications are censored: the one-year estimates exceed the raw shares.
        assert far.advanced >= row.advanced / row.entered - 1e-12
        assert far.lost >= row.lost / row.entered - 1e-12
    finalized = curves.at("A_FINALIZED", horizon=30)
    assert 0.40 < finalized.advanced < 0.46
    assert finalized.advanced_low < finalized.advanced < finalized.advanced_high
