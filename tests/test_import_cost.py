"""``import salesstd`` stays light: heavy libraries load on first use, never at import.

Each check runs in a fresh interpreter (this one has long since imported everything) with
the same ``sys.path`` as the test run, so it imports the same salesstd. A spy on
``sys.meta_path`` records, for each heavy module, the salesstd line that first asked for
it, so a failure says where to make the import lazy. The time it takes is measured by
``benchmarks/bench_import.py``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import salesstd as ss

HEAVY = (
    "pandas",
    "polars",
    "pyarrow",
    "matplotlib",
    "dask",
    "scipy.stats",
    "scipy.special",
    "networkx",
    "narwhals",
)

PROBE = """
import json, sys
HEAVY = set(json.loads(sys.argv[1]))
first = {}

class Spy:
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY and name not in first:
            frame, where = sys._getframe(1), "outside salesstd"
            while frame is not None:
                module = frame.f_globals.get("__name__") or ""
                if module == "salesstd" or module.startswith("salesstd."):
                    where = f"{module}:{frame.f_lineno}"
                    break
                frame = frame.f_back
            first[name] = where
        return None

sys.meta_path.insert(0, Spy())
exec(sys.argv[2])
import salesstd
loaded = sorted(name for name in HEAVY if name in sys.modules)
print(json.dumps({"file": salesstd.__file__, "loaded": {n: first.get(n) for n in loaded}}))
"""


def _probe(statement: str) -> dict[str, str | None]:
    """Heavy modules loaded after `statement` in a fresh interpreter, and who imported them."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), statement],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).resolve() == Path(ss.__file__).resolve()
    loaded: dict[str, str | None] = out["loaded"]
    return loaded


def test_the_probe_sees_a_heavy_import() -> None:
    # Control: the same harness reports a heavy module when one is loaded.
    loaded = _probe("import scipy.special")
    assert "scipy.special" in loaded
    assert loaded["scipy.special"] == "outside salesstd"


@pytest.mark.parametrize("statement", ["import salesstd", "import salesstd.cli"])
def test_import_loads_no_heavy_module(statement: str) -> None:
    loaded = _probe(statement)
    assert not loaded, (
        f"`{statement}` loads {sorted(loaded)}; first imported at (module:line) {loaded}. "
        "Import them where they are used, so they load on first use."
    )
