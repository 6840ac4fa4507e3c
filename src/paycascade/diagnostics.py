"""Errors are data: every problem carries the place it came from.

A :class:`Diagnostic` names a file and line (plans, contracts, ``paycascade.toml``) or a
file, row and column (input tables).  Loaders collect diagnostics in a :class:`Diagnostics`
list instead of raising on the first problem, so a user sees every problem at once::

    plans/surgery.yaml:14: tiers must ascend: 7000 after 8000
    data/encounters.csv:118:units: -2 is negative; units must be >= 0
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, with its position.

    ``line`` is the 1-based line of a YAML/TOML file, or for a table the row as a spreadsheet
    shows it: the header is row 1 and the first data row is row 2 (for a CSV file this is also
    its line number).  ``column`` is the table column name, for tables.
    """

    file: str
    line: int | None
    message: str
    column: str | None = None
    severity: Severity = "error"
    code: str = "invalid"

    def location(self) -> str:
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
        if self.column is not None:
            loc += f":{self.column}"
        return loc

    def format(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        return f"{self.location()}: {prefix}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Diagnostics:
    """An ordered collection of problems; never raises by itself."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        file: str | Path,
        line: int | None,
        message: str,
        *,
        column: str | None = None,
        severity: Severity = "error",
        code: str = "invalid",
    ) -> None:
        self.items.append(
            Diagnostic(str(file), line, message, column=column, severity=severity, code=code)
        )

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Diagnostic]:
        """Stable order for output: by file, then line (None first), then column."""
        return sorted(
            self.items,
            key=lambda d: (d.file, d.line if d.line is not None else -1, d.column or "", d.message),
        )

    def format(self) -> str:
        return "\n".join(d.format() for d in self.sorted())

    def to_json(self) -> str:
        return json.dumps(
            {
                "ok": not self.has_errors(),
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "problems": [d.as_dict() for d in self.sorted()],
            },
            indent=2,
        )


class PaycascadeError(Exception):
    """Raised when work cannot go on; carries every diagnostic collected so far."""

    def __init__(self, diagnostics: Diagnostics | Iterable[Diagnostic], summary: str = "") -> None:
        if isinstance(diagnostics, Diagnostics):
            self.diagnostics = diagnostics
        else:
            self.diagnostics = Diagnostics(list(diagnostics))
        self.summary = summary or f"{len(self.diagnostics.errors)} problem(s) found"
        super().__init__(self.summary + "\n" + self.diagnostics.format())
