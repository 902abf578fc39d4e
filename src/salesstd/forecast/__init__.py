"""Forecast the open pipeline: wins and won value within a horizon, and backtests of it.

`forecast` answers "how many of the deals open today will we win in the next 30 days, and
for how much?". It fits the stays in the funnel's open stages on the log up to `as_of` (a
Kaplan-Meier curve of the stay in each open stage and the moves out of it, as
`salesstd.markov.MarkovFunnel` estimates them) and simulates every open deal forward from
where it stands: its current stage and how long it has already been there. By default the
exit from a stage is drawn together with the length of the stay (a Markov renewal
process); ``model="markov"`` draws it from the transition probabilities alone (the
semi-Markov model of `MarkovFunnel`). `backtest_forecast` repeats the forecast at past
cutoffs, using only what was known then, and counts what happened next.

The simulation is vectorised over deals x simulations (in batches); Python loops run over
parameter draws, batches, jump steps and stages only.
"""

from __future__ import annotations

from salesstd.forecast._forecast import backtest_forecast, forecast
from salesstd.forecast._results import BacktestResult, BacktestRow, ForecastResult, StageForecast

__all__ = [
    "BacktestResult",
    "BacktestRow",
    "ForecastResult",
    "StageForecast",
    "backtest_forecast",
    "forecast",
]
