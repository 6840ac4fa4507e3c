"""Quality scorecards: measures, points and the composite score.

Points for a higher-is-better measure: 0 below its threshold, rising linearly to 1 at its
target, and (if a stretch goal is declared) on to ``stretch_points`` at the stretch rate.
Lower-is-better measures (readmissions, infections, cesarean rates) mirror this.  A measure
whose denominator is below ``min_denominator`` is left out and the remaining weights
renormalise; if nothing is left, the scorecard's declared ``fallback`` applies:

* ``group``: the same measures on the pooled numerators and denominators of the physician's
  group (the ``group`` column of ``physicians``, among physicians of the same plan);
* ``neutral``: the declared ``neutral_score``;
* ``none``: a score of 0 (nothing is paid on it).

Points are kept to 6 decimal places and the composite to 4, half up, so every figure on a
statement can be recomputed by hand.

``shrinkage: empirical_bayes`` (opt-in, per scorecard) scores each individual rate on its
empirical-Bayes estimate instead of the raw rate: the raw rate moved toward the pooled rate of
the physician's group (the ``group`` column, among the plan's physicians reporting the measure;
the plan-wide pooled rate when fewer than three physicians of the group report it) by its
unreliability, ``shrunk = R × raw + (1 − R) × group`` (see
:mod:`paycascade.compliance.reliability`).  The statement shows the raw rate, the reliability
and the shrunk rate.  Measures below their minimum denominator are still left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from paycascade.money import ONE, ZERO, fmt_decimal, fmt_pct

if TYPE_CHECKING:
    from paycascade.compliance.reliability import Spread
    from paycascade.plans.model import Frame, Physician

Direction = Literal["higher", "lower"]
Fallback = Literal["group", "neutral", "none"]
Shrinkage = Literal["none", "empirical_bayes"]
#: a group's pooled rate is the shrinkage target when at least this many of its physicians report
MIN_GROUP_FOR_TARGET = 3
_POINTS_Q = Decimal("0.000001")
_SCORE_Q = Decimal("0.0001")


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    direction: Direction
    weight: Decimal
    threshold: Decimal
    target: Decimal
    stretch: Decimal | None
    stretch_points: Decimal
    min_denominator: Decimal
    line: int
    source: str | None

    def points(self, rate: Decimal) -> Decimal:
        """Points earned at ``rate`` (see the module docstring)."""
        sign = ONE if self.direction == "higher" else -ONE
        r, thr, tgt = rate * sign, self.threshold * sign, self.target * sign
        if self.stretch is not None:
            stretch = self.stretch * sign
            if r >= stretch:
                return self.stretch_points
            if r >= tgt:
                extra = (r - tgt) / (stretch - tgt) * (self.stretch_points - ONE)
                return (ONE + extra).quantize(_POINTS_Q, ROUND_HALF_UP)
        if r >= tgt:
            return ONE
        if r < thr:
            return ZERO
        if tgt == thr:
            return ONE
        return ((r - thr) / (tgt - thr)).quantize(_POINTS_Q, ROUND_HALF_UP)

    def describe_points(self, rate: Decimal) -> str:
        return f"rate {fmt_pct(rate.quantize(_SCORE_Q, ROUND_HALF_UP))} ({self._goals})"

    @cached_property
    def _goals(self) -> str:
        """The measure's direction and goals as every physician's explanation states them."""
        dir_word = "≥" if self.direction == "higher" else "≤"
        goals = f"threshold {fmt_pct(self.threshold)}, target {fmt_pct(self.target)}"
        if self.stretch is not None:
            goals += (
                f", stretch {fmt_pct(self.stretch)} = {fmt_decimal(self.stretch_points, 2)} pts"
            )
        return f"{dir_word} is better; {goals}"


@dataclass(frozen=True)
class MeasureScore:
    measure: str
    label: str
    direction: Direction
    weight: Decimal
    numerator: Decimal
    denominator: Decimal
    exclusions: Decimal
    rate: Decimal | None
    points: Decimal | None
    counted: bool
    reason: str
    threshold: Decimal
    target: Decimal
    stretch: Decimal | None
    line: int
    # with shrinkage: empirical_bayes (``rate`` is then the shrunk rate the points are on)
    raw_rate: Decimal | None = None
    shrunk_rate: Decimal | None = None
    reliability: Decimal | None = None
    shrink_target: Decimal | None = None

    def as_dict(self) -> dict[str, object]:
        out = self._base_dict()
        if self.reliability is not None:
            out["raw_rate"] = None if self.raw_rate is None else str(_q(self.raw_rate))
            out["shrunk_rate"] = None if self.shrunk_rate is None else str(_q(self.shrunk_rate))
            out["reliability"] = str(self.reliability)
            out["shrink_target"] = (
                None if self.shrink_target is None else str(_q(self.shrink_target))
            )
        return out

    def _base_dict(self) -> dict[str, object]:
        return {
            "measure": self.measure,
            "label": self.label,
            "direction": self.direction,
            "weight": str(self.weight),
            "numerator": str(self.numerator),
            "denominator": str(self.denominator),
            "exclusions": str(self.exclusions),
            "rate": None if self.rate is None else str(self.rate.quantize(_SCORE_Q, ROUND_HALF_UP)),
            "threshold": str(self.threshold),
            "target": str(self.target),
            "stretch": None if self.stretch is None else str(self.stretch),
            "points": None if self.points is None else str(self.points),
            "counted": self.counted,
            "reason": self.reason,
            "plan_line": self.line,
        }


def _q(value: Decimal) -> Decimal:
    return value.quantize(_SCORE_Q, ROUND_HALF_UP)


@dataclass(frozen=True)
class ScoreResult:
    scorecard: str
    composite: Decimal
    basis: Literal["individual", "group", "neutral", "none"]
    measures: tuple[MeasureScore, ...]
    explanation: str

    def as_dict(self) -> dict[str, object]:
        return {
            "scorecard": self.scorecard,
            "composite": str(self.composite),
            "basis": self.basis,
            "explanation": self.explanation,
            "measures": [m.as_dict() for m in self.measures],
        }


@dataclass
class ScoringContext:
    """A scorecard's frame-wide inputs, computed once per frame (see ``Scorecard.context``)."""

    group_totals: dict[str, dict[str, tuple[Decimal, Decimal, Decimal]]]
    peers: dict[str, tuple[Spread, dict[str, tuple[Decimal, int]]]] | None
    #: group → composite of its pooled totals (the group fallback), filled as needed
    group_composites: dict[str, Decimal | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Scorecard:
    id: str
    file: str
    line: int
    measures: tuple[Measure, ...]
    fallback: Fallback
    neutral_score: Decimal
    shrinkage: Shrinkage = "none"

    def context(self, frame: Frame) -> ScoringContext:
        """What every physician's score on this card reads of the whole frame: the groups'
        pooled totals (the group fallback) and the peers' spread (shrinkage)."""
        peers = (
            self.shrinkage_inputs(frame.physicians, frame)
            if self.shrinkage == "empirical_bayes"
            else None
        )
        return ScoringContext(self._group_totals(frame.physicians, frame), peers)

    def shrinkage_inputs(
        self, physicians: Sequence[Physician], frame: Frame
    ) -> dict[str, tuple[Spread, dict[str, tuple[Decimal, int]]]]:
        """Per measure: the peers' spread and, per group, (pooled rate, physicians reporting)."""
        from paycascade.compliance.reliability import spread

        out: dict[str, tuple[Spread, dict[str, tuple[Decimal, int]]]] = {}
        for m in self.measures:
            rows: list[tuple[Decimal, Decimal]] = []
            groups: dict[str, list[tuple[Decimal, Decimal]]] = {}
            for p in physicians:
                row = frame.data.quality.get((p.npi, m.id))
                if row is None or row[1] <= 0:
                    continue
                rows.append((row[0], row[1]))
                groups.setdefault(p.group, []).append((row[0], row[1]))
            pooled = {
                g: (sum((x for x, _ in r), ZERO) / sum((n for _, n in r), ZERO), len(r))
                for g, r in groups.items()
            }
            out[m.id] = (spread(rows), pooled)
        return out

    def _measure_scores(
        self,
        rows: dict[str, tuple[Decimal, Decimal, Decimal]],
        shrink: dict[str, tuple[Spread, Decimal]] | None = None,
    ) -> list[MeasureScore]:
        scores = []
        for m in self.measures:
            num, den, exc = rows.get(m.id, (ZERO, ZERO, ZERO))
            adjust = None if shrink is None else shrink.get(m.id)
            if adjust is not None and m.id in rows and den > 0 and den >= m.min_denominator:
                scores.append(self._shrunk_score(m, num, den, exc, *adjust))
                continue
            if m.id not in rows:
                rate, pts, counted, reason = None, None, False, "no data reported"
            elif den < m.min_denominator or den == 0:
                rate = num / den if den else None
                pts, counted = None, False
                reason = (
                    f"denominator {fmt_decimal(den, 0)} below the minimum of "
                    f"{fmt_decimal(m.min_denominator, 0)}: left out, weights renormalised"
                )
            else:
                rate = num / den
                pts = m.points(rate)
                counted = True
                reason = f"{m.describe_points(rate)} → {pts.normalize():f} pts"
            scores.append(
                MeasureScore(
                    m.id,
                    m.label,
                    m.direction,
                    m.weight,
                    num,
                    den,
                    exc,
                    rate,
                    pts,
                    counted,
                    reason,
                    m.threshold,
                    m.target,
                    m.stretch,
                    m.line,
                )
            )
        return scores

    @staticmethod
    def _shrunk_score(
        m: Measure,
        num: Decimal,
        den: Decimal,
        exc: Decimal,
        peers: Spread,
        target: Decimal,
    ) -> MeasureScore:
        from paycascade.compliance.reliability import shrink

        raw = num / den
        reliability = peers.reliability(den)
        rate = shrink(raw, reliability, target)
        pts = m.points(rate)
        reason = (
            f"raw rate {fmt_pct(_q(raw))}, reliability {reliability} → empirical-Bayes rate "
            f"{fmt_pct(_q(rate))} (shrunk toward {fmt_pct(_q(target))}); "
            f"{m.describe_points(rate)} → {pts.normalize():f} pts"
        )
        return MeasureScore(
            m.id,
            m.label,
            m.direction,
            m.weight,
            num,
            den,
            exc,
            rate,
            pts,
            True,
            reason,
            m.threshold,
            m.target,
            m.stretch,
            m.line,
            raw_rate=raw,
            shrunk_rate=rate,
            reliability=reliability,
            shrink_target=target,
        )

    @staticmethod
    def _composite(scores: Sequence[MeasureScore]) -> Decimal | None:
        counted = [s for s in scores if s.counted and s.points is not None]
        weight = sum((s.weight for s in counted), ZERO)
        if not counted or weight == 0:
            return None
        total = sum((s.weight * (s.points or ZERO) for s in counted), ZERO)
        return (total / weight).quantize(_SCORE_Q, ROUND_HALF_UP)

    def _group_totals(
        self, physicians: Sequence[Physician], frame: Frame
    ) -> dict[str, dict[str, tuple[Decimal, Decimal, Decimal]]]:
        totals: dict[str, dict[str, tuple[Decimal, Decimal, Decimal]]] = {}
        for p in physicians:
            group = totals.setdefault(p.group, {})
            for m in self.measures:
                row = frame.data.quality.get((p.npi, m.id))
                if row is None:
                    continue
                n0, d0, e0 = group.get(m.id, (ZERO, ZERO, ZERO))
                group[m.id] = (n0 + row[0], d0 + row[1], e0 + row[2])
        return totals

    @staticmethod
    def _shrink_for(
        physician: Physician,
        peers: dict[str, tuple[Spread, dict[str, tuple[Decimal, int]]]] | None,
    ) -> dict[str, tuple[Spread, Decimal]] | None:
        """Per measure: the peers' spread and this physician's shrinkage target (None: off)."""
        if peers is None:
            return None
        out: dict[str, tuple[Spread, Decimal]] = {}
        for mid, (spread_, groups) in peers.items():
            rate, count = groups.get(physician.group, (spread_.rate, 0))
            out[mid] = (spread_, rate if count >= MIN_GROUP_FOR_TARGET else spread_.rate)
        return out

    def score_physician(
        self, physician: Physician, frame: Frame, context: ScoringContext
    ) -> ScoreResult:
        """One physician's score (the same whichever other physicians of the frame are scored)."""
        peers = context.peers
        rows = {
            m.id: frame.data.quality[(physician.npi, m.id)]
            for m in self.measures
            if (physician.npi, m.id) in frame.data.quality
        }
        scores = self._measure_scores(rows, self._shrink_for(physician, peers))
        composite = self._composite(scores)
        if composite is not None:
            used = [s for s in scores if s.counted]
            parts = " + ".join(
                f"{s.weight.normalize():f}×{(s.points or ZERO).normalize():f}" for s in used
            )
            weight = sum((s.weight for s in used), ZERO)
            text = f"composite = ({parts}) ÷ {weight.normalize():f} = {composite}"
            return ScoreResult(self.id, composite, "individual", tuple(scores), text)
        if self.fallback == "group":
            group = physician.group
            if group not in context.group_composites:
                group_scores = self._measure_scores(context.group_totals.get(group, {}))
                context.group_composites[group] = self._composite(group_scores)
            group_composite = context.group_composites[group]
            if group_composite is not None:
                text = (
                    f"no measure met its minimum denominator; group '{physician.group}' "
                    f"composite {group_composite} used (fallback: group)"
                )
                return ScoreResult(self.id, group_composite, "group", tuple(scores), text)
            text = (
                f"no measure met its minimum denominator, nor did group '{physician.group}'; "
                "score 0"
            )
            return ScoreResult(self.id, ZERO, "none", tuple(scores), text)
        if self.fallback == "neutral":
            text = (
                "no measure met its minimum denominator; neutral score "
                f"{self.neutral_score} used (fallback: neutral)"
            )
            return ScoreResult(self.id, self.neutral_score, "neutral", tuple(scores), text)
        text = "no measure met its minimum denominator; score 0 (fallback: none)"
        return ScoreResult(self.id, ZERO, "none", tuple(scores), text)
