"""Text output written section by section, each section on the screen as soon as it is ready.

A report used to be joined into one string and written at the end, so a big export showed a
blank screen until the last table was computed. `Sections` writes each section as soon as it
is computed and flushes it, and the text is byte for byte what joining every section's lines
with newlines gives: a section's last line is its blank separator, written with the next one.

While a slow section computes, `Sections.computing` shows a short status line on stderr
(``salesstd: computing bottlenecks ...``) and erases it afterwards. It does so only when stderr
is a terminal and ``--no-progress`` was not given, so nothing but the report reaches stdout
and no control characters reach a redirected stderr.
"""

from __future__ import annotations

import contextlib
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
        self._out.write(text)
        self._out.flush()

    @contextlib.contextmanager
    def computing(self, what: str) -> Iterator[None]:
        """Show ``salesstd: computing <what> ...`` on stderr while the block runs, if wanted.

        Yields:
            Nothing; the status line is erased when the block ends, even if it raised.
        """
        if not (self._status and stderr_is_terminal()):
            yield
            return
        sys.stderr.write(f"salesstd: computing {what} ...")
        sys.stderr.flush()
        try:
            yield
        finally:
            sys.stderr.write(_ERASE_LINE)
            sys.stderr.flush()


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (False if it was replaced by something without isatty)."""
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False
