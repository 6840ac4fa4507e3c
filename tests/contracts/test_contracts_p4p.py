"""Pay for performance: the highest tier reached × FFS revenue (arithmetic in the comments)."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from paycascade.contracts.loader import ContractInputError, ContractSpec, load_contracts
from paycascade.contracts.p4p import settle
from paycascade.diagnostics import Diagnostics
from paycascade.periods import parse_period

D = Decimal
YEAR = parse_period("2026")
CONTRACT = """
contract: uhc-p4p
kind: p4p
payer: UHC
tiers:
  - {min_score: 0.50, rate: -0.01}
  - {min_score: 0.70, rate: 0}
  - {min_score: 0.80, rate: 0.02}
  - {min_score: 0.90, rate: 0.03}
"""
SCHEDULE = "(tiers: ≥ 0.5 → −1%, ≥ 0.7 → 0%, ≥ 0.8 → 2%, ≥ 0.9 → 3%)"


@pytest.fixture
def spec(tmp_path: Path) -> ContractSpec:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "p4p.yaml").write_text(textwrap.dedent(CONTRACT).lstrip())
    diags = Diagnostics()
    specs = load_contracts(tmp_path, diags)
    assert not diags.items, diags.format()
    return specs["uhc-p4p"]


def run(spec: ContractSpec, score: str, revenue: str = "12345678.90") -> tuple[int, str]:
    metrics = {"ffs_revenue": D(revenue), "quality_score": D(score)}
    result = settle(spec, metrics, [], YEAR, "half_up")
    assert result.contract_id == "uhc-p4p" and result.kind == "p4p" and result.payer == "UHC"
    assert result.period == "2026" and result.file == "contracts/p4p.yaml" and result.line == 1
    return result.result_cents, result.explanation


def test_bonus_tier_reached(spec: ContractSpec) -> None:
    # 0.86 reaches 0.80 (not 0.90) → 2%; 12,345,678.90 × 0.02 = 246,913.578 → $246,913.58
    cents, text = run(spec, "0.86")
    assert cents == 24_691_358
    assert text == (
        f"quality score 0.86 ≥ 0.8, the highest tier reached {SCHEDULE} → "
        "FFS revenue $12,345,678.90 × 2% = bonus $246,913.58"
    )


def test_penalty_tier(spec: ContractSpec) -> None:
    # 0.55 reaches only 0.50 → −1%; 12,345,678.90 × −0.01 = −123,456.789 → −$123,456.79
    cents, text = run(spec, "0.55")
    assert cents == -12_345_679
    assert text.endswith("FFS revenue $12,345,678.90 × −1% = penalty −$123,456.79")


def test_exactly_on_a_tier_boundary_reaches_the_tier(spec: ContractSpec) -> None:
    # 0.90 is the 3% tier's min_score: 12,345,678.90 × 0.03 = 370,370.367 → $370,370.37
    assert run(spec, "0.90")[0] == 37_037_037
    # just below it stays in the 2% tier: $246,913.58
    assert run(spec, "0.8999")[0] == 24_691_358
    # the 0% tier: nothing, and the explanation says so without "bonus"
    cents, text = run(spec, "0.70")
    assert cents == 0
    assert text.endswith("× 0% = $0.00")


def test_below_the_lowest_tier_nothing(spec: ContractSpec) -> None:
    cents, text = run(spec, "0.42")
    assert cents == 0
    assert text == (
        f"quality score 0.42 is below the lowest tier {SCHEDULE} → no bonus or penalty on "
        "FFS revenue $12,345,678.90: $0.00"
    )


def test_inputs_cite_the_metrics_and_the_tier_table(spec: ContractSpec) -> None:
    metrics = {"ffs_revenue": D("1000"), "quality_score": D("0.95")}
    result = settle(spec, metrics, [], YEAR, "half_up")
    assert result.result_cents == 3_000  # 1,000 × 3% = $30.00
    assert dict(result.inputs) == {
        "ffs_revenue": "1000",
        "quality_score": "0.95",
        "tiers": "contracts/p4p.yaml:4",
    }
    assert result.details["tier"] == "4"


def test_missing_metric_names_it(spec: ContractSpec) -> None:
    with pytest.raises(ContractInputError, match="missing metric 'quality_score'") as info:
        settle(spec, {"ffs_revenue": D(1)}, [], YEAR, "half_up")
    assert info.value.name == "quality_score"


def test_rounding_mode_half_even(spec: ContractSpec) -> None:
    # 1,000.25 × 2% = 20.005: half_up → $20.01, half_even → $20.00
    metrics = {"ffs_revenue": D("1000.25"), "quality_score": D("0.8")}
    assert settle(spec, metrics, [], YEAR, "half_up").result_cents == 2_001
    assert settle(spec, metrics, [], YEAR, "half_even").result_cents == 2_000
