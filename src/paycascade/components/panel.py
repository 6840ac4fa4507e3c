"""panel: PMPM × attributed member months, optionally risk-adjusted (value; Quinn: capitation)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paycascade.ledger import Posting
from paycascade.money import ZERO, fmt_cents, fmt_decimal, fmt_rate
from paycascade.plans.model import Frame, Spec
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
        postings: list[Posting] = []
        results: list[list[int]] = []
        data = frame.data
        for seg in frame.segments:
            entry = self.pmpm.at(seg.start)
            row: list[int] = []
            for p in frame.physicians:
                months = data.sum_buckets(data.member_months, p.npi, seg)
                if self.risk_adjusted:
                    adjusted = data.sum_buckets(data.risk_member_months, p.npi, seg)
                    risk = (
                        (adjusted / months).quantize(Decimal("0.0001"), ROUND_HALF_UP)
                        if months
                        else ZERO
                    )
                    text = (
                        f"{fmt_decimal(months)} member months × average risk {risk} "
                        f"= {fmt_decimal(adjusted)} risk-adjusted × {fmt_rate(entry.value)} PMPM"
                    )
                    base = adjusted
                else:
                    text = f"{fmt_decimal(months)} member months × {fmt_rate(entry.value)} PMPM"
                    base = months
                cents = frame.cents(base * entry.value)
                row.append(cents)
                if months == ZERO:
                    continue
                postings.append(
                    self.pay(
                        frame,
                        p,
                        seg,
                        cents,
                        f"{text} = {fmt_cents(cents)}",
                        {
                            "member_months": str(months),
                            "risk_adjusted": str(self.risk_adjusted),
                            "pmpm": str(entry.value),
                            "parameter": self.pmpm.cite(seg.start),
                        },
                        line=entry.line,
                    )
                )
            results.append(row)
        self.record(frame, results)
        return postings


def parse(r: Reader, base: dict[str, Any]) -> Panel | None:
    pmpm = r.dated_number("pmpm", minimum=ZERO)
    risk = r.boolean("risk_adjusted", False)
    r.unknown_keys({"pmpm", "risk_adjusted", *base["_common_keys"]})
    if pmpm is None:
        return None
    return Panel(**base["fields"], pmpm=pmpm, risk_adjusted=risk)
