"""Invariants under random inputs (Hypothesis): the ledger balances to the cent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paycascade.demo.synth import npi_check_digit
from paycascade.diagnostics import Diagnostics
from paycascade.engine import bucket_starts, compute
from paycascade.ledger import balance
from paycascade.money import D, allocate, fmt_rate
from paycascade.periods import parse_period
from paycascade.plans.loader import load_plan
from paycascade.plans.model import Physician, PlanData
from paycascade.statements import totals_by_npi

PLAN = """
plan: prop
components:
  - id: production
    kind: productivity
    method: tiered_marginal
    tiers:
      - from: 2026-01-01
        value: [{up_to: 4000, rate: 51.37}, {rate: 58.11}]
      - from: 2026-07-01
        value: [{up_to: 4000, rate: 52.03}, {rate: 59.99}]
    paid_share: 0.7
  - {id: panel, kind: panel, pmpm: 3.17, risk_adjusted: true}
  - {id: quality, kind: quality_incentive, percent: 0.13, of: [production, panel], scorecard: card}
  - id: withhold
    kind: withhold
    rate: 0.1
    of: [production]
    scorecard: card
    payout: linear
    forfeits: {to: strong_performers, bonus_threshold: 0.8, split: score, bonus_cap: 0.4}
scorecards:
  card:
    fallback: group
    measures:
      - {id: m1, direction: higher, weight: 3, threshold: 0.5, target: 0.8, stretch: 0.9, stretch_points: 1.2, min_denominator: 10}
      - {id: m2, direction: lower, weight: 1, threshold: 0.3, target: 0.1, min_denominator: 10}
"""


def _npi(i: int) -> str:
    """A valid NPI (Luhn over 80840 + 9 digits) for index i."""
    body = f"1{i:08d}"
    return body + str(npi_check_digit(body))


physician_st = st.fixed_dictionaries(
    {
        "fte": st.sampled_from(["0.5", "0.6", "0.8", "1.0"]),
        "h1": st.decimals(min_value=0, max_value=6000, places=2),
        "h2": st.decimals(min_value=0, max_value=6000, places=2),
        "mm": st.integers(min_value=0, max_value=30000),
        "risk": st.decimals(min_value=Decimal("0.5"), max_value=2, places=4),
        "q": st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=2, max_size=2),
    }
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(physician_st, min_size=1, max_size=10),
    rounding=st.sampled_from(["half_up", "half_even"]),
)
def test_ledger_balances_and_statements_sum_to_the_ledger(
    people: list[dict[str, object]], rounding: str, tmp_path: Path
) -> None:
    path = tmp_path / "prop.yaml"
    path.write_text(PLAN, encoding="utf-8")
    diags = Diagnostics()
    plan = load_plan(path, "plans/prop.yaml", diags)
    assert plan is not None, diags.format()
    period = parse_period("2026")
    data = PlanData(bucket_starts=bucket_starts([plan], period))
    physicians = []
    for i, p in enumerate(people):
        npi = _npi(i)
        physicians.append(
            Physician(
                npi,
                f"P{i}",
                "FM",
                "prop",
                Decimal(str(p["fte"])),
                Decimal(str(p["fte"])),
                None,
                None,
                "G" if i % 2 else "H",
                "physician",
                i + 2,
            )
        )
        data.wrvu[(npi, 0)] = p["h1"]  # type: ignore[assignment]
        data.wrvu[(npi, 1)] = p["h2"]  # type: ignore[assignment]
        mm = Decimal(p["mm"])  # type: ignore[arg-type]
        data.member_months[(npi, 0)] = mm
        data.risk_member_months[(npi, 0)] = mm * p["risk"]  # type: ignore[operator]
        for measure, (num, extra) in zip(("m1", "m2"), p["q"], strict=True):  # type: ignore[call-overload]
            data.quality[(npi, measure)] = (Decimal(num), Decimal(num + extra), Decimal(0))
    comp = compute({"prop": plan}, physicians, period, data, rounding)  # type: ignore[arg-type]

    # every pool balances: withheld = paid back + bonus + retained, to the cent
    accounts = balance(comp.postings)
    assert accounts.get("pool:prop/withhold", 0) == 0
    withheld = sum(p.amount_cents for p in comp.postings if p.kind == "withheld")
    out = sum(
        p.amount_cents
        for p in comp.postings
        if p.kind in ("withhold_payout", "withhold_bonus", "withhold_retained")
    )
    assert withheld == out

    # statement totals are the ledger, to the cent, and alignments add up to the total
    totals = totals_by_npi(comp.postings)
    for ph in physicians:
        ledger_net = sum(p.net_to_physician for p in comp.postings if p.npi == ph.npi)
        assert totals[ph.npi].total == ledger_net
        assert sum(totals[ph.npi].by_alignment.values()) == ledger_net
        assert accounts.get(f"physician:{ph.npi}", 0) == ledger_net
    # money only moves: what physicians and the system received came out of the budget
    assert sum(accounts.values()) == 0


@given(
    total=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(st.decimals(min_value=0, max_value=10**6, places=3), min_size=1, max_size=30),
)
def test_allocate_is_exact_and_fair(total: int, weights: list[Decimal]) -> None:
    parts = allocate(total, weights)
    if sum(weights) == 0:
        assert parts == [0] * len(weights)
        return
    assert sum(parts) == total
    wsum = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        exact = Decimal(abs(total)) * w / wsum
        assert abs(Decimal(abs(part)) - exact) < 1  # never more than a cent from its exact share


@given(st.decimals(min_value=0, max_value=10_000, places=6, allow_nan=False))
def test_a_rate_is_shown_as_it_is_applied(rate: Decimal) -> None:
    # "× $48.01" for a rate of 48.005 did not multiply out to the posted amount
    shown = fmt_rate(rate)
    assert shown.startswith("$")
    assert Decimal(shown[1:].replace(",", "")) == rate
    assert len(shown.split(".")[1]) >= 2


def test_rates_keep_two_decimals_at_least() -> None:
    assert fmt_rate(Decimal("48")) == "$48.00"
    assert fmt_rate(Decimal("48.005")) == "$48.005"
    assert fmt_rate(Decimal("1250.5")) == "$1,250.50"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$1,250,000.00", Decimal("1250000.00")),
        ("$-1,000", Decimal(-1000)),
        ("-$1,000", Decimal(-1000)),
        ("$ 30,000", Decimal(30000)),
        ("  42 ", Decimal(42)),
        ("060", Decimal(60)),
        ("48,50", None),  # a decimal comma is not guessed
        ("1,00", None),
        ("1_000", None),
        ("nan", None),
        ("-Infinity", None),
        ("1e15", None),
        ("999999999999999.99", Decimal("999999999999999.99")),
    ],
)
def test_numbers_in_text_are_read_or_refused(text: str, value: Decimal | None) -> None:
    if value is None:
        with pytest.raises(ValueError, match="number"):
            D(text)
    else:
        assert D(text) == value
