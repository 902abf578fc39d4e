"""The public surface: every exported name is in the reference docs, and none goes missing.

Documented means rendered. Each ``::: salesstd.x`` directive in ``docs/reference/*.md`` renders
the members mkdocstrings-python picks with the options in force (``mkdocs.yml`` plus any
``options:`` under the directive): an explicit ``members`` list, else the module's members
(its own and those in its ``__all__``) that pass ``filters`` and, unless
``show_if_no_docstring``, have a docstring. Griffe, the loader mkdocstrings uses, reads the
source for that, so a constant documented only by a ``#:`` comment counts as undocumented,
as it is on the built site. A name in any public ``__all__`` is documented when some page
renders that same object (a module: when it has its own page).

`PREVIOUS_ALL` freezes the ``__all__`` lists of the last release so a move or rename that
drops a public name fails here.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import griffe
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]

import salesstd as ss

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
DIRECTIVE = re.compile(r"^:::\s*(salesstd(?:\.\w+)*)\s*$")

#: Exported names the reference pages leave out on purpose, with the reason.
NOT_RENDERED = {
    ("salesstd", "__version__"): "package metadata; the docs' filters hide names starting _",
}

# Frozen from commit 6226591 (main before issue 11): the __all__ of salesstd and of every
# module path without a "_" part, printed once by a snippet and pasted here.
PREVIOUS_ALL: dict[str, tuple[str, ...]] = {
    "salesstd": (
        "KPI",
        "BacktestResult",
        "BacktestRow",
        "BottleneckReport",
        "CaseConformance",
        "CaseFitnessTable",
        "ConformanceRates",
        "ConformanceResult",
        "ConversionCurves",
        "ConversionResult",
        "CycleTime",
        "CycleTimeResult",
        "DataQualityResult",
        "DroppedEventsWarning",
        "DwellTable",
        "EntityScore",
        "EventLog",
        "Finding",
        "ForecastResult",
        "Funnel",
        "FunnelError",
        "IncidenceCurve",
        "IncidencePoint",
        "InvalidLogError",
        "KpiScore",
        "LittlesLawResult",
        "MarkovBootstrap",
        "MarkovFunnel",
        "MarkovStage",
        "MarkovStageInterval",
        "MissingDependencyError",
        "ParameterError",
        "PipelineResult",
        "PipelineStage",
        "PipelineTotal",
        "RampCohort",
        "RampResult",
        "RuleRate",
        "Rules",
        "SalesStdError",
        "SalesStdWarning",
        "ScorecardResult",
        "SensitivityResult",
        "SmallSampleWarning",
        "Stage",
        "StageConversion",
        "StageDwell",
        "StageFlow",
        "StageForecast",
        "StageThroughput",
        "StageWip",
        "Standard",
        "StuckResult",
        "StuckStage",
        "ThroughputResult",
        "TimeInStageResult",
        "TransitionSensitivity",
        "TransitionStats",
        "TransitionsResult",
        "UnknownStageError",
        "Velocity",
        "VelocityResult",
        "VocabularyWarning",
        "WipResult",
        "__version__",
        "backtest_forecast",
        "bottlenecks",
        "check_conformance",
        "conversion",
        "conversion_curves",
        "cycle_time",
        "data_quality",
        "datasets",
        "example_standard_path",
        "forecast",
        "littles_law",
        "ramp",
        "read_csv",
        "read_parquet",
        "read_xes",
        "scorecard",
        "stuck",
        "throughput",
        "time_in_stage",
        "transitions",
        "velocity",
        "weighted_pipeline",
        "wip",
    ),
    "salesstd.bottleneck": ("BottleneckReport", "Finding", "bottlenecks"),
    "salesstd.cli": ("main",),
    "salesstd.conformance": (
        "RULES",
        "CaseConformance",
        "CaseFitnessTable",
        "ConformanceRates",
        "ConformanceResult",
        "RuleRate",
        "check_conformance",
    ),
    "salesstd.datasets": (
        "CrmTables",
        "DwellDistribution",
        "PilotEffect",
        "SyntheticPipeline",
        "load_crm_opportunities",
        "load_crm_tables",
        "synthetic_pipeline",
    ),
    "salesstd.errors": (
        "DroppedEventsWarning",
        "FunnelError",
        "InvalidLogError",
        "MissingDependencyError",
        "ParameterError",
        "SalesStdError",
        "SalesStdWarning",
        "SmallSampleWarning",
        "UnknownStageError",
        "VocabularyWarning",
    ),
    "salesstd.forecast": (
        "BacktestResult",
        "BacktestRow",
        "ForecastResult",
        "StageForecast",
        "backtest_forecast",
        "forecast",
    ),
    "salesstd.funnel": ("Funnel", "Stage"),
    "salesstd.io": ("read_csv", "read_parquet", "read_xes"),
    "salesstd.log": ("EventLog",),
    "salesstd.markov": (
        "MarkovBootstrap",
        "MarkovFunnel",
        "MarkovStage",
        "MarkovStageInterval",
        "SensitivityResult",
        "TransitionSensitivity",
    ),
    "salesstd.metrics": (
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
    ),
    "salesstd.metrics.conversion": (
        "ConversionCurves",
        "ConversionResult",
        "IncidenceCurve",
        "IncidencePoint",
        "StageConversion",
        "conversion",
        "conversion_curves",
    ),
    "salesstd.metrics.flow": (
        "LittlesLawResult",
        "PipelineResult",
        "PipelineStage",
        "PipelineTotal",
        "StageFlow",
        "StageThroughput",
        "StageWip",
        "StuckResult",
        "StuckStage",
        "ThroughputResult",
        "Velocity",
        "VelocityResult",
        "WipResult",
        "littles_law",
        "stuck",
        "throughput",
        "velocity",
        "weighted_pipeline",
        "wip",
    ),
    "salesstd.metrics.quality": ("DataQualityResult", "data_quality"),
    "salesstd.metrics.timing": (
        "CycleTime",
        "CycleTimeResult",
        "DwellTable",
        "StageDwell",
        "TimeInStageResult",
        "cycle_time",
        "time_in_stage",
    ),
    "salesstd.scoring": (
        "EntityScore",
        "KpiScore",
        "RampCohort",
        "RampResult",
        "ScorecardResult",
        "ramp",
        "scorecard",
    ),
    "salesstd.standard": ("KPI", "Rules", "Standard", "example_standard_path"),
    "salesstd.stats": (
        "Bounds",
        "CumulativeIncidence",
        "Interval",
        "KaplanMeier",
        "QuantileEstimate",
        "RestrictedMean",
        "beta_binomial_shrinkage",
        "cumulative_incidence",
        "kaplan_meier",
        "proportion_interval",
    ),
    "salesstd.transitions": ("TransitionStats", "TransitionsResult", "transitions"),
}


def _public_module_names() -> list[str]:
    names = {"salesstd"}
    for info in pkgutil.walk_packages(ss.__path__, prefix="salesstd."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.add(info.name)
    return sorted(names)


PUBLIC_MODULES = _public_module_names()


# ============================================================================ the docs


def _directives(text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(module path, local options)`` of each ``::: path`` line and its indented YAML."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        found = DIRECTIVE.match(line)
        if found is None:
            continue
        block = []
        for follow in lines[i + 1 :]:
            if not follow.strip() or not follow[0].isspace():
                break
            block.append(follow)
        config = yaml.safe_load("\n".join(block)) if block else None
        options = (config or {}).get("options") or {}
        yield found.group(1), dict(options)


@functools.cache
def _global_options() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    for plugin in config.get("plugins", []):
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            handler = plugin["mkdocstrings"].get("handlers", {}).get("python", {})
            return dict(handler.get("options") or {})
    return {}


@functools.cache
def _pages() -> dict[str, tuple[str, dict[str, Any]]]:
    """Module path -> (page file name, options in force) for every reference directive."""
    pages: dict[str, tuple[str, dict[str, Any]]] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        for path, local in _directives(page.read_text(encoding="utf-8")):
            pages[path] = (page.name, {**_global_options(), **local})
    return pages


@functools.cache
def _griffe_package() -> griffe.Module:
    search = str(Path(ss.__file__).resolve().parents[1])
    package = griffe.load("salesstd", search_paths=[search], resolve_aliases=False)
    assert isinstance(package, griffe.Module)
    return package


def _keep(name: str, filters: list[str]) -> bool:
    """mkdocstrings-python's name filter: the last matching rule wins; ``!`` excludes."""
    keep = None
    kinds = set()
    for rule in filters:
        exclude = rule.startswith("!")
        kinds.add(exclude)
        if re.search(rule[1:] if exclude else rule, name):
            keep = not exclude
    return (kinds != {False}) if keep is None else keep


def _rendered(path: str, options: Mapping[str, Any]) -> set[str]:
    """Names of the members a ``::: path`` directive renders with these options."""
    module = _griffe_package()[path.removeprefix("salesstd.")] if path != "salesstd" else None
    members = _griffe_package().members if module is None else module.members
    wanted = options.get("members")
    if wanted is False:
        return set()
    if isinstance(wanted, list):
        return {name for name in wanted if name in members}
    return {name for name, member in members.items() if _shown(name, member, options)}


def _shown(name: str, member: griffe.Object | griffe.Alias, options: Mapping[str, Any]) -> bool:
    """mkdocstrings' choice without a members list: filters, imports, docstrings."""
    try:
        if member.is_module and not options.get("show_submodules", False):
            return False
        if options.get("members") is True:
            return True
        if not _keep(name, list(options.get("filters") or [])):
            return False
        if member.is_imported and not member.is_public:
            return False  # an import that is not re-exported
        return bool(options.get("show_if_no_docstring", False) or member.has_docstrings)
    except griffe.AliasResolutionError:
        return False  # an import from outside the package (``annotations``, ``np``...)


@functools.cache
def _documented_objects() -> tuple[list[object], set[str]]:
    """The runtime objects some reference page renders, and the modules that have a page."""
    objects: list[object] = []
    for path, (_, options) in _pages().items():
        module = importlib.import_module(path)
        objects.extend(getattr(module, name) for name in _rendered(path, options))
    return objects, set(_pages())


def _undocumented(module: ModuleType) -> list[str]:
    objects, pages = _documented_objects()
    missing = []
    for name in module.__all__:
        if (module.__name__, name) in NOT_RENDERED:
            continue
        value = getattr(module, name)
        if isinstance(value, ModuleType):
            if value.__name__ not in pages:
                missing.append(f"{name} (module without a ::: {value.__name__} page)")
        elif not any(value is obj for obj in objects):
            missing.append(name)
    return missing


# ============================================================================ tests


def test_the_reference_pages_are_found() -> None:
    pages = _pages()
    assert {"salesstd.log", "salesstd.metrics.conversion", "salesstd.markov"} <= set(pages)
    assert _global_options().get("filters") == ["!^_"]
    # `_rendered` gave exactly the members on each page of a site built at 6226591.
    rendered = _rendered("salesstd.conformance", pages["salesstd.conformance"][1])
    assert {"check_conformance", "ConformanceResult"} <= rendered
    assert "annotations" not in rendered  # imported, not re-exported


def test_rules_of_the_filter_match_mkdocstrings() -> None:
    assert _keep("EventLog", ["!^_"])
    assert not _keep("_private", ["!^_"])
    assert not _keep("other", ["^only"])
    assert _keep("only_this", ["^only"])
    assert _keep("x", [])


@pytest.mark.parametrize("path", PUBLIC_MODULES)
def test_every_exported_name_is_in_the_reference(path: str) -> None:
    module = importlib.import_module(path)
    if not hasattr(module, "__all__"):
        pytest.fail(f"public module {path} has no __all__; list its public names")
    missing = _undocumented(module)
    assert not missing, (
        f"{path}.__all__ names that no docs/reference page renders: {missing}. Add a "
        "::: directive (or a members entry), or a docstring griffe can read (a string "
        "literal right after a constant, not a #: comment)."
    )


def test_exemptions_are_still_needed() -> None:
    for (path, name), why in NOT_RENDERED.items():
        assert name in importlib.import_module(path).__all__, (path, name, why)


def test_every_public_module_was_known_to_the_last_release_or_is_new() -> None:
    # A module of the last release must still be public (new ones are welcome).
    assert set(PREVIOUS_ALL) <= set(PUBLIC_MODULES)


@pytest.mark.parametrize("path", sorted(PREVIOUS_ALL))
def test_previous_release_names_still_import(path: str) -> None:
    module = importlib.import_module(path)
    lost = [name for name in PREVIOUS_ALL[path] if not hasattr(module, name)]
    assert not lost, f"names of {path}.__all__ in the last release no longer import: {lost}"
    dropped = sorted(set(PREVIOUS_ALL[path]) - set(module.__all__))
    assert not dropped, f"names dropped from {path}.__all__ (star imports break): {dropped}"


def test_previous_top_level_names_are_the_same_objects_as_in_their_modules() -> None:
    # `from salesstd import X` and `from salesstd.<module> import X` keep naming one object.
    for path, names in PREVIOUS_ALL.items():
        if path == "salesstd":
            continue
        module = importlib.import_module(path)
        for name in names:
            if name in PREVIOUS_ALL["salesstd"]:
                assert getattr(ss, name) is getattr(module, name), (path, name)
