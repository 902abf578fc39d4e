"""The code behind `salesstd.cli`; the package docstring is the guide."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

import numpy as np

from salesstd._version import __version__
from salesstd.bottleneck import bottlenecks
from salesstd.cli._common import (
    Parser,
    check_against_log,
    check_options,
    data_quality_lines,
    fail,
    funnel_option,
    load,
    option_spellings,
    run_guarded,
    table,
    warn_each,
    warnings_as_lines,
)
from salesstd.cli._common import quality as _quality
from salesstd.cli._output import Sections, printable_streams, write_out
from salesstd.cli._standard import run_standard_command
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.markov import MarkovFunnel
from salesstd.metrics import DataQualityResult, conversion, time_in_stage
from salesstd.transitions import transitions

__all__ = ["main"]

_SECONDS_PER_DAY = 86_400.0


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="salesstd",
        description="Sales-process standardization: summarise, check and score a CRM event log.",
    )
    parser.add_argument("--version", action="version", version=f"salesstd {__version__}")
    files = Parser(add_help=False)
    files.add_argument("file", nargs="?", help="the log: .csv[.gz], .parquet, .xes[.gz]")
    files.add_argument("--case", help="case (deal) id column (CSV/Parquet)")
    files.add_argument("--activity", help="activity or stage column (CSV/Parquet)")
    files.add_argument("--time", help="timestamp column (CSV/Parquet)")
    files.add_argument("--order", help="column ordering events with equal timestamps")
    files.add_argument("--tz", help="IANA zone for naive timestamps (default UTC)")
    files.add_argument(
        "--lifecycle", help="XES only: keep only this lifecycle transition, e.g. complete"
    )
    files.add_argument(
        "--case-attributes",
        dest="case_attributes",
        help="CSV/Parquet: comma-separated columns with one value per deal, e.g. owner,region",
    )
    files.add_argument(
        "--encoding", help="CSV only: the file's text encoding (utf-8), e.g. latin-1, cp1252"
    )
    files.add_argument(
        "--on-invalid",
        dest="on_invalid",
        choices=("raise", "drop"),
        default="raise",
        help="rows with a missing id or time: refuse the file (raise, the default) or drop "
        "them with a warning (drop)",
    )
    files.add_argument("--as-of", dest="as_of", help="censoring time for open deals (log end)")
    files.add_argument(
        "--min-stay",
        dest="min_stay",
        metavar="SECONDS",
        help="read stays shorter than this as data-entry corrections (clicking through "
        "stages) and leave them out, e.g. 60",
    )
    files.add_argument("--json", action="store_true", help="print JSON instead of text")
    files.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="draw a progress bar on stderr while reading the file (needs tqdm); by default "
        "only when stderr is a terminal. --no-progress also hides the status lines",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    report = sub.add_parser(
        "report",
        parents=[files],
        help="summarise an event log: cases, events, span, activities, transitions, funnel",
        description="Summarise an event log (CSV, Parquet or XES, by extension).",
    )
    report.add_argument("--example", action="store_true", help="use the bundled CRM example")
    _funnel_options(report)
    report.add_argument(
        "--by",
        help="column naming the reps (or teams) that set bottleneck benchmarks: a case "
        "attribute, or an event column with one value per deal",
    )
    report.add_argument("--top", type=int, default=20, help="transition rows to show (20)")
    for name, text in (
        ("check", "check deals against a standard; exit status 1 if any deal fails"),
        ("scorecard", "score reps or teams on the standard's KPIs"),
    ):
        cmd = sub.add_parser(name, parents=[files], help=text, description=text)
        cmd.add_argument("--standard", help="the standard: a .toml or .json file")
        cmd.add_argument(
            "--example",
            action="store_true",
            help="a synthetic pipeline checked against the bundled example standard",
        )
        cmd.add_argument(
            "--by",
            help="column to break results down by: a case attribute, or an event column with "
            "one value per deal" + (" (default rep)" if name == "scorecard" else ""),
        )
        cmd.add_argument("--top", type=int, default=10, help="rows to show (10)")
        if name == "scorecard":
            _funnel_options(cmd, learn=True)
    return parser


def _funnel_options(cmd: argparse.ArgumentParser, *, learn: bool = False) -> None:
    also = " (without --standard: targets learned from the log)" if learn else ""
    cmd.add_argument(
        "--stages",
        help="funnel stages in order, comma-separated, the won outcome last: "
        f"lead,qualified,won{also}",
    )
    cmd.add_argument("--lost", help="lost outcome(s), comma-separated: lost or lost,no_budget")
    cmd.add_argument("--funnel", help="funnel as JSON (Funnel.to_json), instead of --stages")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        0 on success, 2 on bad input (after one line on stderr, never a traceback): a usage
        mistake, any `SalesStdError`, a file that cannot be read, a report that cannot be
        written (a full disk) or no stdout at all (``>&-``). ``check`` returns 1 when a deal
        fails the standard; 141 (as a command killed by SIGPIPE) when the reader of stdout
        stops early (``| head``), with nothing printed.
    """
    parser = _parser()
    options = option_spellings(parser)
    with printable_streams():
        return run_guarded(lambda: _main(parser, argv, options), options=options)


def _main(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, options: Mapping[str, str]
) -> int:
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    if args.command in ("check", "scorecard"):
        return run_standard_command(args, options)
    shown: set[str] = set()
    with warnings_as_lines(shown, options=options):
        _report(args, shown, options)
    return 0


def _report(args: argparse.Namespace, shown: set[str], options: Mapping[str, str]) -> None:
    """Run ``salesstd report``; adds the warnings the text output shows to `shown`."""
    check_options(args)
    funnel = _funnel(args)
    by = args.by or (EXAMPLE_BY if args.example else None)
    if by is not None and funnel is None:
        fail("--by needs a funnel (--stages or --funnel)")
    if args.min_stay is not None and funnel is None:
        fail("--min-stay needs a funnel (--stages or --funnel)")
    log, source = load(args)
    shown.update(check_against_log(log, funnel=funnel, by=by, as_of=args.as_of, options=options))
    if args.json:
        dq = None
        if funnel is not None:
            dq = _quality(log, funnel, min_stay=args.min_stay, as_of=args.as_of)
            warn_each(dq.vocabulary)
        report = _report_dict(log, source, funnel, args.as_of, by, args.min_stay, dq)
        write_out(json.dumps(report, indent=2) + "\n")
        return
    sections = Sections(sys.stdout, status=args.progress is not False)
    sections.write(_heading(log, source))
    dq = None
    if funnel is not None:
        with sections.computing("the data-quality summary"):
            dq = _quality(log, funnel, min_stay=args.min_stay, as_of=args.as_of)
        shown.update(dq.vocabulary)
    _write_sections(
        sections,
        log,
        top=args.top,
        funnel=funnel,
        as_of=args.as_of,
        by=by,
        min_stay=args.min_stay,
        quality=dq,
    )


#: The line under the Markov table saying which win probability each table shows.
WIN_PROBABILITIES_NOTE = (
    "win_rate = product of step rates; P(win) = Markov chain, moves back included "
    "(docs: win probabilities)"
)

#: The funnel of the bundled Maven CRM example (see `load_crm_opportunities`).
EXAMPLE_FUNNEL = ("Engaging", "Won")
EXAMPLE_LOST = "Lost"
EXAMPLE_BY = "sales_agent"


def _funnel(args: argparse.Namespace) -> Funnel | None:
    funnel = funnel_option(args)
    if funnel is None and args.example:
        return Funnel.linear(list(EXAMPLE_FUNNEL), lost=EXAMPLE_LOST)
    return funnel


def _activity_counts(log: EventLog) -> list[tuple[str, int, int]]:
    """(activity, events, cases) per activity, most events first."""
    events = np.bincount(log.activity, minlength=log.n_activities)
    pair = log.case.astype(np.int64) * log.n_activities + log.activity
    cases = np.bincount(np.unique(pair) % log.n_activities, minlength=log.n_activities)
    order = np.lexsort((np.arange(log.n_activities), -events))
    return [(str(log.activity_names[i]), int(events[i]), int(cases[i])) for i in order]


def _report_dict(
    log: EventLog,
    source: str,
    funnel: Funnel | None,
    as_of: str | None,
    by: str | None,
    min_stay: float | None,
    dq: DataQualityResult | None,
) -> dict[str, object]:
    tr = transitions(log)
    out: dict[str, object] = {
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
    if funnel is not None:
        out["funnel"] = funnel.to_dict()
        out["min_stay_seconds"] = min_stay
        if dq is not None:
            out["data_quality"] = dq.to_dict()
        conv = conversion(log, funnel, as_of=as_of, min_stay=min_stay)
        dwell = time_in_stage(log, funnel, as_of=as_of, min_stay=min_stay)
        chain = MarkovFunnel.from_log(log, funnel, as_of=as_of, min_stay=min_stay)
        out["conversion"] = conv.to_dict()
        out["time_in_stage"] = dwell.to_dict()
        out["markov"] = chain.to_dict()
        if by is not None:
            found = bottlenecks(log, funnel, by=by, as_of=as_of, min_stay=min_stay)
            out["bottlenecks"] = found.to_dict()
    return out


def write_report(
    log: EventLog,
    *,
    source: str,
    top: int = 20,
    out: TextIO,
    funnel: Funnel | None = None,
    as_of: str | None = None,
    by: str | None = None,
    min_stay: float | None = None,
    quality: DataQualityResult | None = None,
) -> None:
    """Write the plain-text report of `log` to `out`, each section as soon as it is computed.

    Every section is flushed when written, so a long report fills the screen table by table;
    the text is the same as if it had been written at once.

    Args:
        log: The log to summarise.
        source: Where the log came from, printed in the heading.
        top: Number of transition rows to print, most frequent first.
        out: Text stream to write to.
        funnel: With a funnel, the report adds stage conversion and time in stage.
        as_of: Censoring time for open deals (the log's end by default).
        by: Case attribute naming the reps or teams whose top quartile sets the bottleneck
            benchmarks; without it the bottleneck ranking is left out.
        min_stay: Stays shorter than this many seconds are data-entry corrections, left out
            of every funnel figure (see `salesstd.conversion`); None keeps every stay.
        quality: The data-quality summary printed above the tables when there is a funnel;
            computed here if not given.
    """
    sections = Sections(out)
    sections.write(_heading(log, source))
    if funnel is not None and quality is None:
        quality = _quality(log, funnel, min_stay=min_stay, as_of=as_of)
    _write_sections(
        sections,
        log,
        top=top,
        funnel=funnel,
        as_of=as_of,
        by=by,
        min_stay=min_stay,
        quality=quality,
    )


def _write_sections(
    sections: Sections,
    log: EventLog,
    *,
    top: int,
    funnel: Funnel | None,
    as_of: str | None,
    by: str | None,
    min_stay: float | None,
    quality: DataQualityResult | None,
) -> None:
    """Write the report after its heading, computing each section just before writing it."""
    if quality is not None:
        sections.write(data_quality_lines(quality, min_stay=min_stay))
    with sections.computing("activity counts"):
        lines = _activity_section(log)
    sections.write(lines)
    with sections.computing("transitions"):
        lines = _transition_section(log, top)
    sections.write(lines)
    if funnel is None:
        return
    with sections.computing("stage conversion"):
        lines = _conversion_section(log, funnel, as_of, min_stay)
    sections.write(lines)
    with sections.computing("time in stage"):
        lines = _time_in_stage_section(log, funnel, as_of, min_stay)
    sections.write(lines)
    with sections.computing("the Markov funnel"):
        lines = _markov_section(log, funnel, as_of, min_stay)
    sections.write(lines)
    if by is not None:
        with sections.computing("bottlenecks"):
            lines = _bottleneck_section(log, funnel, as_of, by, min_stay)
        sections.write(lines)


def _heading(log: EventLog, source: str) -> list[str]:
    span_days = log.span.total_seconds() / _SECONDS_PER_DAY
    return [
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
    ]


def _activity_section(log: EventLog) -> list[str]:
    lines = ["Activities"]
    lines += table(
        ["activity", "events", "cases"],
        [[a, f"{e:,}", f"{c:,}"] for a, e, c in _activity_counts(log)],
    )
    return [*lines, ""]


def _transition_section(log: EventLog, top: int) -> list[str]:
    tr = transitions(log)
    lines = [f"Transitions (directly follows; {tr.n_pairs} pairs, top {top} by count)"]
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
    lines += table(["source", "target", "count", "mean_d", "median_d", "max_d"], rows)
    starts = ", ".join(f"{k} ({c:,})" for k, c in list(tr.start_activities.items())[:5])
    ends = ", ".join(f"{k} ({c:,})" for k, c in list(tr.end_activities.items())[:5])
    return [*lines, "", f"start activities: {starts}", f"end activities:   {ends}", ""]


def _markov_section(
    log: EventLog, funnel: Funnel, as_of: str | None, min_stay: float | None
) -> list[str]:
    chain = MarkovFunnel.from_log(log, funnel, as_of=as_of, min_stay=min_stay)
    win = chain.win_probability()
    steps = chain.expected_steps()
    close = chain.expected_time_to_close()
    to_win = chain.expected_time_to_close(given="won")
    lines = [
        "Markov funnel (open deals censored in their stage): from each stage, the chance of",
        "winning and the expected days to close (any outcome) and to win (given a win)",
    ]
    rows = [
        [
            str(chain.states[i]),
            _pct(float(win[i])),
            _num(float(steps[i])),
            _num(float(close[i])),
            _num(float(to_win[i])),
        ]
        for i in range(chain.n_open)
    ]
    lines += table(["stage", "P(win)", "steps", "days_to_close", "days_to_win"], rows)
    return [*lines, WIN_PROBABILITIES_NOTE, ""]


def _bottleneck_section(
    log: EventLog, funnel: Funnel, as_of: str | None, by: str, min_stay: float | None
) -> list[str]:
    report = bottlenecks(log, funnel, by=by, as_of=as_of, min_stay=min_stay)
    found = report.top(5)
    lines = [f"Bottlenecks (benchmark: top quartile of {by}, shrunk for noise; best first)"]
    if not found:
        lines.append("no stage falls short of the benchmark by more than noise")
    lines += [f"{k}. {finding.explanation}" for k, finding in enumerate(found, start=1)]
    lines += ["", "Where the funnel loses the most deals and where deals stay longest"]
    lines += [f"- {finding.explanation}" for finding in report.describe()]
    return [*lines, ""]


def _conversion_section(
    log: EventLog, funnel: Funnel, as_of: str | None, min_stay: float | None
) -> list[str]:
    conv = conversion(log, funnel, as_of=as_of, min_stay=min_stay)
    lines = [
        f"Funnel: {' -> '.join(funnel.stage_names[: funnel.n_open])} -> {funnel.won.name}"
        + (f"; lost: {', '.join(s.name for s in funnel.lost)}" if funnel.lost else ""),
        "",
        "Stage conversion (first entries; a deal enters at its first recorded stage; skips",
        "between recorded stages implied; open deals are not lost;",
        f"rate = advanced / (advanced + lost), {conv.confidence_level:.0%} Wilson interval)",
    ]
    rows = [
        [
            str(conv.stage[i]),
            f"{int(conv.entered[i]):,}",
            f"{int(conv.implied[i]):,}",
            f"{int(conv.entered_funnel[i]):,}",
            f"{int(conv.advanced[i]):,}",
            f"{int(conv.lost[i]):,}",
            f"{int(conv.open[i]):,}",
            _pct(float(conv.rate[i])),
            f"{_pct(float(conv.low[i]))}-{_pct(float(conv.high[i]))}",
            _pct(float(conv.win_rate[i])),
        ]
        for i in range(conv.stage.size)
    ]
    lines += table(
        [
            "stage",
            "entered",
            "implied",
            "new_here",
            "advanced",
            "lost",
            "open",
            "rate",
            "interval",
            "win_rate",
        ],
        rows,
    )
    lines.append(
        "implied = entered by a skip between two recorded stages; new_here = deals whose "
        "first recorded stage is this one"
    )
    return [*lines, ""]


def _time_in_stage_section(
    log: EventLog, funnel: Funnel, as_of: str | None, min_stay: float | None
) -> list[str]:
    dwell = time_in_stage(log, funnel, as_of=as_of, min_stay=min_stay)
    lines = [
        "Time in stage, days (Kaplan-Meier; deals still in a stage are censored, not dropped)",
    ]
    rows = [
        [
            str(dwell.stage[i]),
            f"{int(dwell.n[i]):,}",
            f"{int(dwell.censored[i]):,}",
            _num(float(dwell.median_days[i])),
            f"{_num(float(dwell.median_low_days[i]))}-{_num(float(dwell.median_high_days[i]))}",
            _num(float(dwell.q25_days[i])),
            _num(float(dwell.q75_days[i])),
        ]
        for i in range(dwell.stage.size)
    ]
    lines += table(["stage", "stays", "open", "median", "interval", "q25", "q75"], rows)
    return [*lines, ""]


def _pct(value: float) -> str:
    return "n/a" if value != value else f"{value:.1%}"  # noqa: PLR0124 - NaN check


def _num(value: float) -> str:
    return "n/a" if value != value else f"{value:,.1f}"  # noqa: PLR0124 - NaN check


def _days(seconds: float) -> str:
    return f"{seconds / _SECONDS_PER_DAY:,.2f}"
