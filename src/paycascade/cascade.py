"""The cascade: payer → contract → system (retained, reserve, infrastructure) / pool → physician.

Every contract result is booked as postings in the one ledger:

1. settlement: ``payer:<payer>`` → ``contract:<id>`` (a loss flows the other way);
2. allocation: ``contract:<id>`` → ``system:retained`` / ``system:reserve`` /
   ``system:infrastructure`` / ``pool:<name>``, by the contract's declared shares (a loss the
   system keeps: ``system:retained`` → ``contract:<id>``);
3. distribution: plan components (shared_savings, capitation, gainsharing) move pool money to
   physicians; whatever no component distributes is swept to ``system:retained`` here.

So the pass-through ratio of a contract is a query: what reached physician accounts ÷ the
contract's result.  Every contract and pool account balances to zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paycascade.contracts.base import (
    Allocation,
    ContractResult,
    PoolFunding,
    contract_account,
    destination_account,
    payer_account,
)
from paycascade.ledger import SYSTEM_RETAINED, Posting, balance
from paycascade.money import fmt_cents, fmt_pct, plain_cents
from paycascade.periods import Period

QUINN_BY_KIND = {
    "mssp": "shared_savings",
    "shared_savings": "shared_savings",
    "p4p": "pay_for_performance",
    "bundle": "episode",
    "capitation": "capitation",
    "global_budget": "global_budget",
    "gainsharing": "global_budget",
}
CONTRACT_KINDS = ("contract_settlement", "contract_allocation", "pool_unallocated")


@dataclass(frozen=True)
class Booked:
    postings: list[Posting]
    pools: dict[str, PoolFunding]


def _posting(
    result: ContractResult,
    period: Period,
    source: str,
    destination: str,
    cents: int,
    kind: str,
    explanation: str,
    inputs: Mapping[str, str] | None = None,
) -> Posting:
    return Posting(
        npi=None,
        source=source,
        destination=destination,
        component=result.contract_id,
        kind=kind,
        alignment="none",
        quinn=QUINN_BY_KIND.get(result.kind, result.kind),
        amount_cents=cents,
        explanation=explanation,
        plan="",
        plan_file=result.file,
        plan_line=result.line,
        segment_start=period.start,
        segment_end=period.end,
        inputs=dict(inputs or result.inputs),
    )


def book_contracts(
    results: Sequence[ContractResult], allocations: Mapping[str, Allocation], period: Period
) -> Booked:
    """Settlement and allocation postings for every contract, and the pools they fund."""
    postings: list[Posting] = []
    pool_parts: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for r in results:
        account = contract_account(r.contract_id)
        payer = payer_account(r.payer)
        amount = r.result_cents
        if amount >= 0:
            postings.append(
                _posting(r, period, payer, account, amount, "contract_settlement", r.explanation)
            )
        else:
            postings.append(
                _posting(r, period, account, payer, -amount, "contract_settlement", r.explanation)
            )
        allocation = allocations.get(r.contract_id, Allocation())
        for destination, cents, share in allocation.split(amount):
            target = destination_account(destination)
            if cents == 0 and destination != "retained":
                continue
            what = "passed to" if destination.startswith("pool:") else "to"
            policy = (
                "declared allocation"
                if allocation.shares
                else "no allocation declared: all retained (status quo)"
            )
            if amount < 0 and allocation.losses != "pass_through":
                policy = "losses are retained by the system"
            text = f"{fmt_pct(share)} of {fmt_cents(amount)} {what} {target} = {fmt_cents(cents)} ({policy})"
            inputs = {
                "share": str(share),
                "result": plain_cents(amount),
                "policy_file": allocation.file,
                "policy_line": str(allocation.line),
            }
            if cents >= 0:
                postings.append(
                    _posting(r, period, account, target, cents, "contract_allocation", text, inputs)
                )
            else:
                postings.append(
                    _posting(
                        r, period, target, account, -cents, "contract_allocation", text, inputs
                    )
                )
            if destination.startswith("pool:"):
                pool_parts[target].append(
                    (r.contract_id, cents, f"{r.contract_id} {fmt_cents(cents)}")
                )
    pools = {pool: PoolFunding.combine(pool, parts) for pool, parts in sorted(pool_parts.items())}
    return Booked(postings, pools)


def sweep_pools(
    postings: Sequence[Posting],
    pools: Mapping[str, PoolFunding],
    period: Period,
    results: Sequence[ContractResult],
) -> list[Posting]:
    """Pools funded by contracts that no plan component emptied go to ``system:retained``."""
    by_id = {r.contract_id: r for r in results}
    accounts = balance(postings)
    sweeps: list[Posting] = []
    for pool, funding in pools.items():
        left = accounts.get(pool, 0)
        if left == 0:
            continue
        first = by_id[funding.sources[0][0]] if funding.sources else None
        if first is None:
            continue
        text = f"{fmt_cents(left)} in {pool} not distributed by any plan component: retained by the system"
        if left > 0:
            sweeps.append(
                _posting(
                    first,
                    period,
                    pool,
                    SYSTEM_RETAINED,
                    left,
                    "pool_unallocated",
                    text,
                    {"pool": pool},
                )
            )
        else:
            sweeps.append(
                _posting(
                    first,
                    period,
                    SYSTEM_RETAINED,
                    pool,
                    -left,
                    "pool_unallocated",
                    text,
                    {"pool": pool},
                )
            )
    return sweeps


def _contract_pools(pools: Mapping[str, PoolFunding]) -> set[str]:
    return set(pools)


def in_cascade(p: Posting, pools: set[str]) -> bool:
    accounts = (p.source, p.destination)
    return any(a.startswith(("contract:", "payer:")) or a in pools for a in accounts)


def cascade_rows(postings: Iterable[Posting], pools: Mapping[str, PoolFunding]) -> list[list[str]]:
    """``source, destination, kind, amount``: every flow of contract money, summed per pair."""
    names = _contract_pools(pools)
    sums: dict[tuple[str, str, str], int] = defaultdict(int)
    for p in postings:
        if in_cascade(p, names):
            sums[(p.source, p.destination, p.kind)] += p.amount_cents
    order = {"contract_settlement": 0, "contract_allocation": 1}
    keys = sorted(sums, key=lambda k: (order.get(k[2], 2), k[0], k[1], k[2]))
    return [[s, d, plain_cents(sums[(s, d, k)]), k] for s, d, k in keys]


CASCADE_COLUMNS = ["source", "destination", "amount", "kind"]
CONTRACT_COLUMNS = [
    "contract_id",
    "period",
    "kind",
    "payer",
    "result",
    "determinable",
    "retained",
    "reserve",
    "infrastructure",
    "to_pools",
    "to_physicians",
    "pass_through_ratio",
    "explanation",
    "inputs",
    "file",
    "line",
]


def pass_through(
    results: Sequence[ContractResult], postings: Sequence[Posting], pools: Mapping[str, PoolFunding]
) -> dict[str, dict[str, int]]:
    """Per contract: cents to each system destination, to pools and (pro rata) to physicians."""
    to_physicians_by_pool: dict[str, int] = defaultdict(int)
    for p in postings:
        if p.source in pools and p.destination.startswith("physician:"):
            to_physicians_by_pool[p.source] += p.amount_cents
        elif p.destination in pools and p.source.startswith("physician:"):
            to_physicians_by_pool[p.destination] -= p.amount_cents
    out: dict[str, dict[str, int]] = {}
    for r in results:
        row = {"retained": 0, "reserve": 0, "infrastructure": 0, "to_pools": 0, "to_physicians": 0}
        account = contract_account(r.contract_id)
        for p in postings:
            if p.kind != "contract_allocation" or account not in (p.source, p.destination):
                continue
            sign = 1 if p.source == account else -1
            other = p.destination if sign == 1 else p.source
            cents = sign * p.amount_cents
            if other.startswith("pool:"):
                row["to_pools"] += cents
                funding = pools.get(other)
                if funding is not None and funding.amount_cents:
                    share = (
                        Decimal(to_physicians_by_pool.get(other, 0)) * cents / funding.amount_cents
                    )
                    row["to_physicians"] += int(share.to_integral_value(ROUND_HALF_UP))
            else:
                row[other.removeprefix("system:")] = (
                    row.get(other.removeprefix("system:"), 0) + cents
                )
        out[r.contract_id] = row
    return out


def ratio(part: int, whole: int) -> str:
    if whole == 0:
        return ""
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def contract_rows(
    results: Sequence[ContractResult], flows: Mapping[str, Mapping[str, int]]
) -> list[list[str]]:
    import json

    rows = []
    for r in results:
        f = flows[r.contract_id]
        rows.append(
            [
                r.contract_id,
                r.period,
                r.kind,
                r.payer,
                plain_cents(r.result_cents),
                "true" if r.determinable else "false",
                plain_cents(f["retained"]),
                plain_cents(f["reserve"]),
                plain_cents(f["infrastructure"]),
                plain_cents(f["to_pools"]),
                plain_cents(f["to_physicians"]),
                ratio(f["to_physicians"], r.result_cents),
                r.explanation,
                json.dumps(dict(r.inputs), sort_keys=True, separators=(",", ":")),
                r.file,
                str(r.line),
            ]
        )
    return rows


class LineOfSight:
    """What each contract earned, where it went, and each physician's part of it, with why:
    the contract-level parts computed once per run, the physician's part per call."""

    def __init__(
        self,
        results: Sequence[ContractResult],
        pools: Mapping[str, PoolFunding],
        flows: Mapping[str, Mapping[str, int]],
    ) -> None:
        self.pools = pools
        self.contracts: list[tuple[dict[str, Any], list[tuple[str, int, int]]]] = []
        for r in results:
            f = flows[r.contract_id]
            head: dict[str, Any] = {
                "contract": r.contract_id,
                "kind": r.kind,
                "payer": r.payer,
                "result": plain_cents(r.result_cents),
                "explanation": r.explanation,
                "retained": plain_cents(f["retained"] + f["reserve"] + f["infrastructure"]),
                "to_physicians": plain_cents(f["to_physicians"]),
                "pass_through_ratio": ratio(f["to_physicians"], r.result_cents),
            }
            # (pool, what this contract put in it, what the pool received in all)
            funded = []
            for pool, funding in pools.items():
                from_contract = sum(c for cid, c in funding.sources if cid == r.contract_id)
                if from_contract != 0:
                    funded.append((pool, from_contract, funding.amount_cents))
            self.contracts.append((head, funded))
        self._outside: list[dict[str, Any]] | None = None

    def for_physician(self, npi: str, postings: Sequence[Posting]) -> list[dict[str, Any]]:
        """``postings``: at least this physician's (others are ignored).

        A physician with no posting to or from a pool gets the same entries as every other
        such physician (no share, the same reason): built once and returned again (read-only)."""
        account = f"physician:{npi}"
        mine: dict[str, list[Posting]] = defaultdict(list)
        for p in postings:
            if p.npi == npi and (p.source in self.pools or p.destination in self.pools):
                mine[p.source if p.source in self.pools else p.destination].append(p)
        if not mine:
            if self._outside is None:
                self._outside = self._entries(account, mine)
            return self._outside
        return self._entries(account, mine)

    def _entries(self, account: str, mine: Mapping[str, list[Posting]]) -> list[dict[str, Any]]:
        out = []
        for head, funded in self.contracts:
            entry = {**head, "pools": []}
            for pool, from_contract, received in funded:
                lines = mine.get(pool, [])
                net = sum(
                    p.amount_cents if p.destination == account else -p.amount_cents
                    for p in lines
                    if account in (p.source, p.destination)
                )
                share = 0
                if received:
                    share = int(
                        (Decimal(net) * from_contract / received).to_integral_value(ROUND_HALF_UP)
                    )
                reason = (
                    "; ".join(p.explanation for p in lines)
                    or "your plan does not share in this pool"
                )
                entry["pools"].append(
                    {
                        "pool": pool,
                        "from_contract": plain_cents(from_contract),
                        "your_share": plain_cents(share),
                        "reason": reason,
                    }
                )
            out.append(entry)
        return out
