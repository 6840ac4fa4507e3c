"""The must-show flows in Debian's Chromium, headless, against a real uvicorn server on
127.0.0.1.  They also take screenshots: into a temporary folder, or into the folder
``PAYCASCADE_SCREENSHOTS`` names (``make screenshots`` refreshes docs/screenshots/).  Skipped
(loudly) without /usr/bin/chromium, except under CI, where a missing browser fails the suite."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from paycascade.web import PortalApp, PortalConfig

from .conftest import LiveServer, Login

CHROMIUM = Path(os.environ.get("PAYCASCADE_CHROMIUM", "/usr/bin/chromium"))
# the docs' screenshots change only when asked for, so a test run leaves the tree clean
SHOTS = Path(os.environ.get("PAYCASCADE_SCREENSHOTS") or tempfile.mkdtemp(prefix="shots-"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

if not CHROMIUM.exists():
    message = f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {message}", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live(workspace: Path) -> Iterator[LiveServer]:
    app = PortalApp(workspace, PortalConfig())
    with LiveServer(app) as server:
        yield server
    app.store.close()


def _page(browser: Browser, errors: list[str]) -> Page:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def _login(page: Page, live: LiveServer, user: Login) -> None:
    page.goto(f"{live.url}/login")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login")
    page.wait_for_load_state("networkidle")


def _shot(target: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SHOTS / name))
    assert (SHOTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_physician_sees_own_statement_only_and_logout_ends_session(
    browser: Browser, live: LiveServer, logins: dict[str, Login]
) -> None:
    errors: list[str] = []
    page = _page(browser, errors)
    doc, other = logins["physician"], logins["physician2"]
    _login(page, live, doc)
    assert page.url == f"{live.url}/statements/{doc[3]}"
    expect(page.locator("#statement h1")).to_contain_text(doc[3])
    expect(page.locator("#statement")).to_contain_text("Pay lines")
    page.locator("#scorecard .chart.drawn").first.wait_for(timeout=15000)
    _shot(page, "statement.png")
    _shot(page.locator("#scorecard"), "scorecard.png")

    # another NPI, by URL and by JSON
    response = page.goto(f"{live.url}/statements/{other[3]}")
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text(other[3] + " ·")
    response = page.goto(f"{live.url}/api/statements/{other[3]}")
    assert response is not None and response.status == 404
    response = page.goto(f"{live.url}/api/statements/{doc[3]}")
    assert response is not None and response.status == 200
    assert response.json()["statement"]["npi"] == doc[3]

    # logout ends the session
    page.goto(f"{live.url}/statements/{doc[3]}")
    page.click("#logout")
    page.wait_for_url(f"{live.url}/login")
    response = page.goto(f"{live.url}/api/statements/{doc[3]}")
    assert response is not None and response.status == 401
    page.goto(f"{live.url}/statements/{doc[3]}")
    assert page.url.startswith(f"{live.url}/login")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    page.context.close()


def test_analyst_sees_all_and_downloads_xlsx_that_sums_to_run_total(
    browser: Browser, live: LiveServer, logins: dict[str, Login], workspace: Path
) -> None:
    errors: list[str] = []
    page = _page(browser, errors)
    _login(page, live, logins["analyst"])
    assert page.url == f"{live.url}/runs"
    page.click("#runs a >> nth=0")
    page.locator("#sankey.drawn").wait_for(timeout=15000)
    page.locator("#composition-chart.drawn").wait_for(timeout=15000)
    expect(page.locator("#sankey")).to_contain_text("payer:CMS")
    assert page.locator("#sankey path.sankey-link").count() > 0
    page.wait_for_timeout(800)  # let the Sankey's entry transition finish
    _shot(page, "run.png")

    with page.expect_download() as info:
        page.click("#export-xlsx")
    path = info.value.path()
    book = load_workbook(io.BytesIO(Path(path).read_bytes()))
    rows = list(book["payroll"].iter_rows(values_only=True))[1:]
    total = sum(Decimal(str(r[-1])).quantize(Decimal("0.01")) for r in rows)
    app_total = page.locator("#run-total").inner_text()
    assert f"${total:,.2f}" == app_total
    statements = (sorted((workspace / "out").glob("*/statements.csv"))[0]).read_text()
    expected = sum(Decimal(line.split(",")[2]) for line in statements.splitlines()[1:])
    assert total == expected

    # every physician, any statement
    page.goto(f"{live.url}/physicians?sort=value_linked_share&order=desc")
    assert page.locator("#physicians tr").count() == 41
    _shot(page, "physicians.png")
    page.click("#physicians tr >> nth=1 >> a")
    expect(page.locator("#statement")).to_contain_text("Pay lines")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    page.context.close()
