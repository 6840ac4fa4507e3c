"""wRVU crediting policy: which billing adjustments a plan applies to a physician's lines.

A line's wRVU = work RVU of (HCPCS, modifier) from the CMS Physician Fee Schedule (or the
line's own ``wrvu``) × units × the adjustments the physician's plan turns on
(``shared/docs/DOMAIN.md`` §1).  Each adjustment mirrors how Medicare pays the professional
fee for the modifier (Medicare Claims Processing Manual, Pub. 100-04, chapter 12); an
organisation decides whether its wRVU credit follows it, so each is a plan parameter and
``None`` turns it off (the line is credited at 100%).

Adjustments are applied in this order, each to the result of the one before, so their wRVU
effects add up to the difference between the unadjusted and the credited wRVU:
bilateral (50) → multiple procedure (51) → co-surgeon (62) → assistant at surgery
(80/81/82/AS) → split/shared (FS).  The order follows Medicare, which prices a bilateral
procedure at 150% before ranking it for the multiple-procedure reduction (ch. 12 §40.6-40.7).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Literal

from paycascade.money import D

CreditOn = Literal["paid", "submitted"]

#: Decimal places of a combined factor (the product of the factors applied to one line).  Any
#: product of factors with 12 decimal places between them is exact, e.g. 0.625 × 0.5 × 1.5
#: (five); a plan would need factors such as 0.123457 × 0.654321 × 1.5 to see it rounded.
COMBINED_PLACES = 12

#: Modifiers that make a line an assistant-at-surgery line (ch. 12 §20.4.3).
ASSISTANT_MODIFIERS: tuple[str, ...] = ("80", "81", "82", "AS")

#: adjustment name -> (policy field, modifiers that trigger it)
ADJUSTMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bilateral", ("50",)),
    ("multiple_procedure", ("51",)),
    ("co_surgeon", ("62",)),
    ("assistant_at_surgery", ASSISTANT_MODIFIERS),
    ("split_shared", ("FS",)),
)


@dataclass(frozen=True)
class CreditingPolicy:
    """How a plan credits wRVUs.  Factors are shares of the line's work RVU × units.

    ``co_surgeon`` (modifier 62), default 0.625
        Each co-surgeon is credited 62.5% — Medicare pays each of two co-surgeons 62.5% of the
        fee schedule amount (ch. 12 §40.8; DOMAIN.md §1).
    ``assistant_at_surgery`` (modifiers 80, 81, 82, AS), default 0.16
        An assistant at surgery is credited 16% — Medicare pays 16% of the surgeon's fee
        schedule amount (ch. 12 §20.4.3).  The further 85% for a non-physician assistant (AS)
        is a payment rule, not a work measure, and is not applied.
    ``multiple_procedure`` (modifier 51), default 0.5
        A procedure billed with 51 is credited 50% — Medicare pays 100% for the highest-valued
        procedure and 50% for each other one of the same session (ch. 12 §40.6); the line the
        practice bills without 51 stays at 100%.
    ``bilateral`` (modifier 50), default 1.5
        A bilateral procedure billed on one line with 50 is credited 150% (ch. 12 §40.7).
    ``split_shared`` (modifier FS), default 1
        The share of a split/shared visit credited to the billing practitioner (the line's
        NPI, who performed the substantive portion; ch. 12 §30.6.18).  1 credits all of it.
    ``app_supervision``, default 0
        The share of an APP's credited wRVU that is also credited to the supervising physician
        named in ``physicians.supervising_npi`` (an organisational choice, DOMAIN.md §1); the
        supervising physician's plan decides the share.  The APP keeps their own credit.
    ``credit_on``, default ``'paid'``
        ``'paid'`` credits only lines with status ``paid``; ``'submitted'`` credits every line
        except ``void`` (denied lines included until they are reversed).  Denied lines are
        never credited under ``'paid'`` (DOMAIN.md §1).
    ``rvu_vintage``, default ``None``
        The PFS year whose work RVUs the plan credits (plans that froze values after the 2021
        E/M revaluation); ``None`` means the workspace's PFS file.  Recorded for the run; the
        engine loads the PFS file the workspace names.
    """

    co_surgeon: Decimal | None = Decimal("0.625")
    assistant_at_surgery: Decimal | None = Decimal("0.16")
    multiple_procedure: Decimal | None = Decimal("0.5")
    bilateral: Decimal | None = Decimal("1.5")
    split_shared: Decimal | None = Decimal("1")
    app_supervision: Decimal | None = Decimal("0")
    credit_on: CreditOn = "paid"
    rvu_vintage: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in ("credit_on", "rvu_vintage"):
                continue
            raw = getattr(self, f.name)
            if raw is None:
                continue
            value = D(raw)
            if not value.is_finite() or value < 0 or value > 10:
                raise ValueError(f"{f.name} must be between 0 and 10, got {raw}")
            object.__setattr__(self, f.name, value)
        if self.credit_on not in ("paid", "submitted"):
            raise ValueError(f"credit_on must be 'paid' or 'submitted', got {self.credit_on!r}")
        if self.rvu_vintage is not None and not 1992 <= int(self.rvu_vintage) <= 2100:
            raise ValueError(f"rvu_vintage must be a year, got {self.rvu_vintage}")

    @classmethod
    def off(cls, *, credit_on: CreditOn = "paid") -> CreditingPolicy:
        """Every adjustment off: each line credited at 100% of work RVU × units."""
        return cls(
            co_surgeon=None,
            assistant_at_surgery=None,
            multiple_procedure=None,
            bilateral=None,
            split_shared=None,
            app_supervision=None,
            credit_on=credit_on,
        )

    def factor(self, adjustment: str) -> Decimal:
        """The share credited when the adjustment applies; 1 when it is off."""
        value: Decimal | None = getattr(self, adjustment)
        return Decimal(1) if value is None else value

    def applies(self, adjustment: str) -> bool:
        """Whether the plan turns the adjustment on."""
        return getattr(self, adjustment) is not None

    @property
    def mask(self) -> int:
        """Bit ``k`` set when adjustment ``k`` of :data:`ADJUSTMENTS` is turned on."""
        return sum(1 << k for k, (adj, _) in enumerate(ADJUSTMENTS) if self.applies(adj))

    def combined(self, applied: int) -> tuple[Decimal, tuple[Decimal, ...]]:
        """For a line whose applied adjustments are the bits of ``applied``: the share credited
        and each adjustment's effect as a share of the unadjusted wRVU.

        Adjustments apply in :data:`ADJUSTMENTS` order, each to the result of the one before,
        so the effects add up to ``combined - 1``.  Values are rounded (half up) to
        :data:`COMBINED_PLACES` decimal places, which changes nothing for realistic factors.
        """
        quantum = Decimal(1).scaleb(-COMBINED_PLACES)
        factor = Decimal(1)
        effects: list[Decimal] = []
        with localcontext() as ctx:
            ctx.prec = 80
            for k, (adj, _) in enumerate(ADJUSTMENTS):
                if applied & (1 << k) and self.applies(adj):
                    after = (factor * self.factor(adj)).quantize(quantum, rounding=ROUND_HALF_UP)
                else:
                    after = factor
                effects.append(after - factor)
                factor = after
        return factor, tuple(effects)

    @property
    def supervision_share(self) -> Decimal:
        """The share of an APP's wRVU credited to this plan's supervising physicians."""
        return self.app_supervision if self.app_supervision is not None else Decimal(0)
