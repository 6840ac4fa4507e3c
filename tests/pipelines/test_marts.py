"""The non-wRVU marts: panel, shifts, hours, activities, quality, stipends; absent tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from paycascade.pipelines.aggregate import Aggregates, aggregate

from .conftest import Workspace, line, make_workspace, npi, physician

D = Decimal


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Aggregates:
    ws = make_workspace(Path(tmp_path_factory.mktemp("marts")))
    ws.csv("physicians", [physician(1), physician(2)])
    ws.csv("encounters", [line(1, "99213")])
    ws.csv(
        "attribution",
        [
            {"npi": npi(1), "month": "2026-01-01", "member_months": "100", "risk_score": "1.2"},
            {"npi": npi(1), "month": "2026-02-01", "member_months": "50.5", "risk_score": "0.8"},
            {"npi": npi(1), "month": "2026-08-01", "member_months": "10"},  # risk 1.0
            {"npi": npi(2), "month": "2025-12-01", "member_months": "99"},  # outside
        ],
    )
    ws.csv(
        "shifts",
        [
            {"npi": npi(1), "date": "2026-01-03", "shift_type": "night", "hours": "12"},
            {"npi": npi(1), "date": "2026-01-04", "shift_type": "night", "count": "2"},
            {"npi": npi(1), "date": "2026-01-05", "shift_type": "day", "hours": "8.5"},
        ],
    )
    ws.csv(
        "hours",
        [
            {"npi": npi(2), "date": "2026-02-01", "hours": "7.25", "kind": "clinical"},
            {"npi": npi(2), "date": "2026-02-02", "hours": "1"},
        ],
    )
    ws.csv(
        "activities",
        [
            {"npi": npi(2), "date": "2026-05-01", "activity": "locum_day"},
            {"npi": npi(2), "date": "2026-05-02", "activity": "locum_day", "quantity": "0.5"},
        ],
    )
    ws.csv(
        "quality",
        [
            {"npi": npi(1), "measure": "a1c", "numerator": "40", "denominator": "50"},
            {
                "npi": npi(1),
                "measure": "a1c",
                "numerator": "8",
                "denominator": "10",
                "exclusions": "2",
                "period": "2026",
            },
            {
                "npi": npi(1),
                "measure": "a1c",
                "numerator": "1",
                "denominator": "1",
                "period": "2025",
            },  # another period: skipped
        ],
    )
    ws.csv(
        "stipends",
        [{"npi": npi(2), "stipend": "medical_directorship", "annual_amount": "12000"}],
    )
    diags = ws.load()
    assert not diags.has_errors(), diags.format()
    return ws.run(breakpoints=[date(2026, 7, 1)])


def test_panel(run: Aggregates) -> None:
    rows = [
        (r["npi"], r["bucket"], r["member_months"], r["risk_adjusted_member_months"])
        for r in run.panel.to_pylist()
    ]
    assert rows == [
        (npi(1), 0, D("150.5"), D("100") * D("1.2") + D("50.5") * D("0.8")),  # 160.4
        (npi(1), 1, D("10"), D("10")),
    ]


def test_shifts_hours_activities(run: Aggregates) -> None:
    shifts = {(r["shift_type"], r["shifts"], r["hours"]) for r in run.shifts.to_pylist()}
    assert shifts == {("night", D(3), D(12)), ("day", D(1), D("8.5"))}
    hours = {(r["kind"], r["hours"]) for r in run.hours.to_pylist()}
    assert hours == {("clinical", D("7.25")), ("", D(1))}
    acts = [(r["activity"], r["quantity"]) for r in run.activities.to_pylist()]
    assert acts == [("locum_day", D("1.5"))]


def test_quality_skips_other_periods(run: Aggregates) -> None:
    rows = [
        (r["measure"], r["rows"], r["numerator"], r["denominator"], r["exclusions"])
        for r in run.quality.to_pylist()
    ]
    assert rows == [("a1c", 2, D(48), D(60), D(2))]


def test_stipends_as_staged(run: Aggregates) -> None:
    rows = run.stipends.to_pylist()
    assert [(r["npi"], r["stipend"], r["annual_amount"]) for r in rows] == [
        (npi(2), "medical_directorship", D(12000))
    ]
    assert rows[0]["source_file"] == "data/stipends.csv"
    assert rows[0]["source_row"] == 2


def test_absent_tables_give_empty_marts(ws: Workspace) -> None:
    ws.csv("physicians", [physician(1)])
    ws.csv("encounters", [line(1, "99213")])
    assert not ws.load().has_errors()
    agg = ws.run()
    for table in (agg.panel, agg.shifts, agg.hours, agg.activities, agg.quality, agg.stipends):
        assert table.num_rows == 0
    assert agg.panel.schema.names[:3] == ["run_id", "npi", "bucket"]


def test_code_lines_counts_lines_in_and_before_the_period(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "codes")
    ws.csv("physicians", [physician(1), physician(2)])
    ws.csv(
        "encounters",
        [
            line(1, "99215", "2026-01-01", wrvu="2.8"),  # not in the test PFS rows
            line(1, "99215", "2026-12-31", units="3", wrvu="2.8"),  # one line, 3 units
            line(1, "99213", "2026-06-01", status="submitted"),
            line(1, "99213", "2026-06-02", status="denied"),  # not counted
            line(1, "99213", "2026-06-03", status="void"),  # not counted
            line(1, "99214", "2025-12-31"),  # before the period
            line(1, "99214", "2027-01-01"),  # after: not counted
            line(2, "99213", "2026-03-02", modifiers="25"),
            line(2, "20610", "2026-03-02"),  # not a counted code
        ],
    )
    assert not ws.load().has_errors()
    aggs = aggregate(
        ws.con,
        run_id="t",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        period_label="2026",
        breakpoints=[date(2026, 7, 1)],
        counted_codes=("99213", "99214", "99215"),
    )
    got = [(r["npi"], r["hcpcs"], r["when"], r["lines"]) for r in aggs.code_lines.to_pylist()]
    assert got == [
        (npi(1), "99213", "period", 1),
        (npi(1), "99214", "before", 1),
        (npi(1), "99215", "period", 2),
        (npi(2), "99213", "period", 1),
    ]
