"""shared_savings: a commercial shared-savings (or shared-risk) contract.

(DOMAIN.md §5; Quinn's method 8.)  Savings = ``benchmark`` − ``expenditures``.  Inside the
corridor (savings below ``msr`` × benchmark, losses below ``mlr`` × benchmark) nothing is
shared.  Outside it, savings are shared from the first dollar at ``sharing_rate`` — scaled by
the quality score when ``quality: scaled`` (the usual commercial design), or paid in full only
if the score reaches ``quality_gate`` — and limited to ``savings_cap`` × benchmark.  Losses are
owed only when ``loss_rate`` is declared (two-sided), limited to ``loss_cap`` × benchmark.

Metrics (``contract_performance``): ``benchmark``, ``expenditures`` (dollars), and
``quality_score`` (0–1) unless ``quality: none``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from paycascade.contracts.base import ContractResult, EpisodeVolume
from paycascade.contracts.loader import ContractSpec, Kind, at_end, metric, pct, pct2, usd
from paycascade.money import ONE, ZERO, RoundingMode, to_cents
from paycascade.periods import Period
from paycascade.plans.params import Dated, Reader

KEYS = (
    "sharing_rate",
    "msr",
    "mlr",
    "quality",
    "quality_gate",
    "savings_cap",
    "loss_rate",
    "loss_cap",
)


@dataclass(frozen=True)
class CommercialTerms:
    sharing_rate: Dated[Decimal]
    msr: Dated[Decimal]
    mlr: Dated[Decimal]
    quality: str  # "scaled" | "gate" | "none"
    quality_gate: Decimal | None
    savings_cap: Dated[Decimal] | None
    loss_rate: Dated[Decimal] | None
    loss_cap: Dated[Decimal] | None


def parse(r: Reader) -> CommercialTerms | None:
    share = r.dated_number("sharing_rate", minimum=ZERO, maximum=ONE)
    msr = r.dated_number("msr", required=False, default=ZERO, minimum=ZERO, maximum=ONE)
    mlr = r.dated_number("mlr", required=False, default=ZERO, minimum=ZERO, maximum=ONE)
    quality = r.choice("quality", ("scaled", "gate", "none"), "scaled")
    gate = r.number("quality_gate", required=quality == "gate", minimum=ZERO, maximum=ONE)
    cap = r.dated_number("savings_cap", required=False, minimum=ZERO, maximum=ONE)
    loss_rate = r.dated_number("loss_rate", required=False, minimum=ZERO, maximum=ONE)
    loss_cap = r.dated_number("loss_cap", required=False, minimum=ZERO, maximum=ONE)
    if share is None or msr is None or mlr is None:
        return None
    return CommercialTerms(share, msr, mlr, quality, gate, cap, loss_rate, loss_cap)


def settle(
    spec: ContractSpec,
    metrics: Mapping[str, Decimal],
    episodes: EpisodeVolume | None,
    period: Period,
    rounding: RoundingMode,
) -> ContractResult:
    """Benchmark − expenditures, the corridor, the quality-adjusted rate and the caps."""
    terms = spec.terms
    if not isinstance(terms, CommercialTerms):
        raise TypeError(f"contract '{spec.id}' is not a shared_savings contract")
    benchmark = metric(metrics, "benchmark", minimum=ZERO, what="a benchmark cannot be negative")
    spend = metric(metrics, "expenditures", minimum=ZERO, what="expenditures cannot be negative")
    score = ONE
    if terms.quality != "none":
        score = metric(metrics, "quality_score", minimum=ZERO, maximum=ONE, what="it must be 0–1")
    savings = benchmark - spend
    rate_of = savings / benchmark if benchmark else ZERO
    b, s = to_cents(benchmark, rounding), to_cents(savings, rounding)
    inputs = {"benchmark": str(benchmark), "expenditures": str(spend), "quality_score": str(score)}
    head = f"benchmark {usd(b)} − expenditures {usd(to_cents(spend, rounding))} = {usd(s)} ({pct2(rate_of)})"
    if savings >= 0:
        return _savings(
            spec, terms, period, rounding, benchmark, savings, rate_of, score, head, inputs
        )
    return _losses(spec, terms, period, rounding, benchmark, savings, rate_of, head, inputs)


def _savings(
    spec: ContractSpec,
    terms: CommercialTerms,
    period: Period,
    rounding: RoundingMode,
    benchmark: Decimal,
    savings: Decimal,
    rate_of: Decimal,
    score: Decimal,
    head: str,
    inputs: dict[str, str],
) -> ContractResult:
    msr = at_end(terms.msr, period)
    if rate_of < msr:
        text = f"{head} < MSR {pct(msr)} → inside the corridor, nothing shared: {usd(0)}"
        return spec.result(period, 0, text, inputs, {"corridor": "inside"})
    base = at_end(terms.sharing_rate, period)
    if terms.quality == "scaled":
        rate, why = base * score, f"{pct(base)} × quality {score}"
    elif terms.quality == "gate":
        gate = terms.quality_gate or ZERO
        rate = base if score >= gate else ZERO
        why = f"{pct(base)} (quality {score} {'≥' if score >= gate else '<'} gate {gate})"
    else:
        rate, why = base, pct(base)
    earned = savings * rate
    text = f"{head} ≥ MSR {pct(msr)} → shared from the first dollar at {why} = {usd(to_cents(earned, rounding))}"
    if terms.savings_cap is not None:
        cap = benchmark * at_end(terms.savings_cap, period)
        if earned > cap:
            earned = cap
            text += f"; limited to {pct(at_end(terms.savings_cap, period))} of benchmark = {usd(to_cents(cap, rounding))}"
    cents = to_cents(earned, rounding)
    return spec.result(period, cents, text, inputs, {"sharing_rate": str(rate)})


def _losses(
    spec: ContractSpec,
    terms: CommercialTerms,
    period: Period,
    rounding: RoundingMode,
    benchmark: Decimal,
    savings: Decimal,
    rate_of: Decimal,
    head: str,
    inputs: dict[str, str],
) -> ContractResult:
    if terms.loss_rate is None:
        text = f"{head}: a loss, but the contract is one-sided: nothing owed"
        return spec.result(period, 0, text, inputs, {"corridor": "one-sided"})
    mlr = at_end(terms.mlr, period)
    if -rate_of < mlr:
        text = f"{head}: loss inside the MLR {pct(mlr)} corridor, nothing owed"
        return spec.result(period, 0, text, inputs, {"corridor": "inside"})
    loss_rate = at_end(terms.loss_rate, period)
    owed = savings * loss_rate
    text = f"{head}: loss shared at {pct(loss_rate)} = {usd(to_cents(owed, rounding))}"
    if terms.loss_cap is not None:
        cap = benchmark * at_end(terms.loss_cap, period)
        if -owed > cap:
            owed = -cap
            text += f"; limited to {pct(at_end(terms.loss_cap, period))} of benchmark"
    return spec.result(
        period, to_cents(owed, rounding), text, inputs, {"loss_rate": str(loss_rate)}
    )


KIND = Kind(
    name="shared_savings",
    label="commercial shared savings",
    keys=KEYS,
    parse=parse,
    settle=settle,
    metrics=("benchmark", "expenditures"),
    optional_metrics=("quality_score",),
)
