"""Stark / Anti-Kickback and contract hygiene: what plans and contracts declare, what runs pay.

Static checks read only the declarations (``paycascade check``): components whose pay varies
with referrals or with technical revenue of designated health services, gainsharing without the
OIG safeguards, shared-savings pools distributed without requiring the agreement's
authorization, losses passed to physicians (by a plan or a contract allocation), and APP work
credited to the supervising physician's productivity.  Run-time checks read the ledger: who
actually received unauthorized pool money, bore a loss, or was paid on technical revenue or on
APP work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from paycascade.compliance.findings import Finding, finding
from paycascade.money import fmt_pct, plain_cents

if TYPE_CHECKING:
    from paycascade.contracts.loader import ContractSpec
    from paycascade.ledger import Posting
    from paycascade.plans.loader import Plan
    from paycascade.plans.model import Physician, Spec

REFERRAL = re.compile(
    r"\b(referral|referrals|referred|refer|downstream|orders?|ordered|ordering)\b"
)
GAINSHARING_SAFEGUARDS = (
    "per_capita_split",
    "cap_per_physician",
    "quality_floor",
    "limited_term",
    "utilization_floor",
)
POOL_KINDS = ("shared_savings", "capitation")


def _words(text: str) -> str:
    return text.replace("_", " ").replace("-", " ").lower()


def _referral_fields(spec: Spec) -> dict[str, str]:
    fields = {"id": spec.id, "label": spec.label}
    for attr in ("activity", "stipend", "venture"):
        value = getattr(spec, attr, None)
        if isinstance(value, str):
            fields[attr] = value
    return {k: v for k, v in fields.items() if REFERRAL.search(_words(v))}


def _gainsharing_applied(spec: Any) -> list[str]:
    applied = []
    if spec.split == "per_capita":
        applied.append("per_capita_split")
    if spec.cap is not None:
        applied.append("cap_per_physician")
    if spec.floor_card is not None:
        applied.append("quality_floor")
    if spec.term is not None:
        applied.append("limited_term")
    if spec.utilization_floor:
        applied.append("utilization_floor")
    return applied


def plan_findings(plan: Plan) -> list[Finding]:
    """Static Stark / AKS checks of one plan's components."""
    out: list[Finding] = []
    subject = plan.id
    for spec in plan.all_specs():
        where = {"file": spec.file, "line": spec.line}
        named = f"component '{spec.id}' ({spec.kind})"
        hits = _referral_fields(spec)
        if hits:
            out.append(
                finding(
                    "STARK_REFERRAL_VARIABLE",
                    "high",
                    "plan",
                    subject,
                    f"{named} appears to pay by referrals or orders "
                    f"({', '.join(f'{k} {v!r}' for k, v in sorted(hits.items()))})",
                    {"component": spec.id, "kind": spec.kind, **hits},
                    **where,  # type: ignore[arg-type]
                )
            )
        if getattr(spec, "includes_technical_revenue", False):
            out.append(
                finding(
                    "STARK_TECHNICAL_DHS",
                    "high",
                    "plan",
                    subject,
                    f"{named} distributes profit of venture '{getattr(spec, 'venture', '')}' "
                    "that includes technical revenue of designated health services",
                    {
                        "component": spec.id,
                        "venture": str(getattr(spec, "venture", "")),
                        "includes_technical_revenue": "true",
                    },
                    **where,  # type: ignore[arg-type]
                )
            )
        if spec.kind == "gainsharing":
            applied = _gainsharing_applied(spec)
            missing = [s for s in GAINSHARING_SAFEGUARDS if s not in applied]
            if missing:
                out.append(
                    finding(
                        "AKS_GAINSHARING_SAFEGUARDS",
                        "high" if not applied else "review",
                        "plan",
                        subject,
                        f"{named} lacks OIG gainsharing safeguards: {', '.join(missing)}",
                        {
                            "component": spec.id,
                            "applied": ",".join(applied) or "none",
                            "missing": ",".join(missing),
                        },
                        **where,  # type: ignore[arg-type]
                    )
                )
        if spec.kind in POOL_KINDS and not getattr(spec, "require_authorization", True):
            out.append(
                finding(
                    "SHARED_SAVINGS_NO_AUTHORIZATION",
                    "high",
                    "plan",
                    subject,
                    f"{named} distributes {getattr(spec, 'pool', 'a pool')} without requiring "
                    "the employment agreement's pass-through authorization "
                    "(eligibility: require_authorization: false)",
                    {"component": spec.id, "pool": str(getattr(spec, "pool", ""))},
                    **where,  # type: ignore[arg-type]
                )
            )
        if spec.kind in POOL_KINDS and getattr(spec, "losses", "retained") == "pass_through":
            out.append(
                finding(
                    "DOWNSIDE_RISK_TO_INDIVIDUALS",
                    "review",
                    "plan",
                    subject,
                    f"{named} passes losses of {getattr(spec, 'pool', 'a pool')} to physicians "
                    "(losses: pass_through)",
                    {"component": spec.id, "losses": "pass_through"},
                    **where,  # type: ignore[arg-type]
                )
            )
        if spec.kind == "productivity" and getattr(spec, "include_app_supervision", False):
            factor = plan.crediting.get("app_supervision")
            if isinstance(factor, Decimal) and factor > 0:
                out.append(
                    finding(
                        "APP_REVENUE_SHARING",
                        "review",
                        "plan",
                        subject,
                        f"{named} pays the supervising physician on {fmt_pct(factor)} of supervised "
                        "APPs' wRVUs (crediting app_supervision): services not personally "
                        "performed",
                        {"component": spec.id, "app_supervision_share": str(factor)},
                        **where,  # type: ignore[arg-type]
                    )
                )
    return out


def contract_findings(spec: ContractSpec) -> list[Finding]:
    """A contract allocation that passes losses into physician pools."""
    out: list[Finding] = []
    for entry in spec.allocation.entries:
        alloc = entry.value
        pools = sorted({s.destination for s in alloc.shares if s.destination.startswith("pool:")})
        if alloc.losses == "pass_through" and pools:
            out.append(
                finding(
                    "DOWNSIDE_RISK_TO_INDIVIDUALS",
                    "review",
                    "contract",
                    spec.id,
                    f"contract '{spec.id}' passes losses into physician pools "
                    f"({', '.join(pools)}; allocation losses: pass_through)",
                    {
                        "pools": ",".join(pools),
                        "losses": "pass_through",
                        "effective": "always" if entry.effective is None else entry.effective,
                    },
                    file=alloc.file or spec.file,
                    line=alloc.line or entry.line or spec.line,
                )
            )
    return out


def static_stark(plans: Mapping[str, Plan], contracts: Mapping[str, ContractSpec]) -> list[Finding]:
    out: list[Finding] = []
    for plan_id in sorted(plans):
        out += plan_findings(plans[plan_id])
    for cid in sorted(contracts):
        out += contract_findings(contracts[cid])
    return out


def run_stark(
    physicians: Sequence[Physician],
    postings: Iterable[Posting],
    app_wrvu: Mapping[str, Decimal],
    plans: Mapping[str, Plan],
) -> list[Finding]:
    """What the ledger shows: unauthorized pool pay, losses borne, technical revenue, APP work."""
    people = {p.npi: p for p in physicians}
    unauthorized: dict[str, int] = {}
    losses: dict[str, int] = {}
    technical: dict[str, int] = {}
    for post in postings:
        npi = post.npi
        if npi is None or npi not in people:
            continue
        if (
            post.kind in POOL_KINDS
            and post.source.startswith("pool:")
            and post.amount_cents > 0
            and not people[npi].pass_through_authorized
        ):
            unauthorized[npi] = unauthorized.get(npi, 0) + post.amount_cents
        if post.kind.endswith("_loss") and post.source.startswith("physician:"):
            losses[npi] = losses.get(npi, 0) + post.amount_cents
        if post.inputs.get("includes_technical_revenue") == "true":
            technical[npi] = technical.get(npi, 0) + post.net_to_physician
    out: list[Finding] = []
    for npi, cents in sorted(unauthorized.items()):
        out.append(
            finding(
                "SHARED_SAVINGS_NO_AUTHORIZATION",
                "high",
                "physician",
                npi,
                f"received ${plain_cents(cents)} of contract savings although the employment "
                "agreement does not authorize pass-through",
                {"amount": plain_cents(cents), "pass_through_authorized": "false"},
            )
        )
    for npi, cents in sorted(losses.items()):
        out.append(
            finding(
                "DOWNSIDE_RISK_TO_INDIVIDUALS",
                "review",
                "physician",
                npi,
                f"bore ${plain_cents(cents)} of a pool's loss (losses: pass_through)",
                {"loss": plain_cents(cents)},
            )
        )
    for npi, cents in sorted(technical.items()):
        if cents == 0:
            continue
        out.append(
            finding(
                "STARK_TECHNICAL_DHS",
                "high",
                "physician",
                npi,
                f"paid ${plain_cents(cents)} from venture profit that includes technical revenue "
                "of designated health services",
                {"amount": plain_cents(cents), "includes_technical_revenue": "true"},
            )
        )
    for npi in sorted(app_wrvu):
        credited = app_wrvu[npi]
        p = people.get(npi)
        if credited <= 0 or p is None or p.plan not in plans:
            continue
        plan = plans[p.plan]
        pays = [
            s.id
            for s in plan.all_specs()
            if s.kind == "productivity" and getattr(s, "include_app_supervision", False)
        ]
        if not pays:
            continue
        out.append(
            finding(
                "APP_REVENUE_SHARING",
                "review",
                "physician",
                npi,
                f"{credited.normalize():f} wRVU of supervised APPs' work credited to production "
                f"pay ({', '.join(pays)}): services not personally performed",
                {"app_supervision_wrvu": f"{credited.normalize():f}", "components": ",".join(pays)},
            )
        )
    return out
