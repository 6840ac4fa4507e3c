"""p4p: pay for performance — a bonus or a penalty as a % of FFS revenue, by quality tier.

(DOMAIN.md §5; Quinn's method 7.)  The payer pays ``rate`` × the system's fee-for-service
revenue under the contract, where ``rate`` is that of the highest tier whose ``min_score`` the
quality score reaches (a score exactly on a boundary reaches that tier).  A negative rate is a
penalty.  Below the lowest tier nothing is paid or owed.

Metrics (``contract_performance``): ``ffs_revenue`` (dollars), ``quality_score`` (in the units
of the tiers' ``min_score``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.contracts.base import ContractResult, EpisodeVolume
from paycascade.contracts.loader import (
    ContractSpec,
    Kind,
    at_end,
    metric,
    num,
    pct,
    usd,
)
from paycascade.money import ONE, ZERO, RoundingMode, to_cents
from paycascade.periods import Period
from paycascade.plans.params import Dated, Reader
from paycascade.plans.yamlpos import PosDict, PosList

KEYS = ("tiers",)
TIER_KEYS = ("min_score", "rate", "source", "note")


@dataclass(frozen=True)
class Tier:
    min_score: Decimal
    rate: Decimal  # fraction of FFS revenue; negative = penalty
    line: int


@dataclass(frozen=True)
class P4PTerms:
    tiers: Dated[tuple[Tier, ...]]  # ascending by min_score


def parse(r: Reader) -> P4PTerms | None:
    def convert(value: Any, line: int) -> tuple[Tier, ...] | None:
        return _tiers(r, value, line)

    tiers = r.dated("tiers", convert)
    return None if tiers is None else P4PTerms(tiers)


def _tiers(r: Reader, value: Any, line: int) -> tuple[Tier, ...] | None:
    if not isinstance(value, PosList) or not value:
        r.diags.add(r.file, line, f"{r.where}: 'tiers' must be a list of {{min_score, rate}}")
        return None
    tiers: list[Tier] = []
    ok = True
    for index, item in enumerate(value):
        if not isinstance(item, PosDict):
            r.diags.add(
                r.file, value.line_of(index), f"{r.where}: each tier must be {{min_score, rate}}"
            )
            ok = False
            continue
        t = Reader(item, r.file, r.diags, f"{r.where} tier {index + 1}")
        low = t.number("min_score", required=True)
        rate = t.number("rate", required=True, minimum=-ONE, maximum=ONE)
        t.text("source")
        t.text("note")
        t.unknown_keys(TIER_KEYS)
        if low is None or rate is None:
            ok = False
            continue
        if tiers and low <= tiers[-1].min_score:
            t.error("min_score", f"tiers must ascend: {low} after {tiers[-1].min_score}")
            ok = False
            continue
        tiers.append(Tier(low, rate, item.line))
    return tuple(tiers) if ok else None


def _schedule(tiers: Sequence[Tier]) -> str:
    return ", ".join(f"≥ {num(t.min_score)} → {pct(t.rate)}" for t in tiers)


def settle(
    spec: ContractSpec,
    metrics: Mapping[str, Decimal],
    episodes: EpisodeVolume | None,
    period: Period,
    rounding: RoundingMode,
) -> ContractResult:
    """FFS revenue × the rate of the highest tier reached."""
    terms = spec.terms
    if not isinstance(terms, P4PTerms):
        raise TypeError(f"contract '{spec.id}' is not a p4p contract")
    revenue = metric(metrics, "ffs_revenue", minimum=ZERO, what="FFS revenue cannot be negative")
    score = metric(metrics, "quality_score")
    tiers = at_end(terms.tiers, period)
    revenue_cents = to_cents(revenue, rounding)
    inputs = {
        "ffs_revenue": str(revenue),
        "quality_score": str(score),
        "tiers": terms.tiers.cite(period.end),
    }
    schedule = f"(tiers: {_schedule(tiers)})"
    reached = [t for t in tiers if score >= t.min_score]
    if not reached:
        text = (
            f"quality score {num(score)} is below the lowest tier {schedule} → no bonus or "
            f"penalty on FFS revenue {usd(revenue_cents)}: {usd(0)}"
        )
        return spec.result(period, 0, text, inputs, {"tier": "none", "rate": "0"})
    tier = reached[-1]
    cents = to_cents(revenue * tier.rate, rounding)
    what = "bonus " if cents > 0 else "penalty " if cents < 0 else ""
    text = (
        f"quality score {num(score)} ≥ {num(tier.min_score)}, the highest tier reached "
        f"{schedule} → FFS revenue {usd(revenue_cents)} × {pct(tier.rate)} = {what}{usd(cents)}"
    )
    details = {"tier": str(tiers.index(tier) + 1), "rate": str(tier.rate)}
    return spec.result(period, cents, text, inputs, details)


KIND = Kind(
    name="p4p",
    label="pay for performance",
    keys=KEYS,
    parse=parse,
    settle=settle,
    metrics=("ffs_revenue", "quality_score"),
)
