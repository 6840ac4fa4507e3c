"""The run summary: what was paid, how much of it is linked to value, and where the files are."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from paycascade.ledger import ALIGNMENTS
from paycascade.money import fmt_cents
from paycascade.runner import RunResult

# Reid RO, Friedberg MW, et al. JAMA Health Forum 2022;3(1):e214634 (seed 001 §1): share of
# compensation tied to quality and cost, primary care vs specialists.
NATIONAL_VALUE_SHARE = {"primary care": "9%", "specialists": "5%"}
PRIMARY_CARE = frozenset(
    {
        "Family Medicine",
        "Internal Medicine",
        "Pediatrics",
        "General Internal Medicine",
        "Geriatric Medicine",
        "Nurse Practitioner",
        "Physician Assistant",
    }
)


def _national(specialty: str) -> str:
    return NATIONAL_VALUE_SHARE["primary care" if specialty in PRIMARY_CARE else "specialists"]


def _pct(part: int, whole: int) -> str:
    if whole == 0:
        return "—"
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def summarize(result: RunResult) -> str:
    by_specialty: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in result.physicians:
        t = result.totals.get(p.npi)
        row = by_specialty[p.specialty]
        row["n"] += 1
        if t is None:
            continue
        row["total"] += t.total
        for a in ALIGNMENTS:
            row[a] += t.by_alignment.get(a, 0)
    system = {k: sum(r[k] for r in by_specialty.values()) for k in ("n", "total", *ALIGNMENTS)}
    lines = [
        f"{result.workspace.organization} — period {result.period.label} — run {result.run_id}",
        f"{system['n']} clinicians on {len(result.plans)} plans; total pay {fmt_cents(system['total'])}",
        "",
        f"{'specialty':<28}{'n':>4}{'total pay':>18}{'volume':>9}{'mixed':>8}{'value':>8}"
        f"{'value-linked':>14}{'national':>10}",
    ]
    for name in sorted(by_specialty):
        r = by_specialty[name]
        lines.append(
            f"{name:<28}{r['n']:>4}{fmt_cents(r['total']):>18}{_pct(r['volume'], r['total']):>9}"
            f"{_pct(r['mixed'], r['total']):>8}{_pct(r['value'], r['total']):>8}"
            f"{_pct(r['mixed'] + r['value'], r['total']):>14}{_national(name):>10}"
        )
    lines.append(
        f"{'system':<28}{system['n']:>4}{fmt_cents(system['total']):>18}"
        f"{_pct(system['volume'], system['total']):>9}{_pct(system['mixed'], system['total']):>8}"
        f"{_pct(system['value'], system['total']):>8}"
        f"{_pct(system['mixed'] + system['value'], system['total']):>14}"
    )
    lines += [
        "value-linked = mixed (quality incentives, withhold paybacks) + value (panel, non-clinical);",
        "national reference: 9% of primary-care and 5% of specialist pay tied to value "
        "(Reid et al., JAMA Health Forum 2022).",
    ]
    lines += _contracts(result)
    pools = _pools(result)
    if pools:
        lines += ["", "pools (every pool balances to the cent):"]
        lines += pools
    lines += _findings(result)
    if result.warnings:
        lines += ["", f"{len(result.warnings)} warning(s):"]
        lines += [f"  {d.format()}" for d in result.warnings.sorted()[:20]]
    rows = ", ".join(f"{k} {v:,}" for k, v in sorted(result.rows_read.items()))
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
    stages += f" (total {sum(result.timings.values()):.2f}s)"
    lines += [
        "",
        f"rows read: {rows}",
        f"time: {stages}",
        f"files: {result.out_dir}/ (ledger.csv, statements.csv, contracts.csv, cascade.csv, findings.csv, "
        "statements.json, run.json)",
    ]
    return "\n".join(lines)


def _contracts(result: RunResult) -> list[str]:
    if not result.contracts:
        return []
    out = [
        "",
        "payer contracts (result → retained / reserve / infrastructure / pools → physicians):",
    ]
    for c in result.contracts:
        f = result.flows.get(c.contract_id, {})
        ratio = _pct(f.get("to_physicians", 0), c.result_cents) if c.result_cents > 0 else "—"
        flag = "" if c.determinable else " (bound: not determinable from the inputs)"
        out.append(
            f"  {c.contract_id:<16} {c.kind:<15} result {fmt_cents(c.result_cents):>16}{flag}; "
            f"retained {fmt_cents(f.get('retained', 0))}, reserve {fmt_cents(f.get('reserve', 0))}, "
            f"infrastructure {fmt_cents(f.get('infrastructure', 0))}, pools "
            f"{fmt_cents(f.get('to_pools', 0))}; to physicians {fmt_cents(f.get('to_physicians', 0))} "
            f"— pass-through {ratio}"
        )
    total = sum(c.result_cents for c in result.contracts)
    passed = sum(
        result.flows.get(c.contract_id, {}).get("to_physicians", 0) for c in result.contracts
    )
    out.append(
        f"  all contracts: {fmt_cents(total)}; to physicians {fmt_cents(passed)} — pass-through {_pct(passed, total)}"
    )
    return out


def _pools(result: RunResult) -> list[str]:
    """Every pool: what came in, and where it went (physicians or the system)."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in result.computation.postings:
        if p.destination.startswith("pool:"):
            side = "from physicians" if p.source.startswith("physician:") else "funded"
            sums[p.destination][side] += p.amount_cents
        if p.source.startswith("pool:"):
            if p.destination.startswith("physician:"):
                key = {"withhold_payout": "paid back", "withhold_bonus": "bonus"}.get(
                    p.kind, "to physicians"
                )
            else:
                key = "retained"
            sums[p.source][key] += p.amount_cents
    out = []
    for pool in sorted(sums):
        s = sums[pool]
        if s["from physicians"]:
            out.append(
                f"  {pool}: withheld {fmt_cents(s['from physicians'])} = paid back "
                f"{fmt_cents(s['paid back'])} + bonus {fmt_cents(s['bonus'])} + retained "
                f"{fmt_cents(s['retained'])}"
            )
        else:
            out.append(
                f"  {pool}: funded {fmt_cents(s['funded'])} = to physicians "
                f"{fmt_cents(s['to physicians'])} + retained {fmt_cents(s['retained'])} "
                "(ineligible or no pass-through authorization)"
            )
    return out


def _findings(result: RunResult, shown: int = 5) -> list[str]:
    """Compliance findings: counts by code and severity, and the first few high ones."""
    if not result.findings:
        return ["", "compliance findings: none (flags for human review, never verdicts)"]
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for f in result.findings:
        counts[(f.severity, f.code)] += 1
    by_severity = {
        sev: sum(n for (s, _), n in counts.items() if s == sev)
        for sev in ("high", "review", "info")
    }
    out = [
        "",
        f"compliance findings: {len(result.findings)} (high {by_severity['high']}, review "
        f"{by_severity['review']}, info {by_severity['info']}) — flags for human review, never "
        "verdicts; see findings.csv",
    ]
    order = {"high": 0, "review": 1, "info": 2}
    for (sev, code), n in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        out.append(f"  {sev:<7}{code:<34}{n:>4}")
    high = [f for f in result.findings if f.severity == "high"][:shown]
    if high:
        out.append("  first high-severity findings:")
        out += [f"    [{f.code}] {f.subject_kind} {f.subject}: {f.message}" for f in high]
    return out
