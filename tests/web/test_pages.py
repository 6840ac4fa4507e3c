"""Pages, JSON twins, exports and the audit log, in process."""

from __future__ import annotations

import csv
import io
import sqlite3
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from paycascade.web import PortalApp

from .conftest import Login, csrf_from, logged_in, new_client


def _run_total(app: PortalApp) -> Decimal:
    run = app.runs.all()[0]
    return sum((Decimal(r["total"]) for r in app.runs.table(run, "statements.csv")), Decimal(0))


def test_statement_page_explains_every_line(app: PortalApp, logins: dict[str, Login]) -> None:
    doc = logins["physician"]
    client = logged_in(app, doc)
    data = client.get(f"/api/statements/{doc[3]}").json()
    s = data["statement"]
    assert s["npi"] == doc[3]
    assert sum(Decimal(line["amount"]) for line in s["lines"]) == Decimal(s["total"])
    page = client.get(f"/statements/{doc[3]}").text
    for line in s["lines"]:
        assert line["component"] in page
        assert f"{line['plan_file']}:{line['plan_line']}" in page
    assert 'id="scorecard"' in page
    assert 'id="value-linked"' in page
    assert "@media print" in page
    assert 'src="/static/plotly.min.js"' in page
    for card in data["scorecards"]:
        for m in card["measures"]:
            assert {"small", "low", "high", "note"} <= set(m["reliability"])
            if m["peer"]:
                assert 0 <= m["peer"]["percentile"] <= 100
    # the demo's specialties are small: peer figures withheld (tests/web/test_hardening.py)
    assert data["peer_group"]["physicians"] >= 1
    assert data["trend"][-1]["run_id"] == data["run_id"]
    # blinded: no other clinician's name appears
    others = [st["name"] for npi, st in app.runs.statements(app.runs.all()[0]).items()
              if npi != doc[3]]  # fmt: skip
    assert not any(name in page for name in others)


def test_run_page_has_sankey_and_composition(app: PortalApp, logins: dict[str, Login]) -> None:
    client = logged_in(app, logins["analyst"])
    runs = client.get("/api/runs").json()["runs"]
    assert len(runs) == 1
    assert Decimal(runs[0]["total"]) == _run_total(app)
    data = client.get(f"/api/runs/{runs[0]['run_id']}").json()
    assert Decimal(data["summary"]["total"]) == _run_total(app)
    assert sum(Decimal(r["total"]) for r in data["by_specialty"]) == _run_total(app)
    assert any(n.startswith("payer:") for n in data["cascade"]["nodes"])
    page = client.get(f"/runs/{runs[0]['run_id']}").text
    assert '"type": "sankey"' in page or '"type":"sankey"' in page
    assert client.get("/runs/no-such-run").status_code == 404


def test_physician_table_filters_and_sorts(app: PortalApp, logins: dict[str, Login]) -> None:
    client = logged_in(app, logins["analyst"])
    everyone = client.get("/api/physicians").json()
    assert everyone["count"] == 40
    totals = [Decimal(p["total"]) for p in everyone["physicians"]]
    assert totals == sorted(totals, reverse=True)
    specialty = everyone["physicians"][0]["specialty"]
    some = client.get("/api/physicians", params={"specialty": specialty, "sort": "name",
                                                 "order": "asc"}).json()  # fmt: skip
    assert 0 < some["count"] < 40
    assert {p["specialty"] for p in some["physicians"]} == {specialty}
    names = [p["name"].lower() for p in some["physicians"]]
    assert names == sorted(names)
    one = everyone["physicians"][3]
    found = client.get("/api/physicians", params={"q": one["npi"]}).json()
    assert [p["npi"] for p in found["physicians"]] == [one["npi"]]
    assert client.get("/physicians", params={"sort": "'; drop table"}).status_code == 200


def test_xlsx_payroll_sums_to_the_run_total(app: PortalApp, logins: dict[str, Login]) -> None:
    client = logged_in(app, logins["analyst"])
    response = client.get("/export/payroll.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book["payroll"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[-1] == "total"
    assert len(body) == 40
    total = sum(Decimal(str(r[-1])).quantize(Decimal("0.01")) for r in body)
    assert total == _run_total(app)
    for r in body:  # components add up to the total on every row
        parts = sum(Decimal(str(v)).quantize(Decimal("0.01")) for v in r[5:-1])
        assert parts == Decimal(str(r[-1])).quantize(Decimal("0.01"))
    meta = dict(book["run"].iter_rows(values_only=True))
    assert Decimal(str(meta["total"])).quantize(Decimal("0.01")) == _run_total(app)


def test_statements_csv_export(app: PortalApp, logins: dict[str, Login]) -> None:
    client = logged_in(app, logins["admin"])
    response = client.get("/export/statements.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sum(Decimal(r["total"]) for r in rows) == _run_total(app)


def test_findings_page_with_and_without_a_file(app: PortalApp, logins: dict[str, Login]) -> None:
    client = logged_in(app, logins["analyst"])
    run = app.runs.all()[0]
    (run.folder / "findings.csv").unlink(missing_ok=True)  # a private copy of the workspace
    assert client.get("/api/findings").json()["available"] is False
    npi = logins["physician"][3]
    (run.folder / "findings.csv").write_text(
        f"rule,severity,npi,message\nwrvu_outlier,review,{npi},synthetic finding\n",
        encoding="utf-8",
    )
    data = client.get("/api/findings").json()
    assert data["available"] is True
    assert data["findings"][0]["npi"] == npi
    assert "synthetic finding" in client.get("/findings").text


def test_every_view_and_export_leaves_an_audit_row(
    app: PortalApp, logins: dict[str, Login]
) -> None:
    analyst = logged_in(app, logins["analyst"])
    doc = logged_in(app, logins["physician"])
    run_id = app.runs.all()[0].run_id
    npi, other = logins["physician"][3], logins["physician2"][3]
    visits = [
        (analyst, "/runs", "view_runs", None),
        (analyst, "/api/runs", "view_runs", None),
        (analyst, f"/runs/{run_id}", "view_run", run_id),
        (analyst, f"/api/runs/{run_id}", "view_run", run_id),
        (analyst, "/physicians", "view_physicians", run_id),
        (analyst, "/api/physicians", "view_physicians", run_id),
        (analyst, "/findings", "view_findings", run_id),
        (analyst, f"/statements/{other}", "view_statement", run_id),
        (analyst, f"/api/statements/{other}", "view_statement", run_id),
        (analyst, "/export/statements.csv", "export_statements_csv", run_id),
        (analyst, "/export/payroll.xlsx", "export_payroll_xlsx", run_id),
        (doc, f"/statements/{npi}", "view_statement", run_id),
        (doc, f"/api/statements/{npi}", "view_statement", run_id),
    ]
    before = len(app.store.audit_rows(limit=1000))
    for client, path, action, run in visits:
        assert client.get(path, headers={"user-agent": "audit-test"}).status_code == 200, path
        row = app.store.audit_rows(limit=1)[0]
        assert row["action"] == action, path
        assert row["run_id"] == run, path
        assert row["ip"]
        assert row["user_agent"] == "audit-test"
        assert row["status"] == 200
        assert row["at"]
    assert len(app.store.audit_rows(limit=1000)) == before + len(visits)
    # a refused look at someone else's statement is recorded too, as a refusal
    assert doc.get(f"/statements/{other}").status_code == 404
    row = app.store.audit_rows(limit=1)[0]
    assert (row["username"], row["action"], row["status"]) == (logins["physician"][0],
                                                               "denied:view_statement", 404)  # fmt: skip
    actions = {r["action"] for r in app.store.audit_rows(limit=1000)}
    assert "login" in actions


def test_audit_log_is_append_only(app: PortalApp, logins: dict[str, Login]) -> None:
    logged_in(app, logins["admin"])
    con = sqlite3.connect(app.store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("update audit set username = 'someone-else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("delete from audit")
    con.close()


def test_auditor_reads_the_audit_log(app: PortalApp, logins: dict[str, Login]) -> None:
    logged_in(app, logins["analyst"]).get("/export/payroll.xlsx")
    auditor = logged_in(app, logins["auditor"])
    rows = auditor.get("/api/audit", params={"action": "export_payroll_xlsx"}).json()["rows"]
    assert rows[0]["username"] == logins["analyst"][0]
    assert "export_payroll_xlsx" in auditor.get("/audit").text


def test_admin_manages_users(app: PortalApp, logins: dict[str, Login]) -> None:
    admin = logged_in(app, logins["admin"])
    users = admin.get("/api/users").json()["users"]
    assert {u["role"] for u in users} == {"admin", "analyst", "auditor", "physician"}
    assert all("password" not in str(u) for u in users)
    token = csrf_from(admin.get("/users").text)
    bad = admin.post("/users", data={"username": "dr-bad", "role": "physician", "npi": "0000000000",
                                     "password": "long-enough-password", "csrf": token})  # fmt: skip
    assert bad.status_code == 400
    doc = logins["physician"]
    assert admin.post(f"/users/{doc[0]}/disable", data={"csrf": token}).status_code == 303
    assert app.store.verify(doc[0], doc[1]) is None


def test_static_charting_library_is_served_from_the_package(app: PortalApp) -> None:
    js = new_client(app).get("/static/plotly.min.js")
    assert js.status_code == 200
    assert len(js.content) > 1_000_000
    assert new_client(app).get("/static/portal.js").status_code == 200


def test_portal_doc_lists_every_route(app: PortalApp) -> None:
    from pathlib import Path

    from starlette.routing import Route

    doc = (Path(__file__).resolve().parents[2] / "docs" / "PORTAL.md").read_text()
    inner = app.asgi.app
    paths = {r.path for r in inner.routes if isinstance(r, Route)}  # type: ignore[attr-defined]
    for path in paths - {"/", "/static/plotly.min.js", "/users/{username}/{op:str}"}:
        assert f"`{path}" in doc, f"docs/PORTAL.md does not mention {path}"
