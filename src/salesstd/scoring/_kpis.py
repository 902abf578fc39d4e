"""The metrics a scorecard reads, one value per group of deals; see `salesstd.scoring`.

Each function takes the deals' group codes (one per case, -1 for none) and returns the raw
value, its interval and its sample per group, reusing the landed metrics (`conversion`,
`cycle_time`, `time_in_stage`, `velocity`, `check_conformance`) or the stage episodes.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import lazy
from salesstd._base import validation as v
from salesstd._engine.counts import at_last_step, first_reaching, step_counts
from salesstd._engine.episodes import (
    NS_PER_DAY,
    Episodes,
    build_episodes,
    event_stays,
    judged_first_stays,
)
from salesstd.conformance import case_fits
from salesstd.errors import ParameterError
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics.flow import velocity
from salesstd.standard import KPI, METRICS, RATE_METRICS, STAGE_METRICS, Standard

# The metric names and their kinds are the standard's own (one list for both modules).
PROPORTIONS = frozenset(RATE_METRICS)
NEEDS_STAGE = frozenset(STAGE_METRICS)
RAMP_METRICS: tuple[str, ...] = ("win_rate", "stage_conversion", "cycle_time")
# Estimates that are neither shrunk nor exact totals: scored only on `min_sample` observations.
NEEDS_MIN_SAMPLE = frozenset({"cycle_time", "dwell", "activities_per_deal", "velocity"})

KEY = "__salesstd_scorecard_key__"


@attrs.frozen
class Kpi:
    name: str
    metric: str
    target: float  # NaN: the population value, per period
    direction: str = "higher"
    tolerance: float = 0.0
    weight: float = 1.0
    stage: str | None = None
    activity: str | None = None


@attrs.frozen
class Estimate:
    """A metric per group: the raw value, its interval and sample; counts for proportions."""

    value: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    n: NDArray[np.int64]
    successes: NDArray[np.float64] | None = None


@attrs.frozen
class Context:
    log: EventLog
    funnel: Funnel
    as_of: int
    level: float
    value: str
    standard: Standard
    dwell_floor: int = 0  # ns: shorter stays that ended in a move are not judged as dwell
    min_stay: int = 0  # ns: shorter stays are corrections, dropped from the episodes

    def outcome(self) -> NDArray[np.int32]:
        """Per case: the outcome reached by `as_of` (the shared episodes' `case_outcome`)."""
        ep = build_episodes(
            self.log, self.funnel, as_of=self.stamp, skips="strict", min_stay=self.min_stay_td
        )
        return ep.case_outcome()

    @property
    def min_stay_td(self) -> np.timedelta64:
        """`min_stay` as a timedelta64, the form `build_episodes` accepts."""
        return np.timedelta64(self.min_stay, "ns")

    @property
    def stamp(self) -> np.datetime64:
        """`as_of` as a datetime64, the form the metrics accept."""
        return np.datetime64(self.as_of, "ns")


# --------------------------------------------------------------------- checking


def check_kpi(kpi: KPI, funnel: Funnel) -> Kpi:
    metric = v.choice("KPI metric", kpi.metric, METRICS)
    direction = v.choice("KPI direction", kpi.direction, ("higher", "lower"))
    stage = kpi.stage
    if metric in NEEDS_STAGE:
        if stage is None:
            raise ParameterError(
                f"KPI {kpi.name!r} ({metric}) needs a stage; pass stage= one of the open "
                f"stages ({v.listing(s.name for s in funnel.open_stages)})."
            )
        open_names = [s.name for s in funnel.open_stages]
        v.known_names("stage", [stage], funnel.stage_names)
        if stage not in open_names:
            raise ParameterError(
                f"KPI {kpi.name!r} names {stage!r}, an outcome; {metric} applies to the open "
                f"stages ({v.listing(open_names)})."
            )
    if metric == "activities_per_deal" and not kpi.activity:
        raise ParameterError(
            f"KPI {kpi.name!r} (activities_per_deal) needs an activity; pass activity=..."
        )
    return Kpi(
        name=str(kpi.name),
        metric=metric,
        target=float(kpi.target),
        direction=direction,
        tolerance=float(kpi.tolerance),
        weight=float(kpi.weight),
        stage=stage,
        activity=kpi.activity,
    )


def default_kpis(funnel: Funnel) -> list[Kpi]:
    nan = float("nan")
    out = [Kpi(name="win_rate", metric="win_rate", target=nan)]
    out += [
        Kpi(name=f"conversion_{s.name}", metric="stage_conversion", target=nan, stage=s.name)
        for s in funnel.open_stages
    ]
    out.append(Kpi(name="cycle_time", metric="cycle_time", target=nan, direction="lower"))
    return out


# --------------------------------------------------------------------- metrics per group


_last_keyed: list[tuple[weakref.ref[EventLog], NDArray[np.int64], EventLog]] = []


def _keyed(log: EventLog, codes: NDArray[np.int64]) -> EventLog:
    """The log with the group code of each case as an extra case attribute.

    The metrics of one scorecard all ask for the same keyed log; handing back the same
    object lets them share its cached episodes instead of cutting the log once per KPI.
    """
    for ref, seen_codes, keyed in _last_keyed:
        if ref() is log and seen_codes is codes:
            return keyed
    keyed = attrs.evolve(log, case_attributes={**log.case_attributes, KEY: codes})
    _last_keyed[:] = [(weakref.ref(log), codes, keyed)]
    return keyed


def forget_keyed() -> None:
    """Drop the remembered keyed log (it shares the caller's arrays)."""
    _last_keyed.clear()


def _scatter(
    labels: Sequence[object], rows: NDArray[np.intp], values: NDArray[np.float64], n: int
) -> NDArray[np.float64]:
    """Values of result rows (one per group label) placed at their group codes."""
    out = np.full(n, np.nan)
    for row, label in zip(rows.tolist(), labels, strict=True):
        if isinstance(label, (int, np.integer)) and 0 <= int(label) < n:
            out[int(label)] = values[row]
    return out


def _nan(n: int) -> NDArray[np.float64]:
    return np.full(n, np.nan)


def _counts(codes: NDArray[np.int64], mask: NDArray[np.bool_], n: int) -> NDArray[np.int64]:
    pick = mask & (codes >= 0)
    return np.bincount(codes[pick], minlength=n).astype(np.int64)[:n]


def proportion(successes: NDArray[np.int64], trials: NDArray[np.int64], level: float) -> Estimate:
    low, high = stats.proportion_interval(successes, trials, confidence_level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = successes / trials
    return Estimate(
        value=np.asarray(rate, dtype=np.float64),
        low=np.asarray(low, dtype=np.float64),
        high=np.asarray(high, dtype=np.float64),
        n=trials.astype(np.int64),
        successes=successes.astype(np.float64),
    )


def _win_rate(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    del kpi
    outcome = ctx.outcome()
    n_open = ctx.funnel.n_open
    won = _counts(codes, outcome == n_open, n)
    lost = _counts(codes, outcome > n_open, n)
    return proportion(won, won + lost, ctx.level)


def _stage_conversion(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    """`conversion`'s step rate of the KPI's stage per group: advanced / (advanced + lost).

    The same counts as `salesstd.conversion` with its defaults (first entries, implied
    skips), for the one stage the KPI names (`step_counts`).
    """
    ep = build_episodes(
        ctx.log, ctx.funnel, as_of=ctx.stamp, skips="strict", min_stay=ctx.min_stay_td
    )
    stage = ctx.funnel.stage_names.index(str(kpi.stage))
    _, advanced, lost = step_counts(ep, codes, n)
    x = advanced[:, stage]
    return proportion(x, x + lost[:, stage], ctx.level)


def _cycle_time(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    """`cycle_time` (outcome won) per group: the median of ``CIF(t) / CIF(t_max)``.

    The same Aalen-Johansen estimate as `salesstd.cycle_time`, without the intervals of the
    share that the scorecard does not use (the conditional median has none).
    """
    del kpi
    ep = build_episodes(
        ctx.log, ctx.funnel, as_of=ctx.stamp, skips="strict", min_stay=ctx.min_stay_td
    )
    scope = np.flatnonzero(ep.in_scope & (codes >= 0))
    reached = ctx.outcome()[scope]
    closed = reached >= 0
    end = np.where(closed, ep.case_close_time()[scope], ep.as_of)
    days = (end - ep.first_time[scope]) / NS_PER_DAY
    group = codes[scope]
    won = reached == ctx.funnel.n_open
    cause = np.where(won, 1, np.where(closed, 2, 0))
    cif = stats.cumulative_incidence(days, cause, group, n_groups=n, n_causes=2)
    incidence = np.ascontiguousarray(cif.incidence[:, 0])
    count = np.bincount(group, minlength=n).astype(np.int64)
    share = at_last_step(incidence, cif.group_offsets, np.where(count > 0, 0.0, np.nan))
    median = _nan(n)
    with np.errstate(invalid="ignore"):
        first = first_reaching(incidence, 0.5 * share, cif.group_offsets)
    median[first >= 0] = cif.time[first[first >= 0]]
    return Estimate(value=median, low=_nan(n), high=_nan(n), n=np.bincount(group[won], minlength=n))


def _dwell(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    """`time_in_stage` of the KPI's stage per group: the Kaplan-Meier median of first stays.

    The same stays and estimate as `salesstd.time_in_stage` (first recorded entries), for
    the one stage the KPI names, except that a stay which ended in a move less than
    `Context.dwell_floor` after it began is set aside: such a stay records a rep clicking
    through stages, not time the deal spent there. Each deal's first remaining stay in the
    stage is used; `n` counts them.
    """
    ep = build_episodes(
        ctx.log, ctx.funnel, as_of=ctx.stamp, skips="strict", min_stay=ctx.min_stay_td
    )
    stage = ctx.funnel.stage_names.index(str(kpi.stage))
    idx = judged_first_stays(ep, ctx.dwell_floor)
    idx = idx[ep.stage[idx] == stage]
    idx = idx[codes[ep.case[idx]] >= 0]
    group = codes[ep.case[idx]]
    days = (ep.exit[idx] - ep.enter[idx]) / NS_PER_DAY
    km = stats.kaplan_meier(days, ep.moved[idx], group, n_groups=n)
    median = km.quantile(0.5, confidence_level=ctx.level)
    return Estimate(
        value=median.value[:n],
        low=median.low[:n],
        high=median.high[:n],
        n=np.bincount(group, minlength=n).astype(np.int64),
    )


def _activity_counts(
    log: EventLog, ep: Episodes, stage: int, activity: int
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Per case: did it stay in `stage`, and how many `activity` events fell in those stays.

    Each event belongs to the case's latest stay entered at or before it
    (`event_stays`); it counts when that stay is in `stage` and had not ended by then.
    """
    t = log.time.view(np.int64)
    ev = np.flatnonzero((log.activity == activity) & (t <= ep.as_of))
    of_event = event_stays(log, ep, ev)
    found = of_event >= 0
    e = np.where(found, of_event, 0)
    ev_case = log.case[ev].astype(np.int64)
    ev_time = t[ev]
    inside = (
        found
        & (ep.stage[e] == stage)
        & ((ev_time < ep.exit[e]) | (~ep.moved[e] & (ev_time <= ep.exit[e])))
    )
    stayed = np.zeros(ep.n_cases, dtype=bool)
    stayed[ep.case[(ep.stage == stage) & ~ep.implied]] = True
    per_case = np.bincount(ev_case[inside], minlength=ep.n_cases).astype(np.int64)
    return stayed, per_case


def _activities_per_deal(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    stage = ctx.funnel.stage_names.index(str(kpi.stage))
    activity = ctx.log.activity_code(kpi.activity)
    ep = build_episodes(
        ctx.log, ctx.funnel, as_of=ctx.stamp, skips="strict", min_stay=ctx.min_stay_td
    )
    stayed, per_case = _activity_counts(ctx.log, ep, stage, activity)
    pick = stayed & (codes >= 0)
    g = codes[pick]
    y = per_case[pick].astype(np.float64)
    deals = np.bincount(g, minlength=n)[:n].astype(np.int64)
    total = np.bincount(g, weights=y, minlength=n)[:n]
    squares = np.bincount(g, weights=y * y, minlength=n)[:n]
    z = float(lazy.sps.norm.ppf(0.5 + ctx.level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / deals
        var = (squares - deals * mean * mean) / (deals - 1)
        half = z * np.sqrt(np.maximum(var, 0.0) / deals)
    half = np.where(deals > 1, half, np.nan)
    return Estimate(value=mean, low=mean - half, high=mean + half, n=deals)


def _deals_handled(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    del kpi
    ep = build_episodes(
        ctx.log, ctx.funnel, as_of=ctx.stamp, skips="strict", min_stay=ctx.min_stay_td
    )
    count = _counts(codes, np.asarray(ep.in_scope), n)
    return Estimate(value=count.astype(np.float64), low=_nan(n), high=_nan(n), n=count)


def _won_value(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    del kpi
    log = ctx.log
    values = v.numeric_case_attribute("value", ctx.value, log.case_attributes)
    won = ctx.outcome() == ctx.funnel.n_open
    pick = won & (codes >= 0) & ~np.isnan(values)
    total = np.bincount(codes[pick], weights=values[pick], minlength=n)[:n]
    return Estimate(
        value=np.asarray(total, dtype=np.float64),
        low=_nan(n),
        high=_nan(n),
        n=_counts(codes, won, n),
    )


def _velocity(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    del kpi
    res = velocity(
        _keyed(ctx.log, codes),
        ctx.funnel,
        value=ctx.value,
        by=KEY,
        as_of=ctx.stamp,
        confidence_level=ctx.level,
    )
    rows = np.arange(res.group.size)
    labels = res.group.tolist()
    count = np.nan_to_num(_scatter(labels, rows, res.opportunities.astype(np.float64), n))
    return Estimate(
        value=_scatter(labels, rows, res.velocity_per_day, n),
        low=_nan(n),
        high=_nan(n),
        n=count.astype(np.int64),
    )


def _compliance_rate(ctx: Context, kpi: Kpi, codes: NDArray[np.int64], n: int) -> Estimate:
    del kpi
    checked, fits = case_fits(ctx.log, ctx.standard, as_of=ctx.stamp, min_stay=ctx.min_stay_td)
    return proportion(_counts(codes, fits, n), _counts(codes, checked, n), ctx.level)


METRIC_FUNCS: dict[str, Callable[[Context, Kpi, NDArray[np.int64], int], Estimate]] = {
    "win_rate": _win_rate,
    "stage_conversion": _stage_conversion,
    "cycle_time": _cycle_time,
    "dwell": _dwell,
    "activities_per_deal": _activities_per_deal,
    "compliance_rate": _compliance_rate,
    "deals_handled": _deals_handled,
    "won_value": _won_value,
    "velocity": _velocity,
}


def population_target(est: Estimate, kpi: Kpi) -> NDArray[np.float64]:
    """Target per period for a default KPI: the pooled rate, or the population estimate."""
    if kpi.metric in PROPORTIONS and est.successes is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(est.successes / est.n, dtype=np.float64)
    return est.value
