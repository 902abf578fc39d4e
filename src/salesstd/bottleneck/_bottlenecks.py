"""`bottlenecks`: check the options, run the four lenses, rank and explain their rows.

Private; `bottlenecks` is public through `salesstd.bottleneck`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.columns import objects
from salesstd._base.timestamps import to_datetime
from salesstd._engine import chain as mc
from salesstd._engine import grouping as _common
from salesstd._engine.episodes import build_episodes
from salesstd.bottleneck._descriptive import _losses_lens, _time_lens
from salesstd.bottleneck._dwell import _dwell_lens, _first_stays
from salesstd.bottleneck._lenses import _conversion_lens, _leverage_lens, _wip_lens
from salesstd.bottleneck._report import DESCRIPTIVE, UNITS, BottleneckReport
from salesstd.funnel import Funnel
from salesstd.log import EventLog

__all__ = ["bottlenecks"]

MAX_REPLICATES = 100_000
"""The most bootstrap replicates `bottlenecks` draws (its `n_boot`)."""


def _check_benchmark(value: object, stages: list[str], every: list[str]) -> object:
    if isinstance(value, str):
        return v.choice("benchmark", value, ("top_quartile",))
    if isinstance(value, Mapping):
        out = v.stage_mapping("benchmark", value, every, stages)
        return {k: v.fraction(f"benchmark[{k!r}]", x, inclusive=True) for k, x in out.items()}
    return v.fraction("benchmark", value, inclusive=True)


def _check_sla(value: object, stages: list[str], every: list[str]) -> dict[str, float] | None:
    if value is None:
        return None
    out = v.stage_mapping("sla", value, every, stages)
    return {k: _common.days(f"sla[{k!r}]", x) for k, x in out.items()}


def bottlenecks(
    log: EventLog,
    funnel: Funnel,
    *,
    benchmark: str | float | Mapping[str, float] = "top_quartile",
    by: str | None = "rep",
    as_of: object = None,
    confidence_level: float = 0.9,
    period: _common.Period = "month",
    sla: Mapping[str, float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    min_stay: float | dt.timedelta | None = None,
) -> BottleneckReport:
    """Rank where the process loses the most, by stage and lens, with the numbers explained.

    Every open stage is seen through four lenses that compare it with a benchmark or a
    standard, and two descriptive ones (where deals are lost, where they stay longest).
    Each row has a current value, a benchmark, the gap (positive when the stage does
    worse), an impact in a stated unit, an interval for the impact, and one sentence
    (`BottleneckReport.explain`). A row is a *finding* (``significant``) when its gap is
    positive and its impact interval excludes zero.

    **1. Conversion shortfall** (unit: wins per period). The current value is the stage's
    step rate over resolved first entries, as `salesstd.conversion` computes it by default
    (advanced / (advanced + lost); skips implied; open deals left out). The benchmark is:

    * ``"top_quartile"`` (default): each group of `by` (each rep) gets its own step rate,
      shrunk toward the population by empirical-Bayes beta-binomial
      (`salesstd.stats.beta_binomial_shrinkage`), so a rep with a handful of deals cannot
      set the bar; the benchmark is the 75th percentile of the shrunk rates. When reps do
      not differ beyond binomial noise, shrinkage pools them all at the population rate and
      the shortfall is 0. This lens sees stages where reps *differ*; a stage that is low
      for everyone needs a standard target instead:
    * a rate in [0, 1] for every stage, or a mapping ``{stage: rate}`` of standard targets
      (stages left out have no benchmark).

    ``impact = (benchmark - rate) x entries per period x P(win | advanced past the stage)``:
    the extra wins per period if the stage converted at the benchmark. *Entries per period*
    is the number of first entries into the stage divided by the log's span (first event
    to `as_of`) in periods of mean length (a month is 365.2425 / 12 days). *P(win | past
    the stage)* is the product of the later stages' step rates (1 for the last open
    stage), which assumes a linear funnel. The interval is a percentile interval from a
    parametric bootstrap of the fitted model, `n_boot` replicates: each group's rate at
    each stage is drawn from the fitted Beta(alpha, beta) (the pooled rate when the
    groups do not differ, and always with a given benchmark), its advances from the
    binomial with the group's resolved entries, and the entries from a Poisson with the
    observed count; the rates, the shrinkage (re-fitted), the benchmark, the downstream
    win probability and the impact are recomputed. Each group's rate is drawn from its
    posterior Beta(alpha + advanced, beta + resolved - advanced) (the pooled rate when the
    groups do not differ, and always with a given benchmark), so the replicates vary
    around this report's groups, not around a fresh set drawn from the prior. Re-fitting
    the shrinkage carries the uncertainty of the spread between groups: when the groups
    barely differ, many replicates pool them and give a zero shortfall, so the interval
    reaches 0. Every interval holds its estimate: where the replicates leave it out (a
    handful of replicates, or a shortfall below 0 when the deal-weighted pooled rate is
    above the groups' 75th percentile), the interval is widened to reach it. With
    ``by=None`` and ``"top_quartile"`` there are no groups and no benchmark (NaN).

    **2. Dwell excess** (unit: days per deal). The current value is the Kaplan-Meier median
    dwell of the stage's first stays (`salesstd.time_in_stage`; open stays censored). The
    benchmark is the stage's `sla` in days when given; otherwise the dwell of the fastest
    quartile of the groups of `by`, corrected for noise as the conversion benchmark is:

    * each group's median is compared with the others on the log scale, with a standard
      error by the delta method: the Greenwood variance of the group's survival at its
      median over the squared density of log(dwell) there. The density is read off the
      pooled curve of the stage (the difference quotient ``2h / log(t(0.5 + h) / t(0.5 -
      h))`` of its quantiles, Hall-Sheather bandwidth ``h``; the width of its
      Brookmeyer-Crowley interval where the curve stops short of ``0.5 + h``): groups
      that differ by a scale factor share it, and a small group's own curve is too ragged
      to give it;
    * the log medians are shrunk by the normal-normal empirical-Bayes model: between-group
      variance ``tau²`` by DerSimonian-Laird, each group's deviation from the
      random-effects mean multiplied by ``tau² / (tau² + se²)``. The benchmark is the
      stage's median times ``exp`` of the 25th minus the 50th percentile of the shrunk
      deviations: the fastest quarter of the groups against the typical (median) group,
      so it is never above the current median. When the groups do not differ beyond
      their noise (``tau² = 0``) every deviation shrinks to 0: the benchmark is the
      current median itself and the excess 0.

    ``impact = (median - benchmark) x visits``, the days of cycle time saved per deal that
    enters the stage, where *visits* is the expected number of stays in the stage per deal
    that enters it: the diagonal of the fundamental matrix of the Markov chain
    (`salesstd.MarkovFunnel.fundamental_matrix`; 1 without backward moves), or the
    observed every-stay / first-stay ratio where the chain cannot give it. With `sla`, the
    interval takes the median's Brookmeyer-Crowley interval, with the benchmark as given:
    ``(low - sla) x visits`` to ``(high - sla) x visits`` (its upper end NaN when open).
    With the top quartile, the benchmark is uncertain too, and the interval says so: it is
    the percentile interval of a parametric bootstrap of the model for the groups at hand
    (Laird and Louis), `n_boot` replicates, each drawing ``tau²`` from its Q-profile
    confidence distribution (a spread that noise alone could explain often gives none),
    each group's true log median from its posterior given that ``tau²`` (its estimate
    shrunk toward the random-effects mean, with the posterior variance) and a new
    estimate around it with its standard error, and the stage's median from its own
    sampling distribution; the shrinkage is re-fitted and the impact recomputed. When the
    groups barely differ, many replicates pool them and give no excess, so the interval
    reaches 0 and the row is not a finding. As for conversion, the interval is widened to
    reach the estimate where the replicates leave it out.

    **3. Work piling up** (unit: deals per period). The current value is the stage's work
    in progress at `as_of` (`salesstd.wip`). ``impact`` is how fast it grows: the mean
    excess of arrivals over departures (entries - exits, `salesstd.throughput`) over the
    last six periods (fewer if the log is shorter), which is the WIP's growth per period
    over them; the interval is the t interval of that mean (none under three periods). The
    benchmark is 0 (no growth). The net flows of successive periods are treated as
    independent; a regression on the WIP series itself would not be (a stock carries its
    past).

    **4. Leverage** (unit: elasticity), one row per observed move ``stage -> target``: the
    percent change in the win probability from the first stage per percent change in the
    move's probability, the other exits of `stage` rescaled
    (`salesstd.MarkovFunnel.sensitivity`); the current value is the move's probability.
    Leverage says where effort pays most, not what is broken: its rows have no benchmark
    or interval and are never findings; they rank after the findings, by elasticity.

    **5. Losses** (descriptive; unit: share of resolved entries lost): the share of the
    stage's resolved first entries that were lost there, lost / (advanced + lost), with
    its Wilson interval; the current value is the number of deals lost.

    **6. Time** (descriptive; unit: days, median stay): the Kaplan-Meier median of the
    stage's first stays (open stays censored, as in the dwell lens) with its
    Brookmeyer-Crowley interval; the sentence adds the deal-days all stays there add up to.

    The descriptive rows compare with no benchmark and claim no improvement: they say
    where the funnel loses the largest share of its deals and where deals stay longest,
    whether or not the groups differ, so a report on a funnel that loses deals is never
    empty (`BottleneckReport.describe`). They are never findings.

    **Ranking.** Within a lens the rows are sorted by impact, with every row whose
    interval excludes zero before every row whose interval does not; ``rank`` numbers
    them. The report lists significant findings first, then by rank, then by lens. Every
    sentence states percents of a rate as percents and differences of rates in percentage
    points, and says "down" when a number falls.

    Args:
        log: Events to analyse.
        funnel: The process: open stages in order, won and lost.
        benchmark: ``"top_quartile"``, a rate in [0, 1], or ``{stage: rate}`` (conversion).
        by: The case attribute whose groups (reps, teams) define the top quartile, or None
            (then the conversion lens needs `benchmark` as a rate or mapping, and the dwell
            lens needs `sla`; without them those rows have no benchmark).
        as_of: The censoring time (ISO string, date, datetime); default the log's last event.
        confidence_level: Coverage of the intervals, in (0, 1).
        period: ``"day"``, ``"week"``, ``"month"``, ``"quarter"`` or ``"year"``: the unit
            of "per period" and of the WIP series.
        sla: ``{stage: days}``: the dwell standard per stage (timedelta or days, > 0), or
            None for the top quartile of the groups.
        n_boot: Bootstrap replicates for the conversion intervals and the top-quartile
            dwell intervals, >= 1.
        seed: Seed of the bootstraps (the report is the same for the same seed).
        min_stay: Stays shorter than this are data-entry corrections (seconds or a
            `datetime.timedelta`), dropped before anything is computed; see
            `salesstd.conversion`. None (default) keeps every stay.

    Returns:
        The ranked rows; `BottleneckReport.top` gives the findings.

    Raises:
        ParameterError: If an option has a bad value, or `by` is not a case attribute (the
            message suggests the closest).
        UnknownStageError: If `benchmark` or `sla` names a stage the funnel lacks.

    Note:
        Empirical-Bayes shrinkage: Efron & Morris (1975), JASA 70(350), 311-319. Random
        effects: DerSimonian, R. and Laird, N. (1986), "Meta-analysis in clinical trials",
        *Controlled Clinical Trials* 7(3), 177-188. Q-profile: Viechtbauer, W. (2007),
        "Confidence intervals for the amount of heterogeneity in meta-analysis",
        *Statistics in Medicine* 26(1), 37-52. Median interval: Brookmeyer, R. and
        Crowley, J. (1982), *Biometrics* 38(1), 29-41. Density at a quantile: Bloch, D. A.
        and Gastwirth, J. L. (1968), *Ann. Math. Statist.* 39(3), 1083-1085; bandwidth:
        Hall, P. and Sheather, S. J. (1988), *JRSS B* 50(3), 381-391. Parametric bootstrap:
        Davison, A. C. and Hinkley, D. V. (1997), *Bootstrap Methods and their
        Application*, Cambridge, chapter 2. Bootstrap of an empirical-Bayes model for the
        units at hand: Laird, N. M. and Louis, T. A. (1987), *JASA* 82(399), 739-750.

    Examples:
        >>> log = ss.EventLog.from_records(
        ...     [("d1", "lead", "2024-01-01"), ("d1", "demo", "2024-01-03"),
        ...      ("d1", "won", "2024-01-05"),
        ...      ("d2", "lead", "2024-01-01"), ("d2", "lost", "2024-01-09"),
        ...      ("d3", "lead", "2024-01-02"), ("d3", "demo", "2024-01-04"),
        ...      ("d3", "lost", "2024-01-20"),
        ...      ("d4", "lead", "2024-01-03"), ("d4", "lost", "2024-01-31")])
        >>> f = ss.Funnel.linear(["lead", "demo", "won"], lost="lost")
        >>> report = ss.bottlenecks(log, f, by=None, benchmark={"lead": 0.9, "demo": 0.5},
        ...                         sla={"lead": 2, "demo": 2}, n_boot=50)
        >>> row = report.at("lead", lens="conversion")
        >>> row.current, row.benchmark, row.unit
        (0.5, 0.9, 'wins per period')
        >>> round(row.impact, 3)  # (0.9 - 0.5) x 4 entries in one month x 0.5 won after demo
        0.8
        >>> report.at("demo", lens="dwell").current  # median of 2 and 16 days
        2.0
    """
    v.instance("log", log, EventLog)
    v.instance("funnel", funnel, Funnel)
    stages = [s.name for s in funnel.open_stages]
    bench_opt = _check_benchmark(benchmark, stages, list(funnel.stage_names))
    sla_opt = _check_sla(sla, stages, list(funnel.stage_names))
    level = v.fraction("confidence_level", confidence_level)
    v.choice("period", period, _common.PERIODS)
    n_boot = v.positive_int("n_boot", n_boot, limit=MAX_REPLICATES, unit="replicates")
    seed = v.random_seed("seed", seed, optional=False)
    grouping = _common.groups(log, by)

    # Every lens reads the strict episodes (recorded stages only); see `step_counts`.
    strict = build_episodes(log, funnel, as_of=as_of, skips="strict", min_stay=min_stay)
    # The Markov chain of `MarkovFunnel.from_log`, without its dwell curves (not used here);
    # first, so that a funnel too large for its dense matrices fails before any bootstrap.
    probabilities = mc.move_probabilities(strict)
    conv, n_cases, totals = _conversion_lens(
        log,
        strict,
        funnel,
        benchmark=bench_opt,
        grouping=grouping,
        level=level,
        period=period,
        n_boot=n_boot,
        seed=seed,
    )
    try:
        chain = mc.solve_chain(probabilities, strict.n_open)
        visits = np.diag(chain.fundamental).astype(np.float64)
    except (np.linalg.LinAlgError, ValueError):
        visits = np.full(strict.n_open, np.nan)
    stays = _first_stays(strict)
    dwell = _dwell_lens(
        strict,
        funnel,
        stays,
        sla=sla_opt,
        grouping=None if by is None else grouping,
        level=level,
        visits=visits,
        n_boot=n_boot,
        seed=seed,
    )
    piling = _wip_lens(log, funnel, strict, level=level, period=period)
    leverage = _leverage_lens(
        mc.sensitivity_table(funnel.stage_names, strict.n_open, probabilities, 0)
    )
    losses = _losses_lens(funnel, totals, level=level)
    time = _time_lens(strict, funnel, stays, level=level)
    blocks = [conv, dwell, piling, losses, time, leverage]

    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "stage",
            "target",
            "lens",
            "current",
            "benchmark",
            "gap",
            "impact",
            "low",
            "high",
            "significant",
            "rank",
            "lens_order",
            "explanation",
        )
    }
    for order, rows in enumerate(blocks):
        significant = (
            (rows.gap > 0) & (rows.low > 0)
            if rows.lens not in {"leverage", *DESCRIPTIVE}
            else np.zeros(len(rows.stage), dtype=bool)
        )
        sort_impact = np.where(np.isfinite(rows.impact), rows.impact, -np.inf)
        ranking = np.lexsort((-sort_impact, ~significant))
        rank = np.empty(len(rows.stage), dtype=np.int64)
        rank[ranking] = np.arange(1, len(rows.stage) + 1)
        cols["stage"] += rows.stage
        cols["target"] += rows.target
        cols["lens"] += [rows.lens] * len(rows.stage)
        cols["current"] += rows.current.tolist()
        cols["benchmark"] += rows.benchmark.tolist()
        cols["gap"] += rows.gap.tolist()
        cols["impact"] += rows.impact.tolist()
        cols["low"] += rows.low.tolist()
        cols["high"] += rows.high.tolist()
        cols["significant"] += significant.tolist()
        cols["rank"] += rank.tolist()
        cols["lens_order"] += [order] * len(rows.stage)
        cols["explanation"] += rows.explanation
    sig = np.array(cols["significant"], dtype=bool)
    rank_all = np.array(cols["rank"], dtype=np.int64)
    order_all = np.lexsort((np.array(cols["lens_order"]), rank_all, ~sig))

    def pick(name: str, dtype: type[Any]) -> NDArray[Any]:
        if dtype is object:
            return objects(cols[name])[order_all]
        out: NDArray[Any] = np.asarray(cols[name], dtype=dtype)
        return out[order_all]

    return BottleneckReport(
        stage=pick("stage", object),
        target=pick("target", object),
        lens=pick("lens", object),
        current=pick("current", np.float64),
        benchmark=pick("benchmark", np.float64),
        gap=pick("gap", np.float64),
        impact=pick("impact", np.float64),
        impact_low=pick("low", np.float64),
        impact_high=pick("high", np.float64),
        unit=objects([UNITS[x] for x in cols["lens"]])[order_all],
        significant=sig[order_all],
        rank=rank_all[order_all],
        explanation=pick("explanation", object),
        stages=tuple(stages),
        benchmark_option=bench_opt,
        sla=sla_opt,
        by=grouping.name,
        as_of=to_datetime(strict.as_of),
        confidence_level=level,
        period=period,
        n_boot=n_boot,
        seed=seed,
        n_cases=n_cases,
    )
