"""Ingestion: every problem reported at once, with its exact position and message."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from paycascade import ingest

from .conftest import Workspace, line, make_workspace, npi, physician, write_csv

D = Decimal
PHYSICIANS = [physician(1), physician(2)]


def test_a_clean_workspace_stages_typed_rows(ws: Workspace) -> None:
    ws.csv("physicians", [*PHYSICIANS, physician(3, provider_type="APP", supervising_npi=npi(1))])
    ws.csv(
        "encounters",
        [
            line(1, "99213", modifiers="51, rt:lt", units="2.5"),
            line(2, "71046", modifiers="26", status="Denied"),
            line(3, "x1234", wrvu="1.5"),
        ],
    )
    assert ws.messages() == []
    rows = ws.rows(
        "SELECT source_row, npi, hcpcs, modifiers, units, status, wrvu, pfs_modifier "
        "FROM stg_encounters ORDER BY source_row"
    )
    assert rows == [
        (2, npi(1), "99213", ["51", "RT", "LT"], D("2.5000"), "paid", None, ""),
        (3, npi(2), "71046", ["26"], D("1.0000"), "denied", None, "26"),
        (4, npi(3), "X1234", [], D("1.0000"), "paid", D("1.5000"), ""),
    ]
    phys = ws.rows("SELECT npi, fte, clinical_fte, provider_type FROM stg_physicians ORDER BY npi")
    assert phys[2] == (npi(3), D("1.0000"), D("1.0000"), "app")
    assert ws.rows("SELECT count(*) FROM rejects_encounters") == [(0,)]


def test_missing_required_table(ws: Workspace) -> None:
    assert ws.messages() == [
        "data/: no encounters table (looked for data/encounters.csv, .parquet, .xlsx)",
        "data/: no physicians table (looked for data/physicians.csv, .parquet, .xlsx)",
    ]


def test_needed_optional_table_missing(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.csv("encounters", [line(1, "99213")])
    assert ws.messages() == []
    assert ws.messages(needed={"quality"}) == [
        "data/: no quality table (looked for data/quality.csv, .parquet, .xlsx)"
    ]


def test_missing_required_column(ws: Workspace) -> None:
    ws.csv("physicians", [{k: v for k, v in p.items() if k != "npi"} for p in PHYSICIANS])
    ws.csv("encounters", [line(1, "99213")])
    assert ws.messages() == [
        "data/physicians.csv:1: missing required column 'npi' (found: name, specialty, plan, fte)"
    ]


def test_wrong_type_negative_bad_date_and_allowed_values(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.csv(
        "encounters",
        [
            line(1, "99213", units="-2"),
            line(1, "99213", units="abc"),
            line(1, "99213", "2026-02-30"),
            line(1, "99213", "03/01/2026"),
            line(1, "99213", status="pending"),
            line(1, "99213", units="1.23456"),
            {"npi": npi(1), "service_date": "2026-03-01", "hcpcs": ""},
        ],
    )
    assert ws.messages() == [
        "data/encounters.csv:2:units: -2 is negative; units must be >= 0",
        "data/encounters.csv:3:units: 'abc' is not a number",
        "data/encounters.csv:4:service_date: '2026-02-30' is not a date (YYYY-MM-DD)",
        "data/encounters.csv:5:service_date: '03/01/2026' is not a date (YYYY-MM-DD)",
        "data/encounters.csv:6:status: 'pending' is not one of paid, submitted, denied, void",
        "data/encounters.csv:7:units: '1.23456' has more than 4 decimal places",
        "data/encounters.csv:8:hcpcs: missing value (hcpcs is required)",
    ]
    # failed rows stay in input_ and are listed in rejects_; only the good ones are staged
    assert ws.rows("SELECT count(*) FROM input_encounters") == [(7,)]
    assert ws.rows("SELECT count(*) FROM stg_encounters") == [(0,)]
    assert ws.rows('SELECT file, "row", "column", message FROM rejects_encounters LIMIT 1') == [
        ("data/encounters.csv", 2, "units", "-2 is negative; units must be >= 0")
    ]


def test_npi_format_check_digit_duplicates_and_references(ws: Workspace) -> None:
    ws.csv(
        "physicians",
        [
            physician(1),
            physician(2, fte="2"),
            {**physician(3), "npi": "1234567890"},
            {**physician(4), "npi": "12345"},
            physician(1, name="Dr One again"),
            physician(5, provider_type="app", supervising_npi=npi(9)),
        ],
    )
    ws.csv("encounters", [line(1, "99213"), line(7, "99213"), line(1, "99213", npi="1234567893x")])
    assert ws.messages() == [
        f"data/encounters.csv:3:npi: {npi(7)} is not in the physicians table",
        "data/encounters.csv:4:npi: '1234567893x' is not a 10-digit NPI",
        f"data/physicians.csv:2:npi: duplicate NPI {npi(1)} (also on row 6)",
        "data/physicians.csv:3:fte: 2 is out of range; fte must be > 0 and <= 1.5",
        "data/physicians.csv:4:npi: 1234567890 is not a valid NPI (its check digit should be 3)",
        "data/physicians.csv:5:npi: '12345' is not a 10-digit NPI",
        f"data/physicians.csv:6:npi: duplicate NPI {npi(1)} (also on row 2)",
        f"data/physicians.csv:7:supervising_npi: {npi(9)} is not in the physicians table",
    ]


def test_unknown_hcpcs_unless_the_line_has_its_own_wrvu(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.csv(
        "encounters",
        [line(1, "ZZZZZ"), line(1, "ZZZZZ", wrvu="2"), line(1, "71046", modifiers="TC 51")],
    )
    assert ws.messages() == [
        "data/encounters.csv:2:hcpcs: 'ZZZZZ' is not in the PFS file and the line has no wrvu"
    ]
    assert ws.messages(pfs=False) == [
        "data/encounters.csv:2:hcpcs: 'ZZZZZ': no PFS file is configured ([reference] pfs in "
        "paycascade.toml) and the line has no wrvu",
        "data/encounters.csv:4:hcpcs: '71046': no PFS file is configured ([reference] pfs in "
        "paycascade.toml) and the line has no wrvu",
    ]


def test_empty_files(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.write("data/encounters.csv", "")
    ws.write("data/quality.csv", "npi,measure,numerator,denominator\n")
    assert ws.messages() == [
        "data/encounters.csv: no data rows",
        "data/quality.csv: warning: no data rows",
    ]
    ws.write("data/encounters.csv", "npi,service_date,hcpcs\n")
    assert ws.messages(needed={"quality"}) == [
        "data/encounters.csv: no data rows",
        "data/quality.csv: no data rows",
    ]


def test_malformed_and_binary_files(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.write(
        "data/encounters.csv",
        f"npi,service_date,hcpcs\n{npi(1)},2026-01-02,99213\n{npi(1)},2026-01-02,99213,extra\n"
        f"\n{npi(1)},2026-02-30,99213\n"
        f'{npi(1)},"2026-01-02,99213\n',
    )
    # the rows that can be read are checked too, each named by its spreadsheet row
    assert ws.messages() == [
        "data/encounters.csv:3: malformed row: expected 3 values, found 4",
        "data/encounters.csv:5:service_date: '2026-02-30' is not a date (YYYY-MM-DD)",
        "data/encounters.csv:6: malformed row: a quote is not closed, or a value has a stray quote",
    ]
    ws.write("data/encounters.csv", bytes(range(256)) * 8)
    assert ws.messages() == [
        "data/encounters.csv: cannot be read as CSV: the file has binary content"
    ]
    (ws.root / "data" / "encounters.csv").unlink()
    ws.write("data/encounters.xlsx", b"PK\x03\x04 not really a workbook")
    [message] = ws.messages()
    assert message.startswith("data/encounters.xlsx: cannot be read as an XLSX workbook: ")
    (ws.root / "data" / "encounters.xlsx").unlink()
    ws.write("data/encounters.parquet", b"not parquet at all")
    [message] = ws.messages()
    assert message.startswith("data/encounters.parquet: cannot be read as Parquet: ")


def test_rows_are_numbered_as_a_spreadsheet_shows_them(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.write(
        "data/encounters.csv",
        f"NPI,Service_Date,HCPCS,Units\n{npi(1)},2026-01-02,99213,1\n\n"
        f'{npi(1)},2026-01-02,99213,"-1"\n\n\n{npi(1)},2026-01-02,99213,x\n\n',
    )
    assert ws.messages() == [
        "data/encounters.csv:4:units: -1 is negative; units must be >= 0",
        "data/encounters.csv:7:units: 'x' is not a number",
    ]


def test_one_problem_on_many_rows_is_capped(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.csv("encounters", [line(1, "99213", units="-1") for _ in range(25)] + [line(1, "99213")])
    messages = ws.messages()
    assert len(messages) == 21
    assert messages[0] == "data/encounters.csv:2:units: -1 is negative; units must be >= 0"
    assert messages[19] == "data/encounters.csv:21:units: -1 is negative; units must be >= 0"
    assert messages[20] == "data/encounters.csv:22:units: … and 5 more rows with the same problem"
    assert ws.rows("SELECT count(*) FROM rejects_encounters") == [(25,)]
    assert ws.rows("SELECT source_row FROM stg_encounters") == [(27,)]


def test_xlsx_rows_and_cells(ws: Workspace) -> None:
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["NPI", "Name", "Specialty", "Plan", "FTE", "Start_Date"])
    sheet.append([int(npi(1)), "Dr One", "cardiology", "std", 1, datetime(2026, 1, 1)])
    sheet.append([])  # an empty row keeps its number
    sheet.append([int(npi(2)), "Dr Two", "cardiology", "std", 0.1 + 0.7, "2026-13-01"])
    (ws.root / "data").mkdir(parents=True, exist_ok=True)
    wb.save(ws.root / "data" / "physicians.xlsx")
    ws.csv("encounters", [line(1, "99213")])
    assert ws.messages() == [
        "data/physicians.xlsx:4:start_date: '2026-13-01' is not a date (YYYY-MM-DD)"
    ]
    sheet.cell(row=4, column=6, value=date(2026, 2, 1))
    wb.save(ws.root / "data" / "physicians.xlsx")
    assert ws.messages() == []
    assert ws.rows("SELECT source_row, npi, fte, start_date FROM stg_physicians") == [
        (2, npi(1), D("1.0000"), date(2026, 1, 1)),
        (4, npi(2), D("0.8000"), date(2026, 2, 1)),  # 0.1 + 0.7 is 0.8, as Excel shows it
    ]


def test_parquet_glob_names_the_file_and_its_row(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    folder = ws.root / "data" / "encounters"
    folder.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "npi": [npi(1), npi(2)],
                "service_date": [date(2026, 1, 5), date(2026, 1, 6)],
                "hcpcs": ["99213", "99214"],
                "units": pa.array([D("1"), D("2")], pa.decimal128(9, 2)),
            }
        ),
        folder / "part-1.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "NPI": [int(npi(1)), int(npi(2)), int(npi(1))],
                "service_date": ["2026-02-01", "2026-02-31", "2026-02-03"],
                "HCPCS": ["99213", "99213", "99213"],
                "units": [1.5, -3.0, 2.0],
                "modifiers": [["51"], [], ["26", "tc"]],
            }
        ),
        folder / "part-2.parquet",
    )
    assert ws.messages(table_paths={"encounters": "data/encounters/*.parquet"}) == [
        "data/encounters/part-2.parquet:3:service_date: '2026-02-31' is not a date (YYYY-MM-DD)",
        "data/encounters/part-2.parquet:3:units: -3.0 is negative; units must be >= 0",
    ]
    rows = ws.rows(
        "SELECT source_file, source_row, npi, units, modifiers, pfs_modifier FROM stg_encounters "
        "ORDER BY source_file, source_row"
    )
    assert rows == [
        ("data/encounters/part-1.parquet", 2, npi(1), D("1.0000"), [], ""),
        ("data/encounters/part-1.parquet", 3, npi(2), D("2.0000"), [], ""),
        ("data/encounters/part-2.parquet", 2, npi(1), D("1.5000"), ["51"], ""),
        ("data/encounters/part-2.parquet", 4, npi(1), D("2.0000"), ["26", "TC"], "26"),
    ]


def test_configured_path_that_matches_nothing(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    assert ws.messages(table_paths={"encounters": "data/enc/*.parquet"}) == [
        "data/enc/*.parquet: no file matches this path "
        "(the encounters table, from [tables] in paycascade.toml)"
    ]


def test_two_files_for_one_table(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.csv("encounters", [line(1, "99213")])
    write_csv(ws.root / "data" / "encounters.xlsx", [])
    assert ws.messages() == [
        "data/encounters.xlsx: two files for the encounters table: data/encounters.csv and "
        "data/encounters.xlsx; keep one, or name it under [tables] in paycascade.toml "
        "(reading data/encounters.csv)"
    ]


def test_warnings_do_not_reject(ws: Workspace) -> None:
    ws.csv("physicians", [*PHYSICIANS, physician(3, supervising_npi=npi(1))])
    ws.csv("encounters", [line(1, "99213")])
    ws.csv("attribution", [{"npi": npi(1), "month": "2026-03-15", "member_months": "10"}])
    diags = ws.load()
    assert not diags.has_errors()
    assert diags.format() == (
        "data/attribution.csv:2:month: warning: 2026-03-15 is not the first day of a month; "
        "counted in 2026-03\n"
        "data/physicians.csv:4:supervising_npi: warning: supervising_npi is used only for an APP "
        "(provider_type app); ignored here"
    )
    assert ws.rows("SELECT month FROM stg_attribution") == [(date(2026, 3, 1),)]


# -- the fast path of the row checks: distinct values, then rows only when something fails

_GOOD = {
    "npi": [npi(1), npi(2), " " + npi(1)],
    "service_date": ["2026-03-02", "2025-12-31", "2026-01-15", "2026-11-30"],
    "hcpcs": ["99213", "71046", " 99214 ", "x1234"],
    "modifiers": ["", "26", "TC", "51 rt", "80,62", "53"],
    "units": ["", "1", "2.5", "0"],
    "status": ["", "paid", "Denied", "void"],
    "wrvu": ["", "1.5"],
}
_BAD = {
    "npi": ["", "12345", "1234567890", npi(9)],
    "service_date": ["", "2026-02-30", "3/1/2026"],
    "hcpcs": ["", "ZZZZZ"],
    "units": ["-1", "abc", "1.23456"],
    "status": ["pending"],
    "wrvu": ["-0.5", "x", "0.123456"],
}


@st.composite
def _encounter_row(draw: st.DrawFn) -> dict[str, str]:
    """A line with at most one bad cell, so every kind of problem shows up alone too."""
    row = {k: draw(st.sampled_from(v)) for k, v in _GOOD.items()}
    bad = draw(st.sampled_from([None, *_BAD]))
    if bad is not None:
        row[bad] = draw(st.sampled_from(_BAD[bad]))
    if row["hcpcs"] == "x1234" and row["wrvu"] == "":
        row["wrvu"] = "1.5"  # a code not in the PFS file needs its own wrvu
    return row


#: (start_date, end_date) of the first physician: lines outside them are errors
_EMPLOYMENT = [("", ""), ("2026-02-01", ""), ("", "2026-06-30"), ("2026-03-02", "2026-03-02")]


def _clean(day: str, who: str = npi(1)) -> dict[str, str]:
    return {"npi": who, "service_date": day, "hcpcs": "99213", "modifiers": "", "units": "1",
            "status": "paid", "wrvu": ""}  # fmt: skip


@example([_clean("2026-01-15")], True, ("2026-02-01", ""))  # before the start
@example([_clean("2026-11-30"), _clean("2026-01-15")], True, ("", "2026-06-30"))  # after the end
@example([_clean("2025-12-31")], True, ("2026-02-01", ""))  # before the period: not credited
@example([_clean("2026-03-02"), _clean("2026-11-30", npi(2))], True, ("2026-03-02", "2026-03-02"))
@example([_clean("2025-12-31")], False, ("2026-02-01", ""))
@given(
    st.lists(_encounter_row(), min_size=1, max_size=6),
    st.booleans(),
    st.sampled_from(_EMPLOYMENT),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_checking_distinct_values_finds_a_problem_exactly_when_the_rows_have_one(
    rows: list[dict[str, str]], summed: bool, employment: tuple[str, str]
) -> None:
    """The fast paths say "no row fails" exactly when checking every row finds nothing: the
    distinct values of each check's columns, or (``summed``, with a run's buckets) the lines
    grouped by their key columns while the other columns are checked per line, and lines
    outside their physician's employment found from the first and last date of the sums."""
    verdicts: list[bool] = []
    buckets = ([date(2026, 1, 1), date(2026, 7, 1)], date(2026, 12, 31)) if summed else None

    real = ingest._passes_by_values

    def spy(ctx: Any, state: Any, rel: Any, checks: Any) -> bool:
        verdict = real(ctx, state, rel, checks)
        if state.spec.name != "encounters":
            return verdict
        verdicts.append(verdict)
        return False  # check every row too, to compare

    with (
        tempfile.TemporaryDirectory() as tmp,
        patch.object(ingest, "_passes_by_values", spy),
    ):
        ws = make_workspace(Path(tmp))
        start, end = employment
        ws.csv("physicians", [physician(1, start_date=start, end_date=end), physician(2)])
        ws.csv("encounters", rows)
        found = [d for d in ws.load(buckets=buckets) if d.file == "data/encounters.csv"]
        groups = ingest.line_groups(ws.con, "encounters")
    assert verdicts == [not found], [d.format() for d in found]
    # the sums are kept for the pipeline only when every line passed
    assert (groups is not None) == (summed and not found)


def _staged_counts(ws: Workspace) -> dict[str, int]:
    from paycascade.tables import TABLES

    return {s.name: ws.rows(f'SELECT count(*) FROM "stg_{s.name}"')[0][0] for s in TABLES}


def test_rows_read_is_what_was_staged_without_counting_the_lines_again(ws: Workspace) -> None:
    """Parquet rows come from the files' footers, text rows from their table, less rejects."""
    ws.csv("physicians", PHYSICIANS)
    folder = ws.root / "data" / "encounters"
    folder.mkdir(parents=True)
    for k, n in ((1, 3), (2, 5)):
        pq.write_table(
            pa.table(
                {
                    "npi": [npi(1)] * n,
                    "service_date": [date(2026, 1, 5)] * n,
                    "hcpcs": ["99213"] * n,
                }
            ),
            folder / f"part-{k}.parquet",
        )
    # a shifts file without its required column is left out; the other one is staged
    ws.write("data/shifts/a.csv", "npi,date,shift_type\n" + f"{npi(1)},2026-01-02,day\n" * 4)
    ws.write("data/shifts/b.csv", "npi,shift_type\n" + f"{npi(2)},night\n" * 2)
    ws.write("data/stipends.csv", "npi,stipend,annual_amount,start_date\n")
    paths = {"encounters": "data/encounters/*.parquet", "shifts": "data/shifts/*.csv"}
    ws.load(table_paths=paths)
    staged = _staged_counts(ws)
    assert staged["encounters"] == 8 and staged["shifts"] == 4 and staged["stipends"] == 0
    assert ingest.rows_read(ws.con) == staged


def test_rows_read_leaves_out_rejected_rows(ws: Workspace) -> None:
    ws.csv("physicians", PHYSICIANS)
    ws.csv(
        "encounters",
        [line(1, "99213"), line(2, "99213", units="-1"), line(1, "99214", service_date="x")],
    )
    assert len(ws.messages()) == 2
    staged = _staged_counts(ws)
    assert staged["encounters"] == 1
    assert ingest.rows_read(ws.con) == staged


def _encounters_parquet(path: Path, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "npi": [npi(1)] * n,
                "service_date": [date(2026, 1, 5)] * n,
                "hcpcs": ["99213"] * n,
                "modifiers": [""] * n,  # every check's columns present: the values' fast path
            }
        ),
        path,
    )


def test_rows_read_counts_a_file_a_glob_matches_twice_as_often_as_it_is_read(
    ws: Workspace,
) -> None:
    ws.csv("physicians", PHYSICIANS)
    _encounters_parquet(ws.root / "data" / "enc" / "part0.parquet", 3)
    _encounters_parquet(ws.root / "data" / "enc" / "part1.parquet", 2)
    (ws.root / "data" / "enc" / "part5.parquet").symlink_to("part0.parquet")
    diags = ws.load(table_paths={"encounters": "data/enc/*.parquet"})
    assert [d.format() for d in diags] == []  # no row checked one by one: footers counted
    staged = _staged_counts(ws)
    assert ingest.rows_read(ws.con) == staged and staged["encounters"] == 8


def test_parquet_outside_the_workspace_is_counted_and_not_called_empty(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.csv("physicians", PHYSICIANS)
    _encounters_parquet(tmp_path / "elsewhere" / "encounters.parquet", 4)
    diags = ws.load(table_paths={"encounters": "../elsewhere/encounters.parquet"})
    assert [d.format() for d in diags] == []
    assert ingest.rows_read(ws.con)["encounters"] == _staged_counts(ws)["encounters"] == 4
