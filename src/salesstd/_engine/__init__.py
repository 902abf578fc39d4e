"""The engine every analysis stands on (private): stage episodes and the counts over them.

`salesstd._engine.episodes` turns an `EventLog` read through a `Funnel` into stage
episodes (one row per stay, with implied passes, corrections and the name checks), cached
per log and funnel. `grouping` splits cases by an attribute and time into periods,
`counts` holds the counting kernels of a funnel step, `chain` the absorbing-chain algebra,
`vocabulary` the check of a funnel's names against a log. Metrics, Markov, forecasts,
bottlenecks, conformance, scoring and learned standards all import from here; the engine
imports only `salesstd._base`, `salesstd.log`, `salesstd.funnel` and `salesstd.stats`.
"""
