"""The tiny fixed log, funnel and standard that the fuzz tests throw options at.

Import as ``from _fixtures import FUNNEL, LOG, STANDARD`` (``tests/conftest.py`` puts this
folder on ``sys.path``). Four deals: won, lost, won after skipping ``qualified``, and open;
two reps and an amount per deal.
"""

from __future__ import annotations

import numpy as np

import salesstd as ss

FUNNEL = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
LOG = ss.EventLog.from_arrays(
    case=["d1", "d1", "d1", "d2", "d2", "d2", "d3", "d3", "d4"],
    activity=["lead", "qualified", "won", "lead", "qualified", "lost", "lead", "won", "lead"],
    time=np.array(
        [
            "2024-01-01",
            "2024-01-04",
            "2024-01-09",
            "2024-01-02",
            "2024-01-05",
            "2024-01-20",
            "2024-01-03",
            "2024-02-01",
            "2024-01-10",
        ],
        dtype="datetime64[ns]",
    ),
    case_attributes={
        "rep": ["a", "a", "a", "b", "b", "b", "a", "a", "b"],
        "amount": [10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 5.0, 5.0, 8.0],
    },
)
STANDARD = ss.Standard.from_dict(
    {
        "funnel": {"stages": ["lead", "qualified"], "won": "won", "lost": "lost"},
        "rules": {"max_dwell_days": {"lead": 5}, "first_response_days": 2},
        "kpis": [{"name": "win", "metric": "win_rate", "target": 0.4}],
    }
)
