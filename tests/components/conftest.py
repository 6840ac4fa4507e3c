"""Build a plan from YAML text and hand-made aggregates, compute, and read the ledger back."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

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
