"""The ``salesstd check`` and ``salesstd scorecard`` commands (see `salesstd.cli`).

Both print the data-quality summary of the log seen through the standard's funnel first. A
scorecard without ``--standard`` but with a funnel (``--stages``/``--lost`` or ``--funnel``)
scores against targets learned from the log itself (`Standard.from_log`: the top quartile
of the ``--by`` groups).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from salesstd._base.results import plain
from salesstd.cli._common import (
    UsageError,
    check_against_log,
    check_options,
    data_quality_lines,
    fail,
    funnel_option,
    load,
    quality,
    run_guarded,
    table,
    warn_each,
    warnings_as_lines,
)
from salesstd.cli._output import Sections, write_out
from salesstd.conformance import check_conformance
from salesstd.datasets import synthetic_pipeline
from salesstd.log import EventLog
from salesstd.metrics import DataQualityResult
from salesstd.scoring import scorecard
from salesstd.standard import Standard

EXIT_FAILS = 1
#: The ``--by`` of ``salesstd scorecard`` when none is given.
DEFAULT_BY = "rep"
#: Size of the synthetic pipeline that ``--example`` checks against the example standard.
EXAMPLE_DEALS = 2_000
#: The quantile across groups that a learned standard's targets sit at (the top quartile).
LEARN_QUANTILE = 0.75


def run_standard_command(args: argparse.Namespace, options: Mapping[str, str]) -> int:
    """Run ``check`` or ``scorecard``; the exit status follows `salesstd.cli.main`.

    `options` are the command's options as typed (`option_spellings`), for its messages.
    """
    shown: set[str] = set()

    def command() -> int:
        with warnings_as_lines(shown, options=options):
            return _run(args, shown, options)

    return run_guarded(command, options=options)


def _run(args: argparse.Namespace, shown: set[str], options: Mapping[str, str]) -> int:
    check_options(args)
    standard = _standard(args)
    funnel = standard.funnel if standard is not None else funnel_option(args)
    if funnel is None:
        fail(
            "give --standard FILE (.toml or .json), --stages and --lost (or --funnel) to learn "
            "the targets from this log, or --example"
        )
        raise AssertionError  # pragma: no cover - fail raised
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
    shown.update(
        check_against_log(
            log, funnel=funnel, by=args.by, as_of=args.as_of, options=options, by_hint=hint
        )
    )
    sections = Sections(sys.stdout, status=args.progress is not False)
    with sections.computing("the data-quality summary"):
        dq = quality(log, funnel, min_stay=args.min_stay, as_of=args.as_of)
    learned = standard is None
    if args.json:
        warn_each(dq.vocabulary)
    else:
        shown.update(dq.vocabulary)
        heading = _heading(args, source, None if standard is None else standard.name)
        sections.write([*heading, "", *data_quality_lines(dq, min_stay=args.min_stay)])
    if standard is None:
        with sections.computing("the standard learned from the log"):
            standard = Standard.from_log(
                log, funnel, quantile=LEARN_QUANTILE, by=args.by, min_stay=args.min_stay
            )
    if args.command == "check":
        return _check(log, standard, args, source, dq, sections)
    return _scorecard(log, standard, args, source, dq, sections, learned=learned)


def _heading(args: argparse.Namespace, source: str, standard: str | None) -> list[str]:
    """The first lines of ``check`` or ``scorecard``; `standard` is None when it is learned."""
    if args.command == "check":
        return [f"salesstd check: {source} against standard {standard!r}"]
    if standard is None:
        return [
            f"salesstd scorecard: {source}, by {args.by}",
            f"{_targets(args, None)} (pass --standard FILE to score against fixed targets)",
        ]
    return [f"salesstd scorecard: {source} against {_targets(args, standard)}, by {args.by}"]


def _targets(args: argparse.Namespace, standard: str | None) -> str:
    """Where the scorecard's targets come from; `standard` is None when they are learned."""
    if standard is None:
        return f"targets learned from this log: top quartile of {args.by}"
    return f"standard {standard!r}"


def _standard(args: argparse.Namespace) -> Standard | None:
    """The standard of ``--standard`` or ``--example``; None to learn one from the log."""
    given = getattr(args, "stages", None) is not None or bool(getattr(args, "funnel", None))
    if args.standard is None:
        if args.example:
            if given:
                fail("give either --example or --stages/--funnel, not both")
            return Standard.example()
        if args.command == "check":
            fail("give --standard FILE (.toml or .json), or --example")
        return None
    if given:
        fail("give either --standard or --stages/--funnel: a standard has its own funnel")
    path = Path(args.standard)
    if path.suffix.lower() == ".json":
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"cannot read {path.name!r}: {err.strerror}") from err
        return Standard.from_json(text)
    return Standard.from_toml(path)


def _check(
    log: EventLog,
    standard: Standard,
    args: argparse.Namespace,
    source: str,
    dq: DataQualityResult,
    sections: Sections,
) -> int:
    """Check `log` against `standard`; the heading and data-quality summary are written."""
    with sections.computing("conformance"):
        result = check_conformance(log, standard, as_of=args.as_of, min_stay=args.min_stay)
        rates = result.rates(by=args.by)
    failing = result.n_cases - int(np.count_nonzero(result.fits))
    if args.json:
        out = {
            "source": source,
            "standard": standard.name,
            "min_stay_seconds": args.min_stay,
            "data_quality": dq.to_dict(),
            "conformance": result.to_dict(),
            "rates": rates.to_dict(),
        }
        write_out(json.dumps(out, indent=2) + "\n")
    else:
        lines = [
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
        sections.write([*lines, ""])
    return EXIT_FAILS if failing else 0


def _scorecard(
    log: EventLog,
    standard: Standard,
    args: argparse.Namespace,
    source: str,
    dq: DataQualityResult,
    sections: Sections,
    *,
    learned: bool,
) -> int:
    """Score `log` against `standard`; the heading and data-quality summary are written."""
    with sections.computing("the scorecard"):
        card = scorecard(log, standard, by=args.by, as_of=args.as_of, min_stay=args.min_stay)
    targets = _targets(args, None if learned else standard.name)
    if args.json:
        out = {
            "source": source,
            "standard": standard.name,
            "targets": targets,
            "learned_standard": standard.to_dict() if learned else None,
            "min_stay_seconds": args.min_stay,
            "data_quality": dq.to_dict(),
            "scorecard": card.to_dict(),
        }
        write_out(json.dumps(out, indent=2) + "\n")
        return 0
    lines = ["Scorecard, best first (proportions shrunk towards the population; * small sample)"]
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
    sections.write([*lines, ""])
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
