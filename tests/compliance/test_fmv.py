"""FMV positions, bands and the benchmark-reliability flags, on hand-built survey rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paycascade.compliance.findings import RULES
from paycascade.compliance.fmv import (
    PayFacts,
    benchmark_findings,
    fmv_findings,
    position,
    survey_from_rows,
)

D = Decimal
SURVEY = survey_from_rows(
    {"specialty": "Family Medicine", "percentile": p, "tcc": t, "wrvu": w, "comp_per_wrvu": c}
    for p, t, w, c in [
        (10, 200_000, 3_300, 45),
        (25, 250_000, 4_000, 52),
        (50, 300_000, 5_000, 58),
        (75, 370_000, 6_100, 66),
        (90, 450_000, 7_200, 75),
    ]
)


def facts(tcc: int, wrvu: str | None = "5000", **kw: str) -> PayFacts:
    return PayFacts(
        npi=kw.get("npi", "1234567893"),
        specialty=kw.get("specialty", "Family Medicine"),
        provider_type=kw.get("provider_type", "physician"),
        fte=D(kw.get("fte", "1.00")),
        clinical_fte=D(kw.get("cfte", kw.get("fte", "1.00"))),
        tcc_cents=tcc * 100,
        wrvu=None if wrvu is None else D(wrvu),
        annual_factor=D(kw.get("factor", "1")),
    )


def codes(people: list[PayFacts]) -> list[str]:
    return [f.code for f in fmv_findings(people, SURVEY)[0]]


def test_interpolation_is_linear_between_published_percentiles() -> None:
    points = [(D(25), D(250_000)), (D(50), D(300_000)), (D(75), D(370_000))]
    # 275,000 is halfway from the 25th to the 50th: 37.5th
    mid = position(D(275_000), points)
    assert mid is not None and mid.percentile == D("37.5") and mid.band == "25th–75th"
    low = position(D(100), [(D(10), D(200)), (D(90), D(900))])
    high = position(D(1000), [(D(10), D(200)), (D(90), D(900))])
    assert low is not None and low.label == "< 10th" and low.band == "< 25th"
    assert high is not None and high.label == "> 90th" and high.band == "> 90th"
    between = position(D(400_000), [(D(75), D(370_000)), (D(90), D(450_000))])
    assert between is not None and between.band == "75th–90th"  # 80.6th


def test_fmv_above_90th_triggers_and_not() -> None:
    assert "FMV_ABOVE_90TH" in codes([facts(460_000, "7300")])
    assert "FMV_ABOVE_90TH" not in codes([facts(440_000, "7300")])


def test_pay_is_normalised_by_fte_and_annualised() -> None:
    # $230,000 at 0.5 FTE = $460,000 per FTE: above the 90th
    assert "FMV_ABOVE_90TH" in codes([facts(230_000, "3650", fte="0.50")])
    # half a year employed: $230,000 × 2 = $460,000 a year
    assert "FMV_ABOVE_90TH" in codes([facts(230_000, "3650", factor="2")])


def test_pay_production_gap_triggers_and_not() -> None:
    # pay at the 50th (300,000), production at the 10th (3,300): gap 40 points
    found = fmv_findings([facts(300_000, "3300")], SURVEY)[0]
    gap = [f for f in found if f.code == "FMV_PAY_PRODUCTION_GAP"]
    assert gap and gap[0].evidence["gap_points"] == "40.0"
    assert gap[0].rule_source == RULES["FMV_PAY_PRODUCTION_GAP"].source
    # pay at the 50th, production at the 40th (4,600): 10 points
    assert "FMV_PAY_PRODUCTION_GAP" not in codes([facts(300_000, "4600")])
    # a gap below the median is not an overpayment question
    assert "FMV_PAY_PRODUCTION_GAP" not in codes([facts(290_000, "3300")])


def test_comp_per_wrvu_high_at_high_production_triggers_and_not() -> None:
    # $490,000 / 7,000 wRVU = $70 per wRVU (81.7th) at production at the 87.3th: flagged
    assert "FMV_COMP_PER_WRVU_HIGH" in codes([facts(490_000, "7000")])
    # the same $70/wRVU at median production (5,000 wRVU, $350,000): not flagged
    assert "FMV_COMP_PER_WRVU_HIGH" not in codes([facts(350_000, "5000")])


def test_no_benchmark_triggers_and_not() -> None:
    assert codes([facts(300_000, specialty="Astrology")]) == ["FMV_NO_BENCHMARK"]
    assert codes([facts(300_000)]) == []
    assert fmv_findings([facts(300_000, specialty="Astrology")], {})[0] == []


@pytest.mark.parametrize(
    ("fte", "cfte", "flagged"),
    [("0.60", "0.60", True), ("1.0", "0.40", True), ("0.80", "0.80", False)],
)
def test_low_fte(fte: str, cfte: str, flagged: bool) -> None:
    found = [f.code for f in benchmark_findings([facts(300_000, fte=fte, cfte=cfte)])]
    assert ("BENCHMARK_LOW_FTE" in found) is flagged


def test_low_production_triggers_and_not() -> None:
    low = benchmark_findings([facts(100_000, "900")])
    assert [f.code for f in low] == ["BENCHMARK_LOW_PRODUCTION"]
    assert low[0].evidence["wrvu_annualised"] == "900.00"
    # 600 wRVU in a quarter-year employment = 2,400 a year: fine
    assert benchmark_findings([facts(100_000, "600", factor="4")]) == []
    # APPs are not held to the physician production floor
    assert benchmark_findings([facts(100_000, "900", provider_type="app")]) == []
