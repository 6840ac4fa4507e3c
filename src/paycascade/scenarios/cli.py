"""Click commands: ``scenario``, ``simulate`` and ``risk`` (registered by ``paycascade.cli``).

paycascade scenario WORKSPACE REFORM.yaml [--period P] [--out DIR]
    [--solve TARGET:PATH [--target AMOUNT]] [--sweep TARGET:PATH FROM TO STEP]
    [--transition [--years 10] [--turnover SPECIALTY=RATE ...] [--term-years 3]]
paycascade simulate WORKSPACE (--npi N ... | --specialty S | --group G)
    [--fewer HCPCS FRACTION ...] [--admissions N --drg-payment $] [--shift N FROM$ TO$]
    [--contract ID [--contract-share F]] [--plan ID ...] [--out DIR]
paycascade risk WORKSPACE [--contract ID] [--draws N] [--k 1.66] [--track T ...] [--out DIR]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from paycascade.diagnostics import PaycascadeError
from paycascade.money import D, fmt_cents

WORKSPACE = click.argument(
    "workspace", type=click.Path(file_okay=False, path_type=Path), metavar="WORKSPACE"
)
PERIOD = click.option("--period", "-p", default=None, metavar="P", help="Default: [run] period.")


def _fail(exc: PaycascadeError) -> None:
    click.echo(exc.diagnostics.format(), err=True)
    click.echo(f"{len(exc.diagnostics.errors)} error(s); nothing was written.", err=True)
    sys.exit(1)


class _Options:
    """A command's numeric options and output file, checked all at once before any work:
    every problem is named in one usage error (exit 2), nothing is computed or written."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.failed: set[str] = set()  # options that are not numbers: no follow-on problems

    def dec(
        self, text: str, what: str, low: Decimal | None = None, high: Decimal | None = None
    ) -> Decimal:
        """``text`` as a finite number (``money.D``: ``$`` and thousands separators allowed),
        within ``low`` … ``high``; 0 (after noting the problem) when it is not."""
        try:
            value = D(text)
        except (TypeError, ValueError) as exc:
            self.problems.append(f"{what}: {exc}")
            self.failed.add(what)
            return Decimal(0)
        if (low is not None and value < low) or (high is not None and value > high):
            if low is None:
                bounds = f"≤ {high}"
            elif high is None:
                bounds = f"≥ {low}"
            else:
                bounds = f"{low}–{high}"
            self.problems.append(f"{what}: {text} must be {bounds}")
        return value

    def out(self, path: Path | None, option: str = "--out") -> None:
        if path is not None and not path.parent.is_dir():
            self.problems.append(f"{option}: the folder {path.parent} does not exist")

    def check(self) -> None:
        if self.problems:
            raise click.UsageError("\n".join(self.problems))


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{(value * 100).quantize(Decimal('0.01'))}%"


def _load(workspace: Path, period: str | None) -> Any:
    from paycascade.runner import load

    return load(workspace, period)


@click.command("scenario")
@WORKSPACE
@click.argument("reform", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@PERIOD
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report folder (default: WORKSPACE/out/scenarios/<reform name>).",
)
@click.option(
    "--solve",
    "solve_param",
    default=None,
    metavar="TARGET:PATH",
    help="Solve this number for budget neutrality (total pay = baseline ± $1).",
)
@click.option(
    "--target",
    "target",
    default=None,
    metavar="AMOUNT",
    help="With --solve: the total pay to reach instead of the baseline's.",
)
@click.option(
    "--sweep",
    "sweep_args",
    nargs=4,
    default=None,
    metavar="TARGET:PATH FROM TO STEP",
    help="Sweep a number over a range.",
)
@click.option("--transition", is_flag=True, help="Add the 10-year transition plan.")
@click.option("--years", default=10, show_default=True, type=click.IntRange(1, 40))
@click.option(
    "--turnover",
    multiple=True,
    metavar="SPECIALTY=RATE",
    help="Annual turnover of a specialty (default 0.07 each).",
)
@click.option("--default-turnover", default="0.07", show_default=True)
@click.option(
    "--term-years",
    default=3,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Agreement term: 1/term of the physicians on the old plan renew each year.",
)
def scenario_command(
    workspace: Path,
    reform: Path,
    period: str | None,
    out_dir: Path | None,
    solve_param: str | None,
    target: str | None,
    sweep_args: tuple[str, str, str, str] | None,
    transition: bool,
    years: int,
    turnover: Sequence[str],
    default_turnover: str,
    term_years: int,
) -> None:
    """Compute REFORM.yaml on WORKSPACE against its baseline; write CSV and an HTML report."""
    from paycascade.scenarios import report
    from paycascade.scenarios.diff import run_scenario
    from paycascade.scenarios.reform import load_and_apply
    from paycascade.scenarios.solve import Param, solve_budget_neutral, sweep, sweep_values
    from paycascade.scenarios.transition import linked_cents, plan_transition

    options = _Options()
    goal = None if target is None else int(options.dec(target, "--target") * 100)
    if sweep_args:
        sweep_name, lo, hi, step = sweep_args
        sweep_range = (
            options.dec(lo, "--sweep FROM"),
            options.dec(hi, "--sweep TO"),
            options.dec(step, "--sweep STEP"),
        )
    rates: dict[str, Decimal] = {}
    for item in turnover:
        spec, sep, rate = item.rpartition("=")
        if not sep or not spec:
            options.problems.append(f"--turnover: '{item}' is not SPECIALTY=RATE")
            continue
        rates[spec] = options.dec(rate, f"--turnover {spec}", Decimal(0), Decimal(1))
    default_rate = options.dec(default_turnover, "--default-turnover", Decimal(0), Decimal(1))
    options.check()
    try:
        loaded = _load(workspace, period)
    except PaycascadeError as exc:
        _fail(exc)
        return
    try:
        reform_obj, applied = load_and_apply(loaded, reform)
        scenario = run_scenario(loaded, reform_obj, applied)
        diff = scenario.diff
        extra = [report.findings_section(scenario.findings_appeared, scenario.findings_disappeared)]
        lines = [
            f"reform: {reform_obj.name} ({loaded.period.label}, {len(diff.rows)} physicians)",
            f"total pay: {fmt_cents(diff.total_before)} → {fmt_cents(diff.total_after)} "
            f"(budget impact {fmt_cents(diff.budget_impact)}, {_pct(diff.budget_impact_pct)})",
            f"value-linked share: {_pct(diff.vls_before)} → {_pct(diff.vls_after)}",
            f"winners {diff.winners}, losers {diff.losers}; contract results change "
            f"{fmt_cents(diff.contracts_delta)}; system net {fmt_cents(diff.system_net)}",
        ]
        for s in diff.specialties:
            if s.delta:
                lines.append(
                    f"  {s.specialty:<28} {s.winners:>3} up {s.losers:>3} down  "
                    f"{fmt_cents(s.delta):>16}  value-linked {_pct(s.vls_before)} → "
                    f"{_pct(s.vls_after)}"
                )
        lines.append(
            f"guardrail findings: {len(scenario.findings_appeared)} appear, "
            f"{len(scenario.findings_disappeared)} disappear"
        )
        if solve_param:
            solution = solve_budget_neutral(
                loaded, reform_obj, Param.parse(solve_param), scenario.baseline, target_cents=goal
            )
            extra.append(report.solution_section(solution))
            lines.append(
                f"budget-neutral {solution.param} = {solution.value} (total "
                f"{fmt_cents(solution.total_cents)}, gap {fmt_cents(solution.gap_cents)}, "
                f"{solution.iterations} evaluations)"
            )
        if sweep_args:
            name = sweep_name
            values = sweep_values(*sweep_range)
            points = sweep(loaded, reform_obj, Param.parse(name), scenario.baseline, values)
            extra.append(report.sweep_section(name, points))
            lines.append(f"sweep {name}:")
            lines.extend(
                f"  {p.value}: {fmt_cents(p.total_cents)}, value-linked {_pct(p.vls)}"
                for p in points
            )
        if transition:
            specialties = {r.specialty for r in diff.rows}
            unknown = sorted(set(rates) - specialties)
            if unknown:
                raise click.UsageError(
                    f"--turnover: no physician of {', '.join(unknown)} in the period "
                    f"(specialties: {', '.join(sorted(specialties))})"
                )
            npis = [r.npi for r in diff.rows]
            plan = plan_transition(
                diff,
                linked_cents(scenario.baseline.totals, npis),
                linked_cents(scenario.reformed.totals, npis),
                years=years,
                turnover=rates,
                default_turnover=default_rate,
                term_years=term_years,
            )
            extra.append(report.transition_section(plan))
            lines.append("transition:")
            lines.extend(
                f"  year {y.year:>2}: {_pct(y.on_new_plan)} on the new plan, "
                f"{fmt_cents(y.cost_cents)}, value-linked {_pct(y.value_linked_share)}"
                for y in plan
            )
    except PaycascadeError as exc:
        _fail(exc)
        return
    finally:
        loaded.con.close()
    folder = out_dir or workspace / "out" / "scenarios" / reform.stem
    paths = report.write_scenario(folder, reform_obj.name, reform_obj.description, diff, extra)
    click.echo("\n".join(lines))
    click.echo(f"files: {folder}/ ({', '.join(p.name for p in paths)})")


@click.command("simulate")
@WORKSPACE
@PERIOD
@click.option("--npi", "npis", multiple=True, help="A physician (repeat for several).")
@click.option("--specialty", default=None, help="Every physician of a specialty.")
@click.option("--group", default=None, help="Every physician of a group.")
@click.option(
    "--fewer",
    nargs=2,
    multiple=True,
    metavar="HCPCS FRACTION",
    help="Bill FRACTION (0–1) fewer units of HCPCS.",
)
@click.option("--admissions", default="0", help="Admissions avoided.")
@click.option("--drg-payment", default="0", help="Payment per avoided admission ($).")
@click.option(
    "--shift",
    nargs=3,
    default=None,
    metavar="COUNT FROM TO",
    help="COUNT services moved from a site costing FROM $ to one costing TO $.",
)
@click.option("--contract", default=None, help="The payer contract whose spending falls.")
@click.option(
    "--contract-share",
    default=None,
    help="Share (0–1) of the spending change that falls in --contract.  [default: 1]",
)
@click.option("--plan", "plans", multiple=True, help="Plans to compare (default: their own).")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write an HTML report here.",
)
def simulate_command(
    workspace: Path,
    period: str | None,
    npis: Sequence[str],
    specialty: str | None,
    group: str | None,
    fewer: Sequence[tuple[str, str]],
    admissions: str,
    drg_payment: str,
    shift: tuple[str, str, str] | None,
    contract: str | None,
    contract_share: str | None,
    plans: Sequence[str],
    out_file: Path | None,
) -> None:
    """The value-penalty simulator: a practice change's effect on physician, facility, payer."""
    from paycascade.scenarios import report
    from paycascade.scenarios.simulator import Practice, simulate

    options = _Options()
    zero, one = Decimal(0), Decimal(1)
    practice = Practice(
        fewer=tuple((code, options.dec(f, f"--fewer {code}", zero, one)) for code, f in fewer),
        avoided_admissions=options.dec(admissions, "--admissions", zero),
        drg_payment=options.dec(drg_payment, "--drg-payment", zero),
        shift_count=options.dec(shift[0], "--shift COUNT", zero) if shift else zero,
        shift_from=options.dec(shift[1], "--shift FROM", zero) if shift else zero,
        shift_to=options.dec(shift[2], "--shift TO", zero) if shift else zero,
        contract=contract,
        contract_share=one
        if contract_share is None
        else options.dec(contract_share, "--contract-share", zero, one),
    )
    if contract_share is not None and contract is None:
        options.problems.append("--contract-share: name the contract with --contract")
    if practice.avoided_admissions and not practice.drg_payment and not options.failed:
        options.problems.append("--admissions: give the payment per admission (--drg-payment)")
    options.out(out_file)
    options.check()
    try:
        loaded = _load(workspace, period)
    except PaycascadeError as exc:
        _fail(exc)
        return
    try:
        chosen = list(npis) + [
            p.npi
            for p in loaded.physicians
            if (specialty is not None and p.specialty == specialty)
            or (group is not None and p.group == group)
        ]
        sim = simulate(loaded, chosen, practice, plans)
    except PaycascadeError as exc:
        _fail(exc)
        return
    finally:
        loaded.con.close()
    click.echo(f"{len(sim.npis)} physician(s)")
    for s in sim.services:
        click.echo(
            f"  {s.hcpcs}: {s.units.normalize():f} units, {s.wrvu.normalize():f} wRVU fewer; "
            f"facility technical {fmt_cents(s.technical_cents)}, payer {fmt_cents(s.payer_cents)}"
        )
    click.echo(
        f"facility revenue {fmt_cents(sim.facility_delta)}; payer spending "
        f"{fmt_cents(sim.payer_delta)}"
    )
    if sim.contract:
        click.echo(
            f"contract {sim.contract}: settlement {fmt_cents(sim.settlement_before)} → "
            f"{fmt_cents(sim.settlement_after)} ({fmt_cents(sim.settlement_delta)})"
        )
    for p in sim.plans:
        click.echo(
            f"  plan {p.plan}: wRVU {p.wrvu_before} → {p.wrvu_after}; pay "
            f"{fmt_cents(p.pay_delta)} (pass-through {fmt_cents(p.pass_through_delta)})"
        )
    if out_file is not None:
        _write(out_file, report.page("Value-penalty simulator", report.simulation_sections(sim)))
        click.echo(f"report: {out_file}")


@click.command("risk")
@WORKSPACE
@PERIOD
@click.option("--contract", default=None, help="The MSSP contract (default: the first).")
@click.option("--draws", default=100_000, show_default=True, type=click.IntRange(1, 20_000_000))
@click.option(
    "--k",
    "k",
    default="1.66",
    show_default=True,
    help="Per-beneficiary coefficient of variation of spending (σ = μ·k/√N).",
)
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option(
    "--expenditures",
    default=None,
    metavar="AMOUNT",
    help="Expected expenditures μ (default: the contract's expenditures metric).",
)
@click.option("--track", "tracks", multiple=True, help="Track choices (default: all offered).")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write an HTML report here.",
)
def risk_command(
    workspace: Path,
    period: str | None,
    contract: str | None,
    draws: int,
    k: str,
    seed: int,
    expenditures: str | None,
    tracks: Sequence[str],
    out_file: Path | None,
) -> None:
    """Contract risk: Monte Carlo of the MSSP settlement under each track choice."""
    from paycascade.contracts.mssp import MsspInputError, normalize_track
    from paycascade.runner import compute_outcome
    from paycascade.scenarios import report
    from paycascade.scenarios.montecarlo import contract_inputs, offered_tracks, simulate_tracks

    options = _Options()
    spread = options.dec(k, "--k", Decimal(0))
    mean = None if expenditures is None else options.dec(expenditures, "--expenditures", Decimal(0))
    options.out(out_file)
    options.check()
    try:
        loaded = _load(workspace, period)
    except PaycascadeError as exc:
        _fail(exc)
        return
    try:
        outcome = compute_outcome(loaded)
        spec, x = contract_inputs(loaded, outcome, contract)
        if mean is not None:
            x = replace(x, expenditures=mean)
        chosen = [normalize_track(t) for t in tracks] or offered_tracks(x.performance_year)
        allocation = spec.allocation_for(loaded.period)
        pool_share = sum(
            (s.share for s in allocation.shares if s.destination.startswith("pool:")), Decimal(0)
        )
        risks = simulate_tracks(
            x,
            chosen,
            draws=draws,
            k=spread,
            seed=seed,
            pool_share=pool_share,
            losses_pass_through=allocation.losses == "pass_through",
        )
    except PaycascadeError as exc:
        _fail(exc)
        return
    except (MsspInputError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        loaded.con.close()
    header = (
        f"{spec.id}: PY{x.performance_year}, {x.n_assigned:,} assigned beneficiaries, benchmark "
        f"{fmt_cents(int(x.benchmark * 100))}, expected expenditures "
        f"{fmt_cents(int(x.expenditures * 100))}; σ = μ × {k} ÷ √N; {draws:,} draws, seed {seed}; "
        f"physician pools get {pool_share} of a positive result"
    )
    click.echo(header)
    for r in risks:
        click.echo(
            f"  {r.track.label:<9} expected {fmt_cents(r.mean_cents):>16}  P(owe) {r.p_owe:7.2%}  "
            f"p5 {fmt_cents(r.p5_cents):>16}  p95 {fmt_cents(r.p95_cents):>16}  "
            f"pool {fmt_cents(r.pool_mean_cents)}"
        )
    if out_file is not None:
        _write(out_file, report.page("Contract risk", report.risk_sections(risks, header)))
        click.echo(f"report: {out_file}")
