"""salary: an annual amount × FTE, prorated by the days active in the period (volume; Quinn: salary)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.components.common import FTE_BASES, prorated_annual
from paycascade.ledger import Posting
from paycascade.money import ZERO, fmt_cents
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader


@dataclass(frozen=True)
class Salary(Spec):
    kind = "salary"
    default_alignment = "volume"
    quinn = "salary"

    annual: Dated[Decimal]
    fte_basis: str

    def breakpoints(self) -> list[Any]:
        return self.annual.breakpoints()

    def compute(self, frame: Frame) -> list[Posting]:
        postings: list[Posting] = []
        results: list[list[int]] = []
        for seg in frame.segments:
            entry = self.annual.at(seg.start)
            row: list[int] = []
            for p in frame.physicians:
                amount, text = prorated_annual(entry.value, p, self.fte_basis, seg, frame)
                cents = frame.cents(amount)
                row.append(cents)
                if amount == ZERO:
                    continue
                postings.append(
                    self.pay(
                        frame,
                        p,
                        seg,
                        cents,
                        f"{text} = {fmt_cents(cents)}",
                        {
                            "annual": str(entry.value),
                            "fte_basis": self.fte_basis,
                            "parameter": self.annual.cite(seg.start),
                        },
                        line=entry.line,
                    )
                )
            results.append(row)
        self.record(frame, results)
        return postings


def parse(r: Reader, base: dict[str, Any]) -> Salary | None:
    annual = r.dated_number("annual", minimum=ZERO)
    fte_basis = r.choice("fte_basis", FTE_BASES, "total")
    r.unknown_keys({"annual", "fte_basis", *base["_common_keys"]})
    if annual is None:
        return None
    return Salary(**base["fields"], annual=annual, fte_basis=fte_basis)
