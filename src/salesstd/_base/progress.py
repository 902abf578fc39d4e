"""Progress bars for long reads, drawn by tqdm (the ``progress`` extra) on stderr.

`progress_bar` returns an object with ``update(n)`` and ``close()``; when progress is off
it is a no-op, so readers call it unconditionally. ``progress=True`` without tqdm installed
raises `MissingDependencyError` naming the install; ``progress=None`` (the CLI's default)
draws a bar only when tqdm is installed and stderr is a terminal.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from salesstd.errors import MissingDependencyError, ParameterError

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["ProgressBar", "check_progress", "progress_bar"]


class ProgressBar:
    """A tqdm bar, or nothing when progress is off."""

    def __init__(self, bar: object | None) -> None:
        self._bar = bar

    def set_total(self, total: int | None) -> None:
        """Set the bar's total once it is known (e.g. after reading a file's metadata)."""
        if self._bar is not None:
            self._bar.total = total  # type: ignore[attr-defined]
            self._bar.refresh()  # type: ignore[attr-defined]

    def update(self, n: int) -> None:
        if self._bar is not None and n:
            self._bar.update(n)  # type: ignore[attr-defined]

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()  # type: ignore[attr-defined]
            self._bar = None

    def __enter__(self) -> ProgressBar:  # noqa: PYI034 - final class
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def check_progress(value: object) -> bool | None:
    """`progress` as given: True, False or None (automatic); anything else is refused."""
    if value is None or isinstance(value, bool):
        return value
    raise ParameterError(
        f"progress must be True, False or None (a bar only on a terminal); got {value!r}.",
        parameter="progress",
    )


def progress_bar(
    progress: bool | None,  # noqa: FBT001 - the caller's option, passed on
    *,
    total: int | None,
    desc: str,
    unit: str,
) -> ProgressBar:
    """A bar of `total` `unit`s labelled `desc`, or a no-op when progress is off.

    Raises:
        MissingDependencyError: If `progress` is True and tqdm is not installed.
    """
    if progress is False:
        return ProgressBar(None)
    if progress is None and not _stderr_is_terminal():
        return ProgressBar(None)
    try:
        tqdm = importlib.import_module("tqdm")
    except ImportError as err:
        if progress is None:
            return ProgressBar(None)
        raise MissingDependencyError(
            "progress=True draws a bar with tqdm, which is not installed; "
            "pip install 'salesstd[progress]' (or pip install tqdm)."
        ) from err
    scale = unit == "B"
    bar = tqdm.tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=scale,
        unit_divisor=1024 if scale else 1000,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    )
    return ProgressBar(bar)


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False
