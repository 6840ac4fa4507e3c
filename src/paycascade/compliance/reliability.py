"""Reliability of individual measure rates, and empirical-Bayes shrinkage toward the group.

For a proportion measure reported by physicians ``i`` with denominators ``n_i`` and numerators
``x_i`` (pooled rate ``p = Σx / Σn``), the between-physician variance of the true rates is
estimated by the method of moments (the one-way ANOVA estimator of a beta-binomial model)::

    σ²_b = max(0, [Σ n_i (x_i/n_i − p)² − (k − 1) p (1 − p)] / [N − Σ n_i² / N])

with ``k`` physicians and ``N = Σ n_i``.  The reliability of physician ``i``'s rate is the share
of its variance that is signal (Adams, RAND TR-653, 2009)::

    R_i = σ²_b / (σ²_b + p (1 − p) / n_i)

which is the Spearman-Brown prophecy for ``n_i`` patients from the single-patient
reliability ``r1 = σ²_b / (σ²_b + p (1 − p))`` (up to the ``(n − 1)`` term).  The denominator
needed for a reliability of 0.70 is ``n70 = 0.70 p (1 − p) / (0.30 σ²_b)``.

The empirical-Bayes (shrunk) rate moves the raw rate toward the group's rate by its unreliability::

    shrunk_i = R_i × raw_i + (1 − R_i) × group_rate

so a large denominator (R near 1) barely moves and a tiny one moves most of the way to the
group.  All arithmetic is exact decimal at 28 digits; reliabilities are kept to 4 places and
shrunk rates to 6, half up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paycascade.compliance.findings import Finding
    from paycascade.plans.loader import Plan
    from paycascade.plans.model import Physician

ZERO = Decimal(0)
ONE = Decimal(1)
TARGET = Decimal("0.70")
MIN_PHYSICIANS = 5
_R_Q = Decimal("0.0001")
_RATE_Q = Decimal("0.000001")


@dataclass(frozen=True)
class Spread:
    """What the peers of one measure say: pooled rate and between-physician variance."""

    rate: Decimal
    variance: Decimal  # σ²_b
    physicians: int

    def reliability(self, n: Decimal) -> Decimal:
        """Reliability of a rate on ``n`` patients (0 when there is no signal to find)."""
        if n <= 0:
            return ZERO
        noise = self.rate * (ONE - self.rate)
        if noise <= 0:
            return ONE
        if self.variance <= 0:
            return ZERO
        with localcontext() as ctx:
            ctx.prec = 28
            value = self.variance / (self.variance + noise / n)
        return value.quantize(_R_Q, ROUND_HALF_UP)

    def needed_for(self, target: Decimal = TARGET) -> Decimal | None:
        """Denominator needed for ``target`` reliability (None: no signal, never reached)."""
        noise = self.rate * (ONE - self.rate)
        if self.variance <= 0 or noise <= 0:
            return None
        with localcontext() as ctx:
            ctx.prec = 28
            return (target * noise / ((ONE - target) * self.variance)).quantize(ONE, ROUND_HALF_UP)


def spread(rows: Sequence[tuple[Decimal, Decimal]]) -> Spread:
    """The pooled rate and σ²_b of ``(numerator, denominator)`` rows (denominator > 0 only)."""
    used = [(x, n) for x, n in rows if n > 0]
    total = sum((n for _, n in used), ZERO)
    if not used or total <= 0:
        return Spread(ZERO, ZERO, 0)
    with localcontext() as ctx:
        ctx.prec = 28
        p = sum((x for x, _ in used), ZERO) / total
        k = len(used)
        between = sum((n * (x / n - p) ** 2 for x, n in used), ZERO)
        adjust = total - sum((n * n for _, n in used), ZERO) / total
        if k < 2 or adjust <= 0:
            return Spread(p, ZERO, k)
        variance = (between - (k - 1) * p * (ONE - p)) / adjust
    return Spread(p, max(variance, ZERO), k)


def shrink(raw: Decimal, reliability: Decimal, toward: Decimal) -> Decimal:
    """The empirical-Bayes rate: ``R × raw + (1 − R) × toward``, to 6 places."""
    with localcontext() as ctx:
        ctx.prec = 28
        value = reliability * raw + (ONE - reliability) * toward
    return value.quantize(_RATE_Q, ROUND_HALF_UP)


def reliability_findings(
    plans: Mapping[str, Plan],
    physicians: Sequence[Physician],
    quality: Mapping[tuple[str, str], tuple[Decimal, Decimal, Decimal]],
) -> list[Finding]:
    """RELIABILITY_LOW: on a scorecard without shrinkage, most counted individual rates of a
    measure (at least 5 physicians) have reliability below 0.70."""
    from statistics import median

    from paycascade.compliance.findings import finding

    out: list[Finding] = []
    for plan_id in sorted(plans):
        plan = plans[plan_id]
        members = [p for p in physicians if p.plan == plan_id]
        for card_id in sorted(plan.scorecards):
            card = plan.scorecards[card_id]
            if card.shrinkage != "none":
                continue
            for m in card.measures:
                rows = [
                    quality[(p.npi, m.id)]
                    for p in members
                    if (p.npi, m.id) in quality
                    and quality[(p.npi, m.id)][1] > 0
                    and quality[(p.npi, m.id)][1] >= m.min_denominator
                ]
                if len(rows) < MIN_PHYSICIANS:
                    continue
                peers = spread([(x, n) for x, n, _ in rows])
                values = [peers.reliability(n) for _, n, _ in rows]
                low = sum(1 for v in values if v < TARGET)
                if low * 2 <= len(values):
                    continue
                needed = peers.needed_for()
                out.append(
                    finding(
                        "RELIABILITY_LOW",
                        "review",
                        "plan",
                        plan_id,
                        f"scorecard '{card_id}' measure '{m.id}': {low} of {len(values)} "
                        f"individual rates have reliability below {TARGET} (median "
                        f"{Decimal(median(values)).quantize(_R_Q)}); consider a higher minimum "
                        "denominator or 'shrinkage: empirical_bayes'",
                        {
                            "scorecard": card_id,
                            "measure": m.id,
                            "physicians": len(values),
                            "below_0_70": low,
                            "median_reliability": Decimal(median(values)).quantize(_R_Q),
                            "pooled_rate": peers.rate.quantize(_RATE_Q, ROUND_HALF_UP),
                            "between_variance": peers.variance.quantize(
                                Decimal("0.00000001"), ROUND_HALF_UP
                            ),
                            "denominator_for_0_70": "never" if needed is None else needed,
                        },
                        file=plan.file,
                        line=m.line,
                    )
                )
    return out
