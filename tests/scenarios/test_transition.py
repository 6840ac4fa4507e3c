"""The transition planner, by hand."""

from __future__ import annotations

from decimal import Decimal

from paycascade.scenarios.diff import Diff, PhysicianDiff
from paycascade.scenarios.transition import plan_transition

Z = Decimal("0.0000")


def test_positions_move_by_turnover_and_renewal() -> None:
    rows = (
        PhysicianDiff("1", "A", "Surgery", "old", "old", 100000_00, 90000_00, Z, Z),
        PhysicianDiff("2", "B", "Pediatrics", "pc", "pc", 50000_00, 50000_00, Z, Z),
    )
    diff = Diff(rows, (), 150000_00, 140000_00, Z, Z, ())
    years = plan_transition(
        diff,
        {"1": 0, "2": 10000_00},
        {"1": 9000_00, "2": 10000_00},
        years=2,
        turnover={"Surgery": Decimal("0.10")},
        term_years=4,
    )
    # still on the old plan after t years: (0.9 × 0.75)^t = 0.675, then 0.455625
    y1, y2 = years
    assert y1.on_new_plan == Decimal("0.3250")
    assert y1.cost_cents == 50000_00 + 100000_00 - 10000_00 * 325 // 1000  # 146,750
    assert y1.vs_baseline_cents == -3250_00
    assert y1.value_linked_share == Decimal("0.0881")  # (10,000 + 2,925) ÷ 146,750
    assert y2.on_new_plan == Decimal("0.5444")  # 0.544375
    assert y2.cost_cents == 50000_00 + 9455625  # 100,000 − 10,000 × 0.544375 = 94,556.25
