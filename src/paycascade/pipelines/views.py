"""From the pipeline's marts (small Arrow tables) to what components and statements read."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from paycascade.money import ONE, ZERO, fmt_decimal
from paycascade.plans.model import PlanData


def exact(value: Any) -> Decimal:
    """A Decimal without trailing zeros (the marts carry 12 places) and never in E-notation."""
    if value is None:
        return ZERO
    d = (value if isinstance(value, Decimal) else Decimal(str(value))).normalize()
    if not d.is_finite() or d != d.to_integral_value():
        return d
    # normalize() writes whole numbers ending in zeros as 1E+2: written out again (quantize
    # within the context's 28 digits, the text form beyond)
    return d.quantize(ONE) if d.adjusted() < 27 else Decimal(format(d, "f"))


def exact_values(column: Any) -> list[Decimal]:
    """:func:`exact` of every value of an Arrow column, the trailing zeros cut on the column.

    A decimal with places is written out by Arrow and its trailing zeros (and a bare point)
    are cut there; Python only parses the text.  Arrow writes values below 10⁻⁶ (and zero)
    in E-notation: those take :func:`exact`, as do columns of other types."""
    kind = column.type
    if pa.types.is_decimal(kind) and kind.scale > 0 and kind.precision <= 38:
        # 123.450000 → 123.45, 100.000000 → 100; E-notation does not match and is kept
        texts = pc.replace_substring_regex(
            pc.cast(column, pa.string()), r"^(-?\d+)(?:(\.\d*[1-9])0*|\.0*)$", r"\1\2"
        )
        return [
            ZERO if t is None else exact(Decimal(t)) if "E" in t else Decimal(t)
            for t in texts.to_pylist()
        ]
    return [exact(v) for v in column.to_pylist()]


def _rows(table: Any) -> Iterator[dict[str, Any]]:
    if table is None:
        return iter(())
    return iter(table.to_pylist())


def to_plan_data(aggs: Any, bucket_starts: Sequence[date]) -> PlanData:
    """The marts, keyed per physician for the components (read column by column)."""
    data = PlanData(bucket_starts=list(bucket_starts))
    for npi, bucket, source, wrvu, lines in zip(
        *_columns(aggs.wrvu, "npi", "bucket", "source", "wrvu", "lines", exactly={"wrvu"}),
        strict=True,
    ):
        key = (str(npi), int(bucket))
        target = data.app_wrvu if source == "app_supervision" else data.wrvu
        target[key] = target.get(key, ZERO) + wrvu
        if source != "app_supervision":
            data.wrvu_lines[key[0]] = data.wrvu_lines.get(key[0], 0) + int(lines or 0)
    sums = ("member_months", "risk_adjusted_member_months", "expected_cost", "actual_cost")
    panel = _columns(aggs.panel, "npi", "bucket", *sums, exactly=set(sums))
    for npi, bucket, months, risk_months, expected, actual in zip(*panel, strict=True):
        key = (str(npi), int(bucket))
        data.member_months[key] = data.member_months.get(key, ZERO) + months
        data.risk_member_months[key] = data.risk_member_months.get(key, ZERO) + risk_months
        npi = key[0]
        data.expected_cost[npi] = data.expected_cost.get(npi, ZERO) + expected
        data.actual_cost[npi] = data.actual_cost.get(npi, ZERO) + actual
    for npi, bucket, kind, shifts, hours in zip(
        *_columns(
            aggs.shifts,
            "npi",
            "bucket",
            "shift_type",
            "shifts",
            "hours",
            exactly={"shifts", "hours"},
        ),
        strict=True,
    ):
        data.shifts.setdefault(str(npi), []).append((int(bucket), str(kind), shifts, hours))
    for npi, bucket, kind, hours in zip(
        *_columns(aggs.hours, "npi", "bucket", "kind", "hours", exactly={"hours"}), strict=True
    ):
        data.hours.setdefault(str(npi), []).append((int(bucket), str(kind or ""), hours))
    for npi, bucket, activity, quantity in zip(
        *_columns(aggs.activities, "npi", "bucket", "activity", "quantity", exactly={"quantity"}),
        strict=True,
    ):
        data.activities.setdefault(str(npi), []).append((int(bucket), str(activity), quantity))
    counts = ("numerator", "denominator", "exclusions")
    for npi, measure, numerator, denominator, exclusions in zip(
        *_columns(aggs.quality, "npi", "measure", *counts, exactly=set(counts)), strict=True
    ):
        data.quality[(str(npi), str(measure))] = (numerator, denominator, exclusions)
    for r in _rows(aggs.stipends):
        amount = r.get("annual_amount")
        data.stipends.setdefault(str(r["npi"]), []).append(
            (
                str(r["stipend"]),
                None if amount is None else exact(amount),
                r.get("start_date"),
                r.get("end_date"),
            )
        )
    for r in _rows(getattr(aggs, "ownership", None)):
        data.ownership.setdefault(str(r["npi"]), []).append((str(r["venture"]), exact(r["share"])))
    for r in _rows(getattr(aggs, "effort", None)):
        data.effort[str(r["npi"])] = {
            k: exact(r.get(k))
            for k in ("clinical", "research", "teaching", "admin", "grant_funded")
        }
    return data


def _columns(table: Any, *names: str, exactly: Collection[str] = ()) -> list[list[Any]]:
    """Columns of an Arrow table as Python lists (a column the table lacks: all None; a column
    named in ``exactly``: :func:`exact_values`, zero where missing)."""
    if table is None:
        return [[] for _ in names]
    present = set(table.column_names)
    out: list[list[Any]] = []
    for n in names:
        if n not in present:
            out.append([ZERO if n in exactly else None] * table.num_rows)
        elif n in exactly:
            out.append(exact_values(table.column(n)))
        else:
            out.append(table.column(n).to_pylist())
    return out


def _number(value: Any) -> Decimal:
    """A mart value as a Decimal (as it is when it is one: only formatted to cents here)."""
    return value if type(value) is Decimal else exact(value)


def quantities(values: Any) -> list[str]:
    """``fmt_decimal`` of every value of an Arrow column (two places, half away from zero,
    thousands separators), rounded on the column: per value, Python only adds separators.

    Negative values and nulls take ``fmt_decimal`` itself (a value rounding to zero from below
    is ``-0.00`` there, which an Arrow decimal cannot hold)."""
    if not pa.types.is_decimal(values.type) or values.type.precision > 38:
        return [fmt_decimal(_number(v)) for v in values.to_pylist()]
    rounded = pc.round(values, 2, "half_towards_infinity")
    texts = pc.cast(pc.cast(rounded, pa.decimal128(38, 2)), pa.string()).to_pylist()
    below = pc.fill_null(pc.less(values, pa.scalar(Decimal(0), values.type)), True).to_pylist()
    raw: list[Any] | None = None
    out = []
    for i, text in enumerate(texts):
        if below[i]:  # negative, or null
            raw = values.to_pylist() if raw is None else raw
            out.append(fmt_decimal(_number(raw[i])))
        elif len(text) > 6:  # 1000.00 and up
            whole, cents = text.split(".")
            out.append(f"{int(whole):,}.{cents}")
        else:
            out.append(text)
    return out


def wrvu_summaries(aggs: Any, top: int = 10) -> dict[str, dict[str, Any]]:
    """Per physician: total credited wRVU, lines, the top codes and the crediting adjustments.

    Read column by column (no dict per mart row): this runs for every physician of a run."""
    out: dict[str, dict[str, Any]] = {}
    for npi, source, wrvu, lines in zip(
        *_columns(aggs.wrvu, "npi", "source", "wrvu", "lines"), strict=True
    ):
        s = out.setdefault(str(npi), {"total": ZERO, "lines": 0, "app_supervision": ZERO})
        if source == "app_supervision":
            s["app_supervision"] += _number(wrvu)
        else:
            s["total"] += _number(wrvu)
            s["lines"] += int(lines or 0)
    codes: dict[str, list[dict[str, Any]]] = {}
    ranked = _top_per_physician(aggs.wrvu_codes, top)
    npis, hcpcs_codes, code_lines = _columns(ranked, "npi", "hcpcs", "lines")
    wrvu_texts = quantities(ranked.column("wrvu")) if ranked is not None else []
    for npi, hcpcs, lines, wrvu in zip(npis, hcpcs_codes, code_lines, wrvu_texts, strict=True):
        codes.setdefault(str(npi), []).append(
            {"hcpcs": str(hcpcs), "lines": int(lines or 0), "wrvu": wrvu}
        )
    adjustments: dict[str, list[dict[str, Any]]] = {}
    for npi, adjustment, lines, effect in zip(
        *_columns(aggs.wrvu_adjustments, "npi", "adjustment", "lines", "wrvu_effect"),
        strict=True,
    ):
        adjustments.setdefault(str(npi), []).append(
            {
                "adjustment": str(adjustment),
                "lines": int(lines or 0),
                "wrvu_effect": fmt_decimal(_number(effect)),
            }
        )
    result: dict[str, dict[str, Any]] = {}
    for npi, s in out.items():
        result[npi] = {
            "total": fmt_decimal(s["total"]),
            "lines": s["lines"],
            "app_supervision": fmt_decimal(s["app_supervision"]),
            "top_codes": codes.get(npi, [])[:top],
            "adjustments": sorted(adjustments.get(npi, []), key=lambda a: a["adjustment"]),
        }
    return result


def _top_per_physician(codes: Any, top: int) -> Any:
    """The ``top`` codes of each physician by credited wRVU (ties by code), in that order."""
    if codes is None or codes.num_rows == 0:
        return codes
    ranked = codes.sort_by([("npi", "ascending"), ("wrvu", "descending"), ("hcpcs", "ascending")])
    keep: list[int] = []
    previous, seen = None, 0
    for i, npi in enumerate(ranked.column("npi").to_pylist()):
        if npi != previous:
            previous, seen = npi, 0
        if seen < top:
            keep.append(i)
        seen += 1
    return ranked.take(keep)
