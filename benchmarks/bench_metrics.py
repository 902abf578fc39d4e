"""Funnel metrics against transitions() on the same log, in the same run.

Usage:
    PYTHONPATH=src python benchmarks/bench_metrics.py --events 1e6 1e7

Builds a seeded synthetic B2B pipeline (salesstd.datasets.synthetic_pipeline) of about N events,
then times, best of `--repeat`:

- ``transitions(log)``: the baseline (one sort of the directly-follows pairs);
- ``conversion(log, funnel)`` and ``time_in_stage(log, funnel)``: the issue's target is that
  the two together take at most 2x the baseline;
- ``scorecard(by="rep")`` with the example standard (ten KPIs, every rule: the compliance
  KPI checks conformance) and with a funnel-only standard (the funnel's own KPIs): the
  issue's target is at most 2x the baseline;
- ``MarkovFunnel.from_log`` + ``bottlenecks``: at most 2x the baseline together;
- up to 2M events, ``MarkovFunnel.bootstrap(n_boot=200)``: under 30 s (absolute, 2 cores);
- for information, ``conversion_curves``, ``cycle_time`` and the flow metrics when present.

Ratios, not seconds, are the figures to compare: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import salesstd as ss
from salesstd._engine import episodes as _episodes

EVENTS_PER_DEAL = 9.5  # the generator's default mix gives about this many events per deal


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Best of `repeat` COLD runs: the episode cache is emptied first, so every metric pays
    for cutting the log into episodes as a lone call would."""
    best = float("inf")
    for _ in range(repeat):
        _episodes.clear_cache()  # the benchmark measures the uncached path
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_mib(fn: Callable[[], object]) -> float:
    _episodes.clear_cache()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run(n_events: int, repeat: int) -> None:
    n_deals = max(10, int(n_events / EVENTS_PER_DEAL))
    start = time.perf_counter()
    sp = ss.datasets.synthetic_pipeline(n_deals, seed=0)
    log, funnel = sp.log, sp.funnel
    print(
        f"\n## {log.n_events:,} events, {log.n_cases:,} deals "
        f"(generated in {time.perf_counter() - start:.1f}s)\n"
    )
    jobs: dict[str, Callable[[], object]] = {"transitions (baseline)": lambda: ss.transitions(log)}
    jobs["conversion"] = lambda: ss.conversion(log, funnel)
    jobs["time_in_stage"] = lambda: ss.time_in_stage(log, funnel)
    optional = {
        "conversion_curves": lambda: ss.conversion_curves(log, funnel),
        "cycle_time": lambda: ss.cycle_time(log, funnel),
        "wip": lambda: ss.wip(log, funnel),
        "throughput": lambda: ss.throughput(log, funnel),
        "stuck": lambda: ss.stuck(log, funnel),
    }
    jobs.update({name: fn for name, fn in optional.items() if hasattr(ss, name)})
    if hasattr(ss, "scorecard"):
        standard = ss.Standard.example()  # written for this generator's funnel
        jobs["check_conformance"] = lambda: ss.check_conformance(log, standard)
        jobs["scorecard(by='rep')"] = lambda: ss.scorecard(log, standard, by="rep")
        funnel_only = ss.Standard(funnel)  # no KPIs: the funnel's own (win rate, steps, cycle)
        jobs["scorecard(by='rep'), funnel KPIs"] = lambda: ss.scorecard(log, funnel_only, by="rep")
    if hasattr(ss, "MarkovFunnel") and hasattr(ss, "bottlenecks"):
        jobs["MarkovFunnel.from_log"] = lambda: ss.MarkovFunnel.from_log(log, funnel)
        jobs["bottlenecks"] = lambda: ss.bottlenecks(log, funnel)
    if hasattr(ss, "MarkovFunnel") and n_events <= 2_000_000:
        # Issue 4: a 200-replicate case bootstrap on 1M events in under 30 s (absolute).
        jobs["MarkovFunnel.bootstrap(n_boot=200)"] = lambda: ss.MarkovFunnel.bootstrap(
            log, funnel, n_boot=200, seed=1
        )
    seconds = {name: best_of(fn, repeat) for name, fn in jobs.items()}
    base = seconds["transitions (baseline)"]
    judged = log.n_events >= 10_000_000  # the ratio targets are stated at 10M events

    def verdict(ratio: float) -> str:
        if not judged:
            return "(the target is at 10M events)"
        return "PASS" if ratio <= 2.0 else "FAIL"

    print("| method | seconds | x transitions | peak MiB |")
    print("|---|---:|---:|---:|")
    for name, fn in jobs.items():
        ratio = seconds[name] / base
        print(f"| {name} | {seconds[name]:.3f} | {ratio:.2f} | {peak_mib(fn):,.1f} |")
    both = seconds["conversion"] + seconds["time_in_stage"]
    print(
        f"\n(conversion + time_in_stage) / transitions = {both / base:.2f} "
        f"(target <= 2.0) {verdict(both / base)}"
    )
    for name in ("scorecard(by='rep')", "scorecard(by='rep'), funnel KPIs"):
        if name in seconds:
            ratio = seconds[name] / base
            print(f"{name} / transitions = {ratio:.2f} (target <= 2.0) {verdict(ratio)}")
    if "MarkovFunnel.bootstrap(n_boot=200)" in seconds:
        boot = seconds["MarkovFunnel.bootstrap(n_boot=200)"]
        ok = "PASS" if boot < 30 else "FAIL"
        print(f"MarkovFunnel.bootstrap(n_boot=200) = {boot:.2f} s (target < 30 s) {ok}")
    if "bottlenecks" in seconds:
        markov = seconds["MarkovFunnel.from_log"] + seconds["bottlenecks"]
        print(
            f"(MarkovFunnel.from_log + bottlenecks) / transitions = {markov / base:.2f} "
            f"(target <= 2.0) {verdict(markov / base)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for n in args.events:
        run(int(n), args.repeat)


if __name__ == "__main__":
    main()
