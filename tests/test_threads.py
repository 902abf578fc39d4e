"""Thread safety and memory of the episode cache (issue 10, cause 4).

Logs, funnels, standards and results are immutable; the only shared mutable state is the
episode cache in `salesstd._engine.episodes`. These tests run the metrics from many threads
at once and compare every answer with the one computed alone, hammer the cache directly with
`clear_cache` interleaved (a `KeyError` from `move_to_end` before the cache had a lock), and
check that a log's cached episodes go when the log does.
"""

from __future__ import annotations

import gc
import itertools
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import attrs
import numpy as np
import pytest

import salesstd as ss
from salesstd._engine import episodes as _episodes
from salesstd._engine.episodes import Skips, build_episodes, clear_cache, event_stays

N_THREADS = 8
_T = TypeVar("_T")
_R = TypeVar("_R")
FUNNEL = ss.Funnel.linear(["lead", "qual", "prop"], won="won", lost="lost")
ROWS = [
    ("d1", "lead", "2024-01-01"),
    ("d1", "prop", "2024-01-05"),
    ("d1", "won", "2024-01-09"),
    ("d2", "lead", "2024-01-02"),
    ("d2", "lost", "2024-01-06"),
    ("d3", "lead", "2024-01-03"),
]


@pytest.fixture(autouse=True)
def _fast_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond so that races show up within a short test."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    clear_cache()
    yield
    sys.setswitchinterval(old)
    clear_cache()


def _run_concurrently(
    run: Callable[[_T], _R], items: Sequence[_T], *, clear_every: int = 0
) -> list[_R]:
    """`run` on each item from N_THREADS threads, clearing the cache every `clear_every` items."""

    def one(i: int) -> _R:
        if clear_every and i % clear_every == 0:
            clear_cache()
        return run(items[i])

    with ThreadPoolExecutor(N_THREADS) as pool:
        return list(pool.map(one, range(len(items))))


# ----------------------------------------------------------------- cache, hammered


def test_cache_hammered_from_threads_never_raises_and_serves_the_right_episodes() -> None:
    # Before the lock: KeyError from `move_to_end` (a hit evicted or cleared by another
    # thread between `get` and `move_to_end`) or from `popitem` on an emptied cache.
    logs = [ss.datasets.synthetic_pipeline(60, seed=seed).log for seed in range(6)]
    funnel = ss.datasets.synthetic_pipeline(60, seed=0).funnel
    options: list[tuple[str | None, Skips]] = [
        (None, "implied"),
        (None, "strict"),
        ("2024-09-01", "implied"),
    ]

    def stages(job: tuple[int, int]) -> list[int]:
        as_of, skips = options[job[1]]
        ep = build_episodes(logs[job[0]], funnel, as_of=as_of, skips=skips)
        out: list[int] = ep.stage.tolist()
        return out

    keys = list(itertools.product(range(len(logs)), range(len(options))))
    expected = {key: stages(key) for key in keys}
    jobs = keys * 200
    results = _run_concurrently(stages, jobs, clear_every=5)
    assert len(results) == len(jobs)
    for key, got in zip(jobs, results, strict=True):
        assert got == expected[key], key


def test_event_stays_from_threads_match_the_sequential_answer() -> None:
    logs = [ss.datasets.synthetic_pipeline(40, seed=seed).log for seed in range(4)]
    funnel = ss.datasets.synthetic_pipeline(40, seed=0).funnel

    def stays(i: int) -> list[int]:
        ep = build_episodes(logs[i], funnel)
        out: list[int] = event_stays(logs[i], ep, np.arange(logs[i].n_events)).tolist()
        return out

    expected = [stays(i) for i in range(len(logs))]
    jobs = list(range(len(logs))) * 50
    results = _run_concurrently(stays, jobs, clear_every=7)
    for i, got in zip(jobs, results, strict=True):
        assert got == expected[i], i


# ----------------------------------------------------- metrics, concurrent and sequential


def _workloads() -> list[Callable[[], object]]:
    """Metrics over several logs and funnels: every call goes through the episode cache."""
    sims = [ss.datasets.synthetic_pipeline(150, seed=seed) for seed in (1, 2)]
    crm = ss.datasets.load_crm_opportunities()
    crm_funnel = ss.Funnel.linear(["Engaging", "Won"], lost="Lost")
    cases = [(sim.log, sim.funnel, "rep") for sim in sims]
    cases += [(sims[0].log, sims[0].allowed_funnel, "team"), (crm, crm_funnel, "sales_agent")]
    work: list[Callable[[], object]] = []
    for log, funnel, by in cases:
        std = ss.Standard.from_log(log, funnel, by=by)
        work += [
            partial(ss.conversion, log, funnel),
            partial(ss.conversion, log, funnel, skips="strict"),
            partial(ss.time_in_stage, log, funnel),
            partial(ss.cycle_time, log, funnel),
            partial(ss.MarkovFunnel.from_log, log, funnel),
            partial(ss.scorecard, log, std, by=by),
            partial(ss.check_conformance, log, std),
            partial(ss.Standard.from_log, log, funnel, by=by),
        ]
    return work


def test_metrics_from_eight_threads_equal_the_sequential_results() -> None:
    work = _workloads()
    expected = [task() for task in work]
    order = list(range(len(work))) * 3
    np.random.default_rng(0).shuffle(order)
    results = _run_concurrently(lambda i: work[i](), order, clear_every=11)
    assert len(results) == len(order)
    for i, got in zip(order, results, strict=True):
        assert got == expected[i], (i, type(got).__name__)


# ------------------------------------------------------------------------ memory


def _fresh_log() -> ss.EventLog:
    return ss.EventLog.from_records(ROWS)


def test_cached_episodes_go_when_their_log_is_collected() -> None:
    # Before: the cache kept the episodes (about 480 MB for a 4M-event log) until eight
    # later calls pushed them out.
    log = _fresh_log()
    ep = build_episodes(log, FUNNEL)
    stays = event_stays(log, ep, np.arange(log.n_events))
    assert len(_episodes._cache) == 2  # strict and implied
    assert len(_episodes._stays_cache) == 1
    alive = [weakref.ref(x) for x in (ep, log.case, log.time)]
    strict = weakref.ref(build_episodes(log, FUNNEL, skips="strict"))
    del log, ep, stays
    gc.collect()
    assert [ref() for ref in alive] == [None, None, None]
    assert strict() is None
    assert len(_episodes._cache) == 0
    assert len(_episodes._stays_cache) == 0


def test_a_log_copy_keeps_the_shared_entry_until_both_are_gone() -> None:
    log = _fresh_log()
    copy = attrs.evolve(log, case_attributes={"k": np.arange(log.n_cases)})
    ep = weakref.ref(build_episodes(log, FUNNEL))
    del log
    gc.collect()
    assert build_episodes(copy, FUNNEL) is ep()  # the copy shares the event arrays
    del copy
    gc.collect()
    assert ep() is None
    assert len(_episodes._cache) == 0


def test_evicted_and_cleared_entries_leave_no_finalisers_behind() -> None:
    log = _fresh_log()
    gc.collect()
    before = len(weakref.finalize._registry)  # type: ignore[attr-defined]
    for day in range(1, 31):
        build_episodes(log, FUNNEL, as_of=f"2024-01-{day:02d}T12:00", skips="strict")
    assert len(_episodes._cache) == _episodes._CACHE_SIZE
    # One finaliser per event array of the log per cached entry; none for evicted ones.
    n_arrays = len(_episodes._event_arrays(log))
    registered = len(weakref.finalize._registry) - before  # type: ignore[attr-defined]
    assert registered == n_arrays * _episodes._CACHE_SIZE
    clear_cache()
    assert len(weakref.finalize._registry) == before  # type: ignore[attr-defined]


def test_a_log_collected_while_this_thread_holds_the_cache_lock_does_not_deadlock() -> None:
    # The garbage collector can run a finaliser inside the cache's own locked code.
    log = _fresh_log()
    build_episodes(log, FUNNEL, skips="strict")
    with _episodes._cache._locked():
        del log
        gc.collect()  # the finaliser runs here and must not wait for the lock
        assert len(_episodes._cache._entries) == 1
    assert len(_episodes._cache) == 0


def test_a_log_collected_while_another_thread_holds_the_lock_is_removed_on_release() -> None:
    log = _fresh_log()
    build_episodes(log, FUNNEL, skips="strict")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _episodes._cache._locked():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    del log
    gc.collect()  # finaliser in this thread: the lock is taken, it must not block
    release.set()
    holder.join(10)
    assert not holder.is_alive()
    assert len(_episodes._cache) == 0


def test_two_threads_building_the_same_entry_get_the_same_episodes() -> None:
    log = _fresh_log()
    barrier = threading.Barrier(N_THREADS)

    def build() -> int:
        barrier.wait(10)
        return id(build_episodes(log, FUNNEL, skips="strict"))

    with ThreadPoolExecutor(N_THREADS) as pool:
        ids = set(pool.map(lambda _: build(), range(N_THREADS)))
    assert ids == {id(build_episodes(log, FUNNEL, skips="strict"))}
