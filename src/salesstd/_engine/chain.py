"""Absorbing-chain algebra behind `salesstd.markov` (pure numpy; the only check is the size).

States ``0 .. n_open - 1`` are transient (open stages), ``n_open`` is won, the rest lost.
A row of ``P`` may be NaN (an open stage never left in the data); such a stage, and every
stage from which it (or a closed set of open stages) can be reached, is *undefined*: its
absorption probabilities and expected times are NaN. On the *defined* stages ``I - Q`` is
invertible, since from each of them the chain reaches an outcome with probability 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base.validation import MAX_STAGES
from salesstd.errors import FunnelError

if TYPE_CHECKING:
    from salesstd._engine.episodes import Episodes


def _require_size(n_open: int, n_stages: int) -> None:
    """Raise `FunnelError` if a funnel of `n_stages` stages is too large for a dense chain.

    Called where a chain's ``(S, S)`` arrays are first allocated (`move_counts`,
    `zero_moves`), which every path to a chain goes through, before numpy is asked for the
    memory.
    """
    if n_stages > MAX_STAGES:
        mb = n_stages * n_stages * 8 / 2**20
        raise FunnelError(
            f"the Markov chain builds dense {n_stages:,} x {n_stages:,} matrices ({mb:,.0f} MB "
            f"each) for a funnel of {n_stages:,} stages ({n_open:,} open, "
            f"{n_stages - n_open:,} outcomes); the limit is {MAX_STAGES:,} stages. Map the "
            "activities to a few stages (aliases=) or leave out the ones that are not stages."
        )


def zero_moves(n_open: int, n_stages: int) -> NDArray[np.float64]:
    """A zero ``(S, S)`` matrix to count moves in; `FunnelError` if S is too large for one."""
    _require_size(n_open, n_stages)
    return np.zeros((n_stages, n_stages))


def _reaches(
    edge: NDArray[np.bool_], start: NDArray[np.bool_], allowed: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Stages in `allowed` with a path (along `edge`) to a stage of `start`; `start` included."""
    out: NDArray[np.bool_] = start.copy()
    for _ in range(out.size):
        grown: NDArray[np.bool_] = out | (allowed & (edge & out[None, :]).any(axis=1))
        if np.array_equal(grown, out):
            break
        out = grown
    return out


@attrs.frozen(eq=False)
class Chain:
    """The absorbing-chain quantities of one transition matrix.

    Attributes:
        defined: Per open stage: its absorption is well defined (see the module docstring).
        can_win: Per open stage: defined and won is reachable (win probability > 0).
        fundamental: ``N = (I - Q)^-1`` on the defined stages; NaN rows and columns elsewhere.
        absorption: ``B = N R``: probability of ending in each outcome, (n_open, n_outcomes).
    """

    defined: NDArray[np.bool_]
    can_win: NDArray[np.bool_]
    fundamental: NDArray[np.float64]
    absorption: NDArray[np.float64]

    @property
    def win(self) -> NDArray[np.float64]:
        """Probability of ending won from each open stage."""
        out: NDArray[np.float64] = self.absorption[:, 0]
        return out


def solve_chain(p: NDArray[np.float64], n_open: int) -> Chain:
    """Absorption quantities of the transition matrix `p` (see `Chain`)."""
    q = p[:n_open, :n_open]
    r = p[:n_open, n_open:]
    has_row: NDArray[np.bool_] = np.asarray(~np.isnan(p[:n_open]).any(axis=1), dtype=bool)
    q0 = np.where(has_row[:, None], q, 0.0)
    r0 = np.where(has_row[:, None], r, 0.0)
    edge = q0 > 0
    can_close = _reaches(edge, has_row & (r0.sum(axis=1) > 0), has_row)
    undefined = _reaches(edge, ~can_close, np.ones(n_open, dtype=bool))
    defined = ~undefined
    can_win = defined & _reaches(edge, has_row & (r0[:, 0] > 0), has_row)
    idx = np.flatnonzero(defined)
    fundamental = np.full((n_open, n_open), np.nan)
    absorption = np.full((n_open, p.shape[0] - n_open), np.nan)
    if idx.size:
        a = np.eye(idx.size) - q0[np.ix_(idx, idx)]
        n_sub = np.linalg.solve(a, np.eye(idx.size))
        b_sub = np.clip(np.linalg.solve(a, r0[idx]), 0.0, 1.0)  # clip: round-off only
        fundamental[np.ix_(idx, idx)] = n_sub
        # Stages off the defined set are unreachable from it: their column entries are 0.
        fundamental[np.ix_(idx, np.flatnonzero(undefined))] = 0.0
        absorption[idx] = b_sub
        absorption[idx[~can_win[idx]], 0] = 0.0
    return Chain(defined=defined, can_win=can_win, fundamental=fundamental, absorption=absorption)


def expected_times(
    p: NDArray[np.float64], n_open: int, mean: NDArray[np.float64], chain: Chain, *, won: bool
) -> NDArray[np.float64]:
    """Expected time to absorption ``N m`` (or, if `won`, given absorption in won).

    Given won, the chain is the Doob h-transform with ``h = b`` (win probabilities):
    ``Q*_ij = Q_ij b_j / b_i`` on the stages that can win; the stay means are unchanged.
    """
    out = np.full(n_open, np.nan)
    keep = chain.can_win if won else chain.defined
    idx = np.flatnonzero(keep)
    if not idx.size:
        return out
    q = p[np.ix_(idx, idx)]
    if won:
        b = chain.win[idx]
        q = q * b[None, :] / b[:, None]
    out[idx] = np.linalg.solve(np.eye(idx.size) - q, mean[idx])
    return out


def expected_steps(chain: Chain) -> NDArray[np.float64]:
    """Expected number of stays in open stages (moves) before closing: ``N 1``."""
    n = np.where(np.isnan(chain.fundamental), 0.0, chain.fundamental)
    out: NDArray[np.float64] = n.sum(axis=1)
    out[~chain.defined] = np.nan
    return out


def renormalised(
    p: NDArray[np.float64], source: int, target: int, value: float
) -> NDArray[np.float64]:
    """`p` with ``p[source, target] = value`` and the rest of the row rescaled to sum to 1.

    Returns:
        A new matrix; the caller has checked that the rescaling is possible.
    """
    out: NDArray[np.float64] = p.copy()
    others = np.where(np.isnan(out[source]), 0.0, out[source])
    others[target] = 0.0
    rest = float(others.sum())
    if rest > 0:
        others *= (1.0 - value) / rest
    others[target] = value
    out[source] = others
    return out


def sensitivity(
    p: NDArray[np.float64], n_open: int, chain: Chain, start: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Derivative of the win probability from `start` w.r.t. each positive ``p_ij`` (i open).

    With the other exits of ``i`` rescaled proportionally (``with_probability``),
    ``d b_s / d p_ij = N[s, i] (h_j - b_i) / (1 - p_ij)``, where ``h`` is ``b`` on open
    stages, 1 on won and 0 on lost (this equals ``N[s, i] (h_j - Σ_{k≠j} p_ik h_k /
    (1 - p_ij))`` since ``b_i = Σ_k p_ik h_k``).

    Returns:
        ``(source, target, probability, derivative)`` over the transitions, row-major.
    """
    rows = np.where(np.isnan(p[:n_open]), 0.0, p[:n_open])
    source, target = np.nonzero(rows > 0)
    prob = rows[source, target]
    h = np.zeros(p.shape[0])
    h[:n_open] = chain.win
    h[n_open] = 1.0
    n_si = chain.fundamental[start, source]
    with np.errstate(divide="ignore", invalid="ignore"):
        core = (h[target] - chain.win[source]) / (1.0 - prob)
    core[prob >= 1.0] = np.nan
    reached = n_si != 0
    deriv = np.where(reached, n_si * core, 0.0)
    if not chain.defined[start]:
        deriv[:] = np.nan
    return source.astype(np.int64), target.astype(np.int64), prob, deriv


def probabilities(
    counts: NDArray[np.float64] | NDArray[np.int64], n_open: int
) -> NDArray[np.float64]:
    """Row-normalised move counts; NaN rows for open stages never left; identity on outcomes."""
    n_states = counts.shape[0]
    out = np.zeros((n_states, n_states))
    moves = counts[:n_open].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:n_open] = counts[:n_open] / moves[:, None]
    out[:n_open][moves == 0] = np.nan
    out[n_open:, n_open:] = np.eye(n_states - n_open)
    return out


def move_counts(
    ep: Episodes, case_mask: NDArray[np.bool_] | None
) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """The open-stage stays (of the cases in `case_mask`) and the ``(S, S)`` moves out of them.

    Raises:
        FunnelError: If the funnel has too many stages for dense matrices.
    """
    n_states = ep.n_stages
    _require_size(ep.n_open, n_states)
    keep = ep.stage < ep.n_open
    if case_mask is not None:
        keep &= case_mask[ep.case]
    idx = np.flatnonzero(keep)
    moved = idx[ep.moved[idx]]
    code = ep.stage[moved].astype(np.int64) * n_states + ep.next_stage[moved]
    counts = np.bincount(code, minlength=n_states * n_states).reshape(n_states, n_states)
    return idx, counts.astype(np.int64)


def move_probabilities(ep: Episodes) -> NDArray[np.float64]:
    """The ``(S, S)`` move probabilities of `MarkovFunnel.from_log` (no `by`), without dwell."""
    return probabilities(move_counts(ep, None)[1], ep.n_open)


class SensitivityTable(NamedTuple):
    """The arrays of `salesstd.markov.SensitivityResult` (see `sensitivity_table`)."""

    start: str
    win_probability: float
    source: NDArray[np.object_]
    target: NDArray[np.object_]
    probability: NDArray[np.float64]
    derivative: NDArray[np.float64]
    elasticity: NDArray[np.float64]


def sensitivity_table(
    states: tuple[str, ...], n_open: int, p: NDArray[np.float64], start: int
) -> SensitivityTable:
    """Derivatives and elasticities of the win probability from `start`, largest first."""
    chain = solve_chain(p, n_open)
    src, tgt, prob, deriv = sensitivity(p, n_open, chain, start)
    base = float(chain.win[start])
    with np.errstate(divide="ignore", invalid="ignore"):
        elastic = deriv * prob / base if base > 0 else np.full(deriv.size, np.nan)
    key = np.where(np.isnan(elastic), -1.0, np.abs(elastic))
    order = np.argsort(-key, kind="stable")
    names = np.array(states, dtype=object)
    return SensitivityTable(
        start=states[start],
        win_probability=base,
        source=names[src[order]],
        target=names[tgt[order]],
        probability=prob[order],
        derivative=deriv[order],
        elasticity=elastic[order],
    )
