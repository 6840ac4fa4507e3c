"""Solve one parameter of a reform for budget neutrality, and sweep a parameter over a range.

A parameter is ``TARGET:PATH``: a plan or contract id and a dot path to a number in it
(``surgery-tiered:components.production.conversion_factor``,
``cardio-ob-withhold:components.quality_withhold.rate``).  Each point is the reform with that
number overridden, computed by the engine (aggregates reused when crediting does not change).

The solve finds a value whose total physician pay is within ``tolerance`` (default $1) of the
target (default: the baseline's total pay).  Pay is piecewise linear in a rate (each posting is
rounded to the cent), so the secant method lands in one or two steps; it falls back to
bisection on a bracket.  Values are kept to 10 decimal places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.diagnostics import Diagnostics, PaycascadeError
from paycascade.scenarios.diff import compute_reformed, value_linked
from paycascade.scenarios.reform import Override, Reform, apply_reform, get_path

PLACES = Decimal("1e-10")


@dataclass(frozen=True)
class Param:
    target: str
    path: str

    @staticmethod
    def parse(text: str) -> Param:
        target, sep, path = text.partition(":")
        if not sep or not target or not path:
            diags = Diagnostics()
            diags.add("--param", None, f"'{text}' is not TARGET:PATH (plan-or-contract:dot.path)")
            raise PaycascadeError(diags)
        return Param(target, path)

    def __str__(self) -> str:
        return f"{self.target}:{self.path}"


@dataclass(frozen=True)
class Point:
    value: Decimal
    total_cents: int
    vls: Decimal
    contracts_cents: int


@dataclass(frozen=True)
class Solution:
    param: Param
    value: Decimal
    total_cents: int
    target_cents: int
    iterations: int
    points: tuple[Point, ...]

    @property
    def gap_cents(self) -> int:
        return self.total_cents - self.target_cents


class Evaluator:
    """Computes a reform at given values of one parameter, reusing what it can."""

    def __init__(self, loaded: Any, reform: Reform, param: Param, baseline: Any) -> None:
        self.loaded = loaded
        self.reform = reform
        self.param = param
        self.baseline = baseline
        self.point_aggs: Any = None
        self.points: list[Point] = []

    def current(self) -> Decimal:
        """The parameter's value in the reform (or, if the reform leaves it, the baseline)."""
        applied = apply_reform(self.loaded, self.reform, touch=[self.param.target])
        node = applied.raw.get(self.param.target)
        return _number(None if node is None else get_path(node, self.param.path), self.param)

    def at(self, value: Decimal) -> Point:
        from paycascade.runner import compute_outcome

        value = value.quantize(PLACES).normalize()
        applied = apply_reform(
            self.loaded, self.reform, [Override(self.param.target, self.param.path, value)]
        )
        if self.point_aggs is not None and not self.param.path.startswith("crediting"):
            # same reform, one number changed: the reform's aggregates stay valid
            outcome = compute_outcome(
                self.loaded,
                plans=applied.plans,
                contracts=applied.contracts,
                physicians=applied.physicians,
                aggs=self.point_aggs,
            )
        else:
            outcome = compute_reformed(self.loaded, applied, self.baseline.aggs)
            self.point_aggs = outcome.aggs
        npis = [p.npi for p in self.loaded.physicians]
        point = Point(
            value,
            sum(outcome.totals[n].total for n in npis if n in outcome.totals),
            value_linked(outcome.totals, npis),
            sum(c.result_cents for c in outcome.contracts),
        )
        self.points.append(point)
        return point


def _number(value: Any, param: Param) -> Decimal:
    from paycascade.money import D

    try:
        return D(value)
    except (TypeError, ValueError):
        diags = Diagnostics()
        diags.add("--param", None, f"'{param}' is not a single number (found {value!r})")
        raise PaycascadeError(diags) from None


def solve_budget_neutral(
    loaded: Any,
    reform: Reform,
    param: Param,
    baseline: Any,
    *,
    target_cents: int | None = None,
    tolerance_cents: int = 100,
    max_iterations: int = 60,
) -> Solution:
    """The value of ``param`` that makes total physician pay equal ``target_cents`` (default:
    the baseline's total) within ``tolerance_cents``.  Raises PaycascadeError if none is found."""
    ev = Evaluator(loaded, reform, param, baseline)
    npis = [p.npi for p in loaded.physicians]
    target = (
        target_cents
        if target_cents is not None
        else sum(baseline.totals[n].total for n in npis if n in baseline.totals)
    )
    x0 = ev.current()
    x1 = x0 * Decimal("1.05") if x0 != 0 else Decimal("0.01")
    p0, p1 = ev.at(x0), ev.at(x1)
    iterations = 2
    lo: Point | None = None
    hi: Point | None = None
    for p in (p0, p1):
        lo, hi = _bracket(lo, hi, p, target)
    best = min((p0, p1), key=lambda p: abs(p.total_cents - target))
    while abs(best.total_cents - target) > tolerance_cents and iterations < max_iterations:
        if lo is not None and hi is not None and iterations > 8:
            x = (lo.value + hi.value) / 2
        else:
            slope = Decimal(p1.total_cents - p0.total_cents) / (p1.value - p0.value)
            if slope == 0:
                diags = Diagnostics()
                diags.add("--solve", None, f"changing {param} does not change total pay")
                raise PaycascadeError(diags)
            x = p1.value + Decimal(target - p1.total_cents) / slope
        p = ev.at(x)
        iterations += 1
        if p.value in (p0.value, p1.value) and abs(p.total_cents - target) > tolerance_cents:
            if lo is None or hi is None:
                break
            p = ev.at((lo.value + hi.value) / 2)
            iterations += 1
        p0, p1 = p1, p
        lo, hi = _bracket(lo, hi, p, target)
        if abs(p.total_cents - target) < abs(best.total_cents - target):
            best = p
    if abs(best.total_cents - target) > tolerance_cents:
        diags = Diagnostics()
        diags.add(
            "--solve",
            None,
            f"no value of {param} brings total pay within {tolerance_cents / 100:.2f} of the "
            f"target after {iterations} evaluations (closest {best.value})",
        )
        raise PaycascadeError(diags)
    return Solution(param, best.value, best.total_cents, target, iterations, tuple(ev.points))


def _bracket(
    lo: Point | None, hi: Point | None, p: Point, target: int
) -> tuple[Point | None, Point | None]:
    """Keep the nearest point below and above the target (by total pay)."""
    if p.total_cents <= target and (lo is None or p.total_cents > lo.total_cents):
        lo = p
    if p.total_cents >= target and (hi is None or p.total_cents < hi.total_cents):
        hi = p
    return lo, hi


def sweep_values(start: Decimal, stop: Decimal, step: Decimal) -> list[Decimal]:
    """start, start + step, … up to and including stop (exact decimals, at most 1,000)."""
    if step <= 0 or stop < start:
        diags = Diagnostics()
        diags.add("--sweep", None, "a sweep needs FROM ≤ TO and STEP > 0")
        raise PaycascadeError(diags)
    count = int((stop - start) / step) + 1
    if count > 1000:
        diags = Diagnostics()
        diags.add("--sweep", None, f"{count} points is too many (at most 1,000)")
        raise PaycascadeError(diags)
    return [start + step * i for i in range(count)]


def sweep(
    loaded: Any, reform: Reform, param: Param, baseline: Any, values: Sequence[Decimal]
) -> list[Point]:
    ev = Evaluator(loaded, reform, param, baseline)
    return [ev.at(v) for v in values]
