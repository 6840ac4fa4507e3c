"""Scenario outputs: CSV files and one self-contained HTML report (inline SVG, no scripts)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from paycascade.money import fmt_cents, plain_cents
from paycascade.scenarios.diff import Diff
from paycascade.scenarios.montecarlo import Risk
from paycascade.scenarios.simulator import Simulation
from paycascade.scenarios.solve import Point, Solution
from paycascade.scenarios.transition import Year

PHYSICIAN_COLUMNS = [
    "npi",
    "name",
    "specialty",
    "plan_before",
    "plan_after",
    "before",
    "after",
    "delta",
    "delta_pct",
    "value_linked_before",
    "value_linked_after",
]
SPECIALTY_COLUMNS = [
    "specialty",
    "physicians",
    "winners",
    "losers",
    "unchanged",
    "before",
    "after",
    "delta",
    "value_linked_before",
    "value_linked_after",
]


def _pct(value: Decimal | None) -> str:
    return "" if value is None else f"{(value * 100).quantize(Decimal('0.01'))}%"


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def physicians_csv(diff: Diff) -> str:
    return _csv(
        PHYSICIAN_COLUMNS,
        [
            [
                r.npi,
                r.name,
                r.specialty,
                r.plan_before,
                r.plan_after,
                plain_cents(r.before),
                plain_cents(r.after),
                plain_cents(r.delta),
                "" if r.pct is None else str(r.pct),
                str(r.vls_before),
                str(r.vls_after),
            ]
            for r in diff.rows
        ],
    )


def specialties_csv(diff: Diff) -> str:
    return _csv(
        SPECIALTY_COLUMNS,
        [
            [
                s.specialty,
                str(s.physicians),
                str(s.winners),
                str(s.losers),
                str(s.unchanged),
                plain_cents(s.before),
                plain_cents(s.after),
                plain_cents(s.delta),
                str(s.vls_before),
                str(s.vls_after),
            ]
            for s in diff.specialties
        ],
    )


def summary(diff: Diff) -> dict[str, Any]:
    return {
        "physicians": len(diff.rows),
        "total_before": plain_cents(diff.total_before),
        "total_after": plain_cents(diff.total_after),
        "budget_impact": plain_cents(diff.budget_impact),
        "budget_impact_pct": "" if diff.budget_impact_pct is None else str(diff.budget_impact_pct),
        "value_linked_before": str(diff.vls_before),
        "value_linked_after": str(diff.vls_after),
        "winners": diff.winners,
        "losers": diff.losers,
        "contracts_delta": plain_cents(diff.contracts_delta),
        "system_net": plain_cents(diff.system_net),
    }


# -- SVG ------------------------------------------------------------------------------------


def bar_chart(labels: Sequence[str], values: Sequence[int], title: str) -> str:
    """Horizontal bars around zero (values in cents)."""
    width, row, left = 640, 22, 200
    height = row * len(values) + 40
    peak = max((abs(v) for v in values), default=1) or 1
    half = (width - left - 20) / 2
    zero = left + half
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{zero}" y1="24" x2="{zero}" y2="{height - 8}" stroke="#555"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 28 + i * row
        w = abs(value) / peak * half
        x = zero if value >= 0 else zero - w
        color = "#2b8a3e" if value >= 0 else "#c92a2a"
        parts.append(f'<text x="4" y="{y + 14}" font-size="12">{escape(label)}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>'
        )
        tx = zero + 4 if value < 0 else zero - 4
        anchor = "start" if value < 0 else "end"
        parts.append(
            f'<text x="{tx:.1f}" y="{y + 14}" font-size="11" text-anchor="{anchor}">'
            f"{escape(fmt_cents(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    xs: Sequence[float], series: Sequence[tuple[str, Sequence[float], str]], title: str
) -> str:
    """One or more series against x, each scaled to its own range (labelled min–max)."""
    width, height, pad = 640, 260, 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{pad}" y="30" width="{width - 2 * pad}" height="{height - 70}" '
        'fill="none" stroke="#999"/>',
    ]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    span_x = (x1 - x0) or 1.0
    for k, (name, ys, color) in enumerate(series):
        if not ys:
            continue
        y0, y1 = min(ys), max(ys)
        span_y = (y1 - y0) or 1.0
        points = " ".join(
            f"{pad + (x - x0) / span_x * (width - 2 * pad):.1f},"
            f"{height - 40 - (y - y0) / span_y * (height - 70):.1f}"
            for x, y in zip(xs, ys, strict=True)
        )
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        parts.append(
            f'<text x="{pad}" y="{height - 20 + 12 * k}" font-size="11" fill="{color}">'
            f"{escape(name)}: {y0:,.4g} – {y1:,.4g}</text>"
        )
    parts.append(
        f'<text x="{width - pad}" y="{height - 44}" font-size="11" text-anchor="end">'
        f"x: {x0:g} – {x1:g}</text></svg>"
    )
    return "".join(parts)


def histogram_chart(risk: Risk) -> str:
    width, height, pad = 640, 180, 30
    peak = max((c for _, _, c in risk.histogram), default=1) or 1
    n = len(risk.histogram) or 1
    bw = (width - 2 * pad) / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="settlements under {risk.track.label}">',
        f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(risk.track.label)}: '
        f"settlement distribution ({risk.draws:,} draws)</text>",
    ]
    for i, (lo, hi, count) in enumerate(risk.histogram):
        h = count / peak * (height - 60)
        color = "#c92a2a" if hi <= 0 else "#2b8a3e" if lo >= 0 else "#868e96"
        parts.append(
            f'<rect x="{pad + i * bw:.1f}" y="{height - 30 - h:.1f}" width="{bw - 1:.1f}" '
            f'height="{h:.1f}" fill="{color}"/>'
        )
    first = risk.histogram[0][0] if risk.histogram else 0
    last = risk.histogram[-1][1] if risk.histogram else 0
    parts.append(
        f'<text x="{pad}" y="{height - 12}" font-size="11">{escape(fmt_cents(first))}</text>'
        f'<text x="{width - pad}" y="{height - 12}" font-size="11" text-anchor="end">'
        f"{escape(fmt_cents(last))}</text></svg>"
    )
    return "".join(parts)


# -- HTML -----------------------------------------------------------------------------------

STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}
td.n{text-align:right;font-variant-numeric:tabular-nums}h2{margin-top:1.6em}
.note{color:#555;font-size:90%}"""


def page(title: str, sections: Sequence[str]) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
        + "".join(sections)
        + '<p class="note">paycascade scenario report: self-contained, no scripts, no network.'
        "</p></body></html>"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(c)}</td>' if i >= numeric_from else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def scenario_sections(diff: Diff, name: str, description: str | None) -> list[str]:
    out = []
    if description:
        out.append(f"<p>{escape(description)}</p>")
    out.append("<h2>Headline</h2>")
    out.append(
        table(
            ["", "before", "after", "change"],
            [
                [
                    "total physician pay",
                    fmt_cents(diff.total_before),
                    fmt_cents(diff.total_after),
                    f"{fmt_cents(diff.budget_impact)} ({_pct(diff.budget_impact_pct)})",
                ],
                [
                    "value-linked share",
                    _pct(diff.vls_before),
                    _pct(diff.vls_after),
                    _pct(diff.vls_after - diff.vls_before),
                ],
                ["winners / losers", "", "", f"{diff.winners} / {diff.losers}"],
                [
                    "contract results",
                    fmt_cents(sum(c.before for c in diff.contracts)),
                    fmt_cents(sum(c.after for c in diff.contracts)),
                    fmt_cents(diff.contracts_delta),
                ],
                ["system net (contracts − pay)", "", "", fmt_cents(diff.system_net)],
            ],
        )
    )
    out.append("<h2>By specialty</h2>")
    changed = [s for s in diff.specialties if s.delta or s.vls_after != s.vls_before]
    if changed:
        out.append(
            bar_chart(
                [s.specialty for s in changed],
                [s.delta for s in changed],
                "Change in pay by specialty",
            )
        )
    out.append(
        table(
            ["specialty", "n", "winners", "losers", "before", "after", "change", "value-linked"],
            [
                [
                    s.specialty,
                    str(s.physicians),
                    str(s.winners),
                    str(s.losers),
                    fmt_cents(s.before),
                    fmt_cents(s.after),
                    fmt_cents(s.delta),
                    f"{_pct(s.vls_before)} → {_pct(s.vls_after)}",
                ]
                for s in diff.specialties
            ],
        )
    )
    movers = sorted((r for r in diff.rows if r.delta), key=lambda r: r.delta)
    if movers:
        out.append("<h2>Physicians whose pay changes</h2>")
        out.append(
            table(
                ["npi", "name", "specialty", "plan", "before", "after", "change", "%"],
                [
                    [
                        r.npi,
                        r.name,
                        r.specialty,
                        r.plan_before
                        if r.plan_before == r.plan_after
                        else f"{r.plan_before} → {r.plan_after}",
                        fmt_cents(r.before),
                        fmt_cents(r.after),
                        fmt_cents(r.delta),
                        _pct(r.pct),
                    ]
                    for r in movers
                ],
                numeric_from=4,
            )
        )
    if diff.contracts:
        out.append("<h2>Payer contracts</h2>")
        out.append(
            table(
                ["contract", "result before", "after", "to physicians before", "after"],
                [
                    [
                        c.contract_id,
                        fmt_cents(c.before),
                        fmt_cents(c.after),
                        fmt_cents(c.to_physicians_before),
                        fmt_cents(c.to_physicians_after),
                    ]
                    for c in diff.contracts
                ],
            )
        )
    return out


def findings_section(appeared: Sequence[Any], disappeared: Sequence[Any]) -> str:
    rows = [["appears", str(f)] for f in appeared] + [["disappears", str(f)] for f in disappeared]
    if not rows:
        return "<h2>Guardrail findings</h2><p>No finding appears or disappears.</p>"
    return "<h2>Guardrail findings</h2>" + table(["", "finding"], rows, numeric_from=9)


def solution_section(solution: Solution) -> str:
    return "<h2>Budget-neutral solve</h2>" + table(
        ["parameter", "value", "total pay", "target", "gap", "evaluations"],
        [
            [
                str(solution.param),
                f"{solution.value}",
                fmt_cents(solution.total_cents),
                fmt_cents(solution.target_cents),
                fmt_cents(solution.gap_cents),
                str(solution.iterations),
            ]
        ],
    )


def sweep_section(param: str, points: Sequence[Point]) -> str:
    xs = [float(p.value) for p in points]
    chart = line_chart(
        xs,
        [
            ("total pay ($)", [p.total_cents / 100 for p in points], "#1c7ed6"),
            ("value-linked share", [float(p.vls) for p in points], "#e67700"),
        ],
        f"Sweep of {param}",
    )
    rows = [[str(p.value), fmt_cents(p.total_cents), _pct(p.vls)] for p in points]
    return (
        f"<h2>Sweep: {escape(param)}</h2>"
        + chart
        + table(["value", "total pay", "value-linked"], rows)
    )


def transition_section(years: Sequence[Year]) -> str:
    chart = line_chart(
        [float(y.year) for y in years],
        [
            ("total pay ($)", [y.cost_cents / 100 for y in years], "#1c7ed6"),
            ("value-linked share", [float(y.value_linked_share) for y in years], "#e67700"),
        ],
        "Transition: cost and value-linked share by year",
    )
    rows = [
        [
            str(y.year),
            _pct(y.on_new_plan),
            fmt_cents(y.cost_cents),
            fmt_cents(y.vs_baseline_cents),
            _pct(y.value_linked_share),
        ]
        for y in years
    ]
    return (
        "<h2>Transition plan</h2>"
        + chart
        + table(["year", "on new plan", "total pay", "vs baseline", "value-linked"], rows)
    )


def risk_sections(risks: Sequence[Risk], header: str) -> list[str]:
    rows = [
        [
            r.track.label,
            fmt_cents(r.deterministic_cents),
            fmt_cents(r.mean_cents),
            f"{r.p_owe:.2%}",
            f"{r.p_paid:.2%}",
            fmt_cents(r.p5_cents),
            fmt_cents(r.p95_cents),
            fmt_cents(r.pool_mean_cents),
            f"{fmt_cents(r.pool_p5_cents)} – {fmt_cents(r.pool_p95_cents)}",
        ]
        for r in risks
    ]
    out = [
        f"<h2>Contract risk</h2><p>{escape(header)}</p>",
        table(
            [
                "track",
                "at expected spending",
                "expected",
                "P(owe losses)",
                "P(paid)",
                "5th pct",
                "95th pct",
                "physician pool (mean)",
                "pool 5th–95th",
            ],
            rows,
        ),
    ]
    out.extend(histogram_chart(r) for r in risks)
    return out


def simulation_sections(sim: Simulation) -> list[str]:
    out = ["<h2>Value-penalty simulator</h2>"]
    out.append(
        table(
            ["service", "units fewer", "wRVU fewer", "facility technical", "payer spending"],
            [
                [
                    s.hcpcs,
                    f"{s.units.normalize():f}",
                    f"{s.wrvu.normalize():f}",
                    fmt_cents(s.technical_cents),
                    fmt_cents(s.payer_cents),
                ]
                for s in sim.services
            ],
        )
    )
    out.append(
        table(
            ["side", "change"],
            [
                ["facility revenue (technical / DRG)", fmt_cents(sim.facility_delta)],
                ["payer spending", fmt_cents(sim.payer_delta)],
                [
                    f"contract {sim.contract or '—'} expenditures",
                    fmt_cents(sim.contract_expenditure_delta),
                ],
                ["contract settlement", fmt_cents(sim.settlement_delta)],
            ],
        )
    )
    out.append(
        table(
            ["plan", "wRVU", "pay before", "pay after", "pay change", "of which pass-through"],
            [
                [
                    p.plan,
                    f"{p.wrvu_before} → {p.wrvu_after}",
                    fmt_cents(p.pay_before),
                    fmt_cents(p.pay_after),
                    fmt_cents(p.pay_delta),
                    fmt_cents(p.pass_through_delta),
                ]
                for p in sim.plans
            ],
        )
    )
    out.append(
        bar_chart(
            [p.plan for p in sim.plans],
            [p.pay_delta for p in sim.plans],
            "Physician pay change by plan",
        )
    )
    return out


def write_scenario(
    out_dir: Path, name: str, description: str | None, diff: Diff, extra: Sequence[str] = ()
) -> list[Path]:
    """physicians.csv, specialties.csv, summary.json and report.html in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "physicians.csv": physicians_csv(diff),
        "specialties.csv": specialties_csv(diff),
        "summary.json": json.dumps({"name": name, **summary(diff)}, indent=2) + "\n",
        "report.html": page(name, [*scenario_sections(diff, name, description), *extra]),
    }
    paths = []
    for file, text in files.items():
        path = out_dir / file
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
