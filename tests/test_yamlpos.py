"""The position-keeping YAML loader: libyaml's parser and the pure Python one agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from paycascade.diagnostics import Diagnostics
from paycascade.ledger import read_json
from paycascade.plans.yamlpos import PosDict, PosList, _FastLoader, _Loader, load_yaml_text

SRC = Path(__file__).resolve().parents[1] / "src" / "paycascade"
YAML_FILES = sorted(SRC.rglob("*.yaml"))


def _shape(value: Any) -> Any:
    """The value with every mapping's and sequence's lines, for an exact comparison."""
    if isinstance(value, PosDict):
        return (
            "map",
            value.line,
            sorted((k, value.key_lines[k], _shape(v)) for k, v in value.items()),
        )
    if isinstance(value, PosList):
        return ("seq", value.line, value.item_lines, [_shape(v) for v in value])
    return (type(value).__name__, value)


def _parse(loader: type[Any], text: str) -> tuple[Any, list[tuple[str, int]]]:
    parser = loader(text)
    parser.duplicate_keys = []
    try:
        return _shape(parser.get_single_data()), parser.duplicate_keys
    finally:
        parser.dispose()


def test_libyaml_is_used_when_pyyaml_has_it() -> None:
    assert issubclass(_FastLoader, yaml.CSafeLoader) == bool(yaml.__with_libyaml__)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_both_parsers_give_the_same_values_and_lines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _parse(_FastLoader, text) == _parse(_Loader, text)


def test_duplicate_keys_are_reported_at_their_line() -> None:
    diags = Diagnostics()
    data = load_yaml_text("a: 1\nb:\n  c: 2\na: 3\n", "x", diags)
    assert data == {"a": 3, "b": {"c": 2}}
    assert [(d.line, d.message) for d in diags.items] == [(4, "duplicate key 'a'")]


@pytest.mark.parametrize("text", ["a: [1, 2\n", "a:\n  - b\n c: d\n", "a: 'open\n", "- a\nb: c\n"])
def test_problems_are_worded_by_the_python_parser(text: str) -> None:
    python = _Loader(text)
    python.duplicate_keys = []
    with pytest.raises(yaml.MarkedYAMLError) as raised:
        python.get_single_data()
    python.dispose()
    mark = raised.value.problem_mark or raised.value.context_mark
    assert mark is not None and raised.value.problem is not None
    diags = Diagnostics()
    assert load_yaml_text(text, "x", diags) is None
    (problem,) = diags.items
    assert problem.line == mark.line + 1
    assert problem.message.startswith(f"malformed YAML: {raised.value.problem}")


@pytest.mark.parametrize(
    "text", ["a:\t1\n", "a: {x: 1,\ty: 2}\n", "name: hello\tworld\n", "a: 1\t# note\n"]
)
def test_a_text_with_tabs_is_read_as_the_python_parser_reads_it(text: str) -> None:
    # libyaml accepts these tabs, PyYAML's own scanner refuses them: every machine must agree
    # with or without libyaml, so a text with a tab is read by the Python parser alone
    python = _Loader(text)
    python.duplicate_keys, python.bad_text = [], []
    try:
        expected: Any = ("ok", _shape(python.get_single_data()))
    except yaml.MarkedYAMLError as exc:
        expected = ("refused", exc.problem)
    finally:
        python.dispose()
    diags = Diagnostics()
    data = load_yaml_text(text, "x", diags)
    if expected[0] == "ok":
        assert not diags.items and _shape(data) == expected[1]
    else:
        assert data is None and str(expected[1]) in diags.items[0].message


def test_a_character_yaml_does_not_allow_is_a_problem_at_its_line() -> None:
    diags = Diagnostics()
    assert load_yaml_text("a: 1\nb: x\x00y\n", "plans/p.yaml", diags) is None
    assert diags.format() == (
        "plans/p.yaml:2: malformed YAML: character U+0000 is not allowed in YAML text"
    )


def test_a_surrogate_code_point_is_a_problem_at_its_line() -> None:
    # "\ud800" is a YAML escape but not Unicode (YAML, unlike JSON, does not pair surrogate
    # escapes): no file or JSON could carry it
    diags = Diagnostics()
    load_yaml_text('a: 1\nname: "Primary \\ud800 care"\n', "plans/p.yaml", diags)
    (problem,) = diags.items
    assert (problem.file, problem.line) == ("plans/p.yaml", 2)
    assert "surrogate code point" in problem.message
    clean = Diagnostics()
    load_yaml_text('name: "\\U0001F600 \\u00a7"\n', "plans/p.yaml", clean)  # 😀 §: fine
    assert not clean.items


def test_run_json_is_read_fast_and_old_escapes_still_read() -> None:
    assert read_json(b'{"a":"\xc2\xa7"}') == {"a": "§"}
    # written by runs before orjson (json.dumps escaped an unpaired surrogate)
    assert read_json(b'{"a":"\\ud800"}') == {"a": "\ud800"}
    with pytest.raises(ValueError, match="Expecting value"):
        read_json(b"")
