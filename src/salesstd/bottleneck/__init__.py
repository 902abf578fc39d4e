"""Bottlenecks: a ranked, explained list of where the process loses the most.

`bottlenecks` looks at every open stage through four lenses and turns each into an impact
figure with an interval:

1. **conversion** - the stage's step rate falls short of a benchmark; impact in extra wins
   per period.
2. **dwell** - deals stay longer in the stage than a benchmark; impact in days of cycle
   time per deal that passes the stage.
3. **wip** - work piles up in the stage: its work in progress grows; impact in deals per
   period.
4. **leverage** - how much the overall win probability moves with the stage's rate
   (an elasticity), for deciding where effort pays most.

Two descriptive lenses compare with no benchmark and claim no improvement, so a report on a
funnel that loses deals is never empty even when the reps do not differ:

5. **losses** - the share of the stage's resolved entries that were lost there.
6. **time** - the median stay in the stage (Kaplan-Meier, open stays censored).

Everything starts from the same stage episodes as the funnel metrics
(`salesstd.metrics.conversion`, `time_in_stage`, `wip`, `throughput`), so skips, open deals
and re-entries mean the same here; the lenses count from the episodes once instead of
calling those functions (the tests hold them to the same numbers).

A benchmark taken from the best groups (the top quartile of reps) is corrected for noise:
the groups' rates or median dwells are shrunk toward the population before the quartile is
taken, so that when the groups do not really differ there is no shortfall, and the
benchmark's own uncertainty is carried into the impact interval, so that a finding whose
interval includes zero never outranks one whose interval excludes it.
"""

from __future__ import annotations

from salesstd.bottleneck._bottlenecks import bottlenecks
from salesstd.bottleneck._report import BottleneckReport, Finding

__all__ = ["BottleneckReport", "Finding", "bottlenecks"]
