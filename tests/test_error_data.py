"""Errors carry data as well as text: the parameter, the unknown name and the known names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import salesstd as ss

LOG = ss.EventLog.from_records(
    [
        ("d1", "lead", "2024-01-01"),
        ("d1", "offer", "2024-01-03"),
        ("d1", "won", "2024-01-09"),
        ("d2", "lead", "2024-01-02"),
        ("d2", "lost", "2024-01-05"),
    ]
)
FUNNEL = ss.Funnel.linear(["lead", "offer", "won"], lost="lost")


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda: ss.conversion(LOG, FUNNEL, confidence_level=1.5), "confidence_level"),
        (lambda: ss.conversion(LOG, FUNNEL, skips="sometimes"), "skips"),  # type: ignore[arg-type]
        (lambda: ss.conversion(LOG, "funnel"), "funnel"),  # type: ignore[arg-type]
        (lambda: ss.time_in_stage(LOG, FUNNEL, min_stay=-1), "min_stay"),
        # a 400-digit int once overflowed float() instead of being refused
        (lambda: ss.MarkovFunnel.from_log(LOG, FUNNEL, min_stay=10**400), "min_stay"),
        (lambda: ss.MarkovFunnel.bootstrap(LOG, FUNNEL, n_boot=0), "n_boot"),
        (lambda: ss.MarkovFunnel.bootstrap(LOG, FUNNEL, seed=-1), "seed"),
        (
            lambda: ss.stats.proportion_interval(1, 2, confidence_level="high"),  # type: ignore[arg-type]
            "confidence_level",
        ),
        (lambda: ss.conversion(LOG, FUNNEL).at("lead", group="north"), "group"),
    ],
)
def test_parameter_errors_name_their_parameter(call: Callable[[], object], parameter: str) -> None:
    with pytest.raises(ss.ParameterError) as info:
        call()
    assert info.value.parameter == parameter
    assert parameter in str(info.value)


def test_a_parameter_error_raised_directly_has_no_parameter_unless_given() -> None:
    assert ss.ParameterError("bad").parameter is None
    assert ss.ParameterError("bad", parameter="x").parameter == "x"


def test_unknown_stage_on_a_funnel_names_it_and_the_stages() -> None:
    with pytest.raises(ss.UnknownStageError) as info:
        FUNNEL.stage("ofer")
    assert info.value.name == "ofer"
    assert info.value.known == ("lead", "offer", "won", "lost")
    assert "Did you mean 'offer'?" in str(info.value)


def test_unknown_stage_in_a_result_names_the_open_stages() -> None:
    result = ss.conversion(LOG, FUNNEL)
    with pytest.raises(ss.UnknownStageError) as info:
        result.at("won")
    assert info.value.name == "won"
    assert info.value.known == ("lead", "offer")


def test_unknown_stage_in_discovery_names_the_log_activities() -> None:
    with pytest.raises(ss.UnknownStageError) as info:
        ss.Funnel.discover(LOG, won="Won", lost="lost")
    assert info.value.name == "Won"
    assert set(info.value.known) == {"lead", "offer", "won", "lost"}


def test_unknown_stage_in_a_standard_names_it() -> None:
    with pytest.raises(ss.UnknownStageError) as info:
        ss.Standard(FUNNEL, ss.Rules(required_stages=("lead", "proposal")))
    assert info.value.name == "proposal"
    assert "offer" in info.value.known


def test_errors_still_derive_from_the_builtin_a_caller_catches() -> None:
    with pytest.raises(LookupError):
        FUNNEL.stage("ofer")
    with pytest.raises(ValueError, match="confidence_level"):
        ss.conversion(LOG, FUNNEL, confidence_level=1.5)
