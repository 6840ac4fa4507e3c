"""Stark / AKS and contract hygiene: static plan checks and what the ledger shows."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

from paycascade.compliance import static_findings
from paycascade.compliance.stark import contract_findings, run_stark
from paycascade.contracts.base import Allocation, Share
from paycascade.diagnostics import Diagnostics
from paycascade.ledger import Posting
from paycascade.plans.loader import Plan, load_plans
from paycascade.plans.params import Dated, Entry
from tests.components.conftest import NPI_A, NPI_B, partner


def plans(tmp_path: Path, body: str) -> dict[str, Plan]:
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    (folder / "p.yaml").write_text(
        textwrap.dedent("plan: p\ncomponents:\n") + textwrap.dedent(body), encoding="utf-8"
    )
    diags = Diagnostics()
    loaded = load_plans(tmp_path, diags)
    assert not diags.has_errors(), diags.format()
    return loaded


def codes(tmp_path: Path, body: str) -> list[str]:
    return [f.code for f in static_findings(plans(tmp_path, body), {})]


def test_referral_variable_pay_triggers_and_not(tmp_path: Path) -> None:
    found = static_findings(
        plans(
            tmp_path,
            """\
            - {id: imaging_referrals, kind: non_clinical, activity: imaging_referral,
               amount_each: 50}
            """,
        ),
        {},
    )
    assert [f.code for f in found] == ["STARK_REFERRAL_VARIABLE"]
    assert (found[0].file, found[0].line) == ("plans/p.yaml", 3)
    assert found[0].evidence["activity"] == "imaging_referral"
    assert (
        codes(tmp_path, "- {id: qi, kind: non_clinical, activity: qi_milestone, amount_each: 50}\n")
        == []
    )


def test_technical_dhs_triggers_and_not(tmp_path: Path) -> None:
    body = """\
    - {{id: asc, kind: partnership, venture: imaging, distributable_profit: 1000,
       includes_technical_revenue: {flag}}}
    """
    assert codes(tmp_path, body.format(flag="true")) == ["STARK_TECHNICAL_DHS"]
    assert codes(tmp_path, body.format(flag="false")) == []


GAIN = """\
- id: gain
  kind: gainsharing
  documented_savings: 100000
  savings_share: 0.5
  split: {split}
{extra}
"""
SAFE = """\
  cap_per_physician: 25000
  quality_floor: {scorecard: card, min_score: 0.5}
  term: {start: 2026-01-01, end: 2026-12-31}
  utilization_floor: "historical 2024 implant use per case"
scorecards:
  card:
    measures:
      - {id: bp, threshold: 0.5, target: 0.8}
"""


def test_gainsharing_safeguards_trigger_and_not(tmp_path: Path) -> None:
    found = static_findings(plans(tmp_path, GAIN.format(split="wrvu", extra="")), {})
    assert [(f.code, f.severity) for f in found] == [("AKS_GAINSHARING_SAFEGUARDS", "high")]
    assert "per_capita_split" in found[0].evidence["missing"]
    partial = static_findings(plans(tmp_path, GAIN.format(split="per_capita", extra="")), {})
    assert [(f.code, f.severity) for f in partial] == [("AKS_GAINSHARING_SAFEGUARDS", "review")]
    assert codes(tmp_path, GAIN.format(split="per_capita", extra=SAFE)) == []


POOL = """\
- id: ss
  kind: shared_savings
  pool: pcp
  method: equal
  eligibility: {{require_authorization: {auth}}}
  losses: {losses}
"""


def test_shared_savings_authorization_and_downside_static(tmp_path: Path) -> None:
    assert codes(tmp_path, POOL.format(auth="false", losses="retained")) == [
        "SHARED_SAVINGS_NO_AUTHORIZATION"
    ]
    assert codes(tmp_path, POOL.format(auth="true", losses="pass_through")) == [
        "DOWNSIDE_RISK_TO_INDIVIDUALS"
    ]
    assert codes(tmp_path, POOL.format(auth="true", losses="retained")) == []


def test_app_revenue_sharing_static_triggers_and_not(tmp_path: Path) -> None:
    body = "- {id: production, kind: productivity, method: flat, conversion_factor: 50}\n"
    assert codes(tmp_path, body) == []  # app_supervision crediting is off by default
    credited = "crediting: {app_supervision: 0.5}\n" + body.replace("- {", "- {", 1)
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    (folder / "p.yaml").write_text(
        "plan: p\n" + credited.replace(body, "components:\n" + body), encoding="utf-8"
    )
    diags = Diagnostics()
    found = static_findings(load_plans(tmp_path, diags), {})
    assert [f.code for f in found] == ["APP_REVENUE_SHARING"]


def contract(losses: str, dest: str = "pool:pcp"):  # type: ignore[no-untyped-def]
    from paycascade.contracts.loader import ContractSpec

    alloc = Allocation((Share(dest, Decimal("0.5"), 5),), losses, "contracts/c.yaml", 4)
    return ContractSpec(
        "c",
        "capitation",
        "C",
        "payer",
        None,
        "contracts/c.yaml",
        1,
        None,
        Dated("allocation", "contracts/c.yaml", (Entry(None, alloc, 4),)),
    )


def test_contract_passing_losses_to_pools_triggers_and_not() -> None:
    found = contract_findings(contract("pass_through"))
    assert [(f.code, f.subject_kind, f.line) for f in found] == [
        ("DOWNSIDE_RISK_TO_INDIVIDUALS", "contract", 4)
    ]
    assert contract_findings(contract("retained")) == []
    assert contract_findings(contract("pass_through", dest="reserve")) == []


def post(npi: str, source: str, dest: str, kind: str, cents: int, **inputs: str) -> Posting:
    return Posting(
        npi=npi,
        source=source,
        destination=dest,
        component="x",
        kind=kind,
        alignment="value",
        quinn="shared_savings",
        amount_cents=cents,
        explanation="",
        plan="p",
        plan_file="plans/p.yaml",
        plan_line=1,
        segment_start=date(2026, 1, 1),
        segment_end=date(2026, 12, 31),
        inputs=inputs,
    )


def test_run_time_flags_trigger_and_not(tmp_path: Path) -> None:
    people = [partner(NPI_A, authorized=False), partner(NPI_B, authorized=True)]
    ledger = [
        post(NPI_A, "pool:pcp", f"physician:{NPI_A}", "shared_savings", 10_000),
        post(NPI_B, "pool:pcp", f"physician:{NPI_B}", "shared_savings", 10_000),
        post(NPI_B, f"physician:{NPI_B}", "pool:pcp", "shared_savings_loss", 2_500),
        post(
            NPI_A,
            "system:compensation",
            f"physician:{NPI_A}",
            "profit_distribution",
            500,
            includes_technical_revenue="true",
        ),
        post(
            NPI_B,
            "system:compensation",
            f"physician:{NPI_B}",
            "profit_distribution",
            500,
            includes_technical_revenue="false",
        ),
    ]
    p = plans(
        tmp_path, "- {id: production, kind: productivity, method: flat, conversion_factor: 50}\n"
    )
    people = [partner(NPI_A, authorized=False, plan="p"), partner(NPI_B, authorized=True, plan="p")]
    found = run_stark(people, ledger, {NPI_A: Decimal("120.5"), NPI_B: Decimal(0)}, p)
    assert sorted((f.code, f.subject) for f in found) == [
        ("APP_REVENUE_SHARING", NPI_A),
        ("DOWNSIDE_RISK_TO_INDIVIDUALS", NPI_B),
        ("SHARED_SAVINGS_NO_AUTHORIZATION", NPI_A),
        ("STARK_TECHNICAL_DHS", NPI_A),
    ]
    assert all(f.evidence and f.rule_source for f in found)
