"""The result of `bottlenecks`: `BottleneckReport` and its rows as `Finding`.

Private; the public names are re-exported by `salesstd.bottleneck`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd.errors import ParameterError

__all__ = ["BottleneckReport", "Finding"]

Lens = Literal["conversion", "dwell", "wip", "losses", "time", "leverage"]
LENSES: tuple[Lens, ...] = ("conversion", "dwell", "wip", "losses", "time", "leverage")
#: Lenses that describe the funnel without a benchmark: never findings, no claim to improve.
DESCRIPTIVE: tuple[Lens, ...] = ("losses", "time")
UNITS: dict[str, str] = {
    "conversion": "wins per period",
    "dwell": "days per deal",
    "wip": "deals per period",
    "losses": "share of resolved entries lost",
    "time": "days (median stay)",
    "leverage": "elasticity",
}


@attrs.frozen
class Finding:
    """One row of a `BottleneckReport`: a stage (or transition) seen through one lens.

    Attributes:
        stage: The open stage.
        target: For a transition (leverage lens with the Markov model), the stage moved to;
            else None.
        lens: ``"conversion"``, ``"dwell"``, ``"wip"``, ``"losses"``, ``"time"`` or
            ``"leverage"``.
        current: The stage's value: step rate, median dwell (days), WIP at `as_of`, deals
            lost (losses), median stay (time), or the move's probability.
        benchmark: What it is compared with (NaN where there is none).
        gap: How far it falls short, positive when worse than the benchmark.
        impact: The gap turned into an effect, in `unit`.
        impact_low: Lower end of the impact's interval (NaN if none).
        impact_high: Upper end (NaN if none or open).
        unit: ``"wins per period"``, ``"days per deal"``, ``"deals per period"``,
            ``"share of resolved entries lost"``, ``"days (median stay)"`` or
            ``"elasticity"``.
        significant: True when the gap is positive and the interval excludes zero: a finding.
        rank: Rank within the lens, 1 = largest impact among the significant rows first.
        explanation: One sentence with the numbers.
        descriptive: True for the descriptive lenses (``"losses"``, ``"time"``): they say
            where the funnel loses deals or time, compare with no benchmark, and are never
            findings.
    """

    stage: str
    target: str | None
    lens: str
    current: float
    benchmark: float
    gap: float
    impact: float
    impact_low: float
    impact_high: float
    unit: str
    significant: bool
    rank: int
    explanation: str
    descriptive: bool = False


@attrs.frozen(repr=False)
class BottleneckReport(ResultMixin):
    """Where the process loses the most, one row per (stage, lens), best finding first.

    Rows are ordered by: significant findings first; then rank within the lens; then lens
    (conversion, dwell, wip, losses, time, leverage). Within a lens the rows are sorted by
    impact, and a row whose interval includes zero never comes before one whose interval
    excludes it. The descriptive lenses (losses, time: see `describe`) and leverage are
    never findings, so they always come after the significant benchmark gaps.

    Attributes:
        stage: Stage of each row.
        target: Target stage of a transition row (leverage with the Markov model), else None.
        lens: Lens of each row.
        current: Current value (see `Finding`).
        benchmark: Benchmark value.
        gap: Shortfall against the benchmark, positive when worse.
        impact: Impact in `unit`.
        impact_low: Lower end of the impact interval.
        impact_high: Upper end of the impact interval.
        unit: Unit of the impact.
        significant: Gap positive and interval excluding zero.
        rank: Rank within the lens.
        explanation: One sentence per row.
        stages: The funnel's open stages.
        benchmark_option: The `benchmark` option: ``"top_quartile"``, a rate or a mapping.
        sla: The `sla` option ({stage: days}) or None.
        by: The case attribute whose groups define the top quartile, or None.
        as_of: The censoring time (UTC).
        confidence_level: Coverage of the intervals.
        period: The calendar period of the per-period figures.
        n_boot: Bootstrap replicates behind the conversion and top-quartile dwell intervals.
        seed: Seed of the bootstraps.
        n_cases: Cases that entered an open stage.
    """

    stage: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    target: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    lens: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    current: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    benchmark: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    gap: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    impact: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    impact_low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    impact_high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    unit: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    significant: NDArray[np.bool_] = attrs.field(converter=_ro, eq=_eq)
    rank: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    explanation: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    stages: tuple[str, ...]
    benchmark_option: object
    sla: Mapping[str, float] | None
    by: str | None
    as_of: dt.datetime
    confidence_level: float
    period: str
    n_boot: int
    seed: int
    n_cases: int

    __hash__ = None  # type: ignore[assignment]

    @property
    def descriptive(self) -> NDArray[np.bool_]:
        """Per row: True for the descriptive lenses (``"losses"``, ``"time"``)."""
        return np.isin(self.lens.astype(str), DESCRIPTIVE)

    @property
    def n_findings(self) -> int:
        """Number of significant findings."""
        return int(self.significant.sum())

    def _finding(self, i: int) -> Finding:
        target = self.target[i]
        return Finding(
            stage=str(self.stage[i]),
            target=None if target is None else str(target),
            lens=str(self.lens[i]),
            current=float(self.current[i]),
            benchmark=float(self.benchmark[i]),
            gap=float(self.gap[i]),
            impact=float(self.impact[i]),
            impact_low=float(self.impact_low[i]),
            impact_high=float(self.impact_high[i]),
            unit=str(self.unit[i]),
            significant=bool(self.significant[i]),
            rank=int(self.rank[i]),
            explanation=str(self.explanation[i]),
            descriptive=str(self.lens[i]) in DESCRIPTIVE,
        )

    def top(self, n: int = 5, *, lens: Lens | None = None) -> tuple[Finding, ...]:
        """The first `n` significant findings, best first (of one lens if given).

        Raises:
            ParameterError: If `n` is not a whole number >= 1 or `lens` is not a lens.
        """
        v.positive_int("n", n)
        keep = self.significant.copy()
        if lens is not None:
            v.choice("lens", lens, LENSES)
            keep &= self.lens == lens
        return tuple(self._finding(int(i)) for i in np.flatnonzero(keep)[:n])

    def describe(self, n: int = 1) -> tuple[Finding, ...]:
        """Where the funnel loses the largest share of its deals and where deals stay longest.

        The first `n` rows of each descriptive lens: ``"losses"`` (the share of a stage's
        resolved entries that were lost there, largest first) and ``"time"`` (the
        Kaplan-Meier median of the first stays, open stays censored, longest first). They
        compare with no benchmark and claim no improvement; they are there whether or not
        the groups differ. Rows without a number (no resolved entry, a median not reached)
        are left out.

        Raises:
            ParameterError: If `n` is not a whole number >= 1.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "demo", "2024-01-03"),
            ...      ("d1", "won", "2024-01-13"),
            ...      ("d2", "lead", "2024-01-01"), ("d2", "lost", "2024-01-09"),
            ...      ("d3", "lead", "2024-01-02"), ("d3", "demo", "2024-01-04"),
            ...      ("d3", "lost", "2024-01-20")])
            >>> f = ss.Funnel.linear(["lead", "demo", "won"], lost="lost")
            >>> losses, time = ss.bottlenecks(log, f, by=None, n_boot=20).describe()
            >>> losses.stage, losses.current, losses.impact  # lead loses 1 of 3, demo 1 of 2
            ('demo', 1.0, 0.5)
            >>> time.stage, time.impact  # median stays: lead 2 days (2, 8, 2), demo 10 (10, 16)
            ('demo', 10.0)
            >>> time.descriptive, time.significant
            (True, False)
        """
        v.positive_int("n", n)
        out: list[Finding] = []
        for lens in DESCRIPTIVE:
            rows = np.flatnonzero((self.lens == lens) & np.isfinite(self.impact))
            rows = rows[np.argsort(self.rank[rows], kind="stable")]
            out += [self._finding(int(i)) for i in rows[:n]]
        return tuple(out)

    def at(self, stage: str, *, lens: Lens, target: str | None = None) -> Finding:
        """The row of one stage and lens (and target, for a transition row).

        Raises:
            UnknownStageError: If `stage` is not an open stage.
            ParameterError: If `lens` is not a lens, `target` is several names, or the row
                is absent (a transition never observed).
        """
        v.result_stage(stage, self.stages)
        v.choice("lens", lens, LENSES)
        hit = (self.stage == stage) & (self.lens == lens)
        if target is not None:
            v.one_value("target", target, kind="stage name (a str)")
            hit &= self.target == target
        rows = np.flatnonzero(hit)
        if rows.size == 0:
            raise ParameterError(
                f"the report has no {lens} row for stage {stage!r}"
                + ("" if target is None else f" and target {target!r}")
                + "."
            )
        return self._finding(int(rows[0]))

    def explain(self, stage: str) -> tuple[str, ...]:
        """The sentences explaining every row of `stage`, in report order.

        Raises:
            UnknownStageError: If `stage` is not an open stage.
        """
        v.result_stage(stage, self.stages)
        return tuple(str(e) for e in self.explanation[self.stage == stage])

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "stage": self.stage,
            "target": self.target,
            "lens": self.lens,
            "current": self.current,
            "benchmark": self.benchmark,
            "gap": self.gap,
            "impact": self.impact,
            "impact_low": self.impact_low,
            "impact_high": self.impact_high,
            "unit": self.unit,
            "significant": self.significant,
            "rank": self.rank,
            "explanation": self.explanation,
            "descriptive": self.descriptive,
        }

    def _params(self) -> Mapping[str, object]:
        return {
            "benchmark": self.benchmark_option,
            "sla": None if self.sla is None else dict(self.sla),
            "by": self.by,
            "as_of": self.as_of,
            "confidence_level": self.confidence_level,
            "period": self.period,
            "n_boot": self.n_boot,
            "seed": self.seed,
        }

    def _summary(self) -> Mapping[str, object]:
        first = np.flatnonzero(self.significant)
        top = None if first.size == 0 else f"{self.stage[first[0]]} ({self.lens[first[0]]})"
        return {
            "findings": self.n_findings,
            "stages": len(self.stages),
            "cases": self.n_cases,
            "top": top,
        }
