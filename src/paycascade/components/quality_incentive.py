"""quality_incentive: up to a maximum × the composite scorecard score (mixed; Quinn: P4P).

The maximum is either an annual ``amount`` (prorated by FTE and days employed) or a
``percent`` of other components (``of: [production]``; ``production.gross`` is the full
wRVU value before a paid share).  ``cap`` limits the composite credited (default 1, so stretch
points above target do not pay more unless the plan says so); ``gate`` pays nothing below a
composite score (an all-or-nothing gate).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.components.common import FTE_BASES, prorated_annual, ref_list
from paycascade.components.scoring import ScorecardChoice, parse_choice
from paycascade.ledger import Posting
from paycascade.money import ONE, ZERO, fmt_cents, fmt_pct
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader


@dataclass(frozen=True)
class QualityIncentive(Spec):
    kind = "quality_incentive"
    default_alignment = "mixed"
    quinn = "pay_for_performance"
    needs = frozenset({"quality"})

    scorecard: ScorecardChoice
    amount: Dated[Decimal] | None
    percent: Dated[Decimal] | None
    of: tuple[str, ...]
    cap: Decimal
    gate: Decimal | None
    fte_basis: str

    def refs(self) -> list[str]:
        return list(self.of)

    def scorecard_ids(self) -> list[str]:
        return self.scorecard.ids()

    def breakpoints(self) -> list[Any]:
        param = self.amount or self.percent
        return param.breakpoints() if param is not None else []

    def compute(self, frame: Frame) -> list[Posting]:
        scores = self.scorecard.scores(frame)
        postings: list[Posting] = []
        results: list[list[int]] = []
        for seg in frame.segments:
            basis = frame.basis(self.of, seg) if self.percent else []
            row: list[int] = []
            for i, p in enumerate(frame.physicians):
                score = scores[i]
                maximum, max_text, inputs, line = self._maximum(frame, seg, i, basis)
                if maximum == ZERO or score is None:
                    row.append(0)
                    continue
                credited = min(score.composite, self.cap)
                if self.gate is not None and score.composite < self.gate:
                    credited = ZERO
                # the maximum is rounded to the cent first, as the explanation shows it
                cents = frame.cents(Decimal(frame.cents(maximum)) / 100 * credited)
                row.append(cents)
                gate_text = ""
                if self.gate is not None and score.composite < self.gate:
                    gate_text = f" (below the {self.gate} gate: nothing paid)"
                cap_text = f" (capped at {self.cap})" if score.composite > self.cap else ""
                explanation = (
                    f"up to {max_text} × score {score.composite}{cap_text}{gate_text} "
                    f"= {fmt_cents(cents)}; {score.explanation}"
                )
                inputs = {
                    **inputs,
                    "score": str(score.composite),
                    "scorecard": score.scorecard,
                    "score_basis": score.basis,
                }
                postings.append(self.pay(frame, p, seg, cents, explanation, inputs, line=line))
            results.append(row)
        self.record(frame, results)
        return postings

    def _maximum(
        self, frame: Frame, seg: Any, i: int, basis: list[int]
    ) -> tuple[Decimal, str, dict[str, str], int]:
        p = frame.physicians[i]
        if self.percent is not None:
            entry = self.percent.at(seg.start)
            base = Decimal(max(basis[i], 0)) / 100  # a reduction earns no incentive
            maximum = base * entry.value
            text = f"{fmt_pct(entry.value)} × {fmt_cents(basis[i])} ({' + '.join(self.of)}) = {fmt_cents(frame.cents(maximum))}"
            return (
                maximum,
                text,
                {
                    "percent": str(entry.value),
                    "basis": str(base),
                    "parameter": self.percent.cite(seg.start),
                },
                entry.line,
            )
        assert self.amount is not None
        entry = self.amount.at(seg.start)
        maximum, text = prorated_annual(entry.value, p, self.fte_basis, seg, frame)
        return (
            maximum,
            f"{text} = {fmt_cents(frame.cents(maximum))}",
            {"amount": str(entry.value), "parameter": self.amount.cite(seg.start)},
            entry.line,
        )


def parse(r: Reader, base: dict[str, Any]) -> QualityIncentive | None:
    choice = parse_choice(r)
    amount = r.dated_number("amount", required=False, minimum=ZERO)
    percent = r.dated_number("percent", required=False, minimum=ZERO)
    of = ref_list(r, "of", required=percent is not None)
    cap_value = r.number("cap", default=ONE, minimum=ZERO)
    cap = ONE if cap_value is None else cap_value
    gate = r.number("gate", minimum=ZERO)
    fte_basis = r.choice("fte_basis", FTE_BASES, "total")
    r.unknown_keys(
        {"scorecard", "amount", "percent", "of", "cap", "gate", "fte_basis", *base["_common_keys"]}
    )
    if (amount is None) == (percent is None):
        r.error(
            None, "give exactly one of 'amount' (annual dollars) or 'percent' (of other components)"
        )
        return None
    if choice is None:
        return None
    return QualityIncentive(
        **base["fields"],
        scorecard=choice,
        amount=amount,
        percent=percent,
        of=tuple(of),
        cap=cap,
        gate=gate,
        fte_basis=fte_basis,
    )
