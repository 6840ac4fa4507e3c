"""Fixtures for the portal tests: one small synthetic workspace (40 clinicians, run once per
session), its demo users, an in-process client and a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from paycascade.demo.workspace import write_demo
from paycascade.runner import run
from paycascade.web import PortalApp, PortalConfig, create_demo_users

Login = tuple[str, str, str, str | None]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Login]]:
    """The run workspace with its demo users (physicians as physician, physician2, ...)."""
    ws = tmp_path_factory.mktemp("portal") / "ws"
    write_demo(ws, physicians=40, seed=2026)
    run(ws, None)
    out: dict[str, Login] = {}
    n = 0
    for login in create_demo_users(ws):
        role = login[2]
        if role == "physician":
            n += 1
            role = "physician" if n == 1 else f"physician{n}"
        out[role] = login
    return ws, out


@pytest.fixture
def workspace(built: tuple[Path, dict[str, Login]], tmp_path: Path) -> Path:
    """A private copy of the run workspace (so users and audit rows never leak between tests)."""
    ws = tmp_path / "ws"
    shutil.copytree(built[0], ws)
    return ws


@pytest.fixture
def logins(built: tuple[Path, dict[str, Login]]) -> dict[str, Login]:
    return built[1]


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(workspace: Path, clock: Clock) -> Iterator[PortalApp]:
    portal = PortalApp(workspace, PortalConfig(session_idle=600, session_absolute=3600), clock)
    yield portal
    portal.store.close()


def new_client(app: PortalApp) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str) -> object:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_from(page.text)},
    )


def logged_in(app: PortalApp, user: Login) -> TestClient:
    client = new_client(app)
    response = login(client, user[0], user[1])
    assert getattr(response, "status_code", 0) == 303, getattr(response, "text", "")
    return client


# a real server for the browser tests and the benchmark ------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The portal on a real uvicorn server, configured as ``paycascade serve`` configures it."""

    def __init__(self, app: PortalApp, trust_proxy: str | None = None) -> None:
        import uvicorn

        from paycascade.web.app import server_config

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(server_config(app, "127.0.0.1", self.port, trust_proxy))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the portal did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
