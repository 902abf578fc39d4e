"""The ``salesstd check`` and ``salesstd scorecard`` commands (see `salesstd.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from salesstd._cli_common import (
    EXIT_USAGE,
    UsageError,
    check_against_log,
    check_options,
    fail,
    load,
    table,
)
from salesstd._results import plain
from salesstd.conformance import check_conformance
from salesstd.datasets import synthetic_pipeline
from salesstd.errors import SalesStdError
from salesstd.log import EventLog
from salesstd.scoring import scorecard
from salesstd.standard import Standard

EXIT_FAILS = 1
#: The ``--by`` of ``salesstd scorecard`` when none is given.
DEFAULT_BY = "rep"
#: Size of the synthetic pipeline that ``--example`` checks against the example standard.
EXAMPLE_DEALS = 2_000


def run_standard_command(args: argparse.Namespace) -> int:
    """Run ``check`` or ``scorecard``; the exit status follows `salesstd.cli.main`."""
    try:
        check_options(args)
        standard = _standard(args)
        if args.example:
            if args.file:
                fail("give either FILE or --example, not both")
            log = synthetic_pipeline(EXAMPLE_DEALS, seed=7).log
            source = f"synthetic pipeline ({EXAMPLE_DEALS:,} deals, seed 7)"
        else:
            log, source = load(args)
        if args.command == "scorecard" and args.by is None:
            args.by = DEFAULT_BY
            hint = f" (scorecard groups by {DEFAULT_BY!r} unless given --by COLUMN)"
        else:
            hint = ""
        check_against_log(
            log,
            funnel=standard.funnel,
            by=args.by,
            as_of=args.as_of,
            every_stage=False,
            by_hint=hint,
        )
        if args.command == "check":
            return _check(log, standard, args, source)
        return _scorecard(log, standard, args, source)
    except (SalesStdError, UsageError) as err:
        sys.stderr.write(f"salesstd: error: {err}\n")
        return EXIT_USAGE


def _standard(args: argparse.Namespace) -> Standard:
    if args.standard is None:
        if args.example:
            return Standard.example()
        fail("give --standard FILE (.toml or .json), or --example")
    path = Path(args.standard)
    if path.suffix.lower() == ".json":
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"cannot read {path.name!r}: {err.strerror}") from err
        return Standard.from_json(text)
    return Standard.from_toml(path)


def _check(log: EventLog, standard: Standard, args: argparse.Namespace, source: str) -> int:
    result = check_conformance(log, standard, as_of=args.as_of)
    rates = result.rates(by=args.by)
    failing = result.n_cases - int(np.count_nonzero(result.fits))
    if args.json:
        out = {
            "source": source,
            "standard": standard.name,
            "conformance": result.to_dict(),
            "rates": rates.to_dict(),
        }
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        lines = [
            f"salesstd check: {source} against standard {standard.name!r}",
            "",
            f"cases checked   {result.n_cases:,}",
            f"fully conform   {result.fitting_share:.1%} ({result.n_cases - failing:,} cases)",
            f"mean fitness    {result.mean_fitness:.3f}",
            f"violations      {result.n_violations:,}",
            "",
            "Share of cases breaking each rule" + (f", by {args.by}" if args.by else ""),
        ]
        lines += _rows(rates._table(), limit=None)  # noqa: SLF001
        if result.n_violations:
            lines += ["", f"First {args.top} violations"]
            lines += _rows(result._table(), limit=args.top)  # noqa: SLF001
        sys.stdout.write("\n".join([*lines, ""]))
    return EXIT_FAILS if failing else 0


def _scorecard(log: EventLog, standard: Standard, args: argparse.Namespace, source: str) -> int:
    card = scorecard(log, standard, by=args.by, as_of=args.as_of)
    if args.json:
        json.dump({"source": source, "scorecard": card.to_dict()}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    lines = [
        f"salesstd scorecard: {source} against standard {standard.name!r}, by {args.by}",
        "(proportions shrunk towards the population; small samples flagged *; best first)",
        "",
    ]
    long = card._table()  # noqa: SLF001
    entity = np.asarray(long[args.by], dtype=object)
    rank = np.asarray(long["rank"])
    order = np.lexsort((np.arange(rank.size), rank))
    seen: dict[object, list[str]] = {}
    rows: list[list[str]] = []
    for i in order.tolist():
        key = entity[i]
        if key not in seen:
            seen[key] = []
            rows.append([str(int(rank[i])), str(key), f"{float(long['composite'][i]):.3f}"])
        if long["band"][i] == "below":
            flag = "*" if bool(long["small_sample"][i]) else ""
            seen[key].append(f"{long['kpi'][i]}{flag}")
    for row in rows:
        row.append(", ".join(seen[row[1]]) or "-")
    shown = rows[: args.top]
    lines += table(["rank", str(args.by), "composite", "below standard on"], shown)
    if len(rows) > len(shown):
        lines.append(f"... {len(rows) - len(shown):,} more (use --json or the Python API)")
    sys.stdout.write("\n".join([*lines, ""]))
    return 0


def _rows(columns: Mapping[str, NDArray[Any]], *, limit: int | None) -> list[str]:
    names = list(columns)
    if not names:
        return ["(none)"]
    n = len(next(iter(columns.values())))
    shown = n if limit is None else min(n, limit)
    rows = [[_cell(columns[k][i]) for k in names] for i in range(shown)]
    out = table(names, rows)
    if shown < n:
        out.append(f"... {n - shown:,} more rows (use --json or the Python API for all)")
    return out


def _cell(value: object) -> str:
    value = plain(np.asarray([value])[0]) if isinstance(value, np.generic) else value
    if value is None:
        return "-"
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:,.3g}"  # noqa: PLR0124 - NaN check
    return str(value)
