"""hourly: hours worked × an hourly rate (volume; Quinn: salary, paid per unit of time)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.ledger import Posting
from paycascade.money import ZERO, fmt_cents, fmt_decimal, fmt_rate
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader


@dataclass(frozen=True)
class Hourly(Spec):
    kind = "hourly"
    default_alignment = "volume"
    quinn = "salary"
    needs = frozenset({"hours"})

    rate: Dated[Decimal]
    hours_kind: str | None

    def breakpoints(self) -> list[Any]:
        return self.rate.breakpoints()

    def compute(self, frame: Frame) -> list[Posting]:
        postings: list[Posting] = []
        results: list[list[int]] = []
        data = frame.data
        for seg in frame.segments:
            entry = self.rate.at(seg.start)
            row: list[int] = []
            for p in frame.physicians:
                hours = sum(
                    (
                        v
                        for b, kind, v in data.hours.get(p.npi, ())
                        if b in seg.buckets and self.hours_kind in (None, kind)
                    ),
                    ZERO,
                )
                cents = frame.cents(hours * entry.value)
                row.append(cents)
                if hours == ZERO:
                    continue
                what = f"{self.hours_kind} hours" if self.hours_kind else "hours"
                postings.append(
                    self.pay(
                        frame,
                        p,
                        seg,
                        cents,
                        f"{fmt_decimal(hours)} {what} × {fmt_rate(entry.value)}/h = {fmt_cents(cents)}",
                        {
                            "hours": str(hours),
                            "rate": str(entry.value),
                            "parameter": self.rate.cite(seg.start),
                        },
                        line=entry.line,
                    )
                )
            results.append(row)
        self.record(frame, results)
        return postings


def parse(r: Reader, base: dict[str, Any]) -> Hourly | None:
    rate = r.dated_number("rate", minimum=ZERO)
    kind = r.text("hours_kind")
    r.unknown_keys({"rate", "hours_kind", *base["_common_keys"]})
    if rate is None:
        return None
    return Hourly(**base["fields"], rate=rate, hours_kind=kind)
