"""gainsharing: a share of documented hospital cost savings, with OIG safeguards (value; Quinn:
global budget).

The pool is either a contract-funded pool (``pool: ortho_gainsharing``, e.g. a bundle
reconciliation or global-budget surplus the allocation passes to physicians) or the
documented savings themselves: ``documented_savings`` (the amounts dated in the period) ×
``savings_share`` (the OIG-approved arrangements paid 50% of first-year, specifically
identified savings), booked ``system:cost_savings`` → ``pool:<plan>/<id>``.

The safeguards of the OIG advisory opinions (AO 05-01…06, 06-22, 07-21/22) are parameters:

* ``split: per_capita`` (the approved pattern: equal shares among participating physicians) or
  ``wrvu``;
* ``cap_per_physician``: an annual amount, prorated by the days of the period in the term; a
  share above it stays with the system;
* ``quality_floor: {scorecard, min_score}``: a physician below it gets nothing (their share stays
  with the system);
* ``term: {start, end}``: limited duration: nothing is distributed outside it (a period that
  straddles the end distributes the in-term days' part of the pool);
* ``utilization_floor``: the historical utilisation floor, a documentation field carried into the
  inputs.

Every posting's inputs list the safeguards applied (``safeguards``), for the compliance checks.
Losses are never passed to physicians: a negative pool is absorbed by the system.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from paycascade.components.common import whole_period
from paycascade.components.scoring import ScorecardChoice, parse_choice
from paycascade.components.shared_savings import (
    Claim,
    Pot,
    contract_pot,
    distribute,
    dollars,
    period_amount,
    pool_name,
    weigh,
)
from paycascade.ledger import SYSTEM_RETAINED, Posting, pool_account
from paycascade.money import ONE, ZERO, allocate, fmt_cents, fmt_pct, plain_cents
from paycascade.periods import overlap_days
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader
from paycascade.plans.scorecard import ScoreResult
from paycascade.plans.yamlpos import PosDict, as_date

COST_SAVINGS = "system:cost_savings"
SPLITS = ("per_capita", "wrvu")


@dataclass(frozen=True)
class Gainsharing(Spec):
    kind = "gainsharing"
    default_alignment = "value"
    quinn = "global_budget"

    pool: str | None  # a contract-funded pool account, or None: documented savings
    savings: Dated[Decimal] | None
    savings_share: Decimal | None
    split: str
    cap: Dated[Decimal] | None
    floor_card: ScorecardChoice | None
    floor_score: Decimal | None
    term: tuple[date, date] | None
    utilization_floor: str | None

    def __post_init__(self) -> None:
        # The quality floor reads the quality table; nothing else beyond the base tables.
        object.__setattr__(
            self, "needs", frozenset({"quality"}) if self.floor_card else frozenset()
        )

    def scorecard_ids(self) -> list[str]:
        return self.floor_card.ids() if self.floor_card is not None else []

    def breakpoints(self) -> list[date]:
        points = self.cap.breakpoints() if self.cap is not None else []
        if self.term is not None:
            points += [self.term[0], self.term[1] + timedelta(days=1)]
        return points

    def safeguards(self, frame: Frame) -> dict[str, str]:
        applied = []
        if self.split == "per_capita":
            applied.append("per_capita_split")
        if self.cap is not None:
            applied.append("cap_per_physician")
        if self.floor_card is not None:
            applied.append("quality_floor")
        if self.term is not None:
            applied.append("limited_term")
        if self.utilization_floor:
            applied.append("utilization_floor")
        inputs = {
            "safeguards": ",".join(applied) or "none",
            "split": self.split,
            "cap_per_physician": ""
            if self.cap is None
            else str(self.cap.at(frame.period.start).value),
            "quality_floor": ""
            if self.floor_card is None
            else f"{','.join(self.floor_card.ids())} >= {self.floor_score}",
            "term": "" if self.term is None else f"{self.term[0]}..{self.term[1]}",
            "utilization_floor": self.utilization_floor or "",
        }
        if self.savings_share is not None:
            inputs["savings_share"] = str(self.savings_share)
        return inputs

    def window(self, frame: Frame) -> tuple[date, date] | None:
        """The part of the period inside the term (None: none of it)."""
        start, end = frame.period.start, frame.period.end
        if self.term is not None:
            start, end = max(start, self.term[0]), min(end, self.term[1])
        return (start, end) if start <= end else None

    def compute(self, frame: Frame) -> list[Posting]:
        inputs = self.safeguards(frame)
        pot, postings = self._pot(frame, inputs)
        window = self.window(frame)
        pot, out_of_term = self._in_term(frame, pot, window, inputs)
        postings += out_of_term
        method = "equal" if self.split == "per_capita" else "wrvu"
        basis, weighted = weigh(frame, method, window=window)
        basis = replace(basis, method=self.split)
        scores: list[ScoreResult | None] = (
            self.floor_card.scores(frame)
            if self.floor_card is not None
            else [None] * len(frame.physicians)
        )
        cap, cap_text = (None, "") if window is None else self._cap(frame, window)
        claims = []
        for i, p in enumerate(frame.physicians):
            c = weighted[i]
            days = 0 if window is None else overlap_days(*window, p.start_date, p.end_date)
            excluded = None if days else "not employed during the gainsharing term"
            claims.append(
                Claim(
                    c.weight,
                    c.shown,
                    c.detail,
                    excluded=excluded,
                    kept=self._below_floor(scores[i]),
                    cap=cap,
                    cap_text=cap_text,
                )
            )
        postings += distribute(
            self,
            frame,
            pot,
            basis,
            claims,
            prefix=self.kind,
            pass_losses=False,
            no_losses="gainsharing never passes losses to physicians",
            inputs=inputs,
        )
        return postings

    def _below_floor(self, score: ScoreResult | None) -> str | None:
        if self.floor_card is None:
            return None
        if score is None:
            return "no score on the quality floor's scorecard: below the quality floor"
        if self.floor_score is not None and score.composite < self.floor_score:
            return (
                f"score {score.composite} is below the quality floor of {self.floor_score}: "
                "no gainsharing payment"
            )
        return None

    def _cap(self, frame: Frame, window: tuple[date, date]) -> tuple[int | None, str]:
        """The cap per physician for the in-term days of the period, and its wording."""
        if self.cap is None:
            return None, ""
        year = frame.period.year_days
        total, texts = ZERO, []
        for seg in frame.segments:
            days = overlap_days(seg.start, seg.end, *window)
            if days == 0:
                continue
            entry = self.cap.at(seg.start)
            total += entry.value * days / year
            texts.append(f"{dollars(entry.value)} annual × {days}/{year} days")
        return frame.cents(total), " + ".join(texts) + " in the term"

    def _pot(self, frame: Frame, inputs: dict[str, str]) -> tuple[Pot, list[Posting]]:
        if self.pool is not None:
            return contract_pot(self.pool, frame.data.pools.get(self.pool)), []
        assert self.savings is not None and self.savings_share is not None
        account = pool_account(frame.plan_id, self.id)
        amount, line, cite = period_amount(self.savings, frame.period)
        cents = frame.cents(amount * self.savings_share)
        pot = Pot(
            account,
            cents,
            "pool",
            {"documented_savings": str(amount), "parameter": cite},
            f"no documented savings for {frame.period.label} ({cite}): nothing to distribute",
        )
        if cents == 0:
            return pot, []
        text = (
            f"{fmt_pct(self.savings_share)} of {dollars(amount)} documented hospital cost "
            f"savings ({cite}) = {fmt_cents(cents)} into the gainsharing pool"
        )
        funding = self.flow(
            frame,
            None,
            whole_period(frame),
            COST_SAVINGS,
            account,
            cents,
            text,
            {**inputs, "documented_savings": str(amount), "parameter": cite},
            kind="gainsharing_funding",
            alignment="none",
            line=line,
        )
        return pot, [funding]

    def _in_term(
        self, frame: Frame, pot: Pot, window: tuple[date, date] | None, inputs: dict[str, str]
    ) -> tuple[Pot, list[Posting]]:
        """Retain the part of a positive pool for the days of the period outside the term."""
        if self.term is None or pot.cents <= 0:
            return pot, []
        period = frame.period
        term = f"{self.term[0]:%Y-%m-%d} to {self.term[1]:%Y-%m-%d}"
        days_in = 0 if window is None else overlap_days(period.start, period.end, *window)
        if days_in == period.days:
            return pot, []
        inside, outside = allocate(pot.cents, [days_in, period.days - days_in])
        if days_in == 0:
            text = (
                f"{fmt_cents(outside)} in {pot.account} retained by the system: the period is "
                f"outside the gainsharing term ({term}), so nothing is distributed"
            )
            empty = f"the period is outside the gainsharing term ({term}): nothing is distributed"
        else:
            text = (
                f"{fmt_cents(outside)} of {fmt_cents(pot.cents)} in {pot.account} retained by the "
                f"system: {period.days - days_in} of the period's {period.days} days are outside "
                f"the gainsharing term ({term})"
            )
            empty = pot.empty
        retained = self.flow(
            frame,
            None,
            whole_period(frame),
            pot.account,
            SYSTEM_RETAINED,
            outside,
            text,
            {**inputs, **pot.inputs, "pool": pot.account, "pool_funding": plain_cents(pot.cents)},
            kind="gainsharing_retained",
            alignment="none",
        )
        label = "in-term part of the pool" if days_in else pot.label
        return replace(pot, cents=inside, label=label, empty=empty), [retained]


def _quality_floor(r: Reader) -> tuple[ScorecardChoice | None, Decimal | None, bool]:
    value = r.raw("quality_floor")
    if value is None:
        return None, None, True
    if not isinstance(value, PosDict):
        r.error("quality_floor", "'quality_floor' must be a mapping {scorecard: …, min_score: …}")
        return None, None, False
    sub = Reader(value, r.file, r.diags, f"{r.where} quality_floor")
    choice = parse_choice(sub)
    score = sub.number("min_score", required=True, minimum=ZERO)
    sub.unknown_keys({"scorecard", "min_score"})
    return choice, score, choice is not None and score is not None


def _term(r: Reader) -> tuple[tuple[date, date] | None, bool]:
    value = r.raw("term")
    if value is None:
        return None, True
    if not isinstance(value, PosDict):
        r.error("term", "'term' must be a mapping {start: YYYY-MM-DD, end: YYYY-MM-DD}")
        return None, False
    sub = Reader(value, r.file, r.diags, f"{r.where} term")
    dates = []
    for key in ("start", "end"):
        day = as_date(sub.raw(key))
        if day is None:
            sub.error(key if key in value else None, f"term '{key}' must be a date YYYY-MM-DD")
            return None, False
        dates.append(day)
    sub.unknown_keys({"start", "end"})
    if dates[1] < dates[0]:
        sub.error("end", f"term ends ({dates[1]}) before it starts ({dates[0]})")
        return None, False
    return (dates[0], dates[1]), True


def parse(r: Reader, base: dict[str, Any]) -> Gainsharing | None:
    pool = pool_name(r) if r.has("pool") else None
    savings = r.dated_number("documented_savings", required=False, minimum=ZERO)
    share = r.number("savings_share", minimum=ZERO, maximum=ONE)
    split = r.choice("split", SPLITS, "per_capita")
    cap = r.dated_number("cap_per_physician", required=False, minimum=ZERO)
    card, floor, floor_ok = _quality_floor(r)
    term, term_ok = _term(r)
    utilization = r.text("utilization_floor")
    r.unknown_keys(
        {
            "pool",
            "documented_savings",
            "savings_share",
            "split",
            "cap_per_physician",
            "quality_floor",
            "term",
            "utilization_floor",
            *base["_common_keys"],
        }
    )
    ok = floor_ok and term_ok
    if r.has("pool") == r.has("documented_savings"):
        r.error(
            None,
            "give exactly one of 'pool' (a contract-funded pool) or 'documented_savings' "
            "(with 'savings_share')",
        )
        ok = False
    elif r.has("documented_savings") and not r.has("savings_share"):
        r.error(None, "'documented_savings' needs 'savings_share' (the OIG pattern paid 0.5)")
        ok = False
    elif r.has("pool") and r.has("savings_share"):
        r.error("savings_share", "'savings_share' applies to 'documented_savings' only")
        ok = False
    if (
        not ok
        or (r.has("pool") and pool is None)
        or (r.has("documented_savings") and savings is None)
    ):
        return None
    return Gainsharing(
        **base["fields"],
        pool=pool,
        savings=savings,
        savings_share=share,
        split=split,
        cap=cap,
        floor_card=card,
        floor_score=floor,
        term=term,
        utilization_floor=utilization,
    )
