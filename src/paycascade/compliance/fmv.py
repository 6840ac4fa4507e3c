"""Fair market value: where each physician's pay and production sit in a compensation survey.

The survey is the optional ``fmv_survey`` input table (``specialty, percentile, tcc, wrvu,
comp_per_wrvu``), loaded by the user from the surveys they license; the demo ships a clearly
labelled synthetic one.  Positions are found by linear interpolation between the published
percentiles; a value below the lowest published percentile is "< 10th" (with a 10th-percentile
floor for arithmetic), above the highest "> 90th" (with a 90th-percentile ceiling).

Normalisation: total cash compensation (TCC, what the statement totals) is annualised by the
days the physician was employed in the period and divided by total FTE; wRVUs are annualised the
same way and divided by clinical FTE; comp per wRVU is TCC ÷ wRVU as paid.  Bands: < 25th,
25th–75th, 75th–90th, > 90th: every physician's band is shown on the statement; a flag is raised
above the 90th (FMV_ABOVE_90TH), for pay ahead of production by more than 15 points when pay is
at or above the median (FMV_PAY_PRODUCTION_GAP: below the median, a gap is not an overpayment
question), and for comp per wRVU above the 75th at production above the 75th
(FMV_COMP_PER_WRVU_HIGH).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from paycascade.compliance.findings import Finding, finding

ZERO = Decimal(0)
HUNDRED = Decimal(100)
GAP_POINTS = Decimal(15)
MEDIAN = Decimal(50)
HIGH_PERCENTILE = Decimal(75)
LOW_FTE = Decimal("0.70")
LOW_WRVU = Decimal(1000)
_PCT_Q = Decimal("0.1")
_MONEY_Q = Decimal("0.01")


@dataclass(frozen=True)
class SurveyPoint:
    percentile: Decimal
    tcc: Decimal | None
    wrvu: Decimal | None
    comp_per_wrvu: Decimal | None
    source: str = ""


Survey = Mapping[str, Sequence[SurveyPoint]]  # lower-case specialty -> points by percentile


def survey_from_rows(rows: Iterable[Mapping[str, object]]) -> dict[str, list[SurveyPoint]]:
    """Group survey rows by specialty (case-insensitive), sorted by percentile."""
    out: dict[str, list[SurveyPoint]] = {}

    def num(value: object) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    for r in rows:
        point = SurveyPoint(
            percentile=Decimal(str(r["percentile"])),
            tcc=num(r.get("tcc")),
            wrvu=num(r.get("wrvu")),
            comp_per_wrvu=num(r.get("comp_per_wrvu")),
            source=str(r.get("source") or ""),
        )
        out.setdefault(str(r["specialty"]).strip().lower(), []).append(point)
    for points in out.values():
        points.sort(key=lambda p: p.percentile)
    return out


def ordinal(p: Decimal) -> str:
    """``50`` → ``50th``, ``22`` → ``22nd``; a fractional percentile is written as a number."""
    n = int(p) if p == p.to_integral_value() else None
    if n is None:
        return f"{p.normalize():f}"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class Position:
    """A value's place in a survey distribution."""

    value: Decimal
    percentile: Decimal  # interpolated; the lowest/highest published percentile outside them
    label: str  # "62.4", "< 10th", "> 90th"
    below: bool = False
    above: bool = False

    @property
    def band(self) -> str:
        """< 25th, 25th–75th, 75th–90th or > 90th (a value past the last published percentile
        counts as just beyond it)."""
        p = self.percentile
        if self.above:
            return "> 90th" if p >= 90 else "75th–90th" if p >= 75 else "25th–75th"
        if p < 25 or (self.below and p <= 25):
            return "< 25th"
        if p <= 75:
            return "25th–75th"
        return "75th–90th" if p <= 90 else "> 90th"


def position(value: Decimal, points: Sequence[tuple[Decimal, Decimal]]) -> Position | None:
    """Linear interpolation of ``value`` in ``(percentile, value)`` points (None: no points)."""
    pts = sorted(points)
    if not pts:
        return None
    lo_p, lo_v = pts[0]
    hi_p, hi_v = pts[-1]
    if value < lo_v:
        return Position(value, lo_p, f"< {ordinal(lo_p)}", below=True)
    if value > hi_v:
        return Position(value, hi_p, f"> {ordinal(hi_p)}", above=True)
    for (p0, v0), (p1, v1) in pairwise(pts):
        if v0 <= value <= v1:
            pct = p0 if v1 == v0 else p0 + (p1 - p0) * (value - v0) / (v1 - v0)
            pct = pct.quantize(_PCT_Q, ROUND_HALF_UP)
            return Position(value, pct, f"{pct:f}")
    pct = lo_p if value <= lo_v else hi_p
    return Position(value, pct, f"{pct:f}")


@dataclass(frozen=True)
class PayFacts:
    """What FMV needs to know about one clinician for the period."""

    npi: str
    specialty: str
    provider_type: str
    fte: Decimal
    clinical_fte: Decimal
    tcc_cents: int
    wrvu: Decimal | None  # credited wRVU of the period (None: no billing data)
    annual_factor: Decimal  # days in the year ÷ days employed in the period


@dataclass(frozen=True)
class FmvPosition:
    """A physician's FMV picture (shown on the statement, carried as evidence)."""

    tcc_per_fte: Decimal
    wrvu_per_cfte: Decimal | None
    comp_per_wrvu: Decimal | None
    tcc: Position | None
    wrvu: Position | None
    cpw: Position | None
    source: str

    def as_dict(self) -> dict[str, str | None]:
        def pos(p: Position | None) -> str | None:
            return None if p is None else p.label

        return {
            "tcc_annual_per_fte": str(self.tcc_per_fte),
            "tcc_percentile": pos(self.tcc),
            "band": None if self.tcc is None else self.tcc.band,
            "wrvu_annual_per_cfte": None if self.wrvu_per_cfte is None else str(self.wrvu_per_cfte),
            "wrvu_percentile": pos(self.wrvu),
            "comp_per_wrvu": None if self.comp_per_wrvu is None else str(self.comp_per_wrvu),
            "comp_per_wrvu_percentile": pos(self.cpw),
            "survey": self.source,
        }


def _series(points: Sequence[SurveyPoint], attr: str) -> list[tuple[Decimal, Decimal]]:
    out = []
    for p in points:
        value = getattr(p, attr)
        if value is not None:
            out.append((p.percentile, value))
    return out


def fmv_position(facts: PayFacts, points: Sequence[SurveyPoint]) -> FmvPosition | None:
    if facts.fte <= 0:
        return None
    dollars = Decimal(facts.tcc_cents) / HUNDRED
    tcc = (dollars * facts.annual_factor / facts.fte).quantize(_MONEY_Q, ROUND_HALF_UP)
    wrvu_n: Decimal | None = None
    cpw: Decimal | None = None
    if facts.wrvu is not None and facts.wrvu > 0 and facts.clinical_fte > 0:
        wrvu_n = (facts.wrvu * facts.annual_factor / facts.clinical_fte).quantize(
            _MONEY_Q, ROUND_HALF_UP
        )
        cpw = (dollars / facts.wrvu).quantize(_MONEY_Q, ROUND_HALF_UP)
    sources = sorted({p.source for p in points if p.source})
    return FmvPosition(
        tcc_per_fte=tcc,
        wrvu_per_cfte=wrvu_n,
        comp_per_wrvu=cpw,
        tcc=position(tcc, _series(points, "tcc")),
        wrvu=None if wrvu_n is None else position(wrvu_n, _series(points, "wrvu")),
        cpw=None if cpw is None else position(cpw, _series(points, "comp_per_wrvu")),
        source="; ".join(sources),
    )


def fmv_findings(
    people: Sequence[PayFacts], survey: Survey
) -> tuple[list[Finding], dict[str, FmvPosition]]:
    """FMV bands, the pay-production gap and comp per wRVU at high production."""
    findings: list[Finding] = []
    positions: dict[str, FmvPosition] = {}
    if not survey:
        return findings, positions
    for f in people:
        if f.tcc_cents <= 0 or f.fte <= 0:
            continue
        points = survey.get(f.specialty.strip().lower())
        if not points:
            findings.append(
                finding(
                    "FMV_NO_BENCHMARK",
                    "info",
                    "physician",
                    f.npi,
                    f"no survey rows for specialty '{f.specialty}': pay not benchmarked",
                    {"specialty": f.specialty, "survey_specialties": len(survey)},
                )
            )
            continue
        pos = fmv_position(f, points)
        if pos is None or pos.tcc is None:
            continue
        positions[f.npi] = pos
        evidence = {k: v for k, v in pos.as_dict().items() if v is not None}
        evidence["specialty"] = f.specialty
        evidence["fte"] = str(f.fte)
        if pos.tcc.band == "> 90th":
            findings.append(
                finding(
                    "FMV_ABOVE_90TH",
                    "high",
                    "physician",
                    f.npi,
                    f"total cash compensation ${pos.tcc_per_fte:,} per FTE is above the "
                    f"{f.specialty} survey's 90th percentile ({pos.tcc.label})",
                    evidence,
                )
            )
        if pos.wrvu is not None:
            gap = (pos.tcc.percentile - pos.wrvu.percentile).quantize(_PCT_Q, ROUND_HALF_UP)
            if gap > GAP_POINTS and pos.tcc.percentile >= MEDIAN:
                findings.append(
                    finding(
                        "FMV_PAY_PRODUCTION_GAP",
                        "review",
                        "physician",
                        f.npi,
                        f"pay at percentile {pos.tcc.label} but production at percentile "
                        f"{pos.wrvu.label}: a gap of {gap} points (> {GAP_POINTS}) with pay at "
                        "or above the median",
                        {**evidence, "gap_points": str(gap)},
                    )
                )
            high_cpw = pos.cpw is not None and (
                pos.cpw.above or pos.cpw.percentile > HIGH_PERCENTILE
            )
            high_wrvu = pos.wrvu.above or pos.wrvu.percentile > HIGH_PERCENTILE
            if high_cpw and high_wrvu and pos.cpw is not None:
                findings.append(
                    finding(
                        "FMV_COMP_PER_WRVU_HIGH",
                        "review",
                        "physician",
                        f.npi,
                        f"comp per wRVU ${pos.comp_per_wrvu} at percentile {pos.cpw.label} "
                        f"while production is at percentile {pos.wrvu.label}: pay compounds at "
                        "high production",
                        evidence,
                    )
                )
    return findings, positions


def benchmark_findings(people: Sequence[PayFacts]) -> list[Finding]:
    """FTE under 0.70 or annualised production under 1,000 wRVU: benchmarks are unreliable."""
    out: list[Finding] = []
    for f in people:
        low = min(f.fte, f.clinical_fte)
        if f.fte < LOW_FTE or f.clinical_fte < LOW_FTE:
            out.append(
                finding(
                    "BENCHMARK_LOW_FTE",
                    "info",
                    "physician",
                    f.npi,
                    f"FTE {f.fte} (clinical {f.clinical_fte}) is below {LOW_FTE}: survey "
                    "benchmarks for full-time physicians do not apply reliably",
                    {"fte": f.fte, "clinical_fte": f.clinical_fte, "threshold": LOW_FTE},
                )
            )
        if f.provider_type != "physician" or f.wrvu is None or low <= 0:
            continue
        annual = (f.wrvu * f.annual_factor).quantize(_MONEY_Q, ROUND_HALF_UP)
        if annual < LOW_WRVU:
            out.append(
                finding(
                    "BENCHMARK_LOW_PRODUCTION",
                    "info",
                    "physician",
                    f.npi,
                    f"annualised production {annual:,} wRVU is below {LOW_WRVU:,}: productivity "
                    "benchmarks are unreliable",
                    {
                        "wrvu_period": f.wrvu,
                        "wrvu_annualised": annual,
                        "annual_factor": f.annual_factor.quantize(Decimal("0.0001")),
                        "threshold": LOW_WRVU,
                    },
                )
            )
    return out


__all__ = [
    "FmvPosition",
    "PayFacts",
    "Position",
    "SurveyPoint",
    "benchmark_findings",
    "fmv_findings",
    "position",
    "survey_from_rows",
]
