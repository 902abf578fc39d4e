"""`Standard.from_log`: targets, SLAs and required stages from the best performers of a log."""

from __future__ import annotations

import math

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._engine import grouping as _common
from salesstd._engine.episodes import (
    Episodes,
    build_episodes,
    duration_ns,
    judged_first_stays,
    resolve_min_stay,
)
from salesstd.errors import ParameterError
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics.conversion import conversion
from salesstd.metrics.timing import cycle_time

MIN_OBSERVATIONS = 5  # stays (or won deals) an entity needs for its median to count
SLA_QUANTILE = 0.9  # the SLA is this quantile of the best performers' stays
REQUIRED_SHARE = 0.9  # a stage is required when this share of won deals recorded it
RATE_DECIMALS = 4
DAY_DECIMALS = 2


@attrs.frozen
class Learned:
    """What `learn` derives: rules and KPI keyword arguments."""

    required_stages: tuple[str, ...]
    max_dwell_days: dict[str, float]
    kpis: list[dict[str, object]]


def _target(values: NDArray[np.float64], usable: NDArray[np.bool_], q: float) -> float:
    """The `q` quantile of the usable, finite values; NaN if none."""
    keep = usable & np.isfinite(values)
    if not keep.any():
        return math.nan
    return float(np.quantile(values[keep], q))


def _shrunk(successes: NDArray[np.int64], trials: NDArray[np.int64]) -> NDArray[np.float64]:
    """Beta-binomial shrunk rates along the last axis (entities)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rates, _, _ = stats.beta_binomial_shrinkage(successes, trials)
    return np.asarray(rates, dtype=np.float64)


def learn(
    log: object,
    funnel: object,
    *,
    quantile: object,
    by: object,
    min_stay: object = None,
    dwell_floor: object = 60.0,
) -> Learned:
    """Derive the parts of a standard; see `Standard.from_log`."""
    log = v.instance("log", log, EventLog)
    funnel = v.instance("funnel", funnel, Funnel)
    q = v.fraction("quantile", quantile)
    if by is not None and not isinstance(by, str):
        raise ParameterError(
            f"by must be a case attribute name or None; got {by!r}.", parameter="by"
        )
    floor = duration_ns("dwell_floor", dwell_floor)
    min_ns = resolve_min_stay(min_stay)
    grouping = _common.groups(log, by)
    n_groups, n_open = grouping.n, funnel.n_open
    stages = [s.name for s in funnel.open_stages]
    gap = min_ns / 1e9  # seconds, exact for any threshold up to a year

    conv = conversion(log, funnel, by=by, min_stay=gap)
    converted = np.asarray(conv.converted, dtype=np.int64).reshape(n_groups, n_open).T
    trials = np.asarray(conv.denominator, dtype=np.int64).reshape(n_groups, n_open).T
    step = _shrunk(converted, trials)  # (stage, entity)

    ct = cycle_time(log, funnel, outcome="won", by=by, min_stay=gap)
    won = np.asarray(ct.closed_won, dtype=np.int64)
    closed = won + np.asarray(ct.closed_lost, dtype=np.int64)
    win = _shrunk(won, closed)
    cycle = np.asarray(ct.median_days, dtype=np.float64)

    # The Kaplan-Meier median of first stays, as `time_in_stage` gives it, with stays
    # shorter than the dwell floor (clicking through a stage) set aside, as the scorecard's
    # dwell KPIs judge them: a handful of seconds-long stays must not set the target.
    ep = build_episodes(log, funnel, skips="strict", min_stay=gap)
    median, stays = _dwell_medians(ep, grouping.of_case, n_groups, floor)

    kpis: list[dict[str, object]] = []
    win_target = _target(win, closed > 0, q)
    if math.isfinite(win_target):
        kpis.append(_kpi("Win rate", "win_rate", round(win_target, RATE_DECIMALS), "higher"))
    cycle_target = _target(cycle, won >= MIN_OBSERVATIONS, 1 - q)
    if math.isfinite(cycle_target):
        kpis.append(_kpi("Cycle time", "cycle_time", round(cycle_target, DAY_DECIMALS), "lower"))
    for s, stage in enumerate(stages):
        rate = _target(step[s], trials[s] > 0, q)
        if math.isfinite(rate):
            kpis.append(
                _kpi(
                    f"{stage} conversion",
                    "stage_conversion",
                    round(rate, RATE_DECIMALS),
                    "higher",
                    stage,
                )
            )
    for s, stage in enumerate(stages):
        days = _target(median[s], stays[s] >= MIN_OBSERVATIONS, 1 - q)
        if math.isfinite(days):
            kpis.append(_kpi(f"{stage} dwell", "dwell", round(days, DAY_DECIMALS), "lower", stage))

    has_closed = closed > 0
    best = np.zeros(n_groups, dtype=bool)
    if has_closed.any():
        best = has_closed & (win >= np.quantile(win[has_closed], q) - 1e-12)
    sla = _slas(ep, best[grouping.of_case], stages, floor)
    required = _required(ep, stages)
    return Learned(required_stages=required, max_dwell_days=sla, kpis=kpis)


def _kpi(
    name: str, metric: str, target: float, direction: str, stage: str | None = None
) -> dict[str, object]:
    return {
        "name": name,
        "metric": metric,
        "target": target,
        "direction": direction,
        "stage": stage,
    }


def _dwell_medians(
    ep: Episodes, of_case: NDArray[np.integer], n_groups: int, floor: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per (open stage, group): the Kaplan-Meier median of judged first stays, and their count."""
    n_open = ep.n_open
    idx = judged_first_stays(ep, floor)
    group = of_case[ep.case[idx]].astype(np.int64)
    idx, group = idx[group >= 0], group[group >= 0]
    block = group * n_open + ep.stage[idx]
    km = stats.kaplan_meier(
        ep.duration_days()[idx], ep.moved[idx], block, n_groups=n_groups * n_open
    )
    median = np.asarray(km.quantile(0.5).value, dtype=np.float64)[: n_groups * n_open]
    count = np.bincount(block, minlength=n_groups * n_open).astype(np.int64)
    return median.reshape(n_groups, n_open).T, count.reshape(n_groups, n_open).T


def _slas(
    ep: Episodes, best_case: NDArray[np.bool_], stages: list[str], floor: int
) -> dict[str, float]:
    """Per open stage: the SLA_QUANTILE of the best performers' first stays (KM), rounded up."""
    keep = judged_first_stays(ep, floor)
    keep = keep[best_case[ep.case[keep]]]
    if not keep.size:
        return {}
    km = stats.kaplan_meier(
        ep.duration_days()[keep], ep.moved[keep], ep.stage[keep], n_groups=ep.n_open
    )
    p90 = km.quantile(SLA_QUANTILE).value
    scale = 10**DAY_DECIMALS
    out: dict[str, float] = {}
    for s, stage in enumerate(stages):
        days = float(p90[s])
        if math.isfinite(days) and days > 0:
            out[stage] = math.ceil(days * scale - 1e-9) / scale
    return out


def _required(ep: Episodes, stages: list[str]) -> tuple[str, ...]:
    """Open stages that at least REQUIRED_SHARE of the won deals recorded (skips not implied)."""
    won_case = ep.case_outcome() == ep.n_open
    n_won = int(won_case.sum())
    if n_won == 0:
        return ()
    keep = (ep.stage < ep.n_open) & (ep.entry == 0) & won_case[ep.case]
    share = np.bincount(ep.stage[keep], minlength=ep.n_open)[: ep.n_open] / n_won
    return tuple(stage for s, stage in enumerate(stages) if share[s] >= REQUIRED_SHARE)
