"""mssp: a Medicare Shared Savings Program contract in the workspace.

Settled by :func:`paycascade.contracts.mssp.settle`, the engine that reproduces CMS's published
results (``docs/MSSP.md``; DOMAIN.md §5): savings = benchmark − expenditures, the MSR/MLR
corridor, sharing from the first dollar at the final sharing rate less 2 % sequestration,
capped; shared losses (two-sided tracks) at the loss rate, capped by benchmark % and
participant-revenue %, less disaster relief.  This module only maps the contract's terms and
its ``contract_performance`` metrics onto :class:`~paycascade.contracts.mssp.MsspInputs`.

When a loss needs participant revenue (the revenue-based loss limit of BASIC C–E) and the
metric is not given, the result is *not determinable*: the contract result is the largest
amount that can be owed (the engine's ``bound_low``), ``determinable`` is False, and the
explanation gives the interval.  Amounts are rounded half-up to the cent, as CMS does,
whatever the workspace's rounding mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from paycascade.contracts import mssp as engine
from paycascade.contracts.base import ContractResult, EpisodeVolume
from paycascade.contracts.loader import (
    ContractInputError,
    ContractSpec,
    Kind,
    at_end,
    cite,
    flag_metric,
    metric,
    optional_metric,
    pct,
    usd,
)
from paycascade.contracts.mssp import (
    MsspInputError,
    MsspInputs,
    MsspResult,
    Track,
    default_rules,
    normalize_track,
)
from paycascade.money import ONE, ZERO, RoundingMode, plain_cents, to_cents
from paycascade.periods import Period
from paycascade.plans.params import Dated, Reader

KEYS = ("track", "performance_year", "msr", "mlr")

#: MsspInputs field → (contract_performance metric or contract key, is it a key?)
_FIELDS = {
    "n_assigned": ("assigned_beneficiaries", False),
    "benchmark": ("benchmark", False),
    "expenditures": ("expenditures", False),
    "quality_score": ("quality_score", False),
    "participant_revenue": ("participant_revenue", False),
    "dis_adj": ("dis_adj", False),
    "track": ("track", True),
    "performance_year": ("performance_year", True),
    "elected_msr": ("msr", True),
    "elected_mlr": ("mlr", True),
}


@dataclass(frozen=True)
class MsspTerms:
    track: Track
    performance_year: int | None  # None: the year the period ends in
    msr: Dated[Decimal] | None  # elected (two-sided); None: the beneficiary-count table
    mlr: Dated[Decimal] | None  # None: equal to the MSR


def _one_sided(track: Track) -> bool:
    offered = [y.tracks[track] for y in default_rules().years.values() if track in y.tracks]
    return bool(offered) and not any(t.two_sided for t in offered)


def parse(r: Reader) -> MsspTerms | None:
    errors = len(r.diags.errors)
    text = r.text("track", required=True)
    track: Track | None = None
    if text is not None:
        try:
            track = normalize_track(text)
        except ValueError as exc:
            r.error("track", str(exc))
    year = r.number("performance_year", minimum=Decimal(2012), maximum=Decimal(2100))
    if year is not None and year != year.to_integral_value():
        r.error("performance_year", f"'performance_year' must be a year, not {year}")
    msr = r.dated_number("msr", required=False, minimum=ZERO, maximum=ONE)
    mlr = r.dated_number("mlr", required=False, minimum=ZERO, maximum=ONE)
    elections = default_rules().msr_elections
    allowed = ", ".join(pct(e) for e in sorted(elections))
    for key, param in (("msr", msr), ("mlr", mlr)):
        if param is None:
            continue
        if track is not None and _one_sided(track):
            r.error(
                key,
                f"{track.label} is one-sided: the MSR comes from the beneficiary-count table; "
                f"remove '{key}'",
            )
            continue
        for entry in param.entries:
            if entry.value not in elections:
                r.diags.add(
                    r.file,
                    entry.line,
                    f"{r.where}: '{key}' {entry.value} is not an MSSP election ({allowed}); "
                    "omit it for the variable option (the beneficiary-count table)",
                )
    if track is None or len(r.diags.errors) > errors:
        return None
    return MsspTerms(track, None if year is None else int(year), msr, mlr)


def _inputs(
    spec: ContractSpec, terms: MsspTerms, metrics: Mapping[str, Decimal], period: Period
) -> MsspInputs:
    fraction = "it must be a fraction 0–1 (a score of 77.05 is 0.7705)"
    return MsspInputs(
        aco_id=spec.id,
        performance_year=terms.performance_year or period.end.year,
        track=terms.track,
        n_assigned=int(
            metric(
                metrics,
                "assigned_beneficiaries",
                minimum=ZERO,
                whole=True,
                what="it must be a whole number ≥ 0",
            )
        ),
        benchmark=metric(metrics, "benchmark"),
        expenditures=metric(metrics, "expenditures"),
        quality_score=optional_metric(
            metrics, "quality_score", minimum=ZERO, maximum=ONE, what=fraction
        ),
        met_quality_standard=flag_metric(metrics, "met_quality_standard"),
        met_alt_quality_standard=flag_metric(metrics, "met_alt_quality_standard", False),
        elected_msr=None if terms.msr is None else at_end(terms.msr, period),
        elected_mlr=None if terms.mlr is None else at_end(terms.mlr, period),
        dis_adj=optional_metric(metrics, "dis_adj") or ZERO,
        participant_revenue=optional_metric(metrics, "participant_revenue"),
    )


def settle(
    spec: ContractSpec,
    metrics: Mapping[str, Decimal],
    episodes: EpisodeVolume | None,
    period: Period,
    rounding: RoundingMode,
) -> ContractResult:
    """The MSSP engine's earned shared savings (+) or losses owed (−), to the cent."""
    terms = spec.terms
    if not isinstance(terms, MsspTerms):
        raise TypeError(f"contract '{spec.id}' is not an mssp contract")
    x = _inputs(spec, terms, metrics, period)
    try:
        res = engine.settle(x)
    except MsspInputError as exc:
        name, is_key = _FIELDS.get(exc.field, (exc.field, False))
        raise ContractInputError(name, str(exc), param=is_key) from exc
    cents = to_cents(res.earned_savings_losses)
    head = (
        f"MSSP {x.track.label}, PY{x.performance_year}, {x.n_assigned:,} assigned beneficiaries: "
    )
    text = head + res.explanation
    if not res.determinable:
        text += (
            f"; the result reported is the largest amount that can be owed, {usd(cents)} "
            "(add the metric participant_revenue for the exact amount)"
        )
    inputs = {k: str(v) for k, v in metrics.items() if k in KIND.all_metrics()}
    inputs["track"] = x.track.value
    inputs["performance_year"] = str(x.performance_year)
    for key, param in (("msr", terms.msr), ("mlr", terms.mlr)):
        if param is not None:
            inputs[key] = cite(param, period)
    return spec.result(period, cents, text, inputs, _details(res), determinable=res.determinable)


def _details(res: MsspResult) -> dict[str, str]:
    def money(value: Decimal | None) -> str:
        return "" if value is None else plain_cents(to_cents(value))

    def rate(value: Decimal | None) -> str:
        return "" if value is None else str(value.quantize(Decimal("0.000001")))

    return {
        "outcome": res.outcome,
        "savings": money(res.savings),
        "savings_rate": rate(res.savings_rate),
        "msr": rate(res.msr),
        "mlr": rate(res.mlr),
        "msr_basis": res.msr_basis,
        "generated_savings_losses": money(res.generated_savings_losses),
        "final_share_rate": rate(res.final_share_rate),
        "final_loss_rate": rate(res.final_loss_rate),
        "limit_binding": res.limit_binding or "",
        "bound_low": money(res.bound_low),
        "bound_high": money(res.bound_high),
        "rules_assumed": "true" if res.rules_assumed else "false",
    }


KIND = Kind(
    name="mssp",
    label="MSSP shared savings",
    keys=KEYS,
    parse=parse,
    settle=settle,
    metrics=("benchmark", "expenditures", "assigned_beneficiaries", "met_quality_standard"),
    optional_metrics=(
        "quality_score",
        "participant_revenue",
        "dis_adj",
        "met_alt_quality_standard",
    ),
)
