from __future__ import annotations

import json
from pathlib import Path

import pytest

import salesstd as ss
from salesstd.cli import main

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"salesstd {ss.__version__}"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    assert "report" in out
    assert "scorecard" in out


def test_report_example_has_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report", "--example", "--top", "3")
    assert code == 0
    assert err == ""
    assert "cases      8,300" in out
    assert "events     15,011" in out
    for heading in (
        "Transitions (directly follows; 2 pairs, top 3 by count)",
        "Stage conversion",
        "Time in stage, days (Kaplan-Meier",
        "Markov funnel",
        "Bottlenecks (benchmark: top quartile of sales_agent",
    ):
        assert heading in out
    # 4,238 won and 2,473 lost of 8,300 engaged; the 1,589 open deals are not lost.
    assert "Engaging    8,300     4,238  2,473  1,589  63.2%" in out


def test_report_json_matches_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "--example", "--json")
    assert code == 0
    report = json.loads(out)
    log = ss.datasets.load_crm_opportunities()
    assert report["cases"] == log.n_cases
    assert report["events"] == log.n_events
    rows = report["conversion"]["rows"]
    assert [r["stage"] for r in rows] == ["Engaging"]
    assert rows[0]["open"] == 1589


def test_report_csv_with_stages(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal,stage,at\n"
        "d1,lead,2024-01-01\nd1,won,2024-01-05\n"
        "d2,lead,2024-01-02\nd2,lost,2024-01-03\n"
        "d3,lead,2024-01-04\n",
        encoding="utf-8",
    )
    args = ("report", str(path), "--case", "deal", "--activity", "stage", "--time", "at")
    code, out, _ = run(capsys, *args, "--stages", "lead,won", "--lost", "lost")
    assert code == 0
    assert "lead         3         1     1     1  50.0%  9.5%-90.5%" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("report", "/nonexistent/deals.csv", "--case", "a", "--activity", "b", "--time", "c"),
            "does not exist",
        ),
        (("report", "deals.csv"), "needs --case, --activity, --time"),
        (("report",), "give a FILE"),
        (
            ("report", "deals.unknown", "--case", "a", "--activity", "b", "--time", "c"),
            "cannot tell the format",
        ),
        (("report", "--example", "--top", "-1"), "--top must be 0 or more"),
        (("check",), "give --standard FILE"),
        (("check", "--example", "--standard", "/nonexistent.toml"), "nonexistent.toml"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("salesstd: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_column_names_the_fix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,stage,updated_at\nd1,lead,2024-01-01\n", encoding="utf-8")
    code, _, err = run(
        capsys,
        "report",
        str(path),
        "--case",
        "deal_id",
        "--activity",
        "stage",
        "--time",
        "changed_at",
    )
    assert code == 2
    assert "column 'changed_at' not found" in err
    assert "Pass time='updated_at'" in err


def test_check_example_fails_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--example", "--top", "2")
    assert code == 1
    assert "Share of cases breaking each rule" in out
    assert "First 2 violations" in out


def test_check_json_agrees_with_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--example", "--json")
    assert code == 1
    payload = json.loads(out)
    log = ss.datasets.synthetic_pipeline(2_000, seed=7).log
    result = ss.check_conformance(log, ss.Standard.example())
    assert payload["conformance"]["summary"] == json.loads(json.dumps(result.to_dict()))["summary"]


def test_check_passes_with_exit_0_on_a_conforming_log(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    funnel = ss.Funnel.linear(["lead", "won"], lost="lost")
    standard = tmp_path / "std.json"
    standard.write_text(ss.Standard(funnel=funnel).to_json(), encoding="utf-8")
    path = tmp_path / "deals.csv"
    path.write_text("deal,stage,at\nd1,lead,2024-01-01\nd1,won,2024-01-05\n", encoding="utf-8")
    code, out, _ = run(
        capsys,
        "check",
        str(path),
        "--case",
        "deal",
        "--activity",
        "stage",
        "--time",
        "at",
        "--standard",
        str(standard),
    )
    assert code == 0
    assert "fully conform   100.0% (1 cases)" in out


def test_scorecard_example_ranks_reps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scorecard", "--example", "--top", "3")
    assert code == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("rank"))
    ranks = [int(line.split()[0]) for line in lines[header + 2 : header + 5]]
    assert ranks == [1, 2, 3]
    card = ss.scorecard(ss.datasets.synthetic_pipeline(2_000, seed=7).log, ss.Standard.example())
    assert lines[header + 2].split()[1] == str(card.ranking()[0])


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present")
def test_report_reads_xes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", str(DATA / "running-example" / "running-example.xes"))
    assert code == 0
    assert "cases      6" in out
    assert "events     42" in out
