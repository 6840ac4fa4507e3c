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

from paycascade.components.common import Line, pay_each_segment
from paycascade.ledger import Posting
from paycascade.money import ZERO, fmt_decimal, fmt_rate
from paycascade.plans.model import Frame, Physician, Segment, Spec
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
        def one(p: Physician, seg: Segment, rate: Decimal) -> Line | None:
            rows = frame.data.activities.get(p.npi, ())
            quantity = sum(
                (q for b, act, q in rows if act == self.activity and b in seg.buckets), ZERO
            )
            if quantity == ZERO:
                return None
            text = f"{fmt_decimal(quantity)} {self.unit} × {fmt_rate(rate)}"
            inputs = {"activity": self.activity, "quantity": str(quantity), "rate": str(rate)}
            return quantity * rate, text, inputs

        return pay_each_segment(self, frame, self.rate, one)


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
