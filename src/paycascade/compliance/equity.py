"""Equity: measure rates stratified by patient social risk, with the gaps per physician and group.

Quality rows may carry a ``stratum``: ``dual`` / ``non_dual`` (Medicare-Medicaid dual
eligibility) or ``adi_high`` / ``adi_low`` (area deprivation index).  For each pair the gap is
the rate of the advantaged stratum minus the rate of the disadvantaged one, oriented so that a
positive gap means worse care for the socially at-risk patients (for a lower-is-better measure
the sign is reversed).  A gap of at least 10 points with at least 20 patients in each stratum is
flagged, per physician (EQUITY_GAP) and per group, pooling the group's rows (EQUITY_GROUP_GAP).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from paycascade.compliance.findings import Finding, finding

PAIRS = (("dual", "non_dual", "dual eligibility"), ("adi_high", "adi_low", "area deprivation"))
STRATA = tuple(s for pair in PAIRS for s in pair[:2])
MIN_STRATUM = Decimal(20)
GAP = Decimal("0.10")
_Q = Decimal("0.0001")


@dataclass(frozen=True)
class StratumRow:
    npi: str
    group: str
    measure: str
    stratum: str
    numerator: Decimal
    denominator: Decimal


def _gap(
    rows: Mapping[str, tuple[Decimal, Decimal]], direction: str
) -> list[tuple[str, str, str, Decimal, Decimal, Decimal, Decimal, Decimal]]:
    """(disadvantaged, advantaged, label, gap, rate_d, rate_a, den_d, den_a) per flagged pair."""
    out = []
    for disadvantaged, advantaged, label in PAIRS:
        if disadvantaged not in rows or advantaged not in rows:
            continue
        (nd, dd), (na, da) = rows[disadvantaged], rows[advantaged]
        if dd < MIN_STRATUM or da < MIN_STRATUM:
            continue
        rate_d, rate_a = nd / dd, na / da
        gap = rate_a - rate_d if direction == "higher" else rate_d - rate_a
        if gap >= GAP:
            out.append((disadvantaged, advantaged, label, gap, rate_d, rate_a, dd, da))
    return out


def _evidence(
    measure: str, hit: tuple[str, str, str, Decimal, Decimal, Decimal, Decimal, Decimal]
) -> dict[str, object]:
    d, a, _, gap, rate_d, rate_a, den_d, den_a = hit
    return {
        "measure": measure,
        f"{d}_rate": rate_d.quantize(_Q, ROUND_HALF_UP),
        f"{a}_rate": rate_a.quantize(_Q, ROUND_HALF_UP),
        f"{d}_denominator": den_d.normalize(),
        f"{a}_denominator": den_a.normalize(),
        "gap_points": (gap * 100).quantize(Decimal("0.1"), ROUND_HALF_UP),
    }


def equity_findings(rows: Sequence[StratumRow], directions: Mapping[str, str]) -> list[Finding]:
    """Gaps per physician and per group (see the module docstring)."""
    per_npi: dict[tuple[str, str], dict[str, tuple[Decimal, Decimal]]] = {}
    per_group: dict[tuple[str, str], dict[str, tuple[Decimal, Decimal]]] = {}
    for r in rows:
        if r.stratum not in STRATA:
            continue
        for table, key in ((per_npi, (r.npi, r.measure)), (per_group, (r.group, r.measure))):
            cell = table.setdefault(key, {})
            n0, d0 = cell.get(r.stratum, (Decimal(0), Decimal(0)))
            cell[r.stratum] = (n0 + r.numerator, d0 + r.denominator)
    out: list[Finding] = []
    for (npi, measure), strata in sorted(per_npi.items()):
        for hit in _gap(strata, directions.get(measure, "higher")):
            out.append(
                finding(
                    "EQUITY_GAP",
                    "review",
                    "physician",
                    npi,
                    f"{measure}: {hit[2]} gap of {(hit[3] * 100).quantize(Decimal('0.1'))} points "
                    f"({hit[0]} {(hit[4] * 100).quantize(Decimal('0.1'))}% vs {hit[1]} "
                    f"{(hit[5] * 100).quantize(Decimal('0.1'))}%)",
                    _evidence(measure, hit),
                )
            )
    for (group, measure), strata in sorted(per_group.items()):
        for hit in _gap(strata, directions.get(measure, "higher")):
            out.append(
                finding(
                    "EQUITY_GROUP_GAP",
                    "review",
                    "group",
                    group,
                    f"{measure}: group {hit[2]} gap of "
                    f"{(hit[3] * 100).quantize(Decimal('0.1'))} points ({hit[0]} "
                    f"{(hit[4] * 100).quantize(Decimal('0.1'))}% vs {hit[1]} "
                    f"{(hit[5] * 100).quantize(Decimal('0.1'))}%)",
                    _evidence(measure, hit),
                )
            )
    return out
