"""Helpers shared by the metrics modules: groups (`by=`), periods, durations in days."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from salesstd import _columns
from salesstd import _validate as v
from salesstd.errors import ParameterError

if TYPE_CHECKING:
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


def groups(log: EventLog, by: str | None) -> Groups:
    """Group the cases of `log` by the case attribute `by` (or one group of all cases).

    Raises:
        ParameterError: If `by` is not a case attribute of the log.
    """
    if by is None:
        return Groups(name=None, labels=(None,), of_case=np.zeros(log.n_cases, dtype=np.int32))
    if not isinstance(by, str) or by not in log.case_attributes:
        known = list(log.case_attributes)
        extra = ""
        if isinstance(by, str) and by in log.event_attributes:
            extra = f" {by!r} is an event attribute; group by a case attribute instead."
        raise ParameterError(
            f"by={by!r} is not a case attribute of the log "
            f"({v.listing(known) or 'it has none'}).{v.did_you_mean(by, known)}{extra}"
        )
    values = log.case_attributes[by]
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


def period_label(start_ns: int) -> str:
    """ISO date of a period start."""
    return str(np.datetime64(int(start_ns), "ns").astype("datetime64[D]"))


def days(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A duration option (timedelta or number of days) as float days, refusing <= 0.

    Raises:
        ParameterError: If `value` is not a positive duration.
    """
    if isinstance(value, dt.timedelta):
        number = value.total_seconds() / 86_400
    elif isinstance(value, np.timedelta64):
        number = float(value / np.timedelta64(1, "ns")) / _NS_PER_DAY
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise ParameterError(
            f"{name} must be a timedelta or a number of days; got {value!r}. "
            f"For 30 days pass {name}=30 or {name}=datetime.timedelta(days=30)."
        )
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ParameterError(f"{name} must be a positive duration; got {value!r}.")
    return number


def ns_to_days(ns: Any) -> Any:  # noqa: ANN401 - scalar or array
    """Nanoseconds to float days."""
    return np.asarray(ns, dtype=np.float64) / _NS_PER_DAY
