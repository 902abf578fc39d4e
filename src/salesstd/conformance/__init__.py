"""Conformance: check every deal of a log against a `Standard`'s process rules.

`check_conformance` lists each violation (case, rule, stage, time, detail) and scores each
case by its *fitness*: the share of the checks made on it that it passed.

The rules (a `Standard` holds the funnel and its `Rules`):

- ``disallowed_transition``: a recorded move between stages that is not an edge of the
  funnel. Moves are between the stages actually recorded (consecutive events of one stage
  are one stay; nothing after the first won or lost counts as a move). A backward move (to
  an earlier open stage) is judged by ``allow_backward`` instead, never by the edges: the
  edges describe the forward process.
- ``backward_move``: a move back to an earlier open stage, when ``allow_backward`` is False.
- ``skipped_stage``: a required stage that a deal passed without a recorded stay: it jumped
  over it on a forward move, or it first appeared past it. A deal is past a stage once it
  reaches a later open stage or won (a loss is not a step forward).
- ``sla_breach``: a stay in a stage longer than ``max_dwell_days`` for that stage. A stay
  still open at `as_of` breaches once its limit has passed by `as_of`.
- ``missing_activity``: fewer than the required count of an activity logged while the deal
  was in a stage, counted per stay and only for stays that have ended (the deal moved on).
- ``first_response``: no non-stage activity within ``first_response_days`` of the deal's
  first event. A deal with no activity yet breaches once the limit has passed by `as_of`.
- ``event_after_close``: any event logged after the deal's first won or lost event.

Non-stage activities (calls, meetings: activities that are not a stage or an alias) belong
to the stage the deal is in at their time: the latest recorded stage entered at or before it.
"""

from __future__ import annotations

from salesstd.conformance._check import case_fits as case_fits  # internal: not in __all__
from salesstd.conformance._check import check_conformance
from salesstd.conformance._results import (
    RULES,
    CaseConformance,
    CaseFitnessTable,
    ConformanceRates,
    ConformanceResult,
    RuleRate,
)

__all__ = [
    "RULES",
    "CaseConformance",
    "CaseFitnessTable",
    "ConformanceRates",
    "ConformanceResult",
    "RuleRate",
    "check_conformance",
]
