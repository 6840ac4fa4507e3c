"""Every component kind the plan grammar knows, and the module that parses it.

An explicit, immutable table (no import-time registration): adding a kind means adding one
module and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from paycascade.components import (
    academic,
    activity,
    co_management,
    combinators,
    gainsharing,
    guarantee,
    hourly,
    panel,
    partnership,
    productivity,
    quality_incentive,
    salary,
    shared_savings,
    shift,
    stipend,
    withhold,
)
from paycascade.plans.model import Spec
from paycascade.plans.params import Reader

Parser = Callable[[Reader, dict[str, Any]], Spec | None]

KINDS: Mapping[str, tuple[Parser, type[Spec]]] = MappingProxyType(
    {
        "salary": (salary.parse, salary.Salary),
        "hourly": (hourly.parse, hourly.Hourly),
        "shift": (shift.parse, shift.Shift),
        "stipend": (stipend.parse, stipend.Stipend),
        "locum": (activity.parse_locum, activity.Locum),
        "non_clinical": (activity.parse_non_clinical, activity.NonClinical),
        "productivity": (productivity.parse, productivity.Productivity),
        "guarantee": (guarantee.parse, guarantee.Guarantee),
        "quality_incentive": (quality_incentive.parse, quality_incentive.QualityIncentive),
        "withhold": (withhold.parse, withhold.Withhold),
        "panel": (panel.parse, panel.Panel),
        "greater_of": (combinators.parse_greater_of, combinators.GreaterOf),
        "band": (combinators.parse_band, combinators.Band),
        "shared_savings": (shared_savings.parse_shared_savings, shared_savings.SharedSavings),
        "capitation": (shared_savings.parse_capitation, shared_savings.Capitation),
        "gainsharing": (gainsharing.parse, gainsharing.Gainsharing),
        "co_management": (co_management.parse, co_management.CoManagement),
        "partnership": (partnership.parse, partnership.Partnership),
        "joint_venture": (partnership.parse_joint_venture, partnership.JointVenture),
        "academic": (academic.parse, academic.Academic),
    }
)
