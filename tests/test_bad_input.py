"""Bad input gets a clear error at its place, all at once, and a failed run writes nothing.

Regressions from a bad-input campaign: each test breaks a small workspace one way and checks
the exact message and position, the exit code, and that ``out/`` holds nothing half-way.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from paycascade.cli import main
from paycascade.demo.synth import npi_check_digit
from paycascade.diagnostics import Diagnostics
from paycascade.plans.loader import load_plans
from paycascade.runner import check
from tests.test_run import PLAN, write_workspace


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def _problems(ws: Path) -> list[str]:
    return [d.format() for d in check(ws).sorted()]


def _nothing_written(ws: Path) -> None:
    out = ws / "out"
    assert not out.is_dir() or not any(out.iterdir()), list(out.iterdir())


def _plan_problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / "bad.yaml").write_text(text, encoding="utf-8")
    diags = Diagnostics()
    load_plans(tmp_path, diags)
    return [d.format() for d in diags.sorted()]


# -- plans: YAML and dated values ---------------------------------------------------------------


def test_impossible_yaml_date_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    problems = _plan_problems(
        tmp_path,
        "plan: p\n"
        "components:\n"
        "  - id: base\n"
        "    kind: salary\n"
        "    annual:\n"
        "      - {from: 2026-01-01, value: 250000}\n"
        "      - {from: 2026-02-30, value: 260000}\n",
    )
    assert problems == [
        "plans/bad.yaml:7: component 'base': 'annual' from must be a date YYYY-MM-DD, "
        "not '2026-02-30'"
    ]


def test_unknown_key_in_a_value_with_source_is_reported(tmp_path: Path) -> None:
    problems = _plan_problems(
        tmp_path,
        "plan: p\n"
        "components:\n"
        "  - id: base\n"
        "    kind: salary\n"
        "    annual: {value: 250000, sorce: Offer letter}\n",
    )
    assert problems == [
        "plans/bad.yaml:5: component 'base': unknown key 'sorce' in 'annual' "
        "(did you mean 'source'?)"
    ]


def test_dated_entry_without_from_is_named(tmp_path: Path) -> None:
    problems = _plan_problems(
        tmp_path,
        "plan: p\n"
        "components:\n"
        "  - id: base\n"
        "    kind: salary\n"
        "    annual:\n"
        "      - {from: 2026-01-01, value: 250000, until: 2026-06-30}\n"
        "      - {form: 2026-07-01, value: 260000}\n",
    )
    assert problems == [
        "plans/bad.yaml:6: component 'base': unknown key 'until' in 'annual' "
        "(allowed: from, source, value)",
        "plans/bad.yaml:7: component 'base': 'annual' entry has no 'from' date",
        "plans/bad.yaml:7: component 'base': unknown key 'form' in 'annual' (did you mean 'from'?)",
    ]


_SALARY = "plan: p\ncomponents:\n  - id: base\n    kind: salary\n    annual: {value}\n"


_NUMBER = "must be a number"
_LARGE = "is too large a number"


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        # YAML 1.1 read these as octal 48, base-60 90, hex 48 and 48: pay was computed on them
        ("060", None),  # a leading zero is a zero: 60
        ("1:30", f"{_NUMBER}, not '1:30'"),
        ("0x30", f"{_NUMBER}, not '0x30'"),
        ("4_8", f"{_NUMBER}, not '4_8'"),
        ('"48,50"', f"{_NUMBER}, not '48,50'"),  # a decimal comma is not guessed
        ('"$250,000.00"', None),
        # tracebacks before (decimal.InvalidOperation)
        (".nan", f"{_NUMBER}, not 'nan'"),
        (".inf", f"{_NUMBER}, not 'inf'"),
        ("1e400", f"{_LARGE}, not '1e400'"),
        ("1.0e+400", f"{_LARGE}, not '1.0e+400'"),
        ("1e15", f"{_LARGE}, not '1000000000000000.0'"),
        ("10000000000000000", f"{_LARGE}, not '10000000000000000'"),
    ],
)
def test_plan_numbers_are_read_as_written_or_refused(
    tmp_path: Path, written: str, problem: str | None
) -> None:
    problems = _plan_problems(tmp_path, _SALARY.format(value=written))
    expected = (
        [] if problem is None else [f"plans/bad.yaml:5: component 'base': 'annual' {problem}"]
    )
    assert problems == expected


def test_a_leading_zero_is_decimal_not_octal_and_ids_keep_it(tmp_path: Path) -> None:
    # YAML 1.1 read 060 as octal 48; YAML 1.2 would read the NQF measure 0018 as 18
    from datetime import date

    from paycascade.plans.yamlpos import load_yaml_text

    diags = Diagnostics()
    data = load_yaml_text("a: 060\nb: -007\nc: 1.50\nd: 0\n", "x.yaml", diags)
    assert data == {"a": "060", "b": "-007", "c": 1.5, "d": 0} and not diags
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "p.yaml").write_text(
        "plan: p\ncomponents:\n"
        "  - {id: base, kind: salary, annual: 060}\n"
        "  - {id: q, kind: quality_incentive, amount: 1000, scorecard: s}\n"
        "scorecards:\n  s:\n    measures:\n"
        "      - {id: 0018, direction: higher, weight: 1, threshold: 0.5, target: 0.8}\n",
        encoding="utf-8",
    )
    plans = load_plans(tmp_path, diags)
    assert not diags, diags.format()
    salary = plans["p"].components[0]
    assert salary.annual.at(date(2026, 1, 1)).value == 60  # type: ignore[attr-defined]
    assert [m.id for m in plans["p"].scorecards["s"].measures] == ["0018"]


@pytest.mark.parametrize("written", ["2026-01-01T00:00:00", "2026-01-01 09:30:00"])
def test_a_date_with_a_time_is_a_problem_not_a_traceback(tmp_path: Path, written: str) -> None:
    problems = _plan_problems(
        tmp_path,
        "plan: p\ncomponents:\n  - id: base\n    kind: salary\n    annual:\n"
        f"      - {{from: {written}, value: 250000}}\n",
    )
    assert problems == [
        f"plans/bad.yaml:6: component 'base': 'annual' from must be a date YYYY-MM-DD, "
        f"not '{written}'"
    ]


def test_a_quoted_date_is_a_date(tmp_path: Path) -> None:
    text = "plan: p\ncomponents:\n  - id: base\n    kind: salary\n    annual:\n"
    text += "      - {from: '2026-01-01', value: 250000}\n"
    assert _plan_problems(tmp_path, text) == []


def test_physicians_on_a_broken_plan_name_it_and_are_capped(tmp_path: Path) -> None:
    rows = ["npi,name,specialty,plan,fte"]
    rows += [f"{_valid_npi(i)},Dr {i},Family Medicine,pc,1.0" for i in range(25)]
    ws = write_workspace(tmp_path / "ws", physicians="\n".join(rows) + "\n")
    (ws / "data" / "encounters.csv").write_text(
        f"npi,service_date,hcpcs,units\n{_valid_npi(0)},2026-02-03,99213,1\n", encoding="utf-8"
    )
    # plan 'pc', which all 25 are on, does not parse
    broken = PLAN.replace("paid_share: 0.70", "paid_share: [0.70")
    (ws / "plans" / "pc.yaml").write_text(broken, encoding="utf-8")
    problems = [p for p in _problems(ws) if "plan" in p]
    hint = "(plans: surg; not loaded because of errors: plans/pc.yaml)"
    assert problems[0] == f"data/physicians.csv:2:plan: unknown plan 'pc' {hint}"
    assert len([p for p in problems if "unknown plan 'pc'" in p]) == 20
    assert "data/physicians.csv:22:plan: … and 5 more rows with the same problem" in problems
    assert problems[-1].startswith("plans/pc.yaml:")


def _valid_npi(i: int) -> str:
    """A 10-digit NPI with a valid check digit (Luhn with the 80840 prefix)."""
    body = f"1{i:08d}"
    return body + str(npi_check_digit(body))


# -- paycascade.toml ------------------------------------------------------------------------------


def test_malformed_toml_names_its_line(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    with (ws / "paycascade.toml").open("a", encoding="utf-8") as fh:
        fh.write('period = = "2026"\n')
    assert _problems(ws) == ["paycascade.toml:7: malformed TOML: Invalid value"]


def test_toml_value_where_a_section_belongs_and_unknown_keys(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "paycascade.toml").write_text(
        'organization = "Test Health"\n'
        "[run]\n"
        'perod = "2026"\n'
        "[rounding]\n"
        'mod = "half_even"\n'
        "[reference]\n"
        'pfs = "data/reference/pfs.csv"\n'
        "[tables]\n"
        'encounter = "data/encounters.csv"\n',
        encoding="utf-8",
    )
    assert _problems(ws) == [
        "paycascade.toml: no period: give --period or set [run] period",
        "paycascade.toml:1: organization must be a section [organization], not a value",
        "paycascade.toml:3: unknown key 'perod' in [run] (did you mean 'period'?)",
        "paycascade.toml:5: unknown key 'mod' in [rounding] (did you mean 'mode'?)",
        "paycascade.toml:9: unknown table 'encounter' in [tables] (did you mean 'encounters'?)",
    ]


# -- input tables ---------------------------------------------------------------------------------


def test_mixed_line_endings_name_the_line(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    path = ws / "data" / "encounters.csv"
    path.write_bytes(path.read_bytes() + b"1234567893,2026-09-01,99213,,1,paid\r\n")
    code, output = _invoke("run", str(ws))
    assert code == 1
    assert (
        "data/encounters.csv:8: cannot be read as CSV: this line ends with CRLF (Windows) but "
        "the lines before it end with LF; save the file with one kind of line ending"
    ) in output
    _nothing_written(ws)


def test_short_row_is_one_problem(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "data" / "quality.csv").write_text(
        "npi,measure,numerator,denominator\n1234567893,bp_control\n1003000126,ssi,1,40\n",
        encoding="utf-8",
    )
    problems = [p for p in _problems(ws) if p.startswith("data/quality.csv")]
    assert problems == ["data/quality.csv:2: malformed row: expected 4 values, found 2"]


def test_broken_parquet_is_named_without_engine_jargon(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "data" / "quality.csv").unlink()
    (ws / "data" / "quality.parquet").write_bytes(b"not parquet at all, just text")
    assert _problems(ws) == [
        "data/quality.parquet: cannot be read as Parquet: No magic bytes found at end of "
        "file data/quality.parquet"
    ]


def _encounters_parquet(ws: Path, name: str, table: object, **options: object) -> Path:
    import pyarrow.parquet as pq

    (ws / "data" / "encounters.csv").unlink(missing_ok=True)
    path = ws / "data" / "enc" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **options)  # type: ignore[arg-type]
    toml = ws / "paycascade.toml"
    if "[tables]" not in toml.read_text(encoding="utf-8"):
        with toml.open("a", encoding="utf-8") as fh:
            fh.write('[tables]\nencounters = "data/enc/*.parquet"\n')
    return path


def _lines(n: int, units: object) -> object:
    import pyarrow as pa

    return pa.table(
        {
            "npi": ["1234567893"] * n,
            "service_date": ["2026-02-03"] * n,
            "hcpcs": ["99213"] * n,
            "units": units,
            "patient_id": [f"patient {k:06d} {k * 7919 % 10007}" for k in range(n)],
        }
    )


def test_a_damaged_parquet_page_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    # the footer is sound (the file opens), a data page is not: it shows only when rows are read
    ws = write_workspace(tmp_path / "ws")
    n = 50_000
    path = _encounters_parquet(ws, "part0.parquet", _lines(n, [1] * n), compression="zstd")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    problems = _problems(ws)
    assert len(problems) == 1, problems
    assert problems[0].startswith("data/enc/part0.parquet: cannot be read: "), problems
    code, output = _invoke("run", str(ws))
    assert code == 1 and "Traceback" not in output
    _nothing_written(ws)


def test_parquet_files_whose_columns_cannot_be_combined_are_named(tmp_path: Path) -> None:
    import pyarrow as pa

    ws = write_workspace(tmp_path / "ws")
    _encounters_parquet(ws, "part0.parquet", _lines(3, [1, 2, 3]))
    _encounters_parquet(ws, "part1.parquet", _lines(2, pa.array([[1], [2]], pa.list_(pa.int32()))))
    problems = _problems(ws)
    assert len(problems) == 1, problems
    # DuckDB names the file it could not cast to the combined column type
    assert problems[0].split(": cannot be read: ")[0] in (
        "data/enc/part0.parquet",
        "data/enc/part1.parquet",
    ), problems
    assert '"units"' in problems[0]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_lines_outside_the_physicians_employment_are_errors(tmp_path: Path, fmt: str) -> None:
    # credited, the line after the end date was paid; in a tier-reset window with no day
    # employed, every wRVU of it was priced at the top tier (its thresholds prorated to zero)
    ws = write_workspace(
        tmp_path / "ws",
        physicians="npi,name,specialty,plan,fte,clinical_fte,group,start_date,end_date\n"
        "1234567893,Dr A,Family Medicine,pc,1.0,1.0,North,2026-02-15,2026-08-20\n"
        "1245319599,Dr B,Family Medicine,pc,0.6,0.6,North,,\n"
        "1003000126,Dr C,Orthopedic Surgery,surg,1.0,1.0,Ortho,2020-01-01,\n",
        encounters="npi,service_date,hcpcs,modifiers,units,status\n"
        "1234567893,2026-03-01,99214,,1,paid\n"
        "1234567893,2026-10-01,99213,,2,paid\n"
        "1234567893,2025-11-03,99213,,1,paid\n"  # before the period: never credited
        "1234567893,2026-01-02,99213,,1,denied\n"
        "1245319599,2026-03-01,99213,,1,paid\n"
        "1003000126,2026-04-01,27447,,1,paid\n",
    )
    if fmt == "parquet":
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        source = ws / "data" / "encounters.csv"
        options = pacsv.ConvertOptions(column_types={"npi": "string", "hcpcs": "string"})
        pq.write_table(
            pacsv.read_csv(source, convert_options=options), source.with_suffix(".parquet")
        )
        source.unlink()
    name = f"data/encounters.{fmt}"
    after = "lines are credited only while the physician is employed: correct the date or the"
    assert _problems(ws) == [
        f"{name}:3:service_date: 2026-10-01 is after the physician's end_date 2026-08-20; "
        f"{after} end_date, or remove the line",
        f"{name}:5:service_date: 2026-01-02 is before the physician's start_date 2026-02-15; "
        f"{after} start_date, or remove the line",
    ]
    code, output = _invoke("run", str(ws))
    assert code == 1 and "2 error(s)" in output
    _nothing_written(ws)


def test_units_and_wrvu_beyond_a_million_are_errors_and_a_million_runs(tmp_path: Path) -> None:
    # 99,999,999,999,999 units passed the checks and overflowed the pipeline's DECIMAL(38)
    lines = "npi,service_date,hcpcs,units,wrvu\n"
    ws = write_workspace(
        tmp_path / "ws",
        encounters=lines + "1234567893,2026-02-03,99213,99999999999999,\n"
        "1234567893,2026-02-04,99213,1,1000000.0001\n",
    )
    assert _problems(ws) == [
        "data/encounters.csv:2:units: 99999999999999 is out of range; units must be >= 0 and "
        "<= 1000000",
        "data/encounters.csv:3:wrvu: 1000000.0001 is out of range; wrvu must be >= 0 and "
        "<= 1000000",
    ]
    ws = write_workspace(
        tmp_path / "big", encounters=lines + "1234567893,2026-02-03,99213,1000000,1000000\n"
    )
    code, output = _invoke("run", str(ws), "--quiet")
    assert code == 0, output


def test_a_numerator_above_its_denominator_is_a_warning(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "data" / "quality.csv").write_text(
        "npi,measure,numerator,denominator\n1234567893,bp_control,5100,510\n", encoding="utf-8"
    )
    diags = check(ws)
    assert not diags.has_errors()
    assert [d.format() for d in diags if d.file == "data/quality.csv"] == [
        "data/quality.csv:2:numerator: warning: numerator 5100 is more than denominator 510: a "
        "rate above 100% (right for an observed-to-expected ratio, not for a share of patients)"
    ]


def test_a_stipend_or_activity_no_plan_pays_is_a_warning(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "plans" / "extra.yaml").write_text(
        "plan: extra\ncomponents:\n"
        "  - {id: directorship, kind: stipend, stipend: medical_directorship, annual: 30000}\n"
        "  - {id: locum, kind: locum, daily_rate: 1900}\n",
        encoding="utf-8",
    )
    (ws / "data" / "stipends.csv").write_text(
        "npi,stipend\n1234567893,medical_directorshp\n1245319599,medical_directorshp\n"
        "1003000126,medical_directorship\n",
        encoding="utf-8",
    )
    (ws / "data" / "activities.csv").write_text(
        "npi,activity,date,quantity\n1234567893,locum_dya,2026-03-02,1\n", encoding="utf-8"
    )
    warnings = [d.format() for d in check(ws).sorted() if d.code.startswith("unknown_")]
    assert warnings == [
        "data/activities.csv:2:activity: warning: 'locum_dya' is not the activity of any plan's "
        "component: nothing is paid on it; did you mean 'locum_day'?",
        "data/stipends.csv:2:stipend: warning: 'medical_directorshp' is not the stipend of any "
        "plan's component: nothing is paid on it (nor on 1 more rows); did you mean "
        "'medical_directorship'?",
    ]


def test_an_xlsx_formula_without_a_saved_value_is_an_error(tmp_path: Path) -> None:
    import openpyxl

    ws = write_workspace(tmp_path / "ws")
    (ws / "data" / "quality.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["npi", "measure", "numerator", "denominator"])
    sheet.append(["1234567893", "bp_control", "=30+5", 50])  # openpyxl saves no value for it
    book.save(ws / "data" / "quality.xlsx")
    assert _problems(ws) == [
        "data/quality.xlsx:2:numerator: formula '=30+5' has no saved value (the workbook was "
        "written by a program that does not compute formulas): open and save it in a "
        "spreadsheet program, or write the value",
        "data/quality.xlsx:2:numerator: missing value (numerator is required)",
    ]


def test_a_header_longer_than_the_first_read_is_read_whole(tmp_path: Path) -> None:
    # 8,000 x_ columns (> 64 KiB) before the real ones: "no data rows" and "missing npi" before
    ws = write_workspace(tmp_path / "ws")
    extra = ",".join(f"x_{i}" for i in range(8000))
    blanks = "," * 8000
    (ws / "data" / "quality.csv").write_text(
        f"{extra},npi,measure,numerator,denominator\n{blanks}1234567893,bp_control,35,50\n",
        encoding="utf-8",
    )
    assert _problems(ws) == []


def test_a_configuration_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    config = ws / "paycascade.toml"
    config.write_bytes(b"\xef\xbb\xbf" + config.read_bytes() + b"[rounding]\nmode = 'down'\n")
    # read, and its problems still name their lines
    assert _problems(ws) == [
        "paycascade.toml:8: [rounding] mode must be half_up or half_even, not 'down'"
    ]


def test_xlsx_formulas_with_saved_values_are_read(tmp_path: Path) -> None:
    # as Excel saves them: a number, and an empty text result (=IF(…,"x","")) in a column the
    # table reads and in one of the user's own; an empty text result is not "no saved value"
    import zipfile

    import openpyxl

    ws = write_workspace(tmp_path / "ws")
    (ws / "data" / "quality.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["npi", "measure", "numerator", "denominator", "stratum", "x_flag"])
    sheet.append(["1234567893", "bp_control", "=30+5", 50, '=IF(1>2,"x","")', '=IF(1>2,"x","")'])
    path = ws / "data" / "quality.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml = xml.replace("<f>30+5</f><v />", "<f>30+5</f><v>35</v>")
    xml = xml.replace('<c r="E2"><f>', '<c r="E2" t="str"><f>').replace(
        '<c r="F2"><f>', '<c r="F2" t="str"><f>'
    )
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert _problems(ws) == []


# -- the PFS reference file -----------------------------------------------------------------------


def test_pfs_negative_rvu_and_rows_after_a_malformed_row(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    path = ws / "data" / "reference" / "pfs.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1] + ",extra"  # malformed: one value too many
    lines[2] = lines[2].replace(",1.92,", ",-1.92,")
    lines.append(lines[3])  # 27447 again, on line 5
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = [p for p in _problems(ws) if p.startswith("data/reference/")]
    assert problems == [
        "data/reference/pfs.csv:2: malformed CSV row: Expected Number of Columns: 30 Found: 31",
        "data/reference/pfs.csv:3:work_rvu: -1.92 is negative; a work RVU must be >= 0",
        "data/reference/pfs.csv:5:hcpcs: duplicate HCPCS 27447 modifier '' (first on row 4); "
        "this row is ignored",
    ]


# -- writing a run ----------------------------------------------------------------------------------


def test_out_that_is_a_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "out").write_text("", encoding="utf-8")
    code, output = _invoke("run", str(ws))
    assert code == 1
    assert "out: cannot write the run: File exists\n1 error(s); nothing was written." in output
    assert (ws / "out").is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_out_is_an_error_and_leaves_no_staging_folder(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "out").mkdir()
    (ws / "out").chmod(0o555)
    try:
        code, output = _invoke("run", str(ws))
    finally:
        (ws / "out").chmod(0o755)
    assert code == 1
    assert "out: cannot write the run: Permission denied: out/." in output
    _nothing_written(ws)


def test_a_run_that_cannot_be_recorded_leaves_no_output(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / ".paycascade").write_text("", encoding="utf-8")  # the state folder is a file
    code, output = _invoke("run", str(ws))
    assert code == 1
    assert "cannot write the run: " in output
    assert output.splitlines()[-2].startswith(".paycascade")
    _nothing_written(ws)


def test_statement_to_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    assert _invoke("run", str(ws))[0] == 0
    target = tmp_path / "missing" / "st.html"
    code, output = _invoke("statement", str(ws), "--npi", "1234567893", "--out", str(target))
    assert code == 1
    assert f"Error: cannot write {target}: No such file or directory" in output


def test_a_rerun_that_cannot_be_recorded_keeps_the_earlier_output(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    assert _invoke("run", str(ws))[0] == 0
    (out,) = [p for p in (ws / "out").iterdir() if p.is_dir()]
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    state = ws / ".paycascade"
    shutil.rmtree(state)
    state.write_text("", encoding="utf-8")  # the run record can no longer be written
    code, output = _invoke("run", str(ws))
    assert code == 1
    assert "cannot write the run: " in output
    assert sorted(p.name for p in (ws / "out").iterdir()) == [out.name]  # nothing set aside left
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
