"""Scorecards: reps, teams or segments measured on the KPIs of a standard.

`scorecard` scores every entity (a value of a case attribute such as ``rep``) on each KPI of
a `Standard`: its value, the target, the signed gap, the attainment, a band (below, meets,
exceeds), an interval and the sample behind it, then a weighted composite and a rank.
Proportions are shrunk towards the population by empirical Bayes so that a rep with 2 of 2
deals won does not outrank one with 60 of 80. Attainments are bounded (``[0, 1.5]`` by
default), dwell KPIs set aside stays of seconds (a rep clicking through stages) and an
unshrunk estimate on fewer than `min_sample` observations is shown but not scored, so no
single KPI and no handful of deals decides a rank. `ramp` follows new reps from their first deal
until their rolling KPI first meets the standard, and compares start cohorts.

Every figure comes from the landed metrics (`conversion`, `cycle_time`, `time_in_stage`,
`velocity`) or from the stage episodes they share, so stages, skips and censoring mean the
same here as everywhere else.
"""

from __future__ import annotations

from salesstd.scoring._results import EntityScore, KpiScore, RampCohort, RampResult, ScorecardResult
from salesstd.scoring._scorecard import ramp, scorecard

__all__ = [
    "EntityScore",
    "KpiScore",
    "RampCohort",
    "RampResult",
    "ScorecardResult",
    "ramp",
    "scorecard",
]
