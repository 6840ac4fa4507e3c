"""capitation / global_budget: a fixed payment per member per month against actual cost.

(DOMAIN.md §5; Quinn's methods 4 and 6.)  The capitation revenue itself is paid as PMPM during
the year; what this module settles is the *performance* of the contract, the system's share of
the surplus or deficit:

1. **Revenue** = ``pmpm`` × ``member_months`` × ``risk_score``, rounded to the cent.
2. **Surplus (+) or deficit (−)** = revenue − ``medical_cost``.
3. **Risk sharing.**  ``risk_share`` is the system's share of the surplus or deficit (default
   1: the system keeps the whole surplus and bears the whole deficit); the payer takes or
   covers the rest.  With a ``corridor`` of x, the first x × revenue of surplus or deficit is
   not shared (the system keeps or bears it in full, as in a risk corridor) and only the part
   beyond it is shared at ``risk_share``:
   system's share = S if |S| ≤ x × revenue, else sign(S) × (x × revenue + risk_share ×
   (|S| − x × revenue)).

``global_budget`` is the same settlement, worded as a global budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from paycascade.contracts.base import ContractResult, EpisodeVolume
from paycascade.contracts.loader import (
    ContractSpec,
    Kind,
    at_end,
    cite,
    metric,
    money_inputs,
    num,
    pct,
    pct2,
    usd,
)
from paycascade.money import ONE, ZERO, RoundingMode, cents_to_decimal, fmt_rate, to_cents
from paycascade.periods import Period
from paycascade.plans.params import Dated, Reader

KEYS = ("pmpm", "risk_share", "corridor")


@dataclass(frozen=True)
class CapitationTerms:
    pmpm: Dated[Decimal]
    risk_share: Dated[Decimal]
    corridor: Dated[Decimal] | None


def parse(r: Reader) -> CapitationTerms | None:
    pmpm = r.dated_number("pmpm", minimum=ZERO)
    share = r.dated_number("risk_share", required=False, default=ONE, minimum=ZERO, maximum=ONE)
    corridor = r.dated_number("corridor", required=False, minimum=ZERO, maximum=ONE)
    if pmpm is None or share is None or (r.has("corridor") and corridor is None):
        return None
    return CapitationTerms(pmpm, share, corridor)


def settle(
    spec: ContractSpec,
    metrics: Mapping[str, Decimal],
    episodes: EpisodeVolume | None,
    period: Period,
    rounding: RoundingMode,
) -> ContractResult:
    """The system's share of revenue − medical cost, after the corridor and risk share."""
    terms = spec.terms
    if not isinstance(terms, CapitationTerms):
        raise TypeError(f"contract '{spec.id}' is not a capitation contract")
    months = metric(metrics, "member_months", minimum=ZERO, what="it cannot be negative")
    risk = metric(metrics, "risk_score", minimum=ZERO, what="it cannot be negative")
    cost = metric(metrics, "medical_cost", minimum=ZERO, what="it cannot be negative")
    pmpm = at_end(terms.pmpm, period)
    share = at_end(terms.risk_share, period)
    inputs = {
        "member_months": str(months),
        "risk_score": str(risk),
        "medical_cost": str(cost),
        "pmpm": cite(terms.pmpm, period),
        "risk_share": cite(terms.risk_share, period),
    }
    name = "global budget" if spec.kind == "global_budget" else "capitation revenue"
    revenue = to_cents(pmpm * months * risk, rounding)
    cost_cents = to_cents(cost, rounding)
    surplus = revenue - cost_cents
    word = "surplus" if surplus >= 0 else "deficit"
    ratio = f" ({pct2(Decimal(surplus) / Decimal(revenue))} of revenue)" if revenue else ""
    head = (
        f"{name} PMPM {fmt_rate(pmpm)} × {num(months)} member months × risk score {num(risk)} "
        f"= {usd(revenue)} (already paid as PMPM during the year) "
        f"− medical cost {usd(cost_cents)} = {word} {usd(abs(surplus))}{ratio}"
    )
    band = 0
    if terms.corridor is None:
        cents = to_cents(share * cents_to_decimal(surplus), rounding)
        tail = f" × risk share {pct(share)} → system's share of the {word} {usd(cents)}"
    else:
        inputs["corridor"] = cite(terms.corridor, period)
        corridor = at_end(terms.corridor, period)
        band = to_cents(corridor * cents_to_decimal(revenue), rounding)
        cents, tail = _corridor(surplus, band, corridor, share, rounding)
    details = money_inputs(revenue=revenue, medical_cost=cost_cents, surplus=surplus, corridor=band)
    return spec.result(period, cents, head + tail, inputs, details)


def _corridor(
    surplus: int, band: int, corridor: Decimal, share: Decimal, rounding: RoundingMode
) -> tuple[int, str]:
    word = "surplus" if surplus >= 0 else "deficit"
    verb = "keeps" if surplus >= 0 else "bears"
    done = "kept" if surplus >= 0 else "borne"
    limit = f"corridor ±{pct(corridor)} of revenue = {usd(band)}"
    if abs(surplus) <= band:
        text = (
            f"; within the {limit}: not shared, the system {verb} the whole {word} → "
            f"system's share of the {word} {usd(surplus)}"
        )
        return surplus, text
    sign = 1 if surplus > 0 else -1
    beyond = abs(surplus) - band
    shared = to_cents(share * cents_to_decimal(beyond), rounding)
    cents = sign * (band + shared)
    text = (
        f"; {limit}, {done} by the system in full; the {usd(beyond)} beyond it × risk share "
        f"{pct(share)} = {usd(shared)} → system's share of the {word} {'−' if sign < 0 else ''}"
        f"({usd(band)} + {usd(shared)}) = {usd(cents)}"
    )
    return cents, text


_METRICS = ("member_months", "risk_score", "medical_cost")

KIND = Kind(
    name="capitation",
    label="capitation",
    keys=KEYS,
    parse=parse,
    settle=settle,
    metrics=_METRICS,
)

GLOBAL_BUDGET = Kind(
    name="global_budget",
    label="global budget",
    keys=KEYS,
    parse=parse,
    settle=settle,
    metrics=_METRICS,
)
