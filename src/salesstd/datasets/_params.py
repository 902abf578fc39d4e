"""Parameters of the synthetic pipeline: dwell distributions, the pilot effect, validation.

Private: `synthetic_pipeline` validates its arguments here, once, into a `Spec` of arrays.
"""

from __future__ import annotations

import datetime as dt
import math
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import lazy
from salesstd._base import timestamps as _time
from salesstd._base import validation as v
from salesstd.errors import ParameterError

__all__ = ["DwellDistribution", "PilotEffect"]

DwellFamily = Literal["gamma", "lognormal"]
TimeLike = str | dt.date | np.datetime64
PerStage = float | Mapping[str, float]

DEFAULT_STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation")
_DEFAULT_ADVANCE = {
    "Lead": 0.55,
    "Qualified": 0.7,
    "Discovery": 0.75,
    "Proposal": 0.6,
    "Negotiation": 0.7,
}
_DEFAULT_DWELL_MEAN = {
    "Lead": 5.0,
    "Qualified": 10.0,
    "Discovery": 14.0,
    "Proposal": 21.0,
    "Negotiation": 14.0,
}
_DEFAULT_ACTIVITY_RATE = {
    "Lead": 0.3,
    "Qualified": 0.25,
    "Discovery": 0.3,
    "Proposal": 0.2,
    "Negotiation": 0.35,
}
# For stages other than the defaults: one value for every stage.
_FALLBACK = {"advance": 0.7, "dwell_mean": 14.0, "activity_rate": 0.25}
_DEFAULT_SHAPE: Mapping[str, float] = {"gamma": 2.0, "lognormal": 0.75}
DEFAULT_MIX = types.MappingProxyType({"Call": 0.45, "Email": 0.35, "Meeting": 0.2})

S_PER_DAY = 86_400
NS_PER_S = 1_000_000_000

MAX_DEALS = 10_000_000
"""The most deals simulated: about 100 million events, past what fits in memory here."""
_MEMORY = "it sizes the simulation's arrays"
MAX_REPS = 100_000
"""The most reps (``n_teams * reps_per_team``): each gets a name and a multiplier."""
MAX_ACTIVITY_RATE = 100.0
"""The most non-stage activities per day in a stage: past it the Poisson counts, and the
log, outgrow memory long before they mean anything for a sales team."""
MAX_SHAPE = 1e6
"""The largest gamma dwell shape taken (a lognormal sigma is held to `MAX_LOG_SIGMA`: past
about 38 the scale that keeps the mean underflows to 0)."""
MAX_LOG_SIGMA = 10.0
"""The largest sigma of a log (`amount_sigma`, `rep_effect`, a lognormal dwell shape):
``exp(10 * 4)`` is already a factor of 10**17 around the median."""

# --------------------------------------------------------------------------- parameters


@attrs.frozen
class DwellDistribution:
    """How long a deal stays in one stage, in days, in scipy's (shape, scale) convention.

    ``gamma``: ``scipy.stats.gamma(a=shape, scale=scale)``; mean ``shape * scale``,
    coefficient of variation ``1 / sqrt(shape)``. ``lognormal``:
    ``scipy.stats.lognorm(s=shape, scale=scale)``, i.e. ``log(days)`` is normal with mean
    ``log(scale)`` and standard deviation ``shape``; the median is ``scale`` and the mean
    ``scale * exp(shape**2 / 2)``.

    Attributes:
        family: ``"gamma"`` or ``"lognormal"``.
        shape: Gamma shape ``a``, or the lognormal ``s`` (sigma of ``log(days)``).
        scale: Scale in days (gamma ``theta``; lognormal ``exp(mu)``, its median).

    Examples:
        >>> d = ss.datasets.DwellDistribution.from_mean("gamma", mean=10.0, shape=2.0)
        >>> d.scale, d.mean, round(d.median, 3)
        (5.0, 10.0, 8.392)
    """

    family: DwellFamily
    shape: float
    scale: float

    def __attrs_post_init__(self) -> None:
        _family(self.family)
        _positive("dwell shape", self.shape)
        _positive("dwell scale", self.scale)

    @classmethod
    def from_mean(cls, family: DwellFamily, *, mean: float, shape: float) -> DwellDistribution:
        """The distribution of the given family with the given mean (days) and shape.

        Args:
            family: ``"gamma"`` or ``"lognormal"``.
            mean: Mean dwell in days, > 0.
            shape: Gamma shape, or lognormal sigma, > 0.

        Returns:
            The distribution.

        Raises:
            ParameterError: If a value is out of range.
        """
        fam = _family(family)
        _positive("dwell mean", mean)
        _positive("dwell_shape", shape)
        if fam == "gamma":
            return cls("gamma", float(shape), float(mean) / float(shape))
        return cls("lognormal", float(shape), float(mean) * math.exp(-(float(shape) ** 2) / 2))

    @property
    def mean(self) -> float:
        """Mean dwell, days."""
        if self.family == "gamma":
            return self.shape * self.scale
        return self.scale * math.exp(self.shape**2 / 2)

    @property
    def median(self) -> float:
        """Median dwell, days."""
        if self.family == "gamma":
            return float(lazy.special.gammaincinv(self.shape, 0.5)) * self.scale
        return self.scale

    def scaled(self, factor: float) -> DwellDistribution:
        """The same family with every duration multiplied by `factor` (mean and median too)."""
        return DwellDistribution(self.family, self.shape, self.scale * factor)


@attrs.frozen
class PilotEffect:
    """A pilot group whose deals behave differently in one stage.

    Each deal independently joins the pilot with probability `share` (case attribute
    ``group`` = ``"pilot"``, else ``"control"``). In `stage`, a pilot deal's odds of
    advancing are multiplied by `advance_odds_ratio` and its dwell by `dwell_factor`; every
    other stage, and every control deal, is unaffected.

    Attributes:
        stage: The open stage the pilot changes.
        share: Probability that a deal is in the pilot, in (0, 1).
        advance_odds_ratio: Multiplier on the odds ``p / (1 - p)`` of advancing from
            `stage` (1 = no effect; 1.5 turns 0.6 into 0.692).
        dwell_factor: Multiplier on every dwell duration in `stage` (1 = no effect; 0.8 makes
            the mean and the median 20% shorter).

    Examples:
        >>> ss.datasets.PilotEffect("Proposal", advance_odds_ratio=1.5)
        PilotEffect(stage='Proposal', share=0.5, advance_odds_ratio=1.5, dwell_factor=1.0)
    """

    stage: str
    share: float = 0.5
    advance_odds_ratio: float = 1.0
    dwell_factor: float = 1.0

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.stage, str):
            raise ParameterError(f"pilot stage must be a stage name; got {self.stage!r}.")
        v.fraction("pilot share", self.share)
        _positive("pilot advance_odds_ratio", self.advance_odds_ratio)
        _positive("pilot dwell_factor", self.dwell_factor)


def _family(value: object) -> DwellFamily:
    return v.choice("dwell_family", value, ("gamma", "lognormal"))


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a finite number > 0; got {value!r}.", parameter=name)
    number = v.as_float(value)  # a 400-digit int is +inf, refused here
    if not math.isfinite(number) or number <= 0:
        raise ParameterError(
            f"{name} must be a finite number > 0; got {v.short(value)}.", parameter=name
        )
    return number


def odds_scale(p: NDArray[np.float64], ratio: NDArray[np.float64]) -> NDArray[np.float64]:
    """Probability after multiplying the odds of `p` by `ratio` (0 and 1 stay put)."""
    out: NDArray[np.float64] = ratio * p / (1.0 - p + ratio * p)
    return out


@attrs.frozen
class Spec:
    """Validated, array-shaped arguments of `synthetic_pipeline`."""

    n_deals: int
    stages: tuple[str, ...]
    won: str
    lost: str
    advance: NDArray[np.float64]
    skip: NDArray[np.float64]
    backward: NDArray[np.float64]
    dwell: tuple[DwellDistribution, ...]
    activity_rate: NDArray[np.float64]
    mix_names: tuple[str, ...]
    mix_p: NDArray[np.float64]
    reps: tuple[str, ...]
    rep_team: tuple[str, ...]
    amount_median: float
    amount_sigma: float
    pilot: PilotEffect | None
    pilot_stage: int
    start_s: int
    end_s: int

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    @classmethod
    def build(
        cls,
        *,
        n_deals: object,
        seed: object,
        stages: Sequence[str],
        won: str,
        lost: str,
        advance: PerStage | None,
        skip: PerStage,
        backward: PerStage,
        dwell_mean: PerStage | None,
        dwell_shape: PerStage | None,
        dwell_family: object,
        n_teams: object,
        reps_per_team: object,
        amount_median: object,
        amount_sigma: object,
        activity_rate: PerStage | None,
        activity_mix: Mapping[str, float],
        pilot: object,
        start: object,
        as_of: object,
    ) -> Spec:
        n = v.positive_int("n_deals", n_deals, limit=MAX_DEALS, unit="deals", why=_MEMORY)
        v.random_seed("seed", seed, optional=False)
        sequence = not (
            isinstance(stages, (str, bytes, Mapping))
            or not isinstance(stages, Iterable)
            or (isinstance(stages, np.ndarray) and stages.ndim != 1)
        )
        names = tuple(stages) if sequence else ()
        if not names:
            got = v.described(stages) if not sequence else "none"
            raise ParameterError(
                f"stages must be a non-empty sequence of stage names; got {got}. "
                "Pass e.g. stages=['Lead', 'Demo', 'Proposal'].",
                parameter="stages",
            )
        # Kept: the result's transition_matrix / win_probability build the dense chain.
        if len(names) > v.MAX_STAGES - 2:
            raise ParameterError(
                f"stages must name at most {v.MAX_STAGES - 2:,} stages (with won and lost, "
                f"{v.MAX_STAGES:,}, the most a Markov chain is built for); got {len(names):,}.",
                parameter="stages",
            )
        if not isinstance(activity_mix, Mapping):
            raise ParameterError(
                "activity_mix must map activity names to shares, e.g. {'Call': 0.6, "
                f"'Email': 0.4}}, or {{}} for none; got {v.described(activity_mix)}.",
                parameter="activity_mix",
            )
        mix_names = tuple(activity_mix)
        everything = [*names, won, lost, *mix_names]
        for name in everything:
            if not isinstance(name, str) or not name:
                raise ParameterError(f"stage and activity names must be strings; got {name!r}.")
        dupes = sorted({x for x in everything if everything.count(x) > 1})
        if dupes:
            raise ParameterError(
                f"stage, outcome and activity names must all differ; {dupes[0]!r} is used "
                "twice. Rename one (stages=, won=, lost=, activity_mix=)."
            )
        family = _family(dwell_family)
        s = len(names)
        is_default = names == DEFAULT_STAGES

        def per_stage(
            name: str, value: PerStage | None, fallback: float, defaults: Mapping[str, float]
        ) -> NDArray[np.float64]:
            base = [defaults[x] for x in names] if is_default else [fallback] * s
            return _per_stage(name, value, names, base)

        adv = per_stage("advance", advance, _FALLBACK["advance"], _DEFAULT_ADVANCE)
        _check_range("advance", adv, names, low=0.0, high=1.0, high_open=False)

        can_skip = np.arange(s) + 2 < s
        skp = _per_stage("skip", skip, names, [0.0] * s, fill=can_skip)
        _check_range("skip", skp, names, low=0.0, high=1.0, high_open=False)
        _check_impossible("skip", skp, names, can_skip, "has fewer than two stages after it")

        can_back = np.arange(s) > 0
        bwd = _per_stage("backward", backward, names, [0.0] * s, fill=can_back)
        _check_range("backward", bwd, names, low=0.0, high=1.0, high_open=True)
        _check_impossible("backward", bwd, names, can_back, "is the first stage")

        means = per_stage("dwell_mean", dwell_mean, _FALLBACK["dwell_mean"], _DEFAULT_DWELL_MEAN)
        _check_range("dwell_mean", means, names, low=0.0, high=v.MAX_DAYS, high_open=False)
        shape_default = _DEFAULT_SHAPE[family]
        shapes = _per_stage("dwell_shape", dwell_shape, names, [shape_default] * s)
        top = MAX_SHAPE if family == "gamma" else MAX_LOG_SIGMA  # exp(sigma**2 / 2) overflows
        _check_range("dwell_shape", shapes, names, low=0.0, high=top, high_open=False)
        dwell = tuple(
            DwellDistribution.from_mean(family, mean=float(m), shape=float(k))
            for m, k in zip(means, shapes, strict=True)
        )
        rate = per_stage(
            "activity_rate", activity_rate, _FALLBACK["activity_rate"], _DEFAULT_ACTIVITY_RATE
        )
        _check_range("activity_rate", rate, names, low=0.0, high=MAX_ACTIVITY_RATE, high_open=False)

        mix = np.array([_nonnegative(f"activity_mix[{k!r}]", x) for k, x in activity_mix.items()])
        if mix.size and mix.sum() <= 0:
            raise ParameterError("activity_mix shares must not all be 0; pass {} for none.")
        mix_p = mix / mix.sum() if mix.size else mix

        teams = v.positive_int("n_teams", n_teams)
        per_team = v.positive_int("reps_per_team", reps_per_team)
        if teams * per_team > MAX_REPS:  # (each factor is 1 or more: this bounds both)
            raise ParameterError(
                f"n_teams x reps_per_team must be at most {MAX_REPS:,} reps; got "
                f"{_count(teams)} x {_count(per_team)} = {_count(teams * per_team)}. Pass "
                f"fewer teams or reps: {_MEMORY}.",
                parameter="n_teams" if teams > per_team else "reps_per_team",
            )
        width = max(2, len(str(teams * per_team)))
        reps = tuple(f"rep-{i + 1:0{width}d}" for i in range(teams * per_team))
        rep_team = tuple(f"team-{i // per_team + 1}" for i in range(teams * per_team))

        pilot_stage = -1
        if pilot is not None:
            if not isinstance(pilot, PilotEffect):
                raise ParameterError(
                    f"pilot must be a PilotEffect or None; got {type(pilot).__name__}.",
                    parameter="pilot",
                )
            v.known_names("stage", [pilot.stage], names)
            pilot_stage = names.index(pilot.stage)

        start_s = _time.as_utc_ns(start, name="start") // NS_PER_S
        end_s = _time.as_utc_ns(as_of, name="as_of") // NS_PER_S
        if end_s <= start_s:
            raise ParameterError(
                f"as_of must be after start; got start={start!r}, as_of={as_of!r}.",
                parameter="as_of",
            )
        return cls(
            n_deals=n,
            stages=names,
            won=won,
            lost=lost,
            advance=adv,
            skip=skp,
            backward=bwd,
            dwell=dwell,
            activity_rate=rate,
            mix_names=mix_names,
            mix_p=mix_p,
            reps=reps,
            rep_team=rep_team,
            amount_median=v.positive_number("amount_median", amount_median, limit=v.MAX_NUMBER),
            amount_sigma=v.nonnegative_number("amount_sigma", amount_sigma, limit=MAX_LOG_SIGMA),
            pilot=pilot,
            pilot_stage=pilot_stage,
            start_s=int(start_s),
            end_s=int(end_s),
        )


def _count(n: int) -> str:
    """`n` with thousands separators, or cut short if it has hundreds of digits."""
    return f"{n:,}" if n < 10**30 else v.short(n)


def _nonnegative(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a finite number >= 0; got {value!r}.", parameter=name)
    number = v.as_float(value)  # a 400-digit int is +inf, refused here
    if not math.isfinite(number) or number < 0:
        raise ParameterError(
            f"{name} must be a finite number >= 0; got {v.short(value)}.", parameter=name
        )
    return number


def _per_stage(
    name: str,
    value: PerStage | None,
    stages: tuple[str, ...],
    defaults: list[float],
    *,
    fill: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """One float per stage from a number (for the stages in `fill`) or a partial mapping."""
    out = np.array(defaults, dtype=np.float64)
    if value is None:
        return out
    if isinstance(value, Mapping):
        v.known_names("stage", list(value), stages)
        for stage, x in value.items():
            out[stages.index(stage)] = _number(f"{name}[{stage!r}]", x)
        return out
    number = _number(name, value)
    if fill is None:
        out[:] = number
    else:
        out[fill] = number
    return out


def _number(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or v.as_float(value) != v.as_float(value)
    ):
        raise ParameterError(
            f"{name} must be a number, or a mapping from stage name to number; "
            f"got {v.short(value)}.",
            parameter=name,
        )
    return v.as_float(value)


def _check_range(
    name: str,
    values: NDArray[np.float64],
    stages: tuple[str, ...],
    *,
    low: float,
    high: float,
    high_open: bool,
) -> None:
    bad = (values < low) | ((values >= high) if high_open else (values > high))
    if bad.any():
        i = int(np.argmax(bad))
        bound = f"[{low:g}, {high:g})" if high_open else f"[{low:g}, {high:g}]"
        raise ParameterError(
            f"{name} for stage {stages[i]!r} must be in {bound}; got {values[i]:g}."
        )


def _check_impossible(
    name: str,
    values: NDArray[np.float64],
    stages: tuple[str, ...],
    possible: NDArray[np.bool_],
    why: str,
) -> None:
    bad = (values > 0) & ~possible
    if bad.any():
        i = int(np.argmax(bad))
        raise ParameterError(
            f"{name} for stage {stages[i]!r} must be 0: the stage {why}; got {values[i]:g}."
        )


def rep_multipliers(
    rep_effect: object, n_reps: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    if isinstance(rep_effect, (int, float)) and not isinstance(rep_effect, bool):
        sigma = v.nonnegative_number("rep_effect", rep_effect, limit=MAX_LOG_SIGMA)
        z = rng.normal(0.0, 1.0, n_reps) * sigma
        out: NDArray[np.float64] = np.exp(z - z.mean())
        return out
    if isinstance(rep_effect, Sequence) and not isinstance(rep_effect, str):
        given = [_positive(f"rep_effect[{i}]", x) for i, x in enumerate(rep_effect)]
        if len(given) != n_reps:
            raise ParameterError(
                f"rep_effect gives {len(given)} multipliers for {n_reps} reps "
                "(n_teams * reps_per_team); give one per rep, or a float spread.",
                parameter="rep_effect",
            )
        return np.array(given, dtype=np.float64)
    raise ParameterError(
        f"rep_effect must be a float (spread of log multipliers) or one multiplier per rep; "
        f"got {rep_effect!r}.",
        parameter="rep_effect",
    )
