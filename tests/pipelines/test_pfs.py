"""The CMS PFS relative value file loader."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from paycascade.diagnostics import Diagnostics
from paycascade.refdata.pfs import load_pfs

D = Decimal
REPO = Path(__file__).resolve().parents[2]

# The official layout: preamble, a header stacked over five lines, a DESCRIPTION column and an
# end-of-file control line (rows from PPRRVU23_JAN.csv; CPT descriptors, AMA copyright, replaced).
OFFICIAL = """\
,,2023 National Physician Fee Schedule Relative Value File January Release,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,CPT codes and descriptions only are copyright 2022 American Medical Association.,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,, ,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,,RELEASED 01/30/2023,,,,,,,,,,,,,,,,,,,,,,,,,,,,
,, , ,,,,,,,,,,,,,,,,,,,,,,,,,NON-FACILITY,FACILITY,
,,,,NOT USED,,,,,,,,,,,,,,,,,,,,,PHYSICIAN,,DIAGNOSTIC,PE USED,PE USED,MP USED
,,,,FOR,,,NON-FAC,,FACILITY ,,,,,,,,,,,,,,,,SUPERVISION OF,,IMAGING,FOR OPPS,FOR OPPS,FOR OPPS
,,,STATUS,MEDICARE ,WORK,NON-FAC,NA,FACILITY,NA,MP,NON-FACILITY,FACILITY,PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,ASST,CO-,TEAM,ENDO,CONV,DIAGNOSTIC,CALCULATION,FAMILY,PAYMENT,PAYMENT,PAYMENT
HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,TOTAL,TOTAL,IND,DAYS,OP,OP,OP,PROC,SURG,SURG,SURG,SURG,BASE,FACTOR,PROCEDURES,FLAG,INDICATOR,AMOUNT,AMOUNT,AMOUNT
A2001,,"(descriptor omitted, AMA copyright)",C,,0.00,0.00,,0.00,,0.00,0.00,0.00,9,XXX,0.00,0.00,0.00,9,9,9,9,9,,33.8872,09,0,99,0.00,0.00,0.00
27447,,(descriptor omitted),A,,19.60,14.82,NA,14.82,,3.93,38.35,38.35,0,090,0.10,0.69,0.21,2,1,2,1,0,,33.8872,09,0,99,0.00,0.00,0.00
71046,,(descriptor omitted),A,,0.22,0.77,,0.77,NA,0.02,1.01,1.01,1,XXX,0.00,0.00,0.00,0,0,0,0,0,,33.8872,09,0,99,2.61,2.61,0.05
71046,TC,(descriptor omitted),A,,0.00,0.69,,0.69,NA,0.01,0.70,0.70,1,XXX,0.00,0.00,0.00,0,0,0,0,0,,33.8872,01,0,99,2.53,2.53,0.04
71046,26,(descriptor omitted),A,,0.22,0.08,,0.08,,0.01,0.31,0.31,1,XXX,0.00,0.00,0.00,0,0,0,0,0,,33.8872,09,0,99,0.00,0.00,0.00
99213,,(descriptor omitted),A,,1.30,1.28,,0.55,,0.10,2.68,1.95,0,XXX,0.00,0.00,0.00,0,0,0,0,0,,33.8872,09,0,99,0.00,0.00,0.00
\x1a
"""


def cms_folder() -> Path | None:
    """``$PAYCASCADE_CMS_DATA`` or ``<repo>/../shared/data/cms``."""
    env = os.environ.get("PAYCASCADE_CMS_DATA")
    folder = Path(env) if env else REPO.parent / "shared" / "data" / "cms"
    return folder if folder.is_dir() else None


def load(path: Path) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    con = duckdb.connect()
    diags = Diagnostics()
    load_pfs(con, path, diags, display=path.name)
    return con, [d.format() for d in diags.sorted()]


def work(con: duckdb.DuckDBPyConnection, hcpcs: str, modifier: str = "") -> Decimal:
    rows = con.execute(
        "SELECT work_rvu FROM ref_pfs WHERE hcpcs = ? AND modifier = ?", [hcpcs, modifier]
    ).fetchall()
    assert len(rows) == 1, (hcpcs, modifier, rows)
    value: Decimal = rows[0][0]
    return value


@pytest.mark.cms
def test_the_real_cms_file() -> None:
    folder = cms_folder()
    if folder is None:
        if os.environ.get("CI"):
            pytest.fail("the CMS data folder is missing (set PAYCASCADE_CMS_DATA)")
        pytest.skip(
            "CMS PFS file not found: set PAYCASCADE_CMS_DATA or put shared/data/cms beside the repo"
        )
    con, messages = load(folder / "pfs_rvu_2023_jan" / "pprrvu_2023_jan_codes_rvus.csv")
    assert messages == []
    assert con.execute("SELECT count(*) FROM ref_pfs").fetchall() == [(18010,)]
    assert work(con, "99213") == D("1.30")
    assert work(con, "99214") == D("1.92")
    assert work(con, "27447") == D("19.60")
    assert work(con, "71046", "26") == D("0.22")
    assert work(con, "71046", "TC") == D("0.00")
    row = con.execute(
        "SELECT status_code, pctc_ind, mult_proc, bilat_surg, asst_surg, co_surg, conv_factor, "
        "non_fac_total, fac_total FROM ref_pfs WHERE hcpcs = '27447' AND modifier = ''"
    ).fetchall()
    assert row == [("A", "0", "2", "1", "2", "1", D("33.8872"), D("38.35"), D("38.35"))]


def test_the_official_layout(tmp_path: Path) -> None:
    path = tmp_path / "PPRRVU23_JAN.csv"
    path.write_text(OFFICIAL, encoding="utf-8")
    con, messages = load(path)
    assert messages == []
    assert con.execute("SELECT count(*) FROM ref_pfs").fetchall() == [(6,)]
    assert work(con, "27447") == D("19.60")
    assert work(con, "71046", "26") == D("0.22")
    row = con.execute(
        "SELECT status_code, co_surg, conv_factor, non_fac_total, fac_total, source_row "
        "FROM ref_pfs WHERE hcpcs = '99213'"
    ).fetchall()
    assert row == [("A", "0", D("33.8872"), D("2.68"), D("1.95"), 15)]


def test_duplicates_and_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "pfs.csv"
    path.write_text(
        "HCPCS,MOD,STATUS_CODE,WORK_RVU\n99213,,A,1.30\n99214,,A,x\n99213,,A,1.31\nTOOLONG,,A,1\n",
        encoding="utf-8",
    )
    con, messages = load(path)
    assert messages == [
        "pfs.csv:3:work_rvu: 'x' is not a work RVU",
        "pfs.csv:4:hcpcs: duplicate HCPCS 99213 modifier '' (first on row 2); this row is ignored",
        "pfs.csv:5:hcpcs: 'TOOLONG' is not a HCPCS code",
    ]
    assert work(con, "99213") == D("1.30")


def test_not_an_rvu_file(tmp_path: Path) -> None:
    path = tmp_path / "physicians.csv"
    path.write_text("npi,name\n1234567893,Dr A\n", encoding="utf-8")
    assert load(path)[1] == [
        "physicians.csv: not a CMS PFS relative value file: no header row starting with HCPCS "
        "in the first 60 lines"
    ]
    path.write_text("HCPCS,MOD,PRICE\n99213,,1\n", encoding="utf-8")
    assert load(path)[1] == [
        "physicians.csv:1: not a CMS PFS relative value file: no WORK RVU column "
        "(found: HCPCS, MOD, PRICE)"
    ]
    assert load(tmp_path / "absent.csv")[1] == ["absent.csv: PFS file not found"]
