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
        """The basis of annual proration: the days of the year that starts on the period's first
        day (365 or 366).  So a full calendar year or a full fiscal year (July–June, including a
        February 29 or not) pays exactly the annual amount."""
        return (add_months(self.start, 12) - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


#: the years a period may fall in (a period's windows, terms and the year after it must be
#: dates Python can hold)
FIRST_YEAR, LAST_YEAR = 1900, 2999
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def parse_period(text: str) -> Period:
    """Parse ``2026``, ``2026-Q3``, ``2026-07`` or ``2026-01-01..2026-06-30``.

    Raises ValueError with a message a user can act on.
    """
    text = str(text).strip()
    for pattern in (_YEAR, _QUARTER, _MONTH, _RANGE):
        if m := pattern.match(text):
            for year in (g[:4] for g in m.groups() if len(g) >= 4):
                if not FIRST_YEAR <= int(year) <= LAST_YEAR:
                    raise ValueError(f"period '{text}': the year must be {FIRST_YEAR}–{LAST_YEAR}")
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


RESET_MONTHS = {"annual": 12, "quarterly": 3, "monthly": 1}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of the month when that day does not exist)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_starts(period: Period, reset: str) -> list[date]:
    """Start dates of the tier-reset windows inside the period.

    Windows are anchored on the period's first day (the plan year): an annual window is the year
    from it, quarterly and monthly windows follow on from it.  A calendar-year period has
    calendar quarters and months; a July–June fiscal year has one annual window and quarters
    from July."""
    step = RESET_MONTHS.get(reset, 1)
    starts: list[date] = []
    k = 0
    while (day := add_months(period.start, k * step)) <= period.end:
        starts.append(day)
        k += 1
    return starts


def full_window(start: date, reset: str) -> tuple[date, date]:
    """The whole reset window that begins on ``start`` (it may run past the period)."""
    return start, add_months(start, RESET_MONTHS.get(reset, 1)) - timedelta(days=1)


def window_end(start: date, reset: str, period: Period) -> date:
    """The last day of the window starting on ``start`` that lies in the period."""
    return min(full_window(start, reset)[1], period.end)
