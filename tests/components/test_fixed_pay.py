"""Salary, hourly, shift, stipend, locum, non-clinical, panel, guarantee and combinators, by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.components.conftest import NPI_A, NPI_B, Runner, physician

D = Decimal


def test_salary_prorated_by_fte_and_days(run_plan: Runner) -> None:
    yaml_text = """
    plan: test
    components:
      - {id: base, kind: salary, annual: 300000}
    """
    # 0.8 FTE, full year: 300,000 × 0.8 = $240,000
    # leaves 2026-03-31 (90 days): 300,000 × 1.0 × 90 / 365 = 73,972.602… → $73,972.60
    r = run_plan(yaml_text, [physician(NPI_A, fte="0.8"), physician(NPI_B, end=date(2026, 3, 31))])
    assert r.net(NPI_A) == 24000000
    assert r.net(NPI_B) == 7397260
    assert "× 90/365 days" in r.lines(NPI_B)[0].explanation


def test_hourly_shift_locum_and_non_clinical(run_plan: Runner) -> None:
    yaml_text = """
    plan: test
    components:
      - {id: clinic_hours, kind: hourly, rate: 150, hours_kind: clinical}
      - id: shifts
        kind: shift
        rate: 1500
        differentials: {night: 1.2, holiday: 1.5}
      - {id: locum, kind: locum, daily_rate: 1900}
      - {id: qi, kind: non_clinical, activity: qi_milestone, amount_each: 2500}
    """

    # hourly: 120.5 clinical hours × $150 = $18,075 (admin hours are not paid by this component)
    # shifts: 10 day × 1,500 + 4 night × 1,500 × 1.2 + 1 holiday × 1,500 × 1.5 = 15,000 + 7,200 + 2,250 = $24,450
    # locum: 3 days × $1,900 = $5,700;  non-clinical: 2 milestones × $2,500 = $5,000 (value-aligned)
    def fill(d: object) -> None:
        d.hours[NPI_A] = [(0, "clinical", D("120.5")), (0, "admin", D(40))]  # type: ignore[attr-defined]
        d.shifts[NPI_A] = [
            (0, "day", D(10), D(120)),
            (0, "night", D(4), D(48)),
            (0, "holiday", D(1), D(12)),
        ]  # type: ignore[attr-defined]
        d.activities[NPI_A] = [(0, "locum_day", D(3)), (0, "qi_milestone", D(2))]  # type: ignore[attr-defined]

    r = run_plan(yaml_text, [physician()], fill)
    assert r.net(NPI_A, "clinic_hours") == 1807500
    assert r.net(NPI_A, "shifts") == 2445000
    assert r.net(NPI_A, "locum") == 570000
    assert r.net(NPI_A, "qi") == 500000
    assert r.lines(NPI_A, "qi")[0].alignment == "value"


def test_stipend_from_the_table_with_override_and_window(run_plan: Runner) -> None:
    yaml_text = """
    plan: test
    components:
      - {id: directorship, kind: stipend, stipend: medical_directorship, annual: 30000}
    """

    # A: plan amount, held from 2026-07-01: 30,000 × 184/365 = 15,123.287… → $15,123.29
    # B: table override $36,500 for the full year → $36,500.00
    def fill(d: object) -> None:
        d.stipends[NPI_A] = [("medical_directorship", None, date(2026, 7, 1), None)]  # type: ignore[attr-defined]
        d.stipends[NPI_B] = [("medical_directorship", D(36500), None, None)]  # type: ignore[attr-defined]

    r = run_plan(yaml_text, [physician(NPI_A), physician(NPI_B)], fill)
    assert r.net(NPI_A) == 1512329
    assert r.net(NPI_B) == 3650000


def test_panel_pmpm_risk_adjusted(run_plan: Runner) -> None:
    yaml_text = """
    plan: test
    components:
      - {id: panel, kind: panel, pmpm: 4.50, risk_adjusted: true}
    """

    # 18,000 member months with Σ(mm × risk) = 19,800 → 19,800 × $4.50 = $89,100 (value-aligned)
    def fill(d: object) -> None:
        d.member_months[(NPI_A, 0)] = D(18000)  # type: ignore[attr-defined]
        d.risk_member_months[(NPI_A, 0)] = D(19800)  # type: ignore[attr-defined]

    r = run_plan(yaml_text, [physician()], fill)
    (line,) = r.lines(NPI_A)
    assert line.amount_cents == 8910000 and line.alignment == "value" and line.quinn == "capitation"


GUARANTEE = """
plan: test
components:
  - {{id: production, kind: productivity, method: flat, conversion_factor: 50}}
  - id: guarantee
    kind: guarantee
    amount: 400000
    months: 24
    against: [production]
    recoverable: {recoverable}
    recovery: {recovery}
"""


def _new_hire_fill(d: object) -> None:
    d.wrvu[(NPI_A, 0)] = D(2000)  # type: ignore[attr-defined]  # $100,000 earned


def test_income_guarantee_tops_up(run_plan: Runner) -> None:
    # starts 2026-07-01: G = 400,000 × 184/365 = 201,643.835… → $201,643.84; earned $100,000
    # top-up = 201,643.84 − 100,000 = $101,643.84; total = G
    people = [physician(start=date(2026, 7, 1))]
    r = run_plan(GUARANTEE.format(recoverable="false", recovery="clawback"), people, _new_hire_fill)
    assert r.net(NPI_A, "guarantee") == 10164384
    assert r.net(NPI_A) == 20164384


def test_recoverable_draw_clawback_and_forgiveness(run_plan: Runner) -> None:
    # draw $201,643.84 advanced; recovered from earned min(201,643.84, 100,000) = 100,000
    # clawback: shortfall 101,643.84 owed back → net pay = earned $100,000
    # forgive: shortfall kept → net pay = $201,643.84
    people = [physician(start=date(2026, 7, 1))]
    claw = run_plan(
        GUARANTEE.format(recoverable="true", recovery="clawback"), people, _new_hire_fill
    )
    assert claw.net(NPI_A) == 10000000
    assert claw.net(NPI_A, "guarantee", "draw_clawback") == -10164384
    forgive = run_plan(
        GUARANTEE.format(recoverable="true", recovery="forgive"), people, _new_hire_fill
    )
    assert forgive.net(NPI_A) == 20164384


def test_greater_of_and_band(run_plan: Runner) -> None:
    yaml_text = """
    plan: test
    components:
      - id: base
        kind: greater_of
        of:
          - {id: floor, kind: salary, annual: 250000}
          - {id: production, kind: productivity, method: flat, conversion_factor: 50}
      - id: capped
        kind: band
        max: 30000
        of:
          - {id: extra, kind: productivity, method: flat, conversion_factor: 10}
    """

    # A 6,000 wRVU: production $300,000 > salary $250,000 → production; extra 6,000 × 10 = 60,000 capped at 30,000
    # B 4,000 wRVU: production $200,000 < $250,000 → salary; extra 40,000 capped at 30,000
    def fill(d: object) -> None:
        d.wrvu[(NPI_A, 0)] = D(6000)  # type: ignore[attr-defined]
        d.wrvu[(NPI_B, 0)] = D(4000)  # type: ignore[attr-defined]

    r = run_plan(yaml_text, [physician(NPI_A), physician(NPI_B)], fill)
    assert r.net(NPI_A, "production") == 30000000 and r.net(NPI_A, "floor") == 0
    assert r.net(NPI_B, "floor") == 25000000 and r.net(NPI_B, "production") == 0
    assert r.net(NPI_A, "capped") == -3000000
    assert r.net(NPI_A) == 30000000 + 3000000
    assert "greater of" in r.lines(NPI_B, "floor")[0].explanation
