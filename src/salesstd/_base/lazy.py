"""Heavy core dependencies, imported on first use so that ``import salesstd`` stays light.

Write ``lazy.sps.beta.ppf(...)``, ``lazy.special.ndtri(...)``, ``lazy.nx.DiGraph()`` or
``lazy.nw.from_native(...)``. The first access imports the module (under the interpreter's
import lock, so it is thread-safe) and stores it in this module's globals; later accesses are
plain attribute lookups. ``import salesstd`` therefore loads none of scipy, networkx,
narwhals or pyarrow; the analyses and readers that need them load them when first called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers see; at run time `__getattr__` supplies the modules
    import narwhals as nw
    import networkx as nx
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    from scipy import sparse, special
    from scipy import stats as sps

__all__ = ["nw", "nx", "pa", "pc", "pcsv", "pq", "sparse", "special", "sps"]

_MODULES = {
    "nw": "narwhals",
    "nx": "networkx",
    "pa": "pyarrow",
    "pc": "pyarrow.compute",
    "pcsv": "pyarrow.csv",
    "pq": "pyarrow.parquet",
    "sparse": "scipy.sparse",
    "special": "scipy.special",
    "sps": "scipy.stats",
}


def __getattr__(name: str) -> object:
    try:
        target = _MODULES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(target)
    globals()[name] = module
    return module
