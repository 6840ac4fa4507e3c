"""The ``paycascade`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from paycascade import __version__
from paycascade.diagnostics import PaycascadeError
from paycascade.ledger import read_json

WORKSPACE = click.argument(
    "workspace", type=click.Path(file_okay=False, path_type=Path), metavar="WORKSPACE"
)
PERIOD = click.option(
    "--period",
    "-p",
    default=None,
    metavar="P",
    help="2026, 2026-Q3, 2026-07 or 2026-01-01..2026-06-30 (default: [run] period in paycascade.toml)",
)


def _fail(exc: PaycascadeError) -> None:
    click.echo(exc.diagnostics.format(), err=True)
    errors = len(exc.diagnostics.errors)
    click.echo(f"{errors} error(s); nothing was written.", err=True)
    sys.exit(1)


def _reason(exc: Exception) -> str:
    """An OS or parse error in a few words, without the traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _progress(message: str) -> None:
    click.echo(f"… {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paycascade")
def main() -> None:
    """paycascade: value-based physician compensation, from payer contract to physician.

    Plans as code, an exact ledger in integer cents, explained statements.  Start with
    `paycascade demo DIR` for a synthetic health system, or `paycascade check` on your own
    workspace (see docs/DATA.md and docs/PLANS.md).
    """


@main.command()
@WORKSPACE
@PERIOD
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def check(workspace: Path, period: str | None, as_json: bool) -> None:
    """Validate the workspace: config, plans and every input table.

    Every problem is printed at once as `file:line: message` (tables: `file:row:column:
    message`, rows numbered as a spreadsheet shows them).  Exits 1 if there are errors.
    """
    from paycascade.runner import check as run_check

    diags = run_check(workspace, period)
    if as_json:
        click.echo(diags.to_json())
    else:
        if len(diags):
            click.echo(diags.format())
        click.echo(f"{len(diags.errors)} error(s), {len(diags.warnings)} warning(s)", err=True)
    sys.exit(1 if diags.has_errors() else 0)


@main.command()
@WORKSPACE
@PERIOD
@click.option("--quiet", "-q", is_flag=True, help="Print only the output folder.")
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Where the aggregation pipeline runs: embedded DuckDB, or Spark (local mode unless "
    "PAYCASCADE_SPARK_MASTER is set; needs `pip install 'paycascade[spark]'` and Java 17+).",
)
def run(workspace: Path, period: str | None, quiet: bool, engine: str) -> None:
    """Compute every physician's pay for a period and write out/<run-id>/.

    The run is atomic: on any input problem nothing is written and every problem is listed.
    The same inputs give the same run id and byte-identical ledger.csv and statements.csv.
    """
    from paycascade.runner import run as do_run
    from paycascade.summary import summarize

    try:
        result = do_run(
            workspace, period, progress=(lambda _: None) if quiet else _progress, engine=engine
        )
    except PaycascadeError as exc:
        _fail(exc)
        return
    click.echo(str(result.out_dir) if quiet else summarize(result))


@main.command()
@WORKSPACE
@click.option("--npi", required=True, help="The physician's 10-digit NPI.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
@click.option("--run", "run_id", default=None, help="A run id (default: the latest run).")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def statement(
    workspace: Path, npi: str, fmt: str, run_id: str | None, out_file: Path | None
) -> None:
    """Explain one physician's pay, line by line: the numbers, the rule (plan file:line) and
    the inputs; the scorecard with each measure's rate, points and why."""
    from paycascade.render import render_statement
    from paycascade.runner import latest_run

    if not workspace.is_dir():
        raise click.ClickException(f"workspace folder not found: {workspace}")
    folder = workspace / "out" / run_id if run_id else latest_run(workspace)
    if folder is None or not (folder / "statements.json").is_file():
        raise click.ClickException(
            f"no run found in {workspace} (run `paycascade run {workspace}` first)"
            if run_id is None
            else f"run '{run_id}' not found in {workspace / 'out'}"
        )
    try:
        details = read_json((folder / "statements.json").read_bytes())
    except (OSError, ValueError) as exc:
        raise click.ClickException(
            f"cannot read {folder / 'statements.json'}: {_reason(exc)}; run again"
        ) from exc
    if npi not in details:
        raise click.ClickException(f"NPI {npi} has no statement in run {folder.name}")
    text = render_statement(details[npi], fmt)
    if out_file is not None:
        try:
            out_file.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {out_file}: {_reason(exc)}") from exc
        click.echo(f"wrote {out_file}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument(
    "directory",
    required=False,
    default="paycascade-demo",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--physicians",
    default=300,
    show_default=True,
    type=click.IntRange(40, 50000),
    help="How many clinicians the synthetic health system employs.",
)
@click.option(
    "--seed", default=2026, show_default=True, type=int, help="Random seed (same seed, same files)."
)
@click.option("--no-serve", is_flag=True, help="Exit when done instead of serving the portal.")
@click.option(
    "--encounters",
    default=None,
    type=click.IntRange(1000, 2_000_000_000),
    help="About this many encounter lines in all (for scale tests: more lines per clinician, "
    "streamed to Parquet in bounded memory). Default: what practice looks like, ~4,200 each.",
)
@click.option("--port", default=8000, show_default=True, type=int, help="Portal port (127.0.0.1).")
def demo(
    directory: Path, physicians: int, seed: int, no_serve: bool, encounters: int | None, port: int
) -> None:
    """Write a synthetic health system's workspace to DIRECTORY and run it.

    Clearly labelled synthetic data (work RVUs of the generated codes are CMS's CY2023
    values), plans modelled on the seeds, and a printed summary of pay and value-linked share.
    """
    from paycascade.demo.workspace import check_demo_folder, write_demo
    from paycascade.runner import check_recordable
    from paycascade.runner import run as do_run
    from paycascade.summary import summarize

    check_demo_folder(directory)
    try:
        check_recordable(directory)  # before anything is written
    except PaycascadeError as exc:
        _fail(exc)
        return
    click.echo(
        f"writing the synthetic workspace to {directory} ({physicians} clinicians, seed {seed})",
        err=True,
    )
    write_demo(directory, physicians=physicians, seed=seed, encounters=encounters)
    try:
        result = do_run(directory, None, progress=_progress)
    except PaycascadeError as exc:
        _fail(exc)
        return
    click.echo(summarize(result))
    from paycascade.scenarios.cli import scenario_command

    for reform in sorted((directory / "reforms").glob("*.yaml")):
        click.echo(f"\nThe demo's reform, {reform.name}:")
        click.get_current_context().invoke(scenario_command, workspace=directory, reform=reform)
    click.echo(f"\nTry: paycascade statement {directory} --npi {_example_npi(result)}")
    if not no_serve:
        from paycascade.web.app import serve

        click.echo("")
        serve(directory, port=port, demo_logins=True)


def _example_npi(result: object) -> str:
    physicians = getattr(result, "physicians", [])
    for p in physicians:
        if p.plan == "pcp-aligned":
            return str(p.npi)
    return str(physicians[0].npi) if physicians else "NPI"


def _register() -> None:
    """The commands that live beside their feature (contracts, web)."""
    from paycascade.contracts.mssp_cli import mssp_command
    from paycascade.scenarios.cli import risk_command, scenario_command, simulate_command
    from paycascade.web.cli import serve_command, user_command

    for command in (
        mssp_command,
        scenario_command,
        simulate_command,
        risk_command,
        serve_command,
        user_command,
    ):
        main.add_command(command)


_register()
