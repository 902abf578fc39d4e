"""Input checks and the wording of their messages.

Every public function validates its arguments here, once, at the boundary; inner helpers trust
their inputs. Messages follow one pattern: what is wrong, the offending value, how to fix it.
"""

from __future__ import annotations

import difflib
import functools
import json
import sys
import unicodedata
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeGuard, TypeVar, cast, overload

import numpy as np
from numpy.typing import NDArray

from salesstd.errors import InvalidLogError, ParameterError, UnknownStageError

T = TypeVar("T")
E = TypeVar("E", bound=Exception)
F = TypeVar("F", bound=Callable[..., Any])


def names_parameter(check: F) -> F:
    """Give a `ParameterError` raised by `check` the parameter it is about (its first argument).

    The checks below take the parameter's name first; an error they raise without
    ``parameter`` set gets it here, so callers can read ``err.parameter``.
    """

    @functools.wraps(check)
    def checked(name: object, *args: object, **kwargs: object) -> object:
        try:
            return check(name, *args, **kwargs)
        except ParameterError as err:
            if err.parameter is None and isinstance(name, str):
                err.parameter = name
            raise

    return cast("F", checked)


OnInvalid = Literal["raise", "drop"]


class JsonTable(dict[str, object]):
    """A JSON object as parsed by `Standard.from_json`: a dict that remembers a repeated key.

    `json.loads` keeps the last of two equal keys; built through `from_pairs` (its
    ``object_pairs_hook``) the table records the first repeated key instead, and
    `refuse_duplicates` then names its key path.
    """

    duplicate: str | None = None

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, object]]) -> JsonTable:
        """The table of `pairs`, with `duplicate` set to the first key given twice."""
        table = cls(pairs)
        if len(table) != len(pairs):
            seen: set[str] = set()
            table.duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return table


def _refuse_duplicates(label: str, data: object, error: type[Exception]) -> None:
    """Raise `ParameterError` naming the key path of the first key a JSON object repeats.

    Walks the parsed tree without recursion (its depth is whatever the text had).
    """
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, JsonTable):
            if node.duplicate is not None:
                where = f"{path}.{node.duplicate}" if path else node.duplicate
                raise error(f"{label} gives the key {where} twice; keep one of them.")
            stack.extend((f"{path}.{k}" if path else k, x) for k, x in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", x) for i, x in reversed(list(enumerate(node))))


def too_deep(label: str, error: type[E] = ParameterError) -> E:  # type: ignore[assignment]
    """The error for a definition nested deeper than Python's parsers go."""
    return error(
        f"{label} is nested too deeply to read (thousands of levels); a definition needs "
        "three or four. Check the text is the definition it should be."
    )


def json_loads(label: str, text: object, *, error: type[Exception] = ParameterError) -> object:
    """Parse JSON definition text at the boundary, refusing what `json.loads` lets through.

    A key repeated in one object is refused with its key path (`json.loads` keeps the last
    silently; TOML refuses too); text nested too deeply for the parser, text that is not a
    str, and invalid JSON raise `error` naming `label` instead of a foreign exception.

    Raises:
        ParameterError: If `text` is not a str (or bytes).
        Exception: `error` for the rest.

    Examples:
        >>> json_loads("funnel JSON", '{"a": {"b": 1, "b": 2}}')
        Traceback (most recent call last):
        ...
        salesstd.errors.ParameterError: funnel JSON gives the key a.b twice; keep one of them.
    """
    if not isinstance(text, (str, bytes, bytearray)):
        raise ParameterError(
            f"text must be JSON text (a str); got {type(text).__name__}. To build from a dict, "
            "use from_dict(...).",
            parameter="text",
        )
    try:
        data = json.loads(text, object_pairs_hook=JsonTable.from_pairs)
    except json.JSONDecodeError as err:
        raise error(
            f"{label} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}."
        ) from err
    except RecursionError as err:
        raise too_deep(label, error) from err
    except UnicodeDecodeError as err:
        raise error(f"{label} is not UTF-8 text ({err}).") from err
    _refuse_duplicates(label, data, error)
    return data


def caller_stacklevel() -> int:
    """The `warnings.warn` stacklevel that points at the first frame outside salesstd."""
    level = 1
    frame = sys._getframe(1)  # noqa: SLF001
    while frame is not None and frame.f_globals.get("__name__", "").startswith("salesstd"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def did_you_mean(value: object, choices: Iterable[object]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or an empty string.

    When the two look the same (they differ only in Unicode normalisation) it says so.
    """
    names = [str(c) for c in choices]
    close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
    if not close:
        return ""
    return f" Did you mean {close[0]!r}?" + normalisation_note(str(value), close[0])


def _unicode_form(text: str) -> str:
    if unicodedata.is_normalized("NFC", text):
        return "NFC"
    return "NFD" if unicodedata.is_normalized("NFD", text) else "neither NFC nor NFD"


def normalisation_note(
    given: str, other: str, *, given_at: str = "as given", other_at: str = "as suggested"
) -> str:
    r"""A sentence for two names that differ only in Unicode normalisation, else "".

    ``'Diseño'`` typed on a Mac (NFD: ``n`` + a combining tilde) and on Windows (NFC: one
    ``ñ``) look the same in a message; this says which is which so the reader can see why
    they do not match.

    Examples:
        >>> note = normalisation_note("Dise\u00f1o", "Disen\u0303o")
        >>> "differ only in Unicode normalisation: NFC vs NFD" in note
        True
        >>> normalisation_note("Lead", "lead")
        ''
    """
    if given == other or unicodedata.normalize("NFC", given) != unicodedata.normalize("NFC", other):
        return ""
    return (
        f" ({given!r} {given_at} and {other!r} {other_at} differ only in Unicode "
        f"normalisation: {_unicode_form(given)} vs {_unicode_form(other)}; write both the "
        "same way, e.g. unicodedata.normalize('NFC', name).)"
    )


def listing(values: Iterable[object], *, limit: int = 12) -> str:
    """Join values for a message, eliding the tail of a long list."""
    items = [str(v) for v in values]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f", ... ({len(items)} in all)"
    return ", ".join(items)


@names_parameter
def require_column(name: str, columns: Collection[str], *, param: str, where: str = "data") -> None:
    """Raise `InvalidLogError` if `name` is not among `columns`, suggesting the fix.

    `columns` is listed in its own order in the message; pass one whose membership test is
    a hash lookup (a dict's keys) when it can hold thousands of names.
    """
    if name in columns:
        return
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.5)
    fix = f" Pass {param}={close[0]!r}." if close else f" Pass {param}= one of them."
    raise InvalidLogError(f"column {name!r} not found; the {where} has {listing(columns)}.{fix}")


def on_invalid(value: object) -> OnInvalid:
    """Check the `on_invalid` option."""
    if isinstance(value, str) and value in ("raise", "drop"):
        return cast("OnInvalid", value)
    got = repr(value) if isinstance(value, str) else described(value)
    raise ParameterError(
        f"on_invalid must be 'raise' or 'drop'; got {got}. "
        "Pass on_invalid='drop' to drop offending rows with a warning.",
        parameter="on_invalid",
    )


def described(value: object) -> str:
    """A value for a message: its type and a short repr (``ndarray array(['a', 'b'])``)."""
    if value is None:
        return "None"
    one_line = " ".join(part.strip() for part in short(value, limit=200).splitlines())
    limit = 60
    cut = one_line if len(one_line) <= limit else f"{one_line[: limit - 3]}..."
    return f"{type(value).__name__} {cut}"


@names_parameter
def text(name: str, value: object, *, what: str, known: Sequence[object] = ()) -> str:
    """Return `value` if it is a str, else raise `ParameterError` naming what it got.

    For an option that names one thing (a KPI, a stage to start from): `what` says what,
    `known` lists the names it may take.
    """
    if isinstance(value, str):
        return value
    among = f" ({listing(known)})" if known else ""
    raise ParameterError(
        f"{name} must be one {what} (a str){among}; got {described(value)}.", parameter=name
    )


def is_one_value(value: object) -> bool:
    """True for one hashable value; False for a container, a generator or an unhashable.

    A str or bytes is one value; a list, tuple, set, dict, numpy array (0-d too), pandas
    Series or generator is several (or cannot be compared as one), so an option or lookup
    that expects one value refuses it instead of letting ``==`` broadcast. So is a value
    whose ``==`` answers no True or False (`pandas.NA`, whose comparisons are NA).
    """
    if isinstance(value, (str, bytes)):
        return True
    if not isinstance(value, Hashable) or isinstance(value, Iterable):
        return False
    try:
        return isinstance(value == value, (bool, np.bool_))  # noqa: PLR0124 - NA's == is NA
    except Exception:  # noqa: BLE001 - a hostile __eq__ is not one comparable value
        return False


@names_parameter
def choice(name: str, value: object, allowed: Collection[T]) -> T:
    """Return `value` if it is one of `allowed`, else raise `ParameterError`.

    `value` must have the type of the choices (a str for words) before it is compared, so
    an array, a Series or a list is refused by name instead of broadcasting ``==``.
    """
    options = f"{name} must be one of {listing(repr(a) for a in allowed)}"
    kinds = tuple({type(a) for a in allowed})
    if not isinstance(value, kinds) or not is_one_value(value):
        kind = " or ".join(sorted(k.__name__ for k in kinds))
        raise ParameterError(
            f"{options}; got {described(value)}. Pass one of them, as a {kind}.", parameter=name
        )
    for option in allowed:
        if value == option:
            return option
    raise ParameterError(
        f"{options}; got {value!r}." + did_you_mean(value, allowed),
        parameter=name,
    )


@names_parameter
def one_value(name: str, value: object, *, kind: str, many: str = "") -> object:
    """Return `value` if it is one value (see `is_one_value`), else raise `ParameterError`.

    For lookups of one id or name (``log.events(case)``): the message names `kind` and, in
    `many`, the way to ask for several.
    """
    if is_one_value(value):
        return value
    raise ParameterError(
        f"{name} must be one {kind}; got {described(value)}.{' ' + many if many else ''}",
        parameter=name,
    )


@names_parameter
def positive_int(
    name: str,
    value: object,
    *,
    limit: int | None = None,
    unit: str = "",
    why: str | None = None,
) -> int:
    """Return `value` as an int if it is a whole number >= 1 (numpy ints taken, bools refused).

    With `limit`, larger values are refused too: a count that sizes arrays (simulations,
    bootstrap replicates) is capped before numpy is asked for the memory. `unit` names what
    is counted in that message (``"simulations"``); `why` says why there is a limit
    (default: beyond it the answer no longer changes).
    """
    if not is_whole(value) or value < 1:
        raise ParameterError(f"{name} must be a whole number >= 1; got {value!r}.", parameter=name)
    number = int(value)
    if limit is not None and number > limit:
        what = f" {unit}" if unit else ""
        reason = why or (
            f"beyond {limit:,} the answer no longer changes, the memory and the time do"
        )
        raise ParameterError(
            f"{name} must be at most {limit:,}{what}; got {short(value)}. "
            f"Pass a smaller {name}: {reason}.",
            parameter=name,
        )
    return number


def is_whole(value: object) -> TypeGuard[int | np.integer[Any]]:
    """True for a Python or numpy integer; False for bools and `numpy.timedelta64`.

    (numpy makes `timedelta64` a subclass of `numpy.signedinteger`, and `bool` is an `int`:
    neither is a count or a seed.)
    """
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_, np.timedelta64)
    )


def is_real(value: object) -> TypeGuard[float | np.integer[Any] | np.floating[Any]]:
    """True for a Python or numpy number (int or float); False for bools and timedeltas."""
    return is_whole(value) or isinstance(value, (float, np.floating))


def as_float(value: float | np.integer[Any] | np.floating[Any]) -> float:
    """`float(value)`, with ints too large for a float (a 400-digit number) as +-inf.

    Callers check `numpy.isfinite` and refuse with their own message.
    """
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


@names_parameter
def fraction(name: str, value: object, *, inclusive: bool = False) -> float:
    """Return `value` as a float in (0, 1), or [0, 1] if `inclusive`."""
    if not is_real(value):
        raise ParameterError(
            f"{name} must be a number between 0 and 1; got {short(value)}.", parameter=name
        )
    number = as_float(value)
    ok = 0.0 <= number <= 1.0 if inclusive else 0.0 < number < 1.0
    if not ok:
        bounds = "(inclusive)" if inclusive else "(exclusive)"
        hint = ""
        if 1.0 < number <= 100.0:  # noqa: PLR2004 - a percentage passed by mistake
            hint = f" For {number:g}% pass {number / 100:g}."
        raise ParameterError(
            f"{name} must be between 0 and 1 {bounds}; got {short(value)}.{hint}", parameter=name
        )
    return number


def known_names(kind: str, names: Iterable[object], known: Sequence[object]) -> None:
    """Raise `UnknownStageError` for the first name not in `known`.

    Raises:
        ParameterError: If a name is several (a list, an array: `is_one_value` is False).
        UnknownStageError: If a name is not in `known`.
    """
    known_set = set(known)
    for name in names:
        if not is_one_value(name):
            raise ParameterError(
                f"{kind} must be one {kind} name, not several; got {described(name)}. "
                f"Look up one {kind} at a time.",
                parameter=kind,
            )
        if name not in known_set:
            raise UnknownStageError(
                f"{kind} {name!r} is not in the {'funnel' if kind == 'stage' else 'log'} "
                f"({listing(known)}).{did_you_mean(name, known)}",
                name=name,
                known=tuple(known),
            )


@names_parameter
def string_list(name: str, value: str | Iterable[str] | None) -> list[str] | None:
    """Normalise a column-name option that may be one name or several."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    out = list(value)
    for item in out:
        if not isinstance(item, str):
            raise ParameterError(
                f"{name} must name columns as strings; got {item!r}.", parameter=name
            )
    return out


MAX_DAYS = 36_525
"""The longest duration option or rule taken, in days (100 years): a longer window, horizon,
history or dwell limit reaches past the times a log can hold, and in nanoseconds past int64."""

MAX_NUMBER = 1e15
"""The largest KPI target, tolerance or weight taken: past it a number is a typo or junk."""

MAX_STAGES = 2_000
"""The most stages (open ones and outcomes) a Markov chain is built for: its matrices are
dense, ``S x S`` for ``S`` stages (31 MB at 2,000, solved in seconds); at 10,000 they would
take 763 MB each. A sales funnel has a dozen stages; thousands mean activities were taken
as stages."""


def _at_most(name: str, value: object, number: float, limit: float | None, unit: str) -> None:
    if limit is not None and number > limit:
        raise ParameterError(
            f"{name} must be at most {limit:g}{unit}; got {short(value)}.", parameter=name
        )


@names_parameter
def positive_number(
    name: str, value: object, *, limit: float | None = None, unit: str = ""
) -> float:
    """Return `value` as a float if it is a finite number > 0 (bools refused).

    With `limit`, larger numbers are refused too (`unit` is put after it in the message).
    """
    if not is_real(value):
        raise ParameterError(
            f"{name} must be a positive number; got {short(value)}.", parameter=name
        )
    number = as_float(value)
    if not np.isfinite(number) or number <= 0:
        raise ParameterError(
            f"{name} must be a positive number; got {short(value)}.", parameter=name
        )
    _at_most(name, value, number, limit, unit)
    return number


@names_parameter
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
            f"({listing(known) or 'it has none'}).{did_you_mean(name, known)}{extra}",
            parameter=param,
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
        "when building the log, or pick another attribute.",
        parameter=param,
    )


@names_parameter
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
            f"Pass e.g. {param}={{{open_stages[0]!r}: ...}}.",
            parameter=param,
        )
    out = dict(value)
    known_names("stage", out, stages)
    for key in out:
        if key not in open_stages:
            raise ParameterError(
                f"{param} names {key!r}, an outcome; it applies to the open stages "
                f"({listing(open_stages)}).",
                parameter=param,
            )
    return out


def result_stage(
    name: object,
    stages: Sequence[str],
    outcomes: Collection[str] = (),
    *,
    param: str = "stage",
) -> int:
    """Index of `name` among the open `stages` a result has rows for.

    Raises:
        ParameterError: If `name` is a container (a list, an array): one stage at a time.
        UnknownStageError: If `name` is not one of them (an outcome is named as one).
    """
    one_value(param, name, kind="stage name (a str)", many="Look up one stage at a time.")
    if isinstance(name, str):
        for i, stage in enumerate(stages):
            if name == stage:
                return i
    if isinstance(name, str) and name in outcomes:
        raise UnknownStageError(
            f"stage {name!r} is an outcome; the result has rows for the open stages "
            f"({listing(stages)}).",
            name=name,
            known=tuple(stages),
        )
    raise UnknownStageError(
        f"stage {name!r} is not an open stage of the funnel ({listing(stages)})."
        + did_you_mean(name, stages),
        name=name,
        known=tuple(stages),
    )


def result_label(kind: str, value: object, labels: Sequence[object], *, fix: str) -> int:
    """Index of `value` among a result's row labels of one kind (its groups or periods).

    Raises:
        ParameterError: If `value` is not one of them (or not one value); the message ends
            with `fix`.
    """
    one_value(kind, value, kind="label", many=f"Look up one {kind} at a time; {fix}.")
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
        f"leave {name} out, or recompute with {option}=... .",
        parameter=name,
    )


@names_parameter
def non_empty(name: str, values: Collection[object], *, example: str) -> None:
    """Raise `ParameterError` if the collection option `name` is empty."""
    if not values:
        raise ParameterError(
            f"{name} must hold at least one value; got none. Pass e.g. {example}.", parameter=name
        )


@overload
def random_seed(name: str, value: object, *, optional: Literal[True] = ...) -> int | None: ...
@overload
def random_seed(name: str, value: object, *, optional: Literal[False]) -> int: ...
@names_parameter
def random_seed(name: str, value: object, *, optional: bool = True) -> int | None:
    """Check a seed for ``numpy.random.default_rng``: a whole number >= 0 (or None if `optional`).

    Every function that takes a seed checks it here, so ``seed=np.int64(3)`` is taken and
    ``seed=-1`` refused alike everywhere. Returns the seed as a Python int.
    """
    if value is None and optional:
        return None
    if not is_whole(value) or value < 0:
        none = ", or None for fresh randomness" if optional else ""
        raise ParameterError(
            f"{name} must be an int >= 0{none}; got {short(value)}. "
            f"Pass e.g. {name}=0 to make the random draws repeatable.",
            parameter=name,
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


@names_parameter
def nonnegative_number(
    name: str, value: object, *, limit: float | None = None, unit: str = ""
) -> float:
    """Return `value` as a float if it is a finite number >= 0 (bools refused).

    With `limit`, larger numbers are refused too (`unit` is put after it in the message).
    """
    if not is_real(value):
        raise ParameterError(f"{name} must be a number >= 0; got {short(value)}.", parameter=name)
    number = as_float(value)
    if not np.isfinite(number) or number < 0:
        raise ParameterError(
            f"{name} must be a finite number >= 0; got {short(value)}.", parameter=name
        )
    _at_most(name, value, number, limit, unit)
    return number


_BUILD_HINTS = {
    "EventLog": "Build one with ss.read_csv(...), ss.EventLog.from_frame(...) or "
    "ss.EventLog.from_records(...).",
    "Funnel": "Build one with ss.Funnel.linear([...], won=..., lost=...) or "
    "ss.Funnel.discover(log, won=...).",
    "Standard": "Build one with ss.Standard(funnel, ss.Rules(...)), ss.Standard.from_log(...) "
    "or ss.Standard.from_toml(path).",
}


def short(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters (a 400-digit number or a log's repr)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


@names_parameter
def instance(name: str, value: object, cls: type[T], *, fix: str | None = None) -> T:
    """Return `value` if it is an instance of `cls`, else raise `ParameterError`.

    The one type check of the data arguments of public functions (``log``, ``funnel``,
    ``standard``): the caller passes the class in, so this module imports nothing above it.
    The message names the argument, what it got, and how to build the right thing (`fix`,
    or a default for the library's own classes).

    Raises:
        ParameterError: If `value` is not a `cls`.

    Examples:
        >>> instance("n", "3", int, fix="Pass n=3.")
        Traceback (most recent call last):
        ...
        salesstd.errors.ParameterError: n must be an int; got str '3'. Pass n=3.
    """
    if isinstance(value, cls):
        return value
    kind = cls.__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    got = "None" if value is None else type(value).__name__
    hint = _BUILD_HINTS.get(kind, "") if fix is None else fix
    if got in _BUILD_HINTS and got != kind:
        hint = f"Are the arguments in the wrong order? {hint}".rstrip()
    shown = "" if value is None else f" {short(value)}"
    message = f"{name} must be {article} {kind}; got {got}{shown}."
    raise ParameterError(f"{message} {hint}".rstrip())
