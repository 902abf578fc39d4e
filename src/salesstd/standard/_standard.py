"""The code behind `salesstd.standard`; the package docstring is the guide."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import attrs

from salesstd._base import validation as v
from salesstd.errors import ParameterError, SalesStdError
from salesstd.funnel import Funnel
from salesstd.log import EventLog
from salesstd.standard import _rules as c
from salesstd.standard._learn import learn
from salesstd.standard._rules import KPI, Rules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["KPI", "Rules", "Standard", "example_standard_path"]


@attrs.frozen(repr=False)
class Standard:
    """A sales standard: the funnel, the operating rules and the KPI targets.

    Build one directly, from a dict / JSON / TOML definition (`from_dict`, `from_json`,
    `from_toml`), from the bundled example (`example`), or from a log (`from_log`).

    Attributes:
        funnel: The process: stages, outcomes and allowed transitions.
        rules: The operating rules; default none beyond the funnel's transitions.
        kpis: The performance targets, each with its own name.
        name: A label for the standard.

    Raises:
        UnknownStageError: If a rule or KPI names a stage the funnel lacks, or an activity a
            funnel that declares its activities does not declare ("Did you mean ...?").
        ParameterError: If a rule or KPI names an outcome where an open stage is needed, an
            activity that is a stage, or two KPIs share a name.

    Examples:
        >>> f = ss.Funnel.linear(["Lead", "Qualified", "Won"], lost="Lost")
        >>> std = ss.Standard(f, ss.Rules(required_stages=("Qualified",)),
        ...                   (ss.KPI("win", "win_rate", 0.3),), name="FY24")
        >>> std
        Standard(name='FY24', stages=2, rules=2, kpis=1)
        >>> import attrs
        >>> attrs.evolve(std, name="FY25").name
        'FY25'
        >>> ss.Standard(f, ss.Rules(required_stages=("Qualifed",)))
        Traceback (most recent call last):
        ...
        salesstd.errors.UnknownStageError: rules.required_stages[0] names stage \
'Qualifed', which is not in the funnel (Lead, Qualified, Won, Lost). Did you mean \
'Qualified'?
    """

    funnel: Funnel
    rules: Rules = attrs.field(factory=Rules)
    kpis: tuple[KPI, ...] = attrs.field(default=(), converter=c.kpi_tuple)
    name: str = "standard"

    def __attrs_post_init__(self) -> None:
        v.instance("funnel", self.funnel, Funnel)
        v.instance("rules", self.rules, Rules, fix="Build one with ss.Rules(...).")
        if not isinstance(self.kpis, tuple):
            raise ParameterError(
                f"kpis must be a list of KPI; got {self.kpis!r}.", parameter="kpis"
            )
        for i, kpi in enumerate(self.kpis):
            v.instance(f"kpis[{i}]", kpi, KPI, fix="Build one with ss.KPI(...).")
        c.name_text("name", self.name)
        c.check_against_funnel(self.funnel, self.rules, self.kpis)

    def __repr__(self) -> str:
        rules = self.rules
        n_rules = (
            len(rules.required_stages)
            + (not rules.allow_backward)
            + len(rules.max_dwell_days)
            + (rules.first_response_days is not None)
            + sum(len(x) for x in rules.required_activities.values())
            + rules.no_events_after_close
        )
        return (
            f"Standard(name={self.name!r}, stages={self.funnel.n_open}, rules={n_rules}, "
            f"kpis={len(self.kpis)})"
        )

    def kpi(self, name: str) -> KPI:
        """The KPI called `name`.

        Raises:
            ParameterError: If there is none ("Did you mean ...?").
        """
        for kpi in self.kpis:
            if kpi.name == name:
                return kpi
        names = [k.name for k in self.kpis]
        raise ParameterError(
            f"KPI {name!r} is not in the standard ({v.listing(names) or 'it has none'})."
            + v.did_you_mean(name, names)
        )

    def rename(self, mapping: Mapping[str, str]) -> Standard:
        """The same standard on other stage names, e.g. your CRM's.

        Every stage named as a key of `mapping` takes the value as its name everywhere in
        the standard, all at once: in the funnel (`Funnel.rename`: stages, outcomes, edges),
        in the rules keyed by stage (``required_stages``, ``max_dwell_days``,
        ``required_activities``) and in the KPIs' `stage`. A KPI whose name starts with
        its stage's old name and a space (``"Lead conversion"``, as `from_log` and the
        example name them) gets the new name in its place; other KPI names, activities and
        the standard's name are kept. Renaming back gives the original standard.

        Args:
            mapping: Old stage name -> new name; stages left out keep their names.

        Returns:
            A new standard (this one is unchanged).

        Raises:
            UnknownStageError: If a key is not a stage of the funnel ("Did you mean ...?").
            FunnelError: If two stages would get one name (or see `Funnel.rename`).
            ParameterError: If `mapping` is not a mapping, a new name is not a non-empty
                string, or two KPIs would get one name.

        Examples:
            >>> std = ss.Standard.example().rename(
            ...     {"Lead": "Prospecting", "Proposal": "Quote", "Won": "Closed Won"})
            >>> std.funnel.stage_names[:4], std.funnel.won.name
            (('Prospecting', 'Qualified', 'Discovery', 'Quote'), 'Closed Won')
            >>> std.rules.max_dwell_days["Quote"], std.kpi("Quote dwell").stage
            (45.0, 'Quote')
            >>> std.rename({"Prospecting": "Lead", "Quote": "Proposal",
            ...             "Closed Won": "Won"}) == ss.Standard.example()
            True
            >>> ss.Standard.example().rename({"Propsal": "Quote"})
            Traceback (most recent call last):
            ...
            salesstd.errors.UnknownStageError: stage 'Propsal' is not in the funnel \
(Lead, Qualified, Discovery, Proposal, Negotiation, Won, Lost). Did you mean 'Proposal'?
        """
        funnel = self.funnel.rename(mapping)
        new = dict(mapping)
        rules = self.rules
        renamed_rules = attrs.evolve(
            rules,
            required_stages=tuple(new.get(x, x) for x in rules.required_stages),
            max_dwell_days={new.get(k, k): x for k, x in rules.max_dwell_days.items()},
            required_activities={
                new.get(k, k): dict(x) for k, x in rules.required_activities.items()
            },
        )
        kpis = tuple(_renamed_kpi(k, new) for k in self.kpis)
        return attrs.evolve(self, funnel=funnel, rules=renamed_rules, kpis=kpis)

    # ----------------------------------------------------------------- dict / JSON / TOML

    def to_dict(self) -> dict[str, object]:
        """The definition as plain values; `from_dict` rebuilds an equal standard from it.

        The funnel is written in `Funnel.to_dict` form; missing values are None.

        Examples:
            >>> std = ss.Standard.example()
            >>> ss.Standard.from_dict(std.to_dict()) == std
            True
            >>> sorted(std.to_dict())
            ['funnel', 'kind', 'kpis', 'name', 'rules']
        """
        return {
            "kind": "Standard",
            "name": self.name,
            "funnel": self.funnel.to_dict(),
            "rules": self.rules.to_dict(),
            "kpis": [k.to_dict() for k in self.kpis],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Standard:
        """Build a standard from its dict form (what `to_dict` writes, or a parsed TOML file).

        The form, every key but ``funnel`` optional (``kind = "Standard"`` is allowed):

        * ``name``: a label.
        * ``funnel``: either the `Funnel.to_dict` form, or the compact form ``stages`` (the
          open stages in order), ``won``, ``lost`` (one name or a list), optional ``edges``
          (``[[source, target], ...]``; without them the funnel is linear: each stage to the
          next, the last to won, every stage to each lost outcome), ``aliases`` (activity ->
          stage) and ``activities`` (the declared non-stage activities).
        * ``rules``: ``required_stages``, ``allow_backward``, ``max_dwell_days`` (stage ->
          days), ``first_response_days``, ``required_activities`` (stage -> {activity:
          count}), ``no_events_after_close``; see `Rules`.
        * ``kpis``: a list of tables with ``name``, ``metric``, ``target`` and optionally
          ``direction``, ``tolerance``, ``weight``, ``stage``, ``activity``; see `KPI`.

        A missing or None value takes the default.

        Args:
            data: The definition.

        Returns:
            The standard.

        Raises:
            ParameterError: If a key is unknown ("Did you mean ...?") or a value is bad; the
                message starts with the key path, e.g. ``rules.max_dwel_days``.
            UnknownStageError: If a rule or KPI names a stage the funnel lacks.
            FunnelError: If the funnel is inconsistent (the message starts ``funnel:``).

        Examples:
            >>> std = ss.Standard.from_dict({
            ...     "name": "FY25",
            ...     "funnel": {"stages": ["Lead", "Qualified"], "won": "Won", "lost": "Lost"},
            ...     "rules": {"max_dwell_days": {"Lead": 7}},
            ...     "kpis": [{"name": "win", "metric": "win_rate", "target": 0.3}]})
            >>> std.rules.max_dwell_days["Lead"], std.kpis[0].target
            (7.0, 0.3)
            >>> ss.Standard.from_dict({"funnel": std.funnel.to_dict(),
            ...                        "rules": {"max_dwel_days": {"Lead": 7}}})
            Traceback (most recent call last):
            ...
            salesstd.errors.ParameterError: rules.max_dwel_days is not a known key; the \
'rules' table takes required_stages, allow_backward, max_dwell_days, first_response_days, \
required_activities, no_events_after_close. Did you mean 'max_dwell_days'?
        """
        top = c.keys("", data, c.TOP_KEYS)
        if top.get("kind", "Standard") != "Standard":
            raise ParameterError(f"kind must be 'Standard'; got {top['kind']!r}.", parameter="kind")
        if "funnel" not in top:
            raise ParameterError(
                "funnel is missing; a standard needs a funnel table with stages, won and lost.",
                parameter="funnel",
            )
        funnel = c.parse_funnel(top["funnel"])
        rules = _rules_from(top.get("rules"))
        kpis_data = top.get("kpis")
        kpis_data = [] if kpis_data is None else kpis_data
        if isinstance(kpis_data, (str, Mapping)) or not isinstance(kpis_data, (list, tuple)):
            raise ParameterError(
                f"kpis must be a list of tables; got {kpis_data!r}.", parameter="kpis"
            )
        kpis = tuple(_kpi_from(f"kpis[{i}]", item) for i, item in enumerate(kpis_data))
        name = top.get("name")
        return cls(
            funnel=funnel,
            rules=rules,
            kpis=kpis,
            name="standard" if name is None else c.name_text("name", name),
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        """The `to_dict` definition as JSON text (non-ASCII kept as is)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Standard:
        """Build a standard from `to_json` text (or any JSON of the `from_dict` form).

        A key given twice in one object is refused (naming its key path), as TOML does,
        rather than the last one silently winning.

        Raises:
            ParameterError: If the text is not valid JSON, repeats a key, nests deeper than
                any definition does, or see `from_dict`.

        Examples:
            >>> ss.Standard.from_json('{"funnel": {"stages": ["Lead"], "won": "Won", '
            ...                       '"won": "Signed", "lost": "Lost"}}')
            Traceback (most recent call last):
            ...
            salesstd.errors.ParameterError: standard JSON gives the key funnel.won twice; \
keep one of them.
        """
        data = v.json_loads("standard JSON", text)
        return cls.from_dict(data)  # type: ignore[arg-type]  # from_dict refuses a non-table

    @classmethod
    def from_toml(cls, source: str | os.PathLike[str]) -> Standard:
        """Build a standard from a TOML file, or from TOML text.

        `source` is read as a file when it is a path object, or a one-line string ending in
        ``.toml`` or naming an existing file; otherwise it is the TOML text itself. A
        leading byte-order mark (as Windows editors save UTF-8) is skipped. The
        tables are those of `from_dict`: ``name``, ``[funnel]``, ``[rules]`` (with
        ``[rules.max_dwell_days]`` and ``[rules.required_activities.<stage>]``) and
        ``[[kpis]]``; see the commented `example_standard_path` file.

        Args:
            source: A path, or TOML text.

        Returns:
            The standard.

        Raises:
            ParameterError: If the file is missing, the text is not valid TOML, or a key or
                value is bad. Read from a file, every error message starts with the file
                name: ``standard.toml: rules.max_dwel_days is not a known key; ...``.
            UnknownStageError: If a rule or KPI names a stage the funnel lacks.
            FunnelError: If the funnel is inconsistent.

        Examples:
            >>> std = ss.Standard.from_toml('''
            ... name = "mini"
            ... [funnel]
            ... stages = ["Lead", "Qualified"]
            ... won = "Won"
            ... lost = "Lost"
            ... [rules.max_dwell_days]
            ... Lead = 10
            ... [[kpis]]
            ... name = "win"
            ... metric = "win_rate"
            ... target = 0.25
            ... ''')
            >>> std
            Standard(name='mini', stages=2, rules=2, kpis=1)
        """
        path = _as_path(source)
        if path is None:
            text = str(source)
            label = "standard TOML"
        else:
            label = str(path)
            try:
                text = path.read_text(encoding="utf-8-sig")  # a BOM, as Windows editors write
            except FileNotFoundError as err:
                raise ParameterError(f"{label}: no such file.") from err
            except (OSError, UnicodeDecodeError, ValueError) as err:  # ValueError: a NUL byte
                raise ParameterError(f"{label}: cannot be read as UTF-8 text ({err}).") from err
        try:
            data = tomllib.loads(text.removeprefix("\ufeff"))
        except tomllib.TOMLDecodeError as err:
            raise ParameterError(f"{label}: not valid TOML: {err}.") from err
        except RecursionError as err:
            raise v.too_deep(label) from err
        if path is None:
            return cls.from_dict(data)
        try:
            return cls.from_dict(data)
        except SalesStdError as err:
            raise c.with_prefix(err, f"{label}: ") from err

    @classmethod
    def example(cls) -> Standard:
        """The bundled example standard for the synthetic pipeline's funnel.

        The file is at `example_standard_path`; its funnel equals
        ``ss.datasets.synthetic_pipeline(...).funnel``.

        Examples:
            >>> std = ss.Standard.example()
            >>> std.funnel.stage_names[:3], std.kpi("Win rate").target
            (('Lead', 'Qualified', 'Discovery'), 0.15)
        """
        return cls.from_toml(example_standard_path())

    @classmethod
    def from_log(
        cls,
        log: EventLog,
        funnel: Funnel,
        *,
        quantile: float = 0.75,
        by: str | None = "rep",
        min_stay: float | dt.timedelta | None = None,
        dwell_floor: float | dt.timedelta = 60.0,
    ) -> Standard:
        """Derive a standard from the best performers in a log (see `salesstd._standard_learn`).

        For each entity (each value of the case attribute `by`: a rep, a team; all deals
        together with ``by=None``) the landed metrics give:

        * the step conversion of every open stage (`salesstd.conversion`, first entries,
          skips implied), shrunk toward the population with
          `salesstd.stats.beta_binomial_shrinkage` so that a rep with three lucky deals is
          not the benchmark;
        * the win rate, ``won / (won + lost)`` over closed deals, shrunk the same way;
        * the Kaplan-Meier median dwell of every open stage (`salesstd.time_in_stage`; open
          stays censored) and the median cycle time to a win (`salesstd.cycle_time`), from
          entities with at least 5 observations (stays, or won deals).

        **KPI targets** are the `quantile` of each metric across entities (entities without
        data for it left out): the 0.75 quantile of conversions and win rates ("as good as
        the top quarter"), and the ``1 - quantile`` quantile of times, where lower is better.
        Rates are rounded to 4 decimals, days to 2. KPIs: ``Win rate``, ``Cycle time``,
        ``<stage> conversion`` and ``<stage> dwell`` for each open stage with data.

        **Rules.** The best performers are the entities whose shrunk win rate is at least its
        `quantile` across entities. The SLA of each open stage (``max_dwell_days``) is the
        Kaplan-Meier 90th percentile of the best performers' first stays in it (open stays
        censored), rounded up to 0.01 day; a stage whose curve never falls to 0.1 gets no
        SLA. ``required_stages`` are the open stages that at least 90% of the won deals have
        a recorded event in (skips not implied). Backward moves stay allowed, events after
        close are not; no activity rules are derived.

        Args:
            log: Last period's events.
            funnel: The process.
            quantile: Which quantile across entities is the target, in (0, 1).
            by: The case attribute naming the entity, or None for all deals as one.
            min_stay: Stays shorter than this are data-entry corrections (seconds or a
                `datetime.timedelta`), dropped before anything is learned; see
                `salesstd.conversion`. None (default) keeps every stay.
            dwell_floor: Stays that ended in a move sooner than this (seconds or a
                timedelta; default one minute) are left out of the dwell targets and SLAs,
                as `salesstd.scorecard` leaves them out of dwell KPIs: seconds of clicking
                through a stage must not set a target.

        Returns:
            The standard, named ``"from_log"``.

        Raises:
            ParameterError: If `quantile` is not in (0, 1) or `by` is not a case attribute
                ("Did you mean ...?").
            UnknownStageError: If the funnel declares its activities and the log has another.

        Note:
            Shrinkage: Efron, B. and Morris, C. (1975), "Data analysis using Stein's estimator
            and its generalizations", *JASA* 70(350), 311-319. Kaplan, E. L. and Meier, P.
            (1958), *JASA* 53(282), 457-481.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "Lead", "2024-01-01"), ("d1", "Won", "2024-01-05"),
            ...      ("d2", "Lead", "2024-01-01"), ("d2", "Lost", "2024-01-03"),
            ...      ("d3", "Lead", "2024-01-02"), ("d3", "Won", "2024-01-04")])
            >>> f = ss.Funnel.linear(["Lead", "Won"], lost="Lost")
            >>> std = ss.Standard.from_log(log, f, by=None)
            >>> std.kpi("Win rate").target, std.rules.required_stages
            (0.6667, ('Lead',))
        """
        parts = learn(
            log, funnel, quantile=quantile, by=by, min_stay=min_stay, dwell_floor=dwell_floor
        )
        return cls(
            funnel=funnel,
            rules=Rules(
                required_stages=parts.required_stages,
                max_dwell_days=parts.max_dwell_days,
                allow_backward=True,
                no_events_after_close=True,
            ),
            kpis=tuple(KPI(**k) for k in parts.kpis),  # type: ignore[arg-type]
            name="from_log",
        )


def _renamed_kpi(kpi: KPI, new: Mapping[str, str]) -> KPI:
    """`kpi` on renamed stages: its stage, and its name if it starts with ``"<stage> "``."""
    if kpi.stage is None or kpi.stage not in new:
        return kpi
    stage = new[kpi.stage]
    name = kpi.name
    if name.startswith(kpi.stage + " "):
        name = stage + name[len(kpi.stage) :]
    return attrs.evolve(kpi, stage=stage, name=name)


def _rules_from(data: object) -> Rules:
    if data is None:
        return Rules()
    table = c.keys("rules", data, c.RULES_KEYS)
    values = {k: x for k, x in table.items() if x is not None}
    for key in ("required_stages",):
        if key in values and isinstance(values[key], str):
            raise ParameterError(
                f"rules.{key} must be a list of stage names; got {values[key]!r}. Write "
                f"[{values[key]!r}]."
            )
    try:
        return Rules(**values)  # type: ignore[arg-type]
    except ParameterError as err:
        text = str(err)
        if text.startswith("Rules."):
            raise ParameterError("rules." + text[len("Rules.") :]) from err
        raise


def _kpi_from(path: str, data: object) -> KPI:
    table = c.keys(path, data, c.KPI_KEYS)
    for key in ("name", "metric", "target"):
        if table.get(key) is None:
            raise ParameterError(
                f"{path}.{key} is missing; each KPI needs a name, a metric and a target."
            )
    values = {k: x for k, x in table.items() if x is not None}
    try:
        return KPI(**values)  # type: ignore[arg-type]
    except ParameterError as err:
        text = str(err)
        if text.startswith("KPI."):
            raise ParameterError(path + text[len("KPI") :]) from err
        raise


def _as_path(source: object) -> Path | None:
    if isinstance(source, os.PathLike):
        return Path(source)
    if not isinstance(source, str):
        raise ParameterError(
            f"source must be a path or TOML text; got {type(source).__name__}.", parameter="source"
        )
    if "\n" in source:
        return None
    if source.endswith(".toml") or ("=" not in source and Path(source).is_file()):
        return Path(source)
    return None


def example_standard_path() -> Path:
    """Path of the bundled, commented example standard (TOML) for the synthetic pipeline.

    Examples:
        >>> ss.example_standard_path().name
        'example_standard.toml'
    """
    return Path(str(resources.files("salesstd").joinpath("data").joinpath("example_standard.toml")))
