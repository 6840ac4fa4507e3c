"""Compliance guardrails: findings are flags for human review, never verdicts.

``static_findings(plans, contracts)`` reads only the declarations (``paycascade check``);
``run_findings(loaded, outcome)`` reads a computed run as well (FMV against the loaded survey,
what the ledger paid, reliability of the scorecards' rates, gaming signals and equity gaps).
See ``docs/COMPLIANCE.md`` for every code, its rule, source and thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paycascade.compliance.findings import Finding
    from paycascade.compliance.review import Review
    from paycascade.contracts.loader import ContractSpec
    from paycascade.plans.loader import Plan
    from paycascade.runner import Loaded, Outcome


def static_findings(
    plans: Mapping[str, Plan], contracts: Mapping[str, ContractSpec]
) -> list[Finding]:
    """Plan- and contract-level guardrails that need no data, in a deterministic order."""
    from paycascade.compliance.findings import ordered
    from paycascade.compliance.stark import static_stark

    return ordered(static_stark(plans, contracts))


def run_findings(loaded: Loaded, outcome: Outcome) -> list[Finding]:
    """Every guardrail on a computed run, in a deterministic order."""
    return assess(loaded, outcome).findings


def assess(loaded: Loaded, outcome: Outcome) -> Review:
    """The findings of a run and each physician's FMV position (for the statements).

    (Not named ``review``: that is the submodule's name, which importing it binds here.)"""
    from paycascade.compliance.review import review_run

    return review_run(loaded, outcome)


__all__: list[Any] = ["assess", "run_findings", "static_findings"]
