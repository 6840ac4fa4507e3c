"""withhold: a share of other pay withheld into a pool and paid back by scorecard (mixed; Quinn: P4P).

SSM Health's cardiology and obstetrics model: 10% of RVU-based pay is withheld into a pool; at
year end each physician is paid back in full or in part on specialty quality measures, and
"strong performers may earn additional bonuses beyond the withheld amount".

* withheld_i = ``rate`` × basis_i (basis = the components named in ``of``), each segment;
* payout_i = withheld_i × payout(score_i): ``payout: linear`` pays back the composite score
  (capped at 1); ``payout: [{min_score: 0.9, share: 1.0}, {min_score: 0.6, share: 0.5}]`` pays
  the share of the highest step reached, nothing below the last;
* forfeited = Σ (withheld − payout) goes, per ``forfeits``, ``to: strong_performers`` (those
  with a score ≥ ``bonus_threshold``, pro rata to their withheld amount, or to withheld × score
  with ``split: score``; at most ``bonus_cap`` × their own withheld if declared) or ``to:
  retained``.  Whatever is not paid out is retained by the system.

Always, to the cent: Σ withheld = Σ payout + Σ bonus + retained.  Split remainders go by the
largest-remainder method, ties to the earlier NPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.components.common import ref_list, whole_period
from paycascade.components.scoring import ScorecardChoice, parse_choice
from paycascade.ledger import SYSTEM_RETAINED, Posting, physician_account, pool_account
from paycascade.money import ONE, ZERO, allocate, fmt_cents, fmt_pct
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader
from paycascade.plans.scorecard import ScoreResult
from paycascade.plans.yamlpos import PosDict, PosList


@dataclass(frozen=True)
class Step:
    min_score: Decimal
    share: Decimal


@dataclass(frozen=True)
class Withhold(Spec):
    kind = "withhold"
    default_alignment = "mixed"
    quinn = "pay_for_performance"
    needs = frozenset({"quality"})

    rate: Dated[Decimal]
    of: tuple[str, ...]
    scorecard: ScorecardChoice
    steps: tuple[Step, ...]  # empty = linear
    forfeit_to: str
    bonus_threshold: Decimal | None
    split: str
    bonus_cap: Decimal | None

    def refs(self) -> list[str]:
        return list(self.of)

    def scorecard_ids(self) -> list[str]:
        return self.scorecard.ids()

    def breakpoints(self) -> list[Any]:
        return self.rate.breakpoints()

    def payout_share(self, score: Decimal) -> Decimal:
        if not self.steps:
            return min(max(score, ZERO), ONE)
        for step in self.steps:
            if score >= step.min_score:
                return step.share
        return ZERO

    def compute(self, frame: Frame) -> list[Posting]:
        pool = pool_account(frame.plan_id, self.id)
        n = len(frame.physicians)
        postings: list[Posting] = []
        withheld_rows: list[list[int]] = []
        withheld = [0] * n
        for seg in frame.segments:
            entry = self.rate.at(seg.start)
            basis = frame.basis(self.of, seg)
            row = [0] * n
            for i, p in enumerate(frame.physicians):
                if basis[i] <= 0:  # nothing to withhold from (a reduction is not pay)
                    continue
                cents = frame.cents(Decimal(basis[i]) / 100 * entry.value)
                row[i] = -cents
                withheld[i] += cents
                text = f"{fmt_pct(entry.value)} × {fmt_cents(basis[i])} ({' + '.join(self.of)}) withheld into the pool = {fmt_cents(cents)}"
                postings.append(
                    self.flow(
                        frame,
                        p.npi,
                        seg,
                        physician_account(p.npi),
                        pool,
                        cents,
                        text,
                        {
                            "rate": str(entry.value),
                            "basis": str(Decimal(basis[i]) / 100),
                            "parameter": self.rate.cite(seg.start),
                        },
                        kind="withheld",
                        alignment="volume",
                        line=entry.line,
                    )
                )
            withheld_rows.append(row)
        scores = self.scorecard.scores(frame)
        settle = self._settle(frame, pool, withheld, scores)
        postings.extend(settle[0])
        # the component's own result: net effect per physician (−withheld, +payout +bonus),
        # the payback counted in the last segment
        results = withheld_rows
        for i, amount in enumerate(settle[1]):
            results[-1][i] += amount
        self.record(frame, results)
        return postings

    def _settle(
        self, frame: Frame, pool: str, withheld: list[int], scores: list[ScoreResult | None]
    ) -> tuple[list[Posting], list[int]]:
        seg = whole_period(frame)
        postings: list[Posting] = []
        returned = [0] * len(withheld)
        payouts = [0] * len(withheld)
        for i, p in enumerate(frame.physicians):
            if withheld[i] == 0:
                continue
            score = scores[i]
            composite = score.composite if score is not None else ZERO
            share = self.payout_share(composite)
            payouts[i] = frame.cents(Decimal(withheld[i]) / 100 * share)
            returned[i] += payouts[i]
            why = score.explanation if score is not None else "no scorecard for this specialty"
            text = (
                f"{fmt_cents(withheld[i])} withheld × {fmt_pct(share)} paid back at score {composite} "
                f"= {fmt_cents(payouts[i])}; {why}"
            )
            postings.append(
                self.flow(
                    frame,
                    p.npi,
                    seg,
                    pool,
                    physician_account(p.npi),
                    payouts[i],
                    text,
                    {
                        "withheld": str(Decimal(withheld[i]) / 100),
                        "score": str(composite),
                        "payout_share": str(share),
                    },
                    kind="withhold_payout",
                )
            )
        forfeited = sum(withheld) - sum(payouts)
        bonuses = self._bonuses(forfeited, withheld, scores)
        for i, p in enumerate(frame.physicians):
            if bonuses[i] == 0:
                continue
            returned[i] += bonuses[i]
            composite = scores[i].composite if scores[i] is not None else ZERO  # type: ignore[union-attr]
            text = (
                f"strong-performer bonus: score {composite} ≥ {self.bonus_threshold}; share of "
                f"{fmt_cents(forfeited)} forfeited to the pool, pro rata to "
                f"{'withheld × score' if self.split == 'score' else 'amount withheld'} = {fmt_cents(bonuses[i])}"
            )
            postings.append(
                self.flow(
                    frame,
                    p.npi,
                    seg,
                    pool,
                    physician_account(p.npi),
                    bonuses[i],
                    text,
                    {"forfeited_pool": str(Decimal(forfeited) / 100), "score": str(composite)},
                    kind="withhold_bonus",
                )
            )
        retained = forfeited - sum(bonuses)
        if retained or forfeited:
            reason = self._retained_reason(forfeited, bonuses)
            postings.append(
                self.flow(
                    frame,
                    None,
                    seg,
                    pool,
                    SYSTEM_RETAINED,
                    retained,
                    f"{fmt_cents(retained)} of {fmt_cents(forfeited)} forfeited retained by the system: {reason}",
                    {
                        "forfeited": str(Decimal(forfeited) / 100),
                        "withheld_total": str(Decimal(sum(withheld)) / 100),
                    },
                    kind="withhold_retained",
                    alignment="none",
                )
            )
        return postings, returned

    def _bonuses(
        self, forfeited: int, withheld: list[int], scores: list[ScoreResult | None]
    ) -> list[int]:
        n = len(withheld)
        if self.forfeit_to != "strong_performers" or forfeited <= 0 or self.bonus_threshold is None:
            return [0] * n
        weights: list[Decimal] = []
        for i in range(n):
            score = scores[i]
            strong = (
                score is not None and withheld[i] > 0 and score.composite >= self.bonus_threshold
            )
            if not strong:
                weights.append(ZERO)
            elif self.split == "score":
                assert score is not None
                weights.append(Decimal(withheld[i]) * score.composite)
            else:
                weights.append(Decimal(withheld[i]))
        bonuses = allocate(forfeited, weights)
        if self.bonus_cap is not None:
            bonuses = [
                min(b, int(Decimal(w) * self.bonus_cap))
                for b, w in zip(bonuses, withheld, strict=True)
            ]
        return bonuses

    def _retained_reason(self, forfeited: int, bonuses: list[int]) -> str:
        if self.forfeit_to == "retained":
            return "the plan retains forfeited withholds"
        if not any(bonuses):
            return f"no physician reached the bonus threshold of {self.bonus_threshold}"
        if self.bonus_cap is not None and sum(bonuses) < forfeited:
            return f"bonuses are capped at {fmt_pct(self.bonus_cap)} of each physician's own withheld amount"
        return "nothing left over"


def _parse_steps(r: Reader) -> tuple[Step, ...] | None:
    value = r.raw("payout")
    if value is None or value == "linear":
        return ()
    if not isinstance(value, PosList):
        r.error("payout", "'payout' must be 'linear' or a list of {min_score, share} steps")
        return None
    steps: list[Step] = []
    for index, item in enumerate(value):
        if not isinstance(item, PosDict):
            r.diags.add(
                r.file, value.line_of(index), f"{r.where}: payout step needs min_score and share"
            )
            return None
        sub = Reader(item, r.file, r.diags, f"{r.where} payout step {index + 1}")
        low = sub.number("min_score", required=True, minimum=ZERO)
        share = sub.number("share", required=True, minimum=ZERO, maximum=ONE)
        sub.unknown_keys({"min_score", "share"})
        if low is None or share is None:
            return None
        if steps and low >= steps[-1].min_score:
            sub.error("min_score", "payout steps must be listed from the highest min_score down")
            return None
        steps.append(Step(low, share))
    return tuple(steps)


def parse(r: Reader, base: dict[str, Any]) -> Withhold | None:
    rate = r.dated_number("rate", minimum=ZERO, maximum=ONE)
    of = ref_list(r, "of", required=True)
    choice = parse_choice(r)
    steps = _parse_steps(r)
    forfeit = r.raw("forfeits")
    to, threshold, split, cap = "retained", None, "withheld", None
    if forfeit is not None:
        if not isinstance(forfeit, PosDict):
            r.error(
                "forfeits",
                "'forfeits' must be a mapping, e.g. {to: strong_performers, bonus_threshold: 0.9}",
            )
        else:
            sub = Reader(forfeit, r.file, r.diags, f"{r.where} forfeits")
            to = sub.choice("to", ("strong_performers", "retained"), "retained")
            threshold = sub.number(
                "bonus_threshold", required=to == "strong_performers", minimum=ZERO
            )
            split = sub.choice("split", ("withheld", "score"), "withheld")
            cap = sub.number("bonus_cap", minimum=ZERO)
            sub.unknown_keys({"to", "bonus_threshold", "split", "bonus_cap"})
    r.unknown_keys({"rate", "of", "scorecard", "payout", "forfeits", *base["_common_keys"]})
    if rate is None or choice is None or steps is None or not of:
        return None
    return Withhold(
        **base["fields"],
        rate=rate,
        of=tuple(of),
        scorecard=choice,
        steps=steps,
        forfeit_to=to,
        bonus_threshold=threshold,
        split=split,
        bonus_cap=cap,
    )
