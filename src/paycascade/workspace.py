"""A workspace folder and its ``paycascade.toml``."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paycascade.diagnostics import Diagnostics
from paycascade.money import RoundingMode
from paycascade.tables import TABLES

CONFIG = "paycascade.toml"
_SECTIONS = {"organization", "run", "rounding", "reference", "tables"}
_KEYS = {"organization": {"name"}, "run": {"period"}, "rounding": {"mode"}, "reference": {"pfs"}}
_TABLE_NAMES = {spec.name for spec in TABLES}


@dataclass(frozen=True)
class Workspace:
    root: Path
    organization: str = "Unnamed organization"
    default_period: str | None = None
    rounding: RoundingMode = "half_up"
    pfs: Path | None = None
    tables: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.root / ".paycascade"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    def display(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def load_workspace(root: Path, diags: Diagnostics) -> Workspace | None:
    """Read ``paycascade.toml``; every problem becomes a diagnostic.  None if unusable."""
    if not root.is_dir():
        diags.add(str(root), None, "workspace folder not found")
        return None
    path = root / CONFIG
    if not path.is_file():
        diags.add(CONFIG, None, f"no {CONFIG} in {root} (is this a paycascade workspace?)")
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is not TOML
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 gives the position only inside the message: "… (at line 3, column 9)"
        found = re.search(r"^(.*?)\s*\(at line (\d+), column \d+\)$", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(2)) if found else None)
        message = getattr(exc, "msg", None) or (found.group(1) if found else str(exc))
        diags.add(CONFIG, line, f"malformed TOML: {message}")
        return None
    except UnicodeDecodeError:
        diags.add(CONFIG, None, "not a UTF-8 text file")
        return None
    lines = _key_lines(path)
    for key in data:
        if key not in _SECTIONS:
            diags.add(
                CONFIG,
                lines.get(key),
                f"unknown section [{key}]; known: {', '.join(sorted(_SECTIONS))}",
            )
    sections: dict[str, dict[str, Any]] = {}
    for name in sorted(_SECTIONS):
        value = data.get(name, {})
        if not isinstance(value, dict):
            message = (
                "[tables] must map table names to paths"
                if name == "tables"
                else f"{name} must be a section [{name}], not a value"
            )
            diags.add(CONFIG, lines.get(name), message)
            value = {}
        sections[name] = value
        known = _TABLE_NAMES if name == "tables" else _KEYS.get(name, set())
        for key in value:
            if key not in known:
                hint = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
                extra = (
                    f"did you mean '{hint[0]}'?" if hint else f"known: {', '.join(sorted(known))}"
                )
                what = "table" if name == "tables" else "key"
                diags.add(CONFIG, lines.get(key), f"unknown {what} '{key}' in [{name}] ({extra})")
    org, run = sections["organization"], sections["run"]
    rounding, reference = sections["rounding"], sections["reference"]
    tables = sections["tables"]
    mode = rounding.get("mode", "half_up")
    if mode not in ("half_up", "half_even"):
        diags.add(
            CONFIG, lines.get("mode"), f"[rounding] mode must be half_up or half_even, not '{mode}'"
        )
        mode = "half_up"
    pfs = reference.get("pfs")
    pfs_path = None
    if pfs is not None:
        pfs_path = Path(str(pfs)) if Path(str(pfs)).is_absolute() else root.resolve() / str(pfs)
        if not pfs_path.is_file():
            diags.add(CONFIG, lines.get("pfs"), f"[reference] pfs file not found: {pfs}")
    period = run.get("period")
    return Workspace(
        root=root,
        organization=str(org.get("name", "Unnamed organization")),
        default_period=None if period is None else str(period),
        rounding=mode,
        pfs=pfs_path,
        tables={str(k): str(v) for k, v in tables.items()},
    )


def _key_lines(path: Path) -> dict[str, int]:
    """Line of each section header and key (first occurrence), for diagnostics."""
    lines: dict[str, int] = {}
    for number, text in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        stripped = text.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            lines.setdefault(stripped.strip("[]").strip(), number)
        elif "=" in stripped and not stripped.startswith("#"):
            lines.setdefault(stripped.split("=", 1)[0].strip(), number)
    return lines
