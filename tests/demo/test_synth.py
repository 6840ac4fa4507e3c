"""The synthetic health system's data: deterministic, valid, realistic and honest about sources."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from paycascade.demo import synth
from paycascade.demo.synth import (
    PFS_CITATION,
    SynthSummary,
    demo_pfs_keys,
    generate_data,
    is_valid_npi,
    npi_check_digit,
    us_federal_holidays,
)

REPO = Path(__file__).resolve().parents[2]
SMALL = 60
YEAR = 2026

PLAN_BY_SPECIALTY = {
    "Family Medicine": "pcp-aligned",
    "Internal Medicine": "pcp-aligned",
    "Pediatrics": "pcp-aligned",
    "Endocrinology": "pcp-aligned",
    "Rheumatology": "pcp-aligned",
    "Hematology/Oncology": "pcp-aligned",
    "Cardiology": "cardio-ob-withhold",
    "Obstetrics & Gynecology": "cardio-ob-withhold",
    "Orthopedic Surgery": "surgery-tiered",
    "General Surgery": "surgery-tiered",
    "Urology": "surgery-tiered",
    "Hospital Medicine": "hospitalist-shift",
    "Gastroenterology": "specialist-wrvu",
    "Dermatology": "specialist-wrvu",
    "Neurology": "specialist-wrvu",
    "Radiology": "specialist-wrvu",
}
ALL_PLANS = {*PLAN_BY_SPECIALTY.values(), "academic", "locum", "new-hire-guarantee"}

# Plausible annual wRVU per 1.0 clinical FTE (specialty mean of regular physicians, annualised).
WRVU_BANDS = {
    "Family Medicine": (3800, 6500),
    "Internal Medicine": (3800, 6800),
    "Pediatrics": (3400, 6000),
    "Endocrinology": (3000, 5800),
    "Rheumatology": (2900, 5600),
    "Hematology/Oncology": (4500, 8500),
    "Cardiology": (6500, 11500),
    "Obstetrics & Gynecology": (5000, 9500),
    "Orthopedic Surgery": (6500, 12500),
    "General Surgery": (5200, 10000),
    "Urology": (5500, 10500),
    "Hospital Medicine": (3000, 5600),
    "Gastroenterology": (6500, 12500),
    "Dermatology": (5200, 10000),
    "Neurology": (3500, 6800),
    "Radiology": (8000, 14000),
    "Nurse Practitioner": (2200, 4500),
    "Physician Assistant": (2200, 4500),
}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def pfs_key(hcpcs: str, modifiers: str | None) -> tuple[str, str]:
    """(HCPCS, MOD) of the PFS row a line is priced by, as docs/DATA.md specifies."""
    tokens = (modifiers or "").replace(",", " ").replace(":", " ").upper().split()
    return hcpcs, next((t for t in tokens if t in ("26", "TC", "53")), "")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    return generate_data(tmp_path_factory.mktemp("a"), physicians=SMALL)


@pytest.fixture(scope="module")
def data(small: SynthSummary) -> Path:
    return small.root / "data"


@pytest.fixture(scope="module")
def physicians(data: Path) -> list[dict[str, str]]:
    return read_csv(data / "physicians.csv")


@pytest.fixture(scope="module")
def encounters(data: Path) -> dict[str, list[object]]:
    table: dict[str, list[object]] = pq.read_table(data / "encounters.parquet").to_pydict()
    return table


@pytest.fixture(scope="module")
def packaged_pfs() -> tuple[list[str], list[list[str]]]:
    return synth.load_demo_pfs()


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(small: SynthSummary, tmp_path: Path) -> None:
    again = generate_data(tmp_path, physicians=SMALL)
    first = sorted(
        p.relative_to(small.root) for p in (small.root / "data").rglob("*") if p.is_file()
    )
    second = sorted(p.relative_to(tmp_path) for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert first == second
    assert len(first) == 11
    for rel in first:
        assert (small.root / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
    assert again.rows == small.rows


def test_different_seed_gives_different_data(small: SynthSummary, tmp_path: Path) -> None:
    other = generate_data(tmp_path, physicians=SMALL, seed=7)
    for name in ("physicians.csv", "encounters.parquet", "quality.csv", "attribution.csv"):
        assert (small.root / "data" / name).read_bytes() != (tmp_path / "data" / name).read_bytes()
    # The reference file is the same CMS data whatever the seed.
    ref = Path("data/reference/pfs_rvu_demo.csv")
    assert (small.root / ref).read_bytes() == (tmp_path / ref).read_bytes()
    assert other.plans.keys() == small.plans.keys()


def test_too_few_physicians_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 40"):
        generate_data(tmp_path, physicians=39)


# --- NPIs ------------------------------------------------------------------------------------


def test_npi_check_digit_matches_cms_example() -> None:
    assert npi_check_digit("123456789") == 3
    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567894")
    assert not is_valid_npi("123456789")


def test_npis_valid_unique_and_referenced(data: Path, physicians: list[dict[str, str]]) -> None:
    npis = [p["npi"] for p in physicians]
    assert all(is_valid_npi(n) for n in npis)
    assert len(set(npis)) == len(npis) == SMALL
    known = set(npis)
    for table in ("quality", "attribution", "shifts", "stipends", "activities", "hours"):
        assert {r["npi"] for r in read_csv(data / f"{table}.csv")} <= known, table
    enc = pq.read_table(data / "encounters.parquet", columns=["npi"])
    assert set(pc.unique(enc["npi"]).to_pylist()) <= known
    for p in physicians:
        if p["provider_type"] == "app":
            boss = next(q for q in physicians if q["npi"] == p["supervising_npi"])
            assert boss["provider_type"] == "physician"
        else:
            assert p["supervising_npi"] == ""


# --- roster ----------------------------------------------------------------------------------


def test_roster_covers_every_plan_and_special_case(physicians: list[dict[str, str]]) -> None:
    specialties = Counter(p["specialty"] for p in physicians)
    assert len(specialties) >= 16
    plans = Counter(p["plan"] for p in physicians)
    assert set(plans) == ALL_PLANS
    assert plans["academic"] == plans["locum"] == plans["new-hire-guarantee"] == 1
    for p in physicians:
        if p["provider_type"] == "app":
            assert p["plan"] == "pcp-aligned"
        elif p["plan"] in PLAN_BY_SPECIALTY.values():
            assert PLAN_BY_SPECIALTY[p["specialty"]] == p["plan"], p
    academic = next(p for p in physicians if p["plan"] == "academic")
    assert (academic["fte"], academic["clinical_fte"], academic["group"]) == (
        "1.00",
        "0.40",
        "Academic Medicine",
    )
    new_hire = next(p for p in physicians if p["plan"] == "new-hire-guarantee")
    assert new_hire["start_date"] == f"{YEAR}-07-01"
    assert any(
        p["specialty"] == "Pediatrics" and p["fte"] == p["clinical_fte"] == "0.60"
        for p in physicians
    )
    assert any(p["plan"] == "pcp-aligned" and Decimal(p["fte"]) < 1 for p in physicians)
    leavers = [p for p in physicians if p["end_date"]]
    assert leavers
    assert all(
        date(YEAR, 1, 1) < date.fromisoformat(p["end_date"]) < date(YEAR, 12, 31) for p in leavers
    )
    apps = [p for p in physicians if p["provider_type"] == "app"]
    assert 1 <= len(apps) <= 10
    assert all(
        0 < Decimal(p["clinical_fte"]) <= Decimal(p["fte"]) <= Decimal("1.5") for p in physicians
    )
    assert all("Synthetic" in p["name"] for p in physicians)


def test_default_size_counts() -> None:
    """The roster alone at default size: 300 clinicians, primary care the largest group."""
    people = synth._build_roster(300, 2026, YEAR)
    specialties = Counter(p.specialty for p in people)
    assert len(people) == 300
    assert len(specialties) >= 16
    primary = sum(specialties[s] for s in ("Family Medicine", "Internal Medicine", "Pediatrics"))
    assert primary > 300 / 3
    assert specialties.most_common(1)[0][0] == "Family Medicine"
    assert sum(p.provider_type == "app" for p in people) == 6


# --- encounters ------------------------------------------------------------------------------


def test_every_code_is_in_the_packaged_pfs_subset(
    encounters: dict[str, list[object]], packaged_pfs: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = packaged_pfs
    keys = {(r[header.index("HCPCS")], r[header.index("MOD")]) for r in rows}
    assert keys == demo_pfs_keys()
    assert len(rows) == len(keys) < 200
    used = {
        pfs_key(str(h), m if m is None else str(m))
        for h, m in zip(encounters["hcpcs"], encounters["modifiers"], strict=True)
    }
    assert used <= keys
    assert len(used) > 100


def test_encounter_columns_and_values(encounters: dict[str, list[object]], data: Path) -> None:
    schema = pq.read_schema(data / "encounters.parquet")
    assert schema.names == [
        "npi",
        "service_date",
        "hcpcs",
        "modifiers",
        "units",
        "place_of_service",
        "payer",
        "patient_id",
        "status",
        "wrvu",
        "line_id",
    ]
    assert str(schema.field("units").type) == "int32"
    assert str(schema.field("wrvu").type) == "decimal128(7, 2)"
    n = len(encounters["npi"])
    assert 150_000 < n < 350_000
    dates = encounters["service_date"]
    assert all(date(YEAR, 1, 1) <= d <= date(YEAR, 12, 31) for d in dates)  # type: ignore[operator]
    assert set(encounters["place_of_service"]) == {"11", "21", "22", "23"}
    assert set(encounters["payer"]) == {"Medicare", "Medicare Advantage", "Commercial", "Medicaid"}
    assert all(isinstance(u, int) and u >= 1 for u in encounters["units"])
    status = Counter(encounters["status"])
    assert set(status) <= {"paid", "submitted", "denied", "void"}
    assert 0.01 < status["denied"] / n < 0.03
    assert 0 < status["submitted"] / n < 0.05
    mods = Counter(tok for m in encounters["modifiers"] if m for tok in str(m).split())
    for needed in ("26", "25", "51", "62", "80", "50", "RT", "LT"):
        assert mods[needed] > 0, needed
    own = [w for w in encounters["wrvu"] if w is not None]
    assert 0 < len(own) < n / 1000
    assert len(set(encounters["line_id"])) == n
    assert all(str(p).startswith("SP") for p in encounters["patient_id"][:1000])
    # Deterministic order: by physician as listed, then by date.
    order = {p["npi"]: i for i, p in enumerate(read_csv(data / "physicians.csv"))}
    keys = [(order[str(a)], d) for a, d in zip(encounters["npi"], dates, strict=True)]
    assert keys == sorted(keys)


def test_wrvu_per_clinical_fte_is_plausible(
    encounters: dict[str, list[object]],
    physicians: list[dict[str, str]],
    packaged_pfs: tuple[list[str], list[list[str]]],
) -> None:
    header, rows = packaged_pfs
    work = {
        (r[header.index("HCPCS")], r[header.index("MOD")]): Decimal(r[header.index("WORK_RVU")])
        for r in rows
    }
    per_npi: dict[str, Decimal] = defaultdict(Decimal)
    for npi, h, m, units, status, own in zip(
        encounters["npi"],
        encounters["hcpcs"],
        encounters["modifiers"],
        encounters["units"],
        encounters["status"],
        encounters["wrvu"],
        strict=True,
    ):
        if status in ("paid", "submitted"):
            value = own if own is not None else work[pfs_key(str(h), m if m is None else str(m))]
            per_npi[str(npi)] += Decimal(str(value)) * int(str(units))
    by_specialty: dict[str, list[float]] = defaultdict(list)
    days = (date(YEAR + 1, 1, 1) - date(YEAR, 1, 1)).days
    for p in physicians:
        if p["plan"] in ("academic", "locum", "new-hire-guarantee"):
            continue
        start = max(date.fromisoformat(p["start_date"]), date(YEAR, 1, 1))
        end = date.fromisoformat(p["end_date"]) if p["end_date"] else date(YEAR, 12, 31)
        employed = ((end - start).days + 1) / days
        by_specialty[p["specialty"]].append(
            float(per_npi[p["npi"]]) / (float(p["clinical_fte"]) * employed)
        )
    assert len(by_specialty) >= 12
    for specialty, values in by_specialty.items():
        lo, hi = WRVU_BANDS[specialty]
        mean = sum(values) / len(values)
        assert lo <= mean <= hi, (specialty, round(mean))


# --- the small tables ------------------------------------------------------------------------


def test_quality(data: Path, physicians: list[dict[str, str]]) -> None:
    rows = read_csv(data / "quality.csv")
    assert list(rows[0]) == ["npi", "measure", "numerator", "denominator", "exclusions", "period"]
    assert {r["period"] for r in rows} == {str(YEAR)}
    plan = {p["npi"]: p["plan"] for p in physicians}
    measures_by_plan: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        measures_by_plan[plan[r["npi"]]].add(r["measure"])
        assert 0 <= Decimal(r["numerator"]) <= max(Decimal(r["denominator"]), Decimal(0)) or (
            r["measure"] == "surg_mortality_oe"
        )
        assert int(r["exclusions"]) >= 0
    assert {
        "hba1c_poor_control",
        "bp_control",
        "breast_cancer_screening",
        "colorectal_cancer_screening",
        "panel_outreach_completed",
    } <= measures_by_plan["pcp-aligned"]
    assert {
        "cardio_statin_therapy",
        "cardio_readmit_30d",
        "ob_ntsv_cesarean",
        "ob_postpartum_visit",
    } <= measures_by_plan["cardio-ob-withhold"]
    assert {"surg_ssi", "surg_readmit_30d", "surg_mortality_oe"} <= measures_by_plan[
        "surgery-tiered"
    ]
    assert {"hosp_readmit_30d", "hosp_discharge_before_noon"} <= measures_by_plan[
        "hospitalist-shift"
    ]
    specialty = {p["npi"]: p["specialty"] for p in physicians}
    small = {r["npi"] for r in rows if Decimal(r["denominator"]) < 20}
    part_time_peds = next(
        p["npi"] for p in physicians if p["specialty"] == "Pediatrics" and p["fte"] == "0.60"
    )
    assert part_time_peds in small
    # A few adults' panels leave one measure below a minimum denominator of 20.
    adult_pcp_small = {
        n for n in small if plan[n] == "pcp-aligned" and specialty[n] != "Pediatrics"
    }
    assert len(adult_pcp_small) >= 3
    # Rates stay in their plausible bands.
    bands = {
        "hba1c_poor_control": (0.12, 0.35),
        "bp_control": (0.55, 0.80),
        "cardio_statin_therapy": (0.75, 0.95),
        "ob_postpartum_visit": (0.70, 0.95),
    }
    for measure, (lo, hi) in bands.items():
        rates = [
            int(r["numerator"]) / int(r["denominator"])
            for r in rows
            if r["measure"] == measure and int(r["denominator"]) >= 100
        ]
        assert rates
        assert lo - 0.08 <= sum(rates) / len(rates) <= hi + 0.08, measure


def test_attribution(data: Path, physicians: list[dict[str, str]]) -> None:
    rows = read_csv(data / "attribution.csv")
    assert list(rows[0]) == ["npi", "month", "member_months", "risk_score", "payer"]
    pcp = {p["npi"]: p for p in physicians if p["plan"] == "pcp-aligned"}
    assert {r["npi"] for r in rows} == set(pcp)
    months: dict[str, set[str]] = defaultdict(set)
    panel: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        month = date.fromisoformat(r["month"])
        assert month.day == 1
        assert month.year == YEAR
        assert r["payer"] in ("Medicare", "Medicare Advantage", "Commercial", "Medicaid")
        assert len(r["risk_score"].split(".")[1]) == 4
        assert Decimal("0.80") <= Decimal(r["risk_score"]) <= Decimal("1.40")
        months[r["npi"]].add(r["month"])
        panel[(r["npi"], r["month"])] += int(r["member_months"])
    assert all(len(m) <= 12 for m in months.values())
    for (npi, _), members in panel.items():
        cfte = float(pcp[npi]["clinical_fte"])
        assert 900 * cfte <= members <= 2500 * cfte


def test_shifts_stipends_activities_hours(data: Path, physicians: list[dict[str, str]]) -> None:
    by_npi = {p["npi"]: p for p in physicians}
    shifts = read_csv(data / "shifts.csv")
    assert {r["shift_type"] for r in shifts} == {"day", "night", "weekend", "holiday"}
    holidays = set(us_federal_holidays(YEAR))
    per_npi = Counter(r["npi"] for r in shifts)
    for r in shifts:
        assert by_npi[r["npi"]]["plan"] == "hospitalist-shift"
        assert r["hours"] == "12.00"
        day = date.fromisoformat(r["date"])
        assert (r["shift_type"] == "holiday") == (day in holidays)
    for npi, count in per_npi.items():
        fte = float(by_npi[npi]["fte"])
        assert 150 * fte <= count <= 200 * fte, (npi, count)

    stipends = read_csv(data / "stipends.csv")
    kinds = Counter(r["stipend"] for r in stipends)
    assert kinds["medical_directorship"] == 3
    assert kinds["call_coverage"] >= 3
    assert kinds["app_supervision"] >= 1
    for r in stipends:
        if r["stipend"] == "medical_directorship":
            assert 25000 <= Decimal(r["annual_amount"]) <= 40000
        if r["stipend"] == "app_supervision":
            assert any(p["supervising_npi"] == r["npi"] for p in physicians)

    activities = read_csv(data / "activities.csv")
    locum = next(p["npi"] for p in physicians if p["plan"] == "locum")
    locum_days = [r for r in activities if r["activity"] == "locum_day"]
    assert {r["npi"] for r in locum_days} == {locum}
    assert 100 <= len(locum_days) <= 140
    assert len({r["date"] for r in locum_days}) == len(locum_days)
    assert any(r["activity"] == "qi_milestone" for r in activities)

    hours = read_csv(data / "hours.csv")
    academic = next(p["npi"] for p in physicians if p["plan"] == "academic")
    assert {r["npi"] for r in hours} == {academic}
    assert {r["kind"] for r in hours} == {"admin", "teaching"}
    assert 0 < len(hours) <= 120


def test_us_federal_holidays_2026() -> None:
    assert sorted(us_federal_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 7, 4),
        date(2026, 9, 7),
        date(2026, 10, 12),
        date(2026, 11, 11),
        date(2026, 11, 26),
        date(2026, 12, 25),
    ]
    assert date(2026, 7, 3) in us_federal_holidays(2026, observed=True)


def test_readmes_label_the_data(data: Path) -> None:
    readme = (data / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in readme
    assert "seed `2026`" in readme
    assert "Work RVUs" in readme
    assert PFS_CITATION in (data / "reference" / "README.md").read_text(encoding="utf-8")
    package_readme = (REPO / "src/paycascade/demo/README.md").read_text(encoding="utf-8")
    assert PFS_CITATION.replace("\n", " ") in " ".join(package_readme.replace("**", "").split())


# --- the packaged PFS subset against the real CMS file -------------------------------------


def cms_pfs_file() -> Path | None:
    base = Path(os.environ.get("PAYCASCADE_CMS_DATA", REPO.parent / "shared" / "data" / "cms"))
    path = base / "pfs_rvu_2023_jan" / "pprrvu_2023_jan_codes_rvus.csv"
    if path.is_file():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"CMS PFS file not found at {path} (set PAYCASCADE_CMS_DATA)")
    pytest.skip(
        f"!!! CMS PFS file not found at {path}: the packaged pfs_demo_codes.csv is NOT verified "
        "against the real CMS values; set PAYCASCADE_CMS_DATA to the folder holding "
        "pfs_rvu_2023_jan/ !!!"
    )
    return None


@pytest.mark.cms
def test_packaged_pfs_rows_equal_the_cms_file() -> None:
    path = cms_pfs_file()
    assert path is not None
    packaged = (REPO / "src/paycascade/demo/pfs_demo_codes.csv").read_text(encoding="utf-8")
    lines = packaged.splitlines()
    cms_lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == cms_lines[0]
    assert lines[0].startswith("HCPCS,MOD,STATUS_CODE,")
    by_key = {tuple(line.split(",")[:2]): line for line in cms_lines[1:]}
    for line in lines[1:]:
        assert by_key[tuple(line.split(",")[:2])] == line
    # Same order as the CMS file.
    position = {line: i for i, line in enumerate(cms_lines)}
    assert [position[line] for line in lines[1:]] == sorted(position[line] for line in lines[1:])


# --- default size, in a fresh process --------------------------------------------------------

_CHILD = """
import json, resource, sys
from pathlib import Path
from paycascade.demo.synth import generate_data
s = generate_data(Path(sys.argv[1]))
print(json.dumps({"rows": s.rows, "specialties": s.specialties, "plans": s.plans,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@pytest.mark.slow
def test_default_size_lines_and_memory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert 700_000 <= out["rows"]["encounters"] <= 1_500_000
    assert out["rows"]["physicians"] == 300
    assert out["maxrss_kib"] < 1.5 * 1024 * 1024
    meta = pq.ParquetFile(tmp_path / "data" / "encounters.parquet").metadata
    assert meta.num_rows == out["rows"]["encounters"]
    assert meta.num_row_groups > 1  # written in batches, not in one piece
