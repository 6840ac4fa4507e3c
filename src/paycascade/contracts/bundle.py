"""bundle: bundled payments — target price per episode, reconciled against actual spend.

(DOMAIN.md §5; Quinn's method 3.)  For the period's episodes:

1. **Target price** per episode = ``historical_price`` × (1 + ``trend``) × (1 − ``discount``),
   rounded to the cent, or an explicit ``target_price``.
2. **Reconciliation** = Σ (target − actual) = episodes × target − Σ actual spend.  Episodes
   come from the ``episodes`` table (those of this contract starting in the period); without
   episode rows, from the metrics ``episodes`` (count) and ``actual_spend`` (dollars).
3. **Quality adjustment** (optional, ``quality_adjustment: {max_reduction: 0.10}``): a
   positive reconciliation is reduced by ``max_reduction`` × (1 − ``quality_score``) of itself
   (quality score a fraction 0–1; full quality keeps it all).  A negative reconciliation is not
   adjusted.
4. **Stop-gain / stop-loss** (optional): the result is limited to + ``stop_gain`` × total
   target and − ``stop_loss`` × total target.

Positive: the payer pays the system; negative: the system repays the payer.
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
    usd,
)
from paycascade.money import ONE, ZERO, RoundingMode, cents_to_decimal, to_cents
from paycascade.periods import Period
from paycascade.plans.params import Dated, Reader
from paycascade.plans.yamlpos import PosDict

KEYS = (
    "target_price",
    "historical_price",
    "trend",
    "discount",
    "quality_adjustment",
    "stop_gain",
    "stop_loss",
)
QUALITY_KEYS = ("max_reduction", "source", "note")


@dataclass(frozen=True)
class BundleTerms:
    target_price: Dated[Decimal] | None  # explicit, or:
    historical_price: Dated[Decimal] | None
    trend: Dated[Decimal] | None
    discount: Dated[Decimal] | None
    max_reduction: Dated[Decimal] | None  # quality adjustment; None = not quality-adjusted
    stop_gain: Dated[Decimal] | None  # fraction of the total target; None = no limit
    stop_loss: Dated[Decimal] | None


def parse(r: Reader) -> BundleTerms | None:
    errors = len(r.diags.errors)
    explicit, derived = r.has("target_price"), r.has("historical_price")
    if explicit and (derived or r.has("trend") or r.has("discount")):
        r.error(
            "target_price",
            "give either 'target_price' or 'historical_price' with 'trend' and 'discount', "
            "not both",
        )
        derived = False
    elif not explicit and not derived:
        r.error(None, "missing 'target_price' (or 'historical_price' with 'trend' and 'discount')")
    target = r.dated_number("target_price", required=False, minimum=ZERO)
    historical = trend = discount = None
    if derived:
        historical = r.dated_number("historical_price", minimum=ZERO)
        trend = r.dated_number("trend", minimum=-ONE)
        discount = r.dated_number("discount", minimum=ZERO, maximum=ONE)
    stop_gain = r.dated_number("stop_gain", required=False, minimum=ZERO, maximum=ONE)
    stop_loss = r.dated_number("stop_loss", required=False, minimum=ZERO, maximum=ONE)
    max_reduction = _quality_adjustment(r)
    if len(r.diags.errors) > errors:
        return None
    return BundleTerms(target, historical, trend, discount, max_reduction, stop_gain, stop_loss)


def _quality_adjustment(r: Reader) -> Dated[Decimal] | None:
    value = r.raw("quality_adjustment")
    if value is None:
        return None
    if not isinstance(value, PosDict):
        r.error("quality_adjustment", "'quality_adjustment' must be a mapping {max_reduction: 0.1}")
        return None
    q = Reader(value, r.file, r.diags, f"{r.where} quality_adjustment")
    max_reduction = q.dated_number("max_reduction", minimum=ZERO, maximum=ONE)
    q.text("source")
    q.text("note")
    q.unknown_keys(QUALITY_KEYS)
    return max_reduction


def _target(
    terms: BundleTerms, period: Period, rounding: RoundingMode
) -> tuple[int, str, dict[str, str]]:
    """Target price per episode in cents, its wording, and the parameters cited."""
    if terms.target_price is not None:
        cents = to_cents(at_end(terms.target_price, period), rounding)
        cited = {"target_price": cite(terms.target_price, period)}
        return cents, f"target price {usd(cents)} per episode", cited
    assert terms.historical_price and terms.trend and terms.discount  # parse guarantees
    historical = at_end(terms.historical_price, period)
    trend = at_end(terms.trend, period)
    discount = at_end(terms.discount, period)
    cents = to_cents(historical * (ONE + trend) * (ONE - discount), rounding)
    text = (
        f"target price = historical {usd(to_cents(historical, rounding))} × (1 + {pct(trend)} "
        f"trend) × (1 − {pct(discount)} discount) = {usd(cents)} per episode"
    )
    cited = {
        "historical_price": cite(terms.historical_price, period),
        "trend": cite(terms.trend, period),
        "discount": cite(terms.discount, period),
    }
    return cents, text, cited


def _volume(
    metrics: Mapping[str, Decimal],
    episodes: EpisodeVolume | None,
    rounding: RoundingMode,
) -> tuple[int, int, str, dict[str, str]]:
    """(episode count, actual spend in cents, where they came from, metrics used)."""
    if episodes is not None and episodes.count:
        return episodes.count, episodes.actual_cents, "from the episodes table", {}
    count = metric(
        metrics, "episodes", minimum=ZERO, whole=True, what="it must be a whole number ≥ 0"
    )
    spend = metric(metrics, "actual_spend", minimum=ZERO, what="spend cannot be negative")
    used = {"episodes": str(count), "actual_spend": str(spend)}
    return int(count), to_cents(spend, rounding), "from contract_performance", used


def settle(
    spec: ContractSpec,
    metrics: Mapping[str, Decimal],
    episodes: EpisodeVolume | None,
    period: Period,
    rounding: RoundingMode,
) -> ContractResult:
    """Σ (target − actual), quality-adjusted, limited by stop-gain and stop-loss."""
    terms = spec.terms
    if not isinstance(terms, BundleTerms):
        raise TypeError(f"contract '{spec.id}' is not a bundle contract")
    target, target_text, inputs = _target(terms, period, rounding)
    count, actual, origin, used = _volume(metrics, episodes, rounding)
    inputs.update(used)
    total = target * count
    recon = total - actual
    parts = [
        target_text,
        f"{count:,} episodes ({origin}) × {usd(target)} = total target {usd(total)} − actual "
        f"spend {usd(actual)} = reconciliation {usd(recon)}",
    ]
    adjusted, reduction = recon, 0
    if terms.max_reduction is not None:
        inputs["max_reduction"] = cite(terms.max_reduction, period)
        if recon > 0:
            max_reduction = at_end(terms.max_reduction, period)
            quality = metric(
                metrics,
                "quality_score",
                minimum=ZERO,
                maximum=ONE,
                what="it must be a fraction 0–1",
            )
            inputs["quality_score"] = str(quality)
            rate = max_reduction * (ONE - quality)
            reduction = to_cents(cents_to_decimal(recon) * rate, rounding)
            adjusted = recon - reduction
            parts.append(
                f"quality adjustment {pct(max_reduction)} × (1 − quality {num(quality)}) = "
                f"{pct(rate)} of {usd(recon)} = −{usd(reduction)} → {usd(adjusted)}"
            )
        else:
            parts.append("quality adjustment: applies to a positive reconciliation only")
    cents, binding, limit_text = _limits(terms, period, total, adjusted, rounding, inputs)
    if limit_text:
        parts.append(limit_text)
    verb = "earned" if cents >= 0 else "owed"
    text = "; ".join(parts) + f" → {verb} {usd(cents)}"
    details = money_inputs(
        target_price=target,
        total_target=total,
        actual_spend=actual,
        reconciliation=recon,
        quality_reduction=reduction,
    )
    details["episodes"] = str(count)
    details["limit_binding"] = binding
    return spec.result(period, cents, text, inputs, details)


def _limits(
    terms: BundleTerms,
    period: Period,
    total: int,
    amount: int,
    rounding: RoundingMode,
    inputs: dict[str, str],
) -> tuple[int, str, str]:
    """(result, which limit binds or '', wording) of the stop-gain / stop-loss step."""
    if amount == 0:
        return 0, "", ""
    name, param = ("stop-gain", terms.stop_gain) if amount > 0 else ("stop-loss", terms.stop_loss)
    if param is None:
        return amount, "", f"no {name} declared"
    inputs[name.replace("-", "_")] = cite(param, period)
    rate = at_end(param, period)
    cap = to_cents(rate * cents_to_decimal(total), rounding)
    limit = f"{name} {pct(rate)} of total target {usd(total)} = {usd(cap)}"
    if abs(amount) > cap:
        limited = cap if amount > 0 else -cap
        return limited, name, f"{limit} binds: {usd(amount)} is limited to {usd(limited)}"
    return amount, "", f"{limit} not reached"


KIND = Kind(
    name="bundle",
    label="bundled payment",
    keys=KEYS,
    parse=parse,
    settle=settle,
    metrics=(),
    optional_metrics=("episodes", "actual_spend", "quality_score"),
    uses_episodes=True,
)
