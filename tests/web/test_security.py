"""Authentication, sessions, CSRF, throttling, security headers and authorization, in process."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from paycascade.web import PortalApp
from paycascade.web.cli import user_command
from paycascade.web.store import UserError

from .conftest import Clock, Login, csrf_from, logged_in, login, new_client


def test_login_page_has_security_headers_and_no_inline_script(app: PortalApp) -> None:
    page = new_client(app).get("/login")
    assert page.status_code == 200
    h = page.headers
    assert "script-src 'self'" in h["content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "same-origin"
    assert h["cache-control"] == "no-store"
    assert "<script>" not in page.text


def test_login_sets_httponly_lax_cookie_and_lands_on_own_statement(
    app: PortalApp, logins: dict[str, Login]
) -> None:
    client = new_client(app)
    doc = logins["physician"]
    response = login(client, doc[0], doc[1])
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/statements/{doc[3]}"  # type: ignore[attr-defined]
    cookie = next(
        c
        for c in response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
        if c.startswith("pc_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()


def test_passwords_are_argon2_hashes(app: PortalApp, logins: dict[str, Login]) -> None:
    rows = app.store._query("select password_hash from users")
    assert rows
    assert all(r[0].startswith("$argon2id$") for r in rows)
    assert not any(login[1] in r[0] for r in rows for login in logins.values())


def test_wrong_password_is_401(app: PortalApp, logins: dict[str, Login]) -> None:
    response = login(new_client(app), logins["admin"][0], "not-the-password")
    assert response.status_code == 401  # type: ignore[attr-defined]


def test_login_without_csrf_is_rejected(app: PortalApp, logins: dict[str, Login]) -> None:
    client = new_client(app)
    client.get("/login")
    user = logins["admin"]
    response = client.post("/login", data={"username": user[0], "password": user[1]})
    assert response.status_code == 403
    forged = client.post(
        "/login", data={"username": user[0], "password": user[1], "csrf": "forged"}
    )
    assert forged.status_code == 403
    assert "pc_session" not in client.cookies


def test_cross_origin_login_is_rejected(app: PortalApp, logins: dict[str, Login]) -> None:
    client = new_client(app)
    token = csrf_from(client.get("/login").text)
    user = logins["admin"]
    response = client.post(
        "/login",
        data={"username": user[0], "password": user[1], "csrf": token},
        headers={"origin": "http://evil.example"},
    )
    assert response.status_code == 403


def test_state_changing_requests_need_the_session_csrf_token(
    app: PortalApp, logins: dict[str, Login]
) -> None:
    client = logged_in(app, logins["admin"])
    # logout without / with a wrong token: refused, session still alive
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert client.post("/api/logout", headers={"x-csrf-token": "wrong"}).status_code == 403
    add = {"username": "mallory", "role": "admin", "password": "long-enough-password"}
    assert client.post("/users", data=add).status_code == 403
    assert app.store.user("mallory") is None
    assert client.post("/runs", data={"period": "2026"}).status_code == 403
    assert client.get("/runs").status_code == 200
    rejected = app.store.audit_rows(action="csrf_rejected:logout")
    assert len(rejected) == 3
    # with the token: works
    token = csrf_from(client.get("/users").text)
    assert client.post("/users", data={**add, "csrf": token}).status_code == 303
    assert app.store.user("mallory") is not None


def test_logout_ends_the_session_on_the_server(app: PortalApp, logins: dict[str, Login]) -> None:
    client = logged_in(app, logins["analyst"])
    stolen = dict(client.cookies)
    token = csrf_from(client.get("/runs").text)
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    assert client.get("/runs").headers["location"].startswith("/login")
    replay = new_client(app)
    replay.cookies.update(stolen)
    assert replay.get("/api/runs").status_code == 401


def test_session_expires_when_idle_and_absolutely(
    app: PortalApp, logins: dict[str, Login], clock: Clock
) -> None:
    client = logged_in(app, logins["analyst"])
    assert client.get("/api/runs").status_code == 200
    clock.now += 599
    assert client.get("/api/runs").status_code == 200  # activity slides the idle window
    clock.now += 599
    assert client.get("/api/runs").status_code == 200
    clock.now += 601
    assert client.get("/api/runs").status_code == 401
    page = client.get("/runs")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/runs"

    client = logged_in(app, logins["analyst"])
    for _ in range(7):  # active every 9 minutes, yet the absolute limit (1 h) ends it
        clock.now += 540
        last = client.get("/api/runs").status_code
    assert last == 401


def test_login_throttled_after_five_failures(
    app: PortalApp, logins: dict[str, Login], clock: Clock
) -> None:
    client = new_client(app)
    user = logins["admin"]
    for _ in range(5):
        assert login(client, user[0], "wrong-password").status_code == 401  # type: ignore[attr-defined]
    # even the right password is refused while throttled
    assert login(client, user[0], user[1]).status_code == 429  # type: ignore[attr-defined]
    assert app.store.audit_rows(action="login_throttled")
    # another user from the same address is not affected
    assert login(client, logins["analyst"][0], logins["analyst"][1]).status_code == 303  # type: ignore[attr-defined]
    clock.now += 15 * 60 + 1
    assert login(new_client(app), user[0], user[1]).status_code == 303  # type: ignore[attr-defined]


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_physician_cannot_see_another_npi(
    app: PortalApp, logins: dict[str, Login], prefix: str
) -> None:
    client = logged_in(app, logins["physician"])
    mine, other = logins["physician"][3], logins["physician2"][3]
    assert client.get(f"{prefix}/statements/{mine}").status_code == 200
    denied = client.get(f"{prefix}/statements/{other}")
    assert denied.status_code == 404
    assert other not in denied.text
    if prefix:
        assert denied.json()["error"]["status"] == 404
    for path in ("/runs", "/physicians", "/users", "/audit", "/export/payroll.xlsx",
                 "/export/statements.csv"):  # fmt: skip
        assert client.get(prefix + path if path.startswith("/r") else path).status_code in (
            403,
            404,
        )


def test_roles_see_what_they_should(app: PortalApp, logins: dict[str, Login]) -> None:
    npi = logins["physician"][3]
    expect = {
        "admin": {"/api/runs": 200, "/api/users": 200, "/api/audit": 200, f"/api/statements/{npi}": 200},
        "analyst": {"/api/runs": 200, "/api/users": 403, "/api/audit": 403, f"/api/statements/{npi}": 200},
        "auditor": {"/api/runs": 403, "/api/users": 403, "/api/audit": 200, f"/api/statements/{npi}": 403},
    }  # fmt: skip
    for role, paths in expect.items():
        client = logged_in(app, logins[role])
        for path, status in paths.items():
            assert client.get(path).status_code == status, (role, path)


def test_unauthenticated_requests(app: PortalApp, logins: dict[str, Login]) -> None:
    client = new_client(app)
    npi = logins["physician"][3]
    assert client.get(f"/api/statements/{npi}").status_code == 401
    page = client.get(f"/statements/{npi}")
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next=/statements/{npi}"
    assert client.get("/export/payroll.xlsx").status_code == 303


def test_secret_file_is_private(app: PortalApp, workspace: Path) -> None:
    if os.environ.get("PAYCASCADE_SECRET"):
        pytest.skip("secret comes from the environment")
    mode = stat.S_IMODE((workspace / ".paycascade" / "secret").stat().st_mode)
    assert mode == 0o600


def test_user_add_cli_reads_password_from_stdin(app: PortalApp, workspace: Path) -> None:
    npi = next(iter(app.runs.statements(app.runs.all()[0])))
    runner = CliRunner()
    ok = runner.invoke(
        user_command,
        ["add", str(workspace), "dr-new", "--role", "physician", "--npi", npi],
        input="a-long-password\n",
    )
    assert ok.exit_code == 0, ok.output
    assert app.store.verify("dr-new", "a-long-password") is not None
    bad = runner.invoke(
        user_command,
        ["add", str(workspace), "dr-x", "--role", "physician", "--npi", "0000000000"],
        input="a-long-password\n",
    )
    assert bad.exit_code != 0
    assert "has no statement" in bad.output
    short = runner.invoke(
        user_command, ["add", str(workspace), "ana", "--role", "analyst"], input="short\n"
    )
    assert short.exit_code != 0
    assert "at least 10" in short.output


def test_store_rejects_bad_users(app: PortalApp) -> None:
    with pytest.raises(UserError, match="role"):
        app.store.add_user("x", "long-enough-pw", "superuser", None)
    with pytest.raises(UserError, match="needs --npi"):
        app.store.add_user("x", "long-enough-pw", "physician", None)
