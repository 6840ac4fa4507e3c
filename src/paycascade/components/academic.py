"""academic: institutional base salary by effort, the grant-funded part capped by the NIH salary
cap (mixed; Quinn: salary).

* salary = ``base_salary`` (annual, at 1.0 FTE) × FTE × days active ÷ days in the year, per
  segment, like ``salary``;
* the physician's effort comes from the ``effort`` table: clinical / research / teaching /
  admin fractions, and ``grant_funded``, the fraction of effort charged to grants;
* grant-funded salary = min(base, ``nih_cap``) × grant_funded × FTE × days ÷ year: NIH grants
  may not pay salary at a rate above Executive Level II of the Federal Executive pay scale
  (the cap is a dated parameter the user sets; NIH NOT-OD-25-085 gives $225,700 from
  2025-01-01).  Without ``nih_cap`` the grant-funded part is base × grant_funded;
* the institution pays the rest: salary − grant-funded.

Two lines per segment: grant-funded (``grant:research`` → physician, kind ``academic_grant``)
and institutional (``system:compensation`` → physician, kind ``academic_institutional``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.components.common import FTE_BASES, fte_text, prorated_annual
from paycascade.ledger import Posting, physician_account
from paycascade.money import ONE, ZERO, fmt_cents, fmt_pct, to_cents
from paycascade.periods import overlap_days
from paycascade.plans.model import Frame, Physician, Segment, Spec
from paycascade.plans.params import Dated, Reader

GRANT_ACCOUNT = "grant:research"
EFFORTS = ("clinical", "research", "teaching", "admin")


def dollars(value: Decimal) -> str:
    return fmt_cents(to_cents(value))


def _effort_text(effort: dict[str, Decimal]) -> str:
    parts = [f"{name} {fmt_pct(effort[name])}" for name in EFFORTS if effort.get(name)]
    parts.append(f"grant-funded {fmt_pct(effort.get('grant_funded', ZERO))}")
    return ", ".join(parts)


@dataclass(frozen=True)
class Academic(Spec):
    kind = "academic"
    default_alignment = "mixed"
    quinn = "salary"
    needs = frozenset({"effort"})

    base_salary: Dated[Decimal]
    nih_cap: Dated[Decimal] | None
    fte_basis: str

    def breakpoints(self) -> list[Any]:
        cap = self.nih_cap.breakpoints() if self.nih_cap is not None else []
        return self.base_salary.breakpoints() + cap

    def compute(self, frame: Frame) -> list[Posting]:
        postings: list[Posting] = []
        results: list[list[int]] = []
        for seg in frame.segments:
            row: list[int] = []
            for p in frame.physicians:
                lines = self._lines(frame, seg, p)
                row.append(sum(line.net_to_physician for line in lines))
                postings.extend(lines)
            results.append(row)
        self.record(frame, results)
        return postings

    def _lines(self, frame: Frame, seg: Segment, p: Physician) -> list[Posting]:
        base = self.base_salary.at(seg.start)
        salary, text = prorated_annual(base.value, p, self.fte_basis, seg, frame)
        if salary == ZERO:
            return []
        total = frame.cents(salary)
        effort = frame.data.effort.get(p.npi, {})
        grant_share = min(max(effort.get("grant_funded", ZERO), ZERO), ONE)
        inputs = {
            "base_salary": str(base.value),
            "fte_basis": self.fte_basis,
            "parameter": self.base_salary.cite(seg.start),
            **{name: str(effort.get(name, ZERO)) for name in (*EFFORTS, "grant_funded")},
        }
        lines: list[Posting] = []
        grant = 0
        if grant_share > ZERO:
            grant, grant_text, cap_inputs = self._grant(frame, seg, p, base.value, grant_share)
            inputs |= cap_inputs
            lines.append(
                self.flow(
                    frame,
                    p.npi,
                    seg,
                    GRANT_ACCOUNT,
                    physician_account(p.npi),
                    grant,
                    grant_text,
                    inputs,
                    kind="academic_grant",
                    line=base.line,
                )
            )
        if effort:
            split = f"effort: {_effort_text(effort)}"
        else:
            split = "no effort allocation on file: all paid by the institution"
        institutional = total - grant
        text = f"{text} = {fmt_cents(total)} salary"
        if grant:
            text += f" − {fmt_cents(grant)} grant-funded"
        text += f" = {fmt_cents(institutional)} paid by the institution ({split})"
        lines.append(
            self.pay(
                frame,
                p,
                seg,
                institutional,
                text,
                inputs,
                kind="academic_institutional",
                line=base.line,
            )
        )
        return lines

    def _grant(
        self, frame: Frame, seg: Segment, p: Physician, base: Decimal, share: Decimal
    ) -> tuple[int, str, dict[str, str]]:
        """The grant-funded part: min(base, cap) × grant-funded effort, prorated like salary."""
        cap = self.nih_cap.at(seg.start) if self.nih_cap is not None else None
        rate = base if cap is None or base <= cap.value else cap.value
        amount, _ = prorated_annual(rate, p, self.fte_basis, seg, frame)
        cents = frame.cents(amount * share)
        active = overlap_days(seg.start, seg.end, p.start_date, p.end_date)
        days = f"{active}/{frame.period.year_days} days"
        charged = f"{fmt_pct(share)} × {dollars(rate)}{fte_text(p, self.fte_basis)}"
        if cap is None:
            text = f"grant-funded: {charged} × {days} = {fmt_cents(cents)} (no salary cap declared)"
            return cents, text, {"nih_cap": "", "cap_binds": "false"}
        assert self.nih_cap is not None
        cite = self.nih_cap.cite(seg.start)
        if base > cap.value:
            text = (
                f"grant-funded: base {dollars(base)} above the NIH cap "
                f"{dollars(cap.value)}: grant pays {charged} × {days} = "
                f"{fmt_cents(cents)}; the institution pays the rest ({cite})"
            )
        else:
            text = (
                f"grant-funded: base {dollars(base)} within the NIH cap {dollars(cap.value)}: "
                f"grant pays {charged} × {days} = {fmt_cents(cents)} ({cite})"
            )
        binds = str(base > cap.value).lower()
        return cents, text, {"nih_cap": str(cap.value), "cap_binds": binds, "nih_cap_cite": cite}


def parse(r: Reader, base: dict[str, Any]) -> Academic | None:
    salary = r.dated_number("base_salary", minimum=ZERO)
    cap = r.dated_number("nih_cap", required=False, minimum=ZERO)
    fte_basis = r.choice("fte_basis", FTE_BASES, "total")
    r.unknown_keys({"base_salary", "nih_cap", "fte_basis", *base["_common_keys"]})
    if salary is None:
        return None
    return Academic(**base["fields"], base_salary=salary, nih_cap=cap, fte_basis=fte_basis)
