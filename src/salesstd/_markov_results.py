"""Result classes of `salesstd.markov` (re-exported there; see that module)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd.errors import ParameterError

if TYPE_CHECKING:
    from salesstd.markov import MarkovFunnel

__all__ = [
    "MarkovBootstrap",
    "MarkovStage",
    "MarkovStageInterval",
    "SensitivityResult",
    "TransitionSensitivity",
]


# --------------------------------------------------------------------- row records


@attrs.frozen
class MarkovStage:
    """One open stage of a `MarkovFunnel`.

    Attributes:
        stage: The open stage.
        visits: Stays observed in it (every entry).
        moves: Stays that ended with a move by `as_of` (the denominator of its row).
        censored: Stays still running at `as_of`.
        dwell_mean_days: Mean stay used for expected times (see `MarkovFunnel`).
        win_probability: The *absorption probability*: the chance that a deal in this
            stage is eventually won in the chain whose move probabilities are the shares
            of every stay's moves (backward moves and re-entries included, open stays
            censored). Differs from conversion's chain ``win_rate`` when deals move
            back; see the explanation page "Four win probabilities".
        expected_steps: Expected stays in open stages, this one included, until it closes.
        expected_days_to_close: Expected days until it closes (won or lost).
        expected_days_to_win: Expected days until it closes, given that it is won.
    """

    stage: str
    visits: int
    moves: int
    censored: int
    dwell_mean_days: float
    win_probability: float
    expected_steps: float
    expected_days_to_close: float
    expected_days_to_win: float


@attrs.frozen
class TransitionSensitivity:
    """One row of a `SensitivityResult`: how the win probability responds to one move.

    Attributes:
        source: Open stage the move leaves.
        target: Stage it goes to.
        probability: Its probability ``p_ij``.
        derivative: ``d P(win | start) / d p_ij``, the other exits of `source` rescaled.
        elasticity: ``derivative * p_ij / P(win | start)``: the percent change of the win
            probability per percent change of ``p_ij``.
    """

    source: str
    target: str
    probability: float
    derivative: float
    elasticity: float


@attrs.frozen
class MarkovStageInterval:
    """One open stage of a `MarkovBootstrap`: estimates with percentile intervals.

    Attributes:
        stage: The open stage.
        win_probability: Estimate from the full data.
        win_low: Lower end of its bootstrap interval.
        win_high: Upper end.
        expected_days_to_close: Estimate from the full data.
        days_low: Lower end of its bootstrap interval.
        days_high: Upper end.
        replicates: Replicates in which the stage was defined (used for the interval).
    """

    stage: str
    win_probability: float
    win_low: float
    win_high: float
    expected_days_to_close: float
    days_low: float
    days_high: float
    replicates: int


def open_index(name: object, states: tuple[str, ...], n_open: int) -> int:
    return v.result_stage(name, states[:n_open], states[n_open:])


def state_index(name: object, states: tuple[str, ...]) -> int:
    v.known_names("stage", [name], states)
    return states.index(str(name))


# --------------------------------------------------------------------- sensitivity


@attrs.frozen(repr=False)
class SensitivityResult(ResultMixin):
    """Sensitivity of the win probability from one stage to every observed move.

    One row per move ``i -> j`` (``i`` open, ``p_ij > 0``), sorted by the absolute
    elasticity, largest first (NaN last). Build one with `MarkovFunnel.sensitivity`.

    Attributes:
        start: Stage the win probability is measured from.
        win_probability: ``P(win | start)``.
        source: Open stage of each move.
        target: Destination of each move.
        probability: ``p_ij``.
        derivative: ``d P(win | start) / d p_ij`` when the other exits of ``i`` are rescaled
            proportionally to keep the row summing to 1 (as `MarkovFunnel.with_probability`
            does); NaN where ``p_ij = 1`` (nothing to rescale).
        elasticity: ``derivative * p_ij / P(win | start)`` (NaN if that is 0).
    """

    start: str
    win_probability: float
    source: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    target: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    probability: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    derivative: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    elasticity: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)

    __hash__ = None  # type: ignore[assignment]

    def at(self, source: str, target: str) -> TransitionSensitivity:
        """The row of the move `source` -> `target`.

        Raises:
            UnknownStageError: If either is not a stage of the chain.
            ParameterError: If the move has probability 0 (it has no row).
        """
        names = sorted({*self.source.tolist(), *self.target.tolist()})
        v.known_names("stage", [source, target], [*names, source] if source in names else names)
        hit = np.flatnonzero((self.source == source) & (self.target == target))
        if not hit.size:
            raise ParameterError(
                f"the move {source!r} -> {target!r} has probability 0, so it has no row; "
                "moves with a row: "
                + v.listing(f"{a} -> {b}" for a, b in zip(self.source, self.target, strict=True))
                + "."
            )
        i = int(hit[0])
        return TransitionSensitivity(
            source=str(self.source[i]),
            target=str(self.target[i]),
            probability=float(self.probability[i]),
            derivative=float(self.derivative[i]),
            elasticity=float(self.elasticity[i]),
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "source": self.source,
            "target": self.target,
            "probability": self.probability,
            "derivative": self.derivative,
            "elasticity": self.elasticity,
        }

    def _params(self) -> Mapping[str, object]:
        return {"start": self.start}

    def _summary(self) -> Mapping[str, object]:
        return {
            "start": self.start,
            "moves": int(self.source.size),
            "win": round(self.win_probability, 4),
        }


# --------------------------------------------------------------------- bootstrap


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
