"""The code behind `salesstd.conformance`; the package docstring is the guide."""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from salesstd._base import timestamps as _time
from salesstd._base import validation as v
from salesstd._engine.episodes import (
    NS_PER_DAY,
    Episodes,
    build_episodes,
    event_stays,
    segment_starts,
    segmented_cummax,
)
from salesstd._engine.vocabulary import ABSENT_MIN_CASES, near_matches
from salesstd.conformance._results import (
    RULES,
    CaseConformance,
    CaseFitnessTable,
    ConformanceRates,
    ConformanceResult,
    RuleRate,
)
from salesstd.errors import VocabularyWarning
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.standard import Standard

if TYPE_CHECKING:
    from salesstd.standard import Rules

__all__ = [
    "RULES",
    "CaseConformance",
    "CaseFitnessTable",
    "ConformanceRates",
    "ConformanceResult",
    "RuleRate",
    "check_conformance",
]


_Part = tuple[
    int,
    NDArray[np.int32],
    NDArray[np.int32],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    Callable[[], NDArray[np.str_]],
]


class _Found:
    """Checks and violations counted per case and rule.

    With `keep`, also the violations themselves (arrays, one entry per violation; the detail
    text is built only when the table is).
    """

    def __init__(self, n_cases: int, *, keep: bool = True) -> None:
        self.n_cases = n_cases
        self.keep = keep
        # One row per rule (contiguous), read as (cases, rules) through the properties.
        self._checks = np.zeros((len(RULES), n_cases), dtype=np.int64)
        self._violations = np.zeros((len(RULES), n_cases), dtype=np.int64)
        self.parts: list[_Part] = []

    @property
    def checks(self) -> NDArray[np.int64]:
        """Checks per case (rows) and rule (columns, as `RULES`)."""
        return np.asarray(self._checks.T)

    @property
    def violations(self) -> NDArray[np.int64]:
        """Violations per case (rows) and rule (columns, as `RULES`)."""
        return np.asarray(self._violations.T)

    def add_checks(self, rule: str, case: NDArray[np.int32]) -> None:
        self._checks[RULES.index(rule)] += np.bincount(case, minlength=self.n_cases)

    def add(
        self,
        rule: str,
        case: NDArray[np.int32],
        stage: NDArray[np.int32],
        time: NDArray[np.int64],
        observed: NDArray[np.float64],
        limit: NDArray[np.float64],
        detail: Callable[[], NDArray[np.str_]],
    ) -> None:
        if not case.size:
            return
        self._violations[RULES.index(rule)] += np.bincount(case, minlength=self.n_cases)
        if self.keep:
            self.parts.append((RULES.index(rule), case, stage, time, observed, limit, detail))


def check_conformance(
    log: EventLog,
    standard: Standard,
    *,
    as_of: object = None,
    min_stay: float | dt.timedelta | None = None,
) -> ConformanceResult:
    """Check each deal of `log` against the process rules of `standard`.

    Every rule of the module docstring that the standard sets is checked (the funnel's
    allowed transitions always are), over the events at or before `as_of`. Each violation is
    one row of the result; each case gets a count of the checks made on it and of the ones
    it failed. Checks made, per case:

    - ``disallowed_transition``: one per recorded move that is not backward;
    - ``backward_move`` (``allow_backward=False``): one per recorded backward move;
    - ``skipped_stage``: one per required stage the deal reached or passed;
    - ``sla_breach``: one per stay (ended or open) in a stage with a limit;
    - ``missing_activity``: one per ended stay in a stage with requirements, per required
      activity of that stage;
    - ``first_response``: one per deal;
    - ``event_after_close``: one per deal that reached won or lost.

    A violation always fails one check, so the *fitness* of a case,
    ``1 - violations / checks``, lies in [0, 1]; a case with no checks has fitness 1. A
    case *fits* when it has no violation. Cases with no event by `as_of` are left out.

    Args:
        log: Events to check.
        standard: The `Standard` (its funnel and rules; KPI targets are not used here).
        as_of: Time the log is seen at (default: its last event); later events are ignored
            and open stays are measured up to it.
        min_stay: Stays shorter than this are data-entry corrections (seconds or a
            `datetime.timedelta`), dropped before anything is computed; see
            `salesstd.conversion`. None (default) keeps every stay.

    Returns:
        The violations, one row each, and the per-case checks and fitness.

    Raises:
        UnknownStageError: If the funnel declares its activities and the log has another.
        ParameterError: If `standard` is not a `Standard`, or `as_of` is before the log
            starts.

    Examples:
        >>> f = ss.Funnel.linear(["lead", "qualified", "proposal", "won"], lost="lost")
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "call", "2024-01-02"),
        ...      ("d1", "qualified", "2024-01-05"), ("d1", "proposal", "2024-01-09"),
        ...      ("d1", "won", "2024-01-20"),
        ...      ("d2", "lead", "2024-01-01"), ("d2", "proposal", "2024-01-03"),
        ...      ("d2", "lost", "2024-01-04"), ("d2", "call", "2024-01-06")])
        >>> std = ss.Standard(f, ss.Rules(required_stages=("qualified",),
        ...                               max_dwell_days={"proposal": 10}))
        >>> res = ss.check_conformance(log, std)
        >>> res
        ConformanceResult(cases=2, violations=4, fitting_share=0)
        >>> res.rule.tolist()
        ['sla_breach', 'disallowed_transition', 'skipped_stage', 'event_after_close']
        >>> res.detail[2]
        "jumped from 'lead' to 'proposal'"
        >>> [(r.case, r.checks, r.violations) for r in map(res.for_case, res.cases)]
        [('d1', 6, 1), ('d2', 5, 3)]
    """
    v.instance("log", log, EventLog)
    v.instance("standard", standard, Standard)
    ep, found = _check(log, standard, as_of, keep=True, min_stay=min_stay)
    return _result(log, standard, standard.funnel, standard.rules, ep, found)


def case_fits(
    log: EventLog, standard: Standard, as_of: object = None, min_stay: object = None
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Per case of `log`: was it checked (an event by `as_of`), and does it fit.

    The counts of `check_conformance` without building its table: what a compliance rate
    needs.
    """
    ep, found = _check(log, standard, as_of, keep=False, min_stay=min_stay)
    checked = np.asarray(ep.in_scope)
    return checked, checked & ~found.violations.any(axis=1)


def _check(
    log: EventLog, standard: Standard, as_of: object, *, keep: bool, min_stay: object = None
) -> tuple[Episodes, _Found]:
    funnel, rules = standard.funnel, standard.rules
    stage_of_event = funnel.stage_codes(log)[log.activity]
    ep = build_episodes(log, funnel, as_of=as_of, skips="strict", min_stay=min_stay)
    names = np.array(funnel.stage_names, dtype=str)
    found = _Found(log.n_cases, keep=keep)

    _moves(ep, funnel, names, found, allow_backward=rules.allow_backward)
    if rules.required_stages:
        required = [funnel.stage(s).position for s in rules.required_stages]
        _skips(ep, required, names, found)
    if rules.max_dwell_days:
        _sla(ep, funnel, rules.max_dwell_days, names, found)
    t = log.time.view(np.int64)
    activity_idx = np.flatnonzero((t <= ep.as_of) & (stage_of_event < 0))
    if rules.required_activities:
        _warn_unknown_activities(log, funnel, rules.required_activities)
        _activities(ep, log, funnel, rules.required_activities, found)
    if rules.first_response_days is not None:
        _first_response(ep, log, activity_idx, float(rules.first_response_days), found)
    if rules.no_events_after_close:
        _after_close(ep, log, names, log.activity_names, found)
    return ep, found


# --------------------------------------------------------------------- rules


def _warn_unknown_activities(
    log: EventLog, funnel: Funnel, needs: Mapping[str, Mapping[str, int]]
) -> None:
    """Warn for each required activity that no event of the log has, naming close ones."""
    is_stage = funnel.stage_codes(log) >= 0
    counts = np.bincount(log.activity, minlength=log.activity_names.size)
    present = [
        str(a)
        for i, a in enumerate(log.activity_names.tolist())
        if not is_stage[i] and counts[i] > 0
    ]
    known = set(present)
    for activity in sorted({a for wanted in needs.values() for a in wanted}):
        if activity in known:
            continue
        near = near_matches(activity, present, words=True)
        if not near and log.n_cases < ABSENT_MIN_CASES:
            continue  # a small log may well have no such activity yet
        hint = (
            f"; the log has {', '.join(repr(a) for a in near[:3])}. If it is the same, use "
            f"the log's name in the standard"
            if near
            else f" (its non-stage activities: {v.listing(present, limit=8) or 'none'})"
        )
        warnings.warn(
            VocabularyWarning(
                f"required activity {activity!r} never occurs in the log{hint}. Every stay "
                "of a stage that requires it will be counted as missing it.",
                name=activity,
                closest=tuple(near),
            ),
            stacklevel=3,
        )


def _moves(
    ep: Episodes, funnel: Funnel, names: NDArray[np.str_], found: _Found, *, allow_backward: bool
) -> None:
    """``disallowed_transition`` and ``backward_move``: one check per recorded move."""
    idx = np.flatnonzero(ep.moved)
    case, src, dst = ep.case[idx], ep.stage[idx], ep.next_stage[idx]
    when = ep.enter[idx + 1]
    backward = (dst < ep.n_open) & (dst < src)
    forward = ~backward
    found.add_checks("disallowed_transition", case[forward])
    bad = forward & ~funnel.adjacency[src, dst]
    nan = np.full(int(bad.sum()), np.nan)
    found.add(
        "disallowed_transition", case[bad], src[bad], when[bad], nan, nan,
        lambda: _moved_text(names, src[bad], dst[bad], "moved"),
    )  # fmt: skip
    if not allow_backward:
        found.add_checks("backward_move", case[backward])
        nan = np.full(int(backward.sum()), np.nan)
        found.add(
            "backward_move", case[backward], src[backward], when[backward], nan, nan,
            lambda: _moved_text(names, src[backward], dst[backward], "moved back"),
        )  # fmt: skip


def _moved_text(
    names: NDArray[np.str_], src: NDArray[np.int32], dst: NDArray[np.int32], verb: str
) -> NDArray[np.str_]:
    return _join(f"{verb} from '", names[src], "' to '", names[dst], "'")


def _skips(ep: Episodes, required: list[int], names: NDArray[np.str_], found: _Found) -> None:
    """``skipped_stage``: one check per required stage reached or passed.

    A case reaches or passes stage ``s`` at its first recorded stay whose forward position
    is ``s`` or beyond (a loss is not a step forward). If that stay is in ``s`` itself the
    stage was recorded; if it is further on, the case jumped over ``s`` (or was first
    recorded past it): the stage ``skips="implied"`` would add as an implied stay.
    """
    position = ep.position().astype(np.int64)
    before = np.empty(ep.size, dtype=np.int64)  # furthest position before each stay
    if ep.size:
        before[1:] = segmented_cummax(position.astype(np.int32), ep.case)[:-1]
        before[segment_starts(ep.case)] = -1
    parts = []
    for stage in sorted(set(required)):
        reaching = np.flatnonzero((before < stage) & (position >= stage))
        found.add_checks("skipped_stage", ep.case[reaching])
        parts.append((stage, reaching[position[reaching] != stage]))
    for stage, hit in parts:  # add after all checks, in stage order
        starts = segment_starts(ep.case)[hit]

        def detail(
            hit: NDArray[np.intp] = hit, starts: NDArray[np.bool_] = starts
        ) -> NDArray[np.str_]:
            src = names[ep.stage[np.maximum(hit - 1, 0)]]
            dst = names[ep.stage[hit]]
            return np.where(
                starts,
                _join("first recorded in '", dst, "'"),
                _join("jumped from '", src, "' to '", dst, "'"),
            )

        nan = np.full(hit.size, np.nan)
        found.add(
            "skipped_stage", ep.case[hit], np.full(hit.size, stage, dtype=np.int32),
            ep.enter[hit], nan, nan, detail,
        )  # fmt: skip


def _sla(
    ep: Episodes,
    funnel: Funnel,
    limits: Mapping[str, float],
    names: NDArray[np.str_],
    found: _Found,
) -> None:
    """``sla_breach``: one check per stay (ended or open) in a stage with a limit."""
    limit_days = np.full(ep.n_stages, np.nan)
    for stage, days in limits.items():
        limit_days[funnel.stage(stage).position] = float(days)
    lim = limit_days[ep.stage]
    has = np.isfinite(lim)
    found.add_checks("sla_breach", ep.case[has])
    stayed = ep.duration_days()
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(has & (stayed > lim))
    deadline = ep.enter[bad] + _ns(lim[bad])

    def detail() -> NDArray[np.str_]:
        still = ep.censored[bad]
        return _join(
            np.where(still, "in '", "stayed in '"),
            names[ep.stage[bad]],
            "' for ",
            _days(stayed[bad]),
            np.where(still, " days so far (limit ", " days (limit "),
            np.char.mod("%g", lim[bad]),
            ")",
        )

    found.add("sla_breach", ep.case[bad], ep.stage[bad], deadline, stayed[bad], lim[bad], detail)


def _activities(
    ep: Episodes,
    log: EventLog,
    funnel: Funnel,
    needs: Mapping[str, Mapping[str, int]],
    found: _Found,
) -> None:
    """``missing_activity``: per ended stay in a stage, one check per required activity."""
    # Only non-stage activities count (a stage's name never is one). One pass over the log
    # finds the events of every required activity; each is then placed in its stay.
    is_stage = funnel.stage_codes(log) >= 0
    codes = {str(a): i for i, a in enumerate(log.activity_names.tolist()) if not is_stage[i]}
    wanted = sorted({a for counts in needs.values() for a in counts if a in codes})
    slot_of = np.full(log.activity_names.size, -1, dtype=np.int16)
    for k, activity in enumerate(wanted):
        slot_of[codes[activity]] = k
    slot = slot_of[log.activity]
    events = np.flatnonzero(slot >= 0)
    events = events[log.time.view(np.int64)[events] <= ep.as_of]
    home = event_stays(log, ep, events)
    slot = slot[events]
    for stage, counts in needs.items():
        position = funnel.stage(stage).position
        stays = np.flatnonzero(ep.moved & (ep.stage == position))
        for activity, minimum in counts.items():
            found.add_checks("missing_activity", ep.case[stays])
            mine = (
                home[(slot == wanted.index(activity)) & (home >= 0)]
                if activity in codes
                else home[:0]
            )
            logged = np.bincount(mine, minlength=ep.size)[stays]
            bad = logged < int(minimum)
            where = stays[bad]
            short = logged[bad]
            text = f" x '{activity}' in '{stage}' (needs {int(minimum)})"
            found.add(
                "missing_activity", ep.case[where], ep.stage[where], ep.exit[where],
                short.astype(np.float64), np.full(where.size, float(minimum)),
                functools.partial(_count_text, short, text),
            )  # fmt: skip


def _count_text(counts: NDArray[np.int64], text: str) -> NDArray[np.str_]:
    return _join(counts.astype(str), text)


def _first_response(
    ep: Episodes, log: EventLog, activity_idx: NDArray[np.intp], days: float, found: _Found
) -> None:
    """``first_response``: one check per case."""
    scope = np.flatnonzero(ep.in_scope).astype(np.int32)
    found.add_checks("first_response", scope)
    t = log.time.view(np.int64)
    first_activity = np.full(ep.n_cases, _time.NAT, dtype=np.int64)
    firsts = activity_idx[segment_starts(log.case[activity_idx])]
    first_activity[log.case[firsts]] = t[firsts]
    start = ep.first_time[scope]
    answered = first_activity[scope] != _time.NAT
    waited = np.where(answered, first_activity[scope], ep.as_of) - start
    limit_ns = days * NS_PER_DAY
    bad = waited > limit_ns
    case = scope[bad]
    deadline = start[bad] + _ns(np.full(case.size, days))
    home = locate(ep, case, deadline)
    stage = np.where(home >= 0, ep.stage[np.maximum(home, 0)], -1).astype(np.int32)
    observed = np.where(answered[bad], waited[bad] / NS_PER_DAY, np.nan)

    def detail() -> NDArray[np.str_]:
        return np.where(
            answered[bad],
            _join("first activity after ", _days(observed), f" days (limit {days:g})"),
            _join(f"no activity in the first {days:g} days"),
        )

    found.add("first_response", case, stage, deadline, observed, np.full(case.size, days), detail)


def _after_close(
    ep: Episodes,
    log: EventLog,
    names: NDArray[np.str_],
    activity_names: NDArray[np.object_],
    found: _Found,
) -> None:
    """``event_after_close``: one check per case that reached won or lost.

    The strict episodes end at each case's first outcome, so that outcome's event is known;
    the case's events after it (and at or before `as_of`) are the rest of its run in the
    log, which is sorted by (case, time).
    """
    t = log.time.view(np.int64)
    if ep.as_of >= int(t.max()):
        seen_end = log.offsets[1:]
    else:
        seen = np.bincount(log.case[t <= ep.as_of], minlength=log.n_cases)
        seen_end = log.offsets[:-1] + seen
    closes = np.flatnonzero(ep.is_outcome)
    closed_case = ep.case[closes]
    close_event = ep.event[closes]
    found.add_checks("event_after_close", closed_case)
    count = seen_end[closed_case] - close_event - 1
    bad = count > 0
    if not bad.any():
        return
    case, count = closed_case[bad], count[bad]
    first_after = close_event[bad] + 1
    outcome = ep.stage[closes][bad]

    def detail() -> NDArray[np.str_]:
        return _join(
            count.astype(str),
            np.where(count == 1, " event after '", " events after '"),
            names[outcome],
            "' (first: '",
            activity_names[log.activity[first_after]].astype(str),
            "')",
        )

    found.add(
        "event_after_close", case, outcome.astype(np.int32), t[first_after],
        count.astype(np.float64), np.full(case.size, np.nan), detail,
    )  # fmt: skip


# --------------------------------------------------------------------- helpers


def locate(ep: Episodes, case: NDArray[np.int32], time: NDArray[np.int64]) -> NDArray[np.intp]:
    """Index of the stay each (case, time) falls in; -1 before the case's first stage.

    The stay is the case's latest one entered at or before `time`. The episodes are sorted by
    (case, enter), so one `searchsorted` on the composite key ``case * span + time`` finds
    them all when that key fits in int64; otherwise (many cases over a long span) the cases'
    ranges of episodes are found by `searchsorted` on the case codes and bisected on time for
    all queries at once, one step per bit of the longest range.
    """
    if not ep.size or not case.size:
        return np.full(case.size, -1, dtype=np.intp)
    lo_t = min(int(ep.enter.min()), int(time.min()))
    span = max(int(ep.enter.max()), int(time.max())) - lo_t + 1
    first = np.searchsorted(ep.case, case, side="left")
    if ep.n_cases * span < 2**62:
        keys = ep.case.astype(np.int64) * span + (ep.enter - lo_t)
        wanted = case.astype(np.int64) * span + (time - lo_t)
        home = np.searchsorted(keys, wanted, side="right") - 1
    else:
        lo = first.copy()
        hi = np.searchsorted(ep.case, case, side="right")
        last = ep.size - 1
        for _ in range(int((hi - lo).max()).bit_length()):
            mid = (lo + hi) // 2
            right = (lo < hi) & (ep.enter[np.minimum(mid, last)] <= time)
            left = (lo < hi) & ~right
            lo = np.where(right, mid + 1, lo)
            hi = np.where(left, mid, hi)
        home = lo - 1
    return np.where(home >= first, home, -1)


def _ns(days: NDArray[np.float64]) -> NDArray[np.int64]:
    """Days as whole nanoseconds, rounded up; capped at 2**62 (146 years: never reached)."""
    return np.minimum(np.ceil(days * NS_PER_DAY), 2.0**62).astype(np.int64)


def _days(values: NDArray[np.float64]) -> NDArray[np.str_]:
    """Day counts as short text: at most one decimal."""
    return np.char.mod("%.1f", values)


def _join(*parts: object) -> NDArray[np.str_]:
    """Element-wise concatenation of strings and string arrays (numpy, no Python loop)."""
    out: NDArray[np.str_] = np.asarray(parts[0], dtype=str)
    for part in parts[1:]:
        out = np.char.add(out, np.asarray(part, dtype=str))
    return out


def _result(
    log: EventLog,
    standard: Standard,
    funnel: Funnel,
    rules: Rules,
    ep: Episodes,
    found: _Found,
) -> ConformanceResult:
    scope = np.flatnonzero(ep.in_scope)
    if found.parts:
        rule, case, stage, time, observed, limit, detail = (
            np.concatenate([np.broadcast_to(p[0], p[1].shape) for p in found.parts]),
            *(np.concatenate([p[k] for p in found.parts]) for k in range(1, 6)),
            np.concatenate([p[6]() for p in found.parts]),
        )
    else:
        rule = np.empty(0, dtype=np.int64)
        case = stage = np.empty(0, dtype=np.int32)
        time = np.empty(0, dtype=np.int64)
        observed = limit = np.empty(0, dtype=np.float64)
        detail = np.empty(0, dtype=str)
    order = np.lexsort((rule, time, case))
    rule, case, stage, time = rule[order], case[order], stage[order], time[order]
    violations = found.violations
    stage_names = np.array([*funnel.stage_names, None], dtype=object)
    active = [
        "disallowed_transition",
        *(["skipped_stage"] if rules.required_stages else []),
        *(["backward_move"] if not rules.allow_backward else []),
        *(["sla_breach"] if rules.max_dwell_days else []),
        *(["missing_activity"] if rules.required_activities else []),
        *(["first_response"] if rules.first_response_days is not None else []),
        *(["event_after_close"] if rules.no_events_after_close else []),
    ]
    return ConformanceResult(
        case=log.case_names[case],
        rule=np.array(RULES, dtype=object)[rule],
        stage=stage_names[stage],
        time=time.view("datetime64[ns]"),
        observed=observed[order],
        limit=limit[order],
        detail=np.asarray(detail[order], dtype=object),
        cases=log.case_names[scope],
        rule_checks=found.checks[scope],
        rule_violations=violations[scope],
        rules=tuple(r for r in RULES if r in active),
        standard=standard.name,
        as_of=np.datetime64(ep.as_of, "ns"),
        log=log,
        case_codes=scope.astype(np.int32),
    )
