"""Small helpers shared by the component modules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from paycascade.ledger import Posting
from paycascade.money import ONE, fmt_cents, fmt_decimal
from paycascade.periods import overlap_days
from paycascade.plans.model import Frame, Physician, Segment, Spec
from paycascade.plans.params import Dated, Reader
from paycascade.plans.yamlpos import PosList

FTE_BASES = ("total", "clinical", "none")


def fte_of(p: Physician, basis: str) -> Decimal:
    if basis == "clinical":
        return p.clinical_fte
    if basis == "total":
        return p.fte
    return ONE


def fte_text(p: Physician, basis: str) -> str:
    if basis == "none":
        return ""
    label = "clinical FTE" if basis == "clinical" else "FTE"
    return f" × {fmt_decimal(fte_of(p, basis), 2)} {label}"


def whole_period(frame: Frame) -> Segment:
    """A pseudo-segment spanning the period, for components settled once per period."""
    buckets = tuple(b for seg in frame.segments for b in seg.buckets)
    return Segment(-1, frame.period.start, frame.period.end, buckets)


def prorated_annual(
    annual: Decimal,
    p: Physician,
    basis: str,
    seg: Segment,
    frame: Frame,
    window: tuple[date | None, date | None] = (None, None),
) -> tuple[Decimal, str]:
    """Annual amount × FTE × days active in the segment ÷ days in the year, with its wording."""
    start = max(d for d in (p.start_date, window[0], seg.start) if d is not None)
    ends = [d for d in (p.end_date, window[1], seg.end) if d is not None]
    end = min(ends)
    days = overlap_days(seg.start, seg.end, start, end)
    year = frame.period.year_days
    amount = annual * fte_of(p, basis) * days / year
    text = f"{fmt_cents(int(annual * 100))} annual{fte_text(p, basis)} × {days}/{year} days"
    return amount, text


def ref_list(r: Reader, key: str, *, required: bool) -> list[str]:
    """A component reference list: ``of: production`` or ``of: [production, panel]``."""
    value = r.raw(key)
    if value is None:
        if required:
            r.error(None, f"missing '{key}' (the components it is computed on)")
        return []
    items: Sequence[Any] = value if isinstance(value, PosList) else [value]
    names = []
    for item in items:
        if not isinstance(item, str):
            r.error(key, f"'{key}' must name components, not '{item}'")
            continue
        names.append(item)
    return names


@dataclass(frozen=True)
class Common:
    """The fields every component declaration shares (parsed by the plan loader)."""

    id: str
    label: str
    file: str
    line: int
    alignment: str | None
    source: str | None


def per_physician_zero(frame: Frame) -> list[list[int]]:
    return [[0] * len(frame.physicians) for _ in frame.segments]


Line = tuple[Decimal, str, dict[str, str]]


def pay_each_segment(
    spec: Spec,
    frame: Frame,
    param: Dated[Decimal],
    one: Callable[[Physician, Segment, Decimal], Line | None],
) -> list[Posting]:
    """The loop of components that pay an amount per physician and segment from one dated
    parameter: ``one(physician, segment, value)`` gives (amount, how, inputs), or None when
    there is nothing to pay.  Posts ``how = $amount`` citing the parameter value used."""
    postings: list[Posting] = []
    results: list[list[int]] = []
    for seg in frame.segments:
        entry = param.at(seg.start)
        row: list[int] = []
        for p in frame.physicians:
            line = one(p, seg, entry.value)
            if line is None:
                row.append(0)
                continue
            amount, how, inputs = line
            cents = frame.cents(amount)
            row.append(cents)
            inputs = {**inputs, "parameter": param.cite(seg.start)}
            text = f"{how} = {fmt_cents(cents)}"
            postings.append(spec.pay(frame, p, seg, cents, text, inputs, line=entry.line))
        results.append(row)
    spec.record(frame, results)
    return postings
