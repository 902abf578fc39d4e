"""Bundled example data and a seeded synthetic pipeline generator.

* `load_crm_opportunities` — the public-domain Maven CRM sales opportunities (8,800 deals
  of a fictitious company) as an `EventLog`, with reps, teams, products and accounts as case
  attributes; `load_crm_tables` gives the four raw tables.
* `synthetic_pipeline` — a simulated B2B pipeline (Lead → Qualified → Discovery → Proposal →
  Negotiation → Won / Lost, with skips, backward moves, reps, activities, open deals and an
  optional pilot group) returned together with the true parameters that generated it, for
  tests and tutorials that need to know the right answer.

Examples:
    >>> sim = ss.datasets.synthetic_pipeline(200, seed=7)
    >>> sim.log.n_cases, sim.advance["Lead"]
    (200, 0.55)
"""

from __future__ import annotations

from salesstd.datasets._crm import CrmTables, load_crm_opportunities, load_crm_tables
from salesstd.datasets._params import DwellDistribution, PilotEffect
from salesstd.datasets._pipeline import SyntheticPipeline
from salesstd.datasets._synthetic import synthetic_pipeline

__all__ = [
    "CrmTables",
    "DwellDistribution",
    "PilotEffect",
    "SyntheticPipeline",
    "load_crm_opportunities",
    "load_crm_tables",
    "synthetic_pipeline",
]
