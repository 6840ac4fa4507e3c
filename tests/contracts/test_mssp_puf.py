"""The PUF reader and ``paycascade mssp``: fidelity to CMS's published results.

Every ACO-year of the five CMS PUFs is settled from inputs only; CMS's ``EarnSaveLoss`` is
read here, in the test, to compare.  Synthetic files test the error paths without CMS data.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from paycascade.contracts import mssp_puf
from paycascade.contracts.mssp import MsspResult, Track, settle
from paycascade.contracts.mssp_cli import mssp_command
from paycascade.contracts.mssp_puf import (
    FORBIDDEN_COLUMNS,
    INPUT_COLUMNS,
    PufReport,
    csv_record,
    detect_layout,
    settle_puf,
    write_csv,
)
from paycascade.diagnostics import PaycascadeError

D = Decimal
YEARS = (2018, 2021, 2022, 2023, 2024)
ROWS = {2018: 548, 2021: 475, 2022: 482, 2023: 453, 2024: 476}
# Measured: two-sided losses under a revenue-based limit, not fully offset by relief.
UNDETERMINABLE = {2018: 4, 2021: 3, 2022: 1, 2023: 11, 2024: 6}
REVENUE_LIMITED = {Track.TRACK_1_PLUS, Track.BASIC_C, Track.BASIC_D, Track.BASIC_E}
QUALITY_HALF_STEP = D("0.00005")  # PY2018 publishes the quality score with 4 decimals


def puf_path(cms: Path, year: int) -> Path:
    return cms / f"mssp_puf_py{year}" / f"mssp_puf_py{year}.csv"


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def cms_earned(path: Path) -> dict[str, Decimal]:
    """CMS's published EarnSaveLoss by ACO — read only here, to compare."""
    header, rows = read_rows(path)
    ids, earned = header.index("ACO_ID"), header.index("EarnSaveLoss")
    return {r[ids]: D(r[earned].replace(",", "") or "0") for r in rows}


@pytest.fixture(scope="module")
def reports(cms_data: Path) -> dict[int, PufReport]:
    return {year: settle_puf(puf_path(cms_data, year)) for year in YEARS}


def _within_quality_rounding(result: MsspResult, published: Decimal) -> bool:
    """PY2018: does CMS's figure lie within what the 4-decimal quality score allows?"""
    q = result.inputs.quality_score
    if q is None:
        return False
    ends = [
        settle(replace(result.inputs, quality_score=min(max(q + step, D(0)), D(1))))
        for step in (-QUALITY_HALF_STEP, QUALITY_HALF_STEP)
    ]
    low = min(e.earned_savings_losses for e in ends)
    high = max(e.earned_savings_losses for e in ends)
    return low - 1 <= published <= high + 1


# --- fidelity ------------------------------------------------------------------------------


@pytest.mark.cms
@pytest.mark.parametrize("year", YEARS)
def test_row_counts_match_the_readmes(reports: dict[int, PufReport], year: int) -> None:
    report = reports[year]
    assert report.data_rows == ROWS[year]
    assert report.settled == ROWS[year]
    assert report.performance_year == report.layout_year == year
    assert not report.diagnostics.items, report.diagnostics.format()


@pytest.mark.cms
@pytest.mark.parametrize("year", YEARS)
def test_every_aco_year_reproduces_cms(
    reports: dict[int, PufReport], cms_data: Path, year: int
) -> None:
    published = cms_earned(puf_path(cms_data, year))
    mismatches = []
    for result in reports[year].results:
        cms = published[result.inputs.aco_id]
        if not result.determinable:
            # a two-sided shared loss whose interval holds CMS's (whole-dollar) figure
            assert result.outcome == "shared_loss"
            assert result.inputs.track in REVENUE_LIMITED
            assert result.bound_low - 1 <= cms <= result.bound_high + 1, result.explanation
            continue
        diff = abs(result.earned_savings_losses - cms)
        if diff <= 2 or (year == 2018 and _within_quality_rounding(result, cms)):
            continue
        mismatches.append(f"{result.inputs.aco_id}: CMS {cms}, ours {result.explanation}")
    assert not mismatches, "\n".join(mismatches)


def cms_column(path: Path, column: str) -> dict[str, str]:
    header, rows = read_rows(path)
    ids, col = header.index("ACO_ID"), header.index(column)
    return {r[ids]: r[col] for r in rows}


@pytest.mark.cms
@pytest.mark.parametrize("year", YEARS)
def test_generated_savings_and_sharing_rates_match_cms(
    reports: dict[int, PufReport], cms_data: Path, year: int
) -> None:
    # GenSaveLoss (the corridor test) for every row, to the dollar (CMS computes from unrounded
    # totals); FinalShareRate, published to 0.01 point (4 decimals in PY2018).
    generated = cms_column(puf_path(cms_data, year), "GenSaveLoss")
    rates = cms_column(puf_path(cms_data, year), "FinalShareRate")
    for r in reports[year].results:
        aco_id = r.inputs.aco_id
        assert abs(r.generated_savings_losses - D(generated[aco_id].replace(",", ""))) <= 1
        published = D(rates[aco_id].removesuffix("%")) / (1 if year == 2018 else 100)
        assert r.final_share_rate is not None
        # PY2018's rate is max × quality, with quality itself rounded to 4 decimals
        tolerance = D("0.0001") if year == 2018 else D("0.00005")
        assert abs(r.final_share_rate - published) <= tolerance, aco_id


@pytest.mark.cms
def test_undeterminable_count(reports: dict[int, PufReport]) -> None:
    counts = {year: report.undeterminable for year, report in reports.items()}
    assert sum(counts.values()) <= 35
    assert counts == UNDETERMINABLE


@pytest.mark.cms
def test_exact_matches_outside_py2018(reports: dict[int, PufReport], cms_data: Path) -> None:
    # PY2021-2024 rates are not quality-scaled: every determinable ACO within $2.
    for year in YEARS[1:]:
        published = cms_earned(puf_path(cms_data, year))
        for r in reports[year].results:
            if r.determinable:
                assert abs(r.earned_savings_losses - published[r.inputs.aco_id]) <= 2


@pytest.mark.cms
@pytest.mark.parametrize(
    ("year", "aco_id", "cms"),
    [
        (2024, "A1001", D(107_895_330)),  # ENHANCED, savings at 75%
        (2024, "A3770", D(8_704_413)),  # sliding scale 75% × 56.45%
        (2024, "A5404", D(518_671)),  # ReducedSS: BASIC A at 20%
        (2024, "A5176", D(-2_833_874)),  # ENHANCED loss at the 40% floor, less relief
        (2018, "A1409", D(12_118_222)),  # payment limit binds: exactly 10% of benchmark
    ],
)
def test_research_examples(
    reports: dict[int, PufReport], year: int, aco_id: str, cms: Decimal
) -> None:
    (result,) = [r for r in reports[year].results if r.inputs.aco_id == aco_id]
    assert abs(result.earned_savings_losses - cms) <= 1


# --- the reader never reads CMS's results ----------------------------------------------------


def test_allow_list_excludes_result_columns() -> None:
    assert INPUT_COLUMNS.isdisjoint(FORBIDDEN_COLUMNS)
    assert {"Sav_rate", "Sav_Rate", "EarnSaveLoss", "GenSaveLoss"} <= FORBIDDEN_COLUMNS
    assert {"FinalShareRate", "FinalLossRate", "BnchmkMinExp"} <= FORBIDDEN_COLUMNS


def _rewrite(
    src: Path, dst: Path, change: dict[str, str] | None = None, drop: bool = False
) -> None:
    """Copy a PUF, filling (``change``) or removing (``drop``) the forbidden columns."""
    header, rows = read_rows(src)
    keep = [i for i, h in enumerate(header) if not (drop and h in FORBIDDEN_COLUMNS)]
    with dst.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([header[i] for i in keep])
        for row in rows:
            cells = [
                (change or {}).get(header[i], row[i]) if header[i] in FORBIDDEN_COLUMNS else row[i]
                for i in keep
            ]
            writer.writerow(cells)


def _records(report: PufReport) -> list[dict[str, str]]:
    return [csv_record(s) for s in report.rows]


@pytest.mark.cms
@pytest.mark.parametrize("year", YEARS)
def test_result_columns_do_not_change_the_results(
    reports: dict[int, PufReport], cms_data: Path, tmp_path: Path, year: int
) -> None:
    garbage = dict.fromkeys(FORBIDDEN_COLUMNS, "garbage;-9e99,%*")
    filled, dropped = tmp_path / "garbage.csv", tmp_path / "dropped.csv"
    _rewrite(puf_path(cms_data, year), filled, change=garbage)
    _rewrite(puf_path(cms_data, year), dropped, drop=True)
    expected = _records(reports[year])
    for path in (filled, dropped):
        report = settle_puf(path)
        assert not report.diagnostics.items
        assert _records(report) == expected


@pytest.mark.cms
def test_reader_never_holds_a_result_cell(cms_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: set[str] = set()
    original = mssp_puf._Row.__init__

    def spy(self: mssp_puf._Row, number: int, cells: dict[str, str], layout: object) -> None:
        seen.update(cells)
        original(self, number, cells, layout)  # type: ignore[arg-type]

    monkeypatch.setattr(mssp_puf._Row, "__init__", spy)
    for year in YEARS:
        settle_puf(puf_path(cms_data, year))
    assert seen
    assert seen.isdisjoint(FORBIDDEN_COLUMNS)
    assert "ABtotBnchmk" in seen


@pytest.mark.cms
def test_layouts_are_detected(cms_data: Path) -> None:
    for year in YEARS:
        header, _ = read_rows(puf_path(cms_data, year))
        layout = detect_layout(header)
        assert layout is not None
        assert layout.year == year
        assert layout.fractions == (year == 2018)


@pytest.mark.cms
def test_participant_revenue_makes_a_loss_determinable(cms_data: Path, tmp_path: Path) -> None:
    # PY2023 A1241 (BASIC E): CMS's pre-relief loss 1,149,065 + 823,342 = 1,972,407 is 8% of
    # about 24,655,088 of participant revenue.  Given that revenue, the engine reproduces CMS:
    # 8% × 24,655,088 = 1,972,407.04; less relief 823,342 → 1,149,065.04.
    header, rows = read_rows(puf_path(cms_data, 2023))
    ids = header.index("ACO_ID")
    path = tmp_path / "with_revenue.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, "ParticipantRevenue"])
        for row in rows:
            writer.writerow([*row, "24,655,088" if row[ids] == "A1241" else ""])
    report = settle_puf(path)
    (result,) = [r for r in report.results if r.inputs.aco_id == "A1241"]
    assert result.determinable
    assert result.limit_binding == "loss limit (revenue)"
    assert result.earned_savings_losses == D("-1149065.04")
    assert report.undeterminable == UNDETERMINABLE[2023] - 1


# --- CLI -----------------------------------------------------------------------------------


@pytest.mark.cms
def test_cli_writes_the_csv_and_prints_the_summary(cms_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "settled.csv"
    result = CliRunner().invoke(mssp_command, [str(puf_path(cms_data, 2024)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ACOs settled: 476 of 476 rows (470 determinable, 6 not determinable" in result.output
    assert "Total earned shared savings: $" in result.output
    assert "participant" in result.output
    assert "not in the public file" in result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 476
    assert [r["aco_id"] for r in rows] == sorted(r["aco_id"] for r in rows)
    a1001 = next(r for r in rows if r["aco_id"] == "A1001")
    assert a1001["earned_savings_losses"] == "107895329.75"
    assert a1001["determinable"] == "true"
    assert a1001["track"] == "ENHANCED"
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.cms
def test_cli_default_output_year_override_and_json(
    cms_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [str(puf_path(cms_data, 2024)), "--year", "2025", "--json"]
    result = CliRunner().invoke(mssp_command, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mssp_puf_py2024_settled.csv").is_file()
    payload = json.loads(result.stdout)
    assert payload["performance_year"] == 2025
    assert payload["layout_year"] == 2024
    assert payload["settled"] == 476


def test_cli_unknown_year_fails(tmp_path: Path) -> None:
    path = _synthetic(tmp_path)
    result = CliRunner().invoke(mssp_command, [str(path), "--year", "2019", "--out", "x.csv"])
    assert result.exit_code == 1
    assert "no MSSP rules for performance year 2019" in result.output


# --- malformed files (synthetic PY2024 layout) -----------------------------------------------

_HEADER = [
    "ACO_ID",
    "Current_Track",
    "Risk_Model",
    "N_AB",
    "Sav_rate",
    "MinSavPerc",
    "GenSaveLoss",
    "DisAdj",
    "EarnSaveLoss",
    "Met_QPS",
    "Met_AltQPS",
    "Met_40pctl",
    "QualScore",
    "Guardrail",
    "ABtotBnchmk",
    "ABtotExp",
    "FinalShareRate",
    "ReducedSS",
]
_ROWS = [
    ["A0001", "EN", "Two-Sided", "20000", "x", "2", "x", "0", "x", "1", "-", "1", "80", "0",
     "100000000", "90000000", "x", "0"],
    ["A0002", "B", "One-Sided", "10000", "x", "3", "x", "-", "x", "1", "-", "1", "80", "-",
     "abc", "90000000", "x", "0"],
    ["A0003", "E", "Two-Sided", "10000", "x", "0", "x", "0", "x", "1", "-", "1", "80", "0",
     "100000000", "95000000", "x", "0"],
]  # fmt: skip


def _synthetic(tmp_path: Path, drop: str | None = None) -> Path:
    keep = [i for i, h in enumerate(_HEADER) if h != drop]
    path = tmp_path / "puf.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([_HEADER[i] for i in keep])
        writer.writerows([row[i] for i in keep] for row in _ROWS)
    return path


def test_bad_cell_becomes_a_diagnostic_and_other_rows_settle(tmp_path: Path) -> None:
    path = _synthetic(tmp_path)
    report = settle_puf(path)
    assert report.data_rows == 3
    assert report.settled == 2
    (problem,) = report.diagnostics.items
    assert (problem.file, problem.line, problem.column) == (str(path), 3, "ABtotBnchmk")
    assert problem.format() == f"{path}:3:ABtotBnchmk: warning: 'abc' is not a number"
    # A0001 ENHANCED: 10,000,000 × 75% × 0.98 = 7,350,000; A0003 BASIC E: 5,000,000 × 50% × 0.98
    earned = {r.inputs.aco_id: r.earned_savings_losses for r in report.results}
    assert earned == {"A0001": D("7350000.00"), "A0003": D("2450000.00")}
    assert "1 rows not settled" in report.summary()


def test_cli_bad_cell_is_a_warning_with_exit_0(tmp_path: Path) -> None:
    path = _synthetic(tmp_path)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(mssp_command, [str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{path}:3:ABtotBnchmk: warning: 'abc' is not a number" in result.output
    assert "ACOs settled: 2 of 3 rows" in result.output
    assert out.read_text(encoding="utf-8").count("\n") == 3


def test_unexpected_variable_msr_is_a_warning(tmp_path: Path) -> None:
    # A0003 (BASIC E, 10,000 beneficiaries) published 2.71%: not a fixed election and not the
    # table's 3.00% → warning; the table value is used and the row is still settled.
    path = _synthetic(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "A0003,E,Two-Sided,10000,x,0,", "A0003,E,Two-Sided,10000,x,2.71,"
    )
    path.write_text(text, encoding="utf-8")
    report = settle_puf(path)
    warning = next(d for d in report.diagnostics if d.column == "MinSavPerc")
    assert warning.line == 4
    assert "table value 3.0000%" in warning.message
    (a3,) = [r for r in report.results if r.inputs.aco_id == "A0003"]
    assert a3.msr == D("0.03")
    assert a3.msr_basis == "table"


def test_missing_required_column_fails_with_file_row_column(tmp_path: Path) -> None:
    path = _synthetic(tmp_path, drop="ABtotBnchmk")
    with pytest.raises(PaycascadeError) as err:
        settle_puf(path)
    assert err.value.diagnostics.items[0].column == "ABtotBnchmk"
    result = CliRunner().invoke(mssp_command, [str(path), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert f"{path}:1:ABtotBnchmk: required column is missing" in result.output
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("a,b,c\n1,2,3\n", "not an MSSP PUF"),
    ],
)
def test_not_a_puf_fails(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "not_a_puf.csv"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(mssp_command, [str(path), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert f"{path}" in result.output
    assert message in result.output


def test_missing_file_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(mssp_command, [str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "nope.csv: cannot read" in result.output


def test_write_csv_is_deterministic(tmp_path: Path) -> None:
    report = settle_puf(_synthetic(tmp_path))
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(report, first)
    report.rows.reverse()
    write_csv(report, second)
    assert first.read_bytes() == second.read_bytes()
    header = first.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:3] == ["aco_id", "performance_year", "track"]
    assert header[-1] == "explanation"


def test_header_only_file_fails_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "puf.csv"
    path.write_text(",".join(_HEADER) + "\r\n\r\n", encoding="utf-8")
    result = CliRunner().invoke(mssp_command, [str(path), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert f"{path}:2: no ACO rows: the file has a header and nothing under it" in result.output
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("huge", ["1e400", "1e30", "1000000000000000"])
def test_a_huge_cell_is_a_diagnostic_not_a_traceback(tmp_path: Path, huge: str) -> None:
    path = _synthetic(tmp_path)
    text = path.read_text(encoding="utf-8").replace("abc", huge)
    path.write_text(text, encoding="utf-8")
    report = settle_puf(path)
    (problem,) = report.diagnostics.items
    assert problem.format() == (
        f"{path}:3:ABtotBnchmk: warning: '{huge}' is too large a number for an ACO"
    )
    assert report.settled == 2
