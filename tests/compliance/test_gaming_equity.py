"""Gaming signals and equity gaps on hand-built rows."""

from __future__ import annotations

from decimal import Decimal

from paycascade.compliance.equity import StratumRow, equity_findings
from paycascade.compliance.gaming import (
    EmShare,
    MeasureRow,
    em_findings,
    exclusion_findings,
    prior_label,
)

D = Decimal
PEERS = [EmShare(f"peer{i}", "Family Medicine", 50 + i, 1000) for i in range(5)]  # ~5%


def test_em_level_against_peers_triggers_and_not() -> None:
    outlier = EmShare("x", "Family Medicine", 200, 1000)  # 20% vs 5.2% median
    found = em_findings([*PEERS, outlier])
    assert [(f.code, f.subject) for f in found] == [("GAMING_EM_LEVEL_PEERS", "x")]
    assert found[0].evidence["peer_median_share"] == "0.0520"
    close = EmShare("y", "Family Medicine", 90, 1000)  # 9%: under twice the median
    assert em_findings([*PEERS, close]) == []
    few = EmShare("z", "Family Medicine", 20, 50)  # 40% on 50 visits: too few to judge
    assert em_findings([*PEERS, few]) == []


def test_em_level_against_own_history_triggers_and_not() -> None:
    jumped = EmShare("x", "Cardiology", 150, 1000, history_level5=60, history_visits=1000)
    assert [f.code for f in em_findings([jumped])] == ["GAMING_EM_LEVEL_HISTORY"]
    steady = EmShare("x", "Cardiology", 70, 1000, history_level5=60, history_visits=1000)
    assert em_findings([steady]) == []
    no_history = EmShare("x", "Cardiology", 150, 1000)
    assert em_findings([no_history]) == []


def rows(rate_x: int) -> list[MeasureRow]:
    peers = [MeasureRow(f"p{i}", "hba1c", D(20), D(97), D(3)) for i in range(5)]
    return [*peers, MeasureRow("x", "hba1c", D(20), D(100 - rate_x), D(rate_x))]


def test_exclusion_spike_triggers_and_not() -> None:
    found = exclusion_findings(rows(30))
    assert [(f.code, f.subject) for f in found] == [("GAMING_EXCLUSION_SPIKE", "x")]
    assert found[0].evidence["exclusion_rate"] == "0.3000"
    assert exclusion_findings(rows(5)) == []
    # against own prior period, without peers
    now = [MeasureRow("x", "hba1c", D(20), D(70), D(30))]
    before = {("x", "hba1c"): MeasureRow("x", "hba1c", D(20), D(80), D(5))}
    assert [f.code for f in exclusion_findings(now, before)] == ["GAMING_EXCLUSION_SPIKE"]
    same = {("x", "hba1c"): MeasureRow("x", "hba1c", D(20), D(72), D(25))}
    assert exclusion_findings(now, same) == []


def test_shrinking_denominator_triggers_and_not() -> None:
    now = [MeasureRow("x", "bp", D(40), D(60), D(0))]
    before = {("x", "bp"): MeasureRow("x", "bp", D(70), D(100), D(0))}
    found = exclusion_findings(now, before)
    assert [f.code for f in found] == ["GAMING_SHRINKING_DENOMINATOR"]
    assert found[0].evidence["drop_share"] == "0.4000"
    mild = {("x", "bp"): MeasureRow("x", "bp", D(50), D(70), D(0))}
    assert exclusion_findings(now, mild) == []


def test_prior_label() -> None:
    assert prior_label("2026", ["2024", "2025", "2026", "2025-Q4"]) == "2025"
    assert prior_label("2026-Q2", ["2026-Q1", "2025"]) == "2026-Q1"
    assert prior_label("2026", ["2026"]) is None


def strata(dual: int, non_dual: int, npi: str = "x", group: str = "North") -> list[StratumRow]:
    return [
        StratumRow(npi, group, "bp", "dual", D(dual), D(100)),
        StratumRow(npi, group, "bp", "non_dual", D(non_dual), D(100)),
    ]


def test_equity_gap_per_physician_and_group_triggers_and_not() -> None:
    found = equity_findings(strata(55, 75), {"bp": "higher"})
    assert [(f.code, f.subject_kind) for f in found] == [
        ("EQUITY_GAP", "physician"),
        ("EQUITY_GROUP_GAP", "group"),
    ]
    assert found[0].evidence["gap_points"] == "20.0"
    assert equity_findings(strata(70, 75), {"bp": "higher"}) == []
    # lower is better: a lower rate for dual-eligible patients is no gap against them
    assert equity_findings(strata(55, 75), {"bp": "lower"}) == []


def test_equity_group_gap_without_individual_gaps() -> None:
    # each physician's strata are too small (below 20), pooled the group's are not
    rows = [
        r
        for i in range(3)
        for r in (
            StratumRow(f"p{i}", "North", "bp", "adi_high", D(5), D(10)),
            StratumRow(f"p{i}", "North", "bp", "adi_low", D(8), D(10)),
        )
    ]
    found = equity_findings(rows, {})
    assert [f.code for f in found] == ["EQUITY_GROUP_GAP"]
