"""Productivity, worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.components.conftest import NPI_A, NPI_B, NPI_C, Runner, bucket_of, physician

FLAT = """
plan: test
components:
  - id: production
    kind: productivity
    method: flat
    conversion_factor: 52.00
    paid_share: 0.70
"""

TIERS = """
plan: test
components:
  - id: production
    kind: productivity
    method: {method}
    tiers:
      - {{up_to: 4500, rate: 50}}
      - {{up_to: 7000, rate: 55}}
      - {{rate: 60}}
"""


def test_flat_with_paid_share_matches_the_brief(run_plan: Runner) -> None:
    # 10,432.10 wRVU × $52.00 × 70% = $379,728.44 (exactly: 379,728.44)
    r = run_plan(FLAT, [physician()], lambda d: d.wrvu.__setitem__((NPI_A, 0), Decimal("10432.10")))
    (line,) = r.lines(NPI_A)
    assert line.amount_cents == 37972844
    assert line.explanation == "10,432.10 wRVU × $52.00 × 70% = $379,728.44"
    assert line.plan_file == "plans/test.yaml"
    assert line.alignment == "volume" and line.quinn == "fee_for_service"


def test_zero_wrvu_pays_zero_and_says_so(run_plan: Runner) -> None:
    r = run_plan(FLAT, [physician()])
    (line,) = r.lines(NPI_A)
    assert line.amount_cents == 0
    assert line.explanation == "0.00 wRVU × $52.00 × 70% = $0.00"


def test_marginal_tiers_on_a_boundary_exactly(run_plan: Runner) -> None:
    # exactly 4,500 wRVU: all in tier 1 → 4,500 × $50 = $225,000.00
    # 4,500.01 wRVU: 4,500 × $50 + 0.01 × $55 = $225,000.55
    def fill(d: object) -> None:
        d.wrvu[(NPI_A, 0)] = Decimal("4500")  # type: ignore[attr-defined]
        d.wrvu[(NPI_B, 0)] = Decimal("4500.01")  # type: ignore[attr-defined]

    r = run_plan(TIERS.format(method="tiered_marginal"), [physician(NPI_A), physician(NPI_B)], fill)
    assert r.net(NPI_A) == 22500000
    assert r.net(NPI_B) == 22500055
    assert "4,500.00 wRVU × $50.00 + 0.01 wRVU × $55.00" in r.lines(NPI_B)[0].explanation


def test_marginal_tiers_across_all_three(run_plan: Runner) -> None:
    # 7,500 wRVU: 4,500 × 50 + 2,500 × 55 + 500 × 60 = 225,000 + 137,500 + 30,000 = $392,500
    r = run_plan(
        TIERS.format(method="tiered_marginal"),
        [physician()],
        lambda d: d.wrvu.__setitem__((NPI_A, 0), Decimal("7500")),
    )
    assert r.net(NPI_A) == 39250000


def test_cliff_tiers_pay_every_wrvu_at_the_tier_reached(run_plan: Runner) -> None:
    # 7,000 wRVU exactly is still tier 2 (up_to is inclusive): 7,000 × $55 = $385,000
    # 7,000.50 reaches tier 3: 7,000.50 × $60 = $420,030
    def fill(d: object) -> None:
        d.wrvu[(NPI_A, 0)] = Decimal("7000")  # type: ignore[attr-defined]
        d.wrvu[(NPI_B, 0)] = Decimal("7000.50")  # type: ignore[attr-defined]

    r = run_plan(TIERS.format(method="tiered_cliff"), [physician(NPI_A), physician(NPI_B)], fill)
    assert r.net(NPI_A) == 38500000
    assert r.net(NPI_B) == 42003000


def test_part_time_fte_prorates_tier_bounds(run_plan: Runner) -> None:
    # 0.6 clinical FTE: bounds 4,500 × 0.6 = 2,700 and 7,000 × 0.6 = 4,200.
    # 3,000 wRVU: 2,700 × $50 + 300 × $55 = 135,000 + 16,500 = $151,500
    r = run_plan(
        TIERS.format(method="tiered_marginal"),
        [physician(fte="0.6")],
        lambda d: d.wrvu.__setitem__((NPI_A, 0), Decimal("3000")),
    )
    assert r.net(NPI_A) == 15150000


def test_threshold_pays_only_above_the_prorated_threshold(run_plan: Runner) -> None:
    yaml_text = """
    plan: test
    components:
      - id: incentive
        kind: productivity
        method: threshold
        threshold: 4500
        conversion_factor: 45
    """

    # clinical FTE 0.4: threshold 4,500 × 0.4 = 1,800; 2,000 wRVU → 200 × $45 = $9,000
    # the second physician (1,500 wRVU) is under the threshold: $0
    def fill(d: object) -> None:
        d.wrvu[(NPI_A, 0)] = Decimal("2000")  # type: ignore[attr-defined]
        d.wrvu[(NPI_B, 0)] = Decimal("1500")  # type: ignore[attr-defined]

    r = run_plan(
        yaml_text,
        [
            physician(NPI_A, fte="1.0", clinical_fte="0.4"),
            physician(NPI_B, fte="1.0", clinical_fte="0.4"),
        ],
        fill,
    )
    assert r.net(NPI_A) == 900000
    assert r.net(NPI_B) == 0


def test_mid_year_change_of_tiers_gives_two_lines_on_one_curve(run_plan: Runner) -> None:
    yaml_text = """
    plan: test
    components:
      - id: production
        kind: productivity
        method: tiered_marginal
        tiers:
          - from: 2026-01-01
            value: [{up_to: 4000, rate: 50}, {rate: 60}]
          - from: 2026-07-01
            source: amendment 2
            value: [{up_to: 4000, rate: 52}, {rate: 63}]
    """

    # H1: 3,000 wRVU, all in tier 1 at $50 = $150,000
    # H2: 2,000 wRVU; the annual curve continues at 3,000: 1,000 in tier 1 at $52 = $52,000,
    #     1,000 in tier 2 at $63 = $63,000 → $115,000.  Year: $265,000.
    def fill(d: object) -> None:
        d.wrvu[(NPI_A, 0)] = Decimal("3000")  # type: ignore[attr-defined]
        d.wrvu[(NPI_A, bucket_of(d, date(2026, 7, 1)))] = Decimal("2000")  # type: ignore[arg-type,attr-defined]

    r = run_plan(yaml_text, [physician()], fill)
    first, second = r.lines(NPI_A)
    assert (first.segment_start, first.segment_end) == (date(2026, 1, 1), date(2026, 6, 30))
    assert first.amount_cents == 15000000
    assert second.segment_start == date(2026, 7, 1)
    assert second.amount_cents == 11500000
    assert "(amendment 2)" in second.inputs["parameter"]
    assert r.net(NPI_A) == 26500000


def test_quarterly_tier_reset(run_plan: Runner) -> None:
    yaml_text = """
    plan: test
    components:
      - id: production
        kind: productivity
        method: tiered_marginal
        tier_reset: quarterly
        tiers: [{up_to: 4000, rate: 50}, {rate: 60}]
    """

    # quarterly bound = 4,000 / 4 = 1,000.  Q1 1,200 wRVU: 1,000 × 50 + 200 × 60 = $62,000.
    # Q2 800 wRVU (the tiers start again): 800 × 50 = $40,000.  Total $102,000.
    def fill(d: object) -> None:
        d.wrvu[(NPI_A, bucket_of(d, date(2026, 1, 1)))] = Decimal("1200")  # type: ignore[arg-type,attr-defined]
        d.wrvu[(NPI_A, bucket_of(d, date(2026, 4, 1)))] = Decimal("800")  # type: ignore[arg-type,attr-defined]

    r = run_plan(yaml_text, [physician()], fill)
    assert r.net(NPI_A) == 10200000


def test_new_hire_mid_year_prorates_bounds_by_days_employed(run_plan: Runner) -> None:
    # Starts 2026-07-01: employed 184 of 365 days.  Bound 4,500 × 184/365 = 2,268.4931...
    # 2,500 wRVU: 2,268.49315068… × $50 + 231.50684931… × $55 = 113,424.66 + 12,732.88 = $126,157.53
    # exactly: 4500×184/365 = 2268.493150684931…; ×50 = 113424.6575342…; (2500−2268.4931506…)×55 = 12732.8767123…
    # sum = 126157.5342465… → $126,157.53
    r = run_plan(
        TIERS.format(method="tiered_marginal"),
        [physician(NPI_C, start=date(2026, 7, 1))],
        lambda d: d.wrvu.__setitem__((NPI_C, 0), Decimal("2500")),
    )
    assert r.net(NPI_C) == 12615753
