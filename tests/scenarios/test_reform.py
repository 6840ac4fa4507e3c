"""Reforms: a hand-computed diff, the baseline untouched, errors at the reform's lines."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from paycascade.diagnostics import PaycascadeError
from paycascade.runner import compute_outcome, load
from paycascade.scenarios.cli import scenario_command
from paycascade.scenarios.diff import findings_diff, run_scenario
from paycascade.scenarios.reform import load_and_apply
from paycascade.scenarios.solve import Param, solve_budget_neutral, sweep, sweep_values
from tests.scenarios.builder import RA, RB, RC, build

REFORM = """\
name: Radiology onto a panel plan, a raise for the rest
changes:
  - plan: flat
    set: {components.production.conversion_factor: 55.00}
  - new_plan:
      plan: panel
      components:
        - {id: production, kind: productivity, method: flat, conversion_factor: 30.00}
        - {id: panel, kind: panel, pmpm: 3.00}
  - move: {specialty: Radiology, to_plan: panel}
"""


def _reform(tmp_path: Path, text: str = REFORM) -> Path:
    path = tmp_path / "reform.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reform_diff_is_hand_computed(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    loaded = load(ws, None)
    reform, applied = load_and_apply(loaded, _reform(tmp_path))
    s = run_scenario(loaded, reform, applied)
    d = s.diff
    rows = {r.npi: r for r in d.rows}
    # A: 100 × 1.30 wRVU × $50 → × $55; B: 50 × 1.30; C: 1,000 × 1.82 × $50 → × $30 + 1,000 × $3
    assert (rows[RA].before, rows[RA].after) == (650000, 715000)
    assert (rows[RB].before, rows[RB].after) == (325000, 357500)
    assert (rows[RC].before, rows[RC].after) == (9100000, 5460000 + 300000)
    assert rows[RC].plan_after == "panel" and rows[RC].delta == -3340000
    assert rows[RA].pct == Decimal("0.1000")
    assert rows[RC].pct == Decimal("-0.3670")  # −33,400 ÷ 91,000 = −0.36703
    assert rows[RC].vls_after == Decimal("0.0521")  # 3,000 ÷ 57,600
    assert (d.total_before, d.total_after, d.budget_impact) == (10075000, 6832500, -3242500)
    assert d.budget_impact_pct == Decimal("-0.3218")
    assert (d.vls_before, d.vls_after) == (Decimal("0.0000"), Decimal("0.0439"))  # 3,000 ÷ 68,325
    fm, rad = d.specialties
    assert (fm.specialty, fm.winners, fm.losers, fm.delta) == ("Family Medicine", 2, 0, 97500)
    assert (rad.specialty, rad.winners, rad.losers, rad.delta) == ("Radiology", 0, 1, -3340000)
    assert (d.winners, d.losers) == (2, 1)
    loaded.con.close()


def test_the_baseline_is_never_changed(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    loaded = load(ws, None)
    plans_before = dict(loaded.plans)
    spec_before = copy.deepcopy(loaded.plans["flat"].components)
    people_before = list(loaded.physicians)
    baseline = compute_outcome(loaded)
    reform, applied = load_and_apply(loaded, _reform(tmp_path))
    run_scenario(loaded, reform, applied, baseline)
    assert loaded.plans == plans_before and loaded.plans["flat"] is plans_before["flat"]
    assert loaded.plans["flat"].components == spec_before
    assert "panel" not in loaded.plans
    assert loaded.physicians == people_before
    assert [p.plan for p in loaded.physicians] == ["flat", "flat", "flat"]
    db = loaded.con.execute("select plan from stg_physicians order by npi").fetchall()
    assert db == [("flat",), ("flat",), ("flat",)]
    again = compute_outcome(loaded)
    assert {k: v.total for k, v in again.totals.items()} == {
        k: v.total for k, v in baseline.totals.items()
    }
    assert (ws / "plans" / "flat.yaml").read_text(encoding="utf-8").count("50.00") == 1
    loaded.con.close()


def test_budget_neutral_solve_is_accurate_to_a_dollar(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    loaded = load(ws, None)
    reform, applied = load_and_apply(loaded, _reform(tmp_path))
    s = run_scenario(loaded, reform, applied)
    param = Param.parse("panel:components.production.conversion_factor")
    sol = solve_budget_neutral(loaded, reform, param, s.baseline)
    # 7,150 + 3,575 + 3,000 + 1,820 × x = 100,750  →  x = 87,025 ÷ 1,820 = 47.81593…
    exact = Decimal(87025) / Decimal(1820)
    assert abs(sol.value - exact) * 1820 < 1
    assert sol.target_cents == 10075000
    assert abs(sol.gap_cents) <= 100
    assert sol.total_cents == 715000 + 357500 + 300000 + int(
        (sol.value * 1820 * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP")
    )
    loaded.con.close()


def test_sweep_is_linear_in_the_rate(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    loaded = load(ws, None)
    reform, applied = load_and_apply(loaded, _reform(tmp_path))
    s = run_scenario(loaded, reform, applied)
    values = sweep_values(Decimal(20), Decimal(40), Decimal(10))
    points = sweep(
        loaded,
        reform,
        Param.parse("panel:components.production.conversion_factor"),
        s.baseline,
        values,
    )
    assert [p.total_cents for p in points] == [
        715000 + 357500 + 300000 + 1820 * v * 100 for v in (20, 30, 40)
    ]
    loaded.con.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: x\nchanges:\n  - plan: nope\n    set: {a: 1}\n",
            "reform.yaml:3: unknown plan 'nope' (plans: flat)",
        ),
        (
            "name: x\nchanges:\n  - plan: flat\n    set:\n      components.prod.method: flat\n",
            "reform.yaml:5: 'components.prod.method': no item 'prod' in components (has: production)",
        ),
        (
            "name: x\nchanges:\n  - plan: flat\n    add_component:\n      id: w\n"
            "      kind: withhold\n      rate: lots\n      of: [production]\n",
            "reform.yaml:7: component 'w': 'rate' must be a number, not 'lots'",
        ),
        (
            "name: x\nchanges:\n  - move:\n      specialty: Cardiology\n      to_plan: flat\n",
            "reform.yaml:4: no physician has specialty 'Cardiology' (Family Medicine, Radiology)",
        ),
        (
            "name: x\nchanges:\n  - plan: flat\n    sett: {a: 1}\n",
            "reform.yaml:4: change at line 3: unknown key 'sett' (did you mean 'set'?)",
        ),
        ("name: x\nchanges: []\n", "reform.yaml:2: reform: a reform needs a list of 'changes'"),
    ],
)
def test_reform_errors_point_at_the_reform_line(tmp_path: Path, text: str, expected: str) -> None:
    ws = build(tmp_path / "ws")
    loaded = load(ws, None)
    with pytest.raises(PaycascadeError) as err:
        load_and_apply(loaded, _reform(tmp_path, text))
    loaded.con.close()
    assert expected in err.value.diagnostics.format().splitlines()


def test_a_problem_in_the_plan_keeps_the_plan_line(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    loaded = load(ws, None)
    text = "name: x\nchanges:\n  - plan: flat\n    remove_component: production\n"
    with pytest.raises(PaycascadeError) as err:
        load_and_apply(loaded, _reform(tmp_path, text))
    loaded.con.close()
    assert "plans/flat.yaml:3: plan 'flat': a plan needs a list of 'components'" in (
        err.value.diagnostics.format()
    )


def test_findings_diff() -> None:
    before = ["fmv:A", "stark:B", "stark:B", "gaming:C"]
    after = ["stark:B", "gaming:C", "fmv:D"]
    appeared, disappeared = findings_diff(before, after)
    assert appeared == ["fmv:D"]
    assert disappeared == ["fmv:A", "stark:B"]
    assert findings_diff(after, after) == ([], [])


def test_scenario_command_writes_csv_and_html(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        scenario_command,
        [
            str(ws),
            str(_reform(tmp_path)),
            "--out",
            str(out),
            "--transition",
            "--years",
            "3",
            "--sweep",
            "panel:components.production.conversion_factor",
            "30",
            "40",
            "10",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "budget impact -$32,425.00" in result.output
    assert "value-linked share: 0.00% → 4.39%" in result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "<svg" in html
        and "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    lines = (out / "physicians.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("npi,name,specialty,plan_before,plan_after,before,after,delta")
    assert f"{RC},Dr C,Radiology,flat,panel,91000.00,57600.00,-33400.00,-0.3670" in lines[1:][0] + (
        "".join(lines[1:])
    )


def test_scenario_command_reports_reform_errors(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    bad = _reform(tmp_path, "name: x\nchanges:\n  - plan: nope\n    set: {a: 1}\n")
    result = CliRunner().invoke(scenario_command, [str(ws), str(bad)])
    assert result.exit_code == 1
    assert "reform.yaml:3: unknown plan 'nope'" in result.output
