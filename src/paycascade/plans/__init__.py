"""Compensation plans as code: YAML with positions, dated parameters, components."""
