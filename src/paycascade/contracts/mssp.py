"""Medicare Shared Savings Program (MSSP): settle one ACO's performance year.

An ACO's year is settled in four steps (``docs/MSSP.md`` has the formula with its sources):

1. **Savings and the corridor.**  Savings = updated benchmark − assigned-beneficiary
   expenditures; the savings rate is savings ÷ benchmark.  Savings count only if the rate
   reaches the minimum savings rate (MSR); losses count only if they reach the minimum loss
   rate (MLR).  One-sided ACOs take the MSR from the beneficiary-count table; two-sided ACOs
   elect 0–2 % (or the table, the "variable" option).  Inside the corridor nothing is shared.
2. **Shared savings** are paid from the first dollar at the final sharing rate (the track's
   maximum, or maximum × quality score where the year's rules say so), less 2 % sequestration,
   then capped at the performance payment limit (a % of the benchmark).
3. **Shared losses** (two-sided tracks only) are owed at the loss rate, capped at a % of the
   benchmark and, for BASIC C–E and Track 1+, at a % of the ACO participants' Medicare FFS
   revenue, whichever is lower; then reduced by the extreme-and-uncontrollable-circumstances
   relief (``dis_adj``).  No sequestration applies to losses.
4. **Determinability.**  The revenue-based loss limit needs participant revenue.  When it is
   not given, the loss is reported as the amount owed without that limit (the largest it can
   be) together with an interval ``[bound_low, bound_high]`` that contains the true amount.

The year- and track-specific numbers are dated parameters with sources in
``mssp_rules.yaml``; :func:`load_mssp_rules` reads and validates them.  Money is
:class:`~decimal.Decimal` dollars throughout; results are rounded to the cent once, at the end.
Earned amounts follow CMS's sign convention: savings paid to the ACO are positive, losses owed
by the ACO are negative.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from paycascade.diagnostics import Diagnostics, PaycascadeError
from paycascade.money import CENT, ONE, ZERO, fmt_cents, to_cents

RULES_RESOURCE = "mssp_rules.yaml"
ONE_DOLLAR = Decimal(1)


class Track(StrEnum):
    """The MSSP track (legacy tracks) or BASIC level / ENHANCED track of an ACO."""

    TRACK_1 = "TRACK_1"
    TRACK_1_PLUS = "TRACK_1_PLUS"
    TRACK_2 = "TRACK_2"
    TRACK_3 = "TRACK_3"
    BASIC_A = "BASIC_A"
    BASIC_B = "BASIC_B"
    BASIC_C = "BASIC_C"
    BASIC_D = "BASIC_D"
    BASIC_E = "BASIC_E"
    ENHANCED = "ENHANCED"

    @property
    def label(self) -> str:
        """Human name: ``BASIC C``, ``Track 1+``, ``ENHANCED``."""
        return _TRACK_LABELS[self]


_TRACK_LABELS = {
    Track.TRACK_1: "Track 1",
    Track.TRACK_1_PLUS: "Track 1+",
    Track.TRACK_2: "Track 2",
    Track.TRACK_3: "Track 3",
    Track.BASIC_A: "BASIC A",
    Track.BASIC_B: "BASIC B",
    Track.BASIC_C: "BASIC C",
    Track.BASIC_D: "BASIC D",
    Track.BASIC_E: "BASIC E",
    Track.ENHANCED: "ENHANCED",
}

_TRACK_ALIASES = {
    "TRACK1": Track.TRACK_1,
    "TRACK1PLUS": Track.TRACK_1_PLUS,
    "TRACK1+": Track.TRACK_1_PLUS,
    "TRACK2": Track.TRACK_2,
    "TRACK3": Track.TRACK_3,
    "EN": Track.ENHANCED,
    "ENHANCED": Track.ENHANCED,
    **{f"{prefix}{lvl}": Track[f"BASIC_{lvl}"] for lvl in "ABCDE" for prefix in ("", "BASIC")},
    **{f"BASICLEVEL{lvl}": Track[f"BASIC_{lvl}"] for lvl in "ABCDE"},
    **{f"LEVEL{lvl}": Track[f"BASIC_{lvl}"] for lvl in "ABCDE"},
}


def normalize_track(text: str) -> Track:
    """Map the spellings CMS uses (``EN``, ``C``, ``Current_BASIC_C``, ``Track 1+``, …).

    Raises :class:`ValueError` for anything else.
    """
    key = re.sub(r"[^A-Z0-9+]", "", text.upper().replace("_PLUS", "+"))
    key = key.removeprefix("CURRENT")
    if key in _TRACK_ALIASES:
        return _TRACK_ALIASES[key]
    known = "A–E, EN, BASIC_A…BASIC_E, ENHANCED, TRACK_1, TRACK_1_PLUS, TRACK_2, TRACK_3"
    raise ValueError(f"unknown MSSP track {text!r} (expected one of {known})")


class MsspInputError(ValueError):
    """An input cannot be settled; ``field`` names the :class:`MsspInputs` field at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class MsspRulesError(PaycascadeError):
    """The rules file is missing, malformed, or inconsistent (every problem is listed)."""


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------

RiskModel = Literal["one_sided", "two_sided"]
SharingRule = Literal["quality_scaled", "flat_if_standard_met"]
LossRateRule = Literal["none", "flat", "one_minus_quality_share"]
MsrRule = Literal["table", "elected"]


@dataclass(frozen=True)
class MsrBand:
    """One band of the MSR table: the rate falls linearly from ``at_min`` to ``at_max``."""

    n_min: int
    n_max: int | None
    at_min: Decimal
    at_max: Decimal
    source: str

    def contains(self, n: int) -> bool:
        return n >= self.n_min and (self.n_max is None or n <= self.n_max)

    def rate(self, n: int) -> Decimal:
        if self.n_max is None or self.n_max == self.n_min:
            return self.at_min
        step = Decimal(n - self.n_min) / Decimal(self.n_max - self.n_min)
        return self.at_min - step * (self.at_min - self.at_max)


@dataclass(frozen=True)
class TrackRules:
    """Sharing and loss parameters of one track in one performance year."""

    track: Track
    risk_model: RiskModel
    msr_rule: MsrRule
    max_sharing_rate: Decimal
    performance_payment_limit: Decimal
    loss_rate_rule: LossRateRule
    loss_rate_flat: Decimal | None
    loss_rate_floor: Decimal | None
    loss_rate_ceiling: Decimal | None
    loss_limit_benchmark: tuple[Decimal, ...]
    """Empty: none.  One value: constant.  Several: by year of two-sided participation."""
    loss_limit_revenue: Decimal | None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def two_sided(self) -> bool:
        return self.risk_model == "two_sided"


@dataclass(frozen=True)
class YearRules:
    """Year-wide rules of one performance year and the tracks offered in it."""

    year: int
    effective_from: str
    effective_to: str
    assumed: bool
    status_source: str
    sharing_rule: SharingRule
    sequestration_rate: Decimal
    cap_after_sequestration: bool
    one_sided_owe_losses: bool
    one_sided_report_generated_losses: bool
    sliding_scale: bool
    reduced_sharing_below_msr: Decimal | None
    guardrail: bool
    tracks: Mapping[Track, TrackRules]
    sources: Mapping[str, str] = field(default_factory=dict)

    def track(self, track: Track) -> TrackRules:
        if track not in self.tracks:
            offered = ", ".join(t.value for t in self.tracks)
            raise MsspInputError(
                "track", f"{track.value} is not an MSSP track in PY{self.year} (offered: {offered})"
            )
        return self.tracks[track]


@dataclass(frozen=True)
class MsspRules:
    """All MSSP rules: the MSR table, the allowed elections, and every performance year."""

    source_file: str
    msr_bands: tuple[MsrBand, ...]
    msr_elections: frozenset[Decimal]
    years: Mapping[int, YearRules]

    def year(self, performance_year: int) -> YearRules:
        if performance_year not in self.years:
            have = ", ".join(str(y) for y in sorted(self.years))
            raise MsspInputError(
                "performance_year",
                f"no MSSP rules for performance year {performance_year} (rules cover {have})",
            )
        return self.years[performance_year]

    def msr_for(self, n_assigned: int) -> Decimal:
        """The MSR (a fraction) for ``n_assigned`` beneficiaries, unrounded."""
        for band in self.msr_bands:
            if band.contains(n_assigned):
                return band.rate(n_assigned)
        lowest = self.msr_bands[0].n_min
        raise MsspInputError(
            "n_assigned",
            f"the MSR for {n_assigned:,} assigned beneficiaries is not known "
            f"(the table starts at {lowest:,})",
        )


class _RulesReader:
    """Turns the parsed YAML into :class:`MsspRules`, collecting every problem found."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diags = Diagnostics()

    def error(self, path: str, message: str) -> None:
        self.diags.add(self.file, None, f"{path}: {message}", code="mssp-rules")

    def mapping(self, node: object, path: str) -> dict[str, Any]:
        if isinstance(node, dict):
            return {str(k): v for k, v in node.items()}
        self.error(path, f"expected a mapping, found {type(node).__name__}")
        return {}

    def param(self, node: dict[str, Any], key: str, path: str) -> tuple[object, str]:
        """A ``{value, source}`` parameter; returns (value, source)."""
        here = f"{path}.{key}"
        if key not in node:
            self.error(here, "missing")
            return None, ""
        entry = self.mapping(node[key], here)
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            self.error(f"{here}.source", "every parameter needs a source (CFR section or PUF)")
            source = ""
        return entry.get("value"), str(source)

    def rate(self, raw: object, path: str, *, optional: bool = False) -> Decimal | None:
        if raw is None:
            if not optional:
                self.error(path, "a rate is required")
            return None
        try:
            value = parse_rate(raw)
        except ValueError as exc:
            self.error(path, str(exc))
            return None
        if not ZERO <= value <= ONE:
            self.error(path, f"{raw!r} is outside 0%–100%")
            return None
        return value

    def choice(self, raw: object, path: str, allowed: tuple[str, ...]) -> str:
        if raw not in allowed:
            self.error(path, f"{raw!r} is not one of {', '.join(allowed)}")
            return allowed[0]
        return str(raw)

    def flag(self, raw: object, path: str) -> bool:
        if not isinstance(raw, bool):
            self.error(path, f"{raw!r} is not true/false")
            return False
        return raw


def parse_rate(raw: object) -> Decimal:
    """``"40%"`` → 0.40; ``"0.4"`` → 0.4; ``0.4`` → 0.4 (exactly, via :func:`repr`)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise ValueError(f"{raw!r} is not a rate")
    text = repr(raw) if isinstance(raw, float) else str(raw)
    text = text.strip()
    scale = ONE
    if text.endswith("%"):
        text, scale = text[:-1].strip(), Decimal("0.01")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{raw!r} is not a rate") from exc
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not a rate")
    return value * scale


def _read_msr_table(r: _RulesReader, root: dict[str, Any]) -> tuple[MsrBand, ...]:
    table = r.mapping(root.get("msr_table"), "msr_table")
    bands_raw = table.get("bands")
    if not isinstance(bands_raw, list) or not bands_raw:
        r.error("msr_table.bands", "a non-empty list of bands is required")
        return ()
    bands: list[MsrBand] = []
    for i, raw in enumerate(bands_raw):
        path = f"msr_table.bands[{i}]"
        node = r.mapping(raw, path)
        n_min, n_max = node.get("n_min"), node.get("n_max")
        at_min = r.rate(node.get("msr_at_min"), f"{path}.msr_at_min")
        at_max = r.rate(node.get("msr_at_max"), f"{path}.msr_at_max")
        source = node.get("source")
        if not isinstance(n_min, int) or not (n_max is None or isinstance(n_max, int)):
            r.error(path, "n_min must be a whole number and n_max a whole number or null")
            continue
        if not isinstance(source, str) or not source.strip():
            r.error(f"{path}.source", "every band needs a source")
            continue
        if at_min is None or at_max is None:
            continue
        if bands and (bands[-1].n_max is None or n_min != bands[-1].n_max + 1):
            r.error(path, f"bands must be contiguous: n_min {n_min} after {bands[-1].n_max}")
        if n_max is not None and n_max < n_min:
            r.error(path, f"n_max {n_max} is below n_min {n_min}")
        bands.append(MsrBand(n_min, n_max, at_min, at_max, source))
    if bands and bands[-1].n_max is not None:
        r.error("msr_table.bands", "the last band must be open-ended (n_max: null)")
    return tuple(bands)


def _read_elections(r: _RulesReader, root: dict[str, Any]) -> frozenset[Decimal]:
    raw, _ = r.param(root, "msr_elections", "")
    if not isinstance(raw, list):
        r.error("msr_elections.value", "a list of rates is required")
        return frozenset()
    rates = (r.rate(x, f"msr_elections.value[{i}]") for i, x in enumerate(raw))
    return frozenset(x for x in rates if x is not None)


def _read_loss_rate(
    r: _RulesReader, node: dict[str, Any], path: str
) -> tuple[LossRateRule, Decimal | None, Decimal | None, Decimal | None, str]:
    here = f"{path}.loss_rate"
    entry = r.mapping(node.get("loss_rate"), here)
    rule = r.choice(entry.get("rule"), f"{here}.rule", ("none", "flat", "one_minus_quality_share"))
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        r.error(f"{here}.source", "every parameter needs a source (CFR section or PUF)")
        source = ""
    flat = r.rate(entry.get("value"), f"{here}.value", optional=rule != "flat")
    floor = r.rate(entry.get("floor"), f"{here}.floor", optional=True)
    ceiling = r.rate(entry.get("ceiling"), f"{here}.ceiling", optional=True)
    if floor is not None and ceiling is not None and floor > ceiling:
        r.error(here, "floor is above ceiling")
    return cast(LossRateRule, rule), flat, floor, ceiling, str(source)


def _read_benchmark_limit(
    r: _RulesReader, node: dict[str, Any], path: str
) -> tuple[tuple[Decimal, ...], str]:
    here = f"{path}.loss_limit_pct_of_benchmark"
    entry = r.mapping(node.get("loss_limit_pct_of_benchmark"), here)
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        r.error(f"{here}.source", "every parameter needs a source (CFR section or PUF)")
        source = ""
    by_year = entry.get("by_two_sided_year")
    if by_year is not None:
        if not isinstance(by_year, list) or not by_year:
            r.error(f"{here}.by_two_sided_year", "a non-empty list of rates is required")
            return (), str(source)
        rates = [r.rate(x, f"{here}.by_two_sided_year[{i}]") for i, x in enumerate(by_year)]
        return tuple(x for x in rates if x is not None), str(source)
    value = r.rate(entry.get("value"), f"{here}.value", optional=True)
    return (() if value is None else (value,)), str(source)


def _read_track(r: _RulesReader, track: Track, raw: object, path: str) -> TrackRules:
    node = r.mapping(raw, path)
    sources: dict[str, str] = {}

    def param(key: str) -> object:
        value, sources[key] = r.param(node, key, path)
        return value

    risk = r.choice(param("risk_model"), f"{path}.risk_model", ("one_sided", "two_sided"))
    msr_rule = r.choice(param("msr_rule"), f"{path}.msr_rule", ("table", "elected"))
    max_rate = r.rate(param("max_sharing_rate"), f"{path}.max_sharing_rate") or ZERO
    limit = r.rate(param("performance_payment_limit"), f"{path}.performance_payment_limit")
    rule, flat, floor, ceiling, sources["loss_rate"] = _read_loss_rate(r, node, path)
    bench, sources["loss_limit_pct_of_benchmark"] = _read_benchmark_limit(r, node, path)
    revenue = r.rate(
        param("loss_limit_pct_of_participant_revenue"),
        f"{path}.loss_limit_pct_of_participant_revenue",
        optional=True,
    )
    rules = TrackRules(
        track,
        cast(RiskModel, risk),
        cast(MsrRule, msr_rule),
        max_rate,
        limit or ZERO,
        rule,
        flat,
        floor,
        ceiling,
        bench,
        revenue,
        sources,
    )
    _check_track(r, rules, path)
    return rules


def _check_track(r: _RulesReader, t: TrackRules, path: str) -> None:
    if t.two_sided:
        if t.loss_rate_rule == "none":
            r.error(f"{path}.loss_rate", "a two-sided track needs a loss rate")
        if not t.loss_limit_benchmark and t.loss_limit_revenue is None:
            r.error(path, "a two-sided track needs a loss limit")
    elif t.msr_rule != "table":
        r.error(f"{path}.msr_rule", "one-sided tracks take the MSR from the table")


_YEAR_PARAMS = (
    "status",
    "sharing_rule",
    "sequestration_rate",
    "cap_after_sequestration",
    "one_sided_owe_losses",
    "one_sided_report_generated_losses",
    "sliding_scale",
    "reduced_sharing_below_msr",
    "guardrail",
)


def _read_year(r: _RulesReader, year: int, raw: object) -> YearRules:
    path = f"years.{year}"
    node = r.mapping(raw, path)
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for key in _YEAR_PARAMS:
        values[key], sources[key] = r.param(node, key, path)
    eff = r.mapping(node.get("effective"), f"{path}.effective")
    tracks_node = r.mapping(node.get("tracks"), f"{path}.tracks")
    tracks: dict[Track, TrackRules] = {}
    for name, block in tracks_node.items():
        try:
            track = Track(name)
        except ValueError:
            r.error(f"{path}.tracks.{name}", f"unknown track (use one of {', '.join(Track)})")
            continue
        tracks[track] = _read_track(r, track, block, f"{path}.tracks.{name}")
    status = r.choice(values["status"], f"{path}.status.value", ("published", "assumed"))
    rules = YearRules(
        year=year,
        effective_from=str(eff.get("from", "")),
        effective_to=str(eff.get("to", "")),
        assumed=status == "assumed",
        status_source=sources["status"],
        sharing_rule=cast(
            SharingRule,
            r.choice(
                values["sharing_rule"],
                f"{path}.sharing_rule.value",
                ("quality_scaled", "flat_if_standard_met"),
            ),
        ),
        sequestration_rate=r.rate(values["sequestration_rate"], f"{path}.sequestration_rate")
        or ZERO,
        cap_after_sequestration=r.flag(values["cap_after_sequestration"], f"{path}.cap…"),
        one_sided_owe_losses=r.flag(values["one_sided_owe_losses"], f"{path}.one_sided…"),
        one_sided_report_generated_losses=r.flag(
            values["one_sided_report_generated_losses"], f"{path}.one_sided_report…"
        ),
        sliding_scale=r.flag(values["sliding_scale"], f"{path}.sliding_scale.value"),
        reduced_sharing_below_msr=r.rate(
            values["reduced_sharing_below_msr"], f"{path}.reduced_sharing…", optional=True
        ),
        guardrail=r.flag(values["guardrail"], f"{path}.guardrail.value"),
        tracks=tracks,
        sources=sources,
    )
    if rules.one_sided_owe_losses:
        for t in tracks.values():
            if not t.two_sided and t.loss_rate_rule == "none":
                r.error(path, f"one_sided_owe_losses is true but {t.track} has no loss rate")
    return rules


def parse_mssp_rules(data: object, file: str) -> MsspRules:
    """Validate parsed YAML ``data``; raise :class:`MsspRulesError` listing every problem."""
    r = _RulesReader(file)
    root = r.mapping(data, "(top level)")
    if root.get("schema_version") != 1:
        r.error("schema_version", "must be 1")
    bands = _read_msr_table(r, root)
    elections = _read_elections(r, root)
    years_node = r.mapping(root.get("years"), "years")
    years: dict[int, YearRules] = {}
    for key, raw in years_node.items():
        if not str(key).isdigit():
            r.error(f"years.{key}", "performance years are written as 4-digit numbers")
            continue
        years[int(key)] = _read_year(r, int(key), raw)
    if not years:
        r.error("years", "no performance years defined")
    if r.diags.has_errors():
        raise MsspRulesError(r.diags, f"invalid MSSP rules in {file}")
    return MsspRules(file, bands, elections, years)


def load_mssp_rules(path: str | Path | None = None) -> MsspRules:
    """Read and validate the MSSP rules (default: the ``mssp_rules.yaml`` shipped here)."""
    if path is None:
        display = f"paycascade/contracts/{RULES_RESOURCE}"
        text = resources.files("paycascade.contracts").joinpath(RULES_RESOURCE).read_text("utf-8")
    else:
        display = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            diags = Diagnostics()
            diags.add(display, None, f"cannot read the MSSP rules: {exc}", code="mssp-rules")
            raise MsspRulesError(diags, f"cannot read {display}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        diags = Diagnostics()
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        diags.add(display, line, f"malformed YAML: {exc}", code="mssp-rules")
        raise MsspRulesError(diags, f"malformed YAML in {display}") from exc
    return parse_mssp_rules(data, display)


@functools.cache
def default_rules() -> MsspRules:
    """The shipped rules, read once."""
    return load_mssp_rules()


# --------------------------------------------------------------------------------------------
# Inputs and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MsspInputs:
    """What CMS needs to settle one ACO's performance year (money in Decimal dollars).

    ``quality_score`` is a fraction (0.7705 for a score of 77.05).  ``met_quality_standard``
    is the quality performance standard (42 CFR 425.512); ``met_alt_quality_standard`` the
    alternative standard that qualifies for the sliding scale (PY2023+).  ``elected_msr`` /
    ``elected_mlr`` are a two-sided ACO's elected rates as fractions; ``None`` means the
    "variable" option (the beneficiary-count table), and an MLR of ``None`` equals the MSR
    (the elections are symmetric).  ``dis_adj`` is the extreme-and-uncontrollable-
    circumstances relief (≤ 0, as CMS publishes it).  ``reduced_ss``: the ACO qualifies for the
    reduced sharing rate on positive savings below its MSR (PY2024+, low-revenue ACOs).
    ``guardrail``: savings would come only from benchmark adjustments, so none are shared.
    ``participant_revenue``: ACO participants' Medicare Parts A and B FFS revenue, needed for
    the revenue-based loss limit of BASIC C–E and Track 1+.  ``two_sided_year``: the year of
    two-sided participation (1, 2, 3…), needed only where the loss limit depends on it
    (Track 2).
    """

    aco_id: str
    performance_year: int
    track: Track
    n_assigned: int
    benchmark: Decimal
    expenditures: Decimal
    quality_score: Decimal | None = None
    met_quality_standard: bool = True
    met_alt_quality_standard: bool = False
    elected_msr: Decimal | None = None
    elected_mlr: Decimal | None = None
    dis_adj: Decimal = ZERO
    reduced_ss: bool = False
    guardrail: bool = False
    participant_revenue: Decimal | None = None
    two_sided_year: int | None = None


Outcome = Literal[
    "shared_savings",
    "reduced_shared_savings",
    "savings_not_shared",
    "guardrail",
    "corridor",
    "one_sided_loss",
    "shared_loss",
]


@dataclass(frozen=True)
class MsspResult:
    """The settlement of one ACO-year, with every intermediate figure.

    ``savings`` is benchmark − expenditures (negative = losses).  ``generated_savings_losses``
    is ``savings`` when outside the MSR/MLR corridor, else 0 (CMS ``GenSaveLoss``).
    ``earned_savings_losses`` is the payment (positive) or the loss owed (negative), to the
    cent (CMS ``EarnSaveLoss``).  ``determinable`` is False when participant revenue is needed
    but absent; the true amount then lies in ``[bound_low, bound_high]`` and
    ``earned_savings_losses`` equals ``bound_low`` (the loss without the revenue limit).
    """

    inputs: MsspInputs
    savings: Decimal
    savings_rate: Decimal
    msr: Decimal
    mlr: Decimal
    msr_basis: Literal["elected", "table"]
    outcome: Outcome
    generated_savings_losses: Decimal
    final_share_rate: Decimal | None
    final_loss_rate: Decimal | None
    sequestration_rate: Decimal
    performance_payment_limit: Decimal
    loss_limit_benchmark: Decimal | None
    loss_limit_revenue: Decimal | None
    limit_binding: str | None
    earned_savings_losses: Decimal
    determinable: bool
    bound_low: Decimal
    bound_high: Decimal
    rules_assumed: bool
    explanation: str


# --------------------------------------------------------------------------------------------
# Settlement
# --------------------------------------------------------------------------------------------


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _usd(amount: Decimal) -> str:
    """``$146,796,368`` for whole dollars, ``$107,895,330.47`` otherwise (sign dropped)."""
    text = fmt_cents(abs(to_cents(amount)))
    return text.removesuffix(".00")


def _pct_pair(a: Decimal, b: Decimal) -> tuple[str, str]:
    """Two rates with enough decimals to tell them apart: 2.9826% vs 2.9836%, not 2.98%."""
    for places in (2, 4, 6):
        step = Decimal(1).scaleb(-places)
        qa = (a * 100).quantize(step, rounding=ROUND_HALF_UP)
        qb = (b * 100).quantize(step, rounding=ROUND_HALF_UP)
        if qa != qb or a == b:
            break
    return f"{qa}%", f"{qb}%"


def _rate(rate: Decimal) -> str:
    """A rate as a percentage without trailing zeros: 75%, 45.42%, 42.3375%."""
    pct = (rate * 100).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return f"{pct:f}%"


def _check_inputs(x: MsspInputs, t: TrackRules) -> None:
    checks: list[tuple[bool, str, str]] = [
        (x.benchmark > 0, "benchmark", f"benchmark must be > 0, got {x.benchmark}"),
        (x.expenditures >= 0, "expenditures", f"expenditures must be >= 0, got {x.expenditures}"),
        (x.n_assigned >= 0, "n_assigned", f"n_assigned must be >= 0, got {x.n_assigned}"),
        (
            x.dis_adj <= 0,
            "dis_adj",
            f"dis_adj is relief on losses and must be <= 0, got {x.dis_adj}",
        ),
        (
            x.quality_score is None or ZERO <= x.quality_score <= ONE,
            "quality_score",
            f"quality_score must be a fraction 0–1, got {x.quality_score}",
        ),
        (
            x.participant_revenue is None or x.participant_revenue >= 0,
            "participant_revenue",
            f"participant_revenue must be >= 0, got {x.participant_revenue}",
        ),
        (
            x.two_sided_year is None or x.two_sided_year >= 1,
            "two_sided_year",
            f"two_sided_year must be 1 or more, got {x.two_sided_year}",
        ),
    ]
    for name in ("elected_msr", "elected_mlr"):
        value: Decimal | None = getattr(x, name)
        if value is not None and not t.two_sided:
            checks.append(
                (False, name, f"{t.track.label} is one-sided: the MSR comes from the table")
            )
        elif value is not None:
            checks.append(
                (ZERO <= value < ONE, name, f"{name} must be a fraction 0–1, got {value}")
            )
    for ok, name, message in checks:
        if not ok:
            raise MsspInputError(name, message)


def _corridor(
    x: MsspInputs, rules: MsspRules, t: TrackRules
) -> tuple[Decimal, Decimal, Literal["elected", "table"]]:
    if t.msr_rule == "elected" and x.elected_msr is not None:
        msr, basis = x.elected_msr, "elected"
    else:
        msr, basis = rules.msr_for(x.n_assigned), "table"
    mlr = x.elected_mlr if (t.two_sided and x.elected_mlr is not None) else msr
    return msr, mlr, cast(Literal["elected", "table"], basis)


def _quality(x: MsspInputs, why: str) -> Decimal:
    if x.quality_score is None:
        raise MsspInputError("quality_score", f"a quality score is needed: {why}")
    return x.quality_score


def _share_rate(x: MsspInputs, y: YearRules, t: TrackRules) -> tuple[Decimal | None, str]:
    """Final sharing rate and how it was reached (None: a needed quality score is missing)."""
    if x.met_quality_standard and y.sharing_rule == "flat_if_standard_met":
        return t.max_sharing_rate, f"{_rate(t.max_sharing_rate)} (quality standard met)"
    scaled = x.met_quality_standard or (y.sliding_scale and x.met_alt_quality_standard)
    if not scaled:
        return ZERO, "0% (quality performance standard not met)"
    if x.quality_score is None:
        return None, "max rate × quality score (quality score missing)"
    rate = t.max_sharing_rate * x.quality_score
    how = "" if x.met_quality_standard else ", sliding scale: alternative quality standard met"
    text = f"{_rate(rate)} ({_rate(t.max_sharing_rate)} × quality {_rate(x.quality_score)}{how})"
    return rate, text


def _loss_rate(x: MsspInputs, y: YearRules, t: TrackRules) -> tuple[Decimal | None, str]:
    """Shared loss rate and how it was reached (0 for one-sided tracks)."""
    if t.loss_rate_rule == "none":
        return ZERO, "none (one-sided)"
    if t.loss_rate_rule == "flat":
        rate = t.loss_rate_flat or ZERO
        return rate, _rate(rate)
    counts = x.met_quality_standard or (y.sliding_scale and x.met_alt_quality_standard)
    if counts and x.quality_score is None:
        return None, "1 − max rate × quality score (quality score missing)"
    q = (x.quality_score or ZERO) if counts else ZERO
    raw = ONE - t.max_sharing_rate * q
    rate = raw
    notes = []
    if t.loss_rate_floor is not None and rate < t.loss_rate_floor:
        rate = t.loss_rate_floor
        notes.append(f"floor {_rate(t.loss_rate_floor)}")
    if t.loss_rate_ceiling is not None and rate > t.loss_rate_ceiling:
        rate = t.loss_rate_ceiling
        notes.append(f"ceiling {_rate(t.loss_rate_ceiling)}")
    qtext = f"quality {_rate(q)}" if counts else "quality 0: standard not met"
    text = f"{_rate(rate)} (1 − {_rate(t.max_sharing_rate)} × {qtext} = {_rate(raw)}"
    return rate, text + (f", {', '.join(notes)})" if notes else ")")


@dataclass(frozen=True)
class _Case:
    """Everything fixed before the money is computed."""

    x: MsspInputs
    y: YearRules
    t: TrackRules
    savings: Decimal
    savings_rate: Decimal
    msr: Decimal
    mlr: Decimal
    basis: Literal["elected", "table"]
    share_rate: Decimal | None
    share_text: str
    loss_rate: Decimal | None
    loss_text: str

    def head(self, sign: str, name: str, threshold: Decimal) -> str:
        """``savings $X (8.89% of benchmark $B) ≥ MSR 2.00% (elected)``."""
        kind = "savings" if self.savings >= 0 else "losses"
        rate, limit = _pct_pair(abs(self.savings_rate), threshold)
        return (
            f"{kind} {_usd(self.savings)} ({rate} of benchmark {_usd(self.x.benchmark)}) "
            f"{sign} {name} {limit} ({self.basis})"
        )

    def result(
        self, outcome: Outcome, generated: Decimal, earned: Decimal, text: str, **extra: Any
    ) -> MsspResult:
        assumed = f"; PY{self.y.year} rules are ASSUMED ({self.y.status_source})"
        values: dict[str, Any] = {
            "performance_payment_limit": _cents(
                self.t.performance_payment_limit * self.x.benchmark
            ),
            "loss_limit_benchmark": None,
            "loss_limit_revenue": None,
            "limit_binding": None,
            "determinable": True,
            "bound_low": earned,
            "bound_high": earned,
            "final_share_rate": self.share_rate,
            "final_loss_rate": self.loss_rate,
        }
        values.update(extra)
        return MsspResult(
            inputs=self.x,
            savings=self.savings,
            savings_rate=self.savings_rate,
            msr=self.msr,
            mlr=self.mlr,
            msr_basis=self.basis,
            outcome=outcome,
            generated_savings_losses=generated,
            sequestration_rate=self.y.sequestration_rate,
            earned_savings_losses=earned,
            rules_assumed=self.y.assumed,
            explanation=text + (assumed if self.y.assumed else ""),
            **values,
        )


def settle(inputs: MsspInputs, rules: MsspRules | None = None) -> MsspResult:
    """Settle one ACO-year under ``rules`` (default: the shipped ``mssp_rules.yaml``).

    Raises :class:`MsspInputError` when the inputs cannot be settled (unknown year or track,
    a missing quality score that the rules need, a negative benchmark, …).
    """
    rules = rules or default_rules()
    y = rules.year(inputs.performance_year)
    t = y.track(inputs.track)
    _check_inputs(inputs, t)
    savings = inputs.benchmark - inputs.expenditures
    msr, mlr, basis = _corridor(inputs, rules, t)
    share, share_text = _share_rate(inputs, y, t)
    loss, loss_text = _loss_rate(inputs, y, t)
    case = _Case(
        inputs,
        y,
        t,
        savings,
        savings / inputs.benchmark,
        msr,
        mlr,
        basis,
        share,
        share_text,
        loss,
        loss_text,
    )
    if savings > 0:
        return _settle_savings(case)
    if savings < 0:
        return _settle_losses(case)
    return case.result("corridor", ZERO, ZERO, "benchmark equals expenditures → nothing shared")


def _settle_savings(c: _Case) -> MsspResult:
    below_msr = c.savings_rate < c.msr
    comparison = c.head("<" if below_msr else "≥", "MSR", c.msr)
    if c.x.guardrail and c.y.guardrail:
        text = f"{comparison}; guardrail applies (savings only from benchmark adjustments)"
        return c.result("guardrail", ZERO, ZERO, text + " → nothing shared")
    if c.x.guardrail:
        raise MsspInputError("guardrail", f"PY{c.y.year} rules have no guardrail")
    if below_msr:
        return _settle_below_msr(c, comparison)
    if c.share_rate is None:
        _quality(c.x, "the sharing rate is max rate × quality score")
    rate = c.share_rate or ZERO
    if rate == 0:
        return c.result("savings_not_shared", c.savings, ZERO, f"{comparison}; {c.share_text}")
    return _pay(
        c, "shared_savings", rate, f"{comparison} → shared from the first dollar at {c.share_text}"
    )


def _settle_below_msr(c: _Case, comparison: str) -> MsspResult:
    if not c.x.reduced_ss:
        return c.result(
            "corridor", ZERO, ZERO, f"{comparison} → inside the corridor, nothing shared"
        )
    fraction = c.y.reduced_sharing_below_msr
    if fraction is None:
        raise MsspInputError("reduced_ss", f"PY{c.y.year} rules have no reduced sharing rate")
    if c.share_rate is None:
        _quality(c.x, "the sharing rate is max rate × quality score")
    rate = (c.share_rate or ZERO) * fraction
    if rate == 0:
        return c.result("savings_not_shared", c.savings, ZERO, f"{comparison}; {c.share_text}")
    text = (
        f"{comparison}, but the ACO qualifies for reduced shared savings → shared from the "
        f"first dollar at {_rate(rate)} ({_rate(fraction)} of the {_rate(c.share_rate or ZERO)} "
        "rate)"
    )
    return _pay(c, "reduced_shared_savings", rate, text)


def _pay(c: _Case, outcome: Outcome, rate: Decimal, text: str) -> MsspResult:
    """Savings times the rate, less sequestration, capped at the performance payment limit."""
    kept = (ONE - c.y.sequestration_rate).normalize()
    limit_pct = c.t.performance_payment_limit
    limit = limit_pct * c.x.benchmark
    gross = c.savings * rate
    if c.y.cap_after_sequestration:
        before = gross * kept
        binding = before > limit
        earned = _cents(min(before, limit))
        step = f" × {kept} sequestration = {_usd(before)}"
    else:
        binding = gross > limit
        earned = _cents(min(gross, limit) * kept)
        step = f" = {_usd(gross)}, capped before × {kept} sequestration"
    limit_text = f"limit {_rate(limit_pct)} of benchmark {_usd(limit)}"
    tail = f"; capped at the {limit_text}" if binding else f"; {limit_text} not reached"
    return c.result(
        outcome,
        c.savings,
        earned,
        f"{text}{step}{tail} → earned {_usd(earned)}",
        limit_binding="performance payment limit" if binding else None,
        final_share_rate=rate,
    )


def _settle_losses(c: _Case) -> MsspResult:
    beyond = -c.savings_rate >= c.mlr
    comparison = c.head("≥" if beyond else "<", "MLR", c.mlr)
    if not beyond:
        return c.result("corridor", ZERO, ZERO, f"{comparison} → inside the corridor, nothing owed")
    if not c.t.two_sided and not c.y.one_sided_owe_losses:
        generated = c.savings if c.y.one_sided_report_generated_losses else ZERO
        text = f"{comparison}; {c.t.track.label} is one-sided → no shared losses owed"
        return c.result("one_sided_loss", generated, ZERO, text)
    if c.loss_rate is None:
        _quality(c.x, "the loss rate is 1 − max rate × quality score")
    return _owe(c, c.loss_rate or ZERO, comparison)


def _benchmark_caps(c: _Case) -> tuple[Decimal | None, Decimal | None, str]:
    """The benchmark-based loss cap: (loosest possible, tightest possible, description)."""
    pcts = c.t.loss_limit_benchmark
    if not pcts:
        return None, None, ""
    if len(pcts) == 1 or c.x.two_sided_year is not None:
        pct = pcts[min(c.x.two_sided_year or 1, len(pcts)) - 1]
        cap = pct * c.x.benchmark
        return cap, cap, f"limit {_rate(pct)} of benchmark {_usd(cap)}"
    loose, tight = max(pcts) * c.x.benchmark, min(pcts) * c.x.benchmark
    text = (
        f"limit {_rate(min(pcts))}–{_rate(max(pcts))} of benchmark {_usd(tight)}–{_usd(loose)} "
        "(depends on the year of two-sided participation, not given)"
    )
    return loose, tight, text


def _after_relief(loss: Decimal, relief: Decimal) -> Decimal:
    """The loss owed after disaster relief (both <= 0).

    Relief never exceeds the loss.  CMS publishes relief in whole dollars, computed from the
    unrounded loss, so a remainder of less than one dollar is a full offset, not a debt.
    """
    rest = loss - relief
    if rest >= 0 or (relief < 0 and rest > -ONE_DOLLAR):
        return ZERO
    return rest


def _owe(c: _Case, rate: Decimal, comparison: str) -> MsspResult:
    raw = c.savings * rate  # negative
    loose, tight, limit_text = _benchmark_caps(c)
    rev_pct, revenue = c.t.loss_limit_revenue, c.x.participant_revenue
    rev_cap = None if rev_pct is None or revenue is None else rev_pct * revenue
    rev_unknown = rev_pct is not None and revenue is None
    caps_loose = [v for v in (loose, rev_cap) if v is not None]
    caps_tight = [v for v in (tight, rev_cap) if v is not None] + ([ZERO] if rev_unknown else [])
    pre_low = max(raw, -min(caps_loose)) if caps_loose else raw
    pre_high = max(raw, -min(caps_tight)) if caps_tight else raw
    low = _cents(_after_relief(pre_low, c.x.dis_adj))
    high = _cents(_after_relief(pre_high, c.x.dis_adj))
    determinable = high - low < ONE_DOLLAR
    binding = _loss_binding(raw, loose, rev_cap)
    parts = [f"shared at loss rate {c.loss_text} = {_usd(raw)}"]
    if limit_text and loose is not None:
        status = _limit_status(raw, loose, binding, "benchmark")
        if tight is not None and tight < -raw <= loose:
            status = "may bind"
        parts.append(f"{limit_text} {status}")
    if rev_pct is not None:
        parts.append(_revenue_text(rev_pct, revenue, raw, binding))
    unknown = "participant revenue" if rev_unknown else "the year of two-sided participation"
    text = _loss_tail(c, pre_low, (low, high), None if determinable else unknown)
    return c.result(
        "shared_loss",
        c.savings,
        low,
        f"{comparison} → " + "; ".join(parts) + text,
        loss_limit_benchmark=None if loose is None else _cents(loose),
        loss_limit_revenue=None if rev_cap is None else _cents(rev_cap),
        limit_binding=binding,
        determinable=determinable,
        bound_low=low,
        bound_high=low if determinable else high,
    )


def _loss_binding(raw: Decimal, bench: Decimal | None, rev: Decimal | None) -> str | None:
    caps = [(v, name) for v, name in ((bench, "benchmark"), (rev, "revenue")) if v is not None]
    if not caps:
        return None
    cap, name = min(caps, key=lambda item: item[0])
    return f"loss limit ({name})" if -raw > cap else None


def _limit_status(raw: Decimal, cap: Decimal, binding: str | None, name: str) -> str:
    if binding == f"loss limit ({name})":
        return "binds"
    return "also exceeded (the other limit is lower)" if -raw > cap else "not reached"


def _revenue_text(pct: Decimal, revenue: Decimal | None, raw: Decimal, binding: str | None) -> str:
    if revenue is None:
        return (
            f"revenue-based limit {_rate(pct)} of participant revenue not applied "
            "(participant revenue not given; the public file does not include it)"
        )
    cap = pct * revenue
    status = _limit_status(raw, cap, binding, "revenue")
    return f"limit {_rate(pct)} of participant revenue {_usd(revenue)} = {_usd(cap)} {status}"


def _loss_tail(c: _Case, pre: Decimal, bounds: tuple[Decimal, Decimal], unknown: str | None) -> str:
    """The end of a loss explanation: relief, the amount owed, and what is not known."""
    low, high = bounds
    text = f" → loss {_usd(pre)}"
    if c.x.dis_adj:
        text += f"; less disaster relief {_usd(c.x.dis_adj)}"
        if pre - c.x.dis_adj >= 0:
            text += " (relief cannot exceed the loss)"
        elif pre - c.x.dis_adj > -ONE_DOLLAR:
            text += f" (the {_usd(pre - c.x.dis_adj)} left is rounding: a full offset)"
    text += f" → owed {_usd(low)}"
    if unknown is not None:
        text += (
            f"; NOT DETERMINABLE without {unknown}: the amount owed lies between "
            f"{_usd(high)} and {_usd(low)}"
        )
    return text
