"""The `Funnel` class; the package docstring of `salesstd.funnel` explains the model."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from salesstd._base import lazy
from salesstd._base import validation as v
from salesstd.errors import FunnelError, ParameterError, UnknownStageError
from salesstd.funnel import _discover
from salesstd.funnel import _parts as _f
from salesstd.funnel._stage import Stage
from salesstd.log import EventLog

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Funnel", "Stage"]


class Funnel:
    """The sales process: ordered open stages, one won and some lost outcomes, allowed moves.

    Build one with `linear`, `from_edges`, `discover` or `from_dict`; the constructor takes
    the open stages in order and the allowed transitions. A funnel is immutable and
    hashable; `with_edge`, `without_edge`, `with_alias`, `with_activities` and `rename`
    return new funnels. Every constructor checks the definition once: stage names unique,
    exactly one won outcome, edges between known stages, no edge out of an outcome, every stage
    reachable from an entry stage, aliases naming known stages and one stage each.

    Entry stages are the open stages with no incoming edge from an earlier open stage (so the
    first open stage is always one, and a backward move into a stage does not stop it being
    one). Every open stage is therefore reachable; an outcome without an incoming edge is not.

    Args:
        stages: The open stages in funnel order. Outcome names may be listed too; they are
            placed after the open stages whatever their place in this list.
        edges: Allowed transitions as ``(source, target)`` stage names. Duplicates collapse.
        won: The won outcome.
        lost: The lost outcome, or several.
        aliases: Activity name to the stage it records, for logs that use other names.
        activities: The non-stage activities, if you want activities outside the funnel
            checked; ``None`` (default) takes any unknown activity as a non-stage activity.

    Raises:
        FunnelError: If the definition is inconsistent; the message names the offending
            stage, edge or alias and how to fix it.
        ParameterError: If a name is not a string.

    Examples:
        >>> f = ss.Funnel(["lead", "qualified"],
        ...               [("lead", "qualified"), ("qualified", "won"), ("lead", "lost"),
        ...                ("qualified", "lost")], won="won", lost="lost")
        >>> f
        Funnel(stages=['lead', 'qualified'], won='won', lost=['lost'])
        >>> f.stage_names, f.successors("lead")
        (('lead', 'qualified', 'won', 'lost'), ('qualified', 'lost'))
    """

    __slots__ = (
        "_activities",
        "_activity_set",
        "_adjacency",
        "_edges",
        "_graph",
        "_index",
        "_lookup",
        "_stages",
    )

    _stages: tuple[Stage, ...]
    _edges: tuple[tuple[str, str], ...]
    _activities: tuple[str, ...] | None
    _activity_set: frozenset[str]
    _graph: nx.DiGraph[str]
    _index: dict[str, int]
    _lookup: dict[str, int]
    _adjacency: NDArray[np.bool_]

    def __init__(
        self,
        stages: Sequence[str],
        edges: Iterable[tuple[str, str]],
        *,
        won: str,
        lost: str | Sequence[str] = (),
        aliases: Mapping[str, str] | None = None,
        activities: Iterable[str] | None = None,
    ) -> None:
        won_name = _f.won_name(won)
        lost_names = _f.as_names("lost", lost, one_ok=True)
        names = _f.as_names("stages", stages)
        _f.check_unique(names, "stages")
        outcomes = {won_name, *lost_names}
        opened = [n for n in names if n not in outcomes]
        self._set(_f.assemble(opened, edges, won_name, lost_names, aliases, activities))

    @classmethod
    def _make(
        cls,
        opened: list[str],
        edges: object,
        won: str,
        lost: list[str],
        aliases: Mapping[str, str],
        activities: object,
    ) -> Funnel:
        """Build without taking outcome names out of `opened` (they must not be there)."""
        funnel = cls.__new__(cls)
        funnel._set(_f.assemble(opened, edges, won, lost, aliases, activities))  # noqa: SLF001
        return funnel

    def _set(self, parts: _f.Parts) -> None:
        stages = tuple(
            Stage(name=name, kind=kind, position=i, aliases=aliases)
            for i, (name, kind, aliases) in enumerate(parts.stages)
        )
        edges, activities = parts.edges, parts.activities
        index = {s.name: s.position for s in stages}
        lookup = dict(index)
        lookup.update({a: s.position for s in stages for a in s.aliases})
        graph: nx.DiGraph[str] = lazy.nx.DiGraph()
        for s in stages:
            graph.add_node(s.name, kind=s.kind, position=s.position, aliases=s.aliases)
        graph.add_edges_from(edges)
        adjacency = np.zeros((len(stages), len(stages)), dtype=bool)
        for a, b in edges:
            adjacency[index[a], index[b]] = True
        adjacency.flags.writeable = False
        put = object.__setattr__
        put(self, "_stages", stages)
        put(self, "_edges", edges)
        put(self, "_activities", activities)
        put(self, "_activity_set", frozenset(activities or ()))
        put(self, "_graph", graph)
        put(self, "_index", index)
        put(self, "_lookup", lookup)
        put(self, "_adjacency", adjacency)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(
            f"Funnel is immutable; cannot set {name!r}. Use with_edge, without_edge, "
            "with_alias or with_activities to get a changed copy."
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Funnel is immutable; cannot delete {name!r}.")

    def _parts(self) -> _f.Parts:
        stages = tuple((s.name, s.kind, s.aliases) for s in self._stages)
        return _f.Parts(stages, self._edges, self._activities)

    def _key(self) -> tuple[object, ...]:
        return (self._stages, self._edges, self._activities)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Funnel):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Callable[[Mapping[str, object]], Funnel], tuple[object]]:
        return (Funnel.from_dict, (self.to_dict(),))

    # ----------------------------------------------------------------- constructors

    @classmethod
    def linear(
        cls,
        stages: Sequence[str],
        *,
        won: str | None = None,
        lost: str | Sequence[str] | None = None,
        aliases: Mapping[str, str] | None = None,
        activities: Iterable[str] | None = None,
    ) -> Funnel:
        """A funnel whose open stages follow one another, each able to end as lost.

        The edges are each open stage to the next, the last open stage to the won outcome,
        and every open stage to every lost outcome.

        Args:
            stages: The stages in order; the last one is the won outcome unless `won` names
                one. Lost outcomes may be listed too (they are taken out of the chain).
            won: The won outcome, if it is not the last of `stages`; it need not be listed.
            lost: The lost outcome, or several; ``None`` for none.
            aliases: Activity name to the stage it records.
            activities: The declared non-stage activities (see `Funnel`).

        Returns:
            The funnel.

        Raises:
            FunnelError: If no open stage is left, or a name is repeated.

        Examples:
            >>> f = ss.Funnel.linear(["lead", "qualified", "proposal", "won"], lost="lost")
            >>> f
            Funnel(stages=['lead', 'qualified', 'proposal'], won='won', lost=['lost'])
            >>> f.edges
            (('lead', 'qualified'), ('lead', 'lost'), ('qualified', 'proposal'), \
('qualified', 'lost'), ('proposal', 'won'), ('proposal', 'lost'))
        """
        chain, edges, won_name, lost_names = _f.linear_definition(stages, won, lost)
        return cls(
            chain, edges, won=won_name, lost=lost_names, aliases=aliases, activities=activities
        )

    @classmethod
    def from_edges(
        cls,
        edges: Iterable[tuple[str, str]],
        *,
        won: str,
        lost: str | Sequence[str] = (),
        order: Sequence[str] | None = None,
        aliases: Mapping[str, str] | None = None,
        activities: Iterable[str] | None = None,
    ) -> Funnel:
        """A funnel of the stages the edges mention, in `order` or in an order derived from them.

        Without `order`, the order of the open stages comes from the graph: back edges are
        found by a depth-first search that starts from the open stages without incoming
        edges and visits stages in order of first appearance in `edges` (an edge into a
        stage still on the search path is a back edge); the order is then the topological
        order of the remaining edges, ties broken by first appearance.

        Args:
            edges: Allowed transitions as ``(source, target)`` pairs; the stages are the
                names they mention (plus `won` and `lost`).
            won: The won outcome.
            lost: The lost outcome, or several.
            order: The open stages in funnel order; outcome names in it are skipped.
            aliases: Activity name to the stage it records.
            activities: The declared non-stage activities (see `Funnel`).

        Returns:
            The funnel.

        Raises:
            FunnelError: If `order` misses or adds a stage, or the definition is
                inconsistent (see `Funnel`).

        Examples:
            >>> f = ss.Funnel.from_edges(
            ...     [("lead", "proposal"), ("proposal", "lead"), ("proposal", "won")],
            ...     won="won")
            >>> f.stage_names, f.allows("proposal", "lead")
            (('lead', 'proposal', 'won'), True)
        """
        opened, pairs, won_name, lost_names = _f.edge_definition(edges, won, lost, order)
        return cls(
            opened, pairs, won=won_name, lost=lost_names, aliases=aliases, activities=activities
        )

    @classmethod
    def discover(
        cls,
        log: EventLog,
        *,
        won: str,
        lost: str | Sequence[str] = (),
        min_share: float = 0.05,
        aliases: Mapping[str, str] | None = None,
        stages: Collection[str] | None = None,
    ) -> Funnel:
        """Discover the funnel a log follows from its directly-follows counts.

        Activities are first mapped to stages (an alias to its stage; with `stages`, only
        the named stages, `won` and `lost` are stages and other activities are ignored).
        Then `transitions` counts how often one stage directly follows another in a case.
        Repeats of a stage (A -> A) and moves out of an outcome are dropped. An edge is kept
        when its count is at least `min_share` of all moves out of its source; a stage left
        with no incoming edge keeps its most frequent one, so rare stages stay connected.

        Stage order: each stage's mean position is the mean, over the cases that reach it,
        of the index of its first occurrence in the case's stage sequence (repeats collapsed).
        Back edges are found by a depth-first search over the kept edges between open
        stages, starting from the stages without incoming edges and visiting stages by mean
        position (an edge into a stage on the search path is a back edge); the open stages
        are then in topological order of the remaining edges, ties by mean position, then
        name. Outcomes follow: won, then lost in the order given.

        Args:
            log: Events to learn from.
            won: The won outcome (a stage name after aliasing).
            lost: The lost outcome, or several.
            min_share: Smallest share of its source's outgoing moves an edge needs to be
                kept, in [0, 1]; 0 keeps every observed move.
            aliases: Activity name to the stage it records. Aliases of stages that end up
                outside the funnel are left out.
            stages: The stages, if not every activity is one: stage names or activities
                aliased to them. Other activities are non-stage activities and are skipped
                when counting moves.

        Returns:
            The funnel; it takes unknown activities as non-stage activities.

        Raises:
            UnknownStageError: If `won`, a `lost` outcome or one of `stages` does not occur
                in the log.
            FunnelError: If the result is inconsistent, e.g. an outcome that never follows
                another stage.
            ParameterError: If `min_share` is not in [0, 1].

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "call", "2024-01-02"),
            ...      ("d1", "offer", "2024-01-03"), ("d1", "signed", "2024-01-04"),
            ...      ("d2", "lead", "2024-01-01"), ("d2", "offer", "2024-01-02"),
            ...      ("d2", "lost", "2024-01-05"), ("d3", "lead", "2024-01-02"),
            ...      ("d3", "lost", "2024-01-03")])
            >>> f = ss.Funnel.discover(log, won="won", lost="lost",
            ...                        aliases={"signed": "won"},
            ...                        stages=["lead", "offer"])
            >>> f.edges
            (('lead', 'offer'), ('lead', 'lost'), ('offer', 'won'), ('offer', 'lost'))
            >>> f.stage_of("call") is None
            True
        """
        order, edges, won_name, lost_names, kept = _discover.discover(
            log, won=won, lost=lost, min_share=min_share, aliases=aliases, stages=stages
        )
        return cls(order, edges, won=won_name, lost=lost_names, aliases=kept)

    # ----------------------------------------------------------------- facts

    @property
    def stages(self) -> tuple[Stage, ...]:
        """All stages in funnel order: open stages, then won, then lost."""
        return self._stages

    @property
    def stage_names(self) -> tuple[str, ...]:
        """Names of all stages in funnel order."""
        return tuple(s.name for s in self._stages)

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        """The open (non-terminal) stages, in order."""
        return tuple(s for s in self._stages if s.kind == "open")

    @property
    def won(self) -> Stage:
        """The won outcome."""
        return next(s for s in self._stages if s.kind == "won")

    @property
    def lost(self) -> tuple[Stage, ...]:
        """The lost outcomes, in order (possibly none)."""
        return tuple(s for s in self._stages if s.kind == "lost")

    @property
    def n_stages(self) -> int:
        """Number of stages, outcomes included."""
        return len(self._stages)

    @property
    def n_open(self) -> int:
        """Number of open stages; stage codes below it are open, it is the won code."""
        return self.won.position

    @property
    def entry(self) -> tuple[Stage, ...]:
        """Open stages with no incoming edge from an earlier open stage; the first is one.

        Examples:
            >>> f = ss.Funnel.from_edges([("inbound", "qualified"), ("outbound", "qualified"),
            ...                           ("qualified", "won")], won="won")
            >>> [s.name for s in f.entry]
            ['inbound', 'outbound']
        """
        n = self.n_open
        forward = np.triu(self._adjacency[:n, :n], k=1)
        return tuple(self._stages[i] for i in np.flatnonzero(~forward.any(axis=0)).tolist())

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """Allowed transitions, by source then target in funnel order."""
        return self._edges

    @property
    def aliases(self) -> dict[str, str]:
        """Alias to the stage it records, sorted by alias (a new dict each time)."""
        return dict(sorted((a, s.name) for s in self._stages for a in s.aliases))

    @property
    def activities(self) -> tuple[str, ...] | None:
        """Declared non-stage activities (sorted), or ``None`` if any unknown is accepted."""
        return self._activities

    @property
    def graph(self) -> nx.DiGraph[str]:
        """The allowed transitions as a frozen copy of a networkx `DiGraph`.

        Nodes are stage names in funnel order, with ``kind``, ``position`` and ``aliases``
        data (a copy: editing it does not change the funnel).
        """
        frozen: nx.DiGraph[str] = lazy.nx.freeze(self._graph.copy())
        return frozen

    @property
    def adjacency(self) -> NDArray[np.bool_]:
        """Read-only boolean matrix: ``adjacency[i, j]`` if stage ``i`` may move to ``j``.

        Rows and columns are stage codes (funnel order), for vectorised checks such as
        ``funnel.adjacency[codes[:-1], codes[1:]]``.
        """
        return self._adjacency

    # ----------------------------------------------------------------- queries

    def stage(self, name: str) -> Stage:
        """The stage called `name`.

        Raises:
            UnknownStageError: If the funnel has no such stage (an alias is not a stage
                name; the message names the stage it stands for).

        Examples:
            >>> f = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
            >>> f.stage("qualified").position
            1
            >>> f.stage("Qualifed")
            Traceback (most recent call last):
            ...
            salesstd.errors.UnknownStageError: stage 'Qualifed' is not in the funnel \
(lead, qualified, won, lost). Did you mean 'qualified'?
        """
        return self._stages[self._position(name)]

    def _position(self, name: object) -> int:
        if isinstance(name, str):
            pos = self._index.get(name)
            if pos is not None:
                return pos
        raise self._unknown(name, hint=False)

    def _unknown(self, name: object, *, hint: bool) -> UnknownStageError:
        names = self.stage_names
        message = f"stage {name!r} is not in the funnel ({v.listing(names)})."
        pos = self._lookup.get(name) if isinstance(name, str) else None
        if pos is not None:
            return UnknownStageError(
                f"{message} {name!r} is an alias of stage {names[pos]!r}; pass {names[pos]!r}.",
                name=name,
                known=names,
            )
        suggestion = v.did_you_mean(name, [*names, *self._lookup, *self._activity_set])
        if not suggestion and hint:
            suggestion = (
                f" If it is not a stage, declare it: funnel.with_activities([..., {name!r}])."
            )
        return UnknownStageError(message + suggestion, name=name, known=names)

    def successors(self, stage: str) -> tuple[str, ...]:
        """Stages `stage` may move to, in funnel order.

        Raises:
            UnknownStageError: If `stage` is not in the funnel.

        Examples:
            >>> ss.Funnel.linear(["lead", "won"], lost="lost").successors("lead")
            ('won', 'lost')
        """
        row = self._adjacency[self._position(stage)]
        return tuple(self._stages[j].name for j in np.flatnonzero(row).tolist())

    def predecessors(self, stage: str) -> tuple[str, ...]:
        """Stages that may move to `stage`, in funnel order.

        Raises:
            UnknownStageError: If `stage` is not in the funnel.

        Examples:
            >>> ss.Funnel.linear(["lead", "offer", "won"], lost="lost").predecessors("lost")
            ('lead', 'offer')
        """
        col = self._adjacency[:, self._position(stage)]
        return tuple(self._stages[j].name for j in np.flatnonzero(col).tolist())

    def allows(self, source: str, target: str) -> bool:
        """Whether a deal may move directly from `source` to `target`.

        Raises:
            UnknownStageError: If either is not a stage of the funnel.

        Examples:
            >>> f = ss.Funnel.linear(["lead", "offer", "won"])
            >>> f.allows("lead", "offer"), f.allows("lead", "won")
            (True, False)
        """
        return bool(self._adjacency[self._position(source), self._position(target)])

    def stage_of(self, activity: str) -> str | None:
        """The stage an activity records: itself, the stage it is an alias of, or ``None``.

        Returns:
            The stage name, or ``None`` for a non-stage activity.

        Raises:
            UnknownStageError: If the funnel declares its non-stage activities and
                `activity` is neither a stage, an alias nor one of them.

        Examples:
            >>> f = ss.Funnel.linear(["lead", "won"], aliases={"signed": "won"})
            >>> f.stage_of("signed"), f.stage_of("won"), f.stage_of("call")
            ('won', 'won', None)
        """
        if not isinstance(activity, str):
            raise ParameterError(
                f"activity must be a string; got {activity!r}.", parameter="activity"
            )
        pos = self._lookup.get(activity)
        if pos is not None:
            return self._stages[pos].name
        if self._activities is not None and activity not in self._activity_set:
            raise self._unknown(activity, hint=True)
        return None

    def stage_codes(self, log: EventLog) -> NDArray[np.int32]:
        """For each of the log's activity codes, its stage's code; -1 for a non-stage activity.

        ``funnel.stage_codes(log)[log.activity]`` gives the stage code of every event. Codes
        index `stages` (funnel order): below `n_open` open, `n_open` won, above it lost.

        Args:
            log: The log whose activities to map.

        Returns:
            int32 array, one entry per activity in ``log.activity_names``.

        Raises:
            UnknownStageError: If the funnel declares its non-stage activities and the log
                has an activity that is neither a stage, an alias nor one of them.

        Examples:
            >>> log = ss.EventLog.from_records(
            ...     [("d1", "lead", "2024-01-01"), ("d1", "call", "2024-01-02"),
            ...      ("d1", "signed", "2024-01-03")])
            >>> f = ss.Funnel.linear(["lead", "won"], aliases={"signed": "won"})
            >>> log.activities, f.stage_codes(log).tolist()
            (('call', 'lead', 'signed'), [-1, 0, 1])
            >>> f.with_activities(["meeting"]).stage_codes(log)
            Traceback (most recent call last):
            ...
            salesstd.errors.UnknownStageError: stage 'call' is not in the funnel (lead, won). \
If it is not a stage, declare it: funnel.with_activities([..., 'call']).
        """
        v.instance("log", log, EventLog)
        codes, unknown = _f.stage_codes(self._lookup, self._activity_set, self._activities, log)
        if unknown is not None:
            raise self._unknown(unknown, hint=True)
        return codes

    # ----------------------------------------------------------------- changes

    def _rebuild(
        self,
        edges: Iterable[tuple[str, str]],
        aliases: Mapping[str, str],
        activities: Iterable[str] | None,
    ) -> Funnel:
        return Funnel._make(
            [s.name for s in self.open_stages],
            edges,
            self.won.name,
            [s.name for s in self.lost],
            aliases,
            activities,
        )

    def with_edge(self, source: str, target: str) -> Funnel:
        """A copy that also allows `source` -> `target`; the stage order is kept.

        Raises:
            FunnelError: If either stage is unknown or `source` is an outcome.

        Examples:
            >>> f = ss.Funnel.linear(["lead", "offer", "won"]).with_edge("offer", "lead")
            >>> f.allows("offer", "lead"), [s.name for s in f.entry]
            (True, ['lead'])
        """
        return self._rebuild([*self._edges, (source, target)], self.aliases, self._activities)

    def without_edge(self, source: str, target: str) -> Funnel:
        """A copy that no longer allows `source` -> `target`.

        Raises:
            FunnelError: If the funnel has no such edge, or a stage would become unreachable.

        Examples:
            >>> f = ss.Funnel.linear(["lead", "offer", "won"], lost="lost")
            >>> f.without_edge("lead", "lost").predecessors("lost")
            ('offer',)
        """
        if (source, target) not in self._edges:
            out = [f"{a} -> {b}" for a, b in self._edges if a == source]
            raise FunnelError(
                f"edge {source!r} -> {target!r} is not in the funnel; edges from {source!r}: "
                f"{v.listing(out) or 'none'}."
            )
        edges = [e for e in self._edges if e != (source, target)]
        return self._rebuild(edges, self.aliases, self._activities)

    def with_alias(self, activity: str, stage: str) -> Funnel:
        """A copy in which activity name `activity` also records `stage`.

        Raises:
            FunnelError: If `stage` is unknown, or `activity` already stands for another
                stage or is a declared non-stage activity.

        Examples:
            >>> f = ss.Funnel.linear(["lead", "won"]).with_alias("A_APPROVED", "won")
            >>> f.won.aliases, f.stage_of("A_APPROVED")
            (('A_APPROVED',), 'won')
        """
        current = self.aliases
        name = _f.as_name("activity", activity)
        if name in current and current[name] != stage:
            raise FunnelError(
                f"alias {name!r} already stands for stage {current[name]!r}; an activity "
                f"can stand for one stage only, so it cannot also stand for {stage!r}."
            )
        current[name] = stage
        return self._rebuild(self._edges, current, self._activities)

    def with_activities(self, activities: Iterable[str] | None) -> Funnel:
        """A copy that declares its non-stage activities (``None`` accepts any unknown one).

        Raises:
            FunnelError: If a declared activity is a stage or an alias.

        Examples:
            >>> ss.Funnel.linear(["lead", "won"]).with_activities(["call"]).activities
            ('call',)
        """
        return self._rebuild(self._edges, self.aliases, activities)

    def rename(self, mapping: Mapping[str, str]) -> Funnel:
        """A copy with stages renamed: same order, edges, aliases and activities.

        Every stage named as a key of `mapping` (open stages and outcomes alike) takes the
        value as its name, all at once, so ``{"a": "b", "b": "a"}`` swaps two names. Edges
        follow their stages; an alias keeps standing for its (renamed) stage, and an alias
        equal to its own stage's new name is dropped (it would repeat the name).

        Args:
            mapping: Old stage name -> new name; stages left out keep their names.

        Returns:
            The renamed funnel.

        Raises:
            UnknownStageError: If a key is not a stage of the funnel ("Did you mean ...?").
            FunnelError: If two stages would get one name, or a new name is an alias of
                another stage or a declared activity.
            ParameterError: If `mapping` is not a mapping or a new name is not a non-empty
                string.

        Examples:
            >>> f = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
            >>> g = f.rename({"lead": "Prospecting", "won": "Closed Won"})
            >>> g
            Funnel(stages=['Prospecting', 'qualified'], won='Closed Won', lost=['lost'])
            >>> g.rename({"Prospecting": "lead", "Closed Won": "won"}) == f
            True
            >>> f.rename({"qualifed": "Qualified"})
            Traceback (most recent call last):
            ...
            salesstd.errors.UnknownStageError: stage 'qualifed' is not in the funnel \
(lead, qualified, won, lost). Did you mean 'qualified'?
        """
        if not isinstance(mapping, Mapping):
            raise ParameterError(
                f"mapping must be a dict of old stage name -> new name; got {mapping!r}.",
                parameter="mapping",
            )
        for old in mapping:
            self._position(old)  # UnknownStageError, with "Did you mean"
        return Funnel._make(*_f.renamed(self._parts(), mapping))

    # ----------------------------------------------------------------- exports

    def to_dict(self) -> dict[str, object]:
        """JSON-ready definition; `from_dict` rebuilds an equal funnel from it.

        Examples:
            >>> ss.Funnel.linear(["lead", "won"]).to_dict()
            {'kind': 'Funnel', 'stages': [{'name': 'lead', 'kind': 'open', 'aliases': []}, \
{'name': 'won', 'kind': 'won', 'aliases': []}], 'edges': [['lead', 'won']], \
'activities': None}
        """
        return {
            "kind": "Funnel",
            "stages": [
                {"name": s.name, "kind": s.kind, "aliases": list(s.aliases)} for s in self._stages
            ],
            "edges": [[a, b] for a, b in self._edges],
            "activities": None if self._activities is None else list(self._activities),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Funnel:
        """Rebuild a funnel from `to_dict` output (or the same shape written by hand).

        Args:
            data: ``{"stages": [{"name", "kind", "aliases"}...], "edges": [[a, b]...],
                "activities": None | [...]}``; ``"kind": "Funnel"`` is optional.

        Returns:
            The funnel.

        Raises:
            FunnelError: If a key is missing or unknown, or the definition is inconsistent.

        Examples:
            >>> f = ss.Funnel.linear(["lead", "won"], lost="lost")
            >>> ss.Funnel.from_dict(f.to_dict()) == f
            True
        """
        opened, edges, won, lost, aliases, activities = _f.parse_dict(data)
        return cls._make(opened, edges, won, lost, aliases, activities)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The `to_dict` definition as JSON text (deterministic; non-ASCII kept as is).

        Examples:
            >>> f = ss.Funnel.linear(["lead", "won"])
            >>> ss.Funnel.from_json(f.to_json()) == f
            True
        """
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Funnel:
        """Rebuild a funnel from `to_json` text.

        A key given twice in one object is refused, naming its key path.

        Raises:
            FunnelError: If the text is not valid JSON, repeats a key, nests too deeply, or
                is not a funnel definition.
            ParameterError: If `text` is not a str.
        """
        data = v.json_loads("funnel JSON", text, error=FunnelError)
        return cls.from_dict(data)  # type: ignore[arg-type]

    def to_dot(self) -> str:
        """Graphviz DOT text: open stages as boxes, won doubled, lost dashed.

        Examples:
            >>> print(ss.Funnel.linear(["lead", "won"], lost="lost").to_dot())
            digraph funnel {
                rankdir=LR;
                node [shape=box, style=rounded];
                "lead";
                "won" [peripheries=2];
                "lost" [style="rounded,dashed"];
                "lead" -> "won";
                "lead" -> "lost";
            }
        """
        return _f.to_dot(self._parts())

    def to_mermaid(self) -> str:
        """Mermaid flowchart text; nodes are ``s0, s1, ...`` by stage code.

        Examples:
            >>> print(ss.Funnel.linear(["lead", "won"], lost="lost").to_mermaid())
            flowchart LR
                s0["lead"]
                s1(["won"])
                s2(["lost"])
                s0 --> s1
                s0 --> s2
                classDef won stroke-width:3px
                classDef lost stroke-dasharray:4
                class s1 won
                class s2 lost
        """
        return _f.to_mermaid(self._parts())

    def __repr__(self) -> str:
        opened = [s.name for s in self.open_stages]
        lost = [s.name for s in self.lost]
        return f"Funnel(stages={opened!r}, won={self.won.name!r}, lost={lost!r})"

    def _repr_html_(self) -> str:
        rows = [
            (
                str(s.position),
                s.name,
                s.kind,
                ", ".join(s.aliases),
                ", ".join(self.successors(s.name)),
            )
            for s in self._stages
        ]
        return _f.html_table(repr(self), ("code", "stage", "kind", "aliases", "next"), rows)
