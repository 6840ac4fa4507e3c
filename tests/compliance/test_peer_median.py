"""The O(log n) peer median equals statistics.median of the peers (everyone but oneself)."""

from __future__ import annotations

from decimal import Decimal
from statistics import median

from hypothesis import given
from hypothesis import strategies as st

from paycascade.compliance.gaming import _median_without


@given(st.lists(st.integers(0, 1000), min_size=2, max_size=40), st.data())
def test_median_without_oneself(values: list[int], data: st.DataObject) -> None:
    ordered = sorted(Decimal(v) / 1000 for v in values)
    own = data.draw(st.sampled_from(ordered))
    peers = list(ordered)
    peers.remove(own)
    assert _median_without(ordered, own) == Decimal(median(peers))
