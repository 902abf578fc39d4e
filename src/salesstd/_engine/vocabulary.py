"""Where a funnel meets a log: names that never occur and names that nearly match.

A funnel written by hand rarely spells every stage the way a CRM export does (``'Won'``
against ``'Closed Won'``, ``'Diseno'`` against ``'Diseño'``). A stage name that matches no
activity silently becomes "never reached", and an activity that matches no stage silently
becomes a non-stage activity, so every rate built on them is wrong without a sign. These
checks run whenever stage episodes are built from a log (every funnel metric) and:

* raise `FunnelError` when the log has events and none of them is a stage or outcome of the
  funnel, naming the log's most frequent activities;
* warn (`VocabularyWarning`) when a stage or outcome never occurs and some activity of the
  log nearly matches it, or when it never occurs in a log of at least `ABSENT_MIN_CASES`
  cases (a small log may well have no losses yet);
* warn when an activity that is not a stage is another spelling of a stage that does occur
  (``'proposal '`` beside ``'Proposal'``: two spellings of one stage split its events).

Names are compared with case, accents, spacing, underscores and hyphens ignored. For a stage
that never occurs, a log activity nearly matches it if the two are then equal, if a one-word
name is a word of the other (``'won'`` in ``'closed won'``), or if they are spelt alike
(difflib ratio >= 0.8). For a stage that does occur only an equal name counts: a close
spelling there is usually another activity (BPIC 2012's ``'O_ACCEPTED'`` beside
``'A_ACCEPTED'``).
"""

from __future__ import annotations

import difflib
import re
import sys
import types
import unicodedata
import warnings
from typing import TYPE_CHECKING

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base.validation import listing, normalisation_note
from salesstd.errors import FunnelError, VocabularyWarning

if TYPE_CHECKING:
    from salesstd.funnel import Funnel
    from salesstd.log import EventLog

__all__ = [
    "ABSENT_MIN_CASES",
    "Finding",
    "near_matches",
    "normalize",
    "vocabulary_findings",
    "warn_vocabulary",
]

ABSENT_MIN_CASES = 20
"""A stage that never occurs is worth a warning on its own in a log of this many cases."""

_CLOSE = 0.8
_SEP = re.compile(r"[\s_\-]+")


def normalize(name: str) -> str:
    """`name` casefolded, accents removed, runs of spaces, ``_`` and ``-`` made one space.

    Examples:
        >>> normalize("  Closed_Won "), normalize("Diseño")
        ('closed won', 'diseno')
    """
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SEP.sub(" ", plain.casefold()).strip()


def near_matches(name: str, candidates: list[str], *, words: bool) -> list[str]:
    """The candidates that nearly match `name`, closest first.

    Args:
        name: The name to match.
        candidates: Names to search.
        words: Also accept a candidate one of whose words is `name` (or the other way round)
            when the shorter is a single word: ``'won'`` in ``'closed won'``.

    Examples:
        >>> near_matches("Won", ["Closed Won", "Closed Lost", "Prospecting"], words=True)
        ['Closed Won']
        >>> near_matches("Diseno", ["Diseño", "Propuesta"], words=False)
        ['Diseño']
    """
    target = normalize(name)
    if not target:
        return []
    scored: list[tuple[float, str]] = []
    for cand in candidates:
        other = normalize(cand)
        if not other:
            continue
        if other == target:
            scored.append((2.0, cand))
            continue
        if words:
            short, long_ = sorted((target, other), key=len)
            if " " not in short and short in long_.split(" "):
                scored.append((1.5, cand))
                continue
        ratio = difflib.SequenceMatcher(None, target, other).ratio()
        if ratio >= _CLOSE:
            scored.append((ratio, cand))
    scored.sort(key=lambda item: -item[0])
    return [cand for _, cand in scored]


@attrs.frozen
class Finding:
    """One mismatch between a funnel's names and a log's activities.

    Attributes:
        kind: ``"absent"`` (a stage or outcome never occurs, nothing close in the log),
            ``"misspelled"`` (it never occurs and log activities nearly match it) or
            ``"near_stage"`` (an activity that is not a stage is another spelling of one that
            occurs).
        name: The stage, outcome or activity the finding is about.
        closest: The names on the other side that nearly match it, closest first.
        message: The finding in words, with the fix.
    """

    kind: str
    name: str
    closest: tuple[str, ...]
    message: str


def vocabulary_findings(
    log: EventLog,
    funnel: Funnel,
    codes: NDArray[np.int32],
    *,
    all_absent: bool = False,
    events: NDArray[np.bool_] | None = None,
) -> list[Finding]:
    """The mismatches between `funnel` and `log`; see the module docstring.

    Args:
        log: The log.
        funnel: The funnel.
        codes: ``funnel.stage_codes(log)``: the stage code of each activity, -1 for none.
        all_absent: Report every stage that never occurs, whatever the log's size.
        events: The events to count (those up to an `as_of`); default all.

    Raises:
        FunnelError: If the log has events and none is a stage or outcome of the funnel
            (not raised when `events` is given: the stages may occur after them).
    """
    counted = log.activity if events is None else log.activity[events]
    if counted.size == 0:
        return []
    names = [str(a) for a in log.activity_names.tolist()]
    counts = np.bincount(counted, minlength=len(names))
    present = counts > 0
    stage_names = [s.name for s in funnel.stages]
    occurs = np.zeros(len(stage_names), dtype=bool)
    occurs[codes[present & (codes >= 0)]] = True
    unmapped = [names[i] for i in np.flatnonzero(present & (codes < 0)).tolist()]
    if not occurs.any() and events is None:  # (a stage may well occur after an as_of)
        order = np.argsort(-counts, kind="stable")[: min(8, len(names))]
        frequent = [f"{names[i]!r}" for i in order.tolist() if counts[i] > 0]
        hints = [
            f"{stage!r} -> {near[0]!r}"
            for stage in stage_names
            if (near := near_matches(stage, unmapped, words=True))
        ]
        fix = (
            f" Close names: {', '.join(hints)}; use the log's names or map them with aliases=."
            if hints
            else " Check the stage names against the log's activities, or map them with aliases=."
        )
        raise FunnelError(
            f"no stage or outcome of the funnel ({listing(stage_names)}) occurs in the log; "
            f"its most frequent activities are {', '.join(frequent)}.{fix}"
        )
    out: list[Finding] = []
    declared = set(funnel.activities or ())
    candidates = [a for a in unmapped if a not in declared]
    n_cases = log.n_cases
    for code in np.flatnonzero(~occurs).tolist():
        stage = stage_names[code]
        kind = "stage" if code < funnel.n_open else "outcome"
        near = near_matches(stage, candidates, words=True)
        if near:
            has = ", ".join(f"{a!r} ({_events(int(counts[names.index(a)]))})" for a in near[:3])
            out.append(
                Finding(
                    "misspelled",
                    stage,
                    tuple(near),
                    f"{kind} {stage!r} never occurs in the log; the log has {has}. If they "
                    f"are the same, use the log's name in the funnel or map it with "
                    f"aliases={{{near[0]!r}: {stage!r}}}."
                    + normalisation_note(
                        stage, near[0], given_at="in the funnel", other_at="in the log"
                    ),
                )
            )
        elif all_absent or n_cases >= ABSENT_MIN_CASES:
            out.append(
                Finding(
                    "absent",
                    stage,
                    (),
                    f"{kind} {stage!r} never occurs in the log ({n_cases:,} cases); every "
                    f"figure for it will be empty. Check the name against the log's "
                    f"activities ({listing(names, limit=8)}).",
                )
            )
    # Against stages that do occur, only another spelling of the same name (case, accents,
    # spacing) is suspect: 'O_ACCEPTED' beside 'A_ACCEPTED' is a different activity.
    occurring = {normalize(stage_names[c]): stage_names[c] for c in np.flatnonzero(occurs)}
    for activity in candidates:
        same = occurring.get(normalize(activity))
        near = [same] if same is not None else []
        if near:
            n = int(counts[names.index(activity)])
            out.append(
                Finding(
                    "near_stage",
                    activity,
                    tuple(near),
                    f"activity {activity!r} ({_events(n)}) is not a stage of the funnel but "
                    f"nearly matches stage {near[0]!r}; its events are read as non-stage "
                    f"activities. If it is the same stage, map it with "
                    f"aliases={{{activity!r}: {near[0]!r}}}; if not, declare it with "
                    f"funnel.with_activities([..., {activity!r}])."
                    + normalisation_note(
                        near[0], activity, given_at="in the funnel", other_at="in the log"
                    ),
                )
            )
    return out


def warn_vocabulary(findings: tuple[Finding, ...]) -> None:
    """Warn (`VocabularyWarning`) about each of `findings`, pointing at the caller's code."""
    for finding in findings:
        warnings.warn(
            VocabularyWarning(finding.message, name=finding.name, closest=finding.closest),
            stacklevel=_stacklevel(),
        )


def _events(n: int) -> str:
    return f"{n:,} event" if n == 1 else f"{n:,} events"


def _stacklevel() -> int:
    """Point the warning at the caller's code: the first frame outside salesstd."""
    frame: types.FrameType | None = sys._getframe(1)  # noqa: SLF001
    level = 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("salesstd"):
        frame = frame.f_back
        level += 1
    return level
