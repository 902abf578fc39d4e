"""The bundled Maven CRM sales-opportunities data: raw tables and an event log built from them.

The four CSV files ship unchanged in ``data/maven_crm.zip`` (public domain; provenance in the
archive's ``PROVENANCE.md``). They are parsed with the standard library's `csv` and numpy, so
no DataFrame library is needed; pandas or polars only come in for `CrmTables.to_frame`.
"""

from __future__ import annotations

import csv
import functools
import io
import types
import zipfile
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import validation as v
from salesstd._base.frames import FrameBackend, make_frame
from salesstd.log import EventLog

__all__ = ["CrmTables", "load_crm_opportunities", "load_crm_tables"]

CrmTable = Literal["sales_pipeline", "accounts", "products", "sales_teams"]

_ARCHIVE = "maven_crm.zip"
_TABLES: tuple[CrmTable, ...] = ("sales_pipeline", "accounts", "products", "sales_teams")

# Spelling differences in the source files, corrected in the event log (never in the raw
# tables): the pipeline writes the product "GTX Pro" as "GTXPro", and accounts.csv misspells
# one sector and one country.
PRODUCT_FIXES: Mapping[str, str] = types.MappingProxyType({"GTXPro": "GTX Pro"})
SECTOR_FIXES: Mapping[str, str] = types.MappingProxyType({"technolgy": "technology"})
LOCATION_FIXES: Mapping[str, str] = types.MappingProxyType({"Philipines": "Philippines"})

# Column parsers: text keeps empty cells as None; numbers and dates use NaN / NaT for them.


def _text(cells: list[str]) -> NDArray[np.object_]:
    out = np.empty(len(cells), dtype=object)
    out[:] = [c if c != "" else None for c in cells]
    return out


def _float(cells: list[str]) -> NDArray[np.float64]:
    return np.array([float(c) if c != "" else np.nan for c in cells], dtype=np.float64)


def _int(cells: list[str]) -> NDArray[np.int64]:
    return np.array([int(c) for c in cells], dtype=np.int64)


def _date(cells: list[str]) -> NDArray[np.datetime64]:
    return np.array([c if c != "" else "NaT" for c in cells], dtype="datetime64[D]")


_Parser = Callable[[list[str]], NDArray[Any]]

_SCHEMA: Mapping[CrmTable, Mapping[str, _Parser]] = {
    "sales_pipeline": {
        "opportunity_id": _text,
        "sales_agent": _text,
        "product": _text,
        "account": _text,
        "deal_stage": _text,
        "engage_date": _date,
        "close_date": _date,
        "close_value": _float,
    },
    "accounts": {
        "account": _text,
        "sector": _text,
        "year_established": _int,
        "revenue": _float,
        "employees": _int,
        "office_location": _text,
        "subsidiary_of": _text,
    },
    "products": {"product": _text, "series": _text, "sales_price": _int},
    "sales_teams": {"sales_agent": _text, "manager": _text, "regional_office": _text},
}


def _readonly(arr: NDArray[Any]) -> NDArray[Any]:
    arr.flags.writeable = False
    return arr


def _parse(text: str, schema: Mapping[str, _Parser]) -> Mapping[str, NDArray[Any]]:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    if header != list(schema):  # pragma: no cover - guards the bundled file only
        msg = f"bundled CRM file has columns {header}; expected {list(schema)}"
        raise RuntimeError(msg)
    columns = list(zip(*body, strict=True)) if body else [() for _ in header]
    return types.MappingProxyType(
        {
            name: _readonly(parse(list(col)))
            for (name, parse), col in zip(schema.items(), columns, strict=True)
        }
    )


@functools.lru_cache(maxsize=1)
def _read_tables() -> CrmTables:
    """Parse the bundled archive once per process; the result is immutable, so it is shared."""
    archive = resources.files("salesstd.datasets").joinpath("data").joinpath(_ARCHIVE)
    with archive.open("rb") as handle, zipfile.ZipFile(handle) as zf:
        texts = {name: zf.read(f"{name}.csv").decode("utf-8") for name in _TABLES}
    parsed = {name: _parse(texts[name], _SCHEMA[name]) for name in _TABLES}
    return CrmTables(**parsed)


@attrs.frozen(repr=False)
class CrmTables:
    """The four raw tables of the Maven CRM data, as read-only numpy columns.

    Values are exactly as in the source files (including the ``GTXPro`` / ``GTX Pro`` and
    ``technolgy`` spellings); only the types are set: text is an object array with ``None``
    for an empty cell, dates are ``datetime64[D]`` with ``NaT``, ``close_value`` and
    ``revenue`` are float64 with NaN, the other numbers int64.

    Attributes:
        sales_pipeline: 8,800 opportunities: ``opportunity_id``, ``sales_agent``,
            ``product``, ``account``, ``deal_stage`` (Prospecting, Engaging, Won, Lost),
            ``engage_date``, ``close_date``, ``close_value``.
        accounts: 85 customer accounts: ``account``, ``sector``, ``year_established``,
            ``revenue``, ``employees``, ``office_location``, ``subsidiary_of``.
        products: 7 products: ``product``, ``series``, ``sales_price``.
        sales_teams: 35 sales agents: ``sales_agent``, ``manager``, ``regional_office``.

    Examples:
        >>> tables = ss.datasets.load_crm_tables()
        >>> tables
        CrmTables(sales_pipeline=8800 rows, accounts=85 rows, products=7 rows, sales_teams=35 rows)
        >>> tables.products["product"].tolist()[:2]
        ['GTX Basic', 'GTX Pro']
    """

    sales_pipeline: Mapping[str, NDArray[Any]]
    accounts: Mapping[str, NDArray[Any]]
    products: Mapping[str, NDArray[Any]]
    sales_teams: Mapping[str, NDArray[Any]]

    def table(self, name: CrmTable) -> Mapping[str, NDArray[Any]]:
        """One table by name.

        Args:
            name: ``"sales_pipeline"``, ``"accounts"``, ``"products"`` or ``"sales_teams"``.

        Returns:
            Column name to read-only numpy array, in file order.

        Raises:
            ParameterError: If `name` is not one of the four tables.
        """
        chosen = v.choice("table", name, _TABLES)
        columns: Mapping[str, NDArray[Any]] = getattr(self, chosen)
        return columns

    def to_frame(self, name: CrmTable, *, backend: FrameBackend = "pandas") -> Any:  # noqa: ANN401
        """One table as a DataFrame.

        Args:
            name: ``"sales_pipeline"``, ``"accounts"``, ``"products"`` or ``"sales_teams"``.
            backend: ``"pandas"`` or ``"polars"``.

        Returns:
            A DataFrame of the chosen library, one row per line of the source file.

        Raises:
            ParameterError: If `name` is not one of the four tables.
            MissingDependencyError: If that library is not installed.

        Examples:
            >>> ss.datasets.load_crm_tables().to_frame("sales_teams").shape
            (35, 3)
        """
        return make_frame(self.table(name), backend=backend)

    def __repr__(self) -> str:
        sizes = ", ".join(
            f"{name}={next(iter(getattr(self, name).values())).size} rows" for name in _TABLES
        )
        return f"CrmTables({sizes})"


def load_crm_tables() -> CrmTables:
    """The four raw tables of the bundled Maven CRM data, unmodified.

    The data is "CRM Sales Opportunities" from the Maven Analytics Data Playground (public
    domain): 8,800 B2B opportunities of a fictitious computer-hardware company, October 2016
    to December 2017, with its accounts, products and sales teams. Use the tables to see what
    `load_crm_opportunities` left out or corrected. Parsed once per process and shared (the
    arrays are read-only).

    Returns:
        The tables as numpy columns; ``to_frame(name)`` gives a DataFrame.

    Examples:
        >>> pipeline = ss.datasets.load_crm_tables().sales_pipeline
        >>> int((pipeline["deal_stage"] == "Prospecting").sum())
        500
    """
    return _read_tables()


def load_crm_opportunities() -> EventLog:
    """The Maven CRM opportunities as an event log: an engage event and a close event per deal.

    The source records no stage history, only two dates per deal, so each deal becomes:

    * an ``Engaging`` event at its ``engage_date`` (midnight UTC), then
    * a ``Won`` or ``Lost`` event at its ``close_date``, for the 6,711 closed deals.

    The 1,589 deals whose ``deal_stage`` is ``Engaging`` have no close date: they are open
    (right-censored at the end of the data, 2017-12-31) and have the ``Engaging`` event only.
    The 500 ``Prospecting`` deals have neither date; an event needs a time, so they are **not
    in the log** (the log has 8,300 of the 8,800 deals). They are still in
    ``load_crm_tables().sales_pipeline`` for anyone who wants to count them, e.g. as deals in
    a stage before ``Engaging`` at an unknown time. The matching funnel is
    ``Funnel.linear(["Engaging", "Won"], lost="Lost")`` (or with ``"Prospecting"`` first, a
    stage no case in this log has entered).

    Case attributes, one value per deal, joined from the other tables:

    * from the pipeline: ``deal_stage`` (Engaging, Won or Lost), ``sales_agent``,
      ``product``, ``account``, ``close_value`` (float; NaN for open deals, 0 for lost ones);
    * from ``sales_teams`` on the agent: ``manager``, ``regional_office``;
    * from ``products`` on the product: ``series``, ``sales_price`` (int);
    * from ``accounts`` on the account: ``sector``, ``year_established``, ``revenue``,
      ``employees`` (floats, NaN where unknown), ``office_location``, ``subsidiary_of``.

    1,425 open or prospecting deals have no account in the source; their ``account`` and the
    account attributes are ``None`` / NaN (1,088 of them are in the log). Three spellings
    are corrected explicitly, in the log only: product ``GTXPro`` (as the pipeline writes
    it) becomes ``GTX Pro`` (as ``products.csv`` writes it, so the join finds its series and
    price), sector ``technolgy`` becomes ``technology`` and office location ``Philipines``
    becomes ``Philippines``. Nothing else is changed or dropped.

    Returns:
        The log: 8,300 cases, 15,011 events, activities ``Engaging``, ``Lost``, ``Won``.

    Examples:
        >>> log = ss.datasets.load_crm_opportunities()
        >>> log
        EventLog(cases=8300, events=15011, activities=3, span='2016-10-20 .. 2017-12-31')
        >>> sorted(set(log.case_attributes["product"].tolist()))[:3]
        ['GTK 500', 'GTX Basic', 'GTX Plus Basic']
    """
    tables = _read_tables()
    deals = tables.sales_pipeline
    stage = deals["deal_stage"]
    engaged = ~np.isnat(deals["engage_date"])
    closed = ~np.isnat(deals["close_date"])
    keep = np.flatnonzero(engaged)
    ends = np.flatnonzero(closed)

    case_ids = np.concatenate([deals["opportunity_id"][keep], deals["opportunity_id"][ends]])
    activity = np.concatenate(
        [np.full(keep.size, "Engaging", dtype=object), stage[ends].astype(object)]
    )
    time = np.concatenate([deals["engage_date"][keep], deals["close_date"][ends]])
    rows = np.concatenate([keep, ends])  # source row of each event

    per_deal = _case_attributes(tables)
    return EventLog.from_arrays(
        case=case_ids,
        activity=activity,
        time=time.astype("datetime64[ns]"),
        case_attributes={name: col[rows] for name, col in per_deal.items()},
    )


def _case_attributes(tables: CrmTables) -> dict[str, NDArray[Any]]:
    """Per source row of the pipeline, every case attribute (joins and spelling fixes)."""
    deals = tables.sales_pipeline
    product = _fix(deals["product"], PRODUCT_FIXES)
    teams = _lookup(tables.sales_teams, "sales_agent", deals["sales_agent"])
    products = _lookup(tables.products, "product", product)
    accounts = _lookup(tables.accounts, "account", deals["account"])
    return {
        "deal_stage": deals["deal_stage"],
        "sales_agent": deals["sales_agent"],
        "manager": teams["manager"],
        "regional_office": teams["regional_office"],
        "product": product,
        "series": products["series"],
        "sales_price": products["sales_price"],
        "account": deals["account"],
        "sector": _fix(accounts["sector"], SECTOR_FIXES),
        "year_established": accounts["year_established"],
        "revenue": accounts["revenue"],
        "employees": accounts["employees"],
        "office_location": _fix(accounts["office_location"], LOCATION_FIXES),
        "subsidiary_of": accounts["subsidiary_of"],
        "close_value": deals["close_value"],
    }


def _fix(values: NDArray[np.object_], fixes: Mapping[str, str]) -> NDArray[np.object_]:
    out: NDArray[np.object_] = values.copy()
    for wrong, right in fixes.items():
        out[values == wrong] = right
    return out


def _lookup(
    table: Mapping[str, NDArray[Any]], key: str, wanted: NDArray[np.object_]
) -> dict[str, NDArray[Any]]:
    """Left join: for each of `wanted`, the other columns of `table` where `key` matches.

    Unmatched or missing keys give None in text columns and NaN in numeric ones (integer
    columns become float then). Every present key matches in the bundled data.
    """
    index = {k: i for i, k in enumerate(table[key].tolist())}
    pos = np.array([index.get(k, -1) for k in wanted.tolist()], dtype=np.intp)
    missing = pos < 0
    out: dict[str, NDArray[Any]] = {}
    for name, col in table.items():
        if name == key:
            continue
        picked = col[pos]
        if missing.any():
            picked = picked.astype(object if col.dtype.kind == "O" else np.float64)
            picked[missing] = None if col.dtype.kind == "O" else np.nan
        out[name] = picked
    return out
