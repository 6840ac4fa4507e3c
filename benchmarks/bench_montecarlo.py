"""Benchmark: 1,000,000 MSSP settlements (Monte Carlo draws + exact int64 settlement).

    .venv/bin/python benchmarks/bench_montecarlo.py [--draws N] [--repeat R]

Settles the demo ACO (ENHANCED, PY2024 rules, 21,400 beneficiaries) for N expenditure draws,
prints the best wall time of R repeats, the throughput and the environment.  The target is
under one second for 1,000,000 settlements.  numpy's elementwise integer work does not use
BLAS, so OPENBLAS_NUM_THREADS / OMP_NUM_THREADS do not change the figure (they are printed).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from decimal import Decimal

import numpy as np

from paycascade.contracts import mssp
from paycascade.contracts.mssp import MsspInputs, Track
from paycascade.scenarios.montecarlo import draw_expenditures, settle_vector, vector_terms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    x = MsspInputs(
        "DEMO",
        2024,
        Track.ENHANCED,
        21_400,
        Decimal("278465360.00"),
        Decimal("267048280.24"),
        quality_score=Decimal("0.8240"),
        elected_msr=Decimal("0.02"),
    )
    terms = vector_terms(x)
    best = float("inf")
    results = np.zeros(0, dtype=np.int64)
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        spend = draw_expenditures(26_704_828_024, x.n_assigned, args.draws, seed=2026)
        results = settle_vector(terms, spend)
        best = min(best, time.perf_counter() - t0)
    check = settle_vector(terms, np.array([26_704_828_024], dtype=np.int64))[0]
    exact = int(mssp.settle(x).earned_savings_losses * 100)
    print(f"settlements: {args.draws:,} (draw + settle), best of {args.repeat}: {best:.3f} s")
    print(f"throughput: {args.draws / best:,.0f} settlements/s")
    print(f"mean result: ${results.mean() / 100:,.2f}; P(owe) {float((results < 0).mean()):.4f}")
    print(f"at expected spending: {check} cents = engine {exact} cents: {check == exact}")
    print(
        f"environment: Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    )
    threads = {k: os.environ.get(k, "unset") for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    print(f"threads: {threads} (not used by elementwise int64 work)")
    ok = best < 1.0 and check == exact
    print("PASS: under one second" if ok else "FAIL: one second or more")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
