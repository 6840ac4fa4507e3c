"""An MSSP contract in the workspace, settled by the CMS-verified engine.

The two ACOs are real PY2024 rows of the CMS public-use file (docs/MSSP.md), so the results can
also be checked against CMS's published EarnSaveLoss.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from paycascade.contracts.loader import ContractInputError, ContractSpec, load_contracts
from paycascade.contracts.mssp_contract import settle
from paycascade.diagnostics import Diagnostics
from paycascade.periods import parse_period

D = Decimal
PY2024 = parse_period("2024")
CONTRACTS = """
contracts:
  - contract: aco-enhanced
    kind: mssp
    payer: CMS
    track: ENHANCED
    msr: 0.02
  - contract: aco-basic-e
    kind: mssp
    payer: CMS
    track: BASIC_E
    performance_year: 2024
  - contract: aco-2026
    kind: mssp
    payer: CMS
    track: BASIC_A
"""
# PY2024 A1001 (ENHANCED) and A3317 (BASIC E)
A1001 = {
    "benchmark": D(1_650_927_172),
    "expenditures": D(1_504_130_805),
    "assigned_beneficiaries": D(116_175),
    "quality_score": D("0.7705"),
    "met_quality_standard": D(1),
}
A3317 = {
    "benchmark": D(353_635_485),
    "expenditures": D(363_926_786),
    "assigned_beneficiaries": D(28_167),
    "quality_score": D("0.8508"),
    "met_quality_standard": D(1),
    "dis_adj": D(-11_756),
}


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, ContractSpec]:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "aco.yaml").write_text(textwrap.dedent(CONTRACTS).lstrip())
    diags = Diagnostics()
    loaded = load_contracts(tmp_path, diags)
    assert not diags.items, diags.format()
    return loaded


def test_enhanced_savings(specs: dict[str, ContractSpec]) -> None:
    # savings 1,650,927,172 − 1,504,130,805 = 146,796,367 (8.89% ≥ elected MSR 2%)
    # × 75% × 0.98 = 107,895,329.745 → $107,895,329.75 (CMS: 107,895,330 in whole dollars)
    # limit 20% × benchmark = 330,185,434.40, not reached; the year defaults to the period's
    result = settle(specs["aco-enhanced"], A1001, [], PY2024, "half_up")
    assert result.result_cents == 10_789_532_975
    assert result.determinable
    assert result.explanation == (
        "MSSP ENHANCED, PY2024, 116,175 assigned beneficiaries: savings $146,796,367 (8.89% of "
        "benchmark $1,650,927,172) ≥ MSR 2.00% (elected) → shared from the first dollar at 75% "
        "(quality standard met) × 0.98 sequestration = $107,895,329.75; limit 20% of benchmark "
        "$330,185,434.40 not reached → earned $107,895,329.75"
    )
    assert result.details["outcome"] == "shared_savings"
    assert result.inputs["msr"] == "0.02 (contracts/aco.yaml:6)"


def test_basic_e_loss_not_determinable_reports_the_bound(specs: dict[str, ContractSpec]) -> None:
    # losses 363,926,786 − 353,635,485 = 10,291,301 (2.91% ≥ MLR 2.42% from the table)
    # × 30% = 3,087,390.30; 4% of benchmark = 14,145,419.40 not reached; the 8%-of-revenue
    # limit needs participant revenue → at most 3,087,390.30 − relief 11,756 = 3,075,634.30 owed
    result = settle(specs["aco-basic-e"], A3317, [], PY2024, "half_up")
    assert result.result_cents == -307_563_430
    assert not result.determinable
    assert result.details["bound_low"] == "-3075634.30"
    assert result.details["bound_high"] == "0.00"
    assert "NOT DETERMINABLE without participant revenue" in result.explanation
    assert result.explanation.endswith(
        "the result reported is the largest amount that can be owed, −$3,075,634.30 "
        "(add the metric participant_revenue for the exact amount)"
    )


def test_basic_e_loss_with_participant_revenue_is_exact(specs: dict[str, ContractSpec]) -> None:
    # revenue limit 8% × 30,000,000 = 2,400,000 < 3,087,390.30 → binds; − relief 11,756
    # → 2,388,244.00 owed
    metrics = {**A3317, "participant_revenue": D(30_000_000)}
    result = settle(specs["aco-basic-e"], metrics, [], PY2024, "half_up")
    assert result.result_cents == -238_824_400
    assert result.determinable
    assert result.details["limit_binding"] == "loss limit (revenue)"


def test_a_year_without_rules_points_at_the_year(specs: dict[str, ContractSpec]) -> None:
    metrics = {**A1001, "assigned_beneficiaries": D(20_000)}
    with pytest.raises(ContractInputError, match="no MSSP rules for performance year 2027") as info:
        settle(specs["aco-2026"], metrics, [], parse_period("2027"), "half_up")
    assert info.value.name == "performance_year" and info.value.param


def test_metrics_are_checked(specs: dict[str, ContractSpec]) -> None:
    with pytest.raises(
        ContractInputError, match=r"'quality_score' is 77\.05; it must be a fraction"
    ):
        settle(specs["aco-enhanced"], {**A1001, "quality_score": D("77.05")}, [], PY2024, "half_up")
    with pytest.raises(ContractInputError, match="'met_quality_standard' is 2; it must be 1"):
        settle(
            specs["aco-enhanced"], {**A1001, "met_quality_standard": D(2)}, [], PY2024, "half_up"
        )
    missing = {k: v for k, v in A1001.items() if k != "benchmark"}
    with pytest.raises(ContractInputError, match="missing metric 'benchmark'"):
        settle(specs["aco-enhanced"], missing, [], PY2024, "half_up")
    with pytest.raises(ContractInputError, match="benchmark must be > 0") as info:
        settle(specs["aco-enhanced"], {**A1001, "benchmark": D(0)}, [], PY2024, "half_up")
    assert info.value.name == "benchmark" and not info.value.param
