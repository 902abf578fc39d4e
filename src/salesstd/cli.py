"""The ``salesstd`` command: summaries of an event log from the shell.

``salesstd report FILE --case C --activity A --time T`` reads a CSV, Parquet or XES file
(chosen by its extension) and prints cases, events, time span, activities and the
directly-follows transition table; ``salesstd report --example`` does the same for the bundled
CRM example. Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from salesstd._version import __version__
from salesstd.errors import SalesStdError
from salesstd.log import EventLog
from salesstd.transitions import transitions

__all__ = ["main"]

EXIT_USAGE = 2
_SECONDS_PER_DAY = 86_400.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesstd",
        description="Sales-process standardization: summarise a CRM event log.",
    )
    parser.add_argument("--version", action="version", version=f"salesstd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    report = sub.add_parser(
        "report",
        help="summarise an event log: cases, events, span, activities, transitions",
        description="Summarise an event log (CSV, Parquet or XES, by extension).",
    )
    report.add_argument("file", nargs="?", help="the log: .csv[.gz], .parquet, .xes[.gz]")
    report.add_argument("--example", action="store_true", help="use the bundled CRM example")
    report.add_argument("--case", help="case (deal) id column (CSV/Parquet)")
    report.add_argument("--activity", help="activity or stage column (CSV/Parquet)")
    report.add_argument("--time", help="timestamp column (CSV/Parquet)")
    report.add_argument("--order", help="column ordering events with equal timestamps")
    report.add_argument("--tz", help="IANA zone for naive timestamps (default UTC)")
    report.add_argument(
        "--lifecycle", help="XES only: keep only this lifecycle transition, e.g. complete"
    )
    report.add_argument("--top", type=int, default=20, help="transition rows to show (20)")
    report.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        0 on success, 2 on bad input (after one line on stderr).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "report":
        parser.print_help(sys.stdout)
        return 0 if args.command is None else EXIT_USAGE
    try:
        log, source = _load(args)
        if args.top < 0:
            _fail("--top must be 0 or more")
        if args.json:
            json.dump(_report_dict(log, source), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            write_report(log, source=source, top=args.top, out=sys.stdout)
    except (SalesStdError, _UsageError) as err:
        sys.stderr.write(f"salesstd: error: {err}\n")
        return EXIT_USAGE
    return 0


class _UsageError(Exception):
    """A command-line mistake reported as one line."""


def _fail(message: str) -> None:
    raise _UsageError(message)


def _load(args: argparse.Namespace) -> tuple[EventLog, str]:
    if args.example:
        if args.file:
            _fail("give either FILE or --example, not both")
        from salesstd.datasets import load_crm_opportunities  # noqa: PLC0415

        return load_crm_opportunities(), "bundled example: Maven CRM sales opportunities"
    if not args.file:
        _fail("give a FILE to report on, or --example for the bundled CRM data")
    path = Path(args.file)
    name = path.name.lower()
    if name.endswith((".xes", ".xes.gz")):
        from salesstd.io import read_xes  # noqa: PLC0415

        return read_xes(path, lifecycle=args.lifecycle, tz=args.tz), str(path)
    if args.lifecycle:
        _fail("--lifecycle applies to XES files only")
    missing = [f"--{k}" for k in ("case", "activity", "time") if not getattr(args, k)]
    if missing:
        _fail(f"{path.name} needs {', '.join(missing)} to name its columns")
    common = {"case": args.case, "activity": args.activity, "time": args.time}
    if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        from salesstd.io import read_csv  # noqa: PLC0415

        delimiter = "\t" if name.endswith(".tsv") else ","
        return (
            read_csv(path, **common, order=args.order, tz=args.tz, delimiter=delimiter),
            str(path),
        )
    if name.endswith((".parquet", ".pq")):
        from salesstd.io import read_parquet  # noqa: PLC0415

        return read_parquet(path, **common, order=args.order, tz=args.tz), str(path)
    _fail(f"cannot tell the format of {path.name!r}; use .csv, .csv.gz, .parquet, .xes or .xes.gz")
    raise AssertionError  # pragma: no cover - _fail raised


def _activity_counts(log: EventLog) -> list[tuple[str, int, int]]:
    """(activity, events, cases) per activity, most events first."""
    events = np.bincount(log.activity, minlength=log.n_activities)
    pair = log.case.astype(np.int64) * log.n_activities + log.activity
    cases = np.bincount(np.unique(pair) % log.n_activities, minlength=log.n_activities)
    order = np.lexsort((np.arange(log.n_activities), -events))
    return [(str(log.activity_names[i]), int(events[i]), int(cases[i])) for i in order]


def _report_dict(log: EventLog, source: str) -> dict[str, object]:
    tr = transitions(log)
    return {
        "source": source,
        "cases": log.n_cases,
        "events": log.n_events,
        "first_event": log.start.isoformat(),
        "last_event": log.end.isoformat(),
        "activities": [
            {"activity": a, "events": e, "cases": c} for a, e, c in _activity_counts(log)
        ],
        "transitions": tr.to_dict()["rows"],
        "start_activities": tr.start_activities,
        "end_activities": tr.end_activities,
    }


def write_report(log: EventLog, *, source: str, top: int = 20, out: TextIO) -> None:
    """Write the plain-text report of `log` to `out`.

    Args:
        log: The log to summarise.
        source: Where the log came from, printed in the heading.
        top: Number of transition rows to print, most frequent first.
        out: Text stream to write to.
    """
    tr = transitions(log)
    span_days = log.span.total_seconds() / _SECONDS_PER_DAY
    lines = [
        f"salesstd report: {source}",
        "",
        f"cases      {log.n_cases:,}",
        f"events     {log.n_events:,}",
        (
            f"span       {log.start:%Y-%m-%d %H:%M} .. {log.end:%Y-%m-%d %H:%M} UTC "
            f"({span_days:,.1f} days)"
        ),
        f"activities {log.n_activities:,}",
        "",
        "Activities",
    ]
    lines += _table(
        ["activity", "events", "cases"],
        [[a, f"{e:,}", f"{c:,}"] for a, e, c in _activity_counts(log)],
    )
    lines += ["", f"Transitions (directly follows; {tr.n_pairs} pairs, top {top} by count)"]
    rows = [
        [
            str(tr.source[i]),
            str(tr.target[i]),
            f"{int(tr.count[i]):,}",
            _days(float(tr.mean[i])),
            _days(float(tr.median[i])),
            _days(float(tr.max[i])),
        ]
        for i in range(min(top, tr.n_pairs))
    ]
    lines += _table(["source", "target", "count", "mean_d", "median_d", "max_d"], rows)
    starts = ", ".join(f"{k} ({c:,})" for k, c in list(tr.start_activities.items())[:5])
    ends = ", ".join(f"{k} ({c:,})" for k, c in list(tr.end_activities.items())[:5])
    lines += ["", f"start activities: {starts}", f"end activities:   {ends}", ""]
    out.write("\n".join(lines))


def _days(seconds: float) -> str:
    return f"{seconds / _SECONDS_PER_DAY:,.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    numeric = [i > 0 and all(_numberish(r[i]) for r in rows) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def _numberish(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").isdigit()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
