"""`by=` everywhere: a case attribute, or an event attribute constant within every deal.

Every analysis that splits by `by` resolves it through one helper (`metrics._common.groups`);
these tests hold each of them to "an event attribute that is constant per deal groups exactly
as the same column given as a case attribute", and the change check to a brute-force oracle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesstd as ss
from salesstd._engine.grouping import groups
from strategies import RECORD_NAMES, event_records

PIPE = ss.datasets.synthetic_pipeline(240, seed=3)
STANDARD = ss.Standard.example()


def _as_event_attribute(log: ss.EventLog, name: str) -> ss.EventLog:
    """`log` with the case attribute `name` moved onto every event of its case."""
    case_attrs = {k: a for k, a in log.case_attributes.items() if k != name}
    events = {**log.event_attributes, name: log.case_attributes[name][log.case]}
    return attrs.evolve(log, case_attributes=case_attrs, event_attributes=events)


EVENT_LOG = _as_event_attribute(PIPE.log, "rep")

ANALYSES: dict[str, Callable[[ss.EventLog], Any]] = {
    "conversion": lambda log: ss.conversion(log, PIPE.funnel, by="rep"),
    "time_in_stage": lambda log: ss.time_in_stage(log, PIPE.funnel, by="rep"),
    "cycle_time": lambda log: ss.cycle_time(log, PIPE.funnel, by="rep"),
    "wip": lambda log: ss.wip(log, PIPE.funnel, by="rep"),
    "littles_law": lambda log: ss.littles_law(log, PIPE.funnel, by="rep"),
    "velocity": lambda log: ss.velocity(log, PIPE.funnel, value="amount", by="rep"),
    "markov": lambda log: ss.MarkovFunnel.from_log(log, PIPE.funnel, by="rep"),
    "bottlenecks": lambda log: ss.bottlenecks(log, PIPE.funnel, by="rep"),
    "conformance": lambda log: ss.check_conformance(log, STANDARD).rates(by="rep"),
    "scorecard": lambda log: ss.scorecard(log, STANDARD, by="rep"),
    "standard": lambda log: ss.Standard.from_log(log, PIPE.funnel, by="rep").to_dict(),
}


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_constant_event_attribute_equals_case_attribute(name: str) -> None:
    run = ANALYSES[name]
    expected = run(PIPE.log)
    got = run(EVENT_LOG)
    if isinstance(expected, dict):
        assert got == expected
    elif isinstance(expected, list):  # MarkovFunnel.from_log(by=...) gives one chain per group
        assert [m.to_dict() for m in got] == [m.to_dict() for m in expected]
    else:
        assert got.to_dict() == expected.to_dict()


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_changing_event_attribute_is_refused_everywhere(name: str) -> None:
    rep = np.array(EVENT_LOG.event_attributes["rep"], dtype=object)
    second = int(EVENT_LOG.offsets[5]) + 1  # second event of the sixth deal
    old = rep[second]
    rep[second] = "someone else"
    log = attrs.evolve(EVENT_LOG, event_attributes={"rep": rep})
    deal = str(log.case_names[5])
    with pytest.raises(
        ss.ParameterError,
        match=rf"by='rep' is an event attribute that changes within deal '{deal}' "
        rf"\('{old}' then 'someone else'\)",
    ):
        ANALYSES[name](log)


def test_unknown_by_lists_both_kinds_of_attribute() -> None:
    with pytest.raises(
        ss.ParameterError,
        match=r"by='reps' is not an attribute of the log \(case attributes: team, amount; "
        r"event attributes: rep\)\. Did you mean 'rep'\?",
    ):
        groups(EVENT_LOG, "reps")
    with pytest.raises(ss.ParameterError, match=r"^--by='x' is not an attribute"):
        groups(EVENT_LOG, "x", param="--by")


def _oracle_first_change(rows: list[tuple[str, Any]]) -> str | None:
    """The first deal (in sorted order) whose events do not all hold one value."""
    seen: dict[str, list[Any]] = {}
    for case, value in rows:
        seen.setdefault(case, []).append(value)
    for case in sorted(seen):
        values = seen[case]
        if any(not _same(values[0], x) for x in values[1:]):
            return case
    return None


def _same(a: Any, b: Any) -> bool:
    missing = (a is None or a != a, b is None or b != b)  # noqa: PLR0124
    return missing[0] and missing[1] if any(missing) else bool(a == b)


VALUES = {
    "text": st.sampled_from(["ann", "bob", None]),
    "float": st.sampled_from([1.0, 2.5, float("nan")]),
    "int": st.sampled_from([1, 2, 3]),
}


@given(data=st.data(), kind=st.sampled_from(sorted(VALUES)))
def test_change_check_matches_oracle(data: st.DataObject, kind: str) -> None:
    constant = data.draw(st.booleans(), label="constant")
    rows = data.draw(event_records(max_cases=5, max_events=4))
    cases = sorted({r[0] for r in rows})
    per_case = {c: data.draw(VALUES[kind]) for c in cases}
    values = [
        per_case[r[0]] if constant or data.draw(st.booleans()) else data.draw(VALUES[kind])
        for r in rows
    ]
    log = ss.EventLog.from_records(
        [(*r[:3], value) for r, value in zip(rows, values, strict=True)],
        names=(*RECORD_NAMES[:3], "owner"),
    )
    ordered = [
        (str(log.case_names[c]), x)
        for c, x in zip(log.case.tolist(), log.event_attributes["owner"].tolist(), strict=True)
    ]
    bad = _oracle_first_change(ordered)
    if bad is None:
        grouped = groups(log, "owner")
        first = log.event_attributes["owner"][log.offsets[:-1]]
        labels = np.array(grouped.labels, dtype=object)[grouped.of_case]
        assert [_same(a, b) for a, b in zip(labels, first, strict=True)] == [True] * log.n_cases
    else:
        with pytest.raises(ss.ParameterError, match=rf"changes within deal '{bad}'"):
            groups(log, "owner")


def test_pandas_na_values_are_missing_not_errors() -> None:
    pd = pytest.importorskip("pandas")
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    frame = pd.DataFrame(
        {
            "case": ["a", "a", "b", "b"],
            "activity": ["x", "y", "x", "y"],
            "time": [t0, t0 + dt.timedelta(days=1), t0, t0 + dt.timedelta(days=2)],
            "owner": pd.array(["ann", "ann", pd.NA, pd.NA], dtype="string"),
        }
    )
    log = ss.EventLog.from_frame(frame, case="case", activity="activity", time="time")
    grouped = groups(log, "owner")
    assert grouped.labels == ("ann", None)
    assert grouped.of_case.tolist() == [0, 1]
