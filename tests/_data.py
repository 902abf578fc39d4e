"""The real public logs under ``../shared/data`` (beside the project root), for the tests.

One place says where the data lives and how a test skips when it is absent, so every
real-data test reports the same reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BPIC2012_XES = DATA / "bpic2012" / "BPI_Challenge_2012.xes.gz"

ABSENT = "the shared data folder is expected at ../shared/data beside the project root"

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real data absent: {ABSENT}")


def data_file(*parts: str) -> Path:
    """The path of a real-data file under `DATA`; skips the calling test when it is absent."""
    path = DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"real-data file {path} is absent: {ABSENT}")
    return path
