"""Conservation of contract money through the cascade (Hypothesis).

Σ contract results = Σ what the system's accounts and the physicians' accounts end up with,
to the cent, whatever the results, allocation shares, pools, eligibility and authorization.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paycascade.cascade import book_contracts, cascade_rows, pass_through
from paycascade.contracts.base import Allocation, ContractResult, Share
from paycascade.diagnostics import Diagnostics
from paycascade.engine import bucket_starts, compute
from paycascade.ledger import JSON_OPTIONS, balance
from paycascade.periods import parse_period
from paycascade.plans.loader import load_plan
from paycascade.plans.model import Physician, PlanData
from tests.test_properties import _npi

PLAN = """
plan: pc
components:
  - {id: production, kind: productivity, method: flat, conversion_factor: 50}
  - id: savings
    kind: shared_savings
    pool: pcp
    method: attributed_lives
    eligibility: {min_fte: 0.5, require_authorization: true}
"""

contract_st = st.tuples(
    st.integers(min_value=-(10**9), max_value=10**9),  # result in cents
    st.lists(
        st.tuples(
            st.sampled_from(["pool:pcp", "pool:unused", "reserve", "infrastructure"]),
            st.integers(min_value=0, max_value=40),  # share in percent
        ),
        max_size=3,
    ),
    st.sampled_from(["retained", "pass_through"]),
)
person_st = st.tuples(
    st.sampled_from(["0.4", "0.5", "1.0"]),  # FTE
    st.booleans(),  # pass-through authorized
    st.integers(min_value=0, max_value=30000),  # member months
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    contracts=st.lists(contract_st, min_size=1, max_size=4), people=st.lists(person_st, max_size=8)
)
def test_contract_results_equal_what_the_cascade_delivers(
    contracts: list[tuple[int, list[tuple[str, int]], str]],
    people: list[tuple[str, bool, int]],
    tmp_path: Path,
) -> None:
    path = tmp_path / "pc.yaml"
    path.write_text(PLAN, encoding="utf-8")
    diags = Diagnostics()
    plan = load_plan(path, "plans/pc.yaml", diags)
    assert plan is not None, diags.format()
    period = parse_period("2026")
    results, allocations = [], {}
    for i, (cents, shares, losses) in enumerate(contracts):
        cid = f"c{i}"
        total = sum(s for _, s in shares)
        scale = 100 if total <= 100 else total  # shares must sum to ≤ 1
        allocations[cid] = Allocation(
            tuple(Share(dest, Decimal(s) / scale, 1) for dest, s in shares), losses=losses
        )
        results.append(
            ContractResult(cid, "shared_savings", "Payer", "2026", cents, "test", {}, "c.yaml", 1)
        )
    booked = book_contracts(results, allocations, period)
    data = PlanData(bucket_starts=bucket_starts([plan], period))
    physicians = []
    for i, (fte, authorized, months) in enumerate(people):
        npi = _npi(i)
        physicians.append(
            Physician(
                npi,
                f"P{i}",
                "FM",
                "pc",
                Decimal(fte),
                Decimal(fte),
                None,
                None,
                "G",
                "physician",
                i + 2,
                pass_through_authorized=authorized,
            )
        )
        data.member_months[(npi, 0)] = Decimal(months)
        data.risk_member_months[(npi, 0)] = Decimal(months)
    computation = compute({"pc": plan}, physicians, period, data, contracts=booked, results=results)
    accounts = balance(computation.postings)
    # every contract and pool account is empty at the end
    for account, cents in accounts.items():
        if account.startswith(("contract:", "pool:")):
            assert cents == 0, account
    # Σ results = Σ system accounts + Σ physician accounts (what contracts brought in)
    terminal = sum(
        cents
        for account, cents in accounts.items()
        if account.startswith(("system:", "physician:")) and account != "system:compensation"
    )
    production = sum(p.amount_cents for p in computation.postings if p.component == "production")
    assert terminal - production == sum(r.result_cents for r in results)
    # the cascade file carries exactly the contract money: its terminal flows sum to the results
    rows = cascade_rows(computation.postings, booked.pools)
    net: dict[str, Decimal] = {}
    for source, destination, amount, _kind in rows:
        net[destination] = net.get(destination, Decimal(0)) + Decimal(amount)
        net[source] = net.get(source, Decimal(0)) - Decimal(amount)
    delivered = sum(v for k, v in net.items() if k.startswith(("system:", "physician:")))
    assert delivered * 100 == sum(r.result_cents for r in results)
    # pass-through to physicians never exceeds what the pools received
    flows = pass_through(results, computation.postings, booked.pools)
    for r in results:
        assert abs(flows[r.contract_id]["to_physicians"]) <= abs(flows[r.contract_id]["to_pools"])


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_JSON_VALUES)
def test_the_runs_json_is_what_json_dumps_writes_in_utf8(value: object) -> None:
    # statements.json and the ledger's inputs column: orjson with JSON_OPTIONS writes exactly
    # what json.dumps(sort_keys, compact, UTF-8) writes for the text keys the run uses
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert orjson.dumps(value, option=JSON_OPTIONS) == expected.encode("utf-8")


def test_a_key_that_is_not_text_is_written_as_text_not_refused() -> None:
    # (sorted as text, where json.dumps sorts numbers as numbers; the run's keys are all text)
    assert orjson.dumps({10: "b", 2: "a"}, option=JSON_OPTIONS) == b'{"10":"b","2":"a"}'
