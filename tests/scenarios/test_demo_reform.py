"""The demo reform applies to the demo's surgical plan."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path

from paycascade.runner import load
from paycascade.scenarios.demo import DEMO_REFORM, write_demo_reforms
from paycascade.scenarios.reform import load_and_apply
from tests.scenarios.builder import build


def test_demo_reform_puts_surgeons_on_a_ten_percent_withhold(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    plan = resources.files("paycascade.demo").joinpath("plans", "surgery-tiered.yaml")
    (ws / "plans" / "surgery-tiered.yaml").write_text(plan.read_text("utf-8"), "utf-8")
    (written,) = write_demo_reforms(ws)
    assert written == ws / "reforms" / DEMO_REFORM
    loaded = load(ws, None)
    reform, applied = load_and_apply(loaded, written)
    loaded.con.close()
    assert reform.file == f"reforms/{DEMO_REFORM}"
    surgery = applied.plans["surgery-tiered"]
    withhold = surgery.components[-1]
    assert (withhold.id, withhold.kind) == ("quality_withhold", "withhold")
    assert withhold.rate.at(loaded.period.end).value == Decimal("0.10")  # type: ignore[attr-defined]
    assert surgery.name == "Surgery (tiered wRVU, 10% quality withhold)"
    assert [c.id for c in loaded.plans["surgery-tiered"].components] == ["production"]
