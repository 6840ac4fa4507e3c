"""Findings: flags for human review, each with its evidence and the rule it comes from.

A finding is never a verdict.  It says what was seen (``evidence``: the numbers), which rule of
thumb or regulation makes it worth a look (``rule_source``), and who or what it is about
(``subject_kind`` / ``subject``).  The catalogue below is the single list of codes; each code's
rule text is written into ``findings.csv`` and documented in ``docs/COMPLIANCE.md``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["info", "review", "high"]
SubjectKind = Literal["physician", "plan", "contract", "group"]

FINDING_COLUMNS = [
    "severity",
    "code",
    "subject_kind",
    "subject",
    "message",
    "evidence",
    "source",
    "file",
    "line",
]
SEVERITY_ORDER: dict[str, int] = {"high": 0, "review": 1, "info": 2}
KIND_ORDER: dict[str, int] = {"contract": 0, "plan": 1, "group": 2, "physician": 3}


@dataclass(frozen=True)
class Rule:
    code: str
    family: str
    title: str
    source: str


_FMV_SURVEY = (
    "DOMAIN.md §8; market-anchors §3.5: FMV bands by survey percentile (<25th, 25–75th, "
    "75–90th, >90th; WiesHerd Provider_Comp_Tool fmv-evaluator); hospitals cap at the 90th "
    "(sometimes 75th) percentile; Stark 'big three' (42 CFR 411.354, CMS final rule 2021)"
)

CATALOGUE: tuple[Rule, ...] = (
    Rule(
        "FMV_ABOVE_90TH",
        "fmv",
        "total cash compensation per FTE above the survey's 90th percentile",
        _FMV_SURVEY,
    ),
    Rule(
        "FMV_PAY_PRODUCTION_GAP",
        "fmv",
        "pay percentile exceeds production (wRVU) percentile by more than 15 points",
        "market-anchors §3.5: alignment gap = TCC percentile − wRVU percentile > 15 points "
        "⇒ FMV check (WiesHerd CF_Modeller calculation-rules-audit.md); DOMAIN.md §8",
    ),
    Rule(
        "FMV_COMP_PER_WRVU_HIGH",
        "fmv",
        "compensation per wRVU above the survey's 75th percentile at production above the 75th",
        "DOMAIN.md §8 'comp per wRVU misuse': at high production a high comp per wRVU compounds "
        "(pay rises faster than production); market-anchors §3.5 (PYA FMV policy escalation)",
    ),
    Rule(
        "FMV_NO_BENCHMARK",
        "fmv",
        "the survey table has no rows for the physician's specialty",
        "market-anchors §3.5: FMV review needs survey data for the specialty (use several "
        "surveys, disclose the blend)",
    ),
    Rule(
        "BENCHMARK_LOW_FTE",
        "reliability",
        "FTE below 0.70: survey benchmarks are unreliable",
        "market-anchors §3.4: MGMA full time = 0.75–1.0 FTE; total or clinical FTE < 0.70 makes "
        "benchmarks unreliable (WiesHerd CF_Modeller); DOMAIN.md §9",
    ),
    Rule(
        "BENCHMARK_LOW_PRODUCTION",
        "reliability",
        "annualized production below 1,000 wRVU: productivity benchmarks are unreliable",
        "market-anchors §3.4: annual wRVUs < 1,000 trigger a warning (WiesHerd CF_Modeller "
        "docs/calculation-rules-audit.md)",
    ),
    Rule(
        "STARK_REFERRAL_VARIABLE",
        "stark",
        "a component's pay varies with referrals or orders",
        "Stark: 42 U.S.C. 1395nn, 42 CFR 411.354(d)(5)-(6) volume-or-value-of-referrals tests; "
        "Anti-Kickback Statute 42 U.S.C. 1320a-7b(b); seed 001 §6",
    ),
    Rule(
        "STARK_TECHNICAL_DHS",
        "stark",
        "pay includes technical revenue of designated health services",
        "Stark: 42 CFR 411.351 (designated health services), 411.352(g) and 411.354(d)(5)-(6); "
        "DOMAIN.md §7–8; seed 001 §6",
    ),
    Rule(
        "AKS_GAINSHARING_SAFEGUARDS",
        "stark",
        "gainsharing without the OIG safeguards (per-capita split, cap, quality floor, "
        "utilisation floor, limited term)",
        "OIG advisory opinions 05-01…05-06, 06-22, 07-21/22 (50% of first-year identified "
        "savings, per capita, caps, quality and utilisation floors, limited term); CMP law "
        "42 U.S.C. 1320a-7a(b); market-anchors §3.5",
    ),
    Rule(
        "SHARED_SAVINGS_NO_AUTHORIZATION",
        "stark",
        "shared-savings distribution not authorized by the employment agreement",
        "seed 001 §6–7: shared-savings distribution to employed physicians requires explicit "
        "pass-through provisions in the employment agreement",
    ),
    Rule(
        "DOWNSIDE_RISK_TO_INDIVIDUALS",
        "stark",
        "downside risk (losses) passed to individual physicians",
        "seed 001 §6: downside risk for physicians needs analysis under Stark and state "
        "insurance licensure; 42 CFR 422.208 (substantial financial risk); DOMAIN.md §8",
    ),
    Rule(
        "APP_REVENUE_SHARING",
        "stark",
        "pay for services not personally performed (APP work credited to the supervisor)",
        "Stark employment exception: productivity pay only for personally performed services "
        "(42 CFR 411.352(i), 411.357(c)); market-anchors §3.5 (HSG APP article)",
    ),
    Rule(
        "RELIABILITY_LOW",
        "reliability",
        "most individual rates on a paid measure have reliability below 0.70",
        "DOMAIN.md §3: individual scores on small denominators are unreliable (≈50 events for "
        "0.70 reliability); Adams et al., RAND TR-653 (2009), beta-binomial reliability",
    ),
    Rule(
        "GAMING_EM_LEVEL_PEERS",
        "gaming",
        "share of the highest E/M level far above specialty peers",
        "DOMAIN.md §8 (jumps in the share of level-5 E/M visits); OIG, 'Trends in Evaluation "
        "and Management Services' (OEI-04-10-00180, 2012): upcoding signals",
    ),
    Rule(
        "GAMING_EM_LEVEL_HISTORY",
        "gaming",
        "share of the highest E/M level jumped against the physician's own history",
        "DOMAIN.md §8 (jumps in the share of level-5 E/M visits); OIG OEI-04-10-00180 (2012)",
    ),
    Rule(
        "GAMING_EXCLUSION_SPIKE",
        "gaming",
        "measure exclusion rate far above peers or the physician's own history",
        "DOMAIN.md §8 (exclusion-rate spikes): excluding patients improves a rate without "
        "improving care",
    ),
    Rule(
        "GAMING_SHRINKING_DENOMINATOR",
        "gaming",
        "a measure's denominator shrank sharply against the prior period",
        "DOMAIN.md §8 (shrinking denominators)",
    ),
    Rule(
        "EQUITY_GAP",
        "equity",
        "a physician's measure rate differs by patient social risk",
        "DOMAIN.md §8 (rates stratified by dual eligibility and area deprivation); CMS "
        "Framework for Health Equity 2022–2032; NQF disparities-sensitive measures",
    ),
    Rule(
        "EQUITY_GROUP_GAP",
        "equity",
        "a group's measure rate differs by patient social risk",
        "DOMAIN.md §8 (rates stratified by dual eligibility and area deprivation); CMS "
        "Framework for Health Equity 2022–2032",
    ),
)
RULES: dict[str, Rule] = {r.code: r for r in CATALOGUE}


@dataclass(frozen=True)
class Finding:
    """One flag for human review (see the module docstring)."""

    severity: Severity
    code: str
    subject_kind: SubjectKind
    subject: str
    message: str
    evidence: Mapping[str, str] = field(default_factory=dict)
    rule_source: str = ""
    file: str = ""
    line: int | None = None

    def sort_key(self) -> tuple[int, str, int, str, str]:
        return (
            SEVERITY_ORDER[self.severity],
            self.code,
            KIND_ORDER[self.subject_kind],
            self.subject,
            self.message,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "subject_kind": self.subject_kind,
            "subject": self.subject,
            "message": self.message,
            "evidence": dict(self.evidence),
            "source": self.rule_source,
            "file": self.file,
            "line": self.line,
        }

    def row(self) -> list[str]:
        return [
            self.severity,
            self.code,
            self.subject_kind,
            self.subject,
            self.message,
            _EVIDENCE_JSON.encode(dict(self.evidence)),
            self.rule_source,
            self.file,
            "" if self.line is None else str(self.line),
        ]


def finding(
    code: str,
    severity: Severity,
    subject_kind: SubjectKind,
    subject: str,
    message: str,
    evidence: Mapping[str, object],
    *,
    file: str = "",
    line: int | None = None,
) -> Finding:
    """A finding of a catalogued code, its rule source filled in, evidence as text."""
    rule = RULES[code]
    return Finding(
        severity=severity,
        code=code,
        subject_kind=subject_kind,
        subject=subject,
        message=message,
        evidence={k: str(v) for k, v in evidence.items()},
        rule_source=rule.source,
        file=file,
        line=line,
    )


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Deterministic order: severity (high first), code, subject kind, subject, message."""
    unique = {(f.sort_key(), f.row().__repr__()): f for f in findings}
    return [unique[k] for k in sorted(unique)]


def findings_csv(findings: Iterable[Finding]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FINDING_COLUMNS)
    writer.writerows(f.row() for f in findings)
    return buffer.getvalue().encode("utf-8")


#: one encoder for every finding (``json.dumps`` with options builds a new one per call)
_EVIDENCE_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
