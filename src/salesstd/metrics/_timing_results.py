"""Result classes of `salesstd.metrics.timing` (re-exported there; see that module)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.frames import FrameBackend, make_frame
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd._engine.episodes import Skips

__all__ = [
    "CycleTime",
    "CycleTimeResult",
    "DwellTable",
    "StageDwell",
    "TimeInStageResult",
]

Entries = Literal["first", "every"]


def _group_index(by: str | None, group: object, labels: tuple[object, ...]) -> int:
    if by is None:
        if group is not None:
            raise v.not_split("group", group, "by")
        return 0
    return v.result_label(by, group, labels, fix=f"pass group= one of the values of {by!r}")


# --------------------------------------------------------------------- time in stage


@attrs.frozen
class StageDwell:
    """Time in one open stage (in one group): one row of a `TimeInStageResult`.

    Durations are in days; NaN marks a value the data cannot give (no stays, or a survival
    curve that never falls to the level during follow-up).

    Attributes:
        stage: The open stage.
        n: Stays counted (first stays or every stay, per `entries`).
        exits: Stays that ended by `as_of` (the case moved to another stage or an outcome).
        censored: Stays still running at `as_of`.
        median_days: Kaplan-Meier median dwell.
        median_low_days: Lower end of the Brookmeyer-Crowley interval of the median.
        median_high_days: Upper end of that interval (NaN: open above).
        q25_days: Kaplan-Meier first quartile (a quarter of stays have ended by then).
        q25_low_days: Lower end of its interval.
        q25_high_days: Upper end of its interval.
        q75_days: Kaplan-Meier third quartile.
        q75_low_days: Lower end of its interval.
        q75_high_days: Upper end of its interval.
        rmst_days: Restricted mean dwell: expected days in the stage within `horizon_days`.
        rmst_se_days: Standard error of `rmst_days`.
        horizon_days: The horizon of `rmst_days`.
        naive_median_days: Median over the exited stays only, ignoring the censored ones:
            biased short, shown for comparison only.
        group: The group's label (None when not grouped or for a missing value).
    """

    stage: str
    n: int
    exits: int
    censored: int
    median_days: float
    median_low_days: float
    median_high_days: float
    q25_days: float
    q25_low_days: float
    q25_high_days: float
    q75_days: float
    q75_low_days: float
    q75_high_days: float
    rmst_days: float
    rmst_se_days: float
    horizon_days: float
    naive_median_days: float
    group: object = None


@attrs.frozen(repr=False)
class DwellTable(ResultMixin):
    """One row per stay of a case in an open stage; see `TimeInStageResult.per_case`.

    Rows are in case order, then time order within a case.

    Attributes:
        case: The case id of each stay (the log's id, as given).
        stage: The open stage.
        entered: When the stay began, ``datetime64[ns]`` UTC.
        days: Length of the stay in days; for a censored stay, the days up to `as_of`.
        censored: True for a stay still running at `as_of`.
        entry: 0 for the case's first recorded stay in the stage, 1 for its second, ...
            (stays passed by a skip are not recorded stays).
        group: The `by` value of the case (all None when not grouped).
        by: The case attribute grouped by, or None.
    """

    case: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    stage: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    entered: NDArray[np.datetime64] = attrs.field(converter=_ro, eq=_eq)
    days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    censored: NDArray[np.bool_] = attrs.field(converter=_ro, eq=_eq)
    entry: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    group: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    by: str | None

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_rows(self) -> int:
        """Number of stays."""
        return int(self.case.size)

    def _table(self) -> Mapping[str, NDArray[Any]]:
        table: dict[str, NDArray[Any]] = {}
        if self.by is not None:
            table[self.by] = self.group
        table["case"] = self.case
        table["stage"] = self.stage
        table["entered"] = self.entered
        table["days"] = self.days
        table["censored"] = self.censored
        table["entry"] = self.entry
        return table

    def _params(self) -> Mapping[str, object]:
        return {"by": self.by}

    def _summary(self) -> Mapping[str, object]:
        return {"stays": self.n_rows, "censored": int(self.censored.sum())}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready contents; ``entered`` as ISO 8601 text in UTC (``...Z``).

        Examples:
            >>> import json
            >>> log = ss.EventLog.from_records([("d1", "lead", "2024-01-02")])
            >>> f = ss.Funnel.linear(["lead", "won"])
            >>> rows = ss.time_in_stage(log, f).per_case().to_dict()["rows"]
            >>> json.dumps(rows[0]["entered"])
            '"2024-01-02T00:00:00.000000000Z"'
        """
        out = super().to_dict()
        stamps = np.datetime_as_string(self.entered, unit="ns")
        rows: list[dict[str, object]] = out["rows"]  # type: ignore[assignment]
        for row, text in zip(rows, stamps.tolist(), strict=True):
            row["entered"] = f"{text}Z"
        return out

    def to_frame(self, *, backend: FrameBackend = "pandas") -> Any:  # noqa: ANN401
        """One row per stay: [`by`], ``case``, ``stage``, ``entered`` (UTC), ``days``, ...

        Args:
            backend: ``"pandas"`` or ``"polars"``.

        Returns:
            A DataFrame of the chosen library.

        Raises:
            MissingDependencyError: If that library is not installed.
        """
        return make_frame(self._table(), backend=backend, utc=("entered",))


@attrs.frozen(repr=False)
class TimeInStageResult(ResultMixin):
    """Dwell time per open stage, Kaplan-Meier estimates with open stays censored.

    Arrays run over rows in "long" layout: one row per (group, stage), groups in sorted
    order (a missing value last), open stages in funnel order. Durations are float days;
    NaN marks a value the data cannot give (see `StageDwell`).

    Attributes:
        stage: Stage name of each row.
        group: Group label of each row (all None when not grouped).
        n: Stays counted.
        exits: Stays that ended by `as_of`.
        censored: Stays still running at `as_of`.
        median_days: Kaplan-Meier median dwell.
        median_low_days: Lower end of the Brookmeyer-Crowley interval of the median.
        median_high_days: Upper end (NaN where the interval is open above).
        q25_days: Kaplan-Meier first quartile.
        q25_low_days: Lower end of its interval.
        q25_high_days: Upper end of its interval.
        q75_days: Kaplan-Meier third quartile.
        q75_low_days: Lower end of its interval.
        q75_high_days: Upper end of its interval.
        rmst_days: Restricted mean dwell up to `horizon_days`.
        rmst_se_days: Its standard error.
        horizon_days: Horizon of the restricted mean of each row.
        naive_median_days: Median of the exited stays only: the biased figure a report
            that ignores open deals would show; for comparison, never for decisions.
        stages: The open stages in funnel order.
        outcomes: The funnel's outcomes (won, then lost), which have no dwell.
        groups: Group labels in row order (``(None,)`` when not grouped).
        by: The case attribute grouped by, or None.
        entries: The `entries` option.
        skips: The `skips` option.
        as_of: The censoring time (UTC).
        confidence_level: Coverage of the intervals.
        horizon: The `horizon` option in days, or None (each row's longest stay).
        n_cases: Cases with at least one counted stay.
        stays: The stays behind the estimates (see `per_case`).
    """

    stage: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    group: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    n: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    exits: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    censored: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    median_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    median_low_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    median_high_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    q25_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    q25_low_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    q25_high_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    q75_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    q75_low_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    q75_high_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    rmst_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    rmst_se_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    horizon_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    naive_median_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    stages: tuple[str, ...]
    outcomes: tuple[str, ...]
    groups: tuple[object, ...]
    by: str | None
    entries: Entries
    skips: Skips
    as_of: dt.datetime
    confidence_level: float
    horizon: float | None
    n_cases: int
    stays: DwellTable = attrs.field(eq=False)

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_rows(self) -> int:
        """Number of rows: groups x stages."""
        return int(self.stage.size)

    def per_case(self) -> DwellTable:
        """The stays behind the estimates, one row per stay (the data for your own checks).

        Returns:
            Case id, stage, entry time, days, censored flag, entry number and `by` value of
            every stay counted.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-04"),
            ...      ("d2", "lead", "2024-01-02")])
            >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
            >>> table = ss.time_in_stage(log, f).per_case()
            >>> table.case.tolist(), table.days.tolist(), table.censored.tolist()
            (['d1', 'd2'], [3.0, 2.0], [False, True])
        """
        return self.stays

    def at(self, stage: str, group: object = None) -> StageDwell:
        """The row of one stage (in one group).

        Args:
            stage: An open stage of the funnel.
            group: The group's label when grouped (`by`); None selects the missing-value
                group of a grouped result, and is the only choice when not grouped.

        Returns:
            Counts and dwell estimates of that row.

        Raises:
            UnknownStageError: If `stage` is not an open stage of the funnel.
            ParameterError: If `group` is not in the result.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-04"),
            ...      ("d2", "lead", "2024-01-02"), ("d2", "lost", "2024-01-03")])
            >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
            >>> ss.time_in_stage(log, f).at("lead").median_days
            1.0
            >>> ss.time_in_stage(log, f).at("Lead")
            Traceback (most recent call last):
            ...
            salesstd.errors.UnknownStageError: stage 'Lead' is not an open stage of the \
funnel (lead). Did you mean 'lead'?
        """
        i = self._row(stage, group)
        return StageDwell(
            stage=str(self.stage[i]),
            n=int(self.n[i]),
            exits=int(self.exits[i]),
            censored=int(self.censored[i]),
            median_days=float(self.median_days[i]),
            median_low_days=float(self.median_low_days[i]),
            median_high_days=float(self.median_high_days[i]),
            q25_days=float(self.q25_days[i]),
            q25_low_days=float(self.q25_low_days[i]),
            q25_high_days=float(self.q25_high_days[i]),
            q75_days=float(self.q75_days[i]),
            q75_low_days=float(self.q75_low_days[i]),
            q75_high_days=float(self.q75_high_days[i]),
            rmst_days=float(self.rmst_days[i]),
            rmst_se_days=float(self.rmst_se_days[i]),
            horizon_days=float(self.horizon_days[i]),
            naive_median_days=float(self.naive_median_days[i]),
            group=self.group[i],
        )

    def median(self, stage: str, group: object = None) -> stats.Interval:
        """The median dwell of one stage (in one group) with its interval, in days.

        Returns:
            `stats.Interval` of the Brookmeyer-Crowley interval; the estimate itself is
            ``at(stage, group).median_days``.

        Raises:
            UnknownStageError: If `stage` is not an open stage of the funnel.
            ParameterError: If `group` is not in the result.
        """
        i = self._row(stage, group)
        return stats.Interval(
            low=float(self.median_low_days[i]),
            high=float(self.median_high_days[i]),
            level=self.confidence_level,
            method="brookmeyer-crowley",
        )

    def _row(self, stage: str, group: object) -> int:
        s = v.result_stage(stage, self.stages, self.outcomes)
        g = _group_index(self.by, group, self.groups)
        return g * len(self.stages) + s

    def _table(self) -> Mapping[str, NDArray[Any]]:
        table: dict[str, NDArray[Any]] = {}
        if self.by is not None:
            table[self.by] = self.group
        table["stage"] = self.stage
        table["n"] = self.n
        table["exits"] = self.exits
        table["censored"] = self.censored
        for name in (
            "median_days",
            "median_low_days",
            "median_high_days",
            "q25_days",
            "q25_low_days",
            "q25_high_days",
            "q75_days",
            "q75_low_days",
            "q75_high_days",
            "rmst_days",
            "rmst_se_days",
            "horizon_days",
            "naive_median_days",
        ):
            table[name] = getattr(self, name)
        return table

    def _params(self) -> Mapping[str, object]:
        return {
            "by": self.by,
            "entries": self.entries,
            "skips": self.skips,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
            "horizon_days": self.horizon,
            "stages": list(self.stages),
        }

    def _summary(self) -> Mapping[str, object]:
        out: dict[str, object] = {"stages": len(self.stages)}
        if self.by is not None:
            out["groups"] = len(self.groups)
        out["cases"] = self.n_cases
        out["stays"] = int(self.n.sum())
        out["censored"] = int(self.censored.sum())
        return out


# --------------------------------------------------------------------- cycle time


@attrs.frozen
class CycleTime:
    """Cycle time of one group: one row of a `CycleTimeResult`.

    Attributes:
        n: Cases with an event by `as_of`.
        closed_won: Cases won by `as_of`.
        closed_lost: Cases lost by `as_of` (any lost outcome).
        open: Cases with no outcome by `as_of` (censored).
        share: Estimated share of cases that close as `outcome` within `follow_up_days`
            of their first event (for ``"any"``: close at all).
        share_low: Lower end of the pointwise interval around `share`.
        share_high: Upper end of that interval.
        median_days: Median days from first event to a close of the chosen kind (see
            `cycle_time` for the definition with competing outcomes).
        median_low_days: Lower end of the median's interval (``outcome="any"`` only).
        median_high_days: Upper end of that interval (``outcome="any"`` only).
        q25_days: First quartile, same definition as the median.
        q75_days: Third quartile.
        follow_up_days: Longest observed time in the group (closed or open).
        group: The group's label (None when not grouped or for a missing value).
    """

    n: int
    closed_won: int
    closed_lost: int
    open: int
    share: float
    share_low: float
    share_high: float
    median_days: float
    median_low_days: float
    median_high_days: float
    q25_days: float
    q75_days: float
    follow_up_days: float
    group: object = None


@attrs.frozen(repr=False)
class CycleTimeResult(ResultMixin):
    """Days from a deal's first event to its close, per group; see `cycle_time`.

    Arrays run over groups in sorted order (a missing value last); one row when not grouped.
    NaN marks a value the data cannot give (no cases, no close of the chosen kind, or a
    level not reached during follow-up).

    Attributes:
        group: Group label of each row (None when not grouped).
        n: Cases with an event by `as_of`.
        closed_won: Cases won by `as_of`.
        closed_lost: Cases lost by `as_of`.
        open: Cases still open at `as_of` (censored).
        share: Estimated share closing as `outcome` by the end of follow-up.
        share_low: Lower end of its pointwise interval (NaN where the share is 0 or 1).
        share_high: Upper end of that interval.
        median_days: Median time to close (``"any"``: Kaplan-Meier; otherwise the median of
            the time to close among deals that close that way, see `cycle_time`).
        median_low_days: Brookmeyer-Crowley lower limit (``"any"`` only, else NaN).
        median_high_days: Brookmeyer-Crowley upper limit (``"any"`` only, else NaN).
        q25_days: First quartile, same definition as the median.
        q75_days: Third quartile.
        follow_up_days: Longest observed time of each group, days.
        outcome: The `outcome` option.
        outcomes: The outcome stages that count as closing that way.
        groups: Group labels in row order (``(None,)`` when not grouped).
        by: The case attribute grouped by, or None.
        as_of: The censoring time (UTC).
        confidence_level: Coverage of the intervals.
    """

    group: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    n: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    closed_won: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    closed_lost: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    open: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    share: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    share_low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    share_high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    median_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    median_low_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    median_high_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    q25_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    q75_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    follow_up_days: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    outcome: str
    outcomes: tuple[str, ...]
    groups: tuple[object, ...]
    by: str | None
    as_of: dt.datetime
    confidence_level: float

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_cases(self) -> int:
        """Cases counted, over all groups."""
        return int(self.n.sum())

    def at(self, group: object = None) -> CycleTime:
        """The row of one group.

        Args:
            group: The group's label when grouped (`by`); None selects the missing-value
                group of a grouped result, and is the only choice when not grouped.

        Returns:
            Counts, share and time-to-close estimates of that group.

        Raises:
            ParameterError: If `group` is not in the result.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "won", "2024-01-04"),
            ...      ("d2", "lead", "2024-01-02")])
            >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
            >>> row = ss.cycle_time(log, f).at()
            >>> row.n, row.closed_won, row.open, row.median_days
            (2, 1, 1, 3.0)
        """
        i = _group_index(self.by, group, self.groups)
        return CycleTime(
            n=int(self.n[i]),
            closed_won=int(self.closed_won[i]),
            closed_lost=int(self.closed_lost[i]),
            open=int(self.open[i]),
            share=float(self.share[i]),
            share_low=float(self.share_low[i]),
            share_high=float(self.share_high[i]),
            median_days=float(self.median_days[i]),
            median_low_days=float(self.median_low_days[i]),
            median_high_days=float(self.median_high_days[i]),
            q25_days=float(self.q25_days[i]),
            q75_days=float(self.q75_days[i]),
            follow_up_days=float(self.follow_up_days[i]),
            group=self.group[i],
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        table: dict[str, NDArray[Any]] = {}
        if self.by is not None:
            table[self.by] = self.group
        for name in (
            "n",
            "closed_won",
            "closed_lost",
            "open",
            "share",
            "share_low",
            "share_high",
            "median_days",
            "median_low_days",
            "median_high_days",
            "q25_days",
            "q75_days",
            "follow_up_days",
        ):
            table[name] = getattr(self, name)
        return table

    def _params(self) -> Mapping[str, object]:
        return {
            "outcome": self.outcome,
            "outcomes": list(self.outcomes),
            "by": self.by,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
        }

    def _summary(self) -> Mapping[str, object]:
        out: dict[str, object] = {"outcome": self.outcome}
        if self.by is not None:
            out["groups"] = len(self.groups)
        out["cases"] = self.n_cases
        if self.by is None:
            out["share"] = float(self.share[0])
            out["median_days"] = float(self.median_days[0])
        return out
