"""Benchmark: a full annual run of the synthetic health system at several sizes.

Prints, for each size, the encounter lines, the wall time of each stage of `paycascade run`
(load and validate, aggregate, compute, write), lines per second and the peak RSS of the
process, then the environment.  Not a test: nothing here asserts a time.

    .venv/bin/python benchmarks/bench_run.py                 # 300 and 1,000 clinicians
    .venv/bin/python benchmarks/bench_run.py --sizes 300 3000
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path


def environment() -> str:
    import duckdb
    import ibis
    import pyarrow

    from paycascade import __version__

    return (
        f"paycascade {__version__}; Python {platform.python_version()}; duckdb {duckdb.__version__}; "
        f"ibis {ibis.__version__}; pyarrow {pyarrow.__version__}; {platform.platform()}; "
        f"{os.cpu_count()} CPUs"
    )


def bench(size: int, seed: int) -> str:
    from paycascade.demo.workspace import write_demo
    from paycascade.runner import run

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        t0 = time.perf_counter()
        write_demo(root, physicians=size, seed=seed)
        generate = time.perf_counter() - t0
        t1 = time.perf_counter()
        result = run(root)
        total = time.perf_counter() - t1
        lines = result.rows_read.get("encounters", 0)
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return (
            f"{size:>6} clinicians {lines:>11,} lines: run {total:6.2f}s "
            f"({lines / total:>10,.0f} lines/s; {stages}); generate {generate:.2f}s; "
            f"peak RSS so far {peak:,.0f} MiB"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(environment())
    for size in args.sizes:
        print(bench(size, args.seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
