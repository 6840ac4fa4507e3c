"""paycascade: value-based physician compensation, from payer contract to physician statement."""

__version__ = "0.1.0"
