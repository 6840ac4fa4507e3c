"""Value-side components, worked out by hand: contract pools (shared savings, capitation),
gainsharing, co-management, partnership and academic salary.

NPIs sort as NPI_C (1003…) < NPI_A (1234…) < NPI_B (1245…): that is the frame order, and
largest-remainder ties go to the earlier NPI.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from paycascade.ledger import Posting, balance
from paycascade.plans.model import PlanData
from tests.components.conftest import (
    NPI_A,
    NPI_B,
    NPI_C,
    Result,
    Runner,
    bucket_of,
    fund,
    partner,
    pool_flows,
)

D = Decimal
POOL = "pool:pcp_shared_savings"


def _pool_flows(r: Result, pool: str) -> tuple[int, int]:
    return pool_flows(r.postings, pool)


def _one(lines: list[Posting]) -> Posting:
    assert len(lines) == 1, lines
    return lines[0]


def _shared(method: str, extra: str = "") -> str:
    return f"""
plan: test
components:
  - id: savings
    kind: shared_savings
    pool: pcp_shared_savings
    method: {method}
{extra}
"""


CARD = """
scorecards:
  card:
    measures:
      - {id: bp, direction: higher, threshold: 0.60, target: 0.80, min_denominator: 20}
"""


def _bp(d: PlanData, npi: str, numerator: int) -> None:
    d.quality[(npi, "bp")] = (D(numerator), D(100), D(0))


# -- shared_savings: the five methods --------------------------------------------------------------


def test_attributed_lives_split_with_largest_remainder(run_funded: Runner) -> None:
    # $420,000.00 = 42,000,000 cents over 1,812 + 7,594 + 12,000 = 21,406 member months
    # A: 42,000,000 × 1,812 / 21,406 = 3,555,264.879 → floor 3,555,264, remainder .879
    # B: 42,000,000 × 7,594 / 21,406 = 14,899,934.598 → floor 14,899,934, remainder .598
    # C: 42,000,000 × 12,000 / 21,406 = 23,544,800.523 → floor 23,544,800, remainder .523
    # floors sum to 41,999,998: the 2 cents left go to the largest remainders, A and B
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=42_000_000)
        d.member_months[(NPI_A, 0)] = D(1812)
        d.member_months[(NPI_B, 0)] = D(7594)
        d.member_months[(NPI_C, 0)] = D(12000)

    people = [partner(NPI_A), partner(NPI_B), partner(NPI_C)]
    r = run_funded(_shared("attributed_lives"), people, fill)
    assert r.net(NPI_A) == 3_555_265
    assert r.net(NPI_B) == 14_899_935
    assert r.net(NPI_C) == 23_544_800
    line = _one(r.lines(NPI_A, "savings"))
    assert line.kind == "shared_savings"
    assert line.alignment == "value" and line.quinn == "shared_savings"
    assert line.source == POOL and line.destination == f"physician:{NPI_A}"
    assert line.explanation == ("$420,000.00 pool × 1,812 of 21,406 member months = $35,552.65")
    assert line.inputs["funded_by"] == "mssp_2026 420000.00"
    assert line.plan_file == "plans/test.yaml" and line.plan_line == 4
    assert balance(r.postings)[POOL] == 0
    assert _pool_flows(r, POOL) == (42_000_000, 0)


def test_equal_shares_remainder_cent_goes_to_the_earlier_npi(run_funded: Runner) -> None:
    # $100.00 / 3 = 3,333.33… cents each: floors 3,333 × 3 = 9,999; the 1 cent left is a tie
    # of equal remainders, so it goes to the earliest NPI (C): 33.34, 33.33, 33.33
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=10_000)

    people = [partner(NPI_A), partner(NPI_B), partner(NPI_C)]
    r = run_funded(_shared("equal"), people, fill)
    assert (r.net(NPI_C), r.net(NPI_A), r.net(NPI_B)) == (3334, 3333, 3333)
    assert _one(r.lines(NPI_C)).explanation == "$100.00 pool × 1 of 3 equal shares = $33.34"


def test_equal_shares_weighted_by_fte(run_funded: Runner) -> None:
    # $90.00 over 1.0 + 0.5 FTE: A 9,000 × 1.0 / 1.5 = 6,000; B 9,000 × 0.5 / 1.5 = 3,000
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=9_000)

    people = [partner(NPI_A, fte="1.0"), partner(NPI_B, fte="0.5")]
    r = run_funded(_shared("equal", "    fte_weighted: true"), people, fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (6000, 3000)
    assert "× 0.50 of 1.50 FTE = $30.00" in _one(r.lines(NPI_B)).explanation


def test_wrvu_split(run_funded: Runner) -> None:
    # $10,000.01 over 6,000 + 4,000 wRVU: A 1,000,001 × 0.6 = 600,000.6; B 400,000.4
    # floors 600,000 + 400,000; the cent left goes to the larger remainder (A): $6,000.01
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=1_000_001)
        d.wrvu[(NPI_A, 0)] = D(6000)
        d.wrvu[(NPI_B, 0)] = D(4000)

    r = run_funded(_shared("wrvu"), [partner(NPI_A), partner(NPI_B)], fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (600_001, 400_000)
    assert "× 6,000.00 of 10,000.00 wRVU = $6,000.01" in _one(r.lines(NPI_A)).explanation


def test_quality_score_split(run_funded: Runner) -> None:
    # A: bp 80/100 = target → 1 point; B: 70/100, halfway from 0.60 to 0.80 → 0.5 points
    # $3,000.00 × 1 / 1.5 = $2,000.00 to A; × 0.5 / 1.5 = $1,000.00 to B
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=300_000)
        _bp(d, NPI_A, 80)
        _bp(d, NPI_B, 70)

    yaml_text = _shared("quality_score", "    scorecard: card") + CARD
    r = run_funded(yaml_text, [partner(NPI_A), partner(NPI_B)], fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (200_000, 100_000)
    assert "× 0.5 of 1.5 composite score points = $1,000.00" in _one(r.lines(NPI_B)).explanation
    assert r.computation.scores[NPI_B][0].composite == D("0.5")


def test_contribution_split_by_panel_savings(run_funded: Runner) -> None:
    # savings = max(0, expected − actual):
    #   A 1,200,000 − 1,080,000 = 120,000; B 500,000 − 520,000 < 0 → 0;
    #   C 900,000 − 620,000 = 280,000
    # $40,000.00 × 120,000 / 400,000 = $12,000.00 to A; × 280,000 / 400,000 = $28,000.00 to C
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=4_000_000)
        d.expected_cost.update({NPI_A: D(1_200_000), NPI_B: D(500_000), NPI_C: D(900_000)})
        d.actual_cost.update({NPI_A: D(1_080_000), NPI_B: D(520_000), NPI_C: D(620_000)})

    people = [partner(NPI_A), partner(NPI_B), partner(NPI_C)]
    r = run_funded(_shared("contribution"), people, fill)
    assert (r.net(NPI_A), r.net(NPI_B), r.net(NPI_C)) == (1_200_000, 0, 2_800_000)
    assert _one(r.lines(NPI_A)).explanation == (
        "$40,000.00 pool × $120,000.00 of $400,000.00 in panel savings "
        "(expected $1,200,000.00 − actual $1,080,000.00) = $12,000.00"
    )
    assert _one(r.lines(NPI_B)).explanation == (
        "no share of the $40,000.00 pool: 0 in panel savings"
    )
    assert _pool_flows(r, POOL) == (4_000_000, 0)


# -- eligibility and authorization -----------------------------------------------------------------


def test_ineligible_takes_no_part_and_unauthorized_share_is_retained(run_funded: Runner) -> None:
    # C at 0.4 FTE is below min_fte 0.5: out of the split, so A and B share $900.00 equally:
    # 90,000 / 2 = 45,000 each.  B's agreement does not authorize pass-through: B's 45,000
    # stays with the system (pool → system:retained on B's statement, net 0).
    # Σ distributed 45,000 + Σ retained 45,000 = the 90,000 funded.
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=90_000)

    people = [
        partner(NPI_A),
        partner(NPI_B, authorized=False),
        partner(NPI_C, fte="0.4"),
    ]
    extra = "    eligibility: {min_fte: 0.5}"
    r = run_funded(_shared("equal", extra), people, fill)
    assert (r.net(NPI_A), r.net(NPI_B), r.net(NPI_C)) == (45_000, 0, 0)
    kept = _one(r.lines(NPI_B))
    assert kept.kind == "shared_savings_retained"
    assert (kept.source, kept.destination, kept.amount_cents) == (POOL, "system:retained", 45_000)
    assert kept.net_to_physician == 0
    assert kept.explanation == (
        "$900.00 pool × 1 of 2 equal shares = $450.00, kept by the system: your employment "
        "agreement does not authorize pass-through of contract savings "
        "(pass_through_authorized is false)"
    )
    out = _one(r.lines(NPI_C))
    assert out.amount_cents == 0
    assert out.explanation == (
        "no share of the $900.00 pool: not eligible: 0.40 FTE is below the minimum of 0.5"
    )
    assert _pool_flows(r, POOL) == (45_000, 45_000)
    assert balance(r.postings)[POOL] == 0


def test_authorization_can_be_switched_off(run_funded: Runner) -> None:
    # require_authorization: false → B is paid despite the agreement: 90,000 / 2 = 45,000 each
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=90_000)

    extra = "    eligibility: {require_authorization: false}"
    people = [partner(NPI_A), partner(NPI_B, authorized=False)]
    r = run_funded(_shared("equal", extra), people, fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (45_000, 45_000)
    assert _one(r.lines(NPI_B)).inputs["require_authorization"] == "false"


def test_min_score_excludes_low_scorers(run_funded: Runner) -> None:
    # A scores 1 (bp 80%), B 0.25 (bp 65%: (0.65 − 0.60) / 0.20) < min_score 0.5 → out;
    # A takes the whole $500.00 by member months
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=50_000)
        _bp(d, NPI_A, 80)
        _bp(d, NPI_B, 65)
        d.member_months[(NPI_A, 0)] = D(100)
        d.member_months[(NPI_B, 0)] = D(300)

    extra = "    scorecard: card\n    eligibility: {min_score: 0.5}"
    r = run_funded(
        _shared("attributed_lives", extra) + CARD, [partner(NPI_A), partner(NPI_B)], fill
    )
    assert (r.net(NPI_A), r.net(NPI_B)) == (50_000, 0)
    assert (
        "not eligible: score 0.2500 is below the minimum of 0.5" in _one(r.lines(NPI_B)).explanation
    )


def test_nobody_eligible_everything_retained(run_funded: Runner) -> None:
    # everyone is at 0.5 FTE, below min_fte 0.9: the whole $1,234.56 goes to system:retained
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=123_456)

    people = [partner(NPI_A, fte="0.5"), partner(NPI_B, fte="0.5")]
    r = run_funded(_shared("equal", "    eligibility: {min_fte: 0.9}"), people, fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (0, 0)
    kept = _one(r.lines(None, "savings"))
    assert (kept.source, kept.destination, kept.amount_cents) == (POOL, "system:retained", 123_456)
    assert kept.kind == "shared_savings_retained" and kept.alignment == "none"
    assert kept.explanation == (
        "$1,234.56 in pool:pcp_shared_savings retained by the system: nobody can take a share "
        "(not eligible: 0.50 FTE is below the minimum of 0.9)"
    )
    assert "not eligible" in _one(r.lines(NPI_A)).explanation
    assert balance(r.postings)[POOL] == 0


def test_zero_weights_everything_retained(run_funded: Runner) -> None:
    # nobody has attributed member months: no weights, the pool is retained
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=50_000)

    r = run_funded(_shared("attributed_lives"), [partner(NPI_A)], fill)
    kept = _one(r.lines(None, "savings"))
    assert kept.amount_cents == 50_000
    assert "nobody can take a share (0 member months)" in kept.explanation
    assert _pool_flows(r, POOL) == (0, 50_000)


def test_unfunded_pool_shows_a_zero_line(run_funded: Runner) -> None:
    r = run_funded(_shared("equal"), [partner(NPI_A)])
    line = _one(r.lines(NPI_A))
    assert line.amount_cents == 0
    assert line.explanation == (
        "pool:pcp_shared_savings received nothing from contracts this period: nothing to distribute"
    )


# -- losses ----------------------------------------------------------------------------------------


def test_negative_pool_is_absorbed_by_the_system_by_default(run_funded: Runner) -> None:
    # the contract allocated a $500.00 loss to the pool (pool → contract:mssp_2026, 50,000);
    # no losses: pass_through → system:retained → pool 50,000; nothing reaches physicians
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=-50_000)

    r = run_funded(_shared("equal"), [partner(NPI_A), partner(NPI_B)], fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (0, 0)
    absorbed = _one(r.lines(None, "savings"))
    assert (absorbed.source, absorbed.destination) == ("system:retained", POOL)
    assert absorbed.amount_cents == 50_000
    assert "the plan does not pass losses to physicians" in absorbed.explanation
    assert "absorbed by the system" in _one(r.lines(NPI_A)).explanation
    assert balance(r.postings)[POOL] == 0
    assert _pool_flows(r, POOL) == (0, -50_000)


def test_negative_pool_passed_through_when_declared(run_funded: Runner) -> None:
    # losses: pass_through, equal shares of the $300.00 loss: 10,000 each.
    # A and B bear theirs (physician → pool); C is not authorized: the system absorbs C's part.
    # Σ distributed −20,000 + Σ retained −10,000 = −30,000 funded
    def fill(d: PlanData) -> None:
        fund(d, POOL, mssp_2026=-30_000)

    people = [partner(NPI_A), partner(NPI_B), partner(NPI_C, authorized=False)]
    r = run_funded(_shared("equal", "    losses: pass_through"), people, fill)
    assert (r.net(NPI_A), r.net(NPI_B), r.net(NPI_C)) == (-10_000, -10_000, 0)
    borne = _one(r.lines(NPI_A))
    assert borne.kind == "shared_savings_loss"
    assert (borne.source, borne.destination) == (f"physician:{NPI_A}", POOL)
    assert borne.explanation == (
        "share of the loss: $300.00 pool × 1 of 3 equal shares = $100.00, borne by you "
        "(losses: pass_through)"
    )
    absorbed = _one(r.lines(NPI_C))
    assert (absorbed.source, absorbed.destination) == ("system:retained", POOL)
    assert "absorbed by the system: your employment agreement" in absorbed.explanation
    assert _pool_flows(r, POOL) == (-20_000, -10_000)
    assert balance(r.postings)[POOL] == 0


# -- capitation ------------------------------------------------------------------------------------


def test_capitation_by_risk_adjusted_member_months(run_funded: Runner) -> None:
    # A: 1,000 member months × risk 1.2 = 1,200; B: 1,000 × 0.8 = 800 (risk-adjusted Σ 2,000)
    # $50,000.00 × 1,200 / 2,000 = $30,000.00 to A; × 800 / 2,000 = $20,000.00 to B
    yaml_text = """
plan: test
components:
  - id: cap
    kind: capitation
    pool: ma_capitation
    risk_adjusted: true
"""

    def fill(d: PlanData) -> None:
        fund(d, "pool:ma_capitation", ma_2026=5_000_000)
        d.member_months.update({(NPI_A, 0): D(1000), (NPI_B, 0): D(1000)})
        d.risk_member_months.update({(NPI_A, 0): D(1200), (NPI_B, 0): D(800)})

    r = run_funded(yaml_text, [partner(NPI_A), partner(NPI_B)], fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (3_000_000, 2_000_000)
    line = _one(r.lines(NPI_A))
    assert line.kind == "capitation" and line.quinn == "capitation"
    assert line.explanation == (
        "$50,000.00 pool × 1,200 of 2,000 risk-adjusted member months "
        "(1,000 member months × average risk 1.2000) = $30,000.00"
    )
    assert balance(r.postings)["pool:ma_capitation"] == 0


# -- gainsharing -----------------------------------------------------------------------------------

GAIN = """
plan: test
components:
  - id: gain
    kind: gainsharing
    documented_savings:
      - {{from: 2026-01-01, value: {savings}, source: "Cost report"}}
    savings_share: {share}
    split: {split}
{extra}
"""


def test_gainsharing_cap_and_quality_floor(run_funded: Runner) -> None:
    # 50% × $300,000.00 documented savings = $150,000.00 into pool:test/gain
    # per capita: $50,000.00 each; cap $45,000.00 (annual, whole year in the term)
    # A: paid 45,000, 5,000 above the cap retained; C: the same
    # B: bp 50% < threshold → score 0 < floor 0.5: B's 50,000 retained
    # paid 90,000 + retained 60,000 = 150,000
    extra = """    cap_per_physician: 45000
    quality_floor: {scorecard: card, min_score: 0.5}
    term: {start: 2026-01-01, end: 2026-12-31}
    utilization_floor: "no fewer implants per case than 2024"
"""
    yaml_text = GAIN.format(savings=300000, share=0.5, split="per_capita", extra=extra) + CARD

    def fill(d: PlanData) -> None:
        _bp(d, NPI_A, 80)
        _bp(d, NPI_B, 50)
        _bp(d, NPI_C, 90)

    people = [partner(NPI_A), partner(NPI_B), partner(NPI_C)]
    r = run_funded(yaml_text, people, fill)
    pool = "pool:test/gain"
    assert (r.net(NPI_A), r.net(NPI_B), r.net(NPI_C)) == (4_500_000, 0, 4_500_000)
    funding = _one(r.lines(None, "gain", "gainsharing_funding"))
    assert (funding.source, funding.destination) == ("system:cost_savings", pool)
    assert funding.amount_cents == 15_000_000
    assert funding.explanation.startswith("50% of $300,000.00 documented hospital cost savings")
    paid, over_cap = r.lines(NPI_A, "gain")
    assert paid.explanation == (
        "$150,000.00 pool × 1 of 3 equal shares = $50,000.00, capped at $45,000.00 per "
        "physician ($45,000.00 annual × 365/365 days in the term)"
    )
    assert (over_cap.destination, over_cap.amount_cents) == ("system:retained", 500_000)
    floor = _one(r.lines(NPI_B, "gain"))
    assert floor.amount_cents == 5_000_000 and floor.destination == "system:retained"
    assert "below the quality floor of 0.5" in floor.explanation
    assert paid.inputs["safeguards"] == (
        "per_capita_split,cap_per_physician,quality_floor,limited_term,utilization_floor"
    )
    assert paid.inputs["utilization_floor"] == "no fewer implants per case than 2024"
    assert paid.inputs["term"] == "2026-01-01..2026-12-31"
    assert _pool_flows(r, pool) == (9_000_000, 6_000_000)
    assert balance(r.postings)[pool] == 0


def test_gainsharing_outside_the_term_distributes_nothing(run_funded: Runner) -> None:
    # the term ended 2025-12-31; 2026's $100,000.00 × 50% = $50,000.00 is all retained
    extra = "    term: {start: 2025-01-01, end: 2025-12-31}"
    yaml_text = GAIN.format(savings=100000, share=0.5, split="per_capita", extra=extra)
    r = run_funded(yaml_text, [partner(NPI_A), partner(NPI_B)])
    assert (r.net(NPI_A), r.net(NPI_B)) == (0, 0)
    kept = _one(r.lines(None, "gain", "gainsharing_retained"))
    assert kept.amount_cents == 5_000_000
    assert "outside the gainsharing term (2025-01-01 to 2025-12-31)" in kept.explanation
    assert "outside the gainsharing term" in _one(r.lines(NPI_A)).explanation
    assert balance(r.postings)["pool:test/gain"] == 0


def test_gainsharing_term_ending_mid_period_prorates_the_pool_and_the_cap(
    run_funded: Runner,
) -> None:
    # term Jan 1 – Jun 30 2026 = 181 of 365 days.  $365,000.00 × 100% = 36,500,000 cents:
    # in-term 36,500,000 × 181/365 = 18,100,000; the other 18,400,000 retained.
    # per capita over A and B: 9,050,000 each; cap $100,000 × 181/365 = $49,589.04 →
    # each paid 4,958,904, and 9,050,000 − 4,958,904 = 4,091,096 retained each.
    extra = "    cap_per_physician: 100000\n    term: {start: 2026-01-01, end: 2026-06-30}"
    yaml_text = GAIN.format(savings=365000, share=1, split="per_capita", extra=extra)
    r = run_funded(yaml_text, [partner(NPI_A), partner(NPI_B)])
    assert (r.net(NPI_A), r.net(NPI_B)) == (4_958_904, 4_958_904)
    outside = _one(r.lines(None, "gain", "gainsharing_retained"))
    assert outside.amount_cents == 18_400_000
    assert "184 of the period's 365 days are outside the gainsharing term" in outside.explanation
    assert "in-term part of the pool" in r.lines(NPI_A, "gain")[0].explanation
    assert _pool_flows(r, "pool:test/gain") == (2 * 4_958_904, 36_500_000 - 2 * 4_958_904)


def test_gainsharing_by_wrvu_counts_only_the_term(run_funded: Runner) -> None:
    # term Jan 1 – Jun 30: A's 5,000 wRVU after July are not counted.
    # A 1,000 and B 3,000 in-term wRVU; the pool is a contract's (a bundle's) $8,000.00 —
    # the in-term part is 800,000 × 181/365 = 396,712.33 → 396,712 (largest remainder);
    # A: 396,712 × 1,000 / 4,000 = 99,178; B: 297,534
    yaml_text = """
plan: test
components:
  - id: gain
    kind: gainsharing
    pool: ortho_bundle
    split: wrvu
    term: {start: 2026-01-01, end: 2026-06-30}
"""

    def fill(d: PlanData) -> None:
        fund(d, "pool:ortho_bundle", bpci_2026=800_000)
        h2 = bucket_of(d, date(2026, 7, 1))
        assert h2 > 0
        d.wrvu[(NPI_A, 0)] = D(1000)
        d.wrvu[(NPI_A, h2)] = D(5000)
        d.wrvu[(NPI_B, 0)] = D(3000)

    r = run_funded(yaml_text, [partner(NPI_A), partner(NPI_B)], fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (99_178, 297_534)
    assert balance(r.postings)["pool:ortho_bundle"] == 0


def test_gainsharing_never_passes_losses(run_funded: Runner) -> None:
    yaml_text = """
plan: test
components:
  - {id: gain, kind: gainsharing, pool: ortho_bundle}
"""

    def fill(d: PlanData) -> None:
        fund(d, "pool:ortho_bundle", bpci_2026=-70_000)

    r = run_funded(yaml_text, [partner(NPI_A)], fill)
    assert r.net(NPI_A) == 0
    absorbed = _one(r.lines(None, "gain"))
    assert (absorbed.source, absorbed.amount_cents) == ("system:retained", 70_000)
    assert "gainsharing never passes losses to physicians" in absorbed.explanation


# -- co_management ---------------------------------------------------------------------------------


def test_co_management_fixed_fee_and_incentive(run_funded: Runner) -> None:
    # A holds the role all year; B from Jul 1 (184 of 365 days).
    # fixed: A $60,000.00; B 60,000 × 184/365 = $30,246.58
    # incentive: A up to $40,000.00 × score 0.5 (bp 70%) = $20,000.00;
    #            B up to 40,000 × 184/365 = $20,164.38 × score 1 (bp 80%) = $20,164.38
    # C holds no role: nothing
    yaml_text = (
        """
plan: test
components:
  - id: hip
    kind: co_management
    stipend: hip_fracture
    fixed_fee: 60000
    incentive_fee: 40000
    scorecard: card
"""
        + CARD
    )

    def fill(d: PlanData) -> None:
        d.stipends[NPI_A] = [("hip_fracture", None, None, None)]
        d.stipends[NPI_B] = [("hip_fracture", None, date(2026, 7, 1), None)]
        _bp(d, NPI_A, 70)
        _bp(d, NPI_B, 80)

    r = run_funded(yaml_text, [partner(NPI_A), partner(NPI_B), partner(NPI_C)], fill)
    assert r.net(NPI_A, kind="co_management_fixed_fee") == 6_000_000
    assert r.net(NPI_A, kind="co_management_incentive") == 2_000_000
    assert r.net(NPI_B, kind="co_management_fixed_fee") == 3_024_658
    assert r.net(NPI_B, kind="co_management_incentive") == 2_016_438
    assert r.lines(NPI_C) == []
    incentive = _one(r.lines(NPI_A, kind="co_management_incentive"))
    assert incentive.explanation.startswith(
        "at-risk incentive fee: up to $40,000.00 annual × 365/365 days = $40,000.00 × score "
        "0.5000 = $20,000.00; composite = "
    )
    fixed = _one(r.lines(NPI_B, kind="co_management_fixed_fee"))
    assert fixed.explanation == "hip fracture: $60,000.00 annual × 184/365 days = $30,246.58"
    assert fixed.alignment == "mixed" and fixed.quinn == "pay_for_performance"
    assert fixed.component == "hip"


# -- partnership -----------------------------------------------------------------------------------

VENTURE = """
plan: test
components:
  - id: imaging
    kind: {kind}
    venture: imaging_center
    distributable_profit:
      - {{from: 2025-12-31, value: 999999, source: "FY2025"}}
      - {{from: 2026-12-31, value: {profit}, source: "FY2026 distribution"}}
    includes_technical_revenue: {technical}
"""


def test_partnership_profit_by_ownership_share(run_funded: Runner) -> None:
    # the 2026 entry ($1,200,000) is the one dated in the period (the FY2025 one is not)
    # A owns 25%: 1,200,000 × 0.25 = $300,000.00; B 35%: $420,000.00; the rest (40%) is
    # other owners' and not posted.  C owns only another venture: nothing.
    def fill(d: PlanData) -> None:
        d.ownership[NPI_A] = [("imaging_center", D("0.25")), ("asc", D("0.10"))]
        d.ownership[NPI_B] = [("imaging_center", D("0.35"))]
        d.ownership[NPI_C] = [("asc", D("0.50"))]

    yaml_text = VENTURE.format(kind="partnership", profit=1200000, technical="true")
    r = run_funded(yaml_text, [partner(NPI_A), partner(NPI_B), partner(NPI_C)], fill)
    assert (r.net(NPI_A), r.net(NPI_B), r.net(NPI_C)) == (30_000_000, 42_000_000, 0)
    line = _one(r.lines(NPI_A))
    assert line.kind == "profit_distribution" and line.source == "system:compensation"
    assert line.explanation == (
        "imaging center: $1,200,000.00 distributable profit × 25% ownership = $300,000.00; "
        "physicians of this plan own 60% of the imaging center; includes technical revenue of "
        "designated health services: flagged for compliance review"
    )
    assert line.inputs["includes_technical_revenue"] == "true"
    assert line.inputs["physicians_share"] == "0.60"


def test_joint_venture_alias_and_remainder_cents(run_funded: Runner) -> None:
    # $100.00 with A and B owning 1/3 each (0.3333): 10,000 × 0.3333 = 3,333 each exactly,
    # the rest (0.3334) of the venture is not posted
    def fill(d: PlanData) -> None:
        d.ownership[NPI_A] = [("imaging_center", D("0.3333"))]
        d.ownership[NPI_B] = [("imaging_center", D("0.3333"))]

    yaml_text = VENTURE.format(kind="joint_venture", profit=100, technical="false")
    r = run_funded(yaml_text, [partner(NPI_A), partner(NPI_B)], fill)
    assert (r.net(NPI_A), r.net(NPI_B)) == (3333, 3333)
    assert _one(r.lines(NPI_A)).inputs["includes_technical_revenue"] == "false"
    assert "technical" not in _one(r.lines(NPI_A)).explanation


# -- academic --------------------------------------------------------------------------------------

ACADEMIC = """
plan: test
components:
  - id: faculty
    kind: academic
    base_salary: {base}
    nih_cap:
      - {{from: 2025-01-01, value: 225700, source: "NIH NOT-OD-25-085"}}
"""


def _effort(d: PlanData, npi: str, grant: str) -> None:
    d.effort[npi] = {
        "clinical": D("0.4"),
        "research": D("0.4"),
        "teaching": D("0.1"),
        "admin": D("0.1"),
        "grant_funded": D(grant),
    }


def test_academic_with_the_nih_cap_binding(run_funded: Runner) -> None:
    # A: base $300,000 > cap $225,700: grant pays 40% × 225,700 = $90,280.00;
    #    the institution pays 300,000 − 90,280 = $209,720.00
    # B at 0.5 FTE: salary 150,000; grant 40% × 225,700 × 0.5 = $45,140.00;
    #    institution 150,000 − 45,140 = $104,860.00
    # C has no effort row: all $300,000.00 from the institution
    def fill(d: PlanData) -> None:
        _effort(d, NPI_A, "0.4")
        _effort(d, NPI_B, "0.4")

    people = [partner(NPI_A), partner(NPI_B, fte="0.5"), partner(NPI_C)]
    r = run_funded(ACADEMIC.format(base=300000), people, fill)
    grant = _one(r.lines(NPI_A, kind="academic_grant"))
    assert (grant.source, grant.amount_cents) == ("grant:research", 9_028_000)
    assert grant.explanation == (
        "grant-funded: base $300,000.00 above the NIH cap $225,700.00: grant pays 40% × "
        "$225,700.00 × 1.00 FTE × 365/365 days = $90,280.00; the institution pays the rest "
        "(plans/test.yaml:8 (NIH NOT-OD-25-085))"
    )
    assert grant.inputs["cap_binds"] == "true"
    inst = _one(r.lines(NPI_A, kind="academic_institutional"))
    assert (inst.source, inst.amount_cents) == ("system:compensation", 20_972_000)
    assert inst.explanation == (
        "$300,000.00 annual × 1.00 FTE × 365/365 days = $300,000.00 salary − $90,280.00 "
        "grant-funded = $209,720.00 paid by the institution (effort: clinical 40%, research "
        "40%, teaching 10%, admin 10%, grant-funded 40%)"
    )
    assert r.net(NPI_B, kind="academic_grant") == 4_514_000
    assert r.net(NPI_B, kind="academic_institutional") == 10_486_000
    assert r.net(NPI_C) == 30_000_000
    assert r.lines(NPI_C, kind="academic_grant") == []
    assert "no effort allocation on file" in _one(r.lines(NPI_C)).explanation


def test_academic_below_the_nih_cap(run_funded: Runner) -> None:
    # base $200,000 ≤ cap: grant pays 40% × 200,000 = $80,000.00; institution $120,000.00
    r = run_funded(
        ACADEMIC.format(base=200000), [partner(NPI_A)], lambda d: _effort(d, NPI_A, "0.4")
    )
    grant = _one(r.lines(NPI_A, kind="academic_grant"))
    assert grant.amount_cents == 8_000_000
    assert grant.inputs["cap_binds"] == "false"
    assert grant.explanation == (
        "grant-funded: base $200,000.00 within the NIH cap $225,700.00: grant pays 40% × "
        "$200,000.00 × 1.00 FTE × 365/365 days = $80,000.00 "
        "(plans/test.yaml:8 (NIH NOT-OD-25-085))"
    )
    assert r.net(NPI_A, kind="academic_institutional") == 12_000_000
    assert r.net(NPI_A) == 20_000_000


# -- plan errors -----------------------------------------------------------------------------------


def _problems(tmp_path: Path, text: str) -> list[str]:
    import textwrap

    from paycascade.diagnostics import Diagnostics
    from paycascade.plans.loader import load_plans

    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / "bad.yaml").write_text(
        textwrap.dedent(text).lstrip("\n"), encoding="utf-8"
    )
    diags = Diagnostics()
    load_plans(tmp_path, diags)
    return [d.format() for d in diags.sorted()]


def test_value_component_mistakes_are_reported_with_lines(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        plan: x
        components:
          - id: s
            kind: shared_savings
            pool: pcp
            method: quality_score
            eligibility: {min_score: 0.5, min_ftee: 1}
            losses: shared
          - id: g
            kind: gainsharing
            pool: ortho
            documented_savings: 1000
            term: {start: 2026-12-31, end: 2026-01-01}
          - id: v
            kind: partnership
            venture: imaging_center
            distributable_profit: 100
          - id: a
            kind: academic
            base_salery: 300000
        """,
    )
    assert problems == [
        "plans/bad.yaml:6: component 's': method 'quality_score' needs a 'scorecard'",
        "plans/bad.yaml:7: component 's' eligibility: 'min_score' needs a 'scorecard' to score "
        "physicians on",
        "plans/bad.yaml:7: component 's' eligibility: unknown key 'min_ftee' (did you mean "
        "'min_fte'?)",
        "plans/bad.yaml:8: component 's': 'losses' must be one of retained, pass_through, not "
        "'shared'",
        "plans/bad.yaml:9: component 'g': give exactly one of 'pool' (a contract-funded pool) or "
        "'documented_savings' (with 'savings_share')",
        "plans/bad.yaml:13: component 'g' term: term ends (2026-01-01) before it starts "
        "(2026-12-31)",
        "plans/bad.yaml:14: component 'v': missing 'includes_technical_revenue' (true or false: "
        "a compliance flag)",
        "plans/bad.yaml:18: component 'a': missing 'base_salary'",
        "plans/bad.yaml:20: component 'a': unknown key 'base_salery' (did you mean 'base_salary'?)",
    ]
