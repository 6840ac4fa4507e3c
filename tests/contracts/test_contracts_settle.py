"""Settling every contract of a workspace for a period: order, data problems, terms."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from paycascade.contracts.base import Episode, episode_volumes
from paycascade.contracts.loader import ContractSpec, load_contracts
from paycascade.contracts.settle import settle_all
from paycascade.diagnostics import Diagnostics
from paycascade.periods import parse_period

D = Decimal
YEAR = parse_period("2026")
CONTRACTS = {
    "p4p.yaml": """
    contract: z-p4p
    kind: p4p
    payer: BCBS
    tiers: [{min_score: 0.8, rate: 0.02}]
    """,
    "bundles.yaml": """
    contracts:
      - contract: b-plain
        kind: bundle
        payer: CMS
        target_price: 1000
      - contract: b-quality
        kind: bundle
        payer: CMS
        target_price: 1000
        quality_adjustment: {max_reduction: 0.1}
    """,
    "cap.yaml": """
    contract: a-cap
    kind: capitation
    payer: Humana
    pmpm: 100
    """,
    "old.yaml": """
    contract: old
    kind: capitation
    payer: Humana
    pmpm: 100
    end: 2025-12-31
    """,
    "aco.yaml": """
    contract: aco
    kind: mssp
    payer: CMS
    track: BASIC_A
    performance_year: 2019
    """,
}


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, ContractSpec]:
    (tmp_path / "contracts").mkdir()
    for name, text in CONTRACTS.items():
        (tmp_path / "contracts" / name).write_text(textwrap.dedent(text).lstrip())
    diags = Diagnostics()
    loaded = load_contracts(tmp_path, diags)
    assert not diags.items, diags.format()
    return loaded


def episode(cid: str, cents: int) -> Episode:
    return Episode(cid, f"{cid}-{cents}", None, date(2026, 4, 1), cents)


def test_results_in_contract_id_order_and_problems_at_the_contract(
    specs: dict[str, ContractSpec],
) -> None:
    performance = {
        ("z-p4p", "2026"): {"ffs_revenue": D(1000), "quality_score": D("0.9")},
        ("a-cap", "2026"): {"member_months": D(10), "risk_score": D(1), "medical_cost": D(900)},
        ("a-cap", "2025"): {"member_months": D(1), "risk_score": D(1), "medical_cost": D(1)},
        ("old", "2025"): {"member_months": D(1), "risk_score": D(1), "medical_cost": D(1)},
    }
    # b-plain needs no rows: its episodes give everything (2 × 1,000 − 1,500 = 500.00)
    # b-quality has a positive reconciliation (1,000 − 800 = 200) and needs a quality score
    episodes = [
        episode("b-plain", 100_000),
        episode("b-plain", 50_000),
        episode("b-quality", 80_000),
    ]
    diags = Diagnostics()
    volumes = episode_volumes(episodes, YEAR)
    results = settle_all(specs, performance, volumes, YEAR, "half_up", diags)
    # a-cap: 100 × 10 × 1 = 1,000 − 900 = 100.00; z-p4p: 1,000 × 2% = 20.00; 'old' ended in 2025
    assert [(r.contract_id, r.result_cents) for r in results] == [
        ("a-cap", 10_000),
        ("b-plain", 50_000),
        ("z-p4p", 2_000),
    ]
    assert [d.format() for d in diags.sorted()] == [
        "contracts/aco.yaml:1: no contract_performance rows for contract 'aco' in period 2026",
        "contracts/bundles.yaml:6: no contract_performance rows for contract 'b-quality' in "
        "period 2026 (needed: missing metric 'quality_score' in contract_performance; rows "
        "have: none)",
    ]


def test_a_missing_metric_is_named(specs: dict[str, ContractSpec]) -> None:
    performance = {("z-p4p", "2026"): {"ffs_revenue": D(1000), "quality_scor": D("0.9")}}
    diags = Diagnostics()
    results = settle_all({"z-p4p": specs["z-p4p"]}, performance, {}, YEAR, "half_up", diags)
    assert results == []
    assert [d.format() for d in diags.sorted()] == [
        "contracts/p4p.yaml:1: warning: contract 'z-p4p', period 2026: metric 'quality_scor' in "
        "contract_performance is not used by a p4p contract (did you mean 'quality_score'?)",
        "contracts/p4p.yaml:1: contract 'z-p4p', period 2026: missing metric 'quality_score' in "
        "contract_performance (did you mean 'quality_scor'?); rows have: ffs_revenue, "
        "quality_scor",
    ]


def test_a_term_problem_points_at_its_key(specs: dict[str, ContractSpec]) -> None:
    performance = {
        ("aco", "2026"): {
            "benchmark": D(100_000_000),
            "expenditures": D(95_000_000),
            "assigned_beneficiaries": D(20_000),
            "met_quality_standard": D(1),
        }
    }
    diags = Diagnostics()
    results = settle_all({"aco": specs["aco"]}, performance, {}, YEAR, "half_up", diags)
    assert results == []
    assert diags.format() == (
        "contracts/aco.yaml:5: contract 'aco', period 2026: no MSSP rules for performance year "
        "2019 (rules cover 2018, 2021, 2022, 2023, 2024, 2025, 2026)"
    )


def test_quarter_periods_key_the_rows(specs: dict[str, ContractSpec]) -> None:
    performance = {("z-p4p", "2026-Q3"): {"ffs_revenue": D(500), "quality_score": D(1)}}
    diags = Diagnostics()
    q3 = parse_period("2026-Q3")
    results = settle_all({"z-p4p": specs["z-p4p"]}, performance, {}, q3, "half_up", diags)
    assert [(r.period, r.result_cents) for r in results] == [("2026-Q3", 1_000)]
    assert not diags.items
