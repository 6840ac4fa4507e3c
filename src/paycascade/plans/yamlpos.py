"""YAML that remembers where everything came from.

Mappings load as :class:`PosDict` and sequences as :class:`PosList`; both know their own line
and the line of each key or item, so a semantic problem found long after parsing (a tier that
does not ascend, an unknown component kind) is still reported as ``file:line: message``.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from paycascade.diagnostics import Diagnostics


class PosDict(dict[str, Any]):
    """A mapping with ``line`` (its first line) and ``key_lines`` (line of each key)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class PosList(list[Any]):
    """A sequence with ``line`` and ``item_lines`` (line of each item)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds PosDict/PosList and reports duplicate keys and broken text."""

    duplicate_keys: list[tuple[str, int]]
    bad_text: list[int]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> PosDict:
    loader.flatten_mapping(node)
    result = PosDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key_text = str(key)
        line = key_node.start_mark.line + 1
        if key_text in result:
            loader.duplicate_keys.append((key_text, line))
        result[key_text] = loader.construct_object(value_node, deep=True)
        result.key_lines[key_text] = line
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> PosList:
    result = PosList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    """Text as YAML gives it; an escaped surrogate code point (``"\\ud800"``) is noted for a
    problem at its line: it is not Unicode, and no file or JSON could carry it."""
    value = str(loader.construct_scalar(node))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        loader.bad_text.append(node.start_mark.line + 1)
    return value


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date YAML cannot build (``2026-02-30``), or a date with a time of day, stays text, for
    the reader to report: every date in a plan, contract or reform is a day."""
    try:
        value = loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)
    return loader.construct_scalar(node) if isinstance(value, datetime) else value


def as_date(value: Any) -> date | None:
    """A YAML value as a day: a date, or text written ``YYYY-MM-DD`` (a quoted date); None for
    anything else (a date and time, a number, an impossible date)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


# Numbers as people mean them, not as YAML 1.1 reads them: PyYAML's SafeLoader reads 060 as
# octal 48, 1:30 as 90 (base 60), 0x30 as 48 and 4_8 as 48.  Here an integer is decimal digits
# without a leading zero and a float is such digits with a point and/or an exponent.  Anything
# else is text: an id keeps its leading zeros (NQF measure 0018, not 18), the number readers
# read "060" as 60 (``money.D``) and refuse what is not a number, naming what was written.
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    return int(str(loader.construct_scalar(node)), 10)


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A float; one too large for a float (``1e400``) stays text, for the number readers to
    refuse as written rather than as ``inf``."""
    text = str(loader.construct_scalar(node))
    value = float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
    if math.isinf(value) and "inf" not in text.lower():
        return text
    return value


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same loader on libyaml's parser (about 5× faster) where PyYAML has it.  A text it
    cannot parse is read again by :class:`_Loader`, so that problems are worded as always, and
    a text with a tab is read by :class:`_Loader` alone (see :func:`_read_fast`)."""

    duplicate_keys: list[tuple[str, int]]
    bad_text: list[int]


for _loader in (_Loader, _FastLoader):
    _loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
        for first, resolvers in _loader.yaml_implicit_resolvers.items()
    }
    _loader.add_implicit_resolver(_INT_TAG, _INT, list("-+0123456789"))
    _loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))
    _loader.add_constructor(_INT_TAG, _construct_int)
    _loader.add_constructor(_FLOAT_TAG, _construct_float)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    _loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def load_yaml(path: Path, display: str, diags: Diagnostics) -> Any:
    """Parse ``path``; problems go to ``diags`` under the name ``display``. None on failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        diags.add(display, None, "not a UTF-8 text file")
        return None
    except OSError as exc:
        diags.add(display, None, f"cannot read: {exc.strerror or exc}")
        return None
    return load_yaml_text(text, display, diags)


def load_yaml_text(text: str, display: str, diags: Diagnostics) -> Any:
    fast = _read_fast(text)
    if fast is not None:
        return _reported(fast[0], fast[1], display, diags)
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, …)
        at = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        message = f"malformed YAML: character U+{ord(char):04X} is not allowed in YAML text"
        diags.add(display, at, message, code="yaml")
        return None
    _begin(loader)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "malformed YAML"
        context = f" ({exc.context})" if exc.context else ""
        diags.add(display, line, f"malformed YAML: {problem}{context}", code="yaml")
        return None
    except yaml.YAMLError as exc:
        diags.add(display, None, f"malformed YAML: {exc}", code="yaml")
        return None
    finally:
        loader.dispose()
    return _reported(data, loader, display, diags)


def _read_fast(text: str) -> tuple[Any, Any] | None:
    """(data, loader) read by libyaml, or None: for the Python parser to read (again).

    libyaml reads tabs where the pure Python scanner refuses them (and a second BOM
    differently): such a text is left to the Python parser, so every machine, with libyaml or
    without, accepts and refuses the same files.  A text libyaml cannot parse is read again by
    the Python parser too, so that problems are worded as always."""
    if "\t" in text or "\ufeff" in text[1:]:
        return None
    fast = _FastLoader(text)
    _begin(fast)
    try:
        return fast.get_single_data(), fast
    except yaml.YAMLError:
        return None
    finally:
        fast.dispose()


def _begin(loader: Any) -> None:
    loader.duplicate_keys = []
    loader.bad_text = []


def _reported(data: Any, loader: Any, display: str, diags: Diagnostics) -> Any:
    for key, line in loader.duplicate_keys:
        diags.add(display, line, f"duplicate key '{key}'", code="yaml")
    for line in loader.bad_text:
        diags.add(
            display,
            line,
            "text with a surrogate code point (an escape such as \\ud800; YAML does not pair "
            "them) is not valid Unicode: write the character itself, or \\U0001F600 for one "
            "beyond \\uFFFF",
            code="yaml",
        )
    return data
