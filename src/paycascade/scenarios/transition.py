"""Transition planner: phase a reform in over years 1–10 instead of all at once.

The seed (§7, "the third requirement") describes the practical path: build the new structure
into new agreements and renewals, and let the medical staff turn over onto it over five to ten
years.  The planner is an expected-value model, per physician affected by the reform:

* each year a share ``h`` of physicians leaves (turnover by specialty, default 7 %); the
  replacement is hired on the new plan (with the same pay profile as the reform computes for
  the position);
* of those who stay on the old plan, a share ``r`` renews each year (1 ÷ the agreement term,
  default a 3-year term) and moves to the new plan at renewal;

so the share of a position still on the old plan after t years is ((1 − h)(1 − r))^t, and the
year-t cost is Σ old × ((1 − h)(1 − r))^t + new × (1 − ((1 − h)(1 − r))^t).  Shares are exact
decimals (rounded to 12 places); each position's expected pay is rounded to the cent once.
Pay levels are the reform's period, without inflation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from paycascade.money import to_cents
from paycascade.scenarios.diff import Diff, ratio

DEFAULT_TURNOVER = Decimal("0.07")
DEFAULT_TERM_YEARS = 3
SHARE_PLACES = Decimal("1e-12")


@dataclass(frozen=True)
class Year:
    year: int
    on_new_plan: Decimal  # share of affected positions on the new plan (expected)
    cost_cents: int  # total physician pay of all physicians
    value_linked_share: Decimal
    vs_baseline_cents: int


def plan_transition(
    diff: Diff,
    linked_before: Mapping[str, int],
    linked_after: Mapping[str, int],
    *,
    years: int = 10,
    turnover: Mapping[str, Decimal] | None = None,
    default_turnover: Decimal = DEFAULT_TURNOVER,
    term_years: int = DEFAULT_TERM_YEARS,
) -> list[Year]:
    """Years 1–``years``.  ``linked_*``: value-linked pay (mixed + value cents) per NPI."""
    renew = Decimal(1) / Decimal(term_years) if term_years > 0 else Decimal(1)
    rates = turnover or {}
    out = []
    for t in range(1, years + 1):
        cost = 0
        linked = 0
        moved_sum = Decimal(0)
        affected = 0
        for row in diff.rows:
            if row.before == row.after and row.plan_before == row.plan_after:
                cost += row.after
                linked += linked_after.get(row.npi, 0)
                continue
            h = rates.get(row.specialty, default_turnover)
            stay_old = (((1 - h) * (1 - renew)) ** t).quantize(SHARE_PLACES, ROUND_HALF_UP)
            new = 1 - stay_old
            cost += to_cents((Decimal(row.before) * stay_old + Decimal(row.after) * new) / 100)
            linked += to_cents(
                (
                    Decimal(linked_before.get(row.npi, 0)) * stay_old
                    + Decimal(linked_after.get(row.npi, 0)) * new
                )
                / 100
            )
            moved_sum += new
            affected += 1
        share = (
            (moved_sum / affected).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            if affected
            else Decimal(1)
        )
        out.append(
            Year(
                t,
                share,
                cost,
                ratio(linked, cost) or Decimal(0).quantize(Decimal("0.0001")),
                cost - diff.total_before,
            )
        )
    return out


def linked_cents(totals: Mapping[str, object], npis: Sequence[str]) -> dict[str, int]:
    """Value-linked pay (mixed + value) per NPI from runner totals."""
    out = {}
    for npi in npis:
        t = totals.get(npi)
        by = getattr(t, "by_alignment", {}) if t is not None else {}
        out[npi] = int(by.get("mixed", 0)) + int(by.get("value", 0))
    return out
