"""stipend: a fixed annual amount for a role (call, directorship, APP supervision), prorated by
the days the physician held it (volume; Quinn: per diem).  Who holds which stipend comes from the
``stipends`` table; its ``annual_amount`` overrides the plan's amount for that physician."""

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
class Stipend(Spec):
    kind = "stipend"
    default_alignment = "volume"
    quinn = "per_diem"
    needs = frozenset({"stipends"})

    stipend: str
    annual: Dated[Decimal] | None
    fte_basis: str

    def breakpoints(self) -> list[Any]:
        return self.annual.breakpoints() if self.annual else []

    def compute(self, frame: Frame) -> list[Posting]:
        postings: list[Posting] = []
        results: list[list[int]] = []
        for seg in frame.segments:
            row: list[int] = []
            for p in frame.physicians:
                total = 0
                for name, override, start, end in frame.data.stipends.get(p.npi, ()):
                    if name != self.stipend:
                        continue
                    if override is not None:
                        annual, cite, line = override, "stipends table annual_amount", self.line
                    elif self.annual is not None:
                        entry = self.annual.at(seg.start)
                        annual, cite, line = entry.value, self.annual.cite(seg.start), entry.line
                    else:
                        continue
                    amount, text = prorated_annual(
                        annual, p, self.fte_basis, seg, frame, (start, end)
                    )
                    if amount == ZERO:
                        continue
                    cents = frame.cents(amount)
                    total += cents
                    postings.append(
                        self.pay(
                            frame,
                            p,
                            seg,
                            cents,
                            f"{self.stipend.replace('_', ' ')}: {text} = {fmt_cents(cents)}",
                            {"stipend": self.stipend, "annual": str(annual), "parameter": cite},
                            line=line,
                        )
                    )
                row.append(total)
            results.append(row)
        self.record(frame, results)
        return postings


def parse(r: Reader, base: dict[str, Any]) -> Stipend | None:
    name = r.text("stipend", default=base["fields"]["id"])
    annual = r.dated_number("annual", required=False, minimum=ZERO)
    fte_basis = r.choice("fte_basis", FTE_BASES, "none")
    r.unknown_keys({"stipend", "annual", "fte_basis", *base["_common_keys"]})
    return Stipend(**base["fields"], stipend=str(name), annual=annual, fte_basis=fte_basis)
