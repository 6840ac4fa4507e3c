"""The scenario commands' options: every problem named at once, before any work; files written
only into folders that exist (found by a bad-input campaign: NaN and negative --k were used,
turnover rates of 5 and -1 drew 396% and -1676% of a specialty onto the new plan)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from paycascade.periods import parse_period
from paycascade.scenarios.cli import risk_command, scenario_command, simulate_command
from tests.scenarios.builder import RC, build
from tests.scenarios.test_reform import _reform


def _usage(command: object, args: list[str]) -> list[str]:
    result = CliRunner().invoke(command, args)  # type: ignore[arg-type]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output.split("Error: ", 1)[1].strip().splitlines()


def test_risk_options_are_finite_non_negative_and_checked_together(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws", contract=True)
    assert _usage(
        risk_command,
        [str(ws), "--k", "nan", "--expenditures", "1e30", "--out", str(tmp_path / "no" / "r.html")],
    ) == [
        "--k: 'nan' is not a finite number",
        "--expenditures: '1e30' is too large a number (at most 15 digits before the point)",
        f"--out: the folder {tmp_path / 'no'} does not exist",
    ]
    assert _usage(risk_command, [str(ws), "--k=-1"]) == ["--k: -1 must be ≥ 0"]
    assert not (tmp_path / "no").exists()


def test_simulate_options_are_checked_together(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws", contract=True)
    args = [str(ws), "--npi", RC, "--fewer", "74177", "1.5", "--contract-share", "5"]
    assert _usage(simulate_command, [*args, "--admissions", "3"]) == [
        "--fewer 74177: 1.5 must be 0–1",
        "--contract-share: 5 must be 0–1",
        "--contract-share: name the contract with --contract",
        "--admissions: give the payment per admission (--drg-payment)",
    ]


def test_simulate_names_every_unknown_at_once(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws", contract=True)
    result = CliRunner().invoke(
        simulate_command,
        [str(ws), "--npi", RC, "--npi", "123", "--contract", "nope", "--plan", "nope"],
    )
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if line.startswith("simulate:")] == [
        "simulate: no physician with NPI 123",
        "simulate: unknown contract 'nope'",
        "simulate: unknown plan nope (plans: flat, value)",
    ]


def test_transition_turnover_is_a_rate_of_a_known_specialty(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    reform = str(_reform(tmp_path))
    base = [str(ws), reform, "--transition", "--out", str(tmp_path / "out")]
    assert _usage(
        scenario_command,
        [*base, "--turnover", "Radiology=5", "--turnover", "X", "--default-turnover=-1"],
    ) == [
        "--turnover Radiology: 5 must be 0–1",
        "--turnover: 'X' is not SPECIALTY=RATE",
        "--default-turnover: -1 must be 0–1",
    ]
    lines = _usage(scenario_command, [*base, "--turnover", "Astrology=0.5"])
    assert lines[0].startswith("--turnover: no physician of Astrology in the period")
    assert not (tmp_path / "out").exists()


def test_a_reforms_moves_are_checked_with_its_other_problems(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    bad = _reform(
        tmp_path,
        "name: x\nchanges:\n  - plan: nope\n    set: {a: 1}\n"
        "  - move: {specialty: Astrology, to_plan: flat}\n"
        '  - move: {npis: ["123"], to_plan: flat}\n',
    )
    result = CliRunner().invoke(scenario_command, [str(ws), str(bad)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if "reform.yaml" in line]
    assert errors[0].startswith("reform.yaml:3: unknown plan 'nope'")
    assert any(
        line.startswith("reform.yaml:5: no physician has specialty 'Astrology'") for line in errors
    )
    assert "reform.yaml:6: no physician with NPI 123" in errors


@pytest.mark.parametrize("text", ["9999", "9999-12", "2026-01-01..9999-12-31", "0999"])
def test_periods_are_years_a_date_can_hold(text: str) -> None:
    # 9999 crashed: the windows and terms of a period reach into the year after it
    with pytest.raises(ValueError, match="the year must be 1900–2999"):
        parse_period(text)
    assert parse_period("2999-Q4").end.year == 2999
    with pytest.raises(ValueError, match="not understood"):
        parse_period("20260101")


def test_an_option_that_is_not_a_number_has_no_follow_on_problem(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws", contract=True)
    args = [str(ws), "--npi", RC, "--admissions", "10", "--drg-payment", "12_000"]
    assert _usage(simulate_command, args) == ["--drg-payment: '12_000' is not a number"]
