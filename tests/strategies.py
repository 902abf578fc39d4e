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


# --------------------------------------------------------------------- standards

KPI_METRICS = (
    "stage_conversion",
    "win_rate",
    "cycle_time",
    "dwell",
    "activities_per_deal",
    "compliance_rate",
    "deals_handled",
    "won_value",
    "velocity",
)
# Letters outside `STAGE_NAMES`' alphabet, so these never clash with a stage or an alias.
ACTIVITY_NAMES = ("Call", "Email", "Meeting")
_AMOUNTS = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)
# Dwell limits in days: a standard takes up to 100 years (`_validate.MAX_DAYS`).
_DAYS = st.floats(min_value=0.001, max_value=36_525, allow_nan=False, allow_infinity=False)


@st.composite
def standards(draw: st.DrawFn, funnel: ss.Funnel, *, max_kpis: int = 6) -> ss.Standard:
    """Random valid standards over `funnel`: rules on random open stages, random KPIs."""
    opened = [s.name for s in funnel.open_stages]
    activities = list(funnel.activities) if funnel.activities is not None else ACTIVITY_NAMES
    some_stages = st.lists(st.sampled_from(opened), unique=True)
    sla = draw(st.dictionaries(st.sampled_from(opened), _DAYS))
    counts = (
        st.dictionaries(st.sampled_from(activities), st.integers(1, 9), min_size=1)
        if activities
        else st.just({})
    )
    required = draw(st.dictionaries(st.sampled_from(opened), counts)) if activities else {}
    rules = ss.Rules(
        required_stages=tuple(draw(some_stages)),
        allow_backward=draw(st.booleans()),
        max_dwell_days=sla,
        first_response_days=draw(st.none() | _DAYS),
        required_activities={k: x for k, x in required.items() if x},
        no_events_after_close=draw(st.booleans()),
    )
    kpis = []
    for i in range(draw(st.integers(0, max_kpis))):
        metric = draw(st.sampled_from(KPI_METRICS))
        if metric == "activities_per_deal" and not activities:
            metric = "deals_handled"
        rate = metric in ("stage_conversion", "win_rate", "compliance_rate")
        target = draw(st.floats(0, 1) if rate else st.floats(0, 1e6))
        stage = draw(st.sampled_from(opened)) if metric in ("stage_conversion", "dwell") else None
        activity = None
        if metric == "activities_per_deal":
            stage = draw(st.sampled_from(opened))
            activity = draw(st.sampled_from(activities))
        kpis.append(
            ss.KPI(
                name=f"kpi {i} {draw(st.text('abc é', max_size=3))}",
                metric=metric,  # type: ignore[arg-type]
                target=target,
                direction=draw(st.sampled_from(("higher", "lower"))),
                tolerance=draw(st.floats(0, 10)),
                weight=draw(st.floats(0, 10)),
                stage=stage,
                activity=activity,
            )
        )
    name = draw(st.text("FYQ0123 -é", min_size=1, max_size=8).filter(str.strip))
    return ss.Standard(funnel, rules, tuple(kpis), name=name)


# --------------------------------------------------------------------- conforming logs

#: The non-stage activity of `conforming_cases` (letters outside `STAGE_NAMES`' alphabet).
CALL = "call"
SLA_DAYS = 25.0
RESPONSE_DAYS = 1.0
_HOUR = 3600
_DAY = 86_400
INJECTIONS = (
    "disallowed_transition",
    "skipped_stage",
    "backward_move",
    "sla_breach",
    "missing_activity",
    "first_response",
    "event_after_close",
)


@attrs.define
class Stay:
    """One stay of a generated case: its stage, entry second and `CALL` second (or None)."""

    stage: str
    at: int
    call: int | None


def unskippable(funnel: ss.Funnel) -> tuple[str, ...]:
    """Open stages every walk along `funnel` that gets past them must record.

    No edge jumps over them (lost outcomes go nowhere forward) and no entry stage lies after
    them.
    """
    pos = {s.name: (s.position if s.kind != "lost" else -1) for s in funnel.stages}
    entries = [pos[s.name] for s in funnel.entry]
    return tuple(
        s.name
        for s in funnel.open_stages
        if all(not (pos[a] < s.position < pos[b]) for a, b in funnel.edges)
        and all(e <= s.position for e in entries)
    )


def conforming_standard(funnel: ss.Funnel) -> ss.Standard:
    """Every rule on: the logs of `conforming_cases` meet it (`CALL` is a declared activity)."""
    funnel = funnel.with_activities(None)
    opened = [s.name for s in funnel.open_stages]
    rules = ss.Rules(
        required_stages=unskippable(funnel),
        allow_backward=False,
        max_dwell_days=dict.fromkeys(opened, SLA_DAYS),
        first_response_days=RESPONSE_DAYS,
        required_activities={s: {CALL: 1} for s in opened},
        no_events_after_close=True,
    )
    return ss.Standard(funnel, rules, name="conforming")


@st.composite
def conforming_cases(
    draw: st.DrawFn, funnel: ss.Funnel, *, min_cases: int = 1, max_cases: int = 6
) -> list[list[Stay]]:
    """Cases that meet `conforming_standard(funnel)`: walks from `paths(funnel)`.

    Stage events of a case are 6 hours to 20 days apart (shorter than the SLA); every stay
    in an open stage has one `CALL` an hour after its entry (so the first response comes
    after an hour and every stay that ends has its call); nothing follows an outcome. Open
    deals are shifted to end within 10 days of the last stage event of the log, so their
    open stays stay within the SLA at the log's end.
    """
    cases: list[list[Stay]] = []
    for _ in range(draw(st.integers(min_cases, max_cases))):
        at = draw(st.integers(0, 60 * _DAY))
        stays = []
        for stage in draw(paths(funnel, max_steps=8)):
            is_open = funnel.stage(stage).kind == "open"
            stays.append(Stay(stage, at, at + _HOUR if is_open else None))
            at += draw(st.integers(6 * _HOUR, 20 * _DAY))
        cases.append(stays)
    end = max(s.at for stays in cases for s in stays)
    for stays in cases:
        if funnel.stage(stays[-1].stage).kind == "open":
            shift = max(0, end - 10 * _DAY - stays[-1].at)
            for s in stays:
                s.at += shift
                s.call = None if s.call is None else s.call + shift
    return cases


def case_rows(cases: list[list[Stay]]) -> list[tuple[str, str, dt.datetime]]:
    """The rows ``(case, activity, time)`` of generated cases (case ids ``c0``, ``c1``, ...)."""
    rows = []
    for i, stays in enumerate(cases):
        for s in stays:
            rows.append((f"c{i}", s.stage, T0 + dt.timedelta(seconds=s.at)))
            if s.call is not None:
                rows.append((f"c{i}", CALL, T0 + dt.timedelta(seconds=s.call)))
    return rows


def _forward_outcomes(funnel: ss.Funnel, stage: str, required: tuple[str, ...]) -> list[str]:
    """Outcomes a move from `stage` may not take that skip no required stage."""
    here = funnel.stage(stage).position
    later_required = any(funnel.stage(r).position > here for r in required)
    return [
        o.name
        for o in (funnel.won, *funnel.lost)
        if not funnel.allows(stage, o.name) and (o.kind == "lost" or not later_required)
    ]


@st.composite
def injected(
    draw: st.DrawFn, funnel: ss.Funnel, kind: str, cases: list[list[Stay]]
) -> tuple[list[list[Stay]], list[tuple[str, str, dt.datetime]], str] | None:
    """One violation of rule `kind` planted in `cases` (changed in place).

    Returns the cases, extra rows and the case id changed, or None when the cases offer no
    place for this kind (the caller rejects the example).
    """
    required = unskippable(funnel)
    is_open = {s.name: s.kind == "open" for s in funnel.stages}
    extra: list[tuple[str, str, dt.datetime]] = []
    spots: list[tuple[int, int]] = []
    if kind == "disallowed_transition":
        # End the case at stay i with an outcome its stage may not move to.
        spots = [
            (c, i)
            for c, stays in enumerate(cases)
            for i, s in enumerate(stays)
            if is_open[s.stage] and _forward_outcomes(funnel, s.stage, required)
        ]
    elif kind == "skipped_stage":
        # Drop the first stay of a case that starts in a required stage and moves forward.
        spots = [
            (c, 0)
            for c, stays in enumerate(cases)
            if len(stays) > 1 and stays[0].stage in required and is_open[stays[1].stage]
        ]
    elif kind == "backward_move":
        # ..., s, d, [s, d], ...: a move back from d to s and on to d again.
        spots = [
            (c, i)
            for c, stays in enumerate(cases)
            for i in range(len(stays) - 1)
            if is_open[stays[i].stage] and is_open[stays[i + 1].stage]
        ]
    elif kind == "sla_breach":
        # Move stays 0..i 30 days earlier: stay i (which ended) lasts 30 days longer.
        spots = [
            (c, i)
            for c, stays in enumerate(cases)
            for i in range(len(stays) - 1)
            if is_open[stays[i].stage]
        ]
    elif kind == "missing_activity":
        # Remove the call of a stay that ended (not the first: that call is the response).
        spots = [
            (c, i)
            for c, stays in enumerate(cases)
            for i in range(1, len(stays) - 1)
            if is_open[stays[i].stage]
        ]
    elif kind == "first_response":
        # Move the first stage event 2 days earlier; its call stays put.
        spots = [(c, 0) for c in range(len(cases))]
    elif kind == "event_after_close":
        # A call an hour after the outcome.
        spots = [
            (c, len(stays) - 1) for c, stays in enumerate(cases) if not is_open[stays[-1].stage]
        ]
    if not spots:
        return None
    c, i = draw(st.sampled_from(spots))
    stays = cases[c]
    if kind == "disallowed_transition":
        outcome = draw(st.sampled_from(_forward_outcomes(funnel, stays[i].stage, required)))
        end = stays[i + 1].at if i + 1 < len(stays) else stays[i].at + 6 * _HOUR
        del stays[i + 1 :]
        stays.append(Stay(outcome, end, None))
    elif kind == "skipped_stage":
        del stays[0]
    elif kind == "backward_move":
        t = stays[i + 1].at
        stays[i + 2 : i + 2] = [
            Stay(stays[i].stage, t + 2 * _HOUR, t + 3 * _HOUR),
            Stay(stays[i + 1].stage, t + 4 * _HOUR, t + 5 * _HOUR),
        ]
    elif kind == "sla_breach":
        for s in stays[: i + 1]:
            s.at -= 30 * _DAY
            s.call = None if s.call is None else s.call - 30 * _DAY
    elif kind == "missing_activity":
        stays[i].call = None
    elif kind == "first_response":
        stays[0].at -= 2 * _DAY
    else:
        extra.append((f"c{c}", CALL, T0 + dt.timedelta(seconds=stays[i].at + _HOUR)))
    return cases, extra, f"c{c}"
