"""Interval estimates and survival curves for many groups at once.

The metrics modules call these building blocks many times, so every function works on whole
arrays: proportions are broadcast over counts, and survival curves are estimated for all
groups (stages, teams, reps, ...) in one pass: one sort by (group, time), then counts per
distinct time and cumulative sums that restart at each group. Nothing loops over observations
in Python; groups are looped over only to sort each one's block of durations, when they are
few and large (see `_sort_spells`).

Curves are stored the way `EventLog` stores cases: the steps of all groups concatenated, in
group order, with ``group_offsets`` of length ``n_groups + 1``, so group ``g`` is the slice
``group_offsets[g]:group_offsets[g + 1]``.

Durations are plain floats in whatever unit the caller chose (the metrics modules pass days);
right-censored observations (deals still open) count as at risk up to their censoring time and
are never treated as failures.
"""

from __future__ import annotations

# The `x as x` imports are kernels the engine and the analyses share: package-level,
# outside `__all__`, not public API.
from salesstd.stats._binomial import proportion_interval
from salesstd.stats._common import Bounds, Interval
from salesstd.stats._common import sort_spells as sort_spells
from salesstd.stats._incidence import CumulativeIncidence, cumulative_incidence
from salesstd.stats._shrinkage import beta_binomial_shrinkage
from salesstd.stats._shrinkage import nanquantile as nanquantile
from salesstd.stats._shrinkage import qprofile_draws as qprofile_draws
from salesstd.stats._shrinkage import random_effects as random_effects
from salesstd.stats._survival import KaplanMeier, QuantileEstimate, RestrictedMean, kaplan_meier
from salesstd.stats._survival import kaplan_meier_sorted as kaplan_meier_sorted
from salesstd.stats._survival import quantile_estimate as quantile_estimate
from salesstd.stats._survival import quantile_step as quantile_step

__all__ = [
    "Bounds",
    "CumulativeIncidence",
    "Interval",
    "KaplanMeier",
    "QuantileEstimate",
    "RestrictedMean",
    "beta_binomial_shrinkage",
    "cumulative_incidence",
    "kaplan_meier",
    "proportion_interval",
]
