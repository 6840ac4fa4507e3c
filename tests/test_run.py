"""A workspace end to end: check, run, statements, reruns, and bad input that writes nothing."""

from __future__ import annotations

import csv
import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paycascade.cli import main

PFS = """HCPCS,MOD,STATUS_CODE,NOT_USED_FOR_MEDICARE_PAYMENT,WORK_RVU,NON_FAC_PE_RVU,NON_FAC_NA_INDICATOR,FACILITY_PE_RVU,FACILITY_NA_INDICATOR,MP_RVU,NON_FACILITY_TOTAL,FACILITY_TOTAL,PCTC_IND,GLOB_DAYS,PRE_OP,INTRA_OP,POST_OP,MULT_PROC,BILAT_SURG,ASST_SURG,CO_SURG,TEAM_SURG,ENDO_BASE,CONV_FACTOR,PHYS_SUPERVISION_DIAG_PROC,CALCULATION_FLAG,DIAG_IMAGING_FAMILY_IND,NON_FAC_PE_USED_FOR_OPPS_PAYMENT_AMOUNT,FAC_PE_USED_FOR_OPPS_PAYMENT_AMOUNT,MP_USED_FOR_OPPS_PAYMENT_AMOUNT
99213,,A,,1.30,1.28,,0.53,,0.10,2.68,1.93,0,XXX,0,0,0,0,0,0,0,0,,33.8872,09,,99,0,0,0
99214,,A,,1.92,1.70,,0.78,,0.17,3.79,2.87,0,XXX,0,0,0,0,0,0,0,0,,33.8872,09,,99,0,0,0
27447,,A,,19.60,,NA,10.84,,3.91,,34.35,0,090,0.10,0.80,0.10,2,1,2,1,0,,33.8872,09,,99,0,0,0
"""

PLAN = """
plan: pc
name: Primary care
components:
  - id: production
    kind: productivity
    method: flat
    conversion_factor:
      - {from: 2026-01-01, value: 50.00}
      - {from: 2026-07-01, value: 52.00, source: amendment 1}
    paid_share: 0.70
  - {id: panel, kind: panel, pmpm: 3.00}
  - id: quality
    kind: quality_incentive
    percent: 0.10
    of: [production]
    scorecard: card
scorecards:
  card:
    fallback: neutral
    measures:
      - {id: bp_control, direction: higher, threshold: 0.6, target: 0.8, min_denominator: 20}
"""

SURG = """
plan: surg
components:
  - id: production
    kind: productivity
    method: tiered_marginal
    tiers: [{up_to: 6000, rate: 55}, {rate: 65}]
  - id: withhold
    kind: withhold
    rate: 0.10
    of: [production]
    scorecard: outcomes
    forfeits: {to: strong_performers, bonus_threshold: 0.9}
scorecards:
  outcomes:
    measures:
      - {id: ssi, direction: lower, threshold: 0.04, target: 0.02, min_denominator: 10}
"""


def write_workspace(
    root: Path, *, physicians: str | None = None, encounters: str | None = None
) -> Path:
    (root / "plans").mkdir(parents=True)
    (root / "data" / "reference").mkdir(parents=True)
    (root / "paycascade.toml").write_text(
        '[organization]\nname = "Test Health"\n[run]\nperiod = "2026"\n'
        '[reference]\npfs = "data/reference/pfs.csv"\n',
        encoding="utf-8",
    )
    (root / "plans" / "pc.yaml").write_text(PLAN, encoding="utf-8")
    (root / "plans" / "surg.yaml").write_text(SURG, encoding="utf-8")
    (root / "data" / "reference" / "pfs.csv").write_text(PFS, encoding="utf-8")
    (root / "data" / "physicians.csv").write_text(
        physicians
        or textwrap.dedent("""\
            npi,name,specialty,plan,fte,clinical_fte,group
            1234567893,Dr A,Family Medicine,pc,1.0,1.0,North
            1245319599,Dr B,Family Medicine,pc,0.6,0.6,North
            1003000126,Dr C,Orthopedic Surgery,surg,1.0,1.0,Ortho
            """),
        encoding="utf-8",
    )
    (root / "data" / "encounters.csv").write_text(
        encounters
        or textwrap.dedent("""\
            npi,service_date,hcpcs,modifiers,units,status
            1234567893,2026-02-03,99214,,1,paid
            1234567893,2026-08-03,99213,,2,paid
            1234567893,2026-08-04,99213,,1,denied
            1245319599,2026-03-01,99213,,1,paid
            1003000126,2026-04-01,27447,,1,paid
            1003000126,2026-05-01,27447,62,1,paid
            """),
        encoding="utf-8",
    )
    (root / "data" / "quality.csv").write_text(
        "npi,measure,numerator,denominator\n1234567893,bp_control,35,50\n1003000126,ssi,1,40\n",
        encoding="utf-8",
    )
    (root / "data" / "attribution.csv").write_text(
        "npi,month,member_months,risk_score\n1234567893,2026-01-01,1000,1.1\n1245319599,2026-01-01,500,0.9\n",
        encoding="utf-8",
    )
    return root


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_run_writes_explained_to_the_cent_outputs(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    code, output = _invoke("run", str(ws))
    assert code == 0, output
    (out,) = [p for p in (ws / "out").iterdir() if p.is_dir()]
    statements = {r["npi"]: r for r in _rows(out / "statements.csv")}
    assert set(statements) == {"1234567893", "1245319599", "1003000126"}
    # Dr A: H1 1.92 wRVU × $50 × 70% = $67.20; H2 2.60 (the denied line is not credited) × $52 × 70% = $94.64
    # panel 1,000 × $3 = $3,000; quality 10% × ($67.20 + $94.64) × score 0.5 (35/50 = 0.7) = $6.72 + $9.46
    a = statements["1234567893"]
    assert Decimal(a["total"]) == Decimal("67.20") + Decimal("94.64") + Decimal(
        "3000.00"
    ) + Decimal("3.36") + Decimal("4.73")
    assert a["value"] == "3000.00"
    # Dr C: 19.60 + 19.60 × 62.5% = 31.85 wRVU × $55 = $1,751.75; 10% withheld = $175.18 (half up)
    # SSI 1/40 = 0.025 → (0.04 − 0.025)/0.02 = 0.75 pts → payout linear 75% = $131.39; forfeits $43.79 retained
    c = statements["1003000126"]
    assert Decimal(c["total"]) == Decimal("1751.75") - Decimal("175.18") + Decimal("131.39")
    ledger = _rows(out / "ledger.csv")
    for npi, row in statements.items():
        net = Decimal(0)
        for posting in ledger:
            if posting["destination"] == f"physician:{npi}":
                net += Decimal(posting["amount"])
            elif posting["source"] == f"physician:{npi}":
                net -= Decimal(posting["amount"])
        assert net == Decimal(row["total"])
    first = next(p for p in ledger if p["npi"] == "1234567893" and p["component"] == "production")
    assert first["explanation"] == "1.92 wRVU × $50.00 × 70% = $67.20"
    assert first["plan_file"] == "plans/pc.yaml"
    run_record = json.loads((out / "run.json").read_text())
    assert {i["file"] for i in run_record["inputs"]} >= {
        "data/encounters.csv",
        "data/physicians.csv",
    }
    assert run_record["engine_version"]


def test_rerun_is_byte_identical(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    assert _invoke("run", str(ws), "--quiet")[0] == 0
    (out,) = [p for p in (ws / "out").iterdir() if p.is_dir()]
    before = {name: (out / name).read_bytes() for name in ("ledger.csv", "statements.csv")}
    code, output = _invoke("run", str(ws), "--quiet")
    assert code == 0
    assert output.strip() == str(out)
    assert {name: (out / name).read_bytes() for name in before} == before


def test_bad_input_reports_everything_and_writes_nothing(tmp_path: Path) -> None:
    ws = write_workspace(
        tmp_path / "ws",
        physicians="npi,name,specialty,plan,fte\n1234567893,Dr A,FM,pc,1\n1234567893,Dr A2,FM,pc,1\n1245319599,Dr B,FM,nope,1\n",
        encounters="npi,service_date,hcpcs,units\n1234567893,2026-02-03,99214,-1\n1234567893,someday,99213,1\n",
    )
    (ws / "plans" / "broken.yaml").write_text(
        "plan: broken\ncomponents:\n  - {id: x, kind: salery}\n"
    )
    code, output = _invoke("run", str(ws))
    assert code == 1
    assert "plans/broken.yaml:3: component 'x': unknown component kind 'salery'" in output
    assert "data/encounters.csv:2:units:" in output
    assert "data/encounters.csv:3:service_date:" in output
    assert "data/physicians.csv:" in output and "duplicate" in output.lower()
    assert "nothing was written" in output
    assert (
        "data/physicians.csv:4:plan: unknown plan 'nope' (plans: broken, pc, surg)" in output
        or ("data/physicians.csv:4:plan: unknown plan 'nope'" in output)
    )
    assert not (ws / "out").exists()


def test_check_lists_problems_as_json_and_exits_1(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "plans" / "pc.yaml").write_text(PLAN.replace("paid_share: 0.70", "paid_share: 7"))
    code, output = _invoke("check", str(ws), "--json")
    assert code == 1
    report = json.loads(output[output.index("{") :])
    assert report["ok"] is False
    assert any(
        p["file"] == "plans/pc.yaml" and "paid_share" in p["message"] for p in report["problems"]
    )
    good = write_workspace(tmp_path / "good")
    assert _invoke("check", str(good))[0] == 0


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_statement_formats(tmp_path: Path, fmt: str) -> None:
    ws = write_workspace(tmp_path / "ws")
    assert _invoke("run", str(ws), "--quiet")[0] == 0
    code, output = _invoke("statement", str(ws), "--npi", "1234567893", "--format", fmt)
    assert code == 0, output
    if fmt == "json":
        data = json.loads(output)
        assert data["npi"] == "1234567893"
        assert data["scorecards"][0]["measures"][0]["measure"] == "bp_control"
        assert any("amendment 1" in line["inputs"].get("parameter", "") for line in data["lines"])
    elif fmt == "html":
        assert output.startswith("<!doctype html>")
        assert "1.92 wRVU × $50.00 × 70% = $67.20" in output
    else:
        assert "1.92 wRVU × $50.00 × 70% = $67.20" in output
        assert "rule: plans/pc.yaml:" in output
        assert "Scorecard card" in output


def test_statement_for_unknown_npi_or_no_run(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    code, output = _invoke("statement", str(ws), "--npi", "1234567893")
    assert code != 0 and "no run found" in output
    _invoke("run", str(ws), "--quiet")
    code, output = _invoke("statement", str(ws), "--npi", "9999999999")
    assert code != 0 and "has no statement" in output


def test_a_pool_distributed_twice_is_reported(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    for name in ("pc", "surg"):
        text = (ws / "plans" / f"{name}.yaml").read_text()
        text = text.replace(
            "components:\n",
            "components:\n  - {id: savings, kind: shared_savings, pool: aco, method: equal}\n",
            1,
        )
        (ws / "plans" / f"{name}.yaml").write_text(text)
    code, output = _invoke("check", str(ws))
    assert code == 1
    assert (
        "plans/surg.yaml:4: component 'savings': pool:aco is already distributed by 'savings' "
        "of plan 'pc' (plans/pc.yaml:5); a pool has one distributing component"
    ) in output


encounter_st = st.lists(
    st.tuples(
        st.sampled_from(["1234567893", "1245319599", "1003000126"]),
        st.integers(min_value=1, max_value=365),
        st.sampled_from(["99213", "99214", "27447"]),
        st.sampled_from(["", "62", "51", "80"]),
        st.integers(min_value=0, max_value=4),
        st.sampled_from(["paid", "denied", "submitted"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=encounter_st)
def test_reruns_are_byte_identical_for_any_encounters(
    lines: list[tuple[str, int, str, str, int, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from datetime import date, timedelta

    rows = ["npi,service_date,hcpcs,modifiers,units,status"]
    for npi, day, code, mod, units, status in lines:
        when = date(2026, 1, 1) + timedelta(days=day - 1)
        rows.append(f"{npi},{when.isoformat()},{code},{mod},{units},{status}")
    base = tmp_path_factory.mktemp("rerun")
    first = write_workspace(base / "a", encounters="\n".join(rows) + "\n")
    second = write_workspace(base / "b", encounters="\n".join(rows) + "\n")
    outputs = []
    for ws in (first, first, second):
        code, output = _invoke("run", str(ws), "--quiet")
        assert code == 0, output
        out = Path(output.strip())
        outputs.append(
            (out.name, (out / "ledger.csv").read_bytes(), (out / "statements.csv").read_bytes())
        )
    # the same run id and the same bytes, rerun in place or in another folder
    assert outputs[0] == outputs[1] == outputs[2]


def test_gc_paused_restores_the_collector_even_on_error() -> None:
    import gc

    from paycascade.runner import gc_paused

    seen: list[bool] = []

    @gc_paused
    def inner(fail: bool) -> None:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("bad input")

    assert gc.isenabled()
    inner(False)
    with pytest.raises(ValueError, match="bad input"):
        inner(True)
    assert seen == [False, False] and gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        inner(False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_input_digests_are_the_files_sha256_and_a_missing_file_is_raised_where_asked(
    tmp_path: Path,
) -> None:
    import hashlib

    from paycascade.runner import Digests

    files = []
    for k, size in enumerate((0, 5, 3 << 20)):  # empty, small, several read chunks
        path = tmp_path / f"f{k}.bin"
        path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
        files.append(path)
    gone = tmp_path / "gone.csv"
    digests = Digests([*files, gone])
    assert digests.of(files[2]) == hashlib.sha256(files[2].read_bytes()).hexdigest()
    digests.start()  # started once, however often asked
    for path in files:
        assert digests.of(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(FileNotFoundError):
        digests.of(gone)


def test_the_run_records_each_input_file_digest(tmp_path: Path) -> None:
    import hashlib

    ws = write_workspace(tmp_path / "ws")
    assert _invoke("run", str(ws), "--quiet")[0] == 0
    (out,) = [p for p in (ws / "out").iterdir() if p.is_dir()]
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    recorded = {i["file"]: i["sha256"] for i in manifest["inputs"]}
    on_disk = {
        p.relative_to(ws).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (ws / "data").rglob("*")
        if p.is_file()
    }
    assert recorded == on_disk and on_disk


def test_a_digest_that_fails_in_any_way_is_raised_where_asked_never_awaited_forever(
    tmp_path: Path,
) -> None:
    from unittest.mock import patch

    from paycascade import runner

    path = tmp_path / "f.csv"
    path.write_text("a\n", encoding="utf-8")

    def broken(_: Path) -> str:
        raise ValueError("not a hashing error the reader expects")

    with patch.object(runner, "_sha256", broken):
        digests = runner.Digests([path])
        with pytest.raises(ValueError, match="not a hashing error"):
            digests.of(path)


def test_a_workspace_whose_path_has_glob_characters_reads_its_own_files(tmp_path: Path) -> None:
    # DuckDB's readers expand *, ? and [ even in a plain file path: before the paths were
    # escaped, "Comp [a] */data/…" read the files of "Comp a xyz/data/…" instead
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    other = "npi,service_date,hcpcs,modifiers,units,status\n1234567893,2026-02-03,99215,,9,paid\n"
    folders = {
        "plain": write_workspace(tmp_path / "plain"),
        "odd": write_workspace(tmp_path / "Comp [a] *"),
        "decoy": write_workspace(tmp_path / "Comp a xyz", encounters=other),
    }
    for ws in folders.values():  # the lines as Parquet, the other tables as CSV
        csv_path = ws / "data" / "encounters.csv"
        pq.write_table(pacsv.read_csv(csv_path), ws / "data" / "encounters.parquet")
        csv_path.unlink()
    outputs = {}
    for name in ("plain", "odd"):
        code, output = _invoke("run", str(folders[name]), "--quiet")
        assert code == 0, output
        out = Path(output.strip())
        assert out.parent == folders[name] / "out"
        outputs[name] = [(out / f).read_bytes() for f in ("ledger.csv", "statements.csv")]
    assert outputs["odd"] == outputs["plain"]
    assert b"99215" not in outputs["odd"][0]


def test_a_workspace_under_a_question_mark_is_refused_before_anything_is_read(
    tmp_path: Path,
) -> None:
    # DuckDB cannot keep its database under a '?' (its write-ahead log goes astray): before this
    # was checked, the whole run was computed and then failed with "cannot rollback"
    ws = write_workspace(tmp_path / "what? comp")
    result = CliRunner().invoke(main, ["run", str(ws)])
    assert result.exit_code == 1
    assert "has a '?'" in result.output and "Traceback" not in result.output
    assert not (ws / "out").exists() and not (ws / ".paycascade").exists()
    code, output = _invoke("check", str(ws))  # checking needs no database
    assert code == 0, output


def test_contract_metrics_are_written_out_never_in_e_notation() -> None:
    # the ledger's inputs read "benchmark": "3.2E+9" (Decimal.normalize of 3,200,000,000)
    from types import SimpleNamespace

    import pyarrow as pa

    from paycascade.runner import _performance

    table = pa.table(
        {
            "contract_id": ["aco"] * 3,
            "period": ["2026"] * 3,
            "metric": ["benchmark", "quality_score", "member_months"],
            "value": pa.array(
                [Decimal("3200000000.0000"), Decimal("0.8240"), Decimal("3200000")],
                pa.decimal128(38, 4),
            ),
        }
    )
    metrics = _performance(SimpleNamespace(contract_performance=table))[("aco", "2026")]
    assert {k: str(v) for k, v in metrics.items()} == {
        "benchmark": "3200000000",
        "quality_score": "0.824",
        "member_months": "3200000",
    }
