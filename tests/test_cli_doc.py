"""docs/CLI.md is the commands' own --help (regenerate: python -m paycascade.clidoc > docs/CLI.md)."""

from __future__ import annotations

from pathlib import Path

from paycascade.clidoc import reference

DOC = Path(__file__).resolve().parent.parent / "docs" / "CLI.md"


def test_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/CLI.md is out of date: python -m paycascade.clidoc > docs/CLI.md"
    )


def test_every_command_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ("check", "run", "statement", "demo", "mssp", "scenario", "serve", "user"):
        assert f"## paycascade {name}" in text
