"""Test-suite setup: ``tests/`` on ``sys.path`` so test modules can ``import strategies``.

Under ``--import-mode=importlib`` the tests folder is not importable as a package (and
``tests/__init__.py`` is not wanted), so the shared helpers are reached through ``sys.path``.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

# When a Hypothesis test fails, its pytest plugin imports hypothesis.extra._patching (and
# libcst, where installed), which issues a DeprecationWarning from mypy_extensions; under
# filterwarnings=error that turns the failure report into an INTERNALERROR. Import it once
# here with that warning silenced so failures are reported normally.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401
