"""Readers: CSV, Parquet and XES files into an `EventLog`.

`read_csv` needs nothing beyond the core dependencies; `read_parquet` needs pyarrow
(``pip install 'salesstd[arrow]'``). Every reader reports a bad file with an
`InvalidLogError` that names the file, the column or line and the fix.
"""

from __future__ import annotations

from salesstd.io._readers import read_csv, read_parquet, read_xes

__all__ = [
    "read_csv",
    "read_parquet",
    "read_xes",
]
