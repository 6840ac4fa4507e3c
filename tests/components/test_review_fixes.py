"""Regressions from the domain review: each case fails on the code before its fix."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.components.conftest import NPI_A, Runner, bucket_of, physician

D = Decimal


def test_monthly_cliff_bound_is_inclusive_exactly(run_plan: Runner) -> None:
    # up_to 6,000 a year, monthly reset: 6,000 / 12 = 500 exactly; 500 wRVU stays in tier 1
    # → 500 × $50 = $25,000.00 (it paid tier 2, $30,000, when 1/12 was rounded first)
    plan = """
    plan: test
    components:
      - id: production
        kind: productivity
        method: tiered_cliff
        tier_reset: monthly
        tiers: [{up_to: 6000, rate: 50}, {rate: 60}]
    """
    r = run_plan(plan, [physician()], lambda d: d.wrvu.__setitem__((NPI_A, 0), D(500)), "2026-01")
    assert r.net(NPI_A) == 2500000
    assert "tier 1 reached" in r.lines(NPI_A)[0].explanation


def test_a_full_fiscal_year_pays_the_annual_salary(run_plan: Runner) -> None:
    # Jul 2023–Jun 2024 has 366 days (Feb 29, 2024), Jul 2024–Jun 2025 has 365: both pay $300,000
    plan = """
    plan: test
    components:
      - {id: base, kind: salary, annual: 300000}
    """
    for period in ("2023-07-01..2024-06-30", "2024-07-01..2025-06-30"):
        assert run_plan(plan, [physician()], period=period).net(NPI_A) == 30000000, period


def test_annual_tiers_reset_on_the_plan_year_not_january(run_plan: Runner) -> None:
    # a July–June plan year is one annual window: 5,000 wRVU = 4,500 × $50 + 500 × $60 = $255,000
    plan = """
    plan: test
    components:
      - id: production
        kind: productivity
        method: tiered_marginal
        tiers: [{up_to: 4500, rate: 50}, {rate: 60}]
    """

    def fill(d: object) -> None:
        assert d.bucket_starts == [date(2025, 7, 1)]  # type: ignore[attr-defined]
        d.wrvu[(NPI_A, bucket_of(d, date(2025, 7, 1)))] = D(5000)  # type: ignore[arg-type,attr-defined]

    r = run_plan(plan, [physician()], fill, "2025-07-01..2026-06-30")
    assert r.net(NPI_A) == 25500000


def test_explanations_multiply_out(run_plan: Runner) -> None:
    # credited wRVU with 4 decimals are printed exactly: 1,234.5678 × $52 = 64,197.5256 → $64,197.53
    plan = """
    plan: test
    components:
      - {id: production, kind: productivity, method: flat, conversion_factor: 52}
      - id: bonus
        kind: quality_incentive
        amount: 20000
        scorecard: card
    scorecards:
      card:
        measures:
          - {id: m, weight: 0.6, threshold: 0.5, target: 0.9, min_denominator: 1}
          - {id: n, weight: 0.4, threshold: 0.5, target: 0.9, min_denominator: 1}
    """

    def fill(d: object) -> None:
        d.wrvu[(NPI_A, 0)] = D("1234.5678")  # type: ignore[attr-defined]
        d.quality[(NPI_A, "m")] = (D(7), D(10), D(0))  # type: ignore[attr-defined]
        d.quality[(NPI_A, "n")] = (D(7), D(10), D(0))  # type: ignore[attr-defined]

    # hired 2026-07-04: max 20,000 × 181/365 = 9,917.808… → $9,917.81 shown; score 0.5:
    # $9,917.81 × 0.5 = 4,958.905 → $4,958.91 (the product of the numbers shown)
    r = run_plan(plan, [physician(start=date(2026, 7, 4))], fill)
    (production,) = r.lines(NPI_A, "production")
    assert production.explanation == "1,234.5678 wRVU × $52.00 = $64,197.53"
    (bonus,) = r.lines(NPI_A, "bonus")
    assert bonus.amount_cents == 495891
    assert "= $9,917.81 × score 0.5" in bonus.explanation
    # fractional weights are printed as declared: (0.6×0.5 + 0.4×0.5) ÷ 1 = 0.5
    assert "(0.6×0.5 + 0.4×0.5) ÷ 1 = 0.5" in bonus.explanation


def test_withhold_of_a_band_with_a_ceiling_across_a_mid_year_change(run_plan: Runner) -> None:
    # production 8,000 × $50 = 400,000 (H1) + 200 × $52 = 10,400 (H2) = 410,400, capped at 350,000;
    # the −60,400 is spread by what each half paid; 10% of the capped 350,000 is withheld = 35,000
    plan = """
    plan: test
    components:
      - id: capped
        kind: band
        max: 350000
        of:
          - id: production
            kind: productivity
            method: flat
            conversion_factor:
              - {from: 2026-01-01, value: 50}
              - {from: 2026-07-01, value: 52}
      - id: withhold
        kind: withhold
        rate: 0.10
        of: [capped]
        scorecard: card
        payout: linear
    scorecards:
      card:
        measures:
          - {id: m, threshold: 0.5, target: 0.9, min_denominator: 1}
    """

    def fill(d: object) -> None:
        d.wrvu[(NPI_A, 0)] = D(8000)  # type: ignore[attr-defined]
        d.wrvu[(NPI_A, bucket_of(d, date(2026, 7, 1)))] = D(200)  # type: ignore[arg-type,attr-defined]
        d.quality[(NPI_A, "m")] = (D(9), D(10), D(0))  # type: ignore[attr-defined]

    r = run_plan(plan, [physician()], fill)
    assert r.net(NPI_A, "withhold", "withheld") == -3500000
    assert r.net(NPI_A) == 35000000  # capped pay; the withhold is paid back in full (score 1)


def test_cap_zero_is_zero(run_plan: Runner) -> None:
    plan = """
    plan: test
    components:
      - {id: bonus, kind: quality_incentive, amount: 10000, cap: 0, scorecard: card}
    scorecards:
      card:
        measures:
          - {id: m, threshold: 0.5, target: 0.9, min_denominator: 0}
    """
    r = run_plan(
        plan, [physician()], lambda d: d.quality.__setitem__((NPI_A, "m"), (D(9), D(10), D(0)))
    )
    assert r.net(NPI_A) == 0
