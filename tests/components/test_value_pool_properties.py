"""Pools under random inputs (Hypothesis): whatever the method, eligibility, authorization,
losses, caps and terms, every pool balances to zero and Σ distributed + Σ retained = funding,
to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paycascade.ledger import balance
from paycascade.plans.model import PlanData
from tests.components.conftest import Runner, fund, partner, pool_flows

# valid NPIs (Luhn over 80840 + 9 digits)
NPIS = ["1000000004", "1000000012", "1000000020", "1000000038", "1000000046", "1000000053"]
POOL = "pool:pcp_shared_savings"

physician_st = st.fixed_dictionaries(
    {
        "fte": st.sampled_from(["0.3", "0.5", "0.8", "1.0"]),
        "authorized": st.booleans(),
        "mm": st.integers(0, 5000),
        "risk": st.decimals(min_value=Decimal("0.5"), max_value=2, places=3),
        "wrvu": st.decimals(min_value=0, max_value=8000, places=2),
        "expected": st.integers(0, 2_000_000),
        "actual": st.integers(0, 2_000_000),
        "bp": st.integers(0, 100),
    }
)

pool_share_st = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["shared_savings", "capitation"]),
        "method": st.sampled_from(
            ["attributed_lives", "quality_score", "wrvu", "equal", "contribution"]
        ),
        "flag": st.booleans(),  # risk_adjusted / fte_weighted where the method allows
        "losses": st.sampled_from(["retained", "pass_through"]),
        "min_fte": st.sampled_from([None, "0.5", "0.9"]),
        "min_score": st.sampled_from([None, "0.3"]),
        "require_authorization": st.booleans(),
    }
)

gainsharing_st = st.fixed_dictionaries(
    {
        "kind": st.just("gainsharing"),
        "split": st.sampled_from(["per_capita", "wrvu"]),
        "cap": st.sampled_from([None, 1000, 250000]),
        "floor": st.sampled_from([None, "0.5"]),
        "term": st.sampled_from(
            [
                None,
                ("2026-01-01", "2026-12-31"),
                ("2026-01-01", "2026-06-30"),
                ("2025-01-01", "2025-12-31"),
            ]
        ),
    }
)

CARD = """
scorecards:
  card:
    measures:
      - {id: bp, direction: higher, threshold: 0.60, target: 0.80, min_denominator: 20}
"""


def _plan(c: dict[str, Any]) -> str:
    lines = ["plan: test", "components:", "  - id: dist", f"    kind: {c['kind']}"]
    lines.append("    pool: pcp_shared_savings")
    if c["kind"] == "gainsharing":
        lines.append(f"    split: {c['split']}")
        if c["cap"] is not None:
            lines.append(f"    cap_per_physician: {c['cap']}")
        if c["floor"] is not None:
            lines.append(f"    quality_floor: {{scorecard: card, min_score: {c['floor']}}}")
        if c["term"] is not None:
            lines.append(f"    term: {{start: {c['term'][0]}, end: {c['term'][1]}}}")
        return "\n".join(lines) + "\n" + CARD
    method = c["method"]
    lines.append(f"    method: {method}")
    if c["flag"] and method == "attributed_lives":
        lines.append("    risk_adjusted: true")
    if c["flag"] and method == "equal":
        lines.append("    fte_weighted: true")
    lines.append(f"    losses: {c['losses']}")
    scored = method == "quality_score" or c["min_score"] is not None
    if scored:
        lines.append("    scorecard: card")
    rules = [f"require_authorization: {str(c['require_authorization']).lower()}"]
    if c["min_fte"] is not None:
        rules.append(f"min_fte: {c['min_fte']}")
    if c["min_score"] is not None:
        rules.append(f"min_score: {c['min_score']}")
    lines.append(f"    eligibility: {{{', '.join(rules)}}}")
    return "\n".join(lines) + "\n" + (CARD if scored else "")


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(physician_st, min_size=1, max_size=len(NPIS)),
    parts=st.lists(st.integers(-50_000_000, 100_000_000), min_size=1, max_size=3),
    component=st.one_of(pool_share_st, gainsharing_st),
    rounding=st.sampled_from(["half_up", "half_even"]),
)
def test_every_pool_balances_and_funding_is_distributed_or_retained(
    run_funded: Runner,
    people: list[dict[str, Any]],
    parts: list[int],
    component: dict[str, Any],
    rounding: str,
) -> None:
    physicians = [
        partner(NPIS[i], fte=p["fte"], authorized=p["authorized"]) for i, p in enumerate(people)
    ]

    def fill(d: PlanData) -> None:
        fund(d, POOL, **{f"contract_{k}": cents for k, cents in enumerate(parts)})
        last = len(d.bucket_starts) - 1
        for i, p in enumerate(people):
            npi = NPIS[i]
            d.member_months[(npi, 0)] = Decimal(p["mm"])
            d.risk_member_months[(npi, 0)] = p["mm"] * p["risk"]
            d.wrvu[(npi, 0)] = p["wrvu"]
            d.wrvu[(npi, last)] = d.wrvu.get((npi, last), Decimal(0)) + p["wrvu"] / 2
            d.expected_cost[npi] = Decimal(p["expected"])
            d.actual_cost[npi] = Decimal(p["actual"])
            d.quality[(npi, "bp")] = (Decimal(p["bp"]), Decimal(100), Decimal(0))

    r = run_funded(_plan(component), physicians, fill, "2026", rounding)
    funding = sum(parts)
    assert balance(r.postings).get(POOL, 0) == 0

    flows = {(p.source, p.destination) for p in r.postings if p.component == "dist"}
    accounts = {POOL, "system:retained"}
    assert all(a in accounts or a.startswith("physician:") for flow in flows for a in flow)
    distributed, retained = pool_flows(r.postings, POOL)
    assert distributed + retained == funding

    passes_losses = component["kind"] != "gainsharing" and component["losses"] == "pass_through"
    for i, phys in enumerate(physicians):
        lines = r.lines(phys.npi, "dist")
        assert lines, "every physician's statement shows the pool"
        net = sum(p.net_to_physician for p in lines)
        if not passes_losses:
            assert net >= 0
        pass_through = component["kind"] != "gainsharing"
        if pass_through and component["require_authorization"] and not people[i]["authorized"]:
            assert net == 0, "an unauthorized physician's share stays with the system"
