"""Result classes of `salesstd.forecast`; public through that module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as eq
from salesstd._base.results import frozen_array as readonly
from salesstd._base.timestamps import as_utc_ns, to_datetime
from salesstd.errors import ParameterError

__all__ = [
    "BacktestResult",
    "BacktestRow",
    "ForecastResult",
    "Model",
    "StageForecast",
    "Uncertainty",
]

Uncertainty = Literal["parameters", "process", "drift"]
Model = Literal["renewal", "markov"]


@attrs.frozen
class StageForecast:
    """The forecast for the deals open in one stage at `as_of`.

    Attributes:
        stage: The open stage.
        open_deals: Deals in the stage at `as_of`.
        expected_wins: Expected number of them won within the horizon.
        win_probability: Model probability that a deal in the stage is ever won (ignoring
            its age and the horizon).
        weighted_pipeline: ``open_deals x win_probability``: the naive forecast.
        expected_value: Expected won value within the horizon (NaN without `value`).
        drift: Between-period overdispersion ``rho`` of the stage's exit shares (0: they
            varied no more than chance; see `forecast`).
        drift_periods: Horizon-long periods before `as_of` with exits from the stage;
            below 2, `drift` is 0 for want of history.
    """

    stage: str
    open_deals: int
    expected_wins: float
    win_probability: float
    weighted_pipeline: float
    expected_value: float
    drift: float
    drift_periods: int


@attrs.frozen(repr=False)
class ForecastResult(ResultMixin):
    """Expected wins and won value of the open pipeline within a horizon; see `forecast`.

    Per-stage arrays run over the open stages in funnel order.

    Attributes:
        stages: The open stages, in funnel order.
        open_deals: Per stage: deals open in it at `as_of`.
        expected_wins: Per stage: expected wins within the horizon (mean over simulations).
        win_probability: Per stage: the model's probability of ever being won from it.
        weighted_pipeline: Per stage: ``open_deals x win_probability``.
        expected_value: Per stage: expected won value within the horizon (NaN without
            `value`).
        drift: Per stage: between-period overdispersion ``rho`` of its exit shares, the
            share of their variance that is period-to-period drift rather than chance
            (estimated whatever `uncertainty`; used by ``uncertainty="drift"``).
        drift_periods: Per stage: horizon-long periods before `as_of` with exits from it;
            with fewer than 2, `drift` is 0 (no history to see drift in).
        cases: Case id of each open deal.
        deal_stage: Stage of each open deal at `as_of`.
        deal_age_days: Days each open deal had spent in its stage at `as_of`.
        deal_probability: Per open deal: share of simulations in which it was won within
            the horizon.
        simulated_wins: Total wins within the horizon in each simulation.
        simulated_value: Total won value in each simulation (empty without `value`).
        as_of: The forecast time, UTC.
        horizon_days: The horizon, days.
        value_attribute: The case attribute summed as won value, or None.
        n: Number of simulations.
        seed: The seed used, or None.
        confidence_level: Coverage of the intervals.
        model: ``"renewal"`` or ``"markov"`` (see `forecast`).
        uncertainty: ``"parameters"``, ``"process"`` or ``"drift"`` (see `forecast`).
        history_days: The fitting window, days, or None for the whole log before `as_of`.
    """

    stages: tuple[str, ...]
    open_deals: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    expected_wins: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    win_probability: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    weighted_pipeline: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    expected_value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    drift: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    drift_periods: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    cases: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    deal_stage: NDArray[np.object_] = attrs.field(converter=readonly, eq=eq)
    deal_age_days: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    deal_probability: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    simulated_wins: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    simulated_value: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    as_of: np.datetime64
    horizon_days: float
    value_attribute: str | None
    n: int
    seed: int | None
    confidence_level: float
    model: Model
    uncertainty: Uncertainty
    history_days: float | None = None

    @property
    def wins(self) -> float:
        """Expected wins within the horizon, all open deals together."""
        return float(self.simulated_wins.mean())

    @property
    def wins_interval(self) -> stats.Interval:
        """Central interval of the simulated total wins (`confidence_level` quantiles)."""
        low, high = _quantiles(self.simulated_wins, self.confidence_level)
        return stats.Interval(low, high, self.confidence_level, "monte carlo")

    @property
    def won_value(self) -> float:
        """Expected won value within the horizon (NaN without `value`)."""
        return float(self.simulated_value.mean()) if self.simulated_value.size else np.nan

    @property
    def value_interval(self) -> stats.Interval:
        """Central interval of the simulated won value (NaN bounds without `value`)."""
        if not self.simulated_value.size:
            return stats.Interval(np.nan, np.nan, self.confidence_level, "monte carlo")
        low, high = _quantiles(self.simulated_value, self.confidence_level)
        return stats.Interval(low, high, self.confidence_level, "monte carlo")

    @property
    def naive(self) -> float:
        """The naive weighted pipeline: sum over open deals of P(win | stage).

        A stage whose win probability is undefined (it was never left in the data) adds 0.
        """
        return float(np.nansum(self.weighted_pipeline))

    @property
    def n_open(self) -> int:
        """Open deals at `as_of`."""
        return int(self.open_deals.sum())

    def at(self, stage: str) -> StageForecast:
        """The forecast for the deals open in one stage.

        Raises:
            UnknownStageError: If `stage` is not an open stage (with "Did you mean").
        """
        s = v.result_stage(stage, self.stages)
        return StageForecast(
            stage=stage,
            open_deals=int(self.open_deals[s]),
            expected_wins=float(self.expected_wins[s]),
            win_probability=float(self.win_probability[s]),
            weighted_pipeline=float(self.weighted_pipeline[s]),
            expected_value=float(self.expected_value[s]),
            drift=float(self.drift[s]),
            drift_periods=int(self.drift_periods[s]),
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "stage": objects(self.stages),
            "open_deals": self.open_deals,
            "expected_wins": self.expected_wins,
            "win_probability": self.win_probability,
            "weighted_pipeline": self.weighted_pipeline,
            "expected_value": self.expected_value,
            "drift": self.drift,
            "drift_periods": self.drift_periods,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "as_of": self.as_of,
            "horizon_days": self.horizon_days,
            "value": self.value_attribute,
            "n": self.n,
            "seed": self.seed,
            "confidence_level": self.confidence_level,
            "model": self.model,
            "uncertainty": self.uncertainty,
            "history_days": self.history_days,
        }

    def _summary(self) -> Mapping[str, object]:
        interval = self.wins_interval
        out: dict[str, object] = {
            "open_deals": self.n_open,
            "horizon_days": self.horizon_days,
            "wins": round(self.wins, 2),
            "low": interval.low,
            "high": interval.high,
            "weighted_pipeline": round(self.naive, 2),
        }
        if self.value_attribute is not None:
            out["won_value"] = round(self.won_value, 2)
        return out


@attrs.frozen
class BacktestRow:
    """One cutoff of a backtest: the forecast made then and what happened.

    Attributes:
        cutoff: The forecast time, UTC.
        open_deals: Deals open at the cutoff.
        forecast: Expected wins within the horizon.
        low: Lower end of the forecast interval.
        high: Upper end of the forecast interval.
        actual: Deals open at the cutoff that were won within (cutoff, cutoff + horizon].
        inside: ``low <= actual <= high``.
        weighted_pipeline: The naive weighted pipeline at the cutoff.
    """

    cutoff: dt.datetime
    open_deals: int
    forecast: float
    low: float
    high: float
    actual: int
    inside: bool
    weighted_pipeline: float


@attrs.frozen(repr=False)
class BacktestResult(ResultMixin):
    """Forecasts at past cutoffs next to what happened; see `backtest_forecast`.

    One row per cutoff, in the order given.

    Attributes:
        cutoff: Forecast times (datetime64[ns], UTC).
        open_deals: Deals open at each cutoff.
        forecast: Expected wins within the horizon.
        low: Lower end of each forecast interval.
        high: Upper end of each forecast interval.
        actual: Open deals won within (cutoff, cutoff + horizon].
        inside: ``low <= actual <= high``.
        weighted_pipeline: The naive weighted pipeline at each cutoff.
        horizon_days: The horizon, days.
        n: Simulations per forecast.
        seed: The seed used, or None.
        confidence_level: Coverage of the intervals.
        model: ``"renewal"`` or ``"markov"`` (see `forecast`).
        uncertainty: ``"parameters"``, ``"process"`` or ``"drift"`` (see `forecast`).
        history_days: The fitting window, days, or None for the whole log before `as_of`.
    """

    cutoff: NDArray[np.datetime64] = attrs.field(converter=readonly, eq=eq)
    open_deals: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    forecast: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    low: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    high: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    actual: NDArray[np.int64] = attrs.field(converter=readonly, eq=eq)
    inside: NDArray[np.bool_] = attrs.field(converter=readonly, eq=eq)
    weighted_pipeline: NDArray[np.float64] = attrs.field(converter=readonly, eq=eq)
    horizon_days: float
    n: int
    seed: int | None
    confidence_level: float
    model: Model
    uncertainty: Uncertainty
    history_days: float | None = None

    @property
    def coverage(self) -> float:
        """Share of cutoffs whose actual wins fell inside the forecast interval."""
        return float(self.inside.mean()) if self.inside.size else np.nan

    def at(self, cutoff: object) -> BacktestRow:
        """The row of one cutoff.

        Raises:
            ParameterError: If `cutoff` is not one of the cutoffs.
        """
        ns = as_utc_ns(cutoff, name="cutoff")
        hits = np.flatnonzero(self.cutoff.view(np.int64) == ns)
        if not hits.size:
            raise ParameterError(
                f"cutoff {cutoff!r} is not in the backtest "
                f"({v.listing(str(c)[:19] for c in self.cutoff)})."
            )
        i = int(hits[0])
        return BacktestRow(
            cutoff=to_datetime(int(self.cutoff.view(np.int64)[i])),
            open_deals=int(self.open_deals[i]),
            forecast=float(self.forecast[i]),
            low=float(self.low[i]),
            high=float(self.high[i]),
            actual=int(self.actual[i]),
            inside=bool(self.inside[i]),
            weighted_pipeline=float(self.weighted_pipeline[i]),
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "cutoff": self.cutoff,
            "open_deals": self.open_deals,
            "forecast": self.forecast,
            "low": self.low,
            "high": self.high,
            "actual": self.actual,
            "inside": self.inside,
            "weighted_pipeline": self.weighted_pipeline,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "horizon_days": self.horizon_days,
            "n": self.n,
            "seed": self.seed,
            "confidence_level": self.confidence_level,
            "model": self.model,
            "uncertainty": self.uncertainty,
            "history_days": self.history_days,
        }

    def _summary(self) -> Mapping[str, object]:
        return {
            "cutoffs": int(self.cutoff.size),
            "horizon_days": self.horizon_days,
            "inside": int(self.inside.sum()),
        }


def _quantiles(values: NDArray[Any], level: float) -> tuple[float, float]:
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
