"""Result classes of `salesstd.conformance` (re-exported there; see that module)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import stats
from salesstd._base import validation as v
from salesstd._base.results import ResultMixin
from salesstd._base.results import array_eq as _eq
from salesstd._base.results import frozen_array as _ro
from salesstd._engine import grouping as _common
from salesstd.errors import ParameterError

if TYPE_CHECKING:
    from salesstd.log import EventLog

__all__ = [
    "RULES",
    "CaseConformance",
    "CaseFitnessTable",
    "ConformanceRates",
    "ConformanceResult",
    "RuleRate",
]

RULES: tuple[str, ...] = (
    "disallowed_transition",
    "skipped_stage",
    "backward_move",
    "sla_breach",
    "missing_activity",
    "first_response",
    "event_after_close",
)
"""The rules `check_conformance` knows, in the order its results list them."""

Method = Literal["wilson", "jeffreys"]


@attrs.frozen
class CaseConformance:
    """The conformance of one case: one row of `ConformanceResult.per_case`.

    Attributes:
        case: The case id.
        checks: Checks made on the case (see `check_conformance`).
        violations: Checks it failed.
        fitness: ``1 - violations / checks`` (1.0 with no checks).
        fits: True when it has no violation.
        rules: The rules it violated, in `RULES` order.
    """

    case: object
    checks: int
    violations: int
    fitness: float
    fits: bool
    rules: tuple[str, ...]


@attrs.frozen
class RuleRate:
    """How many cases violate one rule (in one group): one row of `ConformanceRates`.

    Attributes:
        rule: The rule, or ``"any"`` for a violation of any rule.
        cases: Cases (in the group).
        checked: Cases with at least one check of the rule.
        violating: Cases with at least one violation of the rule.
        rate: ``violating / cases``; NaN for an empty group.
        low: Lower end of the interval around `rate`.
        high: Upper end of the interval around `rate`.
        group: The group's label (None when not grouped or for a missing value).
    """

    rule: str
    cases: int
    checked: int
    violating: int
    rate: float
    low: float
    high: float
    group: object = None


def _fitness(checks: NDArray[np.int64], violations: NDArray[np.int64]) -> NDArray[np.float64]:
    out = np.ones(checks.shape, dtype=np.float64)
    has = checks > 0
    out[has] = 1.0 - violations[has] / checks[has]
    return out


@attrs.frozen(repr=False)
class ConformanceResult(ResultMixin):
    """Violations of a standard's rules and the fitness of each case.

    The table (`to_frame`, `to_dict`) has one row per violation, sorted by case and time;
    the per-case counts are in `cases`, `checks`, `violations` and `fitness`.

    Attributes:
        case: Case id of each violation.
        rule: The rule violated (one of `RULES`).
        stage: The stage it concerns: the stage left (moves), the stage skipped, the stay's
            stage (SLA, activities), the stage the case was in at the deadline (first
            response; None before its first stage) or the outcome (events after close).
        time: When it happened: the move, the jump, the moment the limit passed (SLA, first
            response), the end of the stay (activities), the first event after the close.
        observed: The measured value: days stayed, count logged, days to the first activity,
            events after the close; NaN where there is none.
        limit: The rule's limit in the same unit; NaN where there is none.
        detail: A sentence saying what was found.
        cases: Ids of the cases checked (those with an event by `as_of`), in log order.
        rule_checks: Checks made per case (rows, as `cases`) and rule (columns, as `RULES`).
        rule_violations: Violations per case and rule, same layout.
        rules: The rules the standard sets (the others made no checks).
        standard: The standard's name.
        as_of: The time the log was seen at.
    """

    case: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    rule: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    stage: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    time: NDArray[np.datetime64] = attrs.field(converter=_ro, eq=_eq)
    observed: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    limit: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    detail: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    cases: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    rule_checks: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    rule_violations: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    rules: tuple[str, ...]
    standard: str
    as_of: np.datetime64
    log: EventLog = attrs.field(eq=False)
    case_codes: NDArray[np.int32] = attrs.field(converter=_ro, eq=_eq)

    @property
    def checks(self) -> NDArray[np.int64]:
        """Checks made per case (as `cases`)."""
        return np.asarray(self.rule_checks.sum(axis=1), dtype=np.int64)

    @property
    def violations(self) -> NDArray[np.int64]:
        """Violations per case (as `cases`)."""
        return np.asarray(self.rule_violations.sum(axis=1), dtype=np.int64)

    @property
    def fitness(self) -> NDArray[np.float64]:
        """Per case: ``1 - violations / checks``, 1.0 for a case with no checks."""
        return _fitness(self.checks, self.violations)

    @property
    def fits(self) -> NDArray[np.bool_]:
        """Per case: True when it has no violation."""
        return np.asarray(self.violations == 0)

    @property
    def n_cases(self) -> int:
        """Number of cases checked."""
        return int(self.cases.size)

    @property
    def n_violations(self) -> int:
        """Number of violations."""
        return int(self.rule.size)

    @property
    def fitting_share(self) -> float:
        """Share of the cases checked with no violation (NaN if none was checked)."""
        return float(self.fits.mean()) if self.n_cases else float("nan")

    @property
    def mean_fitness(self) -> float:
        """Average fitness over the cases checked (NaN if none was checked)."""
        return float(self.fitness.mean()) if self.n_cases else float("nan")

    def for_case(self, case: object) -> CaseConformance:
        """The checks, violations and fitness of one case.

        Raises:
            ParameterError: If `case` was not checked (not in the log, or no event by
                `as_of`).
        """
        i = v.result_label("case", case, self.cases.tolist(), fix="pass one of the case ids")
        broken = self.rule_violations[i] > 0
        return CaseConformance(
            case=self.cases[i],
            checks=int(self.rule_checks[i].sum()),
            violations=int(self.rule_violations[i].sum()),
            fitness=float(self.fitness[i]),
            fits=not bool(broken.any()),
            rules=tuple(r for r, b in zip(RULES, broken.tolist(), strict=True) if b),
        )

    def per_case(self, *, by: str | None = None) -> CaseFitnessTable:
        """One row per case: its checks, violations, fitness and whether it fits.

        Args:
            by: A case attribute: rows in blocks per value (sorted; missing last), with a
                column named after it.

        Raises:
            ParameterError: If `by` is not a case attribute of the log.
        """
        groups = _common.groups(self.log, by)
        code = groups.of_case[self.case_codes]
        order = np.argsort(code, kind="stable")
        labels = np.empty(len(groups.labels), dtype=object)
        labels[:] = list(groups.labels)
        return CaseFitnessTable(
            cases=self.cases[order],
            checks=self.checks[order],
            violations=self.violations[order],
            by=by,
            group=labels[code[order]],
        )

    def rates(
        self, *, by: str | None = None, confidence_level: float = 0.95, method: Method = "wilson"
    ) -> ConformanceRates:
        """Per rule (and group): the share of cases with at least one violation of it.

        The denominator is every case checked (in the group); ``checked`` says how many had
        the rule apply at all. A last row per group, ``"any"``, counts cases violating any
        rule: its rate is one minus the group's fitting share.

        Args:
            by: A case attribute to split the cases by (groups sorted, missing last).
            confidence_level: Coverage of the interval around each rate.
            method: ``"wilson"`` or ``"jeffreys"`` interval.

        Raises:
            ParameterError: If `by` is not a case attribute, or an option is out of range.
        """
        v.fraction("confidence_level", confidence_level)
        v.choice("method", method, ("wilson", "jeffreys"))
        groups = _common.groups(self.log, by)
        code = groups.of_case[self.case_codes]
        names = [*self.rules, "any"]
        cols = [RULES.index(r) for r in self.rules]
        checked = np.column_stack(
            [self.rule_checks[:, cols] > 0, (self.rule_checks > 0).any(axis=1)]
        )
        hit = np.column_stack(
            [self.rule_violations[:, cols] > 0, (self.rule_violations > 0).any(axis=1)]
        )
        n_groups, n_rules = groups.n, len(names)
        cases = np.bincount(code, minlength=n_groups)
        per_checked = np.zeros((n_groups, n_rules), dtype=np.int64)
        per_hit = np.zeros((n_groups, n_rules), dtype=np.int64)
        np.add.at(per_checked, code, checked.astype(np.int64))
        np.add.at(per_hit, code, hit.astype(np.int64))
        total = np.repeat(cases, n_rules)
        violating = per_hit.ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = violating / total
        low, high = stats.proportion_interval(
            violating, total, confidence_level=confidence_level, method=method
        )
        group = np.empty(n_groups * n_rules, dtype=object)
        group[:] = [g for g in groups.labels for _ in names]
        return ConformanceRates(
            rule=np.array(names * n_groups, dtype=object),
            cases=total,
            checked=per_checked.ravel(),
            violating=violating,
            rate=rate,
            low=np.asarray(low, dtype=np.float64),
            high=np.asarray(high, dtype=np.float64),
            group=group,
            by=by,
            confidence_level=confidence_level,
            method=method,
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        return {
            "case": self.case,
            "rule": self.rule,
            "stage": self.stage,
            "time": self.time,
            "observed": self.observed,
            "limit": self.limit,
            "detail": self.detail,
        }

    def _params(self) -> Mapping[str, object]:
        return {"standard": self.standard, "as_of": self.as_of, "rules": list(self.rules)}

    def _summary(self) -> Mapping[str, object]:
        return {
            "cases": self.n_cases,
            "violations": self.n_violations,
            "fitting_share": round(self.fitting_share, 4),
        }


@attrs.frozen(repr=False)
class CaseFitnessTable(ResultMixin):
    """Checks, violations and fitness per case, from `ConformanceResult.per_case`.

    Attributes:
        cases: Case ids, in blocks per group (groups sorted) when grouped.
        checks: Checks made per case.
        violations: Violations per case.
        by: The case attribute the rows are grouped by, or None.
        group: The group label of each case (None throughout when not grouped).
    """

    cases: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    checks: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    violations: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    by: str | None
    group: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)

    @property
    def fitness(self) -> NDArray[np.float64]:
        """Per case: ``1 - violations / checks``, 1.0 with no checks."""
        return _fitness(self.checks, self.violations)

    @property
    def fits(self) -> NDArray[np.bool_]:
        """Per case: True when it has no violation."""
        return np.asarray(self.violations == 0)

    def _table(self) -> Mapping[str, NDArray[Any]]:
        table: dict[str, NDArray[Any]] = {"case": self.cases}
        if self.by is not None:
            table[self.by] = self.group
        table.update(
            checks=self.checks,
            violations=self.violations,
            fitness=self.fitness,
            fits=self.fits,
        )
        return table

    def _params(self) -> Mapping[str, object]:
        return {"by": self.by}

    def _summary(self) -> Mapping[str, object]:
        share = float(self.fits.mean()) if self.cases.size else float("nan")
        return {"cases": int(self.cases.size), "fitting_share": round(share, 4)}


@attrs.frozen(repr=False)
class ConformanceRates(ResultMixin):
    """Share of cases violating each rule, per group, from `ConformanceResult.rates`.

    Rows are (group, rule) in "long" layout: per group (sorted), the rules the standard
    sets in `RULES` order and then ``"any"``.

    Attributes:
        rule: The rule of each row.
        cases: Cases in the row's group.
        checked: Cases of the group to which the rule applied.
        violating: Cases of the group with at least one violation of the rule.
        rate: ``violating / cases``; NaN for an empty group.
        low: Lower end of the interval around `rate`.
        high: Upper end of the interval around `rate`.
        group: The group label of each row (None throughout when not grouped).
        by: The case attribute of the groups, or None.
        confidence_level: Coverage of the intervals.
        method: The interval method.
    """

    rule: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    cases: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    checked: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    violating: NDArray[np.int64] = attrs.field(converter=_ro, eq=_eq)
    rate: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    low: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    high: NDArray[np.float64] = attrs.field(converter=_ro, eq=_eq)
    group: NDArray[np.object_] = attrs.field(converter=_ro, eq=_eq)
    by: str | None
    confidence_level: float
    method: str

    def at(self, rule: str, group: object = None) -> RuleRate:
        """The row of one rule (in one group).

        Raises:
            ParameterError: If the rule has no row (not checked by the standard, or not a
                rule), or the group is not in the result.
        """
        names = list(dict.fromkeys(self.rule.tolist()))
        if rule not in names:
            raise ParameterError(
                f"rule {rule!r} has no row ({v.listing(names)}); the others are not set by "
                f"the standard.{v.did_you_mean(rule, RULES)}"
            )
        labels = list(dict.fromkeys(self.group.tolist()))
        if self.by is None and group is not None:
            raise v.not_split("group", group, "by")
        g = v.result_label("group", group, labels, fix=f"pass one of the values of {self.by!r}")
        i = g * len(names) + names.index(rule)
        return RuleRate(
            rule=rule,
            cases=int(self.cases[i]),
            checked=int(self.checked[i]),
            violating=int(self.violating[i]),
            rate=float(self.rate[i]),
            low=float(self.low[i]),
            high=float(self.high[i]),
            group=self.group[i],
        )

    def _table(self) -> Mapping[str, NDArray[Any]]:
        table: dict[str, NDArray[Any]] = {}
        if self.by is not None:
            table[self.by] = self.group
        table.update(
            rule=self.rule,
            cases=self.cases,
            checked=self.checked,
            violating=self.violating,
            rate=self.rate,
            low=self.low,
            high=self.high,
        )
        return table

    def _params(self) -> Mapping[str, object]:
        return {"by": self.by, "confidence_level": self.confidence_level, "method": self.method}

    def _summary(self) -> Mapping[str, object]:
        return {"rules": len(set(self.rule.tolist())) - 1, "groups": len(set(self.group.tolist()))}
