"""Funnel and Stage: the sales process as a graph of stages that ends in won or lost.

A funnel has open stages in a fixed order (lead, qualified, proposal, ...), exactly one won
outcome, any number of lost outcomes (usually one or more), and the transitions it allows
between them (a directed graph; backward moves such as proposal -> qualified are allowed
edges like any other). Outcomes are terminal: they have no outgoing edges.

Funnel order puts the open stages first, in their order, then the won outcome, then the lost
outcomes; a stage's `Stage.position` is its index in that order and the code
`Funnel.stage_codes` gives it, so ``codes < funnel.n_open`` marks open stages.

Activities and stages: a log records activities. An activity is a stage when it has the
stage's name or one of its aliases (BPIC 2012's ``A_APPROVED``, ``A_REGISTERED`` and
``A_ACTIVATED`` can all stand for one won stage). Every other activity (a call, a meeting,
an e-mail) is a non-stage activity: it belongs to whatever stage its case is in. By default
any unknown activity is taken as a non-stage activity. A funnel built with
``activities=[...]`` declares its non-stage activities, and then an activity that is neither
a stage, an alias nor declared raises `UnknownStageError` (a typo such as ``'Qualifed'``).
"""

from __future__ import annotations

from salesstd.funnel._funnel import Funnel
from salesstd.funnel._stage import Stage

__all__ = [
    "Funnel",
    "Stage",
]
