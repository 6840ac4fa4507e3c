"""wRVU crediting, each case worked out by hand from the CY2023 PFS work RVUs.

One workspace holds every case, one physician per policy, so the pipeline runs once.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from paycascade.pipelines.aggregate import Aggregates
from paycascade.pipelines.crediting import CreditingPolicy

from .conftest import line, make_workspace, npi, physician

D = Decimal

A, B, C, APP, SUP = 1, 2, 3, 4, 5

POLICIES = {
    "submitted": CreditingPolicy(credit_on="submitted"),
    "off": CreditingPolicy.off(),
    "sup": CreditingPolicy(app_supervision=D("0.10"), split_shared=D("0.5")),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Aggregates:
    ws = make_workspace(Path(tmp_path_factory.mktemp("crediting")))
    ws.csv(
        "physicians",
        [
            physician(A),  # plan std: the default policy
            physician(B, plan="submitted"),
            physician(C, plan="off"),
            physician(APP, provider_type="app", supervising_npi=npi(SUP)),
            physician(SUP, plan="sup"),
        ],
    )
    ws.csv(
        "encounters",
        [
            line(A, "27447", modifiers="62", line_id="co-surgeon"),
            line(A, "47562", modifiers="80", line_id="assistant"),
            line(A, "49505", modifiers="51", line_id="multiple"),
            line(A, "64721", modifiers="50", line_id="bilateral"),
            line(A, "64721", modifiers="50,51", line_id="bilateral+multiple"),
            line(A, "71046", modifiers="26", line_id="professional"),
            line(A, "71046", modifiers="TC", line_id="technical"),
            line(A, "99213", units="3", line_id="units"),
            line(A, "99214", status="denied", line_id="denied"),
            line(A, "99214", status="void", line_id="void"),
            line(A, "99213", wrvu="2.5", line_id="own wrvu"),
            line(A, "45378", modifiers="53", line_id="discontinued"),
            line(B, "99214", status="denied"),
            line(B, "99213", status="void"),
            line(B, "99213", status="submitted"),
            line(C, "27447", modifiers="62"),
            line(C, "64721", modifiers="50 51"),
            line(APP, "99213", units="2"),
            line(APP, "99214", modifiers="FS"),
            line(SUP, "99214", modifiers="FS"),
            line(SUP, "99203"),
        ],
    )
    diags = ws.load()
    assert not diags.has_errors(), diags.format()
    return ws.run(policies=POLICIES)


def own(agg: Aggregates, n: int) -> Decimal:
    rows = agg.wrvu.to_pylist()
    return sum((r["wrvu"] for r in rows if r["npi"] == npi(n) and r["source"] == "own"), D(0))


def adjustments(agg: Aggregates, n: int) -> dict[str, tuple[int, Decimal]]:
    return {
        r["adjustment"]: (r["lines"], r["wrvu_effect"])
        for r in agg.wrvu_adjustments.to_pylist()
        if r["npi"] == npi(n)
    }


def test_every_case_of_the_default_policy(run: Aggregates) -> None:
    expected = (
        D("19.60") * D("0.625")  # co-surgeon 62: 12.25
        + D("10.47") * D("0.16")  # assistant at surgery 80: 1.6752
        + D("7.96") * D("0.5")  # multiple procedure 51: 3.98
        + D("4.97") * D("1.5")  # bilateral 50: 7.455
        + D("4.97") * D("1.5") * D("0.5")  # 50 and 51: 3.7275
        + D("0.22")  # 71046-26: the professional row
        + D("0.00")  # 71046-TC: technical component, no work
        + D("1.30") * 3  # units multiply: 3.90
        + D("2.5")  # the line's own wrvu overrides 1.30
        + D("1.63")  # 45378-53: the discontinued-procedure row, not 3.26
    )  # denied and void lines: not credited under 'paid'
    assert expected == D("37.3377")
    assert own(run, A) == expected


def test_adjustment_effects_add_up(run: Aggregates) -> None:
    adj = adjustments(run, A)
    assert adj["co_surgeon"] == (1, D("19.60") * (D("0.625") - 1))  # -7.35
    assert adj["assistant_at_surgery"] == (1, D("10.47") * (D("0.16") - 1))  # -8.7948
    # 51 alone -3.98; 50+51: after the bilateral 150% (7.455), halved: -3.7275
    assert adj["multiple_procedure"] == (2, D("-7.7075"))
    assert adj["bilateral"] == (2, D("4.97") * D("0.5") * 2)  # +2.485 on each line
    assert adj["not_credited"] == (2, -2 * D("1.92"))  # the denied and the void 99214
    unadjusted = D("19.60") + D("10.47") + D("7.96") + 2 * D("4.97") + D("0.22") + D("3.90")
    unadjusted += D("2.5") + D("1.63")
    effects = sum((e for k, (_, e) in adj.items() if k != "not_credited"), D(0))
    assert unadjusted + effects == own(run, A)


def test_submitted_credits_denied_but_never_void(run: Aggregates) -> None:
    assert own(run, B) == D("1.92") + D("1.30")


def test_policy_off_credits_100_percent(run: Aggregates) -> None:
    assert own(run, C) == D("19.60") + D("4.97")
    assert set(adjustments(run, C)) == set()


def test_app_supervision_credit(run: Aggregates) -> None:
    app_own = D("1.30") * 2 + D("1.92")  # FS at the APP's plan: split_shared 1
    assert own(run, APP) == app_own
    sup = [r for r in run.wrvu.to_pylist() if r["source"] == "app_supervision"]
    assert [(r["npi"], r["lines"], r["wrvu"]) for r in sup] == [(npi(SUP), 2, app_own * D("0.10"))]
    # the supervisor's own FS line is credited at their plan's split/shared share
    assert own(run, SUP) == D("1.92") * D("0.5") + D("1.60")
    adj = adjustments(run, SUP)
    assert adj["app_supervision"] == (2, D("0.452"))
    assert adj["split_shared"] == (1, D("-0.96"))


def test_codes_mart(run: Aggregates) -> None:
    codes = {
        r["hcpcs"]: (r["lines"], r["units"], r["wrvu"])
        for r in run.wrvu_codes.to_pylist()
        if r["npi"] == npi(A)
    }
    assert codes["99213"] == (2, D(4), D("6.40"))
    assert codes["71046"] == (2, D(2), D("0.22"))
    assert "99214" not in codes  # only the denied and the void line


def test_marts_are_exact_decimals_stamped_with_the_run(run: Aggregates) -> None:
    assert run.wrvu.schema.field("wrvu").type == pa.decimal128(38, 12)
    assert run.wrvu.schema.field("units").type == pa.decimal128(38, 4)
    assert set(run.wrvu.column("run_id").to_pylist()) == {"test-run"}
    assert set(run.wrvu_adjustments.column("run_id").to_pylist()) == {"test-run"}


def test_policy_validation() -> None:
    assert CreditingPolicy(co_surgeon="0.625").co_surgeon == D("0.625")  # type: ignore[arg-type]
    assert CreditingPolicy(bilateral=1.5).bilateral == D("1.5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="between 0 and 10"):
        CreditingPolicy(bilateral=D("-1"))
    with pytest.raises(ValueError, match="credit_on"):
        CreditingPolicy(credit_on="billed")  # type: ignore[arg-type]


def test_combined_factor_follows_medicare_order() -> None:
    policy = CreditingPolicy()
    factor, effects = policy.combined(0b11)  # bilateral and multiple procedure
    assert factor == D("0.75")
    assert effects[:2] == (D("0.5"), D("-0.75"))
    assert CreditingPolicy.off().combined(0b11111)[0] == 1


def test_a_combined_factor_with_more_places_is_rounded_at_12() -> None:
    policy = CreditingPolicy(multiple_procedure=D("0.1234567"), co_surgeon=D("0.7654321"))
    factor, effects = policy.combined(0b110)
    assert factor == (D("0.1234567") * D("0.7654321")).quantize(D("1e-12"))
    assert sum(effects, D(0)) == factor - 1
