"""Aalen-Johansen cumulative incidence of competing causes, with its delta-method band.

Private; the public names are re-exported by `salesstd.stats`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from salesstd._base import validation as v
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import reduce_sealed
from salesstd.errors import ParameterError
from salesstd.stats._common import (
    Bounds,
    _codes,
    _durations,
    _gather_at,
    _greenwood_terms,
    _group_code,
    _index_at,
    _km_survival,
    _n_groups,
    _offsets,
    _owned,
    _per_group,
    _seal,
    _segment_cumsum,
    _short_repr,
    _starts,
    _tabulate,
    _z,
    sort_spells,
)

__all__ = ["CumulativeIncidence", "cumulative_incidence"]


@attrs.frozen(repr=False)
class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of competing causes, for several groups.

    One step per distinct time at which any cause happened in a group; group ``g`` is the
    slice ``group_offsets[g]:group_offsets[g + 1]``. Column ``k - 1`` of the 2-D arrays is
    cause ``k``. Build one with `cumulative_incidence`.

    Attributes:
        time: Distinct event times (any cause), per group ascending.
        at_risk: Observations still at risk at each step (duration >= time).
        events: ``(steps, n_causes)`` events of each cause at each step.
        survival_before: Overall Kaplan-Meier survival (no event of any cause) just before
            each step, S(t-).
        survival: Overall survival just after each step, S(t).
        incidence: ``(steps, n_causes)`` cumulative incidence ``CIF_k(t)`` just after each
            step; at every step ``incidence.sum(axis=1) + survival == 1``.
        group_offsets: int64, length ``n_groups + 1``.
        n: Observations per group.
        n_events: ``(n_groups, n_causes)`` events of each cause per group.
        n_censored: Censored observations per group.
    """

    time: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    at_risk: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    events: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    survival_before: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    survival: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    incidence: NDArray[np.float64] = attrs.field(converter=_seal, eq=_eq)
    group_offsets: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n_events: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)
    n_censored: NDArray[np.int64] = attrs.field(converter=_seal, eq=_eq)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return _short_repr(
            "CumulativeIncidence",
            groups=self.n_groups,
            causes=self.n_causes,
            n=int(self.n.sum()),
            events=self.n_events.sum(axis=0).tolist(),
            steps=int(self.time.size),
        )

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.group_offsets.size - 1)

    @property
    def n_causes(self) -> int:
        """Number of causes (columns of `incidence`)."""
        return int(self.incidence.shape[1])

    def steps(self, group: int | np.integer[Any]) -> slice:
        """The slice of the step arrays that holds one group's curves.

        Args:
            group: Group code, ``0 <= group < n_groups``.

        Returns:
            A slice for the rows of every step array.

        Raises:
            ParameterError: If `group` is not a valid group code.
        """
        g = _group_code(group, self.n_groups)
        return slice(int(self.group_offsets[g]), int(self.group_offsets[g + 1]))

    @property
    def variance(self) -> NDArray[np.float64]:
        """Delta-method variance of `incidence`, ``(steps, n_causes)`` (see `confidence_band`).

        Computed on each access (a few passes over the steps), so `cumulative_incidence`
        pays nothing for it when only the curves are needed.
        """
        return _aj_variance(
            self.incidence,
            self.survival_before,
            self.events,
            self.at_risk,
            _starts(self.group_offsets),
        )

    @property
    def standard_error(self) -> NDArray[np.float64]:
        """Delta-method standard error of `incidence`, ``(steps, n_causes)``."""
        out: NDArray[np.float64] = np.sqrt(self.variance)
        return out

    def at(self, horizon: ArrayLike) -> NDArray[np.float64]:
        """Cumulative incidence of each cause by chosen horizons.

        Args:
            horizon: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            ``(n_groups, n_causes)`` for one horizon, ``(n_groups, len(horizon), n_causes)``
            for an array: the probability of having had each cause by that time; 0 before a
            group's first event, NaN for a group without observations.

        Raises:
            ParameterError: If a horizon is NaN or `horizon` has more than one dimension.

        Examples:
            >>> ci = cumulative_incidence([1.0, 2.0, 3.0, 4.0], [1, 2, 0, 1])
            >>> ci.at(2.5).tolist()
            [[0.25, 0.25]]
            >>> ci.at([0.5, 5.0]).round(4).tolist()
            [[[0.0, 0.0], [0.75, 0.25]]]
        """
        return _gather_at(
            self.incidence, self.time, self.group_offsets, self.n, horizon, fill=0.0, name="horizon"
        )

    def survival_at(self, horizon: ArrayLike) -> NDArray[np.float64]:
        """Overall survival (no event of any cause yet) by chosen horizons.

        Args:
            horizon: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            ``(n_groups,)`` for one horizon, ``(n_groups, len(horizon))`` for an array; 1
            before a group's first event, NaN for a group without observations. With `at`,
            ``at(h).sum(axis=-1) + survival_at(h) == 1``.

        Raises:
            ParameterError: If a horizon is NaN or `horizon` has more than one dimension.

        Examples:
            >>> ci = cumulative_incidence([1.0, 2.0, 3.0, 4.0], [1, 2, 0, 1])
            >>> ci.survival_at([0.5, 2.5]).round(4).tolist()
            [[1.0, 0.5]]
        """
        return _gather_at(
            self.survival, self.time, self.group_offsets, self.n, horizon, fill=1.0, name="horizon"
        )

    def index_at(self, horizon: ArrayLike) -> NDArray[np.int64]:
        """Index into the step arrays of each group's last step at or before chosen times.

        Gathers any step-aligned array (a `confidence_band` bound, `variance`, ...) at
        chosen times for all groups at once: ``arr[index]`` where ``index >= 0``.

        Args:
            horizon: One time or a 1-D array of times, in the unit of the durations.

        Returns:
            int64 of shape ``(n_groups,)`` for one time, ``(n_groups, len(horizon))`` for an
            array; -1 where the time is before the group's first step (or it has none).

        Raises:
            ParameterError: If a time is NaN or `horizon` has more than one dimension.
        """
        return _index_at(self.time, self.group_offsets, horizon, "horizon")

    def confidence_band(self, confidence_level: float = 0.95) -> Bounds:
        """Pointwise confidence band of each cumulative incidence, aligned with `incidence`.

        The variance is the delta-method (Greenwood-type) estimate at ``t = t_m``:

            Σ_{i<=m} (F(t) - F(t_i))² d_i / (n_i (n_i - d_i))
                   + S(t_{i-1})² d_ki (n_i - d_ki) / n_i³
                   - 2 (F(t) - F(t_i)) S(t_{i-1}) d_ki / n_i²

        with ``d_i`` events of any cause, ``d_ki`` of cause k and ``n_i`` at risk (a step
        where ``n_i = d_i`` contributes 0 to the first sum: only its own time follows it).
        The band is ``exp(-exp(log(-log F) ± z·se / (F |log F|)))``, inside [0, 1]; NaN where
        ``F`` is 0 or 1.

        Args:
            confidence_level: Pointwise coverage, between 0 and 1 (exclusive).

        Returns:
            ``(low, high)`` arrays of shape ``(steps, n_causes)``.

        Note:
            Collett, D. (2015). *Modelling Survival Data in Medical Research*, 3rd ed.,
            p. 411; Marubini, E. and Valsecchi, M. G. (1995). *Analysing Survival Data from
            Clinical Trials and Observational Studies*; SAS ``PROC LIFETEST`` documentation.
            The variance and band equal lifelines' ``AalenJohansenFitter`` ``variance_``
            and ``confidence_interval_`` on data without tied event times (where lifelines
            would jitter the times instead), except that lifelines returns NaN at a step
            where every observation at risk has an event.

        Examples:
            >>> ci = cumulative_incidence([1.0, 2.0, 3.0, 4.0, 5.0], [1, 2, 0, 1, 0])
            >>> low, high = ci.confidence_band()
            >>> low[:, 0].round(3).tolist(), high[:, 0].round(3).tolist()
            ([0.008, 0.008, 0.053], [0.582, 0.582, 0.849])
        """
        z = _z(v.fraction("confidence_level", confidence_level))
        f = self.incidence
        # A tiny incidence with a wide interval overflows exp(): the bound is then 0 (or 1),
        # its limit, not an error.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_f = np.log(f)
            se = np.sqrt(self.variance) / (f * np.abs(log_f))
            center = np.log(-log_f)
            low = np.exp(-np.exp(center + z * se))
            high = np.exp(-np.exp(center - z * se))
        undefined = (f <= 0) | (f >= 1)
        low[undefined] = np.nan
        high[undefined] = np.nan
        return Bounds(low, high)

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return reduce_sealed(self)


def cumulative_incidence(
    durations: ArrayLike,
    cause: ArrayLike,
    groups: ArrayLike | None = None,
    *,
    n_groups: int | None = None,
    n_causes: int | None = None,
) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of competing causes, for every group at once.

    With competing outcomes (a deal in a stage either advances or is lost, and open deals
    are censored), the chance of each outcome by time t is
    ``CIF_k(t) = Σ_{t_i <= t} S(t_i-) d_ki / n_i``, where ``S`` is the Kaplan-Meier survival
    from any cause, ``d_ki`` the events of cause k at ``t_i`` and ``n_i`` the observations at
    risk. Unlike ``1 - KM`` with the other causes treated as censored, the curves of all
    causes and ``S`` add up to 1.

    Args:
        durations: Time from the start of each spell to its event or censoring, >= 0.
        cause: Integer outcome of each observation: 0 for censored, ``1 .. n_causes`` for
            the cause that happened (for a funnel stage: 1 = advanced, 2 = lost).
        groups: Integer group code of each observation; None puts all in one group.
        n_groups: Number of groups; default the largest code + 1.
        n_causes: Number of causes; default the largest cause code (at least 1).

    Returns:
        The curves of all groups, concatenated with group offsets.

    Raises:
        ParameterError: If a duration is negative or not finite, if the arrays differ in
            length or if a group or cause code is out of range.

    Note:
        Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for
        non-homogeneous Markov chains based on censored observations. *Scandinavian Journal
        of Statistics* 5(3), 141-150. Kalbfleisch and Prentice (2002), section 8.2. Tied
        times are handled exactly (all events at ``t_i`` share ``S(t_i-)``); there is no
        jittering. The values equal lifelines' ``AalenJohansenFitter.cumulative_density_``.

    Examples:
        >>> ci = cumulative_incidence([1.0, 2.0, 3.0, 4.0], [1, 2, 0, 1])
        >>> ci.time.tolist()
        [1.0, 2.0, 4.0]
        >>> ci.incidence.round(4).tolist()
        [[0.25, 0.0], [0.25, 0.25], [0.75, 0.25]]
        >>> ci.survival.round(4).tolist()
        [0.75, 0.5, 0.0]
    """
    time = _durations(durations)
    if n_causes is not None:
        v.positive_int("n_causes", n_causes)
    codes = _codes("cause", cause, time.size, limit=None, limit_name="n_causes")
    if n_causes is not None and time.size and int(codes.max()) > n_causes:
        i = int(np.argmax(codes))
        raise ParameterError(
            f"cause must be between 0 and n_causes={n_causes}; got {codes[i]} at position {i}. "
            f"Pass n_causes={int(codes[i])} or more.",
            parameter="cause",
        )
    k = n_causes if n_causes is not None else max(int(codes.max()) if time.size else 1, 1)
    group_codes, n_g = _n_groups(groups, n_groups, time.size)
    table = _tabulate(sort_spells(time, codes, group_codes, n_g, k + 1), n_g, k + 1)
    by_cause = table.counts[:, 1:]
    d_run = by_cause.sum(axis=1)
    keep = d_run > 0
    offsets = _offsets(table.group[keep], n_g)
    starts = _starts(offsets)
    d = d_run[keep]
    dk = np.ascontiguousarray(by_cause[keep])
    n_risk = table.at_risk[keep]
    survival = _km_survival(d, n_risk, starts)
    before = np.empty_like(survival)
    before[1:] = survival[:-1]
    before[starts] = 1.0
    incidence = np.empty(dk.shape)
    for col in range(k):  # a handful of causes, each a whole-array pass
        incidence[:, col] = _segment_cumsum(before * dk[:, col] / n_risk, starts)
    n_events = _per_group(table, k + 1)[:, 1:]
    return CumulativeIncidence(
        time=_owned(table.time[keep]),
        at_risk=_owned(n_risk),
        events=_owned(dk),
        survival_before=_owned(before),
        survival=_owned(survival),
        incidence=_owned(incidence),
        group_offsets=_owned(offsets),
        n=_owned(table.n),
        n_events=_owned(n_events),
        n_censored=_owned(table.n - n_events.sum(axis=1)),
    )


def _aj_variance(
    incidence: NDArray[np.float64],
    before: NDArray[np.float64],
    dk: NDArray[np.int64],
    n: NDArray[np.int64],
    starts: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Delta-method variance of each cumulative incidence at each step (lifelines' formula).

    The sum of ``w_i (F(t) - F(t_i))²`` is expanded into running sums of ``w``, ``w F`` and
    ``w F²``, so every step's variance comes from cumulative sums. A step where everyone at
    risk has an event gets ``w = 0``: it is its group's last, where ``F(t) - F(t_i)`` is 0.
    """
    nf = n.astype(np.float64)
    w = _greenwood_terms(dk.sum(axis=1), n)
    sum_w = _segment_cumsum(w, starts)
    variance = np.empty(incidence.shape)
    for k in range(incidence.shape[1]):
        f = incidence[:, k]
        events = dk[:, k].astype(np.float64)
        jump = before * events / nf  # S(t_i-) d_ki / n_i
        wf = w * f
        quad = f * (f * sum_w - 2 * _segment_cumsum(wf, starts)) + _segment_cumsum(wf * f, starts)
        own = _segment_cumsum(before**2 * events * (nf - events) / nf**3, starts)
        cross = f * _segment_cumsum(jump / nf, starts) - _segment_cumsum(f * jump / nf, starts)
        variance[:, k] = np.maximum(quad + own - 2 * cross, 0.0)
    return variance
