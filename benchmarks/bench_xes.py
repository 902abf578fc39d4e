"""read_xes on BPIC 2012 against the previous parser and PM4Py's read_xes, in one run.

Usage:
    PYTHONPATH=src python benchmarks/bench_xes.py               # BPIC 2012, 5 repeats
    PYTHONPATH=src python benchmarks/bench_xes.py --check       # exit 1 if a target is missed
    PYTHONPATH=src python benchmarks/bench_xes.py --pm4py-python /work/peers-venv/bin/python

Three contenders read the same file, each in a fresh interpreter of its own (so none inherits
another's heap), one after the other, each timed `--repeats` times (median reported):

- ``salesstd``: ``ss.read_xes(path)`` of this tree, and ``parse_xes(path)`` alone (the XML
  parser that fills the columns); the difference is the caller's share (object arrays, case
  ids, timestamp parsing, factorising, sorting: `read_xes` in ``io``);
- ``baseline``: the same two calls from the tree at `--baseline-rev` (by default the last
  commit whose parser was ElementTree.iterparse), exported with ``git archive`` to a
  temporary folder; run with this interpreter. Both logs are hashed (codes, times, names,
  every attribute) and must be identical;
- ``PM4Py``: ``pm4py.read_xes(path)`` (its default importer; a pandas DataFrame) under the
  peer venv's python (PM4Py is AGPL-3.0: it is only called, never copied).

Targets (issue 12): salesstd ``read_xes`` at least 2x faster than the baseline's and at least
5x faster than PM4Py's. Seconds on this shared 2-core machine are noisy; the ratios, from
one run, are the figures to compare. CPU seconds (``time.process_time``) are shown next to
the wall-clock medians: the three contenders are single-threaded, so CPU time is the steadier
figure when other jobs share the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_XES = ROOT.parent / "shared" / "data" / "bpic2012" / "BPI_Challenge_2012.xes.gz"
DEFAULT_PEER = Path("/work/peers-venv/bin/python")
# The last commit whose XES parser was xml.etree.ElementTree.iterparse (issue 12's "today").
BASELINE_REV = "6226591109c79c3d5f2a373fcf39c3158909baf8"
TARGET_BASELINE = 2.0
TARGET_PM4PY = 5.0


# ------------------------------------------------------------------------------ workers


def _timed(fn: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call of `fn`, and its result."""
    import gc  # noqa: PLC0415

    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def _digest(log: Any) -> str:
    """A hash of everything in an EventLog: codes, times, names and every attribute."""
    h = hashlib.sha256()
    for arr in (log.case, log.activity, log.time.view("int64"), log.offsets):
        h.update(arr.tobytes())
    h.update(repr(log.case_names.tolist()).encode())
    h.update(repr(log.activity_names.tolist()).encode())
    for group in (log.event_attributes, log.case_attributes):
        for key in sorted(group):
            h.update(key.encode())
            h.update(str(group[key].dtype).encode())
            h.update(repr(group[key].tolist()).encode())
    return h.hexdigest()


def worker_salesstd(xes: str, repeats: int) -> dict[str, Any]:
    """Time read_xes, parse_xes and the caller alone, of whichever salesstd is on sys.path.

    read_xes and parse_xes alternate (so that drift in the machine's load hits both alike).
    The caller alone is read_xes with parse_xes replaced by a function returning columns read
    beforehand; if the replacement is not picked up (read_xes imports parse_xes at module
    level), it is reported as n/a.
    """
    import salesstd as ss  # noqa: PLC0415
    import salesstd.io._xes as xes_module  # noqa: PLC0415

    out: dict[str, Any] = {key: [] for key in ("read_wall", "read_cpu", "parse_wall", "parse_cpu")}
    log = None
    for _ in range(repeats):
        wall, cpu, log = _timed(lambda: ss.read_xes(xes))
        out["read_wall"].append(wall)
        out["read_cpu"].append(cpu)
        wall, cpu, _ = _timed(lambda: xes_module.parse_xes(xes))
        out["parse_wall"].append(wall)
        out["parse_cpu"].append(cpu)
    columns = xes_module.parse_xes(xes)
    calls = []
    real = xes_module.parse_xes

    def cached(*_: object, **__: object) -> object:
        calls.append(1)
        return columns

    xes_module.parse_xes = cached  # type: ignore[assignment]
    try:
        timings = [_timed(lambda: ss.read_xes(xes)) for _ in range(repeats)]
    finally:
        xes_module.parse_xes = real
    if len(calls) == repeats:
        out["caller_wall"] = [t[0] for t in timings]
        out["caller_cpu"] = [t[1] for t in timings]
    assert log is not None
    out.update(
        source=str(Path(ss.__file__).resolve().parents[1]),
        n_events=int(log.n_events),
        n_cases=int(log.n_cases),
        digest=_digest(log),
    )
    return out


def worker_pm4py(xes: str, repeats: int) -> dict[str, Any]:
    """Time pm4py.read_xes (run under the peer venv)."""
    warnings.simplefilter("ignore")
    import pm4py  # noqa: PLC0415

    out: dict[str, Any] = {"read_wall": [], "read_cpu": []}
    df = None
    for _ in range(repeats):
        wall, cpu, df = _timed(lambda: pm4py.read_xes(xes))
        out["read_wall"].append(wall)
        out["read_cpu"].append(cpu)
    assert df is not None
    out.update(
        pm4py=getattr(pm4py, "__version__", "?"),
        n_events=len(df),
        n_cases=int(df["case:concept:name"].nunique()),
    )
    return out


# ------------------------------------------------------------------------------ driver


def _run_worker(
    kind: str, python: str, xes: Path, repeats: int, pythonpath: Path | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [python, str(Path(__file__).resolve()), "--worker", kind, "--xes", str(xes)]
        cmd += ["--repeats", str(repeats), "--out", str(out)]
        env = dict(os.environ)
        if pythonpath is not None:
            env["PYTHONPATH"] = str(pythonpath)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{kind} worker failed:\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def _export(rev: str, dest: Path) -> Path:
    """`git archive` the src/ folder of `rev` into `dest`; return the folder to put on the path."""
    archive = dest / "src.tar"
    with archive.open("wb") as handle:
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev, "src"],
            stdout=handle,
            check=True,
        )
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--xes", type=Path, default=DEFAULT_XES, help="XES file (BPIC 2012)")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per contender")
    p.add_argument("--pm4py-repeats", type=int, default=3, help="timed PM4Py calls (~20 s each)")
    p.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the baseline")
    p.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    p.add_argument("--pm4py-python", type=Path, default=DEFAULT_PEER)
    p.add_argument("--no-pm4py", action="store_true", help="skip PM4Py")
    p.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--worker", choices=["salesstd", "pm4py"], help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.worker:
        work = worker_salesstd if args.worker == "salesstd" else worker_pm4py
        args.out.write_text(json.dumps(work(str(args.xes), args.repeats)))
        return 0

    if not args.xes.is_file():
        print(f"XES file {args.xes} not found; pass --xes.", file=sys.stderr)
        return 2
    src = ROOT / "src"
    results: dict[str, dict[str, Any]] = {}
    print(f"timing salesstd ({src}) ...", file=sys.stderr)
    results["salesstd"] = _run_worker("salesstd", sys.executable, args.xes, args.repeats, src)
    if not args.no_baseline:
        print(f"timing the baseline ({args.baseline_rev[:10]}) ...", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            base_src = _export(args.baseline_rev, Path(tmp))
            results["baseline"] = _run_worker(
                "salesstd", sys.executable, args.xes, args.repeats, base_src
            )
    if not args.no_pm4py:
        if args.pm4py_python.exists():
            print(f"timing PM4Py ({args.pm4py_python}) ...", file=sys.stderr)
            results["pm4py"] = _run_worker(
                "pm4py", str(args.pm4py_python), args.xes, args.pm4py_repeats, None
            )
        else:
            print(f"(PM4Py skipped: {args.pm4py_python} not found)", file=sys.stderr)

    mine = results["salesstd"]
    print(
        f"\n## read_xes on {args.xes.name}: {mine['n_events']:,} events, "
        f"{mine['n_cases']:,} cases\n"
    )
    print(
        f"python {sys.version.split()[0]}; medians of {args.repeats} calls "
        f"(PM4Py: {args.pm4py_repeats}); each contender in its own interpreter\n"
    )
    print(
        "| contender | read_xes wall s | CPU s | parse_xes wall s | CPU s | caller wall s | CPU s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, res in results.items():
        cells = []
        for part in ("read", "parse", "caller"):
            for clock in ("wall", "cpu"):
                values = res.get(f"{part}_{clock}")
                cells.append(f"{_median(values):.3f}" if values else "n/a")
        extra = " | ".join(cells[1:])
        read_w = _median(res["read_wall"])
        label = {
            "salesstd": "salesstd (this tree)",
            "baseline": f"salesstd {args.baseline_rev[:10]}",
            "pm4py": f"PM4Py {res.get('pm4py', '')} read_xes",
        }[name]
        print(f"| {label} | {read_w:.3f} | {extra} |")

    failures: list[str] = []
    ratios: dict[str, float] = {}
    print("\n| ratio | wall | CPU | target |")
    print("|---|---:|---:|---:|")
    for name, target in (("baseline", TARGET_BASELINE), ("pm4py", TARGET_PM4PY)):
        if name not in results:
            continue
        other = results[name]
        wall = _median(other["read_wall"]) / _median(mine["read_wall"])
        cpu = _median(other["read_cpu"]) / _median(mine["read_cpu"])
        ratios[f"{name}_wall"], ratios[f"{name}_cpu"] = wall, cpu
        print(f"| {name} / salesstd read_xes | {wall:.2f}x | {cpu:.2f}x | >= {target:g}x |")
        if wall < target:
            failures.append(f"{name} / salesstd = {wall:.2f}x (wall), target >= {target:g}x")
        if other["n_events"] != mine["n_events"]:
            failures.append(f"{name} read {other['n_events']} events, salesstd {mine['n_events']}")
    if "baseline" in results:
        base = results["baseline"]
        print(
            f"\nparse_xes alone: baseline / this tree = "
            f"{_median(base['parse_wall']) / _median(mine['parse_wall']):.2f}x (wall)"
        )
        same = base["digest"] == mine["digest"]
        print(
            f"logs identical to the baseline's (hash of codes, times, names, attributes): "
            f"{'yes' if same else 'NO'}"
        )
        if not same:
            failures.append("the log differs from the baseline's")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "ratios": ratios}, indent=1))
    if failures:
        print("\nmissed: " + "; ".join(failures))
        return 1 if args.check else 0
    print("\nall targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
