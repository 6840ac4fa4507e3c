"""MSSP settlement engine: hand-computed cases (arithmetic in the comments) and properties."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paycascade.contracts.mssp import (
    MsspInputError,
    MsspInputs,
    MsspRulesError,
    Track,
    default_rules,
    load_mssp_rules,
    normalize_track,
    parse_rate,
    settle,
)

D = Decimal
RULES = default_rules()


def aco(track: Track = Track.BASIC_E, year: int = 2024, **changes: object) -> MsspInputs:
    """A $100M-benchmark ACO with 10,000 beneficiaries that met the quality standard."""
    base = MsspInputs(
        aco_id="A0001",
        performance_year=year,
        track=track,
        n_assigned=10_000,
        benchmark=D(100_000_000),
        expenditures=D(100_000_000),
        quality_score=D("0.90"),
        met_quality_standard=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- rules and the MSR table ---------------------------------------------------------------


def test_rules_cover_every_year_with_sources() -> None:
    assert sorted(RULES.years) == [2018, 2021, 2022, 2023, 2024, 2025, 2026]
    assert RULES.years[2025].assumed
    assert not RULES.years[2024].assumed
    for year in RULES.years.values():
        assert all(year.sources.values())
        for track in year.tracks.values():
            assert all(track.sources.values()), (year.year, track.track)


def test_msr_table() -> None:
    # 42 CFR 425.604(b): 9,000-9,999 beneficiaries → 3.1% falling to 3.0%.
    # N = 9,139: 3.1 − (139 / 999) × 0.1 = 3.086086…% (the PY2018 PUF shows 0.030860861).
    assert RULES.msr_for(9_139).quantize(D("0.000000001")) == D("0.030860861")
    assert RULES.msr_for(60_000) == RULES.msr_for(250_000) == D("0.02")
    # derived below 5,000: 640 → 12.2 − 140/499 × 3.5 = 11.218…% (PUF: 11.22%)
    assert round(RULES.msr_for(640) * 100, 2) == D("11.22")
    with pytest.raises(MsspInputError, match="not known"):
        RULES.msr_for(499)


def test_normalize_track() -> None:
    assert normalize_track("EN") is Track.ENHANCED
    assert normalize_track("C") is Track.BASIC_C
    assert normalize_track("Current_BASIC_C") is Track.BASIC_C
    assert normalize_track("Current_Track_1_Plus") is Track.TRACK_1_PLUS
    assert normalize_track("Track 1+") is Track.TRACK_1_PLUS
    assert normalize_track("track_2") is Track.TRACK_2
    with pytest.raises(ValueError, match="unknown MSSP track"):
        normalize_track("Pioneer")


def test_parse_rate_is_exact() -> None:
    assert parse_rate("7.17%") == D("0.0717")
    assert parse_rate("0.4") == D("0.4")
    assert parse_rate(0.1) == D("0.1")


# --- savings -------------------------------------------------------------------------------


def test_savings_inside_corridor_share_nothing() -> None:
    # BASIC B, 10,000 beneficiaries → MSR 3.0% from the table.
    # savings 100,000,000 − 98,000,000 = 2,000,000 = 2.00% < 3.00% → nothing.
    r = settle(aco(Track.BASIC_B, expenditures=D(98_000_000)))
    assert r.msr == D("0.03")
    assert r.msr_basis == "table"
    assert r.outcome == "corridor"
    assert r.generated_savings_losses == 0
    assert r.earned_savings_losses == 0
    assert "< MSR 3.00% (table)" in r.explanation


def test_savings_above_msr_shared_from_first_dollar_less_sequestration() -> None:
    # BASIC E, elected MSR 2%: savings 5,000,000 (5%) ≥ 2% → all 5,000,000 shared:
    # 5,000,000 × 50% × 0.98 = 2,450,000.00; limit 10% × 100M = 10,000,000 not reached.
    r = settle(aco(expenditures=D(95_000_000), elected_msr=D("0.02")))
    assert r.generated_savings_losses == D(5_000_000)
    assert r.final_share_rate == D("0.5")
    assert r.earned_savings_losses == D("2450000.00")
    assert r.limit_binding is None
    assert r.determinable
    assert r.explanation == (
        "savings $5,000,000 (5.00% of benchmark $100,000,000) ≥ MSR 2.00% (elected) → shared "
        "from the first dollar at 50% (quality standard met) × 0.98 sequestration = "
        "$2,450,000; limit 10% of benchmark $10,000,000 not reached → earned $2,450,000"
    )


def test_payment_limit_binds_after_sequestration() -> None:
    # ENHANCED: savings 30,000,000 × 75% × 0.98 = 22,050,000 > 20% × 100M = 20,000,000
    # → paid the limit itself, 20,000,000.00 (capping first would give 19,600,000).
    r = settle(aco(Track.ENHANCED, expenditures=D(70_000_000), elected_msr=D(0)))
    assert r.earned_savings_losses == D("20000000.00")
    assert r.limit_binding == "performance payment limit"
    assert r.performance_payment_limit == D("20000000.00")


def test_cap_is_applied_after_sequestration() -> None:
    # BASIC E: savings 20,200,000 × 50% = 10,100,000 is above the 10,000,000 limit, but
    # × 0.98 = 9,898,000 is below it → 9,898,000.00 (cap first, then 0.98: 9,800,000).
    r = settle(aco(expenditures=D(79_800_000), elected_msr=D(0)))
    assert r.earned_savings_losses == D("9898000.00")
    assert r.limit_binding is None


def test_quality_standard_not_met_shares_nothing() -> None:
    # PY2022 has no sliding scale: savings above the MSR but the standard failed → 0.
    r = settle(aco(year=2022, expenditures=D(90_000_000), met_quality_standard=False))
    assert r.outcome == "savings_not_shared"
    assert r.generated_savings_losses == D(10_000_000)
    assert r.earned_savings_losses == 0


def test_py2018_quality_scaled_sharing_rate() -> None:
    # PY2018 A1001 (Track 1, 77,372 beneficiaries → MSR 2%): savings
    # 1,072,551,536 − 960,028,237 = 112,523,299; rate 50% × 0.9084 = 45.42%;
    # 112,523,299 × 0.4542 × 0.98 = 50,085,920.757684 → 50,085,920.76.
    r = settle(
        aco(
            Track.TRACK_1,
            2018,
            n_assigned=77_372,
            benchmark=D(1_072_551_536),
            expenditures=D(960_028_237),
            quality_score=D("0.9084"),
        )
    )
    assert r.final_share_rate == D("0.4542")
    assert r.earned_savings_losses == D("50085920.76")
    # Failing the quality standard in PY2018 → rate 0.
    failed = settle(replace(r.inputs, met_quality_standard=False))
    assert failed.earned_savings_losses == 0
    assert failed.final_share_rate == 0


def test_py2024_sliding_scale() -> None:
    # PY2024 A3770 (ENHANCED, elected MSR 0%): missed the quality standard but met the
    # alternative → rate 75% × 0.5645 = 42.3375%.
    # savings 132,925,215 − 111,946,050 = 20,979,165;
    # 20,979,165 × 0.423375 = 8,882,053.981875; × 0.98 = 8,704,412.9022375 → 8,704,412.90.
    x = aco(
        Track.ENHANCED,
        benchmark=D(132_925_215),
        expenditures=D(111_946_050),
        quality_score=D("0.5645"),
        met_quality_standard=False,
        met_alt_quality_standard=True,
        elected_msr=D(0),
    )
    r = settle(x)
    assert r.final_share_rate == D("0.423375")
    assert r.earned_savings_losses == D("8704412.90")
    assert "sliding scale" in r.explanation
    # ENHANCED loss rate under the sliding scale: 1 − 42.3375% = 57.6625%.
    assert r.final_loss_rate == D("0.576625")
    # PY2022 had no sliding scale: the same ACO gets nothing.
    assert settle(replace(x, performance_year=2022)).earned_savings_losses == 0


def test_reduced_shared_savings_below_msr() -> None:
    # PY2024 A5404 (BASIC A, 8,069 beneficiaries): MSR 3.2 − 69/999 × 0.1 = 3.1931%;
    # savings 89,657,271 − 87,010,992 = 2,646,279 = 2.95% < MSR, positive, ReducedSS →
    # rate 40% / 2 = 20%: 2,646,279 × 0.20 × 0.98 = 518,670.684 → 518,670.68.
    x = aco(
        Track.BASIC_A,
        n_assigned=8_069,
        benchmark=D(89_657_271),
        expenditures=D(87_010_992),
        reduced_ss=True,
    )
    r = settle(x)
    assert r.outcome == "reduced_shared_savings"
    assert r.earned_savings_losses == D("518670.68")
    assert settle(replace(x, reduced_ss=False)).earned_savings_losses == 0
    with pytest.raises(MsspInputError, match="no reduced sharing") as err:
        settle(replace(x, performance_year=2023))
    assert err.value.field == "reduced_ss"


def test_guardrail_shares_nothing() -> None:
    # Savings 5% above the MSR, but only from benchmark adjustments (Guardrail = 1) → 0.
    x = aco(expenditures=D(95_000_000), elected_msr=D(0), guardrail=True)
    r = settle(x)
    assert r.outcome == "guardrail"
    assert r.generated_savings_losses == 0
    assert r.earned_savings_losses == 0
    with pytest.raises(MsspInputError, match="no guardrail"):
        settle(replace(x, performance_year=2022))


# --- losses --------------------------------------------------------------------------------


def test_one_sided_losses_are_not_owed() -> None:
    # BASIC A, losses 10% beyond the 3% MLR → owes nothing; PY2021+ shows GenSaveLoss 0.
    r = settle(aco(Track.BASIC_A, expenditures=D(110_000_000)))
    assert r.outcome == "one_sided_loss"
    assert r.generated_savings_losses == 0
    assert r.earned_savings_losses == 0
    # PY2018 Track 1: the generated loss is reported (−10,000,000), still nothing owed.
    r18 = settle(aco(Track.TRACK_1, 2018, expenditures=D(110_000_000)))
    assert r18.generated_savings_losses == D(-10_000_000)
    assert r18.earned_savings_losses == 0


def test_losses_inside_corridor_owe_nothing() -> None:
    # BASIC C elected MLR 2%: losses 1,500,000 = 1.5% < 2% → nothing owed.
    r = settle(aco(Track.BASIC_C, expenditures=D(101_500_000), elected_msr=D("0.02")))
    assert r.outcome == "corridor"
    assert r.earned_savings_losses == 0


def test_basic_c_loss_capped_at_one_percent_of_benchmark() -> None:
    # BASIC C, MLR 0%: losses 5,000,000 × 30% = 1,500,000 > 1% × 100M = 1,000,000 → 1,000,000.
    # Revenue 200M: 2% × 200M = 4,000,000 does not bind, so the result is determinable.
    r = settle(
        aco(
            Track.BASIC_C,
            expenditures=D(105_000_000),
            elected_msr=D(0),
            participant_revenue=D(200_000_000),
        )
    )
    assert r.final_loss_rate == D("0.3")
    assert r.earned_savings_losses == D("-1000000.00")
    assert r.limit_binding == "loss limit (benchmark)"
    assert r.loss_limit_benchmark == D("1000000.00")
    assert r.loss_limit_revenue == D("4000000.00")
    assert r.determinable


@pytest.mark.parametrize(
    ("quality", "met", "rate", "owed"),
    [
        # 1 − 75% × 0.90 = 32.5% → floor 40%: 10,000,000 × 40% = 4,000,000
        (D("0.90"), True, D("0.40"), D("-4000000.00")),
        # 1 − 75% × 0.60 = 55%: 5,500,000
        (D("0.60"), True, D("0.55"), D("-5500000.00")),
        # 1 − 75% × 0.20 = 85% → ceiling 75%: 7,500,000
        (D("0.20"), True, D("0.75"), D("-7500000.00")),
        # standard not met → quality counts as 0 → 100% → ceiling 75%
        (D("0.90"), False, D("0.75"), D("-7500000.00")),
    ],
)
def test_enhanced_loss_rate_clamp(
    quality: Decimal, met: bool, rate: Decimal, owed: Decimal
) -> None:
    # ENHANCED, MLR 2%: losses 10,000,000 (10%); limit 15% × 100M = 15,000,000 not reached.
    r = settle(
        aco(
            Track.ENHANCED,
            expenditures=D(110_000_000),
            elected_msr=D("0.02"),
            quality_score=quality,
            met_quality_standard=met,
        )
    )
    assert r.final_loss_rate == rate
    assert r.earned_savings_losses == owed
    assert r.determinable


def test_track_2_loss_rate() -> None:
    # PY2021 Track 2 (A2029-like), quality 0.89: loss rate 1 − 60% × 0.89 = 46.6%;
    # losses 4,000,000 × 46.6% = 1,864,000 — under the smallest Track 2 limit
    # (5% × 100M = 5,000,000), so the year of two-sided participation does not matter.
    x = aco(
        Track.TRACK_2, 2021, expenditures=D(104_000_000), elected_msr=D(0), quality_score=D("0.89")
    )
    r = settle(x)
    assert r.final_loss_rate == D("0.466")
    assert r.earned_savings_losses == D("-1864000.00")
    assert r.determinable
    # quality 0.5 → 1 − 30% = 70% → at most 60%: 4,000,000 × 60% = 2,400,000
    assert settle(replace(x, quality_score=D("0.5"))).earned_savings_losses == D("-2400000.00")


def test_track_2_loss_limit_by_year_of_two_sided_participation() -> None:
    # Losses 15,000,000 × 60% = 9,000,000; the limit is 5% / 7.5% / 10% of 100M in the first /
    # second / later years → 5,000,000 / 7,500,000 / 9,000,000.  Year unknown → an interval.
    x = aco(Track.TRACK_2, 2021, expenditures=D(115_000_000), elected_msr=D(0), quality_score=D(0))
    assert settle(replace(x, two_sided_year=1)).earned_savings_losses == D("-5000000.00")
    assert settle(replace(x, two_sided_year=2)).earned_savings_losses == D("-7500000.00")
    assert settle(replace(x, two_sided_year=3)).earned_savings_losses == D("-9000000.00")
    r = settle(x)
    assert not r.determinable
    assert (r.bound_low, r.bound_high) == (D("-9000000.00"), D("-5000000.00"))


def test_disaster_relief_offsets_losses() -> None:
    # ENHANCED quality 0.90: 10,000,000 × 40% = 4,000,000 owed before relief.
    x = aco(Track.ENHANCED, expenditures=D(110_000_000), elected_msr=D(0))
    # relief 1,500,000 → owed 2,500,000
    assert settle(replace(x, dis_adj=D(-1_500_000))).earned_savings_losses == D("-2500000.00")
    # relief equal to the loss (PY2021-2022 COVID policy) → 0
    assert settle(replace(x, dis_adj=D(-4_000_000))).earned_savings_losses == 0
    # relief published in whole dollars: loss 1,110,310.24 less 1,110,310 → the 0.24 left is
    # rounding, a full offset (PY2021 A2029).
    y = aco(
        Track.TRACK_2,
        2021,
        benchmark=D(420_738_870),
        expenditures=D(423_121_510),
        elected_msr=D(0),
        quality_score=D("0.89"),
        dis_adj=D(-1_110_310),
    )
    assert settle(y).earned_savings_losses == 0
    with pytest.raises(MsspInputError, match="must be <= 0"):
        settle(replace(x, dis_adj=D(5)))


def test_revenue_limit_binds_when_revenue_is_given() -> None:
    # BASIC E, MLR 2%: losses 8,400,000 (7%) × 30% = 2,520,000; benchmark limit
    # 4% × 120M = 4,800,000; revenue limit 8% × 20,000,000 = 1,600,000 → binds;
    # less relief 400,000 → owed 1,200,000.
    x = aco(
        benchmark=D(120_000_000),
        expenditures=D(128_400_000),
        elected_msr=D("0.02"),
        dis_adj=D(-400_000),
        participant_revenue=D(20_000_000),
    )
    r = settle(x)
    assert r.earned_savings_losses == D("-1200000.00")
    assert r.limit_binding == "loss limit (revenue)"
    assert r.determinable
    assert r.bound_low == r.bound_high == r.earned_savings_losses


def test_undeterminable_without_participant_revenue() -> None:
    # The same ACO without revenue: without the revenue limit it owes 2,520,000 − 400,000 =
    # 2,120,000 (the largest possible amount).  With a revenue limit the pre-relief loss lies
    # anywhere in [−2,520,000, 0); relief never exceeds the loss, so the amount owed lies in
    # [−2,120,000, 0].
    x = aco(
        benchmark=D(120_000_000),
        expenditures=D(128_400_000),
        elected_msr=D("0.02"),
        dis_adj=D(-400_000),
    )
    r = settle(x)
    assert not r.determinable
    assert r.earned_savings_losses == r.bound_low == D("-2120000.00")
    assert r.bound_high == 0
    assert "NOT DETERMINABLE" in r.explanation
    assert "participant revenue" in r.explanation


def test_relief_covering_the_whole_loss_makes_revenue_irrelevant() -> None:
    # BASIC C, relief equal to the loss without the revenue limit (300,000): the true loss
    # can only be smaller, relief never exceeds it, so the amount owed is 0 either way.
    x = aco(Track.BASIC_C, expenditures=D(101_000_000), elected_msr=D(0), dis_adj=D(-300_000))
    r = settle(x)
    assert r.determinable
    assert r.earned_savings_losses == 0


# --- input errors --------------------------------------------------------------------------


def test_input_errors_name_the_field() -> None:
    cases = [
        (aco(year=2019), "performance_year"),
        (aco(Track.BASIC_C, 2018), "track"),
        (aco(benchmark=D(0)), "benchmark"),
        (aco(quality_score=D("1.5")), "quality_score"),
        (aco(Track.BASIC_A, elected_msr=D("0.02")), "elected_msr"),
        (aco(Track.BASIC_A, n_assigned=300, expenditures=D(90_000_000)), "n_assigned"),
        (aco(Track.TRACK_1, 2018, expenditures=D(90_000_000), quality_score=None), "quality_score"),
    ]
    for inputs, field in cases:
        with pytest.raises(MsspInputError) as err:
            settle(inputs)
        assert err.value.field == field


def test_rules_errors_are_collected(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "schema_version: 1\n"
        "msr_table: {bands: [{n_min: 5000, n_max: null, msr_at_min: '2x', msr_at_max: '2%',"
        " source: s}]}\n"
        "msr_elections: {value: ['0%'], source: s}\n"
        "years:\n  2030:\n    tracks: {NOPE: {}}\n",
        encoding="utf-8",
    )
    with pytest.raises(MsspRulesError) as err:
        load_mssp_rules(bad)
    text = str(err.value)
    assert "msr_table.bands[0].msr_at_min: '2x' is not a rate" in text
    assert "years.2030.sharing_rule: missing" in text
    assert "years.2030.tracks.NOPE: unknown track" in text
    with pytest.raises(MsspRulesError, match="cannot read"):
        load_mssp_rules(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("years: [\n", encoding="utf-8")
    with pytest.raises(MsspRulesError, match="malformed YAML"):
        load_mssp_rules(tmp_path / "broken.yaml")


# --- properties ----------------------------------------------------------------------------

_COMBOS = [(y, t) for y, rules in sorted(RULES.years.items()) for t in rules.tracks]


@st.composite
def any_aco(draw: st.DrawFn) -> MsspInputs:
    year, track = draw(st.sampled_from(_COMBOS))
    two_sided = RULES.years[year].tracks[track].two_sided
    benchmark = D(draw(st.integers(1_000_000, 2_000_000_000)))
    swing = D(draw(st.integers(-5_000, 5_000))) / 10_000  # −50% … +50%
    elections = [None, *sorted(RULES.msr_elections)]
    quality = D(draw(st.integers(0, 10_000))) / 10_000
    revenue = draw(st.one_of(st.none(), st.integers(0, 3_000_000_000)))
    relief = draw(st.integers(0, 10_000_000))
    return MsspInputs(
        aco_id="H",
        performance_year=year,
        track=track,
        n_assigned=draw(st.integers(500, 200_000)),
        benchmark=benchmark,
        expenditures=(benchmark * (1 - swing)).quantize(D(1)),
        quality_score=quality,
        met_quality_standard=draw(st.booleans()),
        met_alt_quality_standard=draw(st.booleans()),
        elected_msr=draw(st.sampled_from(elections)) if two_sided else None,
        dis_adj=D(-relief),
        reduced_ss=draw(st.booleans()) and RULES.years[year].reduced_sharing_below_msr is not None,
        guardrail=draw(st.booleans()) and RULES.years[year].guardrail,
        participant_revenue=None if revenue is None else D(revenue),
        two_sided_year=draw(st.one_of(st.none(), st.integers(1, 5))),
    )


@settings(max_examples=300, deadline=None)
@given(any_aco())
def test_settlement_properties(x: MsspInputs) -> None:
    r = settle(x)
    track = RULES.years[x.performance_year].tracks[x.track]
    earned, generated = r.earned_savings_losses, r.generated_savings_losses
    # never above the performance payment limit
    assert earned <= (track.performance_payment_limit * x.benchmark).quantize(D("0.01"))
    # never the opposite sign to the generated savings/losses
    assert earned * generated >= 0
    assert earned == 0 or generated != 0
    # losses never beyond the largest benchmark-based limit
    if earned < 0:
        cap = max(track.loss_limit_benchmark) * x.benchmark
        assert -earned <= cap.quantize(D("0.01"))
        assert track.two_sided
    # the reported figure is the low end of an interval that holds the true amount
    assert r.bound_low <= earned <= r.bound_high
    assert r.determinable == (r.bound_low == r.bound_high)
    assert earned == earned.quantize(D("0.01"))
    assert r.explanation
