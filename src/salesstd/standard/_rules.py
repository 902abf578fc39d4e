"""Checks and parsing behind `salesstd.standard`: every message names the key path.

A key path is how a value is reached in the dict / TOML form of a standard: ``name``,
``funnel.stages``, ``rules.max_dwell_days.Lead``, ``kpis[2].target``. Objects built directly
(``KPI(...)``, ``Rules(...)``) use the class name as the path (``KPI.target``).
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from salesstd._base import validation as v
from salesstd.errors import FunnelError, ParameterError, SalesStdError, UnknownStageError
from salesstd.funnel import Funnel

METRICS = (
    "stage_conversion",
    "win_rate",
    "cycle_time",
    "dwell",
    "activities_per_deal",
    "compliance_rate",
    "deals_handled",
    "won_value",
    "velocity",
)
STAGE_METRICS = ("stage_conversion", "dwell", "activities_per_deal")
RATE_METRICS = ("stage_conversion", "win_rate", "compliance_rate")

Metric = Literal[
    "stage_conversion",
    "win_rate",
    "cycle_time",
    "dwell",
    "activities_per_deal",
    "compliance_rate",
    "deals_handled",
    "won_value",
    "velocity",
]
Direction = Literal["higher", "lower"]
DIRECTIONS = ("higher", "lower")

TOP_KEYS = ("kind", "name", "funnel", "rules", "kpis")
RULES_KEYS = (
    "required_stages",
    "allow_backward",
    "max_dwell_days",
    "first_response_days",
    "required_activities",
    "no_events_after_close",
)
MAX_REQUIRED_COUNT = 1_000_000
"""The largest count a ``required_activities`` rule takes."""
KPI_KEYS = ("name", "metric", "target", "direction", "tolerance", "weight", "stage", "activity")
FUNNEL_COMPACT_KEYS = ("kind", "stages", "won", "lost", "edges", "aliases", "activities")


# --------------------------------------------------------------------- converters


def as_float(value: object) -> object:
    """A real number as float; anything else unchanged (the checks then refuse it)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return v.as_float(value)  # a 400-digit number becomes inf, which the checks refuse
    return value


def as_tuple(value: object) -> object:
    """A list or tuple as a tuple; anything else (a lone string too) unchanged."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def float_map(value: object) -> object:
    """A mapping as a read-only mapping with float values; anything else unchanged."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({k: as_float(x) for k, x in value.items()})
    return value


def count_map(value: object) -> object:
    """A mapping of mappings as read-only mappings; anything else unchanged."""
    if isinstance(value, Mapping):
        return types.MappingProxyType(
            {
                k: types.MappingProxyType(dict(x)) if isinstance(x, Mapping) else x
                for k, x in value.items()
            }
        )
    return value


# --------------------------------------------------------------------- field checks


def name_text(path: str, value: object) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise ParameterError(f"{path} must be a non-empty string; got {value!r}.")
    return value


def check_kpi(path: str, kpi: KPI) -> None:
    """Check one KPI on its own (stage names are checked against the funnel later)."""
    name_text(f"{path}.name", kpi.name)
    metric = v.choice(f"{path}.metric", kpi.metric, METRICS)
    v.choice(f"{path}.direction", kpi.direction, DIRECTIONS)
    target = v.nonnegative_number(f"{path}.target", kpi.target, limit=v.MAX_NUMBER)
    if metric in RATE_METRICS and target > 1.0:
        hint = f" For {target:g}% write {target / 100:g}." if target <= 100.0 else ""  # noqa: PLR2004
        raise ParameterError(
            f"{path}.target of a {metric} KPI is a share between 0 and 1; got {kpi.target!r}."
            + hint
        )
    v.nonnegative_number(f"{path}.tolerance", kpi.tolerance, limit=v.MAX_NUMBER)
    v.nonnegative_number(f"{path}.weight", kpi.weight, limit=v.MAX_NUMBER)
    if metric in STAGE_METRICS:
        if kpi.stage is None:
            raise ParameterError(
                f"{path}.stage is required for metric {metric!r}: name the open stage it "
                "measures, e.g. stage = 'Qualified'."
            )
        name_text(f"{path}.stage", kpi.stage)
    elif kpi.stage is not None:
        raise ParameterError(
            f"{path}.stage is only used by the metrics {v.listing(STAGE_METRICS)}; metric "
            f"{metric!r} measures the whole deal. Leave stage out (got {kpi.stage!r})."
        )
    if metric == "activities_per_deal":
        if kpi.activity is None:
            raise ParameterError(
                f"{path}.activity is required for metric 'activities_per_deal': name the "
                "activity to count, e.g. activity = 'Call'."
            )
        name_text(f"{path}.activity", kpi.activity)
    elif kpi.activity is not None:
        raise ParameterError(
            f"{path}.activity is only used by metric 'activities_per_deal'; leave it out "
            f"(got {kpi.activity!r})."
        )


def _string_tuple(path: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, tuple):
        raise ParameterError(f"{path} must be a list of stage names; got {value!r}.")
    for i, item in enumerate(value):
        name_text(f"{path}[{i}]", item)
    if len(set(value)) != len(value):
        dup = next(x for i, x in enumerate(value) if x in value[:i])
        raise ParameterError(f"{path} names {dup!r} twice; list each stage once.")
    return value


def _mapping(path: str, value: object, example: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise ParameterError(
            f"{path} must be a table (mapping) {example}; got {type(value).__name__} {value!r}."
        )
    for key in value:
        name_text(f"{path} key", key)
    return value


def _flag(path: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{path} must be true or false; got {value!r}.")
    return value


def check_rules(path: str, rules: Rules) -> None:
    """Check the rules on their own (stage names are checked against the funnel later)."""
    _string_tuple(f"{path}.required_stages", rules.required_stages)
    _flag(f"{path}.allow_backward", rules.allow_backward)
    _flag(f"{path}.no_events_after_close", rules.no_events_after_close)
    sla = _mapping(f"{path}.max_dwell_days", rules.max_dwell_days, "of stage -> days")
    for stage, days in sla.items():
        v.positive_number(
            f"{path}.max_dwell_days.{stage}", days, limit=v.MAX_DAYS, unit=" days (100 years)"
        )
    if rules.first_response_days is not None:
        v.positive_number(
            f"{path}.first_response_days",
            rules.first_response_days,
            limit=v.MAX_DAYS,
            unit=" days (100 years)",
        )
    required = _mapping(
        f"{path}.required_activities", rules.required_activities, "of stage -> {activity: count}"
    )
    for stage, counts in required.items():
        where = f"{path}.required_activities.{stage}"
        for activity, count in _mapping(where, counts, "of activity -> count").items():
            if (
                isinstance(count, bool)
                or not isinstance(count, int)
                or not 1 <= count <= MAX_REQUIRED_COUNT
            ):
                raise ParameterError(
                    f"{where}.{activity} must be a whole number from 1 to "
                    f"{MAX_REQUIRED_COUNT:,} (the least number of {activity!r} events before "
                    f"leaving {stage!r}); got {v.short(count)}."
                )


def _open_stage(path: str, name: str, funnel: Funnel) -> None:
    stages = funnel.stage_names
    if name not in stages:
        raise UnknownStageError(
            f"{path} names stage {name!r}, which is not in the funnel "
            f"({v.listing(stages)}).{v.did_you_mean(name, stages)}",
            name=name,
            known=stages,
        )
    if funnel.stage(name).is_outcome:
        opened = [s.name for s in funnel.open_stages]
        raise ParameterError(
            f"{path} names {name!r}, an outcome; it applies to the open stages "
            f"({v.listing(opened)})."
        )


def _activity(path: str, name: str, funnel: Funnel) -> None:
    if name in funnel.stage_names or name in funnel.aliases:
        raise ParameterError(
            f"{path} names {name!r}, which records a stage of the funnel; required and "
            "counted activities are non-stage activities (a call, a meeting, ...)."
        )
    declared = funnel.activities
    if declared is not None and name not in declared:
        raise UnknownStageError(
            f"{path} names activity {name!r}, which the funnel does not declare "
            f"({v.listing(declared) or 'it declares none'}).{v.did_you_mean(name, declared)}",
            name=name,
            known=declared,
        )


def check_against_funnel(funnel: Funnel, rules: Rules, kpis: Sequence[KPI]) -> None:
    """Check that every stage and activity the rules and KPIs name fits the funnel."""
    for i, stage in enumerate(rules.required_stages):
        _open_stage(f"rules.required_stages[{i}]", stage, funnel)
    for stage in rules.max_dwell_days:
        _open_stage(f"rules.max_dwell_days.{stage}", stage, funnel)
    for stage, counts in rules.required_activities.items():
        _open_stage(f"rules.required_activities.{stage}", stage, funnel)
        for activity in counts:
            _activity(f"rules.required_activities.{stage}.{activity}", activity, funnel)
    seen: set[str] = set()
    for i, kpi in enumerate(kpis):
        if kpi.name in seen:
            raise ParameterError(
                f"kpis[{i}].name {kpi.name!r} is used by an earlier KPI; give each KPI its "
                "own name."
            )
        seen.add(kpi.name)
        if kpi.stage is not None:
            _open_stage(f"kpis[{i}].stage", kpi.stage, funnel)
        if kpi.activity is not None:
            _activity(f"kpis[{i}].activity", kpi.activity, funnel)


# --------------------------------------------------------------------- dict form


def with_prefix(err: SalesStdError, prefix: str) -> SalesStdError:
    """The same kind of error with `prefix` in front of its message."""
    return type(err)(f"{prefix}{err}")


def keys(where: str, data: object, allowed: Sequence[str]) -> Mapping[str, object]:
    """`data` as a mapping whose keys are all in `allowed`."""
    if not isinstance(data, Mapping):
        what = f"{where!r}" if where else "a standard definition"
        raise ParameterError(
            f"{what} must be a table (mapping); got {type(data).__name__} {data!r}."
        )
    for key in data:
        if key not in allowed:
            raise v.unknown_key(where, key, allowed)
    return data


def parse_funnel(data: object) -> Funnel:
    """The ``funnel`` table: `Funnel.to_dict` form, or the compact form (stage names)."""
    if not isinstance(data, Mapping):
        raise ParameterError(
            f"funnel must be a table with stages, won and lost; got {type(data).__name__}.",
            parameter="funnel",
        )
    stages = data.get("stages")
    full = isinstance(stages, Sequence) and bool(stages)
    full = full and all(isinstance(s, Mapping) for s in stages)  # type: ignore[union-attr]
    try:
        return Funnel.from_dict(data) if full else _compact_funnel(data)
    except (FunnelError, UnknownStageError) as err:
        raise with_prefix(err, "funnel: ") from err
    except ParameterError as err:
        if str(err).startswith("funnel"):
            raise
        raise with_prefix(err, "funnel: ") from err


def _compact_funnel(data: Mapping[str, object]) -> Funnel:
    table = keys("funnel", data, FUNNEL_COMPACT_KEYS)
    if table.get("kind", "Funnel") != "Funnel":
        raise ParameterError(f"funnel.kind must be 'Funnel'; got {table['kind']!r}.")
    for key in ("stages", "won"):
        if key not in table:
            raise ParameterError(
                f"funnel.{key} is missing; the funnel table needs stages (the open stages "
                "in order), won and usually lost."
            )
    stages = table["stages"]
    if isinstance(stages, str) or not isinstance(stages, Sequence):
        raise ParameterError(f"funnel.stages must be a list of stage names; got {stages!r}.")
    won: Any = table["won"]
    lost: Any = table.get("lost", ())
    aliases: Any = table.get("aliases")
    activities: Any = table.get("activities")
    if aliases is not None and not isinstance(aliases, Mapping):
        raise ParameterError(
            f"funnel.aliases must be a table of activity -> stage; got {aliases!r}."
        )
    if isinstance(activities, str):
        raise ParameterError(f"funnel.activities must be a list; got {activities!r}.")
    if "edges" not in table:
        return Funnel.linear(
            list(stages), won=won, lost=lost, aliases=aliases, activities=activities
        )
    edges = table["edges"]
    if isinstance(edges, str) or not isinstance(edges, Sequence):
        raise ParameterError(f"funnel.edges must be a list of [source, target]; got {edges!r}.")
    pairs: Any = [tuple(e) if isinstance(e, (list, tuple)) else e for e in edges]
    return Funnel(list(stages), pairs, won=won, lost=lost, aliases=aliases, activities=activities)


@attrs.frozen
class KPI:
    """One performance target: a metric, the value to reach and which side is better.

    The metrics, each measured per rep / team / segment by the scorecard:

    * ``stage_conversion`` (needs `stage`): the share of deals entering the open stage
      that advance past it (`salesstd.conversion`, step rate), 0 to 1.
    * ``win_rate``: the share of closed deals that were won, ``won / (won + lost)``; open
      deals are left out, 0 to 1.
    * ``cycle_time``: median days from a deal's first event to its close as won
      (`salesstd.cycle_time`).
    * ``dwell`` (needs `stage`): median days a deal stays in the open stage, open stays
      censored (`salesstd.time_in_stage`).
    * ``activities_per_deal`` (needs `stage` and `activity`): mean number of `activity`
      events per deal while the deal is in `stage`.
    * ``compliance_rate``: the share of deals that break none of the standard's rules, 0
      to 1.
    * ``deals_handled``: the number of deals.
    * ``won_value``: the total amount of the deals won (the log's amount attribute).
    * ``velocity``: sales velocity, value won per day (`salesstd.velocity`).

    A value *meets* the target when it is within `tolerance` of it, or beyond it on the
    better side; `direction` says which side is better.

    Attributes:
        name: Label of the KPI, unique within a standard.
        metric: One of the metrics above.
        target: The value to reach, >= 0, in the metric's unit (a share 0..1 for the rates,
            days for times).
        direction: ``"higher"`` (default) or ``"lower"``: which side of the target is better.
        tolerance: Half-width of the "meets" band around the target, >= 0, metric's unit.
        weight: Weight in the composite score, >= 0.
        stage: The open stage measured, required for ``stage_conversion``, ``dwell`` and
            ``activities_per_deal`` and refused for the others.
        activity: The non-stage activity counted, required for ``activities_per_deal``.

    Raises:
        ParameterError: If a value is of the wrong kind or out of range; the message names
            the field (``KPI.target``).

    Examples:
        >>> ss.KPI("qualify", "stage_conversion", 0.7, stage="Lead")
        KPI(name='qualify', metric='stage_conversion', target=0.7, direction='higher', \
tolerance=0.0, weight=1.0, stage='Lead', activity=None)
        >>> ss.KPI("win", "win_rate", 35)
        Traceback (most recent call last):
        ...
        salesstd.errors.ParameterError: KPI.target of a win_rate KPI is a share between 0 \
and 1; got 35.0. For 35% write 0.35.
    """

    name: str
    metric: Metric
    target: float = attrs.field(converter=as_float)
    direction: Direction = "higher"
    tolerance: float = attrs.field(default=0.0, converter=as_float)
    weight: float = attrs.field(default=1.0, converter=as_float)
    stage: str | None = None
    activity: str | None = None

    def __attrs_post_init__(self) -> None:
        check_kpi("KPI", self)

    def to_dict(self) -> dict[str, object]:
        """The KPI as a dict of plain values (`stage` and `activity` may be None)."""
        return {
            "name": self.name,
            "metric": self.metric,
            "target": self.target,
            "direction": self.direction,
            "tolerance": self.tolerance,
            "weight": self.weight,
            "stage": self.stage,
            "activity": self.activity,
        }


@attrs.frozen(repr=False)
class Rules:
    """The operating rules of a standard: what every deal must do (or not do).

    Allowed transitions are not listed here: they are the funnel's edges
    (`Funnel.allows`).

    Attributes:
        required_stages: Open stages a deal may not skip: a deal that moves past one
            without an event in it breaks the rule.
        allow_backward: Whether a move to an earlier open stage is allowed.
        max_dwell_days: SLA per open stage: the longest allowed stay, days, > 0.
        first_response_days: Days from a deal's first event to its first non-stage
            activity (a call, an e-mail), > 0; None for no such rule.
        required_activities: Per open stage, the non-stage activities a deal must log while
            in that stage, before leaving it, and how many of each (>= 1).
        no_events_after_close: Whether logging anything after won or lost breaks a rule.

    Raises:
        ParameterError: If a value is of the wrong kind or out of range (an SLA <= 0, a
            count < 1); the message names the field (``Rules.max_dwell_days.Lead``).

    Examples:
        >>> ss.Rules(required_stages=("Qualified",), max_dwell_days={"Lead": 14})
        Rules(required_stages=('Qualified',), max_dwell_days={'Lead': 14.0})
        >>> ss.Rules(max_dwell_days={"Lead": 0})
        Traceback (most recent call last):
        ...
        salesstd.errors.ParameterError: Rules.max_dwell_days.Lead must be a positive \
number; got 0.0.
    """

    required_stages: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    allow_backward: bool = True
    max_dwell_days: Mapping[str, float] = attrs.field(factory=dict, converter=float_map, hash=False)
    first_response_days: float | None = attrs.field(default=None, converter=as_float)
    required_activities: Mapping[str, Mapping[str, int]] = attrs.field(
        factory=dict, converter=count_map, hash=False
    )
    no_events_after_close: bool = True

    def __attrs_post_init__(self) -> None:
        check_rules("Rules", self)

    def to_dict(self) -> dict[str, object]:
        """The rules as a dict of plain values (`first_response_days` may be None)."""
        return {
            "required_stages": list(self.required_stages),
            "allow_backward": self.allow_backward,
            "max_dwell_days": dict(self.max_dwell_days),
            "first_response_days": self.first_response_days,
            "required_activities": {k: dict(x) for k, x in self.required_activities.items()},
            "no_events_after_close": self.no_events_after_close,
        }

    def __repr__(self) -> str:
        default = Rules()
        parts = []
        for field in attrs.fields(Rules):
            value = getattr(self, field.name)
            if value == getattr(default, field.name):
                continue
            if field.name == "required_activities":
                value = {k: dict(x) for k, x in value.items()}
            elif isinstance(value, Mapping):
                value = dict(value)
            parts.append(f"{field.name}={value!r}")
        return f"Rules({', '.join(parts)})"


def kpi_tuple(value: object) -> object:
    return as_tuple(value)
