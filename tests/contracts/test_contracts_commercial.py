"""Commercial shared savings, by hand."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from paycascade.contracts.commercial import settle
from paycascade.contracts.loader import ContractSpec, load_contract_file
from paycascade.diagnostics import Diagnostics
from paycascade.periods import parse_period

YEAR = parse_period("2026")
TEXT = """
contracts:
  - contract: scaled
    kind: shared_savings
    payer: BlueCross
    sharing_rate: 0.50
    msr: 0.02
    savings_cap: 0.02
  - contract: gated
    kind: shared_savings
    payer: BlueCross
    sharing_rate: 0.50
    quality: gate
    quality_gate: 0.80
  - contract: two-sided
    kind: shared_savings
    payer: BlueCross
    sharing_rate: 0.50
    quality: none
    mlr: 0.01
    loss_rate: 0.40
    loss_cap: 0.02
"""


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, ContractSpec]:
    path = tmp_path / "c.yaml"
    path.write_text(TEXT, encoding="utf-8")
    diags = Diagnostics()
    found = {s.id: s for s in load_contract_file(path, "contracts/c.yaml", diags)}
    assert not diags.has_errors(), diags.format()
    return found


def test_scaled_by_quality_and_capped(specs: dict[str, ContractSpec]) -> None:
    # 96,000,000 − 93,504,000 = 2,496,000 (2.60%) ≥ MSR 2% → 50% × 0.91 = 45.5% → $1,135,680.00
    m = {"benchmark": D(96_000_000), "expenditures": D(93_504_000), "quality_score": D("0.91")}
    assert settle(specs["scaled"], m, [], YEAR, "half_up").result_cents == 113_568_000
    # 10% savings: 9,600,000 × 45.5% = 4,368,000 > cap 2% × 96M = 1,920,000 → $1,920,000.00
    m2 = {**m, "expenditures": D(86_400_000)}
    capped = settle(specs["scaled"], m2, [], YEAR, "half_up")
    assert capped.result_cents == 192_000_000
    assert "limited to 2% of benchmark" in capped.explanation
    # 1.5% savings is inside the 2% corridor → $0
    m3 = {**m, "expenditures": D(94_560_000)}
    assert settle(specs["scaled"], m3, [], YEAR, "half_up").result_cents == 0


def test_quality_gate(specs: dict[str, ContractSpec]) -> None:
    # 1,000,000 savings × 50% = $500,000 when quality 0.85 ≥ gate 0.80; $0 at 0.79
    m = {"benchmark": D(50_000_000), "expenditures": D(49_000_000), "quality_score": D("0.85")}
    assert settle(specs["gated"], m, [], YEAR, "half_up").result_cents == 50_000_000
    m["quality_score"] = D("0.79")
    assert settle(specs["gated"], m, [], YEAR, "half_up").result_cents == 0


def test_two_sided_losses_with_cap(specs: dict[str, ContractSpec]) -> None:
    # loss 1,500,000 on 100M (1.5% > MLR 1%) × 40% = −$600,000.00
    m = {"benchmark": D(100_000_000), "expenditures": D(101_500_000)}
    assert settle(specs["two-sided"], m, [], YEAR, "half_up").result_cents == -60_000_000
    # loss 10M × 40% = 4M > cap 2% × 100M = 2M → −$2,000,000.00
    m["expenditures"] = D(110_000_000)
    assert settle(specs["two-sided"], m, [], YEAR, "half_up").result_cents == -200_000_000
    # a one-sided contract owes nothing on a loss
    m1 = {"benchmark": D(96_000_000), "expenditures": D(99_000_000), "quality_score": D(1)}
    assert settle(specs["scaled"], m1, [], YEAR, "half_up").result_cents == 0
