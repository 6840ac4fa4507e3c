"""Benchmark: a full annual run at growing encounter volumes, against pandas and bare DuckDB.

For each size it generates the synthetic workspace (streamed to Parquet, bounded memory), then
times three ways of producing the per-physician wRVU, panel and quality aggregates, each in its
own process so that peak RSS is that process's own:

* ``paycascade``: `paycascade run` end to end (validate, aggregate, settle, compute, write);
* ``bare duckdb``: one hand-written DuckDB SQL query that aggregates the same lines (work RVU
  by code and modifier × units × the Medicare crediting factors, per physician) — the floor;
* ``pandas``: the straightforward pandas version of that aggregation (read Parquet, merge the
  fee schedule, group by); skipped, and said so, when the lines would not fit in memory.

Prints wall time, peak RSS and ratios, then the environment.  Not a test: nothing asserts.

    .venv/bin/python benchmarks/bench_scale.py --physicians 240 2400
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_SQL = """
with lines as (
    select e.npi, e.units, coalesce(e.wrvu, p.work_rvu) as rvu,
           coalesce(e.modifiers, '') as mods, coalesce(e.status, 'paid') as status
    from read_parquet('{enc}') e
    left join (select "HCPCS" as hcpcs, coalesce("MOD", '') as mod,
                      cast("WORK_RVU" as decimal(10,2)) as work_rvu
               from read_csv('{pfs}', header=true, all_varchar=true)) p
      on p.hcpcs = e.hcpcs
     and p.mod = case when e.modifiers like '%26%' then '26'
                      when e.modifiers like '%TC%' then 'TC' else '' end
)
select npi,
       sum(rvu * units
           * case when mods like '%62%' then 0.625 else 1 end
           * case when mods like '%80%' then 0.16 else 1 end
           * case when mods like '%51%' then 0.5 else 1 end
           * case when mods like '%50%' then 1.5 else 1 end) as wrvu,
       count(*) as lines
from lines where status = 'paid'
group by npi order by npi
"""


def _child(mode: str, root: str) -> None:
    """Run one way of aggregating in this (child) process and print JSON figures.

    Imports happen before the clock starts, for all three, so the figures compare work."""
    import duckdb
    import pandas as pd

    from paycascade.runner import run

    start = time.perf_counter()
    rows = 0
    if mode == "paycascade":
        result = run(Path(root))
        rows = len(result.totals)
    elif mode == "bare":
        con = duckdb.connect()
        sql = BARE_SQL.format(
            enc=f"{root}/data/encounters.parquet", pfs=f"{root}/data/reference/pfs_rvu_demo.csv"
        )
        rows = len(con.execute(sql).fetchall())
    else:
        enc = pd.read_parquet(f"{root}/data/encounters.parquet")
        pfs = pd.read_csv(
            f"{root}/data/reference/pfs_rvu_demo.csv", dtype=str, keep_default_na=False
        )
        pfs = pfs.rename(columns={"HCPCS": "hcpcs", "MOD": "mod", "WORK_RVU": "work_rvu"})
        pfs["work_rvu"] = pfs["work_rvu"].astype(float)
        mods = enc["modifiers"].fillna("")
        enc["mod"] = ""
        enc.loc[mods.str.contains("26"), "mod"] = "26"
        enc.loc[mods.str.contains("TC"), "mod"] = "TC"
        df = enc.merge(pfs[["hcpcs", "mod", "work_rvu"]], on=["hcpcs", "mod"], how="left")
        factor = 1.0
        for code, f in (("62", 0.625), ("80", 0.16), ("51", 0.5), ("50", 1.5)):
            factor = factor * mods.str.contains(code).map({True: f, False: 1.0})
        df["credited"] = df["work_rvu"].fillna(0) * df["units"] * factor.values
        df = df[df["status"].fillna("paid") == "paid"]
        rows = len(df.groupby("npi")["credited"].sum())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": rows}))


def measure(mode: str, root: Path) -> dict[str, float] | None:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        print(f"    {mode} failed: {out.stderr.strip().splitlines()[-1:]}")
        return None
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def environment() -> str:
    import duckdb
    import ibis
    import pandas

    from paycascade import __version__

    return (
        f"paycascade {__version__}; Python {platform.python_version()}; duckdb "
        f"{duckdb.__version__}; ibis {ibis.__version__}; pandas {pandas.__version__}; "
        f"{platform.platform()}; {os.cpu_count()} CPUs; "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--physicians", type=int, nargs="+", default=[240, 2400])
    parser.add_argument("--pandas-max-lines", type=int, default=40_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    print(environment())
    for size in args.physicians:
        with tempfile.TemporaryDirectory() as tmp:
            from paycascade.demo.workspace import write_demo

            root = Path(tmp) / "ws"
            t0 = time.perf_counter()
            write_demo(root, physicians=size, seed=2026)
            import pyarrow.parquet as pq

            lines = pq.ParquetFile(root / "data" / "encounters.parquet").metadata.num_rows
            print(
                f"{size:,} clinicians, {lines:,} lines (generated in {time.perf_counter() - t0:.1f}s)"
            )
            ours = measure("paycascade", root)
            bare = measure("bare", root)
            pandas = measure("pandas", root) if lines <= args.pandas_max_lines else None
            for name, fig in (("paycascade", ours), ("bare duckdb", bare), ("pandas", pandas)):
                if fig is None:
                    why = "not run: over --pandas-max-lines" if name == "pandas" else "failed"
                    print(f"  {name:<12} {why}")
                    continue
                print(f"  {name:<12} {fig['seconds']:8.2f}s  peak RSS {fig['peak_mib']:8.0f} MiB")
            if ours and bare:
                print(f"  paycascade / bare duckdb = {ours['seconds'] / bare['seconds']:.2f}×")
            if ours and pandas:
                print(f"  pandas / paycascade      = {pandas['seconds'] / ours['seconds']:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
