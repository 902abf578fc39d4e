"""Data quality of a log seen through a funnel: what a CRM export gets wrong, counted.

Real exports are messy in ways that change every funnel figure without any error: deals
created directly in a later stage (late entries), stays of a few seconds while a rep clicks
through stages, deals that move backwards, the same stage recorded again and again, events
after a deal was closed, activities that match no stage, and stage names that do not match
the log's. `data_quality` counts each of them so that a report can say what it saw before
it shows a single rate.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import text as _text
from salesstd._base import timestamps as _time
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd._base.timestamps import to_datetime
from salesstd._engine.episodes import (
    build_episodes,
    resolve_min_stay,
    segment_starts,
)
from salesstd._engine.vocabulary import vocabulary_findings
from salesstd.errors import VocabularyWarning
from salesstd.funnel import Funnel
from salesstd.log import EventLog

__all__ = ["DataQualityResult", "data_quality"]

_SHOWN = 5  # non-stage activities named in the sentence

CHECKS: tuple[str, ...] = (
    "late_entries",
    "created_closed",
    "short_stays",
    "backward_moves",
    "repeated_stage_events",
    "duplicate_events",
    "events_after_close",
    "cases_without_stage",
    "non_stage_activities",
    "vocabulary",
)


@attrs.frozen(repr=False)
class DataQualityResult(ResultMixin):
    """What `data_quality` found, one row per check; see `data_quality`.

    Attributes:
        check: Name of each check (see `data_quality`).
        events: Events (or, for stays and moves, stays) the check counted.
        cases: Cases with at least one of them.
        share: ``cases / n_cases``.
        detail: The finding in words ("" when there is nothing to say).
        n_cases: Cases in the log.
        n_events: Events in the log.
        min_stay_seconds: The threshold below which a stay counts as short.
        entered_at: Cases by the stage at which they entered the funnel (their first
            recorded stage, outcomes included), in funnel order.
        non_stage: Events per activity that is not a stage (calls, e-mails, ... and any
            misspelled stage), most frequent first.
        vocabulary: The name mismatches between funnel and log, in words.
        as_of: The censoring time (UTC).
    """

    check: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    events: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    cases: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    share: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    detail: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    n_cases: int
    n_events: int
    min_stay_seconds: float
    entered_at: Mapping[str, int] = attrs.field(hash=False)
    non_stage: Mapping[str, int] = attrs.field(hash=False)
    vocabulary: tuple[str, ...]
    as_of: dt.datetime

    __hash__ = None  # type: ignore[assignment]

    def count(self, check: str) -> int:
        """Cases the check found (events for `duplicate_events` and `non_stage_activities`).

        Raises:
            ParameterError: If `check` is not one of the checks ("Did you mean ...?").
        """
        i = self._index(check)
        if check in ("duplicate_events", "non_stage_activities", "vocabulary"):
            return int(self.events[i])
        return int(self.cases[i])

    def _index(self, check: str) -> int:
        names = self.check.tolist()
        return int(names.index(v.choice("check", check, names)))

    @property
    def findings(self) -> tuple[str, ...]:
        """The details of the checks that found something, in check order."""
        return tuple(str(d) for d, n in zip(self.detail, self.events, strict=True) if n > 0)

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "check": self.check,
            "events": self.events,
            "cases": self.cases,
            "share": self.share,
            "detail": self.detail,
        }

    def _params(self) -> Mapping[str, object]:
        return {"min_stay_seconds": self.min_stay_seconds, "as_of": self.as_of}

    def _summary(self) -> Mapping[str, object]:
        return {
            "cases": self.n_cases,
            "events": self.n_events,
            "findings": len(self.findings),
        }


def data_quality(
    log: EventLog,
    funnel: Funnel,
    *,
    min_stay: float | dt.timedelta = 60.0,
    as_of: object = None,
) -> DataQualityResult:
    """Count what a CRM export commonly gets wrong, seen through `funnel`.

    The checks, one row each (stays are the recorded ones: consecutive events of one stage
    are one stay; each case is followed up to its first outcome):

    * ``late_entries``: cases whose first recorded stage is an open stage after the first
      one. They enter the funnel there and are not counted in the stages before it.
    * ``created_closed``: cases whose first recorded stage is already an outcome.
    * ``short_stays``: stays in an open stage that ended, by a move to another stage, less
      than `min_stay` after they began: usually a rep clicking through stages. Pass the
      same `min_stay` to the metrics to read them as corrections.
    * ``backward_moves``: stays followed by an earlier open stage.
    * ``repeated_stage_events``: stage events of the stage the case was already in (merged
      into one stay).
    * ``duplicate_events``: events with the same case, activity and time as another.
    * ``events_after_close``: events of a case after its first outcome (they count for no
      stage).
    * ``cases_without_stage``: cases with events but none in a stage of the funnel.
    * ``non_stage_activities``: events of activities that are not stages (calls, meetings;
      also a stage spelt differently).
    * ``vocabulary``: stages or outcomes that never occur, and activities that nearly
      match a stage name (see `VocabularyWarning`).

    Args:
        log: Events to check.
        funnel: The process: its stages and outcomes.
        min_stay: Stays shorter than this count as short: seconds or a
            `datetime.timedelta`; default one minute.
        as_of: Events after this time are left out of every check (a stage first
            recorded later never occurs, an activity only seen later is not counted);
            default the log's last event.

    Returns:
        One row per check with the events and cases it found and a sentence.

    Raises:
        FunnelError: If none of the log's activities is a stage or outcome of the funnel.
        ParameterError: If `min_stay` or `as_of` is not valid.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "qualified", "2024-01-01 00:00:05"),
        ...      ("d1", "won", "2024-01-09"),
        ...      ("d2", "qualified", "2024-01-02"), ("d2", "lost", "2024-01-05"),
        ...      ("d2", "call", "2024-01-06")])
        >>> f = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> dq = ss.data_quality(log, f)
        >>> dq
        DataQualityResult(cases=2, events=6, findings=4)
        >>> dq.count("late_entries"), dq.count("short_stays"), dq.count("events_after_close")
        (1, 1, 1)
        >>> dict(dq.entered_at)
        {'lead': 1, 'qualified': 1, 'won': 0, 'lost': 0}
        >>> print(dq.findings[0])
        1 of 2 cases (50%) entered the funnel after its first stage: 1 at 'qualified'. \
They count from there on, not in the stages before.
        >>> print(dq.findings[1])
        1 stay in 1 of 2 cases (50%) lasted less than 60 seconds (clicking through stages?); \
pass min_stay=60 to read them as corrections.
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    min_ns = resolve_min_stay(min_stay)
    codes = funnel.stage_codes(log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VocabularyWarning)
        ep = build_episodes(log, funnel, as_of=as_of, skips="strict")
    n_cases, n_open = log.n_cases, funnel.n_open
    t = log.time.view(np.int64)
    in_time = t <= ep.as_of  # every check below counts these events only
    vocab = vocabulary_findings(log, funnel, codes, all_absent=True, events=in_time)
    stage_names = [s.name for s in funnel.stages]
    rows: list[tuple[str, int, int, str]] = []

    def pct(k: int) -> str:
        return f"{k:,} of {_text.plural(n_cases, 'case')} ({_text.percent(k / n_cases)})"

    # Where cases entered the funnel.
    firsts = np.flatnonzero(segment_starts(ep.case))
    first_stage = ep.stage[firsts]
    at = np.bincount(first_stage, minlength=funnel.n_stages)
    entered_at = {name: int(at[i]) for i, name in enumerate(stage_names)}
    late = int(at[1:n_open].sum())
    where = ", ".join(f"{int(at[i]):,} at {stage_names[i]!r}" for i in range(1, n_open) if at[i])
    rows.append(
        (
            "late_entries",
            late,
            late,
            f"{pct(late)} entered the funnel after its first stage: {where}. They count from "
            "there on, not in the stages before."
            if late
            else "",
        )
    )
    closed = int(at[n_open:].sum())
    rows.append(
        (
            "created_closed",
            closed,
            closed,
            f"{pct(closed)} {_be(closed)} first recorded at an outcome (won or lost) and "
            "entered no open stage."
            if closed
            else "",
        )
    )

    # Short stays and backward moves, from the recorded stays.
    open_stay = ep.stage < n_open
    length = ep.exit - ep.enter
    short = open_stay & ep.moved & (length < min_ns)
    short_cases = _n_unique(ep.case[short])
    n_short = int(short.sum())
    seconds = min_ns / 1e9
    rows.append(
        (
            "short_stays",
            n_short,
            short_cases,
            f"{_text.plural(n_short, 'stay')} in {pct(short_cases)} lasted less than "
            f"{_text.plural(seconds, 'second')} "
            f"(clicking through stages?); pass min_stay={seconds:g} to read them as "
            "corrections."
            if n_short
            else "",
        )
    )
    back = open_stay & (ep.next_stage >= 0) & (ep.next_stage < ep.stage)
    n_back = int(back.sum())
    back_cases = _n_unique(ep.case[back])
    rows.append(
        (
            "backward_moves",
            n_back,
            back_cases,
            f"{_text.plural(n_back, 'move')} back to an earlier stage in {pct(back_cases)}."
            if n_back
            else "",
        )
    )

    # Repeated stage events: stage events before each case's close that started no stay.
    stage_of_event = codes[log.activity]
    close = ep.case_close_time()
    close_of_event = close[log.case]
    closed_case = close_of_event != _time.NAT
    before_close = ~closed_case | (t <= close_of_event)
    is_stage = in_time & (stage_of_event >= 0) & before_close
    started = np.zeros(log.n_events, dtype=bool)
    started[ep.event] = True
    repeat = is_stage & ~started & (stage_of_event < n_open)
    n_repeat = int(repeat.sum())
    repeat_cases = _n_unique(log.case[repeat])
    rows.append(
        (
            "repeated_stage_events",
            n_repeat,
            repeat_cases,
            f"{_text.plural(n_repeat, 'stage event')} {_s(n_repeat, 'repeat')} the stage the "
            "case was already in "
            f"({pct(repeat_cases)}); each run counts as one stay."
            if n_repeat
            else "",
        )
    )
    dup = _duplicates(log) & in_time
    n_dup = int(dup.sum())
    dup_cases = _n_unique(log.case[dup])
    rows.append(
        (
            "duplicate_events",
            n_dup,
            dup_cases,
            f"{_text.plural(n_dup, 'event')} {_s(n_dup, 'repeat')} another event's case, "
            "activity and time exactly "
            f"({pct(dup_cases)})."
            if n_dup
            else "",
        )
    )
    after = in_time & closed_case & (t > close_of_event)
    n_after = int(after.sum())
    after_cases = _n_unique(log.case[after])
    rows.append(
        (
            "events_after_close",
            n_after,
            after_cases,
            f"{_text.plural(n_after, 'event')} {_s(n_after, 'come')} after the deal was won "
            f"or lost ({pct(after_cases)}); "
            "events after the close count for no stage."
            if n_after
            else "",
        )
    )
    has_stage = np.zeros(n_cases, dtype=bool)
    has_stage[log.case[in_time & (stage_of_event >= 0)]] = True
    has_event = np.zeros(n_cases, dtype=bool)
    has_event[log.case[in_time]] = True
    bare = int(np.count_nonzero(has_event & ~has_stage))
    rows.append(
        (
            "cases_without_stage",
            bare,
            bare,
            f"{pct(bare)} {_s(bare, 'ha', 's', 've')} no event in any stage of the funnel and "
            f"{_be(bare, 'is', 'are')} left out."
            if bare
            else "",
        )
    )

    names = [str(a) for a in log.activity_names.tolist()]
    counts = np.bincount(log.activity[in_time], minlength=len(names))
    other = np.flatnonzero((codes < 0) & (counts > 0))
    other = other[np.argsort(-counts[other], kind="stable")]
    non_stage = {names[i]: int(counts[i]) for i in other.tolist()}
    n_other = int(counts[other].sum())
    other_cases = _n_unique(log.case[in_time & (stage_of_event < 0)])
    top = ", ".join(f"{k!r} ({n:,})" for k, n in list(non_stage.items())[:_SHOWN])
    more = f" and {len(non_stage) - _SHOWN} more" if len(non_stage) > _SHOWN else ""
    rows.append(
        (
            "non_stage_activities",
            n_other,
            other_cases,
            f"{_text.plural(n_other, 'event')} of "
            f"{_text.plural(len(non_stage), 'activity', 'activities')} that "
            f"{_be(len(non_stage), 'is not a stage', 'are not stages')}: {top}{more}. They are "
            "read as activities within the stage a case is in."
            if n_other
            else "",
        )
    )
    messages = tuple(f.message for f in vocab)
    rows.append(("vocabulary", len(vocab), 0, " ".join(messages)))

    check = objects([r[0] for r in rows])
    events = np.array([r[1] for r in rows], dtype=np.int64)
    cases = np.array([r[2] for r in rows], dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = cases / n_cases if n_cases else np.zeros(len(rows))
    return DataQualityResult(
        check=check,
        events=events,
        cases=cases,
        share=share,
        detail=objects([r[3] for r in rows]),
        n_cases=n_cases,
        n_events=log.n_events,
        min_stay_seconds=seconds,
        entered_at=entered_at,
        non_stage=non_stage,
        vocabulary=messages,
        as_of=to_datetime(ep.as_of),
    )


def _s(n: int, stem: str, one: str = "s", many: str = "") -> str:
    """The present tense agreeing with `n`: ``_s(1, "repeat")`` is "repeats"."""
    return stem + (one if n == 1 else many)


def _be(n: int, one: str = "was", many: str = "were") -> str:
    return one if n == 1 else many


def _n_unique(case: NDArray[np.int32]) -> int:
    if not case.size:
        return 0
    seen = np.zeros(int(case.max()) + 1, dtype=bool)
    seen[case] = True
    return int(seen.sum())


def _duplicates(log: EventLog) -> NDArray[np.bool_]:
    """True for each event whose (case, activity, time) an earlier event already has."""
    n = log.n_events
    out = np.zeros(n, dtype=bool)
    if n <= 1:
        return out
    t = log.time.view(np.int64)
    # The log is sorted by (case, time): equal triples sit in one run of equal (case, time).
    same = (log.case[1:] == log.case[:-1]) & (t[1:] == t[:-1])
    if not same.any():
        return out
    order = np.lexsort((np.arange(n), log.activity, t, log.case))
    c, a, tt = log.case[order], log.activity[order], t[order]
    rep = np.zeros(n, dtype=bool)
    rep[1:] = (c[1:] == c[:-1]) & (a[1:] == a[:-1]) & (tt[1:] == tt[:-1])
    out[order] = rep
    return out
