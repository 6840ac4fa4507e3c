"""A clearly labelled SYNTHETIC compensation survey for the demo's FMV guardrails.

Published compensation surveys (MGMA, SullivanCotter, AMGA, …) are licensed, so paycascade
ships none of their figures.  This table is invented: medians of the order of magnitude a
reader would expect for each specialty, spread by fixed factors per percentile.  Every row says
so in its ``source`` column, and every FMV finding cites it.  Load your own licensed figures as
``data/fmv_survey.csv`` (columns in docs/DATA.md).
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Final

PERCENTILES: Final = (10, 25, 50, 75, 90)
TCC_SPREAD: Final = ("0.68", "0.82", "1", "1.24", "1.52")
WRVU_SPREAD: Final = ("0.66", "0.81", "1", "1.22", "1.45")
CPW_SPREAD: Final = ("0.78", "0.89", "1", "1.13", "1.30")

# specialty: (median total cash compensation per 1.0 FTE, median annual wRVU, median $/wRVU)
MEDIANS: Final[dict[str, tuple[int, int, str]]] = {
    "Cardiology": (540_000, 8_700, "60.50"),
    "Dermatology": (430_000, 7_600, "55.00"),
    "Endocrinology": (265_000, 4_600, "55.00"),
    "Family Medicine": (300_000, 5_000, "58.00"),
    "Gastroenterology": (580_000, 9_700, "58.00"),
    "General Surgery": (450_000, 7_000, "60.00"),
    "Hematology/Oncology": (420_000, 6_600, "60.00"),
    "Hospital Medicine": (330_000, 4_100, "75.00"),
    "Internal Medicine": (300_000, 4_700, "59.00"),
    "Neurology": (320_000, 5_300, "57.00"),
    "Nurse Practitioner": (150_000, 3_000, "50.00"),
    "Obstetrics & Gynecology": (390_000, 6_500, "58.00"),
    "Orthopedic Surgery": (620_000, 8_500, "68.00"),
    "Pediatrics": (265_000, 4_500, "57.00"),
    "Physician Assistant": (150_000, 3_100, "48.00"),
    "Radiology": (560_000, 10_500, "55.00"),
    "Rheumatology": (290_000, 4_400, "62.00"),
    "Urology": (500_000, 8_200, "58.00"),
}


def source_label(year: int) -> str:
    return (
        f"SYNTHETIC demo survey {year} (invented figures, not from any published survey; "
        "load your licensed surveys for real FMV review)"
    )


def survey_rows(year: int) -> list[list[str]]:
    """``specialty, percentile, tcc, wrvu, comp_per_wrvu, source`` rows, sorted."""
    rows = []
    label = source_label(year)
    for specialty in sorted(MEDIANS):
        tcc, wrvu, cpw = MEDIANS[specialty]
        for pct, ft, fw, fc in zip(PERCENTILES, TCC_SPREAD, WRVU_SPREAD, CPW_SPREAD, strict=True):
            rows.append(
                [
                    specialty,
                    str(pct),
                    str((Decimal(tcc) * Decimal(ft)).quantize(Decimal(1000), ROUND_HALF_UP)),
                    str((Decimal(wrvu) * Decimal(fw)).quantize(Decimal(10), ROUND_HALF_UP)),
                    str((Decimal(cpw) * Decimal(fc)).quantize(Decimal("0.01"), ROUND_HALF_UP)),
                    label,
                ]
            )
    return rows


def write_survey(root: Path, year: int) -> Path:
    """Write ``data/fmv_survey.csv`` into the workspace at ``root``; returns its path."""
    path = root / "data" / "fmv_survey.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["specialty", "percentile", "tcc", "wrvu", "comp_per_wrvu", "source"])
        writer.writerows(survey_rows(year))
    return path
