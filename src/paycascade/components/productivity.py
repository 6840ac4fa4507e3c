"""productivity: work RVUs × conversion factor (volume; Quinn: fee for service).

Methods:

* ``flat``: every wRVU × ``conversion_factor``;
* ``tiered_marginal``: each wRVU at the rate of the tier it falls in (accrual by tier);
* ``tiered_cliff``: every wRVU at the rate of the highest tier reached in the reset window;
* ``threshold``: only wRVUs above ``threshold`` × ``conversion_factor``.

Tier bounds (``up_to``, inclusive) and the threshold are annual figures for 1.0 FTE.  They are
prorated by FTE (``fte_basis``, clinical by default), by the length of the tier-reset window
(``tier_reset``: annual, quarterly = ¼, monthly = 1⁄12) and by the days the physician was
employed in the window.  ``paid_share`` pays a share of the result (SSM Health pays 70% of wRVU
value in its primary-care-aligned model); the full value is kept as ``<id>.gross`` so other
components can refer to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from paycascade.components.common import FTE_BASES, fte_of
from paycascade.ledger import Posting
from paycascade.money import ONE, ZERO, fmt_cents, fmt_pct, fmt_quantity, fmt_rate
from paycascade.periods import full_window, overlap_days, window_end, window_starts
from paycascade.plans.model import Frame, Physician, Segment, Spec
from paycascade.plans.params import Dated, Reader
from paycascade.plans.yamlpos import PosDict, PosList

METHODS = ("flat", "tiered_marginal", "tiered_cliff", "threshold")
RESETS = ("annual", "quarterly", "monthly")
_WINDOWS_PER_YEAR = {"annual": 1, "quarterly": 4, "monthly": 12}
#: Prorated tier bounds and thresholds are kept to 8 decimal places (half even): exact for the
#: usual cases (6,000 ÷ 12 = 500), and a declared, deterministic rounding for the rest.
BOUND_PLACES = Decimal("0.00000001")


@dataclass(frozen=True)
class Scale:
    """FTE × employed days ÷ (days in the window × windows per year), applied to a bound."""

    numerator: Decimal
    denominator: Decimal

    def apply(self, value: Decimal) -> Decimal:
        return (value * self.numerator / self.denominator).quantize(BOUND_PLACES, ROUND_HALF_EVEN)

    def __str__(self) -> str:
        return f"{self.numerator.normalize():f}/{self.denominator.normalize():f}"


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None  # inclusive upper bound, annual wRVU at 1.0 FTE; None = no limit
    rate: Decimal


@dataclass(frozen=True)
class Productivity(Spec):
    kind = "productivity"
    default_alignment = "volume"
    quinn = "fee_for_service"
    needs = frozenset({"encounters"})

    method: str
    conversion_factor: Dated[Decimal] | None
    tiers: Dated[tuple[Tier, ...]] | None
    threshold: Dated[Decimal] | None
    paid_share: Dated[Decimal]
    fte_basis: str
    tier_reset: str
    include_app_supervision: bool

    def breakpoints(self) -> list[date]:
        points = self.paid_share.breakpoints()
        for param in (self.conversion_factor, self.tiers, self.threshold):
            if param is not None:
                points += param.breakpoints()
        return points

    def window_starts(self, frame: Frame) -> list[date]:
        return window_starts(frame.period, self.tier_reset)

    # -- computation ---------------------------------------------------------------------

    def compute(self, frame: Frame) -> list[Posting]:
        n = len(frame.physicians)
        paid = [[0] * n for _ in frame.segments]
        gross = [[0] * n for _ in frame.segments]
        postings: list[Posting] = []
        windows = [
            (ws, window_end(ws, self.tier_reset, frame.period)) for ws in self.window_starts(frame)
        ]
        for i, p in enumerate(frame.physicians):
            pieces = self._pieces(frame, p, windows)
            for seg in frame.segments:
                seg_pieces = [pc for pc in pieces if pc.segment == seg.index]
                active = overlap_days(seg.start, seg.end, p.start_date, p.end_date) > 0
                wrvu = sum((pc.wrvu for pc in seg_pieces), ZERO)
                if not active and wrvu == ZERO:
                    continue
                posting, paid_cents, gross_cents = self._post(frame, p, seg, seg_pieces)
                paid[seg.index][i] = paid_cents
                gross[seg.index][i] = gross_cents
                postings.append(posting)
        self.record(frame, paid)
        self.record(frame, gross, "gross")
        return postings

    def _pieces(
        self, frame: Frame, p: Physician, windows: Sequence[tuple[date, date]]
    ) -> list[_Piece]:
        """Split the physician's wRVUs by reset window × segment, priced on the tier curve."""
        data = frame.data
        starts = data.bucket_starts
        pieces: list[_Piece] = []
        for ws, we in windows:
            scale = self._scale(frame, p, ws, we)
            window_total = ZERO
            parts: list[tuple[Segment, Decimal, Decimal]] = []
            for seg in frame.segments:
                own = ZERO
                app = ZERO
                for b in seg.buckets:
                    if ws <= starts[b] <= we:
                        own += data.wrvu.get((p.npi, b), ZERO)
                        if self.include_app_supervision:
                            app += data.app_wrvu.get((p.npi, b), ZERO)
                if seg.start > we or seg.end < ws:
                    continue
                parts.append((seg, own, app))
                window_total += own + app
            cumulative = ZERO
            for seg, own, app in parts:
                w = own + app
                amount, text = self._price(seg, cumulative, w, window_total, scale)
                pieces.append(_Piece(seg.index, ws, we, own, app, amount, text, scale))
                cumulative += w
        return pieces

    def _scale(self, frame: Frame, p: Physician, ws: date, we: date) -> Scale:
        full_start, full_end = full_window(ws, self.tier_reset)
        full_days = (full_end - full_start).days + 1
        employed = overlap_days(ws, we, p.start_date, p.end_date)
        return Scale(
            fte_of(p, self.fte_basis) * employed,
            Decimal(full_days * _WINDOWS_PER_YEAR[self.tier_reset]),
        )

    def _price(
        self, seg: Segment, start: Decimal, w: Decimal, window_total: Decimal, scale: Scale
    ) -> tuple[Decimal, str]:
        day = seg.start
        if self.method == "flat":
            assert self.conversion_factor is not None
            cf = self.conversion_factor.at(day).value
            return w * cf, f"{fmt_quantity(w)} wRVU × {fmt_rate(cf)}"
        if self.method == "threshold":
            assert self.conversion_factor is not None and self.threshold is not None
            cf = self.conversion_factor.at(day).value
            limit = scale.apply(self.threshold.at(day).value)
            above = max(ZERO, start + w - max(start, limit))
            return above * cf, (
                f"{fmt_quantity(above)} wRVU above the {fmt_quantity(limit)} threshold "
                f"(of {fmt_quantity(w)}) × {fmt_rate(cf)}"
            )
        assert self.tiers is not None
        tiers = self.tiers.at(day).value
        if self.method == "tiered_cliff":
            index = _tier_index(tiers, window_total, scale)
            rate = tiers[index].rate
            bound = "" if index == 0 else f" (> {fmt_quantity(_bound(tiers[index - 1], scale))})"
            return w * rate, (
                f"{fmt_quantity(w)} wRVU × {fmt_rate(rate)} (tier {index + 1} reached at "
                f"{fmt_quantity(window_total)} wRVU{bound}, all wRVU at that rate)"
            )
        return _marginal(tiers, start, w, scale)

    def _post(
        self, frame: Frame, p: Physician, seg: Segment, pieces: Sequence[_Piece]
    ) -> tuple[Posting, int, int]:
        share_entry = self.paid_share.at(seg.start)
        share = share_entry.value
        gross_amount = sum((pc.amount for pc in pieces), ZERO)
        gross_cents = frame.cents(gross_amount)
        paid_cents = frame.cents(gross_amount * share)
        own = sum((pc.own for pc in pieces), ZERO)
        app = sum((pc.app for pc in pieces), ZERO)
        texts = [pc.text for pc in pieces] or [f"{fmt_quantity(ZERO)} wRVU"]
        expression = " + ".join(texts)
        if len(texts) > 1:
            expression = f"({expression})"
        if share != ONE:
            expression += f" × {fmt_pct(share)}"
        explanation = f"{expression} = {fmt_cents(paid_cents)}"
        if app:
            explanation += f" (incl. {fmt_quantity(app)} wRVU APP supervision credit)"
        inputs = {
            "wrvu": str(own),
            "app_supervision_wrvu": str(app),
            "method": self.method,
            "paid_share": str(share),
            "fte_basis": self.fte_basis,
            "fte": str(fte_of(p, self.fte_basis)),
            "tier_reset": self.tier_reset,
            "gross": str(gross_amount),
        }
        param = self.conversion_factor or self.tiers
        line = self.line
        if param is not None:
            inputs["parameter"] = param.cite(seg.start)
            line = param.at(seg.start).line
        if self.method != "flat":
            inputs["threshold_scale"] = str(pieces[0].scale) if pieces else "0"
        posting = self.pay(frame, p, seg, paid_cents, explanation, inputs, line=line)
        return posting, paid_cents, gross_cents


@dataclass(frozen=True)
class _Piece:
    segment: int
    window_start: date
    window_end: date
    own: Decimal
    app: Decimal
    amount: Decimal
    text: str
    scale: Scale

    @property
    def wrvu(self) -> Decimal:
        return self.own + self.app


def _bound(tier: Tier, scale: Scale) -> Decimal:
    assert tier.up_to is not None
    return scale.apply(tier.up_to)


def _tier_index(tiers: Sequence[Tier], total: Decimal, scale: Scale) -> int:
    for index, tier in enumerate(tiers):
        if tier.up_to is None or total <= scale.apply(tier.up_to):
            return index
    return len(tiers) - 1


def _marginal(
    tiers: Sequence[Tier], start: Decimal, w: Decimal, scale: Scale
) -> tuple[Decimal, str]:
    """Price the wRVUs from position ``start`` to ``start + w`` tier by tier."""
    amount = ZERO
    parts: list[str] = []
    lower = ZERO
    end = start + w
    for tier in tiers:
        upper = None if tier.up_to is None else scale.apply(tier.up_to)
        lo = max(start, lower)
        hi = end if upper is None else min(end, upper)
        if hi > lo:
            amount += (hi - lo) * tier.rate
            parts.append(f"{fmt_quantity(hi - lo)} wRVU × {fmt_rate(tier.rate)}")
        if upper is None:
            break
        lower = upper
    if not parts:
        parts.append(f"{fmt_quantity(ZERO)} wRVU")
    return amount, " + ".join(parts)


# -- parsing ----------------------------------------------------------------------------


def _parse_tiers(r: Reader, value: Any, line: int) -> tuple[Tier, ...] | None:
    if not isinstance(value, PosList) or not value:
        r.diags.add(
            r.file,
            line,
            f"{r.where}: 'tiers' must be a list like [{{up_to: 4500, rate: 50}}, {{rate: 55}}]",
        )
        return None
    tiers: list[Tier] = []
    ok = True
    for index, item in enumerate(value):
        item_line = value.line_of(index)
        if not isinstance(item, PosDict):
            r.diags.add(
                r.file, item_line, f"{r.where}: each tier needs 'rate' and (but the last) 'up_to'"
            )
            ok = False
            continue
        sub = Reader(item, r.file, r.diags, f"{r.where} tier {index + 1}")
        rate = sub.number("rate", required=True, minimum=ZERO)
        up_to = sub.number("up_to", minimum=ZERO)
        sub.unknown_keys({"rate", "up_to"})
        if rate is None:
            ok = False
            continue
        last = index == len(value) - 1
        if up_to is None and not last:
            sub.error(None, "only the last tier may leave out 'up_to'")
            ok = False
        if up_to is not None and tiers and tiers[-1].up_to is not None and up_to <= tiers[-1].up_to:
            sub.error("up_to", f"tiers must ascend: {up_to} after {tiers[-1].up_to}")
            ok = False
        tiers.append(Tier(up_to, rate))
    if ok and tiers and tiers[-1].up_to is not None:
        r.diags.add(
            r.file,
            value.line_of(len(value) - 1),
            f"{r.where}: the last tier must have no 'up_to' (it covers every wRVU above)",
        )
        ok = False
    return tuple(tiers) if ok else None


def parse(r: Reader, base: dict[str, Any]) -> Productivity | None:
    method = r.choice("method", METHODS, "flat")
    cf = tiers = threshold = None
    if method in ("flat", "threshold"):
        cf = r.dated_number("conversion_factor", minimum=ZERO)
    if method == "threshold":
        threshold = r.dated_number("threshold", minimum=ZERO)
    if method in ("tiered_marginal", "tiered_cliff"):
        tiers = r.dated("tiers", lambda v, line: _parse_tiers(r, v, line))
    share = r.dated_number("paid_share", required=False, default=ONE, minimum=ZERO, maximum=ONE)
    fte_basis = r.choice("fte_basis", FTE_BASES, "clinical")
    reset = r.choice("tier_reset", RESETS, "annual")
    app = r.boolean("include_app_supervision", True)
    r.unknown_keys(
        {
            "method",
            "conversion_factor",
            "threshold",
            "tiers",
            "paid_share",
            "fte_basis",
            "tier_reset",
            "include_app_supervision",
            *base["_common_keys"],
        }
    )
    needed = {"flat": cf, "threshold": cf if threshold else None}.get(method, tiers)
    if needed is None or share is None:
        return None
    return Productivity(
        **base["fields"],
        method=method,
        conversion_factor=cf,
        tiers=tiers,
        threshold=threshold,
        paid_share=share,
        fte_basis=fte_basis,
        tier_reset=reset,
        include_app_supervision=app,
    )
