"""salary: an annual amount × FTE, prorated by the days active in the period (volume; Quinn: salary)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.components.common import FTE_BASES, Line, pay_each_segment, prorated_annual
from paycascade.ledger import Posting
from paycascade.money import ZERO
from paycascade.plans.model import Frame, Physician, Segment, Spec
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
        def one(p: Physician, seg: Segment, annual: Decimal) -> Line | None:
            amount, text = prorated_annual(annual, p, self.fte_basis, seg, frame)
            if amount == ZERO:
                return None
            return amount, text, {"annual": str(annual), "fte_basis": self.fte_basis}

        return pay_each_segment(self, frame, self.annual, one)


def parse(r: Reader, base: dict[str, Any]) -> Salary | None:
    annual = r.dated_number("annual", minimum=ZERO)
    fte_basis = r.choice("fte_basis", FTE_BASES, "total")
    r.unknown_keys({"annual", "fte_basis", *base["_common_keys"]})
    if annual is None:
        return None
    return Salary(**base["fields"], annual=annual, fte_basis=fte_basis)
