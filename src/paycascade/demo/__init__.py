"""The synthetic demo health system."""
