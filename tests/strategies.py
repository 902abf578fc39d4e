"""Hypothesis strategies and small helpers shared by the test modules.

Import as ``import strategies`` (``tests/conftest.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np
from hypothesis import strategies as st

import salesstd as ss

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
ACTIVITIES = ("lead", "qualified", "proposal", "won", "lost")
REPS = ("ann", "bob", "cid")
SEGMENTS = ("smb", "mid", "ent")
RECORD_NAMES = ("case", "activity", "time", "rep", "segment")

Record = tuple[str, str, dt.datetime, str, str]


@st.composite
def event_records(
    draw: st.DrawFn,
    *,
    max_cases: int = 6,
    max_events: int = 6,
    min_cases: int = 1,
) -> list[Record]:
    """Rows ``(case, activity, time, rep, segment)`` of a small random log, shuffled.

    Case ids are short strings, activities come from a five-letter alphabet, times are aware
    UTC datetimes that are distinct within each case (cases may share times with each other),
    ``rep`` is an event attribute and ``segment`` a case attribute (constant within a case).
    """
    n_cases = draw(st.integers(min_cases, max_cases))
    ids = draw(
        st.lists(
            st.text("abcdxyz0123456789", min_size=1, max_size=4),
            min_size=n_cases,
            max_size=n_cases,
            unique=True,
        )
    )
    rows: list[Record] = []
    for case in ids:
        seconds = draw(
            st.lists(st.integers(0, 30 * 86_400), min_size=1, max_size=max_events, unique=True)
        )
        segment = draw(st.sampled_from(SEGMENTS))
        for s in seconds:
            activity = draw(st.sampled_from(ACTIVITIES))
            rep = draw(st.sampled_from(REPS))
            rows.append((case, activity, T0 + dt.timedelta(seconds=s), rep, segment))
    return draw(st.permutations(rows))


def build_log(rows: list[Record], *, attributes: bool = True) -> ss.EventLog:
    """The log of `event_records` rows, with or without the rep/segment attributes."""
    if attributes:
        return ss.EventLog.from_records(rows, names=RECORD_NAMES, case_attributes=["segment"])
    return ss.EventLog.from_records([r[:3] for r in rows])


def event_logs(
    *, max_cases: int = 6, max_events: int = 6, attributes: bool | None = None
) -> st.SearchStrategy[ss.EventLog]:
    """Small random `EventLog` objects built from `event_records` rows.

    Args:
        max_cases: Most cases in a log.
        max_events: Most events in a case.
        attributes: True keeps the ``rep`` event attribute and ``segment`` case attribute,
            False drops them, None draws either.
    """
    flags = st.booleans() if attributes is None else st.just(attributes)
    return st.tuples(event_records(max_cases=max_cases, max_events=max_events), flags).map(
        lambda pair: build_log(pair[0], attributes=pair[1])
    )


def _values_differ(a: Any, b: Any) -> str | None:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.tolist() != b.tolist():
        same_nan = a.dtype.kind == "f" and np.array_equal(a, b, equal_nan=True)
        if not same_nan:
            return f"values {a.tolist()[:8]} vs {b.tolist()[:8]}"
    if a.dtype.kind != b.dtype.kind:
        return f"same values but dtype {a.dtype} vs {b.dtype}"
    return None


def differences(left: Any, right: Any) -> list[str]:
    """Fields of two attrs objects (logs, results) that differ, with why; [] if none.

    For readable failures: pytest cannot show a diff of attrs classes holding arrays.
    """
    out: list[str] = []
    for field in attrs.fields(type(left)):
        if not field.eq:
            continue
        a, b = getattr(left, field.name), getattr(right, field.name)
        if isinstance(a, dict) or hasattr(a, "keys"):
            if list(a) != list(b):
                out.append(f"{field.name}: keys {list(a)} vs {list(b)}")
                continue
            for key in a:
                why = _values_differ(a[key], b[key])
                if why:
                    out.append(f"{field.name}[{key!r}]: {why}")
        elif isinstance(a, np.ndarray):
            why = _values_differ(a, b)
            if why:
                out.append(f"{field.name}: {why}")
        elif a != b:
            out.append(f"{field.name}: {a!r} vs {b!r}")
    return out


# --------------------------------------------------------------------- funnels

# Stage names with characters that need escaping in DOT, Mermaid and HTML.
STAGE_NAMES = st.text("abcdefgqwz XYZ019_-'\"#<>\\&é", min_size=1, max_size=8)


@st.composite
def funnels(
    draw: st.DrawFn,
    *,
    max_open: int = 6,
    max_lost: int = 2,
    back_edges: bool = False,
    max_aliases: int = 3,
    max_activities: int = 2,
) -> ss.Funnel:
    """Random valid funnels: forward edges between open stages (a DAG unless `back_edges`).

    Every open stage has at least one outgoing edge and every outcome an incoming one, so a
    walk from an entry stage can always go on until it reaches an outcome. Aliases (extra
    names for random stages) and declared non-stage activities (or ``None``) are drawn too.
    """
    n_open = draw(st.integers(1, max_open))
    n_lost = draw(st.integers(0, max_lost))
    n_alias = draw(st.integers(0, max_aliases))
    n_act = draw(st.integers(0, max_activities))
    size = n_open + 1 + n_lost + n_alias + n_act
    names = draw(st.lists(STAGE_NAMES, min_size=size, max_size=size, unique=True))
    opened, won = names[:n_open], names[n_open]
    lost = names[n_open + 1 : n_open + 1 + n_lost]
    alias_names = names[n_open + 1 + n_lost : n_open + 1 + n_lost + n_alias]
    activity_names = names[size - n_act :]
    outcomes = [won, *lost]
    edges: set[tuple[str, str]] = set()
    if n_open > 1:
        pair = st.integers(0, n_open - 2).flatmap(
            lambda i: st.tuples(st.just(i), st.integers(i + 1, n_open - 1))
        )
        for i, j in draw(st.sets(pair, max_size=2 * n_open)):
            edges.add((opened[i], opened[j]))
            if back_edges and draw(st.booleans()):
                edges.add((opened[j], opened[i]))
    for outcome in outcomes:
        edges.add((draw(st.sampled_from(opened)), outcome))
    for stage in opened:
        if draw(st.booleans()) or not any(a == stage for a, _ in edges):
            edges.add((stage, draw(st.sampled_from(outcomes))))
    stages = [*opened, *outcomes]
    aliases = {a: draw(st.sampled_from(stages)) for a in alias_names}
    activities = draw(st.none() | st.just(activity_names))
    return ss.Funnel(
        opened, sorted(edges), won=won, lost=lost, aliases=aliases, activities=activities
    )


@st.composite
def paths(draw: st.DrawFn, funnel: ss.Funnel, *, max_steps: int = 12) -> list[str]:
    """A walk along allowed edges from an entry stage: stage names, at most `max_steps`.

    It may stop early at an open stage (an open deal) and stops at an outcome.
    """
    stage = draw(st.sampled_from([s.name for s in funnel.entry]))
    path = [stage]
    while len(path) < max_steps:
        options = funnel.successors(stage)
        if not options or (funnel.stage(stage).kind == "open" and draw(st.booleans())):
            break
        stage = draw(st.sampled_from(options))
        path.append(stage)
    return path


# --------------------------------------------------------------------- stage logs


@st.composite
def stage_logs(
    draw: st.DrawFn, funnel: ss.Funnel, *, max_cases: int = 8, max_steps: int = 8
) -> ss.EventLog:
    """Logs of walks along `funnel`: each case follows `paths(funnel)`, one stage event a step.

    Events of a case are 1 second to 20 days apart (so row order never decides), cases start
    within 90 days of `T0`, rows are shuffled. ``segment`` is a case attribute: one of
    `SEGMENTS` or None (missing) per case.
    """
    rows: list[tuple[str, str, dt.datetime, str | None]] = []
    for case in range(draw(st.integers(1, max_cases))):
        path = draw(paths(funnel, max_steps=max_steps))
        seconds = draw(st.integers(0, 90 * 86_400))
        segment = draw(st.sampled_from((*SEGMENTS, None)))
        for stage in path:
            rows.append((f"c{case}", stage, T0 + dt.timedelta(seconds=seconds), segment))
            seconds += draw(st.integers(1, 20 * 86_400))
    return ss.EventLog.from_records(
        draw(st.permutations(rows)),
        names=("case", "activity", "time", "segment"),
        case_attributes=["segment"],
    )
