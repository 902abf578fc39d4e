"""Exception and warning classes raised by salesstd.

Every error the library raises on purpose is a `SalesStdError`, and each also derives from the
built-in exception a caller would naturally catch (`ValueError`, `LookupError`, `ImportError`),
so ``except ValueError`` keeps working. Nothing in this module raises.
"""

from __future__ import annotations

__all__ = [
    "DroppedEventsWarning",
    "FunnelError",
    "InvalidLogError",
    "MissingDependencyError",
    "ParameterError",
    "SalesStdError",
    "SalesStdWarning",
    "SmallSampleWarning",
    "UnknownStageError",
    "VocabularyWarning",
]


class SalesStdError(Exception):
    """Base class of every error salesstd raises on purpose."""


class InvalidLogError(SalesStdError, ValueError):
    """The event data cannot form a log: missing column, null id, bad timestamp, bad file."""


class FunnelError(SalesStdError, ValueError):
    """A funnel definition is inconsistent: unknown stage in an edge, no won outcome, ..."""


class UnknownStageError(SalesStdError, LookupError):
    """A stage or activity name that the funnel or log does not have.

    Attributes:
        name: The name that was not found (None when the raiser did not set it).
        known: The names that would have been accepted (may be empty).

    Examples:
        >>> import salesstd as ss
        >>> f = ss.Funnel.linear(["lead", "won"])
        >>> try:
        ...     f.stage("led")
        ... except ss.UnknownStageError as err:
        ...     print(err.name, err.known)
        led ('lead', 'won')
    """

    def __init__(
        self, message: str, *, name: object = None, known: tuple[object, ...] = ()
    ) -> None:
        super().__init__(message)
        self.name = name
        self.known = tuple(known)


class ParameterError(SalesStdError, ValueError, TypeError):
    """An option has a value or type that the function does not accept.

    Attributes:
        parameter: The name of the offending parameter or option, when known, else None.

    Examples:
        >>> import salesstd as ss
        >>> try:
        ...     ss.stats.proportion_interval(3, 10, confidence_level=2)
        ... except ss.ParameterError as err:
        ...     print(err.parameter)
        confidence_level
    """

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class MissingDependencyError(SalesStdError, ImportError):
    """An optional extra is needed and not installed; the message names the pip command."""


class SalesStdWarning(UserWarning):
    """Base class of every warning salesstd issues."""


class SmallSampleWarning(SalesStdWarning):
    """An estimate rests on so few cases that its interval is very wide."""


class DroppedEventsWarning(SalesStdWarning):
    """Rows were dropped because the caller asked for it (``on_invalid="drop"``)."""


class VocabularyWarning(SalesStdWarning):
    """A funnel's names and a log's activities do not line up.

    Raised when a stage or outcome never occurs in the log, or a log activity nearly matches
    a stage name without being one (``'Won'`` against ``'Closed Won'``, ``'Diseno'`` against
    ``'Diseño'``). The message names the closest names; the attributes carry them.

    Attributes:
        name: The funnel's name (stage, outcome) or the log's activity the warning is about.
        closest: The names on the other side that nearly match it (may be empty).
    """

    def __init__(self, message: str, *, name: str = "", closest: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.closest = closest
