"""panel: PMPM × attributed member months, optionally risk-adjusted (value; Quinn: capitation)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paycascade.components.common import Line, pay_each_segment
from paycascade.ledger import Posting
from paycascade.money import ZERO, fmt_decimal, fmt_rate
from paycascade.plans.model import Frame, Physician, Segment, Spec
from paycascade.plans.params import Dated, Reader


@dataclass(frozen=True)
class Panel(Spec):
    kind = "panel"
    default_alignment = "value"
    quinn = "capitation"
    needs = frozenset({"attribution"})

    pmpm: Dated[Decimal]
    risk_adjusted: bool

    def breakpoints(self) -> list[Any]:
        return self.pmpm.breakpoints()

    def compute(self, frame: Frame) -> list[Posting]:
        data = frame.data

        def one(p: Physician, seg: Segment, pmpm: Decimal) -> Line | None:
            months = data.sum_buckets(data.member_months, p.npi, seg)
            if months == ZERO:
                return None
            inputs = {
                "member_months": str(months),
                "risk_adjusted": str(self.risk_adjusted),
                "pmpm": str(pmpm),
            }
            if not self.risk_adjusted:
                text = f"{fmt_decimal(months)} member months × {fmt_rate(pmpm)} PMPM"
                return months * pmpm, text, inputs
            adjusted = data.sum_buckets(data.risk_member_months, p.npi, seg)
            risk = (adjusted / months).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            text = (
                f"{fmt_decimal(months)} member months × average risk {risk} "
                f"= {fmt_decimal(adjusted)} risk-adjusted × {fmt_rate(pmpm)} PMPM"
            )
            return adjusted * pmpm, text, inputs

        return pay_each_segment(self, frame, self.pmpm, one)


def parse(r: Reader, base: dict[str, Any]) -> Panel | None:
    pmpm = r.dated_number("pmpm", minimum=ZERO)
    risk = r.boolean("risk_adjusted", False)
    r.unknown_keys({"pmpm", "risk_adjusted", *base["_common_keys"]})
    if pmpm is None:
        return None
    return Panel(**base["fields"], pmpm=pmpm, risk_adjusted=risk)
