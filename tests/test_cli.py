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
    # the line under the tables saying which win probability each one shows
    markov = out.index("Markov funnel")
    note = out.index("win_rate = product of step rates; P(win) = Markov chain, moves back")
    assert markov < note < out.index("Bottlenecks")


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


# ------------------------------------------------------------- CSV exports: options checked first


def _export(tmp_path: Path, *, deals: int = 300) -> tuple[Path, ss.EventLog]:
    """A CSV export of the synthetic pipeline: one row per event, owner and amount repeated."""
    log = ss.datasets.synthetic_pipeline(deals, seed=11).log
    rep = log.case_attributes["rep"][log.case]
    amount = log.case_attributes["amount"][log.case]
    lines = ["deal,stage,at,owner,amount"]
    lines += [
        f"{log.case_names[c]},{log.activity_names[a]},{str(t)[:26]}Z,{r},{float(m)}"
        for c, a, t, r, m in zip(log.case, log.activity, log.time, rep, amount, strict=True)
    ]
    path = tmp_path / "deals.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, log


COLUMNS = ("--case", "deal", "--activity", "stage", "--time", "at")


def _forbid(monkeypatch: pytest.MonkeyPatch, *targets: str) -> None:
    """Make the named analyses fail the test if the command reaches them."""

    def boom(*_: object, **__: object) -> None:
        pytest.fail("the command started its analysis before checking its options")

    for target in targets:
        monkeypatch.setattr(target, boom)


@pytest.mark.parametrize("case_attributes", ["owner,amount", "amount"])
def test_scorecard_on_a_csv_export_by_owner(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case_attributes: str
) -> None:
    # owner read as a case attribute, or left an event column that is constant per deal
    path, _ = _export(tmp_path)
    standard = str(ss.example_standard_path())
    args = ("scorecard", str(path), *COLUMNS, "--standard", standard, "--by", "owner")
    code, out, err = run(capsys, *args, "--case-attributes", case_attributes, "--top", "20")
    assert (code, err) == (0, "")
    log = ss.read_csv(
        path, case="deal", activity="stage", time="at", case_attributes=["owner", "amount"]
    )
    card = ss.scorecard(log, ss.Standard.example(), by="owner")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("rank"))
    shown = [line.split()[1] for line in lines[header + 2 :] if line.strip()]
    assert shown == [str(x) for x in card.ranking()]
    assert len(shown) == len(set(log.case_attributes["owner"].tolist())) > 1


def test_scorecard_default_by_fails_fast_naming_the_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = _export(tmp_path, deals=40)
    _forbid(monkeypatch, "salesstd._cli_standard.scorecard")
    args = ("scorecard", str(path), *COLUMNS, "--standard", str(ss.example_standard_path()))
    code, out, err = run(capsys, *args, "--case-attributes", "owner")
    assert (code, out) == (2, "")
    assert err == (
        "salesstd: error: --by='rep' is not an attribute of the log (case attributes: owner; "
        "event attributes: amount). (scorecard groups by 'rep' unless given --by COLUMN)\n"
    )


def test_report_wrong_by_fails_fast(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = _export(tmp_path, deals=40)
    _forbid(monkeypatch, "salesstd.cli.transitions", "salesstd.cli.conversion")
    stages = ("--stages", "Lead,Qualified,Discovery,Proposal,Negotiation,Won", "--lost", "Lost")
    code, out, err = run(capsys, "report", str(path), *COLUMNS, *stages, "--by", "ownr")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "--by='ownr' is not an attribute of the log" in err
    assert "event attributes: owner, amount" in err
    assert "Did you mean 'owner'?" in err


def test_report_stage_missing_from_the_log_fails_fast(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal,stage,at\nd1,lead,2024-01-01\nd1,Closed Won,2024-01-05\n"
        "d2,lead,2024-01-02\nd2,Closed Lost,2024-01-03\n",
        encoding="utf-8",
    )
    _forbid(monkeypatch, "salesstd.cli.transitions", "salesstd.cli.conversion")
    args = ("report", str(path), *COLUMNS, "--stages", "lead,Won", "--lost", "Closed Lost")
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err == (
        "salesstd: error: stage 'Won' never occurs in the log; the log's activities are "
        "Closed Lost, Closed Won, lead. Did you mean 'Closed Won'? Correct the name in "
        "--stages/--lost (or the --funnel file), or leave it out.\n"
    )


def test_standard_sharing_no_stage_with_the_log_fails_fast(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("deal,stage,at,rep\nd1,lead,2024-01-01,a\nd1,won,2024-01-05,a\n", "utf-8")
    _forbid(monkeypatch, "salesstd._cli_standard.check_conformance")
    standard = str(ss.example_standard_path())
    code, out, err = run(capsys, "check", str(path), *COLUMNS, "--standard", standard)
    assert (code, out) == (2, "")
    assert err.startswith(
        "salesstd: error: no stage of the funnel (Lead, Qualified, Discovery, Proposal, "
        "Negotiation, Won, Lost) occurs in the log; the log's activities are lead, won."
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--as-of", "last tuesday"), "--as-of must be a date or time such as '2024-06-30'"),
        (("--as-of", "2000-01-01"), "as_of '2000-01-01' is before the log starts"),
    ],
)
def test_as_of_is_checked_first(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
    message: str,
) -> None:
    path, _ = _export(tmp_path, deals=20)
    _forbid(monkeypatch, "salesstd.cli.transitions", "salesstd._cli_standard.scorecard")
    code, _, err = run(capsys, "report", str(path), *COLUMNS, *extra)
    assert code == 2
    assert message in err
    standard = str(ss.example_standard_path())
    args = ("scorecard", str(path), *COLUMNS, "--standard", standard, "--by", "owner")
    code, _, err = run(capsys, *args, *extra)
    assert code == 2
    assert message in err


def test_encoding_reads_a_latin1_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(
        "deal,stage,at\nd1,Diseño,2024-01-01\nd1,Ganada,2024-01-03\n".encode("latin-1")
    )
    code, _, err = run(capsys, "report", str(path), *COLUMNS)
    assert code == 2
    assert "is not valid UTF-8 text" in err
    code, out, err = run(capsys, "report", str(path), *COLUMNS, "--encoding", "latin-1")
    assert (code, err) == (0, "")
    assert "start activities: Diseño (1)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "--example", "--encoding", "latin-1"), "--encoding applies to CSV files"),
        (
            ("report", "--example", "--case-attributes", "owner"),
            "--case-attributes applies to CSV and Parquet files, not the bundled example",
        ),
    ],
)
def test_file_options_refused_where_they_do_not_apply(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
