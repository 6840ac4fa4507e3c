"""Bad plans: every problem, with its file and line, all at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

from paycascade.diagnostics import Diagnostics
from paycascade.plans.loader import load_plans


def _problems(tmp_path: Path, text: str, name: str = "bad.yaml") -> list[str]:
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    diags = Diagnostics()
    load_plans(tmp_path, diags)
    return [d.format() for d in diags.sorted()]


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        plan: x
        components:
          - id: a
            kind: salary
           annual: 3
        """,
    )
    assert len(problems) == 1
    assert problems[0].startswith("plans/bad.yaml:5: malformed YAML:")


def test_every_semantic_problem_at_once_with_lines(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        plan: x
        components:
          - id: production
            kind: productivity
            method: tiered_marginal
            tiers:
              - {up_to: 8000, rate: 50}
              - {up_to: 7000, rate: 55}
              - {rate: 60}
          - id: pay
            kind: salery
          - id: base
            kind: salary
            anual: 100
          - id: q
            kind: quality_incentive
            amount: 100
            scorecard: nowhere
          - id: w
            kind: withhold
            rate: 0.1
            of: [later]
            scorecard: nowhere
        """,
    )
    assert problems == [
        "plans/bad.yaml:8: component 'production' tier 2: tiers must ascend: 7000 after 8000",
        "plans/bad.yaml:11: component 'pay': unknown component kind 'salery' (did you mean 'salary'?)",
        "plans/bad.yaml:12: component 'base': missing 'annual'",
        "plans/bad.yaml:14: component 'base': unknown key 'anual' (did you mean 'annual'?)",
        "plans/bad.yaml:18: component 'q': unknown scorecard 'nowhere'; declared: none",
        "plans/bad.yaml:22: component 'w': refers to 'later', which must be a component declared before 'w'",
        "plans/bad.yaml:23: component 'w': unknown scorecard 'nowhere'; declared: none",
    ]


def test_dated_values_must_ascend_and_be_dates(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        plan: x
        components:
          - id: base
            kind: salary
            annual:
              - {from: 2026-07-01, value: 2}
              - {from: 2026-01-01, value: 1}
              - {from: soon, value: 3}
        """,
    )
    assert problems == [
        "plans/bad.yaml:7: component 'base': 'annual' dates must ascend: 2026-01-01 after 2026-07-01",
        "plans/bad.yaml:8: component 'base': 'annual' from must be a date YYYY-MM-DD, not 'soon'",
    ]


def test_wrong_types_and_ranges(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        plan: x
        components:
          - id: production
            kind: productivity
            conversion_factor: fifty
            paid_share: 1.4
        scorecards:
          card:
            measures:
              - {id: m, direction: lower, threshold: 0.1, target: 0.2}
        """,
    )
    assert problems == [
        "plans/bad.yaml:5: component 'production': 'conversion_factor' must be a number, not 'fifty'",
        "plans/bad.yaml:6: component 'production': 'paid_share' must be ≤ 1, not 1.4",
        "plans/bad.yaml:10: scorecard 'card' measure 'm': target 0.2 must be at or below threshold 0.1 for a lower-is-better measure",
    ]


def test_duplicate_keys_ids_and_plan_ids(tmp_path: Path) -> None:
    _problems(
        tmp_path, "plan: same\ncomponents:\n  - {id: a, kind: salary, annual: 1}\n", "one.yaml"
    )
    problems = _problems(
        tmp_path,
        """
        plan: same
        plan: same
        components:
          - {id: a, kind: salary, annual: 1}
          - {id: a, kind: salary, annual: 1}
        """,
        "two.yaml",
    )
    assert "plans/two.yaml:2: duplicate key 'plan'" in problems
    assert (
        "plans/two.yaml:5: component 'a': component id 'a' is used twice in this plan" in problems
    )


def test_empty_and_non_mapping_files(tmp_path: Path) -> None:
    assert _problems(tmp_path, "- just\n- a list\n") == [
        "plans/bad.yaml:1: a plan file must be a mapping with 'plan:' and 'components:'"
    ]


def test_a_reference_to_an_invalid_component_reports_only_the_component(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        plan: x
        components:
          - id: production
            kind: productivity
            conversion_factor: lots
          - id: w
            kind: withhold
            rate: 0.1
            of: [production]
            scorecard: card
        scorecards:
          card:
            measures:
              - {id: m, threshold: 0.5, target: 0.9}
        """,
    )
    assert problems == [
        "plans/bad.yaml:5: component 'production': 'conversion_factor' must be a number, not 'lots'"
    ]
