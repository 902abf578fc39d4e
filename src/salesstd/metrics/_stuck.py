"""Stuck deals: open deals past a stage's typical stay; public through `salesstd.metrics.flow`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.results import ResultMixin, plain
from salesstd._base.results import array_eq as eq
from salesstd._base.results import frozen_array as readonly
from salesstd._base.timestamps import stamp
from salesstd._engine.episodes import build_episodes
from salesstd._engine.grouping import days, groups
from salesstd.errors import ParameterError
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics._layout import Layout, layout_rows

__all__ = ["StuckResult", "StuckStage", "stuck"]


@attrs.frozen
class StuckStage:
    """Stuck deals in one open stage at `as_of`.

    Attributes:
        stage: The open stage.
        open: Deals in the stage at `as_of`.
        stuck: Of those, deals in it for longer than `threshold_days`.
        threshold_days: The stage's threshold, days (NaN if it could not be estimated).
        threshold_source: ``"given"`` or ``"estimated"`` (Kaplan-Meier quantile).
        group: The group label, None when not grouped.
    """

    stage: str
    open: int
    stuck: int
    threshold_days: float
    threshold_source: str
    group: object = None


@attrs.frozen(repr=False)
class StuckResult(Layout, ResultMixin):
    """Open deals that have sat in their stage longer than the stage's threshold.

    The table (`to_frame`, `to_dict` rows) has one row per stuck deal, sorted by group,
    stage (funnel order) and then by how far past the threshold, most first. The per-stage
    counts are the ``stage_*`` attributes (group-major, open stages in funnel order), by
    `at` and `counts_table`.

    Attributes:
        case: Case id of each stuck deal.
        stage: Its current stage.
        group: Its group label (None when not grouped).
        days_in_stage: Days since it entered the stage, at `as_of`.
        threshold_days: The stage's threshold, days.
        days_over: ``days_in_stage - threshold_days``.
        stage_open: Per (group, stage): open deals in the stage at `as_of`.
        stage_stuck: Per (group, stage): of those, the stuck ones.
        thresholds: Per open stage: the threshold, days (NaN: not estimable, none flagged).
        threshold_sources: Per open stage: ``"given"`` or ``"estimated"``.
        stages: The open stages, in funnel order.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        quantile: The dwell quantile used for estimated thresholds.
        as_of: The censoring time, UTC.
    """

    case: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    stage: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    days_in_stage: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    threshold_days: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    days_over: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    stage_open: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    stage_stuck: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    thresholds: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    threshold_sources: tuple[str, ...]
    stages: tuple[str, ...]
    groups: tuple[object, ...]
    by: str | None
    quantile: float
    as_of: np.datetime64

    def at(self, stage: str, group: object = None) -> StuckStage:
        """Open and stuck counts of one stage (and group), with its threshold.

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: If `group` is not in the result.
        """
        s = self._stage_index(stage)
        g = self._group_index(group)
        row = g * len(self.stages) + s
        return StuckStage(
            stage=stage,
            open=int(self.stage_open[row]),
            stuck=int(self.stage_stuck[row]),
            threshold_days=float(self.thresholds[s]),
            threshold_source=self.threshold_sources[s],
            group=self.groups[g] if self.by is not None else None,
        )

    def counts_table(self) -> dict[str, NDArray[Any]]:
        """The per-stage counts as columns (group, stage, open, stuck, threshold_days)."""
        g, _, s = layout_rows(len(self.groups), 1, len(self.stages))
        return {
            **self._by_column(objects(self.groups)[g]),
            "stage": objects(self.stages)[s],
            "open": self.stage_open.copy(),
            "stuck": self.stage_stuck.copy(),
            "threshold_days": self.thresholds[s],
            "threshold_source": objects(self.threshold_sources)[s],
        }

    def to_dict(self) -> dict[str, object]:
        """JSON-ready contents: parameters, summary, stuck deals (rows) and per-stage counts."""
        out = super().to_dict()
        columns = {k: a.tolist() for k, a in self.counts_table().items()}
        out["counts"] = [
            {k: plain(col[i]) for k, col in columns.items()} for i in range(self.stage_open.size)
        ]
        return out

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            **self._by_column(self.group),
            "case": self.case,
            "stage": self.stage,
            "days_in_stage": self.days_in_stage,
            "threshold_days": self.threshold_days,
            "days_over": self.days_over,
        }

    def _params(self) -> Mapping[str, object]:
        thresholds = dict(zip(self.stages, self.thresholds.tolist(), strict=True))
        return {
            "by": self.by,
            "as_of": self.as_of,
            "quantile": self.quantile,
            "thresholds": thresholds,
        }

    def _summary(self) -> Mapping[str, object]:
        return {
            "stages": len(self.stages),
            "open": int(self.stage_open.sum()),
            "stuck": int(self.stage_stuck.sum()),
        }


def stuck(
    log: EventLog,
    funnel: Funnel,
    *,
    as_of: object = None,
    thresholds: Mapping[str, object] | float | dt.timedelta | None = None,
    quantile: float = 0.9,
    by: str | None = None,
) -> StuckResult:
    """Find the open deals that have been in their current stage for too long.

    A deal is *stuck* when, at `as_of`, it is in an open stage and the days since it
    entered that stage (its current stay; earlier stays there do not add) exceed the
    stage's threshold. By default a stage's threshold is its own `quantile` dwell time: the
    Kaplan-Meier estimate from every stay in the stage (finished ones, and the ones still
    open at `as_of` as censored), over all deals, so "stuck" means "longer than 90% of stays
    in this stage last". Where that quantile cannot be estimated (too few finished stays)
    the threshold is NaN and no deal there is flagged. `thresholds` sets thresholds in days
    instead: one number for every open stage, or ``{stage: days}`` (stages left out keep
    the estimated threshold). With `by`, thresholds are still per stage over all deals; the
    deals and counts are split by group.

    Args:
        log: Events to analyse.
        funnel: The process whose open stages are checked.
        as_of: The censoring time; the log's last event by default.
        thresholds: Days (or timedeltas) per open stage, one number for all, or None.
        quantile: Dwell quantile for the estimated thresholds, in (0, 1).
        by: A case attribute to split the deals by, or None.

    Returns:
        The stuck deals and per-stage counts.

    Raises:
        UnknownStageError: If `thresholds` names a stage the funnel lacks.
        ParameterError: If `thresholds` names an outcome or holds a non-positive duration,
            `quantile` is not in (0, 1), `by` is not a case attribute, or `as_of` is before
            the log starts.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03"), ("d1", "qualified", "2024-01-20"),
        ...      ("d1", "won", "2024-02-10"), ("d2", "lead", "2024-01-15"),
        ...      ("d2", "lost", "2024-02-05"), ("d3", "lead", "2024-02-01")])
        >>> funnel = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
        >>> res = ss.stuck(log, funnel, thresholds={"lead": 7})
        >>> res
        StuckResult(stages=2, open=1, stuck=1)
        >>> res.case.tolist(), res.days_in_stage.tolist(), res.days_over.tolist()
        (['d3'], [9.0], [2.0])
        >>> ss.stuck(log, funnel).at("lead").threshold_days
        21.0
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    level = v.fraction("quantile", quantile)
    open_names = funnel.stage_names[: funnel.n_open]
    given: dict[str, float] = {}
    if isinstance(thresholds, Mapping):
        checked = v.stage_mapping("thresholds", thresholds, funnel.stage_names, open_names)
        given = {k: days(f"thresholds[{k!r}]", x) for k, x in checked.items()}
    elif thresholds is not None:
        if not isinstance(thresholds, (int, float, np.number, dt.timedelta, np.timedelta64)):
            raise ParameterError(
                "thresholds must be a number of days, a timedelta or a mapping "
                f"{{stage: days}}; got {type(thresholds).__name__}.",
                parameter="thresholds",
            )
        number = days("thresholds", thresholds)
        given = dict.fromkeys(open_names, number)
    grouped = groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips="strict")
    n_open = ep.n_open
    sel = ep.stage < n_open
    durations = ep.duration_days()
    limit = np.full(n_open, np.nan)
    if len(given) < n_open:
        km = stats.kaplan_meier(durations[sel], ep.moved[sel], ep.stage[sel], n_groups=n_open)
        limit = np.asarray(km.quantile(level).value, dtype=np.float64)
    sources: list[str] = []
    for s, name in enumerate(open_names):
        if name in given:
            limit[s] = given[name]
        sources.append("given" if name in given else "estimated")

    current = np.flatnonzero(ep.censored)
    stage_of = ep.stage[current]
    age = durations[current]
    over = age - limit[stage_of]
    with np.errstate(invalid="ignore"):
        hit = over > 0
    code = grouped.of_case[ep.case[current]].astype(np.int64)
    key = code * n_open + stage_of
    size = grouped.n * n_open
    n_open_now = np.bincount(key, minlength=size).astype(np.int64)
    n_stuck = np.bincount(key[hit], minlength=size).astype(np.int64)
    rows = current[hit]
    order = np.lexsort((-over[hit], stage_of[hit], code[hit]))
    rows = rows[order]
    return StuckResult(
        case=objects(log.case_names[ep.case[rows]].tolist()),
        stage=objects(open_names)[ep.stage[rows]],
        group=objects(grouped.labels)[grouped.of_case[ep.case[rows]]],
        days_in_stage=durations[rows],
        threshold_days=limit[ep.stage[rows]],
        days_over=durations[rows] - limit[ep.stage[rows]],
        stage_open=n_open_now,
        stage_stuck=n_stuck,
        thresholds=limit,
        threshold_sources=tuple(sources),
        stages=open_names,
        groups=grouped.labels,
        by=by,
        quantile=level,
        as_of=stamp(ep.as_of),
    )
