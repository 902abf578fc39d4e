"""Input checks and the wording of their messages.

Every public function validates its arguments here, once, at the boundary; inner helpers trust
their inputs. Messages follow one pattern: what is wrong, the offending value, how to fix it.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import NDArray

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


def positive_number(name: str, value: object) -> float:
    """Return `value` as a float if it is a finite number > 0 (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name} must be a positive number; got {value!r}.")
    number = float(value)
    if not np.isfinite(number) or number <= 0:
        raise ParameterError(f"{name} must be a positive number; got {value!r}.")
    return number


def numeric_case_attribute(
    param: str,
    name: object,
    case_attributes: Mapping[str, NDArray[Any]],
    event_attributes: Collection[str] = (),
) -> NDArray[np.float64]:
    """The case attribute `name` as float64, missing values NaN.

    Raises:
        ParameterError: If `name` is not a case attribute, or it holds non-numbers.
    """
    known = list(case_attributes)
    if not isinstance(name, str) or name not in case_attributes:
        extra = ""
        if isinstance(name, str) and name in event_attributes:
            extra = f" {name!r} is an event attribute; {param} needs a case attribute."
        raise ParameterError(
            f"{param}={name!r} is not a case attribute of the log "
            f"({listing(known) or 'it has none'}).{did_you_mean(name, known)}{extra}"
        )
    values = case_attributes[name]
    kind = values.dtype.kind
    if kind in "iuf":
        return np.asarray(values, dtype=np.float64)
    if kind == "O":
        missing = np.fromiter(
            (x is None or (isinstance(x, float) and x != x) for x in values),  # noqa: PLR0124
            dtype=bool,
            count=values.size,
        )
        numeric = np.fromiter(
            (
                isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
                for x in values
            ),
            dtype=bool,
            count=values.size,
        )
        bad = ~(missing | numeric)
        if not bad.any():
            out = np.full(values.size, np.nan, dtype=np.float64)
            out[numeric] = values[numeric].astype(np.float64)
            return out
        example = values[int(np.flatnonzero(bad)[0])]
    else:
        example = values[0] if values.size else None
    raise ParameterError(
        f"{param}={name!r} must be a numeric case attribute; it holds "
        f"{type(example).__name__} values such as {example!r}. Convert it to numbers "
        "when building the log, or pick another attribute."
    )


def stage_mapping(
    param: str, value: object, stages: Sequence[str], open_stages: Sequence[str]
) -> dict[str, object]:
    """Check a ``{stage: value}`` option whose keys must be open stages; return it as a dict.

    Raises:
        ParameterError: If `value` is not a mapping, or a key is an outcome.
        UnknownStageError: If a key is not a stage of the funnel.
    """
    if not isinstance(value, Mapping):
        raise ParameterError(
            f"{param} must be a mapping from stage name to value; got {type(value).__name__}. "
            f"Pass e.g. {param}={{{open_stages[0]!r}: ...}}."
        )
    out = dict(value)
    known_names("stage", out, stages)
    for key in out:
        if key not in open_stages:
            raise ParameterError(
                f"{param} names {key!r}, an outcome; it applies to the open stages "
                f"({listing(open_stages)})."
            )
    return out


def result_stage(name: object, stages: Sequence[str], outcomes: Collection[str] = ()) -> int:
    """Index of `name` among the open `stages` a result has rows for.

    Raises:
        UnknownStageError: If `name` is not one of them (an outcome is named as one).
    """
    for i, stage in enumerate(stages):
        if name == stage:
            return i
    if isinstance(name, str) and name in outcomes:
        raise UnknownStageError(
            f"stage {name!r} is an outcome; the result has rows for the open stages "
            f"({listing(stages)})."
        )
    raise UnknownStageError(
        f"stage {name!r} is not an open stage of the funnel ({listing(stages)})."
        + did_you_mean(name, stages)
    )


def result_label(kind: str, value: object, labels: Sequence[object], *, fix: str) -> int:
    """Index of `value` among a result's row labels of one kind (its groups or periods).

    Raises:
        ParameterError: If `value` is not one of them; the message ends with `fix`.
    """
    for i, label in enumerate(labels):
        if label is value or (label is not None and value is not None and bool(label == value)):
            return i
    raise ParameterError(
        f"{kind} {value!r} is not in the result ({listing(labels)}); {fix}."
        + did_you_mean(value, labels)
    )


def not_split(name: str, value: object, option: str) -> ParameterError:
    """The error for selecting a row by `name` in a result not split by `option`."""
    return ParameterError(
        f"{name}={value!r} was given, but the result was computed with {option}=None; "
        f"leave {name} out, or recompute with {option}=... ."
    )


def non_empty(name: str, values: Collection[object], *, example: str) -> None:
    """Raise `ParameterError` if the collection option `name` is empty."""
    if not values:
        raise ParameterError(f"{name} must hold at least one value; got none. Pass e.g. {example}.")


def random_seed(name: str, value: object) -> int | None:
    """Return `value` if it is None or a whole number >= 0 (a seed for numpy's generator)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ParameterError(
            f"{name} must be a whole number >= 0, or None for fresh randomness; got {value!r}."
        )
    return int(value)


def unknown_key(where: str, key: object, allowed: Sequence[str]) -> ParameterError:
    """The error for a key of a definition (a dict, a TOML table) that is not one of `allowed`.

    `where` is the key path of the table (``"rules"``, ``"kpis[2]"``; ``""`` at the top).
    """
    path = f"{where}.{key}" if where else str(key)
    table = f"the {where!r} table" if where else "the top level"
    return ParameterError(
        f"{path} is not a known key; {table} takes {listing(allowed)}." + did_you_mean(key, allowed)
    )


def nonnegative_number(name: str, value: object) -> float:
    """Return `value` as a float if it is a finite number >= 0 (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name} must be a number >= 0; got {value!r}.")
    number = float(value)
    if not np.isfinite(number) or number < 0:
        raise ParameterError(f"{name} must be a finite number >= 0; got {value!r}.")
    return number


def standard(value: object) -> None:
    """Check that `value` is a `Standard` (which checked its rules against its funnel).

    Raises:
        ParameterError: If it is not.
    """
    from salesstd.standard import Standard  # noqa: PLC0415 - standard imports this module

    if not isinstance(value, Standard):
        raise ParameterError(
            f"standard must be a Standard (a funnel with its rules); got {type(value).__name__}. "
            "Build one with ss.Standard(funnel, ss.Rules(...)) or ss.Standard.from_log(...)."
        )
