r"""The ``salesstd`` command: summaries of an event log from the shell.

``salesstd report FILE --case C --activity A --time T`` reads a CSV, Parquet or XES file
(chosen by its extension) and prints cases, events, time span, activities and the
directly-follows transition table; given a funnel (``--stages`` and ``--lost``, or
``--funnel funnel.json``) it adds stage conversion and time in stage, with open deals
censored, headed by a data-quality summary (late entries, stays of seconds, moves back, ...;
see `salesstd.data_quality`). ``salesstd report --example`` does all of it for the bundled
CRM example. ``--min-stay SECONDS`` reads shorter stays as data-entry corrections.
``--encoding`` and ``--case-attributes`` (columns with one value per deal) go to the CSV
reader, ``--on-invalid drop`` (rows with a missing id or time dropped with a warning) to every
reader. Options that name things in the log (``--by``, stages, ``--as-of``) are checked as
soon as the log is read, before any analysis. Each section is printed as soon as it is
computed (the text is the same as printed at once; ``--json`` prints one document at the end).
While a file is read a progress bar is drawn on stderr, and while a section computes a status
line: by default only when stderr is a terminal, always with ``--progress`` (the bar; needs
tqdm), never with ``--no-progress``. Bad input prints one line on stderr and exits with status
2, as does a report that cannot be written (``cannot write <stdout>: No space left on device``)
or a command started without a stdout (``>&-``); messages name options as typed
(``--min-stay``, not ``min_stay=``), and every numeric option is checked before any output.
A reader that stops early (``| head``) ends the command quietly with status 141, as a command
killed by SIGPIPE. The library's warnings print as ``salesstd: warning: ...`` lines on stderr;
a stage or outcome the log never records is such a warning (a young pipeline may have lost no
deal yet), and only a funnel sharing no stage with the log is an error. Stage names are
compared with the text of the log's activities, so ``--stages 1,2`` matches an integer stage
column. File names the terminal cannot show are printed escaped (``caf\xe9.csv``).
"""

from __future__ import annotations

from salesstd.cli._main import main

__all__ = [
    "main",
]
