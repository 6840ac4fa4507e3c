"""What a plan is at run time: its components, and the frame of physicians they compute over.

A component computes on columns: one list entry per physician of the plan, for all of them at
once, segment by segment.  A *segment* is a stretch of the period in which none of the plan's
dated parameters changes, so a mid-year change of conversion factor gives two segments and two
explained statement lines.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from paycascade.ledger import (
    SYSTEM_COMPENSATION,
    Alignment,
    Posting,
    physician_account,
)
from paycascade.money import ZERO, RoundingMode, to_cents
from paycascade.periods import Period, overlap_days

if TYPE_CHECKING:
    from paycascade.contracts.base import PoolFunding
    from paycascade.plans.scorecard import Scorecard, ScoreResult, ScoringContext


@dataclass(frozen=True)
class Segment:
    index: int
    start: date
    end: date  # inclusive
    buckets: tuple[int, ...]  # indexes of the pipeline's date buckets inside this segment

    @property
    def label(self) -> str:
        return f"{self.start:%b} {self.start.day}–{self.end:%b} {self.end.day}, {self.end.year}"


@dataclass
class PlanData:
    """Per-physician aggregates of the run, keyed for quick lookup (only aggregates, never lines)."""

    bucket_starts: list[date]
    wrvu: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    wrvu_lines: dict[str, int] = field(default_factory=dict)
    app_wrvu: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    member_months: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    risk_member_months: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    # per npi: (bucket, shift_type, shifts, hours)
    shifts: dict[str, list[tuple[int, str, Decimal, Decimal]]] = field(default_factory=dict)
    # per npi: (bucket, kind, hours)
    hours: dict[str, list[tuple[int, str, Decimal]]] = field(default_factory=dict)
    # per npi: (bucket, activity, quantity)
    activities: dict[str, list[tuple[int, str, Decimal]]] = field(default_factory=dict)
    quality: dict[tuple[str, str], tuple[Decimal, Decimal, Decimal]] = field(default_factory=dict)
    stipends: dict[str, list[tuple[str, Decimal | None, date | None, date | None]]] = field(
        default_factory=dict
    )
    # per npi: Σ expected (risk-adjusted benchmark) and Σ actual cost of the attributed panel,
    # from the optional attribution columns expected_cost / actual_cost
    expected_cost: dict[str, Decimal] = field(default_factory=dict)
    actual_cost: dict[str, Decimal] = field(default_factory=dict)
    # per npi: (venture, ownership share 0..1) from the ownership table
    ownership: dict[str, list[tuple[str, Decimal]]] = field(default_factory=dict)
    # per npi: effort fractions {"clinical", "research", "teaching", "admin", "grant_funded"}
    effort: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    # pool account ("pool:<name>") -> what contracts put into it this period
    pools: dict[str, PoolFunding] = field(default_factory=dict)

    def sum_buckets(
        self, table: Mapping[tuple[str, int], Decimal], npi: str, seg: Segment
    ) -> Decimal:
        return sum((table.get((npi, b), ZERO) for b in seg.buckets), ZERO)


@dataclass(frozen=True)
class Physician:
    npi: str
    name: str
    specialty: str
    plan: str
    fte: Decimal
    clinical_fte: Decimal
    start_date: date | None
    end_date: date | None
    group: str
    provider_type: str
    row: int  # spreadsheet row in the physicians table
    # the employment agreement authorizes pass-through of contract savings (physicians column)
    pass_through_authorized: bool = False


@dataclass
class Frame:
    """All physicians of one plan, the period, its segments and the results so far."""

    plan_id: str
    plan_file: str
    physicians: list[Physician]
    period: Period
    segments: list[Segment]
    data: PlanData
    rounding: RoundingMode
    scorecards: Mapping[str, Scorecard]
    # component id -> per segment -> per physician cents (what the component paid)
    results: dict[str, list[list[int]]] = field(default_factory=dict)
    # extra named results such as "production.gross"
    extra: dict[str, list[list[int]]] = field(default_factory=dict)
    # scorecard id -> physician index -> score (a physician is scored when a component asks)
    score_cache: dict[str, dict[int, ScoreResult]] = field(default_factory=dict)
    score_context: dict[str, ScoringContext] = field(default_factory=dict)
    # npi -> scorecard id -> the score a component actually used for that physician
    used_scores: dict[str, dict[str, ScoreResult]] = field(default_factory=dict)
    group_physicians: Sequence[Physician] = ()

    @property
    def npis(self) -> list[str]:
        return [p.npi for p in self.physicians]

    def active_days(self, seg: Segment) -> list[int]:
        return [overlap_days(seg.start, seg.end, p.start_date, p.end_date) for p in self.physicians]

    def cents(self, amount: Decimal) -> int:
        return to_cents(amount, self.rounding)

    def basis(self, names: Sequence[str], seg: Segment) -> list[int]:
        """Σ of the named results (components or extras like ``production.gross``) per physician."""
        totals = [0] * len(self.physicians)
        for name in names:
            source = self.results.get(name) or self.extra.get(name)
            if source is None:
                continue
            for i, value in enumerate(source[seg.index]):
                totals[i] += value
        return totals

    def scores(self, scorecard: str) -> list[ScoreResult]:
        """Every physician's score on ``scorecard``, in frame order."""
        return [self.score_of(scorecard, i) for i in range(len(self.physicians))]

    def score_of(self, scorecard: str, index: int) -> ScoreResult:
        """Physician ``index``'s score on ``scorecard``, computed once per frame: a card chosen
        by specialty scores only the physicians it is chosen for."""
        cache = self.score_cache.setdefault(scorecard, {})
        if index not in cache:
            card = self.scorecards[scorecard]
            if scorecard not in self.score_context:
                self.score_context[scorecard] = card.context(self)
            context = self.score_context[scorecard]
            cache[index] = card.score_physician(self.physicians[index], self, context)
        return cache[index]


@dataclass(frozen=True)
class Spec(ABC):
    """What every component declaration has."""

    kind: ClassVar[str] = ""
    default_alignment: ClassVar[Alignment] = "volume"
    quinn: ClassVar[str] = ""
    needs: ClassVar[frozenset[str]] = frozenset()

    id: str
    label: str
    file: str
    line: int
    alignment: Alignment
    source: str | None

    def refs(self) -> list[str]:
        """Names of earlier components this one reads."""
        return []

    def breakpoints(self) -> list[date]:
        return []

    def scorecard_ids(self) -> list[str]:
        return []

    @abstractmethod
    def compute(self, frame: Frame) -> list[Posting]:
        """Postings for every physician of the frame, all segments."""

    # -- helpers for concrete components -------------------------------------------------

    def pay(
        self,
        frame: Frame,
        physician: Physician,
        seg: Segment,
        cents: int,
        explanation: str,
        inputs: Mapping[str, str],
        *,
        kind: str = "earned",
        line: int | None = None,
    ) -> Posting:
        """A posting from the compensation budget to the physician (or back, if negative)."""
        account = physician_account(physician.npi)
        source, destination = SYSTEM_COMPENSATION, account
        if cents < 0:
            source, destination, cents = account, SYSTEM_COMPENSATION, -cents
        return self.flow(
            frame,
            physician.npi,
            seg,
            source,
            destination,
            cents,
            explanation,
            inputs,
            kind=kind,
            line=line,
        )

    def flow(
        self,
        frame: Frame,
        npi: str | None,
        seg: Segment,
        source: str,
        destination: str,
        cents: int,
        explanation: str,
        inputs: Mapping[str, str],
        *,
        kind: str,
        alignment: Alignment | None = None,
        line: int | None = None,
    ) -> Posting:
        return Posting(
            npi=npi,
            source=source,
            destination=destination,
            component=self.id,
            kind=kind,
            alignment=alignment or self.alignment,
            quinn=self.quinn,
            amount_cents=cents,
            explanation=explanation,
            plan=frame.plan_id,
            plan_file=self.file,
            plan_line=line or self.line,
            segment_start=seg.start,
            segment_end=seg.end,
            inputs=dict(inputs),
        )

    def record(self, frame: Frame, per_segment: list[list[int]], name: str | None = None) -> None:
        if name is None:
            frame.results[self.id] = per_segment
        else:
            frame.extra[f"{self.id}.{name}"] = per_segment
