"""Scorecards, quality incentives and withhold pools, worked out by hand."""

from __future__ import annotations

from decimal import Decimal

from paycascade.ledger import balance
from tests.components.conftest import NPI_A, NPI_B, NPI_C, Runner, physician

D = Decimal

SCORECARD = """
scorecards:
  card:
    fallback: {fallback}
    neutral_score: 0.5
    measures:
      - {{id: bp, direction: higher, weight: 60, threshold: 0.60, target: 0.80, stretch: 0.90, stretch_points: 1.5, min_denominator: 20}}
      - {{id: readmit, direction: lower, weight: 40, threshold: 0.20, target: 0.10, min_denominator: 20}}
"""

INCENTIVE = (
    """
plan: test
components:
  - id: quality
    kind: quality_incentive
    amount: 10000
    scorecard: card
"""
    + SCORECARD
)


def _q(d: object, npi: str, measure: str, num: str, den: str) -> None:
    d.quality[(npi, measure)] = (D(num), D(den), D(0))  # type: ignore[attr-defined]


def test_points_higher_and_lower_is_better(run_plan: Runner) -> None:
    # bp 70/100 = 0.70: halfway from threshold 0.60 to target 0.80 → 0.5 points
    # readmit 15/100 = 0.15 (lower is better): halfway from 0.20 down to 0.10 → 0.5 points
    # composite = (60 × 0.5 + 40 × 0.5) / 100 = 0.5; $10,000 × 0.5 = $5,000
    def fill(d: object) -> None:
        _q(d, NPI_A, "bp", "70", "100")
        _q(d, NPI_A, "readmit", "15", "100")

    r = run_plan(INCENTIVE.format(fallback="none"), [physician()], fill)
    (line,) = r.lines(NPI_A)
    assert line.amount_cents == 500000
    assert line.alignment == "mixed"
    scores = r.computation.scores[NPI_A][0]
    assert scores.composite == D("0.5")
    readmit = scores.measures[1]
    assert readmit.points == D("0.5") and readmit.direction == "lower"


def test_stretch_credit_is_capped_at_one_by_default(run_plan: Runner) -> None:
    # bp 95/100 ≥ stretch 0.90 → 1.5 points; readmit 5/100 ≤ target → 1 point
    # composite = (60 × 1.5 + 40 × 1) / 100 = 1.3; paid at the default cap of 1 → $10,000
    def fill(d: object) -> None:
        _q(d, NPI_A, "bp", "95", "100")
        _q(d, NPI_A, "readmit", "5", "100")

    r = run_plan(INCENTIVE.format(fallback="none"), [physician()], fill)
    assert r.computation.scores[NPI_A][0].composite == D("1.3")
    assert r.net(NPI_A) == 1000000
    assert "capped at 1" in r.lines(NPI_A)[0].explanation


def test_measure_under_minimum_denominator_is_left_out_and_weights_renormalise(
    run_plan: Runner,
) -> None:
    # bp 9/12: denominator 12 < 20 → left out.  readmit 12/100 = 0.12 → (0.20−0.12)/(0.20−0.10) = 0.8
    # composite = 40 × 0.8 / 40 = 0.8 → $8,000
    def fill(d: object) -> None:
        _q(d, NPI_A, "bp", "9", "12")
        _q(d, NPI_A, "readmit", "12", "100")

    r = run_plan(INCENTIVE.format(fallback="none"), [physician()], fill)
    score = r.computation.scores[NPI_A][0]
    assert score.composite == D("0.8")
    assert not score.measures[0].counted
    assert "below the minimum of 20" in score.measures[0].reason
    assert r.net(NPI_A) == 800000


def test_fallbacks_when_nothing_meets_the_minimum(run_plan: Runner) -> None:
    # NPI_A has only tiny denominators; NPI_B in the same group has full ones.
    # group bp = (5 + 70) / (10 + 100) = 0.681818… → (0.6818…−0.60)/0.20 = 0.409091 pts
    # group readmit = (1 + 15) / (5 + 100) = 0.152381 → (0.20−0.152381)/0.10 = 0.476190 pts
    # group composite = (60 × 0.409091 + 40 × 0.476190) / 100 = 0.4359 (4 dp) → $4,359.00
    def fill(d: object) -> None:
        _q(d, NPI_A, "bp", "5", "10")
        _q(d, NPI_A, "readmit", "1", "5")
        _q(d, NPI_B, "bp", "70", "100")
        _q(d, NPI_B, "readmit", "15", "100")

    people = [physician(NPI_A), physician(NPI_B)]
    group = run_plan(INCENTIVE.format(fallback="group"), people, fill)
    assert group.computation.scores[NPI_A][0].basis == "group"
    assert group.net(NPI_A) == 435900
    neutral = run_plan(INCENTIVE.format(fallback="neutral"), people, fill)
    assert neutral.net(NPI_A) == 500000  # neutral 0.5 × $10,000
    nothing = run_plan(INCENTIVE.format(fallback="none"), people, fill)
    assert nothing.net(NPI_A) == 0


def test_incentive_as_percent_of_other_components_and_part_time_amount(run_plan: Runner) -> None:
    yaml_text = """
plan: test
components:
  - id: base
    kind: salary
    annual: 200000
  - id: pct_bonus
    kind: quality_incentive
    percent: 0.20
    of: [base]
    scorecard: card
  - id: flat_bonus
    kind: quality_incentive
    amount: 10000
    scorecard: card
""" + SCORECARD.format(fallback="none")

    # 0.5 FTE: salary 200,000 × 0.5 × 365/365 = $100,000; percent bonus 20% × 100,000 × 0.5 = $10,000
    # amount bonus prorated by FTE: 10,000 × 0.5 × 365/365 = 5,000 × 0.5 = $2,500
    def fill(d: object) -> None:
        _q(d, NPI_A, "bp", "70", "100")
        _q(d, NPI_A, "readmit", "15", "100")

    r = run_plan(yaml_text, [physician(fte="0.5")], fill)
    assert r.net(NPI_A, "base") == 10000000
    assert r.net(NPI_A, "pct_bonus") == 1000000
    assert r.net(NPI_A, "flat_bonus") == 250000


WITHHOLD = """
plan: test
components:
  - id: production
    kind: productivity
    method: flat
    conversion_factor: 50
  - id: withhold
    kind: withhold
    rate: 0.10
    of: [production]
    scorecard: card
    payout:
      - {{min_score: 0.9, share: 1.0}}
      - {{min_score: 0.5, share: 0.5}}
    forfeits: {{to: strong_performers, bonus_threshold: {bonus}}}
"""


def _withhold_fill(d: object) -> None:
    # A: 8,000 wRVU, perfect score (bp 85% → 1.25 pts capped later; readmit 8% → 1) composite 1.15
    # B: 6,000 wRVU, score 0.5;  C: 4,000 wRVU, score 0 (both measures missed)
    d.wrvu[(NPI_A, 0)] = D(8000)  # type: ignore[attr-defined]
    d.wrvu[(NPI_B, 0)] = D(6000)  # type: ignore[attr-defined]
    d.wrvu[(NPI_C, 0)] = D(4000)  # type: ignore[attr-defined]
    _q(d, NPI_A, "bp", "85", "100")
    _q(d, NPI_A, "readmit", "8", "100")
    _q(d, NPI_B, "bp", "70", "100")
    _q(d, NPI_B, "readmit", "15", "100")
    _q(d, NPI_C, "bp", "50", "100")
    _q(d, NPI_C, "readmit", "30", "100")


def test_withhold_paid_back_by_score_with_forfeits_to_strong_performers(run_plan: Runner) -> None:
    # withheld: A 10% × 400,000 = 40,000; B 10% × 300,000 = 30,000; C 10% × 200,000 = 20,000 (Σ 90,000)
    # payout: A score ≥ 0.9 → 100% = 40,000; B 0.5 → 50% = 15,000; C 0 → 0
    # forfeited 15,000 + 20,000 = 35,000 → A is the only one ≥ 0.95: bonus 35,000, retained 0
    # net: A 400,000 − 40,000 + 40,000 + 35,000 = 435,000; B 300,000 − 30,000 + 15,000 = 285,000;
    #      C 200,000 − 20,000 = 180,000
    people = [physician(NPI_A), physician(NPI_B), physician(NPI_C)]
    r = run_plan(
        WITHHOLD.format(bonus="0.95") + SCORECARD.format(fallback="none"), people, _withhold_fill
    )
    assert r.net(NPI_A) == 43500000
    assert r.net(NPI_B) == 28500000
    assert r.net(NPI_C) == 18000000
    assert r.net(NPI_A, "withhold", "withhold_bonus") == 3500000
    assert balance(r.postings)["pool:test/withhold"] == 0
    assert r.lines(None, "withhold", "withhold_retained")[0].amount_cents == 0
    # the withheld dollars move from volume to mixed
    withheld = r.lines(NPI_A, "withhold", "withheld")[0]
    assert withheld.alignment == "volume" and withheld.net_to_physician == -4000000
    payout = r.lines(NPI_A, "withhold", "withhold_payout")[0]
    assert payout.alignment == "mixed"


def test_withhold_where_nobody_qualifies_for_the_bonus_retains_the_forfeits(
    run_plan: Runner,
) -> None:
    # bonus threshold 2.0 is out of reach: the 35,000 forfeited is retained by the system
    # Σ withheld 90,000 = Σ payout 55,000 + Σ bonus 0 + retained 35,000
    people = [physician(NPI_A), physician(NPI_B), physician(NPI_C)]
    r = run_plan(
        WITHHOLD.format(bonus="2.0") + SCORECARD.format(fallback="none"), people, _withhold_fill
    )
    (retained,) = r.lines(None, "withhold", "withhold_retained")
    assert retained.amount_cents == 3500000
    assert retained.destination == "system:retained"
    assert "no physician reached the bonus threshold of 2.0" in retained.explanation
    assert r.net(NPI_A) == 40000000
    assert balance(r.postings)["pool:test/withhold"] == 0


BY_SPECIALTY = """
plan: test
components:
  - id: quality
    kind: quality_incentive
    amount: 10000
    scorecard: {Pediatrics: peds, default: card}
scorecards:
  card:
    fallback: group
    measures:
      - {id: bp, direction: higher, weight: 1, threshold: 0.60, target: 0.80, min_denominator: 20}
  peds:
    fallback: none
    measures:
      - {id: bp, direction: higher, weight: 1, threshold: 0.60, target: 0.80, min_denominator: 20}
"""


def test_a_card_chosen_by_specialty_scores_its_physicians_on_the_whole_plans_groups(
    run_plan: Runner,
) -> None:
    # A (family medicine) reports 5/10 < 20: the group fallback pools North over the plan's
    # physicians, B (pediatrics, scored on another card) included: 75/110 = 0.681818… →
    # (0.681818… − 0.60) / 0.20 = 0.409091 points → composite 0.4091 → $4,091.00.
    # B: 70/100 on the peds card → 0.5 → $5,000.00.  Each is scored on their own card only.
    def fill(d: object) -> None:
        _q(d, NPI_A, "bp", "5", "10")
        _q(d, NPI_B, "bp", "70", "100")
        _q(d, NPI_C, "bp", "80", "100")

    people = [
        physician(NPI_A, group="North"),
        physician(NPI_B, specialty="Pediatrics", group="North"),
        physician(NPI_C, group="South"),
    ]
    r = run_plan(BY_SPECIALTY, people, fill)
    (a,) = r.computation.scores[NPI_A]
    assert (a.scorecard, a.basis, a.composite) == ("card", "group", D("0.4091"))
    assert r.net(NPI_A) == 409100
    (b,) = r.computation.scores[NPI_B]
    assert (b.scorecard, b.basis, b.composite) == ("peds", "individual", D("0.5"))
    assert r.net(NPI_B) == 500000
    assert [s.scorecard for s in r.computation.scores[NPI_C]] == ["card"]
