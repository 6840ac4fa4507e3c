"""partnership / joint_venture: profit distributed by ownership share (mixed; Quinn: shared
savings).

Physicians who own part of a venture (an imaging center, an ambulatory surgery center, a service
line) receive its distributable profit in proportion to their ownership:

* ``venture``: the venture id of the ``ownership`` table (npi, venture, share 0–1);
* ``distributable_profit``: the amount for the period (the dated entries whose date falls in
  the period, summed; an undated value is the amount of every period);
* ``includes_technical_revenue``: whether the profit includes technical revenue of designated
  health services (carried into the inputs: Stark / AKS review).

Amount_i = profit × share_i, split by the largest-remainder method over the plan's owners and the
rest of the venture (other owners), so the physicians' parts are exact.  Only the physicians'
parts are posted (from ``system:compensation``); the explanation says what share of the venture
the plan's physicians own.  If the shares in the data add up to more than 100%, they are
scaled to 100% and the explanation says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.components.common import per_physician_zero, whole_period
from paycascade.components.shared_savings import period_amount
from paycascade.ledger import Posting
from paycascade.money import ONE, ZERO, allocate, fmt_cents, fmt_pct, to_cents
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader

TECHNICAL = (
    "includes technical revenue of designated health services: flagged for compliance review"
)


@dataclass(frozen=True)
class Partnership(Spec):
    kind = "partnership"
    default_alignment = "mixed"
    quinn = "shared_savings"
    needs = frozenset({"ownership"})

    venture: str
    profit: Dated[Decimal]
    includes_technical_revenue: bool

    def compute(self, frame: Frame) -> list[Posting]:
        seg = whole_period(frame)
        amount, line, cite = period_amount(self.profit, frame.period)
        profit = to_cents(amount, frame.rounding)
        shares = [
            sum((s for v, s in frame.data.ownership.get(p.npi, ()) if v == self.venture), ZERO)
            for p in frame.physicians
        ]
        owned = sum(shares, ZERO)
        scaled = ""
        if owned > ONE:
            scaled = f" (the ownership shares add up to {fmt_pct(owned)}: scaled to 100%)"
        parts = allocate(profit, [*shares, max(ZERO, ONE - owned)])
        venture = self.venture.replace("_", " ")
        tech = f"; {TECHNICAL}" if self.includes_technical_revenue else ""
        context = f"physicians of this plan own {fmt_pct(min(owned, ONE))} of the {venture}{tech}"
        rows = per_physician_zero(frame)
        postings: list[Posting] = []
        for i, p in enumerate(frame.physicians):
            if shares[i] == ZERO:
                continue
            rows[-1][i] = parts[i]
            if profit == 0:
                text = f"{venture}: no distributable profit for {frame.period.label} ({cite})"
            else:
                text = (
                    f"{venture}: {fmt_cents(profit)} distributable profit × "
                    f"{fmt_pct(shares[i])} ownership = {fmt_cents(parts[i])}{scaled}; {context}"
                )
            inputs = {
                "venture": self.venture,
                "ownership_share": str(shares[i]),
                "physicians_share": str(owned),
                "distributable_profit": str(amount),
                "includes_technical_revenue": str(self.includes_technical_revenue).lower(),
                "parameter": cite,
            }
            postings.append(
                self.pay(
                    frame, p, seg, parts[i], text, inputs, kind="profit_distribution", line=line
                )
            )
        self.record(frame, rows)
        return postings


@dataclass(frozen=True)
class JointVenture(Partnership):
    kind = "joint_venture"


def _read(r: Reader, base: dict[str, Any], cls: type[Partnership]) -> Partnership | None:
    venture = r.text("venture", required=True)
    profit = r.dated_number("distributable_profit", minimum=ZERO)
    technical = r.raw("includes_technical_revenue")
    if technical is None:
        r.error(None, "missing 'includes_technical_revenue' (true or false: a compliance flag)")
    elif not isinstance(technical, bool):
        r.error(
            "includes_technical_revenue",
            f"'includes_technical_revenue' must be true or false, not '{technical}'",
        )
    r.unknown_keys(
        {"venture", "distributable_profit", "includes_technical_revenue", *base["_common_keys"]}
    )
    if venture is None or profit is None or not isinstance(technical, bool):
        return None
    return cls(
        **base["fields"], venture=venture, profit=profit, includes_technical_revenue=technical
    )


def parse(r: Reader, base: dict[str, Any]) -> Partnership | None:
    return _read(r, base, Partnership)


def parse_joint_venture(r: Reader, base: dict[str, Any]) -> Partnership | None:
    return _read(r, base, JointVenture)
