"""Helpers shared by the metrics modules: groups (`by=`), periods, durations in days."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd._base import columns as _columns
from salesstd._base import timestamps as _time
from salesstd._base import validation as v
from salesstd.errors import ParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from salesstd.log import EventLog

Period = Literal["day", "week", "month", "quarter", "year"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "quarter", "year")

_NS_PER_DAY = 86_400 * 1_000_000_000
_MONDAY_OFFSET_DAYS = 4  # 1970-01-01 was a Thursday; the first Monday is day 4


@attrs.frozen
class Groups:
    """Cases split by a case attribute.

    Attributes:
        name: The attribute (``None`` when not grouped: one group holding every case).
        labels: Group labels in sorted order (Python values; a missing value is ``None``,
            placed last).
        of_case: Group code of each case (index into `labels`).
    """

    name: str | None
    labels: tuple[object, ...]
    of_case: NDArray[np.int32]

    @property
    def n(self) -> int:
        """Number of groups."""
        return len(self.labels)


def groups(log: EventLog, by: str | None, *, param: str = "by") -> Groups:
    """Group the cases of `log` by the attribute `by` (or one group of all cases).

    `by` is a case attribute, or an event attribute that takes one value on every event of
    each deal (checked in one vectorised pass; a missing value counts as a value).

    Args:
        log: The log whose cases are grouped.
        by: Attribute name, or ``None`` for one group of every case.
        param: How the option is named in error messages (``"--by"`` on the command line).

    Raises:
        ParameterError: If `by` is not an attribute of the log, or is an event attribute that
            changes within a deal (naming the first such deal and its two values).
    """
    if by is None:
        return Groups(name=None, labels=(None,), of_case=np.zeros(log.n_cases, dtype=np.int32))
    values = case_values(log, by, param=param)
    missing = _columns.null_mask(values)
    present = np.flatnonzero(~missing)
    codes = np.full(values.size, -1, dtype=np.int32)
    labels: list[object] = []
    if present.size:
        uniques, inverse = _columns.factorize(_columns.homogeneous(values[present], name=by))
        codes[present] = inverse
        labels = _columns.to_object(uniques).tolist()
    if missing.any():
        codes[missing] = len(labels)
        labels.append(None)
    return Groups(name=by, labels=tuple(labels), of_case=codes)


def case_values(log: EventLog, by: str, *, param: str = "by") -> NDArray[Any]:
    """One value of `by` per case: a case attribute, or an event attribute constant per case.

    Raises:
        ParameterError: If `by` is neither, or is an event attribute that changes within a
            deal.
    """
    if isinstance(by, str) and by in log.case_attributes:
        return log.case_attributes[by]
    if not isinstance(by, str) or by not in log.event_attributes:
        case_known, event_known = list(log.case_attributes), list(log.event_attributes)
        raise ParameterError(
            f"{param}={by!r} is not an attribute of the log (case attributes: "
            f"{v.listing(case_known) or 'none'}; event attributes: "
            f"{v.listing(event_known) or 'none'}).{v.did_you_mean(by, case_known + event_known)}",
            parameter=param,
        )
    values = log.event_attributes[by]
    clash = _first_change(values, log.case)
    if clash >= 0:
        deal = log.case_names[log.case[clash]]
        raise ParameterError(
            f"{param}={by!r} is an event attribute that changes within deal {deal!r} "
            f"({values[clash]!r} then {values[clash + 1]!r}); grouping needs one value per "
            "deal. Choose another column (case attributes: "
            f"{v.listing(log.case_attributes) or 'none'}), or make the column hold one "
            "value per deal (the owner at close, say) and read it as a case attribute "
            f"(case_attributes=[{by!r}], or --case-attributes {by} on the command line).",
            parameter=param,
        )
    return values[log.offsets[:-1]]


def _first_change(values: NDArray[Any], case: NDArray[np.int32]) -> int:
    """Index of the first event whose value differs from the next event's in its case, or -1.

    Two missing values are equal. Vectorised: one comparison of neighbours; missing values
    are looked at only where that comparison says "different" (NaN != NaN), and values that
    refuse comparison (pandas NA) fall back to comparing the present ones.
    """
    if values.size < 2:  # noqa: PLR2004
        return -1
    a, b = values[:-1], values[1:]
    same_case = case[:-1] == case[1:]
    try:
        with np.errstate(invalid="ignore"):
            unequal = np.asarray(a != b, dtype=bool)
    except (TypeError, ValueError):  # pandas.NA refuses bool()
        unequal = np.ones(a.size, dtype=bool)
    candidate = np.flatnonzero(same_case & unequal)
    if not candidate.size:
        return -1
    a_missing = _columns.null_mask(a[candidate])
    b_missing = _columns.null_mask(b[candidate])
    both = np.flatnonzero(~a_missing & ~b_missing)
    differ = a_missing != b_missing
    differ[both] = np.asarray(a[candidate[both]] != b[candidate[both]], dtype=bool)
    hit = candidate[differ]
    return int(hit[0]) if hit.size else -1


def period_start(ns: NDArray[np.int64], period: str) -> NDArray[np.int64]:
    """Start (ns UTC) of the calendar period holding each time; weeks start on Monday.

    Raises:
        ParameterError: If `period` is not one of day, week, month, quarter, year.
    """
    v.choice("period", period, PERIODS)
    stamps = ns.view("datetime64[ns]")
    if period == "day":
        out = stamps.astype("datetime64[D]")
    elif period == "week":
        days = stamps.astype("datetime64[D]").view(np.int64)
        monday = (days - _MONDAY_OFFSET_DAYS) // 7 * 7 + _MONDAY_OFFSET_DAYS
        out = monday.view("datetime64[D]")
    elif period == "month":
        out = stamps.astype("datetime64[M]")
    elif period == "quarter":
        months = stamps.astype("datetime64[M]").view(np.int64)
        out = (months // 3 * 3).view("datetime64[M]")
    else:
        out = stamps.astype("datetime64[Y]")
    return np.asarray(out.astype("datetime64[ns]").view(np.int64), dtype=np.int64)


STEP: Mapping[str, tuple[str, int]] = {
    "day": ("D", 1),
    "week": ("D", 7),
    "month": ("M", 1),
    "quarter": ("M", 3),
    "year": ("Y", 1),
}


def period_edges(first: int, last: int, period: str) -> NDArray[np.int64]:
    """Starts (ns) of the periods from the one holding `first` to one past the one of `last`."""
    lo, hi = period_start(np.array([first, last], dtype=np.int64), period).tolist()
    unit, step = STEP[period]
    a = np.datetime64(lo, "ns").astype(f"datetime64[{unit}]")
    b = np.datetime64(hi, "ns").astype(f"datetime64[{unit}]")
    edges = np.arange(a, b + 2 * step, step)
    return np.asarray(edges.astype("datetime64[ns]").view(np.int64), dtype=np.int64)


def period_label(start_ns: int) -> str:
    """ISO date of a period start."""
    return str(np.datetime64(int(start_ns), "ns").astype("datetime64[D]"))


MAX_DAYS = v.MAX_DAYS


def days(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A duration option (timedelta or number of days) as float days, refusing <= 0.

    Durations longer than `MAX_DAYS` (100 years) are refused as well: they say nothing a
    100-year one does not, and in nanoseconds they would overflow.

    Raises:
        ParameterError: If `value` is not a positive duration of at most 100 years.
    """
    if isinstance(value, dt.timedelta):
        number = value.total_seconds() / 86_400
    elif isinstance(value, np.timedelta64):
        number = _timedelta64_days(value)
    elif v.is_real(value):
        number = v.as_float(value)
    else:
        raise ParameterError(
            f"{name} must be a timedelta or a number of days; got {v.short(value)}. "
            f"For 30 days pass {name}=30 or {name}=datetime.timedelta(days=30).",
            parameter=name,
        )
    if number > MAX_DAYS:  # +inf too: a 400-digit number of days is a huge one, not junk
        raise ParameterError(
            f"{name} must be at most {MAX_DAYS} days (100 years); got {v.short(value)}. "
            f"Pass a duration in days, e.g. {name}=30.",
            parameter=name,
        )
    if not number >= 0 or (number == 0 and not allow_zero):  # NaN fails `>=`
        raise ParameterError(
            f"{name} must be a positive duration; got {v.short(value)}.", parameter=name
        )
    return number


def _timedelta64_days(value: np.timedelta64) -> float:
    """Float days of a `numpy.timedelta64`, read from its own unit (no cast that can wrap).

    NaT and units without a fixed length (months, years, generic) give NaN, which the caller
    refuses.
    """
    return _time.timedelta64_seconds(value) / 86_400


def ns_to_days(ns: Any) -> Any:  # noqa: ANN401 - scalar or array
    """Nanoseconds to float days."""
    return np.asarray(ns, dtype=np.float64) / _NS_PER_DAY
