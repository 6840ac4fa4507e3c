"""Reliability, empirical-Bayes shrinkage in scorecards, and the RELIABILITY_LOW flag."""

from __future__ import annotations

from decimal import Decimal

from paycascade.compliance.reliability import reliability_findings, shrink, spread
from paycascade.plans.model import PlanData
from tests.components.conftest import NPI_A, NPI_B, NPI_C, Runner, physician

D = Decimal
# Five more valid NPIs for the peer group.
PEERS = ["1003000134", "1003000142", "1003000159", "1003000167", "1003000175"]

PLAN = """
plan: test
components:
  - {{id: bonus, kind: quality_incentive, amount: 10000, scorecard: card}}
scorecards:
  card:
    {setting}
    measures:
      - {{id: bp, threshold: 0.5, target: 0.9}}
"""


def fill(tiny: tuple[int, int], big: tuple[int, int]):  # type: ignore[no-untyped-def]
    def _fill(data: PlanData) -> None:
        data.quality[(NPI_A, "bp")] = (D(tiny[0]), D(tiny[1]), D(0))
        data.quality[(NPI_B, "bp")] = (D(big[0]), D(big[1]), D(0))
        rates = [55, 60, 65, 70, 75, 80]
        for npi, rate in zip([NPI_C, *PEERS], rates, strict=True):
            data.quality[(npi, "bp")] = (D(rate * 4), D(400), D(0))

    return _fill


def people() -> list:  # type: ignore[type-arg]
    return [physician(n) for n in (NPI_A, NPI_B, NPI_C, *PEERS)]


def test_spread_and_reliability_by_hand() -> None:
    rows = [(D(40), D(100)), (D(60), D(100))]
    s = spread(rows)
    # p = 0.5; Σ n (p_i − p)² = 100×0.01 × 2 = 2; minus (k−1) p(1−p) = 0.25 → 1.75;
    # N − Σn²/N = 200 − 100 = 100 → σ²_b = 0.0175
    assert s.rate == D("0.5") and s.variance == D("0.0175")
    # R(100) = 0.0175 / (0.0175 + 0.25/100) = 0.875
    assert s.reliability(D(100)) == D("0.8750")
    assert s.needed_for() == 33  # 0.7 × 0.25 / (0.3 × 0.0175) = 33.3
    assert shrink(D("0.9"), D("0.25"), D("0.5")) == D("0.600000")


def test_large_denominators_barely_move_tiny_ones_move_toward_the_group(run_plan: Runner) -> None:
    yaml = PLAN.format(setting="shrinkage: empirical_bayes")
    result = run_plan(yaml, people(), fill((9, 10), (900, 1000)))
    used = result.computation.scores
    a = used[NPI_A][0].measures[0]
    b = used[NPI_B][0].measures[0]
    assert a.raw_rate == D("0.9") and b.raw_rate == D("0.9")
    assert a.reliability is not None and b.reliability is not None
    assert b.reliability > D("0.98") and a.reliability < D("0.50")
    group = a.shrink_target
    assert group is not None and group < D("0.75")
    # 1,000 patients: within 0.2 points of the raw rate; 10 patients: over half-way to the group
    assert b.rate is not None and abs(b.rate - D("0.9")) < D("0.002")
    assert a.rate is not None and abs(a.rate - group) < abs(D("0.9") - group) / 2
    assert a.points is not None and b.points is not None and a.points < b.points
    shown = a.as_dict()
    assert shown["raw_rate"] == "0.9000" and "reliability" in shown


def test_shrinkage_off_keeps_raw_rates_and_the_old_output(run_plan: Runner) -> None:
    yaml = PLAN.format(setting="fallback: none")
    result = run_plan(yaml, people(), fill((9, 10), (900, 1000)))
    a = result.computation.scores[NPI_A][0].measures[0]
    assert a.rate == D("0.9") and a.reliability is None
    assert "reliability" not in a.as_dict() and "raw_rate" not in a.as_dict()


def test_reliability_low_triggers_and_not(run_plan: Runner) -> None:
    from dataclasses import replace

    result = run_plan(PLAN.format(setting="fallback: none"), people())
    plans = {"test": result.plan}
    npis = [NPI_A, NPI_B, NPI_C, *PEERS]
    small = {
        (n, "bp"): (D(r), D(10), D(0)) for n, r in zip(npis, [5, 6, 7, 8, 5, 6, 7, 8], strict=True)
    }
    found = reliability_findings(plans, people(), small)
    assert [f.code for f in found] == ["RELIABILITY_LOW"]
    assert (found[0].file, found[0].line) == ("plans/test.yaml", 9)
    assert found[0].evidence["below_0_70"] == "8"
    large = {k: (v[0] * 100, v[1] * 100, v[2]) for k, v in small.items()}
    assert reliability_findings(plans, people(), large) == []
    card = replace(result.plan.scorecards["card"], shrinkage="empirical_bayes")
    shrunk = {"test": replace(result.plan, scorecards={"card": card})}
    assert reliability_findings(shrunk, people(), small) == []
