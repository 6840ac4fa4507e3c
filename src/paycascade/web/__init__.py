"""The physician portal (``paycascade serve``): statements, scorecards, runs, exports, audit."""

from paycascade.web.app import PortalApp, PortalConfig, create_demo_users, serve

__all__ = ["PortalApp", "PortalConfig", "create_demo_users", "serve"]
