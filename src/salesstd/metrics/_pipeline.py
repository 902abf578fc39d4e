"""The weighted pipeline (open value by win probability); public through `salesstd.metrics.flow`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as eq
from salesstd._base.results import frozen_array as readonly
from salesstd._base.timestamps import stamp
from salesstd._engine.episodes import build_episodes
from salesstd._engine.grouping import groups
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics._layout import Layout, layout_rows

__all__ = ["PipelineResult", "PipelineStage", "PipelineTotal", "weighted_pipeline"]


@attrs.frozen
class PipelineStage:
    """The open pipeline in one stage at `as_of`.

    Attributes:
        stage: The open stage.
        deals: Open deals in the stage.
        valued: Of those, deals with a value (missing values count as 0 in `value`).
        value: Total value of the deals.
        probability: The *pipeline win probability* of a deal in the stage: given, or the
            product of the resolved step rates over every stay (backward moves left out).
        probability_source: ``"given"`` or ``"estimated"`` (product of step rates).
        weighted_value: ``value * probability``.
        group: The group label, None when not grouped.
    """

    stage: str
    deals: int
    valued: int
    value: float
    probability: float
    probability_source: str
    weighted_value: float
    group: object = None


@attrs.frozen
class PipelineTotal:
    """The open pipeline of one group, all stages together.

    Attributes:
        deals: Open deals.
        value: Their total value.
        weighted_value: Their total probability-weighted value.
        coverage: ``value / target`` (NaN without a target).
        weighted_coverage: ``weighted_value / target`` (NaN without a target).
        group: The group label, None when not grouped.
    """

    deals: int
    value: float
    weighted_value: float
    coverage: float
    weighted_coverage: float
    group: object = None


@attrs.frozen(repr=False)
class PipelineResult(Layout, ResultMixin):
    """The open pipeline at `as_of`: deals, value and probability-weighted value per stage.

    Rows run group by group, then over the open stages in funnel order.

    Attributes:
        stage: Stage name of each row.
        group: Group label of each row (None when not grouped).
        deals: Open deals in the stage.
        valued: Of those, deals with a value.
        value: Total value of the open deals in the stage (missing values left out).
        probability: Pipeline win probability of a deal in the stage (per row, from
            `probabilities`).
        weighted_value: ``value x probability``.
        probabilities: Per open stage: the win probability used.
        probability_sources: Per open stage: ``"given"`` or ``"estimated"``.
        step_rates: Per open stage: ``advanced / (advanced + lost)`` among the stays that
            left it (NaN if none resolved).
        step_resolved: Per open stage: the denominator of `step_rates`.
        total_value: Per group: total value of the open deals.
        total_weighted: Per group: total weighted value.
        coverage: Per group: ``total_value / target`` (NaN without a target).
        weighted_coverage: Per group: ``total_weighted / target`` (NaN without a target).
        stages: The open stages, in funnel order.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        value_attribute: The case attribute holding the deal value.
        target: The target the pipeline is compared with, or None.
        as_of: The censoring time, UTC.
    """

    stage: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    deals: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    valued: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    probability: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    weighted_value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    probabilities: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    probability_sources: tuple[str, ...]
    step_rates: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    step_resolved: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    total_value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    total_weighted: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    coverage: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    weighted_coverage: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    stages: tuple[str, ...]
    groups: tuple[object, ...]
    by: str | None
    value_attribute: str
    target: float | None
    as_of: np.datetime64

    def at(self, stage: str, group: object = None) -> PipelineStage:
        """Open deals, value and weighted value of one stage (and group).

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: If `group` is not in the result.
        """
        s = self._stage_index(stage)
        row = self._group_index(group) * len(self.stages) + s
        return PipelineStage(
            stage=stage,
            deals=int(self.deals[row]),
            valued=int(self.valued[row]),
            value=float(self.value[row]),
            probability=float(self.probability[row]),
            probability_source=self.probability_sources[s],
            weighted_value=float(self.weighted_value[row]),
            group=self.group[row],
        )

    def total(self, group: object = None) -> PipelineTotal:
        """The whole open pipeline of one group (or of all deals when not grouped).

        Raises:
            ParameterError: If `group` is not in the result.
        """
        g = self._group_index(group)
        n_s = len(self.stages)
        return PipelineTotal(
            deals=int(self.deals[g * n_s : (g + 1) * n_s].sum()),
            value=float(self.total_value[g]),
            weighted_value=float(self.total_weighted[g]),
            coverage=float(self.coverage[g]),
            weighted_coverage=float(self.weighted_coverage[g]),
            group=self.groups[g] if self.by is not None else None,
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        s = np.tile(np.arange(len(self.stages)), len(self.groups))
        return {
            **self._by_column(self.group),
            "stage": self.stage,
            "deals": self.deals,
            "valued": self.valued,
            "value": self.value,
            "probability": self.probability,
            "probability_source": objects(self.probability_sources)[s],
            "weighted_value": self.weighted_value,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "value": self.value_attribute,
            "by": self.by,
            "as_of": self.as_of,
            "target": self.target,
            "probabilities": dict(zip(self.stages, self.probabilities.tolist(), strict=True)),
        }

    def _summary(self) -> Mapping[str, object]:
        out: dict[str, object] = {
            "deals": int(self.deals.sum()),
            "value": float(self.total_value.sum()),
            "weighted_value": float(self.total_weighted.sum()),
        }
        if self.target is not None and self.by is None:
            out["coverage"] = float(self.coverage[0])
        return out


def weighted_pipeline(
    log: EventLog,
    funnel: Funnel,
    *,
    value: str,
    probabilities: Mapping[str, float] | None = None,
    as_of: object = None,
    target: float | None = None,
    by: str | None = None,
) -> PipelineResult:
    """Value the open pipeline at `as_of`, per stage, weighted by each stage's win probability.

    The open deals are those in an open stage at `as_of` (not yet won or lost). Per stage:
    their count, their total `value` (deals without a value are left out of the total and
    of `valued`), the stage's win probability ``p`` and the weighted value ``value x p``.
    With a `target` (a quota or plan for the period the pipeline must cover), *pipeline
    coverage* is ``total value / target``, weighted and unweighted; with `by`, every group
    is compared with the same target (e.g. a per-rep quota).

    The win probability of a stage is taken from `probabilities` where given; otherwise it
    is estimated from the log as the product of the *resolved step rates* from that stage
    to the last open stage (where a later stage's probability is given, the product stops
    there and uses it: ``p(s) = step(s) x p(s + 1)``, ``p(won) = 1``). A stage's step
    rate is ``advanced / (advanced + lost)`` over
    the stays that left it by `as_of`: advanced is a move to a later stage or to won, lost
    a move to a lost outcome; backward moves and stays still open are left out (they are
    not resolved). Stages a forward jump skips count as passed (``skips="implied"``), so
    each step rate is a one-stage step and the product is the win probability of a deal
    that moves forward through the funnel one stage at a time. The rates pool all deals
    (also with `by`), so every group is valued on one scale. This suits a linear funnel;
    for branching funnels, or to count backward moves, pass `probabilities` (e.g. from a
    Markov model of the funnel).

    This *pipeline win probability* is one of four in the library, each answering a
    slightly different question: conversion's chain ``win_rate`` counts each deal once per
    stage (first entries), the Markov ``win_probability`` follows backward moves, and the
    closed-deal share ``won / (won + lost)`` leaves open deals out. The explanation page
    "Four win probabilities" computes all four on one small log.

    Args:
        log: Events to analyse.
        funnel: The process whose open stages hold the pipeline.
        value: Numeric case attribute with the deal value (e.g. ``"amount"``).
        probabilities: Win probability per open stage, each in [0, 1]; stages left out are
            estimated (through the given probabilities of the stages after them).
        as_of: The censoring time; the log's last event by default.
        target: A positive amount to compare the pipeline with, or None.
        by: A case attribute to split the deals by, or None.

    Returns:
        Deals, value and weighted value per (group and) open stage, with group totals.

    Raises:
        UnknownStageError: If `probabilities` names a stage the funnel lacks.
        ParameterError: If `probabilities` names an outcome or holds a value outside
            [0, 1], `value` is not a numeric case attribute, `target` is not a positive
            number, `by` is not a case attribute, or `as_of` is before the log starts.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03", 100.0), ("d1", "qualified", "2024-01-20", 100.0),
        ...      ("d1", "won", "2024-02-10", 100.0), ("d2", "lead", "2024-01-15", 50.0),
        ...      ("d2", "lost", "2024-02-05", 50.0), ("d3", "lead", "2024-02-01", 80.0)],
        ...     names=("case", "activity", "time", "amount"), case_attributes=["amount"])
        >>> funnel = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> res = ss.weighted_pipeline(log, funnel, value="amount", target=200)
        >>> res.at("lead")
        PipelineStage(stage='lead', deals=1, valued=1, value=80.0, probability=0.5, \
probability_source='estimated', weighted_value=40.0, group=None)
        >>> res.total().coverage, res.total().weighted_coverage
        (0.4, 0.2)
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    values = v.numeric_case_attribute("value", value, log.case_attributes, log.event_attributes)
    open_names = funnel.stage_names[: funnel.n_open]
    given: dict[str, float] = {}
    if probabilities is not None:
        checked = v.stage_mapping("probabilities", probabilities, funnel.stage_names, open_names)
        given = {
            k: v.fraction(f"probabilities[{k!r}]", x, inclusive=True) for k, x in checked.items()
        }
    goal = None if target is None else v.positive_number("target", target)
    grouped = groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips="implied")
    n_open, n_g = ep.n_open, grouped.n
    size = n_g * n_open

    leaving = ep.moved & (ep.stage < n_open)
    nxt = ep.next_stage
    advanced = np.bincount(ep.stage[leaving & (nxt > ep.stage) & (nxt <= n_open)], minlength=n_open)
    lost = np.bincount(ep.stage[leaving & (nxt > n_open)], minlength=n_open)
    resolved = (advanced + lost).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = advanced / resolved
    # p(s) = step(s) x p(s + 1), p(won) = 1, a given probability replacing the estimate.
    prob = np.empty(n_open)
    after = 1.0
    for k in range(n_open - 1, -1, -1):
        after = given.get(open_names[k], float(step[k]) * after)
        prob[k] = after
    sources = tuple("given" if name in given else "estimated" for name in open_names)

    current = np.flatnonzero(ep.censored)
    key = grouped.of_case[ep.case[current]].astype(np.int64) * n_open + ep.stage[current]
    amount = values[ep.case[current]]
    has_value = ~np.isnan(amount)
    deals = np.bincount(key, minlength=size).astype(np.int64)
    valued = np.bincount(key[has_value], minlength=size).astype(np.int64)
    total = np.bincount(key[has_value], weights=amount[has_value], minlength=size)
    g, _, s = layout_rows(n_g, 1, n_open)
    row_prob = prob[s]
    with np.errstate(invalid="ignore"):
        weighted = np.where(total == 0, 0.0, total * row_prob)
    total_value = total.reshape(n_g, n_open).sum(axis=1)
    total_weighted = weighted.reshape(n_g, n_open).sum(axis=1)
    if goal is None:
        coverage = np.full(n_g, np.nan)
        weighted_coverage = np.full(n_g, np.nan)
    else:
        coverage = total_value / goal
        weighted_coverage = total_weighted / goal
    return PipelineResult(
        stage=objects(open_names)[s],
        group=objects(grouped.labels)[g],
        deals=deals,
        valued=valued,
        value=total,
        probability=row_prob,
        weighted_value=weighted,
        probabilities=prob,
        probability_sources=sources,
        step_rates=step,
        step_resolved=resolved,
        total_value=total_value,
        total_weighted=total_weighted,
        coverage=coverage,
        weighted_coverage=weighted_coverage,
        stages=open_names,
        groups=grouped.labels,
        by=by,
        value_attribute=value,
        target=goal,
        as_of=stamp(ep.as_of),
    )
