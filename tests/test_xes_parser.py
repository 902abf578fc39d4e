"""Tests of the XES parser `salesstd.io._xes.parse_xes`."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import json
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesstd.errors import InvalidLogError, ParameterError
from salesstd.io._xes import XesColumns, parse_xes

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _data_file(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(
            f"real-data file {path} is absent: the shared data folder is expected at "
            "../shared/data next to the project root"
        )
    return path


def _write(tmp_path: Path, text: str, name: str = "log.xes", *, compress: bool = False) -> Path:
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def _n_traces(columns: XesColumns) -> int:
    return len(next(iter(columns.trace_columns.values())))


TYPED = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <string key="creator" value="log-level, ignored"/>
  <global scope="event">
    <string key="org:resource" value="DEFAULT"/>
  </global>
  <trace>
    <string key="concept:name" value="case-1"/>
    <date key="opened" value="2020-01-01T00:00:00.000+01:00"/>
    <event>
      <string key="concept:name" value="a"/>
      <date key="time:timestamp" value="2020-01-02T10:00:00.123+01:00"/>
      <int key="n" value="-42"/>
      <float key="amount" value="2.3832541524E7"/>
      <boolean key="flag" value="true"/>
      <id key="uuid" value="0f8fad5b-d9cb-469f-a165-70867728950e"/>
    </event>
    <event>
      <string key="concept:name" value="b &amp; c &lt;d&gt; &#233;"/>
      <date key="time:timestamp" value="2020-01-03T10:00:00Z"/>
      <float key="amount" value="0.5"/>
      <boolean key="flag" value="FALSE"/>
      <string key="org:resource" value="Ann"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="case-2"/>
    <int key="priority" value="3"/>
    <event>
      <string key="concept:name" value="a"/>
      <int key="n" value="7"/>
      <boolean key="flag" value="1"/>
    </event>
  </trace>
</log>
"""


def test_typed_values_missing_keys_and_order(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, TYPED))

    # A key first met after the first event comes as an object array (stored sparsely).
    assert isinstance(columns.event_columns["org:resource"], np.ndarray)
    assert {k: list(v) for k, v in columns.event_columns.items()} == {
        "concept:name": ["a", "b & c <d> é", "a"],
        "time:timestamp": ["2020-01-02T10:00:00.123+01:00", "2020-01-03T10:00:00Z", None],
        "n": [-42, None, 7],
        "amount": [2.3832541524e7, 0.5, None],
        "flag": [True, False, True],
        "uuid": ["0f8fad5b-d9cb-469f-a165-70867728950e", None, None],
        "org:resource": [None, "Ann", None],
    }
    # Keys appear in order of first appearance.
    assert list(columns.event_columns) == [
        "concept:name",
        "time:timestamp",
        "n",
        "amount",
        "flag",
        "uuid",
        "org:resource",
    ]
    assert {k: list(v) for k, v in columns.trace_columns.items()} == {
        "concept:name": ["case-1", "case-2"],
        "opened": ["2020-01-01T00:00:00.000+01:00", None],
        "priority": [None, 3],
    }
    assert columns.event_trace.dtype == np.int64
    assert columns.event_trace.tolist() == [0, 0, 1]


def test_value_types_are_exact(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, TYPED))
    n = columns.event_columns["n"]
    amount = columns.event_columns["amount"]
    flag = columns.event_columns["flag"]
    assert type(n[0]) is int
    assert type(amount[1]) is float
    assert all(type(value) is bool for value in flag)
    assert type(columns.event_columns["time:timestamp"][0]) is str


def test_global_defaults_and_log_attributes_are_not_applied(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, TYPED))
    # The global default "DEFAULT" is not filled in for events without org:resource.
    assert "DEFAULT" not in columns.event_columns["org:resource"]
    # The log-level "creator" attribute is not a trace or event column.
    assert "creator" not in columns.trace_columns
    assert "creator" not in columns.event_columns


def test_result_is_frozen(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, TYPED))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        columns.event_trace = np.zeros(0, dtype=np.int64)  # type: ignore[misc]


NAMESPACED = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <trace>
    <string key="concept:name" value="t1"/>
    <event><string key="concept:name" value="x"/><int key="k" value="1"/></event>
    <event><string key="concept:name" value="y"/></event>
  </trace>
  <trace>
    <string key="concept:name" value="t2"/>
    <event><string key="concept:name" value="z"/><int key="k" value="2"/></event>
  </trace>
</log>
"""
NAMESPACED_EXPECTED = {"concept:name": ["x", "y", "z"], "k": [1, None, 2]}


def test_namespaced_tags_are_stripped(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, NAMESPACED))
    assert columns.event_columns == NAMESPACED_EXPECTED
    assert columns.trace_columns == {"concept:name": ["t1", "t2"]}
    assert columns.event_trace.tolist() == [0, 0, 1]


def test_prefixed_namespace_is_stripped(tmp_path: Path) -> None:
    text = (
        '<xes:log xmlns:xes="http://www.xes-standard.org/"><xes:trace>'
        '<xes:string key="concept:name" value="t1"/>'
        '<xes:event><xes:string key="concept:name" value="x"/></xes:event>'
        "</xes:trace></xes:log>"
    )
    columns = parse_xes(_write(tmp_path, text))
    assert columns.event_columns == {"concept:name": ["x"]}
    assert columns.trace_columns == {"concept:name": ["t1"]}


@pytest.mark.parametrize("name", ["log.xes.gz", "log.xes", "log.gzip-without-extension"])
def test_gzip_is_detected_by_magic_bytes(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, NAMESPACED, name, compress=True)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    columns = parse_xes(path)
    assert columns.event_columns == NAMESPACED_EXPECTED
    assert columns.event_trace.tolist() == [0, 0, 1]


def test_plain_file_named_gz_is_read_as_plain(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, NAMESPACED, "plain.xes.gz"))
    assert columns.event_columns == NAMESPACED_EXPECTED


def test_accepts_str_path(tmp_path: Path) -> None:
    columns = parse_xes(str(_write(tmp_path, NAMESPACED)))
    assert columns.event_columns == NAMESPACED_EXPECTED


NESTED = """<log xes.features="nested-attributes">
  <float key="meta:stdev" value="19.9">
    <float key="10609" value="2.5"/>
  </float>
  <trace>
    <string key="concept:name" value="t1"/>
    <string key="note" value="top">
      <string key="inner" value="ignored"/>
      <int key="inner-int" value="5"/>
    </string>
    <list key="trace-list">
      <values><string key="item" value="ignored"/></values>
    </list>
    <event>
      <string key="concept:name" value="a"/>
      <float key="cost" value="1.5">
        <string key="currency" value="EUR"/>
        <string value="nested without key is ignored"/>
      </float>
      <list key="tags">
        <values>
          <string key="tag" value="t-one"/>
          <string key="tag" value="t-two"/>
        </values>
      </list>
      <container key="box" value="boxed">
        <int key="inside" value="9"/>
      </container>
      <container key="empty-box">
        <int key="inside" value="9"/>
      </container>
      <unknown key="mystery" value="not an XES type"/>
    </event>
    <event>
      <string key="concept:name" value="b"/>
      <container key="box" value="other"/>
    </event>
  </trace>
</log>
"""


def test_nested_attributes_keep_top_level_value_only(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, NESTED))
    assert columns.event_columns == {
        "concept:name": ["a", "b"],
        "cost": [1.5, None],
        "box": ["boxed", "other"],
    }
    assert columns.trace_columns == {"concept:name": ["t1"], "note": ["top"]}
    assert columns.event_trace.tolist() == [0, 0]


def test_trace_attributes_after_events_and_duplicate_keys(tmp_path: Path) -> None:
    text = """<log><trace>
      <string key="concept:name" value="first"/>
      <event>
        <string key="concept:name" value="a"/>
        <string key="concept:name" value="a-again"/>
      </event>
      <string key="late" value="after the events"/>
      <string key="concept:name" value="second"/>
    </trace></log>"""
    columns = parse_xes(_write(tmp_path, text))
    # The last value of a repeated key wins (as in a dict).
    assert columns.event_columns == {"concept:name": ["a-again"]}
    assert columns.trace_columns == {"concept:name": ["second"], "late": ["after the events"]}


def test_typed_attribute_without_value_is_none(tmp_path: Path) -> None:
    text = """<log><trace><string key="concept:name"/>
      <event><string key="concept:name" value="a"/><int key="n"/></event>
    </trace></log>"""
    columns = parse_xes(_write(tmp_path, text))
    assert columns.event_columns == {"concept:name": ["a"], "n": [None]}
    assert columns.trace_columns == {"concept:name": [None]}


LIFECYCLE = """<log>
  <trace>
    <string key="concept:name" value="t0"/>
    <event><string key="concept:name" value="a"/>
      <string key="lifecycle:transition" value="SCHEDULE"/></event>
    <event><string key="concept:name" value="a"/>
      <string key="lifecycle:transition" value="START"/></event>
    <event><string key="concept:name" value="a"/>
      <string key="lifecycle:transition" value="COMPLETE"/></event>
    <event><string key="concept:name" value="b"/></event>
  </trace>
  <trace>
    <string key="concept:name" value="t1"/>
    <event><string key="concept:name" value="c"/>
      <string key="lifecycle:transition" value="start"/></event>
  </trace>
  <trace>
    <string key="concept:name" value="t2"/>
  </trace>
  <trace>
    <string key="concept:name" value="t3"/>
    <event><string key="concept:name" value="d"/>
      <string key="lifecycle:transition" value="complete"/></event>
  </trace>
</log>
"""


def test_lifecycle_none_keeps_every_event(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, LIFECYCLE))
    assert columns.event_columns["concept:name"] == ["a", "a", "a", "b", "c", "d"]
    assert columns.event_columns["lifecycle:transition"] == [
        "SCHEDULE",
        "START",
        "COMPLETE",
        None,
        "start",
        "complete",
    ]
    assert columns.event_trace.tolist() == [0, 0, 0, 0, 1, 3]
    # The trace without events is still there.
    assert columns.trace_columns == {"concept:name": ["t0", "t1", "t2", "t3"]}


def test_lifecycle_complete_is_case_insensitive_and_default(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, LIFECYCLE), lifecycle="Complete")
    # "COMPLETE", the event without a transition (XES default: complete) and "complete".
    assert columns.event_columns == {
        "concept:name": ["a", "b", "d"],
        "lifecycle:transition": ["COMPLETE", None, "complete"],
    }
    assert columns.event_trace.tolist() == [0, 0, 3]
    # Traces whose events were all filtered out stay in the trace columns.
    assert columns.trace_columns == {"concept:name": ["t0", "t1", "t2", "t3"]}


def test_lifecycle_sequence(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, LIFECYCLE), lifecycle=["start", "SCHEDULE"])
    assert columns.event_columns == {
        "concept:name": ["a", "a", "c"],
        "lifecycle:transition": ["SCHEDULE", "START", "start"],
    }
    assert columns.event_trace.tolist() == [0, 0, 1]
    assert parse_xes(_write(tmp_path, LIFECYCLE), lifecycle=("start",)).event_trace.tolist() == [
        0,
        1,
    ]


def test_lifecycle_matching_nothing_keeps_traces(tmp_path: Path) -> None:
    columns = parse_xes(_write(tmp_path, LIFECYCLE), lifecycle="suspend")
    assert columns.event_columns == {}
    assert columns.event_trace.dtype == np.int64
    assert columns.event_trace.shape == (0,)
    assert columns.trace_columns == {"concept:name": ["t0", "t1", "t2", "t3"]}


@pytest.mark.parametrize("bad", [[], ["complete", 3]])
def test_lifecycle_bad_sequence_raises(tmp_path: Path, bad: list[object]) -> None:
    with pytest.raises(ParameterError, match="lifecycle must be None, a string"):
        parse_xes(_write(tmp_path, LIFECYCLE), lifecycle=bad)  # type: ignore[arg-type]


def test_events_outside_traces_are_ignored(tmp_path: Path) -> None:
    text = """<log>
      <event><string key="concept:name" value="orphan"/></event>
      <trace><string key="concept:name" value="t"/>
        <event><string key="concept:name" value="a"/></event></trace>
    </log>"""
    columns = parse_xes(_write(tmp_path, text))
    assert columns.event_columns == {"concept:name": ["a"]}
    assert columns.event_trace.tolist() == [0]


def test_declared_latin1_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "latin1.xes"
    path.write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<log><trace>'
        b'<string key="concept:name" value="Jos\xe9"/>'
        b'<event><string key="concept:name" value="\xc9tape"/></event></trace></log>'
    )
    columns = parse_xes(path)
    assert columns.trace_columns == {"concept:name": ["José"]}
    assert columns.event_columns == {"concept:name": ["Étape"]}


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.xes"
    path.write_bytes(b"\xef\xbb\xbf" + NAMESPACED.encode("utf-8"))
    assert parse_xes(path).event_columns == NAMESPACED_EXPECTED


def test_many_traces_event_trace_indices(tmp_path: Path) -> None:
    parts = ["<log>"]
    for trace in range(500):
        parts.append(f'<trace><string key="concept:name" value="c{trace}"/>')
        parts.extend(
            f'<event><int key="i" value="{trace * 10 + event}"/></event>'
            for event in range(trace % 4)
        )
        parts.append("</trace>")
    parts.append("</log>")
    columns = parse_xes(_write(tmp_path, "".join(parts), compress=True))
    expected_trace = [trace for trace in range(500) for _ in range(trace % 4)]
    assert columns.event_trace.tolist() == expected_trace
    assert columns.event_columns["i"] == [
        trace * 10 + event for trace in range(500) for event in range(trace % 4)
    ]
    assert columns.trace_columns["concept:name"] == [f"c{trace}" for trace in range(500)]


# --------------------------------------------------------------------------------------------
# Errors


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.xes"
    with pytest.raises(InvalidLogError, match=r"nope\.xes' does not exist; check the path") as info:
        parse_xes(path)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert isinstance(info.value, ValueError)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidLogError, match="cannot be read") as info:
        parse_xes(tmp_path)
    assert isinstance(info.value.__cause__, OSError)


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(NAMESPACED.encode("utf-8") * 5)
    path = tmp_path / "cut.xes.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidLogError, match=r"cut\.xes\.gz' is a truncated or corrupt gzip file"):
        parse_xes(path)


def test_gzip_with_only_a_header(tmp_path: Path) -> None:
    path = tmp_path / "header.xes.gz"
    path.write_bytes(b"\x1f\x8b")
    with pytest.raises(InvalidLogError, match="is a truncated or corrupt gzip file"):
        parse_xes(path)


def test_corrupt_gzip_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.xes.gz"
    path.write_bytes(b"\x1f\x8b\x63" + b"not really gzip at all" * 10)
    with pytest.raises(InvalidLogError, match="is a truncated or corrupt gzip file") as info:
        parse_xes(path)
    assert isinstance(info.value.__cause__, OSError)


def test_corrupt_gzip_crc(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(NAMESPACED.encode("utf-8")))
    data[-8] ^= 0xFF  # break the CRC32 in the trailer
    path = tmp_path / "crc.xes.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidLogError, match="is a truncated or corrupt gzip file"):
        parse_xes(path)


def test_not_xml(tmp_path: Path) -> None:
    path = _write(tmp_path, "case,activity\n1,a\n", "events.csv")
    with pytest.raises(
        InvalidLogError,
        match=r"events\.csv' is not well-formed XML \(syntax error at line 1, column 0\)",
    ):
        parse_xes(path)


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "", "empty.xes")
    with pytest.raises(InvalidLogError, match=r"no element found at line 1, column 0"):
        parse_xes(path)


def test_malformed_xml_reports_line_and_column(tmp_path: Path) -> None:
    text = "<log>\n  <trace>\n    <event>\n  </trace>\n</log>\n"
    with pytest.raises(
        InvalidLogError, match=r"not well-formed XML \(mismatched tag at line 4, column 4\)"
    ) as info:
        parse_xes(_write(tmp_path, text))
    assert info.value.__cause__ is not None


def test_truncated_plain_xml(tmp_path: Path) -> None:
    text = NAMESPACED[: NAMESPACED.index("<trace>", 200) + 20]
    with pytest.raises(InvalidLogError, match=r"not well-formed XML .*complete XES file"):
        parse_xes(_write(tmp_path, text))


def test_truncated_xml_inside_valid_gzip(tmp_path: Path) -> None:
    text = NAMESPACED[:300]
    with pytest.raises(InvalidLogError, match="not well-formed XML"):
        parse_xes(_write(tmp_path, text, "cut.xes.gz", compress=True))


@pytest.mark.parametrize(
    "declaration",
    [b'<?xml version="1.0" encoding="UTF-8"?>\n', b"<?xml version='1.0' encoding='utf8'?>\n", b""],
)
def test_non_utf8_content(tmp_path: Path, declaration: bytes) -> None:
    path = tmp_path / "latin.xes"
    path.write_bytes(
        declaration
        + b'<log>\n<trace>\n<string key="concept:name" value="Jos\xe9"/>\n</trace>\n</log>'
    )
    line = 4 if declaration else 3
    with pytest.raises(
        InvalidLogError,
        match=rf"latin\.xes' declares UTF-8 but is not valid UTF-8 \(first bad byte on line {line}",
    ):
        parse_xes(path)


def test_non_utf8_content_in_gzip(tmp_path: Path) -> None:
    path = tmp_path / "latin.xes.gz"
    path.write_bytes(
        gzip.compress(
            b'<?xml version="1.0" encoding="UTF-8"?><log><trace><event>'
            b'<string key="r" value="M\xfcller"/></event></trace></log>'
        )
    )
    with pytest.raises(InvalidLogError, match="UTF-8"):
        parse_xes(path)


def test_root_is_not_log(tmp_path: Path) -> None:
    path = _write(tmp_path, "<html><body><trace/></body></html>", "page.xes")
    with pytest.raises(
        InvalidLogError, match=r"page\.xes' contains no traces \(its root element is <html>"
    ):
        parse_xes(path)


def test_log_without_traces(tmp_path: Path) -> None:
    text = '<log xmlns="http://www.xes-standard.org/"><string key="creator" value="x"/></log>'
    with pytest.raises(InvalidLogError, match=r"log\.xes' contains no traces; pass an XES log"):
        parse_xes(_write(tmp_path, text))


def test_event_attribute_without_key(tmp_path: Path) -> None:
    text = """<log><trace><string key="concept:name" value="t"/>
      <event><string key="concept:name" value="a"/></event>
      <event><string key="concept:name" value="b"/><int value="3"/></event>
    </trace></log>"""
    with pytest.raises(
        InvalidLogError,
        match=r"has a <int> attribute without a key in event 1 of trace 0 \(both 0-based\)",
    ):
        parse_xes(_write(tmp_path, text))


def test_trace_attribute_without_key(tmp_path: Path) -> None:
    text = """<log><trace><string key="concept:name" value="t"/></trace>
      <trace><date value="2020-01-01T00:00:00Z"/></trace></log>"""
    with pytest.raises(
        InvalidLogError, match=r"<date> attribute without a key in trace 1 \(0-based\)"
    ):
        parse_xes(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("element", "value"), [("int", "1.5"), ("float", "abc"), ("boolean", "yes")]
)
def test_unparseable_typed_value(tmp_path: Path, element: str, value: str) -> None:
    text = f"""<log><trace><event><{element} key="x" value="{value}"/></event></trace></log>"""
    with pytest.raises(
        InvalidLogError,
        match=rf"<{element}> attribute 'x' with value '{value}' .*not a valid {element}",
    ) as info:
        parse_xes(_write(tmp_path, text))
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("int", "1_000"),
        ("int", "1 000"),
        ("int", "\u0661\u0662"),  # Arabic-Indic digits: int() takes them, XES does not
        ("int", "\u00a012"),  # a no-break space: int() strips it
        ("float", "1_0.5"),
        ("float", "nan"),
        ("float", "infinity"),
        ("float", "0x1p3"),
    ],
)
def test_numbers_python_takes_but_xes_does_not_are_refused(
    tmp_path: Path, element: str, value: str
) -> None:
    text = f"""<log><trace><event><{element} key="x" value="{value}"/></event></trace></log>"""
    with pytest.raises(InvalidLogError, match=rf"<{element}> attribute 'x' .*not a valid"):
        parse_xes(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("element", "value", "expected"),
    [
        ("int", " 12 ", 12),  # XML Schema collapses surrounding whitespace
        ("int", "+7", 7),
        ("int", "-0042", -42),
        ("float", "1.5E3", 1500.0),
        ("float", ".5", 0.5),
        ("float", "-INF", float("-inf")),
        ("float", "Infinity", float("inf")),  # as Java (OpenXES) writes it
    ],
)
def test_numbers_in_xes_lexical_forms_are_read(
    tmp_path: Path, element: str, value: str, expected: float
) -> None:
    text = f"""<log><trace><event><{element} key="x" value="{value}"/></event></trace></log>"""
    assert parse_xes(_write(tmp_path, text)).event_columns == {"x": [expected]}


def test_float_nan_is_read(tmp_path: Path) -> None:
    text = """<log><trace><event><float key="x" value="NaN"/></event></trace></log>"""
    (value,) = parse_xes(_write(tmp_path, text)).event_columns["x"]
    assert isinstance(value, float)
    assert value != value  # noqa: PLR0124 - NaN


MULTI_BYTE = [
    ("Shift_JIS", ["山田商事", "鈴木"], "商談"),
    ("EUC-JP", ["山田商事", "鈴木"], "受注"),
    ("GB2312", ["张伟", "王芳"], "商机"),
    ("GBK", ["张伟", "王芳"], "赢单"),
    ("Big5", ["陳大文", "林"], "商機"),
    ("EUC-KR", ["김민수", "이"], "영업"),
]


def _multi_byte_log(encoding: str, names: list[str], activity: str, repeat: int = 1) -> bytes:
    traces = "".join(
        f'<trace><string key="concept:name" value="{name}{k}"/>'
        f'<event><string key="concept:name" value="{activity}"/>'
        f'<string key="note" value="{name * 3}"/></event></trace>\n'
        for k in range(repeat)
        for name in names
    )
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n<log>{traces}</log>\n'
    return text.encode(encoding)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(("encoding", "names", "activity"), MULTI_BYTE)
def test_multi_byte_encodings_are_read(
    tmp_path: Path, encoding: str, names: list[str], activity: str, *, compress: bool
) -> None:
    # expat refuses multi-byte encodings ("multi-byte encodings are not supported"): the
    # reader decodes them itself as the file streams.
    raw = _multi_byte_log(encoding, names, activity)
    path = tmp_path / "log.xes"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    columns = parse_xes(path)
    assert columns.trace_columns == {"concept:name": [f"{n}0" for n in names]}
    assert columns.event_columns == {
        "concept:name": [activity] * len(names),
        "note": [n * 3 for n in names],
    }


@pytest.mark.parametrize("compress", [False, True])
def test_multi_byte_characters_split_between_blocks_are_joined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, compress: bool
) -> None:
    import salesstd.io._xes_bytes as xes_module  # noqa: PLC0415 - to shrink its blocks

    monkeypatch.setattr(xes_module, "_READ_SIZE", 7)  # an odd size splits many characters
    monkeypatch.setattr(xes_module, "_GZIP_READ", 5)
    raw = _multi_byte_log("Shift_JIS", ["山田商事", "鈴木"], "商談", repeat=20)
    path = tmp_path / "log.xes"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    columns = parse_xes(path)
    assert columns.trace_columns["concept:name"][-1] == "鈴木19"
    assert set(columns.event_columns["note"]) == {"山田商事" * 3, "鈴木" * 3}


def test_bytes_not_in_the_declared_multi_byte_encoding_name_the_line(tmp_path: Path) -> None:
    raw = _multi_byte_log("Shift_JIS", ["山田", "鈴木"], "商談")
    lines = raw.split(b"\n")
    lines[2] = lines[2].replace("鈴".encode("shift_jis"), b"\x81\x7f")  # no such character
    path = tmp_path / "log.xes"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(
        InvalidLogError,
        match=r"declares the encoding Shift_JIS but is not valid Shift_JIS text "
        r"\(first bad byte on line 3\)",
    ):
        parse_xes(path)


def test_a_file_ending_inside_a_multi_byte_character_is_refused(tmp_path: Path) -> None:
    raw = _multi_byte_log("GBK", ["张伟"], "商机").rstrip(b"\n")
    path = tmp_path / "log.xes"
    path.write_bytes(raw + "张".encode("gbk")[:1])
    with pytest.raises(InvalidLogError, match="is not valid GBK text"):
        parse_xes(path)


_ONE_TRACE = (
    '<log><trace><string key="concept:name" value="\u00e91"/>'
    '<event><string key="concept:name" value="a"/></event></trace></log>'
)


@pytest.mark.parametrize(
    ("declared", "encoding", "bom"),
    [
        ("utf8", "utf-8", b""),  # what ElementTree writes for encoding="utf8"
        ("UTF_8", "utf-8", b""),
        ("utf-16-le", "utf-16-le", b""),  # Python's own spelling, no byte order mark
        ("utf16", "utf-16-be", b""),
        ("Shift_JIS", "utf-8", codecs.BOM_UTF8),  # a byte order mark decides
        ("Shift_JIS", "utf-16-be", codecs.BOM_UTF16_BE),
        # UTF-32, which expat does not read (its little-endian mark begins with UTF-16's)
        ("utf-32", "utf-32-le", codecs.BOM_UTF32_LE),
        ("UTF-32", "utf-32-be", codecs.BOM_UTF32_BE),
        ("utf-32", "utf-32-le", b""),
        ("utf-32", "utf-32-be", b""),
    ],
)
def test_encodings_expat_spells_otherwise_are_read(
    tmp_path: Path, declared: str, encoding: str, bom: bytes
) -> None:
    # Before: "utf8" failed as malformed XML at the first non-ASCII byte, and the others
    # raised pyexpat's ValueError("multi-byte encodings are not supported").
    text = f'<?xml version="1.0" encoding="{declared}"?>{_ONE_TRACE}'
    path = tmp_path / "log.xes"
    path.write_bytes(bom + text.encode(encoding))
    assert parse_xes(path).trace_columns == {"concept:name": ["\u00e91"]}


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("rot13", r"declares an encoding Python does not know \('rot13' is not a text encoding"),
        ("base64", r"'base64' is not a text encoding"),
        ("undefined", r"declares the encoding undefined but is not valid undefined text"),
    ],
)
def test_codecs_that_decode_no_text_are_refused(
    tmp_path: Path, declared: str, message: str
) -> None:
    # Before: TypeError, AttributeError and UnicodeError from inside the codecs.
    path = tmp_path / "log.xes"
    path.write_text(f'<?xml version="1.0" encoding="{declared}"?>{_ONE_TRACE}', encoding="utf-8")
    with pytest.raises(InvalidLogError, match=message):
        parse_xes(path)


@pytest.mark.parametrize("declared", ["Shift_JIS ", " utf-8", "Shift JIS", ""])
def test_a_declared_encoding_that_is_no_name_is_named(tmp_path: Path, declared: str) -> None:
    # Before: such a declaration went unread and the file was said to "declare UTF-8".
    path = tmp_path / "log.xes"
    path.write_bytes(f'<?xml version="1.0" encoding="{declared}"?>{_ONE_TRACE}'.encode())
    with pytest.raises(InvalidLogError, match=rf"declares the encoding '{declared}', which is not"):
        parse_xes(path)


# --------------------------------------------------------------------------------------------
# Real logs

REAL_LOGS = [
    ("running-example", "running-example.xes", 6, 42),
    ("receipt", "08_receipt.xes.gz", 1434, 8577),
    ("helpdesk", "helpdesk.xes.gz", 4580, 21348),
    ("roadtraffic100", "roadtraffic100traces.xes", 100, 390),
]
ORACLES = {  # PM4Py oracle file (in oracles/pm4py) of each real log
    "running-example.xes": "running-example.json",
    "08_receipt.xes.gz": "receipt.json",
    "helpdesk.xes.gz": "helpdesk.json",
    "roadtraffic100traces.xes": "roadtraffic100traces.json",
}


@pytest.mark.parametrize(("folder", "name", "n_traces", "n_events"), REAL_LOGS)
def test_real_log_counts(folder: str, name: str, n_traces: int, n_events: int) -> None:
    columns = parse_xes(_data_file(folder, name))
    assert _n_traces(columns) == n_traces
    assert columns.event_trace.shape == (n_events,)
    assert all(len(column) == n_events for column in columns.event_columns.values())
    assert all(len(column) == n_traces for column in columns.trace_columns.values())
    # Trace indices are non-decreasing (file order) and every trace has at least one event.
    assert np.all(np.diff(columns.event_trace) >= 0)
    assert np.unique(columns.event_trace).tolist() == list(range(n_traces))


@pytest.mark.parametrize(("folder", "name", "n_traces", "n_events"), REAL_LOGS)
def test_real_log_matches_pm4py_oracle(
    folder: str, name: str, n_traces: int, n_events: int
) -> None:
    columns = parse_xes(_data_file(folder, name))
    oracle_path = _data_file("oracles", "pm4py", ORACLES[name])
    oracle = json.loads(oracle_path.read_text(encoding="utf-8"))
    assert oracle["source_files"] == [name]
    # The oracle logs are in time order within each case, so file order gives PM4Py's traces.
    assert oracle["crosscheck"]["rows_out_of_time_order_in_source"] == 0
    assert (oracle["n_cases"], oracle["n_events"]) == (n_traces, n_events)
    activity = columns.event_columns["concept:name"]
    assert set(activity) == set(oracle["activities"])
    traces: list[list[object]] = [[] for _ in range(n_traces)]
    for trace, name_ in zip(columns.event_trace.tolist(), activity, strict=True):
        traces[trace].append(name_)
    assert len({tuple(trace) for trace in traces}) == oracle["n_variants"]
    assert dict(Counter(trace[0] for trace in traces)) == oracle["start_activities"]
    assert dict(Counter(trace[-1] for trace in traces)) == oracle["end_activities"]


def test_running_example_values() -> None:
    columns = parse_xes(_data_file("running-example", "running-example.xes"))
    assert columns.trace_columns["concept:name"] == ["3", "2", "1", "6", "5", "4"]
    assert columns.trace_columns["creator"] == ["Fluxicon Nitro"] * 6
    assert sorted(columns.event_columns) == [
        "Activity",
        "Costs",
        "Resource",
        "concept:name",
        "org:resource",
        "time:timestamp",
    ]
    assert columns.event_columns["concept:name"][:3] == [
        "register request",
        "examine casually",
        "check ticket",
    ]
    assert columns.event_columns["time:timestamp"][0] == "2010-12-30T14:32:00.000+01:00"
    assert columns.event_columns["Costs"][0] == "50"  # declared <string> in the file
    csv_path = _data_file("running-example", "running-example.csv")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["concept:name"] for row in rows] == columns.event_columns["concept:name"]
    assert [dt.datetime.fromisoformat(row["time:timestamp"]) for row in rows] == [
        dt.datetime.fromisoformat(str(value)) for value in columns.event_columns["time:timestamp"]
    ]


def test_receipt_matches_csv_export() -> None:
    columns = parse_xes(_data_file("receipt", "08_receipt.xes.gz"))
    with _data_file("receipt", "receipt.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8577
    case = [columns.trace_columns["concept:name"][trace] for trace in columns.event_trace]
    assert [row["case:concept:name"] for row in rows] == case
    for key in ("concept:name", "concept:instance", "org:group", "org:resource"):
        assert [row[key] for row in rows] == columns.event_columns[key]
    assert [dt.datetime.fromisoformat(row["time:timestamp"]) for row in rows] == [
        dt.datetime.fromisoformat(str(value)) for value in columns.event_columns["time:timestamp"]
    ]
    assert set(columns.event_columns["lifecycle:transition"]) == {"complete"}
    # Trace attributes missing on some traces come out as None; global defaults are not applied.
    assert sum(value is None for value in columns.trace_columns["enddate"]) == 105
    assert sum(value is None for value in columns.trace_columns["group"]) == 825
    assert "aantekening" not in columns.trace_columns  # declared only in <global scope="trace">
    enddate = [columns.trace_columns["enddate"][trace] for trace in columns.event_trace]
    assert [row["case:enddate"] or None for row in rows] == [
        None if value is None else dt.datetime.fromisoformat(str(value)).isoformat(" ")
        for value in enddate
    ]


def test_roadtraffic_typed_values() -> None:
    columns = parse_xes(_data_file("roadtraffic100", "roadtraffic100traces.xes"))
    events = columns.event_columns
    assert events["amount"][:3] == [35.0, None, 36.0]
    assert events["article"][:3] == [157, None, 157]
    assert events["points"][:3] == [0, None, 0]
    assert all(type(value) is int for value in events["article"] if value is not None)
    assert all(type(value) is float for value in events["expense"] if value is not None)
    assert sum(value is not None for value in events["expense"]) == 78
    assert (
        len(
            parse_xes(
                _data_file("roadtraffic100", "roadtraffic100traces.xes"), lifecycle="complete"
            ).event_trace
        )
        == 390
    )


def test_helpdesk_timestamps_without_fraction() -> None:
    columns = parse_xes(_data_file("helpdesk", "helpdesk.xes.gz"))
    stamps = columns.event_columns["time:timestamp"]
    assert stamps[0] == "2012-10-09T14:50:17+00:00"
    assert all(str(value).endswith("+00:00") for value in stamps)
    assert "lifecycle:transition" not in columns.event_columns
    # No lifecycle attribute means "complete": the filter keeps every event.
    assert (
        len(parse_xes(_data_file("helpdesk", "helpdesk.xes.gz"), lifecycle="complete").event_trace)
        == 21348
    )
    assert (
        len(parse_xes(_data_file("helpdesk", "helpdesk.xes.gz"), lifecycle="start").event_trace)
        == 0
    )


@pytest.fixture(scope="module")
def bpic2012_rows() -> list[dict[str, str]]:
    with gzip.open(
        _data_file("bpic2012", "bpic2012_events.csv.gz"), "rt", encoding="utf-8", newline=""
    ) as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_bpic2012_all_events_match_csv(bpic2012_rows: list[dict[str, str]]) -> None:
    columns = parse_xes(_data_file("bpic2012", "BPI_Challenge_2012.xes.gz"))
    rows = bpic2012_rows
    assert _n_traces(columns) == 13087
    assert columns.event_trace.shape == (262200,)
    assert len(rows) == 262200
    events = columns.event_columns
    assert sorted(events) == [
        "concept:name",
        "lifecycle:transition",
        "org:resource",
        "time:timestamp",
    ]
    assert sorted(columns.trace_columns) == ["AMOUNT_REQ", "REG_DATE", "concept:name"]
    assert [row["activity"] for row in rows] == events["concept:name"]
    assert [row["lifecycle"] for row in rows] == events["lifecycle:transition"]
    assert [row["timestamp"] for row in rows] == events["time:timestamp"]
    assert [row["resource"] or None for row in rows] == events["org:resource"]
    assert sum(value is None for value in events["org:resource"]) == 18010
    trace = columns.event_trace.tolist()
    assert [row["case_id"] for row in rows] == [
        columns.trace_columns["concept:name"][t] for t in trace
    ]
    assert [row["reg_date"] for row in rows] == [
        columns.trace_columns["REG_DATE"][t] for t in trace
    ]
    assert [row["amount_req"] for row in rows] == [
        columns.trace_columns["AMOUNT_REQ"][t] for t in trace
    ]
    # Raw timestamps are kept as written, with both DST offsets.
    offsets = Counter(str(value)[-6:] for value in events["time:timestamp"])
    assert set(offsets) == {"+01:00", "+02:00"}


@pytest.mark.slow
def test_bpic2012_lifecycle_filter_matches_csv(bpic2012_rows: list[dict[str, str]]) -> None:
    path = _data_file("bpic2012", "BPI_Challenge_2012.xes.gz")
    expected = Counter(row["lifecycle"] for row in bpic2012_rows)
    assert expected == {"COMPLETE": 164506, "START": 71376, "SCHEDULE": 26318}
    complete = parse_xes(path, lifecycle="complete")
    assert complete.event_trace.shape == (expected["COMPLETE"],)
    assert set(complete.event_columns["lifecycle:transition"]) == {"COMPLETE"}
    assert _n_traces(complete) == 13087
    kept = [row for row in bpic2012_rows if row["lifecycle"] == "COMPLETE"]
    assert [row["timestamp"] for row in kept] == complete.event_columns["time:timestamp"]
    both = parse_xes(path, lifecycle=["start", "schedule"])
    assert both.event_trace.shape == (expected["START"] + expected["SCHEDULE"],)


def test_events_outside_any_trace_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "stray.xes"
    path.write_text(
        '<log><event><string key="concept:name" value="x"/></event>'
        '<trace><string key="concept:name" value="c"/>'
        '<event><string key="concept:name" value="a"/></event></trace>'
        '<event><string key="concept:name" value="y"/></event></log>',
        encoding="utf-8",
    )
    columns = parse_xes(path)
    assert columns.orphan_events == 2
    assert columns.event_columns == {"concept:name": ["a"]}


def test_a_log_without_stray_events_counts_none(tmp_path: Path) -> None:
    path = tmp_path / "ok.xes"
    path.write_text(
        '<log><trace><string key="concept:name" value="c"/>'
        '<event><string key="concept:name" value="a"/></event></trace></log>',
        encoding="utf-8",
    )
    assert parse_xes(path).orphan_events == 0


# --------------------------------------------------------------------------------------------
# Hostile XML: no document type declaration, hence no entity is ever declared or expanded

BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE log [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<log><trace><string key="concept:name" value="&lol3;"/>
  <event><string key="concept:name" value="&lol3;"/></event></trace></log>
"""


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    # Before: ElementTree expanded the entities (3000 "lol"s per value; a deeper nesting
    # grows exponentially). Now the declaration is refused before any entity exists.
    with pytest.raises(
        InvalidLogError, match=r"document type declaration <!DOCTYPE \.\.\.> \(line 2\)"
    ):
        parse_xes(_write(tmp_path, BILLION_LAUGHS))


@pytest.mark.parametrize("name", ["log.xes", "log.xes.gz"])
def test_external_entity_is_refused_and_not_read(tmp_path: Path, name: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    text = (
        f'<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
        '<log><trace><string key="concept:name" value="c"/>'
        "<event><string key='concept:name' value='a'/>&xxe;</event></trace></log>"
    )
    with pytest.raises(InvalidLogError, match="Remove the <!DOCTYPE") as info:
        parse_xes(_write(tmp_path, text, name, compress=name.endswith(".gz")))
    assert "TOP-SECRET" not in str(info.value)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE log [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>',
        '<!DOCTYPE log SYSTEM "http://127.0.0.1:9/log.dtd">',
        "<!DOCTYPE log>",
    ],
)
def test_any_doctype_is_refused(tmp_path: Path, doctype: str) -> None:
    text = (
        f'<?xml version="1.0"?>\n{doctype}\n<log><trace><string key="k" value="v"/></trace></log>'
    )
    with pytest.raises(InvalidLogError, match=r"log\.xes' contains a document type declaration"):
        parse_xes(_write(tmp_path, text))


def test_predefined_and_character_entities_are_still_decoded(tmp_path: Path) -> None:
    text = """<log><trace><string key="concept:name" value="&quot;q&apos; &#x41;&#66;"/>
      <event><string key="concept:name" value="a &amp; b &lt;c&gt;"/></event></trace></log>"""
    columns = parse_xes(_write(tmp_path, text))
    assert columns.trace_columns == {"concept:name": ["\"q' AB"]}
    assert columns.event_columns == {"concept:name": ["a & b <c>"]}


def test_undefined_entity_is_malformed_xml(tmp_path: Path) -> None:
    text = '<log><trace><string key="concept:name" value="&nope;"/></trace></log>'
    with pytest.raises(InvalidLogError, match=r"undefined entity at line 1, column 12"):
        parse_xes(_write(tmp_path, text))


# --------------------------------------------------------------------------------------------
# The streaming column builder


def test_string_values_share_one_object_per_distinct_value(tmp_path: Path) -> None:
    text = """<log><trace><string key="concept:name" value="c"/>
      <event><string key="concept:name" value="lead"/><date key="t" value="2024-01-01"/></event>
      <event><string key="concept:name" value="won"/><date key="t" value="2024-01-01"/></event>
      <event><string key="concept:name" value="lead"/></event></trace></log>"""
    names = parse_xes(_write(tmp_path, text)).event_columns["concept:name"]
    assert names == ["lead", "won", "lead"]
    # One object per distinct string: less memory, and the log builder deduplicates by identity.
    assert names[0] is names[2]


def test_string_memo_reset_keeps_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("salesstd.io._xes._SHARED_MAX", 2)
    parts = ["<log>"]
    for trace in range(20):
        parts.append(f'<trace><string key="concept:name" value="c{trace}"/>')
        parts.extend(
            f'<event><string key="a" value="v{(trace * 3 + event) % 7}"/></event>'
            for event in range(3)
        )
        parts.append("</trace>")
    columns = parse_xes(_write(tmp_path, "".join([*parts, "</log>"])))
    assert columns.event_columns["a"] == [f"v{k % 7}" for k in range(60)]
    assert columns.trace_columns["concept:name"] == [f"c{k}" for k in range(20)]


def test_dropped_events_leave_no_column_and_no_value(tmp_path: Path) -> None:
    text = """<log><trace><string key="concept:name" value="c"/>
      <event><string key="only-in-start" value="1"/><string key="x" value="s"/>
        <string key="lifecycle:transition" value="start"/></event>
      <event><string key="y" value="2"/><string key="x" value="3"/></event>
      <event><string key="x" value="4"/><string key="lifecycle:transition" value="START"/>
        <string key="z" value="dropped"/></event>
      <event><string key="lifecycle:transition" value="Complete"/></event>
      <event><int key="lifecycle:transition" value="7"/><string key="y" value="5"/></event>
    </trace></log>"""
    columns = parse_xes(_write(tmp_path, text), lifecycle="complete")
    # Keys are ordered by their first kept event; keys of dropped events only are absent.
    assert columns.event_columns == {
        "y": ["2", None],
        "x": ["3", None],
        "lifecycle:transition": [None, "Complete"],
    }
    assert columns.event_trace.tolist() == [0, 0]
    assert list(parse_xes(_write(tmp_path, text), lifecycle="7").event_columns) == [
        "lifecycle:transition",
        "y",
    ]


def test_attribute_elements_in_any_layout(tmp_path: Path) -> None:
    text = """<log xmlns:x="urn:x"><trace><string value="c" key="concept:name"/>
      <event>
        <string value="v-first" key="a"/>
        <string key='b' extra="ignored" value='with extra'/>
        <x:string key="c" value="prefixed"/>
        <string key="d" value="nested"><string key="e" value="ignored"/></string>
        <!-- <string key="f" value="a comment"/> -->
        <string key="g"
                value="multi-line tag"/>
        <float key="h" value=" 2.5 "/>
        <int key="i" value="+3"/>
      </event>
      <event><string key="a" value="second"/><int key="a" value="9"/></event>
    </trace></log>"""
    columns = parse_xes(_write(tmp_path, text))
    assert columns.event_columns == {
        "a": ["v-first", 9],
        "b": ["with extra", None],
        "c": ["prefixed", None],
        "d": ["nested", None],
        "g": ["multi-line tag", None],
        "h": [2.5, None],
        "i": [3, None],
    }
    assert columns.trace_columns == {"concept:name": ["c"]}


# --------------------------------------------------------------------------------------------
# Differential test: the streaming parser against a plain reading of the documented semantics

_KINDS = ("string", "id", "date", "int", "float", "boolean", "list", "container", "unknown")
# Keys first met late and held by few events are stored sparsely: some keys are rare.
_KEYS = ("concept:name", "lifecycle:transition", "org:resource", "x", "y")
_RARE_KEYS = ("r1", "r2", "r3", "r4", "r5", "r6")
_TEXTS = ("a", "A b", "complete", "COMPLETE", "Start", "schedule", "é & <ü>", ' "q" ', "")


def _reference(data: bytes, wanted: frozenset[str] | None) -> XesColumns:
    """What parse_xes documents, computed from a whole ElementTree (test documents only)."""
    convert: dict[str, Callable[[str], object]] = {
        "int": int,
        "float": float,
        "boolean": lambda text: text.strip().lower() in {"true", "1"},
    }

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def read(element: ET.Element) -> dict[str, object]:
        out: dict[str, object] = {}
        for child in element:
            kind = local(child.tag)
            if kind not in _KINDS or kind == "unknown":
                continue
            key, text = child.get("key"), child.get("value")
            assert key is not None
            if text is None:
                if kind not in {"list", "container"}:
                    out[key] = None
                continue
            out[key] = convert[kind](text) if kind in convert else text
        return out

    def columns(
        rows: list[dict[str, object]],
    ) -> dict[str, list[object] | np.ndarray[Any, np.dtype[np.object_]]]:
        keys = dict.fromkeys(key for row in rows for key in row)
        return {key: [row.get(key) for row in rows] for key in keys}

    root = ET.fromstring(data)  # noqa: S314 - documents made by the test
    traces: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    event_trace: list[int] = []
    orphans = 0
    for element in root:
        if local(element.tag) == "event":
            orphans += 1
        if local(element.tag) != "trace":
            continue
        traces.append(read(element))
        for event in element:
            if local(event.tag) != "event":
                continue
            values = read(event)
            transition = values.get("lifecycle:transition")
            transition = "complete" if transition is None else transition
            if wanted is None or str(transition).lower() in wanted:
                events.append(values)
                event_trace.append(len(traces) - 1)
    return XesColumns(
        columns(events), columns(traces), np.asarray(event_trace, dtype=np.int64), orphans
    )


@st.composite
def _attribute_xml(draw: st.DrawFn, prefix: str) -> str:
    kind = draw(st.sampled_from(_KINDS))
    key = draw(st.sampled_from(_KEYS if draw(st.integers(0, 3)) else _RARE_KEYS))
    value: str | None
    if kind == "int":
        value = str(draw(st.integers(-(2**70), 2**70)))
    elif kind == "float":
        value = repr(draw(st.floats(allow_nan=False))).replace("inf", "INF")  # XES spelling
    elif kind == "boolean":
        value = draw(st.sampled_from(["true", "FALSE", "1", "0"]))
    else:
        value = draw(st.sampled_from(_TEXTS))
    if draw(st.integers(0, 5)) == 0:
        value = None
    parts = [f"key={quoteattr(key)}"] + ([f"value={quoteattr(value)}"] if value is not None else [])
    if draw(st.booleans()):
        parts.reverse()
    if draw(st.integers(0, 5)) == 0:
        parts.append('extra="e"')
    tag = prefix + kind
    if draw(st.integers(0, 4)) == 0:  # nested children are ignored, with or without a key
        return f'<{tag} {" ".join(parts)}><string key="n" value="v"/><int value="x"/></{tag}>'
    return f"<{tag} {' '.join(parts)}/>"


@st.composite
def _xes_documents(draw: st.DrawFn) -> str:
    style = draw(st.sampled_from(["plain", "default", "prefixed"]))
    prefix = "xes:" if style == "prefixed" else ""
    xmlns = {
        "plain": "",
        "default": ' xmlns="http://www.xes-standard.org/"',
        "prefixed": ' xmlns:xes="http://www.xes-standard.org/"',
    }[style]
    attribute = _attribute_xml(prefix)
    out = [
        f"<{prefix}log{xmlns}>",
        f'<{prefix}global scope="event">{draw(attribute)}</{prefix}global>',
    ]
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 6)) == 0:
            out.append(f"<{prefix}event>{draw(attribute)}</{prefix}event>")  # outside any trace
        out.append(f"<{prefix}trace>")
        for _ in range(draw(st.integers(0, 5))):
            if draw(st.booleans()):
                out.append(draw(attribute))
            else:
                body = draw(st.lists(attribute, max_size=5))
                if draw(st.integers(0, 5)) == 0:
                    body.insert(0, "<!-- a comment -->")
                out.append(f"<{prefix}event>{''.join(body)}</{prefix}event>")
        out.append(f"</{prefix}trace>")
    out.append(f"</{prefix}log>")
    return "\n".join(out)


def _same_columns(got: XesColumns, expected: XesColumns) -> None:
    for mine, theirs in (
        (got.event_columns, expected.event_columns),
        (got.trace_columns, expected.trace_columns),
    ):
        assert list(mine) == list(theirs)  # same keys in the same order
        for key in theirs:
            assert [(type(v), v) for v in mine[key]] == [(type(v), v) for v in theirs[key]]
    assert got.event_trace.tolist() == expected.event_trace.tolist()
    assert got.event_trace.dtype == np.int64
    assert got.orphan_events == expected.orphan_events


@settings(deadline=None, max_examples=150)
@given(
    text=_xes_documents(),
    lifecycle=st.sampled_from([None, "complete", ("start", "COMPLETE"), "schedule"]),
)
def test_matches_a_whole_tree_reading(text: str, lifecycle: str | tuple[str, ...] | None) -> None:
    wanted = (
        None
        if lifecycle is None
        else frozenset(
            [lifecycle.lower()] if isinstance(lifecycle, str) else [v.lower() for v in lifecycle]
        )
    )
    data = text.encode("utf-8")
    expected = _reference(data, wanted)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.xes"
        path.write_bytes(data)
        _same_columns(parse_xes(path, lifecycle=lifecycle), expected)


# --- gzip files are decompressed by zlib in a thread of their own, ahead of expat ------------


def _many_events(n_traces: int) -> str:
    """A compressible log of `n_traces` traces of three events each (several MiB unpacked)."""
    traces = "".join(
        f'<trace><string key="concept:name" value="c{t}"/>'
        + "".join(
            f'<event><string key="concept:name" value="step {e}"/>'
            f'<string key="lifecycle:transition" value="{"start" if e == 1 else "complete"}"/>'
            f'<int key="n" value="{t * 3 + e}"/>'
            f'<date key="time:timestamp" value="2020-01-01T00:00:{e:02d}.000+01:00"/></event>'
            for e in range(3)
        )
        + "</trace>"
        for t in range(n_traces)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><log xes.version="1.0">{traces}</log>'


@pytest.mark.slow
@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("bpic2012", "BPI_Challenge_2012.xes.gz"),
        ("bpic2019-1t-per-variant", "16_bpic2019_1t_per_variant.xes.gz"),
        ("helpdesk", "helpdesk.xes.gz"),
        ("receipt", "08_receipt.xes.gz"),
    ],
)
def test_real_gzip_log_reads_as_its_unpacked_copy(tmp_path: Path, folder: str, name: str) -> None:
    packed = _data_file(folder, name)
    plain = tmp_path / "plain.xes"
    plain.write_bytes(gzip.decompress(packed.read_bytes()))
    for lifecycle in (None, "complete"):
        _same_columns(parse_xes(packed, lifecycle=lifecycle), parse_xes(plain, lifecycle=lifecycle))


def test_gzip_blocks_and_progress_of_a_large_log(tmp_path: Path) -> None:
    text = _many_events(12_000)  # ~4.5 MiB unpacked, a few hundred KiB packed
    plain = _write(tmp_path, text, "plain.xes")
    packed = _write(tmp_path, text, "packed.xes.gz", compress=True)
    assert plain.stat().st_size > 4 * 2**20
    seen: list[tuple[int, int]] = []
    got = parse_xes(packed, lifecycle=["complete"], on_progress=lambda d, t: seen.append((d, t)))
    _same_columns(got, parse_xes(plain, lifecycle=["complete"]))
    assert got.event_trace.shape == (24_000,)
    assert got.event_columns["n"][:4] == [0, 2, 3, 5]
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert seen[-1] == (packed.stat().st_size, packed.stat().st_size)
    assert len(seen) >= 5  # one call per decompressed block of at most 1 MiB, and the last


def test_gzip_members_and_zero_padding(tmp_path: Path) -> None:
    data = _many_events(50).encode("utf-8")
    cut = len(data) // 3  # inside an element: members split bytes, not XML
    path = tmp_path / "members.xes.gz"
    path.write_bytes(gzip.compress(data[:cut]) + b"\0" * 7 + gzip.compress(data[cut:]) + b"\0" * 3)
    with gzip.open(path) as handle:  # what the standard library reads from it
        assert handle.read() == data
    _same_columns(parse_xes(path), parse_xes(_write(tmp_path, data.decode("utf-8"))))


@pytest.mark.parametrize(
    ("tail", "cause"),
    [
        (b"trailing garbage", OSError),  # not a gzip member: BadGzipFile, as gzip.GzipFile
        (b"\x1f", OSError),  # not the magic bytes either
        (b"\x1f\x8b\x07" + b"\0" * 7, OSError),  # a member with an unknown compression method
        (b"\x1f\x8b\x08\0", EOFError),  # a member cut inside its header
        (gzip.compress(b"<!-- more -->")[:-6], EOFError),  # a second member cut short
    ],
)
def test_bad_data_after_a_gzip_member(tmp_path: Path, tail: bytes, cause: type) -> None:
    path = tmp_path / "tail.xes.gz"
    path.write_bytes(gzip.compress(_many_events(3).encode("utf-8")) + tail)
    with pytest.raises(
        InvalidLogError, match=r"tail\.xes\.gz' is a truncated or corrupt gzip"
    ) as info:
        parse_xes(path)
    assert isinstance(info.value.__cause__, cause)
    with pytest.raises(cause), gzip.open(path) as handle:  # the standard library agrees
        handle.read()


def test_gzip_thread_ends_after_a_parse_error(tmp_path: Path) -> None:
    import threading  # noqa: PLC0415

    text = _many_events(20_000).replace('value="c5"/>', 'value="c5"/><broken', 1)
    path = _write(tmp_path, text, "broken.xes.gz", compress=True)
    with pytest.raises(InvalidLogError, match="is not well-formed XML"):
        parse_xes(path)
    assert not [t for t in threading.enumerate() if t.name == "salesstd-xes-gunzip"]
