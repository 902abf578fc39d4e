"""The code behind `salesstd.markov`; the package docstring is the guide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal, overload

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.frames import FrameBackend, make_frame
from salesstd._base.results import ResultMixin, plain
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd._base.timestamps import to_datetime
from salesstd._engine import chain as mc
from salesstd._engine import grouping as _common
from salesstd._engine.episodes import NS_PER_DAY, Episodes, build_episodes
from salesstd.errors import ParameterError
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.markov import _bootstrap as mb
from salesstd.markov._results import (
    MarkovStage,
    MarkovStageInterval,
    SensitivityResult,
    TransitionSensitivity,
    open_index,
    state_index,
)
from salesstd.stats import kaplan_meier_sorted as _kaplan_meier
from salesstd.stats import sort_spells as _sort_spells

__all__ = [
    "MarkovFunnel",
    "MarkovStage",
    "MarkovStageInterval",
    "SensitivityResult",
    "TransitionSensitivity",
]


def _dwell(
    stage: NDArray[np.int32], days: NDArray[np.float64], moved: NDArray[np.bool_], n_open: int
) -> tuple[stats.KaplanMeier, NDArray[np.float64]]:
    """Kaplan-Meier stay curves per open stage and their restricted means to the longest stay."""
    spells = _sort_spells(days, moved, stage, n_open, 2)
    km = _kaplan_meier(spells, n_open)
    n = np.diff(spells.offsets)
    longest = np.full(n_open, np.nan)  # the last of each stage's stays sorted by length
    longest[n > 0] = spells.time[spells.offsets[1:][n > 0] - 1]
    return km, km.restricted_mean(longest).value


def _fit(
    ep: Episodes,
    case_mask: NDArray[np.bool_] | None,
    states: tuple[str, ...],
    *,
    by: str | None,
    group: object,
) -> MarkovFunnel:
    """The chain of the cases in `case_mask` (None: every case)."""
    n_open = ep.n_open
    idx, counts = mc.move_counts(ep, case_mask)
    days = (ep.exit[idx] - ep.enter[idx]) / NS_PER_DAY
    km, mean = _dwell(ep.stage[idx], days, ep.moved[idx], n_open)
    in_scope = ep.in_scope if case_mask is None else ep.in_scope & case_mask
    return MarkovFunnel(
        states=states,
        n_open=n_open,
        counts=counts,
        probabilities=mc.probabilities(counts, n_open),
        dwell=km,
        dwell_mean_days=mean,
        as_of=to_datetime(ep.as_of),
        n_cases=int(in_scope.sum()),
        by=by,
        group=group,
    )


def _sensitivity(
    states: tuple[str, ...], n_open: int, p: NDArray[np.float64], start: int
) -> SensitivityResult:
    """`MarkovFunnel.sensitivity` of the move probabilities `p` from open stage `start`."""
    table = mc.sensitivity_table(states, n_open, p, start)
    return SensitivityResult(**table._asdict())


# --------------------------------------------------------------------- the chain


@attrs.frozen(repr=False)
class MarkovFunnel(ResultMixin):
    """The log as an absorbing Markov chain over the funnel's stages (module docstring).

    Build one with `from_log`; change it with `with_probability` and `with_dwell`.

    Attributes:
        states: Stage names in funnel order: open stages, won, then the lost outcomes.
        n_open: ``states[:n_open]`` are the open (transient) stages, ``states[n_open]`` is
            won, the rest are lost.
        counts: ``(S, S)`` observed moves ``i -> j`` (each open-stage stay that ended in a
            move to ``j``, recorded stages only). Outcome rows are 0. `with_probability`
            leaves them as observed.
        probabilities: ``(S, S)`` move probabilities ``p_ij = counts_ij / Σ_j counts_ij``;
            open rows sum to 1, except the row of an open stage never left, which is NaN;
            outcome rows are the identity (absorbing).
        dwell: Kaplan-Meier curves of the stay in each open stage, in days (group code =
            stage code): stays that moved are events, stays running at `as_of` censored.
        dwell_mean_days: ``(n_open,)`` mean stay per open stage used for expected times:
            the restricted mean of `dwell` up to the stage's longest stay (NaN if it has no
            stays).
        as_of: The censoring time (UTC).
        n_cases: Cases with an event at or before `as_of` (in the group, with `by`).
        by: The case attribute the log was split by, or None.
        group: The value of `by` of this chain's cases (None without `by`).

    Examples:
        >>> log = ss.EventLog.from_records([
        ...     ("d1", "lead", "2024-01-01"), ("d1", "demo", "2024-01-03"),
        ...     ("d1", "won", "2024-01-06"),
        ...     ("d2", "lead", "2024-01-01"), ("d2", "demo", "2024-01-03"),
        ...     ("d2", "lost", "2024-01-06"),
        ...     ("d3", "lead", "2024-01-01"), ("d3", "lost", "2024-01-03")])
        >>> f = ss.Funnel.linear(["lead", "demo", "won"], lost="lost")
        >>> chain = ss.MarkovFunnel.from_log(log, f)
        >>> chain
        MarkovFunnel(stages=2, cases=3, win=0.3333)
        >>> chain.win_probability().tolist()
        [0.3333333333333333, 0.5]
        >>> chain.expected_time_to_close().tolist()  # 2 days in lead, 3 in demo
        [4.0, 3.0]
        >>> chain.at("demo").moves
        2
    """

    states: tuple[str, ...]
    n_open: int
    counts: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    probabilities: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    dwell: stats.KaplanMeier
    dwell_mean_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    as_of: dt.datetime
    n_cases: int
    by: str | None = None
    group: object = None

    __hash__ = None  # type: ignore[assignment]

    # ----------------------------------------------------------------- construction

    @overload
    @classmethod
    def from_log(
        cls,
        log: EventLog,
        funnel: Funnel,
        *,
        as_of: object = ...,
        by: None = ...,
        min_stay: float | dt.timedelta | None = ...,
    ) -> MarkovFunnel: ...

    @overload
    @classmethod
    def from_log(
        cls,
        log: EventLog,
        funnel: Funnel,
        *,
        as_of: object = ...,
        by: str,
        min_stay: float | dt.timedelta | None = ...,
    ) -> dict[object, MarkovFunnel]: ...

    @classmethod
    def from_log(
        cls,
        log: EventLog,
        funnel: Funnel,
        *,
        as_of: object = None,
        by: str | None = None,
        min_stay: float | dt.timedelta | None = None,
    ) -> MarkovFunnel | dict[object, MarkovFunnel]:
        """Estimate the chain from a log (see the module docstring for the estimator).

        Args:
            log: Events to analyse.
            funnel: Process whose stages are the states.
            as_of: Censoring time (anything `EventLog` accepts as a time); default the
                log's last event. Events after it are ignored.
            by: None, or the name of a case attribute: then one chain per value of it.
            min_stay: Stays shorter than this are data-entry corrections (seconds or a
                `datetime.timedelta`); see `salesstd.conversion`. None keeps every stay.

        Returns:
            One `MarkovFunnel`; with `by`, a dict from each value of the attribute (sorted;
            missing values under the key None, last) to the chain of its cases.

        Raises:
            ParameterError: If `by` is not a case attribute or `as_of` is before the log.
            UnknownStageError: If the funnel declares its activities and the log has another.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01", "eu"), ("d1", "won", "2024-01-05", "eu"),
            ...      ("d2", "lead", "2024-01-02", "us"), ("d2", "lost", "2024-01-04", "us")],
            ...     names=("case", "activity", "time", "region"), case_attributes=["region"])
            >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
            >>> chains = ss.MarkovFunnel.from_log(log, f, by="region")
            >>> {k: c.win_probability().tolist() for k, c in chains.items()}
            {'eu': [1.0], 'us': [0.0]}
        """
        v.instance("log", log, EventLog)
        v.instance("funnel", funnel, Funnel)
        groups = _common.groups(log, by)
        ep = build_episodes(log, funnel, as_of=as_of, skips="strict", min_stay=min_stay)
        states = funnel.stage_names
        if by is None:
            return _fit(ep, None, states, by=None, group=None)
        return {
            label: _fit(ep, groups.of_case == g, states, by=by, group=label)
            for g, label in enumerate(groups.labels)
        }

    @classmethod
    def bootstrap(
        cls,
        log: EventLog,
        funnel: Funnel,
        *,
        n_boot: int = 200,
        seed: int | None = None,
        confidence_level: float = 0.95,
        as_of: object = None,
        min_stay: float | dt.timedelta | None = None,
    ) -> MarkovBootstrap:
        """Percentile bootstrap intervals for the win probability and time to close.

        Cases (deals) are resampled with replacement, ``n_boot`` times, and the chain is
        re-estimated on each resample; the interval of a quantity is the central
        `confidence_level` share of its replicates. The resample is a weight per case (the
        number of times it was drawn), applied to the stage episodes without copying the
        log: move counts are weighted counts; stay means are the restricted means of the
        weighted Kaplan-Meier curve (at-risk and event counts summed with the weights), up
        to each stage's longest stay in the full data. With whole-number weights this is
        exactly the estimator of `from_log` on the resampled log. A replicate in which a
        stage is undefined (see `MarkovFunnel`) is left out of that stage's interval.

        Args:
            log: Events to analyse.
            funnel: Process whose stages are the states.
            n_boot: Number of bootstrap replicates, >= 1.
            seed: Seed of ``numpy.random.default_rng``; None for fresh randomness.
            confidence_level: Coverage of the intervals, between 0 and 1 (exclusive).
            as_of: Censoring time, as in `from_log`.
            min_stay: Stays shorter than this are corrections, as in `from_log`.

        Returns:
            Estimates from the full data with their intervals, per open stage.

        Raises:
            ParameterError: If an option is out of range or `as_of` is before the log.

        Note:
            Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*,
            ch. 13 (percentile intervals). Resampling whole cases keeps the dependence
            between the moves of one deal.

        Examples:
            >>> log = ss.EventLog.from_records([
            ...     ("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-05"),
            ...     ("d2", "lead", "2024-01-02"), ("d2", "lost", "2024-01-04")])
            >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
            >>> boot = ss.MarkovFunnel.bootstrap(log, f, n_boot=50, seed=1)
            >>> boot.at("lead").win_probability, boot.n_boot
            (0.5, 50)
        """
        v.instance("log", log, EventLog)
        v.instance("funnel", funnel, Funnel)
        n_boot = v.positive_int("n_boot", n_boot, limit=mb.MAX_REPLICATES, unit="replicates")
        level = v.fraction("confidence_level", confidence_level)
        seed = v.random_seed("seed", seed)
        ep = build_episodes(log, funnel, as_of=as_of, skips="strict", min_stay=min_stay)
        estimate = _fit(ep, None, funnel.stage_names, by=None, group=None)
        win, close = mb.replicates(ep, n_boot, np.random.default_rng(seed))
        win_low, win_high, valid = mb.percentile_interval(win, level)
        days_low, days_high, _ = mb.percentile_interval(close, level)
        return MarkovBootstrap(
            estimate=estimate,
            win_low=win_low,
            win_high=win_high,
            days_low=days_low,
            days_high=days_high,
            replicates=valid,
            win_replicates=win,
            days_replicates=close,
            n_boot=n_boot,
            confidence_level=level,
            seed=seed,
        )

    # ----------------------------------------------------------------- chain algebra

    def _chain(self) -> mc.Chain:
        return mc.solve_chain(np.asarray(self.probabilities, dtype=np.float64), self.n_open)

    @property
    def stages(self) -> tuple[str, ...]:
        """The open stages, in order."""
        return self.states[: self.n_open]

    def fundamental_matrix(self) -> NDArray[np.float64]:
        """``N = (I - Q)^-1``: expected stays in stage ``j`` of a deal now in stage ``i``.

        Returns:
            ``(n_open, n_open)``; NaN rows (and columns) for undefined stages (see the
            class docstring), 0 in a defined row's columns of undefined stages.
        """
        out: NDArray[np.float64] = self._chain().fundamental.copy()
        return out

    def absorption_probabilities(self) -> NDArray[np.float64]:
        """``B = N R``: probability of ending in each outcome, from each open stage.

        Returns:
            ``(n_open, S - n_open)``, columns in the order of ``states[n_open:]`` (won
            first); rows of defined stages sum to 1; NaN rows for undefined stages.
        """
        out: NDArray[np.float64] = self._chain().absorption.copy()
        return out

    def win_probability(self) -> NDArray[np.float64]:
        """Probability of ending won from each open stage: the won column of ``B = N R``.

        Returns:
            ``(n_open,)``; NaN for undefined stages.
        """
        out: NDArray[np.float64] = self._chain().win.copy()
        return out

    def expected_steps(self) -> NDArray[np.float64]:
        """Expected number of stays in open stages until closing, the current one included.

        Each stay ends in one move, so this is also the expected number of moves to close.

        Returns:
            ``(n_open,)`` row sums of `fundamental_matrix`; NaN for undefined stages.
        """
        return mc.expected_steps(self._chain())

    def expected_time_to_close(
        self, *, given: Literal["any", "won"] = "any"
    ) -> NDArray[np.float64]:
        """Expected days from entering each open stage until the deal closes.

        ``t = N m`` with ``m`` the mean stays (`dwell_mean_days`). With ``given="won"``,
        the expectation among deals that end won: the same on the chain conditioned on
        winning, ``Q*_ij = Q_ij b_j / b_i`` (``b`` the win probabilities), with the same
        stay means (in this model the stay does not depend on where the deal goes next).

        Args:
            given: ``"any"`` (won or lost) or ``"won"``.

        Returns:
            ``(n_open,)`` days; NaN for undefined stages, and with ``"won"`` for stages
            that cannot be won.

        Raises:
            ParameterError: If `given` is not "any" or "won".
        """
        choice = v.choice("given", given, ("any", "won"))
        chain = self._chain()
        return mc.expected_times(
            np.asarray(self.probabilities, dtype=np.float64),
            self.n_open,
            np.asarray(self.dwell_mean_days, dtype=np.float64),
            chain,
            won=choice == "won",
        )

    def sensitivity(self, *, start: str | None = None) -> SensitivityResult:
        """How the win probability from `start` responds to each move probability.

        For every move ``i -> j`` with ``i`` open and ``p_ij > 0``: the derivative of
        ``P(win | start)`` with respect to ``p_ij`` when the other exits of ``i`` are
        rescaled proportionally (the rule of `with_probability`), and the elasticity
        ``derivative * p_ij / P(win | start)``. In closed form
        ``d b_s / d p_ij = N[s, i] (h_j - b_i) / (1 - p_ij)``, with ``h`` the win
        probability of each state (1 for won, 0 for lost).

        Args:
            start: Open stage to measure the win probability from; default the first.

        Returns:
            One row per move, largest absolute elasticity first.

        Raises:
            ParameterError: If `start` is several names (a list, an array).
            UnknownStageError: If `start` is not an open stage.

        Examples:
            >>> log = ss.EventLog.from_records([
            ...     ("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-05"),
            ...     ("d2", "lead", "2024-01-02"), ("d2", "lost", "2024-01-04")])
            >>> sens = ss.MarkovFunnel.from_log(
            ...     log, ss.Funnel.linear(["lead", "won"], lost="lost")).sensitivity()
            >>> sens.at("lead", "won").derivative
            1.0
        """
        s = 0 if start is None else open_index(start, self.states, self.n_open, "start")
        return _sensitivity(
            self.states, self.n_open, np.asarray(self.probabilities, dtype=np.float64), s
        )

    # ----------------------------------------------------------------- what-ifs

    def with_probability(self, source: str, target: str, p: float) -> MarkovFunnel:
        """The chain with ``p_{source,target} = p`` and the other exits of `source` rescaled.

        The other probabilities of the row are multiplied by ``(1 - p) / (1 - p_old)`` so
        that it still sums to 1 and keeps their proportions. `counts` stay as observed.

        Args:
            source: An open stage.
            target: Any other stage.
            p: The new probability, in [0, 1].

        Returns:
            A new `MarkovFunnel`.

        Raises:
            UnknownStageError: If `source` or `target` is not a stage (or `source` is an
                outcome).
            ParameterError: If `p` is not in [0, 1], `target` is `source`, or ``p < 1``
                while `source` has no other exit to give the rest to.

        Examples:
            >>> log = ss.EventLog.from_records([
            ...     ("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-05"),
            ...     ("d2", "lead", "2024-01-02"), ("d2", "lost", "2024-01-04")])
            >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
            >>> chain = ss.MarkovFunnel.from_log(log, f)
            >>> chain.with_probability("lead", "won", 0.8).win_probability().tolist()
            [0.8]
        """
        i = open_index(source, self.states, self.n_open)
        j = state_index(target, self.states)
        value = v.fraction("p", p, inclusive=True)
        if i == j:
            raise ParameterError(
                f"target {target!r} is the source; a stay in one stage is one visit, so the "
                "chain has no moves from a stage to itself. Pick another target."
            )
        row = np.nan_to_num(np.asarray(self.probabilities[i], dtype=np.float64))
        if value < 1.0 and row.sum() - row[j] <= 0.0:
            raise ParameterError(
                f"stage {source!r} has no exit besides {target!r} to give the remaining "
                f"{1 - value:g} to; set another exit first, or pass p=1."
            )
        new = mc.renormalised(np.asarray(self.probabilities, dtype=np.float64), i, j, value)
        return attrs.evolve(self, probabilities=new)

    def with_dwell(
        self, stage: str, *, mean_days: float | None = None, factor: float | None = None
    ) -> MarkovFunnel:
        """The chain with a new mean stay in one open stage (expected times change).

        Args:
            stage: An open stage.
            mean_days: The new mean stay in days, > 0.
            factor: Or a multiplier of the current mean, > 0 (0.8: stays 20% shorter).

        Returns:
            A new `MarkovFunnel`; its `dwell` curves stay as observed, only
            `dwell_mean_days` changes.

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: Unless exactly one of `mean_days` and `factor` is a positive
                number.

        Examples:
            >>> log = ss.EventLog.from_records([
            ...     ("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-05")])
            >>> chain = ss.MarkovFunnel.from_log(log, ss.Funnel.linear(["lead", "won"]))
            >>> chain.with_dwell("lead", factor=0.5).expected_time_to_close().tolist()
            [2.0]
        """
        i = open_index(stage, self.states, self.n_open)
        if (mean_days is None) == (factor is None):
            raise ParameterError(
                "pass exactly one of mean_days (the new mean stay in days) and factor (a "
                f"multiplier of the current one); got mean_days={mean_days!r}, "
                f"factor={factor!r}."
            )
        mean = np.array(self.dwell_mean_days, dtype=np.float64)
        if mean_days is not None:
            mean[i] = v.positive_number("mean_days", mean_days)
        else:
            mean[i] = mean[i] * v.positive_number("factor", factor)
        return attrs.evolve(self, dwell_mean_days=mean)

    # ----------------------------------------------------------------- rows and tables

    def at(self, stage: str) -> MarkovStage:
        """The row of one open stage.

        Raises:
            UnknownStageError: If `stage` is not an open stage (the message says so for an
                outcome and suggests a close name otherwise).
        """
        i = open_index(stage, self.states, self.n_open)
        table = self._table()
        return MarkovStage(
            stage=self.states[i],
            visits=int(table["visits"][i]),
            moves=int(table["moves"][i]),
            censored=int(table["censored"][i]),
            dwell_mean_days=float(table["dwell_mean_days"][i]),
            win_probability=float(table["win_probability"][i]),
            expected_steps=float(table["expected_steps"][i]),
            expected_days_to_close=float(table["expected_days_to_close"][i]),
            expected_days_to_win=float(table["expected_days_to_win"][i]),
        )

    def _transitions(self) -> dict[str, NDArray[Any]]:
        p = np.asarray(self.probabilities, dtype=np.float64)[: self.n_open]
        c = np.asarray(self.counts)[: self.n_open]
        src, tgt = np.nonzero((c > 0) | (np.nan_to_num(p) > 0))
        names = np.array(self.states, dtype=object)
        return {
            "from": names[src],
            "to": names[tgt],
            "count": c[src, tgt].astype(np.int64),
            "probability": p[src, tgt],
        }

    def transition_frame(self, *, backend: FrameBackend = "pandas") -> Any:  # noqa: ANN401
        """The moves as a DataFrame: one row per ``from -> to`` with a count or probability.

        Columns ``from``, ``to``, ``count`` (observed) and ``probability``.

        Args:
            backend: ``"pandas"`` or ``"polars"``.

        Raises:
            MissingDependencyError: If that library is not installed.
        """
        return make_frame(self._transitions(), backend=backend)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready contents: parameters, summary, one row per open stage and the moves.

        Returns:
            The `ResultMixin` dict plus ``"transitions"``: rows with ``from``, ``to``,
            ``count`` and ``probability``.
        """
        out = super().to_dict()
        moves = self._transitions()
        columns = {k: plain(a) for k, a in moves.items()}
        n = int(moves["from"].size)
        out["transitions"] = [{k: columns[k][i] for k in columns} for i in range(n)]  # type: ignore[index]
        return out

    def _table(self) -> Mapping[str, NDArray[Any]]:
        chain = self._chain()
        p = np.asarray(self.probabilities, dtype=np.float64)
        mean = np.asarray(self.dwell_mean_days, dtype=np.float64)
        return {
            "stage": np.array(self.stages, dtype=object),
            "visits": np.asarray(self.dwell.n, dtype=np.int64),
            "moves": np.asarray(self.counts, dtype=np.int64)[: self.n_open].sum(axis=1),
            "censored": np.asarray(self.dwell.n_censored, dtype=np.int64),
            "dwell_mean_days": mean,
            "win_probability": chain.win,
            "expected_steps": mc.expected_steps(chain),
            "expected_days_to_close": mc.expected_times(p, self.n_open, mean, chain, won=False),
            "expected_days_to_win": mc.expected_times(p, self.n_open, mean, chain, won=True),
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "states": list(self.states),
            "n_open": self.n_open,
            "as_of": self.as_of,
            "by": self.by,
            "group": self.group,
            "skips": "strict",
        }

    def _summary(self) -> Mapping[str, object]:
        return {
            "stages": self.n_open,
            "cases": self.n_cases,
            "win": round(float(self._chain().win[0]), 4),
        }


@attrs.frozen(repr=False)
class MarkovBootstrap(ResultMixin):
    """Bootstrap intervals of a `MarkovFunnel` (see `MarkovFunnel.bootstrap`).

    Attributes:
        estimate: The chain estimated from the full data.
        win_low: Lower end of the interval of the win probability, per open stage.
        win_high: Upper end.
        days_low: Lower end of the interval of the expected days to close, per open stage.
        days_high: Upper end.
        replicates: Per open stage: replicates in which it was defined.
        win_replicates: ``(n_boot, n_open)`` win probability in each replicate.
        days_replicates: ``(n_boot, n_open)`` expected days to close in each replicate.
        n_boot: Number of replicates.
        confidence_level: Coverage of the intervals.
        seed: The seed (None: fresh randomness).
    """

    estimate: MarkovFunnel
    win_low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    win_high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    days_low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    days_high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    replicates: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    win_replicates: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    days_replicates: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    n_boot: int
    confidence_level: float
    seed: int | None

    __hash__ = None  # type: ignore[assignment]

    @property
    def stages(self) -> tuple[str, ...]:
        """The open stages, in order."""
        return self.estimate.stages

    @property
    def win_probability(self) -> NDArray[np.float64]:
        """Absorption win probability per open stage from the full data (as `MarkovStage`)."""
        return self.estimate.win_probability()

    @property
    def expected_days_to_close(self) -> NDArray[np.float64]:
        """Expected days to close per open stage from the full data."""
        return self.estimate.expected_time_to_close()

    def at(self, stage: str) -> MarkovStageInterval:
        """The row of one open stage.

        Raises:
            UnknownStageError: If `stage` is not an open stage.
        """
        i = open_index(stage, self.estimate.states, self.estimate.n_open)
        table = self._table()
        return MarkovStageInterval(
            stage=self.stages[i],
            win_probability=float(table["win_probability"][i]),
            win_low=float(self.win_low[i]),
            win_high=float(self.win_high[i]),
            expected_days_to_close=float(table["expected_days_to_close"][i]),
            days_low=float(self.days_low[i]),
            days_high=float(self.days_high[i]),
            replicates=int(self.replicates[i]),
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "stage": np.array(self.stages, dtype=object),
            "win_probability": self.win_probability,
            "win_low": self.win_low,
            "win_high": self.win_high,
            "expected_days_to_close": self.expected_days_to_close,
            "days_low": self.days_low,
            "days_high": self.days_high,
            "replicates": self.replicates,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "n_boot": self.n_boot,
            "confidence_level": self.confidence_level,
            "seed": self.seed,
            "method": "percentile",
            "as_of": self.estimate.as_of,
        }

    def _summary(self) -> Mapping[str, object]:
        return {
            "stages": self.estimate.n_open,
            "cases": self.estimate.n_cases,
            "n_boot": self.n_boot,
            "win": round(float(self.win_probability[0]), 4),
        }
