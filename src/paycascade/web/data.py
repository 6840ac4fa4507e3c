"""Read-only views of a workspace's runs (``out/<run-id>/``) for the portal, cached per file.

Everything here is derived from the run outputs the engine wrote (``statements.json``,
``statements.csv``, ``cascade.csv``, ``contracts.csv``, ``run.json`` and, when present,
``findings.csv``); the portal never recomputes pay.
"""

from __future__ import annotations

import csv
import io
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from openpyxl import Workbook
from openpyxl.styles import Font

from paycascade.ledger import read_json
from paycascade.money import D

T = TypeVar("T")

#: Below this denominator a rate is flagged as unreliable (NCQA's small-denominator rule of 30).
SMALL_DENOMINATOR = 30


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    period: str
    period_start: str
    period_end: str
    engine_version: str
    folder: Path
    written: float


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    entries: dict[tuple[str, str], tuple[float, Any]] = field(default_factory=dict)


class Runs:
    """The runs of one workspace; every parsed file is cached until its mtime changes."""

    def __init__(self, workspace: Path, list_ttl: float = 2.0) -> None:
        self.workspace = workspace
        self._list_ttl = list_ttl
        self._listed: tuple[float, list[RunInfo]] = (0.0, [])
        self._cache = _Cache()

    def _cached(self, path: Path, kind: str, build: Callable[[], T]) -> T:
        mtime = path.stat().st_mtime
        key = (str(path), kind)
        with self._cache.lock:
            hit = self._cache.entries.get(key)
            if hit is not None and hit[0] == mtime:
                return hit[1]  # type: ignore[no-any-return]
        value = build()
        with self._cache.lock:
            self._cache.entries[key] = (mtime, value)
        return value

    def all(self) -> list[RunInfo]:
        """Every complete run, newest first."""
        now = time.monotonic()
        if now - self._listed[0] < self._list_ttl:
            return self._listed[1]
        found = []
        out = self.workspace / "out"
        for manifest in out.glob("*/run.json") if out.is_dir() else []:
            if not (manifest.parent / "statements.json").is_file():
                continue
            meta: dict[str, Any] = self._cached(manifest, "json", partial(_read_json, manifest))
            found.append(
                RunInfo(
                    run_id=str(meta.get("run_id", manifest.parent.name)),
                    period=str(meta.get("period", "")),
                    period_start=str(meta.get("period_start", "")),
                    period_end=str(meta.get("period_end", "")),
                    engine_version=str(meta.get("engine_version", "")),
                    folder=manifest.parent,
                    written=manifest.stat().st_mtime,
                )
            )
        found.sort(key=lambda r: (r.written, r.run_id), reverse=True)
        self._listed = (now, found)
        return found

    def get(self, run_id: str | None) -> RunInfo | None:
        runs = self.all()
        if run_id is None:
            return runs[0] if runs else None
        return next((r for r in runs if r.run_id == run_id), None)

    def statements(self, run: RunInfo) -> dict[str, dict[str, Any]]:
        path = run.folder / "statements.json"
        return self._cached(path, "json", lambda: _read_json(path))

    def table(self, run: RunInfo, name: str) -> list[dict[str, str]]:
        path = run.folder / name
        if not path.is_file():
            return []
        return self._cached(path, "csv", lambda: _read_csv(path))

    def has_findings(self, run: RunInfo) -> bool:
        return (run.folder / "findings.csv").is_file()

    # derived views ---------------------------------------------------------------------------

    def peers(self, run: RunInfo) -> dict[str, Any]:
        """Per specialty: the sorted values of each measure's rate, composite and value share."""
        path = run.folder / "statements.json"
        return self._cached(path, "peers", lambda: _peer_table(self.statements(run)))

    def trend(self, npi: str) -> list[dict[str, Any]]:
        """The physician's totals and measure rates in every run, oldest first (one per period:
        the newest run of each period)."""
        seen: dict[str, dict[str, Any]] = {}
        for run in self.all():
            if run.period in seen:
                continue
            s = self.statements(run).get(npi)
            if s is None:
                continue
            rates = {
                m["measure"]: m["rate"]
                for card in s.get("scorecards", [])
                for m in card.get("measures", [])
                if m.get("rate") is not None
            }
            seen[run.period] = {
                "period": run.period,
                "run_id": run.run_id,
                "total": s["total"],
                "value_linked_share": s["value_linked_share"],
                "rates": rates,
            }
        return sorted(seen.values(), key=lambda t: (t["period"], t["run_id"]))


def _read_json(path: Path) -> Any:
    # statements.json is ~8 KB per physician (85 MB for 10,000): orjson reads it twice as fast
    return read_json(path.read_bytes())


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _peer_table(statements: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per specialty and figure, the sorted values of its clinicians: one value per clinician
    (a measure on two of a plan's scorecards is one rate), so that the count of values is the
    count of clinicians that :data:`MIN_PEERS` is about."""
    table: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for npi, s in statements.items():
        spec = table[s["specialty"]]
        spec["value_linked_share"][npi] = float(s["value_linked_share"])
        for card in s.get("scorecards", []):
            if card.get("composite") is not None:
                spec["composite:" + card["scorecard"]].setdefault(npi, float(card["composite"]))
            for m in card.get("measures", []):
                if m.get("rate") is not None:
                    spec["rate:" + m["measure"]].setdefault(npi, float(m["rate"]))
    return {k: {m: sorted(v.values()) for m, v in d.items()} for k, d in table.items()}


#: peer figures are shown only among at least this many clinicians (the physician included):
#: with fewer, the quartiles and the physician's own figure give the others' figures away
#: (with two, the other's is 2 × median − mine).  11, as CMS suppresses counts of 1 to 10 in
#: the public data it releases.
MIN_PEERS = 11


def percentile_position(values: list[float], mine: float) -> dict[str, Any] | None:
    """Blinded position: percentile rank (share of peers strictly below, half of ties), the
    quartiles and the peer count; never who the peers are.  None (withheld) below
    :data:`MIN_PEERS` values."""
    n = len(values)
    if n < MIN_PEERS:
        return None
    below = sum(1 for v in values if v < mine)
    ties = sum(1 for v in values if v == mine)
    rank = (below + 0.5 * ties) / n * 100 if n else 0.0

    def q(p: float) -> float:
        if not values:
            return math.nan
        idx = (n - 1) * p
        lo, hi = math.floor(idx), math.ceil(idx)
        return values[lo] + (values[hi] - values[lo]) * (idx - lo)

    return {
        "peers": n,
        "percentile": round(rank),
        "p25": round(q(0.25), 4),
        "median": round(q(0.5), 4),
        "p75": round(q(0.75), 4),
    }


def wilson(numerator: int, denominator: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a rate."""
    if denominator <= 0:
        return (0.0, 1.0)
    p = numerator / denominator
    denom = 1 + z * z / denominator
    centre = (p + z * z / (2 * denominator)) / denom
    half = z * math.sqrt(p * (1 - p) / denominator + z * z / (4 * denominator**2)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def reliability(numerator: str | None, denominator: str | None) -> dict[str, Any]:
    try:
        num, den = int(Decimal(numerator or "0")), int(Decimal(denominator or "0"))
    except ArithmeticError:
        return {"small": True, "low": None, "high": None, "note": "no denominator"}
    low, high = wilson(num, den)
    small = den < SMALL_DENOMINATOR
    note = (
        f"only {den} patients: the true rate could be anywhere from {low:.0%} to {high:.0%}; "
        "read this rate with caution"
        if small
        else f"95% interval {low:.0%}–{high:.0%} ({den} patients)"
    )
    return {"small": small, "low": round(low, 4), "high": round(high, 4), "note": note}


def components(statements: dict[str, dict[str, Any]]) -> list[str]:
    """Every component name in the run, in order of first appearance."""
    seen: dict[str, None] = {}
    for s in statements.values():
        for line in s["lines"]:
            seen.setdefault(line["component"], None)
    return list(seen)


def payroll_rows(statements: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """One row per physician: identity, pay by component and total (Decimal, exact)."""
    comps = components(statements)
    header = ["npi", "name", "specialty", "plan", "period", *comps, "total"]
    rows = []
    for npi in sorted(statements):
        s = statements[npi]
        by: dict[str, Decimal] = defaultdict(Decimal)
        for line in s["lines"]:
            by[line["component"]] += Decimal(line["amount"])
        rows.append(
            [npi, s["name"], s["specialty"], s["plan"], s["period"]]
            + [by.get(c, Decimal("0.00")) for c in comps]
            + [Decimal(s["total"])]
        )
    return header, rows


def payroll_xlsx(run: RunInfo, statements: dict[str, dict[str, Any]]) -> bytes:
    header, rows = payroll_rows(statements)
    wb = Workbook()
    ws = wb.active
    ws.title = "payroll"
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for line in ws.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                # text stays text: a name such as '=HYPERLINK(…)' must not become a live formula
                cell.data_type = "s"
    money_cols = range(6, len(header) + 1)
    for col in money_cols:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = "#,##0.00"
    ws.freeze_panes = "B2"
    meta = wb.create_sheet("run")
    total = sum((r[-1] for r in rows), Decimal("0"))
    for key, value in (
        ("run_id", run.run_id),
        ("period", run.period),
        ("period_start", run.period_start),
        ("period_end", run.period_end),
        ("physicians", len(rows)),
        ("total", total),
        ("engine_version", run.engine_version),
    ):
        meta.append([key, value])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


#: what a spreadsheet would read as the start of a formula in a text cell
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse_csv(body: bytes) -> bytes:
    """A CSV export safe to open in a spreadsheet: a text value that a spreadsheet would run as
    a formula (``=HYPERLINK(…)`` as a physician's name) gets a leading apostrophe, as OWASP
    advises; numbers (``-12.50``) and every other value are kept byte for byte."""
    text = body.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    changed = False
    for row in rows:
        for i, value in enumerate(row):
            if value.startswith(_FORMULA_START) and not _is_number(value):
                row[i] = "'" + value
                changed = True
    if not changed:
        return body
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _is_number(value: str) -> bool:
    """Whether a spreadsheet cell of this text is a number (as ``money.D`` reads one)."""
    try:
        D(value)
    except ValueError:
        return False
    return value.strip() == value


def by_specialty(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Pay composition by specialty from ``statements.csv``."""
    acc: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["specialty"]] += 1
        for k in ("total", "volume", "mixed", "value"):
            acc[r["specialty"]][k] += Decimal(r[k])
    out = []
    for spec, a in sorted(acc.items(), key=lambda kv: -kv[1]["total"]):
        total = a["total"]
        out.append(
            {
                "specialty": spec,
                "physicians": counts[spec],
                "total": str(total),
                "volume": str(a["volume"]),
                "mixed": str(a["mixed"]),
                "value": str(a["value"]),
                "value_linked_share": str(
                    ((a["mixed"] + a["value"]) / total).quantize(Decimal("0.0001"))
                    if total
                    else Decimal(0)
                ),
            }
        )
    return out


def sankey(rows: list[dict[str, str]], detail: bool = False) -> dict[str, Any]:
    """The cascade (``cascade.csv``) as Sankey nodes and links; physicians are grouped into one
    node per pool unless ``detail``."""
    flows: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    grouped: dict[str, int] = defaultdict(int)
    for r in rows:
        dest = r["destination"]
        if not detail and dest.startswith("physician:"):
            grouped[r["source"]] += 1
            dest = "physicians"
        flows[(r["source"], dest)] += Decimal(r["amount"])
    labels: dict[str, int] = {}
    for src, dest in flows:
        labels.setdefault(src, len(labels))
        labels.setdefault(dest, len(labels))
    names = list(labels)
    if not detail and "physicians" in labels:
        names[labels["physicians"]] = f"physicians ({sum(grouped.values())} payments)"
    links = [
        {"source": labels[s], "target": labels[d], "value": str(v)}
        for (s, d), v in flows.items()
        if v > 0
    ]
    return {"nodes": names, "links": links}


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    if not rows:
        return b""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")
