"""PM4Py token-based replay as a peer of ``salesstd.check_conformance``.

PM4Py is AGPL-3.0: this script only *calls* it as an installed peer library (run it with the
peer venv's python); no PM4Py code is copied into salesstd.

Two modes::

    # BPIC 2012 (A_ events, lifecycle complete): write the fitting share and the
    # non-fitting case ids as the fixture tests/data/pm4py_bpic2012_conformance.json
    /work/peers-venv/bin/python benchmarks/peers/conformance_pm4py.py bpic \\
        --xes ../shared/data/bpic2012/BPI_Challenge_2012.xes.gz \\
        --out tests/data/pm4py_bpic2012_conformance.json

    # benchmark: replay a log written by benchmarks/bench_conformance.py, timed
    /work/peers-venv/bin/python benchmarks/peers/conformance_pm4py.py bench \\
        --npz log.npz --out res.json

The Petri net is the sequential model equivalent to a linear funnel standard that requires
every open stage, forbids backward moves and ignores events after the close:

* places ``p0`` (start), ``p1`` .. ``pN`` (in open stage 1 .. N), ``closed`` and ``end``;
* stage ``i`` is a transition ``p(i-1) -> p(i)``, and a self-loop on ``p(i)`` with the same
  label (a repeated event of the stage the deal is in; salesstd merges them into one stay);
* each won label is a transition ``pN -> closed``; each lost label a transition
  ``p(i) -> closed`` for every open stage ``i`` (a deal may be lost from any stage, as the
  funnel's edges say);
* ``closed`` has a self-loop for every label (events after the close are not checked) and a
  silent transition to ``end``; every ``p(i)`` has a silent transition to ``end`` (an open
  deal that followed the process so far fits);
* initial marking ``p0``, final marking ``end``.

Silent transitions lead only to ``end`` and ``end`` has no visible transition, so PM4Py's
search for silent transitions that enable a visible one can never skip a stage; it only
completes a trace to the final marking.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

BPIC_STAGES = ("A_SUBMITTED", "A_PARTLYSUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "A_FINALIZED")
BPIC_WON = ("A_APPROVED", "A_REGISTERED", "A_ACTIVATED")
BPIC_LOST = ("A_DECLINED", "A_CANCELLED")


def sequential_net(stages, won, lost, labels, *, lost_from=None, open_end=True, free=()):
    """The Petri net described in the module docstring, with its markings.

    `lost_from` maps a lost label to the open stages it may follow (default: all);
    ``open_end=False`` drops the silent transitions from the open stages to ``end`` (a
    classic workflow net: a trace fits only if it ends in an outcome). `free` are non-stage
    activities: a self-loop on every stage place for each (they may happen in any stage).
    """
    from pm4py.objects.petri_net.obj import Marking, PetriNet  # noqa: PLC0415
    from pm4py.objects.petri_net.utils import petri_utils  # noqa: PLC0415

    net = PetriNet("sequential funnel")
    places = [PetriNet.Place(f"p{i}") for i in range(len(stages) + 1)]
    closed, end = PetriNet.Place("closed"), PetriNet.Place("end")
    for p in [*places, closed, end]:
        net.places.add(p)
    count = 0

    def arc(src, dst, label):
        nonlocal count
        count += 1
        t = PetriNet.Transition(f"t{count}", label)
        net.transitions.add(t)
        petri_utils.add_arc_from_to(src, t, net)
        petri_utils.add_arc_from_to(t, dst, net)

    for i, stage in enumerate(stages):
        arc(places[i], places[i + 1], stage)
        arc(places[i + 1], places[i + 1], stage)
        for label in free:
            arc(places[i + 1], places[i + 1], label)
    for label in won:
        arc(places[-1], closed, label)
    for label in lost:
        allowed = (lost_from or {}).get(label, stages)
        for stage, p in zip(stages, places[1:], strict=True):
            if stage in allowed:
                arc(p, closed, label)
    for label in labels:
        arc(closed, closed, label)
    arc(closed, end, None)
    if open_end:
        for p in places[1:]:
            arc(p, end, None)
    im, fm = Marking(), Marking()
    im[places[0]] = 1
    fm[end] = 1
    return net, im, fm


def replay(df: pd.DataFrame, stages, won, lost, **net_options) -> tuple[list[str], int, float]:
    """Token-based replay of a formatted dataframe; (non-fitting case ids, cases, seconds)."""
    import pm4py  # noqa: PLC0415

    labels = sorted({*stages, *won, *lost, *df["concept:name"].unique().tolist()})
    net, im, fm = sequential_net(stages, won, lost, labels, **net_options)
    t0 = time.perf_counter()
    log = pm4py.convert_to_event_log(df, case_id_key="case:concept:name")
    diagnostics = pm4py.conformance_diagnostics_token_based_replay(log, net, im, fm)
    seconds = time.perf_counter() - t0
    # One diagnostic per trace, in the order of the traces of the log.
    cases = [str(trace.attributes["concept:name"]) for trace in log]
    non_fitting = [c for c, d in zip(cases, diagnostics, strict=True) if not d["trace_is_fit"]]
    return non_fitting, len(cases), seconds


def bpic(args: argparse.Namespace) -> None:
    import pm4py  # noqa: PLC0415

    df = pm4py.read_xes(str(args.xes))
    df = df[(df["lifecycle:transition"].str.upper() == "COMPLETE")]
    df = df[df["concept:name"].str.startswith("A_")]
    df = df.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    df = df[["case:concept:name", "concept:name", "time:timestamp"]].reset_index(drop=True)
    models = {
        "sequential": ({}, "lost from any open stage; open deals fit"),
        "cancel_after_offer": (
            {"lost_from": {"A_CANCELLED": ("A_ACCEPTED", "A_FINALIZED")}},
            "as sequential, but A_CANCELLED only from A_ACCEPTED or A_FINALIZED",
        ),
        "must_close": (
            {"open_end": False},
            "as sequential, without the silent moves to the end: a trace must reach an outcome",
        ),
    }
    out: dict[str, object] = {
        "source": "BPI Challenge 2012, A_ events with lifecycle complete",
        "pm4py": getattr(pm4py, "__version__", "?"),
        "method": "pm4py.conformance_diagnostics_token_based_replay; trace_is_fit",
        "net": "sequential Petri net of benchmarks/peers/conformance_pm4py.py",
        "stages": list(BPIC_STAGES),
        "won": list(BPIC_WON),
        "lost": list(BPIC_LOST),
    }
    for name, (options, description) in models.items():
        non_fitting, n_cases, seconds = replay(df, BPIC_STAGES, BPIC_WON, BPIC_LOST, **options)
        out[name] = {
            "model": description,
            "n_cases": n_cases,
            "n_fitting": n_cases - len(non_fitting),
            "fitting_share": (n_cases - len(non_fitting)) / n_cases,
            "replay_seconds": round(seconds, 2),
            "non_fitting_cases": sorted(non_fitting, key=lambda c: (len(c), c)),
        }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


def bench(args: argparse.Namespace) -> None:
    import pm4py  # noqa: PLC0415

    data = np.load(args.npz, allow_pickle=True)
    stages = tuple(data["stages"].tolist())
    won = (str(data["won"]),)
    lost = tuple(data["lost"].tolist())
    df = pd.DataFrame(
        {
            "case:concept:name": pd.Series(data["case"]).astype(str),
            "concept:name": pd.Series(data["activity"], dtype=object),
            "time:timestamp": pd.to_datetime(data["time"], utc=True),
        }
    )
    best = float("inf")
    non_fitting: list[str] = []
    n_cases = 0
    free = sorted(set(df["concept:name"].unique().tolist()) - {*stages, *won, *lost})
    for _ in range(args.repeats):
        non_fitting, n_cases, seconds = replay(df, stages, won, lost, free=free)
        best = min(best, seconds)
    out = {
        "pm4py": getattr(pm4py, "__version__", "?"),
        "python": sys.version.split()[0],
        "n_events": len(df),
        "n_cases": n_cases,
        "fitting_share": (n_cases - len(non_fitting)) / n_cases,
        "pm4py_s": best,
    }
    Path(args.out).write_text(json.dumps(out, indent=2))


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("bpic")
    b.add_argument("--xes", type=Path, required=True)
    b.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("bench")
    c.add_argument("--npz", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--repeats", type=int, default=1)
    args = p.parse_args()
    bpic(args) if args.mode == "bpic" else bench(args)


if __name__ == "__main__":
    main()
