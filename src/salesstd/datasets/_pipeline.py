"""The result of `synthetic_pipeline`: the log plus the true parameters behind it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.results import ReadOnlyDict, ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd.datasets._params import DwellDistribution, PilotEffect, odds_scale
from salesstd.errors import ParameterError
from salesstd.funnel import Funnel
from salesstd.log import EventLog

__all__ = ["SyntheticPipeline"]


def _frozen_map(values: Mapping[str, Any]) -> Mapping[str, Any]:
    return ReadOnlyDict(values)


@attrs.frozen(repr=False)
class SyntheticPipeline(ResultMixin):
    """A simulated pipeline: the event log and the true parameters that generated it.

    All per-stage mappings run over the open stages in funnel order. The "base" deal has rep
    multiplier 1 and is in the control group; `advance_probability`, `transition_matrix`
    and `win_probability` give the true values for any rep and group.

    Attributes:
        log: The events. Case ids ``D001``, ``D002``, ...; case attributes ``rep``,
            ``team``, ``amount`` and, with a pilot, ``group``.
        stages: Open stages in order.
        won: Name of the won outcome.
        lost: Name of the lost outcome.
        advance: Base advance probability of each stage.
        skip: Skip probability of each stage (0 where no skip is possible).
        backward: Backward-move probability of each stage (0 for the first).
        dwell: Dwell distribution of each stage (control group; see `dwell_distribution`).
        activity_rate: Non-stage activities per day in each stage.
        activity_mix: Share of each non-stage activity name; sums to 1.
        reps: Rep names, grouped by team.
        rep_team: Team of each rep, aligned with `reps`.
        rep_multiplier: Odds multiplier of each rep, aligned with `reps`.
        amount_median: Median deal amount.
        amount_sigma: Standard deviation of ``log(amount)``.
        pilot: The pilot effect, or None.
        start: Start of the creation period (UTC).
        as_of: End of the log and censoring time (UTC); no event is at or after it.
        n_deals: Number of deals (cases).
        seed: The seed.

    Examples:
        >>> sim = ss.datasets.synthetic_pipeline(50, seed=1)
        >>> sim.log.n_cases, sim.stages[0], sim.advance["Proposal"]
        (50, 'Lead', 0.6)
    """

    log: EventLog = attrs.field(eq=False)
    stages: tuple[str, ...]
    won: str
    lost: str
    advance: Mapping[str, float] = attrs.field(converter=_frozen_map)
    skip: Mapping[str, float] = attrs.field(converter=_frozen_map)
    backward: Mapping[str, float] = attrs.field(converter=_frozen_map)
    dwell: Mapping[str, DwellDistribution] = attrs.field(converter=_frozen_map)
    activity_rate: Mapping[str, float] = attrs.field(converter=_frozen_map)
    activity_mix: Mapping[str, float] = attrs.field(converter=_frozen_map)
    reps: tuple[str, ...]
    rep_team: tuple[str, ...]
    rep_multiplier: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    amount_median: float
    amount_sigma: float
    pilot: PilotEffect | None
    start: dt.datetime
    as_of: dt.datetime
    n_deals: int
    seed: int

    __hash__ = None  # type: ignore[assignment]

    @property
    def teams(self) -> tuple[str, ...]:
        """Team names in order."""
        return tuple(dict.fromkeys(self.rep_team))

    @property
    def funnel(self) -> Funnel:
        """The standard process the deals are meant to follow.

        ``Funnel.linear([*stages, won], won=won, lost=lost, activities=activity_mix)``:
        each open stage to the next, the last to won, every open stage to lost. Skips and
        backward moves are deviations from it, as in a real CRM; the non-stage activities
        (``Call``, ...) are declared as such.
        """
        return Funnel.linear(
            [*self.stages, self.won],
            won=self.won,
            lost=self.lost,
            activities=list(self.activity_mix),
        )

    @property
    def allowed_funnel(self) -> Funnel:
        """Every move the simulation can make: `funnel` plus its skips and backward moves.

        A skip edge ``s -> s+2`` is included where ``skip[s] > 0``, a backward edge
        ``s -> s-1`` where ``backward[s] > 0``; against this funnel no simulated deal breaks
        a transition rule.
        """
        stages = self.stages
        edges = [(a, b) for a, b in zip(stages, [*stages[1:], self.won], strict=True)]
        edges += [(s, self.lost) for s in stages]
        edges += [(s, stages[i + 2]) for i, s in enumerate(stages) if self.skip[s] > 0]
        edges += [(s, stages[i - 1]) for i, s in enumerate(stages) if self.backward[s] > 0]
        return Funnel.from_edges(
            edges,
            won=self.won,
            lost=self.lost,
            order=stages,
            activities=list(self.activity_mix),
        )

    def _rep_index(self, rep: str | None) -> float:
        if rep is None:
            return 1.0
        if rep not in self.reps:
            raise ParameterError(
                f"rep {rep!r} is not in the simulation ({v.listing(self.reps)})."
                + v.did_you_mean(rep, self.reps)
            )
        return float(self.rep_multiplier[self.reps.index(rep)])

    def advance_probability(
        self, stage: str, *, rep: str | None = None, pilot: bool = False
    ) -> float:
        """True probability that a deal leaving `stage`, not backwards, moves forward.

        Args:
            stage: An open stage.
            rep: A rep name; None for the base rep (multiplier 1).
            pilot: True for a deal in the pilot group.

        Returns:
            ``advance[stage]`` with its odds multiplied by the rep multiplier and, for a
            pilot deal in the pilot stage, by the pilot odds ratio.

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: If `rep` is unknown.

        Examples:
            >>> sim = ss.datasets.synthetic_pipeline(10, seed=0, rep_effect=0.0)
            >>> sim.advance_probability("Lead", rep=sim.reps[0])
            0.55
        """
        v.known_names("stage", [stage], self.stages)
        ratio = self._rep_index(rep)
        if pilot and self.pilot is not None and self.pilot.stage == stage:
            ratio *= self.pilot.advance_odds_ratio
        if ratio == 1.0:
            return self.advance[stage]
        p = np.array([self.advance[stage]])
        return float(odds_scale(p, np.array([ratio]))[0])

    def dwell_distribution(self, stage: str, *, pilot: bool = False) -> DwellDistribution:
        """True dwell distribution of `stage` for a control (or pilot) deal.

        Raises:
            UnknownStageError: If `stage` is not an open stage.
        """
        v.known_names("stage", [stage], self.stages)
        dist = self.dwell[stage]
        if pilot and self.pilot is not None and self.pilot.stage == stage:
            return dist.scaled(self.pilot.dwell_factor)
        return dist

    def transition_matrix(self, *, rep: str | None = None, pilot: bool = False) -> NDArray[Any]:
        """True one-move transition probabilities between states.

        States are ``[*stages, won, lost]``; row ``i`` gives the probabilities of the state
        a deal moves to when it leaves state ``i``. Won and lost are absorbing (a 1 on the
        diagonal).

        Args:
            rep: A rep name; None for the base rep.
            pilot: True for a deal in the pilot group.

        Returns:
            Float64 array of shape ``(len(stages) + 2, len(stages) + 2)``; rows sum to 1.

        Raises:
            ParameterError: If `rep` is unknown.
        """
        n = len(self.stages)
        a = np.array([self.advance_probability(s, rep=rep, pilot=pilot) for s in self.stages])
        b = np.array([self.backward[s] for s in self.stages])
        k = np.array([self.skip[s] for s in self.stages])
        m = np.zeros((n + 2, n + 2))
        idx = np.arange(n)
        m[idx[1:], idx[1:] - 1] = b[1:]
        forward = (1 - b) * a
        m[idx[:-1], idx[:-1] + 1] = forward[:-1] * (1 - k[:-1])
        m[idx[:-2], idx[:-2] + 2] = forward[:-2] * k[:-2]
        m[n - 1, n] = forward[-1]
        m[idx, n + 1] = (1 - b) * (1 - a)
        m[n, n] = m[n + 1, n + 1] = 1.0
        return m

    def win_probability(self, *, rep: str | None = None, pilot: bool = False) -> dict[str, float]:
        """True probability of ending won, from each open stage, ignoring censoring.

        The absorption probabilities of the chain in `transition_matrix`.

        Args:
            rep: A rep name; None for the base rep.
            pilot: True for a deal in the pilot group.

        Returns:
            Stage name to the probability that a deal entering it is eventually won.

        Raises:
            ParameterError: If `rep` is unknown.

        Examples:
            >>> sim = ss.datasets.synthetic_pipeline(
            ...     10, seed=0, advance=0.5, skip=0.0, backward=0.0)
            >>> sim.win_probability()["Negotiation"], sim.win_probability()["Proposal"]
            (0.5, 0.25)
        """
        m = self.transition_matrix(rep=rep, pilot=pilot)
        n = len(self.stages)
        q, r = m[:n, :n], m[:n, n:]
        absorbed = np.clip(np.linalg.solve(np.eye(n) - q, r), 0.0, 1.0)  # round-off only
        return {s: float(absorbed[i, 0]) for i, s in enumerate(self.stages)}

    # ----------------------------------------------------------------- result protocol

    def _table(self) -> Mapping[str, NDArray[Any]]:
        win = self.win_probability()
        dwell = [self.dwell[s] for s in self.stages]
        return {
            "stage": np.array(self.stages, dtype=object),
            "advance": np.array([self.advance[s] for s in self.stages]),
            "skip": np.array([self.skip[s] for s in self.stages]),
            "backward": np.array([self.backward[s] for s in self.stages]),
            "dwell_mean": np.array([d.mean for d in dwell]),
            "dwell_median": np.array([d.median for d in dwell]),
            "activity_rate": np.array([self.activity_rate[s] for s in self.stages]),
            "win_probability": np.array([win[s] for s in self.stages]),
        }

    def _params(self) -> Mapping[str, object]:
        pilot = None if self.pilot is None else attrs.asdict(self.pilot)
        return {
            "n_deals": self.n_deals,
            "seed": self.seed,
            "start": self.start,
            "as_of": self.as_of,
            "won": self.won,
            "lost": self.lost,
            "dwell_family": self.dwell[self.stages[0]].family,
            "dwell_shape": {s: self.dwell[s].shape for s in self.stages},
            "activity_mix": dict(self.activity_mix),
            "reps": list(self.reps),
            "rep_team": list(self.rep_team),
            "rep_multiplier": self.rep_multiplier,
            "amount_median": self.amount_median,
            "amount_sigma": self.amount_sigma,
            "pilot": pilot,
        }

    def _summary(self) -> Mapping[str, object]:
        log = self.log
        terminal = np.isin(
            log.activity_names[log.activity[log.offsets[1:] - 1]], [self.won, self.lost]
        )
        return {
            "deals": self.n_deals,
            "events": log.n_events,
            "open": int((~terminal).sum()),
            "as_of": self.as_of.date().isoformat(),
        }
