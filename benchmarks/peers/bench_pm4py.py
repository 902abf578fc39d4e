"""PM4Py peer timing, run by ``bench_foundation.py`` under the peer venv's python.

PM4Py is AGPL-3.0: this script only *calls* it as an installed peer library, to
compare run time on the same data; no PM4Py code is copied into salesstd.

Usage (normally invoked by the main script)::

    /work/peers-venv/bin/python benchmarks/peers/bench_pm4py.py --npz log.npz --out res.json

It loads the synthetic log the main script wrote, then in this one process:

* times the numpy floor (the same ``_common.numpy_floor`` code the main script
  uses), so PM4Py's ratio is against a baseline measured in the same process;
* times ``pm4py.format_dataframe`` + ``pm4py.discover_performance_dfg`` on a fresh
  copy of the pandas DataFrame each repeat (format_dataframe mutates its input);
* checks PM4Py's per-pair mean/median/min/max/sum/stdev and start/end activities
  against the floor (reported, never fatal: PM4Py is a peer, not the oracle);
* writes one JSON object to ``--out`` (PM4Py prints a banner on import, so stdout
  is not used for results).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import best_of, load_npz, numpy_floor, traced_peak


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--npz", required=True, help="synthetic log written by bench_foundation.py")
    p.add_argument("--out", required=True, help="where to write the JSON result")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    return p.parse_args()


def _check(dfg: dict, start: dict, end: dict, ref: object) -> dict:
    """Compare PM4Py's performance DFG with the numpy floor result."""
    ref_keys = list(zip(ref.source.tolist(), ref.target.tolist(), strict=True))
    out: dict[str, object] = {
        "pairs_match": set(ref_keys) == set(dfg),
        "start_activities_match": {str(k): int(v) for k, v in start.items()}
        == ref.start_activities,
        "end_activities_match": {str(k): int(v) for k, v in end.items()} == ref.end_activities,
    }
    fields = {
        "mean": "mean",
        "median": "median",
        "min": "min",
        "max": "max",
        "sum": "total",
        "stdev": "std",
    }
    for pm_name, ref_name in fields.items():
        ref_vals = getattr(ref, ref_name)
        mine = np.array([float(dfg.get(k, {}).get(pm_name, np.nan)) for k in ref_keys])
        ok = np.isclose(mine, ref_vals, rtol=1e-9, atol=1e-6, equal_nan=True)
        # PM4Py reports stdev 0 (not NaN) for single-observation pairs.
        if pm_name == "stdev":
            ok |= (ref.count < 2) & np.isfinite(mine)
        out[f"{pm_name}_match"] = bool(ok.all())
    return out


def main() -> None:
    args = _parse()
    import pm4py  # noqa: PLC0415 -- peer-venv only; prints a banner on import

    log = load_npz(args.npz)

    def make_frame() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "case": pd.Series(log.case, copy=True),
                "activity": pd.Series(log.activity, dtype=object, copy=True),
                "time": pd.Series(log.time, copy=True),
            }
        )

    def floor() -> object:
        return numpy_floor(log.case, log.activity, log.time)

    def pm4py_run(df: pd.DataFrame) -> object:
        f = pm4py.format_dataframe(
            df, case_id="case", activity_key="activity", timestamp_key="time"
        )
        return pm4py.discover_performance_dfg(
            f,
            case_id_key="case:concept:name",
            activity_key="concept:name",
            timestamp_key="time:timestamp",
        )

    floor_s = best_of(floor, args.repeats)

    # PM4Py: best of repeats, remembering the format / discover split of the best run.
    best = (float("inf"), float("nan"), float("nan"))
    result = None
    for _ in range(args.repeats):
        df = make_frame()
        t0 = time.perf_counter()
        f = pm4py.format_dataframe(
            df, case_id="case", activity_key="activity", timestamp_key="time"
        )
        t1 = time.perf_counter()
        result = pm4py.discover_performance_dfg(
            f,
            case_id_key="case:concept:name",
            activity_key="concept:name",
            timestamp_key="time:timestamp",
        )
        t2 = time.perf_counter()
        if t2 - t0 < best[0]:
            best = (t2 - t0, t1 - t0, t2 - t1)
        del df, f

    dfg, start, end = result  # type: ignore[misc]
    check = _check(dfg, start, end, floor())

    res: dict[str, object] = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pm4py": getattr(pm4py, "__version__", "?"),
        "n_events": int(log.n_events),
        "repeats": args.repeats,
        "floor_s": floor_s,
        "pm4py_s": best[0],
        "pm4py_format_s": best[1],
        "pm4py_dfg_s": best[2],
        "floor_peak_bytes": None,
        "pm4py_peak_bytes": None,
        "check": check,
    }
    if not args.no_memory:
        res["floor_peak_bytes"] = traced_peak(floor)
        res["pm4py_peak_bytes"] = traced_peak(pm4py_run, setup=make_frame)
    Path(args.out).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
