"""Foundation benchmark (issue 2): EventLog construction + transitions vs baselines.

Plain script, not a timed test: the machine is shared and noisy, so every figure
is reported as a ratio against a numpy baseline ("the floor") measured in the
same run (and, for PM4Py, in the same process).  See benchmarks/README.md.

    PYTHONPATH=src python benchmarks/bench_foundation.py --events 1000000 10000000
    PYTHONPATH=src python benchmarks/bench_foundation.py --events 1e5        # quick check

For each size N it builds one seeded, shuffled synthetic log and measures
(best of --repeats with time.perf_counter; peak memory from one separate
tracemalloc run):

* numpy floor (tuned) -- the reference, ratio 1.00;
* numpy, brief recipe -- np.unique factorize + np.lexsort, for reference;
* salesstd: from_arrays + transitions, each part alone, from_frame per dtype;
* idiomatic pandas: sort_values / groupby.shift / groupby.agg, per dtype;
* PM4Py format_dataframe + discover_performance_dfg, in a subprocess under the
  peer venv, with its own in-process numpy floor (sizes <= --pm4py-max only).

Correctness: the floor is checked against pandas and salesstd is checked against
the floor (counts and means must match; failure raises AssertionError after the
table is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import (  # noqa: E402
    FloorResult,
    SyntheticLog,
    best_of,
    make_log,
    numpy_floor,
    save_npz,
    traced_peak,
)

DEFAULT_PEER_PYTHON = Path("/work/peers-venv/bin/python")
FRAME_KINDS = ("category", "object", "str")
MIB = 2**20

TARGET_FLOOR_RATIO = 1.5  # (a) salesstd from_arrays+transitions / floor at 1e7
TARGET_PM4PY_RATIO = 5.0  # (b) PM4Py / salesstd at 1e6
TARGET_MEMORY_RATIO = 3.0  # (c) salesstd peak traced memory / input bytes

SS_COMBINED = "salesstd from_arrays + transitions"
FLOOR = "numpy floor (tuned)"
PEER_FLOOR = "numpy floor (tuned), PM4Py process"
PM4PY = "PM4Py format_dataframe + discover_performance_dfg"


@dataclass
class Row:
    method: str
    seconds: float
    peak_bytes: int | None
    base: str = "main"  # which floor the ratio is against: "main" or "peer"
    note: str = ""


def _positive_size(text: str) -> int:
    value = int(float(text))
    if value < 2:
        raise argparse.ArgumentTypeError("event count must be >= 2")
    return value


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--events",
        type=_positive_size,
        nargs="+",
        default=[1_000_000, 10_000_000],
        help="event counts to run; accepts 1e5-style (default: 1e6 1e7)",
    )
    p.add_argument("--repeats", type=int, default=3, help="timed repeats, best is kept (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--case-kind",
        choices=("int", "str"),
        default="int",
        help="case ids as int64 (default) or 'c123' str objects (heavy at 1e7)",
    )
    p.add_argument(
        "--tie-fraction",
        type=float,
        default=0.01,
        help="share of within-case gaps that are exactly 0 (default 0.01)",
    )
    p.add_argument(
        "--frame-kinds",
        default=",".join(FRAME_KINDS),
        help="activity column dtypes for from_frame and pandas: category,object,str",
    )
    p.add_argument(
        "--skip",
        default="",
        help="comma list of groups to skip: recipe,salesstd,frame,pandas,pm4py",
    )
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    p.add_argument(
        "--pm4py-python",
        default=str(DEFAULT_PEER_PYTHON) if DEFAULT_PEER_PYTHON.exists() else "",
        help="python of the venv that has pm4py (default /work/peers-venv/bin/python if present)",
    )
    p.add_argument(
        "--pm4py-max",
        type=_positive_size,
        default=1_000_000,
        help="largest size PM4Py is run at (default 1e6)",
    )
    p.add_argument("--pm4py-all", action="store_true", help="run PM4Py at every size")
    p.add_argument(
        "--pm4py-timeout",
        type=float,
        default=3600.0,
        help="seconds before the PM4Py subprocess is killed",
    )
    p.add_argument(
        "--json", dest="json_out", default="", help="also write all results to this JSON file"
    )
    args = p.parse_args()
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.frame_kinds = [k.strip() for k in args.frame_kinds.split(",") if k.strip()]
    bad = set(args.frame_kinds) - set(FRAME_KINDS)
    if bad:
        p.error(f"unknown --frame-kinds {sorted(bad)}")
    return args


def _progress(msg: str) -> None:
    print(f"  .. {msg}", file=sys.stderr, flush=True)


def _import_salesstd() -> tuple[Any, str]:
    """Import salesstd; fall back to the repo's src/ if it is not on the path."""
    try:
        import salesstd as ss  # noqa: PLC0415
    except ImportError:
        sys.path.insert(0, str(HERE.parent / "src"))
        try:
            import salesstd as ss  # noqa: PLC0415
        except ImportError as exc:
            return None, f"salesstd not importable ({exc})"
    missing = [name for name in ("EventLog", "transitions") if not hasattr(ss, name)]
    if missing:
        return None, f"salesstd imported but lacks {missing}"
    return ss, f"salesstd {getattr(ss, '__version__', '?')} from {Path(ss.__file__).parent}"


# ---------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------


def make_frame(log: SyntheticLog, kind: str) -> pd.DataFrame:
    """The three columns as a pandas DataFrame with activity as category/object/str."""
    if kind == "category":
        activity = pd.Series(
            pd.Categorical.from_codes(log.activity_codes, categories=list(log.activity_names))
        )
    elif kind == "object":
        activity = pd.Series(log.activity, dtype=object, copy=True)
    else:  # pandas 3 default for str data
        activity = pd.Series(log.activity, dtype="str")
    case = pd.Series(log.case, copy=True)
    if log.case.dtype == object:
        case = case.astype("str" if kind == "str" else object)
    return pd.DataFrame(
        {"case": case, "activity": activity, "time": pd.Series(log.time, copy=True)}
    )


def pandas_idiomatic(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """What a pandas user would write for the same outputs."""
    d = df.sort_values(["case", "time"], kind="stable")
    g = d.groupby("case", sort=False)
    pairs = pd.DataFrame(
        {
            "src": d["activity"],
            "dst": g["activity"].shift(-1),
            "dur": (g["time"].shift(-1) - d["time"]).dt.total_seconds(),
        }
    ).dropna()
    stats = pairs.groupby(["src", "dst"], observed=True, sort=True)["dur"].agg(
        ["count", "mean", "median", "min", "max", "sum", "std"]
    )
    starts = g["activity"].first().value_counts()
    ends = g["activity"].last().value_counts()
    return stats, starts, ends


# ---------------------------------------------------------------------------
# correctness
# ---------------------------------------------------------------------------

_STAT_FIELDS = ("count", "mean", "median", "min", "max", "total", "std")


def _aligned(
    ref: FloorResult, source: Any, target: Any, stats: dict[str, Any]
) -> tuple[list[str], dict[str, str]]:
    """Compare per-pair stats to the floor; returns (hard failures, soft notes)."""
    ref_idx = {
        (s, t): i
        for i, (s, t) in enumerate(zip(ref.source.tolist(), ref.target.tolist(), strict=True))
    }
    keys = [(str(s), str(t)) for s, t in zip(list(source), list(target), strict=True)]
    hard: list[str] = []
    soft: dict[str, str] = {}
    if set(keys) != set(ref_idx) or len(keys) != len(ref_idx):
        extra = sorted(set(keys) - set(ref_idx))[:5]
        lost = sorted(set(ref_idx) - set(keys))[:5]
        hard.append(
            f"pair set differs ({len(keys)} vs floor {len(ref_idx)}; extra {extra}, missing {lost})"
        )
        return hard, soft
    order = np.array([ref_idx[k] for k in keys])
    for name in _STAT_FIELDS:
        if name not in stats:
            soft[name] = "not compared"
            continue
        mine = np.asarray(stats[name], dtype=np.float64)
        theirs = np.asarray(getattr(ref, name), dtype=np.float64)[order]
        if name == "count":
            bad = mine != theirs
        else:
            bad = ~np.isclose(mine, theirs, rtol=1e-9, atol=1e-6, equal_nan=True)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            got, want = float(mine[i]), float(theirs[i])
            msg = f"{int(bad.sum())} pairs differ, e.g. {keys[i]}: {got!r} vs floor {want!r}"
            if name in ("count", "mean"):
                hard.append(f"{name}: {msg}")
            else:
                soft[name] = msg
        else:
            soft[name] = "ok"
    return hard, soft


def check_pandas(
    ref: FloorResult, out: tuple[pd.DataFrame, pd.Series, pd.Series], label: str
) -> list[str]:
    stats, starts, ends = out
    src = stats.index.get_level_values(0)
    dst = stats.index.get_level_values(1)
    cols = {
        "count": stats["count"],
        "mean": stats["mean"],
        "median": stats["median"],
        "min": stats["min"],
        "max": stats["max"],
        "total": stats["sum"],
        "std": stats["std"],
    }
    hard, soft = _aligned(ref, src, dst, cols)
    hard += [
        f"{k}: {v}" for k, v in soft.items() if v != "ok"
    ]  # pandas vs floor must agree on everything
    if {str(k): int(v) for k, v in starts.items()} != ref.start_activities:
        hard.append("start activity counts differ")
    if {str(k): int(v) for k, v in ends.items()} != ref.end_activities:
        hard.append("end activity counts differ")
    return [f"floor vs pandas ({label}): {h}" for h in hard]


def _salesstd_stats(tr: Any) -> tuple[Any, Any, dict[str, Any]]:
    attrs = {
        "count": "count",
        "mean": "mean",
        "median": "median",
        "min": "min",
        "max": "max",
        "total": "total",
        "std": "std",
    }
    if all(hasattr(tr, a) for a in ("source", "target", *attrs.values())):
        return tr.source, tr.target, {k: getattr(tr, v) for k, v in attrs.items()}
    fr = tr.to_frame()
    cols = {
        "count": "count",
        "mean": "mean_s",
        "median": "median_s",
        "min": "min_s",
        "max": "max_s",
        "total": "total_s",
        "std": "std_s",
    }
    return fr["source"], fr["target"], {k: fr[c] for k, c in cols.items() if c in fr}


def check_salesstd(ref: FloorResult, tr: Any, label: str) -> tuple[list[str], dict[str, str]]:
    source, target, stats = _salesstd_stats(tr)
    hard, soft = _aligned(ref, source, target, stats)
    for which in ("start_activities", "end_activities"):
        got = getattr(tr, which, None)
        if got is None:
            soft[which] = "not available"
        elif {str(k): int(v) for k, v in dict(got).items()} != getattr(ref, which):
            soft[which] = "differs from floor"
        else:
            soft[which] = "ok"
    return [f"salesstd ({label}) vs floor: {h}" for h in hard], soft


# ---------------------------------------------------------------------------
# PM4Py (subprocess under the peer venv)
# ---------------------------------------------------------------------------


def run_pm4py(log: SyntheticLog, args: argparse.Namespace) -> tuple[dict[str, Any] | None, str]:
    py = args.pm4py_python
    if not py or not Path(py).exists():
        return None, f"PM4Py skipped: peer python {py or '(none)'} not found (use --pm4py-python)"
    script = HERE / "peers" / "bench_pm4py.py"
    with tempfile.TemporaryDirectory(prefix="salesstd-bench-") as td:
        npz = Path(td) / "log.npz"
        out = Path(td) / "pm4py.json"
        save_npz(log, str(npz))
        cmd = [
            py,
            str(script),
            "--npz",
            str(npz),
            "--out",
            str(out),
            "--repeats",
            str(args.repeats),
        ]
        if args.no_memory:
            cmd.append("--no-memory")
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=args.pm4py_timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return (
                None,
                f"PM4Py skipped: subprocess exceeded --pm4py-timeout {args.pm4py_timeout:.0f}s",
            )
        if proc.returncode != 0 or not out.exists():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
            return None, f"PM4Py run failed (rc={proc.returncode}):\n{tail}"
        return json.loads(out.read_text()), "ok"


# ---------------------------------------------------------------------------
# one size
# ---------------------------------------------------------------------------


def run_size(n: int, args: argparse.Namespace, ss: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    log = make_log(n, seed=args.seed, case_kind=args.case_kind, tie_fraction=args.tie_fraction)
    input_bytes = log.input_bytes()
    print(f"\n## N = {n:,} events\n")
    print(
        f"{log.n_cases:,} cases (mean length {n / log.n_cases:.2f}), "
        f"{log.activity_names.size} activities, "
        f"case ids {log.case.dtype}, input arrays {input_bytes / MIB:.1f} MiB "
        f"(case {log.case.dtype} + activity object + time datetime64[ns]); "
        f"built in {time.perf_counter() - t0:.1f}s"
    )
    rows: list[Row] = []
    failures: list[str] = []
    notes: list[str] = []
    memory = not args.no_memory

    def measure(name: str, fn: Any, setup: Any = None) -> Row | None:
        _progress(f"N={n:,}: {name}")
        try:
            secs = best_of(fn, args.repeats, setup)
            peak = traced_peak(fn, setup) if memory else None
        except Exception as exc:  # noqa: BLE001 -- salesstd is moving; report and go on
            notes.append(f"{name}: FAILED with {type(exc).__name__}: {exc}")
            return None
        row = Row(name, secs, peak)
        rows.append(row)
        return row

    # --- the floor -----------------------------------------------------------
    stage_runs: list[dict[str, float]] = []

    def floor_fn() -> None:
        stage_runs.append(numpy_floor(log.case, log.activity, log.time).stages)

    measure(FLOOR, floor_fn)
    stages = min(stage_runs, key=lambda s: sum(s.values()))
    ref = numpy_floor(log.case, log.activity, log.time)
    if "recipe" not in args.skip:
        measure(
            "numpy, brief recipe (np.unique + lexsort)",
            lambda: numpy_floor(log.case, log.activity, log.time, tuned=False),
        )

    # --- salesstd --------------------------------------------------------------
    if ss is not None and "salesstd" not in args.skip:

        def from_arrays() -> Any:
            return ss.EventLog.from_arrays(case=log.case, activity=log.activity, time=log.time)

        measure(SS_COMBINED, lambda: ss.transitions(from_arrays()))
        measure("salesstd from_arrays", from_arrays)
        measure(
            "salesstd transitions (fresh prebuilt log each repeat)",
            ss.transitions,
            setup=from_arrays,
        )
        try:
            hard, soft = check_salesstd(ref, ss.transitions(from_arrays()), "from_arrays")
            failures += hard
            notes.append(
                "salesstd vs floor (from_arrays): " + ", ".join(f"{k} {v}" for k, v in soft.items())
            )
        except Exception as exc:  # noqa: BLE001
            failures.append(
                f"salesstd transitions result could not be checked: {type(exc).__name__}: {exc}"
            )

    # --- frames: salesstd.from_frame, then idiomatic pandas --------------------
    if ss is not None and "salesstd" not in args.skip and "frame" not in args.skip:
        for kind in args.frame_kinds:
            df = make_frame(log, kind)

            def from_frame(df: pd.DataFrame = df) -> Any:
                return ss.EventLog.from_frame(df, case="case", activity="activity", time="time")

            measure(f"salesstd from_frame (activity {kind})", from_frame)
            try:
                hard, _ = check_salesstd(ref, ss.transitions(from_frame()), f"from_frame {kind}")
                failures += hard
            except Exception as exc:  # noqa: BLE001
                failures.append(
                    f"salesstd from_frame ({kind}) could not be checked: "
                    f"{type(exc).__name__}: {exc}"
                )
            del df, from_frame
    if "pandas" not in args.skip:
        for kind in args.frame_kinds:
            df = make_frame(log, kind)
            measure(f"pandas idiomatic (activity {kind})", lambda df=df: pandas_idiomatic(df))
            failures += check_pandas(ref, pandas_idiomatic(df), kind)
            del df

    # --- PM4Py -----------------------------------------------------------------
    pm: dict[str, Any] | None = None
    if "pm4py" not in args.skip:
        if n <= args.pm4py_max or args.pm4py_all:
            _progress(f"N={n:,}: PM4Py subprocess ({args.pm4py_python})")
            pm, msg = run_pm4py(log, args)
            if pm is None:
                notes.append(msg)
            else:
                rows.append(Row(PEER_FLOOR, pm["floor_s"], pm["floor_peak_bytes"], base="peer"))
                rows.append(
                    Row(
                        PM4PY,
                        pm["pm4py_s"],
                        pm["pm4py_peak_bytes"],
                        base="peer",
                        note=f"format {pm['pm4py_format_s']:.2f}s + dfg {pm['pm4py_dfg_s']:.2f}s",
                    )
                )
                notes.append(
                    f"PM4Py {pm['pm4py']} (numpy {pm['numpy']}, pandas {pm['pandas']}) vs floor: "
                    + ", ".join(
                        f"{k.removesuffix('_match')} {'ok' if v else 'DIFFERS'}"
                        for k, v in pm["check"].items()
                    )
                )
        else:
            notes.append(
                f"PM4Py not run at N={n:,} (> --pm4py-max {args.pm4py_max:,}; use --pm4py-all)"
            )

    # --- report ------------------------------------------------------------------
    floors = {
        "main": next(r.seconds for r in rows if r.method == FLOOR),
        "peer": next((r.seconds for r in rows if r.method == PEER_FLOOR), float("nan")),
    }
    print()
    print("| method | seconds | x floor | peak MiB | peak / input |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        ratio = r.seconds / floors[r.base]
        mark = " †" if r.base == "peer" else ""
        peak = "n/a" if r.peak_bytes is None else f"{r.peak_bytes / MIB:,.1f}"
        per_in = "n/a" if r.peak_bytes is None else f"{r.peak_bytes / input_bytes:.2f}"
        name = r.method + (f" ({r.note})" if r.note else "")
        print(f"| {name} | {r.seconds:.3f} | {ratio:.2f}{mark} | {peak} | {per_in} |")
    print()
    print(
        "floor stages (best run): "
        + ", ".join(f"{k} {v:.3f}s" for k, v in stages.items())
        + f"; {ref.count.size} transition pairs, {int(ref.count.sum()):,} transitions"
    )
    if any(r.base == "peer" for r in rows):
        print(
            "† ratio against the numpy floor timed inside the PM4Py process (same code, peer venv)."
        )
    print(
        "peak = traced bytes newly allocated during one call (tracemalloc); "
        "input = the three input arrays."
    )
    for note in notes:
        print(f"- {note}")

    result = {
        "n_events": n,
        "n_cases": log.n_cases,
        "input_bytes": input_bytes,
        "floor_stages": stages,
        "rows": [asdict(r) for r in rows],
        "notes": notes,
        "failures": failures,
        "pm4py": pm,
    }
    if failures:
        print("\nCORRECTNESS FAILURES:")
        for f in failures:
            print(f"- {f}")
    return result


# ---------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------


def _row(res: dict[str, Any], method: str) -> dict[str, Any] | None:
    return next((r for r in res["rows"] if r["method"] == method), None)


def _verdict(ok: bool) -> str:  # noqa: FBT001
    return "PASS" if ok else "FAIL"


def summary(results: list[dict[str, Any]]) -> None:
    print("\n## Done-when figures\n")
    by_n = {r["n_events"]: r for r in results}

    # (a) salesstd / floor at 1e7 (or the largest size run)
    big = by_n.get(10_000_000) or by_n[max(by_n)]
    ss_row, fl_row = _row(big, SS_COMBINED), _row(big, FLOOR)
    rec_row = _row(big, "numpy, brief recipe (np.unique + lexsort)")
    label = f"N={big['n_events']:,}" + ("" if big["n_events"] == 10_000_000 else " (1e7 not run)")
    if ss_row and fl_row:
        ratio = ss_row["seconds"] / fl_row["seconds"]
        extra = (
            f"; vs brief-recipe floor {ss_row['seconds'] / rec_row['seconds']:.2f}"
            if rec_row
            else ""
        )
        print(
            f"(a) {label}: salesstd (from_arrays + transitions) / numpy floor = {ratio:.2f} "
            f"(target <= {TARGET_FLOOR_RATIO}) {_verdict(ratio <= TARGET_FLOOR_RATIO)}{extra}"
        )
    else:
        print(f"(a) {label}: n/a (salesstd not measured)")

    # (b) PM4Py / salesstd at 1e6 (or the largest size with both)
    cands = [r for r in results if _row(r, PM4PY) and _row(r, SS_COMBINED)]
    if cands:
        res = (
            by_n[1_000_000]
            if 1_000_000 in {r["n_events"] for r in cands}
            else max(cands, key=lambda r: r["n_events"])
        )
        pm, ssr = _row(res, PM4PY), _row(res, SS_COMBINED)
        pf, mf = _row(res, PEER_FLOOR), _row(res, FLOOR)
        direct = pm["seconds"] / ssr["seconds"]
        bridged = (pm["seconds"] / pf["seconds"]) / (ssr["seconds"] / mf["seconds"])
        print(
            f"(b) N={res['n_events']:,}: PM4Py (format + perf DFG) / "
            "salesstd (from_arrays + transitions) = "
            f"{bridged:.1f} bridged via each process's own floor, {direct:.1f} direct "
            f"(target >= {TARGET_PM4PY_RATIO}) "
            f"{_verdict(min(bridged, direct) >= TARGET_PM4PY_RATIO)}"
        )
    else:
        have_pm = [r for r in results if _row(r, PM4PY)]
        if have_pm:
            r = max(have_pm, key=lambda r: r["n_events"])
            print(
                f"(b) n/a (salesstd not measured); PM4Py / numpy floor = "
                f"{_row(r, PM4PY)['seconds'] / _row(r, PEER_FLOOR)['seconds']:.1f} "
                f"at N={r['n_events']:,}"
            )
        else:
            print("(b) n/a (PM4Py not measured)")

    # (c) salesstd peak traced memory / input bytes, worst size
    mem = [
        (r["n_events"], _row(r, SS_COMBINED)["peak_bytes"] / r["input_bytes"])
        for r in results
        if _row(r, SS_COMBINED) and _row(r, SS_COMBINED)["peak_bytes"] is not None
    ]
    if mem:
        worst_n, worst = max(mem, key=lambda x: x[1])
        each = ", ".join(f"{n:,}: {v:.2f}" for n, v in mem)
        print(
            f"(c) salesstd (from_arrays + transitions) peak memory / input bytes = {worst:.2f} "
            f"at N={worst_n:,} "
            f"(target < {TARGET_MEMORY_RATIO}) {_verdict(worst < TARGET_MEMORY_RATIO)}  [{each}]"
        )
    else:
        print("(c) n/a (salesstd memory not measured)")


def main() -> None:
    args = _parse()
    ss, ss_note = _import_salesstd() if "salesstd" not in args.skip else (None, "salesstd skipped")
    print("# salesstd foundation benchmark\n")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
        f"best of {args.repeats}; seed {args.seed}; tie fraction {args.tie_fraction}"
    )
    print(f"{ss_note}")
    results: list[dict[str, Any]] = []
    for n in args.events:
        results.append(run_size(n, args, ss))
        if results[-1]["failures"]:  # stop: timing a wrong answer is pointless
            break
    summary(results)
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps({"salesstd": ss_note, "results": results}, indent=2, default=str)
        )
    failures = [f for r in results for f in r["failures"]]
    if failures:
        raise AssertionError("correctness check failed:\n" + "\n".join(failures))


if __name__ == "__main__":
    main()
