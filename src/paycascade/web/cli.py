"""``paycascade serve`` and ``paycascade user``: click commands for the main CLI to register."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from paycascade.web.store import ROLES, Store, UserError

WORKSPACE = click.argument(
    "workspace", type=click.Path(file_okay=False, exists=True, path_type=Path), metavar="WORKSPACE"
)


@click.command("serve")
@WORKSPACE
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option(
    "--demo-logins",
    is_flag=True,
    help="Create (or reset) the demo users with new random passwords and print them.",
)
@click.option(
    "--trust-proxy",
    metavar="ADDRESSES",
    default=None,
    help="Behind a reverse proxy: the proxy's address(es), comma-separated, whose "
    "X-Forwarded-For / X-Forwarded-Proto headers give the client's address (for login "
    "throttling and the audit log).  By default those headers are ignored.",
)
def serve_command(
    workspace: Path, host: str, port: int, demo_logins: bool, trust_proxy: str | None
) -> None:
    """Serve the physician portal for WORKSPACE (statements, scorecards, runs, exports, audit).

    Physicians see only their own statement; analysts and admins see every run and export;
    auditors read the audit log.  Every view and export of pay data is audited.  The cookie
    secret comes from PAYCASCADE_SECRET, the file PAYCASCADE_SECRET_FILE, or
    WORKSPACE/.paycascade/secret (created 0600).  Behind TLS set PAYCASCADE_COOKIE_SECURE=1.
    """
    from paycascade.web.app import serve

    serve(workspace, host=host, port=port, demo_logins=demo_logins, trust_proxy=trust_proxy)


@click.group("user")
def user_command() -> None:
    """Manage portal users (argon2id password hashes in WORKSPACE/.paycascade/portal.sqlite)."""


@user_command.command("add")
@WORKSPACE
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may see.")
@click.option("--npi", default=None, help="The physician's NPI (role physician only).")
@click.option("--replace", is_flag=True, help="Reset an existing user (ends their sessions).")
def user_add(workspace: Path, username: str, role: str, npi: str | None, replace: bool) -> None:
    """Add a user; the password is read from standard input (prompted, hidden, on a terminal).

    printf '%s\\n' "$PASSWORD" | paycascade user add WS dr-lee --role physician --npi 1234567893
    """
    from paycascade.web.data import Runs

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if role == "physician" and npi:
        runs = Runs(workspace)
        run = runs.get(None)
        if run is None:
            raise click.ClickException(f"no run in {workspace}: run it before adding physicians")
        if npi not in runs.statements(run):
            raise click.ClickException(f"NPI {npi} has no statement in the latest run {run.run_id}")
    store = Store(workspace / ".paycascade", time.time)
    try:
        user = store.add_user(username, password, role, npi, replace=replace)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"added {user.username} ({user.role}{', NPI ' + user.npi if user.npi else ''})")


@user_command.command("list")
@WORKSPACE
def user_list(workspace: Path) -> None:
    """List the users: username, role, NPI, created, status."""

    store = Store(workspace / ".paycascade", time.time)
    try:
        for u in store.users():
            status = "disabled" if u.disabled else "active"
            click.echo(f"{u.username}\t{u.role}\t{u.npi or ''}\t{u.created_at}\t{status}")
    finally:
        store.close()
