"""Flow metrics: work in progress, throughput, Little's law, velocity, stuck deals, pipeline.

Everything here reads the stage episodes of `build_episodes` (one row per stay of a case in a
stage). The open-stage episodes are the work in progress: a deal is *in* a stage from the
moment it enters it until the moment it leaves, and a deal still there at `as_of` stays in it
up to and including `as_of` (it is censored there, not lost).

The window of every calendar breakdown runs from the log's first event (of any activity) to
`as_of` (the log's last event by default), cut into calendar periods (day, ISO week starting
on Monday, month, quarter, year). A period *ends* at its last instant, or at `as_of` for the
period that holds it; the stock at a period end and the flows in the period then satisfy
``wip[end of p] = wip[end of p - 1] + entries[p] - exits[p]`` exactly.

All passes are vectorised over the episodes (bincounts over group x period x stage keys);
Python loops run over stages, groups or periods only.

* `wip` — deals in each open stage at the end of each period;
* `throughput` — entries into and exits out of each stage per period, exits split by where
  they went (advanced, lost, moved back);
* `littles_law` — average WIP, arrival rate and the time in stage they imply (``L / lambda``)
  next to a Kaplan-Meier mean stay;
* `velocity` — opportunities x win rate x average won value / sales cycle, each input shown;
* `stuck` — open deals in their stage for longer than the stage's threshold;
* `weighted_pipeline` — the open pipeline's value per stage, weighted by win probability,
  and its coverage of a target.
"""

from __future__ import annotations

from salesstd.metrics._flow_stock import (
    LittlesLawResult,
    StageFlow,
    StageThroughput,
    StageWip,
    ThroughputResult,
    WipResult,
    littles_law,
    throughput,
    wip,
)
from salesstd.metrics._pipeline import (
    PipelineResult,
    PipelineStage,
    PipelineTotal,
    weighted_pipeline,
)
from salesstd.metrics._stuck import StuckResult, StuckStage, stuck
from salesstd.metrics._velocity import Velocity, VelocityResult, velocity

__all__ = [
    "LittlesLawResult",
    "PipelineResult",
    "PipelineStage",
    "PipelineTotal",
    "StageFlow",
    "StageThroughput",
    "StageWip",
    "StuckResult",
    "StuckStage",
    "ThroughputResult",
    "Velocity",
    "VelocityResult",
    "WipResult",
    "littles_law",
    "stuck",
    "throughput",
    "velocity",
    "weighted_pipeline",
    "wip",
]
