"""Gaming signals: coding intensity, exclusions and denominators that move for the wrong reason.

* **Highest E/M level.**  The share of level-5 office visits (99205 of new-patient 99202–99205,
  99215 of established-patient 99211–99215, counted together, denied and void lines left out)
  against specialty peers (the median share of the other physicians of the same specialty with
  at least 100 such visits; at least four peers: flagged at twice the peer median and at least
  5 points above it) and against the physician's own history (1.5 times the earlier share and
  at least 5 points above it).
  *History* is every encounter line dated before the period starts that the workspace holds
  (the encounters table may carry prior-year lines); it is used when it has at least 100 visits.
* **Exclusion spikes.**  Exclusion rate = exclusions ÷ (denominator + exclusions), on at least
  20 eligible patients, against the median of the other physicians reporting the measure (at
  least four) and against the physician's own prior period.
* **Shrinking denominators.**  The denominator fell by at least 25% (and at least 10 patients)
  from the prior period.  The *prior period* is the latest ``period`` label of the quality table
  that sorts before the run's label and has the same form (``2025`` before ``2026``,
  ``2026-Q1`` before ``2026-Q2``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from paycascade.compliance.findings import Finding, finding

NEW_VISITS = ("99202", "99203", "99204", "99205")
ESTABLISHED_VISITS = ("99211", "99212", "99213", "99214", "99215")
HIGHEST_LEVEL = ("99205", "99215")
MIN_VISITS = 100
MIN_PEERS = 4
EM_PEER_POINTS = Decimal("0.05")
EM_PEER_RATIO = Decimal(2)
EM_HISTORY_POINTS = Decimal("0.05")
EM_HISTORY_RATIO = Decimal("1.5")
MIN_ELIGIBLE = Decimal(20)
EXCLUSION_POINTS = Decimal("0.10")
EXCLUSION_RATIO = Decimal(2)
DENOMINATOR_DROP = Decimal("0.25")
DENOMINATOR_MIN_DROP = Decimal(10)
_Q = Decimal("0.0001")


def _r(value: Decimal) -> str:
    return str(value.quantize(_Q, ROUND_HALF_UP))


def _pts(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}"


@dataclass(frozen=True)
class EmShare:
    npi: str
    specialty: str
    level5: int
    visits: int
    history_level5: int = 0
    history_visits: int = 0

    @property
    def share(self) -> Decimal:
        return Decimal(self.level5) / Decimal(self.visits) if self.visits else Decimal(0)

    @property
    def history_share(self) -> Decimal:
        if not self.history_visits:
            return Decimal(0)
        return Decimal(self.history_level5) / Decimal(self.history_visits)


def em_findings(rows: Sequence[EmShare]) -> list[Finding]:
    """Level-5 share far above peers (GAMING_EM_LEVEL_PEERS) or own history (…_HISTORY)."""
    out: list[Finding] = []
    # every qualifying level-5 share of a specialty, sorted once: the peers are all the others
    shares: dict[str, list[Decimal]] = {}
    for r in rows:
        if r.visits >= MIN_VISITS:
            shares.setdefault(r.specialty, []).append(r.share)
    for values in shares.values():
        values.sort()
    for row in rows:
        if row.visits < MIN_VISITS:
            continue
        everyone = shares[row.specialty]
        peers = len(everyone) - 1
        evidence = {
            "level5_visits": row.level5,
            "office_em_visits": row.visits,
            "level5_share": _r(row.share),
        }
        if peers >= MIN_PEERS:
            mid = _median_without(everyone, row.share)
            if row.share - mid >= EM_PEER_POINTS and row.share >= mid * EM_PEER_RATIO:
                out.append(
                    finding(
                        "GAMING_EM_LEVEL_PEERS",
                        "review",
                        "physician",
                        row.npi,
                        f"level-5 share of office E/M visits {_pts(row.share)}% against a "
                        f"{row.specialty} peer median of {_pts(mid)}% ({peers} peers)",
                        {**evidence, "peer_median_share": _r(mid), "peers": peers},
                    )
                )
        if row.history_visits >= MIN_VISITS:
            before = row.history_share
            if row.share - before >= EM_HISTORY_POINTS and row.share >= before * EM_HISTORY_RATIO:
                out.append(
                    finding(
                        "GAMING_EM_LEVEL_HISTORY",
                        "review",
                        "physician",
                        row.npi,
                        f"level-5 share of office E/M visits rose from {_pts(before)}% before "
                        f"the period to {_pts(row.share)}%",
                        {
                            **evidence,
                            "history_level5_visits": row.history_level5,
                            "history_office_em_visits": row.history_visits,
                            "history_level5_share": _r(before),
                        },
                    )
                )
    return out


@dataclass(frozen=True)
class MeasureRow:
    npi: str
    measure: str
    numerator: Decimal
    denominator: Decimal
    exclusions: Decimal

    @property
    def eligible(self) -> Decimal:
        return self.denominator + self.exclusions

    @property
    def exclusion_rate(self) -> Decimal:
        return self.exclusions / self.eligible if self.eligible else Decimal(0)


def exclusion_findings(
    current: Sequence[MeasureRow], prior: Mapping[tuple[str, str], MeasureRow] | None = None
) -> list[Finding]:
    """Exclusion rates far above peers or own prior period; sharply shrinking denominators."""
    prior = prior or {}
    out: list[Finding] = []
    # every eligible rate of a measure, sorted once: a physician's peers are all the others
    rates: dict[str, list[Decimal]] = {}
    for r in current:
        if r.eligible >= MIN_ELIGIBLE:
            rates.setdefault(r.measure, []).append(r.exclusion_rate)
    for values in rates.values():
        values.sort()
    for row in current:
        before = prior.get((row.npi, row.measure))
        if row.eligible >= MIN_ELIGIBLE:
            rate = row.exclusion_rate
            everyone = rates[row.measure]
            peers = len(everyone) - 1
            evidence: dict[str, object] = {
                "measure": row.measure,
                "exclusions": row.exclusions.normalize(),
                "denominator": row.denominator.normalize(),
                "exclusion_rate": _r(rate),
            }
            reasons = []
            if peers >= MIN_PEERS:
                mid = _median_without(everyone, rate)
                evidence |= {"peer_median_rate": _r(mid), "peers": peers}
                if rate - mid >= EXCLUSION_POINTS and rate >= mid * EXCLUSION_RATIO:
                    reasons.append(f"peer median {_pts(mid)}%")
            if before is not None and before.eligible >= MIN_ELIGIBLE:
                was = before.exclusion_rate
                evidence |= {"prior_exclusion_rate": _r(was)}
                if rate - was >= EXCLUSION_POINTS and rate >= was * EXCLUSION_RATIO:
                    reasons.append(f"prior period {_pts(was)}%")
            if reasons:
                out.append(
                    finding(
                        "GAMING_EXCLUSION_SPIKE",
                        "review",
                        "physician",
                        row.npi,
                        f"{row.measure}: {_pts(rate)}% of eligible patients excluded "
                        f"(against {' and '.join(reasons)})",
                        evidence,
                    )
                )
        if before is not None and before.denominator >= MIN_ELIGIBLE:
            drop = before.denominator - row.denominator
            if drop >= DENOMINATOR_MIN_DROP and drop >= before.denominator * DENOMINATOR_DROP:
                share = drop / before.denominator
                out.append(
                    finding(
                        "GAMING_SHRINKING_DENOMINATOR",
                        "review",
                        "physician",
                        row.npi,
                        f"{row.measure}: denominator fell from {before.denominator.normalize():f} "
                        f"to {row.denominator.normalize():f} ({_pts(share)}% fewer patients)",
                        {
                            "measure": row.measure,
                            "denominator": row.denominator.normalize(),
                            "prior_denominator": before.denominator.normalize(),
                            "drop_share": _r(share),
                        },
                    )
                )
    return out


def _median_without(ordered: Sequence[Decimal], own: Decimal) -> Decimal:
    """The median of ``ordered`` (sorted) with one copy of ``own`` removed, in O(log n).

    Same value as ``statistics.median`` of the list without that element: the middle one, or
    the mean of the two middle ones."""
    gone = bisect_left(ordered, own)

    def at(j: int) -> Decimal:  # element j of the list without position ``gone``
        return ordered[j] if j < gone else ordered[j + 1]

    n = len(ordered) - 1
    if n % 2:
        return at(n // 2)
    return (at(n // 2 - 1) + at(n // 2)) / 2


def prior_label(current: str, labels: Sequence[str]) -> str | None:
    """The latest label of the same form that sorts before ``current`` (see the docstring)."""

    def form(text: str) -> str:
        return "".join("9" if c.isdigit() else c for c in text)

    earlier = [x for x in labels if form(x) == form(current) and x < current]
    return max(earlier) if earlier else None
