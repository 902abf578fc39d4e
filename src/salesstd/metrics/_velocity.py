"""Velocity and the sales-velocity equation per group; public through `salesstd.metrics.flow`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as eq
from salesstd._base.results import frozen_array as readonly
from salesstd._base.timestamps import stamp
from salesstd._engine.episodes import NS_PER_DAY, build_episodes
from salesstd._engine.grouping import days, groups
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.metrics._layout import Layout

__all__ = ["Velocity", "VelocityResult", "velocity"]


@attrs.frozen
class Velocity:
    """Sales velocity of one group and its inputs.

    Attributes:
        opportunities: Deals that entered the funnel in the window.
        won: Of those, deals won by `as_of`.
        lost: Of those, deals lost by `as_of`.
        open: Of those, deals still open at `as_of` (left out of the win rate).
        win_rate: The *closed-deal share* ``won / (won + lost)``: open deals left out, so
            not the chain ``win_rate`` of `conversion` nor the Markov win probability.
        win_rate_low: Lower end of the Wilson interval of `win_rate`.
        win_rate_high: Upper end of that interval.
        avg_won_value: Mean value of the won deals (those with a value).
        cycle_days: Median days from a won deal's first event to its win.
        velocity_per_day: ``opportunities * win_rate * avg_won_value / cycle_days``.
        group: The group label, None when not grouped.
    """

    opportunities: int
    won: int
    lost: int
    open: int
    win_rate: float
    win_rate_low: float
    win_rate_high: float
    avg_won_value: float
    cycle_days: float
    velocity_per_day: float
    group: object = None


@attrs.frozen(repr=False)
class VelocityResult(Layout, ResultMixin):
    """Sales velocity and its four inputs, one row per group.

    Attributes:
        group: Group label of each row (None when not grouped).
        opportunities: Deals that entered the funnel in the window.
        won: Of those, deals won by `as_of`.
        lost: Of those, deals lost by `as_of`.
        open: Of those, deals still open at `as_of`.
        win_rate: The *closed-deal share* ``won / (won + lost)``; open deals are left
            out (see the explanation page "Four win probabilities" for the others).
        win_rate_low: Lower end of the Wilson interval of `win_rate`.
        win_rate_high: Upper end of that interval.
        avg_won_value: Mean `value` of the won deals that have one.
        cycle_days: Median days from a won deal's first event to its win.
        velocity_per_day: ``opportunities x win_rate x avg_won_value / cycle_days``, value
            per day.
        groups: Group labels in sorted order (``(None,)`` when not grouped).
        by: The case attribute the deals are grouped by, or None.
        value: The case attribute holding the deal value.
        window_start: Start of the window, UTC.
        as_of: End of the window and censoring time, UTC.
        confidence_level: Coverage of the win-rate interval.
    """

    group: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    opportunities: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    won: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    lost: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    open: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    win_rate: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    win_rate_low: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    win_rate_high: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    avg_won_value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    cycle_days: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    velocity_per_day: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    groups: tuple[object, ...]
    by: str | None
    value: str
    window_start: np.datetime64
    as_of: np.datetime64
    confidence_level: float

    def at(self, group: object = None) -> Velocity:
        """Velocity and inputs of one group (the only row when not grouped).

        Raises:
            ParameterError: If `group` is not in the result.
        """
        i = self._group_index(group)
        return Velocity(
            opportunities=int(self.opportunities[i]),
            won=int(self.won[i]),
            lost=int(self.lost[i]),
            open=int(self.open[i]),
            win_rate=float(self.win_rate[i]),
            win_rate_low=float(self.win_rate_low[i]),
            win_rate_high=float(self.win_rate_high[i]),
            avg_won_value=float(self.avg_won_value[i]),
            cycle_days=float(self.cycle_days[i]),
            velocity_per_day=float(self.velocity_per_day[i]),
            group=self.group[i],
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            **self._by_column(self.group),
            "opportunities": self.opportunities,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "win_rate": self.win_rate,
            "win_rate_low": self.win_rate_low,
            "win_rate_high": self.win_rate_high,
            "avg_won_value": self.avg_won_value,
            "cycle_days": self.cycle_days,
            "velocity_per_day": self.velocity_per_day,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "value": self.value,
            "by": self.by,
            "window_start": self.window_start,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
        }

    def _summary(self) -> Mapping[str, object]:
        if self.by is not None:
            return {"groups": len(self.groups), "opportunities": int(self.opportunities.sum())}
        return {
            "opportunities": int(self.opportunities[0]),
            "win_rate": float(self.win_rate[0]),
            "velocity_per_day": float(self.velocity_per_day[0]),
        }


def velocity(
    log: EventLog,
    funnel: Funnel,
    *,
    value: str,
    by: str | None = None,
    as_of: object = None,
    window: object = None,
    confidence_level: float = 0.95,
) -> VelocityResult:
    """Sales velocity: the value a pipeline turns into wins per day, with each input shown.

    ``velocity = opportunities x win rate x average won value / sales cycle (days)``, where,
    for the deals that entered the funnel in the window:

    * **opportunities**: deals whose first event (of any activity) lies in the window and
      that have at least one stage event;
    * **win rate**: ``won / (won + lost)`` among them, outcomes reached by `as_of`. Deals
      still open are left out of both counts (they are unresolved, not failures), so on a
      young cohort the rate rests on the deals that closed quickly; the Wilson interval
      shows how much it rests on;
    * **average won value**: the mean of `value` over the won deals (won deals without a
      value are left out of the mean);
    * **sales cycle**: the median number of days from a won deal's first event to its win,
      over the won deals of the window that closed by `as_of` (the closed-won median).
      Deals still open are not in it, so on a young cohort it is short; for a
      censoring-aware estimate (open deals censored, lost deals as a competing outcome) see
      ``salesstd.cycle_time``.

    The velocity is NaN when a factor is undefined (no resolved deal, no won deal) and
    infinite when the median cycle is 0 days.

    Note:
        The four-factor "sales velocity" (or "pipeline velocity") formula is standard in
        sales operations; it is an accounting identity of averages, not an estimate of a
        rate, and a change in it is best read through the input that moved.

    Args:
        log: Events to analyse.
        funnel: The process; its won and lost outcomes decide the results.
        value: Numeric case attribute with the deal value (e.g. ``"amount"``).
        by: A case attribute to split the deals by, or None.
        as_of: End of the window and censoring time; the log's last event by default.
        window: Length of the window ending at `as_of` (a timedelta or a number of days);
            None for the whole log.
        confidence_level: Coverage of the Wilson interval around the win rate.

    Returns:
        One row per group (a single row when not grouped).

    Raises:
        ParameterError: If `value` is not a numeric case attribute, `by` is not a case
            attribute, `window` is not a positive duration, `confidence_level` is not in
            (0, 1), or `as_of` is before the log starts.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-03", 100.0), ("d1", "won", "2024-02-10", 100.0),
        ...      ("d2", "lead", "2024-01-15", 50.0), ("d2", "lost", "2024-02-05", 50.0),
        ...      ("d3", "lead", "2024-02-01", 80.0)],
        ...     names=("case", "activity", "time", "amount"), case_attributes=["amount"])
        >>> funnel = ss.Funnel.linear(["lead", "won"], lost="lost")
        >>> vel = ss.velocity(log, funnel, value="amount").at()
        >>> vel.opportunities, vel.win_rate, vel.avg_won_value, vel.cycle_days
        (3, 0.5, 100.0, 38.0)
        >>> round(vel.velocity_per_day, 3)
        3.947
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    values = v.numeric_case_attribute("value", value, log.case_attributes, log.event_attributes)
    level = v.fraction("confidence_level", confidence_level)
    grouped = groups(log, by)
    ep = build_episodes(log, funnel, as_of=as_of, skips="strict")
    first = int(log.time.view(np.int64).min())
    if window is None:
        window_start = first
    else:
        window_start = ep.as_of - round(days("window", window) * NS_PER_DAY)
    n_cases = ep.n_cases
    has_stage = np.bincount(ep.case, minlength=n_cases) > 0
    start = ep.first_time
    opp = has_stage & ep.in_scope & (start >= window_start)
    outcome = ep.case_outcome()
    won = opp & (outcome == ep.n_open)
    lost = opp & (outcome > ep.n_open)
    code, n_g = grouped.of_case, grouped.n

    def per_group(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        return np.bincount(code[mask], minlength=n_g).astype(np.int64)

    n_opp, n_won, n_lost = per_group(opp), per_group(won), per_group(lost)
    valued = won & ~np.isnan(values)
    value_sum = np.bincount(code[valued], weights=values[valued], minlength=n_g)
    cycle = (ep.case_close_time()[won] - start[won]) / NS_PER_DAY
    cycle_days = _group_median(cycle, code[won], n_g)
    low, high = stats.proportion_interval(n_won, n_won + n_lost, confidence_level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = n_won / (n_won + n_lost)
        avg_value = value_sum / per_group(valued)
        speed = n_opp * win_rate * avg_value / cycle_days
    return VelocityResult(
        group=objects(grouped.labels),
        opportunities=n_opp,
        won=n_won,
        lost=n_lost,
        open=n_opp - n_won - n_lost,
        win_rate=win_rate,
        win_rate_low=np.asarray(low, dtype=np.float64),
        win_rate_high=np.asarray(high, dtype=np.float64),
        avg_won_value=avg_value,
        cycle_days=cycle_days,
        velocity_per_day=speed,
        groups=grouped.labels,
        by=by,
        value=value,
        window_start=stamp(window_start),
        as_of=stamp(ep.as_of),
        confidence_level=level,
    )


def _group_median(
    values: NDArray[np.float64], code: NDArray[np.int32], n_groups: int
) -> NDArray[np.float64]:
    """Median of `values` per group code (NaN for an empty group), without a loop."""
    order = np.lexsort((values, code))
    ordered = values[order]
    counts = np.bincount(code, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = (ordered[lo] + ordered[hi]) / 2
    return out
