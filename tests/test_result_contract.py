"""One contract for every result class in a public ``__all__``, tested once over all of them.

A result class is an attrs class with ``to_dict`` and ``to_frame`` exported by a public module
(found by introspection, so a new one joins automatically; it then needs a line in
`FACTORIES`, or `test_every_result_class_has_a_factory` fails). For each class one small real
instance is built, and the shared promises of ``STYLE.md`` section 3 are checked:

* ``to_dict()`` holds only plain JSON values and survives ``json.dumps`` (no ``default=``,
  no NaN: missing numbers are ``None``);
* ``to_frame(backend="pandas")`` and ``to_frame(backend="polars")`` have the same columns
  and the same values (each ``to_frame`` option in `FRAME_OPTIONS` is checked too);
* ``repr`` and ``_repr_html_`` work with pandas, polars and pyarrow unimportable, and are
  the same text as with them; ``to_frame`` then raises `MissingDependencyError`;
* equality with itself and with a pickled copy; the copy's dict and repr are the same;
* every numpy array reachable from the attributes is read-only, also after unpickling.

salesstd is reached only through public names, so the test holds across file moves.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import math
import pickle
import pkgutil
import sys
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType, SimpleNamespace
from typing import Any

import attrs
import numpy as np
import pytest

import salesstd as ss
from salesstd import markov

#: The public modules named in issue 11; any other public (no ``_`` in the path) module found
#: under ``salesstd`` is searched too.
PUBLIC_MODULES = (
    "salesstd",
    "salesstd.metrics",
    "salesstd.metrics.conversion",
    "salesstd.metrics.timing",
    "salesstd.metrics.flow",
    "salesstd.metrics.quality",
    "salesstd.stats",
    "salesstd.bottleneck",
    "salesstd.markov",
    "salesstd.forecast",
    "salesstd.standard",
    "salesstd.conformance",
    "salesstd.scoring",
    "salesstd.transitions",
    "salesstd.funnel",
    "salesstd.log",
    "salesstd.io",
    "salesstd.datasets",
)
FRAME_LIBRARIES = ("pandas", "polars", "pyarrow")


def _public_modules() -> list[ModuleType]:
    names = set(PUBLIC_MODULES)
    for info in pkgutil.walk_packages(ss.__path__, prefix="salesstd."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.add(info.name)
    return [importlib.import_module(name) for name in sorted(names)]


def _is_result_class(obj: object) -> bool:
    return (
        isinstance(obj, type)
        and attrs.has(obj)
        and callable(getattr(obj, "to_dict", None))
        and callable(getattr(obj, "to_frame", None))
    )


def _result_classes() -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if _is_result_class(obj):
                other = found.setdefault(obj.__name__, obj)
                assert other is obj, f"two result classes named {name}: {other} and {obj}"
    return found


RESULT_CLASSES = _result_classes()
NAMES = sorted(RESULT_CLASSES)


# ============================================================================ instances


@functools.cache
def _x() -> SimpleNamespace:
    """Shared inputs: a 300-deal synthetic pipeline, its funnel, a learned standard."""
    sim = ss.datasets.synthetic_pipeline(300, seed=3)
    standard = ss.Standard.from_log(sim.log, sim.funnel)
    return SimpleNamespace(
        sim=sim,
        log=sim.log,
        funnel=sim.funnel,
        standard=standard,
        conformance=ss.check_conformance(sim.log, standard),
        markov=markov.MarkovFunnel.from_log(sim.log, sim.funnel),
    )


def _crm_transitions() -> object:
    return ss.transitions(ss.datasets.load_crm_opportunities())


#: One small real instance of each result class (keyed by class name). Where an analysis
#: takes `by`, some factories group, so the table has a group column too.
FACTORIES: dict[str, Callable[[], object]] = {
    "BacktestResult": lambda: ss.backtest_forecast(
        _x().log, _x().funnel, cutoffs=["2024-08-01", "2024-10-01"], horizon=30, n=200, seed=0
    ),
    "BottleneckReport": lambda: ss.bottlenecks(_x().log, _x().funnel, n_boot=50, seed=0),
    "CaseFitnessTable": lambda: _x().conformance.per_case(by="team"),
    "ConformanceRates": lambda: _x().conformance.rates(by="team"),
    "ConformanceResult": lambda: _x().conformance,
    "ConversionCurves": lambda: ss.conversion_curves(_x().log, _x().funnel, by="team"),
    "ConversionResult": lambda: ss.conversion(_x().log, _x().funnel, by="team"),
    "CycleTimeResult": lambda: ss.cycle_time(_x().log, _x().funnel, outcome="Won", by="team"),
    "DataQualityResult": lambda: ss.data_quality(_x().log, _x().funnel),
    "DwellTable": lambda: ss.time_in_stage(_x().log, _x().funnel, by="team").per_case(),
    "ForecastResult": lambda: ss.forecast(
        _x().log, _x().funnel, horizon=30, value="amount", n=200, seed=0
    ),
    "LittlesLawResult": lambda: ss.littles_law(_x().log, _x().funnel, by="team"),
    "MarkovBootstrap": lambda: markov.MarkovFunnel.bootstrap(
        _x().log, _x().funnel, n_boot=20, seed=0
    ),
    "MarkovFunnel": lambda: _x().markov,
    "PipelineResult": lambda: ss.weighted_pipeline(_x().log, _x().funnel, value="amount"),
    "RampResult": lambda: ss.ramp(_x().log, _x().standard),
    "ScorecardResult": lambda: ss.scorecard(_x().log, _x().standard),
    "SensitivityResult": lambda: _x().markov.sensitivity(),  # noqa: PLW0108 (built lazily)
    "StuckResult": lambda: ss.stuck(_x().log, _x().funnel, by="team"),
    "SyntheticPipeline": lambda: _x().sim,
    "ThroughputResult": lambda: ss.throughput(_x().log, _x().funnel),
    "TimeInStageResult": lambda: ss.time_in_stage(_x().log, _x().funnel, by="team"),
    "TransitionsResult": _crm_transitions,
    "VelocityResult": lambda: ss.velocity(_x().log, _x().funnel, value="amount", by="team"),
    "WipResult": lambda: ss.wip(_x().log, _x().funnel, by="team"),
}

#: Keyword options of a ``to_frame`` beyond `backend`; every value of each is checked.
FRAME_OPTIONS: dict[str, tuple[dict[str, object], ...]] = {
    "ScorecardResult": ({"form": "long"}, {"form": "wide"}),
    "TransitionsResult": ({"durations": "timedelta"}, {"durations": "seconds"}),
}


@functools.cache
def _build(name: str) -> Any:
    if name not in FACTORIES:
        pytest.fail(f"result class {name} has no factory; add one to FACTORIES")
    result = FACTORIES[name]()
    assert type(result) is RESULT_CLASSES[name], f"factory for {name} built {type(result)}"
    return result


def _frame_options(name: str) -> tuple[dict[str, object], ...]:
    return FRAME_OPTIONS.get(name, ({},))


# ============================================================================ helpers


def _non_plain(value: object, path: str) -> Iterator[str]:
    """Paths inside a to_dict() value that are not plain JSON types (or are NaN/inf)."""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if type(value) is float:
        if not math.isfinite(value):
            yield f"{path} = {value!r}"
    elif type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                yield f"{path} key {key!r} ({type(key).__name__})"
            yield from _non_plain(item, f"{path}[{key!r}]")
    elif type(value) is list:
        for i, item in enumerate(value):
            yield from _non_plain(item, f"{path}[{i}]")
    else:
        yield f"{path} is a {type(value).__module__}.{type(value).__qualname__}"


def _writeable_arrays(obj: object, path: str, seen: set[int]) -> Iterator[str]:
    """Paths of writeable numpy arrays reachable from `obj` through attrs fields and containers."""
    if id(obj) in seen or isinstance(obj, (str, bytes)):
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        if obj.flags.writeable:
            yield path
        if obj.dtype == object:
            for i, item in enumerate(obj.ravel().tolist()):
                if not isinstance(item, (str, int, float, type(None))):
                    yield from _writeable_arrays(item, f"{path}[{i}]", seen)
    elif attrs.has(cls := type(obj)):
        for field in attrs.fields(cls):
            yield from _writeable_arrays(getattr(obj, field.name), f"{path}.{field.name}", seen)
    elif isinstance(obj, Mapping):
        for key, item in obj.items():
            yield from _writeable_arrays(item, f"{path}[{key!r}]", seen)
    elif isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            yield from _writeable_arrays(item, f"{path}[{i}]", seen)


def _pandas_column(frame: Any, name: str) -> tuple[str | None, list[object]]:
    """(time zone, values) of a pandas column; times as int nanoseconds, NaN/NaT as None.

    Times are compared in their own unit (scaled to nanoseconds as Python ints), so a
    millisecond total past the nanosecond range is compared exactly too.
    """
    import pandas as pd  # noqa: PLC0415

    series = frame[name]
    tz = None
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        tz = str(series.dt.tz)
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return tz, _plain_values(series.to_numpy())


def _polars_column(frame: Any, name: str) -> tuple[str | None, list[object]]:
    """(time zone, values) of a polars column, in the same form as `_pandas_column`."""
    import polars as pl  # noqa: PLC0415

    series = frame[name]
    tz = None
    if isinstance(series.dtype, pl.Datetime):
        tz = series.dtype.time_zone
        if tz is not None:
            series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return tz, _plain_values(series.to_numpy())


def _plain_values(values: Any) -> list[object]:
    arr = np.asarray(values)
    if arr.dtype.kind in "Mm":
        scale = int(np.array(1, dtype=arr.dtype).astype(f"{arr.dtype.kind}8[ns]").view(np.int64))
        return [None if np.isnat(x) else int(x.view(np.int64)) * scale for x in arr]
    return [
        None if x is None or (isinstance(x, float) and math.isnan(x)) else x for x in arr.tolist()
    ]


def _block_frame_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make pandas, polars and pyarrow (and their submodules) fail to import."""
    for name in list(sys.modules):
        if name.split(".", maxsplit=1)[0] in FRAME_LIBRARIES:
            monkeypatch.delitem(sys.modules, name)
    for name in FRAME_LIBRARIES:
        monkeypatch.setitem(sys.modules, name, None)


# ============================================================================ tests


def test_the_known_result_classes_are_found() -> None:
    # Discovery itself must keep working after the file moves: these are exported today.
    assert {"ConversionResult", "MarkovFunnel", "ScorecardResult", "TransitionsResult"} <= set(
        NAMES
    )
    assert len(NAMES) >= 25


def test_every_result_class_has_a_factory() -> None:
    missing = sorted(set(NAMES) - set(FACTORIES))
    stale = sorted(set(FACTORIES) - set(NAMES))
    assert not missing, f"exported result classes without a factory in FACTORIES: {missing}"
    assert not stale, f"FACTORIES entries for classes no longer exported: {stale}"


@pytest.mark.parametrize("name", NAMES)
def test_to_frame_takes_backend_and_its_options_are_covered(name: str) -> None:
    params = inspect.signature(RESULT_CLASSES[name].to_frame).parameters
    assert "backend" in params, f"{name}.to_frame has no backend= option"
    assert params["backend"].kind is inspect.Parameter.KEYWORD_ONLY
    extra = {
        p
        for p, spec in params.items()
        if p not in {"self", "backend"} and spec.kind is inspect.Parameter.KEYWORD_ONLY
    }
    for options in _frame_options(name):
        assert set(options) == extra, f"FRAME_OPTIONS[{name!r}] must set each of {extra}"


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_is_plain_json(name: str) -> None:
    result = _build(name)
    data = result.to_dict()
    assert not list(_non_plain(data, "to_dict()"))
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert data["kind"] == name


@pytest.mark.parametrize("name", NAMES)
def test_pandas_and_polars_frames_agree(name: str) -> None:
    result = _build(name)
    for options in _frame_options(name):
        pdf = result.to_frame(backend="pandas", **options)
        plf = result.to_frame(backend="polars", **options)
        assert type(pdf).__module__.split(".")[0] == "pandas"
        assert type(plf).__module__.split(".")[0] == "polars"
        assert list(pdf.columns) == list(plf.columns), options
        assert pdf.shape == plf.shape, options
        assert pdf.shape[0] > 0, f"{name}: pick a factory whose table has rows"
        for column in pdf.columns:
            assert _pandas_column(pdf, column) == _polars_column(plf, column), (options, column)


@pytest.mark.parametrize("name", NAMES)
def test_repr_and_html_need_no_frame_library(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _build(name)
    text, page = repr(result), result._repr_html_()
    _block_frame_libraries(monkeypatch)
    with pytest.raises(ImportError):
        importlib.import_module("pandas")
    assert repr(result) == text
    assert result._repr_html_() == page
    assert text.startswith(f"{name}(")
    assert "<table" in page
    assert "</table>" in page
    for backend in ("pandas", "polars"):
        with pytest.raises(ss.MissingDependencyError, match=f"pip install 'salesstd\\[{backend}"):
            result.to_frame(backend=backend, **_frame_options(name)[0])


@pytest.mark.parametrize("name", NAMES)
def test_equal_to_itself_and_to_a_pickled_copy(name: str) -> None:
    result = _build(name)
    assert result == result  # noqa: PLR0124
    assert not (result != result)  # noqa: PLR0124, SIM202
    copy = pickle.loads(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301
    assert type(copy) is type(result)
    assert copy == result
    assert repr(copy) == repr(result)
    assert json.dumps(copy.to_dict(), allow_nan=False) == json.dumps(
        result.to_dict(), allow_nan=False
    )


@pytest.mark.parametrize("name", NAMES)
def test_arrays_are_read_only(name: str) -> None:
    result = _build(name)
    assert not list(_writeable_arrays(result, name, set()))


@pytest.mark.parametrize("name", NAMES)
def test_arrays_stay_read_only_after_unpickling(name: str) -> None:
    copy = pickle.loads(pickle.dumps(_build(name)))  # noqa: S301
    assert not list(_writeable_arrays(copy, f"unpickled {name}", set()))
