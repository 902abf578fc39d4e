"""salesstd: sales-process standardization primitives.

Define a standard sales process as a funnel, check deals against it, find where it loses deals
or time, and score reps and teams on it, from a CRM event log.
"""

from __future__ import annotations

from salesstd import datasets
from salesstd._version import __version__
from salesstd.errors import (
    DroppedEventsWarning,
    FunnelError,
    InvalidLogError,
    MissingDependencyError,
    ParameterError,
    SalesStdError,
    SalesStdWarning,
    SmallSampleWarning,
    UnknownStageError,
)
from salesstd.funnel import Funnel, Stage
from salesstd.io import read_csv, read_parquet, read_xes
from salesstd.log import EventLog
from salesstd.transitions import TransitionsResult, TransitionStats, transitions

__all__ = [
    "DroppedEventsWarning",
    "EventLog",
    "Funnel",
    "FunnelError",
    "InvalidLogError",
    "MissingDependencyError",
    "ParameterError",
    "SalesStdError",
    "SalesStdWarning",
    "SmallSampleWarning",
    "Stage",
    "TransitionStats",
    "TransitionsResult",
    "UnknownStageError",
    "__version__",
    "datasets",
    "read_csv",
    "read_parquet",
    "read_xes",
    "transitions",
]
