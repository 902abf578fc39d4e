"""Standard: the declared sales process, its operating rules and the KPI targets.

A `Standard` is what a sales organisation agrees its deals should look like:

* the **process**, a `Funnel`: the open stages in order, the outcomes and the moves allowed
  between them;
* the **operating rules**, `Rules`: stages no deal may skip, whether backward moves are
  allowed, the longest allowed stay per stage (an SLA), how soon after a deal appears the
  first activity must happen, activities required in a stage before leaving it, and no
  events after a deal is closed;
* the **performance targets**, a tuple of `KPI`: a metric, its target, which side of it is
  better, a tolerance band and a weight.

``Standard(funnel=f)`` alone is a valid standard: only the funnel's allowed transitions.
A standard is a frozen value: compare it, hash it, change it with
``attrs.evolve(std, name="FY25")``. It is written and read as a dict, JSON or TOML (see
`Standard.from_dict` for the format and `example_standard_path` for a complete commented
file), or learned from last year's deals with `Standard.from_log`.

Errors: a bad definition raises `ParameterError` (a bad key or value), `UnknownStageError`
(a stage or activity the funnel lacks) or `FunnelError` (an inconsistent funnel). Each
message starts with the key path (``rules.max_dwell_days.Lead``, ``kpis[2].target``); read
from a file, it starts with the file name (``standard.toml: kpis[2].target ...``).
"""

from __future__ import annotations

from salesstd.standard._rules import METRICS as METRICS  # internal: not in __all__
from salesstd.standard._rules import RATE_METRICS as RATE_METRICS  # internal: not in __all__
from salesstd.standard._rules import STAGE_METRICS as STAGE_METRICS  # internal: not in __all__
from salesstd.standard._standard import KPI, Rules, Standard, example_standard_path

__all__ = [
    "KPI",
    "Rules",
    "Standard",
    "example_standard_path",
]
