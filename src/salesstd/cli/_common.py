"""What the ``salesstd`` commands share: reading the log and checking options against it.

Every command reads its log with `load` and then, before any analysis, checks the options
that name things in the log with `check_against_log` (``--by``, the funnel's stage names,
``--as-of``), so a wrong name fails in the time it takes to read the file, not after the
whole report has been computed. Every command that has a funnel prints the data-quality
summary of `data_quality_lines` at the top, and runs its analysis inside `warnings_as_lines`,
which turns the library's warnings into one ``salesstd: warning: ...`` line each on stderr.

Messages name options as they are typed: the library's ``min_stay=60`` reads ``--min-stay 60``
(see `cli_words`, given the options of `option_spellings`).
A stage or outcome of the funnel that the log never records is a warning line, not an error
(a young pipeline may have no lost deal yet); a funnel sharing no stage with the log is an
error, as it is in the library.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import NoReturn

from salesstd._base import timestamps as _time
from salesstd._engine.episodes import resolve_as_of, resolve_min_stay
from salesstd._engine.grouping import groups
from salesstd._engine.vocabulary import vocabulary_findings
from salesstd.cli._output import (
    OutputError,
    shown_path,
    stderr_is_open,
    stdout_is_open,
    write_err,
)
from salesstd.datasets import load_crm_opportunities
from salesstd.errors import ParameterError, SalesStdError, SalesStdWarning, VocabularyWarning
from salesstd.funnel import Funnel
from salesstd.io import read_csv, read_parquet, read_xes
from salesstd.log import EventLog
from salesstd.metrics import DataQualityResult, data_quality

EXIT_USAGE = 2
#: The status when whoever reads stdout stops early (``salesstd report ... | head``): what a
#: command killed by SIGPIPE reports (128 + 13), as ``yes | head`` does in a shell, so that
#: ``set -o pipefail`` scripts can tell a reader that stopped from a failed command; nothing is
#: printed, as Python's documentation recommends (stdout is pointed at the null device).
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


def option_spellings(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option of `parser` and its sub-commands, by destination, as it is typed.

    The destination is the library's parameter name where the option passes one on:
    ``{"min_stay": "--min-stay", "as_of": "--as-of", ...}`` (the first long spelling).
    """
    spelt: dict[str, str] = {}
    for action in parser._actions:  # noqa: SLF001 - argparse lists its options nowhere else
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for sub in action.choices.values():
                for dest, option in option_spellings(sub).items():
                    spelt.setdefault(dest, option)
        long = [s for s in action.option_strings if s.startswith("--")]
        if long:
            spelt.setdefault(action.dest, long[0])
    return spelt


#: What `run_guarded` turns into one line and exit status 2: the library's errors, usage
#: mistakes, files that cannot be opened or read, and output that cannot be written.
BAD_INPUT = (SalesStdError, UsageError, OutputError, OSError)


def run_guarded(command: Callable[[], int], *, options: Mapping[str, str]) -> int:
    """Run `command`; bad input becomes one line on stderr and `EXIT_USAGE`, never a traceback.

    The report is printed section by section, so a reader that stops early (``| head``) closes
    the pipe while later sections are still to come: the command then stops quietly with
    `EXIT_BROKEN_PIPE` instead of reporting a write error.

    Messages name the `options` as typed (`option_spellings`). Without a stdout (the
    command started with it closed, ``>&-``) nothing runs: the
    command would compute a report nobody can read. Output that the system refuses (a full
    disk) is one line too; stdout is then pointed at the null device, so Python's own flush
    at exit does not fail again with a traceback.

    Returns:
        The command's exit status, `EXIT_USAGE` if it raised one of `BAD_INPUT` or there is
        no stdout, or `EXIT_BROKEN_PIPE` if stdout was closed by its reader.
    """
    if not stdout_is_open():
        write_err(
            "salesstd: error: stdout is closed; redirect the report to a file "
            "(> report.txt) or to /dev/null\n"
        )
        return EXIT_USAGE
    try:
        status = command()
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except OutputError as err:
        _discard_stdout()
        write_err(error_line(err, options))
        return EXIT_USAGE
    except BAD_INPUT as err:
        write_err(error_line(err, options))
        return EXIT_USAGE
    return status


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

    They run before anything is read or printed, with the library's own bounds (a
    ``--min-stay`` of more than a year is refused here, not after the heading), and their
    messages name the options (see `cli_words`). ``args.min_stay`` becomes a float number of
    seconds (or stays None).
    """
    if getattr(args, "top", 0) < 0:
        fail(f"--top must be 0 or more; got {args.top}")
    if getattr(args, "min_stay", None) is not None:
        args.min_stay = _seconds(args.min_stay)
        resolve_min_stay(args.min_stay)
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
    if args.funnel and args.stages is not None:
        fail("give either --funnel or --stages, not both")
    if args.lost and args.stages is None:
        fail("--lost goes with --stages")
    if args.funnel:
        try:
            text = Path(args.funnel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) else "it is not UTF-8 text"
            fail(f"cannot read the funnel file '{shown_path(args.funnel)}': {reason}")
        return Funnel.from_json(text)
    if args.stages is not None:
        if not names(args.stages):
            fail(
                f"--stages needs stage names, e.g. --stages lead,qualified,won; got {args.stages!r}"
            )
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


#: Library phrases about a parameter that read better said another way on the command line;
#: the rest is `cli_words`' general renaming.
_CLI_WORDS = (
    (
        "Pass encoding= the file's encoding, e.g. encoding='latin-1' or 'cp1252'.",
        "Pass --encoding with the file's encoding, e.g. --encoding latin-1 or --encoding cp1252.",
    ),
    ("or leave as_of=None for the log's end", "or leave --as-of out for the log's end"),
    (
        "Check the stage names against the log's activities, or map them with aliases=.",
        (
            "Check --activity and the stage names against the log's activities, or list "
            "the log's names as aliases in a --funnel file."
        ),
    ),
    (
        "use the log's names or map them with aliases=.",
        "use the log's names in --stages/--lost or as aliases in a --funnel file.",
    ),
    (
        "use the log's name in the funnel or map it with aliases=",
        (
            "use the log's name in --stages/--lost or, in a --funnel file, list the first as "
            "an alias of the second: "
        ),
    ),
)
#: A Python keyword argument (``min_stay=60``) or a bare parameter name, not part of a longer
#: name, an attribute or an option already.
_PARAMETER = re.compile(r"(?<![\w.'\"-])([a-z][a-z0-9_]*)(?:(=)|(?![\w('\"]))")


def cli_words(text: str, options: Mapping[str, str], *, parameter: str | None = None) -> str:
    """`text` with the library's parameters that are command-line options named as typed.

    `options` maps each parameter to its option (`option_spellings`). Renamed are the keyword
    forms (``min_stay=60`` becomes ``--min-stay 60``, ``Pass time='x'`` ``Pass --time 'x'``)
    and the message's leading subject when it is `parameter`, the option a `ParameterError`
    is about (``tz 'Mars/Base' is not a known time zone``). A bare word elsewhere stays as
    it is: ``the case and the time`` is English. Keywords inside a call in the message
    (``Funnel.linear([...], lost='lost')``) stay Python; those in an aside
    (``(on_invalid='drop')``) do not.

    Examples:
        >>> options = {"min_stay": "--min-stay", "time": "--time", "tz": "--tz", "lost": "--lost"}
        >>> cli_words("pass min_stay=60 or time='at' in time", options)
        "pass --min-stay 60 or --time 'at' in time"
        >>> cli_words("tz 'Mars' is not a known tz", options, parameter="tz")
        "--tz 'Mars' is not a known tz"
        >>> cli_words("dropped (min_stay=60); e.g. f(['a', 'won'], lost='lost')", options)
        "dropped (--min-stay 60); e.g. f(['a', 'won'], lost='lost')"
    """
    for library, cli in _CLI_WORDS:
        text = text.replace(library, cli)

    def rename(match: re.Match[str]) -> str:
        name, keyword = match.group(1), match.group(2)
        option = options.get(name)
        subject = match.start() == 0 and name == parameter
        if option is None or not (keyword or subject):
            return match.group(0)
        if _in_call(text, match.start()):
            return match.group(0)
        return f"{option} " if keyword else option

    return " ".join(_PARAMETER.sub(rename, text).split())


def _in_call(text: str, at: int) -> bool:
    """Whether `at` lies within the parentheses of a call (``f(...)``), not of an aside."""
    depth = 0
    for i in range(at - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_]")
            depth -= 1
    return False


def error_line(
    err: SalesStdError | UsageError | OutputError | OSError, options: Mapping[str, str]
) -> str:
    """The one line on stderr for `err`, naming the `options` typed, not parameters."""
    if isinstance(err, OSError) and not isinstance(err, SalesStdError):
        where = f"{shown_path(err.filename)}: " if err.filename else "the input: "
        text = f"cannot read {where}{err.strerror or err}"
        return f"salesstd: error: {' '.join(text.split())}\n"
    parameter = err.parameter if isinstance(err, ParameterError) else None
    return f"salesstd: error: {cli_words(str(err), options, parameter=parameter)}\n"


def warning_line(message: object, options: Mapping[str, str]) -> str:
    """The line on stderr for a library warning's `message` (`options` named as typed)."""
    return f"salesstd: warning: {cli_words(str(message), options)}\n"


def warn_each(messages: Collection[str]) -> None:
    """Warn each vocabulary finding, for output (JSON) that has no summary to show it in.

    The library warns about names only the first time it reads a log through a funnel, and
    `data_quality` reads it first with those warnings silenced, so they are raised here.
    """
    for message in messages:
        warnings.warn(message, VocabularyWarning, stacklevel=2)


@contextlib.contextmanager
def warnings_as_lines(shown: Collection[str] = (), *, options: Mapping[str, str]) -> Iterator[None]:
    """Write the library's warnings raised inside as lines on stderr, each message once.

    A `SalesStdWarning` (a stage name that does not match the log, a small sample, dropped
    events) becomes ``salesstd: warning: <message>``, not Python's warning with a file path.
    Other warnings are raised again as they came, after the block.

    Args:
        shown: Messages already printed (the data-quality summary's vocabulary findings);
            read when the block ends, so the block may still add to it.
        options: The command's options, named as typed in the lines (`option_spellings`).

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
        seen = {warning_line(text, options) for text in shown}
        for w in caught:
            if not issubclass(w.category, SalesStdWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                continue
            line = warning_line(w.message, options)
            if line not in seen:
                seen.add(line)
                write_err(line)


def load(args: argparse.Namespace) -> tuple[EventLog, str]:
    """The log named by FILE (format by extension) or ``--example``, and its description.

    ``args.progress`` goes to the reader: None (no option) draws a bar on stderr only when
    stderr is a terminal, True (``--progress``) always, False (``--no-progress``) never, nor
    when there is no stderr (``2>&-``). The bundled example is read in a moment and draws none.
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
    progress = args.progress if stderr_is_open() else False
    if name.endswith((".xes", ".xes.gz")):
        _file_only(args, "XES files (trace attributes are case attributes already)")
        log = read_xes(
            path,
            lifecycle=args.lifecycle,
            tz=args.tz,
            on_invalid=args.on_invalid,
            progress=progress,
        )
        return log, shown_path(path)
    if args.lifecycle:
        fail("--lifecycle applies to XES files only")
    missing = [f"--{k}" for k in ("case", "activity", "time") if not getattr(args, k)]
    if missing:
        fail(f"{shown_path(path.name)} needs {', '.join(missing)} to name its columns")
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
            on_invalid=args.on_invalid,
            progress=progress,
        )
        return log, shown_path(path)
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
            on_invalid=args.on_invalid,
            progress=progress,
        )
        return log, shown_path(path)
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
    options: Mapping[str, str],
    by_hint: str = "",
) -> list[str]:
    """Check the options that name things in `log`, before any analysis runs.

    A stage or outcome of `funnel` that never occurs in the log is a warning, written at
    once as a ``salesstd: warning:`` line: a young pipeline may have lost no deal yet, and
    the library warns, not refuses, for that reason. Only a funnel that shares no stage with
    the log is an error. Stage names are text and a log's activities may be numbers (an
    integer stage column, XES ``<int key="concept:name">``): they are compared as text.

    Args:
        log: The log just read.
        funnel: The funnel or the standard's funnel, if any.
        by: The ``--by`` column, if any: a case attribute or an event attribute that is
            constant within every deal.
        as_of: The ``--as-of`` time, if any: not before the log starts.
        options: The command's options, named as typed in the warnings (`option_spellings`).
        by_hint: Appended to an error about `by` (e.g. that ``rep`` is a default).

    Returns:
        The warnings written, as the library words them (for `warnings_as_lines`' `shown`,
        so the analysis does not repeat them).

    Raises:
        UsageError: If `by` is not in the log.
        FunnelError: If no stage of `funnel` occurs in the log (the library's own check).
        ParameterError: If `as_of` is before the log starts.
    """
    if as_of is not None:
        resolve_as_of(log, as_of)
    messages = [] if funnel is None else _check_stages(log, funnel)
    if by is not None:
        try:
            groups(log, by, param="--by")
        except ParameterError as err:
            known = by in log.case_attributes or by in log.event_attributes
            raise UsageError(f"{err}{'' if known else by_hint}") from err
    for message in messages:
        write_err(warning_line(message, options))
    return messages


def _check_stages(log: EventLog, funnel: Funnel) -> list[str]:
    """The warnings about stages `log` never records; `FunnelError` if it records none."""
    findings = vocabulary_findings(log, funnel, funnel.stage_codes(log), all_absent=True)
    return [f.message for f in findings if f.kind in ("absent", "misspelled")]


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
