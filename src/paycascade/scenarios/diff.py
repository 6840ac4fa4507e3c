"""Compute a reform against its baseline and compare them physician by physician.

Money is integer cents throughout; percentages and shares are Decimal to 4 places (half up).
``budget impact`` is the change in total physician pay (positive: the reform costs more);
``system net`` adds the change in contract results (what the payer contracts pay the system).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from paycascade.ledger import ALIGNMENTS
from paycascade.plans.model import Physician
from paycascade.scenarios.reform import Applied, Reform
from paycascade.statements import Totals

Q4 = Decimal("0.0001")
T = TypeVar("T")
_EMPTY = Totals(0, dict.fromkeys(ALIGNMENTS, 0))


def ratio(part: int, whole: int) -> Decimal | None:
    """part ÷ whole to 4 places (None when whole is 0)."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Q4, ROUND_HALF_UP)


def value_linked(totals: Mapping[str, Totals], npis: Sequence[str] | None = None) -> Decimal:
    """(mixed + value) ÷ total over the physicians (all when ``npis`` is None)."""
    chosen = [totals.get(n, _EMPTY) for n in npis] if npis is not None else list(totals.values())
    total = sum(t.total for t in chosen)
    linked = sum(t.by_alignment.get("mixed", 0) + t.by_alignment.get("value", 0) for t in chosen)
    return ratio(linked, total) or Decimal(0).quantize(Q4)


@dataclass(frozen=True)
class PhysicianDiff:
    npi: str
    name: str
    specialty: str
    plan_before: str
    plan_after: str
    before: int
    after: int
    vls_before: Decimal
    vls_after: Decimal

    @property
    def delta(self) -> int:
        return self.after - self.before

    @property
    def pct(self) -> Decimal | None:
        return ratio(self.delta, self.before)


@dataclass(frozen=True)
class SpecialtyDiff:
    specialty: str
    physicians: int
    winners: int
    losers: int
    unchanged: int
    before: int
    after: int
    vls_before: Decimal
    vls_after: Decimal

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class ContractDiff:
    contract_id: str
    before: int
    after: int
    to_physicians_before: int
    to_physicians_after: int


@dataclass(frozen=True)
class Diff:
    rows: tuple[PhysicianDiff, ...]
    specialties: tuple[SpecialtyDiff, ...]
    total_before: int
    total_after: int
    vls_before: Decimal
    vls_after: Decimal
    contracts: tuple[ContractDiff, ...]

    @property
    def budget_impact(self) -> int:
        return self.total_after - self.total_before

    @property
    def budget_impact_pct(self) -> Decimal | None:
        return ratio(self.budget_impact, self.total_before)

    @property
    def contracts_delta(self) -> int:
        return sum(c.after - c.before for c in self.contracts)

    @property
    def system_net(self) -> int:
        """Change in (contract results − physician pay): + the system is better off."""
        return self.contracts_delta - self.budget_impact

    @property
    def winners(self) -> int:
        return sum(1 for r in self.rows if r.delta > 0)

    @property
    def losers(self) -> int:
        return sum(1 for r in self.rows if r.delta < 0)


def diff_outcomes(
    physicians_before: Sequence[Physician],
    physicians_after: Sequence[Physician],
    before: Any,
    after: Any,
) -> Diff:
    """Compare two runner.Outcome objects of the same physicians."""
    after_plan = {p.npi: p.plan for p in physicians_after}
    rows = []
    for p in sorted(physicians_before, key=lambda x: x.npi):
        tb = before.totals.get(p.npi, _EMPTY)
        ta = after.totals.get(p.npi, _EMPTY)
        rows.append(
            PhysicianDiff(
                p.npi,
                p.name,
                p.specialty,
                p.plan,
                after_plan.get(p.npi, p.plan),
                tb.total,
                ta.total,
                value_linked(before.totals, [p.npi]),
                value_linked(after.totals, [p.npi]),
            )
        )
    groups: dict[str, list[PhysicianDiff]] = {}
    for row in rows:
        groups.setdefault(row.specialty, []).append(row)
    specialties = []
    for name, items in sorted(groups.items()):
        npis = [r.npi for r in items]
        specialties.append(
            SpecialtyDiff(
                name,
                len(items),
                sum(1 for r in items if r.delta > 0),
                sum(1 for r in items if r.delta < 0),
                sum(1 for r in items if r.delta == 0),
                sum(r.before for r in items),
                sum(r.after for r in items),
                value_linked(before.totals, npis),
                value_linked(after.totals, npis),
            )
        )
    everyone = [r.npi for r in rows]
    contracts = []
    after_results = {c.contract_id: c for c in after.contracts}
    for c in before.contracts:
        a = after_results.get(c.contract_id)
        contracts.append(
            ContractDiff(
                c.contract_id,
                c.result_cents,
                a.result_cents if a else 0,
                _to_physicians(before.flows, c.contract_id),
                _to_physicians(after.flows, c.contract_id),
            )
        )
    return Diff(
        tuple(rows),
        tuple(specialties),
        sum(r.before for r in rows),
        sum(r.after for r in rows),
        value_linked(before.totals, everyone),
        value_linked(after.totals, everyone),
        tuple(contracts),
    )


def _to_physicians(flows: Mapping[str, Mapping[str, int]], contract_id: str) -> int:
    flow = flows.get(contract_id, {})
    return int(flow.get("to_physicians", 0))


def findings_diff(
    before: Sequence[T], after: Sequence[T], key: Callable[[T], Hashable] = repr
) -> tuple[list[T], list[T]]:
    """Findings that appear (in ``after`` only) and disappear (in ``before`` only), by ``key``.

    Order is kept; a finding listed twice counts twice."""
    after_left = Counter(key(f) for f in after)
    disappeared: list[T] = []
    for f in before:
        k = key(f)
        if after_left[k] > 0:
            after_left[k] -= 1
        else:
            disappeared.append(f)
    before_left = Counter(key(f) for f in before)
    appeared: list[T] = []
    for f in after:
        k = key(f)
        if before_left[k] > 0:
            before_left[k] -= 1
        else:
            appeared.append(f)
    return appeared, disappeared


@contextmanager
def plans_in_database(loaded: Any, applied: Applied) -> Iterator[None]:
    """While inside, ``stg_physicians`` shows the moved physicians' new plans (the aggregation
    pipeline credits each line by its physician's plan).  The staged relation is renamed,
    shadowed by a view with the new plans, and renamed back on exit: nothing is rewritten."""
    if not applied.moved:
        yield
        return
    con = loaded.con
    row = con.execute(
        "select table_type from information_schema.tables where table_name = 'stg_physicians'"
    ).fetchone()
    kind = "VIEW" if row and "VIEW" in str(row[0]).upper() else "TABLE"
    con.execute("create or replace table scenario_moves__ (npi varchar, plan varchar)")
    con.executemany(
        "insert into scenario_moves__ values (?, ?)",
        [[npi, to_plan] for npi, (_, to_plan) in sorted(applied.moved.items())],
    )
    con.execute(f"alter {kind} stg_physicians rename to stg_physicians__baseline")
    try:
        con.execute(
            "create view stg_physicians as select b.* replace (coalesce(m.plan, b.plan) as plan) "
            "from stg_physicians__baseline b left join scenario_moves__ m on b.npi = m.npi"
        )
        yield
    finally:
        con.execute("drop view if exists stg_physicians")
        con.execute(f"alter {kind} stg_physicians__baseline rename to stg_physicians")
        con.execute("drop table if exists scenario_moves__")


@dataclass
class Scenario:
    reform: Reform
    applied: Applied
    baseline: Any  # runner.Outcome
    reformed: Any  # runner.Outcome
    diff: Diff
    findings_appeared: list[Any]
    findings_disappeared: list[Any]


def finding_key(finding: Any) -> Hashable:
    """A finding is the same flag if it has the same code and subject (its numbers may move)."""
    return (finding.code, finding.subject_kind, finding.subject)


def guardrail_findings(loaded: Any, outcome: Any) -> list[Any]:
    """The compliance guardrails of a computed run (``paycascade.compliance.run_findings``)."""
    from paycascade.compliance import run_findings

    findings: list[Any] = run_findings(loaded, outcome)
    return findings


def reformed_loaded(loaded: Any, applied: Applied) -> Any:
    """A shallow copy of ``loaded`` showing the reform's plans, contracts and physicians."""
    from dataclasses import replace

    from paycascade.diagnostics import Diagnostics

    return replace(
        loaded,
        plans=applied.plans,
        contracts=applied.contracts,
        physicians=applied.physicians,
        diagnostics=Diagnostics(list(loaded.diagnostics.items)),
    )


def compute_reformed(loaded: Any, applied: Applied, baseline_aggs: Any = None) -> Any:
    """The reform's runner.Outcome (aggregates reused when crediting and moves allow it)."""
    from paycascade.engine import bucket_starts
    from paycascade.runner import compute_outcome

    reuse = baseline_aggs
    if reuse is not None:
        same_dates = bucket_starts(list(loaded.plans.values()), loaded.period) == bucket_starts(
            list(applied.plans.values()), loaded.period
        )
        if applied.crediting_changed(loaded.plans) or not same_dates:
            reuse = None
    with plans_in_database(loaded, applied):
        return compute_outcome(
            loaded,
            plans=applied.plans,
            contracts=applied.contracts,
            physicians=applied.physicians,
            aggs=reuse,
        )


def run_scenario(loaded: Any, reform: Reform, applied: Applied, baseline: Any = None) -> Scenario:
    from paycascade.runner import compute_outcome

    base = baseline if baseline is not None else compute_outcome(loaded)
    reformed = compute_reformed(loaded, applied, base.aggs)
    diff = diff_outcomes(loaded.physicians, applied.physicians, base, reformed)
    before = guardrail_findings(loaded, base)
    after = guardrail_findings(reformed_loaded(loaded, applied), reformed)
    appeared, disappeared = findings_diff(before, after, finding_key)
    return Scenario(reform, applied, base, reformed, diff, appeared, disappeared)
