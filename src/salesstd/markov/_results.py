"""Result classes of `salesstd.markov` (re-exported there; see that module)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd.errors import ParameterError

__all__ = [
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


def open_index(name: object, states: tuple[str, ...], n_open: int, param: str = "stage") -> int:
    return v.result_stage(name, states[:n_open], states[n_open:], param=param)


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
            ParameterError: If the move has probability 0 (it has no row), or `source` or
                `target` is several names (a list, an array).
        """
        for name, value in (("source", source), ("target", target)):
            v.one_value(name, value, kind="stage name", many="Look up one move at a time.")
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
