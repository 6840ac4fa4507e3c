"""guarantee: minimum pay for a term, or a recoverable draw trued up against earned pay
(volume; Quinn: salary).

The guaranteed amount G is ``amount`` (annual) × FTE × the days of the period that fall in
the term (``months`` from the physician's ``start_date``; the whole period if no term) and in
employment ÷ days in the year.  Earned pay C is the sum of the components named in
``against``, over the period.

* ``recoverable: false`` (an income guarantee): a top-up of max(0, G − C) is paid.
* ``recoverable: true`` (a draw): G is advanced as a draw; at true-up the draw is recovered from
  earned pay (min(G, C)); a shortfall G − C is either owed back (``recovery: clawback``) or
  ``forgive``-n.  Net pay is C with clawback, max(G, C) with forgiveness.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from paycascade.components.common import FTE_BASES, prorated_annual, ref_list, whole_period
from paycascade.ledger import SYSTEM_COMPENSATION, Posting, physician_account
from paycascade.money import ZERO, fmt_cents
from paycascade.periods import add_months
from paycascade.plans.model import Frame, Physician, Spec
from paycascade.plans.params import Dated, Reader


@dataclass(frozen=True)
class Guarantee(Spec):
    kind = "guarantee"
    default_alignment = "volume"
    quinn = "salary"

    amount: Dated[Decimal]
    months: int | None
    against: tuple[str, ...]
    recoverable: bool
    recovery: str
    fte_basis: str

    def refs(self) -> list[str]:
        return list(self.against)

    def breakpoints(self) -> list[Any]:
        return self.amount.breakpoints()

    def term(self, p: Physician) -> tuple[date | None, date | None]:
        if self.months is None:
            return None, None
        start = p.start_date
        if start is None:
            return None, None
        return start, add_months(start, self.months) - timedelta(days=1)

    def compute(self, frame: Frame) -> list[Posting]:
        postings: list[Posting] = []
        results = [[0] * len(frame.physicians) for _ in frame.segments]
        period = whole_period(frame)
        for i, p in enumerate(frame.physicians):
            guaranteed = ZERO
            texts = []
            line = self.line
            for seg in frame.segments:
                entry = self.amount.at(seg.start)
                amount, text = prorated_annual(
                    entry.value, p, self.fte_basis, seg, frame, self.term(p)
                )
                if amount:
                    guaranteed += amount
                    texts.append(text)
                    line = entry.line
            g = frame.cents(guaranteed)
            if g == 0:
                continue
            earned = sum(frame.basis(self.against, seg)[i] for seg in frame.segments)
            term = (
                f", term {self.months} months from {p.start_date}"
                if self.months and p.start_date
                else ""
            )
            g_text = f"guarantee {' + '.join(texts)} = {fmt_cents(g)}{term}"
            against = " + ".join(self.against)
            if not self.recoverable:
                top_up = max(0, g - earned)
                postings.append(
                    self.pay(
                        frame,
                        p,
                        period,
                        top_up,
                        f"{g_text}; earned {against} {fmt_cents(earned)}; top-up max(0, {fmt_cents(g)} − {fmt_cents(earned)}) = {fmt_cents(top_up)}",
                        {"guaranteed": str(Decimal(g) / 100), "earned": str(Decimal(earned) / 100)},
                        kind="guarantee_top_up",
                        line=line,
                    )
                )
                results[-1][i] = top_up
                continue
            results[-1][i] = self._draw(
                frame, p, period, g, earned, g_text, against, line, postings
            )
        self.record(frame, results)
        return postings

    def _draw(
        self,
        frame: Frame,
        p: Physician,
        period: Any,
        g: int,
        earned: int,
        g_text: str,
        against: str,
        line: int,
        postings: list[Posting],
    ) -> int:
        account = physician_account(p.npi)
        inputs = {
            "draw": str(Decimal(g) / 100),
            "earned": str(Decimal(earned) / 100),
            "recovery": self.recovery,
        }
        postings.append(
            self.pay(
                frame, p, period, g, f"draw advanced: {g_text}", inputs, kind="draw", line=line
            )
        )
        recovered = min(g, earned)
        postings.append(
            self.flow(
                frame,
                p.npi,
                period,
                account,
                SYSTEM_COMPENSATION,
                recovered,
                f"true-up: draw recovered from earned {against} = min({fmt_cents(g)}, {fmt_cents(earned)}) = {fmt_cents(recovered)}",
                inputs,
                kind="draw_recovery",
                line=line,
            )
        )
        net = g - recovered
        shortfall = g - recovered
        if shortfall and self.recovery == "clawback":
            postings.append(
                self.flow(
                    frame,
                    p.npi,
                    period,
                    account,
                    SYSTEM_COMPENSATION,
                    shortfall,
                    f"shortfall clawed back: draw {fmt_cents(g)} − earned {fmt_cents(earned)} = {fmt_cents(shortfall)} owed",
                    inputs,
                    kind="draw_clawback",
                    line=line,
                )
            )
            net -= shortfall
        elif shortfall:
            postings.append(
                self.pay(
                    frame,
                    p,
                    period,
                    0,
                    f"shortfall forgiven: draw {fmt_cents(g)} − earned {fmt_cents(earned)} = {fmt_cents(shortfall)} kept by the physician",
                    inputs,
                    kind="draw_forgiven",
                    line=line,
                )
            )
        return net


def parse(r: Reader, base: dict[str, Any]) -> Guarantee | None:
    amount = r.dated_number("amount", minimum=ZERO)
    months_value = r.number("months", minimum=Decimal(1))
    against = ref_list(r, "against", required=True)
    recoverable = r.boolean("recoverable", False)
    recovery = r.choice("recovery", ("clawback", "forgive"), "clawback")
    fte_basis = r.choice("fte_basis", FTE_BASES, "total")
    r.unknown_keys(
        {
            "amount",
            "months",
            "against",
            "recoverable",
            "recovery",
            "fte_basis",
            *base["_common_keys"],
        }
    )
    if months_value is not None and months_value != int(months_value):
        r.error("months", "'months' must be a whole number")
        return None
    if amount is None or not against:
        return None
    return Guarantee(
        **base["fields"],
        amount=amount,
        months=None if months_value is None else int(months_value),
        against=tuple(against),
        recoverable=recoverable,
        recovery=recovery,
        fte_basis=fte_basis,
    )
