"""The input tables of a workspace, declared once.

``docs/DATA.md`` is the contract a user reads; this module is the same contract in a form the
engine runs: :mod:`paycascade.ingest` checks every input file against these specs and writes the
typed staging tables from them, and :func:`markdown_table` renders them for the docs.

Types (``ColumnType``):

``npi``
    a 10-digit National Provider Identifier with a valid check digit (Luhn over ``80840`` and
    the first nine digits, as CMS defines it); staged as text.
``text``
    free text, trimmed; an empty cell is a missing value.
``number``
    an exact decimal, staged as ``DECIMAL(18,4)`` (units, hours, member months, wRVUs, FTE,
    amounts); at most four decimal places are accepted, never rounded silently.
``integer``
    a whole number, staged as ``BIGINT``.
``date``
    ``YYYY-MM-DD``, staged as ``DATE``.
``bool``
    ``true/false/1/0/yes/no``, staged as ``BOOLEAN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

ColumnType = Literal["npi", "text", "number", "integer", "date", "bool"]
Normalise = Literal["upper", "lower", "modifiers"]

#: Scale and precision of a staged ``number`` column.
NUMBER_PRECISION = 18
NUMBER_SCALE = 4
NUMBER_SQL = f"DECIMAL({NUMBER_PRECISION},{NUMBER_SCALE})"

SQL_TYPES: dict[ColumnType, str] = {
    "npi": "VARCHAR",
    "text": "VARCHAR",
    "number": NUMBER_SQL,
    "integer": "BIGINT",
    "date": "DATE",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    ``default`` fills a missing value in staging (``default_from`` names another column whose
    value is used instead, e.g. ``clinical_fte`` defaults to ``fte``).  ``allowed`` lists the
    accepted values of a text column, compared case-insensitively and staged in lower case.
    ``minimum``/``maximum`` bound a number; ``minimum_exclusive`` makes the lower bound strict.
    ``normalise`` upper- or lower-cases a text value, or (``modifiers``) splits a modifier field
    on spaces, commas, colons or semicolons into an upper-case list.
    """

    name: str
    type: ColumnType
    required: bool = False
    meaning: str = ""
    non_negative: bool = False
    allowed: tuple[str, ...] = ()
    default: str | Decimal | bool | None = None
    default_from: str | None = None
    minimum: Decimal | None = None
    minimum_exclusive: bool = False
    maximum: Decimal | None = None
    normalise: Normalise | None = None

    @property
    def sql_type(self) -> str:
        """The DuckDB type of the staged column."""
        if self.normalise == "modifiers":
            return "VARCHAR[]"
        return SQL_TYPES[self.type]

    def range_text(self) -> str:
        """The accepted range in words, e.g. ``> 0 and <= 1.5``."""
        parts: list[str] = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.minimum_exclusive else '>='} {self.minimum}")
        elif self.non_negative:
            parts.append(">= 0")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum}")
        return " and ".join(parts)


@dataclass(frozen=True)
class LineGrouping:
    """Rows summed by ``keys`` (input columns, as written) and the bucket of ``date``, with
    the staged ``sums`` added up: what the pipeline prices, a few rows per physician and code
    instead of one per line."""

    keys: tuple[str, ...]
    date: str
    sums: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    """One input table: its columns, whether every workspace needs it, and its unique key."""

    name: str
    meaning: str
    columns: tuple[Column, ...]
    required: bool = False
    unique_key: tuple[str, ...] = ()
    #: pairs (start column, end column) where the end must not be before the start
    date_ranges: tuple[tuple[str, str], ...] = ()
    #: columns computed in staging, with their DuckDB type
    derived: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    #: how the pipeline sums this table's rows (the big one: encounter lines), so that
    #: checking and summing can share one pass over them
    grouping: LineGrouping | None = None

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def staged_columns(self) -> list[tuple[str, str]]:
        """``(name, DuckDB type)`` of the staging table ``stg_<name>``, in order.

        Every staging table starts with ``source_file`` and ``source_row`` (the row as a
        spreadsheet shows it), so a staged value can always be traced to its input cell.
        """
        cols = [("source_file", "VARCHAR"), ("source_row", "BIGINT")]
        cols += [(c.name, c.sql_type) for c in self.columns]
        cols += list(self.derived)
        return cols


_ZERO = Decimal(0)
#: the most units, or work RVUs per unit, one encounter line may carry: beyond it a value is a
#: typo, and products of such values would overflow the pipeline's 38-digit decimals
_LINE_LIMIT = Decimal(1_000_000)

PHYSICIANS = TableSpec(
    name="physicians",
    meaning="one row per clinician",
    required=True,
    unique_key=("npi",),
    date_ranges=(("start_date", "end_date"),),
    columns=(
        Column(
            "npi", "npi", required=True, meaning="10-digit National Provider Identifier, unique"
        ),
        Column("name", "text", required=True, meaning="display name"),
        Column(
            "specialty",
            "text",
            required=True,
            meaning="specialty, used for groups, peers and summaries",
        ),
        Column(
            "plan",
            "text",
            required=True,
            meaning="id of the compensation plan (`plan:` in `plans/*.yaml`)",
        ),
        Column(
            "fte",
            "number",
            required=True,
            meaning="total FTE, 0 < fte ≤ 1.5",
            minimum=_ZERO,
            minimum_exclusive=True,
            maximum=Decimal("1.5"),
        ),
        Column(
            "clinical_fte",
            "number",
            meaning="clinical FTE (defaults to `fte`); productivity thresholds are prorated by it",
            non_negative=True,
            default_from="fte",
        ),
        Column(
            "start_date", "date", meaning="employment start; pay is prorated for partial periods"
        ),
        Column("end_date", "date", meaning="employment end (inclusive)"),
        Column(
            "provider_type",
            "text",
            meaning="`physician` (default) or `app` (advanced practice provider)",
            allowed=("physician", "app"),
            default="physician",
            normalise="lower",
        ),
        Column(
            "supervising_npi",
            "npi",
            meaning="for an APP: the supervising physician (APP supervision credit)",
        ),
        Column("group", "text", meaning="practice, clinic or department, for group-level quality"),
        Column(
            "pass_through_authorized",
            "bool",
            meaning="the employment agreement authorizes pass-through of contract savings (default false)",
            default=False,
        ),
    ),
)

#: what separates modifiers in a ``modifiers`` cell (a regular expression).  Spelled out, not
#: ``\s``: RE2 (DuckDB) and Java (Spark) disagree on ``\s`` (Java's includes vertical tab),
#: and both engines must split a cell the same way
MODIFIER_SEPARATORS = r"[ \t\n\f\r,:;]+"
#: the modifiers that select a PFS row of their own, in order of precedence
PFS_ROW_MODIFIERS = ("26", "TC", "53")

ENCOUNTERS = TableSpec(
    name="encounters",
    meaning="professional billing lines",
    required=True,
    columns=(
        Column("npi", "npi", required=True, meaning="rendering / billing practitioner"),
        Column("service_date", "date", required=True, meaning="date of service"),
        Column("hcpcs", "text", required=True, meaning="HCPCS / CPT code", normalise="upper"),
        Column(
            "modifiers",
            "text",
            meaning="modifiers separated by spaces, commas or colons, e.g. `26`, `51 RT`, `80`",
            normalise="modifiers",
        ),
        Column(
            "units",
            "number",
            meaning="units of service, 0 to 1,000,000 (default 1)",
            non_negative=True,
            maximum=_LINE_LIMIT,
            default=Decimal(1),
        ),
        Column("place_of_service", "text", meaning="CMS place-of-service code"),
        Column("payer", "text", meaning="payer name or class"),
        Column("patient_id", "text", meaning="patient identifier"),
        Column(
            "status",
            "text",
            meaning="`paid` (default), `submitted`, `denied` or `void`",
            allowed=("paid", "submitted", "denied", "void"),
            default="paid",
            normalise="lower",
        ),
        Column(
            "wrvu",
            "number",
            meaning="the line's own work RVU per unit, 0 to 1,000,000; overrides the PFS file",
            non_negative=True,
            maximum=_LINE_LIMIT,
        ),
        Column("line_id", "text", meaning="your identifier for the line"),
    ),
    # the PFS row a line is priced by: its 26, TC or 53 modifier, else '' (the global row);
    # the modifiers as written (trimmed, upper case, '' for none), which lines are summed by
    # before the list is parsed (see MODIFIER_SEPARATORS)
    derived=(("pfs_modifier", "VARCHAR"), ("modifier_text", "VARCHAR")),
    grouping=LineGrouping(
        keys=("npi", "hcpcs", "modifiers", "status", "wrvu"), date="service_date", sums=("units",)
    ),
)

QUALITY = TableSpec(
    name="quality",
    meaning="measure results",
    columns=(
        Column("npi", "npi", required=True, meaning="the physician the result belongs to"),
        Column("measure", "text", required=True, meaning="measure id used in scorecards"),
        Column("numerator", "number", required=True, meaning="≥ 0", non_negative=True),
        Column(
            "denominator",
            "number",
            required=True,
            meaning="≥ 0 (after exclusions)",
            non_negative=True,
        ),
        Column(
            "exclusions",
            "number",
            meaning="patients excluded from the denominator (for reporting and gaming signals)",
            non_negative=True,
            default=_ZERO,
        ),
        Column(
            "period",
            "text",
            meaning="the period the result is for (`2026`, `2026-Q1`, …); "
            "rows for other periods are ignored",
        ),
        Column(
            "stratum",
            "text",
            meaning="patient social-risk stratum of the row: `dual`, `non_dual`, `adi_high`, "
            "`adi_low`; stratified rows are for equity review and never scored",
            allowed=("dual", "non_dual", "adi_high", "adi_low"),
            normalise="lower",
        ),
    ),
)

ATTRIBUTION = TableSpec(
    name="attribution",
    meaning="attributed members by month (panels)",
    columns=(
        Column("npi", "npi", required=True, meaning="attributed physician"),
        Column("month", "date", required=True, meaning="first day of the month"),
        Column(
            "member_months",
            "number",
            required=True,
            meaning="members attributed that month (≥ 0)",
            non_negative=True,
        ),
        Column(
            "risk_score",
            "number",
            meaning="average risk score of those members (default 1.0)",
            non_negative=True,
            default=Decimal(1),
        ),
        Column("payer", "text", meaning="payer or contract"),
        Column(
            "expected_cost",
            "number",
            meaning="risk-adjusted expected (benchmark) cost of those members, for `contribution` distributions",
            non_negative=True,
        ),
        Column(
            "actual_cost",
            "number",
            meaning="actual total cost of care of those members",
            non_negative=True,
        ),
    ),
)

SHIFTS = TableSpec(
    name="shifts",
    meaning="shifts worked",
    columns=(
        Column("npi", "npi", required=True),
        Column("date", "date", required=True, meaning="shift date"),
        Column(
            "shift_type",
            "text",
            required=True,
            meaning="e.g. `day`, `night`, `weekend`, `holiday` (matched to the plan's differentials)",
        ),
        Column("hours", "number", meaning="hours worked (≥ 0)", non_negative=True),
        Column(
            "count",
            "number",
            meaning="number of shifts (default 1)",
            non_negative=True,
            default=Decimal(1),
        ),
    ),
)

HOURS = TableSpec(
    name="hours",
    meaning="hours worked",
    columns=(
        Column("npi", "npi", required=True),
        Column("date", "date", required=True),
        Column("hours", "number", required=True, meaning="≥ 0", non_negative=True),
        Column(
            "kind",
            "text",
            meaning="e.g. `clinical`, `admin` (a plan's hourly component may select one); "
            "staged as '' when not given",
            default="",
        ),
    ),
)

STIPENDS = TableSpec(
    name="stipends",
    meaning="who receives which stipend",
    date_ranges=(("start_date", "end_date"),),
    columns=(
        Column("npi", "npi", required=True),
        Column(
            "stipend",
            "text",
            required=True,
            meaning="stipend id named in the plan (e.g. `medical_directorship`)",
        ),
        Column(
            "annual_amount",
            "number",
            meaning="overrides the plan's amount for this physician",
            non_negative=True,
        ),
        Column("start_date", "date"),
        Column("end_date", "date"),
    ),
)

ACTIVITIES = TableSpec(
    name="activities",
    meaning="counted activities (locum days, milestones, …)",
    columns=(
        Column("npi", "npi", required=True),
        Column("date", "date", required=True),
        Column("activity", "text", required=True, meaning="e.g. `locum_day`, `qi_milestone`"),
        Column(
            "quantity",
            "number",
            meaning="default 1, ≥ 0",
            non_negative=True,
            default=Decimal(1),
        ),
    ),
)


def _fraction(name: str, meaning: str, *, required: bool = False) -> Column:
    """A share between 0 and 1 (0 when left empty, unless required)."""
    return Column(
        name,
        "number",
        required=required,
        meaning=meaning,
        non_negative=True,
        maximum=Decimal(1),
        default=None if required else _ZERO,
    )


CONTRACT_PERFORMANCE = TableSpec(
    name="contract_performance",
    meaning="payer-contract results by period, one metric a row",
    columns=(
        Column(
            "contract_id", "text", required=True, meaning="`contract:` id in `contracts/*.yaml`"
        ),
        Column("period", "text", required=True, meaning="the period, e.g. `2026`"),
        Column(
            "metric",
            "text",
            required=True,
            meaning="e.g. `benchmark`, `expenditures`, `ffs_revenue`",
        ),
        Column(
            "value", "number", required=True, meaning="the metric's value (dollars, counts, rates)"
        ),
    ),
    unique_key=("contract_id", "period", "metric"),
)

EPISODES = TableSpec(
    name="episodes",
    meaning="episodes of bundled-payment contracts",
    columns=(
        Column("contract_id", "text", required=True, meaning="the bundle contract"),
        Column("episode_id", "text", required=True, meaning="your episode identifier"),
        Column("npi", "npi", meaning="attending / responsible physician"),
        Column("start_date", "date", required=True, meaning="episode start (anchor) date"),
        Column(
            "actual_spend",
            "number",
            required=True,
            meaning="actual episode spending, ≥ 0",
            non_negative=True,
        ),
        Column("episode_type", "text", meaning="e.g. `lejr` when a contract prices several types"),
    ),
    unique_key=("contract_id", "episode_id"),
)

OWNERSHIP = TableSpec(
    name="ownership",
    meaning="physicians' ownership shares of ventures (partnership / joint venture)",
    columns=(
        Column("npi", "npi", required=True),
        Column("venture", "text", required=True, meaning="venture id named in the plan"),
        _fraction("share", "ownership share, 0–1", required=True),
    ),
    unique_key=("npi", "venture"),
)

EFFORT = TableSpec(
    name="effort",
    meaning="academic effort allocation per physician (fractions of FTE)",
    columns=(
        Column("npi", "npi", required=True),
        _fraction("clinical", "0–1"),
        _fraction("research", "0–1"),
        _fraction("teaching", "0–1"),
        _fraction("admin", "0–1"),
        _fraction(
            "grant_funded", "share of salary charged to grants (limited by the NIH salary cap), 0–1"
        ),
    ),
    unique_key=("npi",),
)

FMV_SURVEY = TableSpec(
    name="fmv_survey",
    meaning="compensation survey percentiles for fair-market-value review (licensed data)",
    columns=(
        Column("specialty", "text", required=True, meaning="specialty, as in `physicians`"),
        Column(
            "percentile",
            "number",
            required=True,
            meaning="published percentile, > 0 and < 100 (e.g. 10, 25, 50, 75, 90)",
            minimum=_ZERO,
            minimum_exclusive=True,
            maximum=Decimal("99.9999"),
        ),
        Column(
            "tcc",
            "number",
            meaning="total cash compensation at that percentile, per 1.0 FTE (dollars)",
            non_negative=True,
        ),
        Column("wrvu", "number", meaning="annual work RVUs at that percentile", non_negative=True),
        Column(
            "comp_per_wrvu",
            "number",
            meaning="compensation per wRVU at that percentile (dollars)",
            non_negative=True,
        ),
        Column("source", "text", meaning="survey name, edition and year (cited in findings)"),
    ),
    unique_key=("specialty", "percentile"),
)

#: Every input table, in the order they are loaded (physicians first: the others refer to it).
TABLES: tuple[TableSpec, ...] = (
    PHYSICIANS,
    ENCOUNTERS,
    QUALITY,
    ATTRIBUTION,
    SHIFTS,
    HOURS,
    STIPENDS,
    ACTIVITIES,
    CONTRACT_PERFORMANCE,
    EPISODES,
    OWNERSHIP,
    EFFORT,
    FMV_SURVEY,
)
TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}
REQUIRED_TABLES: frozenset[str] = frozenset(t.name for t in TABLES if t.required)


def markdown_table(spec: TableSpec) -> str:
    """The column table of ``docs/DATA.md`` for one input table."""
    type_names = {"npi": "NPI"}
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for col in spec.columns:
        lines.append(
            f"| `{col.name}` | {type_names.get(col.type, col.type)} | "
            f"{'yes' if col.required else 'no'} | {col.meaning} |"
        )
    return "\n".join(lines)
