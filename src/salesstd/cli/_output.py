r"""Text output written section by section, each section on the screen as soon as it is ready.

A report used to be joined into one string and written at the end, so a big export showed a
blank screen until the last table was computed. `Sections` writes each section as soon as it
is computed and flushes it, and the text is byte for byte what joining every section's lines
with newlines gives: a section's last line is its blank separator, written with the next one.

While a slow section computes, `Sections.computing` shows a short status line on stderr
(``salesstd: computing bottlenecks ...``) and erases it afterwards. It does so only when stderr
is a terminal and ``--no-progress`` was not given, so nothing but the report reaches stdout
and no control characters reach a redirected stderr.

Writing can fail in ways a reader of the report should hear about in one line: stdout closed
before the command started (``>&-``, as cron jobs do: Python then has no ``sys.stdout``),
or a write refused by the system (a full disk, ``> /dev/full``). `write_out` and `Sections`
raise `OutputError` naming the stream and the system's reason for the latter, and
`stdout_is_open` tells the former; a reader that stops early (``| head``) raises
`BrokenPipeError` as before, which the commands end quietly. `write_err` writes to stderr
if there is one and drops the text if not, so reporting an error never raises another.
`shown_path` is a path as it can be printed: bytes of a file name that are not valid in the
file system's encoding (``caf\xe9.csv`` made by a Latin-1 system) appear as ``\xe9``.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

#: Moves to the start of the line and clears it: erases a status line on a terminal.
_ERASE_LINE = "\r\x1b[K"


class Sections:
    """A text stream that takes a report one section at a time and flushes each one.

    Args:
        out: Where the report goes (stdout for the commands).
        status: Show status lines on stderr while a section computes; they are still left
            out unless stderr is a terminal.
    """

    def __init__(self, out: TextIO, *, status: bool = False) -> None:
        self._out = out
        self._status = status
        self._started = False

    def write(self, lines: Sequence[str]) -> None:
        """Write `lines` as the next section and flush them to the screen.

        The sections together read exactly as all their lines joined by newlines: a newline
        goes between two lines of a section, and between the last line of one section and
        the first line of the next.
        """
        text = "\n".join(lines)
        if self._started:
            text = "\n" + text
        self._started = True
        _write(self._out, text)

    @contextlib.contextmanager
    def computing(self, what: str) -> Iterator[None]:
        """Show ``salesstd: computing <what> ...`` on stderr while the block runs, if wanted.

        Yields:
            Nothing; the status line is erased when the block ends, even if it raised.
        """
        if not (self._status and stderr_is_terminal()):
            yield
            return
        write_err(f"salesstd: computing {what} ...")
        try:
            yield
        finally:
            write_err(_ERASE_LINE)


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (False if it was replaced by something without isatty)."""
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class OutputError(Exception):
    """The report could not be written (a full disk, a closed stream): one line, exit 2."""


def stdout_is_open() -> bool:
    """Whether there is a stdout to write the report to (``>&-`` leaves Python none)."""
    return _is_open(sys.stdout)


def stderr_is_open() -> bool:
    """Whether there is a stderr to draw a progress bar on (``2>&-`` leaves Python none)."""
    return _is_open(sys.stderr)


def _is_open(stream: TextIO | None) -> bool:
    return stream is not None and not getattr(stream, "closed", False)


def write_out(text: str) -> None:
    """Write `text` to stdout and flush it.

    Raises:
        OutputError: If the system refuses the write (e.g. no space left on the device).
        BrokenPipeError: If the reader of stdout has gone (``| head``).
    """
    _write(sys.stdout, text)


def _write(out: TextIO, text: str) -> None:
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        name = getattr(out, "name", None)
        where = shown_path(name) if isinstance(name, str) else "stdout"
        raise OutputError(f"cannot write {where}: {err.strerror or err}") from err


def write_err(text: str) -> None:
    """Write `text` to stderr and flush it; nothing happens if stderr is closed or gone."""
    err = sys.stderr
    if err is None:
        return
    with contextlib.suppress(OSError, ValueError):  # closed, full, or its reader gone
        err.write(text)
        err.flush()


def shown_path(path: object) -> str:
    r"""`path` as printable text: undecodable bytes of a file name as ``\xNN`` escapes."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        return str(path)
    raw = os.fsencode(path)
    return raw.decode(sys.getfilesystemencoding(), "backslashreplace")


@contextlib.contextmanager
def printable_streams() -> Iterator[None]:
    r"""While the block runs, text that stdout or stderr cannot encode is written escaped.

    A file name or activity that the terminal's encoding lacks then prints as ``\xe9``
    instead of ending the command with `UnicodeEncodeError`; each stream's own error handler
    is put back afterwards.

    Yields:
        Nothing.
    """
    changed: list[tuple[io.TextIOWrapper, str]] = []
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(ValueError):  # closed
                stream.reconfigure(errors="backslashreplace")
                changed.append((stream, "strict"))
    try:
        yield
    finally:
        for stream, errors in changed:
            with contextlib.suppress(ValueError):
                stream.reconfigure(errors=errors)
