"""The value-penalty simulator, by hand with the real CY2023 rows of 74177 (CT abdomen/pelvis
with contrast): 26 = 2.58 total RVUs (work 1.82), TC = 6.94 non-facility total, CF $33.8872."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from paycascade.runner import load
from paycascade.scenarios.cli import simulate_command
from paycascade.scenarios.simulator import Practice, pfs_prices, simulate
from tests.scenarios.builder import RC, build


def test_prices_come_from_the_pfs_rows(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    price = pfs_prices(ws / "data" / "reference" / "pfs.csv", ["74177", "99213"])
    assert price["74177"].work_rvu == Decimal("1.82")
    assert price["74177"].professional == Decimal("2.58") * Decimal("33.8872")
    assert price["74177"].technical == Decimal("6.94") * Decimal("33.8872")
    assert price["99213"].technical == 0


def test_fewer_scans_penalise_wrvu_pay_and_reward_the_redesign(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws", contract=True)
    loaded = load(ws, None)
    practice = Practice(fewer=(("74177", Decimal("0.2")),), contract="aco")
    sim = simulate(loaded, [RC], practice, ["flat", "value"])
    loaded.con.close()
    (svc,) = sim.services
    assert (svc.units, svc.wrvu) == (Decimal("200.0000"), Decimal("364.000000000000"))
    # 200 × 6.94 × 33.8872 = 47,035.4336; 200 × (2.58 + 6.94) × 33.8872 = 64,521.2288
    assert svc.technical_cents == -4703543
    assert svc.payer_cents == -6452123
    assert (sim.facility_delta, sim.payer_delta) == (-4703543, -6452123)
    assert sim.contract_expenditure_delta == -6452123
    # ENHANCED, quality met: savings × 75% × 0.98; 3,000,000 → 3,064,521.23
    assert sim.settlement_before == 220500000
    assert sim.settlement_after == 225242310  # 3,064,521.23 × 0.735 = 2,252,423.104
    flat, value = sim.plans
    assert (flat.wrvu_before, flat.wrvu_after) == (Decimal("1820.00"), Decimal("1456.00"))
    assert (flat.pay_before, flat.pay_after, flat.pay_delta) == (9100000, 7280000, -1820000)
    assert flat.pass_through_delta == 0
    # value: 1,820 × $10 + 50% of the settlement → 1,456 × $10 + 50% of the new settlement
    assert value.pay_before == 1820000 + 110250000
    assert value.pay_after == 1456000 + 112621155
    assert value.pay_delta == 2007155
    assert value.pass_through_delta == 2371155


def test_admissions_and_site_shift(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws", contract=True)
    loaded = load(ws, None)
    practice = Practice(
        avoided_admissions=Decimal(3),
        drg_payment=Decimal("14250.50"),
        shift_count=Decimal(10),
        shift_from=Decimal("900"),
        shift_to=Decimal("400"),
        contract="aco",
        contract_share=Decimal("0.5"),
    )
    sim = simulate(loaded, [RC], practice, ["flat"])
    loaded.con.close()
    assert sim.facility_delta == -(4275150 + 900000)
    assert sim.payer_delta == -(4275150 + 500000)
    assert sim.contract_expenditure_delta == -2387575
    # savings 3,023,875.75 × 0.735 = 2,222,548.676… → 2,222,548.68
    assert sim.settlement_after == 222254868
    assert sim.plans[0].pay_delta == 0


def test_simulate_command(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws", contract=True)
    out = tmp_path / "sim.html"
    result = CliRunner().invoke(
        simulate_command,
        [
            str(ws),
            "--specialty",
            "Radiology",
            "--fewer",
            "74177",
            "0.2",
            "--contract",
            "aco",
            "--plan",
            "flat",
            "--plan",
            "value",
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "plan flat: wRVU 1820.00 → 1456.00; pay -$18,200.00" in result.output
    assert "plan value: wRVU 1820.00 → 1456.00; pay $20,071.55 (pass-through $23,711.55)" in (
        result.output
    )
    assert "<svg" in out.read_text(encoding="utf-8")
