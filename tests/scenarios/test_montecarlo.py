"""Monte Carlo of MSSP settlements: at zero variance, exactly the deterministic engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from paycascade.contracts import mssp
from paycascade.contracts.mssp import MsspInputs, Track
from paycascade.scenarios.cli import risk_command
from paycascade.scenarios.montecarlo import (
    draw_expenditures,
    settle_vector,
    simulate_tracks,
    vector_terms,
)
from tests.scenarios.builder import build

B = Decimal("278465360.37")


def _inputs(year: int, track: Track, n: int, spend: Decimal) -> MsspInputs:
    two_sided = mssp.default_rules().year(year).track(track).two_sided
    return MsspInputs(
        "A0001",
        year,
        track,
        n,
        B,
        spend,
        quality_score=Decimal("0.8240"),
        elected_msr=Decimal("0.01") if two_sided else None,
        participant_revenue=Decimal("41000000.00") if track == Track.BASIC_D else None,
    )


CASES = [
    (year, track) for year in (2018, 2021, 2024) for track in mssp.default_rules().year(year).tracks
]


@pytest.mark.parametrize(("year", "track"), CASES)
def test_vector_settlement_equals_the_engine_to_the_cent(year: int, track: Track) -> None:
    rng = np.random.default_rng(year)
    b_cents = int(B * 100)
    spend = (b_cents * (1 + rng.uniform(-0.3, 0.3, 150))).astype(np.int64)
    terms = vector_terms(_inputs(year, track, 8000, B))
    edges = [b_cents - terms.save_threshold + d for d in (-1, 0, 1)]
    edges += [b_cents + terms.loss_threshold + d for d in (-1, 0, 1)] + [b_cents]
    spend = np.concatenate([spend, np.array(edges, dtype=np.int64)])
    got = settle_vector(terms, spend)
    for e, g in zip(spend.tolist(), got.tolist(), strict=True):
        x = _inputs(year, track, 8000, Decimal(e) / 100)
        assert int(mssp.settle(x).earned_savings_losses * 100) == g, (year, track, e)


@pytest.mark.parametrize(
    ("track", "spend"),
    [
        (Track.ENHANCED, Decimal("267048280.24")),  # savings, shared
        (Track.ENHANCED, Decimal("296000000.00")),  # losses beyond the MLR
        (Track.BASIC_A, Decimal("262000000.13")),  # one-sided, above the table MSR
        (Track.BASIC_E, Decimal("290000000.99")),  # losses, capped by benchmark %
        (Track.BASIC_D, Decimal("300000000.00")),  # losses, capped by participant revenue
        (Track.BASIC_C, Decimal("277000000.00")),  # inside the corridor
    ],
)
def test_zero_variance_monte_carlo_is_the_deterministic_settlement(
    track: Track, spend: Decimal
) -> None:
    x = _inputs(2024, track, 21400, spend)
    (risk,) = simulate_tracks(x, [track], draws=1000, k=Decimal(0))
    exact = int(mssp.settle(x).earned_savings_losses * 100)
    assert risk.deterministic_cents == exact
    assert risk.mean_cents == risk.p5_cents == risk.p95_cents == exact
    assert risk.p_owe == (1.0 if exact < 0 else 0.0)


def test_spread_shrinks_with_beneficiaries() -> None:
    small = draw_expenditures(10**10, 1000, 20000, seed=1)
    large = draw_expenditures(10**10, 100000, 20000, seed=1)
    ratio = float(small.std() / large.std())
    assert ratio == pytest.approx(10.0, rel=0.01)  # √(100,000 ÷ 1,000)
    assert float(small.std()) == pytest.approx(1e10 * 1.66 / np.sqrt(1000), rel=0.02)


def test_two_sided_risk_has_a_chance_of_owing() -> None:
    x = _inputs(2024, Track.ENHANCED, 5000, B * Decimal("0.995"))
    enhanced, basic_a = simulate_tracks(x, [Track.ENHANCED, Track.BASIC_A], draws=50000)
    assert 0.1 < enhanced.p_owe < 0.5
    assert basic_a.p_owe == 0.0
    assert enhanced.p5_cents < 0 < enhanced.p95_cents


def test_risk_command(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws", contract=True)
    out = tmp_path / "risk.html"
    result = CliRunner().invoke(
        risk_command,
        [str(ws), "--draws", "2000", "--k", "0", "--track", "ENHANCED", "--out", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "ENHANCED  expected    $2,205,000.00  P(owe)   0.00%" in result.output
    assert "pool $1,102,500.00" in result.output
    assert "<svg" in out.read_text(encoding="utf-8")
