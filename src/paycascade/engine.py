"""The computation: plans × physicians × aggregates → postings.

Pure and deterministic: no files, no database.  The runner feeds it the aggregates of the
pipeline; tests feed it hand-built ones.  Postings come out in a fixed order (plan id, component
order, physician NPI, segment) and every pool is checked to balance to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from paycascade.cascade import Booked, sweep_pools
from paycascade.contracts.base import ContractResult
from paycascade.ledger import Posting, balance
from paycascade.money import RoundingMode
from paycascade.periods import Period, window_starts
from paycascade.plans.loader import Plan
from paycascade.plans.model import Frame, Physician, PlanData, Segment
from paycascade.plans.scorecard import ScoreResult


class PoolImbalance(AssertionError):
    """A pool did not balance to zero: a bug in a component, never a user error."""


def bucket_starts(plans: Sequence[Plan], period: Period) -> list[date]:
    """The pipeline's date buckets: every plan breakpoint and every tier-reset window start."""
    points = {period.start}
    for plan in plans:
        points.update(plan.breakpoints(period))
        for reset in plan.tier_resets():
            points.update(window_starts(period, reset))
    return sorted(d for d in points if period.start <= d <= period.end)


def plan_segments(plan: Plan, period: Period, starts: Sequence[date]) -> list[Segment]:
    """Stretches of the period in which none of the plan's parameters changes."""
    edges = [period.start, *plan.breakpoints(period)]
    segments = []
    for index, start in enumerate(edges):
        end = edges[index + 1] - timedelta(days=1) if index + 1 < len(edges) else period.end
        buckets = tuple(b for b, day in enumerate(starts) if start <= day <= end)
        segments.append(Segment(index, start, end, buckets))
    return segments


@dataclass
class Computation:
    postings: list[Posting]
    scores: dict[str, list[ScoreResult]] = field(default_factory=dict)  # npi → scores used
    segments: dict[str, list[Segment]] = field(default_factory=dict)  # plan → segments


def compute(
    plans: Mapping[str, Plan],
    physicians: Sequence[Physician],
    period: Period,
    data: PlanData,
    rounding: RoundingMode = "half_up",
    contracts: Booked | None = None,
    results: Sequence[ContractResult] = (),
) -> Computation:
    """Compute every component of every plan for its physicians.  Physicians whose plan is
    unknown must have been reported by the caller; they are skipped here.

    ``contracts`` are the settled contracts' postings and the pools they fund: they open the
    ledger, plan components distribute the pools, and what no component distributes is swept
    to the system's retained account before every pool is checked to balance."""
    result = Computation(postings=list(contracts.postings) if contracts else [])
    if contracts is not None:
        data.pools = dict(contracts.pools)
    by_plan: dict[str, list[Physician]] = {}
    for p in sorted(physicians, key=lambda x: x.npi):
        if p.plan in plans:
            by_plan.setdefault(p.plan, []).append(p)
    for plan_id in sorted(by_plan):
        plan = plans[plan_id]
        segments = plan_segments(plan, period, data.bucket_starts)
        result.segments[plan_id] = segments
        frame = Frame(
            plan_id=plan_id,
            plan_file=plan.file,
            physicians=by_plan[plan_id],
            period=period,
            segments=segments,
            data=data,
            rounding=rounding,
            scorecards=plan.scorecards,
        )
        for spec in plan.components:
            result.postings.extend(spec.compute(frame))
        for npi, used in frame.used_scores.items():
            result.scores[npi] = [used[card] for card in sorted(used)]
    if contracts is not None:
        result.postings.extend(sweep_pools(result.postings, contracts.pools, period, results))
    check_pools(result.postings)
    return result


def check_pools(postings: Sequence[Posting]) -> None:
    for account, amount in balance(postings).items():
        if account.startswith("pool:") and amount != 0:
            raise PoolImbalance(f"{account} does not balance: {amount} cents left")
