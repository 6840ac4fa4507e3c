"""Payer contracts: settlement engines (MSSP, P4P, bundles, capitation)."""
