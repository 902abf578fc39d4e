"""Counting kernels shared by conversion, timing, the scorecard and bottlenecks.

`step_counts` and `units` count entries into, advances from and losses at each open stage
(the one reading of a funnel step every analysis shares); `first_reaching` and
`at_last_step` read a concatenation of per-group curves. Pure numpy over `Episodes`.
"""

from __future__ import annotations

from typing import Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._engine.episodes import Episodes, segment_starts

Entries = Literal["first", "every"]

# A curve value within this distance of a target level counts as reaching it (rounding in
# cumulative sums must not move a quantile to the next step); the same tolerance as `stats`.
_TOL = 1e-10


@attrs.frozen
class Units:
    """The entries a conversion counts, with what became of each by `as_of`."""

    case: NDArray[np.int32]
    stage: NDArray[np.int32]
    enter: NDArray[np.int64]
    advanced: NDArray[np.bool_]
    lost: NDArray[np.bool_]
    moved_back: NDArray[np.bool_]
    lost_code: NDArray[np.int32]  # index among the lost outcomes; -1 if not lost
    resolved_at: NDArray[np.int64]  # when it advanced or was lost; as_of if open
    implied: NDArray[np.bool_]  # an implied pass (a skip), not a recorded stay
    entered_funnel: NDArray[np.bool_]  # the case's first recorded stay: it entered here


def first_forward(ep: Episodes, unit: NDArray[np.intp]) -> NDArray[np.int64]:
    """For each unit episode: the first later episode of its case further forward, or -1.

    One pass per open stage: a suffix minimum of the indices of the episodes past that stage
    gives, for every episode, the nearest such index after it; it belongs to the same case
    only if that case has one (indices of later cases are larger).
    """
    n = ep.size
    out = np.full(unit.size, -1, dtype=np.int64)
    if n == 0:
        return out
    pos = ep.position()
    idx = np.arange(n, dtype=np.int64)
    stage_u = ep.stage[unit]
    for s in range(ep.n_open):
        pick = np.flatnonzero(stage_u == s)
        if pick.size == 0:
            continue
        cand = np.where(pos > s, idx, n)
        after = np.empty(n, dtype=np.int64)
        after[:-1] = np.minimum.accumulate(cand[:0:-1])[::-1]
        after[-1] = n
        i = unit[pick]
        k = after[i]
        found = k < n
        found[found] = ep.case[k[found]] == ep.case[i[found]]
        out[pick] = np.where(found, k, -1)
    return out


def step_counts(
    ep: Episodes, of_case: NDArray[np.integer], n_groups: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """First entries, advances and losses per (group, open stage), as `conversion` counts them.

    `conversion`'s default reading (``skips="implied"``, first entries) depends on each
    case almost only through the position it was first recorded at (``p``), the furthest
    forward position it reached (``f``; the stage code for open stages and won, from the
    strict episodes) and its outcome: it entered every open stage from ``p`` to ``f`` (it
    enters the funnel at ``p``; a forward jump passes the stages between), advanced from
    each stage below ``f`` (the move that reached ``f`` came after its first entry into
    them), and at ``f`` itself is lost if it ended lost and open otherwise. A case that
    later moved back below ``p`` entered those earlier stages too; the few such entries are
    followed one by one. So the counts come from one pass over the episodes and one over
    the cases, with no implied episodes. Cases with a negative group code are left out.

    Args:
        ep: Strict (or implied) episodes.
        of_case: Group code of each case (-1: not counted).
        n_groups: Number of groups.

    Returns:
        ``(entries, advanced, lost)``, each ``(n_groups, n_open)``.
    """
    n_open = ep.n_open
    furthest = np.full(ep.n_cases, -1, dtype=np.int64)
    first = np.full(ep.n_cases, -1, dtype=np.int64)
    position = np.where(ep.stage <= n_open, ep.stage, -1)
    if ep.size:
        # Episodes are sorted by case: each case's block starts where the case changes.
        starts = np.flatnonzero(segment_starts(ep.case))
        furthest[ep.case[starts]] = np.maximum.reduceat(position, starts)
        first[ep.case[starts]] = position[starts]
    lost_case = ep.case_outcome() > n_open
    counted = (furthest >= 0) & (of_case >= 0)
    group = of_case[counted].astype(np.int64)
    key = group * (n_open + 1) + furthest[counted]
    size = n_groups * (n_open + 1)
    at = np.bincount(key, minlength=size).reshape(n_groups, n_open + 1)
    at_least = np.cumsum(at[:, ::-1], axis=1)[:, ::-1]  # cases whose furthest is >= each
    # Cases enter the funnel at their first recorded stage: those first recorded past a
    # stage never entered it.
    first_key = group * (n_open + 1) + first[counted]
    at_first = np.bincount(first_key, minlength=size).reshape(n_groups, n_open + 1)
    above = np.cumsum(at_first[:, ::-1], axis=1)[:, ::-1]  # cases whose first is >= each
    first_past = np.zeros_like(above)
    first_past[:, :-1] = above[:, 1:]  # first recorded past each stage
    entries = at_least[:, :n_open] - first_past[:, :n_open]
    advanced = at_least[:, 1:] - first_past[:, :n_open]
    lost = np.bincount(key[lost_case[counted]], minlength=size).reshape(n_groups, n_open + 1)
    lost = lost[:, :n_open]
    # Rare: a case that moved back below the stage it was first recorded in entered that
    # earlier stage too; count those first entries one by one.
    if ep.size:
        below = (ep.stage < n_open) & (ep.entry == 0) & ~ep.implied & (ep.stage < first[ep.case])
        unit = np.flatnonzero(below)
        if unit.size:
            g = of_case[ep.case[unit]].astype(np.int64)
            mine = g >= 0
            unit, g = unit[mine], g[mine]
            went_on = first_forward(ep, unit) >= 0
            was_lost = ~went_on & lost_case[ep.case[unit]]
            k = g * n_open + ep.stage[unit]
            flat = n_groups * n_open
            entries = entries + np.bincount(k, minlength=flat).reshape(n_groups, n_open)
            advanced = advanced + np.bincount(k[went_on], minlength=flat).reshape(n_groups, n_open)
            lost = lost + np.bincount(k[was_lost], minlength=flat).reshape(n_groups, n_open)
    return entries, advanced, lost


def stage_units(ep: Episodes, entries: Entries) -> Units:
    """The entries `conversion` counts (first entries, or every stay), with their fate."""
    n_open = ep.n_open
    is_open = ep.stage < n_open
    if entries == "first":
        unit = np.flatnonzero(is_open & (ep.entry == 0))
        k = first_forward(ep, unit)
        advanced = k >= 0
        case = ep.case[unit]
        outcome = ep.case_outcome()[case]
        lost = ~advanced & (outcome > n_open)
        moved_back = np.zeros(unit.size, dtype=bool)
        lost_code = np.where(lost, outcome - n_open - 1, -1).astype(np.int32)
        resolved_at = np.full(unit.size, ep.as_of, dtype=np.int64)
        resolved_at[advanced] = ep.enter[k[advanced]]
        resolved_at[lost] = ep.case_close_time()[case[lost]]
    else:
        unit = np.flatnonzero(is_open)
        nxt = ep.next_stage[unit]
        stage_u = ep.stage[unit]
        advanced = (nxt >= 0) & (nxt <= n_open) & (nxt > stage_u)
        lost = nxt > n_open
        moved_back = (nxt >= 0) & (nxt < stage_u)
        lost_code = np.where(lost, nxt - n_open - 1, -1).astype(np.int32)
        resolved_at = ep.exit[unit]
    return Units(
        implied=ep.implied[unit],
        entered_funnel=segment_starts(ep.case)[unit],
        case=ep.case[unit],
        stage=ep.stage[unit],
        enter=ep.enter[unit],
        advanced=advanced,
        lost=lost,
        moved_back=moved_back,
        lost_code=lost_code,
        resolved_at=resolved_at,
    )


def first_reaching(
    values: NDArray[np.float64], target: NDArray[np.float64], offsets: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Per group: index of the first step whose value is >= the group's target, else -1.

    `values` are the steps of all groups concatenated (group g is offsets[g]:offsets[g+1]);
    `target` has one entry per group (NaN never reached).
    """
    n_groups = offsets.size - 1
    size = values.size
    step_group = np.repeat(np.arange(n_groups), np.diff(offsets))
    goal = target[step_group]
    with np.errstate(invalid="ignore"):
        hit = (values >= goal - _TOL) & (values > 0) & ~np.isnan(goal)
    idx = np.where(hit, np.arange(size), size)
    out = np.full(n_groups, -1, dtype=np.int64)
    nonempty = offsets[:-1] < offsets[1:]
    if nonempty.any():
        first = np.minimum.reduceat(idx, offsets[:-1][nonempty])
        first[first >= offsets[1:][nonempty]] = -1
        out[nonempty] = first
    return out


def at_last_step(
    values: NDArray[np.float64], offsets: NDArray[np.int64], fill: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per group: `values` at its last step, or `fill` for a group without steps."""
    has = offsets[1:] > offsets[:-1]
    out = np.array(fill, dtype=np.float64, copy=True)
    out[has] = values[offsets[1:][has] - 1]
    return out
