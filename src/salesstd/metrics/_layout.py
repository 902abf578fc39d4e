"""Helpers shared by the flow metrics: read-only result fields, row layout, calendar periods."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd.errors import ParameterError


class Layout:
    """Lookup of a row in a regular (group, [period,] stage) layout; see the result classes."""

    by: str | None
    groups: tuple[object, ...]
    stages: tuple[str, ...]

    def _group_index(self, group: object) -> int:
        if self.by is None:
            if group is not None:
                raise ParameterError(
                    f"group={group!r} was given but the result is not grouped; "
                    "compute it with by=<case attribute> to look up a group.",
                    parameter="group",
                )
            return 0
        v.one_value("group", group, kind="group label", many="Look up one group at a time.")
        for i, label in enumerate(self.groups):
            if label == group and isinstance(label, bool) == isinstance(group, bool):
                return i
        raise ParameterError(
            f"group {group!r} is not a value of {self.by!r} in the result "
            f"({v.listing(repr(g) for g in self.groups)}).{v.did_you_mean(group, self.groups)}"
        )

    def _stage_index(self, stage: str) -> int:
        v.known_names("stage", [stage], self.stages)
        return self.stages.index(stage)

    def _by_column(self, group: NDArray[np.object_]) -> dict[str, NDArray[Any]]:
        return {} if self.by is None else {self.by: group}


def layout_rows(
    n_groups: int, n_periods: int, n_stages: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Group, period and stage index of each row, group-major, then period, then stage."""
    g = np.repeat(np.arange(n_groups), n_periods * n_stages)
    p = np.tile(np.repeat(np.arange(n_periods), n_stages), n_groups)
    s = np.tile(np.arange(n_stages), n_groups * n_periods)
    return g, p, s


def period_index(periods: tuple[str, ...], period: str | None) -> int:
    """Index of a period label (its first day, ISO); None for the last period.

    Raises:
        ParameterError: If the label is not one of `periods` (or is several).
    """
    if period is None:
        return len(periods) - 1
    v.one_value("period", period, kind="period label (an ISO date)")
    if period in periods:
        return periods.index(period)
    raise ParameterError(
        f"period {period!r} is not in the result ({v.listing(periods)}); pass the ISO date "
        f"of a period's first day.{v.did_you_mean(period, periods)}"
    )
