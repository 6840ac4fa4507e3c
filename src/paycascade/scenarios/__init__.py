"""Scenarios: plan reforms, budget-neutral solves and sweeps, the value-penalty simulator,\ncontract risk (Monte Carlo) and the multi-year transition planner (docs/SCENARIOS.md)."""
