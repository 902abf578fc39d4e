"""The funnel as an absorbing Markov chain: win probabilities, times to close, what-ifs.

`MarkovFunnel.from_log` reads the log as a chain over the funnel's stages. The open stages
are *transient* states, won and the lost outcomes are *absorbing*. From the stage episodes
(``skips="strict"``: only recorded stages; consecutive events in one stage are one stay) it
counts the moves ``n_ij`` from each open stage ``i`` to the stage ``j`` the deal went to
next, and estimates the move probabilities as

    ``p_ij = n_ij / n_i``, with ``n_i = Σ_j n_ij`` the observed moves out of ``i``.

This is the maximum-likelihood estimate of the *embedded* (jump) chain. It assumes that
where a deal goes next does not depend on how long it stayed, and that censoring (a deal
still open at `as_of`) is independent of where it would have gone. Stays still running at
`as_of` are censored, not failures: they add nothing to ``n_ij`` and count as "still in the
stage" in the dwell estimate. Backward moves (negotiation -> proposal) and re-entries are
moves like any other, so the chain can cycle.

How long a deal stays is estimated separately, per open stage, by Kaplan-Meier over every
stay (the moved ones observed, the running ones censored at `as_of`); the mean stay used for
expected times is the Kaplan-Meier *restricted mean* up to the stage's longest stay
(observed or censored). Together they make a semi-Markov model.

Quantities, with ``Q`` the open-to-open block of the matrix, ``R`` the open-to-outcome
block and ``m`` the mean stays:

* fundamental matrix ``N = (I - Q)^-1``: expected visits to stage ``j`` starting in ``i``;
* absorption ``B = N R``; the win probability ``b`` is its won column;
* expected steps ``N 1``: expected stays (moves) until the deal closes;
* expected time to close ``t = N m``; given that the deal is won, the same on the Doob
  h-transformed chain ``Q*_ij = Q_ij b_j / b_i`` (stay means unchanged, as the stay does not
  depend on the destination in this model).

An open stage the data never saw a deal leave has no estimate: its row of `probabilities`
is NaN, and every quantity is NaN for it and for every stage from which the chain can reach
it (or a set of open stages with no observed way out). The other stages are computed
normally.

Note:
    Kemeny, J. G. and Snell, J. L. (1976). *Finite Markov Chains*, ch. 3 (absorbing chains,
    the fundamental matrix). Anderson, T. W. and Goodman, L. A. (1957). Statistical
    inference about Markov chains. *Ann. Math. Statist.* 28(1), 89-110 (the estimator
    ``n_ij / n_i``). Conditioning on absorption in won is Doob's h-transform with
    ``h = b``: Levin, D. A., Peres, Y. and Wilmer, E. L. (2017). *Markov Chains and Mixing
    Times*, 2nd ed., "Harmonic functions and the Doob h-transform".
"""

from __future__ import annotations

from salesstd.markov._model import MarkovBootstrap, MarkovFunnel
from salesstd.markov._results import (
    MarkovStage,
    MarkovStageInterval,
    SensitivityResult,
    TransitionSensitivity,
)

__all__ = [
    "MarkovBootstrap",
    "MarkovFunnel",
    "MarkovStage",
    "MarkovStageInterval",
    "SensitivityResult",
    "TransitionSensitivity",
]
