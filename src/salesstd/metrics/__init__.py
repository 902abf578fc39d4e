"""Funnel metrics: conversion, time in stage, cycle time, flow and data quality.

Every metric starts from the log's *stage episodes* (each stay of a case in a stage), and
recently built episodes are cached: a report that asks for conversion, dwell, flow and the
Markov chain of one log cuts it into episodes once. A hit is keyed by the identity of the
log's event arrays, the funnel and the options, so it is always the answer a fresh build
would give.

Thread safety: logs, funnels, standards and results are immutable and may be shared between
threads freely. The episode cache is the only shared mutable state; every read and change of
it is made under a lock, so the metrics may be called from several threads at once and
return exactly what the same calls return one after another (two threads asking for the
same new episodes may both build them; both get the one stored first). The cache holds a
few recent entries and releases a log's episodes when the log is garbage-collected, so
deleting a large log frees its memory.
"""

from __future__ import annotations

from salesstd.metrics.conversion import (
    ConversionCurves,
    ConversionResult,
    IncidenceCurve,
    IncidencePoint,
    StageConversion,
    conversion,
    conversion_curves,
)
from salesstd.metrics.flow import (
    LittlesLawResult,
    PipelineResult,
    PipelineStage,
    PipelineTotal,
    StageFlow,
    StageThroughput,
    StageWip,
    StuckResult,
    StuckStage,
    ThroughputResult,
    Velocity,
    VelocityResult,
    WipResult,
    littles_law,
    stuck,
    throughput,
    velocity,
    weighted_pipeline,
    wip,
)
from salesstd.metrics.quality import DataQualityResult, data_quality
from salesstd.metrics.timing import (
    CycleTime,
    CycleTimeResult,
    DwellTable,
    StageDwell,
    TimeInStageResult,
    cycle_time,
    time_in_stage,
)

__all__ = [
    "ConversionCurves",
    "ConversionResult",
    "CycleTime",
    "CycleTimeResult",
    "DataQualityResult",
    "DwellTable",
    "IncidenceCurve",
    "IncidencePoint",
    "LittlesLawResult",
    "PipelineResult",
    "PipelineStage",
    "PipelineTotal",
    "StageConversion",
    "StageDwell",
    "StageFlow",
    "StageThroughput",
    "StageWip",
    "StuckResult",
    "StuckStage",
    "ThroughputResult",
    "TimeInStageResult",
    "Velocity",
    "VelocityResult",
    "WipResult",
    "conversion",
    "conversion_curves",
    "cycle_time",
    "data_quality",
    "littles_law",
    "stuck",
    "throughput",
    "time_in_stage",
    "velocity",
    "weighted_pipeline",
    "wip",
]
