"""Discovery of a funnel from a log: the only funnel module that needs `transitions`.

`discover` ranks the stages by their mean position in the deals, keeps the transitions
above a share of a stage's moves, and orders the open stages topologically.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd.errors import ParameterError, UnknownStageError
from salesstd.funnel._parts import SHARE_TOLERANCE, alias_map, as_names, derive_order, won_name
from salesstd.log import EventLog
from salesstd.transitions import transitions


def discover(
    log: object,
    *,
    won: object,
    lost: object,
    min_share: object,
    aliases: object,
    stages: object,
) -> tuple[list[str], list[tuple[str, str]], str, list[str], dict[str, str]]:
    """Open stages in order, kept edges, won, lost and aliases for `Funnel.discover`."""
    log = v.instance("log", log, EventLog)
    won_stage = won_name(won)
    lost_names = as_names("lost", lost, one_ok=True)
    share = v.fraction("min_share", min_share, inclusive=True)
    alias_of = alias_map(aliases)
    raw = log.activity_names.tolist()
    for name in raw:
        if not isinstance(name, str):
            raise ParameterError(
                f"activity names must be strings to become stages; got {name!r}. "
                "Convert the activity column to text.",
                parameter="activity",
            )
    mapped: list[str | None] = [alias_of.get(a, a) for a in raw]
    occurring = sorted({m for m in mapped if m is not None})
    outcomes = {won_stage, *lost_names}
    named = [("won outcome", won_stage), *(("lost outcome", n) for n in lost_names)]
    if stages is not None:
        listed = [alias_of.get(n, n) for n in as_names("stages", stages)]
        named += [("stage", n) for n in listed if n not in outcomes]
        wanted = {*outcomes, *listed}
        mapped = [m if m in wanted else None for m in mapped]
    for what, name in named:
        if name not in occurring:
            raise UnknownStageError(
                f"{what} {name!r} does not occur in the log (its activities after "
                f"aliasing: {v.listing(occurring)}).{v.did_you_mean(name, occurring)}",
                name=name,
                known=tuple(occurring),
            )
    present = sorted({m for m in mapped if m is not None})
    events = stage_log(log, mapped, present)
    counts = edge_counts(events, present, {won_stage, *lost_names})
    kept = filter_edges(counts, share)
    mean_pos = mean_positions(events)
    key = {s: (float(mean_pos[i]), s) for i, s in enumerate(present)}
    opened = [s for s in present if s not in outcomes]
    inner = [(a, b) for a, b in kept if a not in outcomes and b not in outcomes]
    order = derive_order(sorted(opened, key=key.__getitem__), inner)
    kept_aliases = {a: s for a, s in alias_of.items() if s in present and a != s}
    return order, kept, won_stage, lost_names, kept_aliases


def stage_log(log: EventLog, mapped: list[str | None], present: list[str]) -> EventLog:
    """The log's stage events only, with activities re-coded to the stage names."""
    keep = [a for a, m in zip(log.activity_names.tolist(), mapped, strict=True) if m is not None]
    sub = log if len(keep) == log.n_activities else log.where(activity=keep)
    stage_code = {s: i for i, s in enumerate(present)}
    by_name = dict(zip(log.activity_names.tolist(), mapped, strict=True))
    recode = np.array([stage_code[by_name[a]] for a in sub.activity_names.tolist()], np.int32)
    return EventLog(
        case=sub.case,
        activity=recode[sub.activity],
        time=sub.time,
        case_names=sub.case_names,
        activity_names=np.array(present, dtype=object),
        offsets=sub.offsets,
    )


def edge_counts(
    stage_log: EventLog, present: list[str], outcomes: set[str]
) -> list[tuple[str, str, int]]:
    """Directly-follows counts between stages, without repeats or moves out of outcomes."""
    tr = transitions(stage_log)
    rows = zip(tr.source.tolist(), tr.target.tolist(), tr.count.tolist(), strict=True)
    order = {s: i for i, s in enumerate(present)}
    kept = [(a, b, int(c)) for a, b, c in rows if a != b and a not in outcomes]
    return sorted(kept, key=lambda r: (order[r[0]], order[r[1]]))


def filter_edges(counts: list[tuple[str, str, int]], share: float) -> list[tuple[str, str]]:
    """Edges with at least `share` of their source's moves; every target keeps its best."""
    out_total: dict[str, int] = {}
    for a, _, c in counts:
        out_total[a] = out_total.get(a, 0) + c
    kept = [(a, b) for a, b, c in counts if c >= share * out_total[a] * (1.0 - SHARE_TOLERANCE)]
    reached = {b for _, b in kept}
    best: dict[str, tuple[str, str, int]] = {}
    for row in counts:
        target = row[1]
        if target not in reached and (target not in best or row[2] > best[target][2]):
            best[target] = row
    kept += [(a, b) for a, b, _ in best.values()]
    return kept


def mean_positions(stage_log: EventLog) -> NDArray[np.float64]:
    """Per stage code, the mean index of its first occurrence in a case (repeats collapsed)."""
    act = stage_log.activity.astype(np.int64)
    starts = stage_log.offsets[:-1]
    new = np.ones(act.size, dtype=bool)
    new[1:] = act[1:] != act[:-1]
    new[starts] = True
    cum = np.cumsum(new)
    before = cum[starts] - 1
    pos = (cum - 1 - before[stage_log.case])[new]
    case = stage_log.case[new].astype(np.int64)
    code = act[new]
    n = stage_log.n_activities
    _, first = np.unique(case * n + code, return_index=True)
    total = np.bincount(code[first], weights=pos[first], minlength=n)
    reach = np.bincount(code[first], minlength=n)
    return total / np.maximum(reach, 1)
