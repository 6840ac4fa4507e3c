"""Components paid per counted activity, from the ``activities`` table.

* ``locum``: locum tenens days × a daily rate (volume; Quinn: per diem).
* ``non_clinical``: transformation work (QI milestones, pathway redesign, population-health
  leadership) × an amount per milestone (value; Quinn: pay for performance).  The seed's 17th
  model, "non-clinical incentive".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.ledger import Posting
from paycascade.money import ZERO, fmt_cents, fmt_decimal, fmt_rate
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader


@dataclass(frozen=True)
class _PerActivity(Spec):
    needs = frozenset({"activities"})

    activity: str
    rate: Dated[Decimal]
    unit: str

    def breakpoints(self) -> list[Any]:
        return self.rate.breakpoints()

    def compute(self, frame: Frame) -> list[Posting]:
        postings: list[Posting] = []
        results: list[list[int]] = []
        for seg in frame.segments:
            entry = self.rate.at(seg.start)
            row: list[int] = []
            for p in frame.physicians:
                quantity = sum(
                    (
                        q
                        for b, act, q in frame.data.activities.get(p.npi, ())
                        if act == self.activity and b in seg.buckets
                    ),
                    ZERO,
                )
                cents = frame.cents(quantity * entry.value)
                row.append(cents)
                if quantity == ZERO:
                    continue
                postings.append(
                    self.pay(
                        frame,
                        p,
                        seg,
                        cents,
                        f"{fmt_decimal(quantity)} {self.unit} × {fmt_rate(entry.value)} = {fmt_cents(cents)}",
                        {
                            "activity": self.activity,
                            "quantity": str(quantity),
                            "rate": str(entry.value),
                            "parameter": self.rate.cite(seg.start),
                        },
                        line=entry.line,
                    )
                )
            results.append(row)
        self.record(frame, results)
        return postings


@dataclass(frozen=True)
class Locum(_PerActivity):
    kind = "locum"
    default_alignment = "volume"
    quinn = "per_diem"


@dataclass(frozen=True)
class NonClinical(_PerActivity):
    kind = "non_clinical"
    default_alignment = "value"
    quinn = "pay_for_performance"


def parse_locum(r: Reader, base: dict[str, Any]) -> Locum | None:
    rate = r.dated_number("daily_rate", minimum=ZERO)
    activity = r.text("activity", default="locum_day") or "locum_day"
    r.unknown_keys({"daily_rate", "activity", *base["_common_keys"]})
    if rate is None:
        return None
    return Locum(**base["fields"], activity=activity, rate=rate, unit="locum days")


def parse_non_clinical(r: Reader, base: dict[str, Any]) -> NonClinical | None:
    rate = r.dated_number("amount_each", minimum=ZERO)
    activity = r.text("activity", required=True) or ""
    r.unknown_keys({"amount_each", "activity", *base["_common_keys"]})
    if rate is None or not activity:
        return None
    return NonClinical(
        **base["fields"], activity=activity, rate=rate, unit=activity.replace("_", " ")
    )
