"""hourly: hours worked × an hourly rate (volume; Quinn: salary, paid per unit of time)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.components.common import Line, pay_each_segment
from paycascade.ledger import Posting
from paycascade.money import ZERO, fmt_decimal, fmt_rate
from paycascade.plans.model import Frame, Physician, Segment, Spec
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
        what = f"{self.hours_kind} hours" if self.hours_kind else "hours"

        def one(p: Physician, seg: Segment, rate: Decimal) -> Line | None:
            rows = frame.data.hours.get(p.npi, ())
            hours = sum(
                (v for b, kind, v in rows if b in seg.buckets and self.hours_kind in (None, kind)),
                ZERO,
            )
            if hours == ZERO:
                return None
            text = f"{fmt_decimal(hours)} {what} × {fmt_rate(rate)}/h"
            return hours * rate, text, {"hours": str(hours), "rate": str(rate)}

        return pay_each_segment(self, frame, self.rate, one)


def parse(r: Reader, base: dict[str, Any]) -> Hourly | None:
    rate = r.dated_number("rate", minimum=ZERO)
    kind = r.text("hours_kind")
    r.unknown_keys({"rate", "hours_kind", *base["_common_keys"]})
    if rate is None:
        return None
    return Hourly(**base["fields"], rate=rate, hours_kind=kind)
