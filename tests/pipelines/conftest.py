"""Tiny workspaces for the ingestion and pipeline tests, written into ``tmp_path``."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from paycascade.demo.synth import npi_check_digit
from paycascade.diagnostics import Diagnostics
from paycascade.ingest import load_inputs
from paycascade.pipelines.aggregate import Aggregates, aggregate
from paycascade.pipelines.crediting import CreditingPolicy


def npi(n: int) -> str:
    """A valid NPI (Luhn check digit over 80840 + 9 digits) built from a small number."""
    base = f"{100000000 + n:09d}"
    return base + str(npi_check_digit(base))


def write_csv(
    path: Path, rows: Sequence[Mapping[str, object]], columns: Iterable[str] = ()
) -> Path:
    """A CSV file from a list of dicts; ``columns`` fixes the header (default: keys in order)."""
    header = list(columns)
    for row in rows:
        header += [k for k in row if k not in header]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path


#: Work RVUs of the CMS PFS CY2023 January release (PPRRVU23_JAN) for the codes the tests use.
PFS_ROWS: tuple[tuple[str, str, str], ...] = (
    ("20610", "", "0.79"),
    ("27447", "", "19.60"),
    ("45378", "", "3.26"),
    ("45378", "53", "1.63"),
    ("47562", "", "10.47"),
    ("49505", "", "7.96"),
    ("64721", "", "4.97"),
    ("71046", "", "0.22"),
    ("71046", "TC", "0.00"),
    ("71046", "26", "0.22"),
    ("93306", "", "1.46"),
    ("93306", "TC", "0.00"),
    ("93306", "26", "1.46"),
    ("99203", "", "1.60"),
    ("99213", "", "1.30"),
    ("99214", "", "1.92"),
)


def write_pfs(path: Path, rows: Iterable[tuple[str, str, str]] = PFS_ROWS) -> Path:
    """A one-header-row PFS file, as in ``shared/data/cms/pfs_rvu_2023_jan/``."""
    return write_csv(
        path,
        [
            {
                "HCPCS": h,
                "MOD": m,
                "STATUS_CODE": "A",
                "WORK_RVU": w,
                "PCTC_IND": "1" if m else "0",
                "CONV_FACTOR": "33.8872",
            }
            for h, m, w in rows
        ],
    )


def physician(n: int, plan: str = "std", **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "npi": npi(n),
        "name": f"Dr {n}",
        "specialty": "family medicine",
        "plan": plan,
        "fte": "1.0",
    }
    row.update(extra)
    return row


def line(n: int, hcpcs: str, day: str = "2026-03-02", **extra: object) -> dict[str, object]:
    row: dict[str, object] = {"npi": npi(n), "service_date": day, "hcpcs": hcpcs}
    row.update(extra)
    return row


@dataclass
class Workspace:
    """A workspace folder with a PFS file; tables are added per test."""

    root: Path
    pfs: Path | None = None
    con: duckdb.DuckDBPyConnection = field(default_factory=duckdb.connect)

    def csv(
        self, table: str, rows: Sequence[Mapping[str, object]], columns: Iterable[str] = ()
    ) -> Path:
        return write_csv(self.root / "data" / f"{table}.csv", rows, columns)

    def write(self, relative: str, content: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def load(
        self,
        *,
        needed: Iterable[str] = (),
        table_paths: Mapping[str, str] | None = None,
        pfs: bool = True,
        buckets: tuple[Sequence[date], date] | None = None,
    ) -> Diagnostics:
        pfs_path = Path("data/reference/pfs.csv") if pfs and self.pfs is not None else None
        return load_inputs(self.con, self.root, table_paths, set(needed), pfs_path, buckets)

    def messages(self, **kwargs: Any) -> list[str]:
        """Every diagnostic as ``file:row:column: message``, in report order."""
        return [d.format() for d in self.load(**kwargs).sorted()]

    def run(
        self,
        *,
        policies: Mapping[str, CreditingPolicy] | None = None,
        default_policy: CreditingPolicy | None = None,
        breakpoints: Sequence[date] = (),
        period: tuple[date, date] = (date(2026, 1, 1), date(2026, 12, 31)),
        period_label: str = "2026",
    ) -> Aggregates:
        return aggregate(
            self.con,
            run_id="test-run",
            period_start=period[0],
            period_end=period[1],
            period_label=period_label,
            breakpoints=breakpoints,
            policies=policies,
            default_policy=default_policy,
        )

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        result: list[tuple[Any, ...]] = self.con.execute(sql).fetchall()
        return result


def make_workspace(root: Path) -> Workspace:
    """An empty workspace at ``root`` with the test PFS file as ``data/reference/pfs.csv``."""
    return Workspace(root=root, pfs=write_pfs(root / "data" / "reference" / "pfs.csv"))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")
