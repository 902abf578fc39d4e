"""Input checks and the wording of their messages.

Every public function validates its arguments here, once, at the boundary; inner helpers trust
their inputs. Messages follow one pattern: what is wrong, the offending value, how to fix it.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Collection, Iterable, Sequence
from typing import Literal, TypeVar

from salesstd.errors import InvalidLogError, ParameterError, UnknownStageError

T = TypeVar("T")

OnInvalid = Literal["raise", "drop"]


def caller_stacklevel() -> int:
    """The `warnings.warn` stacklevel that points at the first frame outside salesstd."""
    level = 1
    frame = sys._getframe(1)  # noqa: SLF001
    while frame is not None and frame.f_globals.get("__name__", "").startswith("salesstd"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def did_you_mean(value: object, choices: Iterable[object]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or an empty string."""
    names = [str(c) for c in choices]
    close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def listing(values: Iterable[object], *, limit: int = 12) -> str:
    """Join values for a message, eliding the tail of a long list."""
    items = [str(v) for v in values]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f", ... ({len(items)} in all)"
    return ", ".join(items)


def require_column(name: str, columns: Sequence[str], *, param: str, where: str = "data") -> None:
    """Raise `InvalidLogError` if `name` is not among `columns`, suggesting the fix."""
    if name in columns:
        return
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.5)
    fix = f" Pass {param}={close[0]!r}." if close else f" Pass {param}= one of them."
    raise InvalidLogError(f"column {name!r} not found; the {where} has {listing(columns)}.{fix}")


def on_invalid(value: object) -> OnInvalid:
    """Check the `on_invalid` option."""
    if value == "raise":
        return "raise"
    if value == "drop":
        return "drop"
    raise ParameterError(
        f"on_invalid must be 'raise' or 'drop'; got {value!r}. "
        "Pass on_invalid='drop' to drop offending rows with a warning."
    )


def choice(name: str, value: object, allowed: Collection[T]) -> T:
    """Return `value` if it is one of `allowed`, else raise `ParameterError`."""
    for option in allowed:
        if value == option:
            return option
    raise ParameterError(
        f"{name} must be one of {listing(repr(a) for a in allowed)}; got {value!r}."
        + did_you_mean(value, allowed)
    )


def positive_int(name: str, value: object) -> int:
    """Return `value` if it is an int >= 1 (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name} must be a whole number >= 1; got {value!r}.")
    return value


def fraction(name: str, value: object, *, inclusive: bool = False) -> float:
    """Return `value` as a float in (0, 1), or [0, 1] if `inclusive`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a number between 0 and 1; got {value!r}.")
    number = float(value)
    ok = 0.0 <= number <= 1.0 if inclusive else 0.0 < number < 1.0
    if not ok:
        bounds = "(inclusive)" if inclusive else "(exclusive)"
        hint = ""
        if 1.0 < number <= 100.0:  # noqa: PLR2004 - a percentage passed by mistake
            hint = f" For {number:g}% pass {number / 100:g}."
        raise ParameterError(f"{name} must be between 0 and 1 {bounds}; got {value!r}.{hint}")
    return number


def known_names(kind: str, names: Iterable[object], known: Sequence[object]) -> None:
    """Raise `UnknownStageError` for the first name not in `known`."""
    known_set = set(known)
    for name in names:
        if name not in known_set:
            raise UnknownStageError(
                f"{kind} {name!r} is not in the {'funnel' if kind == 'stage' else 'log'} "
                f"({listing(known)}).{did_you_mean(name, known)}"
            )


def string_list(name: str, value: str | Iterable[str] | None) -> list[str] | None:
    """Normalise a column-name option that may be one name or several."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    out = list(value)
    for item in out:
        if not isinstance(item, str):
            raise ParameterError(f"{name} must name columns as strings; got {item!r}.")
    return out
