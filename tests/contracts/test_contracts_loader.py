"""Bad contracts: every problem, with its file and line, all at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

from paycascade.contracts.loader import load_contracts
from paycascade.diagnostics import Diagnostics


def problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    (tmp_path / "contracts").mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / "contracts" / name).write_text(textwrap.dedent(text).lstrip("\n"))
    diags = Diagnostics()
    load_contracts(tmp_path, diags)
    return [d.format() for d in diags.sorted()]


def test_every_problem_at_once_with_its_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "bad.yaml": """
            contracts:
              - contract: p
                kind: p4p
                payr: BCBS
                tiers:
                  - {min_score: 0.8, rate: 0.02}
                  - {min_score: 0.7, rate: 0.03}
              - contract: b
                kind: bundel
                payer: CMS
              - contract: c
                kind: capitation
                payer: Humana
                pmpm: "lots"
                risk_share: 1.5
                allocation:
                  losses: keep
                  shares:
                    - {to: pool:pcp, share: 0.7}
                    - {to: reserves, share: 0.2}
                    - {to: pool, share: 0.1}
                    - {too: reserve, share: 0.1}
              - contract: m
                kind: mssp
                payer: CMS
                track: BASIC_B
                msr: 0.02
              - contract: m2
                kind: mssp
                payer: CMS
                track: BASIC_F
              - contract: m3
                kind: mssp
                payer: CMS
                track: ENHANCED
                msr: 0.025
              - contract: bb
                kind: bundle
                payer: CMS
                target_price: 100
                historical_price: 90
                quality_adjustment: {max_reduction: 0.1, maxreduction: 1}
              - contract: bb2
                kind: bundle
                payer: CMS
                start: 2026-06-01
                end: 2026-01-01
            """,
        },
    )
    assert found == [
        "contracts/bad.yaml:2: contract 'p': missing 'payer'",
        "contracts/bad.yaml:4: contract 'p': unknown key 'payr' (did you mean 'payer'?)",
        "contracts/bad.yaml:7: contract 'p' tier 2: tiers must ascend: 0.7 after 0.8",
        "contracts/bad.yaml:9: contract 'b': unknown contract kind 'bundel' (did you mean 'bundle'?)",
        "contracts/bad.yaml:14: contract 'c': 'pmpm' must be a number, not 'lots'",
        "contracts/bad.yaml:15: contract 'c': 'risk_share' must be ≤ 1, not 1.5",
        "contracts/bad.yaml:17: contract 'c' allocation: 'losses' must be one of retained, "
        "pass_through, not 'keep'",
        "contracts/bad.yaml:20: contract 'c' allocation share 2: 'to' must be retained, reserve, "
        "infrastructure or pool:<name>, not 'reserves' (did you mean 'reserve'?)",
        "contracts/bad.yaml:21: contract 'c' allocation share 3: 'to' must be retained, reserve, "
        "infrastructure or pool:<name>, not 'pool' (did you mean 'pool:<name>'?)",
        "contracts/bad.yaml:22: contract 'c' allocation share 4: missing 'to'",
        "contracts/bad.yaml:22: contract 'c' allocation share 4: unknown key 'too' (did you mean 'to'?)",
        "contracts/bad.yaml:27: contract 'm': BASIC B is one-sided: the MSR comes from the "
        "beneficiary-count table; remove 'msr'",
        "contracts/bad.yaml:31: contract 'm2': unknown MSSP track 'BASIC_F' (expected one of A–E, "
        "EN, BASIC_A…BASIC_E, ENHANCED, TRACK_1, TRACK_1_PLUS, TRACK_2, TRACK_3)",
        "contracts/bad.yaml:36: contract 'm3': 'msr' 0.025 is not an MSSP election (0%, 0.5%, 1%, "
        "1.5%, 2%); omit it for the variable option (the beneficiary-count table)",
        "contracts/bad.yaml:40: contract 'bb': give either 'target_price' or 'historical_price' "
        "with 'trend' and 'discount', not both",
        "contracts/bad.yaml:42: contract 'bb' quality_adjustment: unknown key 'maxreduction' "
        "(did you mean 'max_reduction'?)",
        "contracts/bad.yaml:43: contract 'bb2': missing 'target_price' (or 'historical_price' "
        "with 'trend' and 'discount')",
        "contracts/bad.yaml:47: contract 'bb2': 'end' 2026-01-01 is before 'start' 2026-06-01",
    ]


def test_shares_summing_over_one(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "over.yaml": """
            contract: over
            kind: p4p
            payer: BCBS
            tiers: [{min_score: 0.8, rate: 0.02}]
            allocation:
              shares:
                - {to: pool:pcp, share: 0.7}
                - {to: reserve, share: 0.4}
                - {to: infrastructure, share: 1.2}
            """,
        },
    )
    assert found == [
        "contracts/over.yaml:6: contract 'over' allocation: shares sum to 1.1, more than 1 "
        "(what is left is retained)",
        "contracts/over.yaml:9: contract 'over' allocation share 3: 'share' must be ≤ 1, not 1.2",
    ]


def test_dated_terms_and_policies(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "dated.yaml": """
            contract: d
            kind: bundle
            payer: CMS
            historical_price: 25000
            trend:
              - {from: 2026-07-01, value: 0.03}
              - {from: 2026-01-01, value: 0.04}
            discount: {value: 0.03, source: "Exhibit B"}
            allocation:
              - {from: soon, value: {shares: []}}
              - {from: 2026-01-01, value: [{to: reserve, share: 0.1}]}
            """,
        },
    )
    assert found == [
        "contracts/dated.yaml:7: contract 'd': 'trend' dates must ascend: 2026-01-01 after "
        "2026-07-01",
        "contracts/dated.yaml:10: contract 'd': 'allocation' from must be a date YYYY-MM-DD, not "
        "'soon'",
        "contracts/dated.yaml:11: contract 'd': 'allocation' must be a mapping with 'shares' and "
        "'losses' (see docs/CONTRACTS.md)",
    ]


def test_files_that_are_not_contracts(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "broken.yaml": "contract: x\n  kind: [\n",
            "empty.yaml": "",
            "list.yaml": "- 1\n- 2\n",
            "many.yaml": "contracts: 3\nnotes: x\n",
            "items.yaml": "contracts:\n  - just text\n",
        },
    )
    assert found == [
        "contracts/broken.yaml:2: malformed YAML: mapping values are not allowed here",
        "contracts/empty.yaml: empty contract file",
        "contracts/items.yaml:2: each contract must be a mapping",
        "contracts/list.yaml:1: a contract file must be a mapping with 'contract:' and 'kind:', "
        "or 'contracts: [...]'",
        "contracts/many.yaml:1: contract file: 'contracts' must be a list of contracts",
        "contracts/many.yaml:2: contract file: unknown key 'notes' (did you mean 'note'?)",
    ]


def test_ids_are_unique_across_files(tmp_path: Path) -> None:
    one = "contract: p\nkind: p4p\npayer: X\ntiers: [{min_score: 1, rate: 0.01}]\n"
    found = problems(tmp_path, {"a.yaml": one, "b.yaml": "# the same again\n" + one})
    assert found == ["contracts/b.yaml:2: contract id 'p' is already used by contracts/a.yaml:1"]


def test_a_good_contract_beside_a_bad_one_still_loads(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "good.yaml").write_text(
        "contract: g\nkind: capitation\npayer: H\npmpm: 10\nstart: 2026-01-01\n"
    )
    (tmp_path / "contracts" / "bad.yaml").write_text("contract: b\nkind: capitation\npayer: H\n")
    diags = Diagnostics()
    specs = load_contracts(tmp_path, diags)
    assert list(specs) == ["g"]
    assert diags.format() == "contracts/bad.yaml:1: contract 'b': missing 'pmpm'"


def test_no_contracts_folder_is_no_contracts(tmp_path: Path) -> None:
    diags = Diagnostics()
    assert load_contracts(tmp_path, diags) == {}
    assert not diags.items
