"""Reading benchmark (issue 12): files and frames into an EventLog, against the ecosystem.

Plain script, not a timed test: the machine is shared and noisy, so every figure is
a ratio against a baseline measured in the same run, median of ``--repeats``.

    PYTHONPATH=src python benchmarks/bench_read.py                       # full: 1M / 2M events
    PYTHONPATH=src python benchmarks/bench_read.py --events 1e5 --skip xes   # quick check
    PYTHONPATH=src python benchmarks/bench_read.py --check --json        # assert the targets

It writes (once, cached under ``--cache-dir`` by size and seed) a seeded synthetic CRM
export: string deal ids, stages Lead -> Qualified -> Proposal -> Negotiation -> Won/Lost
with calls, emails, meetings and demos in between, a rep per deal, ISO-8601 timestamps
with each rep's UTC offset (four zones, two with daylight saving, so offsets are mixed
within the file and within a deal); rows in time order, as CRMs export them. The same
data goes to Parquet (timestamps as ``timestamp[us, UTC]``). Then, using salesstd's
public API only:

1. CSV: ``ss.read_csv`` vs ``pyarrow.csv.read_csv`` (target <= 4x) and vs
   ``pandas.read_csv`` + ``ss.EventLog.from_frame`` (target >= 5x faster);
2. frames (object, ``string[pyarrow]``, categorical): ``from_frame`` + ``ss.transitions``
   vs PM4Py ``format_dataframe`` + ``discover_performance_dfg`` (>= 10x faster, run in a
   subprocess of ``--pm4py-python``) and vs the idiomatic pandas DFG (>= 3x faster);
3. Parquet: ``ss.read_parquet`` vs ``pandas.read_parquet`` (target <= 3x);
4. XES (BPIC 2012): ``ss.read_xes`` vs PM4Py ``read_xes`` (target >= 5x faster);
5. ``salesstd report`` (the CLI, a subprocess) on a ``--report-events`` CSV vs the same
   data as Parquet (target <= 1.5x), with each run's peak RSS and time to first output;
6. memory: peak RSS while building the log / bytes of the final log's arrays (target
   <= 3x), for CSV, Parquet, XES (BPIC 2012) and pandas frames (object, string[pyarrow],
   category), each in a fresh subprocess.

See benchmarks/README.md for what exactly is timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_foundation import pandas_idiomatic  # noqa: E402 -- same baseline as issue 2

DEFAULT_PEER_PYTHON = Path("/work/peers-venv/bin/python")
DEFAULT_XES = HERE.parents[1] / "shared" / "data" / "bpic2012" / "BPI_Challenge_2012.xes.gz"
PEER_SCRIPT = HERE / "peers" / "read_pm4py.py"
GENERATOR_VERSION = 1  # bump when the data changes, so cached files are not reused

STAGES = ("Lead", "Qualified", "Proposal", "Negotiation")
WON, LOST = "Won", "Lost"
ACTIVITIES = ("Call", "Email", "Meeting", "Demo")
NAMES = (*STAGES, WON, LOST, *ACTIVITIES)  # codes 0-3 stages, 4 won, 5 lost, 6-9 activities
ZONES = ("Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "UTC")
COLUMNS = {"case": "deal_id", "activity": "stage", "time": "timestamp"}
REP = "rep"
FRAME_KINDS = ("object", "string[pyarrow]", "category")
SKIPPABLE = ("csv", "frame", "pandas", "pm4py", "parquet", "xes", "report", "memory")
MEMORY_KINDS = ("csv", "parquet", "xes", "frame-object", "frame-string[pyarrow]", "frame-category")
MIB = 2**20
NS_PER_S = 1_000_000_000


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


def _size(text: str) -> int:
    value = int(float(text))
    if value < 100:
        raise argparse.ArgumentTypeError(f"event count must be >= 100, got {text!r}")
    return value


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--events", type=_size, default=1_000_000, help="events in the CSV/Parquet/frame (1e6)"
    )
    p.add_argument(
        "--report-events",
        type=_size,
        default=None,
        help="events in the file given to `salesstd report` (default 2 x --events)",
    )
    p.add_argument("--repeats", type=int, default=3, help="timed runs; the median is kept (3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip", default="", help=f"comma list of parts to skip: {','.join(SKIPPABLE)}")
    p.add_argument(
        "--pm4py-python",
        default=str(DEFAULT_PEER_PYTHON) if DEFAULT_PEER_PYTHON.exists() else "",
        help="python of a venv with pm4py (default /work/peers-venv/bin/python if present); "
        "PM4Py rows are skipped with a note when it is missing",
    )
    p.add_argument("--xes", default=str(DEFAULT_XES), help="XES log for part 4 (BPIC 2012)")
    p.add_argument(
        "--xes-repeats",
        type=int,
        default=None,
        help="repeats for part 4, a fixed 262k-event file (default --repeats, "
        "1 when --events < 1e6 so a quick run stays quick)",
    )
    p.add_argument(
        "--cache-dir",
        default=str(Path(tempfile.gettempdir()) / "salesstd-bench-read"),
        help="where generated files are kept, keyed by size and seed",
    )
    p.add_argument(
        "--check", action="store_true", help="exit with status 1 if any measured target fails"
    )
    p.add_argument(
        "--json",
        dest="json_out",
        nargs="?",
        const="auto",
        default="",
        help="write all figures as JSON (default path benchmarks/results/read-DATE.json)",
    )
    p.add_argument("--memory-child", default="", help=argparse.SUPPRESS)
    p.add_argument("--path", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = args.skip - set(SKIPPABLE)
    if unknown:
        p.error(f"--skip: unknown part(s) {sorted(unknown)}; choose from {','.join(SKIPPABLE)}")
    if args.repeats < 1:
        p.error(f"--repeats must be >= 1, got {args.repeats}")
    if args.report_events is None:
        args.report_events = 2 * args.events
    if args.xes_repeats is None:
        args.xes_repeats = args.repeats if args.events >= 1_000_000 else 1
    return args


_T0 = time.perf_counter()


def _progress(msg: str) -> None:
    print(f"  .. [{time.perf_counter() - _T0:6.1f} s] {msg}", file=sys.stderr, flush=True)


def _import_salesstd() -> Any:
    """Import salesstd; fall back to the repo's src/ when it is not on the path."""
    try:
        import salesstd as ss  # noqa: PLC0415
    except ImportError:
        sys.path.insert(0, str(HERE.parent / "src"))
        import salesstd as ss  # noqa: PLC0415
    return ss


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def _deals(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per-deal funnel path: stages reached, outcome, number of activities."""
    advance = rng.random((n, len(STAGES) - 1)) < np.array([0.6, 0.7, 0.75])
    reached = 1 + np.cumprod(advance, axis=1).sum(axis=1)  # 1..4 stages
    u = rng.random(n)
    at_end = reached == len(STAGES)
    outcome = np.where(  # 4 won, 5 lost, -1 still open
        at_end, np.where(u < 0.55, 4, np.where(u < 0.9, 5, -1)), np.where(u < 0.75, 5, -1)
    )
    n_acts = rng.poisson(7.0, size=n)
    return {"reached": reached, "outcome": outcome, "n_acts": n_acts}


def generate(n_events: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """The synthetic export as (CSV table with ISO strings, Parquet table), exactly n rows."""
    rng = np.random.default_rng(seed)
    n_deals = int(n_events / 10 * 1.2) + 16
    d = _deals(rng, n_deals)
    while int((d["reached"] + (d["outcome"] >= 0) + d["n_acts"]).sum()) < n_events:
        n_deals *= 2
        d = _deals(rng, n_deals)
    reached, outcome, n_acts = d["reached"], d["outcome"], d["n_acts"]

    # events: stage entries (slot 2j), activities in stage j (slot 2j+1), the close (slot 2k)
    stage_deal = np.repeat(np.arange(n_deals), reached)
    first = np.cumsum(reached) - reached
    stage_j = np.arange(stage_deal.size) - np.repeat(first, reached)
    closed = np.flatnonzero(outcome >= 0)
    act_deal = np.repeat(np.arange(n_deals), n_acts)
    act_j = (rng.random(act_deal.size) * reached[act_deal]).astype(np.int64)
    deal = np.concatenate([stage_deal, closed, act_deal])
    slot = np.concatenate([2 * stage_j, 2 * reached[closed], 2 * act_j + 1])
    code = np.concatenate(
        [stage_j, outcome[closed], 6 + rng.integers(0, len(ACTIVITIES), act_deal.size)]
    )
    order = np.lexsort((rng.random(deal.size), slot, deal))[:n_events]
    deal, code = deal[order], code[order].astype(np.int8)
    del order, slot, stage_deal, act_deal

    # timestamps: deal start over two years, gaps ~ Exp(mean 1.5 days) in whole seconds,
    # 0.5% of them zero (same-second events, as CRM automation produces)
    n = deal.size
    starts = np.flatnonzero(np.r_[True, deal[1:] != deal[:-1]])
    lengths = np.diff(np.r_[starts, n])
    gaps = np.rint(rng.exponential(1.5 * 86_400, n)).astype(np.int64)
    gaps[rng.random(n) < 0.005] = 0
    gaps[starts] = 0
    within = np.cumsum(gaps)
    within -= np.repeat(within[starts], lengths)
    epoch = np.datetime64("2023-01-01T00:00:00", "s").astype(np.int64)
    deal_start = epoch + rng.integers(0, 2 * 365 * 86_400, n_deals)
    utc_s = deal_start[deal] + within

    # reps (one per deal) and their zones; deal ids not in creation order
    n_reps = max(5, min(200, n_deals // 400))
    rep_of_deal = rng.integers(0, n_reps, n_deals)
    zone_of_rep = rng.integers(0, len(ZONES), n_reps)
    deal_ids = np.char.add("D-", np.char.zfill(rng.permutation(n_deals).astype(str), 7))
    rep_names = np.array([f"rep-{i:03d}" for i in range(n_reps)])

    # export order: by UTC time, ties in deal order
    by_time = np.argsort(utc_s, kind="stable")
    deal, code, utc_s = deal[by_time], code[by_time], utc_s[by_time]
    zone = zone_of_rep[rep_of_deal[deal]]

    # local wall time + offset per event, computed per zone (vectorised, DST exact)
    offset_s = np.zeros(n, dtype=np.int64)
    for z, name in enumerate(ZONES):  # four zones, not per row
        mask = zone == z
        idx = pd.DatetimeIndex(utc_s[mask].astype("datetime64[s]")).tz_localize("UTC")
        local = idx.tz_convert(name).tz_localize(None).as_unit("s").asi8
        offset_s[mask] = local - utc_s[mask]
    local_str = np.datetime_as_string((utc_s + offset_s).astype("datetime64[s]"), unit="s")
    uniq_off, off_code = np.unique(offset_s, return_inverse=True)
    off_text = [
        f"{'+' if o >= 0 else '-'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}"
        for o in uniq_off.tolist()  # a handful of distinct offsets
    ]
    stamp = pc.binary_join_element_wise(
        pa.array(local_str), pa.array(np.array(off_text)[off_code]), ""
    )
    names = np.array(NAMES)
    common = {
        COLUMNS["case"]: pa.array(deal_ids[deal]),
        COLUMNS["activity"]: pa.array(names[code]),
    }
    rep = pa.array(rep_names[rep_of_deal[deal]])
    csv_table = pa.table({**common, COLUMNS["time"]: stamp, REP: rep})
    utc = pa.array(utc_s * 1_000_000, type=pa.timestamp("us", tz="UTC"))
    pq_table = pa.table({**common, COLUMNS["time"]: utc, REP: rep})
    return csv_table, pq_table


@dataclass
class Files:
    csv: Path
    parquet: Path
    n_events: int
    n_deals: int
    seconds: float  # generation time, 0 when cached


def files_for(n_events: int, seed: int, cache_dir: str) -> Files:
    """Generated CSV and Parquet for this size and seed, written once and cached."""
    root = Path(cache_dir) / f"v{GENERATOR_VERSION}-events{n_events}-seed{seed}"
    csv_path, pq_path, meta = root / "export.csv", root / "export.parquet", root / "meta.json"
    if meta.exists() and csv_path.exists() and pq_path.exists():
        info = json.loads(meta.read_text())
        return Files(csv_path, pq_path, n_events, int(info["n_deals"]), 0.0)
    _progress(f"generating {n_events:,} events (seed {seed}) into {root}")
    t0 = time.perf_counter()
    csv_table, pq_table = generate(n_events, seed)
    root.mkdir(parents=True, exist_ok=True)
    tmp_csv, tmp_pq = root / "export.csv.tmp", root / "export.parquet.tmp"
    pa_csv.write_csv(csv_table, tmp_csv, pa_csv.WriteOptions(quoting_style="needed"))
    pq.write_table(pq_table, tmp_pq)
    tmp_csv.replace(csv_path)
    tmp_pq.replace(pq_path)
    n_deals = len(pc.unique(csv_table[COLUMNS["case"]]))
    meta.write_text(json.dumps({"n_events": n_events, "seed": seed, "n_deals": n_deals}))
    return Files(csv_path, pq_path, n_events, n_deals, time.perf_counter() - t0)


def make_frame(path: Path, kind: str) -> pd.DataFrame:
    """The Parquet export as a pandas frame, string columns in the given dtype."""
    df = pd.read_parquet(path)
    for col in (COLUMNS["case"], COLUMNS["activity"], REP):
        df[col] = df[col].astype(pd.api.types.pandas_dtype(kind))
    df[COLUMNS["time"]] = df[COLUMNS["time"]].astype("datetime64[ns, UTC]")
    return df


# ---------------------------------------------------------------------------
# measurement
# ---------------------------------------------------------------------------


def median_of(fn: Any, repeats: int, setup: Any = None, keep: list[Any] | None = None) -> float:
    """Median wall-clock of ``repeats`` calls; ``setup`` (untimed) makes the argument.

    ``keep``, when given, receives the last call's result (earlier ones are dropped
    before the next call, so they do not weigh on its memory).
    """
    times = []
    for i in range(repeats):
        arg = setup() if setup is not None else None
        gc.collect()
        t0 = time.perf_counter()
        out = fn() if setup is None else fn(arg)
        times.append(time.perf_counter() - t0)
        if keep is not None and i == repeats - 1:
            keep.append(out)
        del out, arg
    return statistics.median(times)


@dataclass
class Target:
    part: str
    what: str
    salesstd_s: float | None
    baseline_s: float | None
    baseline: str
    op: str  # "<=": salesstd / baseline <= limit;  ">=": baseline / salesstd >= limit
    limit: float
    note: str = ""
    skipped: str = ""  # reason, when not measured

    @property
    def ratio(self) -> float | None:
        if self.skipped or not self.salesstd_s or not self.baseline_s:
            return None
        if self.op == "<=":
            return self.salesstd_s / self.baseline_s
        return self.baseline_s / self.salesstd_s

    @property
    def verdict(self) -> str:
        r = self.ratio
        if r is None:
            return "SKIP"
        ok = r <= self.limit if self.op == "<=" else r >= self.limit
        return "PASS" if ok else "FAIL"


@dataclass
class Run:
    targets: list[Target] = field(default_factory=list)
    info: list[dict[str, Any]] = field(default_factory=list)  # figures without a target
    notes: list[str] = field(default_factory=list)

    def skip(self, part: str, what: str, baseline: str, op: str, limit: float, why: str) -> None:
        self.targets.append(Target(part, what, None, None, baseline, op, limit, skipped=why))


def _log_bytes(log: Any) -> int:
    """Bytes held by the log's arrays (object arrays: pointers + their str objects)."""
    arrays: list[Any] = [
        getattr(log, name, None)
        for name in ("case", "activity", "time", "offsets", "case_names", "activity_names")
    ]
    for attrs in ("case_attributes", "event_attributes"):
        arrays += list(dict(getattr(log, attrs, {}) or {}).values())
    total = 0
    for arr in arrays:
        if arr is None:
            continue
        total += int(getattr(arr, "nbytes", 0))
        if isinstance(arr, np.ndarray) and arr.dtype == object:
            total += sum(map(sys.getsizeof, arr.tolist()))  # distinct labels, per case at most
    return total


def read_kwargs(*, with_rep: bool = True) -> dict[str, Any]:
    kw: dict[str, Any] = dict(COLUMNS)
    if with_rep:
        kw["case_attributes"] = [REP]
    return kw


# --- 1. CSV ------------------------------------------------------------------------


def part_csv(ss: Any, files: Files, args: argparse.Namespace, run: Run) -> None:
    if "csv" in args.skip:
        run.skip("1", "CSV -> log", "pyarrow.csv.read_csv", "<=", 4.0, "--skip csv")
        run.skip("1", "CSV -> log", "pandas.read_csv + from_frame", ">=", 5.0, "--skip csv")
        return
    path = files.csv
    _progress("1. ss.read_csv")
    kept: list[Any] = []
    mine = median_of(lambda: ss.read_csv(path, **read_kwargs()), args.repeats, keep=kept)
    log = kept.pop()
    if log.n_events != files.n_events or log.n_cases != files.n_deals:
        run.notes.append(
            f"CSV: read_csv gave {log.n_events:,} events / {log.n_cases:,} deals, "
            f"the file has {files.n_events:,} / {files.n_deals:,}"
        )
    del log
    _progress("1. pyarrow.csv.read_csv")
    arrow = median_of(lambda: pa_csv.read_csv(path), args.repeats)
    run.targets.append(
        Target("1", "CSV -> log", mine, arrow, "pyarrow.csv.read_csv (whole file)", "<=", 4.0)
    )

    def pandas_path() -> Any:
        df = pd.read_csv(path)
        return ss.EventLog.from_frame(df, **read_kwargs())

    _progress("1. pandas.read_csv + from_frame")
    try:
        panda = median_of(pandas_path, args.repeats)
        run.targets.append(
            Target("1", "CSV -> log", mine, panda, "pandas.read_csv + from_frame", ">=", 5.0)
        )
    except Exception as exc:  # noqa: BLE001 -- report and go on
        run.skip(
            "1",
            "CSV -> log",
            "pandas.read_csv + from_frame",
            ">=",
            5.0,
            f"failed: {type(exc).__name__}: {exc}",
        )


# --- 2. frames -> transitions -------------------------------------------------------


def _quiet(fn: Any, *a: Any) -> Any:
    """Call fn without pandas' FutureWarning about observed= on categorical group keys."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn(*a)


def run_peer(
    args: argparse.Namespace, cmd: list[str], repeats: int
) -> tuple[dict[str, Any] | None, str]:
    py = args.pm4py_python
    if not py or not Path(py).exists():
        return None, f"peer python {py or '(none)'} not found (pass --pm4py-python)"
    with tempfile.TemporaryDirectory(prefix="salesstd-bench-read-") as td:
        out = Path(td) / "peer.json"
        full = [py, str(PEER_SCRIPT), *cmd, "--out", str(out), "--repeats", str(repeats)]
        proc = subprocess.run(full, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.exists():
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
            return None, f"PM4Py subprocess failed (rc={proc.returncode}): {tail}"
        return json.loads(out.read_text()), "ok"


def part_frames(ss: Any, files: Files, args: argparse.Namespace, run: Run) -> None:
    what = "frame -> from_frame + transitions"
    if "frame" in args.skip:
        for kind in FRAME_KINDS:
            run.skip("2", f"{what} ({kind})", "PM4Py", ">=", 10.0, "--skip frame")
            run.skip("2", f"{what} ({kind})", "pandas idiomatic DFG", ">=", 3.0, "--skip frame")
        return
    mine: dict[str, float] = {}
    for kind in FRAME_KINDS:
        df = make_frame(files.parquet, kind)
        # pandas_idiomatic (bench_foundation) wants the columns case/activity/time
        renamed = df.rename(columns={v: k for k, v in COLUMNS.items()})

        def salesstd_path(df: pd.DataFrame = df) -> Any:
            return ss.transitions(ss.EventLog.from_frame(df, **read_kwargs(with_rep=False)))

        _progress(f"2. from_frame + transitions ({kind})")
        try:
            mine[kind] = median_of(salesstd_path, args.repeats)
        except Exception as exc:  # noqa: BLE001
            run.notes.append(f"from_frame ({kind}) failed: {type(exc).__name__}: {exc}")
        if "pandas" in args.skip:
            run.skip("2", f"{what} ({kind})", "pandas idiomatic DFG", ">=", 3.0, "--skip pandas")
        else:
            _progress(f"2. pandas idiomatic DFG ({kind})")
            base = median_of(lambda r=renamed: _quiet(pandas_idiomatic, r), args.repeats)
            run.targets.append(
                Target(
                    "2",
                    f"{what} ({kind})",
                    mine.get(kind),
                    base,
                    "pandas idiomatic DFG",
                    ">=",
                    3.0,
                    skipped="" if kind in mine else "salesstd failed",
                )
            )
        del df, renamed
    if "pm4py" in args.skip:
        for kind in FRAME_KINDS:
            run.skip("2", f"{what} ({kind})", "PM4Py", ">=", 10.0, "--skip pm4py")
        return
    _progress("2. PM4Py format_dataframe + discover_performance_dfg (subprocess)")
    res, msg = run_peer(
        args,
        ["dfg", "--parquet", str(files.parquet), "--kinds", ",".join(FRAME_KINDS)],
        args.repeats,
    )
    for kind in FRAME_KINDS:
        peer = (res or {}).get("dfg", {}).get(kind, {})
        why = msg if res is None else peer.get("error", "")
        if kind not in mine:
            why = why or "salesstd failed"
        run.targets.append(
            Target(
                "2",
                f"{what} ({kind})",
                mine.get(kind),
                peer.get("seconds"),
                "PM4Py format_dataframe + discover_performance_dfg †",
                ">=",
                10.0,
                note=f"pm4py {res['pm4py']}, pandas {res['pandas']}" if res else "",
                skipped=why,
            )
        )


# --- 3. Parquet ---------------------------------------------------------------------


def part_parquet(ss: Any, files: Files, args: argparse.Namespace, run: Run) -> None:
    if "parquet" in args.skip:
        run.skip("3", "Parquet -> log", "pandas.read_parquet", "<=", 3.0, "--skip parquet")
        return
    path = files.parquet
    _progress("3. ss.read_parquet")
    kept: list[Any] = []
    mine = median_of(lambda: ss.read_parquet(path, **read_kwargs()), args.repeats, keep=kept)
    log = kept.pop()
    if log.n_events != files.n_events or log.n_cases != files.n_deals:
        run.notes.append(
            f"Parquet: read_parquet gave {log.n_events:,} events / {log.n_cases:,} deals"
        )
    del log
    _progress("3. pandas.read_parquet")
    base = median_of(lambda: pd.read_parquet(path), args.repeats)
    run.targets.append(
        Target("3", "Parquet -> log", mine, base, "pandas.read_parquet (whole file)", "<=", 3.0)
    )


# --- 4. XES ---------------------------------------------------------------------------


def part_xes(ss: Any, args: argparse.Namespace, run: Run) -> None:
    what, base = "XES (BPIC 2012) -> log", "PM4Py read_xes †"
    path = Path(args.xes)
    if "xes" in args.skip:
        run.skip("4", what, base, ">=", 5.0, "--skip xes")
        return
    if not path.exists():
        run.skip("4", what, base, ">=", 5.0, f"{path} not found (pass --xes)")
        return
    _progress(f"4. ss.read_xes {path.name}")
    kept: list[Any] = []
    mine = median_of(lambda: ss.read_xes(path), args.xes_repeats, keep=kept)
    n = kept.pop().n_events
    if "pm4py" in args.skip:
        run.targets.append(Target("4", what, mine, None, base, ">=", 5.0, skipped="--skip pm4py"))
        return
    _progress("4. PM4Py read_xes (subprocess)")
    res, msg = run_peer(args, ["xes", "--xes", str(path)], args.xes_repeats)
    peer = (res or {}).get("xes", {})
    run.targets.append(
        Target(
            "4",
            what,
            mine,
            peer.get("seconds"),
            base,
            ">=",
            5.0,
            note=f"{n:,} events (salesstd), {peer.get('n_events', '?'):,} (PM4Py)" if res else "",
            skipped=msg if res is None else peer.get("error", ""),
        )
    )


# --- 5. the CLI -----------------------------------------------------------------------


def _cli(ss: Any) -> tuple[list[str], dict[str, str]]:
    """`salesstd` as a subprocess, running the same salesstd as this process."""
    env = dict(os.environ)
    src = str(Path(ss.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    script = Path(sys.executable).with_name("salesstd")
    if script.exists():
        return [str(script)], env
    found = shutil.which("salesstd")
    if found:
        return [found], env
    return [
        sys.executable,
        "-c",
        "import sys; from salesstd.cli import main; sys.exit(main())",
    ], env


TIME_BIN = Path("/usr/bin/time")


def run_cli(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One CLI run: wall time, time to its first stdout byte, peak RSS, exit code.

    Peak RSS comes from ``/usr/bin/time -f %M`` when present: ``wait4`` on a child forked
    from this (large) process reports at least this process's RSS at the fork, because
    the forked copy's high-water mark starts there. Without /usr/bin/time that inflated
    figure is what is reported (an upper bound), and the row says so.
    """
    with tempfile.TemporaryDirectory(prefix="salesstd-bench-read-") as td:
        rss_file = Path(td) / "rss"
        full = [str(TIME_BIN), "-f", "%M", "-o", str(rss_file), *cmd]
        if not TIME_BIN.exists():
            full = cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        first: list[float] = []
        chunks: dict[str, list[bytes]] = {"out": [], "err": []}

        def drain(stream: Any, key: str) -> None:
            while block := stream.read1(65536):
                if key == "out" and not first:
                    first.append(time.perf_counter() - t0)
                chunks[key].append(block)

        threads = [
            threading.Thread(target=drain, args=(proc.stdout, "out")),
            threading.Thread(target=drain, args=(proc.stderr, "err")),
        ]
        for t in threads:
            t.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        for t in threads:
            t.join()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if TIME_BIN.exists() and rss_file.exists():
            peak_kib, rss_method = int(rss_file.read_text().split()[-1]), "/usr/bin/time %M"
        else:
            peak_kib, rss_method = usage.ru_maxrss, "wait4 ru_maxrss (upper bound)"
    return {
        "seconds": seconds,
        "first_output_s": first[0] if first else None,
        "peak_rss_bytes": peak_kib * 1024,  # KiB on Linux
        "rss_method": rss_method,
        "returncode": proc.returncode,
        "stdout": b"".join(chunks["out"]).decode(errors="replace"),
        "stderr": b"".join(chunks["err"]).decode(errors="replace"),
    }


def part_report(ss: Any, args: argparse.Namespace, run: Run) -> None:
    what = f"`salesstd report`, {args.report_events:,}-event CSV"
    if "report" in args.skip:
        run.skip("5", what, "same on Parquet", "<=", 1.5, "--skip report")
        return
    files = files_for(args.report_events, args.seed, args.cache_dir)
    base_cmd, env = _cli(ss)
    flags = [
        "--case",
        COLUMNS["case"],
        "--activity",
        COLUMNS["activity"],
        "--time",
        COLUMNS["time"],
        "--stages",
        ",".join((*STAGES, WON)),
        "--lost",
        LOST,
        "--by",
        REP,
    ]
    results: dict[str, list[dict[str, Any]]] = {}
    for label, path in (("csv", files.csv), ("parquet", files.parquet)):
        _progress(f"5. salesstd report {path.name} ({args.report_events:,} events)")
        runs = [run_cli([*base_cmd, "report", str(path), *flags], env) for _ in range(args.repeats)]
        bad = [r for r in runs if r["returncode"] != 0]
        if bad:
            tail = " | ".join(bad[0]["stderr"].strip().splitlines()[-3:])
            run.skip("5", what, "same on Parquet", "<=", 1.5, f"{label} run failed: {tail}")
            return
        results[label] = runs
    summary = {
        label: {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "first_output_s": statistics.median(
                r["first_output_s"] if r["first_output_s"] is not None else r["seconds"]
                for r in runs
            ),
            "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
            "stdout_lines": len(runs[0]["stdout"].splitlines()),
            "rss_method": runs[0]["rss_method"],
            "stderr_bytes": len(runs[0]["stderr"]),
        }
        for label, runs in results.items()
    }
    c, p = summary["csv"], summary["parquet"]
    run.targets.append(
        Target(
            "5",
            what,
            c["seconds"],
            p["seconds"],
            "the same report on the Parquet file",
            "<=",
            1.5,
            note=(
                f"peak RSS {c['peak_rss_bytes'] / MIB:,.0f} MiB (CSV), "
                f"{p['peak_rss_bytes'] / MIB:,.0f} MiB (Parquet)"
            ),
        )
    )
    for label, s in summary.items():
        run.info.append(
            {
                "part": "5",
                "what": f"salesstd report ({label}, {args.report_events:,} events)",
                **s,
            }
        )


# --- 6. memory (fresh subprocesses) --------------------------------------------------


def _status_kib(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def memory_child(args: argparse.Namespace) -> None:
    """Child process: build one log, print peak RSS growth and the log's bytes as JSON."""
    ss = _import_salesstd()
    kind, path = args.memory_child, Path(args.path)
    frame = None
    if kind.startswith("frame-"):
        frame = make_frame(path, kind.removeprefix("frame-"))
    # Warm what a reader loads once per process (lazy imports, Arrow's compute kernels and
    # its time zone database, about 50 MiB), by reading the first rows of the same file the
    # same way, so that only the data counts.
    pa_csv.read_csv(pa.BufferReader(b"a,b\n1,2\n"))
    with tempfile.TemporaryDirectory() as td:
        if kind == "csv":
            small = Path(td) / "head.csv"
            with path.open(encoding="utf-8") as src:
                small.write_text("".join(next(src) for _ in range(51)), encoding="utf-8")
            ss.read_csv(small, **read_kwargs())
        elif kind == "xes":
            small = Path(td) / "head.xes"
            small.write_text(
                '<?xml version="1.0" encoding="UTF-8"?><log><trace>'
                '<string key="concept:name" value="c"/><event>'
                '<string key="concept:name" value="a"/>'
                '<date key="time:timestamp" value="2024-01-01T00:00:00.000+01:00"/>'
                "</event></trace></log>",
                encoding="utf-8",
            )
            ss.read_xes(small)
        elif kind == "parquet":
            small = Path(td) / "head.parquet"
            first = next(pq.ParquetFile(path).iter_batches(batch_size=50))
            pq.write_table(pa.Table.from_batches([first]), small)
            ss.read_parquet(small, **read_kwargs())
        else:
            ss.EventLog.from_frame(frame.head(50), **read_kwargs())  # type: ignore[union-attr]
    gc.collect()
    base_kib = _status_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to now
        method = "VmHWM after resetting it with /proc/self/clear_refs"
    except OSError:
        method = "ru_maxrss (peak since start; an upper bound)"
    t0 = time.perf_counter()
    if kind == "csv":
        log = ss.read_csv(path, **read_kwargs())
    elif kind == "xes":
        log = ss.read_xes(path)
    elif kind == "parquet":
        log = ss.read_parquet(path, **read_kwargs())
    else:
        log = ss.EventLog.from_frame(frame, **read_kwargs())
    seconds = time.perf_counter() - t0
    if method.startswith("VmHWM"):
        peak_kib = _status_kib("VmHWM")
    else:
        import resource  # noqa: PLC0415

        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {
        "kind": kind,
        "seconds": seconds,
        "base_rss_bytes": base_kib * 1024,
        "peak_growth_bytes": (peak_kib - base_kib) * 1024,
        "log_bytes": _log_bytes(log),
        "n_events": int(log.n_events),
        "method": method,
    }
    print(json.dumps(out))


def part_memory(files: Files, args: argparse.Namespace, run: Run, ss: Any) -> None:
    what = "peak RSS while building / final log arrays"
    if "memory" in args.skip:
        for kind in MEMORY_KINDS:
            run.skip("6", f"memory, {kind}", "log bytes", "<=", 3.0, "--skip memory")
        return
    _, env = _cli(ss)
    for kind in MEMORY_KINDS:
        path = {"csv": files.csv, "xes": Path(args.xes)}.get(kind, files.parquet)
        if not path.exists():
            run.skip("6", f"memory, {kind}", "log bytes", "<=", 3.0, f"{path} not found")
            continue
        _progress(f"6. memory, {kind} (fresh subprocess)")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", kind]
        proc = subprocess.run(
            [*cmd, "--path", str(path)], capture_output=True, text=True, env=env, check=False
        )
        if proc.returncode != 0:
            tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
            run.skip("6", f"memory, {kind}", "log bytes", "<=", 3.0, f"child failed: {tail}")
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        # A "ratio" of byte counts: the Target arithmetic is the same (salesstd / baseline).
        run.targets.append(
            Target(
                "6",
                f"memory, {kind}: {what}",
                float(res["peak_growth_bytes"]),
                float(res["log_bytes"]),
                "bytes of the final log's arrays",
                "<=",
                3.0,
                note=(
                    f"peak +{res['peak_growth_bytes'] / MIB:,.0f} MiB over "
                    f"{res['base_rss_bytes'] / MIB:,.0f} MiB before the call; "
                    f"log {res['log_bytes'] / MIB:,.0f} MiB"
                ),
            )
        )
        run.info.append({"part": "6", "what": f"memory child {kind}", **res})


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def _fmt(value: float | None, part: str) -> str:
    if value is None:
        return "n/a"
    if part == "6":
        return f"{value / MIB:,.0f} MiB"
    return f"{value:.3f} s"


def print_table(run: Run) -> None:
    print("\n| # | measure | salesstd | baseline | ratio | target | verdict |")
    print("|---|---|---:|---|---:|---|---|")
    for t in run.targets:
        ratio = "n/a" if t.ratio is None else f"{t.ratio:.2f}x"
        if t.op == "<=":
            target = f"salesstd <= {t.limit:g}x baseline"
        else:
            target = f"salesstd >= {t.limit:g}x faster"
        base = f"{_fmt(t.baseline_s, t.part)} ({t.baseline})"
        verdict = t.verdict + (f" ({t.skipped})" if t.skipped else "")
        what = t.what + (f"; {t.note}" if t.note else "")
        print(
            f"| {t.part} | {what} | {_fmt(t.salesstd_s, t.part)} | {base} | {ratio} | "
            f"{target} | {verdict} |"
        )
    print(
        "\nratio: for '<=' targets salesstd / baseline, for '>=' targets baseline / salesstd; "
        "times are medians. † in a subprocess of the peer python (same machine, same file)."
    )
    reports = [i for i in run.info if i["part"] == "5"]
    if reports:
        print(
            "\n| `salesstd report` run (medians) | seconds | first stdout after "
            "| peak RSS (max) | stdout lines |"
        )
        print("|---|---:|---:|---:|---:|")
        for i in reports:
            print(
                f"| {i['what']} | {i['seconds']:.2f} | {i['first_output_s']:.2f} s | "
                f"{i['peak_rss_bytes'] / MIB:,.0f} MiB ({i['rss_method']}) | "
                f"{i['stdout_lines']} |"
            )
    for note in run.notes:
        print(f"- {note}")
    counts = {v: sum(t.verdict == v for t in run.targets) for v in ("PASS", "FAIL", "SKIP")}
    print(f"\n{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['SKIP']} SKIP")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.memory_child:
        memory_child(args)
        return 0
    ss = _import_salesstd()
    started = dt.datetime.now(dt.timezone.utc)
    print("# salesstd reading benchmark (issue 12)\n")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"pyarrow {pa.__version__}; salesstd {getattr(ss, '__version__', '?')} from "
        f"{Path(ss.__file__).parent}; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} at start; median of {args.repeats}; seed {args.seed}"
    )
    files = files_for(args.events, args.seed, args.cache_dir)
    print(
        f"\ndata: {files.n_events:,} events, {files.n_deals:,} deals; CSV "
        f"{files.csv.stat().st_size / MIB:,.1f} MiB, Parquet "
        f"{files.parquet.stat().st_size / MIB:,.1f} MiB ({files.csv.parent}"
        + (f", generated in {files.seconds:.1f} s" if files.seconds else ", cached")
        + f"); `salesstd report` on {args.report_events:,} events"
    )
    with files.csv.open() as fh:
        head = [next(fh).rstrip("\n") for _ in range(3)]
    print("first lines of the CSV: " + " / ".join(f"`{h}`" for h in head))
    run = Run()
    part_csv(ss, files, args, run)
    part_frames(ss, files, args, run)
    part_parquet(ss, files, args, run)
    part_xes(ss, args, run)
    part_report(ss, args, run)
    part_memory(files, args, run, ss)
    print_table(run)
    elapsed = (dt.datetime.now(dt.timezone.utc) - started).total_seconds()
    print(f"\nwall time of the benchmark: {elapsed:.0f} s")
    if args.json_out:
        out = (
            HERE / "results" / f"read-{started:%Y-%m-%d}.json"
            if args.json_out == "auto"
            else Path(args.json_out)
        )
        targets = [{**asdict(t), "ratio": t.ratio, "verdict": t.verdict} for t in run.targets]
        out.write_text(
            json.dumps(
                {
                    "started": started.isoformat(),
                    "args": {
                        k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()
                    },
                    "salesstd": str(Path(ss.__file__).parent),
                    "targets": targets,
                    "info": run.info,
                    "notes": run.notes,
                },
                indent=2,
                default=str,
            )
        )
        print(f"JSON written to {out}")
    if args.check and any(t.verdict == "FAIL" for t in run.targets):
        failed = [f"{t.part} {t.what} vs {t.baseline}" for t in run.targets if t.verdict == "FAIL"]
        print("\n--check: targets failed:\n" + "\n".join(f"- {f}" for f in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
