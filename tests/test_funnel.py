"""Tests of `salesstd.funnel`: Funnel and Stage."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import pickle

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import _data
import salesstd as ss
from _data import DATA
from salesstd.errors import FunnelError, ParameterError, UnknownStageError
from strategies import funnels, paths

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def _log(*cases: list[str]) -> ss.EventLog:
    """A log with one case per list, events one day apart."""
    rows = [
        (f"d{c}", activity, T0 + dt.timedelta(days=i))
        for c, seq in enumerate(cases)
        for i, activity in enumerate(seq)
    ]
    return ss.EventLog.from_records(rows)


@pytest.fixture
def basic() -> ss.Funnel:
    return ss.Funnel.linear(["lead", "qualified", "proposal", "won"], lost="lost")


# --------------------------------------------------------------------- construction


def test_linear_known_answer(basic: ss.Funnel) -> None:
    assert basic.stage_names == ("lead", "qualified", "proposal", "won", "lost")
    assert [s.name for s in basic.open_stages] == ["lead", "qualified", "proposal"]
    assert basic.won == ss.Stage(name="won", kind="won", position=3, aliases=())
    assert basic.lost == (ss.Stage(name="lost", kind="lost", position=4),)
    assert basic.edges == (
        ("lead", "qualified"),
        ("lead", "lost"),
        ("qualified", "proposal"),
        ("qualified", "lost"),
        ("proposal", "won"),
        ("proposal", "lost"),
    )
    assert [s.name for s in basic.entry] == ["lead"]
    assert basic.n_stages == 5
    assert basic.n_open == 3
    assert basic.successors("qualified") == ("proposal", "lost")
    assert basic.predecessors("lost") == ("lead", "qualified", "proposal")
    assert basic.predecessors("lead") == ()
    assert basic.successors("won") == ()
    assert basic.allows("proposal", "won")
    assert not basic.allows("lead", "won")
    assert not basic.allows("won", "lead")
    assert basic.aliases == {}
    assert basic.activities is None
    assert [s.is_outcome for s in basic.stages] == [False, False, False, True, True]


def test_linear_repr(basic: ss.Funnel) -> None:
    assert (
        repr(basic) == "Funnel(stages=['lead', 'qualified', 'proposal'], won='won', lost=['lost'])"
    )


def test_linear_without_lost_and_with_explicit_won() -> None:
    f = ss.Funnel.linear(["lead", "won"])
    assert f.lost == ()
    assert f.edges == (("lead", "won"),)
    g = ss.Funnel.linear(["lead", "qualified"], won="signed", lost=["no", "gone"])
    assert g.stage_names == ("lead", "qualified", "signed", "no", "gone")
    assert g.successors("lead") == ("qualified", "no", "gone")
    assert g.successors("qualified") == ("signed", "no", "gone")


def test_linear_outcomes_may_be_listed_anywhere() -> None:
    listed = ss.Funnel.linear(["lead", "won", "qualified", "lost"], won="won", lost="lost")
    assert listed == ss.Funnel.linear(["lead", "qualified"], won="won", lost="lost")
    assert ss.Funnel.linear(["lead", "won", "lost"], lost="lost").won.name == "won"


def test_constructor_matches_linear(basic: ss.Funnel) -> None:
    built = ss.Funnel(
        ["lead", "qualified", "proposal"],
        [*reversed(basic.edges), ("lead", "qualified")],  # duplicates collapse
        won="won",
        lost=["lost"],
    )
    assert built == basic
    assert hash(built) == hash(basic)


def test_from_edges_orders_by_first_appearance() -> None:
    f = ss.Funnel.from_edges(
        [("inbound", "qualified"), ("outbound", "qualified"), ("qualified", "won")],
        won="won",
    )
    assert f.stage_names == ("inbound", "outbound", "qualified", "won")
    assert [s.name for s in f.entry] == ["inbound", "outbound"]


def test_from_edges_topological_not_list_order() -> None:
    f = ss.Funnel.from_edges(
        [("proposal", "won"), ("qualified", "proposal"), ("lead", "qualified"), ("lead", "lost")],
        won="won",
        lost="lost",
    )
    assert f.stage_names == ("lead", "qualified", "proposal", "won", "lost")


def test_from_edges_branches_of_different_length() -> None:
    f = ss.Funnel.from_edges(
        [
            ("lead", "qualified"),
            ("prospect", "contact"),
            ("contact", "research"),
            ("research", "qualified"),
            ("qualified", "won"),
        ],
        won="won",
    )
    assert f.stage_names == ("lead", "prospect", "contact", "research", "qualified", "won")
    assert [s.name for s in f.entry] == ["lead", "prospect"]


def test_from_edges_back_edge_keeps_forward_order() -> None:
    f = ss.Funnel.from_edges(
        [
            ("lead", "qualified"),
            ("qualified", "proposal"),
            ("proposal", "qualified"),
            ("proposal", "won"),
            ("qualified", "lost"),
        ],
        won="won",
        lost="lost",
    )
    assert f.stage_names == ("lead", "qualified", "proposal", "won", "lost")
    assert f.allows("proposal", "qualified")
    assert [s.name for s in f.entry] == ["lead"]


def test_from_edges_cycle_through_the_first_stage() -> None:
    f = ss.Funnel.from_edges(
        [("lead", "proposal"), ("proposal", "lead"), ("proposal", "won")], won="won"
    )
    assert f.stage_names == ("lead", "proposal", "won")
    assert [s.name for s in f.entry] == ["lead"]


def test_from_edges_with_order() -> None:
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("c", "won")]
    f = ss.Funnel.from_edges(edges, won="won", order=["a", "c", "b", "won"])
    assert f.stage_names == ("a", "c", "b", "won")
    assert [s.name for s in f.entry] == ["a"]
    g = ss.Funnel.from_edges(
        [("a", "c"), ("c", "b"), ("b", "won")], won="won", order=["a", "b", "c"]
    )
    assert [s.name for s in g.entry] == ["a", "b"]  # b's only way in is from the later c


def test_from_edges_order_errors() -> None:
    edges = [("lead", "qualified"), ("qualified", "won")]
    with pytest.raises(FunnelError, match="order leaves out stage 'qualified'"):
        ss.Funnel.from_edges(edges, won="won", order=["lead"])
    with pytest.raises(FunnelError, match=r"order names 'qualifed'.*Did you mean 'qualified'"):
        ss.Funnel.from_edges(edges, won="won", order=["lead", "qualified", "qualifed"])
    with pytest.raises(FunnelError, match="'lead' appears twice in order"):
        ss.Funnel.from_edges(edges, won="won", order=["lead", "lead", "qualified"])


def test_aliases(basic: ss.Funnel) -> None:
    f = ss.Funnel.linear(
        ["SUBMITTED", "won"],
        lost="DECLINED",
        aliases={"A_REGISTERED": "won", "A_APPROVED": "won", "won": "won", "X": "SUBMITTED"},
    )
    assert f.won.aliases == ("A_APPROVED", "A_REGISTERED")  # sorted; the self-alias is dropped
    assert f.aliases == {"A_APPROVED": "won", "A_REGISTERED": "won", "X": "SUBMITTED"}
    assert f.stage_of("A_APPROVED") == "won"
    assert f.stage_of("won") == "won"
    assert f.stage_of("X") == "SUBMITTED"
    assert f.stage_of("call") is None
    assert basic.stage_of("lead") == "lead"


# --------------------------------------------------------------------- queries


def test_stage_lookup_and_did_you_mean(basic: ss.Funnel) -> None:
    assert basic.stage("qualified").position == 1
    f = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost")
    message = (
        "stage 'Qualifed' is not in the funnel (lead, qualified, won, lost). "
        "Did you mean 'qualified'?"
    )
    with pytest.raises(UnknownStageError) as info:
        f.stage("Qualifed")
    assert str(info.value) == message
    with pytest.raises(LookupError, match="Did you mean 'qualified'"):
        f.successors("Qualifed")
    with pytest.raises(UnknownStageError, match="Did you mean 'lead'"):
        f.allows("lead", "Lead")
    with pytest.raises(UnknownStageError, match="Did you mean 'lost'"):
        f.predecessors("lots")


def test_stage_lookup_of_an_alias_names_its_stage() -> None:
    f = ss.Funnel.linear(["lead", "won"], aliases={"signed": "won"})
    with pytest.raises(UnknownStageError, match="'signed' is an alias of stage 'won'; pass 'won'"):
        f.stage("signed")


def test_stage_codes_known_answer() -> None:
    f = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost", aliases={"signed": "won"})
    log = _log(["lead", "call", "qualified", "signed"], ["lead", "meeting", "lost"])
    assert log.activities == ("call", "lead", "lost", "meeting", "qualified", "signed")
    codes = f.stage_codes(log)
    assert codes.dtype == np.int32
    assert codes.tolist() == [-1, 0, 3, -1, 1, 2]
    assert codes[log.activity].tolist() == [0, -1, 1, 2, 0, -1, 3]
    assert [f.stage_of(a) for a in log.activities] == [
        None,
        "lead",
        "lost",
        None,
        "qualified",
        "won",
    ]


def test_declared_activities_catch_a_typo() -> None:
    f = ss.Funnel.linear(["lead", "qualified", "won"], lost="lost", activities=["call", "meeting"])
    assert f.activities == ("call", "meeting")
    good = _log(["lead", "call", "qualified", "won"], ["lead", "meeting", "lost"])
    assert f.stage_codes(good).tolist() == [-1, 0, 3, -1, 1, 2]
    bad = _log(["lead", "call", "Qualifed", "won"])
    message = (
        "stage 'Qualifed' is not in the funnel (lead, qualified, won, lost). "
        "Did you mean 'qualified'?"
    )
    with pytest.raises(UnknownStageError) as info:
        f.stage_codes(bad)
    assert str(info.value) == message
    with pytest.raises(UnknownStageError, match="Did you mean 'qualified'"):
        f.stage_of("Qualifed")
    with pytest.raises(UnknownStageError, match=r"declare it: funnel.with_activities"):
        f.stage_of("e-mail")
    assert f.stage_of("call") is None


def test_empty_declared_activities_means_every_activity_is_a_stage() -> None:
    f = ss.Funnel.linear(["lead", "won"], activities=[])
    assert f.activities == ()
    assert f.stage_codes(_log(["lead", "won"])).tolist() == [0, 1]
    with pytest.raises(UnknownStageError, match="stage 'call' is not in the funnel"):
        f.stage_codes(_log(["lead", "call", "won"]))


def test_stage_codes_needs_a_log(basic: ss.Funnel) -> None:
    with pytest.raises(ParameterError, match="log must be an EventLog; got list"):
        basic.stage_codes(["lead"])  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="activity must be a string"):
        basic.stage_of(3)  # type: ignore[arg-type]


def test_graph_is_a_frozen_copy(basic: ss.Funnel) -> None:
    g = basic.graph
    assert list(g.nodes) == list(basic.stage_names)
    assert list(g.edges) == list(basic.edges)
    assert g.nodes["won"] == {"kind": "won", "position": 3, "aliases": ()}
    assert nx.is_frozen(g)
    with pytest.raises(nx.NetworkXError):
        g.add_edge("won", "lead")
    g.nodes["won"]["kind"] = "open"  # node data of the copy only
    assert basic.graph.nodes["won"]["kind"] == "won"
    assert basic.won.kind == "won"


def test_adjacency_is_read_only(basic: ss.Funnel) -> None:
    adj = basic.adjacency
    assert adj.shape == (5, 5)
    assert adj.dtype == bool
    assert adj.sum() == len(basic.edges)
    assert adj[0, 1]
    assert not adj[1, 0]
    with pytest.raises(ValueError, match="read-only"):
        adj[1, 0] = True


# --------------------------------------------------------------------- immutability


def test_funnel_is_immutable(basic: ss.Funnel) -> None:
    with pytest.raises(AttributeError, match="Funnel is immutable"):
        basic._stages = ()
    with pytest.raises(AttributeError, match="Funnel is immutable"):
        basic.won = basic.lost[0]  # type: ignore[misc]
    with pytest.raises(AttributeError, match="Funnel is immutable"):
        del basic._edges
    stage = basic.won
    with pytest.raises(AttributeError):
        stage.name = "x"  # type: ignore[misc]


def test_inputs_are_not_mutated() -> None:
    stages = ["lead", "qualified"]
    edges = [("lead", "qualified"), ("qualified", "won"), ("lead", "lost")]
    aliases = {"signed": "won"}
    activities = ["call"]
    lost = ["lost"]
    f = ss.Funnel(stages, edges, won="won", lost=lost, aliases=aliases, activities=activities)
    f.with_edge("qualified", "lost").with_alias("closed", "won")
    assert stages == ["lead", "qualified"]
    assert edges == [("lead", "qualified"), ("qualified", "won"), ("lead", "lost")]
    assert aliases == {"signed": "won"}
    assert activities == ["call"]
    assert lost == ["lost"]
    f.aliases["x"] = "won"  # a new dict each time
    assert f.aliases == {"signed": "won"}


def test_with_edge_and_without_edge(basic: ss.Funnel) -> None:
    back = basic.with_edge("proposal", "qualified")
    assert back.allows("proposal", "qualified")
    assert not basic.allows("proposal", "qualified")
    assert back.stage_names == basic.stage_names
    assert [s.name for s in back.entry] == ["lead"]
    assert back.without_edge("proposal", "qualified") == basic
    assert basic.with_edge("lead", "qualified") == basic
    shorter = basic.without_edge("lead", "lost")
    assert shorter.predecessors("lost") == ("qualified", "proposal")
    assert len(basic.edges) == 6


def test_with_alias_and_with_activities(basic: ss.Funnel) -> None:
    f = basic.with_alias("signed", "won").with_alias("closed", "won")
    assert f.won.aliases == ("closed", "signed")
    assert basic.won.aliases == ()
    assert f.with_alias("signed", "won") == f
    g = f.with_activities(["call", "meeting", "call"])
    assert g.activities == ("call", "meeting")
    assert g.with_activities(None) == f


def test_with_alias_errors(basic: ss.Funnel) -> None:
    f = basic.with_alias("signed", "won")
    with pytest.raises(FunnelError, match="alias 'signed' already stands for stage 'won'"):
        f.with_alias("signed", "lost")
    with pytest.raises(FunnelError, match=r"alias 'x' names stage 'wno'.*Did you mean 'won'"):
        basic.with_alias("x", "wno")
    with pytest.raises(FunnelError, match="alias 'lead' of stage 'won' is itself a stage"):
        basic.with_alias("lead", "won")
    with pytest.raises(FunnelError, match="activity 'signed' is declared as a non-stage"):
        f.with_activities(["signed"])
    with pytest.raises(FunnelError, match=r"activity 'lead' is declared as a non-stage .* a stage"):
        basic.with_activities(["lead"])


def test_without_edge_errors(basic: ss.Funnel) -> None:
    with pytest.raises(FunnelError, match=r"edge 'lead' -> 'won' is not in the funnel.*lead -> "):
        basic.without_edge("lead", "won")
    with pytest.raises(FunnelError, match="stage 'won' cannot be reached"):
        basic.without_edge("proposal", "won")


def test_with_edge_errors(basic: ss.Funnel) -> None:
    with pytest.raises(FunnelError, match="outcome 'won' has an outgoing edge to 'lead'"):
        basic.with_edge("won", "lead")
    with pytest.raises(FunnelError, match=r"names stage 'leed'.*Did you mean 'lead'"):
        basic.with_edge("leed", "won")
    with pytest.raises(FunnelError, match="self-loop"):
        basic.with_edge("lead", "lead")


def test_pickle_and_copy(basic: ss.Funnel) -> None:
    f = basic.with_alias("signed", "won").with_activities(["call"])
    assert pickle.loads(pickle.dumps(f)) == f  # noqa: S301 - our own data
    assert copy.deepcopy(f) == f
    assert copy.copy(f) == f
    assert {f, copy.deepcopy(f)} == {f}
    assert f != basic
    assert f != "funnel"


# --------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ss.Funnel.linear([]), "the funnel has no stages"),
        (lambda: ss.Funnel.linear(["won"]), "the funnel has no open stages"),
        (lambda: ss.Funnel([], [], won="won"), "the funnel has no open stages"),
        (lambda: ss.Funnel.from_edges([], won="won"), "the funnel has no open stages"),
        (
            lambda: ss.Funnel.linear(["lead", "lead", "won"]),
            "stage 'lead' appears twice in stages",
        ),
        (
            lambda: ss.Funnel.linear(["lead", "won"], lost=["lost", "lost"]),
            r"stage 'lost' is given twice \(as a lost outcome and as a lost outcome\)",
        ),
        (
            lambda: ss.Funnel(["lead"], [("lead", "won")], won="won", lost="won"),
            r"stage 'won' is given twice \(as the won outcome and as a lost outcome\)",
        ),
        (
            lambda: ss.Funnel(["lead"], [("lead", "won")], won=None),  # type: ignore[arg-type]
            "the funnel has no won outcome",
        ),
        (
            lambda: ss.Funnel(["lead"], [("lead", "won")], won=["won", "signed"]),  # type: ignore[arg-type]
            r"exactly one won outcome; got 2 \(won, signed\).*aliases=\{'signed': 'won'\}",
        ),
        (
            lambda: ss.Funnel(["lead"], [("lead", "wno")], won="won"),
            (
                r"edge 'lead' -> 'wno' names stage 'wno', which is not in the funnel "
                r"\(lead, won\)\. Did you mean 'won'\?"
            ),
        ),
        (
            lambda: ss.Funnel(["lead"], [("lead", "won"), ("won", "lead")], won="won"),
            "outcome 'won' has an outgoing edge to 'lead'; outcomes are terminal",
        ),
        (
            lambda: ss.Funnel(["lead"], [("lead", "won")], won="won", lost="lost"),
            (
                r"stage 'lost' cannot be reached from the entry stage\(s\) \(lead\); add an "
                r"edge into it, e.g. \('lead', 'lost'\)"
            ),
        ),
        (
            lambda: ss.Funnel(["lead"], [("lead", "lost")], won="won", lost="lost"),
            "stage 'won' cannot be reached",
        ),
        (
            lambda: ss.Funnel.linear(["lead", "won"], aliases={"x": "Won"}),
            (
                r"alias 'x' names stage 'Won', which is not in the funnel \(lead, won\)\. "
                r"Did you mean 'won'\?"
            ),
        ),
        (
            lambda: ss.Funnel.linear(["lead", "won"], lost="lost", aliases={"lost": "won"}),
            "alias 'lost' of stage 'won' is itself a stage",
        ),
        (
            lambda: ss.Funnel.linear(["lead", "won"], aliases={"s": "won"}, activities=["s"]),
            "activity 's' is declared as a non-stage activity but is an alias of 'won'",
        ),
    ],
)
def test_funnel_errors(make: object, message: str) -> None:
    with pytest.raises(FunnelError, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ss.Funnel.linear("lead"), "stages must be a list of names; got the string"),
        (lambda: ss.Funnel.linear(["lead", 3]), "each of stages must be a non-empty string"),  # type: ignore[list-item]
        (lambda: ss.Funnel.linear(["lead", ""]), "non-empty string; got ''"),
        (lambda: ss.Funnel(["a"], "ab", won="b"), "edges must be a list of"),  # type: ignore[arg-type]
        (lambda: ss.Funnel(["a"], [("a", "b", "c")], won="b"), "each edge must be a"),  # type: ignore[list-item]
        (lambda: ss.Funnel(["a"], [("a", "b")], won="b", aliases=["x"]), "aliases must map"),  # type: ignore[arg-type]
        (lambda: ss.Funnel(["a"], [("a", "b")], won="b", lost=5), "lost must be a list"),  # type: ignore[arg-type]
    ],
)
def test_parameter_errors(make: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        make()  # type: ignore[operator]


def test_funnel_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no open stages"):
        ss.Funnel.linear(["won"])


# --------------------------------------------------------------------- exports


def test_to_dict_known_answer() -> None:
    f = ss.Funnel.linear(["lead", "won"], lost="lost", aliases={"signed": "won"})
    assert f.to_dict() == {
        "kind": "Funnel",
        "stages": [
            {"name": "lead", "kind": "open", "aliases": []},
            {"name": "won", "kind": "won", "aliases": ["signed"]},
            {"name": "lost", "kind": "lost", "aliases": []},
        ],
        "edges": [["lead", "won"], ["lead", "lost"]],
        "activities": None,
    }
    assert ss.Funnel.from_dict(f.to_dict()) == f
    text = f.with_activities(["call"]).to_json(indent=None)
    assert json.loads(text)["activities"] == ["call"]
    assert ss.Funnel.from_json(text) == f.with_activities(["call"])


def test_from_dict_accepts_hand_written_shapes() -> None:
    f = ss.Funnel.from_dict(
        {
            "stages": [
                {"name": "lost", "kind": "lost"},
                {"name": "lead", "kind": "open"},
                {"name": "won", "kind": "won", "aliases": ("signed",)},
            ],
            "edges": [("lead", "won"), ("lead", "lost")],
        }
    )
    assert f == ss.Funnel.linear(["lead", "won"], lost="lost", aliases={"signed": "won"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stages": [], "edges": [], "edgse": []}, "unknown key 'edgse'.*Did you mean 'edges'"),
        ({"kind": "Standard", "stages": [], "edges": []}, "has kind 'Standard'"),
        ({"stages": []}, "funnel dict has no 'edges' key"),
        ({"stages": "lead", "edges": []}, "stages must be a list"),
        ({"stages": [{"name": "lead"}], "edges": []}, "needs a 'name' and a 'kind'"),
        (
            {"stages": [{"name": "lead", "kind": "open"}], "edges": []},
            "the funnel has no won outcome",
        ),
        (
            {
                "stages": [
                    {"name": "lead", "kind": "open"},
                    {"name": "won", "kind": "won"},
                    {"name": "signed", "kind": "won"},
                ],
                "edges": [["lead", "won"], ["lead", "signed"]],
            },
            "exactly one won outcome; got 2",
        ),
        (
            {
                "stages": [
                    {"name": "lead", "kind": "open", "aliases": ["x"]},
                    {"name": "won", "kind": "won", "aliases": ["x"]},
                ],
                "edges": [["lead", "won"]],
            },
            "alias 'x' is given for two stages, 'lead' and 'won'",
        ),
        (
            {
                "stages": [{"name": "lead", "kind": "open"}, {"name": "won", "kind": "won"}],
                "edges": [["lead", "won", "x"]],
            },
            r"each edge must be a \[source, target\] pair",
        ),
        (
            {
                "stages": [
                    {"name": "lead", "kind": "open"},
                    {"name": "won", "kind": "won"},
                    {"name": "lead", "kind": "lost"},
                ],
                "edges": [["lead", "won"]],
            },
            "stage 'lead' is given twice",
        ),
    ],
)
def test_from_dict_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(FunnelError, match=message):
        ss.Funnel.from_dict(data)


def test_from_dict_bad_kind_and_type() -> None:
    data = {"stages": [{"name": "lead", "kind": "opne"}], "edges": []}
    with pytest.raises(ParameterError, match="Did you mean 'open'"):
        ss.Funnel.from_dict(data)
    with pytest.raises(ParameterError, match="data must be a dict"):
        ss.Funnel.from_dict([])  # type: ignore[arg-type]


def test_from_json_invalid() -> None:
    with pytest.raises(FunnelError, match=r"not valid JSON: .* line 1, column 2"):
        ss.Funnel.from_json("{stages")


def test_to_dot_known_answer_with_escaping() -> None:
    f = ss.Funnel.linear(['say "hi"', "won"], lost="lost", aliases={"A\\B": "won"})
    expected = [
        "digraph funnel {",
        "    rankdir=LR;",
        "    node [shape=box, style=rounded];",
        '    "say \\"hi\\"";',
        '    "won" [label="won\\n(A\\\\B)", peripheries=2];',
        '    "lost" [style="rounded,dashed"];',
        '    "say \\"hi\\"" -> "won";',
        '    "say \\"hi\\"" -> "lost";',
        "}",
    ]
    assert f.to_dot().splitlines() == expected


def test_to_mermaid_known_answer_with_escaping() -> None:
    f = ss.Funnel.linear(['a "<b>" #1', "won"], lost=["lost", "gone"], aliases={"ok": "won"})
    expected = [
        "flowchart LR",
        '    s0["a #quot;#lt;b#gt;#quot; #35;1"]',
        '    s1(["won<br>(ok)"])',
        '    s2(["lost"])',
        '    s3(["gone"])',
        "    s0 --> s1",
        "    s0 --> s2",
        "    s0 --> s3",
        "    classDef won stroke-width:3px",
        "    classDef lost stroke-dasharray:4",
        "    class s1 won",
        "    class s2,s3 lost",
    ]
    assert f.to_mermaid().splitlines() == expected
    assert ss.Funnel.linear(["a", "won"]).to_mermaid().splitlines()[-1] == "    class s1 won"


def test_repr_html_escapes(basic: ss.Funnel) -> None:
    f = basic.with_alias("<b>", "won")
    out = f._repr_html_()
    assert out.startswith("<table><caption>Funnel(stages=[&#x27;lead&#x27;")
    assert "<td>&lt;b&gt;</td>" in out
    assert "<td>qualified, lost</td>" in out
    assert out.count("<tr>") == 6


# --------------------------------------------------------------------- discovery


def test_discover_known_answer() -> None:
    log = _log(
        ["lead", "qualified", "proposal", "won"],
        ["lead", "qualified", "lost"],
        ["lead", "qualified", "proposal", "qualified", "proposal", "signed"],
        ["lead", "lost"],
        ["lead", "call", "qualified"],
    )
    f = ss.Funnel.discover(log, won="won", lost="lost", aliases={"signed": "won"})
    assert f.stage_names == ("lead", "call", "qualified", "proposal", "won", "lost")
    g = ss.Funnel.discover(
        log,
        won="won",
        lost="lost",
        aliases={"signed": "won"},
        stages=["lead", "qualified", "proposal"],
    )
    assert g.stage_names == ("lead", "qualified", "proposal", "won", "lost")
    assert g.edges == (
        ("lead", "qualified"),
        ("lead", "lost"),
        ("qualified", "proposal"),
        ("qualified", "lost"),
        ("proposal", "qualified"),
        ("proposal", "won"),
    )
    assert g.won.aliases == ("signed",)
    assert g.stage_of("call") is None
    assert g.activities is None


def test_discover_min_share_and_weakest_incoming_edge() -> None:
    # a -> b 9 times, a -> c once (10%): c keeps its only incoming edge anyway.
    # b -> won 8, b -> lost 1 (1/9 = 11%), b -> c 0; c -> won.
    cases = [["a", "b", "won"]] * 8 + [["a", "b", "lost"], ["a", "c", "won"]]
    log = _log(*cases)
    loose = ss.Funnel.discover(log, won="won", lost="lost", min_share=0.0)
    assert loose.edges == (("a", "b"), ("a", "c"), ("b", "won"), ("b", "lost"), ("c", "won"))
    strict = ss.Funnel.discover(log, won="won", lost="lost", min_share=0.2)
    assert strict.allows("a", "c")  # c's most frequent (only) way in is kept
    assert strict.allows("b", "lost")  # lost's only way in is kept
    both = ss.Funnel.discover(_log(*cases, ["a", "lost"]), won="won", lost="lost", min_share=0.2)
    # lost's moves in, 1 from a (1/11) and 1 from b (1/9), are both below 20%: the first of
    # the most frequent (a) is kept so lost stays reachable.
    assert both.predecessors("lost") == ("a",)
    assert both.predecessors("c") == ("a",)


def test_discover_share_is_inclusive() -> None:
    cases = [["a", "won"]] * 19 + [["a", "lost"]]
    f = ss.Funnel.discover(_log(*cases, ["b", "lost"]), won="won", lost="lost", min_share=0.05)
    assert f.allows("a", "lost")  # exactly 5%


def test_discover_drops_repeats_and_moves_out_of_outcomes() -> None:
    log = _log(["a", "a", "b", "won", "a"], ["a", "b", "b", "lost", "won"])
    f = ss.Funnel.discover(log, won="won", lost="lost", min_share=0.0)
    assert f.edges == (("a", "b"), ("b", "won"), ("b", "lost"))
    assert f.successors("won") == ()


def test_discover_orders_by_structure_then_mean_position() -> None:
    # Two ways in of different lengths; 'research' must precede 'qualified'.
    cases = [["lead", "qualified", "won"]] * 5 + [
        ["prospect", "contact", "research", "qualified", "won"]
    ]
    f = ss.Funnel.discover(_log(*cases), won="won", min_share=0.0)
    assert f.stage_names == ("lead", "prospect", "contact", "research", "qualified", "won")
    # A frequent backward move does not reorder stages that deals reach first.
    loops = [["lead", "offer", "lead", "offer", "won"]] * 3 + [["lead", "offer", "won"]]
    g = ss.Funnel.discover(_log(*loops), won="won", min_share=0.0)
    assert g.stage_names == ("lead", "offer", "won")
    assert g.allows("offer", "lead")
    assert [s.name for s in g.entry] == ["lead"]


def test_discover_errors() -> None:
    log = _log(["lead", "qualified", "won"], ["lead", "lost"])
    with pytest.raises(UnknownStageError, match=r"won outcome 'Won' does not occur.*'won'"):
        ss.Funnel.discover(log, won="Won", lost="lost")
    with pytest.raises(UnknownStageError, match="lost outcome 'lots' does not occur"):
        ss.Funnel.discover(log, won="won", lost="lots")
    with pytest.raises(UnknownStageError, match=r"stage 'qualifid' does not occur.*Did you mean"):
        ss.Funnel.discover(log, won="won", lost="lost", stages=["qualifid"])
    with pytest.raises(ParameterError, match="min_share must be between 0 and 1"):
        ss.Funnel.discover(log, won="won", min_share=5)
    with pytest.raises(ParameterError, match="log must be an EventLog"):
        ss.Funnel.discover("log.csv", won="won")  # type: ignore[arg-type]
    with pytest.raises(FunnelError, match="stage 'lost' cannot be reached"):
        ss.Funnel.discover(_log(["lost"], ["lead", "won"]), won="won", lost="lost")
    with pytest.raises(FunnelError, match="no open stages"):
        ss.Funnel.discover(_log(["won"]), won="won")
    numeric = ss.EventLog.from_arrays(
        case=[1, 1],
        activity=np.array([1, 2]),
        time=np.array(["2024-01-01", "2024-01-02"], "datetime64[ns]"),
    )
    with pytest.raises(ParameterError, match="activity names must be strings"):
        ss.Funnel.discover(numeric, won="2")


BPIC_STAGES = ("A_SUBMITTED", "A_PARTLYSUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "A_FINALIZED")
BPIC_WON = {"A_APPROVED": "won", "A_REGISTERED": "won", "A_ACTIVATED": "won"}


@pytest.fixture(scope="module")
def bpic2012() -> ss.EventLog:
    path = DATA / "bpic2012" / "BPI_Challenge_2012.xes.gz"
    if not path.is_file():
        pytest.skip(f"real-data file {path} is absent: {_data.ABSENT}")
    return ss.read_xes(path, lifecycle="complete")


@pytest.mark.slow
def test_discover_bpic2012_application_funnel(bpic2012: ss.EventLog) -> None:
    a_events = [a for a in bpic2012.activities if a.startswith("A_")]
    log = bpic2012.where(activity=a_events)
    f = ss.Funnel.discover(log, won="won", lost=["A_DECLINED", "A_CANCELLED"], aliases=BPIC_WON)
    assert f.stage_names == (*BPIC_STAGES, "won", "A_DECLINED", "A_CANCELLED")
    assert [s.name for s in f.entry] == ["A_SUBMITTED"]
    assert f.won.aliases == ("A_ACTIVATED", "A_APPROVED", "A_REGISTERED")
    for a, b in itertools.pairwise(BPIC_STAGES):
        assert f.allows(a, b)
    assert f.allows("A_FINALIZED", "won")
    assert f.predecessors("won") == ("A_FINALIZED",)
    # PARTLYSUBMITTED -> CANCELLED happens once in 13,087 moves: dropped at 5%, kept at 0.
    assert not f.allows("A_PARTLYSUBMITTED", "A_CANCELLED")
    loose = ss.Funnel.discover(
        log, won="won", lost=["A_DECLINED", "A_CANCELLED"], aliases=BPIC_WON, min_share=0.0
    )
    assert loose.allows("A_PARTLYSUBMITTED", "A_CANCELLED")
    assert loose.stage_names == f.stage_names
    # The whole log, with stages= naming the A_ events: the same funnel; O_/W_ are -1.
    whole = ss.Funnel.discover(
        bpic2012,
        won="won",
        lost=["A_DECLINED", "A_CANCELLED"],
        aliases=BPIC_WON,
        stages=a_events,
    )
    assert whole == f
    codes = f.stage_codes(bpic2012)
    stage_of = [f.stage_of(a) for a in bpic2012.activities]
    expected = [-1 if s is None else f.stage(s).position for s in stage_of]
    assert codes.tolist() == expected
    assert (codes[[bpic2012.activity_code(a) for a in BPIC_WON]] == f.won.position).all()
    assert ss.Funnel.from_json(f.to_json()) == f


# --------------------------------------------------------------------- properties


@given(funnels(back_edges=True))
def test_dict_and_json_round_trip(f: ss.Funnel) -> None:
    d = f.to_dict()
    assert json.loads(json.dumps(d)) == d
    again = ss.Funnel.from_dict(d)
    assert again == f
    assert hash(again) == hash(f)
    assert again.to_dict() == d
    assert ss.Funnel.from_json(f.to_json()) == f
    assert f.to_dot() == again.to_dot()
    assert f.to_mermaid() == again.to_mermaid()


@given(funnels(back_edges=True))
def test_every_stage_reachable_from_an_entry(f: ss.Funnel) -> None:
    g = f.graph
    entries = [s.name for s in f.entry]
    assert entries[0] == f.stage_names[0]
    assert all(s.kind == "open" for s in f.entry)
    reached = set(entries).union(*(nx.descendants(g, e) for e in entries))
    assert reached == set(f.stage_names)
    assert all(f.successors(s.name) == () for s in (f.won, *f.lost))


@given(funnels(), st.data())
def test_stage_codes_consistent_with_stage_of(f: ss.Funnel, data: st.DataObject) -> None:
    names = [*f.stage_names, *f.aliases, *(f.activities or ())]
    extra = "~not in the funnel~"
    if f.activities is None:
        names.append(extra)
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=12))
    log = _log(chosen)
    codes = f.stage_codes(log)
    assert codes.dtype == np.int32
    for activity, code in zip(log.activities, codes.tolist(), strict=True):
        stage = f.stage_of(activity)
        assert code == (-1 if stage is None else f.stage(stage).position)
    assert ((codes >= -1) & (codes < f.n_stages)).all()
    if f.activities is not None:
        with pytest.raises(UnknownStageError, match="is not in the funnel"):
            f.stage_codes(_log([*chosen, extra]))


@given(funnels(back_edges=True))
def test_from_edges_with_order_rebuilds(f: ss.Funnel) -> None:
    rebuilt = ss.Funnel.from_edges(
        f.edges,
        won=f.won.name,
        lost=[s.name for s in f.lost],
        order=[s.name for s in f.open_stages],
        aliases=f.aliases,
        activities=f.activities,
    )
    assert rebuilt == f


@given(funnels())
def test_from_edges_derives_a_topological_order(f: ss.Funnel) -> None:
    derived = ss.Funnel.from_edges(f.edges, won=f.won.name, lost=[s.name for s in f.lost])
    assert set(derived.edges) == set(f.edges)
    assert set(derived.stage_names) == set(f.stage_names)
    for a, b in derived.edges:
        assert derived.stage(a).position < derived.stage(b).position


@given(funnels(back_edges=True), st.data())
def test_with_and_without_edge_round_trip(f: ss.Funnel, data: st.DataObject) -> None:
    opened = [s.name for s in f.open_stages]
    a = data.draw(st.sampled_from(opened))
    b = data.draw(st.sampled_from([n for n in f.stage_names if n != a]))
    g = f.with_edge(a, b)
    assert g.allows(a, b)
    assert g.stage_names == f.stage_names
    if not f.allows(a, b):
        assert g.without_edge(a, b) == f


@given(funnels(back_edges=True).flatmap(lambda f: st.tuples(st.just(f), paths(f))))
def test_paths_follow_allowed_edges(pair: tuple[ss.Funnel, list[str]]) -> None:
    f, path = pair
    assert path[0] in {s.name for s in f.entry}
    assert all(f.allows(a, b) for a, b in itertools.pairwise(path))
    assert all(f.stage(s).kind == "open" for s in path[:-1])


@given(
    funnels(back_edges=True).flatmap(
        lambda f: st.tuples(st.just(f), st.lists(paths(f), max_size=8))
    )
)
def test_discover_finds_only_allowed_edges(pair: tuple[ss.Funnel, list[list[str]]]) -> None:
    f, walks = pair
    won = f.won.name
    to_won = next(
        nx.shortest_path(f.graph, s.name, won) for s in f.entry if nx.has_path(f.graph, s.name, won)
    )
    log = _log(*walks, to_won)
    seen = set(log.activities)
    lost = [s.name for s in f.lost if s.name in seen]
    found = ss.Funnel.discover(log, won=won, lost=lost, min_share=0.0)
    assert set(found.edges) <= set(f.edges)
    moves = {(a, b) for w in [*walks, to_won] for a, b in itertools.pairwise(w)}
    assert set(found.edges) == moves
    assert found.won.name == won
