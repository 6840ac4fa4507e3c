"""The docs are true: every contract example in docs/CONTRACTS.md loads without a problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paycascade.contracts.loader import kinds, load_contracts
from paycascade.diagnostics import Diagnostics

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "CONTRACTS.md").read_text(), re.S)


def test_there_are_examples_for_every_kind_and_the_allocation() -> None:
    text = "\n".join(EXAMPLES)
    for kind in kinds():
        assert f"kind: {kind}" in text, f"docs/CONTRACTS.md has no example of {kind}"
    assert "allocation:" in text
    assert "pass_through" in "".join((ROOT / "docs" / "CONTRACTS.md").read_text())


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_contract_example_loads(index: int, tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "example.yaml").write_text(EXAMPLES[index], encoding="utf-8")
    diags = Diagnostics()
    specs = load_contracts(tmp_path, diags)
    assert not diags.items, diags.format() + "\n" + EXAMPLES[index]
    assert specs
