"""shift: shifts (or shift hours) × rate × differential by shift type (volume; Quinn: per diem)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paycascade.ledger import Posting
from paycascade.money import ONE, ZERO, D, fmt_cents, fmt_decimal, fmt_rate
from paycascade.plans.model import Frame, Spec
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
        postings: list[Posting] = []
        results: list[list[int]] = []
        diffs = dict(self.differentials)
        for seg in frame.segments:
            entry = self.rate.at(seg.start)
            row: list[int] = []
            for p in frame.physicians:
                counts: dict[str, Decimal] = {}
                for b, stype, shifts, hours in frame.data.shifts.get(p.npi, ()):
                    if b in seg.buckets:
                        quantity = shifts if self.per == "shift" else hours
                        counts[stype] = counts.get(stype, ZERO) + quantity
                amount = ZERO
                parts = []
                for stype in sorted(counts):
                    factor = diffs.get(stype, ONE)
                    amount += counts[stype] * entry.value * factor
                    unit = "shifts" if self.per == "shift" else "hours"
                    diff_text = "" if factor == ONE else f" × {fmt_decimal(factor, 2)} differential"
                    parts.append(
                        f"{fmt_decimal(counts[stype])} {stype} {unit} × {fmt_rate(entry.value)}{diff_text}"
                    )
                cents = frame.cents(amount)
                row.append(cents)
                if not counts:
                    continue
                postings.append(
                    self.pay(
                        frame,
                        p,
                        seg,
                        cents,
                        " + ".join(parts) + f" = {fmt_cents(cents)}",
                        {
                            **{f"{k}_{self.per}s": str(v) for k, v in counts.items()},
                            "rate": str(entry.value),
                            "parameter": self.rate.cite(seg.start),
                        },
                        line=entry.line,
                    )
                )
            results.append(row)
        self.record(frame, results)
        return postings


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
