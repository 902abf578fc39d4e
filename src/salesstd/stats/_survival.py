"""Kaplan-Meier curves: quantiles with Brookmeyer-Crowley intervals, restricted means, bands.

Private; the public names are re-exported by `salesstd.stats`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from salesstd._base import validation as v
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import reduce_sealed
from salesstd.errors import ParameterError
from salesstd.stats._common import (
    Bounds,
    _durations,
    _first_index,
    _gather_at,
    _greenwood_terms,
    _group_code,
    _group_sums,
    _index_at,
    _km_survival,
    _n_groups,
    _observed,
    _offsets,
    _owned,
    _seal,
    _segment_cumsum,
    _segment_revsum,
    _short_repr,
    _Spells,
    _starts,
    _tabulate,
    _z,
    sort_spells,
)

__all__ = ["KaplanMeier", "QuantileEstimate", "RestrictedMean", "kaplan_meier"]


# A survival value within this distance of 1 - q counts as reaching it, so that a curve that
# lands exactly on 0.5 (n/2 events among n uncensored cases) has its median there whichever
# way the last bit of the product rounds.
_TOL = 1e-10


class QuantileEstimate(NamedTuple):
    """A quantile of survival time per group, with its confidence interval.

    NaN where the curve (for `value`), its lower band (for `low`) or its upper band (for
    `high`) never reaches the target level during follow-up.
    """

    value: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]


class RestrictedMean(NamedTuple):
    """Restricted mean survival time per group and its standard error."""

    value: NDArray[np.float64]
    standard_error: NDArray[np.float64]


@attrs.frozen(repr=False)
class KaplanMeier:
    """Kaplan-Meier survival curves of several groups, stored as concatenated steps.

    The curve of group ``g`` is the slice ``group_offsets[g]:group_offsets[g + 1]`` of the
    step arrays, one step per distinct time at which an event happened in that group, in
    increasing time. Before its first step a curve is 1; it is constant between steps and
    after the last one. Build one with `kaplan_meier`.

    Attributes:
        time: Distinct event times, per group ascending.
        survival: Estimated survival probability S(t) just after each step.
        at_risk: Observations still at risk at each step (duration >= time).
        events: Events at each step.
        greenwood: Greenwood's sum ``Σ d / (n (n - d))`` over the steps so far; the variance
            of ``survival`` is ``survival**2 * greenwood``. Infinite once ``survival`` is 0.
        group_offsets: int64, length ``n_groups + 1``; group ``g``'s steps are
            ``group_offsets[g]:group_offsets[g + 1]``.
        n: Observations per group.
        n_events: Events per group.
        n_censored: Censored observations per group.
    """

    time: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    survival: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    at_risk: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    events: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    greenwood: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    group_offsets: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n_events: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n_censored: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return _short_repr(
            "KaplanMeier",
            groups=self.n_groups,
            n=int(self.n.sum()),
            events=int(self.n_events.sum()),
            steps=int(self.time.size),
        )

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.group_offsets.size - 1)

    def steps(self, group: int | np.integer[Any]) -> slice:
        """The slice of the step arrays that holds one group's curve.

        Args:
            group: Group code, ``0 <= group < n_groups``.

        Returns:
            A slice for `time`, `survival`, `at_risk`, `events` and `greenwood`.

        Raises:
            ParameterError: If `group` is not a valid group code.
        """
        g = _group_code(group, self.n_groups)
        return slice(int(self.group_offsets[g]), int(self.group_offsets[g + 1]))

    @property
    def standard_error(self) -> NDArray[np.float64]:
        """Greenwood standard error of `survival` at each step (NaN where survival is 0)."""
        with np.errstate(invalid="ignore"):
            out: NDArray[np.float64] = self.survival * np.sqrt(self.greenwood)
        return out

    def confidence_band(self, confidence_level: float = 0.95) -> Bounds:
        """Pointwise log-log confidence band of the survival curve, aligned with `survival`.

        With ``S`` the survival and ``V`` Greenwood's sum at a step, ``g = log(-log S)`` has
        standard error ``sqrt(V) / |log S|``; the bounds are ``exp(-exp(g ± z·se))``. They
        stay inside [0, 1]. Where ``S`` is 0 (everyone left at risk had the event) the band is
        undefined and NaN.

        Args:
            confidence_level: Pointwise coverage, between 0 and 1 (exclusive).

        Returns:
            ``(low, high)`` arrays aligned with `survival`.

        Note:
            Greenwood, M. (1926). The natural duration of cancer. *Reports on Public Health
            and Medical Subjects* 33. Kalbfleisch, J. D. and Prentice, R. L. (2002). *The
            Statistical Analysis of Failure Time Data*, 2nd ed., section 1.4. This is R's
            ``survfit(conf.type="log-log")`` band and lifelines' default; it equals
            ``scipy.stats.ecdf(...).sf.confidence_interval(method="log-log")`` and lifelines'
            ``KaplanMeierFitter.confidence_interval_`` wherever S > 0.

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 3.0, 4.0], [True, True, False, True])
            >>> low, high = km.confidence_band()
            >>> low.round(3).tolist(), high.round(3).tolist()
            ([0.128, 0.058, nan], [0.961, 0.845, nan])
        """
        z = _z(v.fraction("confidence_level", confidence_level))
        return _loglog_band(self.survival, self.greenwood, z)

    def index_at(self, t: ArrayLike) -> NDArray[np.int64]:
        """Index into the step arrays of each group's last step at or before chosen times.

        Gathers any step-aligned array (`survival`, a `confidence_band` bound, ...) at
        chosen times for all groups at once: ``arr[index]`` where ``index >= 0``.

        Args:
            t: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            int64 of shape ``(n_groups,)`` for one time, ``(n_groups, len(t))`` for an
            array; -1 where the time is before the group's first step (or it has none).

        Raises:
            ParameterError: If a time is NaN or `t` has more than one dimension.

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 2.0, 3.0], [True, True, False, True], [0, 1, 1, 1])
            >>> km.index_at([0.5, 2.0, 9.0]).tolist()
            [[-1, 0, 0], [-1, 1, 2]]
        """
        return _index_at(self.time, self.group_offsets, t, "t")

    def survival_at(self, t: ArrayLike) -> NDArray[np.float64]:
        """The survival curves evaluated at chosen times.

        Args:
            t: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            Shape ``(n_groups,)`` for one time, ``(n_groups, len(t))`` for an array: the
            probability of still being in the state after each time; 1 before a group's first
            event, NaN for a group without observations.

        Raises:
            ParameterError: If a time is NaN or `t` has more than one dimension.

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 3.0, 4.0], [True, True, False, True])
            >>> km.survival_at([0.5, 1.0, 3.5]).round(4).tolist()
            [[1.0, 0.75, 0.5]]
        """
        return _gather_at(
            self.survival, self.time, self.group_offsets, self.n, t, fill=1.0, name="t"
        )

    def quantile(self, q: float = 0.5, *, confidence_level: float = 0.95) -> QuantileEstimate:
        """Quantile of the time to event per group, with the Brookmeyer-Crowley interval.

        The ``q`` quantile is the smallest event time at which the survival curve is at or
        below ``1 - q`` (``q = 0.5`` gives the median). Its interval collects the times
        whose pointwise log-log band (see `confidence_band`) contains ``1 - q``: the lower
        limit is the first event time at which the band's lower bound is at or below
        ``1 - q``, the upper limit the first at which its upper bound is. NaN marks a level
        that is not reached during follow-up (for `high`: the interval is open above).

        Args:
            q: Fraction of events, between 0 and 1 (exclusive).
            confidence_level: Coverage of the interval, between 0 and 1 (exclusive).

        Returns:
            ``(value, low, high)`` arrays of length `n_groups`.

        Raises:
            ParameterError: If `q` or `confidence_level` is not between 0 and 1.

        Note:
            Brookmeyer, R. and Crowley, J. (1982). A confidence interval for the median
            survival time. *Biometrics* 38(1), 29-41. The quantile is the one lifelines
            reports (``median_survival_time_``, ``qth_survival_time``); R's ``survfit`` and
            SAS instead take the midpoint when the curve sits exactly on ``1 - q`` over an
            interval. The limits equal lifelines' ``qth_survival_times(q,
            kmf.confidence_interval_)`` except where a band reaches the level only at a
            time where the curve drops to 0: lifelines sets the band to 0 there and reports
            that time, here the band is undefined (as in R and scipy) and the limit NaN.

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 2.0, 3.0, 4.0, 5.0], [1, 1, 0, 1, 0, 1])
            >>> est = km.quantile(0.5)
            >>> est.value.tolist(), est.low.tolist(), est.high.tolist()
            ([3.0], [1.0], [nan])
        """
        fraction = v.fraction("q", q)
        return quantile_estimate(self, fraction, self.confidence_band(confidence_level))

    def restricted_mean(self, horizon: float | ArrayLike) -> RestrictedMean:
        """Restricted mean survival time: the area under each curve from 0 to `horizon`.

        The expected time spent in the state during the first `horizon` time units; with
        right censoring it replaces the plain mean, which the censored tail leaves undefined.
        Past a group's last observation its curve is taken as constant at its last value.

        The standard error is the square root of the Greenwood-type variance
        ``Σ_{t_i <= horizon} A_i² d_i / (n_i (n_i - d_i))`` with ``A_i`` the area under the
        curve from ``t_i`` to `horizon` (a step where ``n_i = d_i`` contributes 0, since the
        curve is 0 after it).

        Args:
            horizon: Upper limit of the integral, >= 0, in the unit of the durations: one
                number for all groups, or an array of one per group (NaN gives NaN).

        Returns:
            ``(value, standard_error)`` arrays of length `n_groups`; NaN for a group without
            observations.

        Raises:
            ParameterError: If a horizon is negative or infinite, or an array of horizons
                does not have one entry per group.

        Note:
            Irwin, J. O. (1949). The standard error of an estimate of expectation of life.
            *J. Hygiene* 47, 188-189. Klein, J. P. and Moeschberger, M. L. (2003). *Survival
            Analysis*, 2nd ed., section 4.5. The variance is the one R's ``survival``
            package reports as ``se(rmean)`` (``print.survfit(fit, rmean=horizon)``).

        Examples:
            >>> km = kaplan_meier([1.0, 2.0, 3.0, 4.0], [True, True, False, True])
            >>> rm = km.restricted_mean(3.0)
            >>> rm.value.tolist(), rm.standard_error.round(4).tolist()
            ([2.25], [0.4146])
            >>> two = kaplan_meier([1.0, 2.0, 1.0, 3.0], [True, True, True, False], [0, 0, 1, 1])
            >>> two.restricted_mean([2.0, 3.0]).value.tolist()
            [1.5, 2.0]
        """
        h = _horizons(horizon, self.n_groups)
        skip = np.isnan(h) | (self.n == 0)
        h[skip] = 0.0  # NaN must stay out of the running sums, which span all groups
        time, surv = self.time, self.survival
        offsets = self.group_offsets
        h_step = np.repeat(h, np.diff(offsets))
        nxt = np.full(time.size, np.inf)
        nxt[:-1] = time[1:]
        has = offsets[1:] > offsets[:-1]
        nxt[offsets[1:][has] - 1] = np.inf
        width = np.clip(np.minimum(nxt, h_step) - time, 0.0, None)
        area = surv * width
        first_time = np.full(self.n_groups, np.inf)
        first_time[has] = time[offsets[:-1][has]]
        value = np.minimum(first_time, h) + _group_sums(area, offsets)
        tail = _segment_revsum(area, offsets)
        weight = _greenwood_terms(self.events, self.at_risk)
        weight[time > h_step] = 0.0
        var = _group_sums(weight * tail**2, offsets)
        value[skip] = np.nan
        var[skip] = np.nan
        return RestrictedMean(value, np.sqrt(var))

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return reduce_sealed(self)


def quantile_estimate(km: KaplanMeier, q: float, band: Bounds) -> QuantileEstimate:
    """`KaplanMeier.quantile` with the band given (computed once for several quantiles)."""
    out = []
    for curve in (km.survival, band.low, band.high):
        first, found = _first_index(curve <= 1.0 - q + _TOL, km.group_offsets)
        times = np.full(km.n_groups, np.nan)
        times[found] = km.time[first[found]]
        out.append(times)
    return QuantileEstimate(out[0], out[1], out[2])


def quantile_step(
    km: KaplanMeier, q: float | NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Per group, the index of the step that gives the `q` quantile, and whether it exists.

    `q` is one fraction for every group or an array of one per group.
    """
    level = 1.0 - np.asarray(q, dtype=np.float64) + _TOL
    if level.ndim:
        level = np.repeat(level, np.diff(km.group_offsets))
    return _first_index(km.survival <= level, km.group_offsets)


def _horizons(horizon: object, n_groups: int) -> NDArray[np.float64]:
    """One horizon per group: a number for all, or an array of one per group (NaN allowed)."""
    if isinstance(horizon, (bool, np.bool_, str, bytes)):
        raise ParameterError(
            f"horizon must be a number >= 0; got {horizon!r}.", parameter="horizon"
        )
    try:
        arr = np.asarray(horizon, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ParameterError(
            f"horizon must be a number >= 0; got {horizon!r}.", parameter="horizon"
        ) from err
    if arr.ndim == 0:
        if not (np.isfinite(arr) and arr >= 0):
            raise ParameterError(
                f"horizon must be a finite number >= 0; got {horizon!r}.", parameter="horizon"
            )
        return np.full(n_groups, float(arr))
    if arr.shape != (n_groups,):
        raise ParameterError(
            f"horizon must be one number or one per group ({n_groups}); got shape {arr.shape}.",
            parameter="horizon",
        )
    bad = ~np.isnan(arr) & ~((arr >= 0) & np.isfinite(arr))
    if bad.any():
        i = int(np.argmax(bad))
        raise ParameterError(
            f"horizons must be finite and >= 0 (or NaN); got {arr[i].item()!r} at group {i}.",
            parameter="horizons",
        )
    out: NDArray[np.float64] = arr.copy()
    return out


def _loglog_band(estimate: NDArray[np.float64], greenwood: NDArray[np.float64], z: float) -> Bounds:
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(estimate)
        se = np.sqrt(1 / log_s**2 * greenwood)
        center = np.log(-log_s)
        low = np.exp(-np.exp(center + z * se))
        high = np.exp(-np.exp(center - z * se))
    undefined = (estimate <= 0) | (estimate >= 1)
    low[undefined] = np.nan
    high[undefined] = np.nan
    return Bounds(low, high)


def kaplan_meier(
    durations: ArrayLike,
    observed: ArrayLike,
    groups: ArrayLike | None = None,
    *,
    n_groups: int | None = None,
) -> KaplanMeier:
    """Kaplan-Meier estimates of survival for every group at once.

    ``S(t) = Π_{t_i <= t} (1 - d_i / n_i)`` over the distinct event times ``t_i`` of a group,
    with ``d_i`` events at ``t_i`` and ``n_i`` observations whose duration is at least
    ``t_i``. An observation censored at the same time as an event is counted at risk for it
    (events before censorings, the standard convention).

    Args:
        durations: Time from the start of each spell to its event or censoring, >= 0, in
            any unit (the metrics modules pass days).
        observed: True where the event happened, False where the spell is right-censored
            (still open at the end of observation).
        groups: Integer group code of each observation, ``0 .. n_groups - 1``; None puts all
            observations in one group.
        n_groups: Number of groups, when some codes may not occur (their curves are empty);
            default: the largest code + 1.

    Returns:
        The curves of all groups, concatenated with group offsets.

    Raises:
        ParameterError: If a duration is negative, NaN or infinite, if the arrays differ in
            length, if `observed` is not boolean or if a group code is out of range.

    Note:
        Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete
        observations. *JASA* 53(282), 457-481. The curve equals ``scipy.stats.ecdf`` on
        ``scipy.stats.CensoredData(uncensored=..., right=...)``, group by group.

    Examples:
        >>> km = kaplan_meier(
        ...     [1.0, 2.0, 2.0, 3.0, 4.0, 5.0], [True, True, False, True, False, True])
        >>> km.time.tolist(), km.survival.round(4).tolist()
        ([1.0, 2.0, 3.0, 5.0], [0.8333, 0.6667, 0.4444, 0.0])
        >>> km.at_risk.tolist(), km.events.tolist()
        ([6, 5, 3, 1], [1, 1, 1, 1])
        >>> two = kaplan_meier([1.0, 2.0, 1.5, 3.0], [True, True, True, False], [0, 0, 1, 1])
        >>> two
        KaplanMeier(groups=2, n=4, events=3, steps=3)
        >>> two.time[two.steps(1)].tolist()
        [1.5]
    """
    time = _durations(durations)
    events = _observed(observed, time.size)
    codes, n_g = _n_groups(groups, n_groups, time.size)
    return kaplan_meier_sorted(sort_spells(time, events, codes, n_g, 2), n_g)


def kaplan_meier_sorted(spells: _Spells, n_groups: int) -> KaplanMeier:
    """Kaplan-Meier curves of observations sorted by `sort_spells` (code 1: an event).

    For callers inside the package that already hold valid arrays and want the sorted
    observations too (the naive median, the longest stay): ``kaplan_meier_sorted(spells, n)`` with
    ``spells = sort_spells(durations, observed, groups, n, 2)``.
    """
    table = _tabulate(spells, n_groups, 2)
    d_run = table.counts[:, 1]
    keep = d_run > 0
    offsets = _offsets(table.group[keep], n_groups)
    d = d_run[keep]
    n_risk = table.at_risk[keep]
    starts = _starts(offsets)
    survival = _km_survival(d, n_risk, starts)
    greenwood = _segment_cumsum(_greenwood_terms(d, n_risk), starts)
    greenwood[d == n_risk] = np.inf
    n_events = np.zeros(n_groups, dtype=np.int64)
    if starts.size:
        n_events[offsets[:-1] < offsets[1:]] = np.add.reduceat(d, starts)
    return KaplanMeier(
        time=_owned(table.time[keep]),
        survival=_owned(survival),
        at_risk=_owned(n_risk),
        events=_owned(d),
        greenwood=_owned(greenwood),
        group_offsets=_owned(offsets),
        n=_owned(table.n),
        n_events=_owned(n_events),
        n_censored=_owned(table.n - n_events),
    )
