"""Checks, stage-order derivation and discovery helpers behind `salesstd.funnel`.

Every check of a funnel definition lives here and words its own message (what is wrong, the
offending name, the fix), using the shared helpers of `_validate`; `Funnel` calls them once,
at its constructors.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from salesstd._base import lazy
from salesstd._base import validation as v
from salesstd.errors import FunnelError, ParameterError

if TYPE_CHECKING:
    import networkx as nx

    from salesstd.log import EventLog

StageKind = Literal["open", "won", "lost"]
SHARE_TOLERANCE = 1e-12
KINDS: tuple[StageKind, ...] = ("open", "won", "lost")
DICT_KEYS = ("kind", "stages", "edges", "activities")


class Parts(NamedTuple):
    """A checked funnel definition in canonical form."""

    stages: tuple[tuple[str, StageKind, tuple[str, ...]], ...]  # name, kind, sorted aliases
    edges: tuple[tuple[str, str], ...]  # by (source, target) position
    activities: tuple[str, ...] | None  # sorted


def as_name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ParameterError(f"{what} must be a non-empty string; got {value!r}.")
    return value


def as_names(what: str, value: object, *, one_ok: bool = False) -> list[str]:
    if isinstance(value, str):
        if one_ok:
            return [as_name(what, value)]
        raise ParameterError(
            f"{what} must be a list of names; got the string {value!r}. Pass [{value!r}]."
        )
    if not isinstance(value, Iterable):
        raise ParameterError(f"{what} must be a list of names; got {value!r}.")
    return [as_name(f"each of {what}", item) for item in value]


def sequence(what: str, value: object) -> list[object]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        raise FunnelError(f"funnel dict: {what} must be a list; got {value!r}.")
    return list(value)


def won_count_message(won: Sequence[str]) -> str:
    if not won:
        return "the funnel has no won outcome; name one, e.g. won='won'."
    return (
        f"a funnel has exactly one won outcome; got {len(won)} ({v.listing(won)}). Keep one "
        f"and alias the others to it, e.g. aliases={{{won[1]!r}: {won[0]!r}}}."
    )


def won_name(won: object) -> str:
    if won is None:
        raise FunnelError(won_count_message([]))
    if not isinstance(won, str) and isinstance(won, Sequence):
        names = as_names("won", won)
        if len(names) != 1:
            raise FunnelError(won_count_message(names))
        return names[0]
    return as_name("won", won)


def check_unique(names: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FunnelError(f"stage {name!r} appears twice in {what}; list each stage once.")
        seen.add(name)


def edge_list(edges: object) -> list[tuple[str, str]]:
    if isinstance(edges, (str, Mapping)) or not isinstance(edges, Iterable):
        raise ParameterError(
            f"edges must be a list of (source, target) pairs; got {edges!r}.", parameter="edges"
        )
    out = []
    for edge in edges:
        if isinstance(edge, str) or not isinstance(edge, Sequence) or len(edge) != 2:  # noqa: PLR2004
            raise ParameterError(f"each edge must be a (source, target) pair; got {edge!r}.")
        out.append((as_name("edge source", edge[0]), as_name("edge target", edge[1])))
    return out


def alias_map(aliases: object) -> dict[str, str]:
    if aliases is None:
        return {}
    if not isinstance(aliases, Mapping):
        raise ParameterError(
            f"aliases must map activity names to stages, e.g. {{'A_APPROVED': 'won'}}; "
            f"got {aliases!r}.",
            parameter="aliases",
        )
    return {as_name("alias", a): as_name(f"stage of alias {a!r}", s) for a, s in aliases.items()}


def assemble(
    opened: list[str],
    raw_edges: object,
    won: str,
    lost: list[str],
    raw_aliases: object,
    raw_activities: object,
) -> Parts:
    """Check a funnel definition and return its canonical parts."""
    edges = edge_list(raw_edges)
    aliases = alias_map(raw_aliases)
    activities = None if raw_activities is None else as_names("activities", raw_activities)
    if not opened:
        raise FunnelError(
            "the funnel has no open stages; pass at least one stage before the outcomes, "
            "e.g. Funnel.linear(['lead', 'won'])."
        )
    roles = [*(("an open stage", n) for n in opened), ("the won outcome", won)]
    roles += [("a lost outcome", n) for n in lost]
    seen: dict[str, str] = {}
    for role, name in roles:
        if name in seen:
            raise FunnelError(
                f"stage {name!r} is given twice (as {seen[name]} and as {role}); stage names "
                "must be unique."
            )
        seen[name] = role
    names = [n for _, n in roles]
    open_kind: list[StageKind] = ["open"] * len(opened)
    lost_kind: list[StageKind] = ["lost"] * len(lost)
    kinds: list[StageKind] = [*open_kind, "won", *lost_kind]
    position = {n: i for i, n in enumerate(names)}
    outcomes = {won, *lost}
    for a, b in edges:
        for name in (a, b):
            if name not in position:
                raise FunnelError(
                    f"edge {a!r} -> {b!r} names stage {name!r}, which is not in the funnel "
                    f"({v.listing(names)}).{v.did_you_mean(name, names)}"
                )
        if a == b:
            raise FunnelError(
                f"edge {a!r} -> {b!r} is a self-loop; a stage following itself is a repeat, "
                "not a transition. Drop the edge."
            )
        if a in outcomes:
            raise FunnelError(
                f"outcome {a!r} has an outgoing edge to {b!r}; outcomes are terminal. Drop "
                f"the edge, or make {a!r} an open stage."
            )
    canonical = tuple(sorted(set(edges), key=lambda e: (position[e[0]], position[e[1]])))
    own: dict[str, list[str]] = {n: [] for n in names}
    for alias, stage in aliases.items():
        if stage not in position:
            raise FunnelError(
                f"alias {alias!r} names stage {stage!r}, which is not in the funnel "
                f"({v.listing(names)}).{v.did_you_mean(stage, names)}"
            )
        if alias in position and alias != stage:
            raise FunnelError(
                f"alias {alias!r} of stage {stage!r} is itself a stage; an activity can "
                "stand for one stage only."
            )
        if alias != stage:
            own[stage].append(alias)
    declared: tuple[str, ...] | None = None
    if activities is not None:
        for name in activities:
            if name in position or name in aliases:
                what = "a stage" if name in position else f"an alias of {aliases[name]!r}"
                raise FunnelError(
                    f"activity {name!r} is declared as a non-stage activity but is {what}; "
                    "leave it out of activities."
                )
        declared = tuple(sorted(set(activities)))
    check_reachable(names, len(opened), canonical, position)
    stages = tuple((n, k, tuple(sorted(own[n]))) for n, k in zip(names, kinds, strict=True))
    return Parts(stages, canonical, declared)


def check_reachable(
    names: list[str],
    n_open: int,
    edges: tuple[tuple[str, str], ...],
    position: dict[str, int],
) -> None:
    forward_target = {position[b] for a, b in edges if position[a] < position[b] < n_open}
    entries = [i for i in range(n_open) if i not in forward_target]
    succ: dict[int, list[int]] = {i: [] for i in range(len(names))}
    for a, b in edges:
        succ[position[a]].append(position[b])
    reached = set(entries)
    frontier = list(entries)
    while frontier:
        for j in succ[frontier.pop()]:
            if j not in reached:
                reached.add(j)
                frontier.append(j)
    for i, name in enumerate(names):
        if i not in reached:
            entry_names = [names[e] for e in entries]
            raise FunnelError(
                f"stage {name!r} cannot be reached from the entry stage(s) "
                f"({v.listing(entry_names)}); add an edge into it, e.g. "
                f"({names[n_open - 1]!r}, {name!r})."
            )


def parse_dict(
    data: object,
) -> tuple[list[str], list[tuple[object, object]], str, list[str], dict[str, str], object]:
    """Read a `Funnel.to_dict` shape: open names, edges, won, lost, aliases, activities."""
    if not isinstance(data, Mapping):
        raise ParameterError(f"data must be a dict; got {type(data).__name__}.", parameter="data")
    for key in data:
        if key not in DICT_KEYS:
            raise FunnelError(
                f"funnel dict has an unknown key {key!r}; expected "
                f"{v.listing(DICT_KEYS)}.{v.did_you_mean(key, DICT_KEYS)}"
            )
    if data.get("kind", "Funnel") != "Funnel":
        raise FunnelError(f"funnel dict has kind {data['kind']!r}; expected 'Funnel'.")
    for key in ("stages", "edges"):
        if key not in data:
            raise FunnelError(f"funnel dict has no {key!r} key; see Funnel.to_dict().")
    opened: list[str] = []
    won: list[str] = []
    lost: list[str] = []
    aliases: dict[str, str] = {}
    for item in sequence("stages", data["stages"]):
        if not isinstance(item, Mapping) or "name" not in item or "kind" not in item:
            raise FunnelError(f"each entry of 'stages' needs a 'name' and a 'kind'; got {item!r}.")
        name = as_name("stage name", item["name"])
        kind = v.choice(f"kind of stage {name!r}", item["kind"], KINDS)
        {"open": opened, "won": won, "lost": lost}[kind].append(name)
        for alias in sequence(f"aliases of {name!r}", item.get("aliases", [])):
            alias_name = as_name(f"alias of {name!r}", alias)
            if alias_name in aliases and aliases[alias_name] != name:
                raise FunnelError(
                    f"alias {alias_name!r} is given for two stages, "
                    f"{aliases[alias_name]!r} and {name!r}; an activity can stand for "
                    "one stage only."
                )
            aliases[alias_name] = name
    if len(won) != 1:
        raise FunnelError(won_count_message(won))
    edges = []
    for edge in sequence("edges", data["edges"]):
        if isinstance(edge, str) or not isinstance(edge, Sequence) or len(edge) != 2:  # noqa: PLR2004
            raise FunnelError(f"each edge must be a [source, target] pair; got {edge!r}.")
        edges.append((edge[0], edge[1]))
    activities = data.get("activities")
    if activities is not None:
        activities = sequence("activities", activities)
    return opened, edges, won[0], lost, aliases, activities


# --------------------------------------------------------------------- order and discovery


def derive_order(ranked: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Topological order of `ranked` after dropping DFS back edges, ties by rank."""
    rank = {n: i for i, n in enumerate(ranked)}
    succ: dict[str, list[str]] = {n: [] for n in ranked}
    targets = set()
    for a, b in sorted(set(edges), key=lambda e: (rank[e[0]], rank[e[1]])):
        succ[a].append(b)
        targets.add(b)
    roots = [n for n in ranked if n not in targets] + [n for n in ranked if n in targets]
    visited: set[str] = set()
    back: set[tuple[str, str]] = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        path = {root}
        stack = [(root, iter(succ[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.discard(node)
            elif child in path:
                back.add((node, child))
            elif child not in visited:
                visited.add(child)
                path.add(child)
                stack.append((child, iter(succ[child])))
    dag: nx.DiGraph[str] = lazy.nx.DiGraph()
    dag.add_nodes_from(ranked)
    dag.add_edges_from(e for e in edges if e not in back)
    return list(lazy.nx.lexicographical_topological_sort(dag, key=rank.__getitem__))


def to_dot(parts: Parts) -> str:
    """Graphviz DOT text of a funnel: open stages as boxes, won doubled, lost dashed."""
    style = {"open": [], "won": ["peripheries=2"], "lost": ['style="rounded,dashed"']}
    lines = ["digraph funnel {", "    rankdir=LR;", "    node [shape=box, style=rounded];"]
    for name, kind, aliases in parts.stages:
        options = list(style[kind])
        if aliases:
            label = dot_quote(name) + "\\n(" + ", ".join(map(dot_quote, aliases)) + ")"
            options.insert(0, f'label="{label}"')
        suffix = f" [{', '.join(options)}]" if options else ""
        lines.append(f'    "{dot_quote(name)}"{suffix};')
    lines += [f'    "{dot_quote(a)}" -> "{dot_quote(b)}";' for a, b in parts.edges]
    lines.append("}")
    return "\n".join(lines)


def to_mermaid(parts: Parts) -> str:
    """Mermaid flowchart text of a funnel; nodes are ``s0, s1, ...`` by stage code."""
    lines = ["flowchart LR"]
    code = {name: i for i, (name, _, _) in enumerate(parts.stages)}
    for name, kind, aliases in parts.stages:
        label = mermaid_quote(name)
        if aliases:
            label += "<br>(" + ", ".join(map(mermaid_quote, aliases)) + ")"
        left, right = ('["', '"]') if kind == "open" else ('(["', '"])')
        lines.append(f"    s{code[name]}{left}{label}{right}")
    lines += [f"    s{code[a]} --> s{code[b]}" for a, b in parts.edges]
    lines += ["    classDef won stroke-width:3px", "    classDef lost stroke-dasharray:4"]
    for kind in ("won", "lost"):
        ids = [f"s{code[name]}" for name, k, _ in parts.stages if k == kind]
        if ids:
            lines.append(f"    class {','.join(ids)} {kind}")
    return "\n".join(lines)


def dot_quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def mermaid_quote(text: str) -> str:
    table = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "\n": " "}
    return "".join(table.get(ch, ch) for ch in text)


def renamed(
    parts: Parts, mapping: Mapping[str, object]
) -> tuple[
    list[str], list[tuple[str, str]], str, list[str], dict[str, str], tuple[str, ...] | None
]:
    """`Funnel._make` arguments of `parts` with stages renamed by `mapping` (keys are stages).

    Raises:
        FunnelError: If two stages would get one name.
        ParameterError: If a new name is not a non-empty string.
    """
    new = {old: as_name(f"the new name of stage {old!r}", name) for old, name in mapping.items()}
    seen: dict[str, str] = {}
    for old, _, _ in parts.stages:
        name = new.get(old, old)
        if name in seen:
            raise FunnelError(
                f"rename gives stages {seen[name]!r} and {old!r} the same name {name!r}; "
                "stage names must differ."
            )
        seen[name] = old
    aliases = {}
    for stage, _, stage_aliases in parts.stages:
        for alias in stage_aliases:
            if alias != new.get(stage, stage):
                aliases[alias] = new.get(stage, stage)
    kinds = [(new.get(name, name), kind) for name, kind, _ in parts.stages]
    return (
        [name for name, kind in kinds if kind == "open"],
        [(new.get(a, a), new.get(b, b)) for a, b in parts.edges],
        next(name for name, kind in kinds if kind == "won"),
        [name for name, kind in kinds if kind == "lost"],
        aliases,
        parts.activities,
    )


def stage_codes(
    lookup: Mapping[str, int],
    declared: frozenset[str],
    activities: tuple[str, ...] | None,
    log: EventLog,
) -> tuple[NDArray[np.int32], str | None]:
    """Stage code of each activity of `log` (-1: non-stage), and the first undeclared one.

    Stage names are text and a log's activities may be numbers (an integer stage column in
    Parquet, XES ``<int key="concept:name">``): an activity is matched by its text, so stage
    ``'3'`` is activity ``3``, as every message and table prints it.

    The second item is None unless the funnel declares its non-stage `activities` and the
    log has an activity that is neither a stage, an alias nor one of them.
    """
    names = log.activity_names.tolist()
    texts = [a if isinstance(a, str) else str(a) for a in names]
    codes = np.fromiter((lookup.get(a, -1) for a in texts), dtype=np.int32, count=len(names))
    if activities is not None:
        for i in np.flatnonzero(codes < 0).tolist():
            if texts[i] not in declared:
                return codes, names[i]
    return codes, None


def html_table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table (cells escaped) for notebook display."""
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    cols = "".join(f"<th>{h}</th>" for h in head)
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{cols}</tr>"
        f"</thead><tbody>{body}</tbody></table>"
    )


def edge_definition(
    edges: object, won: object, lost: object, order: object
) -> tuple[list[str], list[tuple[str, str]], str, list[str]]:
    """Open stages (in `order`, or derived), edges, won and lost of `Funnel.from_edges`."""
    pairs = edge_list(edges)
    won_stage = won_name(won)
    lost_names = as_names("lost", lost, one_ok=True)
    outcomes = {won_stage, *lost_names}
    first: dict[str, int] = {}
    for pair in pairs:
        for name in pair:
            first.setdefault(name, len(first))
    opened = [n for n in first if n not in outcomes]
    if order is None:
        inner = [(a, b) for a, b in pairs if a not in outcomes and b not in outcomes]
        opened = derive_order(opened, inner)
    else:
        listed = [n for n in as_names("order", order) if n not in outcomes]
        check_unique(listed, "order")
        for name in listed:
            if name not in first:
                raise FunnelError(
                    f"order names {name!r}, which no edge mentions ({v.listing(opened)})."
                    + v.did_you_mean(name, opened)
                )
        for name in opened:
            if name not in listed:
                raise FunnelError(f"order leaves out stage {name!r}; list every open stage once.")
        opened = listed
    return opened, pairs, won_stage, lost_names


def linear_definition(
    stages: object, won: object, lost: object
) -> tuple[list[str], list[tuple[str, str]], str, list[str]]:
    """Open stages, edges, won and lost of `Funnel.linear` (each stage to the next and to lost)."""
    names = as_names("stages", stages)
    check_unique(names, "stages")
    lost_names = as_names("lost", lost or (), one_ok=True)
    chain = [n for n in names if n not in lost_names]
    if won is None:
        if not chain:
            raise FunnelError(
                "the funnel has no stages; pass the stages in order, the won outcome "
                "last, e.g. Funnel.linear(['lead', 'qualified', 'won'], lost='lost')."
            )
        won_stage = chain.pop()
    else:
        won_stage = won_name(won)
        chain = [n for n in chain if n != won_stage]
    edges = list(itertools.pairwise([*chain, won_stage]))
    edges += [(s, x) for s in chain for x in lost_names]
    return chain, edges, won_stage, lost_names
