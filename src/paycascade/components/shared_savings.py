"""shared_savings and capitation: contract money in a pool, distributed to physicians (value).

The cascade books every payer contract into the system and, by the contract's declared
allocation, into named physician pools (``contract:<id>`` → ``pool:<name>``).  What a pool
received this period reaches the plan as ``PlanData.pools["pool:<name>"]`` (signed cents).
These components empty that pool:

* **weights** by ``method``: ``attributed_lives`` (member months, or risk-adjusted member
  months with ``risk_adjusted: true``), ``quality_score`` (composite on ``scorecard``),
  ``wrvu``, ``equal`` (one share each, or × FTE with ``fte_weighted: true``) or
  ``contribution`` (savings of the physician's attributed panel: max(0, expected − actual
  cost));
* **eligibility** (``min_fte``, ``min_score``): a physician below it takes no part, so the
  others share the pool;
* **authorization** (``require_authorization``, default true): a physician whose agreement does
  not authorize pass-through keeps their place in the split, but their share stays with the
  system (``pool`` → ``system:retained``, on their statement as a zero line with the reason);
* the pool is split by the largest-remainder method (ties to the earlier NPI); what nobody can
  take (no eligible physician, zero weights) goes to ``system:retained`` with the reason;
* a negative pool (a loss) is passed to physicians (``physician`` → ``pool``) only with
  ``losses: pass_through``; otherwise the system absorbs it (``system:retained`` → ``pool``).

After the component the pool balances to zero, to the cent:
funding = Σ paid to physicians − Σ losses they bore + Σ retained (signed).

``capitation`` is the same distribution of a capitated contract's pool (Quinn: capitation),
by default by attributed lives.  :func:`distribute` is also used by ``gainsharing``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paycascade.components.common import per_physician_zero, whole_period
from paycascade.components.scoring import ScorecardChoice, parse_choice
from paycascade.contracts.base import PoolFunding
from paycascade.ledger import SYSTEM_RETAINED, Alignment, Posting, physician_account
from paycascade.money import ONE, ZERO, allocate, fmt_cents, fmt_decimal, plain_cents, to_cents
from paycascade.periods import Period
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader
from paycascade.plans.scorecard import ScoreResult
from paycascade.plans.yamlpos import PosDict

METHODS = ("attributed_lives", "quality_score", "wrvu", "equal", "contribution")
LOSSES = ("retained", "pass_through")
NO_LOSSES = "the plan does not pass losses to physicians ('losses: pass_through' is not declared)"
NOT_AUTHORIZED = (
    "your employment agreement does not authorize pass-through of contract savings "
    "(pass_through_authorized is false)"
)


def qty(value: Decimal) -> str:
    """A count without trailing zeros: ``1812`` → ``1,812``; ``1950.30`` → ``1,950.3``."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def dollars(value: Decimal) -> str:
    return fmt_cents(to_cents(value))


# -- what is distributed -------------------------------------------------------------------


@dataclass(frozen=True)
class Pot:
    """The money a component distributes: a pool account and its signed funding."""

    account: str
    cents: int
    label: str  # how the explanation names it: "pool", "in-term part of the pool"
    inputs: Mapping[str, str]
    empty: str  # why there is nothing to distribute when cents == 0


def contract_pot(account: str, funding: PoolFunding | None) -> Pot:
    """The pot of a contract-funded pool (nothing if no contract paid into it)."""
    if funding is None:
        return Pot(
            account,
            0,
            "pool",
            {"funded_by": ""},
            f"{account} received nothing from contracts this period: nothing to distribute",
        )
    sources = "; ".join(f"{cid} {plain_cents(c)}" for cid, c in funding.sources)
    return Pot(
        account,
        funding.amount_cents,
        "pool",
        {"funded_by": sources, "funding": funding.explanation},
        f"{account} received {fmt_cents(0)} from contracts this period ({funding.explanation}): "
        "nothing to distribute",
    )


def period_amount(param: Dated[Decimal], period: Period) -> tuple[Decimal, int, str]:
    """An amount *for* a period: the dated entries whose date falls in the period, summed.

    An undated value is the amount of every period.  Returns (amount, line, citation).
    """
    if param.entries[0].effective is None:
        entry = param.entries[0]
        return entry.value, entry.line, param.cite(period.start)
    total, cites, line = ZERO, [], param.entries[0].line
    for entry in param.entries:
        if entry.effective is not None and period.contains(entry.effective):
            total += entry.value
            line = entry.line
            cite = f"{param.file}:{entry.line}"
            cites.append(f"{cite} ({entry.source})" if entry.source else cite)
    return total, line, "; ".join(cites) or f"no '{param.name}' dated in {period.label}"


# -- each physician's part ----------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One physician's part in a distribution."""

    weight: Decimal = ZERO
    shown: str = "0"  # the weight as the statement shows it: "1,812"
    detail: str = ""  # how the weight was found: " (expected $… − actual $…)"
    excluded: str | None = None  # takes no part in the split, because …
    kept: str | None = None  # their share stays with the system, because …
    cap: int | None = None  # paid at most this many cents; the rest is retained
    cap_text: str = ""


@dataclass(frozen=True)
class Basis:
    """What the weights count."""

    method: str
    unit: str  # "member months"
    shown: Callable[[Decimal], str]  # how a weight and the total are written


def weigh(
    frame: Frame,
    method: str,
    *,
    risk_adjusted: bool = False,
    fte_weighted: bool = False,
    scores: Sequence[ScoreResult | None] = (),
    window: tuple[date, date] | None = None,
) -> tuple[Basis, list[Claim]]:
    """Each physician's weight under ``method``, over the period (or the buckets in ``window``)."""
    data = frame.data
    seg = whole_period(frame)
    buckets = seg.buckets
    if window is not None:
        buckets = tuple(b for b in buckets if window[0] <= data.bucket_starts[b] <= window[1])
    claims: list[Claim] = []

    def summed(table: Mapping[tuple[str, int], Decimal], npi: str) -> Decimal:
        return sum((table.get((npi, b), ZERO) for b in buckets), ZERO)

    if method == "attributed_lives":
        unit = "risk-adjusted member months" if risk_adjusted else "member months"
        for p in frame.physicians:
            months = summed(data.member_months, p.npi)
            if not risk_adjusted:
                claims.append(Claim(months, qty(months)))
                continue
            adjusted = summed(data.risk_member_months, p.npi)
            risk = (
                (adjusted / months).quantize(Decimal("0.0001"), ROUND_HALF_UP) if months else ZERO
            )
            detail = f" ({qty(months)} member months × average risk {risk})"
            claims.append(Claim(adjusted, qty(adjusted), detail))
        return Basis(method, unit, qty), claims
    if method == "quality_score":
        for i, _ in enumerate(frame.physicians):
            score = scores[i] if i < len(scores) else None
            value = score.composite if score is not None else ZERO
            claims.append(Claim(max(value, ZERO), qty(value)))
        return Basis(method, "composite score points", qty), claims
    if method == "wrvu":
        for p in frame.physicians:
            credited = summed(data.wrvu, p.npi)
            claims.append(Claim(credited, fmt_decimal(credited)))
        return Basis(method, "wRVU", fmt_decimal), claims
    if method == "equal":
        for p in frame.physicians:
            share = p.fte if fte_weighted else ONE
            claims.append(Claim(share, fmt_decimal(share) if fte_weighted else "1"))
        if fte_weighted:
            return Basis(method, "FTE", fmt_decimal), claims
        return Basis(method, "equal shares", qty), claims
    # contribution: the risk-adjusted savings of the physician's attributed panel
    for p in frame.physicians:
        expected = data.expected_cost.get(p.npi, ZERO)
        actual = data.actual_cost.get(p.npi, ZERO)
        savings = max(ZERO, expected - actual)
        below = ", below zero: counted as 0" if expected < actual else ""
        detail = f" (expected {dollars(expected)} − actual {dollars(actual)}{below})"
        claims.append(Claim(savings, dollars(savings), detail))
    return Basis(method, "in panel savings", dollars), claims


# -- the distribution ---------------------------------------------------------------------


def distribute(
    spec: Spec,
    frame: Frame,
    pot: Pot,
    basis: Basis,
    claims: Sequence[Claim],
    *,
    prefix: str,
    pass_losses: bool,
    no_losses: str,
    inputs: Mapping[str, str],
) -> list[Posting]:
    """Empty ``pot`` into physician accounts and ``system:retained``; record each net result.

    Posting kinds: ``<prefix>`` (pool → physician, zero lines included), ``<prefix>_retained``
    (pool ↔ system:retained) and ``<prefix>_loss`` (physician → pool).
    """
    seg = whole_period(frame)
    physicians = frame.physicians
    weights = [ZERO if c.excluded else c.weight for c in claims]
    total = sum(weights, ZERO)
    funding = pot.cents
    common = {
        **inputs,
        **pot.inputs,
        "pool": pot.account,
        "pool_funding": plain_cents(funding),
        "method": basis.method,
        "total_weight": str(total),
    }
    net = [0] * len(physicians)
    postings: list[Posting] = []
    retained, paid, loss = f"{prefix}_retained", prefix, f"{prefix}_loss"

    def post(
        i: int | None, source: str, dest: str, cents: int, text: str, kind: str, **extra: str
    ) -> None:
        npi = None if i is None else physicians[i].npi
        alignment: Alignment | None = "none" if kind == retained else None
        postings.append(
            spec.flow(
                frame,
                npi,
                seg,
                source,
                dest,
                cents,
                text,
                {**common, **extra},
                kind=kind,
                alignment=alignment,
            )
        )

    def weight_inputs(i: int) -> dict[str, str]:
        c = claims[i]
        return {"weight": str(c.weight), "excluded": c.excluded or "", "kept": c.kept or ""}

    def zero_lines(reason: Callable[[int], str]) -> None:
        for i, p in enumerate(physicians):
            post(i, pot.account, physician_account(p.npi), 0, reason(i), paid, **weight_inputs(i))

    def not_taking(i: int) -> str:
        c = claims[i]
        if c.excluded:
            return f"not eligible: {c.excluded}"
        return f"0 {basis.unit}"

    money = abs(funding)
    total_text = basis.shown(total)
    if funding == 0:
        zero_lines(lambda i: pot.empty)
    elif funding < 0 and not pass_losses:
        post(
            None,
            SYSTEM_RETAINED,
            pot.account,
            money,
            f"{fmt_cents(money)} loss in {pot.account} absorbed by the system: {no_losses}",
            retained,
        )
        zero_lines(
            lambda i: (
                f"{pot.account} had a loss of {fmt_cents(money)}, absorbed by the system: "
                f"{no_losses}; nothing is passed to you"
            )
        )
    elif total == 0:
        what = "loss" if funding < 0 else pot.label
        reasons = sorted({not_taking(i) for i in range(len(physicians))}) or ["no physicians"]
        held = "loss in {} absorbed" if funding < 0 else "in {} retained"
        text = (
            f"{fmt_cents(money)} {held.format(pot.account)} by the system: nobody can take a "
            f"share ({'; '.join(reasons)})"
        )
        if funding > 0:
            post(None, pot.account, SYSTEM_RETAINED, money, text, retained)
        else:
            post(None, SYSTEM_RETAINED, pot.account, money, text, retained)
        zero_lines(lambda i: f"no share of the {fmt_cents(money)} {what}: {not_taking(i)}")
    else:
        parts = allocate(money, weights)
        for i, p in enumerate(physicians):
            c, part = claims[i], parts[i]
            account = physician_account(p.npi)
            extra = weight_inputs(i)
            if weights[i] == 0:
                post(
                    i,
                    pot.account,
                    account,
                    0,
                    f"no share of the {fmt_cents(money)} {pot.label}: {not_taking(i)}",
                    paid,
                    **extra,
                )
                continue
            formula = (
                f"{fmt_cents(money)} {pot.label} × {c.shown} of {total_text} {basis.unit}"
                f"{c.detail} = {fmt_cents(part)}"
            )
            if funding < 0:
                formula = f"share of the loss: {formula}"
                if c.kept:
                    post(
                        i,
                        SYSTEM_RETAINED,
                        pot.account,
                        part,
                        f"{formula}, absorbed by the system: {c.kept}",
                        retained,
                        **extra,
                    )
                    continue
                net[i] -= part
                post(
                    i,
                    account,
                    pot.account,
                    part,
                    f"{formula}, borne by you (losses: pass_through)",
                    loss,
                    **extra,
                )
                continue
            if c.kept:
                post(
                    i,
                    pot.account,
                    SYSTEM_RETAINED,
                    part,
                    f"{formula}, kept by the system: {c.kept}",
                    retained,
                    **extra,
                )
                continue
            pay = part if c.cap is None else min(part, c.cap)
            net[i] += pay
            if pay == part:
                post(i, pot.account, account, pay, formula, paid, **extra)
                continue
            assert c.cap is not None
            post(
                i,
                pot.account,
                account,
                pay,
                f"{formula}, capped at {fmt_cents(c.cap)} per physician ({c.cap_text})",
                paid,
                **extra,
                cap=plain_cents(c.cap),
            )
            post(
                i,
                pot.account,
                SYSTEM_RETAINED,
                part - pay,
                f"{fmt_cents(part - pay)} of your {fmt_cents(part)} share is above the "
                f"{fmt_cents(c.cap)} cap per physician: kept by the system",
                retained,
                **extra,
                cap=plain_cents(c.cap),
            )
    rows = per_physician_zero(frame)
    rows[-1] = net
    spec.record(frame, rows)
    return postings


# -- the shared_savings and capitation declarations ----------------------------------------


@dataclass(frozen=True)
class PoolShare(Spec):
    """A contract-funded pool distributed to the plan's physicians."""

    default_alignment = "value"

    pool: str  # the account, "pool:<name>"
    method: str
    risk_adjusted: bool
    fte_weighted: bool
    scorecard: ScorecardChoice | None
    min_fte: Decimal | None
    min_score: Decimal | None
    require_authorization: bool
    losses: str

    def __post_init__(self) -> None:
        # The tables this declaration reads depend on its method and eligibility.
        tables: set[str] = set()
        if self.method in ("attributed_lives", "contribution"):
            tables.add("attribution")
        if self.scorecard is not None:
            tables.add("quality")
        object.__setattr__(self, "needs", frozenset(tables))

    def scorecard_ids(self) -> list[str]:
        return self.scorecard.ids() if self.scorecard is not None else []

    def describe_eligibility(self) -> str:
        rules = []
        if self.min_fte is not None:
            rules.append(f"FTE ≥ {self.min_fte}")
        if self.min_score is not None:
            rules.append(f"score ≥ {self.min_score}")
        if self.require_authorization:
            rules.append("pass-through authorized")
        return ", ".join(rules) or "none"

    def _excluded(self, fte: Decimal, active: bool, score: ScoreResult | None) -> str | None:
        """Why a physician takes no part in the split (None: they do)."""
        if not active:
            return "not employed during the period"
        if self.min_fte is not None and fte < self.min_fte:
            return f"{fmt_decimal(fte)} FTE is below the minimum of {self.min_fte}"
        needs_score = self.min_score is not None or self.method == "quality_score"
        if needs_score and score is None:
            return "no scorecard for your specialty"
        if self.min_score is not None and score is not None and score.composite < self.min_score:
            return f"score {score.composite} is below the minimum of {self.min_score}"
        return None

    def compute(self, frame: Frame) -> list[Posting]:
        pot = contract_pot(self.pool, frame.data.pools.get(self.pool))
        scores: list[ScoreResult | None] = (
            self.scorecard.scores(frame)
            if self.scorecard is not None
            else [None] * len(frame.physicians)
        )
        basis, weighted = weigh(
            frame,
            self.method,
            risk_adjusted=self.risk_adjusted,
            fte_weighted=self.fte_weighted,
            scores=scores,
        )
        active = frame_active(frame)
        claims = []
        for i, p in enumerate(frame.physicians):
            c = weighted[i]
            kept = None
            if self.require_authorization and not p.pass_through_authorized:
                kept = NOT_AUTHORIZED
            excluded = self._excluded(p.fte, active[i], scores[i])
            claims.append(Claim(c.weight, c.shown, c.detail, excluded=excluded, kept=kept))
        inputs = {
            "eligibility": self.describe_eligibility(),
            "require_authorization": str(self.require_authorization).lower(),
            "losses": self.losses,
            "risk_adjusted": str(self.risk_adjusted).lower(),
        }
        return distribute(
            self,
            frame,
            pot,
            basis,
            claims,
            prefix=self.kind,
            pass_losses=self.losses == "pass_through",
            no_losses=NO_LOSSES,
            inputs=inputs,
        )


def frame_active(frame: Frame) -> list[bool]:
    return [days > 0 for days in frame.active_days(whole_period(frame))]


@dataclass(frozen=True)
class SharedSavings(PoolShare):
    kind = "shared_savings"
    quinn = "shared_savings"


@dataclass(frozen=True)
class Capitation(PoolShare):
    kind = "capitation"
    quinn = "capitation"


def pool_name(r: Reader) -> str | None:
    """``pool: pcp_shared_savings`` (or ``pool:pcp_shared_savings``) → its account."""
    name = r.text("pool", required=True)
    if name is None:
        return None
    name = name.removeprefix("pool:").strip()
    if not name:
        r.error("pool", "'pool' must name a pool, e.g. pcp_shared_savings")
        return None
    return f"pool:{name}"


ELIGIBILITY_KEYS = ("min_fte", "min_score", "require_authorization")


def _eligibility(r: Reader) -> tuple[Decimal | None, Decimal | None, bool] | None:
    value = r.raw("eligibility")
    if value is None:
        return None, None, True
    if not isinstance(value, PosDict):
        r.error(
            "eligibility",
            "'eligibility' must be a mapping, e.g. {min_fte: 0.5, require_authorization: true}",
        )
        return None
    sub = Reader(value, r.file, r.diags, f"{r.where} eligibility")
    min_fte = sub.number("min_fte", minimum=ZERO)
    min_score = sub.number("min_score", minimum=ZERO)
    authorization = sub.boolean("require_authorization", True)
    sub.unknown_keys(ELIGIBILITY_KEYS)
    if min_score is not None and not r.has("scorecard"):
        sub.error("min_score", "'min_score' needs a 'scorecard' to score physicians on")
    return min_fte, min_score, authorization


def _parse_pool_share(
    r: Reader, base: dict[str, Any], cls: type[PoolShare], default_method: str
) -> PoolShare | None:
    pool = pool_name(r)
    method = r.choice("method", METHODS, default_method)
    risk_adjusted = r.boolean("risk_adjusted", False)
    fte_weighted = r.boolean("fte_weighted", False)
    losses = r.choice("losses", LOSSES, "retained")
    choice = parse_choice(r) if r.has("scorecard") else None
    eligibility = _eligibility(r)
    r.unknown_keys(
        {
            "pool",
            "method",
            "risk_adjusted",
            "fte_weighted",
            "losses",
            "scorecard",
            "eligibility",
            *base["_common_keys"],
        }
    )
    ok = True
    if method == "quality_score" and not r.has("scorecard"):
        r.error("method", "method 'quality_score' needs a 'scorecard'")
        ok = False
    if risk_adjusted and method != "attributed_lives":
        r.error("risk_adjusted", "'risk_adjusted' applies to method 'attributed_lives' only")
        ok = False
    if fte_weighted and method != "equal":
        r.error("fte_weighted", "'fte_weighted' applies to method 'equal' only")
        ok = False
    if pool is None or eligibility is None or not ok:
        return None
    if r.has("scorecard") and choice is None:
        return None
    min_fte, min_score, authorization = eligibility
    return cls(
        **base["fields"],
        pool=pool,
        method=method,
        risk_adjusted=risk_adjusted,
        fte_weighted=fte_weighted,
        scorecard=choice,
        min_fte=min_fte,
        min_score=min_score,
        require_authorization=authorization,
        losses=losses,
    )


def parse_shared_savings(r: Reader, base: dict[str, Any]) -> PoolShare | None:
    return _parse_pool_share(r, base, SharedSavings, "attributed_lives")


def parse_capitation(r: Reader, base: dict[str, Any]) -> PoolShare | None:
    return _parse_pool_share(r, base, Capitation, "attributed_lives")
