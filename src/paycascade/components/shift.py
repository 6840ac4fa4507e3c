"""shift: shifts (or shift hours) × rate × differential by shift type (volume; Quinn: per diem)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.components.common import Line, pay_each_segment
from paycascade.ledger import Posting
from paycascade.money import ONE, ZERO, D, fmt_decimal, fmt_rate
from paycascade.plans.model import Frame, Physician, Segment, Spec
from paycascade.plans.params import Dated, Reader
from paycascade.plans.yamlpos import PosDict


@dataclass(frozen=True)
class Shift(Spec):
    kind = "shift"
    default_alignment = "volume"
    quinn = "per_diem"
    needs = frozenset({"shifts"})

    rate: Dated[Decimal]
    per: str  # "shift" or "hour"
    differentials: tuple[tuple[str, Decimal], ...]

    def breakpoints(self) -> list[Any]:
        return self.rate.breakpoints()

    def compute(self, frame: Frame) -> list[Posting]:
        diffs = dict(self.differentials)
        unit = "shifts" if self.per == "shift" else "hours"

        def one(p: Physician, seg: Segment, rate: Decimal) -> Line | None:
            counts: dict[str, Decimal] = {}
            for b, stype, shifts, hours in frame.data.shifts.get(p.npi, ()):
                if b in seg.buckets:
                    counts[stype] = counts.get(stype, ZERO) + (
                        shifts if self.per == "shift" else hours
                    )
            if not counts:
                return None
            amount = ZERO
            parts = []
            for stype in sorted(counts):
                factor = diffs.get(stype, ONE)
                amount += counts[stype] * rate * factor
                extra = "" if factor == ONE else f" × {fmt_decimal(factor, 2)} differential"
                parts.append(
                    f"{fmt_decimal(counts[stype])} {stype} {unit} × {fmt_rate(rate)}{extra}"
                )
            inputs = {**{f"{k}_{self.per}s": str(v) for k, v in counts.items()}, "rate": str(rate)}
            return amount, " + ".join(parts), inputs

        return pay_each_segment(self, frame, self.rate, one)


def parse(r: Reader, base: dict[str, Any]) -> Shift | None:
    rate = r.dated_number("rate", minimum=ZERO)
    per = r.choice("per", ("shift", "hour"), "shift")
    raw = r.raw("differentials")
    diffs: list[tuple[str, Decimal]] = []
    if raw is not None:
        if not isinstance(raw, PosDict):
            r.error(
                "differentials",
                "'differentials' must map shift types to multipliers, e.g. {night: 1.15}",
            )
        else:
            for stype, value in raw.items():
                try:
                    factor = D(value)
                except (TypeError, ValueError):
                    r.diags.add(
                        r.file,
                        raw.line_of(stype),
                        f"{r.where}: differential for '{stype}' must be a number, not '{value}'",
                    )
                    continue
                if factor <= 0:
                    r.diags.add(
                        r.file,
                        raw.line_of(stype),
                        f"{r.where}: differential for '{stype}' must be > 0",
                    )
                    continue
                diffs.append((str(stype), factor))
    r.unknown_keys({"rate", "per", "differentials", *base["_common_keys"]})
    if rate is None:
        return None
    return Shift(**base["fields"], rate=rate, per=per, differentials=tuple(sorted(diffs)))
