"""The value-penalty simulator (DOMAIN.md §7): one practice change, three sides, each plan.

For chosen physicians and a practice change — fewer of given services by a percentage,
avoided admissions, a site-of-service shift — it computes side by side:

* **the physician**, under each plan: the change in credited wRVUs and in pay, of which the
  change in contract pass-through (the engine computes both, exactly, from the changed
  aggregates);
* **the facility**: technical revenue lost — per unit, the PFS technical-component (``TC``)
  row's non-facility total RVU × its conversion factor, or your own ``technical`` table
  (e.g. OPPS rates); without a TC row, the global row's non-facility total less the ``26``
  row's facility total; for admissions the DRG payment you give;
* **the payer**: spending avoided — per unit, the professional (``26``) row's facility total
  plus the technical payment (a code without a PC/TC split: its global facility total); the
  admissions' DRG payments; the site-shift difference.  ``contract_share`` of that lands in a
  payer contract's expenditures, which is re-settled, and its pools re-distributed.

Reductions apply to the physician's credited wRVUs and units of the code as the aggregation
pipeline credited them (under their current plan's crediting rules), spread over the period's
buckets in proportion to their wRVUs.  Payer savings are rounded to the cent.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from paycascade.diagnostics import Diagnostics, PaycascadeError
from paycascade.money import CENT, D, to_cents

ZERO = Decimal(0)
WRVU_PLACES = Decimal("1e-12")


@dataclass(frozen=True)
class Price:
    """What one unit of a code pays (dollars): physician professional, facility technical."""

    hcpcs: str
    work_rvu: Decimal
    professional: Decimal
    technical: Decimal

    @property
    def payer(self) -> Decimal:
        return self.professional + self.technical


def pfs_prices(path: Path, codes: Sequence[str]) -> dict[str, Price]:
    """Prices of ``codes`` from a CMS PPRRVU file (rows with MOD blank, 26 and TC)."""
    wanted = set(codes)
    rows: dict[tuple[str, str], dict[str, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            code = (row.get("HCPCS") or "").strip()
            if code in wanted:
                rows[(code, (row.get("MOD") or "").strip())] = row
    prices = {}
    for code in codes:
        glob, prof, tech = rows.get((code, "")), rows.get((code, "26")), rows.get((code, "TC"))
        if glob is None and prof is None:
            continue
        base = prof or glob
        assert base is not None
        cf = D(base["CONV_FACTOR"])
        if prof is not None and tech is not None:
            professional = D(prof["FACILITY_TOTAL"]) * cf
            technical = D(tech["NON_FACILITY_TOTAL"]) * cf
        elif prof is not None and glob is not None:  # no TC row: global less professional
            professional = D(prof["FACILITY_TOTAL"]) * cf
            technical = (D(glob["NON_FACILITY_TOTAL"]) - D(prof["FACILITY_TOTAL"])) * cf
        else:
            professional = D(base["FACILITY_TOTAL"]) * cf
            technical = ZERO
        prices[code] = Price(code, D(base["WORK_RVU"]), professional, technical)
    return prices


@dataclass(frozen=True)
class Practice:
    """The practice change."""

    fewer: tuple[tuple[str, Decimal], ...] = ()  # (hcpcs, fraction 0–1 of its units)
    avoided_admissions: Decimal = ZERO
    drg_payment: Decimal = ZERO  # dollars per admission (facility revenue = payer spending)
    shift_count: Decimal = ZERO  # services moved to a lower-cost site
    shift_from: Decimal = ZERO  # payer cost per service at the old site (dollars)
    shift_to: Decimal = ZERO  # … at the new site
    shift_facility_loss: bool = True  # the old site was the system's facility
    technical: Mapping[str, Decimal] = field(default_factory=dict)  # hcpcs → $ per unit
    contract: str | None = None
    contract_share: Decimal = Decimal(1)


@dataclass(frozen=True)
class ServiceChange:
    hcpcs: str
    units: Decimal
    wrvu: Decimal
    technical_cents: int
    payer_cents: int


@dataclass(frozen=True)
class PlanSide:
    plan: str
    wrvu_before: Decimal
    wrvu_after: Decimal
    pay_before: int
    pay_after: int
    pass_through_before: int
    pass_through_after: int

    @property
    def pay_delta(self) -> int:
        return self.pay_after - self.pay_before

    @property
    def pass_through_delta(self) -> int:
        return self.pass_through_after - self.pass_through_before


@dataclass(frozen=True)
class Simulation:
    npis: tuple[str, ...]
    services: tuple[ServiceChange, ...]
    facility_delta: int  # technical / DRG revenue change of the facility (cents, ≤ 0)
    payer_delta: int  # payer spending change (cents, ≤ 0)
    contract: str | None
    contract_expenditure_delta: int
    settlement_before: int
    settlement_after: int
    plans: tuple[PlanSide, ...]

    @property
    def settlement_delta(self) -> int:
        return self.settlement_after - self.settlement_before


def _fail(*messages: str) -> PaycascadeError:
    diags = Diagnostics()
    for message in messages:
        diags.add("simulate", None, message)
    return PaycascadeError(diags)


def simulate(
    loaded: Any,
    npis: Sequence[str],
    practice: Practice,
    plans: Sequence[str] = (),
    baseline: Any = None,
) -> Simulation:
    """Simulate ``practice`` for physicians ``npis`` under each of ``plans`` (default: the
    plans they are on)."""
    from paycascade.runner import compute_outcome

    people = {p.npi: p for p in loaded.physicians}
    problems: list[str] = []  # every one of them at once
    missing = [n for n in npis if n not in people]
    if missing or not npis:
        problems.append(
            f"no physician with NPI {', '.join(missing)}" if missing else "no physicians"
        )
    chosen = sorted(n for n in set(npis) if n in people)
    plan_ids = list(plans) or sorted({people[n].plan for n in chosen})
    unknown = [p for p in plan_ids if p not in loaded.plans]
    if unknown:
        known = ", ".join(sorted(loaded.plans))
        problems.append(f"unknown plan {', '.join(unknown)} (plans: {known})")
    if practice.contract is not None and practice.contract not in loaded.contracts:
        problems.append(f"unknown contract '{practice.contract}'")
    for code, fraction in practice.fewer:
        if not ZERO <= fraction <= 1:
            problems.append(f"the reduction of {code} must be a fraction 0–1, not {fraction}")
    if problems:
        raise _fail(*problems)
    base = baseline if baseline is not None else compute_outcome(loaded)
    aggs = base.aggs
    services = _services(loaded, aggs, chosen, practice)
    facility = sum(s.technical_cents for s in services)
    payer = sum(s.payer_cents for s in services)
    admissions = to_cents(practice.avoided_admissions * practice.drg_payment)
    facility -= admissions
    payer -= admissions
    shift = to_cents(practice.shift_count * (practice.shift_from - practice.shift_to))
    payer -= shift
    if practice.shift_facility_loss:
        facility -= to_cents(practice.shift_count * practice.shift_from)
    expenditure_delta = 0
    if practice.contract is not None:
        expenditure_delta = to_cents(Decimal(payer) * practice.contract_share / 100)
    changed = replace(
        aggs,
        wrvu=_reduce_wrvu(aggs.wrvu, chosen, practice, aggs),
        contract_performance=_reduce_spend(
            aggs.contract_performance, practice.contract, expenditure_delta, loaded.period.label
        ),
    )
    sides = []
    settle_before = settle_after = 0
    for plan_id in plan_ids:
        moved = [replace(p, plan=plan_id) if p.npi in chosen else p for p in loaded.physicians]
        before = compute_outcome(loaded, physicians=moved, aggs=aggs)
        after = compute_outcome(loaded, physicians=moved, aggs=changed)
        sides.append(
            PlanSide(
                plan_id,
                _wrvu(aggs, chosen),
                _wrvu(changed, chosen),
                sum(before.totals[n].total for n in chosen if n in before.totals),
                sum(after.totals[n].total for n in chosen if n in after.totals),
                _pass_through(before, chosen),
                _pass_through(after, chosen),
            )
        )
        if practice.contract is not None:
            settle_before = _result(before, practice.contract)
            settle_after = _result(after, practice.contract)
    return Simulation(
        tuple(chosen),
        tuple(services),
        facility,
        payer,
        practice.contract,
        expenditure_delta,
        settle_before,
        settle_after,
        tuple(sides),
    )


def _services(
    loaded: Any, aggs: Any, npis: Sequence[str], practice: Practice
) -> list[ServiceChange]:
    codes = [c for c, _ in practice.fewer]
    prices = pfs_prices(loaded.workspace.pfs, codes) if codes and loaded.workspace.pfs else {}
    by_code: dict[str, tuple[Decimal, Decimal]] = {}
    chosen = set(npis)
    for r in aggs.wrvu_codes.to_pylist():
        if str(r["npi"]) in chosen:
            units, wrvu = by_code.get(str(r["hcpcs"]), (ZERO, ZERO))
            by_code[str(r["hcpcs"])] = (units + D(r["units"]), wrvu + D(r["wrvu"]))
    problems = [
        f"the physicians billed no {code} in the period"
        if code not in by_code
        else f"{code} is not in the PFS file {loaded.workspace.pfs}"
        for code, _ in practice.fewer
        if code not in by_code or (code not in prices and code not in practice.technical)
    ]
    if problems:
        raise _fail(*problems)
    out = []
    for code, fraction in practice.fewer:
        price = prices.get(code)
        units, wrvu = by_code[code]
        cut_units = units * fraction
        technical = practice.technical.get(code, price.technical if price else ZERO)
        professional = price.professional if price else ZERO
        out.append(
            ServiceChange(
                code,
                cut_units,
                (wrvu * fraction).quantize(WRVU_PLACES, ROUND_HALF_UP),
                -to_cents(cut_units * technical),
                -to_cents(cut_units * (professional + technical)),
            )
        )
    return out


def _reduce_wrvu(table: pa.Table, npis: Sequence[str], practice: Practice, aggs: Any) -> pa.Table:
    """The wRVU table less each physician's cut (their credited wRVUs of the code × the
    reduction), spread over their buckets in proportion to the bucket's wRVUs."""
    chosen = set(npis)
    fractions = dict(practice.fewer)
    cut: dict[str, Decimal] = {}
    for r in aggs.wrvu_codes.to_pylist():
        npi, code = str(r["npi"]), str(r["hcpcs"])
        if npi in chosen and code in fractions:
            cut[npi] = cut.get(npi, ZERO) + D(r["wrvu"]) * fractions[code]
    rows = table.to_pylist()
    for npi, amount in cut.items():
        own = [r for r in rows if str(r["npi"]) == npi and r.get("source") != "app_supervision"]
        total = sum((D(r["wrvu"]) for r in own), ZERO)
        left = amount.quantize(WRVU_PLACES, ROUND_HALF_UP)
        for i, r in enumerate(own):
            part = left
            if i < len(own) - 1 and total:
                part = (amount * D(r["wrvu"]) / total).quantize(WRVU_PLACES, ROUND_HALF_UP)
            r["wrvu"] = D(r["wrvu"]) - part
            left -= part
    return pa.Table.from_pylist(rows, schema=table.schema)


def _reduce_spend(table: pa.Table, contract: str | None, delta: int, period: str) -> pa.Table:
    if contract is None or delta == 0:
        return table
    rows = table.to_pylist()
    found = False
    for r in rows:
        if r["contract_id"] == contract and r["period"] == period and r["metric"] == "expenditures":
            r["value"] = (D(r["value"]) + Decimal(delta) / 100).quantize(Decimal("0.0001"))
            found = True
    if not found:
        raise _fail(f"contract '{contract}' has no expenditures metric for {period}")
    return pa.Table.from_pylist(rows, schema=table.schema)


def _wrvu(aggs: Any, npis: Sequence[str]) -> Decimal:
    chosen = set(npis)
    return sum(
        (D(r["wrvu"]) for r in aggs.wrvu.to_pylist() if str(r["npi"]) in chosen),
        ZERO,
    ).quantize(CENT, ROUND_HALF_UP)


def _pass_through(outcome: Any, npis: Sequence[str]) -> int:
    chosen = set(npis)
    pools = set(outcome.pools)
    return sum(
        p.net_to_physician
        for p in outcome.computation.postings
        if p.npi in chosen and p.source in pools
    )


def _result(outcome: Any, contract: str) -> int:
    return next((c.result_cents for c in outcome.contracts if c.contract_id == contract), 0)
