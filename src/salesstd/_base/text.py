"""Numbers in sentences for people: 3 significant digits, plurals, percent vs points, days.

Private; the sentences of `salesstd.bottleneck` use it, other modules may. Every function
returns ``"n/a"`` for a number that is not finite (NaN, infinite).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["count", "days", "number", "percent", "plural", "points"]

_NA = "n/a"
_WHOLE = 100  # from here on, numbers show as whole numbers with thousands separators


def number(x: float) -> str:
    """A number with 3 significant digits, whole with separators from 100 up.

    Never in scientific notation; ``-0`` shows as ``0``.

    Examples:
        >>> number(0.98612), number(7.5), number(68.96), number(1234.5), number(-19.94)
        ('0.986', '7.5', '69', '1,234', '-19.9')
        >>> number(0.0000123), number(-0.0001), number(float("nan"))
        ('0.0000123', '-0.0001', 'n/a')
    """
    x = float(x)
    if not math.isfinite(x):
        return _NA
    if abs(x) >= _WHOLE - 0.5:
        out = f"{round(x):,}"
    else:
        out = np.format_float_positional(x, precision=3, unique=True, fractional=False, trim="-")
    return "0" if out in {"-0", "0.", "-0."} else out


def count(n: float) -> str:
    """A count of things: whole with thousands separators, else as `number`.

    Examples:
        >>> count(61), count(12_345), count(2.5)
        ('61', '12,345', '2.5')
    """
    n = float(n)
    if math.isfinite(n) and n == round(n):
        return f"{round(n):,}"
    return number(n)


def plural(n: float, word: str, many: str | None = None) -> str:
    """`n` and `word`, in the plural unless `n` shows as exactly 1 (or -1).

    Args:
        n: The number.
        word: The singular.
        many: The plural, when it is not `word` + "s".

    Examples:
        >>> plural(1, "stay"), plural(1.0004, "stay"), plural(2, "deal"), plural(0.5, "day")
        ('1 stay', '1 stay', '2 deals', '0.5 days')
        >>> plural(3, "opportunity", "opportunities")
        '3 opportunities'
    """
    shown = count(n)
    one = shown in {"1", "-1"}
    return f"{shown} {word if one else (many or word + 's')}"


def percent(x: float) -> str:
    """A fraction (0.464) as a percent ("46.4%"), 3 significant digits.

    Examples:
        >>> percent(0.4642), percent(1.0), percent(0.5), percent(0.00762)
        ('46.4%', '100%', '50%', '0.762%')
    """
    return _NA if not math.isfinite(float(x)) else number(100 * float(x)) + "%"


def points(x: float) -> str:
    """A difference of two fractions in percentage points ("40 percentage points").

    Examples:
        >>> points(0.4), points(0.01), points(-0.123)
        ('40 percentage points', '1 percentage point', '-12.3 percentage points')
    """
    return _NA if not math.isfinite(float(x)) else plural(100 * float(x), "percentage point")


def days(x: float) -> str:
    """A duration in days ("1 day", "2.5 days", "69 days").

    Examples:
        >>> days(1), days(68.96), days(0.25)
        ('1 day', '69 days', '0.25 days')
    """
    return _NA if not math.isfinite(float(x)) else plural(x, "day")
