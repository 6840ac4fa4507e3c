"""Plotly figure specs (``{"data": [...], "layout": {...}}``) built on the server.

The page carries each figure as a JSON data block; ``static/portal.js`` hands it to the
``plotly.min.js`` shipped inside the ``plotly`` package.  No chart code is inline in a page.
"""

from __future__ import annotations

from typing import Any

COLORS = {"volume": "#54aeff", "mixed": "#d4a72c", "value": "#2da44e"}
_FONT = {"family": "system-ui, sans-serif", "size": 12}


def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "font": _FONT,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 30},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    base.update(extra)
    return base


def sankey(nodes: list[str], links: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "valueformat": "$,.2f",
                "node": {"label": nodes, "pad": 18, "thickness": 16},
                "link": {
                    "source": [link["source"] for link in links],
                    "target": [link["target"] for link in links],
                    "value": [float(link["value"]) for link in links],
                    "color": "rgba(9,105,218,0.28)",
                },
            }
        ],
        "layout": _layout(height=460, title={"text": "The cascade: payer → contract → system"}),
    }


def composition(rows: list[dict[str, Any]]) -> dict[str, Any]:
    specs = [r["specialty"] for r in rows]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": kind,
            "y": specs,
            "x": [float(r[kind]) for r in rows],
            "marker": {"color": COLORS[kind]},
            "hovertemplate": "%{y}: $%{x:,.0f}<extra>" + kind + "</extra>",
        }
        for kind in ("volume", "mixed", "value")
    ]
    return {
        "data": data,
        "layout": _layout(
            barmode="stack",
            height=max(260, 24 * len(rows) + 80),
            margin={"l": 170, "r": 10, "t": 30, "b": 30},
            yaxis={"autorange": "reversed"},
            xaxis={"tickprefix": "$", "tickformat": "~s"},
            legend={"orientation": "h", "y": 1.08},
            title={"text": "Pay composition by specialty"},
        ),
    }


def scorecard(measures: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """One row per measure: the rate (with its 95% interval), threshold / target / stretch
    markers and the peers' interquartile range."""
    labels = [m["label"] for m in measures]

    def series(key: str) -> list[float | None]:
        return [float(m[key]) * 100 if m.get(key) is not None else None for m in measures]

    rate = series("rate")
    err_lo = [
        (r - m["reliability"]["low"] * 100) if r is not None else None
        for r, m in zip(rate, measures, strict=True)
    ]
    err_hi = [
        (m["reliability"]["high"] * 100 - r) if r is not None else None
        for r, m in zip(rate, measures, strict=True)
    ]
    peers_lo = [m["peer"]["p25"] * 100 if m.get("peer") else None for m in measures]
    peers_hi = [m["peer"]["p75"] * 100 if m.get("peer") else None for m in measures]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "peers (middle half)",
            "y": labels,
            "base": peers_lo,
            "x": [
                (hi - lo) if hi is not None and lo is not None else None
                for lo, hi in zip(peers_lo, peers_hi, strict=True)
            ],
            "marker": {"color": "rgba(140,149,159,0.25)"},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "your rate",
            "y": labels,
            "x": rate,
            "marker": {"size": 13, "color": "#0969da"},
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": err_hi,
                "arrayminus": err_lo,
                "color": "#0969da",
                "thickness": 1.2,
            },
            "hovertemplate": "%{y}: %{x:.1f}%<extra>your rate</extra>",
        },
    ]
    for key, name, color, symbol in (
        ("threshold", "threshold", "#cf222e", "line-ns-open"),
        ("target", "target", "#1a7f37", "line-ns-open"),
        ("stretch", "stretch", "#8250df", "line-ns-open"),
    ):
        xs = series(key)
        if any(x is not None for x in xs):
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": name,
                    "y": labels,
                    "x": xs,
                    "marker": {
                        "symbol": symbol,
                        "size": 22,
                        "color": color,
                        "line": {"width": 3, "color": color},
                    },
                    "hovertemplate": "%{y}: " + name + " %{x:.1f}%<extra></extra>",
                }
            )
    return {
        "data": data,
        "layout": _layout(
            height=90 + 46 * len(measures),
            barmode="overlay",
            margin={"l": 220, "r": 10, "t": 34, "b": 36},
            xaxis={"range": [0, 100], "ticksuffix": "%"},
            yaxis={"autorange": "reversed"},
            legend={"orientation": "h", "y": -0.25},
            title={"text": title},
        ),
    }


def trend(points: list[dict[str, Any]]) -> dict[str, Any]:
    periods = [p["period"] for p in points]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "total pay",
                "x": periods,
                "y": [float(p["total"]) for p in points],
                "hovertemplate": "%{x}: $%{y:,.2f}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "value-linked share",
                "x": periods,
                "y": [float(p["value_linked_share"]) * 100 for p in points],
                "yaxis": "y2",
                "hovertemplate": "%{x}: %{y:.1f}%<extra></extra>",
            },
        ],
        "layout": _layout(
            height=260,
            xaxis={"type": "category"},
            yaxis={"tickprefix": "$", "tickformat": "~s", "rangemode": "tozero"},
            yaxis2={"overlaying": "y", "side": "right", "ticksuffix": "%", "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.2},
            title={"text": "Trend across periods"},
        ),
    }
