"""Property: the wRVU mart, summed over buckets, is exactly the sum of the lines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from paycascade.ingest import line_groups
from paycascade.money import fmt_decimal
from paycascade.pipelines.aggregate import aggregate, make_buckets
from paycascade.pipelines.crediting import ADJUSTMENTS, CreditingPolicy
from paycascade.pipelines.views import exact, quantities

from .conftest import PFS_ROWS, Workspace, line, make_workspace, npi, physician

START, END = date(2026, 1, 1), date(2026, 12, 31)
POLICIES = {
    "custom": CreditingPolicy(
        multiple_procedure=Decimal("0.25"), co_surgeon=Decimal("0.6"), credit_on="submitted"
    )
}
PLAN_OF = {1: "std", 2: "custom"}
WORK = {(h, m): Decimal(w) for h, m, w in PFS_ROWS}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = make_workspace(Path(tmp_path_factory.mktemp("property")))
    ws.csv("physicians", [physician(n, plan=plan) for n, plan in PLAN_OF.items()])
    return ws


lines_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "n": st.sampled_from(sorted(PLAN_OF)),
            "hcpcs": st.sampled_from(["99213", "71046", "64721", "27447", "45378", "93306"]),
            "modifiers": st.lists(
                st.sampled_from(["26", "TC", "53", "50", "51", "62", "80", "AS", "FS", "RT"]),
                max_size=3,
                unique=True,
            ),
            "units": st.decimals(min_value=0, max_value=100, places=4),
            "day": st.dates(date(2025, 12, 20), date(2027, 1, 10)),
            "status": st.sampled_from(["paid", "submitted", "denied", "void"]),
            "wrvu": st.none() | st.decimals(min_value=0, max_value=50, places=2),
        }
    ),
    min_size=1,
    max_size=40,
)


def lines_and_breakpoints(test: Callable[..., None]) -> Callable[..., None]:
    """Random lines and plan breakpoints, the same few examples on every run."""
    return settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )(
        given(
            specs=lines_strategy,
            breakpoints=st.lists(st.dates(date(2025, 12, 1), date(2027, 1, 31)), max_size=3),
        )(test)
    )


def expected_wrvu(spec: dict[str, object]) -> Decimal:
    """A line's credited wRVU by the rules, computed in Python."""
    policy = POLICIES.get(PLAN_OF[int(str(spec["n"]))], CreditingPolicy())
    mods = list(spec["modifiers"])  # type: ignore[call-overload]
    hcpcs = str(spec["hcpcs"])
    pfs_mod = next((m for m in ("26", "TC", "53") if m in mods), "")
    if spec["wrvu"] is not None:
        base = Decimal(str(spec["wrvu"]))
    elif (hcpcs, pfs_mod) in WORK:
        base = WORK[(hcpcs, pfs_mod)]
    elif pfs_mod == "TC":
        base = Decimal(0)
    else:
        base = WORK[(hcpcs, "")]
    mask = sum(
        1 << k
        for k, (adj, triggers) in enumerate(ADJUSTMENTS)
        if policy.applies(adj) and any(t in mods for t in triggers)
    )
    return base * Decimal(str(spec["units"])) * policy.combined(mask)[0]


def credited(spec: dict[str, object]) -> bool:
    policy = POLICIES.get(PLAN_OF[int(str(spec["n"]))], CreditingPolicy())
    if policy.credit_on == "submitted":
        return spec["status"] != "void"
    return spec["status"] == "paid"


@lines_and_breakpoints
def test_mart_wrvu_equals_the_sum_of_lines(
    workspace: Workspace, specs: list[dict[str, object]], breakpoints: list[date]
) -> None:
    workspace.csv(
        "encounters",
        [
            line(
                int(str(s["n"])),
                str(s["hcpcs"]),
                s["day"].isoformat(),  # type: ignore[attr-defined]
                modifiers=" ".join(s["modifiers"]),  # type: ignore[arg-type]
                units=s["units"],
                status=s["status"],
                wrvu=s["wrvu"],
            )
            for s in specs
        ],
    )
    diags = workspace.load()
    assert not diags.has_errors(), diags.format()
    agg = workspace.run(policies=POLICIES, breakpoints=breakpoints)

    buckets = make_buckets(START, END, breakpoints)
    expected: dict[tuple[str, int], Decimal] = {}
    for s in specs:
        day: date = s["day"]  # type: ignore[assignment]
        if not (START <= day <= END) or not credited(s):
            continue
        bucket = max(b.index for b in buckets if b.start <= day)
        key = (npi(int(str(s["n"]))), bucket)
        expected[key] = expected.get(key, Decimal(0)) + expected_wrvu(s)

    got = {(r["npi"], r["bucket"]): r["wrvu"] for r in agg.wrvu.to_pylist()}
    assert got == expected
    [(line_sum,)] = workspace.rows(
        "SELECT coalesce(sum(wrvu), 0) FROM core_encounter_wrvu WHERE credited"
    )
    assert sum(got.values(), Decimal(0)) == line_sum


def _messy(spec: dict[str, object], k: int) -> dict[str, object]:
    """The same line as a user might write it: spacing, case and separators vary."""
    seps = [" ", ",", ":", "; ", " , "]
    mods = seps[k % len(seps)].join(list(spec["modifiers"]))  # type: ignore[call-overload]
    hcpcs = str(spec["hcpcs"])
    return line(
        int(str(spec["n"])),
        f" {hcpcs} " if k % 3 == 0 else hcpcs,
        spec["day"].isoformat(),  # type: ignore[attr-defined]
        modifiers=mods.lower() if k % 2 else f" {mods} ",
        units="" if spec["units"] == 1 else spec["units"],
        status=str(spec["status"]).upper() if k % 4 == 0 else spec["status"],
        wrvu=spec["wrvu"],
    )


@lines_and_breakpoints
def test_grouping_raw_lines_first_on_duckdb_gives_the_same_marts(
    workspace: Workspace, specs: list[dict[str, object]], breakpoints: list[date]
) -> None:
    """The DuckDB pushdown (raw cells grouped, while checked or later, then staged per group)
    equals the Ibis expression."""
    # every line twice, as written: groups of more than one line
    workspace.csv("encounters", [_messy(s, k) for k, s in enumerate(specs)] * 2)
    starts = [b.start for b in make_buckets(START, END, breakpoints)]
    # summed by the run's buckets in the pass that checks them
    diags = workspace.load(buckets=(starts, END))
    assert not diags.has_errors(), diags.format()
    assert line_groups(workspace.con, "encounters") is not None

    def marts(pushdown: bool) -> dict[str, object]:
        aggs = aggregate(
            workspace.con,
            run_id="parity",
            period_start=START,
            period_end=END,
            period_label="2026",
            breakpoints=breakpoints,
            policies=POLICIES,
            counted_codes=("99213", "71046"),
            pushdown=pushdown,
        )
        groups = workspace.rows("SELECT * FROM core_encounter_groups ORDER BY ALL")
        return {
            "groups": groups,
            **{
                name: getattr(aggs, name).to_pylist()
                for name in ("wrvu", "wrvu_adjustments", "wrvu_codes", "code_lines")
            },
        }

    summed_while_checked, generic = marts(True), marts(False)
    assert summed_while_checked == generic
    assert generic["groups"]  # the lines were grouped at all
    # other buckets than ingest summed by (a reform's): the raw lines are grouped again
    workspace.con.execute("DELETE FROM _pc_line_groups")
    assert marts(True) == generic


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.decimals(allow_nan=False),
        st.decimals(min_value=-(10**9), max_value=10**9, places=12),
        st.integers(min_value=-(10**40), max_value=10**40).map(lambda n: Decimal(n).scaleb(4)),
    )
)
def test_exact_is_the_value_without_trailing_zeros_or_e_notation(value: Decimal) -> None:
    # the mart decimals as the components and statements read them: the same value with the
    # digits and exponent of Decimal(format(value.normalize(), "f")) (exact() takes a quicker
    # way there), so every explanation prints it the same
    got = exact(value)
    if len(value.as_tuple().digits) <= 28:  # beyond the context's precision both round
        assert got == value
    assert got.as_tuple() == Decimal(format(value.normalize(), "f")).as_tuple()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.decimals(min_value=-(10**7), max_value=10**7, places=12),
            # ties at the third place, and values rounding to zero from either side
            st.integers(-(10**6), 10**6).map(lambda n: Decimal(n * 10 + 5).scaleb(-3)),
            st.integers(-9, 9).map(lambda n: Decimal(n).scaleb(-12)),
        ),
        max_size=30,
    )
)
def test_quantities_on_a_column_equal_fmt_decimal_per_value(values: list[Decimal | None]) -> None:
    # the statements' top-code wRVUs are rounded on the Arrow column; each text must be what
    # fmt_decimal (two places, half away from zero, separators) writes for the value
    column = pa.chunked_array([pa.array(values, pa.decimal128(38, 12))])
    expected = [fmt_decimal(exact(v)) for v in values]
    assert quantities(column) == expected


@settings(max_examples=300, deadline=None)
@example((38, 12), [0, 100, 10**5, None])  # Arrow writes 0E-12, 1.00E-10 and 1.00000E-7
@example((38, 4), [10**20, -(10**4), 5])
@given(
    st.sampled_from([(38, 12), (38, 4), (18, 4), (38, 8), (38, 0), (10, 2)]),
    st.lists(
        st.one_of(
            st.none(),
            st.integers(min_value=-(10**20), max_value=10**20),  # whole numbers, 100 and 0
            st.integers(min_value=-(10**7), max_value=10**7).map(lambda n: n * 10**5),
            st.integers(min_value=-(10**24), max_value=10**24),
        ),
        max_size=30,
    ),
)
def test_exact_values_of_a_column_are_exact_of_each_value(
    decimal_type: tuple[int, int], raw: list[int | None]
) -> None:
    # the marts' quantities are made exact on the Arrow column; each must carry the digits and
    # exponent exact() gives the value (100, not 1E+2; 1.5, not 1.500000000000)
    from paycascade.pipelines.views import exact_values

    precision, scale = decimal_type
    limit = 10 ** (precision - 1)
    values = [
        None if n is None else Decimal(max(-limit, min(limit, n))).scaleb(-scale) for n in raw
    ]
    column = pa.chunked_array([pa.array(values, pa.decimal128(precision, scale))])
    got = exact_values(column)
    expected = [exact(v) for v in values]
    assert [g.as_tuple() for g in got] == [e.as_tuple() for e in expected]
