"""Render a statement (the dict of :func:`paycascade.statements.statement_detail`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from paycascade.money import fmt_cents
from paycascade.statements import render_text

_ENV = Environment(
    loader=PackageLoader("paycascade", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _money(text: str) -> str:
    return fmt_cents(int((Decimal(text) * 100).to_integral_value()))


def _pct(text: str | None) -> str:
    if text is None:
        return "—"
    return f"{(Decimal(text) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


_ENV.filters["money"] = _money
_ENV.filters["pct"] = _pct


def render_statement(statement: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(statement, indent=2, sort_keys=True) + "\n"
    if fmt == "html":
        return _ENV.get_template("statement.html").render(s=statement)
    return render_text(statement)
