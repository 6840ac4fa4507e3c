"""The one ledger: every computed dollar is a posting from a source account to a destination.

Accounts are plain strings:

* ``physician:<npi>``: a physician's pay;
* ``system:compensation``: the system's compensation budget, where ordinary pay comes from;
* ``pool:<plan>/<component>``: a withhold (or other) pool;
* ``system:retained``: what the system keeps.

Amounts are integer cents and never negative: the direction of a flow is given by its source
and destination.  Statements, alignment shares and exports are views of the postings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import orjson

from paycascade.money import plain_cents

Alignment = Literal["volume", "mixed", "value", "none"]
ALIGNMENTS: tuple[Alignment, ...] = ("volume", "mixed", "value")

SYSTEM_COMPENSATION = "system:compensation"
SYSTEM_RETAINED = "system:retained"


def physician_account(npi: str) -> str:
    return f"physician:{npi}"


def pool_account(plan: str, component: str) -> str:
    return f"pool:{plan}/{component}"


@dataclass(frozen=True)
class Posting:
    """One flow of money, with everything needed to explain it."""

    npi: str | None
    source: str
    destination: str
    component: str
    kind: str
    alignment: Alignment
    quinn: str
    amount_cents: int
    explanation: str
    plan: str
    plan_file: str
    plan_line: int
    segment_start: date
    segment_end: date
    inputs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.amount_cents < 0:
            raise ValueError(f"posting amounts are never negative: {self}")

    @property
    def net_to_physician(self) -> int:
        """Signed effect on the physician's pay: + into their account, − out of it."""
        if self.npi is None:
            return 0
        account = physician_account(self.npi)
        if self.destination == account:
            return self.amount_cents
        if self.source == account:
            return -self.amount_cents
        return 0

    def inputs_json(self) -> str:
        """The inputs as compact JSON with sorted keys (UTF-8 text as is, e.g. ``§``)."""
        return orjson.dumps(dict(self.inputs), option=JSON_OPTIONS).decode("utf-8")


#: orjson options of the JSON a run writes: keys sorted, and keys that are not text written as
#: text (as ``json.dumps`` does); compact, UTF-8
JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def read_json(data: bytes) -> Any:
    """JSON a run wrote, read with orjson; what orjson refuses (e.g. an escaped unpaired
    surrogate, which runs wrote before orjson) is read by the standard library, whose error
    wording a broken file then gets."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


LEDGER_COLUMNS = [
    "run_id",
    "period",
    "posting",
    "source",
    "destination",
    "npi",
    "plan",
    "component",
    "kind",
    "alignment",
    "quinn_method",
    "amount",
    "segment_start",
    "segment_end",
    "explanation",
    "inputs",
    "plan_file",
    "plan_line",
]


def ledger_rows(run_id: str, period: str, postings: Iterable[Posting]) -> list[list[str]]:
    rows = []
    for n, p in enumerate(postings, start=1):
        rows.append(
            [
                run_id,
                period,
                str(n),
                p.source,
                p.destination,
                p.npi or "",
                p.plan,
                p.component,
                p.kind,
                p.alignment,
                p.quinn,
                plain_cents(p.amount_cents),
                p.segment_start.isoformat(),
                p.segment_end.isoformat(),
                p.explanation,
                p.inputs_json(),
                p.plan_file,
                str(p.plan_line),
            ]
        )
    return rows


def balance(postings: Iterable[Posting]) -> dict[str, int]:
    """Net balance per account (in − out).  Every pool must end at zero."""
    result: dict[str, int] = {}
    for p in postings:
        result[p.destination] = result.get(p.destination, 0) + p.amount_cents
        result[p.source] = result.get(p.source, 0) - p.amount_cents
    return result
