"""tmp."""

from __future__ import annotations

from salesstd.datasets._crm import CrmTables, load_crm_opportunities, load_crm_tables

__all__ = ["CrmTables", "load_crm_opportunities", "load_crm_tables"]
