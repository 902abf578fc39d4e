"""Tests of `salesstd.stats`: hand-computed answers, scipy and lifelines as oracles, properties.

lifelines is a test-only peer (the ``dev`` extra); it is imported inside the tests that use it,
with its own warnings silenced (it is not the code under test).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import stats as sps

from salesstd import stats
from salesstd.errors import ParameterError
from salesstd.stats._common import _segment_cumsum, _segment_revsum, _starts, sort_spells
from salesstd.stats._shrinkage import nanquantile, qprofile_draws, random_effects

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


@contextmanager
def quiet() -> Iterator[None]:
    """Silence warnings raised by the oracles (lifelines, scipy), not by salesstd."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def lifelines_module() -> Any:
    with quiet():
        return pytest.importorskip("lifelines")


def scipy_sf(durations: NDArray[np.float64], observed: NDArray[np.bool_]) -> Any:
    data = sps.CensoredData(uncensored=durations[observed], right=durations[~observed])
    return sps.ecdf(data).sf


def random_data(
    seed: int, n: int, n_groups: int, *, ties: bool
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    durations = rng.exponential(20.0, n)
    if ties:
        durations = np.round(durations)
    observed = rng.random(n) < 0.7
    groups = rng.integers(0, n_groups, n)
    return durations, observed, groups


def km_by_hand(
    durations: NDArray[np.float64], observed: NDArray[np.bool_]
) -> tuple[list[float], list[float], list[int], list[int], list[float]]:
    """Plain-Python Kaplan-Meier: times, survival, at risk, events, Greenwood sum."""
    times, surv, risk, events, green = [], [], [], [], []
    s, g = 1.0, 0.0
    for t in sorted(set(durations[observed].tolist())):
        n = int(np.sum(durations >= t))
        d = int(np.sum((durations == t) & observed))
        s *= 1 - d / n
        g = g + d / (n * (n - d)) if n > d else math.inf
        times.append(t)
        surv.append(s)
        risk.append(n)
        events.append(d)
        green.append(g)
    return times, surv, risk, events, green


# Six spells (say, days in a stage), two of them still open (censored):
#   t:  1  2  2+ 3  4+ 5          (+ = censored)
#   t=1: n=6 d=1  S = 5/6          Greenwood 1/30
#   t=2: n=5 d=1  S = 2/3          + 1/20  = 1/12   (the spell censored at 2 is at risk)
#   t=3: n=3 d=1  S = 4/9          + 1/6   = 1/4
#   t=5: n=1 d=1  S = 0            infinite
# Median: first S <= 0.5 is at t=3.
HAND_T = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
HAND_E = np.array([True, True, False, True, False, True])


# ---------------------------------------------------------------------------------------------
# Interval
# ---------------------------------------------------------------------------------------------


def test_interval_is_a_frozen_value() -> None:
    iv = stats.Interval(np.float64(0.1), 0.4, 0.95, "wilson")
    assert iv == stats.Interval(0.1, 0.4, 0.95, "wilson")
    assert repr(iv) == "Interval(low=0.1, high=0.4, level=0.95, method='wilson')"
    assert type(iv.low) is float
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        iv.low = 0.2  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# proportion_interval
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.95, 0.99])
def test_wilson_equals_scipy_binomtest(level: float) -> None:
    pairs = [(k, n) for n in range(1, 41) for k in range(n + 1)]
    pairs += [(0, 1000), (1, 1000), (500, 1000), (999, 1000), (1000, 1000), (7, 12345)]
    k = np.array([p[0] for p in pairs])
    n = np.array([p[1] for p in pairs])
    low, high = stats.proportion_interval(k, n, confidence_level=level)
    for i, (kk, nn) in enumerate(pairs):
        ref = sps.binomtest(kk, nn).proportion_ci(level, method="wilson")
        assert low[i] == pytest.approx(ref.low, abs=1e-12)
        assert high[i] == pytest.approx(ref.high, abs=1e-12)


@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_jeffreys_equals_beta_quantiles_with_boundary_fix(level: float) -> None:
    n = np.repeat(np.arange(1, 41), np.arange(2, 42))
    k = np.concatenate([np.arange(m + 1) for m in range(1, 41)])
    low, high = stats.proportion_interval(k, n, confidence_level=level, method="jeffreys")
    tail = (1 - level) / 2
    ref_low = sps.beta.ppf(tail, k + 0.5, n - k + 0.5)
    ref_high = sps.beta.ppf(1 - tail, k + 0.5, n - k + 0.5)
    ref_low[k == 0] = 0.0
    ref_high[k == n] = 1.0
    np.testing.assert_allclose(low, ref_low, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(high, ref_high, rtol=1e-12, atol=1e-14)
    inner = (k > 0) & (k < n)
    assert np.all(low[inner] > 0)
    assert np.all(high[inner] < 1)


def test_proportion_interval_by_hand() -> None:
    # Wilson, k=3, n=10, z=1.959964: center (3 + z²/2)/(10 + z²), half z·sqrt(2.1 + z²/4)/(10 + z²)
    z = 1.959963984540054
    center = (3 + z**2 / 2) / (10 + z**2)
    half = z * math.sqrt(3 * 7 / 10 + z**2 / 4) / (10 + z**2)
    low, high = stats.proportion_interval(3, 10)
    assert float(low) == pytest.approx(center - half, abs=1e-15)
    assert float(high) == pytest.approx(center + half, abs=1e-15)
    assert low.shape == ()
    assert float(low) == pytest.approx(0.10779126740630104)


def test_proportion_interval_zero_trials_is_nan_and_broadcasts() -> None:
    for method in ("wilson", "jeffreys"):
        low, high = stats.proportion_interval(
            np.array([[0, 0], [2, 0]]), np.array([4, 0]), method=method
        )
        assert low.shape == high.shape == (2, 2)
        assert np.isnan(low[:, 1]).all()
        assert np.isnan(high[:, 1]).all()
        assert np.isfinite(low[:, 0]).all()


def test_proportion_interval_accepts_integral_floats() -> None:
    a = stats.proportion_interval(np.array([3.0]), np.array([10.0]))
    b = stats.proportion_interval([3], [10])
    np.testing.assert_array_equal(a.low, b.low)


@given(
    st.integers(0, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.floats(0.01, 0.999),
    st.sampled_from(["wilson", "jeffreys"]),
)
def test_proportion_interval_contains_the_rate(
    kn: tuple[int, int], level: float, method: str
) -> None:
    k, n = kn
    low, high = stats.proportion_interval(k, n, confidence_level=level, method=method)  # type: ignore[arg-type]
    if n == 0:
        assert np.isnan(low)
        return
    assert 0.0 <= low <= high <= 1.0
    # The Wilson interval is the set of p whose score test accepts k/n, so it always holds
    # k/n; the Jeffreys interval is centred on the posterior median, and at very low levels
    # can miss k/n (k=1, n=3, level 0.03: [0.34, 0.36]).
    if method == "wilson" or level >= 0.5:
        assert low <= k / n <= high


def test_proportion_interval_wider_at_higher_level() -> None:
    k, n = np.arange(0, 21), np.full(21, 20)
    for method in ("wilson", "jeffreys"):
        lo90, hi90 = stats.proportion_interval(k, n, confidence_level=0.9, method=method)
        lo99, hi99 = stats.proportion_interval(k, n, confidence_level=0.99, method=method)
        assert np.all(lo99 <= lo90)
        assert np.all(hi99 >= hi90)


def test_proportion_interval_errors() -> None:
    with pytest.raises(ParameterError, match=r"successes=7 > trials=5 at index 1"):
        stats.proportion_interval([1, 7], [5, 5])
    with pytest.raises(ParameterError, match=r"successes=3 > trials=2 at index \(1, 0\)"):
        stats.proportion_interval([[1], [3]], [2])
    with pytest.raises(ParameterError, match=r"successes=7 > trials=5\."):
        stats.proportion_interval(7, 5)
    with pytest.raises(ParameterError, match="successes must be whole numbers >= 0; got -1"):
        stats.proportion_interval(-1, 5)
    with pytest.raises(ParameterError, match=r"trials must be whole numbers >= 0; got 2\.5"):
        stats.proportion_interval(1, 2.5)
    with pytest.raises(ParameterError, match="whole numbers"):
        stats.proportion_interval(["a"], [2])
    with pytest.raises(ParameterError, match="broadcastable"):
        stats.proportion_interval([1, 2, 3], [4, 5])
    with pytest.raises(ParameterError, match=r"For 95% pass 0\.95"):
        stats.proportion_interval(1, 5, confidence_level=95)
    with pytest.raises(ParameterError, match="Did you mean 'wilson'"):
        stats.proportion_interval(1, 5, method="wilsn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="confidence_level"):  # ParameterError is a ValueError
        stats.proportion_interval(1, 5, confidence_level=1.0)


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier: known answers
# ---------------------------------------------------------------------------------------------


def test_kaplan_meier_by_hand() -> None:
    km = stats.kaplan_meier(HAND_T, HAND_E)
    assert km.time.tolist() == [1.0, 2.0, 3.0, 5.0]
    np.testing.assert_allclose(km.survival, [5 / 6, 2 / 3, 4 / 9, 0.0], rtol=1e-15)
    assert km.at_risk.tolist() == [6, 5, 3, 1]
    assert km.events.tolist() == [1, 1, 1, 1]
    np.testing.assert_allclose(km.greenwood[:3], [1 / 30, 1 / 12, 1 / 4], rtol=1e-15)
    assert km.greenwood[3] == math.inf
    assert km.group_offsets.tolist() == [0, 4]
    assert (km.n.tolist(), km.n_events.tolist(), km.n_censored.tolist()) == ([6], [4], [2])
    assert repr(km) == "KaplanMeier(groups=1, n=6, events=4, steps=4)"
    se = km.standard_error
    assert se[0] == pytest.approx(5 / 6 * math.sqrt(1 / 30))
    assert np.isnan(se[3])


def test_kaplan_meier_quantile_by_hand() -> None:
    km = stats.kaplan_meier(HAND_T, HAND_E)
    est = km.quantile(0.5)
    assert est.value.tolist() == [3.0]
    # lower band at t=1: S=5/6, se(log-log) = sqrt(1/30)/|log(5/6)|
    s, v = 5 / 6, 1 / 30
    z = 1.959963984540054
    low1 = math.exp(-math.exp(math.log(-math.log(s)) + z * math.sqrt(v) / -math.log(s)))
    assert low1 < 0.5
    assert est.low.tolist() == [1.0]
    # upper band at t=3 (S=4/9, V=1/4) stays above 1/2; at t=5 S=0 and the band is undefined.
    s, v = 4 / 9, 1 / 4
    high3 = math.exp(-math.exp(math.log(-math.log(s)) - z * math.sqrt(v) / -math.log(s)))
    assert high3 > 0.5
    assert np.isnan(est.high).all()
    band = km.confidence_band()
    assert band.low[0] == pytest.approx(low1, rel=1e-13)
    assert band.high[2] == pytest.approx(high3, rel=1e-13)
    assert np.isnan(band.low[3])
    assert np.isnan(band.high[3])
    # the quartiles: S <= 0.75 first at t=2; S <= 0.25 first at t=5
    assert km.quantile(0.25).value.tolist() == [2.0]
    assert km.quantile(0.75).value.tolist() == [5.0]


def test_median_on_an_exact_flat_is_the_first_time() -> None:
    # No censoring, n=4: S = 3/4, 1/2, 1/4, 0 -- the curve sits exactly on 1/2 from t=2 to 3.
    km = stats.kaplan_meier([1.0, 2.0, 3.0, 4.0], [True] * 4)
    assert km.quantile(0.5).value.tolist() == [2.0]
    # n=100 (survival lands on 0.5 after 50 steps, whatever the rounding)
    km = stats.kaplan_meier(np.arange(1.0, 101.0), np.ones(100, bool))
    assert km.quantile(0.5).value.tolist() == [50.0]
    assert km.quantile(0.3).value.tolist() == [30.0]


def test_survival_at_by_hand() -> None:
    km = stats.kaplan_meier(HAND_T, HAND_E)
    got = km.survival_at([-1.0, 0.0, 0.999, 1.0, 2.5, 4.0, 5.0, 100.0, math.inf])
    np.testing.assert_allclose(
        got, [[1, 1, 1, 5 / 6, 2 / 3, 4 / 9, 0, 0, 0]], rtol=1e-15, atol=1e-300
    )
    assert got.shape == (1, 9)
    assert km.survival_at(2.0).tolist() == pytest.approx([2 / 3])
    assert km.survival_at(2.0).shape == (1,)
    unsorted = km.survival_at([4.0, 1.0, 3.0])
    np.testing.assert_allclose(unsorted, [[4 / 9, 5 / 6, 4 / 9]])


def test_restricted_mean_by_hand() -> None:
    km = stats.kaplan_meier(HAND_T, HAND_E)
    # area to 4: 1*1 + 5/6*1 + 2/3*1 + 4/9*1 = 2.9444...
    rm = km.restricted_mean(4.0)
    assert rm.value.tolist() == pytest.approx([1 + 5 / 6 + 2 / 3 + 4 / 9])
    # variance: A(t1) = 5/6 + 2/3 + 4/9, A(t2) = 2/3 + 4/9, A(t3) = 4/9
    a1, a2, a3 = 5 / 6 + 2 / 3 + 4 / 9, 2 / 3 + 4 / 9, 4 / 9
    var = a1**2 / 30 + a2**2 / 20 + a3**2 / 6
    assert rm.standard_error.tolist() == pytest.approx([math.sqrt(var)])
    # horizon inside the first spell: area = horizon, no variance
    rm = km.restricted_mean(0.5)
    assert rm.value.tolist() == [0.5]
    assert rm.standard_error.tolist() == [0.0]
    # beyond the last time: the curve is 0 after t=5, so the area stops growing
    assert km.restricted_mean(50.0).value.tolist() == pytest.approx([1 + 5 / 6 + 2 / 3 + 2 * 4 / 9])


def test_restricted_mean_with_one_horizon_per_group() -> None:
    durations, observed, groups = random_data(2, 300, 4, ties=True)
    km = stats.kaplan_meier(durations, observed, groups, n_groups=5)  # group 4 is empty
    horizons = np.array([0.0, 3.5, 20.0, math.nan, 7.0])
    rm = km.restricted_mean(horizons)
    for g in (0, 1, 2):
        one = km.restricted_mean(horizons[g])
        assert rm.value[g] == one.value[g]
        assert rm.standard_error[g] == one.standard_error[g]
    assert (rm.value[0], rm.standard_error[0]) == (0.0, 0.0)
    assert np.isnan(rm.value[3:]).all()
    assert np.isnan(rm.standard_error[3:]).all()


def test_restricted_mean_extends_a_censored_tail_flat() -> None:
    km = stats.kaplan_meier([1.0, 3.0], [True, False])  # S = 1/2 from t=1 on
    assert km.restricted_mean(5.0).value.tolist() == [1 + 0.5 * 4]


def test_kaplan_meier_many_groups_by_hand() -> None:
    # group 0: the hand example; group 1: nothing; group 2: all censored; group 3: one event
    durations = np.concatenate([HAND_T, [2.0, 3.0], [4.0]])
    observed = np.concatenate([HAND_E, [False, False], [True]])
    groups = np.array([0] * 6 + [2, 2] + [3])
    km = stats.kaplan_meier(durations, observed, groups, n_groups=5)
    assert km.n_groups == 5
    assert km.group_offsets.tolist() == [0, 4, 4, 4, 5, 5]
    assert km.n.tolist() == [6, 0, 2, 1, 0]
    assert km.n_events.tolist() == [4, 0, 0, 1, 0]
    assert km.n_censored.tolist() == [2, 0, 2, 0, 0]
    assert km.time[km.steps(3)].tolist() == [4.0]
    at = km.survival_at([0.0, 3.0, 10.0])
    np.testing.assert_allclose(at[0], [1, 4 / 9, 0])
    assert np.isnan(at[1]).all()
    assert at[2].tolist() == [1, 1, 1]
    assert at[3].tolist() == [1, 1, 0]
    assert np.isnan(at[4]).all()
    q = km.quantile(0.5)
    assert q.value[0] == 3.0
    assert np.isnan(q.value[1:3]).all()
    assert q.value[3] == 4.0
    rm = km.restricted_mean(3.0)
    assert rm.value[2] == 3.0
    assert rm.standard_error[2] == 0.0
    assert np.isnan(rm.value[[1, 4]]).all()
    assert rm.value[3] == 3.0


def test_kaplan_meier_empty_and_degenerate_inputs() -> None:
    km = stats.kaplan_meier([], [])
    assert km.n_groups == 1
    assert km.time.size == 0
    assert np.isnan(km.survival_at(1.0)).all()
    assert np.isnan(km.quantile().value).all()
    km = stats.kaplan_meier(np.array([]), np.array([], bool), np.array([], int))
    assert km.n_groups == 0
    assert km.survival_at([1.0, 2.0]).shape == (0, 2)
    assert km.quantile().value.shape == (0,)
    km = stats.kaplan_meier([0.0, 0.0, 1.0], [True, False, True])
    assert km.time.tolist() == [0.0, 1.0]
    assert km.survival.tolist() == pytest.approx([2 / 3, 0.0])
    assert km.restricted_mean(2.0).value.tolist() == pytest.approx([2 / 3])


def test_kaplan_meier_result_is_frozen_and_read_only() -> None:
    km = stats.kaplan_meier(HAND_T, HAND_E)
    with pytest.raises(ValueError, match="read-only"):
        km.survival[0] = 1.0
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        km.time = km.time  # type: ignore[misc]
    assert km == stats.kaplan_meier(HAND_T[::-1], HAND_E[::-1])
    assert km != stats.kaplan_meier(HAND_T, ~HAND_E)


def test_kaplan_meier_does_not_keep_the_callers_arrays() -> None:
    durations = HAND_T.copy()
    km = stats.kaplan_meier(durations, HAND_E)
    durations[:] = 99.0
    assert km.time.tolist() == [1.0, 2.0, 3.0, 5.0]


def test_kaplan_meier_errors() -> None:
    with pytest.raises(ParameterError, match=r"got -1\.0 at position 1"):
        stats.kaplan_meier([1.0, -1.0], [True, True])
    with pytest.raises(ParameterError, match="finite and >= 0; got nan"):
        stats.kaplan_meier([1.0, math.nan], [True, True])
    with pytest.raises(ParameterError, match="finite"):
        stats.kaplan_meier([math.inf], [True])
    with pytest.raises(ParameterError, match="one-dimensional"):
        stats.kaplan_meier([[1.0]], [[True]])
    with pytest.raises(ParameterError, match="numbers"):
        stats.kaplan_meier(["a"], [True])
    with pytest.raises(ParameterError, match=r"one entry per duration \(2\)"):
        stats.kaplan_meier([1.0, 2.0], [True])
    with pytest.raises(ParameterError, match=r"got 2 at position 1"):
        stats.kaplan_meier([1.0, 2.0], [1, 2])
    with pytest.raises(ParameterError, match="booleans"):
        stats.kaplan_meier([1.0], ["yes"])
    with pytest.raises(ParameterError, match=r"groups must be < n_groups=2; got 2 .* n_groups=3"):
        stats.kaplan_meier([1.0, 2.0], [True, True], [0, 2], n_groups=2)
    with pytest.raises(ParameterError, match="groups must be >= 0"):
        stats.kaplan_meier([1.0, 2.0], [True, True], [0, -1])
    with pytest.raises(ParameterError, match="integer codes"):
        stats.kaplan_meier([1.0, 2.0], [True, True], ["a", "b"])
    with pytest.raises(ParameterError, match="n_groups must be a whole number >= 1"):
        stats.kaplan_meier([1.0], [True], n_groups=0)
    km = stats.kaplan_meier(HAND_T, HAND_E)
    with pytest.raises(ParameterError, match="q must be between 0 and 1"):
        km.quantile(1.0)
    with pytest.raises(ParameterError, match=r"For 90% pass 0\.9"):
        km.quantile(0.5, confidence_level=90)
    with pytest.raises(ParameterError, match="horizon must be a finite number >= 0"):
        km.restricted_mean(-1.0)
    with pytest.raises(ParameterError, match="horizon must be a finite number >= 0"):
        km.restricted_mean(math.inf)
    with pytest.raises(ParameterError, match="horizon must be a number"):
        km.restricted_mean("10")
    with pytest.raises(ParameterError, match="horizon must be a number"):
        km.restricted_mean(True)  # noqa: FBT003
    with pytest.raises(ParameterError, match=r"one per group \(1\); got shape \(2,\)"):
        km.restricted_mean([1.0, 2.0])
    with pytest.raises(ParameterError, match=r"got -2\.0 at group 0"):
        km.restricted_mean([-2.0])
    with pytest.raises(ParameterError, match="must not be NaN"):
        km.survival_at([1.0, math.nan])
    with pytest.raises(ParameterError, match="1-D"):
        km.survival_at([[1.0]])
    with pytest.raises(ParameterError, match="between 0 and 0"):
        km.steps(1)
    with pytest.raises(ParameterError, match="integer code"):
        km.steps(group=True)


def test_no_groups_with_n_groups_puts_everything_in_group_zero() -> None:
    km = stats.kaplan_meier(HAND_T, HAND_E, n_groups=3)
    assert km.n.tolist() == [6, 0, 0]
    assert km.group_offsets.tolist() == [0, 4, 4, 4]
    assert km.at_risk.tolist() == [6, 5, 3, 1]
    ci = stats.cumulative_incidence(AJ_T, AJ_C, n_groups=2)
    assert ci.n.tolist() == [6, 0]
    assert ci.at_risk.tolist() == [6, 4, 2, 1]


def test_groups_may_be_integral_floats() -> None:
    a = stats.kaplan_meier(HAND_T, HAND_E, np.zeros(6))
    assert a == stats.kaplan_meier(HAND_T, HAND_E)


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier against scipy.stats.ecdf
# ---------------------------------------------------------------------------------------------


def assert_matches_scipy(
    durations: NDArray[np.float64],
    observed: NDArray[np.bool_],
    groups: NDArray[np.int64],
    n_groups: int,
) -> None:
    km = stats.kaplan_meier(durations, observed, groups, n_groups=n_groups)
    probe = np.unique(np.concatenate([durations, durations + 0.5, [0.0, 1e9]]))
    at = km.survival_at(probe)
    band = km.confidence_band(0.9)
    for g in range(n_groups):
        sel = groups == g
        steps = km.steps(g)
        if not sel.any():
            assert steps.start == steps.stop
            assert np.isnan(at[g]).all()
            continue
        sf = scipy_sf(durations[sel], observed[sel])
        # scipy keeps every distinct time; the steps are those with an event
        with_event = sf._d > 0
        np.testing.assert_array_equal(km.time[steps], sf.quantiles[with_event])
        np.testing.assert_allclose(
            km.survival[steps], sf.probabilities[with_event], rtol=0, atol=1e-12
        )
        np.testing.assert_array_equal(km.at_risk[steps], sf._n[with_event])
        np.testing.assert_array_equal(km.events[steps], sf._d[with_event])
        np.testing.assert_allclose(at[g], sf.evaluate(probe), rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            km.survival_at(sf.quantiles)[g], sf.probabilities, rtol=0, atol=1e-12
        )
        with quiet():
            ci = sf.confidence_interval(0.9, method="log-log")
        np.testing.assert_allclose(
            band.low[steps], ci.low.probabilities[with_event], rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(
            band.high[steps], ci.high.probabilities[with_event], rtol=0, atol=1e-12
        )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", [False, True])
def test_kaplan_meier_equals_scipy_ecdf_on_random_groups(seed: int, *, ties: bool) -> None:
    durations, observed, groups = random_data(seed, 400, 4, ties=ties)
    assert_matches_scipy(durations, observed, groups, 5)  # group 4 stays empty


def test_kaplan_meier_equals_scipy_on_a_large_group() -> None:
    durations, observed, groups = random_data(99, 20_000, 3, ties=False)
    assert_matches_scipy(durations, observed, groups, 3)


@st.composite
def survival_data(
    draw: st.DrawFn, max_n: int = 40, max_groups: int = 3
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64], int]:
    n = draw(st.integers(0, max_n))
    n_groups = draw(st.integers(1, max_groups))
    durations = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    observed = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    groups = draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n))
    return (
        np.array(durations, dtype=np.float64),
        np.array(observed, dtype=bool),
        np.array(groups, dtype=np.int64),
        n_groups,
    )


@given(survival_data())
def test_kaplan_meier_equals_scipy_ecdf_property(
    data: tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64], int],
) -> None:
    assert_matches_scipy(*data)


@given(survival_data())
def test_kaplan_meier_equals_plain_python(
    data: tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64], int],
) -> None:
    durations, observed, groups, n_groups = data
    km = stats.kaplan_meier(durations, observed, groups, n_groups=n_groups)
    for g in range(n_groups):
        sel = groups == g
        times, surv, risk, events, green = km_by_hand(durations[sel], observed[sel])
        steps = km.steps(g)
        assert km.time[steps].tolist() == times
        np.testing.assert_allclose(km.survival[steps], surv, rtol=1e-13, atol=1e-15)
        assert km.at_risk[steps].tolist() == risk
        assert km.events[steps].tolist() == events
        np.testing.assert_allclose(km.greenwood[steps], green, rtol=1e-12)
        assert km.n[g] == sel.sum()
        assert km.n_events[g] == observed[sel].sum()


@given(survival_data(), st.randoms(use_true_random=False))
def test_kaplan_meier_ignores_row_order(
    data: tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64], int], rnd: Any
) -> None:
    durations, observed, groups, n_groups = data
    perm = list(range(durations.size))
    rnd.shuffle(perm)
    a = stats.kaplan_meier(durations, observed, groups, n_groups=n_groups)
    b = stats.kaplan_meier(durations[perm], observed[perm], groups[perm], n_groups=n_groups)
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_allclose(a.survival, b.survival, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(a.group_offsets, b.group_offsets)


@given(survival_data())
def test_groups_at_once_equal_groups_one_by_one(
    data: tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64], int],
) -> None:
    durations, observed, groups, n_groups = data
    km = stats.kaplan_meier(durations, observed, groups, n_groups=n_groups)
    q = km.quantile(0.5, confidence_level=0.8)
    rm = km.restricted_mean(6.5)
    for g in range(n_groups):
        sel = groups == g
        one = stats.kaplan_meier(durations[sel], observed[sel])
        np.testing.assert_array_equal(km.time[km.steps(g)], one.time)
        np.testing.assert_allclose(km.survival[km.steps(g)], one.survival, rtol=0, atol=1e-15)
        q1 = one.quantile(0.5, confidence_level=0.8)
        for got, want in zip(q, q1, strict=True):
            np.testing.assert_array_equal(got[g], want[0])
        rm1 = one.restricted_mean(6.5)
        np.testing.assert_allclose(rm.value[g], rm1.value[0], rtol=1e-14)
        np.testing.assert_allclose(rm.standard_error[g], rm1.standard_error[0], rtol=1e-12)


@given(survival_data(), st.floats(0.05, 0.95), st.floats(0.5, 0.99))
def test_quantile_interval_brackets_the_estimate(
    data: tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64], int],
    q: float,
    level: float,
) -> None:
    durations, observed, groups, n_groups = data
    km = stats.kaplan_meier(durations, observed, groups, n_groups=n_groups)
    est = km.quantile(q, confidence_level=level)
    both = ~np.isnan(est.value) & ~np.isnan(est.low)
    assert np.all(est.low[both] <= est.value[both])
    both = ~np.isnan(est.value) & ~np.isnan(est.high)
    assert np.all(est.value[both] <= est.high[both])
    # a quantile reached where the curve is still positive has a reached lower limit (the
    # lower band is below the curve); where the curve drops straight to 0 the band is undefined
    for g in np.flatnonzero(~np.isnan(est.value)):
        steps = km.steps(g)
        at = np.flatnonzero(km.time[steps] == est.value[g])[0]
        if km.survival[steps][at] > 0:
            assert not np.isnan(est.low[g])
    band = km.confidence_band(level)
    ok = ~np.isnan(band.low)
    assert np.all(band.low[ok] <= km.survival[ok] + 1e-15)
    assert np.all(km.survival[ok] <= band.high[ok] + 1e-15)
    assert np.all((band.low[ok] >= 0) & (band.high[ok] <= 1))


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier against lifelines
# ---------------------------------------------------------------------------------------------


def lifelines_quantile(
    durations: NDArray[np.float64], observed: NDArray[np.bool_], q: float, level: float
) -> tuple[float, float, float]:
    """lifelines' quantile and its band crossings, with its band dropped where S = 0.

    lifelines sets the log-log band to 0 where the curve drops to 0 (scipy and R leave it
    undefined); salesstd follows scipy and R there, so those rows are removed before asking
    lifelines for the first crossing. inf (never reached) is reported as NaN.
    """
    lifelines = lifelines_module()
    qth_survival_times = lifelines.utils.qth_survival_times

    with quiet():
        kmf = lifelines.KaplanMeierFitter(alpha=1 - level).fit(durations, observed)
        value = float(qth_survival_times(1 - q, kmf.survival_function_))
        ci = kmf.confidence_interval_[kmf.survival_function_.iloc[:, 0].to_numpy() > 0]
        low = float(qth_survival_times(1 - q, ci.iloc[:, [0]]))
        high = float(qth_survival_times(1 - q, ci.iloc[:, [1]]))
    return tuple(math.nan if math.isinf(x) else x for x in (value, low, high))  # type: ignore[return-value]


def near_level(km: stats.KaplanMeier, level: float, q: float) -> NDArray[np.bool_]:
    """Groups whose curve or band passes within 1e-9 of 1 - q (an exact tie: skip those)."""
    band = km.confidence_band(level)
    out = np.zeros(km.n_groups, bool)
    for curve in (km.survival, band.low, band.high):
        close = np.abs(curve - (1 - q)) < 1e-9
        for g in range(km.n_groups):
            out[g] |= bool(close[km.steps(g)].any())
    return out


@pytest.mark.parametrize(("q", "level"), [(0.5, 0.95), (0.5, 0.8), (0.25, 0.95), (0.75, 0.9)])
@pytest.mark.parametrize("seed", range(4))
def test_quantile_and_interval_equal_lifelines(seed: int, q: float, level: float) -> None:
    rng = np.random.default_rng(seed)
    n_groups = 12
    sizes = rng.integers(3, 80, n_groups)
    groups = np.repeat(np.arange(n_groups), sizes)
    durations = rng.exponential(10.0, groups.size)
    observed = rng.random(groups.size) < rng.uniform(0.3, 1.0, n_groups)[groups]
    km = stats.kaplan_meier(durations, observed, groups)
    est = km.quantile(q, confidence_level=level)
    skip = near_level(km, level, q)  # exact ties: lifelines' answer depends on rounding
    assert (~skip).sum() >= 8
    for g in np.flatnonzero(~skip):
        sel = groups == g
        want = lifelines_quantile(durations[sel], observed[sel], q, level)
        got = (est.value[g], est.low[g], est.high[g])
        np.testing.assert_array_equal(got, want)


def test_lifelines_band_equals_ours_where_survival_is_positive() -> None:
    lifelines = lifelines_module()
    durations, observed, _ = random_data(3, 300, 1, ties=True)
    km = stats.kaplan_meier(durations, observed)
    band = km.confidence_band(0.95)
    with quiet():
        kmf = lifelines.KaplanMeierFitter().fit(durations, observed)
    ci = kmf.confidence_interval_.loc[km.time]
    pos = km.survival > 0
    np.testing.assert_allclose(band.low[pos], ci.iloc[:, 0].to_numpy()[pos], rtol=1e-10)
    np.testing.assert_allclose(band.high[pos], ci.iloc[:, 1].to_numpy()[pos], rtol=1e-10)
    np.testing.assert_allclose(
        km.survival, kmf.survival_function_.loc[km.time].iloc[:, 0], rtol=0, atol=1e-12
    )


def test_median_differs_from_lifelines_only_where_the_curve_drops_to_zero() -> None:
    lifelines = lifelines_module()
    median_survival_times = lifelines.utils.median_survival_times

    # n=2 without censoring: S = 1/2 then 0. lifelines puts its band at 0 at the second
    # time and reports it as the upper limit; the band is undefined there, so it is NaN here.
    durations, observed = np.array([1.0, 2.0]), np.array([True, True])
    with quiet():
        kmf = lifelines.KaplanMeierFitter().fit(durations, observed)
        ref = median_survival_times(kmf.confidence_interval_)
    assert ref.iloc[0, 1] == 2.0
    est = stats.kaplan_meier(durations, observed).quantile(0.5)
    assert est.value.tolist() == [kmf.median_survival_time_] == [1.0]
    assert np.isnan(est.high).all()


@pytest.mark.parametrize("horizon", [0.5, 3.0, 10.0, 25.0, 1e4])
def test_restricted_mean_equals_lifelines(horizon: float) -> None:
    lifelines = lifelines_module()
    restricted_mean_survival_time = lifelines.utils.restricted_mean_survival_time

    durations, observed, groups = random_data(7, 600, 3, ties=True)
    km = stats.kaplan_meier(durations, observed, groups)
    rm = km.restricted_mean(horizon)
    for g in range(3):
        sel = groups == g
        with quiet():
            kmf = lifelines.KaplanMeierFitter().fit(durations[sel], observed[sel])
            want = restricted_mean_survival_time(kmf, t=horizon)
        assert rm.value[g] == pytest.approx(want, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Restricted mean: standard error against the Greenwood covariance of the curve
# ---------------------------------------------------------------------------------------------


def rmst_variance_brute_force(km: stats.KaplanMeier, horizon: float) -> float:
    """w' Σ w with Σ the Greenwood covariance of S at the steps and w the step widths.

    Cov(S(s), S(t)) = S(s) S(t) Σ_{t_i <= min(s, t)} d_i / (n_i (n_i - d_i)) (the terms
    with n_i = d_i contribute 0, as the curve is 0 after them).
    """
    t, s = km.time, km.survival
    keep = t < horizon
    t, s = t[keep], s[keep]
    widths = np.diff(np.append(t, horizon))
    terms = np.where(
        km.at_risk[keep] > km.events[keep],
        km.events[keep] / (km.at_risk[keep] * (km.at_risk[keep] - km.events[keep])),
        0.0,
    )
    cum = np.cumsum(terms)
    m = t.size
    cov = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            cov[i, j] = s[i] * s[j] * cum[min(i, j)]
    w = widths
    return float(w @ cov @ w)


@pytest.mark.parametrize("seed", range(4))
def test_restricted_mean_standard_error_is_the_greenwood_delta_method(seed: int) -> None:
    durations, observed, _ = random_data(seed, 60, 1, ties=seed % 2 == 0)
    km = stats.kaplan_meier(durations, observed)
    for horizon in (5.0, 20.0, 60.0):
        got = km.restricted_mean(horizon).standard_error[0]
        assert got**2 == pytest.approx(rmst_variance_brute_force(km, horizon), rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Running sums that restart per group keep each group's own precision
# ---------------------------------------------------------------------------------------------


def test_segment_cumsum_keeps_small_groups_precise() -> None:
    rng = np.random.default_rng(0)
    big = rng.uniform(1e5, 1e6, 5000)
    small = rng.uniform(1e-7, 1e-6, 300)
    x = np.concatenate([big, small, big, small])
    offsets = np.array([0, 5000, 5300, 10300, 10600])
    got = _segment_cumsum(x, _starts(offsets))
    want = np.cumsum(small)
    np.testing.assert_allclose(got[5000:5300], want, rtol=1e-14)
    np.testing.assert_allclose(got[10300:], want, rtol=1e-14)
    np.testing.assert_allclose(got[:5000], np.cumsum(big), rtol=1e-14)
    rev = _segment_revsum(x, offsets)
    np.testing.assert_allclose(rev[5000:5300], np.cumsum(small[::-1])[::-1], rtol=1e-14)


def test_greenwood_of_a_late_group_is_not_swamped_by_earlier_ones() -> None:
    # group 0 ends with huge Greenwood terms; group 1 is large, with tiny early terms
    rng = np.random.default_rng(1)
    small_t = np.arange(1.0, 6.0)
    big_t = rng.exponential(10.0, 20_000)
    durations = np.concatenate([small_t, big_t])
    observed = np.concatenate([[True, True, True, True, False], np.ones(20_000, bool)])
    groups = np.concatenate([np.zeros(5, int), np.ones(20_000, int)])
    km = stats.kaplan_meier(durations, observed, groups)
    alone = stats.kaplan_meier(big_t, np.ones(20_000, bool))
    np.testing.assert_allclose(km.greenwood[km.steps(1)][:-1], alone.greenwood[:-1], rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# Cumulative incidence (Aalen-Johansen)
# ---------------------------------------------------------------------------------------------

# Six spells with two causes (1 = advanced, 2 = lost) and ties:
#   t=1: n=6, cause 1 once and cause 2 once   CIF1 = 1/6           CIF2 = 1/6    S = 2/3
#   t=2: n=4, cause 1 once (+ one censored)    CIF1 += 2/3·1/4     = 1/3         S = 1/2
#   t=3: n=2, cause 2 once                     CIF2 += 1/2·1/2     = 5/12        S = 1/4
#   t=4: n=1, cause 1 once                     CIF1 += 1/4·1/1     = 7/12        S = 0
AJ_T = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 4.0])
AJ_C = np.array([1, 2, 1, 0, 2, 1])


def test_cumulative_incidence_by_hand() -> None:
    ci = stats.cumulative_incidence(AJ_T, AJ_C)
    assert ci.time.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert ci.at_risk.tolist() == [6, 4, 2, 1]
    assert ci.events.tolist() == [[1, 1], [1, 0], [0, 1], [1, 0]]
    want = [[1 / 6, 1 / 6], [1 / 3, 1 / 6], [1 / 3, 5 / 12], [7 / 12, 5 / 12]]
    np.testing.assert_allclose(ci.incidence, want, rtol=1e-15)
    np.testing.assert_allclose(ci.survival_before, [1, 2 / 3, 1 / 2, 1 / 4], rtol=1e-15)
    np.testing.assert_allclose(ci.survival, [2 / 3, 1 / 2, 1 / 4, 0], rtol=1e-15)
    assert ci.n.tolist() == [6]
    assert ci.n_events.tolist() == [[3, 2]]
    assert ci.n_censored.tolist() == [1]
    assert ci.n_causes == 2
    assert repr(ci) == "CumulativeIncidence(groups=1, causes=2, n=6, events=[3, 2], steps=4)"
    np.testing.assert_allclose(ci.at(2.5), [[1 / 3, 1 / 6]])
    np.testing.assert_allclose(
        ci.at([0.0, 1.0, 3.0, 9.0]),
        np.array([[[0, 0], [1 / 6, 1 / 6], [1 / 3, 5 / 12], [7 / 12, 5 / 12]]]),
    )


def test_cumulative_incidence_variance_by_hand() -> None:
    # At t=1 (first step, n=6, d=2, d1=1, S(t-)=1): F(t) - F(t_1) = 0, so the variance is the
    # middle term alone: 1 · 1 · 5 / 6³.
    ci = stats.cumulative_incidence(AJ_T, AJ_C)
    assert ci.variance[0].tolist() == pytest.approx([5 / 216, 5 / 216])
    # At t=2 for cause 1: F = 1/3, F(t_1) = 1/6, w_1 = 2/(6·4) = 1/12, w_2 = 1/(4·3) = 1/12
    #   (1/6)² /12 + 5/216 + (2/3)² · 1 · 3 / 64 - 2 · (1/6) · 1 · 1/36
    want = (1 / 6) ** 2 / 12 + 5 / 216 + (2 / 3) ** 2 * 3 / 64 - 2 * (1 / 6) / 36
    assert ci.variance[1, 0] == pytest.approx(want)
    np.testing.assert_allclose(ci.standard_error, np.sqrt(ci.variance))


def test_cumulative_incidence_many_groups_by_hand() -> None:
    durations = np.concatenate([AJ_T, [5.0], [2.0, 3.0]])
    cause = np.concatenate([AJ_C, [0], [2, 2]])
    groups = np.array([0] * 6 + [1] + [3, 3])
    ci = stats.cumulative_incidence(durations, cause, groups, n_groups=4, n_causes=3)
    assert ci.n_groups == 4
    assert ci.n_causes == 3
    assert ci.group_offsets.tolist() == [0, 4, 4, 4, 6]
    assert ci.n.tolist() == [6, 1, 0, 2]
    assert ci.n_events.tolist() == [[3, 2, 0], [0, 0, 0], [0, 0, 0], [0, 2, 0]]
    assert ci.n_censored.tolist() == [1, 1, 0, 0]
    at = ci.at(10.0)
    np.testing.assert_allclose(at[0], [7 / 12, 5 / 12, 0])
    assert at[1].tolist() == [0, 0, 0]
    assert np.isnan(at[2]).all()
    assert at[3].tolist() == [0, 1, 0]
    assert ci.at([1.0, 2.0]).shape == (4, 2, 3)
    assert ci.time[ci.steps(3)].tolist() == [2.0, 3.0]


def test_cumulative_incidence_with_one_cause_is_one_minus_kaplan_meier() -> None:
    durations, observed, groups = random_data(5, 500, 3, ties=True)
    ci = stats.cumulative_incidence(durations, observed.astype(int), groups)
    km = stats.kaplan_meier(durations, observed, groups)
    np.testing.assert_array_equal(ci.time, km.time)
    np.testing.assert_allclose(ci.incidence[:, 0], 1 - km.survival, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ci.survival, km.survival, rtol=0, atol=1e-15)


@st.composite
def competing_data(
    draw: st.DrawFn, max_n: int = 40, max_groups: int = 3, max_causes: int = 3
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int, int]:
    n = draw(st.integers(0, max_n))
    n_groups = draw(st.integers(1, max_groups))
    n_causes = draw(st.integers(1, max_causes))
    durations = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    cause = draw(st.lists(st.integers(0, n_causes), min_size=n, max_size=n))
    groups = draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n))
    return (
        np.array(durations, dtype=np.float64),
        np.array(cause, dtype=np.int64),
        np.array(groups, dtype=np.int64),
        n_groups,
        n_causes,
    )


@given(competing_data())
def test_incidences_and_survival_add_up_to_one(
    data: tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int, int],
) -> None:
    durations, cause, groups, n_groups, n_causes = data
    ci = stats.cumulative_incidence(durations, cause, groups, n_groups=n_groups, n_causes=n_causes)
    np.testing.assert_allclose(ci.incidence.sum(axis=1) + ci.survival, 1.0, rtol=0, atol=1e-12)
    # the overall survival is the Kaplan-Meier curve of "any cause"
    km = stats.kaplan_meier(durations, cause > 0, groups, n_groups=n_groups)
    np.testing.assert_array_equal(ci.time, km.time)
    np.testing.assert_allclose(ci.survival, km.survival, rtol=0, atol=1e-15)
    # curves never decrease within a group and stay within [0, 1]
    for g in range(n_groups):
        inc = ci.incidence[ci.steps(g)]
        assert np.all(np.diff(inc, axis=0) >= -1e-15)
        assert np.all((inc >= 0) & (inc <= 1 + 1e-12))
    assert np.all(ci.variance >= 0)
    # each group alone gives the same curves
    for g in range(n_groups):
        sel = groups == g
        one = stats.cumulative_incidence(durations[sel], cause[sel], n_causes=n_causes)
        np.testing.assert_allclose(ci.incidence[ci.steps(g)], one.incidence, atol=1e-15)
        np.testing.assert_allclose(ci.variance[ci.steps(g)], one.variance, atol=1e-14)


def aj_by_hand(
    durations: NDArray[np.float64], cause: NDArray[np.int64], n_causes: int
) -> NDArray[np.float64]:
    """Plain-Python Aalen-Johansen at each distinct event time."""
    s = 1.0
    f = np.zeros(n_causes)
    rows = []
    for t in sorted(set(durations[cause > 0].tolist())):
        n = int(np.sum(durations >= t))
        for k in range(1, n_causes + 1):
            f[k - 1] += s * np.sum((durations == t) & (cause == k)) / n
        s *= 1 - np.sum((durations == t) & (cause > 0)) / n
        rows.append(f.copy())
    return np.array(rows).reshape(-1, n_causes)


@given(competing_data(max_groups=1))
def test_cumulative_incidence_equals_plain_python(
    data: tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int, int],
) -> None:
    durations, cause, _, _, n_causes = data
    ci = stats.cumulative_incidence(durations, cause, n_causes=n_causes)
    np.testing.assert_allclose(ci.incidence, aj_by_hand(durations, cause, n_causes), atol=1e-14)


def lifelines_aj(
    durations: NDArray[np.float64], cause: NDArray[np.int64], k: int, *, variance: bool
) -> Any:
    lifelines = lifelines_module()
    with quiet():
        return lifelines.AalenJohansenFitter(calculate_variance=variance).fit(
            durations, cause, event_of_interest=k
        )


@pytest.mark.parametrize("seed", range(5))
def test_cumulative_incidence_equals_lifelines(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    durations = rng.exponential(15.0, n)  # continuous: no tied times, so no jittering
    cause = rng.choice([0, 1, 2, 3], n, p=[0.3, 0.4, 0.2, 0.1])
    groups = rng.integers(0, 3, n)
    ci = stats.cumulative_incidence(durations, cause, groups, n_causes=3)
    grid = np.linspace(0, 80, 41)
    at = ci.at(grid)
    for g in range(3):
        sel = groups == g
        for k in (1, 2, 3):
            ajf = lifelines_aj(durations[sel], cause[sel], k, variance=False)
            cif = ajf.cumulative_density_.iloc[:, 0]
            np.testing.assert_allclose(
                ci.incidence[ci.steps(g), k - 1], cif.loc[ci.time[ci.steps(g)]], atol=1e-12
            )
            idx = np.searchsorted(cif.index.to_numpy(), grid, side="right") - 1
            np.testing.assert_allclose(at[g, :, k - 1], cif.to_numpy()[idx], atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_cumulative_incidence_variance_and_band_equal_lifelines(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 80
    durations = rng.exponential(15.0, n)
    cause = rng.choice([0, 1, 2], n, p=[0.3, 0.45, 0.25])
    ci = stats.cumulative_incidence(durations, cause)
    band = ci.confidence_band(0.9)
    last = ci.at_risk == ci.events.sum(axis=1)  # lifelines gives NaN there (0 · inf)
    for k in (1, 2):
        with quiet():
            lifelines = lifelines_module()
            ajf = lifelines.AalenJohansenFitter(alpha=0.1).fit(
                durations, cause, event_of_interest=k
            )
        var = ajf.variance_.loc[ci.time].to_numpy()
        np.testing.assert_allclose(ci.variance[~last, k - 1], var[~last], rtol=1e-9, atol=1e-15)
        ref = ajf.confidence_interval_.loc[ci.time].to_numpy()
        ref_low, ref_high = ref.min(axis=1), ref.max(axis=1)  # lifelines' labels are swapped
        ok = ~last & (ci.incidence[:, k - 1] > 0)
        np.testing.assert_allclose(band.low[ok, k - 1], ref_low[ok], rtol=1e-9)
        np.testing.assert_allclose(band.high[ok, k - 1], ref_high[ok], rtol=1e-9)
        assert np.isnan(band.low[ci.incidence[:, k - 1] == 0, k - 1]).all()


@given(competing_data(), st.lists(st.integers(-1, 14), min_size=1, max_size=6))
def test_index_at_and_survival_at_agree_with_a_search_per_group(
    data: tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int, int],
    times: list[int],
) -> None:
    durations, cause, groups, n_groups, n_causes = data
    ci = stats.cumulative_incidence(durations, cause, groups, n_groups=n_groups, n_causes=n_causes)
    t = np.array(times, dtype=np.float64)
    index = ci.index_at(t)
    surv = ci.survival_at(t)
    at = ci.at(t)
    for g in range(n_groups):
        sl = ci.steps(g)
        i = np.searchsorted(ci.time[sl], t, side="right") - 1
        want = np.where(i >= 0, sl.start + i, -1)
        assert index[g].tolist() == want.tolist()
        if ci.n[g]:
            np.testing.assert_allclose(at[g].sum(axis=-1) + surv[g], 1.0, atol=1e-12)
    km = stats.kaplan_meier(durations, cause > 0, groups, n_groups=n_groups)
    np.testing.assert_array_equal(km.index_at(t), index)
    np.testing.assert_allclose(km.survival_at(t), surv, atol=1e-15)
    assert km.index_at(3.0).shape == (n_groups,)


def test_cumulative_incidence_errors() -> None:
    with pytest.raises(ParameterError, match=r"cause must be >= 0; got -1 at position 1"):
        stats.cumulative_incidence([1.0, 2.0], [1, -1])
    with pytest.raises(ParameterError, match=r"between 0 and n_causes=1; got 2 .* n_causes=2"):
        stats.cumulative_incidence([1.0, 2.0], [1, 2], n_causes=1)
    with pytest.raises(ParameterError, match="integer codes"):
        stats.cumulative_incidence([1.0, 2.0], [0.5, 1.0])
    with pytest.raises(ParameterError, match="one entry per duration"):
        stats.cumulative_incidence([1.0, 2.0], [1])
    with pytest.raises(ParameterError, match="n_causes must be a whole number"):
        stats.cumulative_incidence([1.0], [1], n_causes=0)
    ci = stats.cumulative_incidence(AJ_T, AJ_C)
    with pytest.raises(ParameterError, match="horizon must not be NaN"):
        ci.at(math.nan)
    with pytest.raises(ParameterError, match="confidence_level"):
        ci.confidence_band(0.0)


def test_cumulative_incidence_degenerate_inputs() -> None:
    ci = stats.cumulative_incidence([], [])
    assert (ci.n_groups, ci.n_causes, ci.time.size) == (1, 1, 0)
    assert np.isnan(ci.at(1.0)).all()
    ci = stats.cumulative_incidence([1.0, 2.0], [0, 0])  # all censored
    assert ci.time.size == 0
    assert ci.at([0.5, 3.0]).tolist() == [[[0.0], [0.0]]]
    assert ci.variance.shape == (0, 1)


# ---------------------------------------------------------------------------------------------
# Scale: one sort, whole-array passes
# ---------------------------------------------------------------------------------------------


def test_many_groups_and_observations_run_as_whole_array_passes() -> None:
    durations, observed, groups = random_data(11, 200_000, 500, ties=True)
    km = stats.kaplan_meier(durations, observed, groups)
    assert km.n_groups == 500
    assert km.n.sum() == 200_000
    q = km.quantile(0.5)
    assert np.isfinite(q.value).all()
    ci = stats.cumulative_incidence(durations, observed.astype(int), groups)
    np.testing.assert_allclose(ci.incidence[:, 0], 1 - km.survival, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# the sort behind the curves, and the helpers of the bottleneck benchmarks
# ---------------------------------------------------------------------------------------------


def _curves(km: stats.KaplanMeier) -> list[NDArray[Any]]:
    return [np.asarray(getattr(km, f.name)) for f in attrs.fields(stats.KaplanMeier)]


@pytest.mark.parametrize(("n", "n_groups"), [(3000, 1), (3000, 7), (5000, 120), (200, 90)])
def test_group_by_group_sort_equals_the_argsort_path(
    monkeypatch: pytest.MonkeyPatch, n: int, n_groups: int
) -> None:
    # The packed-key sort of each group's block must give the curves of the argsort path.
    rng = np.random.default_rng(n + n_groups)
    durations = np.round(rng.gamma(2.0, 3.0, n), 1)  # many ties
    durations[rng.random(n) < 0.05] = 0.0
    durations[rng.random(n) < 0.01] = -0.0
    observed = rng.random(n) < 0.7
    groups = rng.integers(0, n_groups, n)
    fast = stats.kaplan_meier(durations, observed, groups, n_groups=n_groups)
    monkeypatch.setattr("salesstd.stats._common._MAX_GROUP_SORTS", 0)
    monkeypatch.setattr("salesstd.stats._common._MIN_PER_GROUP_SORT", 10**9)
    slow = stats.kaplan_meier(durations, observed, groups, n_groups=n_groups)
    for a, b in zip(_curves(fast), _curves(slow), strict=True):
        np.testing.assert_array_equal(a, b)
    spells = sort_spells(durations, observed, groups, n_groups, 2)
    assert (np.diff(spells.offsets) == np.bincount(groups, minlength=n_groups)).all()


@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)), min_size=1, max_size=9),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9]),
)
def test_nanquantile_is_numpys(rows: list[list[float | None]], q: float) -> None:
    width = max(len(r) for r in rows)
    x = np.array(
        [[np.nan if v is None else v for v in r] + [np.nan] * (width - len(r)) for r in rows]
    )
    with quiet():
        want = np.nanquantile(x, q, axis=-1)
    np.testing.assert_array_equal(nanquantile(x, q), want)


def test_random_effects_matches_dersimonian_laird_by_hand() -> None:
    x = np.array([0.1, 0.5, -0.2, 0.9, np.nan])
    se2 = np.array([0.04, 0.09, 0.01, 0.25, 0.04])
    fit = random_effects(x, se2)
    xs, s2 = x[:4], se2[:4]
    w = 1 / s2
    mu = (w * xs).sum() / w.sum()
    q = (w * (xs - mu) ** 2).sum()
    tau2 = max(0.0, (q - 3) / (w.sum() - (w**2).sum() / w.sum()))
    w_re = 1 / (s2 + tau2)
    mu_re = (w_re * xs).sum() / w_re.sum()
    assert float(fit.q) == pytest.approx(q)
    assert float(fit.tau2) == pytest.approx(tau2)
    assert int(fit.k) == 4
    np.testing.assert_allclose(fit.deviation[:4], tau2 / (tau2 + s2) * (xs - mu_re))
    assert np.isnan(fit.deviation[4])
    # Leading axes are separate problems; entities that agree within their noise pool.
    both = random_effects(np.stack([x, [0.0, 0.01, -0.01, 0.0, 0.0]]), np.stack([se2] * 2))
    np.testing.assert_allclose(both.deviation[0], fit.deviation, equal_nan=True)
    assert float(both.tau2[1]) == 0.0
    assert (both.deviation[1] == 0.0).all()
    alone = random_effects(np.array([0.3, np.nan]), np.array([0.1, 0.1]))
    assert np.isnan(alone.tau2)


def test_qprofile_draws_solve_the_generalised_q_equation() -> None:
    rng = np.random.default_rng(3)
    x = np.stack([rng.normal(0, 0.5, 12), rng.normal(0, 0.05, 12)])
    se2 = np.full((2, 12), 0.05**2)
    x[1, 0] = np.nan

    def q_of(tau2: float, row: int) -> float:
        ok = ~np.isnan(x[row])
        w = 1 / (se2[row][ok] + tau2)
        mu = (w * x[row][ok]).sum() / w.sum()
        return float((w * (x[row][ok] - mu) ** 2).sum())

    u = np.array([[5.0, 30.0], [11.0, 8.0], [20.0, 1e6]])
    tau2 = qprofile_draws(x, se2, u)
    for i in range(3):
        for row in range(2):
            if u[i, row] >= q_of(0.0, row):
                assert tau2[i, row] == 0.0
            else:
                assert q_of(float(tau2[i, row]), row) == pytest.approx(u[i, row], rel=0.02)
    assert tau2[0, 0] > tau2[1, 0] > tau2[2, 0] > 0  # larger u, smaller tau2
