"""The demo system's payer-contract results: ``contract_performance`` and ``episodes``.

Synthetic, deterministic figures sized to a 300-clinician system (scaled by its size):

* an MSSP ENHANCED ACO (benchmark and expenditures of its assigned beneficiaries);
* a commercial shared-savings contract;
* a Medicare Advantage capitation contract (PMPM revenue against medical cost);
* a lower-extremity joint replacement bundle, one episode per primary hip or knee replacement
  (CPT 27130, 27447) the demo's orthopedic surgeons billed, with a synthetic episode spend.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import numpy as np

from paycascade.pipelines.duck import file_path

CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_UP))


def write_contract_data(root: Path, *, seed: int, year: int, clinicians: int) -> dict[str, int]:
    """Write ``data/contract_performance.csv`` and ``data/episodes.csv``; rows per table."""
    scale = Decimal(clinicians) / Decimal(300)
    period = str(year)
    beneficiaries = (Decimal(21400) * scale).to_integral_value()
    benchmark = beneficiaries * Decimal("13012.40")
    rows = [
        # MSSP ENHANCED: 4.1% below benchmark, quality standard met.
        ("mssp-aco", "assigned_beneficiaries", beneficiaries),
        ("mssp-aco", "benchmark", benchmark.quantize(CENT)),
        ("mssp-aco", "expenditures", (benchmark * Decimal("0.9590")).quantize(CENT)),
        ("mssp-aco", "quality_score", Decimal("0.8240")),
        ("mssp-aco", "met_quality_standard", Decimal(1)),
        # Commercial shared savings: 2.6% below a $96M-per-300-clinicians target.
        ("commercial-ss", "benchmark", (Decimal(96_000_000) * scale).quantize(CENT)),
        ("commercial-ss", "expenditures", (Decimal(93_504_000) * scale).quantize(CENT)),
        ("commercial-ss", "quality_score", Decimal("0.9100")),
        # Medicare Advantage capitation: PMPM × member months × risk vs medical cost.
        ("ma-capitation", "member_months", (Decimal(96_000) * scale).to_integral_value()),
        ("ma-capitation", "risk_score", Decimal("1.0800")),
        ("ma-capitation", "medical_cost", (Decimal(105_520_000) * scale).quantize(CENT)),
        # Joint replacement bundle: the composite quality score of its episodes.
        ("lejr-bundle", "quality_score", Decimal("0.8800")),
    ]
    data = root / "data"
    with (data / "contract_performance.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["contract_id", "period", "metric", "value"])
        for contract, metric, value in rows:
            writer.writerow([contract, period, metric, str(value)])
    episodes = _episodes(root, seed=seed, year=year)
    with (data / "episodes.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(
            ["contract_id", "episode_id", "npi", "start_date", "actual_spend", "episode_type"]
        )
        writer.writerows(episodes)
    return {"contract_performance": len(rows), "episodes": len(episodes)}


def _episodes(root: Path, *, seed: int, year: int) -> list[list[str]]:
    """One episode per paid primary hip/knee replacement line of the year, in a fixed order."""
    con = duckdb.connect()
    try:
        found = con.execute(
            """
            select npi, service_date, hcpcs
            from read_parquet(?)
            where hcpcs in ('27130', '27447') and coalesce(status, 'paid') = 'paid'
              and (modifiers is null or not (modifiers like '%80%' or modifiers like '%62%'))
              and year(service_date) = ?
            order by npi, service_date, hcpcs
            """,
            [file_path(root / "data" / "encounters.parquet"), year],
        ).fetchall()
    finally:
        con.close()
    rng = np.random.default_rng([seed, 47])
    # Episode spend: around $27,400 (90-day LEJR episode, synthetic), spread ±12%.
    cents = (rng.normal(27_400, 3_300, size=len(found)).clip(19_000, 42_000) * 100).round()
    out = []
    for i, ((npi, day, code), spend) in enumerate(zip(found, cents.astype(np.int64), strict=True)):
        kind = "hip" if code == "27130" else "knee"
        amount = _money(Decimal(int(spend)) / 100)
        out.append(["lejr-bundle", f"LEJR-{year}-{i + 1:05d}", npi, day.isoformat(), amount, kind])
    return out
