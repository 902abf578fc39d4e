"""The boundary of every public function: bad arguments are a `ParameterError`, nothing else.

Known answers first (each of these raised a foreign exception before issue 10: an
`AttributeError` for a wrong type, `OverflowError` for a huge duration, a numpy error for a
huge count or a negative seed, `RecursionError` for deep JSON), then Hypothesis properties
that throw random option values and random junk in standards at the public functions. The
property everywhere: a correct result or a `SalesStdError`, never anything else, and the
inputs unchanged. The properties are bounded (examples, sizes) so the file runs in well under
a minute.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import inspect
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesstd as ss
from _fixtures import FUNNEL, LOG, STANDARD
from salesstd._base import validation as v
from salesstd.errors import FunnelError, ParameterError, SalesStdError

#: Public functions taking (log, funnel) or (log, standard), with the options they need.
LOG_FUNNEL: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "conversion": (ss.conversion, {}),
    "conversion_curves": (ss.conversion_curves, {}),
    "time_in_stage": (ss.time_in_stage, {}),
    "cycle_time": (ss.cycle_time, {}),
    "data_quality": (ss.data_quality, {}),
    "littles_law": (ss.littles_law, {}),
    "throughput": (ss.throughput, {}),
    "wip": (ss.wip, {}),
    "stuck": (ss.stuck, {}),
    "velocity": (ss.velocity, {"value": "amount"}),
    "weighted_pipeline": (ss.weighted_pipeline, {"value": "amount"}),
    "bottlenecks": (ss.bottlenecks, {"n_boot": 20}),
    "forecast": (ss.forecast, {"horizon": 10, "n": 20, "seed": 1}),
    "backtest_forecast": (
        ss.backtest_forecast,
        {"cutoffs": ["2024-01-06"], "horizon": 7, "n": 20, "seed": 1},
    ),
    "MarkovFunnel.from_log": (ss.MarkovFunnel.from_log, {}),
    "MarkovFunnel.bootstrap": (ss.MarkovFunnel.bootstrap, {"n_boot": 10, "seed": 1}),
    "Standard.from_log": (ss.Standard.from_log, {"by": None}),
}
LOG_STANDARD: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "check_conformance": (ss.check_conformance, {}),
    "scorecard": (ss.scorecard, {"by": "rep", "min_sample": 1}),
    "ramp": (ss.ramp, {"by": "rep", "kpi": "win"}),
}
ALL = {**LOG_FUNNEL, **LOG_STANDARD}


def _second(name: str) -> object:
    return STANDARD if name in LOG_STANDARD else FUNNEL


# ------------------------------------------------------------------ known answers


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("bad", ["log", None, 5, [("d1", "lead", "2024-01-01")]])
def test_a_wrong_log_type_is_a_parameter_error(name: str, bad: object) -> None:
    fn, options = ALL[name]
    with pytest.raises(ParameterError, match=r"^log must be an EventLog; got ") as info:
        fn(bad, _second(name), **options)
    assert isinstance(info.value, TypeError)
    assert "Build one with ss.read_csv" in str(info.value)


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("bad", ["funnel", None, {"stages": ["lead"]}])
def test_a_wrong_funnel_or_standard_type_is_a_parameter_error(name: str, bad: object) -> None:
    fn, options = ALL[name]
    kind = "standard must be a Standard" if name in LOG_STANDARD else "funnel must be a Funnel"
    with pytest.raises(ParameterError, match=f"^{kind}; got "):
        fn(LOG, bad, **options)


def test_swapped_arguments_are_named() -> None:
    with pytest.raises(ParameterError, match=r"got Funnel .*Are the arguments in the wrong order"):
        ss.conversion(FUNNEL, LOG)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [None, "log", 3.5])
def test_transitions_checks_its_log(bad: object) -> None:
    with pytest.raises(ParameterError, match="log must be an EventLog"):
        ss.transitions(bad)  # type: ignore[arg-type]


def test_instance_names_the_argument_the_value_and_the_fix() -> None:
    assert v.instance("n", 3, int) == 3
    with pytest.raises(ParameterError, match=r"^n must be an int; got str '3'\. Pass n=3\.$"):
        v.instance("n", "3", int, fix="Pass n=3.")
    with pytest.raises(ParameterError, match=r"^log must be an EventLog; got None\. Build one"):
        v.instance("log", None, ss.EventLog)
    long = "x" * 500
    with pytest.raises(ParameterError) as info:
        v.instance("log", long, ss.EventLog)
    assert len(str(info.value)) < 250  # a long value is cut short in the message


@pytest.mark.parametrize(
    ("name", "option", "value"),
    [
        ("conversion", "window", 1e300),
        ("conversion", "window", 10**400),
        ("conversion", "window", dt.timedelta(days=999_999_999)),
        ("conversion", "window", np.timedelta64(10**18, "D")),
        ("conversion_curves", "horizons", [1e300]),
        ("time_in_stage", "horizon", 1e300),
        ("velocity", "window", 10**30),
        ("velocity", "window", dt.timedelta(days=100_000_000)),
        ("forecast", "horizon", 1e12),
        ("forecast", "horizon", 10**30),
        ("forecast", "history", 1e300),
        ("backtest_forecast", "horizon", 1e300),
        ("backtest_forecast", "history", 1e300),
        ("ramp", "new_after", 1e300),
    ],
    ids=repr,
)
def test_huge_durations_are_refused_with_the_limit(name: str, option: str, value: object) -> None:
    fn, options = ALL[name]
    with pytest.raises(ParameterError, match=rf"{option} must be at most 36525 days \(100 years\)"):
        fn(LOG, _second(name), **{**options, option: value})


def test_a_century_is_still_a_valid_window() -> None:
    century = ss.conversion(LOG, FUNNEL, window=36_525)
    assert century.window_days == 36_525
    lead = century.at("lead")
    assert (lead.entered, lead.immature, lead.converted) == (4, 4, 0)  # none a century old


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: ss.forecast(LOG, FUNNEL, horizon=10, n=10**12),
            r"n must be at most 10,000,000 simulations; got 1000000000000",
        ),
        (
            lambda: ss.MarkovFunnel.bootstrap(LOG, FUNNEL, n_boot=10**30),
            r"n_boot must be at most 100,000 replicates",
        ),
        (
            lambda: ss.bottlenecks(LOG, FUNNEL, n_boot=10**30),
            r"n_boot must be at most 100,000 replicates",
        ),
    ],
)
def test_huge_counts_are_refused_before_numpy_allocates(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        call()


SEEDED: dict[str, Callable[[Any], object]] = {
    "forecast": lambda seed: ss.forecast(LOG, FUNNEL, horizon=10, n=50, seed=seed).wins,
    "bottlenecks": lambda seed: ss.bottlenecks(LOG, FUNNEL, n_boot=30, seed=seed).to_dict(),
    "MarkovFunnel.bootstrap": lambda seed: ss.MarkovFunnel.bootstrap(
        LOG, FUNNEL, n_boot=30, seed=seed
    ).to_dict(),
    "synthetic_pipeline": lambda seed: ss.datasets.synthetic_pipeline(20, seed=seed).log.n_events,
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_a_numpy_seed_is_taken_and_draws_what_the_int_draws(name: str) -> None:
    run = SEEDED[name]
    assert run(np.int64(3)) == run(3)
    assert run(np.uint8(3)) == run(3)


@pytest.mark.parametrize("name", sorted(SEEDED))
@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_a_bad_seed_is_refused_alike_everywhere(name: str, bad: object) -> None:
    with pytest.raises(ParameterError, match=r"seed must be an int >= 0.*Pass e\.g\. seed=0"):
        SEEDED[name](bad)


@pytest.mark.parametrize("value", [10**400, -(10**400)], ids=["+huge", "-huge"])
def test_numbers_too_large_for_a_float_are_parameter_errors(value: int) -> None:
    with pytest.raises(ParameterError, match="confidence_level must be between 0 and 1"):
        ss.conversion(LOG, FUNNEL, confidence_level=value)
    with pytest.raises(ParameterError, match="target must be a positive number"):
        ss.weighted_pipeline(LOG, FUNNEL, value="amount", target=value)


# ------------------------------------------------------------------ standards as text

BIG = "1" + "0" * 400
_JSON_BASE = '{"funnel": {"stages": ["lead"], "won": "won", "lost": "lost"}, %s}'
_TOML_BASE = '[funnel]\nstages = ["lead"]\nwon = "won"\nlost = "lost"\n%s\n'


@pytest.mark.parametrize(
    ("json_part", "toml_part", "path"),
    [
        (
            f'"kpis": [{{"name": "w", "metric": "win_rate", "target": {BIG}}}]',
            f'[[kpis]]\nname = "w"\nmetric = "win_rate"\ntarget = {BIG}',
            r"kpis\[0\]\.target must be a finite number >= 0",
        ),
        (
            f'"kpis": [{{"name": "w", "metric": "win_rate", "target": 0.5, "weight": {BIG}}}]',
            f'[[kpis]]\nname = "w"\nmetric = "win_rate"\ntarget = 0.5\nweight = {BIG}',
            r"kpis\[0\]\.weight must be a finite number >= 0",
        ),
        (
            f'"rules": {{"max_dwell_days": {{"lead": {BIG}}}}}',
            f"[rules.max_dwell_days]\nlead = {BIG}",
            r"rules\.max_dwell_days\.lead must be a positive number",
        ),
        (
            '"rules": {"first_response_days": 1e300}',
            "[rules]\nfirst_response_days = 1e300",
            r"rules\.first_response_days must be at most 36525 days",
        ),
        (
            f'"rules": {{"required_activities": {{"lead": {{"call": {BIG}}}}}}}',
            f"[rules.required_activities.lead]\ncall = {BIG}",
            r"rules\.required_activities\.lead\.call must be a whole number from 1 to 1,000,000",
        ),
        (
            '"kpis": [{"name": "amt", "metric": "won_value", "target": 1e300}]',
            '[[kpis]]\nname = "amt"\nmetric = "won_value"\ntarget = 1e300',
            r"kpis\[0\]\.target must be at most 1e\+15",
        ),
    ],
)
def test_huge_numbers_in_a_standard_name_their_key_path(
    json_part: str, toml_part: str, path: str
) -> None:
    with pytest.raises(ParameterError, match=path):
        ss.Standard.from_json(_JSON_BASE % json_part)
    with pytest.raises(ParameterError, match=path):
        ss.Standard.from_toml(_TOML_BASE % toml_part)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"name": "a", "name": "b", "funnel": {}}', "name"),
        ('{"funnel": {"stages": ["lead"], "won": "won", "won": "signed"}}', "funnel.won"),
        (
            '{"funnel": {"won": "won"}, "kpis": [{}, {"name": "a", "name": 1}]}',
            r"kpis\[1\]\.name",
        ),
    ],
)
def test_a_repeated_json_key_is_refused_with_its_path(text: str, path: str) -> None:
    with pytest.raises(ParameterError, match=rf"^standard JSON gives the key {path} twice"):
        ss.Standard.from_json(text)


def test_a_repeated_key_in_funnel_json_is_a_funnel_error() -> None:
    text = FUNNEL.to_json().replace('"kind"', '"kind": "Funnel", "kind"', 1)
    with pytest.raises(FunnelError, match="funnel JSON gives the key kind twice"):
        ss.Funnel.from_json(text)


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000],
)
def test_deep_json_is_a_parameter_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ParameterError, match="nested too deeply"):
        ss.Standard.from_json(text)
    with pytest.raises(FunnelError, match="nested too deeply"):
        ss.Funnel.from_json(text)


def test_deep_toml_is_a_parameter_error_not_a_recursion_error() -> None:
    with pytest.raises(ParameterError, match="nested too deeply"):
        ss.Standard.from_toml("a = " + "[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize("text", [5, None, {"funnel": {}}])
def test_from_json_of_a_non_string_is_a_parameter_error(text: object) -> None:
    with pytest.raises(ParameterError, match="text must be JSON text"):
        ss.Standard.from_json(text)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="text must be JSON text"):
        ss.Funnel.from_json(text)  # type: ignore[arg-type]


def test_a_path_with_a_nul_byte_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="cannot be read"):
        ss.Standard.from_toml("std\x00.toml")


# ------------------------------------------------------------------ properties


class _Opaque:
    """An object of no type the library knows; copies are itself, so inputs compare equal."""

    def __deepcopy__(self, memo: object) -> _Opaque:
        return self

    def __repr__(self) -> str:
        return "OPAQUE"


OPAQUE = _Opaque()

_NUMBERS = st.one_of(
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e-300, 1e300, 2**63, 2**64, 10**400]),
    st.integers(-5, 50).map(np.int64),
    st.floats(-1e6, 1e6).map(np.float32),
)
_TIMES = st.one_of(
    st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 1, 1)),  # noqa: DTZ001 - naive times are inputs too
    st.dates(min_value=dt.date(1700, 1, 1), max_value=dt.date(2200, 1, 1)).map(str),
    st.timedeltas(),
    st.integers(-(10**6), 10**6).map(lambda d: np.timedelta64(d, "D")),
)
_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    _NUMBERS,
    _TIMES,
    st.text(max_size=8),
    st.sampled_from(["rep", "amount", "lead", "won", "month", "wilson", "raise", "strict"]),
    st.binary(max_size=4),
    st.just(OPAQUE),
)
OPTION_VALUES = st.one_of(
    _JUNK,
    st.lists(_JUNK, max_size=3),
    st.dictionaries(st.sampled_from(["lead", "qualified", "won", "x"]), _JUNK, max_size=3),
)
#: Counts that size arrays: junk, small valid ones, and ones past every limit (a valid count
#: in the millions would only make the test slow).
_COUNTS = st.one_of(_JUNK, st.integers(-3, 40), st.integers(10**8, 10**40))
_COUNT_OPTIONS = {"n", "n_boot", "min_sample"}


def _options(name: str) -> list[str]:
    fn = ALL[name][0]
    return [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]


CALLS = [(name, option) for name in sorted(ALL) for option in _options(name)]


def _same(a: object, b: object) -> bool:
    """Equal, or both the same NaN / unorderable object (compared by repr)."""
    try:
        if a is b or bool(a == b):
            return True
    except (TypeError, ValueError):
        pass
    return repr(a) == repr(b)


def _run(fn: Callable[..., object], *args: object, **options: object) -> object | None:
    """Call `fn`; a `SalesStdError` is a fine answer, anything else fails the property."""
    try:
        return fn(*args, **options)
    except SalesStdError:
        return None


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_option_values_give_a_result_or_a_salesstd_error(data: st.DataObject) -> None:
    name, option = data.draw(st.sampled_from(CALLS), label="call")
    fn, options = ALL[name]
    if option in _COUNT_OPTIONS or (name == "ramp" and option == "window"):
        value = data.draw(_COUNTS, label=option)
    else:
        value = data.draw(OPTION_VALUES, label=option)
    before = copy.deepcopy(value)
    log_before = copy.deepcopy(LOG)
    _run(fn, LOG, _second(name), **{**options, option: value})
    assert log_before == LOG
    assert _same(value, before)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_first_arguments_give_a_parameter_error(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(ALL)), label="function")
    fn, options = ALL[name]
    bad = data.draw(OPTION_VALUES, label="log")
    with pytest.raises(ParameterError, match="log must be an EventLog"):
        fn(bad, _second(name), **options)


# Standards: a valid definition with random junk put in, as JSON and as TOML text.

_KEYS = st.one_of(
    st.sampled_from(
        [
            "name",
            "kind",
            "funnel",
            "rules",
            "kpis",
            "stages",
            "won",
            "lost",
            "edges",
            "max_dwell_days",
            "first_response_days",
            "required_activities",
            "target",
            "metric",
            "weight",
            "lead",
        ]
    ),
    st.text(min_size=1, max_size=6),
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.sampled_from([10**400, -(10**400), 0, 1, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
)
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)


def _base_definition() -> dict[str, Any]:
    return {
        "name": "fuzz",
        "funnel": {"stages": ["lead", "qualified"], "won": "won", "lost": "lost"},
        "rules": {
            "required_stages": ["lead"],
            "max_dwell_days": {"lead": 5},
            "first_response_days": 2,
            "required_activities": {"lead": {"call": 1}},
        },
        "kpis": [
            {"name": "win", "metric": "win_rate", "target": 0.4},
            {"name": "dwell", "metric": "dwell", "stage": "lead", "target": 3},
        ],
    }


@st.composite
def junk_definitions(draw: st.DrawFn) -> dict[str, Any]:
    """The base definition with 1-3 random places replaced by (or given) random junk."""
    tree = _base_definition()
    for _ in range(draw(st.integers(1, 3))):
        node: Any = tree
        while True:  # walk down to a random container
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if not isinstance(child, (dict, list)) or draw(st.booleans()):
                break
            node = child
        if isinstance(node, dict) and draw(st.booleans()):
            node[draw(_KEYS)] = draw(_TREES)
        elif keys:
            node[key] = draw(_TREES)
    return tree


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # inf and -inf are TOML too
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(x) for x in value if x is not None) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in value.items())
        return "{" + ", ".join(items) + "}"
    return '""'  # None: TOML has no null


def to_toml(definition: dict[str, Any]) -> str:
    """TOML text of a definition: one ``key = value`` line per top-level key (inline tables)."""
    return "\n".join(
        f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in definition.items() if x is not None
    )


def test_the_base_definition_reads_both_ways() -> None:
    base = _base_definition()
    from_json = ss.Standard.from_json(json.dumps(base))
    assert ss.Standard.from_toml(to_toml(base)) == from_json
    assert from_json.rules.max_dwell_days["lead"] == 5.0


def _read_or_refuse(read: Callable[[str], ss.Standard], text: str) -> None:
    try:
        standard = read(text)
    except SalesStdError:
        return
    # A standard that was taken is a usable one: it round-trips and checks a log.
    assert ss.Standard.from_json(standard.to_json()) == standard
    _run(ss.check_conformance, LOG, standard)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definition=junk_definitions())
def test_junk_in_a_json_standard_gives_a_standard_or_a_salesstd_error(
    definition: dict[str, Any],
) -> None:
    text = json.dumps(definition)  # NaN and Infinity included, as Python writes them
    _read_or_refuse(ss.Standard.from_json, text)
    assert json.dumps(definition) == text  # the definition was not touched


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definition=junk_definitions())
def test_junk_in_a_toml_standard_gives_a_standard_or_a_salesstd_error(
    definition: dict[str, Any],
) -> None:
    _read_or_refuse(ss.Standard.from_toml, to_toml(definition))


@settings(max_examples=100, deadline=None)
@given(definition=junk_definitions())
def test_junk_in_a_dict_standard_gives_a_standard_or_a_salesstd_error(
    definition: dict[str, Any],
) -> None:
    before = repr(definition)
    with contextlib.suppress(SalesStdError):
        ss.Standard.from_dict(definition)
    assert repr(definition) == before


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet='{}[]",:0123456789.eE-+ abnulrtsf\\', max_size=60))
def test_random_json_text_gives_a_standard_or_a_salesstd_error(text: str) -> None:
    _read_or_refuse(ss.Standard.from_json, text)
    with contextlib.suppress(SalesStdError):
        ss.Funnel.from_json(text)


@pytest.mark.parametrize(
    "result",
    [
        ss.wip(LOG, FUNNEL),
        ss.throughput(LOG, FUNNEL),
        ss.littles_law(LOG, FUNNEL),
        ss.stuck(LOG, FUNNEL),
        ss.weighted_pipeline(LOG, FUNNEL, value="amount"),
    ],
    ids=type,
)
def test_a_result_looked_up_by_a_list_is_a_parameter_error(result: Any) -> None:
    with pytest.raises(ParameterError, match=r"^stage must be one stage name.*; got list \[\]\."):
        result.at([])


def test_an_unknown_data_quality_check_is_a_parameter_error() -> None:
    dq = ss.data_quality(LOG, FUNNEL)
    assert dq.count("short_stays") == 0
    with pytest.raises(ParameterError, match=r"check must be one of .* Did you mean 'short_stays'"):
        dq.count("short_stay")
