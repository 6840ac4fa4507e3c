"""Findings end to end: a small workspace (check, run, statements) and the demo."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from paycascade.compliance.findings import FINDING_COLUMNS, RULES
from paycascade.runner import check, run
from tests.test_run import write_workspace

GAIN_PLAN = """
plan: gs
components:
  - {id: gain, kind: gainsharing, documented_savings: 1000, savings_share: 0.5, split: wrvu}
"""


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_check_reports_static_guardrails_at_file_and_line(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    assert not [d for d in check(ws) if d.code in RULES]
    (ws / "plans" / "gs.yaml").write_text(GAIN_PLAN, encoding="utf-8")
    found = [d for d in check(ws) if d.code in RULES]
    assert [(d.file, d.line, d.severity, d.code) for d in found] == [
        ("plans/gs.yaml", 4, "warning", "AKS_GAINSHARING_SAFEGUARDS")
    ]
    assert "[AKS_GAINSHARING_SAFEGUARDS]" in found[0].format()


def test_run_writes_findings_and_strata_are_not_scored(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    # bp_control: the total row (35/50) is scored; the strata show a 30-point dual gap
    (ws / "data" / "quality.csv").write_text(
        "npi,measure,numerator,denominator,stratum\n"
        "1234567893,bp_control,35,50,\n"
        "1234567893,bp_control,10,25,dual\n"
        "1234567893,bp_control,25,25,non_dual\n"
        "1003000126,ssi,1,40,\n",
        encoding="utf-8",
    )
    result = run(ws)
    out = result.out_dir
    header = (out / "findings.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == FINDING_COLUMNS
    found = rows(out / "findings.csv")
    codes = {(r["code"], r["subject"]) for r in found}
    assert ("EQUITY_GAP", "1234567893") in codes
    assert ("EQUITY_GROUP_GAP", "North") in codes
    assert ("BENCHMARK_LOW_FTE", "1245319599") in codes  # FTE 0.6
    assert all(r["source"] and json.loads(r["evidence"]) for r in found)
    details = json.loads((out / "statements.json").read_text(encoding="utf-8"))
    card = details["1234567893"]["scorecards"][0]["measures"][0]
    assert (card["numerator"], card["denominator"]) == ("35", "50")  # strata left out
    mine = details["1234567893"]["findings"]
    assert "EQUITY_GAP" in {f["code"] for f in mine}
    assert all(f["subject"] == "1003000126" for f in details["1003000126"]["findings"])


def test_run_compares_e_m_levels_with_prior_year_lines(tmp_path: Path) -> None:
    lines = ["npi,service_date,hcpcs,modifiers,units,status"]
    lines += [f"1234567893,2025-03-{1 + i % 28:02d},99213,,1,paid" for i in range(120)]
    lines += [f"1234567893,2026-03-{1 + i % 28:02d},99213,,1,paid" for i in range(90)]
    lines += [f"1234567893,2026-04-{1 + i % 28:02d},99215,,1,paid" for i in range(30)]
    lines += ["1003000126,2026-04-01,27447,,1,paid", "1245319599,2026-03-01,99213,,1,paid"]
    pfs_extra = (
        "99215,,A,,2.80,2.11,,1.13,,0.21,5.12,4.14,0,XXX,0,0,0,0,0,0,0,0,,33.8872,09,,99,0,0,0\n"
    )
    ws = write_workspace(tmp_path / "ws", encounters="\n".join(lines) + "\n")
    pfs = ws / "data" / "reference" / "pfs.csv"
    pfs.write_text(pfs.read_text(encoding="utf-8") + pfs_extra, encoding="utf-8")
    found = rows(run(ws).out_dir / "findings.csv")
    hits = [r for r in found if r["code"] == "GAMING_EM_LEVEL_HISTORY"]
    assert [r["subject"] for r in hits] == ["1234567893"]
    assert json.loads(hits[0]["evidence"])["history_office_em_visits"] == "120"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from paycascade.demo.workspace import write_demo

    root = tmp_path_factory.mktemp("demo") / "ws"
    write_demo(root)
    return root


def test_demo_produces_a_handful_of_realistic_findings(demo: Path) -> None:
    from paycascade.summary import summarize

    result = run(demo)
    found = rows(result.out_dir / "findings.csv")
    flagged = [r for r in found if r["severity"] in ("high", "review")]
    assert 3 <= len(flagged) <= 30, len(flagged)
    by_code = {r["code"] for r in found}
    assert {"GAMING_EM_LEVEL_PEERS", "GAMING_EXCLUSION_SPIKE", "FMV_ABOVE_90TH"} <= by_code
    em = next(r for r in found if r["code"] == "GAMING_EM_LEVEL_PEERS")
    spike = next(r for r in found if r["code"] == "GAMING_EXCLUSION_SPIKE")
    assert em["subject"] == spike["subject"]  # the planted family physician
    assert "hba1c_poor_control" in spike["message"]
    text = summarize(result)
    assert "compliance findings:" in text and "GAMING_EM_LEVEL_PEERS" in text
    assert "SYNTHETIC" in (demo / "data" / "fmv_survey.csv").read_text(encoding="utf-8")
    details = json.loads((result.out_dir / "statements.json").read_text(encoding="utf-8"))
    outlier = details[em["subject"]]
    assert {f["code"] for f in outlier["findings"]} >= {"GAMING_EM_LEVEL_PEERS"}
    assert outlier["fmv"]["band"]
    from paycascade.render import render_statement

    html = render_statement(outlier, "html")
    assert "flags for review, not verdicts" in html.lower()
    assert "Compliance flags (flags for review, not verdicts)" in render_statement(outlier, "text")
