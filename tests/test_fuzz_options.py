"""Option fuzz: containers and odd scalars wherever one value is expected.

`test_fuzz_api.py` throws random scalars at the options; this file throws the shapes a
caller passes by mistake where one word, number or name belongs: numpy arrays, pandas Series,
generators, lists, sets, dicts, None, NaN, bools, huge ints and bytes. The property is the
same everywhere: each call returns or raises one `SalesStdError` (library warnings allowed),
never numpy's "truth value is ambiguous", a `TypeError` or anything else.

The options are found with `inspect.signature`: every keyword-only option of the public
functions, and every parameter of the public methods of their results (``at``, ``to_frame``,
``sensitivity``, ...) and of `EventLog` lookups, so an option added later is fuzzed without
editing this file. The log and funnel are tiny and fixed; the run takes seconds.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesstd as ss
from _fixtures import FUNNEL, LOG, STANDARD
from salesstd.errors import SalesStdError, SalesStdWarning


def _quiet(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SalesStdWarning)
        return call()


#: Public functions: (function, arguments before the options, options they need).
FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[object, ...], dict[str, Any]]] = {
    "conversion": (ss.conversion, (LOG, FUNNEL), {}),
    "conversion_curves": (ss.conversion_curves, (LOG, FUNNEL), {}),
    "time_in_stage": (ss.time_in_stage, (LOG, FUNNEL), {}),
    "cycle_time": (ss.cycle_time, (LOG, FUNNEL), {}),
    "wip": (ss.wip, (LOG, FUNNEL), {}),
    "throughput": (ss.throughput, (LOG, FUNNEL), {}),
    "littles_law": (ss.littles_law, (LOG, FUNNEL), {}),
    "velocity": (ss.velocity, (LOG, FUNNEL), {"value": "amount"}),
    "stuck": (ss.stuck, (LOG, FUNNEL), {}),
    "weighted_pipeline": (ss.weighted_pipeline, (LOG, FUNNEL), {"value": "amount"}),
    "transitions": (ss.transitions, (LOG,), {}),
    "data_quality": (ss.data_quality, (LOG, FUNNEL), {}),
    "bottlenecks": (ss.bottlenecks, (LOG, FUNNEL), {"n_boot": 10, "seed": 0}),
    "MarkovFunnel.from_log": (ss.MarkovFunnel.from_log, (LOG, FUNNEL), {}),
    "forecast": (ss.forecast, (LOG, FUNNEL), {"horizon": 10, "n": 20, "seed": 1}),
    "check_conformance": (ss.check_conformance, (LOG, STANDARD), {}),
    "scorecard": (ss.scorecard, (LOG, STANDARD), {"by": "rep", "min_sample": 1}),
    "ramp": (ss.ramp, (LOG, STANDARD), {"by": "rep", "kpi": "win"}),
    "Standard.from_log": (ss.Standard.from_log, (LOG, FUNNEL), {"by": None}),
    "synthetic_pipeline": (ss.datasets.synthetic_pipeline, (20,), {"seed": 0}),
}

#: Options whose value sizes arrays: a huge int there is refused by its limit, but a valid
#: one in the millions would only make the test slow, so those get no huge ints.
SIZES = {"n", "n_boot"}


def _options(fn: Callable[..., Any]) -> list[str]:
    return [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]


FUNCTION_OPTIONS = [(name, option) for name in FUNCTIONS for option in _options(FUNCTIONS[name][0])]

#: Objects whose public methods are fuzzed: the functions' results (with their defaults), the
#: Markov model and its sensitivity, and the log's lookups.
_MARKOV = _quiet(lambda: ss.MarkovFunnel.from_log(LOG, FUNNEL))
OBJECTS: dict[str, Any] = {
    name: _quiet(functools.partial(fn, *args, **options))
    for name, (fn, args, options) in FUNCTIONS.items()
    if name not in {"Standard.from_log", "synthetic_pipeline"}
}
OBJECTS["MarkovFunnel.sensitivity"] = _MARKOV.sensitivity()
OBJECTS["MarkovFunnel.bootstrap"] = _quiet(
    lambda: ss.MarkovFunnel.bootstrap(LOG, FUNNEL, n_boot=10, seed=1)
)
OBJECTS["EventLog"] = LOG

#: A valid value for each parameter name, given to the parameters not being fuzzed.
GOOD: dict[str, object] = {
    "stage": "lead",
    "source": "lead",
    "target": "qualified",
    "kpi": "win",
    "check": "duplicate_events",
    "horizon": 7,
    "lens": "conversion",
    "rule": "max_dwell_days",
    "case": "d1",
    "name": "lead",
    "entity": "a",
    "p": 0.5,
}
#: Constructors and copies are not lookups; plots draw.
_SKIP_METHODS = {"from_log", "bootstrap", "from_arrays", "from_frame", "from_records", "plot"}


def _methods(obj: object) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for attr in dir(obj):
        if attr.startswith("_") or attr in _SKIP_METHODS:
            continue
        method = getattr(obj, attr)
        if not inspect.ismethod(method) or method.__self__ is not obj:
            continue  # a classmethod (a constructor) or a plain attribute
        out.extend((attr, p) for p in inspect.signature(method).parameters)
    return out


METHOD_PARAMETERS = [
    (name, attr, param) for name, obj in OBJECTS.items() for attr, param in _methods(obj)
]


def _generator(items: list[Any]) -> Iterator[object]:
    return (x for x in items)


_WORDS = st.sampled_from(
    ["lead", "qualified", "won", "month", "week", "strict", "pandas", "wilson", "win", "d1"]
)
_ITEMS = st.one_of(_WORDS, st.integers(-3, 3), st.floats(allow_nan=True), st.none())
#: One-value slots get these: containers (often of valid words), and odd scalars.
ODD = st.one_of(
    st.lists(_WORDS, min_size=0, max_size=3).map(lambda xs: np.array(xs, dtype=object)),
    st.lists(_WORDS, min_size=1, max_size=3).map(np.array),
    st.lists(st.integers(-2, 5), max_size=3).map(np.array),
    st.lists(_ITEMS, max_size=3).map(lambda xs: pd.Series(xs, dtype=object)),
    st.lists(_WORDS, min_size=1, max_size=3).map(pd.Series),
    st.lists(_ITEMS, max_size=3).map(_generator),
    st.lists(_ITEMS, max_size=3),
    st.lists(_WORDS, max_size=3).map(tuple),
    st.sets(_WORDS, max_size=3),
    st.frozensets(_WORDS, max_size=3),
    st.dictionaries(_WORDS, _ITEMS, max_size=2),
    st.sampled_from(
        [
            *(None, math.nan, np.float64("nan"), math.inf, True, False, np.True_, 2**64),
            *(10**400, -(10**30), b"lead", b"", pd.NA, pd.NaT, np.datetime64("NaT"), object()),
        ]
    ),
    _WORDS.map(np.str_),
    _WORDS.map(np.array),  # a 0-d array
    _WORDS.map(str.encode),
    _WORDS,
)
ODD_NO_HUGE = ODD.filter(lambda x: not (isinstance(x, int) and abs(x) > 10**6))


def _run(call: Callable[[], object]) -> None:
    """`call` returns, or raises one `SalesStdError`; anything else fails the property."""
    with contextlib.suppress(SalesStdError):
        _quiet(call)


# ------------------------------------------------------------------ known answers

_CONVERSION = ss.conversion(LOG, FUNNEL)
_ARRAY = np.array(["month", "week"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: ss.wip(LOG, FUNNEL, period=_ARRAY),  # type: ignore[arg-type]
            (
                r"^period must be one of 'day', 'week', 'month', 'quarter', 'year'; got ndarray "
                r"array\(\['month', 'week'\], dtype='<U5'\)\. Pass one of them, as a str\.$"
            ),
        ),
        (
            lambda: ss.conversion(LOG, FUNNEL, skips=pd.Series(["strict"])),  # type: ignore[arg-type]
            r"^skips must be one of 'implied', 'strict'; got Series 0\s+strict dtype: object\.",
        ),
        (
            lambda: ss.forecast(LOG, FUNNEL, horizon=5, n=10, model=_ARRAY),  # type: ignore[arg-type]
            r"^model must be one of 'renewal', 'markov'; got ndarray",
        ),
        (
            lambda: ss.forecast(LOG, FUNNEL, horizon=5, n=10, uncertainty=["process"]),  # type: ignore[arg-type]
            r"^uncertainty must be one of .*; got list \['process'\]",
        ),
        (
            lambda: ss.scorecard(LOG, STANDARD, by="rep", shrinkage=pd.Series(["none"])),  # type: ignore[arg-type]
            r"^shrinkage must be one of 'empirical_bayes', 'none'; got Series",
        ),
        (
            lambda: ss.ramp(LOG, STANDARD, by="rep", kpi=np.array(["win", "win_rate"])),  # type: ignore[arg-type]
            r"^kpi must be one KPI name or metric \(a str\) \(win, win_rate, .*\); got ndarray",
        ),
        (
            lambda: _CONVERSION.at(np.array(["lead", "qualified"])),  # type: ignore[arg-type]
            r"^stage must be one stage name \(a str\); got ndarray .*one stage at a time",
        ),
        (
            lambda: _MARKOV.at(pd.Series(["lead"])),
            r"^stage must be one stage name \(a str\); got Series",
        ),
        (
            lambda: _MARKOV.sensitivity(start=np.array(["lead"])),
            r"^start must be one stage name \(a str\); got ndarray",
        ),
        (
            lambda: _MARKOV.sensitivity().at(["lead"], "won"),
            r"^source must be one stage name; got list",
        ),
        (
            lambda: _CONVERSION.to_frame(backend=np.array(["pandas", "polars"])),  # type: ignore[arg-type]
            r"^backend must be one of 'pandas', 'polars'; got ndarray",
        ),
        (
            lambda: ss.wip(LOG, FUNNEL, by="rep").at("lead", group=np.array(["a", "b"])),
            r"^group must be one group label; got ndarray",
        ),
        (
            lambda: ss.data_quality(LOG, FUNNEL).count(np.array(["duplicate_events"])),  # type: ignore[arg-type]
            r"^check must be one of .*; got ndarray",
        ),
        (
            lambda: ss.transitions(LOG).at("lead", ["won"]),  # type: ignore[arg-type]
            r"^target must be one activity name; got list",
        ),
    ],
    ids=lambda x: "" if callable(x) else x.split(" must")[0].lstrip("^"),
)
def test_an_array_where_one_value_belongs_is_a_parameter_error(
    call: Callable[[], object], message: str
) -> None:
    """Each raised numpy's "truth value is ambiguous" (or broadcast) before issue 22."""
    with pytest.raises(ss.ParameterError, match=message):
        _quiet(call)


def test_a_choice_with_a_missing_value_names_it() -> None:
    with pytest.raises(ss.ParameterError, match=r"^period must be one of .*; got NAType <NA>\."):
        ss.wip(LOG, FUNNEL, period=pd.NA)  # type: ignore[arg-type]
    with pytest.raises(ss.ParameterError, match=r"^period must be one of .*; got None\."):
        ss.wip(LOG, FUNNEL, period=None)  # type: ignore[arg-type]
    # a numpy str is a str: taken
    assert ss.wip(LOG, FUNNEL, period=np.str_("week")).period == "week"


def test_the_fuzz_reaches_the_options_named_in_issue_22() -> None:
    options = set(FUNCTION_OPTIONS)
    for pair in [
        ("wip", "period"),
        ("conversion", "skips"),
        ("forecast", "model"),
        ("forecast", "uncertainty"),
        ("scorecard", "shrinkage"),
        ("ramp", "kpi"),
    ]:
        assert pair in options
    methods = set(METHOD_PARAMETERS)
    assert ("conversion", "at", "stage") in methods
    assert ("conversion", "to_frame", "backend") in methods
    assert ("MarkovFunnel.from_log", "at", "stage") in methods
    assert ("MarkovFunnel.from_log", "sensitivity", "start") in methods
    assert ("EventLog", "events", "case") in methods
    assert ("EventLog", "where", "cases") in methods


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_odd_option_values_give_a_result_or_a_salesstd_error(data: st.DataObject) -> None:
    name, option = data.draw(st.sampled_from(FUNCTION_OPTIONS), label="call")
    fn, args, options = FUNCTIONS[name]
    value = data.draw(ODD_NO_HUGE if option in SIZES else ODD, label=option)
    _run(lambda: fn(*args, **{**options, option: value}))


def _method_call(name: str, attr: str, param: str, value: object) -> Callable[[], object]:
    method = getattr(OBJECTS[name], attr)
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for p in inspect.signature(method).parameters.values():
        if p.name == param:
            given_value = value
        elif p.default is inspect.Parameter.empty:
            given_value = GOOD.get(p.name)
        else:
            continue
        if p.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[p.name] = given_value
        else:
            args.append(given_value)
    return lambda: method(*args, **kwargs)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_odd_lookup_values_give_a_result_or_a_salesstd_error(data: st.DataObject) -> None:
    name, attr, param = data.draw(st.sampled_from(METHOD_PARAMETERS), label="method")
    value = data.draw(ODD, label=param)
    _run(_method_call(name, attr, param, value))


#: Every shape, each given to every option and lookup parameter once (the properties above
#: draw them at random; this makes sure none is missed).
EVERY_SHAPE: list[Callable[[], object]] = [
    lambda: np.array(["month", "week"]),
    lambda: np.array([], dtype=object),
    lambda: np.array("lead"),
    lambda: pd.Series(["strict"]),
    lambda: pd.Series([], dtype=object),
    lambda: (x for x in ["lead", "won"]),
    lambda: ["lead"],
    list,
    lambda: {"lead"},
    lambda: {"lead": 1},
    lambda: None,
    lambda: math.nan,
    lambda: True,
    lambda: 10**400,
    lambda: 10**6,
    lambda: 1e300,
    lambda: -1,
    lambda: 0,
    lambda: b"lead",
    lambda: pd.NA,
    lambda: pd.NaT,
]


@pytest.mark.parametrize(("name", "option"), FUNCTION_OPTIONS, ids=str)
def test_every_shape_in_every_option(name: str, option: str) -> None:
    fn, args, options = FUNCTIONS[name]
    for make in EVERY_SHAPE:
        value = make()
        if option in SIZES and isinstance(value, int) and not isinstance(value, bool):
            continue
        _run(functools.partial(fn, *args, **{**options, option: value}))


@pytest.mark.parametrize(("name", "attr", "param"), METHOD_PARAMETERS, ids=str)
def test_every_shape_in_every_lookup(name: str, attr: str, param: str) -> None:
    for make in EVERY_SHAPE:
        _run(_method_call(name, attr, param, make()))
