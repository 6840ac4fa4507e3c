"""Bundled payments: target price, reconciliation, quality adjustment, stop-gain / stop-loss."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paycascade.contracts.base import Episode, EpisodeVolume, episode_volumes
from paycascade.contracts.bundle import settle
from paycascade.contracts.loader import ContractInputError, ContractSpec, load_contracts
from paycascade.diagnostics import Diagnostics
from paycascade.periods import parse_period
from paycascade.runner import _episode_volumes

D = Decimal
YEAR = parse_period("2026")
CONTRACTS = """
contracts:
  - contract: lejr-bundle
    kind: bundle
    payer: CMS
    historical_price: 25000.00
    trend: 0.04
    discount: 0.03
    quality_adjustment: {max_reduction: 0.10}
    stop_gain: 0.10
    stop_loss: 0.05
  - contract: cabg-bundle
    kind: bundle
    payer: Aetna
    target_price: {value: 41850.00, source: "Aetna bundle price list 2026"}
    stop_gain: 0.20
"""
# lejr target price = 25,000 × 1.04 × 0.97 = 25,220.00; 10 episodes → total target 252,200.00
LEJR_HEAD = (
    "target price = historical $25,000.00 × (1 + 4% trend) × (1 − 3% discount) = $25,220.00 "
    "per episode; 10 episodes (from the episodes table) × $25,220.00 = total target $252,200.00"
)


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, ContractSpec]:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "bundles.yaml").write_text(textwrap.dedent(CONTRACTS).lstrip())
    diags = Diagnostics()
    loaded = load_contracts(tmp_path, diags)
    assert not diags.items, diags.format()
    return loaded


def lejr_episodes(actuals_cents: list[int]) -> EpisodeVolume:
    rows = [
        Episode("lejr-bundle", f"E{i}", "1234567890", date(2026, 3, i + 1), cents, "LEJR")
        for i, cents in enumerate(actuals_cents)
    ]
    # neither an episode of the year before nor one of another contract counts
    rows.append(Episode("lejr-bundle", "OLD", None, date(2025, 12, 31), 99_999_999))
    rows.append(Episode("other", "X", None, date(2026, 5, 1), 99_999_999))
    volumes = episode_volumes(rows, YEAR)
    assert volumes["other"] == EpisodeVolume(1, 99_999_999)
    return volumes["lejr-bundle"]


def test_stop_loss_binds(specs: dict[str, ContractSpec]) -> None:
    # actual 9 × 28,000 + 38,000 = 290,000.00; reconciliation 252,200 − 290,000 = −37,800.00
    # stop-loss 5% × 252,200 = 12,610.00 < 37,800 → −12,610.00 (no quality adjustment on a loss)
    episodes = lejr_episodes([2_800_000] * 9 + [3_800_000])
    result = settle(specs["lejr-bundle"], {}, episodes, YEAR, "half_up")
    assert result.result_cents == -1_261_000
    assert result.explanation == (
        f"{LEJR_HEAD} − actual spend $290,000.00 = reconciliation −$37,800.00; quality "
        "adjustment: applies to a positive reconciliation only; stop-loss 5% of total target "
        "$252,200.00 = $12,610.00 binds: −$37,800.00 is limited to −$12,610.00 → owed −$12,610.00"
    )
    assert result.details["limit_binding"] == "stop-loss"
    assert result.details["reconciliation"] == "-37800.00"


def test_stop_gain_binds(specs: dict[str, ContractSpec]) -> None:
    # no episode rows: 12 episodes × 41,850.00 = 502,200.00 − 380,000.00 = 122,200.00
    # stop-gain 20% × 502,200.00 = 100,440.00 < 122,200.00 → 100,440.00
    metrics = {"episodes": D(12), "actual_spend": D("380000")}
    result = settle(specs["cabg-bundle"], metrics, None, YEAR, "half_up")
    assert result.result_cents == 10_044_000
    assert result.explanation == (
        "target price $41,850.00 per episode; 12 episodes (from contract_performance) × "
        "$41,850.00 = total target $502,200.00 − actual spend $380,000.00 = reconciliation "
        "$122,200.00; stop-gain 20% of total target $502,200.00 = $100,440.00 binds: "
        "$122,200.00 is limited to $100,440.00 → earned $100,440.00"
    )
    cited = "41850.0 (contracts/bundles.yaml:14 (Aetna bundle price list 2026))"
    assert result.inputs["target_price"] == cited


def test_quality_adjusted_bundle(specs: dict[str, ContractSpec]) -> None:
    # actual 9 × 24,000 + 24,001.37 = 240,001.37; reconciliation 252,200 − 240,001.37 = 12,198.63
    # reduction 10% × (1 − 0.85) = 1.5%; 12,198.63 × 0.015 = 182.97945 → 182.98
    # 12,198.63 − 182.98 = 12,015.65; stop-gain 10% × 252,200 = 25,220.00 not reached
    episodes = lejr_episodes([2_400_000] * 9 + [2_400_137])
    metrics = {"quality_score": D("0.85")}
    result = settle(specs["lejr-bundle"], metrics, episodes, YEAR, "half_up")
    assert result.result_cents == 1_201_565
    assert result.explanation == (
        f"{LEJR_HEAD} − actual spend $240,001.37 = reconciliation $12,198.63; quality "
        "adjustment 10% × (1 − quality 0.85) = 1.5% of $12,198.63 = −$182.98 → $12,015.65; "
        "stop-gain 10% of total target $252,200.00 = $25,220.00 not reached → earned $12,015.65"
    )
    assert result.details["quality_reduction"] == "182.98"
    assert result.inputs["quality_score"] == "0.85"


def test_full_quality_keeps_everything(specs: dict[str, ContractSpec]) -> None:
    # 10 × 24,000 = 240,000 → 12,200.00; reduction 10% × (1 − 1) = 0 → 12,200.00
    episodes = lejr_episodes([2_400_000] * 10)
    result = settle(specs["lejr-bundle"], {"quality_score": D(1)}, episodes, YEAR, "half_up")
    assert result.result_cents == 1_220_000


def test_loss_without_stop_loss_is_unlimited(specs: dict[str, ContractSpec]) -> None:
    # 2 × 41,850 = 83,700 − 90,000 = −6,300.00; cabg declares no stop-loss
    metrics = {"episodes": D(2), "actual_spend": D(90000)}
    result = settle(specs["cabg-bundle"], metrics, None, YEAR, "half_up")
    assert result.result_cents == -630_000
    assert result.explanation.endswith("no stop-loss declared → owed −$6,300.00")


def test_quality_score_needed_only_for_a_positive_reconciliation(
    specs: dict[str, ContractSpec],
) -> None:
    episodes = lejr_episodes([2_400_000] * 10)
    with pytest.raises(ContractInputError, match="missing metric 'quality_score'"):
        settle(specs["lejr-bundle"], {}, episodes, YEAR, "half_up")
    with pytest.raises(
        ContractInputError, match="metric 'quality_score' is 85; it must be a fraction"
    ):
        settle(specs["lejr-bundle"], {"quality_score": D(85)}, episodes, YEAR, "half_up")


def test_episode_count_must_be_whole(specs: dict[str, ContractSpec]) -> None:
    metrics = {"episodes": D("2.5"), "actual_spend": D(1)}
    with pytest.raises(ContractInputError, match=r"metric 'episodes' is 2\.5; it must be a whole"):
        settle(specs["cabg-bundle"], metrics, None, YEAR, "half_up")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["lejr", "cabg", "spine"]),
            st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_episode_volumes_from_arrow_columns_equal_the_row_sums(
    rows: list[tuple[str, Decimal]],
) -> None:
    # the run sums the pipeline's episodes on Arrow columns; each spend is rounded to the cent
    # (half to even, the Decimal default) before summing, as an Episode row holds it
    table = pa.table(
        {
            "contract_id": pa.array([c for c, _ in rows], pa.string()),
            "actual_spend": pa.array([s for _, s in rows], pa.decimal128(18, 4)),
        }
    )
    episodes = [
        Episode(c, str(i), None, date(2026, 6, 1), int((s * 100).to_integral_value()))
        for i, (c, s) in enumerate(rows)
    ]
    expected = episode_volumes(episodes, YEAR)
    assert _episode_volumes(SimpleNamespace(episodes=table)) == expected
    assert sum(v.count for v in expected.values()) == len(rows)
