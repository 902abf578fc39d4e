"""check_conformance against PM4Py's token-based replay of the same log.

Usage:
    PYTHONPATH=src python benchmarks/bench_conformance.py --events 1e6

Builds a seeded synthetic pipeline (salesstd.datasets.synthetic_pipeline) of about N events
with six open stages (skips and backward moves on), then times, best of `--repeat`:

- ``check_conformance(log, standard)`` with every rule on: required stages, no backward
  moves, an SLA per stage, a first-response limit, required activities in two stages and
  nothing after the close;
- PM4Py's token-based replay (``conformance_diagnostics_token_based_replay``) of the same
  log against the equivalent sequential Petri net (control flow only: a Petri net has no
  SLAs or activity counts), in the peer venv through ``peers/conformance_pm4py.py``;
  PM4Py's time includes building its event log from the DataFrame, not reading it.

The target is salesstd at least 30x faster. Ratios, not seconds, are the figures to
compare: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import salesstd as ss

PEER_PYTHON = Path("/work/peers-venv/bin/python")
PEER_SCRIPT = Path(__file__).resolve().parent / "peers" / "conformance_pm4py.py"
STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Contract")


def best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def pipeline(n_events: int) -> ss.datasets.SyntheticPipeline:
    """A synthetic pipeline of about `n_events` events."""
    probe = ss.datasets.synthetic_pipeline(2000, seed=0, stages=STAGES, skip=0.1, backward=0.05)
    per_deal = probe.log.n_events / probe.log.n_cases
    n_deals = max(10, round(n_events / per_deal))
    return ss.datasets.synthetic_pipeline(n_deals, seed=0, stages=STAGES, skip=0.1, backward=0.05)


def standard(funnel: ss.Funnel, activities: list[str]) -> ss.Standard:
    rules = ss.Rules(
        required_stages=STAGES,
        allow_backward=False,
        max_dwell_days=dict.fromkeys(STAGES, 30.0),
        first_response_days=2.0,
        required_activities={
            "Discovery": {activities[0]: 1},
            "Proposal": {activities[0]: 1, activities[1]: 1},
        },
        no_events_after_close=True,
    )
    return ss.Standard(funnel, rules, name="bench")


def peer(sim: ss.datasets.SyntheticPipeline, repeat: int) -> dict[str, object] | None:
    if not PEER_PYTHON.exists():
        print(f"(PM4Py peer skipped: {PEER_PYTHON} not found)")
        return None
    log = sim.log
    with tempfile.TemporaryDirectory() as tmp:
        npz, out = Path(tmp) / "log.npz", Path(tmp) / "res.json"
        np.savez(
            npz,
            case=log.case_names[log.case].astype(str),
            activity=log.activity_names[log.activity].astype(object),
            time=log.time,
            stages=np.array(STAGES, dtype=object),
            won=np.array(sim.funnel.won.name, dtype=object),
            lost=np.array([s.name for s in sim.funnel.lost], dtype=object),
        )
        cmd = [str(PEER_PYTHON), str(PEER_SCRIPT), "bench", "--npz", str(npz), "--out", str(out)]
        subprocess.run([*cmd, "--repeats", str(repeat)], check=True, capture_output=True)
        result: dict[str, object] = json.loads(out.read_text())
        return result


def run(n_events: int, repeat: int, *, with_peer: bool) -> None:
    start = time.perf_counter()
    sim = pipeline(n_events)
    log = sim.log
    activities = sorted(set(log.activities) - {s.name for s in sim.funnel.stages})
    std = standard(sim.funnel, activities)
    print(
        f"\n## {log.n_events:,} events, {log.n_cases:,} deals, six open stages "
        f"(generated in {time.perf_counter() - start:.1f}s)\n"
    )
    cold = best_of(lambda: ss.check_conformance(log, std), 1)
    res = ss.check_conformance(log, std)
    mine = best_of(lambda: ss.check_conformance(log, std), repeat)
    rows = [
        ("check_conformance, first call", cold, "cuts the log into stays"),
        ("check_conformance", mine, f"stays cached; fitting share {res.fitting_share:.4f}"),
    ]
    if with_peer:
        result = peer(sim, max(1, repeat // 2))
        if result is not None:
            control = ss.check_conformance(
                log,
                ss.Standard(
                    sim.funnel,
                    ss.Rules(
                        required_stages=STAGES, allow_backward=False, no_events_after_close=False
                    ),
                ),
            )
            pm4py_s = float(result["pm4py_s"])  # type: ignore[arg-type]
            rows.append(
                (
                    f"PM4Py {result['pm4py']} token replay",
                    pm4py_s,
                    (
                        f"fitting share {result['fitting_share']:.4f} "
                        f"(salesstd, control flow only: {control.fitting_share:.4f})"
                    ),
                )
            )
            rows.append(("ratio PM4Py / salesstd (first call)", pm4py_s / cold, "target >= 30x"))
    print("| job | seconds | note |")
    print("|---|---:|---|")
    for name, seconds, note in rows:
        unit = "x" if name.startswith("ratio") else "s"
        print(f"| {name} | {seconds:.3f}{unit} | {note} |")
    print(f"\nviolations: {res.n_violations:,}; per rule:")
    for rule in res.rules:
        print(f"  {rule}: {int((res.rule == rule).sum()):,}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--events", type=float, nargs="+", default=[1e6])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-peer", action="store_true", help="skip PM4Py")
    args = p.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}")
    for n in args.events:
        run(int(n), args.repeat, with_peer=not args.no_peer)


if __name__ == "__main__":
    main()
