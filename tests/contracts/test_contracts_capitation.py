"""Capitation and global budgets: the system's share of the surplus or deficit."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from paycascade.contracts.capitation import settle
from paycascade.contracts.loader import ContractInputError, ContractSpec, load_contracts
from paycascade.diagnostics import Diagnostics
from paycascade.periods import parse_period

D = Decimal
YEAR = parse_period("2026")
CONTRACTS = """
contracts:
  - contract: humana-ma
    kind: capitation
    payer: Humana
    pmpm: 500.00
    risk_share: 0.5
    corridor: 0.02
  - contract: full-risk
    kind: capitation
    payer: Humana
    pmpm: 500.00
  - contract: shared-risk
    kind: capitation
    payer: Humana
    pmpm: 500.00
    risk_share: 0.6
  - contract: state-budget
    kind: global_budget
    payer: State Medicaid
    pmpm:
      - {from: 2026-01-01, value: 610.00, source: "FY2026"}
      - {from: 2026-07-01, value: 625.00, source: "FY2026 mid-year update"}
"""
# revenue = 500.00 × 120,000 member months × 1.05 = 63,000,000.00 in every case below
HEAD = (
    "capitation revenue PMPM $500.00 × 120,000 member months × risk score 1.05 = "
    "$63,000,000.00 (already paid as PMPM during the year) − medical cost "
)


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, ContractSpec]:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "cap.yaml").write_text(textwrap.dedent(CONTRACTS).lstrip())
    diags = Diagnostics()
    loaded = load_contracts(tmp_path, diags)
    assert not diags.items, diags.format()
    return loaded


def run(spec: ContractSpec, cost: str) -> tuple[int, str]:
    metrics = {"member_months": D(120_000), "risk_score": D("1.05"), "medical_cost": D(cost)}
    result = settle(spec, metrics, [], YEAR, "half_up")
    return result.result_cents, result.explanation


def test_surplus_beyond_the_corridor_is_shared(specs: dict[str, ContractSpec]) -> None:
    # surplus 63,000,000 − 60,000,000 = 3,000,000 (4.76%); corridor 2% × 63M = 1,260,000 kept;
    # beyond 1,740,000 × 50% = 870,000 → 1,260,000 + 870,000 = 2,130,000.00
    cents, text = run(specs["humana-ma"], "60000000")
    assert cents == 213_000_000
    assert text == HEAD + (
        "$60,000,000.00 = surplus $3,000,000.00 (4.76% of revenue); corridor ±2% of revenue = "
        "$1,260,000.00, kept by the system in full; the $1,740,000.00 beyond it × risk share "
        "50% = $870,000.00 → system's share of the surplus ($1,260,000.00 + $870,000.00) = "
        "$2,130,000.00"
    )


def test_deficit_within_the_corridor_is_borne_in_full(specs: dict[str, ContractSpec]) -> None:
    # deficit 63,000,000 − 64,000,000 = −1,000,000; |−1,000,000| ≤ 1,260,000 → −1,000,000.00
    cents, text = run(specs["humana-ma"], "64000000")
    assert cents == -100_000_000
    assert text == HEAD + (
        "$64,000,000.00 = deficit $1,000,000.00 (−1.59% of revenue); within the corridor ±2% "
        "of revenue = $1,260,000.00: not shared, the system bears the whole deficit → system's "
        "share of the deficit −$1,000,000.00"
    )


def test_deficit_beyond_the_corridor(specs: dict[str, ContractSpec]) -> None:
    # deficit −3,000,000.01: −(1,260,000 + 50% × 1,740,000.01 = 870,000.005 → 870,000.01)
    cents, text = run(specs["humana-ma"], "66000000.01")
    assert cents == -(126_000_000 + 87_000_001)
    assert text.endswith(
        "→ system's share of the deficit −($1,260,000.00 + $870,000.01) = −$2,130,000.01"
    )


def test_risk_share_without_corridor(specs: dict[str, ContractSpec]) -> None:
    # surplus 3,000,000 × 60% = 1,800,000.00; deficit −3,000,000 × 60% = −1,800,000.00
    cents, text = run(specs["shared-risk"], "60000000")
    assert cents == 180_000_000
    assert text.endswith(
        "(4.76% of revenue) × risk share 60% → system's share of the surplus $1,800,000.00"
    )
    assert run(specs["shared-risk"], "66000000")[0] == -180_000_000


def test_full_risk_by_default(specs: dict[str, ContractSpec]) -> None:
    # risk_share defaults to 1: the whole surplus / deficit
    assert run(specs["full-risk"], "61234567.89")[0] == 176_543_211
    assert run(specs["full-risk"], "63000000.50")[0] == -50


def test_global_budget_uses_the_rate_in_effect_at_period_end(
    specs: dict[str, ContractSpec],
) -> None:
    # 625.00 (from July) × 10,000 × 1 = 6,250,000 − 6,000,000 = 250,000.00
    metrics = {"member_months": D(10_000), "risk_score": D(1), "medical_cost": D(6_000_000)}
    result = settle(specs["state-budget"], metrics, [], YEAR, "half_up")
    assert result.result_cents == 25_000_000
    assert result.explanation.startswith("global budget PMPM $625.00 × 10,000 member months")
    assert result.inputs["pmpm"] == "625.0 (contracts/cap.yaml:22 (FY2026 mid-year update))"
    # the first half of the year alone: 610.00
    h1 = settle(
        specs["state-budget"], metrics, [], parse_period("2026-01-01..2026-06-30"), "half_up"
    )
    assert h1.result_cents == 10_000_000


def test_negative_cost_is_refused(specs: dict[str, ContractSpec]) -> None:
    with pytest.raises(
        ContractInputError, match="metric 'medical_cost' is -1; it cannot be negative"
    ):
        run(specs["full-risk"], "-1")
