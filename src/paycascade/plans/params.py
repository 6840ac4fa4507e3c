"""Dated parameters with sources, and a reader that turns YAML into typed values.

A parameter is written in one of three forms::

    conversion_factor: 52.00
    conversion_factor: {value: 52.00, source: "Comp committee minutes, 2025-11-04"}
    conversion_factor:
      - {from: 2026-01-01, value: 52.00, source: "Plan document §4.2"}
      - {from: 2026-07-01, value: 54.00, source: "Amendment 3"}

Each value remembers its effective date, its source and its line, so every computed dollar
can cite the parameter value it used ("$54.00, plans/surgery.yaml:21, Amendment 3").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any, Generic, TypeVar

from paycascade.diagnostics import Diagnostics
from paycascade.money import D, TooLarge
from paycascade.plans.yamlpos import PosDict, PosList, as_date

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One value of a parameter, in effect from ``effective`` (None = always)."""

    effective: date | None
    value: T
    line: int
    source: str | None = None


@dataclass(frozen=True)
class Dated(Generic[T]):
    """A parameter whose value may change on given dates."""

    name: str
    file: str
    entries: tuple[Entry[T], ...]

    def at(self, day: date) -> Entry[T]:
        """The entry in effect on ``day``; before the first date, the first entry."""
        chosen = self.entries[0]
        for entry in self.entries:
            if entry.effective is None or entry.effective <= day:
                chosen = entry
        return chosen

    def breakpoints(self) -> list[date]:
        return [e.effective for e in self.entries if e.effective is not None]

    def covers(self, day: date) -> bool:
        first = self.entries[0].effective
        return first is None or first <= day

    def cite(self, day: date) -> str:
        entry = self.at(day)
        text = f"{self.file}:{entry.line}"
        if entry.source:
            text += f" ({entry.source})"
        return text

    @staticmethod
    def constant(name: str, value: T, file: str = "", line: int = 0) -> Dated[T]:
        return Dated(name, file, (Entry(None, value, line, None),))


class Reader:
    """Typed access to one YAML mapping; every problem becomes a diagnostic with its line."""

    def __init__(self, node: PosDict, file: str, diags: Diagnostics, where: str) -> None:
        self.node = node
        self.file = file
        self.diags = diags
        self.where = where  # e.g. "component 'production'"
        self.used: set[str] = set()

    def line(self, key: str | None = None) -> int:
        return self.node.line_of(key) if key else self.node.line

    def error(self, key: str | None, message: str) -> None:
        self.diags.add(self.file, self.line(key), f"{self.where}: {message}")

    def has(self, key: str) -> bool:
        return key in self.node

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.node.get(key)

    def text(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.error(None, f"missing '{key}'")
            return default
        if isinstance(value, PosDict | PosList):
            self.error(key, f"'{key}' must be text")
            return default
        return str(value)

    def choice(self, key: str, options: Iterable[str], default: str) -> str:
        opts = list(options)
        value = self.text(key, default=default)
        if value not in opts:
            self.error(key, f"'{key}' must be one of {', '.join(opts)}, not '{value}'")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self.error(key, f"'{key}' must be true or false, not '{value}'")
        return default

    def number(
        self,
        key: str,
        *,
        required: bool = False,
        default: Decimal | None = None,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
    ) -> Decimal | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.error(None, f"missing '{key}'")
            return default
        return self._to_number(value, key, self.line(key), minimum, maximum, default)

    def _to_number(
        self,
        value: Any,
        key: str,
        line: int,
        minimum: Decimal | None,
        maximum: Decimal | None,
        default: Decimal | None,
    ) -> Decimal | None:
        try:
            number = D(value)
        except (TypeError, ValueError) as exc:
            problem = "is too large a number" if isinstance(exc, TooLarge) else "must be a number"
            self.diags.add(self.file, line, f"{self.where}: '{key}' {problem}, not '{value}'")
            return default
        if minimum is not None and number < minimum:
            self.diags.add(
                self.file, line, f"{self.where}: '{key}' must be ≥ {minimum}, not {number}"
            )
            return default
        if maximum is not None and number > maximum:
            self.diags.add(
                self.file, line, f"{self.where}: '{key}' must be ≤ {maximum}, not {number}"
            )
            return default
        return number

    def dated_number(
        self,
        key: str,
        *,
        required: bool = True,
        default: Decimal | None = None,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
    ) -> Dated[Decimal] | None:
        """A number that may be dated (see the module docstring)."""

        def convert(value: Any, line: int) -> Decimal | None:
            return self._to_number(value, key, line, minimum, maximum, None)

        return self.dated(key, convert, required=required, default=default)

    def dated(
        self,
        key: str,
        convert: Callable[[Any, int], T | None],
        *,
        required: bool = True,
        default: T | None = None,
    ) -> Dated[T] | None:
        value = self.raw(key)
        line = self.line(key)
        if value is None:
            if required:
                self.error(None, f"missing '{key}'")
                return None
            if default is None:
                return None
            return Dated.constant(key, default, self.file, line)
        if (
            isinstance(value, PosList)
            and value
            and all(isinstance(v, PosDict) for v in value)
            and any("from" in v for v in value)
        ):
            return self._dated_list(key, value, convert)
        if isinstance(value, PosDict) and "value" in value:
            self._unknown_entry_keys(key, value, {"value", "source"})
            converted = convert(value["value"], value.line_of("value"))
            if converted is None:
                return None
            source = value.get("source")
            entry = Entry(None, converted, line, None if source is None else str(source))
            return Dated(key, self.file, (entry,))
        converted = convert(value, line)
        if converted is None:
            return None
        return Dated(key, self.file, (Entry(None, converted, line, None),))

    def _dated_list(
        self, key: str, items: PosList, convert: Callable[[Any, int], T | None]
    ) -> Dated[T] | None:
        entries: list[Entry[T]] = []
        ok = True
        for index, item in enumerate(items):
            item_line = items.line_of(index)
            self._unknown_entry_keys(key, item, {"from", "value", "source"})
            effective = as_date(item.get("from")) or item.get("from")
            if effective is None:
                self.diags.add(
                    self.file, item_line, f"{self.where}: '{key}' entry has no 'from' date"
                )
                ok = False
                continue
            if as_date(effective) is None:
                self.diags.add(
                    self.file,
                    item.line_of("from"),
                    f"{self.where}: '{key}' from must be a date YYYY-MM-DD, not '{effective}'",
                )
                ok = False
                continue
            if "value" not in item:
                self.diags.add(self.file, item_line, f"{self.where}: '{key}' entry has no 'value'")
                ok = False
                continue
            converted = convert(item["value"], item.line_of("value"))
            if converted is None:
                ok = False
                continue
            source = item.get("source")
            entries.append(
                Entry(effective, converted, item_line, None if source is None else str(source))
            )
        for before, after in pairwise(entries):
            if (
                after.effective is not None
                and before.effective is not None
                and after.effective <= before.effective
            ):
                self.diags.add(
                    self.file,
                    after.line,
                    f"{self.where}: '{key}' dates must ascend: {after.effective} after {before.effective}",
                )
                ok = False
        if not ok or not entries:
            return None
        return Dated(key, self.file, tuple(entries))

    def _unknown_entry_keys(self, key: str, entry: PosDict, allowed: set[str]) -> None:
        """Keys of a ``{from:, value:, source:}`` entry that mean nothing (often a misspelling)."""
        for name in sorted(set(entry) - allowed):
            hint = closest(name, allowed)
            extra = (
                f" (did you mean '{hint}'?)"
                if hint
                else f" (allowed: {', '.join(sorted(allowed))})"
            )
            self.diags.add(
                self.file,
                entry.line_of(name),
                f"{self.where}: unknown key '{name}' in '{key}'{extra}",
            )

    def unknown_keys(self, allowed: Iterable[str]) -> None:
        allowed_set = set(allowed)
        for key in self.node:
            if key not in allowed_set:
                hint = closest(key, allowed_set)
                extra = f" (did you mean '{hint}'?)" if hint else ""
                self.error(key, f"unknown key '{key}'{extra}")


def closest(word: str, options: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.75)
    return matches[0] if matches else None
