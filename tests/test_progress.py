"""Progress bars for long reads: on stderr only, on request, and a clear error without tqdm."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

import salesstd as ss

ROWS = pd.DataFrame(
    {
        "deal": ["d1", "d1", "d2"],
        "stage": ["lead", "won", "lead"],
        "at": ["2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z", "2024-01-02T00:00:00Z"],
    }
)
EVENT = (
    '<event><string key="concept:name" value="{}"/>'
    '<date key="time:timestamp" value="2024-01-0{}T00:00:00Z"/></event>'
)
XES = (
    '<log><trace><string key="concept:name" value="c1"/>'
    + EVENT.format("a", 1)
    + EVENT.format("b", 2)
    + "</trace></log>"
)


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    path = tmp_path / "deals.parquet"
    ROWS.to_parquet(path)
    return path


@pytest.fixture
def xes(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.xes"
    path.write_text(XES, encoding="utf-8")
    return path


def test_read_parquet_draws_a_bar_on_stderr_only(
    parquet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = ss.read_parquet(parquet, case="deal", activity="stage", time="at", progress=True)
    out, err = capsys.readouterr()
    assert log.n_events == 3
    assert out == ""
    assert "deals.parquet" in err
    assert "/3 " in err  # the bar knows the number of columns to read


def test_read_xes_draws_a_bar_of_bytes(xes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = ss.read_xes(xes, progress=True)
    out, err = capsys.readouterr()
    assert log.n_events == 2
    assert out == ""
    assert "tiny.xes" in err
    assert f"/{xes.stat().st_size} " in err  # the bar knows the size of the file


class _Recorder:
    """Stands in for tqdm.tqdm and records what the reader reports."""

    made: ClassVar[list[_Recorder]] = []

    def __init__(self, **options: object) -> None:
        self.options = options
        self.total = options.get("total")
        self.n = 0
        _Recorder.made.append(self)

    def update(self, n: int) -> None:
        self.n += n

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize("kind", ["parquet", "xes"])
def test_the_updates_add_up_to_the_total(
    parquet: Path, xes: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    fake = type("tqdm_module", (), {"tqdm": _Recorder})
    real = importlib.import_module
    monkeypatch.setattr(
        importlib, "import_module", lambda n, p=None: fake if n == "tqdm" else real(n, p)
    )
    _Recorder.made.clear()
    if kind == "parquet":
        ss.read_parquet(parquet, case="deal", activity="stage", time="at", progress=True)
    else:
        ss.read_xes(xes, progress=True)
    (bar,) = _Recorder.made
    assert bar.n == bar.total
    assert bar.total == (3 if kind == "parquet" else xes.stat().st_size)
    assert bar.options["file"] is not None


@pytest.mark.parametrize("value", [False, None])
def test_no_bar_unless_asked_or_on_a_terminal(
    parquet: Path,
    capsys: pytest.CaptureFixture[str],
    value: bool | None,  # noqa: FBT001
) -> None:
    ss.read_parquet(parquet, case="deal", activity="stage", time="at", progress=value)
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal


def test_progress_must_be_a_bool_or_none(parquet: Path) -> None:
    with pytest.raises(ss.ParameterError, match="progress must be True, False or None") as info:
        ss.read_parquet(parquet, case="deal", activity="stage", time="at", progress="yes")  # type: ignore[arg-type]
    assert info.value.parameter == "progress"


def test_progress_without_tqdm_names_the_install(
    parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.import_module

    def no_tqdm(name: str, package: str | None = None) -> object:
        if name == "tqdm":
            raise ImportError("No module named 'tqdm'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_tqdm)
    with pytest.raises(ss.MissingDependencyError, match=r"pip install 'salesstd\[progress\]'"):
        ss.read_parquet(parquet, case="deal", activity="stage", time="at", progress=True)
    # automatic progress quietly does without
    log = ss.read_parquet(parquet, case="deal", activity="stage", time="at", progress=None)
    assert log.n_events == 3
