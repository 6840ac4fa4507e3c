"""Combinators over inline components.

* ``greater_of``: computes each component under ``of`` and pays, per physician, the one with
  the greater total over the period (ties: the first listed).  Typical: a salary floor or
  production, whichever is greater.
* ``band``: pays the components under ``of`` and then adjusts their total into
  [``min``, ``max``] (annual amounts, prorated by FTE and days employed): a top-up below the
  floor, a reduction above the ceiling.

Alignment and Quinn method of the paid lines are those of the inner components.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from paycascade.components.common import FTE_BASES, prorated_annual, whole_period
from paycascade.ledger import Posting
from paycascade.money import ZERO, allocate, fmt_cents
from paycascade.plans.model import Frame, Spec
from paycascade.plans.params import Dated, Reader
from paycascade.plans.yamlpos import PosDict, PosList


@dataclass(frozen=True)
class GreaterOf(Spec):
    kind = "greater_of"
    default_alignment = "volume"
    quinn = "combinator"

    inner: tuple[Spec, ...]

    def refs(self) -> list[str]:
        return [ref for spec in self.inner for ref in spec.refs()]

    def breakpoints(self) -> list[Any]:
        return [d for spec in self.inner for d in spec.breakpoints()]

    def scorecard_ids(self) -> list[str]:
        return [c for spec in self.inner for c in spec.scorecard_ids()]

    def compute(self, frame: Frame) -> list[Posting]:
        computed = [(spec, spec.compute(frame)) for spec in self.inner]
        totals = [
            [
                sum(frame.results[spec.id][s.index][i] for s in frame.segments)
                for i in range(len(frame.physicians))
            ]
            for spec, _ in computed
        ]
        chosen: list[int] = []
        for i in range(len(frame.physicians)):
            best = max(range(len(computed)), key=lambda k: (totals[k][i], -k))
            chosen.append(best)
        postings: list[Posting] = []
        npi_index = {p.npi: i for i, p in enumerate(frame.physicians)}
        for k, (spec, spec_postings) in enumerate(computed):
            for posting in spec_postings:
                who = npi_index.get(posting.npi or "")
                if who is None or chosen[who] != k:
                    continue
                options = ", ".join(
                    f"{s.id} {fmt_cents(totals[j][who])}" for j, (s, _) in enumerate(computed)
                )
                postings.append(
                    replace(
                        posting,
                        explanation=f"{posting.explanation} [greater of: {options} → {spec.id}]",
                    )
                )
        paid = [[0] * len(frame.physicians) for _ in frame.segments]
        for k, (spec, _) in enumerate(computed):
            result = frame.results[spec.id]
            for s in frame.segments:
                for i in range(len(frame.physicians)):
                    if chosen[i] == k:
                        paid[s.index][i] = result[s.index][i]
                    else:
                        result[s.index][i] = 0
        self.record(frame, paid)
        return postings


@dataclass(frozen=True)
class Band(Spec):
    kind = "band"
    default_alignment = "volume"
    quinn = "combinator"

    inner: tuple[Spec, ...]
    minimum: Dated[Decimal] | None
    maximum: Dated[Decimal] | None
    fte_basis: str

    def refs(self) -> list[str]:
        return [ref for spec in self.inner for ref in spec.refs()]

    def breakpoints(self) -> list[Any]:
        points = [d for spec in self.inner for d in spec.breakpoints()]
        for param in (self.minimum, self.maximum):
            if param is not None:
                points += param.breakpoints()
        return points

    def scorecard_ids(self) -> list[str]:
        return [c for spec in self.inner for c in spec.scorecard_ids()]

    def _limit(self, param: Dated[Decimal] | None, frame: Frame, i: int) -> int | None:
        if param is None:
            return None
        total = ZERO
        for seg in frame.segments:
            amount, _ = prorated_annual(
                param.at(seg.start).value, frame.physicians[i], self.fte_basis, seg, frame
            )
            total += amount
        return frame.cents(total)

    def compute(self, frame: Frame) -> list[Posting]:
        postings: list[Posting] = []
        for spec in self.inner:
            postings.extend(spec.compute(frame))
        n = len(frame.physicians)
        paid = [
            [sum(frame.results[spec.id][s.index][i] for spec in self.inner) for i in range(n)]
            for s in frame.segments
        ]
        period = whole_period(frame)
        for i, p in enumerate(frame.physicians):
            total = sum(paid[s.index][i] for s in frame.segments)
            low, high = self._limit(self.minimum, frame, i), self._limit(self.maximum, frame, i)
            target = total
            if low is not None and target < low:
                target = low
            if high is not None and target > high:
                target = high
            adjustment = target - total
            if adjustment == 0:
                continue
            bound = (
                f"floor {fmt_cents(low or 0)}"
                if adjustment > 0
                else f"ceiling {fmt_cents(high or 0)}"
            )
            postings.append(
                self.pay(
                    frame,
                    p,
                    period,
                    adjustment,
                    f"{' + '.join(s.id for s in self.inner)} = {fmt_cents(total)} brought to the {bound}: adjustment {fmt_cents(adjustment)}",
                    {
                        "total": str(Decimal(total) / 100),
                        "min": str(Decimal(low) / 100) if low is not None else "",
                        "max": str(Decimal(high) / 100) if high is not None else "",
                    },
                    kind="band_adjustment",
                )
            )
            # spread over the segments in proportion to what each paid, so no segment's
            # result turns negative for the components that read it (a withhold, a %)
            weights = [max(paid[s.index][i], 0) for s in frame.segments]
            if not any(weights):
                weights = [1] * len(frame.segments)
            for s, part in zip(frame.segments, allocate(adjustment, weights), strict=True):
                paid[s.index][i] += part
        self.record(frame, paid)
        return postings


def _inner(r: Reader, base: dict[str, Any]) -> tuple[Spec, ...] | None:
    value = r.raw("of")
    if not isinstance(value, PosList) or not value:
        r.error("of", f"'{base['fields']['id']}' needs 'of': a list of component declarations")
        return None
    specs = []
    for index, item in enumerate(value):
        if not isinstance(item, PosDict):
            r.diags.add(
                r.file,
                value.line_of(index),
                f"{r.where}: each item of 'of' must be a component declaration",
            )
            return None
        spec = base["parse_inner"](item)
        if spec is None:
            return None
        specs.append(spec)
    return tuple(specs)


def parse_greater_of(r: Reader, base: dict[str, Any]) -> GreaterOf | None:
    inner = _inner(r, base)
    r.unknown_keys({"of", *base["_common_keys"]})
    if inner is None:
        return None
    if len(inner) < 2:
        r.error("of", "greater_of needs at least two components")
        return None
    return GreaterOf(**base["fields"], inner=inner)


def parse_band(r: Reader, base: dict[str, Any]) -> Band | None:
    inner = _inner(r, base)
    low = r.dated_number("min", required=False, minimum=ZERO)
    high = r.dated_number("max", required=False, minimum=ZERO)
    fte_basis = r.choice("fte_basis", FTE_BASES, "total")
    r.unknown_keys({"of", "min", "max", "fte_basis", *base["_common_keys"]})
    if inner is None:
        return None
    if low is None and high is None:
        r.error(None, "band needs 'min', 'max' or both")
        return None
    return Band(**base["fields"], inner=inner, minimum=low, maximum=high, fte_basis=fte_basis)
