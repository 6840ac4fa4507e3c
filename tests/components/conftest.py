"""Build a plan from YAML text and hand-made aggregates, compute, and read the ledger back."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paycascade.diagnostics import Diagnostics
from paycascade.engine import Computation, bucket_starts, compute
from paycascade.ledger import Posting
from paycascade.periods import parse_period
from paycascade.plans.loader import Plan, load_plans
from paycascade.plans.model import Physician, PlanData

# Valid NPIs (Luhn check digit with the 80840 prefix).
NPI_A = "1234567893"
NPI_B = "1245319599"
NPI_C = "1003000126"


def physician(
    npi: str = NPI_A,
    *,
    plan: str = "test",
    fte: str = "1.0",
    clinical_fte: str | None = None,
    start: date | None = None,
    end: date | None = None,
    specialty: str = "Family Medicine",
    group: str = "North Clinic",
) -> Physician:
    return Physician(
        npi=npi,
        name=f"Dr {npi[-3:]}",
        specialty=specialty,
        plan=plan,
        fte=Decimal(fte),
        clinical_fte=Decimal(clinical_fte or fte),
        start_date=start,
        end_date=end,
        group=group,
        provider_type="physician",
        row=2,
    )


@dataclass
class Result:
    computation: Computation
    plan: Plan

    @property
    def postings(self) -> list[Posting]:
        return self.computation.postings

    def net(self, npi: str, component: str | None = None, kind: str | None = None) -> int:
        return sum(
            p.net_to_physician
            for p in self.postings
            if p.npi == npi and component in (None, p.component) and kind in (None, p.kind)
        )

    def lines(
        self, npi: str | None, component: str | None = None, kind: str | None = None
    ) -> list[Posting]:
        return [
            p
            for p in self.postings
            if p.npi == npi and component in (None, p.component) and kind in (None, p.kind)
        ]


Runner = Callable[..., Result]


@pytest.fixture
def run_plan(tmp_path: Path) -> Runner:
    """``run_plan(yaml_text, physicians, fill=lambda data: ..., period="2026")``."""

    def _run(
        yaml_text: str,
        physicians: Sequence[Physician],
        fill: Callable[[PlanData], None] | None = None,
        period: str = "2026",
        rounding: str = "half_up",
    ) -> Result:
        folder = tmp_path / "plans"
        folder.mkdir(exist_ok=True)
        (folder / "test.yaml").write_text(textwrap.dedent(yaml_text), encoding="utf-8")
        diags = Diagnostics()
        plans = load_plans(tmp_path, diags)
        assert not diags.has_errors(), diags.format()
        p = parse_period(period)
        data = PlanData(bucket_starts=bucket_starts(list(plans.values()), p))
        if fill is not None:
            fill(data)
        comp = compute(plans, physicians, p, data, rounding)  # type: ignore[arg-type]
        return Result(comp, next(iter(plans.values())))

    return _run


def bucket_of(data: PlanData, day: date) -> int:
    """Index of the pipeline bucket a date falls in."""
    index = 0
    for i, start in enumerate(data.bucket_starts):
        if start <= day:
            index = i
    return index


# -- helpers for components that distribute contract-funded pools ---------------------------


def partner(npi: str = NPI_A, *, authorized: bool = True, **kwargs: Any) -> Physician:
    """A physician whose agreement authorizes pass-through of contract savings (or not)."""
    from dataclasses import replace

    return replace(physician(npi, **kwargs), pass_through_authorized=authorized)


def fund(data: PlanData, pool: str, **contracts: int) -> None:
    """``fund(d, "pool:pcp", mssp_2026=42_000_000)``: what contracts put into a pool (cents)."""
    from paycascade.contracts.base import PoolFunding
    from paycascade.money import plain_cents

    parts = [(cid, cents, f"{cid} {plain_cents(cents)}") for cid, cents in contracts.items()]
    data.pools[pool] = PoolFunding.combine(pool, parts)


def pool_flows(postings: Sequence[Posting], pool: str) -> tuple[int, int]:
    """Through ``pool``: (Σ to physicians − Σ from them, Σ to system:retained − Σ from it)."""
    distributed = retained = 0
    for p in postings:
        if p.source == pool and p.destination.startswith("physician:"):
            distributed += p.amount_cents
        elif p.destination == pool and p.source.startswith("physician:"):
            distributed -= p.amount_cents
        elif (p.source, p.destination) == (pool, "system:retained"):
            retained += p.amount_cents
        elif (p.source, p.destination) == ("system:retained", pool):
            retained -= p.amount_cents
    return distributed, retained


def allocation_postings(data: PlanData, period: str) -> list[Posting]:
    """What the cascade books before plans run: each contract's allocation into its pools."""
    span = parse_period(period)
    postings = []
    for pool, funding in sorted(data.pools.items()):
        for cid, cents in funding.sources:
            account = f"contract:{cid}"
            source, destination = (account, pool) if cents >= 0 else (pool, account)
            postings.append(
                Posting(
                    npi=None,
                    source=source,
                    destination=destination,
                    component=cid,
                    kind="contract_allocation",
                    alignment="none",
                    quinn="shared_savings",
                    amount_cents=abs(cents),
                    explanation=f"{cid} allocation to {pool}",
                    plan="",
                    plan_file="contracts/test.yaml",
                    plan_line=1,
                    segment_start=span.start,
                    segment_end=span.end,
                )
            )
    return postings


@pytest.fixture
def run_funded(run_plan: Runner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """``run_plan`` for plans that draw on contract-funded pools (``PlanData.pools``).

    In a run the cascade books each contract's allocation into its pools (``contract:<id>`` →
    ``pool:<name>``) and the plans empty them, so a pool balances on the whole ledger.  This
    runner does the same: the allocations lead ``r.postings``, and the engine's pool check sees
    them.
    """
    from paycascade import engine

    def _run(
        yaml_text: str,
        physicians: Sequence[Physician],
        fill: Callable[[PlanData], None] | None = None,
        period: str = "2026",
        rounding: str = "half_up",
    ) -> Result:
        seen: list[PlanData] = []

        def capture(data: PlanData) -> None:
            if fill is not None:
                fill(data)
            seen.append(data)

        real = engine.check_pools

        def check(postings: Sequence[Posting]) -> None:
            real([*allocation_postings(seen[0], period), *postings])

        monkeypatch.setattr(engine, "check_pools", check)
        try:
            result = run_plan(yaml_text, physicians, capture, period, rounding)
        finally:
            monkeypatch.setattr(engine, "check_pools", real)
        result.computation.postings[:0] = allocation_postings(seen[0], period)
        return result

    return _run
