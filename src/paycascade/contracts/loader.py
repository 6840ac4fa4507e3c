"""Load ``contracts/*.yaml`` into :class:`ContractSpec` objects, reporting every problem.

A file holds one contract (a mapping with ``contract:`` and ``kind:``) or several
(``contracts: [...]``).  Every problem is reported as ``contracts/x.yaml:line: message``, all
at once; a contract with a problem is left out of the result.  ``docs/CONTRACTS.md`` is the
grammar.

The kinds (``p4p``, ``bundle``, ``capitation`` / ``global_budget``, ``mssp``) are one small
module each, with their terms, their parser and their settlement; this module holds what they
share: the spec, the allocation policy, and the helpers that read metrics and word amounts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from paycascade.contracts.base import (
    SYSTEM_DESTINATIONS,
    Allocation,
    ContractResult,
    EpisodeVolume,
    Share,
)
from paycascade.diagnostics import Diagnostics
from paycascade.money import ONE, ZERO, RoundingMode, fmt_cents, plain_cents
from paycascade.periods import Period
from paycascade.plans.params import Dated, Reader
from paycascade.plans.yamlpos import PosDict, PosList, as_date, load_yaml

COMMON_KEYS = ("contract", "kind", "name", "payer", "source", "allocation", "start", "end", "note")
FILE_KEYS = ("contracts", "note")
ALLOCATION_KEYS = ("shares", "losses", "source", "note")
SHARE_KEYS = ("to", "share", "source", "note")
LOSS_POLICIES = ("retained", "pass_through")
T = TypeVar("T")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class ContractInputError(ValueError):
    """A contract cannot be settled from its inputs.

    ``name`` is the metric (or, with ``param=True``, the contract key) at fault, so the
    diagnostic can name it and point at the right line.
    """

    def __init__(self, name: str, message: str, *, param: bool = False) -> None:
        super().__init__(message)
        self.name = name
        self.param = param


Settle = Callable[
    ["ContractSpec", Mapping[str, Decimal], EpisodeVolume | None, Period, RoundingMode],
    ContractResult,
]


@dataclass(frozen=True)
class Kind:
    """One contract kind: its keys, its parser and its settlement."""

    name: str
    label: str
    keys: tuple[str, ...]
    parse: Callable[[Reader], object | None]
    settle: Settle
    metrics: tuple[str, ...]  # required contract_performance metrics
    optional_metrics: tuple[str, ...] = ()
    uses_episodes: bool = False

    def all_metrics(self) -> tuple[str, ...]:
        return self.metrics + self.optional_metrics


def kinds() -> dict[str, Kind]:
    """The contract kinds by name (imported here to keep the kind modules independent)."""
    from paycascade.contracts import bundle, capitation, commercial, mssp_contract, p4p

    table = (
        p4p.KIND,
        bundle.KIND,
        capitation.KIND,
        capitation.GLOBAL_BUDGET,
        mssp_contract.KIND,
        commercial.KIND,
    )
    return {k.name: k for k in table}


@dataclass(frozen=True)
class ContractSpec:
    """One payer contract as declared: common fields, kind-specific terms, allocation policy."""

    id: str
    kind: str
    name: str
    payer: str
    source: str | None
    file: str
    line: int
    terms: object  # the kind module's terms dataclass
    allocation: Dated[Allocation]
    start: date | None = None
    end: date | None = None
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def in_effect(self, period: Period) -> bool:
        """Does the contract's term (``start``–``end``, open if absent) overlap the period?"""
        starts_late = self.start is not None and self.start > period.end
        ended = self.end is not None and self.end < period.start
        return not (starts_late or ended)

    def allocation_for(self, period: Period) -> Allocation:
        """The allocation policy in effect on the last day of the period."""
        return self.allocation.at(period.end).value

    def result(
        self,
        period: Period,
        cents: int,
        explanation: str,
        inputs: Mapping[str, str],
        details: Mapping[str, str],
        *,
        determinable: bool = True,
    ) -> ContractResult:
        return ContractResult(
            contract_id=self.id,
            kind=self.kind,
            payer=self.payer,
            period=period.label,
            result_cents=cents,
            explanation=explanation,
            inputs=dict(inputs),
            file=self.file,
            line=self.line,
            determinable=determinable,
            details=dict(details),
        )


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def load_contracts(root: Path, diags: Diagnostics) -> dict[str, ContractSpec]:
    """Every contract under ``root/contracts``, by id; a contract with problems is left out.

    A workspace without a ``contracts/`` folder simply has no contracts.
    """
    folder = root / "contracts"
    specs: dict[str, ContractSpec] = {}
    if not folder.is_dir():
        return specs
    files = sorted(list(folder.glob("*.yaml")) + list(folder.glob("*.yml")))
    for path in files:
        display = path.relative_to(root).as_posix()
        for spec in load_contract_file(path, display, diags):
            if spec.id in specs:
                first = specs[spec.id]
                diags.add(
                    display,
                    spec.line_of("contract"),
                    f"contract id '{spec.id}' is already used by {first.file}:{first.line}",
                )
                continue
            specs[spec.id] = spec
    return dict(sorted(specs.items()))


def load_contract_file(path: Path, display: str, diags: Diagnostics) -> list[ContractSpec]:
    """The contracts of one file (those without problems)."""
    before = len(diags.items)
    data = load_yaml(path, display, diags)
    if data is None:
        if len(diags.items) == before:
            diags.add(display, None, "empty contract file")
        return []
    shape = "a contract file must be a mapping with 'contract:' and 'kind:', or 'contracts: [...]'"
    if not isinstance(data, PosDict):
        diags.add(display, getattr(data, "line", 1), shape)
        return []
    if "contracts" not in data:
        spec = _contract(data, display, diags)
        return [] if spec is None else [spec]
    top = Reader(data, display, diags, "contract file")
    items = top.raw("contracts")
    top.unknown_keys(FILE_KEYS)
    if not isinstance(items, PosList) or not items:
        top.error("contracts", "'contracts' must be a list of contracts")
        return []
    out: list[ContractSpec] = []
    for index, item in enumerate(items):
        if not isinstance(item, PosDict):
            diags.add(display, items.line_of(index), "each contract must be a mapping")
            continue
        spec = _contract(item, display, diags)
        if spec is not None:
            out.append(spec)
    return out


def _contract(node: PosDict, file: str, diags: Diagnostics) -> ContractSpec | None:
    errors_before = len(diags.errors)
    r = Reader(node, file, diags, "contract")
    cid = r.text("contract", required=True)
    if cid is None:
        return None
    r.where = f"contract '{cid}'"
    if not _ID.match(cid):
        r.error("contract", "a contract id is letters, digits, '_', '.' or '-' (no spaces)")
    kind_name = r.text("kind", required=True)
    name = r.text("name", default=cid) or cid
    payer = r.text("payer", required=True)
    source = r.text("source")
    r.text("note")
    start, end = _date(r, "start"), _date(r, "end")
    if start is not None and end is not None and end < start:
        r.error("end", f"'end' {end} is before 'start' {start}")
    allocation = _allocation(r)
    table = kinds()
    kind = table.get(kind_name or "")
    terms: object | None = None
    if kind_name is not None and kind is None:
        hint = difflib.get_close_matches(kind_name, list(table), n=1)
        extra = f" (did you mean '{hint[0]}'?)" if hint else f"; known kinds: {', '.join(table)}"
        r.error("kind", f"unknown contract kind '{kind_name}'{extra}")
    elif kind is not None:
        terms = kind.parse(r)
        r.unknown_keys(COMMON_KEYS + kind.keys)
    if kind is None or terms is None or payer is None or len(diags.errors) > errors_before:
        return None
    return ContractSpec(
        id=cid,
        kind=kind.name,
        name=name,
        payer=payer,
        source=source,
        file=file,
        line=node.line,
        terms=terms,
        allocation=allocation,
        start=start,
        end=end,
        key_lines=dict(node.key_lines),
    )


def _date(r: Reader, key: str) -> date | None:
    value = r.raw(key)
    if value is None:
        return None
    day = as_date(value)
    if day is not None:
        return day
    r.error(key, f"'{key}' must be a date YYYY-MM-DD, not '{value}'")
    return None


# --------------------------------------------------------------------------------------------
# Allocation policy
# --------------------------------------------------------------------------------------------


def _allocation(r: Reader) -> Dated[Allocation]:
    """The dated allocation policy; none declared = everything retained."""
    default = Allocation(file=r.file, line=r.line())
    if not r.has("allocation"):
        return Dated.constant("allocation", default, r.file, r.line())

    def convert(value: Any, line: int) -> Allocation | None:
        return _policy(r, value, line)

    dated = r.dated("allocation", convert, required=False)
    if dated is None:
        return Dated.constant("allocation", default, r.file, r.line())
    # a dated entry's source is the policy's source unless the policy names its own
    entries = tuple(
        replace(e, value=replace(e.value, source=e.value.source or e.source)) if e.source else e
        for e in dated.entries
    )
    return Dated(dated.name, dated.file, entries)


def _policy(r: Reader, value: Any, line: int) -> Allocation | None:
    if not isinstance(value, PosDict):
        r.diags.add(
            r.file,
            line,
            f"{r.where}: 'allocation' must be a mapping with 'shares' and 'losses' "
            "(see docs/CONTRACTS.md)",
        )
        return None
    a = Reader(value, r.file, r.diags, f"{r.where} allocation")
    errors_before = len(r.diags.errors)
    losses = a.choice("losses", LOSS_POLICIES, "retained")
    source = a.text("source")
    a.text("note")
    a.unknown_keys(ALLOCATION_KEYS)
    raw = a.raw("shares")
    shares: list[Share] = []
    if raw is not None and not isinstance(raw, PosList):
        a.error("shares", "'shares' must be a list of {to, share}")
    elif raw is not None:
        for index, item in enumerate(raw):
            share = _share(a, item, raw.line_of(index), index)
            if share is not None:
                shares.append(share)
        total = sum((s.share for s in shares), ZERO)
        if total > ONE:
            a.error("shares", f"shares sum to {total}, more than 1 (what is left is retained)")
    if len(r.diags.errors) > errors_before:
        return None
    return Allocation(tuple(shares), losses, r.file, value.line, source)


def _share(a: Reader, item: Any, line: int, index: int) -> Share | None:
    if not isinstance(item, PosDict):
        a.diags.add(a.file, line, f"{a.where}: each share must be a mapping {{to, share}}")
        return None
    s = Reader(item, a.file, a.diags, f"{a.where} share {index + 1}")
    to = s.text("to", required=True)
    share = s.number("share", required=True, minimum=ZERO, maximum=ONE)
    source = s.text("source")
    s.text("note")
    s.unknown_keys(SHARE_KEYS)
    if to is not None and not _destination_ok(to):
        options = [*SYSTEM_DESTINATIONS, "pool:"]
        hint = difflib.get_close_matches(to, options, n=1, cutoff=0.75)
        extra = ""
        if hint:
            extra = f" (did you mean '{hint[0] if hint[0] != 'pool:' else 'pool:<name>'}'?)"
        s.error(
            "to",
            f"'to' must be retained, reserve, infrastructure or pool:<name>, not '{to}'{extra}",
        )
        return None
    if to is None or share is None:
        return None
    return Share(to, share, item.line, source)


def _destination_ok(to: str) -> bool:
    if to in SYSTEM_DESTINATIONS:
        return True
    return to.startswith("pool:") and bool(_ID.match(to.removeprefix("pool:")))


# --------------------------------------------------------------------------------------------
# Shared by the kinds: terms, metrics and wording
# --------------------------------------------------------------------------------------------


def at_end(param: Dated[T], period: Period) -> T:
    """The value of a dated term in effect on the last day of the period."""
    return param.at(period.end).value


def cite(param: Dated[Any], period: Period) -> str:
    """``0.03 (contracts/x.yaml:9, CMS target price file)`` for the inputs of a result."""
    entry = param.at(period.end)
    return f"{entry.value} ({param.cite(period.end)})"


def metric(
    metrics: Mapping[str, Decimal],
    name: str,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    whole: bool = False,
    what: str = "",
) -> Decimal:
    """A metric of the ``contract_performance`` rows, checked; raises :class:`ContractInputError`."""
    if name not in metrics:
        have = ", ".join(sorted(metrics)) or "none"
        hint = difflib.get_close_matches(name, list(metrics), n=1, cutoff=0.75)
        extra = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise ContractInputError(
            name, f"missing metric '{name}' in contract_performance{extra}; rows have: {have}"
        )
    value = metrics[name]
    bad = (
        (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
        or (whole and value != value.to_integral_value())
    )
    if bad:
        raise ContractInputError(name, f"metric '{name}' is {value}; {what}")
    return value


def optional_metric(metrics: Mapping[str, Decimal], name: str, **checks: Any) -> Decimal | None:
    return metric(metrics, name, **checks) if name in metrics else None


def flag_metric(metrics: Mapping[str, Decimal], name: str, default: bool | None = None) -> bool:
    """A 1/0 metric as a boolean (``default`` when absent; None = required)."""
    if name not in metrics and default is not None:
        return default
    value = metric(metrics, name)
    if value not in (ZERO, ONE):
        raise ContractInputError(name, f"metric '{name}' is {value}; it must be 1 (yes) or 0 (no)")
    return value == ONE


def usd(cents: int) -> str:
    """``$1,234.56`` / ``−$1,234.56`` (a true minus sign, as in the rest of the explanations)."""
    text = fmt_cents(cents)
    return "−" + text[1:] if text.startswith("-") else text


def pct(rate: Decimal) -> str:
    """A declared rate without trailing zeros: ``50%``, ``0.6%``, ``−1%``."""
    value = (rate * 100).normalize()
    text = f"{abs(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{'−' if value < 0 else ''}{text}%"


def pct2(ratio: Decimal) -> str:
    """A computed ratio to two decimals: ``5.00%``."""
    value = (ratio * 100).quantize(Decimal("0.01"))
    return f"{'−' if value < 0 else ''}{abs(value)}%"


def num(value: Decimal) -> str:
    """A quantity as given, with thousands separators: ``120,000``, ``1.05``."""
    text = f"{value.normalize():,f}"
    return text.replace("-", "−")


def money_inputs(**amounts: int) -> dict[str, str]:
    """Cents as the machine form used in CSV files (``1234.56``)."""
    return {k: plain_cents(v) for k, v in amounts.items()}
