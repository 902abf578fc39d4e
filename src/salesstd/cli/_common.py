"""What the ``salesstd`` commands share: reading the log and checking options against it.

Every command reads its log with `load` and then, before any analysis, checks the options
that name things in the log with `check_against_log` (``--by``, the funnel's stage names,
``--as-of``), so a wrong name fails in the time it takes to read the file, not after the
whole report has been computed. Every command that has a funnel prints the data-quality
summary of `data_quality_lines` at the top, and runs its analysis inside `warnings_as_lines`,
which turns the library's warnings into one ``salesstd: warning: ...`` line each on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import sys
import warnings
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import NoReturn

from salesstd._base import timestamps as _time
from salesstd._base import validation as v
from salesstd._engine.episodes import resolve_as_of
from salesstd._engine.grouping import groups
from salesstd.datasets import load_crm_opportunities
from salesstd.errors import ParameterError, SalesStdError, SalesStdWarning, VocabularyWarning
from salesstd.funnel import Funnel
from salesstd.io import read_csv, read_parquet, read_xes
from salesstd.log import EventLog
from salesstd.metrics import DataQualityResult, data_quality

EXIT_USAGE = 2
#: The status when whoever reads stdout stops early (``salesstd report ... | head``): what a
#: command killed by SIGPIPE reports (128 + 13).
EXIT_BROKEN_PIPE = 141


class UsageError(Exception):
    """A command-line mistake reported as one line."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors raise `UsageError` (one line, exit 2).

    argparse prints the whole usage text and exits on a bad option; the commands report every
    mistake as one ``salesstd: error: ...`` line instead. Sub-command parsers are of this
    class too (``add_subparsers`` makes them of the parent's class).
    """

    def error(self, message: str) -> NoReturn:
        """Raise `UsageError` naming the problem and where the help is."""
        raise UsageError(f"{message} (see {self.prog} --help)")


#: What `run_guarded` turns into one line and exit status 2: the library's errors, usage
#: mistakes, and files that cannot be opened or read.
BAD_INPUT = (SalesStdError, UsageError, OSError)


def run_guarded(command: Callable[[], int]) -> int:
    """Run `command`; bad input becomes one line on stderr and `EXIT_USAGE`, never a traceback.

    The report is printed section by section, so a reader that stops early (``| head``) closes
    the pipe while later sections are still to come: the command then stops quietly with
    `EXIT_BROKEN_PIPE` instead of reporting a write error.

    Returns:
        The command's exit status, `EXIT_USAGE` if it raised one of `BAD_INPUT`, or
        `EXIT_BROKEN_PIPE` if stdout was closed by its reader.
    """
    try:
        return command()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except BAD_INPUT as err:
        sys.stderr.write(error_line(err))
        return EXIT_USAGE


def _discard_stdout() -> None:
    """Point stdout at the null device, so Python's final flush does not fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):  # not a real file
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def fail(message: str) -> None:
    """Raise `UsageError` with `message`."""
    raise UsageError(message)


def names(text: str | None) -> list[str]:
    """A comma-separated option as a list of stripped, non-empty names."""
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def check_options(args: argparse.Namespace) -> None:
    """Checks that need no log: ``--top``, ``--min-stay`` and the syntax of ``--as-of``.

    ``args.min_stay`` becomes a float number of seconds (or stays None).
    """
    if getattr(args, "top", 0) < 0:
        fail("--top must be 0 or more")
    if getattr(args, "min_stay", None) is not None:
        args.min_stay = _seconds(args.min_stay)
    if args.as_of is not None:
        _time.as_utc_ns(args.as_of, name="--as-of")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        fail(
            f"--min-stay must be a number of seconds, 0 or more (e.g. --min-stay 60); got {text!r}"
        )
    return value


def funnel_option(args: argparse.Namespace) -> Funnel | None:
    """The funnel of ``--funnel FILE`` or ``--stages``/``--lost``, or None if neither."""
    if args.funnel and args.stages:
        fail("give either --funnel or --stages, not both")
    if args.lost and not args.stages:
        fail("--lost goes with --stages")
    if args.funnel:
        try:
            text = Path(args.funnel).read_text(encoding="utf-8")
        except OSError as err:
            fail(f"cannot read the funnel file {args.funnel!r}: {err.strerror}")
        return Funnel.from_json(text)
    if args.stages:
        return Funnel.linear(names(args.stages), lost=names(args.lost) or None)
    return None


#: The data-quality summary's heading.
QUALITY_HEADING = "Data quality (what this export gets wrong)"
#: Stays shorter than this many seconds are counted as short when ``--min-stay`` is not given.
SHORT_STAY_SECONDS = 60.0


def quality(
    log: EventLog, funnel: Funnel, *, min_stay: float | None, as_of: str | None
) -> DataQualityResult:
    """`data_quality` of `log` through `funnel`: short stays by ``--min-stay`` or a minute."""
    return data_quality(log, funnel, min_stay=min_stay or SHORT_STAY_SECONDS, as_of=as_of)


def data_quality_lines(dq: DataQualityResult, *, min_stay: float | None) -> list[str]:
    """The data-quality summary: where deals entered the funnel, then each finding.

    Args:
        dq: What `data_quality` found.
        min_stay: The ``--min-stay`` given, if any: the short-stays finding then says the
            stays are read as corrections instead of telling the user to pass the option.

    Returns:
        Lines, the heading first and a blank line last.
    """
    lines = [QUALITY_HEADING]
    entered = {stage: n for stage, n in dq.entered_at.items() if n}
    total = sum(entered.values())
    if len(entered) == 1:
        (stage, n), first = next(iter(entered.items())), next(iter(dq.entered_at))
        where = "its first stage, " if stage == first else ""
        every = "The" if n == 1 else ("Both" if n == 2 else f"All {n:,}")  # noqa: PLR2004
        lines.append(f"{every} {_deals(n)} entered the funnel at {where}{stage}.")
    elif entered:
        at = ", ".join(f"{stage} {n:,}" for stage, n in entered.items())
        lines.append(f"{total:,} {_deals(total)} entered the funnel (first recorded stage): {at}.")
    findings = [_cli_finding(text, min_stay=min_stay) for text in dq.findings]
    lines += [f"- {text}" for text in findings]
    if not findings:
        lines.append(
            f"No problems found: no late entries, stays under {dq.min_stay_seconds:g} seconds, "
            "moves back, repeated or duplicate events, events after close, or activities "
            "that are not stages."
        )
    return [*lines, ""]


def _deals(n: int) -> str:
    return "deal" if n == 1 else "deals"


def _cli_finding(text: str, *, min_stay: float | None) -> str:
    """A `data_quality` sentence with the library's ``min_stay=`` put as ``--min-stay``."""
    library = "pass min_stay="
    if library not in text:
        return text
    head, _, tail = text.partition(library)
    seconds, _, rest = tail.partition(" ")
    if min_stay:
        return f"{head}read as corrections (--min-stay {seconds}) and left out of every figure."
    return f"{head}pass --min-stay {seconds} {rest}"


#: Library phrases that name a Python parameter, and what the command line calls it.
_CLI_WORDS = (
    (
        "Pass encoding= the file's encoding, e.g. encoding='latin-1' or 'cp1252'.",
        "Pass --encoding with the file's encoding, e.g. --encoding latin-1 or --encoding cp1252.",
    ),
    ("pass min_stay=", "pass --min-stay "),
    ("or leave as_of=None for the log's end", "or leave --as-of out for the log's end"),
    ("as_of ", "--as-of "),
)


def error_line(err: SalesStdError | UsageError | OSError) -> str:
    """The one line on stderr for `err`, naming command-line options, not parameters."""
    if isinstance(err, OSError) and not isinstance(err, SalesStdError):
        where = f"{err.filename}: " if err.filename else ""
        text = f"cannot read {where}{err.strerror or err}"
        return f"salesstd: error: {' '.join(text.split())}\n"
    text = " ".join(str(err).split())
    for library, cli in _CLI_WORDS:
        text = text.replace(library, cli)
    return f"salesstd: error: {text}\n"


def warn_each(messages: Collection[str]) -> None:
    """Warn each vocabulary finding, for output (JSON) that has no summary to show it in.

    The library warns about names only the first time it reads a log through a funnel, and
    `data_quality` reads it first with those warnings silenced, so they are raised here.
    """
    for message in messages:
        warnings.warn(message, VocabularyWarning, stacklevel=2)


@contextlib.contextmanager
def warnings_as_lines(shown: Collection[str] = ()) -> Iterator[None]:
    """Write the library's warnings raised inside as lines on stderr, each message once.

    A `SalesStdWarning` (a stage name that does not match the log, a small sample, dropped
    events) becomes ``salesstd: warning: <message>``, not Python's warning with a file path.
    Other warnings are raised again as they came, after the block.

    Args:
        shown: Messages already printed (the data-quality summary's vocabulary findings);
            read when the block ends, so the block may still add to it.

    Yields:
        Nothing; the warnings are written when the block ends, even if it raised.
    """
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always", SalesStdWarning)
            try:
                yield
            finally:
                caught += record
    finally:
        seen = set(shown)
        for w in caught:
            if not issubclass(w.category, SalesStdWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                continue
            text = " ".join(str(w.message).split())
            if text not in seen:
                seen.add(text)
                sys.stderr.write(f"salesstd: warning: {text}\n")


def load(args: argparse.Namespace) -> tuple[EventLog, str]:
    """The log named by FILE (format by extension) or ``--example``, and its description.

    ``args.progress`` goes to the reader: None (no option) draws a bar on stderr only when
    stderr is a terminal, True (``--progress``) always, False (``--no-progress``) never. The
    bundled example is read in a moment and draws none.
    """
    if args.example:
        if args.file:
            fail("give either FILE or --example, not both")
        _file_only(args, "the bundled example")
        return load_crm_opportunities(), "bundled example: Maven CRM sales opportunities"
    if not args.file:
        fail("give a FILE to report on, or --example for the bundled CRM data")
    path = Path(args.file)
    name = path.name.lower()
    if name.endswith((".xes", ".xes.gz")):
        _file_only(args, "XES files (trace attributes are case attributes already)")
        log = read_xes(path, lifecycle=args.lifecycle, tz=args.tz, progress=args.progress)
        return log, str(path)
    if args.lifecycle:
        fail("--lifecycle applies to XES files only")
    missing = [f"--{k}" for k in ("case", "activity", "time") if not getattr(args, k)]
    if missing:
        fail(f"{path.name} needs {', '.join(missing)} to name its columns")
    case_attributes = names(args.case_attributes) or None
    if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        log = read_csv(
            path,
            case=args.case,
            activity=args.activity,
            time=args.time,
            case_attributes=case_attributes,
            order=args.order,
            tz=args.tz,
            delimiter="\t" if name.endswith(".tsv") else ",",
            encoding=args.encoding or "utf-8",
            progress=args.progress,
        )
        return log, str(path)
    if name.endswith((".parquet", ".pq")):
        if args.encoding:
            fail("--encoding applies to CSV files only (Parquet stores its own)")
        log = read_parquet(
            path,
            case=args.case,
            activity=args.activity,
            time=args.time,
            case_attributes=case_attributes,
            order=args.order,
            tz=args.tz,
            progress=args.progress,
        )
        return log, str(path)
    fail(f"cannot tell the format of {path.name!r}; use .csv, .csv.gz, .parquet, .xes or .xes.gz")
    raise AssertionError  # pragma: no cover - fail raised


def _file_only(args: argparse.Namespace, what: str) -> None:
    if args.encoding:
        fail(f"--encoding applies to CSV files, not {what}")
    if args.case_attributes:
        fail(f"--case-attributes applies to CSV and Parquet files, not {what}")


def check_against_log(
    log: EventLog,
    *,
    funnel: Funnel | None,
    by: str | None,
    as_of: str | None,
    every_stage: bool,
    by_hint: str = "",
) -> None:
    """Check the options that name things in `log`, before any analysis runs.

    Args:
        log: The log just read.
        funnel: The funnel or the standard's funnel, if any.
        by: The ``--by`` column, if any: a case attribute or an event attribute that is
            constant within every deal.
        as_of: The ``--as-of`` time, if any: not before the log starts.
        every_stage: True: every stage and outcome of `funnel` must occur in the log (the
            user typed them for this log); False: at least one must (a standard's stage that
            no deal records is a finding, not a typo).
        by_hint: Appended to an error about `by` (e.g. that ``rep`` is a default).

    Raises:
        UsageError: If a name does not occur in the log.
        ParameterError: If `as_of` is before the log starts.
    """
    if as_of is not None:
        resolve_as_of(log, as_of)
    if funnel is not None:
        _check_stages(log, funnel, every_stage=every_stage)
    if by is not None:
        try:
            groups(log, by, param="--by")
        except ParameterError as err:
            known = by in log.case_attributes or by in log.event_attributes
            raise UsageError(f"{err}{'' if known else by_hint}") from err


def _check_stages(log: EventLog, funnel: Funnel, *, every_stage: bool) -> None:
    activities = log.activities
    present = set(activities)
    absent = [s for s in funnel.stage_names if s not in present]
    if not absent or (not every_stage and len(absent) < len(funnel.stage_names)):
        return
    has = f"the log's activities are {v.listing(activities)}"
    if len(absent) == len(funnel.stage_names):
        fail(
            f"no stage of the funnel ({', '.join(absent)}) occurs in the log; {has}."
            f"{_closest(absent, activities)} Check --activity and the stage names."
        )
    shown = ", ".join(repr(s) for s in absent)
    verb = "never occurs" if len(absent) == 1 else "never occur"
    fail(
        f"stage {shown} {verb} in the log; {has}.{_closest(absent, activities)} "
        "Correct the name in --stages/--lost (or the --funnel file), or leave it out."
    )


def _closest(absent: list[str], activities: tuple[str, ...]) -> str:
    """``" Did you mean 'x'?"`` for the first absent name with a close activity, else "".

    Close: a near spelling (difflib), or an activity that contains the name ignoring case
    ('Won' in 'Closed Won').
    """
    for name in absent:
        hint = v.did_you_mean(name, activities)
        if hint:
            return hint
        folded = name.casefold()
        holding = [a for a in activities if folded in a.casefold()]
        if holding:
            return f" Did you mean {min(holding, key=len)!r}?"
    return ""


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Lines of a plain-text table; columns of numbers are right-aligned."""
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
