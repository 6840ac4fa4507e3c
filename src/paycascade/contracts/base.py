"""Payer contracts in a workspace: their declaration, their settlement and their allocation.

A contract is settled for a period from the ``contract_performance`` table (and, for bundles,
the ``episodes`` table) into a :class:`ContractResult`: a signed amount in integer cents (+ the
payer pays the system, − the system owes the payer), with its explanation and inputs.

The result then enters the system and is split by the contract's declared
:class:`Allocation` (dated, with sources): shares retained as operating revenue, held in
reserve, spent on infrastructure, or passed to named physician pools.  What the shares leave
over is retained.  Losses are retained by the system unless the allocation declares
``losses: pass_through`` (downside risk passed to physicians, flagged for compliance review).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from paycascade.money import allocate
from paycascade.periods import Period

#: Where an allocation share can go (besides ``pool:<name>``).
SYSTEM_DESTINATIONS = ("retained", "reserve", "infrastructure")


def contract_account(contract_id: str) -> str:
    return f"contract:{contract_id}"


def payer_account(payer: str) -> str:
    return f"payer:{payer}"


def destination_account(destination: str) -> str:
    """``retained`` → ``system:retained``; ``pool:pcp`` stays ``pool:pcp``."""
    return destination if destination.startswith("pool:") else f"system:{destination}"


@dataclass(frozen=True)
class Share:
    destination: str  # "retained" | "reserve" | "infrastructure" | "pool:<name>"
    share: Decimal  # 0..1
    line: int
    source: str | None = None


@dataclass(frozen=True)
class Allocation:
    """How a contract's result is split.  Shares sum to ≤ 1; the rest is retained."""

    shares: tuple[Share, ...] = ()
    losses: str = "retained"  # or "pass_through"
    file: str = ""
    line: int = 0
    source: str | None = None

    def split(self, result_cents: int) -> list[tuple[str, int, Decimal]]:
        """(destination, cents, share) for every share, then the retained remainder.

        Positive results are split by share with largest-remainder cents (ties to the first
        listed); the remainder after all shares is retained.  A negative result (a loss) is
        retained whole unless ``losses`` is ``pass_through``, then it is split the same way.
        """
        if result_cents < 0 and self.losses != "pass_through":
            return [("retained", result_cents, Decimal(1))]
        declared = sum((s.share for s in self.shares), Decimal(0))
        rest = Decimal(1) - declared
        weights = [s.share for s in self.shares] + [rest]
        parts = allocate(result_cents, weights)
        out = [
            (s.destination, cents, s.share) for s, cents in zip(self.shares, parts, strict=False)
        ]
        out.append(("retained", parts[-1], rest))
        merged: dict[str, tuple[int, Decimal]] = {}
        for dest, cents, share in out:
            c0, s0 = merged.get(dest, (0, Decimal(0)))
            merged[dest] = (c0 + cents, s0 + share)
        return [(d, c, s) for d, (c, s) in merged.items()]


@dataclass(frozen=True)
class ContractResult:
    """The settlement of one contract for one period."""

    contract_id: str
    kind: str
    payer: str
    period: str
    result_cents: int  # + payer pays the system; − the system owes the payer
    explanation: str
    inputs: Mapping[str, str]
    file: str
    line: int
    determinable: bool = True
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PoolFunding:
    """What a physician pool received from contracts this period (signed cents)."""

    pool: str  # "pool:<name>"
    amount_cents: int
    sources: tuple[tuple[str, int], ...]  # (contract id, cents)
    explanation: str

    @staticmethod
    def combine(pool: str, parts: Sequence[tuple[str, int, str]]) -> PoolFunding:
        total = sum(c for _, c, _ in parts)
        text = "; ".join(t for _, _, t in parts)
        return PoolFunding(pool, total, tuple((cid, c) for cid, c, _ in parts), text)


@dataclass(frozen=True)
class Episode:
    """One episode of a bundled-payment contract (from the ``episodes`` table)."""

    contract_id: str
    episode_id: str
    npi: str | None
    start: date
    actual_cents: int
    episode_type: str | None = None


@dataclass(frozen=True)
class EpisodeVolume:
    """A bundle contract's episodes in a period: how many, and their actual spend in cents.

    All a settlement reads of the episodes; the run sums them on Arrow columns
    (``runner._episode_volumes``), :func:`episode_volumes` from rows."""

    count: int
    actual_cents: int


def episode_volumes(episodes: Iterable[Episode], period: Period) -> dict[str, EpisodeVolume]:
    """Contract id → the volume of its episodes starting in ``period`` (contracts with none left
    out)."""
    counts: dict[str, list[int]] = {}
    for e in episodes:
        if period.contains(e.start):
            entry = counts.setdefault(e.contract_id, [0, 0])
            entry[0] += 1
            entry[1] += e.actual_cents
    return {cid: EpisodeVolume(n, cents) for cid, (n, cents) in counts.items()}
