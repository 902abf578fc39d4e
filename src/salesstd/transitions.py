"""Directly-follows transitions with time statistics, start and end activities, variants.

For each pair of consecutive events in a case, ``(source, target)``, the time between them;
per pair the count and the mean, median, min, max, total and standard deviation (ddof=1) of
those times. This is what process-mining tools call a performance directly-follows graph; the
numbers equal PM4Py's ``discover_performance_dfg`` on the same events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.frames import FrameBackend, make_frame
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd.errors import ParameterError
from salesstd.log import EventLog

__all__ = ["TransitionStats", "TransitionsResult", "transitions"]

_NS = 1e9


@attrs.frozen
class TransitionStats:
    """Statistics of one directly-follows pair; times in seconds.

    Attributes:
        source: Activity of the earlier event.
        target: Activity of the event that directly follows it in the same case.
        count: Number of times `target` directly follows `source`.
        mean: Mean time between the two events, seconds.
        median: Median time, seconds (the mean of the two middle values for even counts).
        min: Shortest time, seconds.
        max: Longest time, seconds.
        total: Sum of the times, seconds (a float: it cannot overflow as a sum of
            nanosecond counts past 292 years would).
        std: Sample standard deviation (ddof=1), seconds; NaN when `count` is 1.
    """

    source: str
    target: str
    count: int
    mean: float
    median: float
    min: float
    max: float
    total: float
    std: float


@attrs.frozen(repr=False)
class TransitionsResult(ResultMixin):
    """Directly-follows pairs with counts and times, start/end activities and variants.

    Arrays run over pairs, most frequent first (ties by source, then target name). Times are
    float seconds.

    Attributes:
        source: Source activity of each pair.
        target: Target activity of each pair.
        count: How often each pair occurs.
        mean: Mean seconds between source and target.
        median: Median seconds.
        min: Shortest seconds.
        max: Longest seconds.
        total: Sum of seconds, summed as floats (no 292-year nanosecond limit).
        std: Sample standard deviation (ddof=1) of the seconds; NaN for a single occurrence.
        start_names: Activities that start a case.
        start_counts: Number of cases each of `start_names` starts.
        end_names: Activities that end a case.
        end_counts: Number of cases each of `end_names` ends.
        n_cases: Cases in the log.
        n_events: Events in the log.
        log: The log the pairs were counted on (kept by reference, not copied); `variants`
            are computed from it on access, so `transitions` pays nothing for them.
    """

    source: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    target: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    count: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    mean: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    median: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    min: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    max: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    total: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    std: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    start_names: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    start_counts: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    end_names: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    end_counts: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    n_cases: int
    n_events: int
    log: EventLog = attrs.field(eq=False)

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_pairs(self) -> int:
        """Number of distinct directly-follows pairs."""
        return int(self.count.size)

    @property
    def variants(self) -> tuple[tuple[str, ...], ...]:
        """Distinct activity sequences, most frequent first (computed on each access)."""
        return _variants(self.log)[0]

    @property
    def variant_counts(self) -> NDArray[np.int64]:
        """Number of cases following each of `variants` (computed on each access)."""
        return _variants(self.log)[1]

    @property
    def start_activities(self) -> dict[str, int]:
        """Start activity to the number of cases it starts, most frequent first."""
        return dict(zip(self.start_names.tolist(), self.start_counts.tolist(), strict=True))

    @property
    def end_activities(self) -> dict[str, int]:
        """End activity to the number of cases it ends, most frequent first."""
        return dict(zip(self.end_names.tolist(), self.end_counts.tolist(), strict=True))

    def at(self, source: str, target: str) -> TransitionStats:
        """Statistics of one pair.

        Raises:
            ParameterError: If `source` or `target` is several names (a list, an array).
            UnknownStageError: If the pair never occurs.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-03")])
            >>> ss.transitions(log).at("lead", "won").mean / 86400
            2.0
        """
        for name, value in (("source", source), ("target", target)):
            v.one_value(name, value, kind="activity name", many="Look up one pair at a time.")
        hit = np.flatnonzero((self.source == source) & (self.target == target))
        if not hit.size:
            pairs = [f"{s} -> {t}" for s, t in zip(self.source, self.target, strict=True)]
            v.known_names("pair", [f"{source} -> {target}"], pairs)
        i = int(hit[0])
        return TransitionStats(
            source=str(self.source[i]),
            target=str(self.target[i]),
            count=int(self.count[i]),
            mean=float(self.mean[i]),
            median=float(self.median[i]),
            min=float(self.min[i]),
            max=float(self.max[i]),
            total=float(self.total[i]),
            std=float(self.std[i]),
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "source": self.source,
            "target": self.target,
            "count": self.count,
            "mean_s": self.mean,
            "median_s": self.median,
            "min_s": self.min,
            "max_s": self.max,
            "total_s": self.total,
            "std_s": self.std,
        }

    def _summary(self) -> Mapping[str, object]:
        return {"pairs": self.n_pairs, "cases": self.n_cases, "events": self.n_events}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready contents, with start/end activities and variants beside the pairs.

        Examples:
            >>> import json
            >>> log = ss.EventLog.from_records([("d1", "lead", "2024-01-01")])
            >>> json.loads(json.dumps(ss.transitions(log).to_dict()))["start_activities"]
            {'lead': 1}
        """
        out = super().to_dict()
        out["start_activities"] = self.start_activities
        out["end_activities"] = self.end_activities
        variants, counts = _variants(self.log)
        out["variants"] = [
            {"variant": list(var), "count": int(c)} for var, c in zip(variants, counts, strict=True)
        ]
        return out

    def to_frame(
        self,
        *,
        backend: FrameBackend = "pandas",
        durations: Literal["timedelta", "seconds"] = "timedelta",
    ) -> Any:  # noqa: ANN401
        """One row per pair: ``source``, ``target``, ``count``, then the time statistics.

        Args:
            backend: ``"pandas"`` or ``"polars"``.
            durations: ``"timedelta"`` gives columns ``mean``, ``median``, ``min``, ``max``,
                ``total``, ``std`` as timedeltas; ``"seconds"`` gives float columns
                ``mean_s``, ``median_s``, ... named for their unit. ``total`` is a
                millisecond timedelta: a sum over thousands of deals passes the 292 years a
                nanosecond timedelta can hold (the other columns are nanosecond timedeltas).

        Returns:
            A DataFrame of the chosen library, most frequent pair first.

        Raises:
            ParameterError: If a time does not fit a timedelta (a total past 292 million
                years); ``durations="seconds"`` has no such limit.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-03")])
            >>> df = ss.transitions(log).to_frame()
            >>> df.columns.tolist()
            ['source', 'target', 'count', 'mean', 'median', 'min', 'max', 'total', 'std']
            >>> str(df["mean"].iloc[0])
            '2 days 00:00:00'
        """
        v.choice("durations", durations, ("timedelta", "seconds"))
        table = dict(self._table())
        if durations == "timedelta":
            for key in ("mean", "median", "min", "max", "total", "std"):
                seconds = table.pop(f"{key}_s")
                table[key] = _seconds_to_timedelta(
                    seconds, unit="ms" if key == "total" else "ns", name=key
                )
        return make_frame(table, backend=backend)


_PER_SECOND = {"ns": 1e9, "ms": 1e3}
# Largest whole count a float64 can hold that is below 2**63 (so the cast cannot wrap).
_MAX_TICKS = float(np.nextafter(2.0**63, 0.0))


def _seconds_to_timedelta(
    seconds: NDArray[np.float64], *, unit: Literal["ns", "ms"], name: str
) -> NDArray[np.timedelta64]:
    """Float seconds as timedeltas of `unit`, NaN as NaT; refuses a value that does not fit.

    Raises:
        ParameterError: If a value is beyond the int64 range of `unit`.
    """
    ticks = np.round(seconds * _PER_SECOND[unit])
    finite = ~np.isnan(ticks)
    too_big = finite & ~(np.abs(ticks) <= _MAX_TICKS)
    if too_big.any():
        worst = float(seconds[np.flatnonzero(too_big)[0]])
        raise ParameterError(
            f"{name} = {worst:.6g} seconds does not fit a timedelta64[{unit}]; "
            'pass durations="seconds" for float seconds.'
        )
    out = np.full(ticks.size, np.iinfo(np.int64).min, dtype=np.int64)
    out[finite] = ticks[finite].astype(np.int64)
    return out.view(f"timedelta64[{unit}]")


def transitions(log: EventLog) -> TransitionsResult:
    """Count directly-follows pairs and the time between their two events.

    A pair ``(a, b)`` occurs each time an event of activity ``b`` is the next event after an
    event of activity ``a`` in the same case (events in log order: by time, equal timestamps
    in input order). Its time is the difference of the two timestamps.

    Args:
        log: Events to analyse.

    Returns:
        Per pair the count and mean, median, min, max, total and standard deviation (ddof=1)
        of the times in seconds; plus start and end activity counts and the variants.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-03"),
        ...      ("d2", "lead", "2024-01-02"), ("d2", "won", "2024-01-06")])
        >>> tr = ss.transitions(log)
        >>> tr
        TransitionsResult(pairs=1, cases=2, events=4)
        >>> s = tr.at("lead", "won")
        >>> s.count, s.mean / 86400, s.median / 86400, round(s.std / 86400, 6)
        (2, 3.0, 3.0, 1.414214)
        >>> tr.variants, tr.variant_counts.tolist()
        ((('lead', 'won'),), [2])
    """
    v.instance("log", log, EventLog)
    n_act = log.n_activities
    act = log.activity
    t = log.time.view(np.int64)
    # Memory matters at ten million events: intermediates are small dtypes and are released
    # as soon as they have been used.
    src_idx = np.flatnonzero(log.case[1:] == log.case[:-1])
    pair_dtype = np.int32 if n_act * n_act < np.iinfo(np.int32).max else np.int64
    pair = act[src_idx].astype(pair_dtype)
    pair *= n_act
    pair += act[src_idx + 1]
    dur_ns = t[src_idx + 1]
    dur_ns -= t[src_idx]
    del src_idx

    # Group the moves by pair with one stable sort of the pair codes (an O(n) radix sort when
    # they fit in int16). Sums, min and max are per-run reductions; each pair's median is
    # read with np.partition on its run: a loop over pairs, never over events. With very
    # many distinct pairs one sort by (pair, duration) does it instead.
    if n_act * n_act <= np.iinfo(np.int16).max:
        order = np.argsort(pair.astype(np.int16), kind="stable")
    else:
        order = np.argsort(pair, kind="stable")
    pair_sorted = pair[order]
    del pair
    ns_sorted = dur_ns[order]
    del order, dur_ns
    if pair_sorted.size:
        boundary = np.empty(pair_sorted.size, dtype=bool)
        boundary[0] = True
        np.not_equal(pair_sorted[1:], pair_sorted[:-1], out=boundary[1:])
        starts = np.flatnonzero(boundary)
        del boundary
    else:
        starts = np.empty(0, dtype=np.intp)
    ends = np.append(starts[1:], pair_sorted.size)
    count = (ends - starts).astype(np.int64)
    codes = pair_sorted[starts].astype(np.int64)
    del pair_sorted
    seconds = _whole_seconds(ns_sorted) if 0 < count.size <= _MAX_RUN_SORTS else None
    if seconds is not None:
        # The usual export (times to the second): exact integer sums, order statistics by
        # partition. Exact sums cannot depend on the order of the moves.
        del ns_sorted
        total, mean, sq, mins, maxs, median = _second_stats(seconds, starts, ends)
        del seconds
    elif count.size:
        # Each pair's durations sorted in place: min, max and median are read by position,
        # and the sums run in one fixed order, so renaming or reordering cases cannot
        # change a result in its last bit.
        _sort_runs(ns_sorted, starts, ends)
        mins = ns_sorted[starts] / _NS
        maxs = ns_sorted[ends - 1] / _NS
        lo = starts + (count - 1) // 2
        hi = starts + count // 2
        dur_sorted = ns_sorted.astype(np.float64)
        del ns_sorted
        dur_sorted /= _NS
        total = np.add.reduceat(dur_sorted, starts)
        mean = total / count
        # Two-pass variance: squared deviations from each pair's own mean, summed per pair.
        deviation = np.repeat(mean, count)
        np.subtract(dur_sorted, deviation, out=deviation)
        np.square(deviation, out=deviation)
        sq = np.add.reduceat(deviation, starts)
        del deviation
        median = (dur_sorted[lo] + dur_sorted[hi]) / 2.0
        del dur_sorted
    else:
        total = mean = sq = mins = maxs = median = np.empty(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.where(count > 1, np.sqrt(sq / np.maximum(count - 1, 1)), np.nan)

    source_code = codes // max(n_act, 1)
    target_code = codes % max(n_act, 1)
    names = log.activity_names
    rank = np.lexsort((target_code, source_code, -count))

    start_names, start_counts = _tally(act[log.offsets[:-1]], n_act, names)
    end_names, end_counts = _tally(act[log.offsets[1:] - 1], n_act, names)
    return TransitionsResult(
        source=names[source_code[rank]],
        target=names[target_code[rank]],
        count=count[rank],
        mean=mean[rank],
        median=median[rank],
        min=mins[rank],
        max=maxs[rank],
        total=total[rank],
        std=std[rank],
        start_names=start_names,
        start_counts=start_counts,
        end_names=end_names,
        end_counts=end_counts,
        n_cases=log.n_cases,
        n_events=log.n_events,
        log=log,
    )


def _tally(
    codes: NDArray[np.int32], n: int, names: NDArray[np.object_]
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    counts = np.bincount(codes, minlength=n)
    present = np.flatnonzero(counts)
    order = present[np.lexsort((present, -counts[present]))]
    return names[order], counts[order].astype(np.int64)


# Two odd 64-bit multipliers for the sequence fingerprints (wrapping arithmetic).
_MULT_A = np.uint64(0x9E3779B97F4A7C15)
_MULT_B = np.uint64(0xC2B2AE3D27D4EB4F)


def case_variant_ids(log: EventLog) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Variant id of every case and, per variant, one representative case code.

    Two cases share a variant when their activity sequences are equal. Each sequence gets two
    independent 64-bit polynomial fingerprints plus its length (a collision needs all three to
    agree: odds of order n^2 / 2^128), computed with vectorised wrapping arithmetic.
    Variant ids are numbered by first representative case.
    """
    n = log.n_events
    pos = np.arange(n, dtype=np.int64) - np.repeat(log.offsets[:-1], log.case_lengths)
    sym = log.activity.astype(np.uint64) + np.uint64(1)
    keys = [log.case_lengths.astype(np.uint64)]
    with np.errstate(over="ignore"):
        for mult in (_MULT_A, _MULT_B):
            powers = _wrapping_powers(mult, pos)
            mixed = sym * powers
            keys.append(np.add.reduceat(mixed, log.offsets[:-1]))
    stacked = np.stack(keys, axis=1)
    _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), first.astype(np.int64)


def _wrapping_powers(base: np.uint64, exponent: NDArray[np.int64]) -> NDArray[np.uint64]:
    """``base ** exponent`` modulo 2^64, by square-and-multiply over the bits of `exponent`."""
    result = np.ones(exponent.size, dtype=np.uint64)
    square = np.uint64(base)
    e = exponent.copy()
    with np.errstate(over="ignore"):
        while e.any():
            odd = (e & 1).astype(bool)
            result[odd] *= square
            square = np.uint64(square * square)
            e >>= 1
    return result


def _variants(log: EventLog) -> tuple[tuple[tuple[str, ...], ...], NDArray[np.int64]]:
    ids, first = case_variant_ids(log)
    counts = np.bincount(ids, minlength=first.size)
    order = np.lexsort((first, -counts))
    names = log.activity_names
    seqs = []
    for k in order.tolist():
        c = int(first[k])
        lo, hi = int(log.offsets[c]), int(log.offsets[c + 1])
        seqs.append(tuple(str(a) for a in names[log.activity[lo:hi]]))
    return tuple(seqs), counts[order].astype(np.int64)


# Above this many distinct pairs, one lexsort by (pair, duration) beats a sort per pair.
_MAX_RUN_SORTS = 4096


_NS_PER_SECOND = 1_000_000_000
_LOW_BITS = 16


def _sort_runs(ns: NDArray[np.int64], starts: NDArray[np.intp], ends: NDArray[np.intp]) -> None:
    """Sort each run ``ns[starts[g]:ends[g]]`` in place (a loop over pairs, not events)."""
    if starts.size > _MAX_RUN_SORTS:
        run = np.repeat(np.arange(starts.size), ends - starts)
        ns[:] = ns[np.lexsort((ns, run))]
        return
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        ns[a:b].sort()


def _whole_seconds(ns: NDArray[np.int64]) -> NDArray[np.int32] | None:
    """The durations (never negative) as int32 seconds if all are whole seconds below 2**31."""
    if not ns.size or int(ns.max()) >= 2**31 * _NS_PER_SECOND:
        return None
    seconds = ns // _NS_PER_SECOND  # numpy divides by a constant without dividing
    if not bool((seconds * _NS_PER_SECOND == ns).all()):
        return None
    return seconds.astype(np.int32)


def _second_stats(
    seconds: NDArray[np.int32], starts: NDArray[np.intp], ends: NDArray[np.intp]
) -> tuple[NDArray[np.float64], ...]:
    """Total, mean, sum of squared deviations, min, max and median of each run, in seconds.

    Sums are exact integers: each duration is split into 15 high and 16 low bits so that
    every partial sum of squares fits int64 (for fewer than 2**31 moves), and each pair's
    sum of squares is put together in Python ints (a loop over pairs, not moves). The sum
    of squared deviations is then ``(n * S2 - S1**2) / n``, rounded once; min and max are
    reductions, and the median comes from partitioning each run around its middle.
    """
    wide = seconds.astype(np.int64)
    s1 = np.add.reduceat(wide, starts).tolist()
    high = wide >> _LOW_BITS
    low = wide & ((1 << _LOW_BITS) - 1)
    hh = np.add.reduceat(high * high, starts).tolist()
    hl = np.add.reduceat(high * low, starts).tolist()
    ll = np.add.reduceat(low * low, starts).tolist()
    del wide, high, low
    mins = np.minimum.reduceat(seconds, starts).astype(np.float64)
    maxs = np.maximum.reduceat(seconds, starts).astype(np.float64)
    n_runs = starts.size
    total, mean, sq, median = (np.empty(n_runs) for _ in range(4))
    runs = zip(starts.tolist(), ends.tolist(), s1, hh, hl, ll, strict=True)
    for g, (a, b, first, a2, ab, b2) in enumerate(runs):
        n = b - a
        second = (a2 << 2 * _LOW_BITS) + (ab << (_LOW_BITS + 1)) + b2
        total[g] = float(first)
        mean[g] = first / n
        sq[g] = (n * second - first * first) / n
        run = seconds[a:b]
        k1, k2 = (n - 1) // 2, n // 2
        run.partition([k1, k2] if k2 != k1 else k1)
        median[g] = (int(run[k1]) + int(run[k2])) / 2
    return total, mean, sq, mins, maxs, median
