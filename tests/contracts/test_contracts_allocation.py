"""The allocation policy: declared shares, the retained remainder, exact cents."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from paycascade.contracts.base import Allocation, Share
from paycascade.contracts.loader import load_contracts
from paycascade.diagnostics import Diagnostics
from paycascade.periods import parse_period

D = Decimal


def policy(*shares: tuple[str, str], losses: str = "retained") -> Allocation:
    return Allocation(tuple(Share(to, D(s), i + 1) for i, (to, s) in enumerate(shares)), losses)


def test_odd_cents_over_three_shares_go_by_largest_remainder() -> None:
    # 1,001 cents: exact parts 200.2 / 350.35 / 100.1 / rest 0.35 × 1001 = 350.35
    # floors 200 + 350 + 100 + 350 = 1,000; the 1 cent left goes to the largest remainder
    # (.35, a tie between pool:pcp and the retained rest) → the first listed, pool:pcp
    split = policy(("reserve", "0.2"), ("pool:pcp", "0.35"), ("infrastructure", "0.1")).split(1001)
    assert split == [
        ("reserve", 200, D("0.2")),
        ("pool:pcp", 351, D("0.35")),
        ("infrastructure", 100, D("0.1")),
        ("retained", 350, D("0.35")),
    ]


def test_ties_go_to_the_first_listed() -> None:
    # 1,003 cents in quarters: 250.75 each; floors 1,000; 3 cents to the first three
    split = policy(("pool:a", "0.25"), ("pool:b", "0.25"), ("pool:c", "0.25")).split(1003)
    assert [c for _, c, _ in split] == [251, 251, 251, 250]
    assert split[-1] == ("retained", 250, D("0.25"))


def test_losses_are_retained_unless_passed_through() -> None:
    shares = (("pool:pcp", "0.3"), ("reserve", "0.1"), ("pool:spec", "0.2"))
    assert policy(*shares).split(-100_001) == [("retained", -100_001, D(1))]
    # pass-through: −100,001 split as 100,001 and negated: 30,000.3 / 10,000.1 / 20,000.2 /
    # rest 40,000.4 → floors 100,000, the 1 cent to the largest remainder (.4, retained)
    passed = policy(*shares, losses="pass_through").split(-100_001)
    assert passed == [
        ("pool:pcp", -30_000, D("0.3")),
        ("reserve", -10_000, D("0.1")),
        ("pool:spec", -20_000, D("0.2")),
        ("retained", -40_001, D("0.4")),
    ]


def test_no_policy_retains_everything() -> None:
    assert Allocation().split(12_345) == [("retained", 12_345, D(1))]


@st.composite
def share_lists(draw: st.DrawFn) -> list[tuple[str, Decimal]]:
    """Up to 6 shares in basis points whose sum is ≤ 1."""
    left = 10_000
    out: list[tuple[str, Decimal]] = []
    for i in range(draw(st.integers(0, 6))):
        bp = draw(st.integers(0, left))
        left -= bp
        to = draw(st.sampled_from(["retained", "reserve", "infrastructure", f"pool:p{i}"]))
        out.append((to, D(bp) / 10_000))
    return out


@settings(max_examples=300, deadline=None)
@given(
    result=st.integers(-(10**12), 10**12),
    shares=share_lists(),
    losses=st.sampled_from(["retained", "pass_through"]),
)
def test_the_split_adds_up_to_the_result(
    result: int, shares: list[tuple[str, Decimal]], losses: str
) -> None:
    allocation = Allocation(tuple(Share(to, s, 1) for to, s in shares), losses)
    split = allocation.split(result)
    assert sum(c for _, c, _ in split) == result
    # every part has the result's sign, and no part is off its exact share by a cent or more
    if result >= 0 or losses == "pass_through":
        for _, cents, share in split:
            assert abs(Decimal(cents) - Decimal(result) * share) < 1 + len(split)
            assert cents * result >= 0


POLICIES = """
contract: aco
kind: p4p
payer: BCBS
tiers: [{min_score: 0.8, rate: 0.02}]
allocation:
  - from: 2026-01-01
    source: "Board resolution 2025-11"
    value:
      shares: [{to: reserve, share: 0.2}]
  - from: 2026-07-01
    value:
      source: "Board resolution 2026-06"
      losses: pass_through
      shares:
        - {to: pool:aco_physicians, share: 0.4, source: "PCP agreement §7"}
        - {to: reserve, share: 0.1}
"""


def test_the_policy_in_effect_at_period_end_applies(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "aco.yaml").write_text(textwrap.dedent(POLICIES).lstrip())
    diags = Diagnostics()
    spec = load_contracts(tmp_path, diags)["aco"]
    assert not diags.items, diags.format()
    h1 = spec.allocation_for(parse_period("2026-Q2"))
    assert h1.source == "Board resolution 2025-11"  # the dated entry's source
    assert h1.shares == (Share("reserve", D("0.2"), 9),)
    assert h1.losses == "retained"
    year = spec.allocation_for(parse_period("2026"))
    assert year.source == "Board resolution 2026-06"
    assert year.losses == "pass_through"
    assert year.shares == (
        Share("pool:aco_physicians", D("0.4"), 15, "PCP agreement §7"),
        Share("reserve", D("0.1"), 16),
    )
    assert (year.file, year.line) == ("contracts/aco.yaml", 12)
    # 1,000.01 × 40% = 400.004, × 10% = 100.001, rest 500.005 → 400.00 / 100.00 / 500.01
    assert year.split(100_001) == [
        ("pool:aco_physicians", 40_000, D("0.4")),
        ("reserve", 10_000, D("0.1")),
        ("retained", 50_001, D("0.5")),
    ]


def test_no_allocation_declared_means_all_retained(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "p.yaml").write_text(
        "contract: p\nkind: p4p\npayer: X\ntiers: [{min_score: 1, rate: 0.01}]\n"
    )
    spec = load_contracts(tmp_path, Diagnostics())["p"]
    allocation = spec.allocation_for(parse_period("2026"))
    assert allocation.shares == () and allocation.losses == "retained"
    assert allocation.split(5) == [("retained", 5, D(1))]
