"""Pay periods: a year, a quarter, a month or an explicit date range."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def year_days(self) -> int:
        """Days in the calendar year the period starts in: the basis of annual proration."""
        return 366 if calendar.isleap(self.start.year) else 365

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def parse_period(text: str) -> Period:
    """Parse ``2026``, ``2026-Q3``, ``2026-07`` or ``2026-01-01..2026-06-30``.

    Raises ValueError with a message a user can act on.
    """
    text = str(text).strip()
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return Period(text, date(year, 1, 1), date(year, 12, 31))
    if m := _QUARTER.match(text):
        year, q = int(m.group(1)), int(m.group(2))
        start = date(year, 3 * q - 2, 1)
        end_month = 3 * q
        end = date(year, end_month, calendar.monthrange(year, end_month)[1])
        return Period(f"{year}-Q{q}", start, end)
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"period '{text}': month must be 01-12")
        return Period(
            text, date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        )
    if m := _RANGE.match(text):
        try:
            start, end = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        except ValueError as exc:
            raise ValueError(f"period '{text}': {exc}") from exc
        if end < start:
            raise ValueError(f"period '{text}': ends before it starts")
        return Period(text, start, end)
    raise ValueError(
        f"period '{text}' not understood; use 2026, 2026-Q3, 2026-07 or 2026-01-01..2026-06-30"
    )


def overlap_days(a_start: date, a_end: date, b_start: date | None, b_end: date | None) -> int:
    """Days in [a_start, a_end] ∩ [b_start, b_end] (None = open-ended)."""
    start = max(a_start, b_start) if b_start else a_start
    end = min(a_end, b_end) if b_end else a_end
    return max(0, (end - start).days + 1)


def window_starts(period: Period, reset: str) -> list[date]:
    """Start dates of tier-reset windows (monthly / quarterly / annual) inside the period."""
    if reset == "annual":
        step_months = 12
    elif reset == "quarterly":
        step_months = 3
    else:
        step_months = 1
    starts: list[date] = []
    day = date(period.start.year, 1, 1)
    while day <= period.end:
        if day >= period.start:
            starts.append(day)
        month = day.month - 1 + step_months
        day = date(day.year + month // 12, month % 12 + 1, 1)
    if not starts or starts[0] != period.start:
        starts.insert(0, period.start)
    return starts


def window_end(start: date, reset: str, period: Period) -> date:
    months = {"annual": 12, "quarterly": 3}.get(reset, 1)
    anchor_month = start.month - 1
    if reset == "annual":
        nxt = date(start.year + 1, 1, 1)
    else:
        aligned = anchor_month - (anchor_month % months)
        month = aligned + months
        nxt = date(start.year + month // 12, month % 12 + 1, 1)
    return min(nxt - timedelta(days=1), period.end)
