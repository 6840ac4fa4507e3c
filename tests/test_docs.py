"""The docs are true: every plan example in docs/PLANS.md loads without a problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paycascade.diagnostics import Diagnostics
from paycascade.plans.loader import load_plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "PLANS.md").read_text(), re.S)


def test_there_are_examples_for_every_kind() -> None:
    from paycascade.components.registry import KINDS

    text = "\n".join(EXAMPLES)
    for kind in KINDS:
        assert f"kind: {kind}" in text, f"docs/PLANS.md has no example of {kind}"


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_plan_example_loads(index: int, tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(EXAMPLES[index], encoding="utf-8")
    diags = Diagnostics()
    plan = load_plan(path, "example.yaml", diags)
    assert not diags.has_errors(), diags.format() + "\n" + EXAMPLES[index]
    assert plan is not None and plan.components
