"""Stage episodes: the log seen through a funnel, one row per stay of a case in a stage.

Every funnel metric starts here. The stage events of the log (activities that map to a stage;
calls, meetings and other non-stage activities are left out) are cut at `as_of`, truncated
after each case's first outcome (won or lost is absorbing), and consecutive events of the
same stage are merged into one episode. An episode ends when the next one starts; the last
episode of a case that has not reached an outcome is censored at `as_of`.

A case *enters the funnel at its first recorded stage*: a deal created directly in a later
stage (common in CRM exports) did not pass the stages before it and is not counted there.
With ``skips="implied"`` a forward jump between two recorded stages (lead -> proposal) adds
zero-length *implied* episodes for the stages jumped over that the case had not yet reached,
as CRM pipeline reports count them; implied stays fill only such gaps, never the stages
before a case's first record. ``skips="strict"`` keeps only recorded stages.

With ``min_stay`` a recorded stay in an open stage that ended (by a move to another stage)
less than `min_stay` after it began is taken as a data-entry correction (a rep clicking
through stages) and dropped before anything else: the case is read as having gone straight
from the stay before it to the stay after it (with implied skips, the clicked-through stage
becomes an implied pass), and a case whose first stays were clicked through enters the
funnel where it first stayed. The number dropped is kept as `Episodes.corrections`.

Everything is vectorised over the sorted arrays of the log: no loop per case or per event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import threading
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import timestamps as _time
from salesstd._base import validation as v
from salesstd._engine.vocabulary import Finding, vocabulary_findings, warn_vocabulary
from salesstd.errors import ParameterError

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator

    from salesstd.funnel import Funnel
    from salesstd.log import EventLog

Skips = Literal["implied", "strict"]
_V = TypeVar("_V")

NS_PER_DAY = 86_400 * _time.NS_PER_S


@attrs.frozen(eq=False)
class Episodes:
    """Stays of cases in stages, sorted by (case, enter time); see the module docstring.

    Attributes:
        case: Case code (the log's) of each episode.
        stage: Funnel stage code: below ``n_open`` open stages, ``n_open`` won, above lost.
        enter: Entry time, int64 ns UTC.
        exit: When the episode ended: the next episode's entry; `as_of` for a censored last
            episode; the entry time itself for an outcome episode.
        moved: True if the case moved on from this episode (a next episode exists).
        next_stage: Stage code of the next episode, -1 if none.
        implied: True for a zero-length episode added by ``skips="implied"``.
        entry: 0 for the first entry of the case into this stage, 1 for the second, ...
        n_open: Number of open stages of the funnel.
        n_stages: Number of stages including outcomes.
        n_cases: Number of cases in the log (codes run 0..n_cases-1).
        in_scope: Per case: it has an event at or before `as_of`.
        first_time: Per case: time of its first event of any activity (ns), NaT if none.
        as_of: The censoring time, ns UTC.
        event: Index in the log of the event that started each recorded episode (-1 for an
            implied one).
        min_stay: The `min_stay` threshold in ns (0: none).
        corrections: Recorded stays dropped as corrections (shorter than `min_stay`).
        vocabulary: The name mismatches between funnel and log (`VocabularyWarning`s).
    """

    case: NDArray[np.int32]
    stage: NDArray[np.int32]
    enter: NDArray[np.int64]
    exit: NDArray[np.int64]
    moved: NDArray[np.bool_]
    next_stage: NDArray[np.int32]
    implied: NDArray[np.bool_]
    entry: NDArray[np.int32]
    n_open: int
    n_stages: int
    n_cases: int
    in_scope: NDArray[np.bool_]
    first_time: NDArray[np.int64]
    as_of: int
    event: NDArray[np.int64]
    min_stay: int = 0
    corrections: int = 0
    vocabulary: tuple[Finding, ...] = ()
    # Per-case arrays derived on first use and shared (read-only) by every later caller.
    _derived: dict[str, NDArray[Any]] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def size(self) -> int:
        """Number of episodes."""
        return int(self.case.size)

    @property
    def is_outcome(self) -> NDArray[np.bool_]:
        """True for won and lost episodes."""
        return self.stage >= self.n_open

    @property
    def censored(self) -> NDArray[np.bool_]:
        """True for an open-stage episode still running at `as_of`."""
        return ~self.moved & (self.stage < self.n_open)

    def duration_days(self) -> NDArray[np.float64]:
        """Length of each episode in days (censored ones up to `as_of`)."""
        return (self.exit - self.enter) / NS_PER_DAY

    def case_outcome(self) -> NDArray[np.int32]:
        """Per case: the outcome stage code it reached, or -1 if none by `as_of` (read-only)."""
        if "outcome" not in self._derived:
            self._close()
        out: NDArray[np.int32] = self._derived["outcome"]
        return out

    def case_close_time(self) -> NDArray[np.int64]:
        """Per case: time of its outcome, NaT (int64 min) if none by `as_of` (read-only)."""
        if "close" not in self._derived:
            self._close()
        out: NDArray[np.int64] = self._derived["close"]
        return out

    def _close(self) -> None:
        outcome = np.full(self.n_cases, -1, dtype=np.int32)
        close = np.full(self.n_cases, _time.NAT, dtype=np.int64)
        hit = np.flatnonzero(self.is_outcome)
        outcome[self.case[hit]] = self.stage[hit]
        close[self.case[hit]] = self.enter[hit]
        self._derived["outcome"] = _sealed(outcome)
        self._derived["close"] = _sealed(close)

    def position(self) -> NDArray[np.int32]:
        """Forward position of each episode.

        The stage code for open stages and won; -1 for lost (a loss is not a step forward).
        """
        return np.where(self.stage <= self.n_open, self.stage, -1).astype(np.int32)


def resolve_as_of(log: EventLog, as_of: object) -> int:
    """The censoring time in ns: the log's last event by default; refuses times before it starts."""
    t = log.time.view(np.int64)
    if as_of is None:
        return int(t.max())
    ns = _time.as_utc_ns(as_of, name="as_of")
    first = int(t.min())
    if ns < first:
        raise ParameterError(
            f"as_of {as_of!r} is before the log starts ({str(log.time.min())[:19]}); "
            "pass a time within or after the log, or leave as_of=None for the log's end.",
            parameter="as_of",
        )
    return ns


def segment_starts(case: NDArray[np.int32]) -> NDArray[np.bool_]:
    """True where a new case starts in an array sorted by case."""
    out = np.empty(case.size, dtype=bool)
    if case.size:
        out[0] = True
        np.not_equal(case[1:], case[:-1], out=out[1:])
    return out


def segmented_cummax(values: NDArray[np.int32], case: NDArray[np.int32]) -> NDArray[np.int64]:
    """Running maximum of `values` within each case (arrays sorted by case).

    Adding ``case * big`` makes every case's values exceed all earlier cases', so one global
    ``maximum.accumulate`` restarts at each case.
    """
    lo = int(values.min()) if values.size else 0
    big = int(values.max()) - lo + 1 if values.size else 1
    shifted = (values.astype(np.int64) - lo) + case.astype(np.int64) * big
    return np.maximum.accumulate(shifted) - case.astype(np.int64) * big + lo


class _IdentityCache(Generic[_V]):
    """A small LRU cache keyed by the identity of live objects; safe to share between threads.

    An entry is keyed by the `id` of some objects (a log's event arrays) plus a hashable rest
    (funnel, options). It lives only as long as every one of those objects does: a
    `weakref.finalize` on each removes the entry when the object is collected, so the cache
    never keeps a result for a log that is gone, and an `id` reused by a new object can
    never match an old entry (the entry went with the object). Entries evicted or cleared
    detach their finalisers, so a long-lived log with many cached variants leaves none behind.

    Every read and change happens under one lock; the values are built outside it (two
    threads may build the same entry: the first stored wins and both get it). A finaliser
    can run in any thread in the middle of anything, also in this cache's own code when the
    garbage collector runs there, so it never waits for the lock: it notes the dead entry and
    removes it only if the lock is free; otherwise the thread holding the lock removes it
    before or just after releasing it.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry[_V]] = OrderedDict()
        self._dead: list[tuple[Hashable, int]] = []
        self._serial = itertools.count()

    def __len__(self) -> int:
        with self._locked():
            return len(self._entries)

    def get(self, objects: tuple[object, ...], rest: Hashable) -> _V | None:
        """The value stored for these (live) objects and `rest`, or None."""
        key = (tuple(id(o) for o in objects), rest)
        with self._locked():
            entry = self._entries.get(key)
            if entry is None or not all(f.alive for f in entry.finalizers):
                return None
            self._entries.move_to_end(key)
            return entry.value

    def put(self, objects: tuple[object, ...], rest: Hashable, value: _V) -> _V:
        """Store `value` unless a live entry is there already; return the one kept."""
        key = (tuple(id(o) for o in objects), rest)
        serial = next(self._serial)
        finalizers = tuple(weakref.finalize(o, self._forget, key, serial) for o in objects)
        for f in finalizers:
            f.atexit = False
        with self._locked():
            entry = self._entries.get(key)
            if entry is not None and all(f.alive for f in entry.finalizers):
                self._entries.move_to_end(key)
                kept = entry.value
            else:
                self._remove(key)
                self._entries[key] = _Entry(serial, finalizers, value)
                kept, finalizers = value, ()
                while len(self._entries) > self._size:
                    self._remove(next(iter(self._entries)))
        for f in finalizers:  # not stored: another thread's entry was there first
            f.detach()
        return kept

    def clear(self) -> None:
        """Forget every entry."""
        with self._locked():
            for key in list(self._entries):
                self._remove(key)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            with self._lock:
                try:
                    yield
                finally:
                    self._purge()
        finally:
            self._sweep()

    def _purge(self) -> None:
        """Remove the entries noted dead by finalisers; lock held."""
        while self._dead:
            self._remove(*self._dead.pop())

    def _sweep(self) -> None:
        """Purge if the lock is free; if not, its holder purges before or after releasing."""
        while self._dead and self._lock.acquire(blocking=False):
            try:
                self._purge()
            finally:
                self._lock.release()

    def _remove(self, key: Hashable, serial: int | None = None) -> None:
        """Drop the entry at `key` (only if it is entry `serial`, when given); lock held."""
        entry = self._entries.get(key)
        if entry is None or (serial is not None and entry.serial != serial):
            return
        del self._entries[key]
        for f in entry.finalizers:
            f.detach()

    def _forget(self, key: Hashable, serial: int) -> None:
        """Finaliser: an object of entry `serial` at `key` was collected."""
        self._dead.append((key, serial))
        self._sweep()


@attrs.frozen
class _Entry(Generic[_V]):
    serial: int
    finalizers: tuple[weakref.finalize[[Hashable, int], object], ...]
    value: _V


# Recently built episodes, keyed by the identity of the log's event arrays (not of the log
# object, so a copy that only adds case attributes, as `attrs.evolve` makes, shares them), the
# funnel, as_of, skips and min_stay. Logs and funnels are immutable and the cached arrays are
# read-only, so a hit is the same answer without the work: a report that asks for conversion,
# dwell, flow and the Markov chain of one log cuts it into episodes once instead of once per
# metric, and the implied episodes are derived from the cached strict ones. An entry goes
# when its log's arrays are collected (see `_IdentityCache`).
_CACHE_SIZE = 8
_cache: _IdentityCache[Episodes] = _IdentityCache(_CACHE_SIZE)


def clear_cache() -> None:
    """Forget every cached result (episodes, event stays): benchmarks time the cold path."""
    _cache.clear()
    _stays_cache.clear()


def _event_arrays(log: EventLog) -> tuple[NDArray[Any], ...]:
    """The arrays episodes are cut from: equal identities mean equal episodes."""
    return (log.case, log.activity, log.time, log.activity_names, log.offsets)


def duration_ns(name: str, value: object) -> int:
    """A duration option >= 0 (up to a year) in ns.

    Accepts a `datetime.timedelta`, a `numpy.timedelta64`, or a number of seconds (stay
    thresholds are a matter of seconds or minutes).

    Raises:
        ParameterError: Naming the option, the value and an example, for anything else.
    """
    example = f"Pass e.g. {name}=60 for one minute, or 0 for none."
    if isinstance(value, np.timedelta64):
        seconds = _time.timedelta64_seconds(value)  # NaN (refused below) for NaT, months
    elif isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    ):
        seconds = v.as_float(value)  # a 400-digit int is +inf, refused below
    else:
        raise ParameterError(
            f"{name} must be a number of seconds or a datetime.timedelta; got "
            f"{type(value).__name__} {value!r}. {example}",
            parameter=name,
        )
    if not np.isfinite(seconds) or seconds < 0 or seconds > _MAX_DURATION_S:
        raise ParameterError(
            f"{name} must be between 0 and a year of seconds; got {v.short(value)}. {example}",
            parameter=name,
        )
    return round(seconds * _time.NS_PER_S)


def resolve_min_stay(value: object) -> int:
    """The `min_stay` option in ns: None or 0 for none (see `duration_ns`)."""
    return 0 if value is None else duration_ns("min_stay", value)


_MAX_DURATION_S = 366 * 86_400


def build_episodes(
    log: EventLog,
    funnel: Funnel,
    *,
    as_of: object = None,
    skips: Skips = "implied",
    min_stay: object = None,
) -> Episodes:
    """Cut the log into stage episodes; see the module docstring.

    Raises:
        UnknownStageError: If the funnel declares its activities and the log has another.
        FunnelError: If the log has events but none of them is a stage of the funnel.
        ParameterError: If `skips` is not "implied" or "strict", `as_of` is before the log,
            or `min_stay` is not a duration >= 0.
    """
    v.choice("skips", skips, ("implied", "strict"))
    cutoff = resolve_as_of(log, as_of)
    min_ns = resolve_min_stay(min_stay)
    episodes = _cached(log, funnel, cutoff, skips, min_ns)
    # Every call warns, cache hit or not: the mismatches travel with the episodes.
    warn_vocabulary(episodes.vocabulary)
    return episodes


def _cached(log: EventLog, funnel: Funnel, cutoff: int, skips: Skips, min_ns: int) -> Episodes:
    arrays = _event_arrays(log)
    rest = (funnel, cutoff, str(skips), min_ns)
    hit = _cache.get(arrays, rest)
    if hit is not None:
        return hit
    if skips == "strict":
        episodes = _build(log, funnel, cutoff, min_ns)
    else:
        episodes = _with_implied(_cached(log, funnel, cutoff, "strict", min_ns))
    return _cache.put(arrays, rest, episodes)


def _build(log: EventLog, funnel: Funnel, cutoff: int, min_ns: int = 0) -> Episodes:
    """The recorded (strict) episodes."""
    n_open = funnel.n_open
    codes = funnel.stage_codes(log)
    vocabulary = tuple(vocabulary_findings(log, funnel, codes))
    stage_of_event = codes[log.activity]
    t = log.time.view(np.int64)
    in_time = t <= cutoff

    first_time = np.full(log.n_cases, _time.NAT, dtype=np.int64)
    seen = np.flatnonzero(in_time)
    first_of_case = seen[segment_starts(log.case[seen])]
    first_time[log.case[first_of_case]] = t[first_of_case]
    in_scope = first_time != _time.NAT

    idx = np.flatnonzero(in_time & (stage_of_event >= 0))
    case = log.case[idx]
    stage = stage_of_event[idx].astype(np.int32)

    # Outcomes are absorbing: keep each case's events up to and including its first outcome.
    is_out = (stage >= n_open).astype(np.int32)
    outcomes_before = _segmented_exclusive_cumsum(is_out, case)
    keep = outcomes_before == 0
    case, stage, idx = case[keep], stage[keep], idx[keep]

    # Consecutive events of the same stage are one stay.
    case, stage, idx = _merge_repeats(case, stage, idx)
    corrections = 0
    if min_ns > 0 and case.size > 1:
        case, stage, idx, corrections = _drop_short(case, stage, idx, t, n_open, min_ns)
    implied = np.zeros(case.size, dtype=bool)
    ep = _assemble(
        log.n_cases, funnel.n_open, funnel.n_stages, cutoff, in_scope, first_time,
        case, stage, t[idx], implied, idx.astype(np.int64),
    )  # fmt: skip
    return attrs.evolve(ep, min_stay=min_ns, corrections=corrections, vocabulary=vocabulary)


def _drop_short(
    case: NDArray[np.int32],
    stage: NDArray[np.int32],
    idx: NDArray[np.intp],
    t: NDArray[np.int64],
    n_open: int,
    min_ns: int,
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.intp], int]:
    """Drop open-stage stays that ended less than `min_ns` after they began; merge repeats.

    Durations are read off the recorded stays as they are (one pass, not repeated): a run of
    click-throughs A -> B -> C seconds apart drops both A and B. Dropping a stay can leave two
    stays of the same stage next to each other (A -> B -> A): they become one, from the first.
    """
    enter = t[idx]
    has_next = np.zeros(case.size, dtype=bool)
    has_next[:-1] = case[1:] == case[:-1]
    length = np.zeros(case.size, dtype=np.int64)
    length[:-1] = enter[1:] - enter[:-1]
    short = has_next & (stage < n_open) & (length < min_ns)
    dropped = int(short.sum())
    if not dropped:
        return case, stage, idx, 0
    keep = ~short
    case, stage, idx = _merge_repeats(case[keep], stage[keep], idx[keep])
    return case, stage, idx, dropped


def _merge_repeats(
    case: NDArray[np.int32], stage: NDArray[np.int32], idx: NDArray[np.intp]
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.intp]]:
    """Keep the first of each run of consecutive rows of one case in one stage."""
    change = segment_starts(case)
    if stage.size > 1:
        change[1:] |= stage[1:] != stage[:-1]
    return case[change], stage[change], idx[change]


def _with_implied(strict: Episodes) -> Episodes:
    """The strict episodes with the implied stays of skipped stages inserted."""
    if not strict.size:
        return strict
    case, stage, enter, implied = _add_implied(
        strict.case, strict.stage, strict.enter, strict.n_open
    )
    event = np.full(case.size, -1, dtype=np.int64)
    event[~implied] = strict.event
    ep = _assemble(
        strict.n_cases, strict.n_open, strict.n_stages, strict.as_of, strict.in_scope,
        strict.first_time, case, stage, enter, implied, event,
    )  # fmt: skip
    return attrs.evolve(
        ep,
        min_stay=strict.min_stay,
        corrections=strict.corrections,
        vocabulary=strict.vocabulary,
    )


def _assemble(
    n_cases: int,
    n_open: int,
    n_stages: int,
    cutoff: int,
    in_scope: NDArray[np.bool_],
    first_time: NDArray[np.int64],
    case: NDArray[np.int32],
    stage: NDArray[np.int32],
    enter: NDArray[np.int64],
    implied: NDArray[np.bool_],
    event: NDArray[np.int64],
) -> Episodes:
    """Episodes from their (case, stage, enter) rows: exits, moves and entry numbers."""
    starts = segment_starts(case)
    n = case.size
    last = np.empty(n, dtype=bool)
    if n:
        last[:-1] = starts[1:]
        last[-1] = True
    moved = ~last
    next_stage = np.full(n, -1, dtype=np.int32)
    next_stage[:-1][moved[:-1]] = stage[1:][moved[:-1]]
    exit_ = np.empty(n, dtype=np.int64)
    exit_[:-1] = enter[1:]
    outcome = stage >= n_open
    exit_[last & ~outcome] = cutoff
    exit_[outcome] = enter[outcome]

    entry = _entry_numbers(case, stage, n_stages)
    return Episodes(
        case=_sealed(case),
        stage=_sealed(stage),
        enter=_sealed(enter),
        exit=_sealed(exit_),
        moved=_sealed(moved),
        next_stage=_sealed(next_stage),
        implied=_sealed(implied),
        entry=_sealed(entry),
        n_open=n_open,
        n_stages=n_stages,
        n_cases=n_cases,
        in_scope=_sealed(in_scope),
        first_time=_sealed(first_time),
        as_of=cutoff,
        event=_sealed(event),
    )


def judged_first_stays(ep: Episodes, floor_ns: int) -> NDArray[np.intp]:
    """Each case's first recorded stay in each open stage, click-throughs set aside.

    A stay that ended in a move less than `floor_ns` after it began records a rep clicking
    through stages, not time the deal spent there: it is skipped, and the case's next stay
    in that stage (if any) is its first judged one. Sorted by (stage, case).
    """
    idx = np.flatnonzero((ep.stage < ep.n_open) & ~ep.implied)
    trivial = ep.moved[idx] & (ep.exit[idx] - ep.enter[idx] < floor_ns)
    idx = idx[~trivial]
    idx = idx[np.argsort(ep.stage[idx], kind="stable")]  # by stage, then case (as stored)
    key = ep.stage[idx].astype(np.int64) * max(ep.n_cases, 1) + ep.case[idx]
    first = np.ones(idx.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return idx[first]


def event_stays(log: EventLog, ep: Episodes, events: NDArray[np.intp]) -> NDArray[np.int64]:
    """The episode each event falls in; -1 before the case's first stage.

    `events` are event indices of `log` at or before ``ep.as_of`` (any order). An event's
    episode is the case's latest one entered at or before the event's time.
    """
    return _all_stays(log, ep)[events].astype(np.int64)


# The episode of every event, for the last (log, episodes) asked: a scorecard asks twice.
# Released with the log's case array or the episodes (see `_IdentityCache`).
_stays_cache: _IdentityCache[NDArray[np.int32]] = _IdentityCache(1)


def _all_stays(log: EventLog, ep: Episodes) -> NDArray[np.int32]:
    """`event_stays` of every event of the log.

    Linear in the log, no sort: events and the recorded episodes' starting events share the
    log's (case, time) order, so a running count of episode starts gives each event the
    latest episode started at or before it in that order; an episode entered at the same
    time but recorded later in the log is then taken too (the rule is by time).
    """
    hit = _stays_cache.get((log.case, ep), None)
    if hit is not None:
        return hit
    if not ep.size:
        return np.full(log.n_events, -1, dtype=np.int32)
    real = np.flatnonzero(~ep.implied)
    marks = np.zeros(log.n_events, dtype=np.int32)
    marks[ep.event[real]] = 1
    home = np.cumsum(marks, dtype=np.int32)
    home -= 1  # rank among the recorded episodes
    t = log.time.view(np.int64)
    # Ties in time: step forward while the next recorded episode is the same case's and was
    # entered at or before the event. Only possible where an episode's starting event has an
    # event of the same case at the same time just before it (rare; usually never).
    start = ep.event[real]
    before = np.maximum(start - 1, 0)
    tied = (start > 0) & (log.case[before] == ep.case[real]) & (t[before] == ep.enter[real])
    todo = np.flatnonzero(home + 1 < real.size) if tied.any() else np.empty(0, np.intp)
    while todo.size:
        nxt = real[home[todo] + 1]
        step = (ep.case[nxt] == log.case[todo]) & (ep.enter[nxt] <= t[todo])
        todo = todo[step]
        home[todo] += 1
        todo = todo[home[todo] + 1 < real.size]
    full = real[np.maximum(home, 0)].astype(np.int32)
    out = np.where((home >= 0) & (ep.case[full] == log.case), full, -1).astype(np.int32)
    return _stays_cache.put((log.case, ep), None, _sealed(out))


_T = TypeVar("_T", bound=np.generic)


def _sealed(arr: NDArray[_T]) -> NDArray[_T]:
    """Read-only, so episodes shared through the cache cannot be changed by a caller."""
    out = arr if arr.flags.owndata else arr.copy()
    out.flags.writeable = False
    return out


def _segmented_exclusive_cumsum(
    values: NDArray[np.int32], case: NDArray[np.int32]
) -> NDArray[np.int64]:
    """Sum of `values` over the earlier elements of the same case."""
    total = np.cumsum(values, dtype=np.int64) - values
    starts = np.flatnonzero(segment_starts(case))
    base = np.repeat(total[starts], np.diff(np.append(starts, case.size)))
    return total - base


def _add_implied(
    case: NDArray[np.int32],
    stage: NDArray[np.int32],
    enter: NDArray[np.int64],
    n_open: int,
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int64], NDArray[np.bool_]]:
    """Insert zero-length episodes for the stages a forward jump passes.

    Only stages the case has not reached before: those between its furthest position so far
    and the new one. A case's first episode fills nothing: it enters the funnel there.
    """
    position = np.where(stage <= n_open, stage, -1).astype(np.int32)
    furthest = segmented_cummax(position, case)
    before = np.empty(case.size, dtype=np.int64)
    starts = segment_starts(case)
    before[1:] = furthest[:-1]
    before[starts] = -1  # unused: a first episode fills no gap (below)
    gap = np.where(position >= 0, position - before - 1, 0)
    gap = np.maximum(gap, 0)
    gap[starts] = 0
    total = int(gap.sum())
    if total == 0:
        return case, stage, enter, np.zeros(case.size, dtype=bool)
    n = case.size
    # Real episode i lands after its own gap: at i + (implied episodes up to and including i).
    real_pos = np.arange(n, dtype=np.int64) + np.cumsum(gap)
    out_case = np.empty(n + total, dtype=np.int32)
    out_stage = np.empty(n + total, dtype=np.int32)
    out_enter = np.empty(n + total, dtype=np.int64)
    implied = np.ones(n + total, dtype=bool)
    implied[real_pos] = False
    out_case[real_pos] = case
    out_stage[real_pos] = stage
    out_enter[real_pos] = enter
    owner = np.repeat(np.arange(n), gap)
    first_owned = np.repeat(np.cumsum(gap) - gap, gap)
    step = np.arange(total, dtype=np.int64) - first_owned
    out_case[implied] = case[owner]
    out_stage[implied] = (before[owner] + 1 + step).astype(np.int32)
    out_enter[implied] = enter[owner]
    return out_case, out_stage, out_enter, implied


def _entry_numbers(
    case: NDArray[np.int32], stage: NDArray[np.int32], n_stages: int
) -> NDArray[np.int32]:
    """0 for a case's first episode in a stage, 1 for its second, ..."""
    n = case.size
    out = np.zeros(n, dtype=np.int32)
    # One pass per stage (few) instead of a sort: within the episodes of one stage, still
    # sorted by case, the entry number is the rank within the run of equal case codes.
    for s in np.flatnonzero(np.bincount(stage, minlength=n_stages)).tolist():
        idx = np.flatnonzero(stage == s)
        starts = segment_starts(case[idx])
        position = np.arange(idx.size, dtype=np.int32)
        out[idx] = position - np.maximum.accumulate(np.where(starts, position, 0))
    return out
