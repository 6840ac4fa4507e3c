"""Gather what the guardrails read from a computed run and run every family of checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from paycascade.compliance.equity import StratumRow, equity_findings
from paycascade.compliance.findings import Finding, ordered
from paycascade.compliance.fmv import (
    FmvPosition,
    PayFacts,
    benchmark_findings,
    fmv_findings,
    survey_from_rows,
)
from paycascade.compliance.gaming import (
    ESTABLISHED_VISITS,
    HIGHEST_LEVEL,
    NEW_VISITS,
    EmShare,
    MeasureRow,
    em_findings,
    exclusion_findings,
    prior_label,
)
from paycascade.compliance.reliability import reliability_findings
from paycascade.compliance.stark import run_stark, static_stark
from paycascade.periods import overlap_days
from paycascade.pipelines.views import exact, to_plan_data

if TYPE_CHECKING:
    import duckdb

    from paycascade.runner import Loaded, Outcome

ZERO = Decimal(0)


@dataclass
class Review:
    findings: list[Finding]
    fmv: dict[str, FmvPosition] = field(default_factory=dict)

    _by_physician: dict[str, list[Finding]] | None = field(default=None, init=False, repr=False)

    def for_physician(self, npi: str) -> list[dict[str, object]]:
        """The findings about one physician, in the order of ``findings``."""
        if self._by_physician is None:
            index: dict[str, list[Finding]] = {}
            for f in self.findings:
                if f.subject_kind == "physician":
                    index.setdefault(f.subject, []).append(f)
            self._by_physician = index
        return [f.as_dict() for f in self._by_physician.get(npi, [])]


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [table]
    ).fetchone()
    return bool(row and row[0])


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {str(r[0]) for r in con.execute(f'describe "{table}"').fetchall()}


def _rows(table: Any) -> list[dict[str, Any]]:
    return [] if table is None else list(table.to_pylist())


#: the codes whose lines the aggregation counts for the guardrails (``mart_code_lines``)
COUNTED_CODES = NEW_VISITS + ESTABLISHED_VISITS


def em_shares(aggs: Any, specialty: dict[str, str]) -> list[EmShare]:
    """Level-5 and all office E/M visits per physician, in the period and before it.

    From ``mart_code_lines``: lines not denied or void, of the E/M codes."""
    counts: dict[str, list[int]] = {}
    for r in _rows(getattr(aggs, "code_lines", None)):
        npi, code = str(r["npi"]), str(r["hcpcs"])
        if code not in COUNTED_CODES or npi not in specialty:
            continue
        c = counts.setdefault(npi, [0, 0, 0, 0])
        base = 0 if r["when"] == "period" else 2
        n = int(r["lines"])
        c[base + 1] += n
        if code in HIGHEST_LEVEL:
            c[base] += n
    return [EmShare(npi, specialty[npi], *counts[npi]) for npi in sorted(counts)]


def _prior_quality(con: duckdb.DuckDBPyConnection, label: str) -> dict[tuple[str, str], MeasureRow]:
    if not _has(con, "stg_quality"):
        return {}
    cols = _columns(con, "stg_quality")
    if "period" not in cols:
        return {}
    labels = [
        str(r[0])
        for r in con.execute(
            "select distinct period from stg_quality where period is not null"
        ).fetchall()
    ]
    prior = prior_label(label, labels)
    if prior is None:
        return {}
    stratum = "and stratum is null" if "stratum" in cols else ""
    query = f"""
        select npi, measure, sum(numerator), sum(denominator), sum(coalesce(exclusions, 0))
        from stg_quality where period = ? {stratum}
        group by npi, measure order by npi, measure
    """
    return {
        (str(n), str(m)): MeasureRow(str(n), str(m), exact(x), exact(d), exact(e))
        for n, m, x, d, e in con.execute(query, [prior]).fetchall()
    }


def _survey(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    if not _has(con, "stg_fmv_survey"):
        return {}
    cur = con.execute("select * from stg_fmv_survey order by specialty, percentile, source_row")
    names = [d[0] for d in cur.description]
    return survey_from_rows(dict(zip(names, row, strict=True)) for row in cur.fetchall())


def review_run(loaded: Loaded, outcome: Outcome) -> Review:
    period = loaded.period
    people = loaded.physicians
    aggs = outcome.aggs
    # the values the components read (summed over date buckets), not a second reading of the marts
    data = outcome.data if outcome.data is not None else to_plan_data(aggs, [])
    own: dict[str, Decimal] = {}
    app: dict[str, Decimal] = {}
    for source, target in ((data.wrvu, own), (data.app_wrvu, app)):
        for (npi, _), wrvu in source.items():
            target[npi] = target.get(npi, ZERO) + wrvu
    year_days = (date(period.start.year + 1, 1, 1) - date(period.start.year, 1, 1)).days
    facts = []
    for p in people:
        days = overlap_days(period.start, period.end, p.start_date, p.end_date)
        if days <= 0:
            continue
        totals = outcome.totals.get(p.npi)
        facts.append(
            PayFacts(
                npi=p.npi,
                specialty=p.specialty,
                provider_type=p.provider_type,
                fte=p.fte,
                clinical_fte=p.clinical_fte,
                tcc_cents=0 if totals is None else totals.total,
                wrvu=own.get(p.npi),
                annual_factor=Decimal(year_days) / Decimal(days),
            )
        )
    found: list[Finding] = []
    fmv, positions = fmv_findings(facts, _survey(loaded.con))
    found += fmv
    found += benchmark_findings(facts)
    found += static_stark(loaded.plans, loaded.contracts)
    found += run_stark(people, outcome.computation.postings, app, loaded.plans)
    quality = data.quality
    found += reliability_findings(loaded.plans, people, quality)
    specialty = {p.npi: p.specialty for p in people}
    found += em_findings(em_shares(aggs, specialty))
    current = [MeasureRow(n, m, *v) for (n, m), v in sorted(quality.items()) if n in specialty]
    found += exclusion_findings(current, _prior_quality(loaded.con, period.label))
    groups = {p.npi: p.group for p in people}
    strata = [
        StratumRow(
            str(r["npi"]),
            groups.get(str(r["npi"]), ""),
            str(r["measure"]),
            str(r["stratum"]),
            exact(r["numerator"]),
            exact(r["denominator"]),
        )
        for r in _rows(getattr(aggs, "quality_strata", None))
        if str(r["npi"]) in groups
    ]
    directions: dict[str, str] = {}
    for plan_id in sorted(loaded.plans):
        for card_id in sorted(loaded.plans[plan_id].scorecards):
            for m in loaded.plans[plan_id].scorecards[card_id].measures:
                directions.setdefault(m.id, m.direction)
    found += equity_findings(strata, directions)
    return Review(ordered(found), positions)
