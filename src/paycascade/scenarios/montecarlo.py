"""Contract risk: vectorized Monte Carlo of MSSP settlements under expenditure uncertainty.

**Model.**  The benchmark B and the number of assigned beneficiaries N are fixed; the year's
expenditures are uncertain::

    E ~ Normal(μ, σ),   σ = μ × k / √N

μ is the expected expenditure (the ``expenditures`` metric, or a value you give) and k is the
coefficient of variation of one beneficiary's annual spending.  The default k = 1.66 is read
off CMS's own minimum-savings-rate table, which was set as a 90 % confidence band of random
variation: MSR(N) ≈ 1.645 × k ÷ √N gives k = 12.2 % × √500 ÷ 1.645 = 1.66 at 500 beneficiaries
and 3.9 % × √5,000 ÷ 1.645 = 1.68 at 5,000.  Larger ACOs have proportionally smaller swings.
Each draw is rounded to the cent (E in integer cents); every track choice sees the same draws
(common random numbers), so differences between tracks are not noise.

**Settlement.**  Each draw is settled by the rules of :mod:`paycascade.contracts.mssp` (the
engine that reproduces CMS's published results): the MSR/MLR corridor, the final sharing and
loss rates, sequestration, the performance payment limit and the loss limits are taken from
that module for the ACO's performance year and track.  The arithmetic is exact: amounts are
int64 cents and every rate is an exact fraction p/q, so S × p ÷ q is computed as
(S div q) × p + round((S mod q) × p ÷ q) and rounded half up (away from zero) like
``Decimal.quantize(ROUND_HALF_UP)``.  At σ = 0 every draw therefore equals the deterministic
settlement to the cent (tested for every track).  Not modelled: disaster relief, the PY2024
reduced sharing rate below the MSR and the guardrail (the engine settles them; they are not
random).

The summary statistics (mean, probabilities, percentiles) are *estimates* from the draws, with
their Monte Carlo error; the pool figures split each draw by the allocation shares in floating
point (the engine splits real results to the cent with the largest-remainder method).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from paycascade.contracts import mssp as engine
from paycascade.contracts.mssp import MsspInputError, MsspInputs, Track

K_DEFAULT = Decimal("1.66")
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_LIMIT = 1 << 61


@dataclass(frozen=True)
class VectorTerms:
    """One ACO-year under one track, reduced to integers and exact fractions."""

    track: Track
    benchmark_cents: int
    save_threshold: int  # savings (cents) at or above this are shared: ⌈MSR × B⌉
    loss_threshold: int  # losses (cents) at or above this are owed: ⌈MLR × B⌉
    share: Fraction  # final sharing rate × (1 − sequestration)
    save_cap_cents: int  # performance payment limit (after sequestration where the rules say)
    loss_rate: Fraction
    loss_cap_cents: int | None
    owes_losses: bool


def _rhu(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _ceil(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_CEILING))


def _fraction(value: Decimal) -> Fraction:
    frac = Fraction(value)
    if frac.numerator * frac.denominator * 2 >= _LIMIT:
        raise ValueError(f"rate {value} has too many digits for exact int64 arithmetic")
    return frac


def vector_terms(x: MsspInputs, rules: engine.MsspRules | None = None) -> VectorTerms:
    """The settlement rules of ``x``'s year and track, as used by :func:`engine.settle`."""
    rules = rules or engine.default_rules()
    y = rules.year(x.performance_year)
    t = y.track(x.track)
    engine._check_inputs(x, t)
    if x.dis_adj or x.reduced_ss or x.guardrail:
        raise MsspInputError(
            "dis_adj",
            "the Monte Carlo does not model disaster relief, reduced sharing or guardrail",
        )
    msr, mlr, _ = engine._corridor(x, rules, t)
    share, _ = engine._share_rate(x, y, t)
    loss, _ = engine._loss_rate(x, y, t)
    if share is None or loss is None:
        engine._quality(x, "the sharing or loss rate is max rate × quality score")
    b_cents = Decimal(_rhu(x.benchmark * 100))
    if b_cents != x.benchmark * 100:
        raise MsspInputError("benchmark", "the benchmark must be whole cents")
    kept = 1 - y.sequestration_rate
    limit = t.performance_payment_limit * b_cents
    cap = _rhu(limit) if y.cap_after_sequestration else _rhu(limit * kept)
    share_kept = (share or Decimal(0)) * kept
    owes = t.two_sided or y.one_sided_owe_losses
    loss_cap: int | None = None
    caps: list[Decimal] = []
    pcts = t.loss_limit_benchmark
    if pcts:
        if len(pcts) == 1 or x.two_sided_year is not None:
            caps.append(pcts[min(x.two_sided_year or 1, len(pcts)) - 1] * b_cents)
        else:
            caps.append(max(pcts) * b_cents)  # the engine's bound_low: the loosest cap
    if t.loss_limit_revenue is not None and x.participant_revenue is not None:
        caps.append(t.loss_limit_revenue * x.participant_revenue * 100)
    if caps:
        loss_cap = _rhu(min(caps))
    return VectorTerms(
        x.track,
        int(b_cents),
        _ceil(msr * b_cents),
        _ceil(mlr * b_cents),
        _fraction(share_kept),
        cap,
        _fraction(loss or Decimal(0)),
        loss_cap,
        owes,
    )


def _times(amount: I64, rate: Fraction) -> I64:
    """round_half_up(amount × p ÷ q) for amount ≥ 0, exactly, in int64."""
    p, q = rate.numerator, rate.denominator
    whole = (amount // q) * p
    rem = (amount % q) * p
    result: I64 = whole + (2 * rem + q) // (2 * q)
    return result


def settle_vector(terms: VectorTerms, expenditures_cents: I64) -> I64:
    """Earned shared savings (+) or losses owed (−) in cents, one per expenditure."""
    savings = terms.benchmark_cents - expenditures_cents
    out = np.zeros_like(savings)
    gain = savings >= max(terms.save_threshold, 1)
    if terms.share > 0:
        paid = np.minimum(_times(np.where(gain, savings, 0), terms.share), terms.save_cap_cents)
        out = np.where(gain, paid, out)
    if terms.owes_losses and terms.loss_rate > 0:
        lost = -savings
        owe = lost >= max(terms.loss_threshold, 1)
        amount = _times(np.where(owe, lost, 0), terms.loss_rate)
        if terms.loss_cap_cents is not None:
            amount = np.minimum(amount, terms.loss_cap_cents)
        out = np.where(owe, -amount, out)
    return out


def draw_expenditures(
    mean_cents: int, n_assigned: int, draws: int, *, k: Decimal = K_DEFAULT, seed: int = 2026
) -> I64:
    """Expenditures in integer cents: Normal(μ, μ·k/√N), rounded to the cent."""
    sd = float(mean_cents) * float(k) / float(np.sqrt(max(n_assigned, 1)))
    if sd == 0:
        return np.full(draws, mean_cents, dtype=np.int64)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(draws)
    noise = np.rint(z * sd).astype(np.int64)
    result: I64 = mean_cents + noise
    return np.maximum(result, 0)


@dataclass(frozen=True)
class Risk:
    """Statistics of one track choice (cents; estimates from the draws)."""

    track: Track
    draws: int
    mean_cents: int
    p_owe: float
    p_paid: float
    p5_cents: int
    p95_cents: int
    pool_mean_cents: int
    pool_p5_cents: int
    pool_p95_cents: int
    deterministic_cents: int
    histogram: tuple[tuple[int, int, int], ...]  # (from, to, count) in cents


def summarize(track: Track, results: I64, pool: F64, deterministic: int, bins: int = 30) -> Risk:
    counts, edges = np.histogram(results.astype(np.float64), bins=bins)
    hist = tuple((int(edges[i]), int(edges[i + 1]), int(counts[i])) for i in range(len(counts)))
    return Risk(
        track,
        int(results.size),
        int(np.rint(results.mean())),
        float((results < 0).mean()),
        float((results > 0).mean()),
        int(np.rint(np.percentile(results, 5))),
        int(np.rint(np.percentile(results, 95))),
        int(np.rint(pool.mean())),
        int(np.rint(np.percentile(pool, 5))),
        int(np.rint(np.percentile(pool, 95))),
        deterministic,
        hist,
    )


def offered_tracks(year: int) -> list[Track]:
    return list(engine.default_rules().year(year).tracks)


def simulate_tracks(
    x: MsspInputs,
    tracks: Sequence[Track],
    *,
    draws: int = 100_000,
    k: Decimal = K_DEFAULT,
    seed: int = 2026,
    pool_share: Decimal = Decimal(0),
    losses_pass_through: bool = False,
) -> list[Risk]:
    """Monte Carlo of ``x`` under each track choice (common random numbers).

    ``x.expenditures`` is the expected expenditure μ.  ``pool_share`` is the share of a
    positive result allocated to physician pools (losses too with ``losses_pass_through``)."""
    mean_cents = _rhu(x.expenditures * 100)
    spend = draw_expenditures(mean_cents, x.n_assigned, draws, k=k, seed=seed)
    out = []
    for track in tracks:
        xi = _for_track(x, track)
        terms = vector_terms(xi)
        results = settle_vector(terms, spend)
        share = float(pool_share)
        pool = np.where(
            results > 0 if not losses_pass_through else results != 0,
            results.astype(np.float64) * share,
            0.0,
        )
        det = _rhu(engine.settle(xi).earned_savings_losses * 100)
        out.append(summarize(track, results, pool, det))
    return out


def _for_track(x: MsspInputs, track: Track) -> MsspInputs:
    """``x`` under another track: one-sided tracks take the MSR from the table."""
    t = engine.default_rules().year(x.performance_year).track(track)
    if t.two_sided:
        return replace(x, track=track)
    return replace(x, track=track, elected_msr=None, elected_mlr=None)


def contract_inputs(
    loaded: Any, outcome: Any, contract_id: str | None = None
) -> tuple[Any, MsspInputs]:
    """The workspace's MSSP contract (the first, or ``contract_id``) and its engine inputs."""
    from paycascade.contracts.mssp_contract import MsspTerms, _inputs
    from paycascade.diagnostics import Diagnostics, PaycascadeError
    from paycascade.runner import _performance

    specs = [
        s
        for s in loaded.contracts.values()
        if isinstance(s.terms, MsspTerms) and (contract_id is None or s.id == contract_id)
    ]
    if not specs:
        diags = Diagnostics()
        what = f"contract '{contract_id}'" if contract_id else "an MSSP contract"
        diags.add("contracts/", None, f"the workspace has no {what} (kind: mssp)")
        raise PaycascadeError(diags)
    spec = specs[0]
    metrics = _performance(outcome.aggs).get((spec.id, loaded.period.label), {})
    return spec, _inputs(spec, spec.terms, metrics, loaded.period)
