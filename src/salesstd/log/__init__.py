"""EventLog: the immutable, columnar log of events that every analysis reads.

A log holds one row per event: the case (a deal) it belongs to, the activity (a stage name or
any other logged activity) and the time, plus optional event attributes (rep, amount, ...) and
case attributes (one value per case: segment, team, ...). Inside, cases and activities are
dictionary-encoded as int32 codes, times are int64 nanoseconds UTC viewed as ``datetime64[ns]``,
and events are sorted by (case, time) with per-case offsets, so case ``k`` is the slice
``offsets[k]:offsets[k + 1]``. Equal timestamps within a case keep input order (a stable sort)
unless an order column is given.
"""

from __future__ import annotations

from salesstd.log._arrow import Coded as Coded  # internal: not in __all__ (the readers')
from salesstd.log._arrow import Parsed as Parsed  # internal
from salesstd.log._arrow import parse_times as parse_times  # internal
from salesstd.log._build import ColumnOptions as ColumnOptions  # internal
from salesstd.log._build import column_options as column_options  # internal
from salesstd.log._build import from_columns as from_columns  # internal: not in __all__
from salesstd.log._eventlog import EventLog

__all__ = [
    "EventLog",
]
