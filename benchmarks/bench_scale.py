"""Benchmark: a full annual run at growing encounter volumes, against pandas and bare DuckDB.

For each size it generates the synthetic workspace (streamed to Parquet, bounded memory), then
times three ways of producing the per-physician wRVU, panel and quality aggregates, each in its
own process so that peak RSS is that process's own:

* ``paycascade``: `paycascade run` end to end (validate, aggregate, settle, compute, write);
* ``bare duckdb``: one hand-written DuckDB SQL query that aggregates the same lines (work RVU
  by code and modifier × units × the Medicare crediting factors, per physician) — the floor;
* ``bare, all inputs``: that query, then the other input tables the run reads (attribution,
  quality, shifts, episodes, physicians, …) aggregated per physician or contract as the
  marts are, each by one hand-written query over its file;
* ``pandas``: the straightforward pandas version of that aggregation (read Parquet, merge the
  fee schedule, group by); skipped, and said so, when the lines would not fit in memory.

Prints wall time, peak RSS and ratios, then the environment.  Not a test: nothing asserts.

    .venv/bin/python benchmarks/bench_scale.py --physicians 240 2400
    .venv/bin/python benchmarks/bench_scale.py --physicians 10000 --encounters 20000000 100000000
    .venv/bin/python benchmarks/bench_scale.py --workspace /tmp/huge

With ``--encounters`` the clinicians stay the same and only the lines grow, so the script also
prints what each further ten million lines cost against the bare query, and the fixed
(per-clinician) work the run does whatever the lines.  ``--repeat N`` runs the contenders N
times, taking turns, and reports each one's median with its range and the range of the
round-by-round ratios (ratios and the per-line figures are taken from the medians).
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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

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


#: with ``bare-all``: the other input tables the run reads, aggregated per physician (or per
#: contract) as the pipeline's marts are, each read from its file like the lines
BARE_OTHER_SQL = (
    "select npi, sum(member_months), sum(member_months * risk_score) "
    "from read_csv('{d}/attribution.csv') group by npi",
    "select npi, measure, sum(numerator), sum(denominator), sum(exclusions) "
    "from read_csv('{d}/quality.csv') group by npi, measure",
    "select npi, shift_type, count(*), sum(hours) from read_csv('{d}/shifts.csv') group by all",
    "select contract_id, count(*), sum(actual_spend) from read_csv('{d}/episodes.csv') group by 1",
    "select npi, plan, fte from read_csv('{d}/physicians.csv') order by npi",
    "select npi, kind, sum(hours) from read_csv('{d}/hours.csv') group by all",
    "select npi, activity, sum(quantity) from read_csv('{d}/activities.csv') group by all",
    "select * from read_csv('{d}/stipends.csv')",
    "select * from read_csv('{d}/contract_performance.csv')",
)


def _child(mode: str, root: str) -> None:
    """Run one way of aggregating in this (child) process and print JSON figures.

    Imports happen before the clock starts, for all three, so the figures compare work: the
    run's own modules, including those it imports when first needed (the Ibis pipeline and its
    DuckDB compiler, the guardrails; about 0.3 s), as the bare query imports DuckDB."""
    import duckdb
    import pandas as pd

    if mode == "paycascade":
        import ibis.backends.duckdb  # noqa: F401
        import sqlglot.dialects.duckdb  # noqa: F401

        import paycascade.compliance.review
        import paycascade.pipelines.aggregate  # noqa: F401
    from paycascade.runner import run

    start = time.perf_counter()
    rows = 0
    stages = ""
    if mode == "paycascade":
        result = run(Path(root))
        rows = len(result.totals)
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
    elif mode in ("bare", "bare-all"):
        con = duckdb.connect()
        sql = BARE_SQL.format(
            enc=f"{root}/data/encounters.parquet", pfs=f"{root}/data/reference/pfs_rvu_demo.csv"
        )
        rows = len(con.execute(sql).fetchall())
        if mode == "bare-all":
            for other in BARE_OTHER_SQL:
                con.execute(other.format(d=f"{root}/data")).fetchall()
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
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": rows, "stages": stages}))


def measure(mode: str, root: Path) -> dict[str, Any] | None:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        print(f"    {mode} failed: {out.stderr.strip().splitlines()[-1:]}")
        return None
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def measure_alternating(modes: Sequence[str], root: Path, repeat: int) -> list[dict[str, Any]]:
    """``repeat`` rounds of every mode, taking turns, so that a slow spell of the machine falls
    on all of them; each round maps a mode to its figures (a failed mode is left out)."""
    rounds = []
    for _ in range(repeat):
        figures = {mode: measure(mode, root) for mode in modes}
        rounds.append({m: f for m, f in figures.items() if f is not None})
    return rounds


def median_run(runs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The run of median wall time (the lower middle one of an even count), peak RSS the
    highest of all the runs."""
    if not runs:
        return None
    ordered = sorted(runs, key=lambda r: float(r["seconds"]))
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["peak_mib"] = max(float(r["peak_mib"]) for r in runs)
    return middle


def spread(runs: Sequence[dict[str, Any]]) -> str:
    if len(runs) < 2:
        return ""
    times = [float(r["seconds"]) for r in runs]
    return f"  (median of {len(runs)}: {min(times):.2f}–{max(times):.2f}s)"


def paired(rounds: Sequence[dict[str, Any]], ours: str, floor: str) -> str:
    """The range of the ratios of the runs of the same round."""
    ratios = [
        float(r[ours]["seconds"]) / float(r[floor]["seconds"])
        for r in rounds
        if ours in r and floor in r
    ]
    if len(ratios) < 2:
        return ""
    return f"  (round by round: {min(ratios):.2f}–{max(ratios):.2f}×)"


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


def _cases(args: argparse.Namespace) -> Iterator[tuple[str, Path]]:
    """(label, workspace) for each size asked for: generated in a temporary folder, or given."""
    from paycascade.demo.workspace import write_demo

    for given in args.workspace:
        yield f"workspace {given}", Path(given)
    sizes: list[tuple[int, int | None]] = (
        [(args.physicians[0], n) for n in args.encounters]
        if args.encounters
        else [(p, None) for p in args.physicians]
    )
    if args.workspace:
        sizes = []
    for physicians, encounters in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "ws"
            t0 = time.perf_counter()
            write_demo(root, physicians=physicians, seed=2026, encounters=encounters)
            yield f"{physicians:,} clinicians (generated in {time.perf_counter() - t0:.1f}s)", root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--physicians", type=int, nargs="+", default=[240, 2400])
    parser.add_argument(
        "--encounters",
        type=int,
        nargs="+",
        help="with one --physicians: a run at each of these line counts (same clinicians)",
    )
    parser.add_argument(
        "--workspace", nargs="+", default=[], help="existing workspaces to measure instead"
    )
    parser.add_argument("--pandas-max-lines", type=int, default=40_000_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the contenders this many times, alternating, and report the median "
        "(with the range) — for machines whose timings wander",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    if args.encounters and len(args.physicians) != 1:
        parser.error("--encounters needs exactly one --physicians")
    print(environment())
    import pyarrow.parquet as pq

    seen: list[tuple[int, float, float]] = []
    for label, root in _cases(args):
        lines = pq.ParquetFile(root / "data" / "encounters.parquet").metadata.num_rows
        print(f"{label}: {lines:,} lines")
        modes = ["paycascade", "bare", "bare-all"]
        if lines <= args.pandas_max_lines:
            modes.append("pandas")
        rounds = measure_alternating(modes, root, max(1, args.repeat))
        runs = {m: [r[m] for r in rounds if m in r] for m in modes}
        ours, bare, bare_all, pandas = (
            median_run(runs.get(m, [])) for m in ("paycascade", "bare", "bare-all", "pandas")
        )
        contenders = (
            ("paycascade", "paycascade", ours),
            ("bare duckdb", "bare", bare),
            ("bare, all inputs", "bare-all", bare_all),
            ("pandas", "pandas", pandas),
        )
        for name, mode, fig in contenders:
            if fig is None:
                why = "not run: over --pandas-max-lines" if mode not in modes else "failed"
                print(f"  {name:<16} {why}")
                continue
            print(
                f"  {name:<16} {fig['seconds']:8.2f}s  peak RSS {fig['peak_mib']:8.0f} MiB"
                + spread(runs[mode])
            )
        if ours:
            print(f"  stages           {ours['stages']}")
        if ours and bare:
            print(
                f"  paycascade / bare duckdb = {ours['seconds'] / bare['seconds']:.2f}×"
                + paired(rounds, "paycascade", "bare")
            )
            seen.append((lines, float(ours["seconds"]), float(bare["seconds"])))
        if ours and bare_all:
            ratio = ours["seconds"] / bare_all["seconds"]
            print(
                f"  paycascade / bare duckdb over all inputs = {ratio:.2f}×"
                + paired(rounds, "paycascade", "bare-all")
            )
        if ours and pandas:
            print(f"  pandas / paycascade      = {pandas['seconds'] / ours['seconds']:.2f}×")
    if args.encounters and len(seen) >= 2:
        # the same clinicians with more lines: what each further line costs
        (l0, o0, b0), (l1, o1, b1) = seen[0], seen[-1]
        per = 10_000_000 / (l1 - l0)
        print(
            f"each further 10M lines: paycascade {(o1 - o0) * per:.2f}s, bare duckdb "
            f"{(b1 - b0) * per:.2f}s ({(o1 - o0) / (b1 - b0):.2f}×); "
            f"fixed (per-clinician) work ≈ {o0 - (o1 - o0) / (l1 - l0) * l0:.1f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
