"""Read a CMS MSSP public use file (PUF) and settle every ACO in it from its inputs alone.

CMS publishes one "Performance Year Financial and Quality Results" file per year, and each
year's layout differs: a byte-order mark (PY2021), thousands separators ("84,231,357"),
percent signs ("7.17%"), percentages without a sign (PY2024: 8.89 = 8.89%) or fractions
(PY2018: 0.0889), ``-`` for not applicable and ``*`` for suppressed cells, the track as 0/1
flags (``Current_Track_1``…``Current_ENHANCED``) or a ``Current_Track`` column (``A``–``E``,
``EN``), and CRLF line ends.  :func:`detect_layout` recognises the year from the columns.

**Only inputs are read.**  The columns in which CMS publishes its own results
(:data:`FORBIDDEN_COLUMNS`: ``EarnSaveLoss``, ``GenSaveLoss``, ``FinalShareRate``,
``FinalLossRate``, ``BnchmkMinExp``, ``Sav_rate``) are dropped when the file is read — only the
columns of the allow-list :data:`INPUT_COLUMNS` are kept — so a settlement can be compared
with CMS's figures without ever having seen them.  For one-sided ACOs the MSR is computed
from the beneficiary-count table; the published ``MinSavPerc`` is read only for two-sided
ACOs, where it is the ACO's election (a value that is not one of the fixed elections is the
"variable" option, and the unrounded table value is used).

A row that cannot be read becomes a diagnostic naming the file, the row as a spreadsheet
shows it (header = row 1) and the column; every other row is still settled.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

from paycascade.contracts.mssp import (
    MsspInputError,
    MsspInputs,
    MsspResult,
    MsspRules,
    Track,
    default_rules,
    normalize_track,
    settle,
)
from paycascade.diagnostics import Diagnostics, PaycascadeError
from paycascade.money import CENT, NUMBER_LIMIT, ZERO, fmt_cents, to_cents

FORBIDDEN_COLUMNS = frozenset(
    {
        "EarnSaveLoss",
        "GenSaveLoss",
        "FinalShareRate",
        "FinalLossRate",
        "BnchmkMinExp",
        "Sav_rate",
        "Sav_Rate",
    }
)
"""CMS's published results.  Never read: the settlement must not depend on them."""

TRACK_FLAG_COLUMNS: Mapping[str, Track] = {
    "Current_Track_1": Track.TRACK_1,
    "Current_Track_1_Plus": Track.TRACK_1_PLUS,
    "Current_Track_2": Track.TRACK_2,
    "Current_Track_3": Track.TRACK_3,
    "Current_BASIC_A": Track.BASIC_A,
    "Current_BASIC_B": Track.BASIC_B,
    "Current_BASIC_C": Track.BASIC_C,
    "Current_BASIC_D": Track.BASIC_D,
    "Current_BASIC_E": Track.BASIC_E,
    "Current_ENHANCED": Track.ENHANCED,
}

REVENUE_COLUMN = "ParticipantRevenue"
"""Not in any CMS PUF.  Add it (ACO participants' Medicare Parts A and B FFS revenue, in
dollars) from the ACO's own reconciliation report to apply the revenue-based loss limit."""

INPUT_COLUMNS = frozenset(
    {
        "ACO_ID",
        "Current_Track",
        "Risk_Model",
        *TRACK_FLAG_COLUMNS,
        "N_AB",
        "ABtotBnchmk",
        "ABtotExp",
        "QualScore",
        "Met_QPS",
        "Met_AltQPS",
        "MinSavPerc",
        "MinLossPerc",
        "DisAdj",
        "ReducedSS",
        "Guardrail",
        REVENUE_COLUMN,
    }
)
"""The allow-list: the only columns kept when a PUF is read."""

if INPUT_COLUMNS & FORBIDDEN_COLUMNS:  # pragma: no cover - a guard against future edits
    raise RuntimeError(
        f"result columns in the input allow-list: {INPUT_COLUMNS & FORBIDDEN_COLUMNS}"
    )

REQUIRED_COLUMNS = (
    "ACO_ID",
    "N_AB",
    "ABtotBnchmk",
    "ABtotExp",
    "QualScore",
    "Met_QPS",
    "MinSavPerc",
)

_BLANKS = {"": "empty", "-": "not applicable (-)", "*": "suppressed (*)"}


@dataclass(frozen=True)
class PufLayout:
    """How one year's file is written."""

    year: int
    fractions: bool
    """Rates and the quality score are fractions (PY2018); otherwise percentages."""
    track_flags: bool
    """The track is given by 0/1 ``Current_*`` flags; otherwise by ``Current_Track``."""


def detect_layout(header: list[str]) -> PufLayout | None:
    """Recognise the PUF year from its columns; None if this is not an MSSP PUF."""
    cols = set(header)
    if "Current_Track" in cols:
        if cols & {"Met_40pctl", "ReducedSS", "Guardrail"}:
            return PufLayout(2024, fractions=False, track_flags=False)
        if "Met_AltQPS" in cols:
            return PufLayout(2023, fractions=False, track_flags=False)
        return PufLayout(2022, fractions=False, track_flags=False)
    if "Current_BASIC_A" in cols:
        return PufLayout(2021, fractions=False, track_flags=True)
    if "Current_Track_1" in cols:
        return PufLayout(2018, fractions=True, track_flags=True)
    return None


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


class _Row:
    """One data row's allowed cells; parse helpers record problems instead of raising."""

    def __init__(self, number: int, cells: Mapping[str, str], layout: PufLayout) -> None:
        self.number = number
        self.cells = cells
        self.layout = layout
        self.problems: list[tuple[str, str]] = []

    def text(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def problem(self, column: str, message: str) -> None:
        self.problems.append((column, message))

    def number_text(self, column: str, *, required: bool) -> str | None:
        raw = self.text(column)
        if raw in _BLANKS:
            if required:
                self.problem(column, f"value is {_BLANKS[raw]}; a number is required")
            return None
        return raw

    def decimal(self, column: str, *, required: bool = True) -> Decimal | None:
        raw = self.number_text(column, required=required)
        if raw is None:
            return None
        text = raw.replace(",", "").replace("$", "")
        if text.startswith("(") and text.endswith(")"):
            text = "-" + text[1:-1]
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.problem(column, f"{raw!r} is not a number")
            return None
        if not value.is_finite():
            self.problem(column, f"{raw!r} is not a number")
            return None
        if abs(value) >= NUMBER_LIMIT:
            self.problem(column, f"{raw!r} is too large a number for an ACO")
            return None
        return value

    def count(self, column: str) -> int | None:
        value = self.decimal(column)
        if value is not None and value != value.to_integral_value():
            self.problem(column, f"{self.text(column)!r} is not a whole number")
            return None
        return None if value is None else int(value)

    def rate(self, column: str, *, required: bool = True) -> Decimal | None:
        """A rate as a fraction: "7.17%" and (PY2021+) 7.17 → 0.0717; PY2018 0.0717 stays."""
        raw = self.number_text(column, required=required)
        if raw is None:
            return None
        percent = raw.endswith("%")
        try:
            value = Decimal(raw.removesuffix("%").replace(",", "").strip())
        except InvalidOperation:
            self.problem(column, f"{raw!r} is not a rate")
            return None
        if not value.is_finite() or abs(value) >= NUMBER_LIMIT:
            self.problem(column, f"{raw!r} is not a rate")
            return None
        return value / 100 if percent or not self.layout.fractions else value

    def flag(self, column: str, *, required: bool = False) -> bool:
        raw = self.text(column)
        if raw in {"1", "1.0"}:
            return True
        if raw in {"0", "0.0"} or (raw in _BLANKS and not required):
            return False
        if raw in _BLANKS:
            self.problem(column, f"value is {_BLANKS[raw]}; 0 or 1 is required")
        else:
            self.problem(column, f"{raw!r} is not 0 or 1")
        return False


def _published_tolerance(raw: str, fractions: bool) -> Decimal:
    """Half a unit of the last digit published, as a fraction ("2.98%" → 0.00005)."""
    text = raw.removesuffix("%").replace(",", "").strip()
    exponent = Decimal(text).as_tuple().exponent
    if not isinstance(exponent, int):  # not a finite number: no tolerance
        return ZERO
    half = Decimal(5).scaleb(exponent - 1)
    return half if fractions and not raw.endswith("%") else half / 100


# --------------------------------------------------------------------------------------------
# Rows → inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    file: str
    layout: PufLayout
    year: int
    rules: MsspRules
    track_columns: tuple[str, ...]


def _track(row: _Row, ctx: _Context) -> tuple[Track | None, str]:
    """The track and the column it was read from."""
    if not ctx.layout.track_flags:
        raw = row.text("Current_Track")
        try:
            return normalize_track(raw), "Current_Track"
        except ValueError as exc:
            row.problem("Current_Track", str(exc))
            return None, "Current_Track"
    on = [c for c in ctx.track_columns if row.flag(c)]
    if len(on) == 1:
        return TRACK_FLAG_COLUMNS[on[0]], on[0]
    where = "Current_Track_*"
    row.problem(where, f"exactly one track flag must be 1, found {len(on)} ({', '.join(on)})")
    return None, where


def _elected(
    row: _Row, ctx: _Context, column: str, n: int | None, diags: Diagnostics
) -> Decimal | None:
    """A two-sided ACO's election; None = the "variable" option (the table applies).

    A published rate that is not a fixed election should be the table value rounded as
    published; if it is not, the table is still used and a warning says so.
    """
    value = row.rate(column, required=column == "MinSavPerc")
    if value is None or value in ctx.rules.msr_elections:
        return value
    if n is None:
        return None
    try:
        table = ctx.rules.msr_for(n)
    except MsspInputError:
        return None
    if abs(table - value) > _published_tolerance(row.text(column), ctx.layout.fractions):
        diags.add(
            ctx.file,
            row.number,
            f"{row.text(column)} is neither a fixed election nor the table value "
            f"{table * 100:.4f}% for {n:,} beneficiaries; the table value was used",
            column=column,
            severity="warning",
            code="mssp-puf",
        )
    return None


def _inputs(row: _Row, ctx: _Context, diags: Diagnostics) -> MsspInputs | None:
    track, track_col = _track(row, ctx)
    n = row.count("N_AB")
    two_sided = False
    if track is not None:
        try:
            two_sided = ctx.rules.year(ctx.year).track(track).two_sided
        except MsspInputError as exc:
            row.problem(track_col, str(exc))
        _check_risk_model(row, ctx, two_sided, diags)
    benchmark, expenditures = row.decimal("ABtotBnchmk"), row.decimal("ABtotExp")
    quality = row.rate("QualScore", required=False)
    msr = _elected(row, ctx, "MinSavPerc", n, diags) if two_sided else None
    mlr = _elected(row, ctx, "MinLossPerc", n, diags) if two_sided else None
    dis_adj = row.decimal("DisAdj", required=False) or ZERO
    revenue = row.decimal(REVENUE_COLUMN, required=False)
    met, met_alt = row.flag("Met_QPS", required=True), row.flag("Met_AltQPS")
    reduced_ss, guardrail = row.flag("ReducedSS"), row.flag("Guardrail")
    aco_id = row.text("ACO_ID")
    if not aco_id:
        row.problem("ACO_ID", "value is empty; an ACO identifier is required")
    if row.problems or track is None or n is None or benchmark is None or expenditures is None:
        return None
    return MsspInputs(
        aco_id=aco_id,
        performance_year=ctx.year,
        track=track,
        n_assigned=n,
        benchmark=benchmark,
        expenditures=expenditures,
        quality_score=quality,
        met_quality_standard=met,
        met_alt_quality_standard=met_alt,
        elected_msr=msr,
        elected_mlr=mlr,
        dis_adj=dis_adj,
        reduced_ss=reduced_ss,
        guardrail=guardrail,
        participant_revenue=revenue,
    )


def _check_risk_model(row: _Row, ctx: _Context, two_sided: bool, diags: Diagnostics) -> None:
    raw = row.text("Risk_Model").lower().replace("-", "").replace(" ", "")
    if raw in {"onesided", "twosided"} and (raw == "twosided") != two_sided:
        expected = "two-sided" if two_sided else "one-sided"
        diags.add(
            ctx.file,
            row.number,
            f"Risk_Model {row.text('Risk_Model')!r} disagrees with the rules ({expected}); "
            "the rules were followed",
            column="Risk_Model",
            severity="warning",
            code="mssp-puf",
        )


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

_FIELD_COLUMNS = {
    "benchmark": "ABtotBnchmk",
    "expenditures": "ABtotExp",
    "n_assigned": "N_AB",
    "quality_score": "QualScore",
    "dis_adj": "DisAdj",
    "elected_msr": "MinSavPerc",
    "elected_mlr": "MinLossPerc",
    "reduced_ss": "ReducedSS",
    "guardrail": "Guardrail",
    "participant_revenue": REVENUE_COLUMN,
}


@dataclass(frozen=True)
class SettledRow:
    """One ACO's result and the spreadsheet row it came from."""

    row: int
    result: MsspResult


@dataclass
class PufReport:
    """The settlement of a whole PUF: one result per readable row, plus diagnostics."""

    path: Path
    performance_year: int
    layout_year: int
    data_rows: int
    rows: list[SettledRow] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)

    @property
    def results(self) -> list[MsspResult]:
        return [r.result for r in self.rows]

    @property
    def settled(self) -> int:
        return len(self.rows)

    @property
    def determinable(self) -> int:
        return sum(1 for r in self.rows if r.result.determinable)

    @property
    def undeterminable(self) -> int:
        return self.settled - self.determinable

    @property
    def failed_rows(self) -> int:
        return self.data_rows - self.settled

    def _total(self, keep: Callable[[MsspResult], bool]) -> Decimal:
        return sum((r.earned_savings_losses for r in self.results if keep(r)), ZERO)

    @property
    def total_earned_savings(self) -> Decimal:
        return self._total(lambda r: r.earned_savings_losses > 0)

    @property
    def total_losses(self) -> Decimal:
        """Shared losses owed by determinable ACOs (negative)."""
        return self._total(lambda r: r.determinable and r.earned_savings_losses < 0)

    def undeterminable_range(self) -> tuple[Decimal, Decimal]:
        """Sum of ``bound_low`` and of ``bound_high`` over the undeterminable ACOs."""
        rows = [r for r in self.results if not r.determinable]
        return sum((r.bound_low for r in rows), ZERO), sum((r.bound_high for r in rows), ZERO)

    def summary(self) -> str:
        """A few lines for a compensation analyst: counts, totals, what could not be settled."""
        earned = [r for r in self.results if r.earned_savings_losses > 0]
        owing = [r for r in self.results if r.determinable and r.earned_savings_losses < 0]
        lines = [
            f"MSSP settlement of {self.path.name}: performance year {self.performance_year}"
            f" (file layout PY{self.layout_year})",
            f"ACOs settled: {self.settled} of {self.data_rows} rows ({self.determinable} "
            f"determinable, {self.undeterminable} not determinable, {self.failed_rows} rows "
            "not settled)",
            f"Total earned shared savings: {fmt_cents(to_cents(self.total_earned_savings))} "
            f"to {len(earned)} ACOs",
            f"Total shared losses owed: {fmt_cents(to_cents(-self.total_losses))} "
            f"by {len(owing)} ACOs (determinable ACOs only)",
        ]
        if self.undeterminable:
            low, high = self.undeterminable_range()
            lines.append(
                f"Not determinable: {self.undeterminable} ACOs with shared losses under a "
                "revenue-based loss limit (BASIC C–E, Track 1+). The limit is a % of ACO "
                "participants' Medicare FFS revenue, which is not in the public file; together "
                f"they owe between {fmt_cents(to_cents(-high))} and {fmt_cents(to_cents(-low))}"
                " (the CSV reports the upper figure and both bounds)."
            )
        if any(r.rules_assumed for r in self.results):
            lines.append(f"Caution: the PY{self.performance_year} rules are assumed, not verified.")
        if self.failed_rows:
            lines.append(f"Rows not settled: {self.failed_rows} (see the warnings)")
        return "\n".join(lines)

    def to_json(self, out: Path | None = None) -> str:
        low, high = self.undeterminable_range()
        payload = {
            "file": str(self.path),
            "performance_year": self.performance_year,
            "layout_year": self.layout_year,
            "rows": self.data_rows,
            "settled": self.settled,
            "determinable": self.determinable,
            "undeterminable": self.undeterminable,
            "rows_not_settled": self.failed_rows,
            "total_earned_savings": _money(self.total_earned_savings),
            "total_losses": _money(self.total_losses),
            "undeterminable_bound_low": _money(low),
            "undeterminable_bound_high": _money(high),
            "out": None if out is None else str(out),
            "problems": [d.as_dict() for d in self.diagnostics.sorted()],
        }
        return json.dumps(payload, indent=2)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _records(text: str) -> tuple[list[str], Iterator[list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    return header, reader


def _fail(
    file: str, message: str, *, line: int | None = None, column: str | None = None
) -> NoReturn:
    diags = Diagnostics()
    diags.add(file, line, message, column=column, code="mssp-puf")
    raise PaycascadeError(diags, f"cannot settle {file}")


def _open(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    file = str(path)
    try:
        text = _decode(path)
    except OSError as exc:
        _fail(file, f"cannot read: {exc.strerror or exc}")
    try:
        header, records = _records(text)
    except csv.Error as exc:
        _fail(file, f"not a CSV file: {exc}")
    if not header or header == [""]:
        _fail(file, "empty file: no header row")
    return header, records


def _check_header(file: str, header: list[str], layout: PufLayout) -> tuple[str, ...]:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if not layout.track_flags and "Current_Track" not in header:
        missing.append("Current_Track")
    if missing:
        diags = Diagnostics()
        for column in missing:
            diags.add(file, 1, "required column is missing", column=column, code="mssp-puf")
        raise PaycascadeError(diags, f"cannot settle {file}: required column(s) missing")
    return tuple(c for c in TRACK_FLAG_COLUMNS if c in header)


def settle_puf(
    path: str | Path, performance_year: int | None = None, rules: MsspRules | None = None
) -> PufReport:
    """Settle every ACO in a CMS MSSP PUF from its inputs.

    ``performance_year`` overrides the year recognised from the file's columns (the file's
    layout is still recognised from its columns).  Raises
    :class:`~paycascade.diagnostics.PaycascadeError` when the file cannot be read at all (not
    found, not a PUF, a required column missing); a row that cannot be read becomes a
    diagnostic in the report and the other rows are settled.
    """
    path = Path(path)
    file = str(path)
    rules = rules or default_rules()
    header, records = _open(path)
    layout = detect_layout(header)
    if layout is None:
        _fail(file, "not an MSSP PUF: no Current_Track or Current_Track_1 columns", line=1)
    year = performance_year if performance_year is not None else layout.year
    try:
        rules.year(year)
    except MsspInputError as exc:
        _fail(file, str(exc))
    ctx = _Context(file, layout, year, rules, _check_header(file, header, layout))
    keep = [(i, name) for i, name in enumerate(header) if name in INPUT_COLUMNS]
    report = PufReport(path, year, layout.year, 0)
    number = 1
    try:
        for number, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue
            report.data_rows += 1
            cells = {name: record[i] if i < len(record) else "" for i, name in keep}
            _settle_row(_Row(number, cells, layout), ctx, report)
    except csv.Error as exc:
        _fail(file, f"malformed CSV: {exc}", line=number + 1)
    if report.data_rows == 0:
        _fail(file, "no ACO rows: the file has a header and nothing under it", line=2)
    return report


def _settle_row(row: _Row, ctx: _Context, report: PufReport) -> None:
    inputs = _inputs(row, ctx, report.diagnostics)
    for column, message in row.problems:
        report.diagnostics.add(
            ctx.file, row.number, message, column=column, severity="warning", code="mssp-puf"
        )
    if inputs is None:
        return
    try:
        result = settle(inputs, ctx.rules)
    except MsspInputError as exc:
        report.diagnostics.add(
            ctx.file,
            row.number,
            f"{inputs.aco_id}: {exc}",
            column=_FIELD_COLUMNS.get(exc.field),
            severity="warning",
            code="mssp-puf",
        )
        return
    report.rows.append(SettledRow(row.number, result))


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "aco_id",
    "performance_year",
    "track",
    "n_assigned",
    "benchmark",
    "expenditures",
    "savings_rate",
    "msr",
    "mlr",
    "generated_savings_losses",
    "earned_savings_losses",
    "final_share_rate",
    "final_loss_rate",
    "determinable",
    "bound_low",
    "bound_high",
    "outcome",
    "msr_basis",
    "limit_binding",
    "source_row",
    "explanation",
)

_RATE_PLACES = Decimal("0.000001")


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _fraction(value: Decimal | None) -> str:
    return "" if value is None else str(value.quantize(_RATE_PLACES, rounding=ROUND_HALF_UP))


def csv_record(settled: SettledRow) -> dict[str, str]:
    """One output row: money with 2 decimals, rates as fractions with 6 decimals."""
    r, x = settled.result, settled.result.inputs
    return {
        "aco_id": x.aco_id,
        "performance_year": str(x.performance_year),
        "track": x.track.value,
        "n_assigned": str(x.n_assigned),
        "benchmark": _money(x.benchmark),
        "expenditures": _money(x.expenditures),
        "savings_rate": _fraction(r.savings_rate),
        "msr": _fraction(r.msr),
        "mlr": _fraction(r.mlr),
        "generated_savings_losses": _money(r.generated_savings_losses),
        "earned_savings_losses": _money(r.earned_savings_losses),
        "final_share_rate": _fraction(r.final_share_rate),
        "final_loss_rate": _fraction(r.final_loss_rate),
        "determinable": "true" if r.determinable else "false",
        "bound_low": _money(r.bound_low),
        "bound_high": _money(r.bound_high),
        "outcome": r.outcome,
        "msr_basis": r.msr_basis,
        "limit_binding": r.limit_binding or "",
        "source_row": str(settled.row),
        "explanation": r.explanation,
    }


def write_csv(report: PufReport, path: str | Path) -> Path:
    """Write one row per settled ACO, ordered by ACO id, atomically (temp file + rename)."""
    target = Path(path)
    rows = sorted(report.rows, key=lambda s: (s.result.inputs.aco_id, s.row))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(csv_record(s) for s in rows)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
