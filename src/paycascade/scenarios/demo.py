"""The demo's reforms: copied into a demo workspace's ``reforms/`` folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_REFORM = "surgeons-quality-withhold.yaml"


def write_demo_reforms(workspace: Path) -> list[Path]:
    """Copy the packaged demo reforms into ``workspace/reforms/`` (call from demo/workspace.py).

    Try: ``paycascade scenario WORKSPACE reforms/surgeons-quality-withhold.yaml``."""
    target = workspace / "reforms"
    target.mkdir(parents=True, exist_ok=True)
    source = resources.files("paycascade.demo").joinpath("reforms")
    written = []
    for item in sorted(source.iterdir(), key=lambda x: x.name):
        if item.name.endswith(".yaml"):
            path = target / item.name
            path.write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
            written.append(path)
    return written
