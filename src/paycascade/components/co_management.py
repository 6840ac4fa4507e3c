"""co_management: a fixed management fee plus an at-risk incentive fee on service-line metrics
(mixed; Quinn: pay for performance).

A service-line co-management agreement pays the physicians who manage the line (HFMA; OIG AO
12-22):

* ``fixed_fee``: an annual fee for the management tasks, paid exactly like a ``stipend`` to the
  physicians listed in the ``stipends`` table under ``stipend`` (default: the component id),
  prorated by the days they held the role; the table's ``annual_amount`` overrides it for a
  physician;
* ``incentive_fee``: the annual amount at risk, prorated the same way, × the composite score on
  the service-line ``scorecard`` (credited at most 1: the fee is a maximum).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from paycascade.components.common import FTE_BASES, prorated_annual
from paycascade.components.scoring import ScorecardChoice, parse_choice
from paycascade.components.stipend import Stipend
from paycascade.ledger import Posting
from paycascade.money import ONE, ZERO, fmt_cents
from paycascade.plans.model import Frame, Segment, Spec
from paycascade.plans.params import Dated, Reader
from paycascade.plans.scorecard import ScoreResult


@dataclass(frozen=True)
class _FixedFee(Stipend):
    """The fixed fee is a stipend, booked under the co-management component."""

    kind = "co_management"
    quinn = "pay_for_performance"


@dataclass(frozen=True)
class CoManagement(Spec):
    kind = "co_management"
    default_alignment = "mixed"
    quinn = "pay_for_performance"
    needs = frozenset({"stipends", "quality"})

    stipend: str
    fixed_fee: Dated[Decimal] | None
    incentive_fee: Dated[Decimal]
    scorecard: ScorecardChoice
    fte_basis: str

    def scorecard_ids(self) -> list[str]:
        return self.scorecard.ids()

    def breakpoints(self) -> list[Any]:
        fixed = self.fixed_fee.breakpoints() if self.fixed_fee is not None else []
        return fixed + self.incentive_fee.breakpoints()

    def compute(self, frame: Frame) -> list[Posting]:
        fee = _FixedFee(
            id=self.id,
            label=self.label,
            file=self.file,
            line=self.line,
            alignment=self.alignment,
            source=self.source,
            stipend=self.stipend,
            annual=self.fixed_fee,
            fte_basis=self.fte_basis,
        )
        postings = [replace(p, kind="co_management_fixed_fee") for p in fee.compute(frame)]
        results = frame.results[self.id]
        scores = self.scorecard.scores(frame)
        for seg in frame.segments:
            for i in range(len(frame.physicians)):
                posting = self._incentive(frame, seg, i, scores[i])
                if posting is not None:
                    results[seg.index][i] += posting.net_to_physician
                    postings.append(posting)
        postings.sort(key=lambda p: (p.npi or "", p.segment_start))
        self.record(frame, results)
        return postings

    def _incentive(
        self, frame: Frame, seg: Segment, i: int, score: ScoreResult | None
    ) -> Posting | None:
        p = frame.physicians[i]
        entry = self.incentive_fee.at(seg.start)
        maximum, texts = ZERO, []
        for name, _, start, end in frame.data.stipends.get(p.npi, ()):
            if name != self.stipend:
                continue
            amount, text = prorated_annual(entry.value, p, self.fte_basis, seg, frame, (start, end))
            maximum += amount
            texts.append(text)
        if maximum == ZERO:
            return None
        inputs = {
            "stipend": self.stipend,
            "incentive_fee": str(entry.value),
            "parameter": self.incentive_fee.cite(seg.start),
        }
        up_to = (
            f"at-risk incentive fee: up to {' + '.join(texts)} = {fmt_cents(frame.cents(maximum))}"
        )
        if score is None:
            text = f"{up_to}; no service-line scorecard for your specialty: nothing earned"
            return self.pay(frame, p, seg, 0, text, inputs, kind="co_management_incentive")
        credited = min(max(score.composite, ZERO), ONE)
        cents = frame.cents(Decimal(frame.cents(maximum)) / 100 * credited)
        capped = " (credited at most 1)" if score.composite > ONE else ""
        text = (
            f"{up_to} × score {score.composite}{capped} = {fmt_cents(cents)}; {score.explanation}"
        )
        inputs |= {
            "score": str(score.composite),
            "scorecard": score.scorecard,
            "score_basis": score.basis,
        }
        return self.pay(
            frame, p, seg, cents, text, inputs, kind="co_management_incentive", line=entry.line
        )


def parse(r: Reader, base: dict[str, Any]) -> CoManagement | None:
    name = r.text("stipend", default=base["fields"]["id"])
    fixed = r.dated_number("fixed_fee", required=False, minimum=ZERO)
    incentive = r.dated_number("incentive_fee", minimum=ZERO)
    choice = parse_choice(r)
    fte_basis = r.choice("fte_basis", FTE_BASES, "none")
    r.unknown_keys(
        {
            "stipend",
            "fixed_fee",
            "incentive_fee",
            "scorecard",
            "fte_basis",
            *base["_common_keys"],
        }
    )
    if incentive is None or choice is None:
        return None
    return CoManagement(
        **base["fields"],
        stipend=str(name),
        fixed_fee=fixed,
        incentive_fee=incentive,
        scorecard=choice,
        fte_basis=fte_basis,
    )
