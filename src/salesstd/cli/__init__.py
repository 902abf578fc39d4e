"""The ``salesstd`` command: summaries of an event log from the shell.

``salesstd report FILE --case C --activity A --time T`` reads a CSV, Parquet or XES file
(chosen by its extension) and prints cases, events, time span, activities and the
directly-follows transition table; given a funnel (``--stages`` and ``--lost``, or
``--funnel funnel.json``) it adds stage conversion and time in stage, with open deals
censored, headed by a data-quality summary (late entries, stays of seconds, moves back, ...;
see `salesstd.data_quality`). ``salesstd report --example`` does all of it for the bundled
CRM example. ``--min-stay SECONDS`` reads shorter stays as data-entry corrections.
``--encoding`` and ``--case-attributes`` (columns with one value per deal) go to the CSV
reader. Options that name things in the log (``--by``, stages, ``--as-of``) are checked as
soon as the log is read, before any analysis. Each section is printed as soon as it is
computed (the text is the same as printed at once; ``--json`` prints one document at the end).
While a file is read a progress bar is drawn on stderr, and while a section computes a status
line: by default only when stderr is a terminal, always with ``--progress`` (the bar; needs
tqdm), never with ``--no-progress``. Bad input prints one line on stderr and exits with status
2; the library's warnings print as ``salesstd: warning: ...`` lines on stderr.
"""

from __future__ import annotations

from salesstd.cli._main import main

__all__ = [
    "main",
]
