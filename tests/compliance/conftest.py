"""Reuse the component fixtures (a plan from YAML, hand-made aggregates)."""

from __future__ import annotations

from tests.components.conftest import run_funded, run_plan

__all__ = ["run_funded", "run_plan"]
