"""Physician statements: a view of the ledger, one per physician and period.

``total`` is the net pay into the physician's account; ``volume``, ``mixed`` and ``value`` split
it by the alignment of each posting (a withhold moves pay from volume to mixed);
``value_share`` = value ÷ total and ``value_linked_share`` = (mixed + value) ÷ total, to 4
decimal places (0 when the total is 0).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paycascade.ledger import ALIGNMENTS, Posting
from paycascade.money import ZERO, fmt_cents, plain_cents
from paycascade.plans.model import Physician

STATEMENT_COLUMNS = [
    "npi",
    "period",
    "total",
    "volume",
    "mixed",
    "value",
    "value_share",
    "value_linked_share",
    "name",
    "specialty",
    "plan",
    "fte",
    "clinical_fte",
]
_SHARE_Q = Decimal("0.0001")


@dataclass(frozen=True)
class Totals:
    total: int
    by_alignment: Mapping[str, int]

    def share(self, *alignments: str) -> Decimal:
        if self.total == 0:
            return ZERO.quantize(_SHARE_Q)
        part = sum(self.by_alignment.get(a, 0) for a in alignments)
        return (Decimal(part) / Decimal(self.total)).quantize(_SHARE_Q, ROUND_HALF_UP)


def totals_by_npi(postings: Iterable[Posting]) -> dict[str, Totals]:
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ALIGNMENTS, 0))
    for p in postings:
        if p.npi is None:
            continue
        net = p.net_to_physician
        if net == 0:
            sums[p.npi]
            continue
        alignment = p.alignment if p.alignment in ALIGNMENTS else "volume"
        sums[p.npi][alignment] += net
    return {npi: Totals(sum(v.values()), v) for npi, v in sums.items()}


def statement_rows(
    period: str, physicians: Sequence[Physician], totals: Mapping[str, Totals]
) -> list[list[str]]:
    rows = []
    for p in sorted(physicians, key=lambda x: x.npi):
        t = totals.get(p.npi, Totals(0, dict.fromkeys(ALIGNMENTS, 0)))
        rows.append(
            [
                p.npi,
                period,
                plain_cents(t.total),
                plain_cents(t.by_alignment["volume"]),
                plain_cents(t.by_alignment["mixed"]),
                plain_cents(t.by_alignment["value"]),
                str(t.share("value")),
                str(t.share("mixed", "value")),
                p.name,
                p.specialty,
                p.plan,
                str(p.fte),
                str(p.clinical_fte),
            ]
        )
    return rows


def statement_detail(
    *,
    run_id: str,
    period: str,
    physician: Physician,
    plan_name: str,
    plan_file: str,
    postings: Sequence[Posting],
    scorecards: Sequence[dict[str, Any]],
    wrvu: Mapping[str, Any],
    totals: Totals | None = None,
) -> dict[str, Any]:
    """Everything a statement shows, as plain JSON-able data (the JSON twin of every view).

    ``totals``: the physician's, when the caller has them (``totals_by_npi`` of the run)."""
    t = totals or totals_by_npi(postings).get(
        physician.npi, Totals(0, dict.fromkeys(ALIGNMENTS, 0))
    )
    lines = []
    for p in postings:
        lines.append(
            {
                "component": p.component,
                "kind": p.kind,
                "alignment": p.alignment,
                "quinn_method": p.quinn,
                "amount": plain_cents(p.net_to_physician),
                "segment_start": p.segment_start.isoformat(),
                "segment_end": p.segment_end.isoformat(),
                "explanation": p.explanation,
                "plan_file": p.plan_file,
                "plan_line": p.plan_line,
                "inputs": dict(p.inputs),
            }
        )
    return {
        "run_id": run_id,
        "period": period,
        "npi": physician.npi,
        "name": physician.name,
        "specialty": physician.specialty,
        "group": physician.group,
        "plan": physician.plan,
        "plan_name": plan_name,
        "plan_file": plan_file,
        "fte": str(physician.fte),
        "clinical_fte": str(physician.clinical_fte),
        "start_date": physician.start_date.isoformat() if physician.start_date else None,
        "end_date": physician.end_date.isoformat() if physician.end_date else None,
        "total": plain_cents(t.total),
        "volume": plain_cents(t.by_alignment["volume"]),
        "mixed": plain_cents(t.by_alignment["mixed"]),
        "value": plain_cents(t.by_alignment["value"]),
        "value_share": str(t.share("value")),
        "value_linked_share": str(t.share("mixed", "value")),
        "lines": lines,
        "scorecards": list(scorecards),
        "wrvu": dict(wrvu),
    }


def _cents(text: str) -> int:
    return int((Decimal(text) * 100).to_integral_value())


def _pct(text: str) -> str:
    return f"{(Decimal(text) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def render_text(s: Mapping[str, Any]) -> str:
    out = [
        f"paycascade statement — period {s['period']} — run {s['run_id']}",
        f"{s['name']} (NPI {s['npi']}) · {s['specialty']} · {s['group']}",
        f"Plan: {s['plan_name']} [{s['plan']}] — {s['plan_file']}",
        f"FTE {s['fte']} (clinical {s['clinical_fte']})"
        + (f" · started {s['start_date']}" if s.get("start_date") else "")
        + (f" · left {s['end_date']}" if s.get("end_date") else ""),
        "",
        "Pay lines",
    ]
    for line in s["lines"]:
        amount = fmt_cents(_cents(line["amount"]))
        out.append(
            f"  {line['component']:<22} {line['kind']:<18} {line['segment_start']}…{line['segment_end']}"
            f"  {amount:>15}  [{line['alignment']}]"
        )
        out.append(f"      {line['explanation']}")
        out.append(f"      rule: {line['plan_file']}:{line['plan_line']}")
    out += [
        "",
        f"  {'Total':<62}{fmt_cents(_cents(s['total'])):>15}",
        f"  volume {fmt_cents(_cents(s['volume']))} · mixed {fmt_cents(_cents(s['mixed']))} · "
        f"value {fmt_cents(_cents(s['value']))}",
        f"  value share {_pct(s['value_share'])} · value-linked share (mixed + value) "
        f"{_pct(s['value_linked_share'])}",
    ]
    for card in s["scorecards"]:
        out += [
            "",
            f"Scorecard {card['scorecard']}: composite {card['composite']} ({card['basis']})",
            f"  {card['explanation']}",
        ]
        for m in card["measures"]:
            rate = "—" if m["rate"] is None else _pct(m["rate"])
            out.append(
                f"  {m['measure']:<28} {m['numerator']:>8}/{m['denominator']:<8} rate {rate:>7}  "
                f"weight {m['weight']:>4}  points {m['points'] or '—':>8}"
            )
            if m.get("reliability") is not None:
                raw = "—" if m.get("raw_rate") is None else _pct(m["raw_rate"])
                out.append(
                    f"      raw rate {raw} · reliability {m['reliability']} · empirical-Bayes "
                    f"rate {rate} (points are on the empirical-Bayes rate)"
                )
            out.append(f"      {m['reason']}")
    out += _line_of_sight_text(s)
    out += _fmv_text(s)
    out += _findings_text(s)
    wrvu = s.get("wrvu") or {}
    if wrvu.get("total") is not None:
        out += ["", f"wRVU: {wrvu['total']} from {wrvu.get('lines', 0):,} lines"]
        for code in wrvu.get("top_codes", []):
            out.append(f"  {code['hcpcs']:<8} {code['lines']:>6} lines  {code['wrvu']:>10} wRVU")
        for adj in wrvu.get("adjustments", []):
            out.append(
                f"  adjustment {adj['adjustment']}: {adj['lines']} lines, {adj['wrvu_effect']} wRVU"
            )
    return "\n".join(out) + "\n"


def _line_of_sight_text(s: Mapping[str, Any]) -> list[str]:
    """What the system's payer contracts earned, where it went, and this physician's part."""
    contracts = s.get("line_of_sight") or []
    if not contracts:
        return []
    authorized = s.get("pass_through_authorized")
    out = [
        "",
        "Line of sight: the system's payer contracts this period"
        + (
            ""
            if authorized is None
            else f" (your agreement {'authorizes' if authorized else 'does not authorize'} pass-through)"
        ),
    ]
    for c in contracts:
        ratio = c["pass_through_ratio"]
        shown = _pct(ratio) if ratio else "—"
        out.append(
            f"  {c['contract']:<16} {c['kind']:<15} result {fmt_cents(_cents(c['result'])):>16}; "
            f"kept by the system {fmt_cents(_cents(c['retained']))}; to physicians "
            f"{fmt_cents(_cents(c['to_physicians']))} ({shown})"
        )
        for pool in c["pools"]:
            out.append(
                f"      {pool['pool']}: {fmt_cents(_cents(pool['from_contract']))} from this contract; "
                f"your share {fmt_cents(_cents(pool['your_share']))} — {pool['reason']}"
            )
    return out


def _fmv_text(s: Mapping[str, Any]) -> list[str]:
    fmv = s.get("fmv")
    if not fmv:
        return []
    out = [
        "",
        f"Fair market value position ({fmv.get('survey') or 'survey'})",
        f"  pay ${fmv['tcc_annual_per_fte']} a year per FTE: percentile {fmv['tcc_percentile']} "
        f"(band {fmv['band']})",
    ]
    if fmv.get("wrvu_percentile") is not None:
        out.append(
            f"  production {fmv['wrvu_annual_per_cfte']} wRVU a year per clinical FTE: percentile "
            f"{fmv['wrvu_percentile']}; comp per wRVU ${fmv['comp_per_wrvu']}: percentile "
            f"{fmv['comp_per_wrvu_percentile']}"
        )
    return out


def _findings_text(s: Mapping[str, Any]) -> list[str]:
    findings = s.get("findings")
    if findings is None:
        return []
    if not findings:
        return ["", "Compliance flags: none"]
    out = ["", "Compliance flags (flags for review, not verdicts)"]
    for f in findings:
        out.append(f"  [{f['severity']}] {f['code']}: {f['message']}")
        evidence = ", ".join(f"{k} {v}" for k, v in sorted(f["evidence"].items()))
        out.append(f"      evidence: {evidence}")
        out.append(f"      rule: {f['source']}")
    return out
