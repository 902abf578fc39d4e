"""PM4Py peer timings for ``bench_read.py``, run under the peer venv's python.

PM4Py is AGPL-3.0: this script only *calls* it as an installed peer library, to compare
run time on the same data; no PM4Py code is copied into salesstd.

    /work/peers-venv/bin/python benchmarks/peers/read_pm4py.py dfg --parquet f.parquet \
        --kinds object,string[pyarrow],category --out res.json
    /work/peers-venv/bin/python benchmarks/peers/read_pm4py.py xes --xes log.xes.gz --out res.json

``dfg``: for each string dtype, the Parquet export is loaded with pandas (untimed), the
string columns cast to that dtype, and ``pm4py.format_dataframe`` +
``pm4py.discover_performance_dfg`` timed on a fresh copy each repeat (format_dataframe
mutates its input). ``xes``: ``pm4py.read_xes`` timed. Median of ``--repeats``; one JSON
object goes to ``--out`` (PM4Py prints a banner on import, so stdout is not used).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

COLUMNS = {"case": "deal_id", "activity": "stage", "time": "timestamp"}


def _median(fn, repeats: int, setup=None) -> tuple[float, object]:
    """Median wall-clock of ``repeats`` calls, and the last call's result."""
    times, out = [], None
    for _ in range(repeats):
        arg = setup() if setup is not None else None
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn() if setup is None else fn(arg)
        times.append(time.perf_counter() - t0)
        del arg
    return statistics.median(times), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("mode", choices=("dfg", "xes"))
    p.add_argument("--parquet", default="")
    p.add_argument("--kinds", default="object")
    p.add_argument("--xes", default="")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    import pm4py  # noqa: PLC0415 -- peer venv only; prints a banner on import

    res: dict[str, object] = {
        "python": sys.version.split()[0],
        "pandas": pd.__version__,
        "pm4py": getattr(pm4py, "__version__", "?"),
    }
    if args.mode == "dfg":
        base = pd.read_parquet(args.parquet)
        base[COLUMNS["time"]] = base[COLUMNS["time"]].astype("datetime64[ns, UTC]")
        per_kind: dict[str, dict[str, object]] = {}
        for kind in args.kinds.split(","):
            frame = base.copy()
            for col in (COLUMNS["case"], COLUMNS["activity"], "rep"):
                frame[col] = frame[col].astype(kind)

            def run(df: pd.DataFrame) -> object:
                f = pm4py.format_dataframe(
                    df,
                    case_id=COLUMNS["case"],
                    activity_key=COLUMNS["activity"],
                    timestamp_key=COLUMNS["time"],
                )
                return pm4py.discover_performance_dfg(
                    f,
                    case_id_key="case:concept:name",
                    activity_key="concept:name",
                    timestamp_key="time:timestamp",
                )

            try:
                seconds, (dfg, _, _) = _median(run, args.repeats, setup=frame.copy)
                per_kind[kind] = {"seconds": seconds, "pairs": len(dfg)}
            except Exception as exc:  # noqa: BLE001 -- report, do not abort other kinds
                per_kind[kind] = {"error": f"{type(exc).__name__}: {exc}"}
            del frame
        res["dfg"] = per_kind
    else:
        path = Path(args.xes)
        try:
            seconds, log = _median(lambda: pm4py.read_xes(str(path)), args.repeats)
            res["xes"] = {"seconds": seconds, "n_events": len(log)}
        except Exception as exc:  # noqa: BLE001
            res["xes"] = {"error": f"{type(exc).__name__}: {exc}"}
    Path(args.out).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
