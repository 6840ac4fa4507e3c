"""The synthetic demo health system's input tables (data only; the plans are written elsewhere).

:func:`generate_data` writes a complete, **synthetic** workspace ``data/`` folder for a fictitious
health system, "Mercy Valley Health (synthetic)": a physician roster, about a million
professional billing lines for 300 clinicians, quality results, attributed panels, hospitalist
shifts, stipends, counted activities and an academic physician's hours.  Everything is invented
except the work RVUs, which are the real CY2023 values of the CMS Physician Fee Schedule
(``pfs_demo_codes.csv`` beside this module, see ``README.md``), and the US federal holiday dates.

Design
------
* **Deterministic.**  Every random draw comes from a NumPy generator seeded by
  ``(seed, stream, physician index)``, so the same arguments (with the same versions of
  paycascade, NumPy and pyarrow) give byte-identical files, and one physician's or one table's
  draws never shift another's.
* **Vectorised and bounded.**  Billing lines are drawn with NumPy per physician (no Python object
  per line) and written to Parquet in row groups of physician batches, so memory does not grow
  with the number of lines.
* **Calibrated.**  Each specialty has encounter templates (a visit, a procedure with its add-on
  codes, a read with modifier 26, …).  A physician's expected work RVU per encounter is known from
  the templates and the PFS values, so the number of encounters is chosen to reach a plausible
  annual wRVU for the specialty, scaled by clinical FTE, by the part of the year employed and by a
  lognormal productivity factor (coefficient of variation about 22%).

The annual wRVU levels per clinical FTE are illustrative ballparks, not survey medians (the
medians are proprietary); they are labelled synthetic in the generated ``data/README.md``.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from paycascade import __version__

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ORGANIZATION: Final = "Mercy Valley Health (synthetic)"
PFS_CITATION: Final = (
    "CMS, 2023 National Physician Fee Schedule Relative Value File, January release "
    "(PPRRVU23_JAN), work RVUs"
)
PFS_DEMO_RESOURCE: Final = "pfs_demo_codes.csv"
PFS_DEMO_OUTPUT: Final = "pfs_rvu_demo.csv"
MIN_PHYSICIANS: Final = 40

#: The primary-care clinics (family and internal medicine, the APPs) and their payer mix.
PRIMARY_CARE_CLINICS: Final = (
    "North Clinic",
    "South Clinic",
    "Riverside Clinic",
    "Lakeside Clinic",
    "East Hills Clinic",
)
ADULT_PRIMARY_CARE_PAYERS: Final = (
    ("Medicare", 0.20),
    ("Medicare Advantage", 0.16),
    ("Commercial", 0.44),
    ("Medicaid", 0.20),
)

PLAN_BY_SPECIALTY: Final[dict[str, str]] = {
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
"""The plan of every regular physician, by specialty (APPs in primary care: ``pcp-aligned``)."""

PLAN_ACADEMIC: Final = "academic"
PLAN_LOCUM: Final = "locum"
PLAN_NEW_HIRE: Final = "new-hire-guarantee"
ALL_PLANS: Final = (
    *dict.fromkeys(PLAN_BY_SPECIALTY.values()),
    PLAN_ACADEMIC,
    PLAN_LOCUM,
    PLAN_NEW_HIRE,
)

PAYERS: Final = ("Medicare", "Medicare Advantage", "Commercial", "Medicaid")
STATUSES: Final = ("paid", "submitted", "denied", "void")

# Random streams: one per table, so a change in one table never moves another's draws.
_S_ROSTER, _S_SCHEDULE, _S_ENCOUNTERS, _S_QUALITY, _S_PANEL, _S_OTHER = range(6)

# Mild seasonality of outpatient volume by month (winter respiratory season, July and
# late-December holidays).
_MONTH_FACTOR: Final = np.array(
    [1.06, 1.05, 1.04, 1.00, 1.00, 0.97, 0.91, 0.97, 1.01, 1.03, 0.99, 0.90], dtype=np.float64
)


# ---------------------------------------------------------------------------------------------
# NPIs
# ---------------------------------------------------------------------------------------------


def npi_check_digit(first9: str) -> int:
    """The NPI check digit: Luhn over the prefix ``80840`` followed by the first nine digits.

    >>> npi_check_digit("123456789")  # CMS's worked example, NPI 1234567893
    3
    """
    if len(first9) != 9 or not first9.isdigit():
        raise ValueError(f"{first9!r} is not nine digits")
    total = 0
    # The check digit will be appended on the right, so the rightmost payload digit is doubled.
    for position, char in enumerate(reversed("80840" + first9)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    """True if ``npi`` is ten digits whose last digit is the CMS check digit."""
    return len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == int(npi[9])


def generate_npis(count: int, rng: np.random.Generator) -> list[str]:
    """``count`` unique, valid, random individual NPIs (first digit 1), in draw order.

    They are random numbers with a valid check digit: any match with a real NPI is coincidence.
    """
    seen: dict[int, None] = {}
    while len(seen) < count:
        for body in rng.integers(100_000_000, 200_000_000, size=count - len(seen) + 8).tolist():
            if len(seen) < count:
                seen.setdefault(int(body), None)
    return [f"{body}{npi_check_digit(str(body))}" for body in seen]


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (Mon=0) of a month; ``n = -1`` for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def us_federal_holidays(year: int, *, observed: bool = False) -> dict[date, str]:
    """The eleven US federal holidays of ``year`` (5 U.S.C. 6103), by date.

    With ``observed=True`` a holiday on a Saturday moves to the Friday before and one on a Sunday
    to the Monday after, as federal offices (and most clinics) observe them.
    """
    days = {
        date(year, 1, 1): "New Year's Day",
        _nth_weekday(year, 1, 0, 3): "Birthday of Martin Luther King, Jr.",
        _nth_weekday(year, 2, 0, 3): "Washington's Birthday",
        _nth_weekday(year, 5, 0, -1): "Memorial Day",
        date(year, 6, 19): "Juneteenth National Independence Day",
        date(year, 7, 4): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 10, 0, 2): "Columbus Day",
        date(year, 11, 11): "Veterans Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
        date(year, 12, 25): "Christmas Day",
    }
    if not observed:
        return days
    shifted: dict[date, str] = {}
    for day, name in days.items():
        if day.weekday() == 5:
            day -= timedelta(days=1)
        elif day.weekday() == 6:
            day += timedelta(days=1)
        shifted[day] = name
    return shifted


def _np_day(day: date) -> np.datetime64:
    return np.datetime64(day.isoformat(), "D")


def _days_of_year(year: int) -> npt.NDArray[np.datetime64]:
    return np.arange(
        _np_day(date(year, 1, 1)), _np_day(date(year + 1, 1, 1)), dtype="datetime64[D]"
    )


def _weekday(days: npt.NDArray[np.datetime64]) -> IntArray:
    """Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday)."""
    return ((days.astype(np.int64) + 3) % 7).astype(np.int64)


def _month_index(days: npt.NDArray[np.datetime64]) -> IntArray:
    return (days.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Encounter templates
# ---------------------------------------------------------------------------------------------

Dist = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Line:
    """One billing line of an encounter template.

    ``mods`` is the distribution of the line's modifier string (``""`` = none); ``p`` the
    probability that the line is present; units are ``1 + min(Poisson(extra), max_units - 1)``;
    ``wrvu`` a locally negotiated work RVU per unit that the line carries itself.
    """

    code: str
    mods: Dist = (("", 1.0),)
    p: float = 1.0
    extra: float = 0.0
    max_units: int = 1
    wrvu: str | None = None


@dataclass(frozen=True)
class Template:
    """A kind of encounter: its relative frequency, lines and place-of-service distribution."""

    name: str
    weight: float
    lines: tuple[Line, ...]
    pos: Dist
    tag: str = ""


@dataclass(frozen=True)
class Specialty:
    """A specialty's roster share, productivity level, groups, payer mix and templates."""

    name: str
    roster_weight: float
    wrvu_per_cfte: int
    groups: tuple[str, ...]
    payers: Dist
    templates: tuple[Template, ...]
    weekend_share: float = 0.0
    patients_per_cfte: int = 2000
    tags: Dist = ()


OFFICE: Final[Dist] = (("11", 1.0),)
INPATIENT: Final[Dist] = (("21", 1.0),)
OUTPATIENT: Final[Dist] = (("22", 1.0),)
ER: Final[Dist] = (("23", 1.0),)
SIDES: Final[Dist] = (("RT", 0.5), ("LT", 0.5))


def _l(
    code: str,
    mods: str | Dist = "",
    *,
    p: float = 1.0,
    extra: float = 0.0,
    max_units: int = 1,
    wrvu: str | None = None,
) -> Line:
    return Line(code, ((mods, 1.0),) if isinstance(mods, str) else mods, p, extra, max_units, wrvu)


def _t(name: str, weight: float, *lines: Line, pos: Dist = OFFICE, tag: str = "") -> Template:
    return Template(name, weight, lines, pos, tag)


def _visits(
    weights: dict[str, float], extras: Sequence[Line] = (), pos: Dist = OFFICE
) -> tuple[Template, ...]:
    """One template per E/M code, each with the same optional ancillary lines."""
    return tuple(_t(f"em_{code}", w, _l(code), *extras, pos=pos) for code, w in weights.items())


def _sided(extra: str = "", bilateral: float = 0.0) -> Dist:
    """Laterality modifiers (``RT``/``LT``, or ``50`` bilateral), optionally after another one."""
    prefix = f"{extra} " if extra else ""
    side = (1.0 - bilateral) / 2
    out: Dist = ((f"{prefix}RT", side), (f"{prefix}LT", side))
    return (*out, (f"{prefix}50".strip(), bilateral)) if bilateral else out


def _unlisted(code: str, wrvu: str, mods: str = "", pos: Dist = OFFICE) -> Template:
    """An unlisted-procedure code (carrier-priced, no PFS work RVU) with a local value."""
    return _t(f"unlisted_{code}", 0.02, _l(code, mods, wrvu=wrvu), pos=pos)


_PRIMARY_ANCILLARY: Final = (_l("36415", p=0.18), _l("96127", p=0.08), _l("90471", p=0.06))
_HOSP_MIX: Final[Dist] = (("21", 0.6), ("22", 0.3), ("23", 0.1))


def _specialties() -> tuple[Specialty, ...]:
    """The demo's specialty catalogue (relative weights; codes exist in the CY2023 PFS)."""
    adult_payers: Dist = (
        ("Medicare", 0.26),
        ("Medicare Advantage", 0.18),
        ("Commercial", 0.42),
        ("Medicaid", 0.14),
    )
    senior_payers: Dist = (
        ("Medicare", 0.36),
        ("Medicare Advantage", 0.18),
        ("Commercial", 0.36),
        ("Medicaid", 0.10),
    )
    preventive_adult = (
        _t("preventive_18_39", 2.0, _l("99395"), _l("36415", p=0.4), _l("96127", p=0.4)),
        _t("preventive_40_64", 5.0, _l("99396"), _l("36415", p=0.45), _l("96127", p=0.4)),
        _t("preventive_65_up", 2.5, _l("99397"), _l("36415", p=0.45), _l("96127", p=0.3)),
    )
    primary_procedures = (
        _t("injection", 1.5, _l("99213", "25"), _l("20610", SIDES)),
        _t("skin_biopsy", 0.8, _l("99213", "25"), _l("11102")),
        _t("cerumen", 0.7, _l("69210", SIDES)),
        _t("ecg_visit", 1.2, _l("99214"), _l("93000")),
        _t("tcm_moderate", 0.45, _l("99495")),
        _t("tcm_high", 0.2, _l("99496")),
        _t("acp", 0.5, _l("99214"), _l("99497")),
        _t("tobacco", 0.6, _l("99213"), _l("99406")),
        _t("nurse_visit", 2.0, _l("99211")),
    )
    fm = Specialty(
        "Family Medicine",
        48,
        5000,
        PRIMARY_CARE_CLINICS,
        ADULT_PRIMARY_CARE_PAYERS,
        (
            *_visits(
                {
                    "99212": 5,
                    "99213": 36,
                    "99214": 34,
                    "99215": 5,
                    "99202": 1,
                    "99203": 2.5,
                    "99204": 2,
                },
                _PRIMARY_ANCILLARY,
            ),
            *preventive_adult,
            _t("preventive_child", 2.0, _l("99393"), _l("90460", p=0.6, extra=1.0, max_units=4)),
            *primary_procedures,
            _unlisted("99499", "1.00"),
        ),
        patients_per_cfte=2300,
    )
    im = Specialty(
        "Internal Medicine",
        40,
        5200,
        PRIMARY_CARE_CLINICS,
        senior_payers,
        (
            *_visits(
                {
                    "99212": 3,
                    "99213": 30,
                    "99214": 40,
                    "99215": 8,
                    "99203": 2,
                    "99204": 2.5,
                    "99205": 0.5,
                },
                _PRIMARY_ANCILLARY,
            ),
            *preventive_adult,
            *primary_procedures,
            _unlisted("99499", "1.00"),
        ),
        patients_per_cfte=2100,
    )
    vaccines = (
        _l("90460", p=0.8, extra=1.0, max_units=5),
        _l("90461", p=0.5, extra=1.0, max_units=4),
    )
    peds = Specialty(
        "Pediatrics",
        24,
        4600,
        ("Children's Clinic North", "Children's Clinic South"),
        (("Commercial", 0.52), ("Medicaid", 0.48)),
        (
            _t("well_infant", 6, _l("99391"), *vaccines, _l("96110", p=0.3)),
            _t("well_1_4", 5, _l("99392"), *vaccines, _l("96110", p=0.4), _l("99173", p=0.2)),
            _t("well_5_11", 4, _l("99393"), *vaccines, _l("92551", p=0.3), _l("99173", p=0.4)),
            _t("well_12_17", 4.5, _l("99394"), *vaccines, _l("96127", p=0.6)),
            _t("well_new_infant", 1, _l("99381"), *vaccines),
            _t("well_new_child", 0.8, _l("99382"), *vaccines),
            _t("well_new_school", 0.5, _l("99383"), *vaccines),
            *_visits(
                {"99212": 9, "99213": 35, "99214": 16, "99215": 1, "99203": 2, "99204": 1},
                (_l("90460", p=0.1),),
            ),
            _t("nurse_visit", 3, _l("99211"), _l("90460", p=0.5)),
            _unlisted("99499", "1.00"),
        ),
        patients_per_cfte=2200,
    )
    endo = Specialty(
        "Endocrinology",
        6,
        4300,
        ("Diabetes & Endocrine Center",),
        adult_payers,
        (
            *_visits({"99213": 15, "99214": 50, "99215": 14, "99204": 8, "99205": 5}),
            _t("cgm_review", 6, _l("99214"), _l("95251")),
            _t("thyroid_us", 2, _l("99214", "25"), _l("76536"), _l("10005", p=0.4)),
            _unlisted("99499", "1.00"),
        ),
        patients_per_cfte=1500,
    )
    rheum = Specialty(
        "Rheumatology",
        5,
        4200,
        ("Arthritis & Rheumatology Clinic",),
        adult_payers,
        (
            *_visits({"99213": 10, "99214": 50, "99215": 15, "99204": 6, "99205": 5}),
            _t("joint_injection", 8, _l("99214", "25"), _l("20610", SIDES)),
            _t("small_joint_injection", 2, _l("99213", "25"), _l("20600", SIDES)),
            _t("im_injection", 3, _l("96372")),
            _unlisted("99499", "1.00"),
        ),
        patients_per_cfte=1400,
    )
    onc = Specialty(
        "Hematology/Oncology",
        10,
        6500,
        ("Cancer Institute",),
        senior_payers,
        (
            *_visits({"99213": 8, "99214": 30, "99215": 35, "99204": 3, "99205": 8}),
            _t("admit", 3, _l("99223"), pos=INPATIENT),
            _t("rounding", 10, _l("99232"), pos=INPATIENT),
            _t("rounding_high", 6, _l("99233"), pos=INPATIENT),
            _t("chemo", 6, _l("96413"), _l("96415", p=0.5), _l("96367", p=0.4), _l("96375", p=0.6)),
            _t("marrow_biopsy", 1, _l("38221"), pos=(("11", 0.5), ("22", 0.5))),
            _t("acp", 2, _l("99215"), _l("99497")),
            _unlisted("96549", "1.00"),
        ),
        patients_per_cfte=1300,
    )
    cardio = Specialty(
        "Cardiology",
        16,
        9000,
        ("Heart Institute",),
        senior_payers,
        (
            *_visits(
                {"99213": 8, "99214": 25, "99215": 6, "99204": 5, "99205": 3}, (_l("93000", p=0.5),)
            ),
            _t("admit", 5, _l("99223"), pos=INPATIENT),
            _t("rounding", 10, _l("99232"), pos=INPATIENT),
            _t("rounding_high", 5, _l("99233"), pos=INPATIENT),
            _t("ecg_read", 25, _l("93010"), pos=_HOSP_MIX),
            _t("echo_read", 18, _l("93306", "26"), pos=(("22", 0.6), ("21", 0.4))),
            _t("stress_echo", 4, _l("93350", "26"), _l("93016"), _l("93018"), pos=OUTPATIENT),
            _t("holter", 2, _l("93224")),
            _t("carotid_duplex", 1.5, _l("93880", "26"), pos=OUTPATIENT),
            _t("cath", 5, _l("93458", "26"), pos=(("22", 0.6), ("21", 0.4)), tag="interventional"),
            _t(
                "pci",
                2,
                _l("92928", (("LD", 0.45), ("RC", 0.3), ("LC", 0.25))),
                _l("93458", "26", p=0.9),
                pos=INPATIENT,
                tag="interventional",
            ),
            _unlisted("93799", "2.00", pos=OUTPATIENT),
        ),
        weekend_share=0.05,
        patients_per_cfte=3500,
        tags=(("interventional", 0.4),),
    )
    obgyn = Specialty(
        "Obstetrics & Gynecology",
        18,
        7000,
        ("Women's Health Center",),
        (("Medicare", 0.03), ("Commercial", 0.55), ("Medicaid", 0.42)),
        (
            _t("vaginal_delivery_global", 3, _l("59400"), pos=INPATIENT),
            _t("cesarean_global", 1.4, _l("59510"), pos=INPATIENT),
            _t("delivery_only", 0.3, _l("59409"), pos=INPATIENT),
            _t("ob_triage", 2, _l("99283"), pos=ER),
            _t("ob_triage_high", 1.5, _l("99284"), pos=ER),
            _t("nst", 3, _l("59025")),
            _t("nst_hospital", 1.5, _l("59025", "26"), pos=OUTPATIENT),
            _t("ob_ultrasound", 2, _l("76805")),
            _t("pelvic_ultrasound", 2, _l("76830")),
            *_visits({"99213": 15, "99214": 14, "99203": 2, "99204": 2}),
            _t("well_woman", 5, _l("99395")),
            _t("well_woman_40", 4, _l("99396")),
            _t("colposcopy", 1.5, _l("57454")),
            _t("iud", 1.5, _l("58300")),
            _t("hysteroscopy", 1, _l("58558"), pos=OUTPATIENT),
            _t("lap_hysterectomy", 0.8, _l("58571"), pos=OUTPATIENT),
            _t("lap_hysterectomy_assist", 0.2, _l("58571", "80"), pos=OUTPATIENT),
            _unlisted("58999", "4.00", pos=OUTPATIENT),
        ),
        weekend_share=0.12,
        patients_per_cfte=2200,
    )
    xray = (_l("73562", p=0.3), _l("73030", p=0.12))
    ortho = Specialty(
        "Orthopedic Surgery",
        14,
        9500,
        ("Orthopedic & Spine Institute",),
        senior_payers,
        (
            *_visits({"99213": 20, "99214": 18, "99203": 8, "99204": 10}, xray),
            _t("postop", 25, _l("99024")),
            _t("knee_injection", 8, _l("99213", "25"), _l("20610", SIDES)),
            _t("total_knee", 3.2, _l("27447", _sided(bilateral=0.02)), pos=INPATIENT),
            _t("total_hip", 2.2, _l("27130", SIDES), pos=INPATIENT),
            _t(
                "knee_arthroscopy",
                3,
                _l("29881", SIDES),
                _l("20610", _sided("51"), p=0.05),
                pos=OUTPATIENT,
            ),
            _t(
                "shoulder_arthroscopy",
                1.5,
                _l("29827", SIDES),
                _l("29826", SIDES, p=0.7),
                pos=OUTPATIENT,
            ),
            _t("hip_fracture", 0.8, _l("27236", SIDES), pos=INPATIENT),
            _t("assist_total_knee", 0.5, _l("27447", _sided("80")), pos=INPATIENT),
            _t("cosurgery_total_hip", 0.15, _l("27130", _sided("62")), pos=INPATIENT),
            _unlisted("27599", "12.00", pos=OUTPATIENT),
        ),
        weekend_share=0.06,
        patients_per_cfte=3000,
    )
    gensurg = Specialty(
        "General Surgery",
        12,
        7500,
        ("Surgical Associates",),
        (
            ("Medicare", 0.26),
            ("Medicare Advantage", 0.14),
            ("Commercial", 0.42),
            ("Medicaid", 0.18),
        ),
        (
            *_visits({"99213": 12, "99214": 8, "99203": 6, "99204": 8}),
            _t("postop", 20, _l("99024")),
            _t("ed_consult", 3, _l("99284"), pos=ER),
            _t("ed_consult_high", 2, _l("99285"), pos=ER),
            _t("admit", 3, _l("99223"), pos=INPATIENT),
            _t("rounding", 4, _l("99232"), pos=INPATIENT),
            _t(
                "lap_chole",
                3,
                _l("47562"),
                _l("49505", _sided("51"), p=0.04),
                pos=(("22", 0.6), ("21", 0.4)),
            ),
            _t("inguinal_hernia", 2.5, _l("49505", _sided(bilateral=0.14)), pos=OUTPATIENT),
            _t("lap_hernia", 1.2, _l("49650", _sided(bilateral=0.2)), pos=OUTPATIENT),
            _t("lap_appendectomy", 1.6, _l("44970"), pos=INPATIENT),
            _t("colectomy", 0.8, _l("44140"), pos=INPATIENT),
            _t("colectomy_cosurgery", 0.1, _l("44140", "62"), pos=INPATIENT),
            _t("partial_mastectomy", 1, _l("19301", SIDES), pos=OUTPATIENT),
            _t("assist_colectomy", 0.4, _l("44140", "80"), pos=INPATIENT),
            _t("assist_lap_chole", 0.4, _l("47562", "80"), pos=INPATIENT),
            _t("debridement", 2, _l("11042"), pos=(("11", 0.5), ("21", 0.5))),
            _unlisted("49329", "10.00", pos=OUTPATIENT),
        ),
        weekend_share=0.10,
        patients_per_cfte=2500,
    )
    urology = Specialty(
        "Urology",
        7,
        8000,
        ("Urology Associates",),
        (
            ("Medicare", 0.40),
            ("Medicare Advantage", 0.18),
            ("Commercial", 0.35),
            ("Medicaid", 0.07),
        ),
        (
            *_visits({"99213": 18, "99214": 20, "99203": 5, "99204": 6}, (_l("51798", p=0.3),)),
            _t("postop", 6, _l("99024")),
            _t("cystoscopy", 10, _l("52000")),
            _t("prostate_biopsy", 2.5, _l("55700"), _l("76872", p=0.9)),
            _t("turp", 1, _l("52601"), pos=OUTPATIENT),
            _t("ureteroscopy", 2, _l("52356", SIDES), pos=OUTPATIENT),
            _t("lithotripsy", 0.8, _l("50590", SIDES), pos=OUTPATIENT),
            _unlisted("53899", "5.00", pos=OUTPATIENT),
        ),
        weekend_share=0.03,
        patients_per_cfte=2800,
    )
    hosp_templates = (
        _t("admit_high", 12, _l("99223"), _l("99497", p=0.05), pos=INPATIENT),
        _t("admit_moderate", 5, _l("99222"), pos=INPATIENT),
        _t("admit_low", 1, _l("99221"), pos=INPATIENT),
        _t("rounding_low", 8, _l("99231"), pos=INPATIENT),
        _t("rounding", 40, _l("99232"), pos=INPATIENT),
        _t("rounding_high", 14, _l("99233"), pos=INPATIENT),
        _t("discharge", 7, _l("99238"), pos=INPATIENT),
        _t("discharge_long", 7, _l("99239"), pos=INPATIENT),
        _t("observation_same_day", 2, _l("99235"), pos=OUTPATIENT),
        _t("observation_short", 1, _l("99234"), pos=OUTPATIENT),
        _t("critical_care", 1.5, _l("99291"), _l("99292", p=0.2), pos=INPATIENT),
        _t("acp", 1.2, _l("99233"), _l("99497"), pos=INPATIENT),
        _unlisted("99499", "1.50", pos=INPATIENT),
    )
    hospitalist = Specialty(
        "Hospital Medicine",
        30,
        4200,
        ("Hospital Medicine - Main Campus", "Hospital Medicine - Community"),
        (
            ("Medicare", 0.38),
            ("Medicare Advantage", 0.20),
            ("Commercial", 0.27),
            ("Medicaid", 0.15),
        ),
        hosp_templates,
        patients_per_cfte=2500,
    )
    gi = Specialty(
        "Gastroenterology",
        10,
        9500,
        ("Digestive Health Center",),
        adult_payers,
        (
            *_visits({"99213": 8, "99214": 10, "99203": 3, "99204": 5}),
            _t("admit_consult", 3, _l("99223"), pos=INPATIENT),
            _t("rounding", 4, _l("99232"), pos=INPATIENT),
            _t("colonoscopy", 12, _l("45378", (("", 0.97), ("53", 0.03))), pos=OUTPATIENT),
            _t("screening_colonoscopy", 8, _l("G0121"), pos=OUTPATIENT),
            _t("colonoscopy_polypectomy", 10, _l("45385"), pos=OUTPATIENT),
            _t("colonoscopy_biopsy", 8, _l("45380"), pos=OUTPATIENT),
            _t("egd_biopsy", 12, _l("43239"), pos=OUTPATIENT),
            _t("egd_colonoscopy", 5, _l("43239"), _l("45380", "51"), pos=OUTPATIENT),
            _t("capsule_read", 0.6, _l("91110", "26"), pos=OUTPATIENT),
            _unlisted("45399", "4.00", pos=OUTPATIENT),
        ),
        patients_per_cfte=3500,
    )
    derm = Specialty(
        "Dermatology",
        8,
        7500,
        ("Dermatology & Mohs Surgery",),
        senior_payers,
        (
            *_visits({"99212": 6, "99213": 25, "99214": 15, "99203": 5, "99204": 2}),
            _t(
                "biopsy",
                12,
                _l("99213", "25", p=0.6),
                _l("11102"),
                _l("11103", p=0.4, extra=0.6, max_units=4),
            ),
            _t(
                "actinic_keratoses",
                10,
                _l("99213", "25", p=0.5),
                _l("17000"),
                _l("17003", p=0.7, extra=3.0, max_units=13),
            ),
            _t("warts", 3, _l("17110")),
            _t("shave", 3, _l("11305")),
            # Stage and add-on ratios follow CMS's 2021 Medicare Mohs claims (17312 ≈ 0.58 units
            # per 17311 service; 17313 ≈ 19% of 17311; 17314 ≈ 0.34 units per 17313).
            _t(
                "mohs_head_neck",
                10,
                _l("17311"),
                _l("17312", p=0.45, extra=0.3, max_units=3),
                _l("17315", p=0.015),
                _l("13132", "51", p=0.3),
                _l("14040", "51", p=0.08),
                tag="mohs",
            ),
            _t(
                "mohs_trunk",
                1.9,
                _l("17313"),
                _l("17314", p=0.28, extra=0.23, max_units=3),
                _l("13101", "51", p=0.3),
                tag="mohs",
            ),
            _unlisted("17999", "1.50"),
        ),
        patients_per_cfte=4000,
        tags=(("mohs", 0.3),),
    )
    neuro = Specialty(
        "Neurology",
        10,
        5000,
        ("Neuroscience Institute",),
        adult_payers,
        (
            *_visits({"99213": 10, "99214": 30, "99215": 12, "99204": 8, "99205": 6}),
            _t("eeg_read", 8, _l("95816", "26"), pos=OUTPATIENT),
            _t("eeg_sleep_read", 4, _l("95819", "26"), pos=OUTPATIENT),
            _t("ncs_emg", 4, _l("95910"), _l("95886", extra=1.0, max_units=4)),
            _t("chemodenervation", 3, _l("64615"), _l("99214", "25", p=0.2)),
            _t("admit_consult", 3, _l("99223"), pos=INPATIENT),
            _t("rounding", 5, _l("99232"), pos=INPATIENT),
            _t("rounding_high", 2, _l("99233"), pos=INPATIENT),
            _unlisted("64999", "3.00"),
        ),
        patients_per_cfte=2500,
    )
    rad_mix: Dist = (("22", 0.40), ("21", 0.35), ("23", 0.25))
    radiology = Specialty(
        "Radiology",
        16,
        11000,
        ("Imaging Services",),
        adult_payers,
        (
            _t("chest_xray", 28, _l("71046", "26"), pos=rad_mix),
            _t(
                "ct_abdomen_pelvis",
                10,
                _l("74177", "26"),
                pos=(("22", 0.4), ("21", 0.3), ("23", 0.3)),
            ),
            _t("ct_head", 8, _l("70450", "26"), pos=(("23", 0.5), ("21", 0.3), ("22", 0.2))),
            _t("ct_chest", 5, _l("71250", "26"), pos=rad_mix),
            _t("mri_brain", 3, _l("70553", "26"), pos=OUTPATIENT),
            _t("mri_lumbar", 3, _l("72148", "26"), pos=OUTPATIENT),
            _t("mri_knee", 2, _l("73721", "26"), pos=OUTPATIENT),
            _t("us_abdomen", 4, _l("76700", "26"), pos=rad_mix),
            _t("us_pelvis", 2, _l("76830", "26"), pos=OUTPATIENT),
            _t("knee_xray", 8, _l("73562", "26"), pos=OUTPATIENT),
            _t("screening_mammo", 12, _l("77067", "26"), _l("77063", "26", p=0.85), pos=OUTPATIENT),
            _unlisted("76499", "1.00", mods="26", pos=OUTPATIENT),
        ),
        weekend_share=0.15,
        patients_per_cfte=12000,
    )
    return (
        fm,
        im,
        peds,
        endo,
        rheum,
        onc,
        cardio,
        obgyn,
        ortho,
        gensurg,
        urology,
        hospitalist,
        gi,
        derm,
        neuro,
        radiology,
    )


def _app_specialty(name: str) -> Specialty:
    """Advanced practice providers in primary care (nurse practitioners, physician assistants)."""
    return Specialty(
        name,
        0,
        3200,
        PRIMARY_CARE_CLINICS,
        ADULT_PRIMARY_CARE_PAYERS,
        (
            *_visits(
                {"99212": 6, "99213": 45, "99214": 33, "99215": 2, "99202": 1, "99203": 3},
                _PRIMARY_ANCILLARY,
            ),
            _t("preventive_18_39", 2, _l("99395"), _l("36415", p=0.4)),
            _t("preventive_40_64", 4, _l("99396"), _l("36415", p=0.4)),
        ),
        patients_per_cfte=1800,
    )


APP_SPECIALTIES: Final = ("Nurse Practitioner", "Physician Assistant")
SPECIALTIES: Final[tuple[Specialty, ...]] = (
    *_specialties(),
    *(_app_specialty(n) for n in APP_SPECIALTIES),
)
_SPEC_BY_NAME: Final = {s.name: s for s in SPECIALTIES}

# Codes that depend on the payer: Medicare covers an annual wellness visit, not a preventive
# visit; a screening colonoscopy is G0121 for Medicare and 45378 for other payers.
_MEDICARE_REMAP: Final = {"99395": "G0439", "99396": "G0439", "99397": "G0439"}
_OTHER_REMAP: Final = {"G0121": "45378"}
_MEDICARE_PAYERS: Final = frozenset({"Medicare", "Medicare Advantage"})

# Code groups counted per physician to size quality denominators consistently with the lines.
_DELIVERY_CODES: Final = frozenset({"59400", "59510", "59409"})
_MAJOR_SURGERY_CODES: Final = frozenset(
    {
        "27447",
        "27130",
        "27236",
        "29881",
        "29827",
        "47562",
        "49505",
        "49650",
        "44970",
        "44140",
        "19301",
        "52601",
        "52356",
        "50590",
        "58571",
        "58558",
    }
)
_DISCHARGE_CODES: Final = frozenset({"99238", "99239"})


def pfs_modifier(modifiers: str) -> str:
    """The modifier that selects a PFS row: ``26``, ``TC`` or ``53`` if present, else ``""``."""
    for token in modifiers.replace(",", " ").replace(":", " ").split():
        if token.upper() in ("26", "TC", "53"):
            return token.upper()
    return ""


def demo_pfs_keys() -> frozenset[tuple[str, str]]:
    """Every (HCPCS, PFS modifier) the demo can generate, including payer-dependent codes."""
    keys: set[tuple[str, str]] = set()
    for spec in SPECIALTIES:
        for template in spec.templates:
            for line in template.lines:
                for mods, _ in line.mods:
                    keys.add((line.code, pfs_modifier(mods)))
    for remap in (_MEDICARE_REMAP, _OTHER_REMAP):
        for source, target in remap.items():
            keys |= {(target, mod) for code, mod in tuple(keys) if code == source}
    return frozenset(keys)


def load_demo_pfs() -> tuple[list[str], list[list[str]]]:
    """The packaged PFS subset (header, rows), exactly as stored."""
    text = resources.files("paycascade.demo").joinpath(PFS_DEMO_RESOURCE).read_text("utf-8")
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:]


def _work_rvu_hundredths() -> dict[tuple[str, str], int]:
    header, rows = load_demo_pfs()
    code, mod, work = header.index("HCPCS"), header.index("MOD"), header.index("WORK_RVU")
    values = {(row[code], row[mod]): int(Decimal(row[work]) * 100) for row in rows}
    missing = sorted(demo_pfs_keys() - values.keys())
    if missing:
        raise RuntimeError(f"{PFS_DEMO_RESOURCE} lacks rows for {missing}")
    return values


# ---------------------------------------------------------------------------------------------
# Vectorised sampling
# ---------------------------------------------------------------------------------------------


class _Categorical:
    """Many small categorical distributions, sampled at once by distribution id.

    Distribution ``j`` occupies the interval ``(j, j + 1]`` of one sorted cumulative array, so a
    draw for id ``j`` is ``searchsorted(cum, j + u)``.
    """

    def __init__(self, dists: Sequence[Sequence[tuple[int, float]]]) -> None:
        cum: list[float] = []
        values: list[int] = []
        for j, dist in enumerate(dists):
            total = sum(p for _, p in dist)
            running = 0.0
            for k, (value, p) in enumerate(dist):
                running += p
                cum.append(j + (1.0 if k == len(dist) - 1 else min(running / total, 1.0)))
                values.append(value)
        self.cum = np.asarray(cum, dtype=np.float64)
        self.values = np.asarray(values, dtype=np.int64)

    def sample(self, rng: np.random.Generator, ids: IntArray) -> IntArray:
        u = rng.random(ids.shape[0])
        idx = np.searchsorted(self.cum, ids + u, side="right")
        out: IntArray = self.values[np.minimum(idx, self.values.shape[0] - 1)]
        return out


@dataclass
class _Catalogue:
    """Global value lists; arrays hold indices into them."""

    codes: list[str] = field(default_factory=list)
    mods: list[str] = field(default_factory=lambda: [""])
    pos: list[str] = field(default_factory=list)
    wrvus: list[str] = field(default_factory=list)

    @staticmethod
    def index(values: list[str], value: str) -> int:
        if value not in values:
            values.append(value)
        return values.index(value)


@dataclass(frozen=True)
class _Compiled:
    """A specialty's templates as flat arrays."""

    spec: Specialty
    weights: FloatArray
    tags: tuple[str, ...]
    names: tuple[str, ...]
    expected: FloatArray  # expected wRVU hundredths per encounter, by template
    line_start: IntArray
    line_count: IntArray
    line_code: IntArray
    line_p: FloatArray
    line_extra: FloatArray
    line_max: IntArray
    line_wrvu: IntArray  # index into catalogue.wrvus, or -1
    line_mods: _Categorical  # by line
    pos: _Categorical  # by template
    payer_cum: FloatArray


def _expected_units(extra: float, max_units: int) -> float:
    """E[1 + min(Poisson(extra), max_units - 1)]."""
    if extra <= 0 or max_units <= 1:
        return 1.0
    cap = max_units - 1
    pmf = [math.exp(-extra) * extra**k / math.factorial(k) for k in range(cap)]
    return 1.0 + sum(k * q for k, q in enumerate(pmf)) + cap * (1.0 - sum(pmf))


def _compile(spec: Specialty, cat: _Catalogue, rvu: dict[tuple[str, str], int]) -> _Compiled:
    line_start: list[int] = []
    line_count: list[int] = []
    codes: list[int] = []
    ps: list[float] = []
    extras: list[float] = []
    maxes: list[int] = []
    wrvu_idx: list[int] = []
    mod_dists: list[list[tuple[int, float]]] = []
    expected: list[float] = []
    for template in spec.templates:
        line_start.append(len(codes))
        line_count.append(len(template.lines))
        total = 0.0
        for line in template.lines:
            codes.append(cat.index(cat.codes, line.code))
            ps.append(line.p)
            extras.append(line.extra)
            maxes.append(line.max_units)
            wrvu_idx.append(-1 if line.wrvu is None else cat.index(cat.wrvus, line.wrvu))
            mod_dists.append([(cat.index(cat.mods, m), p) for m, p in line.mods])
            weight = sum(p for _, p in line.mods)
            if line.wrvu is not None:
                per_unit = float(Decimal(line.wrvu) * 100)
            else:
                per_unit = sum(p * rvu[(line.code, pfs_modifier(m))] for m, p in line.mods) / weight
            total += line.p * _expected_units(line.extra, line.max_units) * per_unit
        expected.append(total)
    payer_probs = np.array([dict(spec.payers).get(p, 0.0) for p in PAYERS], dtype=np.float64)
    return _Compiled(
        spec=spec,
        weights=np.array([t.weight for t in spec.templates], dtype=np.float64),
        tags=tuple(t.tag for t in spec.templates),
        names=tuple(t.name for t in spec.templates),
        expected=np.array(expected, dtype=np.float64),
        line_start=np.array(line_start, dtype=np.int64),
        line_count=np.array(line_count, dtype=np.int64),
        line_code=np.array(codes, dtype=np.int64),
        line_p=np.array(ps, dtype=np.float64),
        line_extra=np.array(extras, dtype=np.float64),
        line_max=np.array(maxes, dtype=np.int64),
        line_wrvu=np.array(wrvu_idx, dtype=np.int64),
        line_mods=_Categorical(mod_dists),
        pos=_Categorical([[(cat.index(cat.pos, c), p) for c, p in t.pos] for t in spec.templates]),
        payer_cum=np.cumsum(payer_probs / payer_probs.sum()),
    )


# ---------------------------------------------------------------------------------------------
# The roster
# ---------------------------------------------------------------------------------------------

_FIRST_NAMES: Final = (
    "Avery",
    "Blake",
    "Camille",
    "Dario",
    "Elena",
    "Farah",
    "Gideon",
    "Hana",
    "Imani",
    "Jonah",
    "Keiko",
    "Luca",
    "Maya",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rafael",
    "Sofia",
    "Tariq",
    "Uma",
    "Viktor",
    "Wren",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Anika",
    "Bruno",
    "Chiara",
    "Desmond",
    "Esme",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jasper",
    "Kira",
    "Leon",
    "Mira",
    "Nico",
    "Olga",
    "Pablo",
    "Rosa",
    "Silas",
    "Talia",
    "Ulric",
    "Vera",
    "Wade",
    "Yara",
    "Zane",
)
_LAST_NAMES: Final = (
    "Lee",
    "Okafor",
    "Novak",
    "Haddad",
    "Rossi",
    "Tanaka",
    "Moreau",
    "Kowalski",
    "Mensah",
    "Silva",
    "Larsen",
    "Ibrahim",
    "Dubois",
    "Nguyen",
    "Castillo",
    "Brennan",
    "Fischer",
    "Petrov",
    "Adeyemi",
    "Kaur",
    "Sato",
    "Varga",
    "Ortiz",
    "Lindqvist",
    "Mbeki",
    "Costa",
    "Horvat",
    "Bauer",
    "Rahman",
    "Quist",
    "Ferreira",
    "Kim",
    "Abbott",
    "Yilmaz",
    "Walsh",
    "Morales",
    "Chen",
    "Duarte",
    "Eriksen",
    "Gallo",
    "Holt",
    "Iyer",
    "Jensen",
    "Kruger",
    "Lopez",
    "Marsh",
    "Nakamura",
    "Osei",
    "Patel",
    "Reyes",
)


@dataclass
class _Person:
    index: int
    npi: str
    name: str
    specialty: str
    plan: str
    fte: Decimal
    clinical_fte: Decimal
    group: str
    start: date
    end: date | None = None
    provider_type: str = "physician"
    supervising_npi: str = ""
    productivity: float = 1.0
    tags: frozenset[str] = frozenset()
    role: str = ""  # academic | locum | new_hire | leaver | part_time | director | coding_outlier

    def window(self, year: int) -> tuple[date, date] | None:
        """First and last day employed in ``year`` (None if not employed that year)."""
        first = max(self.start, date(year, 1, 1))
        last = min(self.end or date(year, 12, 31), date(year, 12, 31))
        return (first, last) if first <= last else None

    def employed_fraction(self, year: int) -> float:
        window = self.window(year)
        if window is None:
            return 0.0
        return ((window[1] - window[0]).days + 1) / (date(year + 1, 1, 1) - date(year, 1, 1)).days


def _largest_remainder(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    base = [minimum] * len(weights)
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError("too few physicians for every specialty")
    shares = [rest * w / sum(weights) for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [b + c for b, c in zip(base, counts, strict=True)]


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, index]))


def _build_roster(n: int, seed: int, year: int) -> list[_Person]:
    rng = _rng(seed, _S_ROSTER)
    regular_specs = [s for s in SPECIALTIES if s.name in PLAN_BY_SPECIALTY]
    n_app = max(2, round(n * 6 / 300))
    counts = _largest_remainder(n - n_app - 3, [s.roster_weight for s in regular_specs], 1)
    npis = generate_npis(n, rng)
    combos = len(_FIRST_NAMES) * len(_LAST_NAMES)
    name_order = rng.permutation(combos).tolist()

    def name(i: int, doctor: bool) -> str:
        k = name_order[i % combos]
        text = (
            f"{_FIRST_NAMES[k // len(_LAST_NAMES)]} Synthetic-{_LAST_NAMES[k % len(_LAST_NAMES)]}"
        )
        text = f"Dr. {text}" if doctor else text
        return text if i < combos else f"{text} {i // combos + 1}"

    def hired() -> date:
        years = 1 + min(int(rng.geometric(0.12)) - 1, 30)
        return date(year - years, int(rng.integers(1, 13)), int(rng.integers(1, 29)))

    people: list[_Person] = []
    sigma = math.sqrt(math.log(1 + 0.22**2))

    def add(spec: Specialty, plan: str, group: str, **kw: object) -> _Person:
        i = len(people)
        tags = frozenset(tag for tag, share in spec.tags if rng.random() < share)
        person = _Person(
            index=i,
            npi=npis[i],
            name=name(i, kw.get("provider_type", "physician") == "physician"),
            specialty=spec.name,
            plan=plan,
            fte=Decimal("1.00"),
            clinical_fte=Decimal("1.00"),
            group=group,
            start=hired(),
            productivity=float(np.clip(rng.lognormal(-sigma * sigma / 2, sigma), 0.55, 1.8)),
            tags=tags,
        )
        for key, value in kw.items():
            setattr(person, key, value)
        people.append(person)
        return person

    for spec, count in zip(regular_specs, counts, strict=True):
        for k in range(count):
            add(spec, PLAN_BY_SPECIALTY[spec.name], spec.groups[k % len(spec.groups)])
        # A sub-specialty profile (Mohs, interventional) is held by at least one physician.
        for tag, _ in spec.tags:
            if not any(tag in p.tags for p in people if p.specialty == spec.name):
                first = next(p for p in people if p.specialty == spec.name)
                first.tags = first.tags | {tag}

    by_spec: dict[str, list[_Person]] = {}
    for person in people:
        by_spec.setdefault(person.specialty, []).append(person)

    # The designated part-time pediatrician, a few more part-timers, the leaver.
    peds = by_spec["Pediatrics"][-1]
    peds.fte = peds.clinical_fte = Decimal("0.60")
    peds.role = "part_time"
    for person in people:
        if not person.role and person is not by_spec[person.specialty][0] and rng.random() < 0.05:
            person.fte = person.clinical_fte = Decimal(
                str(rng.choice(["0.50", "0.70", "0.80", "0.80"]))
            )
            person.role = "part_time"
    leaver = by_spec["Cardiology"][-1]
    leaver.end = date(year, 9, 15)
    leaver.role = "leaver"
    # Medical directors (a clinic, imaging, the endoscopy unit) keep 10% of their time for it.
    for spec_name in ("Family Medicine", "Radiology", "Gastroenterology"):
        director = next((p for p in by_spec[spec_name] if not p.role), None)
        if director is not None:
            director.clinical_fte = Decimal("0.90")
            director.role = "director"
    # One family physician codes far more level-5 visits than peers (a gaming signal to find).
    outlier = next(
        p for p in by_spec["Family Medicine"][1:] + by_spec["Family Medicine"][:1] if not p.role
    )
    outlier.role = "coding_outlier"

    # APPs in primary care, each supervised by a full-time family or internal medicine physician.
    supervisors = [
        p
        for p in by_spec["Family Medicine"] + by_spec["Internal Medicine"]
        if p.fte == 1 and not p.role
    ][: max(1, (n_app * 2) // 3)] or by_spec["Family Medicine"][:1]
    for k in range(n_app):
        boss = supervisors[k % len(supervisors)]
        app_spec = _SPEC_BY_NAME[APP_SPECIALTIES[k % 2]]
        suffix = ", NP" if k % 2 == 0 else ", PA-C"
        app = add(
            app_spec, "pcp-aligned", boss.group, provider_type="app", supervising_npi=boss.npi
        )
        app.name += suffix

    im = _SPEC_BY_NAME["Internal Medicine"]
    add(im, PLAN_ACADEMIC, "Academic Medicine", clinical_fte=Decimal("0.40"), role="academic")
    people[-1].productivity *= 0.85
    hm = _SPEC_BY_NAME["Hospital Medicine"]
    add(
        hm,
        PLAN_LOCUM,
        hm.groups[0],
        fte=Decimal("0.50"),
        clinical_fte=Decimal("0.50"),
        role="locum",
        start=date(year, 1, 1),
    )
    gs = _SPEC_BY_NAME["General Surgery"]
    add(gs, PLAN_NEW_HIRE, gs.groups[0], start=date(year, 7, 1), role="new_hire")
    return people


# ---------------------------------------------------------------------------------------------
# Schedules: hospitalist shifts, locum days, clinic days
# ---------------------------------------------------------------------------------------------


def _employment_mask(person: _Person, days: npt.NDArray[np.datetime64], year: int) -> BoolArray:
    window = person.window(year)
    if window is None:
        return np.zeros(days.shape[0], dtype=np.bool_)
    return (days >= _np_day(window[0])) & (days <= _np_day(window[1]))


def _hospitalist_shifts(
    person: _Person, seed: int, year: int
) -> tuple[npt.NDArray[np.datetime64], BoolArray]:
    """Seven-on/seven-off blocks (about 182 shifts per FTE), some weeks on nights."""
    rng = _rng(seed, _S_SCHEDULE, person.index)
    days = _days_of_year(year)
    offset = int(rng.integers(0, 14))
    block = (np.arange(days.shape[0]) + offset) // 7
    on = (block % 2) == 0
    on_blocks = np.unique(block[on])
    keep_share = float(person.fte)
    kept = on_blocks[rng.random(on_blocks.shape[0]) < keep_share] if keep_share < 1 else on_blocks
    nocturnist = person.index % 9 == 4
    night_blocks = kept if nocturnist else kept[rng.random(kept.shape[0]) < 0.25]
    mask = np.isin(block, kept)
    night = np.isin(block, night_blocks)
    # A few extra pickup day shifts on off weeks.
    pickups = rng.choice(np.flatnonzero(~on), size=int(rng.integers(0, 5)), replace=False)
    mask[pickups] = True
    night[pickups] = False
    mask &= _employment_mask(person, days, year)
    return days[mask], night[mask]


def _locum_days(person: _Person, seed: int, year: int) -> npt.NDArray[np.datetime64]:
    """About 120 days in blocks of 7–14 consecutive days."""
    rng = _rng(seed, _S_SCHEDULE, person.index)
    days = _days_of_year(year)
    mask = np.zeros(days.shape[0], dtype=np.bool_)
    start = int(rng.integers(0, 20))
    while start < days.shape[0] and int(mask.sum()) < 120:
        length = int(rng.integers(7, 15))
        mask[start : start + length] = True
        start += length + int(rng.integers(10, 25))
    return days[mask & _employment_mask(person, days, year)]


def _clinic_days(
    person: _Person, seed: int, year: int
) -> tuple[npt.NDArray[np.datetime64], FloatArray]:
    """Working days with weights: weekdays (part-timers fewer), minus holidays and vacation."""
    rng = _rng(seed, _S_SCHEDULE, person.index)
    spec = _SPEC_BY_NAME[person.specialty]
    days = _days_of_year(year)
    wd = _weekday(days)
    per_week = max(1, min(5, round(5 * float(person.clinical_fte))))
    workdays = np.sort(rng.choice(5, size=per_week, replace=False))
    holidays = np.array(
        [_np_day(d) for d in us_federal_holidays(year, observed=True)], dtype="datetime64[D]"
    )
    week = (np.arange(days.shape[0]) + int(_weekday(days[:1])[0])) // 7
    vacation = rng.choice(np.unique(week), size=5, replace=False)
    weekday_ok = np.isin(wd, workdays) & ~np.isin(days, holidays) & ~np.isin(week, vacation)
    weekend_ok = (wd >= 5) | np.isin(days, holidays)
    employed = _employment_mask(person, days, year)
    weights = _MONTH_FACTOR[_month_index(days)].copy()
    w_weekday = np.where(weekday_ok & employed, weights, 0.0)
    w_weekend = np.where(weekend_ok & employed, weights, 0.0)
    share = spec.weekend_share
    total = np.zeros(days.shape[0], dtype=np.float64)
    if w_weekday.sum() > 0:
        total += (1 - share) * w_weekday / w_weekday.sum()
    if share > 0 and w_weekend.sum() > 0:
        total += share * w_weekend / w_weekend.sum()
    keep = total > 0
    return days[keep], total[keep]


# ---------------------------------------------------------------------------------------------
# Encounters
# ---------------------------------------------------------------------------------------------


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, moved into place on success and removed on error."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


ENCOUNTER_SCHEMA: Final = pa.schema(
    [
        ("npi", pa.string()),
        ("service_date", pa.date32()),
        ("hcpcs", pa.string()),
        ("modifiers", pa.string()),
        ("units", pa.int32()),
        ("place_of_service", pa.string()),
        ("payer", pa.string()),
        ("patient_id", pa.string()),
        ("status", pa.string()),
        ("wrvu", pa.decimal128(7, 2)),
        ("line_id", pa.string()),
    ]
)


@dataclass
class _Lines:
    """One physician's lines as index arrays into the catalogue."""

    person: IntArray
    day: IntArray
    code: IntArray
    mod: IntArray
    units: IntArray
    pos: IntArray
    payer: IntArray
    patient: IntArray
    status: IntArray
    wrvu: IntArray


def _physician_lines(
    person: _Person,
    comp: _Compiled,
    days: npt.NDArray[np.datetime64],
    weights: FloatArray,
    target_hundredths: float,
    rng: np.random.Generator,
    remaps: tuple[IntArray, IntArray],
    patient_base: int,
    year: int,
) -> _Lines:
    # Template mix: the specialty's, jittered per physician, restricted to held profiles.
    w = comp.weights * rng.gamma(20.0, 1 / 20.0, size=comp.weights.shape[0])
    w *= np.array([1.0 if not tag or tag in person.tags else 0.0 for tag in comp.tags])
    if person.role == "coding_outlier":
        w *= np.array([4.0 if name == "em_99215" else 1.0 for name in comp.names])
    w /= w.sum()
    per_encounter = float(w @ comp.expected)
    n_enc = max(1, round(target_hundredths / per_encounter)) if days.shape[0] else 0

    day_idx = (
        np.sort(rng.choice(days.shape[0], size=n_enc, p=weights / weights.sum()))
        if n_enc
        else np.zeros(0, np.int64)
    )
    enc_day = days[day_idx].astype(np.int64)
    template = rng.choice(comp.weights.shape[0], size=n_enc, p=w).astype(np.int64)
    pool = max(50, round(comp.spec.patients_per_cfte * float(person.clinical_fte)))
    local = np.minimum((pool * rng.random(n_enc) ** 1.6).astype(np.int64), pool - 1)
    patient = patient_base + local
    # A patient's payer is a fixed function of the patient number (Knuth multiplicative hash).
    u = ((patient.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)).astype(
        np.float64
    ) / 2**32
    payer = np.minimum(np.searchsorted(comp.payer_cum, u, side="right"), len(PAYERS) - 1).astype(
        np.int64
    )
    pos = comp.pos.sample(rng, template)

    # Expand encounters to their template lines, then keep the optional ones by chance.
    count = comp.line_count[template]
    enc = np.repeat(np.arange(n_enc, dtype=np.int64), count)
    first = np.repeat(np.cumsum(count) - count, count)
    spec_line = comp.line_start[template][enc] + (np.arange(enc.shape[0], dtype=np.int64) - first)
    keep = rng.random(spec_line.shape[0]) < comp.line_p[spec_line]
    enc, spec_line = enc[keep], spec_line[keep]

    n = spec_line.shape[0]
    code = comp.line_code[spec_line]
    medicare = np.isin(payer[enc], [PAYERS.index(p) for p in _MEDICARE_PAYERS])
    code = np.where(medicare, remaps[0][code], remaps[1][code])
    mod = comp.line_mods.sample(rng, spec_line)
    units = 1 + np.minimum(rng.poisson(comp.line_extra[spec_line]), comp.line_max[spec_line] - 1)
    line_day = enc_day[enc]
    # Status: claims of the last two weeks are mostly still submitted; ~2% denied; rare voids.
    r = rng.random(n)
    late = line_day >= _np_day(date(year, 12, 18)).astype(np.int64)
    status = np.zeros(n, dtype=np.int64)
    status[(late & (r < 0.6)) | (r > 0.997)] = STATUSES.index("submitted")
    status[(r >= 0.97) & (r < 0.99)] = STATUSES.index("denied")
    status[(r >= 0.99) & (r < 0.991)] = STATUSES.index("void")
    return _Lines(
        person=np.full(n, person.index, dtype=np.int64),
        day=line_day,
        code=code,
        mod=mod,
        units=units.astype(np.int64),
        pos=pos[enc],
        payer=payer[enc],
        patient=patient[enc],
        status=status,
        wrvu=comp.line_wrvu[spec_line],
    )


def _concat(parts: Sequence[_Lines]) -> _Lines:
    return _Lines(
        **{f: np.concatenate([getattr(p, f) for p in parts]) for f in _Lines.__dataclass_fields__}
    )


def _string_array(values: Sequence[str], idx: IntArray, *, null_first: bool = False) -> pa.Array:
    items: list[str | None] = list(values)
    if null_first:
        items[0] = None
    return pa.array(items, type=pa.string()).take(pa.array(idx))


def _padded(prefix: str, numbers: IntArray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


@dataclass
class _EncounterStats:
    rows: int = 0
    wrvu_hundredths: dict[str, int] = field(default_factory=dict)
    code_counts: dict[int, dict[str, int]] = field(default_factory=dict)


def _write_encounters(
    path: Path,
    people: Sequence[_Person],
    seed: int,
    year: int,
    schedules: dict[int, tuple[npt.NDArray[np.datetime64], FloatArray]],
    volume: float = 1.0,
) -> _EncounterStats:
    rvu = _work_rvu_hundredths()
    cat = _Catalogue()
    compiled = {s.name: _compile(s, cat, rvu) for s in SPECIALTIES}
    for remap in (_MEDICARE_REMAP, _OTHER_REMAP):
        for remapped in remap.values():
            cat.index(cat.codes, remapped)
    medicare_map = np.array(
        [cat.codes.index(_MEDICARE_REMAP.get(c, c)) for c in cat.codes], dtype=np.int64
    )
    other_map = np.array(
        [cat.codes.index(_OTHER_REMAP.get(c, c)) for c in cat.codes], dtype=np.int64
    )
    # Work RVU (hundredths) of every (code, modifier string) pair, for the summary.
    rvu_table = np.array(
        [[rvu.get((c, pfs_modifier(m)), 0) for m in cat.mods] for c in cat.codes], dtype=np.int64
    )
    local_wrvu = np.array([int(Decimal(v) * 100) for v in cat.wrvus] + [0], dtype=np.int64)
    wrvu_dict = pa.array([Decimal(v) for v in cat.wrvus], type=pa.decimal128(7, 2))
    npi_arr = pa.array([p.npi for p in people], type=pa.string())
    width = max(9, len(str(len(people) * 100_000)))
    credited = np.array([s in ("paid", "submitted") for s in STATUSES])
    tracked = {
        i
        for i, c in enumerate(cat.codes)
        if c in _DELIVERY_CODES | _MAJOR_SURGERY_CODES | _DISCHARGE_CODES
    }

    stats = _EncounterStats()
    batch: list[_Lines] = []
    batch_rows = 0
    with (
        _replacing(path) as tmp,
        pq.ParquetWriter(tmp, ENCOUNTER_SCHEMA, compression="zstd") as writer,
    ):

        def flush() -> None:
            nonlocal batch, batch_rows
            if not batch:
                return
            lines = _concat(batch)
            n = lines.code.shape[0]
            wrvu_idx = pa.array(lines.wrvu, mask=lines.wrvu < 0)
            table = pa.table(
                {
                    "npi": npi_arr.take(pa.array(lines.person)),
                    "service_date": pa.array(lines.day.astype("datetime64[D]")),
                    "hcpcs": _string_array(cat.codes, lines.code),
                    "modifiers": _string_array(cat.mods, lines.mod, null_first=True),
                    "units": pa.array(lines.units.astype(np.int32)),
                    "place_of_service": _string_array(cat.pos, lines.pos),
                    "payer": _string_array(PAYERS, lines.payer),
                    "patient_id": _padded("SP", lines.patient, width),
                    "status": _string_array(STATUSES, lines.status),
                    "wrvu": wrvu_dict.take(wrvu_idx)
                    if len(cat.wrvus)
                    else pa.nulls(n, pa.decimal128(7, 2)),
                    "line_id": _padded(
                        f"{year}-", np.arange(stats.rows + 1, stats.rows + n + 1), 9
                    ),
                },
                schema=ENCOUNTER_SCHEMA,
            )
            writer.write_table(table, row_group_size=max(n, 1))
            stats.rows += n
            batch, batch_rows = [], 0

        for person in people:
            comp = compiled[person.specialty]
            rng = _rng(seed, _S_ENCOUNTERS, person.index)
            days, weights = schedules[person.index]
            target = (
                comp.spec.wrvu_per_cfte * 100 * float(person.clinical_fte) * person.productivity
            )
            if person.specialty == "Hospital Medicine":
                target = comp.spec.wrvu_per_cfte * 100 * person.productivity * days.shape[0] / 182
            else:
                target *= person.employed_fraction(year)
            if person.role == "new_hire":
                target *= 0.6  # building a practice
            target *= volume
            lines = _physician_lines(
                person,
                comp,
                days,
                weights,
                target,
                rng,
                (medicare_map, other_map),
                person.index * 100_000,
                year,
            )
            ok = credited[lines.status]
            line_rvu = np.where(
                lines.wrvu >= 0, local_wrvu[lines.wrvu], rvu_table[lines.code, lines.mod]
            )
            hundredths = int((line_rvu * lines.units)[ok].sum())
            stats.wrvu_hundredths[person.specialty] = (
                stats.wrvu_hundredths.get(person.specialty, 0) + hundredths
            )
            valid = lines.status != STATUSES.index("void")
            counts = np.bincount(lines.code[valid], minlength=len(cat.codes))
            stats.code_counts[person.index] = {cat.codes[i]: int(counts[i]) for i in tracked}
            batch.append(lines)
            batch_rows += lines.code.shape[0]
            if batch_rows >= 200_000:
                flush()
        flush()
    return stats


# ---------------------------------------------------------------------------------------------
# Small tables
# ---------------------------------------------------------------------------------------------


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a CSV (LF line ends, minimal quoting) atomically; return the number of data rows."""
    count = 0
    with _replacing(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _fixed(value: float, places: int) -> str:
    """A decimal string with exactly ``places`` decimals (``value`` is already rounded)."""
    return f"{value:.{places}f}"


def _physician_rows(people: Sequence[_Person]) -> list[list[str]]:
    return [
        [
            p.npi,
            p.name,
            p.specialty,
            p.plan,
            f"{p.fte:.2f}",
            f"{p.clinical_fte:.2f}",
            p.start.isoformat(),
            p.end.isoformat() if p.end else "",
            p.provider_type,
            p.supervising_npi,
            p.group,
            "true" if _authorizes_pass_through(p) else "false",
        ]
        for p in people
    ]


#: Agreements signed from this date carry the shared-savings pass-through clause (the seed's
#: path: value-aligned structures go into new agreements first, older ones as they renew).
PASS_THROUGH_CLAUSE_FROM = date(2022, 1, 1)


def _authorizes_pass_through(p: _Person) -> bool:
    """Primary-care-aligned clinicians on agreements signed since 2022 authorize pass-through."""
    return p.plan == "pcp-aligned" and p.start >= PASS_THROUGH_CLAUSE_FROM


def _rate(
    rng: np.random.Generator, lo: float, hi: float, z: float, higher_is_better: bool
) -> float:
    """A rate in [lo, hi]: the physician's latent skill ``z`` plus measure-specific noise."""
    mid, spread = (lo + hi) / 2, (hi - lo) / 3.2
    shift = spread * (0.75 * z + 0.65 * float(rng.normal()))
    return float(np.clip(mid + (shift if higher_is_better else -shift), lo, hi))


# Primary-care-aligned measures: (measure, share of the panel in the denominator, rate band,
# higher is better).
_PCP_ADULT_MEASURES: Final = (
    ("hba1c_poor_control", (0.08, 0.12), (0.12, 0.35), False),
    ("bp_control", (0.24, 0.32), (0.55, 0.80), True),
    ("breast_cancer_screening", (0.10, 0.16), (0.60, 0.85), True),
    ("colorectal_cancer_screening", (0.28, 0.36), (0.55, 0.80), True),
    ("panel_outreach_completed", (0.08, 0.15), (0.50, 0.95), True),
)
_PEDS_MEASURES: Final = (
    ("well_child_visits", (0.22, 0.30), (0.55, 0.85), True),
    ("childhood_immunization_status", (0.03, 0.05), (0.60, 0.90), True),
    ("panel_outreach_completed", (0.08, 0.15), (0.50, 0.95), True),
)
# The first physician of these specialties has one measure below a denominator of 20.
_SMALL_DENOMINATOR: Final = {
    "Rheumatology": "breast_cancer_screening",
    "Hematology/Oncology": "hba1c_poor_control",
    "Nurse Practitioner": "colorectal_cancer_screening",
}

Measure = tuple[str, float, tuple[float, float], bool]  # id, denominator, rate band, higher


def _quality_rows(
    people: Sequence[_Person],
    seed: int,
    year: int,
    panels: dict[int, int],
    code_counts: dict[int, dict[str, int]],
) -> list[list[str]]:
    """Measure results; OB, surgical and hospitalist denominators come from the billed lines."""
    rows: list[list[str]] = []
    small_done: set[str] = set()
    for p in people:
        rng = _rng(seed, _S_QUALITY, p.index)
        skill = float(rng.normal())
        exclusion_rate = float(rng.uniform(0.01, 0.05))
        counts = code_counts.get(p.index, {})
        measures: list[Measure] = []
        if p.plan == "pcp-aligned" and p.specialty == "Pediatrics":
            # Few children have diabetes: this denominator is always below a minimum of 20.
            measures.append(("hba1c_poor_control", float(rng.integers(1, 9)), (0.12, 0.35), False))
            for name, share, band, up in _PEDS_MEASURES:
                measures.append((name, panels[p.index] * float(rng.uniform(*share)), band, up))
        elif p.plan == "pcp-aligned":
            small = _SMALL_DENOMINATOR.get(p.specialty) if p.specialty not in small_done else None
            small_done.add(p.specialty)
            for name, share, band, up in _PCP_ADULT_MEASURES:
                den = panels[p.index] * float(rng.uniform(*share))
                measures.append(
                    (name, float(rng.integers(8, 20)) if name == small else den, band, up)
                )
        elif p.specialty == "Cardiology":
            scale = float(p.clinical_fte) * p.employed_fraction(year)
            measures.append(
                ("cardio_statin_therapy", rng.uniform(150, 400) * scale, (0.75, 0.95), True)
            )
            measures.append(
                ("cardio_readmit_30d", rng.uniform(40, 120) * scale, (0.10, 0.22), False)
            )
        elif p.specialty == "Obstetrics & Gynecology":
            deliveries = sum(counts.get(c, 0) for c in _DELIVERY_CODES)
            ntsv = deliveries * float(rng.uniform(0.30, 0.40))
            measures.append(("ob_ntsv_cesarean", ntsv, (0.18, 0.32), False))
            measures.append(("ob_postpartum_visit", deliveries, (0.70, 0.95), True))
        elif p.specialty in ("Orthopedic Surgery", "General Surgery", "Urology"):
            cases = sum(counts.get(c, 0) for c in _MAJOR_SURGERY_CODES)
            measures.append(("surg_ssi", cases, (0.01, 0.05), False))
            measures.append(("surg_readmit_30d", cases, (0.04, 0.12), False))
        elif p.plan == "hospitalist-shift":
            discharges = sum(counts.get(c, 0) for c in _DISCHARGE_CODES)
            measures.append(("hosp_readmit_30d", discharges, (0.10, 0.20), False))
            measures.append(("hosp_discharge_before_noon", discharges, (0.20, 0.45), True))

        for name, den_f, (lo, hi), up in measures:
            den = round(den_f)
            num = int(rng.binomial(den, _rate(rng, lo, hi, skill, up)))
            # The planted outlier excludes about 30% of the eligible diabetic patients.
            rate = (
                0.30
                if p.role == "coding_outlier" and name == "hba1c_poor_control"
                else exclusion_rate
            )
            excluded = int(rng.binomial(den, rate / (1 - rate)))
            rows.append([p.npi, name, str(num), str(den), str(excluded), str(year)])

        if p.specialty in ("Orthopedic Surgery", "General Surgery", "Urology"):
            # Numerator: observed deaths; denominator: expected deaths × 100 (so that
            # numerator / denominator × 100 is the observed-to-expected ratio).
            cases = sum(counts.get(c, 0) for c in _MAJOR_SURGERY_CODES)
            expected = cases * float(rng.uniform(0.004, 0.015))
            deaths = int(rng.poisson(expected * _rate(rng, 0.6, 1.6, skill, False)))
            rows.append(
                [p.npi, "surg_mortality_oe", str(deaths), _fixed(expected * 100, 2), "0", str(year)]
            )
    return rows


def _panel_size(p: _Person, rng: np.random.Generator) -> int:
    lo, hi = {
        "Family Medicine": (1400, 2300),
        "Internal Medicine": (1300, 2200),
        "Pediatrics": (1300, 2300),
        "Endocrinology": (1000, 1600),
        "Rheumatology": (1000, 1500),
        "Hematology/Oncology": (1000, 1400),
    }.get(p.specialty, (1000, 1600))
    return round(float(rng.uniform(lo, hi)) * float(p.clinical_fte))


_ATTRIBUTION_MIX: Final[dict[str, Dist]] = {
    "Pediatrics": (("Commercial", 0.52), ("Medicaid", 0.48)),
    "Family Medicine": (
        ("Medicare", 0.14),
        ("Medicare Advantage", 0.18),
        ("Commercial", 0.46),
        ("Medicaid", 0.22),
    ),
}
_DEFAULT_ATTRIBUTION_MIX: Final[Dist] = (
    ("Medicare", 0.22),
    ("Medicare Advantage", 0.22),
    ("Commercial", 0.42),
    ("Medicaid", 0.14),
)
_RISK: Final[dict[str, tuple[float, float]]] = {
    "Medicare": (1.05, 1.35),
    "Medicare Advantage": (1.00, 1.40),
    "Commercial": (0.80, 1.00),
    "Medicaid": (0.85, 1.15),
}


def _attribution_rows(
    people: Sequence[_Person], seed: int, year: int
) -> tuple[list[list[str]], dict[int, int]]:
    rows: list[list[str]] = []
    panels: dict[int, int] = {}
    for p in people:
        if p.plan != "pcp-aligned":
            continue
        rng = _rng(seed, _S_PANEL, p.index)
        panel = _panel_size(p, rng)
        panels[p.index] = panel
        mix = _ATTRIBUTION_MIX.get(p.specialty, _DEFAULT_ATTRIBUTION_MIX)
        shares = np.array([s for _, s in mix]) * rng.gamma(30.0, 1 / 30.0, size=len(mix))
        shares /= shares.sum()
        risk = {payer: float(rng.uniform(*_RISK[payer])) for payer, _ in mix}
        growth = float(rng.normal(0.0, 0.004))
        window = p.window(year)
        for month in range(1, 13):
            first = date(year, month, 1)
            last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
            if window is None or last < window[0] or first > window[1]:
                continue
            size = panel * (1 + growth) ** (month - 1) * float(rng.normal(1.0, 0.008))
            for (payer, _), share in zip(mix, shares, strict=True):
                members = round(size * share)
                score = float(np.clip(risk[payer] + rng.normal(0, 0.01), 0.80, 1.40))
                rows.append([p.npi, first.isoformat(), str(members), _fixed(score, 4), payer])
    return rows, panels


def _shift_rows(
    people: Sequence[_Person],
    year: int,
    shifts: dict[int, tuple[npt.NDArray[np.datetime64], BoolArray]],
) -> list[list[str]]:
    holidays = set(us_federal_holidays(year))
    rows: list[list[str]] = []
    for p in people:
        if p.index not in shifts:
            continue
        days, night = shifts[p.index]
        for day, is_night in zip(days.tolist(), night.tolist(), strict=True):
            kind = (
                "holiday"
                if day in holidays
                else "night"
                if is_night
                else "weekend"
                if day.weekday() >= 5
                else "day"
            )
            rows.append([p.npi, day.isoformat(), kind, "12.00"])
    return rows


def _stipend_rows(people: Sequence[_Person], seed: int, year: int) -> list[list[str]]:
    rng = _rng(seed, _S_OTHER, 0)
    rows: list[list[str]] = []
    directors = [p for p in people if p.role == "director"]
    for k, p in enumerate(directors):
        amount = 500 * int(rng.integers(50, 81))  # $25,000–$40,000
        start = date(year, 4, 1).isoformat() if k == len(directors) - 1 else ""
        rows.append([p.npi, "medical_directorship", f"{amount}.00", start, ""])
    # Call coverage is paid where a plan pays it: the cardiology/obstetrics plan.  Surgeons are
    # on pure production (their plan has no stipend), so they get no call rows.
    call = {"Cardiology": 30000, "Obstetrics & Gynecology": 30000}
    for p in people:
        if p.specialty in call and p.plan == PLAN_BY_SPECIALTY[p.specialty]:
            start = p.start.isoformat() if p.start.year == year else ""
            end = p.end.isoformat() if p.end else ""
            rows.append(
                [
                    p.npi,
                    "call_coverage",
                    f"{(Decimal(call[p.specialty]) * Decimal(str(p.fte))).quantize(Decimal('0.01'))}",
                    start,
                    end,
                ]
            )
    supervised: dict[str, int] = {}
    for p in people:
        if p.supervising_npi:
            supervised[p.supervising_npi] = supervised.get(p.supervising_npi, 0) + 1
    for p in people:
        if p.npi in supervised:
            rows.append([p.npi, "app_supervision", f"{5000 * supervised[p.npi]}.00", "", ""])
    return rows


def _activity_rows(
    people: Sequence[_Person],
    seed: int,
    year: int,
    locum_days: npt.NDArray[np.datetime64],
    locum: _Person,
) -> list[list[str]]:
    rng = _rng(seed, _S_OTHER, 1)
    rows = [[locum.npi, day.isoformat(), "locum_day", "1"] for day in locum_days.tolist()]
    # QI work is led by the academic internist and a few primary-care-aligned physicians.
    candidates = [
        p
        for p in people
        if p.role in ("director", "") and p.provider_type == "physician" and p.plan == "pcp-aligned"
    ]
    chosen = rng.choice(
        len(candidates), size=min(len(candidates), max(2, len(people) // 100)), replace=False
    )
    leads = [p for p in people if p.role == "academic"] + [
        candidates[int(i)] for i in sorted(chosen)
    ]
    milestones = [date(year, 3, 31), date(year, 6, 30), date(year, 9, 30), date(year, 12, 15)]
    for p in leads:
        window = p.window(year)
        hit = [
            d for d in milestones if window and window[0] <= d <= window[1] and rng.random() < 0.75
        ]
        rows.extend([p.npi, d.isoformat(), "qi_milestone", "1"] for d in hit)
    return rows


def _hours_rows(people: Sequence[_Person], seed: int, year: int) -> list[list[str]]:
    rng = _rng(seed, _S_OTHER, 2)
    rows: list[list[str]] = []
    academic = next(p for p in people if p.role == "academic")
    monday = date(year, 1, 1) + timedelta(days=(7 - date(year, 1, 1).weekday()) % 7)
    weeks = [
        monday + timedelta(weeks=k) for k in range(52) if (monday + timedelta(weeks=k)).year == year
    ]
    off = set(rng.choice(len(weeks), size=6, replace=False).tolist())
    for k, week in enumerate(weeks):
        if k in off:
            continue
        for kind, mean in (("teaching", 12.0), ("admin", 10.0)):
            hours = max(0.0, round(float(rng.normal(mean, 2.0)) * 4) / 4)
            rows.append([academic.npi, week.isoformat(), _fixed(hours, 2), kind])
    return rows


# ---------------------------------------------------------------------------------------------
# READMEs
# ---------------------------------------------------------------------------------------------


def _data_readme(seed: int, year: int, n: int, rows: dict[str, int]) -> str:
    files = {name: f"{name}.csv" for name in rows}
    files.update(encounters="encounters.parquet", pfs_rvu_demo=f"reference/{PFS_DEMO_OUTPUT}")
    table_lines = "\n".join(f"| `{files[name]}` | {count:,} |" for name, count in rows.items())
    return f"""# Synthetic data — {ORGANIZATION}

**Every person, patient, claim line, quality result, panel, shift and stipend in this folder is
synthetic.**  No real patient or physician is described.  The data were generated by
`paycascade.demo.synth.generate_data` (paycascade {__version__}) with seed `{seed}`, year `{year}`
and {n} clinicians; the same version and arguments reproduce these files byte for byte.

| file | rows |
|---|---|
{table_lines}

## What is real
- **Work RVUs**: `reference/{PFS_DEMO_OUTPUT}` holds the CMS PFS rows of exactly the codes and
  modifiers these lines use, copied unchanged from the {PFS_CITATION}.  See `reference/README.md`.
- **US federal holidays** of {year} (holiday shifts in `shifts.csv`; clinics closed on observed days).
- The Mohs stage/add-on proportions follow CMS's public 2021 Medicare claims aggregates.

## What is invented
- Names (`Dr. <first> Synthetic-<last>`), clinic names and patients (`SP…`).
- NPIs: random ten-digit numbers with a valid check digit (Luhn over `80840` + the first nine
  digits); any match with a real provider is coincidence.
- Annual wRVU per clinical FTE by specialty: illustrative ballparks, not survey medians (those are
  proprietary), with a lognormal spread across physicians (CV about 22%).
- Code mixes, payer mix, place of service, denials (about 2%), claims still `submitted` at year
  end, quality rates, panels and risk scores.

## Cast
- Plans by specialty: pcp-aligned (family and internal medicine, pediatrics, endocrinology,
  rheumatology, hematology/oncology, and the primary-care APPs), cardio-ob-withhold (cardiology,
  OB/GYN), surgery-tiered (orthopedic and general surgery, urology), hospitalist-shift,
  specialist-wrvu (gastroenterology, dermatology incl. Mohs, neurology, radiology reads with
  modifier 26).
- One academic internist (clinical FTE 0.40, `hours.csv` teaching/admin), one locum hospitalist
  (paid by `locum_day` in `activities.csv`), one general surgeon hired on July 1 (income
  guarantee), a part-time pediatrician (FTE 0.60) and a few other part-timers, a cardiologist who
  leaves on September 15, three medical directors (a primary-care clinic, imaging, the endoscopy
  unit; clinical FTE 0.90).
- Planted for the guardrails to find: one family physician bills far more level-5 visits (99215)
  than peers and excludes about 30% of patients from `hba1c_poor_control`.

## Notes on measures
- Lower is better: `hba1c_poor_control`, `cardio_readmit_30d`, `ob_ntsv_cesarean`, `surg_ssi`,
  `surg_readmit_30d`, `surg_mortality_oe`, `hosp_readmit_30d`.
- `surg_mortality_oe`: numerator = observed deaths, denominator = expected deaths × 100, so
  numerator / denominator × 100 is the observed-to-expected ratio.
- Pediatricians report `well_child_visits`, `childhood_immunization_status`,
  `panel_outreach_completed` and `hba1c_poor_control` (always below a denominator of 20);
  the adult screening and blood-pressure measures do not apply to children.
- OB, surgical and hospitalist denominators are the deliveries, major procedures and discharges
  billed in `encounters.parquet`.
"""


def _reference_readme() -> str:
    return f"""# Reference data

`{PFS_DEMO_OUTPUT}`: rows of the CMS Physician Fee Schedule relative value file for exactly the
HCPCS codes and modifiers the synthetic demo bills.

Source: {PFS_CITATION}.  Released by CMS on 01/30/2023 in the RVU23A package.

Layout: one header row with the column names of the file (`HCPCS`, `MOD`, `STATUS_CODE`,
`WORK_RVU`, …, `CONV_FACTOR` = 33.8872); values are unchanged.  The CPT descriptors are not
included (CPT is copyright of the American Medical Association; codes and RVUs only).

Some codes carry status codes other than A: preventive visits (N, not covered by Medicare but
valued), the post-operative visit 99024 (B, bundled, 0 work RVU), unlisted procedures (C, carrier
priced, 0 work RVU — the demo lines carry their own locally negotiated `wrvu`).
"""


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`generate_data` wrote.

    ``rows`` counts data rows per table (``encounters`` = billing lines); ``wrvu_by_specialty``
    is the PFS work RVU × units of lines that are paid or submitted (no crediting adjustments).
    """

    root: Path
    seed: int
    year: int
    physicians: int
    files: tuple[Path, ...]
    rows: dict[str, int]
    specialties: dict[str, int]
    plans: dict[str, int]
    wrvu_by_specialty: dict[str, Decimal]


#: Encounter lines per clinician at volume 1 (300 clinicians → about 1.26M lines).
LINES_PER_CLINICIAN = 4197


def generate_data(
    root: Path,
    *,
    physicians: int = 300,
    seed: int = 2026,
    year: int = 2026,
    volume: float = 1.0,
) -> SynthSummary:
    """Write the synthetic health system's input tables under ``root/data/``.

    ``physicians`` is the number of clinicians in ``physicians.csv`` (APPs included; at least
    40 so that every plan is represented).  Same arguments, same bytes.  Existing files of the
    same names are replaced; other files in ``data/`` are left alone.

    ``volume`` multiplies every clinician's encounters (for scale tests: the code mix stays, the
    wRVU per FTE no longer looks like practice).  Encounters are streamed to Parquet by batch of
    clinicians, so memory stays bounded at any size.
    """
    if not 0 < volume <= 1000:
        raise ValueError(f"volume must be > 0 and <= 1000, got {volume}")
    if physicians < MIN_PHYSICIANS:
        raise ValueError(f"physicians must be at least {MIN_PHYSICIANS}, got {physicians}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if not 1900 < year < 2200:
        raise ValueError(f"year {year} is out of range")
    data = Path(root) / "data"
    reference = data / "reference"
    reference.mkdir(parents=True, exist_ok=True)

    people = _build_roster(physicians, seed, year)
    schedules: dict[int, tuple[npt.NDArray[np.datetime64], FloatArray]] = {}
    shifts: dict[int, tuple[npt.NDArray[np.datetime64], BoolArray]] = {}
    locum = next(p for p in people if p.role == "locum")
    locum_days = _locum_days(locum, seed, year)
    for p in people:
        if p is locum:
            schedules[p.index] = (locum_days, _MONTH_FACTOR[_month_index(locum_days)])
        elif p.specialty == "Hospital Medicine":
            days, night = _hospitalist_shifts(p, seed, year)
            shifts[p.index] = (days, night)
            schedules[p.index] = (
                days,
                np.where(night, 0.75, 1.0) * _MONTH_FACTOR[_month_index(days)],
            )
        else:
            schedules[p.index] = _clinic_days(p, seed, year)

    files: list[Path] = []
    rows: dict[str, int] = {}

    def csv_table(name: str, header: Sequence[str], table_rows: Iterable[Sequence[object]]) -> None:
        path = data / f"{name}.csv"
        rows[name] = _write_csv(path, header, table_rows)
        files.append(path)

    csv_table(
        "physicians",
        [
            "npi",
            "name",
            "specialty",
            "plan",
            "fte",
            "clinical_fte",
            "start_date",
            "end_date",
            "provider_type",
            "supervising_npi",
            "group",
            "pass_through_authorized",
        ],
        _physician_rows(people),
    )
    enc_path = data / "encounters.parquet"
    stats = _write_encounters(enc_path, people, seed, year, schedules, volume)
    rows["encounters"] = stats.rows
    files.append(enc_path)
    attribution, panels = _attribution_rows(people, seed, year)
    csv_table(
        "quality",
        ["npi", "measure", "numerator", "denominator", "exclusions", "period"],
        _quality_rows(people, seed, year, panels, stats.code_counts),
    )
    csv_table("attribution", ["npi", "month", "member_months", "risk_score", "payer"], attribution)
    csv_table("shifts", ["npi", "date", "shift_type", "hours"], _shift_rows(people, year, shifts))
    csv_table(
        "stipends",
        ["npi", "stipend", "annual_amount", "start_date", "end_date"],
        _stipend_rows(people, seed, year),
    )
    csv_table(
        "activities",
        ["npi", "date", "activity", "quantity"],
        _activity_rows(people, seed, year, locum_days, locum),
    )
    csv_table("hours", ["npi", "date", "hours", "kind"], _hours_rows(people, seed, year))

    header, pfs_rows = load_demo_pfs()
    pfs_path = reference / PFS_DEMO_OUTPUT
    rows["pfs_rvu_demo"] = _write_csv(pfs_path, header, pfs_rows)
    files.append(pfs_path)
    for path, text in (
        (reference / "README.md", _reference_readme()),
        (data / "README.md", _data_readme(seed, year, physicians, rows)),
    ):
        path.write_text(text, encoding="utf-8")
        files.append(path)

    def tally(key: Callable[[_Person], str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in people:
            out[key(p)] = out.get(key(p), 0) + 1
        return out

    return SynthSummary(
        root=Path(root),
        seed=seed,
        year=year,
        physicians=len(people),
        files=tuple(files),
        rows=rows,
        specialties=tally(lambda p: p.specialty),
        plans=tally(lambda p: p.plan),
        wrvu_by_specialty={k: Decimal(v).scaleb(-2) for k, v in stats.wrvu_hundredths.items()},
    )
