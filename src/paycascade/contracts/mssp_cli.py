"""``paycascade mssp``: settle every ACO in a CMS MSSP public use file."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from paycascade.contracts.mssp_puf import PufReport, settle_puf, write_csv
from paycascade.diagnostics import Diagnostics, PaycascadeError

_HELP = """Settle every ACO in a CMS MSSP public use file (PUF) from its inputs.

PUF is a "Performance Year Financial and Quality Results" CSV from data.cms.gov (layouts of
PY2018 and PY2021-PY2024 are recognised from their columns). Only inputs are read: benchmark,
expenditures, assigned beneficiaries, track, quality, elected MSR/MLR and disaster relief.
CMS's own results (EarnSaveLoss, GenSaveLoss, FinalShareRate, ...) are never read, so the
output can be checked against them.

Prints a summary and writes one row per ACO (savings rate, MSR/MLR, generated and earned
savings or losses, rates, limits, an explanation with the arithmetic) to --out.

Shared losses under a revenue-based loss limit (BASIC C-E, Track 1+) need the ACO
participants' FFS revenue, which the public file lacks; those ACOs are reported as not
determinable with an interval that contains the true amount.

Exit status: 0 when the file was settled (rows that cannot be read are printed as warnings
as file:row:column: message); 1 when the file cannot be read at all.

\b
Example:
  paycascade mssp mssp_puf_py2024.csv --out settled_2024.csv
"""


@click.command("mssp", help=_HELP, short_help="Settle the ACOs of a CMS MSSP PUF.")
@click.argument("puf", type=click.Path(dir_okay=False, path_type=Path), metavar="PUF.csv")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV to write (default: <PUF name>_settled.csv in the current directory).",
)
@click.option(
    "--year",
    type=int,
    default=None,
    metavar="YYYY",
    help="Performance year whose rules apply (default: recognised from the file's columns).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def mssp_command(puf: Path, out: Path | None, year: int | None, as_json: bool) -> None:
    try:
        report = settle_puf(puf, performance_year=year)
    except PaycascadeError as exc:
        _fail(exc.diagnostics)
    target = out if out is not None else Path.cwd() / f"{puf.stem}_settled.csv"
    try:
        write_csv(report, target)
    except OSError as exc:
        diags = Diagnostics()
        diags.add(target, None, f"cannot write: {exc.strerror or exc}", code="io")
        _fail(diags)
    _print(report, target, as_json)


def _fail(diags: Diagnostics) -> NoReturn:
    click.echo(diags.format(), err=True)
    raise click.exceptions.Exit(1)


def _print(report: PufReport, target: Path, as_json: bool) -> None:
    if report.diagnostics.items:
        click.echo(report.diagnostics.format(), err=True)
    if as_json:
        click.echo(report.to_json(target))
        return
    click.echo(report.summary())
    click.echo(f"Wrote {report.settled} rows to {target}")
