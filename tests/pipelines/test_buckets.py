"""Buckets: where a plan changes inside the period."""

from __future__ import annotations

from datetime import date

from paycascade.pipelines.aggregate import Bucket, make_buckets

from .conftest import Workspace, line, physician


def test_breakpoints_strictly_inside_the_period_make_buckets() -> None:
    buckets = make_buckets(
        date(2026, 1, 1),
        date(2026, 12, 31),
        [
            date(2026, 7, 1),
            date(2026, 4, 1),
            date(2026, 7, 1),  # repeated
            date(2026, 1, 1),  # the period start: not a new bucket
            date(2025, 12, 1),  # before the period
            date(2027, 1, 1),  # after the period
        ],
    )
    assert buckets == (
        Bucket(0, date(2026, 1, 1), date(2026, 3, 31)),
        Bucket(1, date(2026, 4, 1), date(2026, 6, 30)),
        Bucket(2, date(2026, 7, 1), date(2026, 12, 31)),
    )


def test_a_breakpoint_on_the_last_day_makes_a_one_day_bucket() -> None:
    assert make_buckets(date(2026, 1, 1), date(2026, 12, 31), [date(2026, 12, 31)]) == (
        Bucket(0, date(2026, 1, 1), date(2026, 12, 30)),
        Bucket(1, date(2026, 12, 31), date(2026, 12, 31)),
    )


def test_lines_go_to_the_bucket_their_date_falls_in(ws: Workspace) -> None:
    ws.csv("physicians", [physician(1)])
    ws.csv(
        "encounters",
        [
            line(1, "99213", "2025-12-31"),  # before the period: ignored
            line(1, "99213", "2026-01-01"),  # period start: bucket 0
            line(1, "99213", "2026-03-31"),  # bucket 0
            line(1, "99213", "2026-04-01", units="2"),  # on the breakpoint: the later bucket
            line(1, "99213", "2026-07-01", units="3"),  # on the breakpoint: bucket 2
            line(1, "99213", "2026-12-31", units="4"),  # period end: counted
            line(1, "99213", "2027-01-01", units="5"),  # after the period: ignored
        ],
    )
    assert not ws.load().has_errors()
    agg = ws.run(breakpoints=[date(2026, 4, 1), date(2026, 7, 1)])
    rows = [
        (r["bucket"], r["bucket_start"], r["bucket_end"], r["lines"], str(r["units"]))
        for r in agg.wrvu.to_pylist()
    ]
    assert rows == [
        (0, date(2026, 1, 1), date(2026, 3, 31), 2, "2.0000"),
        (1, date(2026, 4, 1), date(2026, 6, 30), 1, "2.0000"),
        (2, date(2026, 7, 1), date(2026, 12, 31), 2, "7.0000"),
    ]
    assert [b.index for b in agg.buckets] == [0, 1, 2]
