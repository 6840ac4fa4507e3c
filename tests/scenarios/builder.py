"""A tiny workspace with real CY2023 PFS rows, for hand-computed scenario tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

HEADER = (
    "HCPCS,MOD,STATUS_CODE,NOT_USED_FOR_MEDICARE_PAYMENT,WORK_RVU,NON_FAC_PE_RVU,"
    "NON_FAC_NA_INDICATOR,FACILITY_PE_RVU,FACILITY_NA_INDICATOR,MP_RVU,NON_FACILITY_TOTAL,"
    "FACILITY_TOTAL,PCTC_IND,GLOB_DAYS,PRE_OP,INTRA_OP,POST_OP,MULT_PROC,BILAT_SURG,ASST_SURG,"
    "CO_SURG,TEAM_SURG,ENDO_BASE,CONV_FACTOR,PHYS_SUPERVISION_DIAG_PROC,CALCULATION_FLAG,"
    "DIAG_IMAGING_FAMILY_IND,NON_FAC_PE_USED_FOR_OPPS_PAYMENT_AMOUNT,"
    "FAC_PE_USED_FOR_OPPS_PAYMENT_AMOUNT,MP_USED_FOR_OPPS_PAYMENT_AMOUNT"
)
# Rows exactly as in CMS's CY2023 PPRRVU file (January release), pprrvu_2023_jan.
PFS_ROWS = """\
99213,,A,,1.30,1.28,,0.53,,0.10,2.68,1.93,0,XXX,0.00,0.00,0.00,0,0,0,0,0,,33.8872,09,0,99,0.00,0.00,0.00
74177,,A,,1.82,7.58,,7.58,NA,0.12,9.52,9.52,1,XXX,0.00,0.00,0.00,4,0,9,0,0,,33.8872,09,0,88,11.50,11.50,0.13
74177,TC,A,,0.00,6.92,,6.92,NA,0.02,6.94,6.94,1,XXX,0.00,0.00,0.00,4,0,9,0,0,,33.8872,02,0,88,10.84,10.84,0.03
74177,26,A,,1.82,0.66,,0.66,,0.10,2.58,2.58,1,XXX,0.00,0.00,0.00,4,0,9,0,0,,33.8872,09,0,88,0.00,0.00,0.00
"""

FLAT = """\
plan: flat
name: Pure wRVU
components:
  - id: production
    kind: productivity
    method: flat
    conversion_factor: 50.00
"""

VALUE = """\
plan: value
name: Redesigned (low wRVU rate, ACO pass-through)
components:
  - id: production
    kind: productivity
    method: flat
    conversion_factor: 10.00
  - id: aco
    kind: shared_savings
    pool: rad
    method: equal
"""

MSSP = """\
contract: aco
kind: mssp
payer: CMS
track: ENHANCED
performance_year: 2024
msr: 0.02
allocation:
  losses: retained
  shares:
    - {to: "pool:rad", share: 0.5}
"""

PERFORMANCE = """\
contract_id,period,metric,value
aco,2026,assigned_beneficiaries,10000
aco,2026,benchmark,100000000.00
aco,2026,expenditures,97000000.00
aco,2026,quality_score,0.9
aco,2026,met_quality_standard,1
"""

RA, RB, RC = "1234567893", "1245319599", "1003000126"


def build(root: Path, *, contract: bool = False) -> Path:
    """Three physicians: two family physicians (99213) and a radiologist (74177-26).

    Without ``contract``: plan ``flat`` only.  With it: also plan ``value`` and an MSSP ACO
    whose 50% pool the value plan passes through."""
    (root / "plans").mkdir(parents=True)
    (root / "data" / "reference").mkdir(parents=True)
    (root / "paycascade.toml").write_text(
        '[organization]\nname = "Test Health"\n[run]\nperiod = "2026"\n'
        '[reference]\npfs = "data/reference/pfs.csv"\n',
        encoding="utf-8",
    )
    (root / "plans" / "flat.yaml").write_text(FLAT, encoding="utf-8")
    (root / "data" / "reference" / "pfs.csv").write_text(HEADER + "\n" + PFS_ROWS, "utf-8")
    (root / "data" / "physicians.csv").write_text(
        textwrap.dedent(f"""\
            npi,name,specialty,plan,fte,clinical_fte,group,pass_through_authorized
            {RA},Dr A,Family Medicine,flat,1.0,1.0,North,false
            {RB},Dr B,Family Medicine,flat,1.0,1.0,North,false
            {RC},Dr C,Radiology,flat,1.0,1.0,Imaging,true
            """),
        encoding="utf-8",
    )
    (root / "data" / "encounters.csv").write_text(
        textwrap.dedent(f"""\
            npi,service_date,hcpcs,modifiers,units,status
            {RA},2026-03-02,99213,,100,paid
            {RB},2026-04-02,99213,,50,paid
            {RC},2026-05-04,74177,26,1000,paid
            """),
        encoding="utf-8",
    )
    (root / "data" / "attribution.csv").write_text(
        f"npi,month,member_months,risk_score\n{RC},2026-01-01,1000,1.0\n", encoding="utf-8"
    )
    if contract:
        (root / "plans" / "value.yaml").write_text(VALUE, encoding="utf-8")
        (root / "contracts").mkdir()
        (root / "contracts" / "aco.yaml").write_text(MSSP, encoding="utf-8")
        (root / "data" / "contract_performance.csv").write_text(PERFORMANCE, encoding="utf-8")
    return root
