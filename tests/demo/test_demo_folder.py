"""`paycascade demo` writes only where a demo may go: never over a workspace of one's own."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from paycascade.cli import main
from paycascade.demo.workspace import CONFIG, MARKER, check_demo_folder
from tests.test_run import write_workspace


def _demo(directory: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["demo", str(directory), "--physicians", "40", "--no-serve"])
    return result.exit_code, result.output


def test_a_workspace_of_ones_own_is_never_replaced(tmp_path: Path) -> None:
    # before the marker, any folder with a paycascade.toml was "a demo to refresh": its plans
    # and contracts were deleted and its configuration and data overwritten
    ws = write_workspace(tmp_path / "mine")
    before = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()}
    code, output = _demo(ws)
    assert code != 0
    assert "a paycascade workspace that `paycascade demo` did not write" in output
    assert {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()} == before


def test_other_folders_are_refused_and_demos_are_refreshed(tmp_path: Path) -> None:
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine", encoding="utf-8")
    code, output = _demo(other)
    assert code != 0 and "not empty and not a paycascade workspace" in output
    assert [p.name for p in other.iterdir()] == ["todo.txt"]
    # a demo folder (its marker) is refreshed; so is one written before there was a marker
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / MARKER).write_text("", encoding="utf-8")
    check_demo_folder(demo)
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "paycascade.toml").write_text(CONFIG, encoding="utf-8")
    check_demo_folder(legacy)
    check_demo_folder(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_demo_folder(tmp_path / "empty")


def test_a_demo_under_a_question_mark_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "what? demo"
    code, output = _demo(target)
    assert code == 1 and "has a '?'" in output
    assert not target.exists()
