"""Checks and parsing behind `salesstd.standard`: every message names the key path.

A key path is how a value is reached in the dict / TOML form of a standard: ``name``,
``funnel.stages``, ``rules.max_dwell_days.Lead``, ``kpis[2].target``. Objects built directly
(``KPI(...)``, ``Rules(...)``) use the class name as the path (``KPI.target``).
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from salesstd._base import validation as v
from salesstd.errors import FunnelError, ParameterError, SalesStdError, UnknownStageError
from salesstd.funnel import Funnel

if TYPE_CHECKING:
    from salesstd.standard import KPI, Rules

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
            f"({v.listing(stages)}).{v.did_you_mean(name, stages)}"
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
            f"({v.listing(declared) or 'it declares none'}).{v.did_you_mean(name, declared)}"
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
            f"funnel must be a table with stages, won and lost; got {type(data).__name__}."
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
