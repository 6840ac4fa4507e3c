"""Scenario reports in the portal: analysts and admins only, HTML with a JSON twin, audited."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from paycascade.scenarios.cli import scenario_command
from paycascade.web import PortalApp

from .conftest import Login, logged_in


def test_scenario_reports_for_analysts_only(
    app: PortalApp, workspace: Path, logins: dict[str, Login]
) -> None:
    reform = workspace / "reforms" / "surgeons-quality-withhold.yaml"
    result = CliRunner().invoke(scenario_command, [str(workspace), str(reform)])
    assert result.exit_code == 0, result.output
    analyst = logged_in(app, logins["analyst"])
    listing = analyst.get("/scenarios")
    assert listing.status_code == 200
    assert "Surgeons onto a 10% quality withhold" in listing.text
    page = analyst.get("/scenarios/surgeons-quality-withhold")
    assert page.status_code == 200
    assert "By specialty" in page.text and "<script" not in page.text.split("<main", 1)[-1]
    twin = analyst.get("/api/scenarios/surgeons-quality-withhold").json()
    assert twin["summary"]["name"].startswith("Surgeons onto a 10% quality withhold")
    assert app.store.audit_rows(limit=1)[0]["action"] == "view_scenario"
    assert analyst.get("/scenarios/nope").status_code == 404
    physician = logged_in(app, logins["physician"])
    assert physician.get("/scenarios").status_code == 403
    assert physician.get("/api/scenarios/surgeons-quality-withhold").status_code == 403
