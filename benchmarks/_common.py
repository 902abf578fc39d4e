"""Shared pieces of the foundation benchmark: synthetic log, numpy floor, timers.

This module is imported both by ``bench_foundation.py`` (main interpreter, where
salesstd lives) and by ``peers/bench_pm4py.py`` (the peer venv, where PM4Py
lives), so it depends on numpy only.  That way the numpy floor timed next to
PM4Py is byte-for-byte the same code as the floor timed next to salesstd.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

# Twenty CRM-flavoured activity names (the count matters, the wording does not).
ACTIVITY_NAMES: tuple[str, ...] = (
    "Lead created",
    "Lead assigned",
    "First call",
    "Email sent",
    "Follow-up call",
    "Meeting scheduled",
    "Meeting held",
    "Qualified",
    "Disqualified",
    "Needs analysis",
    "Demo",
    "Proposal sent",
    "Proposal revised",
    "Negotiation",
    "Legal review",
    "Discount approved",
    "Contract sent",
    "Closed won",
    "Closed lost",
    "Nurture",
)

NS_PER_S = 1_000_000_000
_EPOCH_2023_NS = 1_672_531_200 * NS_PER_S  # 2023-01-01T00:00:00Z
_TWO_YEARS_S = 2 * 365 * 86_400


@dataclass
class SyntheticLog:
    """A shuffled synthetic event log held as plain numpy arrays.

    ``activity`` is an object array whose elements are the (shared) Python ``str``
    objects of ``activity_names``; ``activity_codes`` indexes ``activity_names``.
    """

    case: np.ndarray  # int64, or object array of "c123"-style str
    activity: np.ndarray  # object array of str
    activity_codes: np.ndarray  # int8 codes into activity_names
    activity_names: np.ndarray  # object array of the 20 names
    time: np.ndarray  # datetime64[ns]
    n_cases: int
    seed: int
    tie_fraction: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return int(self.time.shape[0])

    def input_bytes(self) -> int:
        """Bytes of the three input arrays (object arrays: pointers + distinct str objects)."""
        total = 0
        for arr in (self.case, self.activity, self.time):
            total += arr.nbytes
            if arr.dtype == object:
                total += _distinct_object_bytes(arr)
        return total


def _distinct_object_bytes(arr: np.ndarray) -> int:
    _, first = np.unique(_object_pointers(arr), return_index=True)
    return int(sum(sys.getsizeof(arr[i]) for i in first))


def _object_pointers(arr: np.ndarray) -> np.ndarray:
    """The PyObject* values of a contiguous object array, as intp (zero-copy)."""
    arr = np.ascontiguousarray(arr)
    return np.frombuffer(arr, dtype=np.intp)


def _markov_matrix(rng: np.random.Generator, k: int) -> np.ndarray:
    """Sparse-ish row-stochastic matrix: each activity has 3-7 likely successors."""
    p = np.full((k, k), 0.002)
    for i in range(k):
        succ = rng.choice(k, size=int(rng.integers(3, 8)), replace=False)
        p[i, succ] += rng.dirichlet(np.ones(succ.size))
    return p / p.sum(axis=1, keepdims=True)


def make_log(
    n_events: int,
    *,
    seed: int = 0,
    case_kind: str = "int",
    tie_fraction: float = 0.01,
    mean_case_length: float = 10.0,
) -> SyntheticLog:
    """Build a seeded synthetic log of exactly ``n_events`` rows, shuffled.

    * case lengths ~ Geometric(1/mean_case_length) (min 1, mean ~10, long tail);
    * activities follow a seeded 20-state Markov chain (first event mostly
      "Lead created"); each activity has 3-7 likely successors plus a small
      uniform noise floor, so ~100 pairs carry most of the mass and all 400
      appear rarely at large N (like real CRM noise);
    * timestamps: case start uniform over two years from 2023-01-01 (ns
      resolution), then per-event gaps ~ Exponential(mean 1 day) rounded to whole
      seconds; ``tie_fraction`` of the gaps are exactly 0 (same-second events,
      common in CRM exports) so tie-breaking by input order is exercised;
    * rows are then shuffled, so the input is not sorted by case or time.
    """
    rng = np.random.default_rng(seed)
    k = len(ACTIVITY_NAMES)

    # --- case lengths, trimmed to exactly n_events -------------------------
    lengths = rng.geometric(
        1.0 / mean_case_length, size=int(n_events / mean_case_length * 1.2) + 16
    )
    while lengths.sum() < n_events:
        lengths = np.concatenate(
            [lengths, rng.geometric(1.0 / mean_case_length, size=lengths.size)]
        )
    cum = np.cumsum(lengths)
    last = int(np.searchsorted(cum, n_events))
    lengths = lengths[: last + 1].astype(np.int64)
    lengths[-1] -= int(cum[last] - n_events)
    n_cases = int(lengths.size)
    offsets = np.zeros(n_cases, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])

    # --- activities: vectorised Markov chain, one step over all live cases --
    trans = _markov_matrix(rng, k)
    cum_trans = np.cumsum(trans, axis=1)
    cum_trans[:, -1] = 1.0
    start_p = np.full(k, 0.01)
    start_p[0] = 1.0 - 0.01 * (k - 1)
    codes = np.empty(n_events, dtype=np.int8)
    by_len = np.argsort(-lengths, kind="stable")  # live cases at step p are a prefix
    sorted_len = lengths[by_len]
    state = rng.choice(k, size=n_cases, p=start_p).astype(np.int8)
    codes[offsets[by_len]] = state
    step = 1
    while True:
        live = int(np.searchsorted(-sorted_len, -step, side="left"))  # count of len > step
        if live == 0:
            break
        u = rng.random(live)
        state = (cum_trans[state[:live]] < u[:, None]).sum(axis=1).astype(np.int8)
        codes[offsets[by_len[:live]] + step] = state
        step += 1

    # --- timestamps (seconds arithmetic, then ns; avoids int64 overflow) ----
    gaps = np.rint(rng.exponential(86_400.0, size=n_events)).astype(np.int64)
    if tie_fraction > 0:
        gaps[rng.random(n_events) < tie_fraction] = 0
    gaps[offsets] = 0
    within_s = np.cumsum(gaps)
    within_s -= np.repeat(within_s[offsets], lengths)
    start_ns = _EPOCH_2023_NS + rng.integers(0, _TWO_YEARS_S * NS_PER_S, size=n_cases)
    t_ns = np.repeat(start_ns, lengths) + within_s * NS_PER_S

    # --- case identifiers (not in generation order) -------------------------
    case_num = rng.permutation(n_cases).astype(np.int64) + 100_000
    case_of_event = np.repeat(np.arange(n_cases), lengths)

    # --- shuffle rows --------------------------------------------------------
    perm = rng.permutation(n_events)
    case_of_event = case_of_event[perm]
    codes = codes[perm]
    t_ns = t_ns[perm]

    if case_kind == "int":
        case = case_num[case_of_event]
    elif case_kind == "str":
        case_labels = np.array([f"c{i}" for i in case_num.tolist()], dtype=object)
        case = case_labels[case_of_event]
    else:
        msg = f"case_kind must be 'int' or 'str', not {case_kind!r}"
        raise ValueError(msg)
    del case_of_event

    names = np.array(ACTIVITY_NAMES, dtype=object)
    return SyntheticLog(
        case=case,
        activity=names[codes],
        activity_codes=codes,
        activity_names=names,
        time=t_ns.view("datetime64[ns]"),
        n_cases=n_cases,
        seed=seed,
        tie_fraction=tie_fraction,
    )


def save_npz(log: SyntheticLog, path: str) -> None:
    """Write the log without pickling (object arrays stored as codes / fixed-width str)."""
    case = log.case if log.case.dtype != object else log.case.astype(str)
    np.savez(
        path,
        case=case,
        activity_codes=log.activity_codes,
        activity_names=log.activity_names.astype(str),
        time_ns=log.time.view(np.int64),
        n_cases=np.int64(log.n_cases),
    )


def load_npz(path: str) -> SyntheticLog:
    """Inverse of :func:`save_npz`; rebuilds the same shared-str object layout."""
    with np.load(path, allow_pickle=False) as z:
        case = z["case"]
        if case.dtype.kind == "U":
            uniq, inv = np.unique(case, return_inverse=True)
            case = uniq.astype(object)[inv]
        names = z["activity_names"].astype(object)
        codes = z["activity_codes"]
        return SyntheticLog(
            case=case,
            activity=names[codes],
            activity_codes=codes,
            activity_names=names,
            time=z["time_ns"].view("datetime64[ns]"),
            n_cases=int(z["n_cases"]),
            seed=-1,
            tie_fraction=float("nan"),
        )


# ---------------------------------------------------------------------------
# numpy floor
# ---------------------------------------------------------------------------


@dataclass
class FloorResult:
    """Transition statistics in (source, target) sorted-name order, seconds."""

    source: np.ndarray
    target: np.ndarray
    count: np.ndarray
    total: np.ndarray
    mean: np.ndarray
    median: np.ndarray
    min: np.ndarray
    max: np.ndarray
    std: np.ndarray
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    stages: dict[str, float]


def factorize(values: np.ndarray, *, tuned: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Sorted uniques and int codes, numpy only.

    ``tuned=False`` is the literal recipe ``np.unique(values, return_inverse=True)``.
    For object arrays that sorts N Python objects with rich comparisons (~7.5 s
    at 1e7 on the dev machine).  ``tuned=True`` first deduplicates the object
    *references* (an int sort of the pointer array), then sorts only the distinct
    objects by value and remaps (~1.8 s at 1e7).  Exact for any object array
    (equal strings held by different objects are merged in the second step);
    fast whenever values repeat, which is the normal case for activity labels.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.ravel()
    if not tuned or arr.dtype != object:
        uniques, inv = np.unique(arr, return_inverse=True)
        return uniques, inv.reshape(-1)
    arr = np.ascontiguousarray(arr)
    ptr_uniq, ptr_inv = np.unique(_object_pointers(arr), return_inverse=True)
    ptr_inv = ptr_inv.reshape(-1)
    representative = np.empty(ptr_uniq.size, dtype=np.intp)
    representative[ptr_inv] = np.arange(arr.size, dtype=np.intp)  # any occurrence will do
    distinct = arr[representative]
    uniques, val_inv = np.unique(distinct, return_inverse=True)
    return uniques, val_inv.reshape(-1)[ptr_inv]


def _case_time_order(case_code: np.ndarray, t_ns: np.ndarray, *, tuned: bool) -> np.ndarray:
    """Permutation sorting by (case, time), ties kept in input order (stable)."""
    if not tuned:
        return np.lexsort((t_ns, case_code))
    # Rank time stably, then one unstable sort of a unique composite key
    # case*n + rank (fits int64: n_cases * n < 2**63 for n < 3e9).
    n = t_ns.size
    by_time = np.argsort(t_ns, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_time] = np.arange(n, dtype=np.int64)
    key = case_code.astype(np.int64) * n + rank
    return np.argsort(key)


def _pair_duration_order(
    pair: np.ndarray, dur: np.ndarray, n_pair_codes: int, *, tuned: bool
) -> np.ndarray:
    """Permutation sorting by (pair, duration)."""
    if not tuned or n_pair_codes > np.iinfo(np.int16).max:
        return np.lexsort((dur, pair))
    # Sort by duration (unstable is fine: equal keys are equal values), then a
    # stable sort on int16 pair codes, which numpy performs as an O(n) radix sort.
    by_dur = np.argsort(dur)
    return by_dur[np.argsort(pair[by_dur].astype(np.int16), kind="stable")]


def numpy_floor(
    case: np.ndarray, activity: np.ndarray, time_: np.ndarray, *, tuned: bool = True
) -> FloorResult:
    """Directly-follows counts and duration statistics from raw arrays, numpy only.

    Same outputs as ``ss.transitions(ss.EventLog.from_arrays(...))``: per present
    (source, target) pair: count, total, mean, median (mean of the two middle
    values for even counts), min, max, sample std (ddof=1; NaN when count < 2),
    plus start/end activity counts.  Durations are float64 seconds.
    """
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    _, case_code = factorize(case, tuned=tuned)
    act_names, act_code = factorize(activity, tuned=tuned)
    n_act = int(act_names.size)
    t1 = time.perf_counter()
    stages["factorize"] = t1 - t0

    t_ns = np.asarray(time_)
    if t_ns.dtype != np.dtype("datetime64[ns]"):
        t_ns = t_ns.astype("datetime64[ns]")
    t_ns = t_ns.view(np.int64)
    order = _case_time_order(case_code, t_ns, tuned=tuned)
    c = case_code[order]
    a = act_code[order].astype(np.int64)
    t = t_ns[order]
    del order
    t2 = time.perf_counter()
    stages["sort"] = t2 - t1

    same = c[1:] == c[:-1]
    pair = (a[:-1] * n_act + a[1:])[same]
    dur = np.diff(t)[same].astype(np.float64) / NS_PER_S
    n_pair_codes = n_act * n_act
    cnt_all = np.bincount(pair, minlength=n_pair_codes)
    tot_all = np.bincount(pair, weights=dur, minlength=n_pair_codes)
    present = np.flatnonzero(cnt_all)
    cnt = cnt_all[present].astype(np.int64)
    tot = tot_all[present]
    mean = tot / cnt

    o2 = _pair_duration_order(pair, dur, n_pair_codes, tuned=tuned)
    ds = dur[o2]
    del o2
    ends = np.cumsum(cnt)
    starts = ends - cnt
    mn = ds[starts]
    mx = ds[ends - 1]
    med = 0.5 * (ds[starts + (cnt - 1) // 2] + ds[starts + cnt // 2])
    grp = np.repeat(np.arange(present.size), cnt)
    dev = ds - mean[grp]
    sq = np.bincount(grp, weights=dev * dev, minlength=present.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(sq / (cnt - 1))
    std[cnt < 2] = np.nan

    is_start = np.empty(a.size, dtype=bool)
    is_end = np.empty(a.size, dtype=bool)
    if a.size:
        is_start[0] = True
        is_start[1:] = ~same
        is_end[-1] = True
        is_end[:-1] = ~same
    start_counts = np.bincount(a[is_start], minlength=n_act)
    end_counts = np.bincount(a[is_end], minlength=n_act)
    stages["aggregate"] = time.perf_counter() - t2

    names = act_names.astype(object)
    return FloorResult(
        source=names[present // n_act],
        target=names[present % n_act],
        count=cnt,
        total=tot,
        mean=mean,
        median=med,
        min=mn,
        max=mx,
        std=std,
        start_activities={str(names[i]): int(v) for i, v in enumerate(start_counts) if v},
        end_activities={str(names[i]): int(v) for i, v in enumerate(end_counts) if v},
        stages=stages,
    )


# ---------------------------------------------------------------------------
# measurement helpers
# ---------------------------------------------------------------------------


def best_of(
    fn: Callable[[], object], repeats: int, setup: Callable[[], object] | None = None
) -> float:
    """Best wall-clock of ``repeats`` calls; ``setup`` (untimed) supplies the argument if given."""
    best = float("inf")
    for _ in range(repeats):
        arg = setup() if setup is not None else None
        gc.collect()
        t0 = time.perf_counter()
        out = fn() if setup is None else fn(arg)  # type: ignore[call-arg]
        elapsed = time.perf_counter() - t0
        del out, arg
        best = min(best, elapsed)
    return best


def traced_peak(fn: Callable[[], object], setup: Callable[[], object] | None = None) -> int:
    """Peak bytes newly allocated during one call, via tracemalloc.

    Pre-existing inputs are not counted (tracing starts right before the call).
    numpy and pandas buffers are traced (numpy reports its data allocations to
    tracemalloc); memory a compiled extension gets from its own allocator is not.
    """
    arg = setup() if setup is not None else None
    gc.collect()
    out = None
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn() if setup is None else fn(arg)  # type: ignore[call-arg]
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
        del out, arg
        gc.collect()
    return int(peak)
