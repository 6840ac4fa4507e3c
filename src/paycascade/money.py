"""Exact money.

Amounts in the ledger are integer cents.  Intermediate quantities (wRVUs, rates, shares) are
:class:`~decimal.Decimal`; an amount becomes cents exactly once, when it is posted, by the
workspace's declared rounding mode (``half_up`` by default, or ``half_even``).  Pools are split
with :func:`allocate`, the largest-remainder method, so the parts always add up to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

RoundingMode = Literal["half_up", "half_even"]
_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)


#: numbers are below this in magnitude: a quadrillion dollars, units or members is a typo
#: (and a wider number would lose digits in the 28-digit arithmetic of amounts)
NUMBER_LIMIT = Decimal(10) ** 15


class TooLarge(ValueError):
    """A number of :data:`NUMBER_LIMIT` or more in magnitude (see :func:`D`)."""


_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")


def D(value: object) -> Decimal:
    """Parse a number exactly.  Floats go through ``repr`` so 0.1 stays 0.1.  Text may carry a
    ``$`` and thousands separators (``$1,250,000.00``); a comma anywhere else (``48,50``, a
    decimal comma) or an underscore is refused rather than guessed, as are NaN, infinities and
    magnitudes of :data:`NUMBER_LIMIT` or more (ValueError)."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.replace("$", "").strip()  # $1,000, -$1,000, $-1,000, $ 30,000
        if "_" in text or ("," in text and not _GROUPED.fullmatch(text)):
            raise ValueError(f"{value!r} is not a number")
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
    else:
        raise TypeError(f"{value!r} is not a number")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if abs(number) >= NUMBER_LIMIT:
        raise TooLarge(f"{value!r} is too large a number (at most 15 digits before the point)")
    return number


def to_cents(amount: Decimal, mode: RoundingMode = "half_up") -> int:
    """Round a Decimal dollar amount to integer cents by the declared mode."""
    return int((amount / CENT).quantize(ONE, rounding=_MODES[mode]))


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)


def fmt_cents(cents: int, *, symbol: bool = True) -> str:
    """``123456789`` → ``$1,234,567.89`` (negative as ``-$1.00``)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{'$' if symbol else ''}{whole:,}.{frac:02d}"


def plain_cents(cents: int) -> str:
    """``123456789`` → ``1234567.89``: the machine form used in CSV files."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def fmt_decimal(value: Decimal, places: int = 2) -> str:
    """A quantity with thousands separators, e.g. wRVUs ``10,432.10``."""
    q = Decimal(1).scaleb(-places)
    return f"{value.quantize(q, rounding=ROUND_HALF_UP):,.{places}f}"


def fmt_quantity(value: Decimal) -> str:
    """A quantity exactly as computed, at least two decimals: ``10,432.10``, ``1,234.5678``.

    Used for wRVUs and prorated bounds in explanations, so the printed numbers multiply out to
    the posted amount."""
    exact = value.normalize()
    exponent = exact.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:,.{places}f}"


def fmt_rate(value: Decimal) -> str:
    """A money rate as it is applied, at least two decimals: ``$52.00``, ``$48.005`` (a
    sub-cent rate shown rounded to ``$48.01`` would not multiply out to the posted amount)."""
    return "$" + fmt_quantity(value)


def fmt_pct(value: Decimal) -> str:
    """``0.7`` → ``70%``; ``0.125`` → ``12.5%``."""
    pct = (value * 100).normalize()
    text = f"{pct:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def allocate(total_cents: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split ``total_cents`` in proportion to ``weights`` by the largest-remainder method.

    The parts sum to ``total_cents`` exactly.  Ties in the remainders go to the earlier
    position, so the result is deterministic for a given order.  Zero total weight gives
    all zeros (the caller decides where an unallocatable amount goes).  Negative totals are
    split as their absolute value and negated.
    """
    if total_cents < 0:
        return [-p for p in allocate(-total_cents, weights)]
    ws = [D(w) for w in weights]
    if any(w < 0 for w in ws):
        raise ValueError("allocation weights must be >= 0")
    wsum = sum(ws, ZERO)
    if wsum == 0 or total_cents == 0:
        return [0] * len(ws)
    exact = [Decimal(total_cents) * w / wsum for w in ws]
    floors = [int(e) for e in exact]  # exact >= 0, so int() is floor
    short = total_cents - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return floors
