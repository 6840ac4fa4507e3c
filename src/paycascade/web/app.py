"""The physician portal: one application object (:class:`PortalApp`) behind ``paycascade serve``,
the tests and ``make demo``.

Every HTML page ``/x`` has a JSON twin ``/api/x`` built from the same view function, with the
same authorization and the same audit row.  Pay data is only ever read from the run outputs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paycascade import __version__
from paycascade.money import fmt_cents
from paycascade.render import render_statement
from paycascade.web import charts
from paycascade.web.data import (
    MIN_PEERS,
    RunInfo,
    Runs,
    by_specialty,
    defuse_csv,
    payroll_xlsx,
    percentile_position,
    reliability,
    sankey,
)
from paycascade.web.store import ROLES, Session, Store, User, UserError

if TYPE_CHECKING:
    import uvicorn

SESSION_COOKIE = "pc_session"
PRE_COOKIE = "pc_pre"
STATIC = Path(__file__).parent / "static"
PAY_ROLES = ("admin", "analyst")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


@dataclass(frozen=True)
class PortalConfig:
    session_idle: float = 30 * 60  # seconds without a request before a session ends
    session_absolute: float = 12 * 3600  # seconds after login, whatever the activity
    login_max_failures: int = 5  # per username + IP ...
    login_window: float = 15 * 60  # ... within this many seconds, then 429
    login_max_failures_per_user: int = 20  # per username from any address, in the same window
    cookie_secure: bool = field(
        default_factory=lambda: os.environ.get("PAYCASCADE_COOKIE_SECURE", "") == "1"
    )


def load_secret(workspace: Path) -> str:
    """The cookie-signing secret: ``PAYCASCADE_SECRET``, else the file named by
    ``PAYCASCADE_SECRET_FILE``, else ``WORKSPACE/.paycascade/secret`` (created 0600)."""
    if env := os.environ.get("PAYCASCADE_SECRET"):
        return env
    path = Path(os.environ.get("PAYCASCADE_SECRET_FILE") or workspace / ".paycascade" / "secret")
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


class HTTPProblem(Exception):
    """A request that cannot be answered; ``audit_action`` names the audit row when it is not
    the page's own action (e.g. ``denied:view_statement`` for another physician's NPI)."""

    def __init__(self, status: int, message: str, audit_action: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.audit_action = audit_action


@dataclass
class View:
    template: str
    data: dict[str, Any]
    target: str | None = None
    run_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # HTML-only context


Handler = Callable[[Request, Session], View]


def _money(value: Any) -> str:
    return fmt_cents(int((Decimal(str(value)) * 100).to_integral_value()))


def _pct(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)) * 100:.1f}%"


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


class PortalApp:
    """The portal for one workspace: an ASGI application (``await app(scope, receive, send)``)."""

    def __init__(
        self,
        workspace: Path,
        config: PortalConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.workspace = Path(workspace)
        self.config = config or PortalConfig()
        self.clock = clock
        self.store = Store(self.workspace / ".paycascade", clock)
        self.runs = Runs(self.workspace)
        self.signer = URLSafeTimedSerializer(load_secret(self.workspace), salt="paycascade-portal")
        self.env = Environment(
            loader=PackageLoader("paycascade.web", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["money"] = _money
        self.env.filters["pct"] = _pct
        self.env.globals["version"] = __version__
        self._bodies: OrderedDict[tuple[str, float, str], tuple[str, str]] = OrderedDict()
        self._bodies_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self.asgi = _SecurityHeaders(Starlette(routes=self._routes()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)

    # routing ---------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        pages: list[tuple[str, str, tuple[str, ...], Handler]] = [
            ("/statements/{npi}", "view_statement", (*PAY_ROLES, "physician"), self.v_statement),
            ("/runs", "view_runs", PAY_ROLES, self.v_runs),
            ("/runs/{run_id}", "view_run", PAY_ROLES, self.v_run),
            ("/physicians", "view_physicians", PAY_ROLES, self.v_physicians),
            ("/findings", "view_findings", (*PAY_ROLES, "auditor"), self.v_findings),
            ("/scenarios", "view_scenarios", PAY_ROLES, self.v_scenarios),
            ("/scenarios/{name}", "view_scenario", PAY_ROLES, self.v_scenario),
            ("/users", "view_users", ("admin",), self.v_users),
            ("/audit", "view_audit", ("admin", "auditor"), self.v_audit),
        ]
        routes: list[BaseRoute] = [
            Route("/", self.home),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/api/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/api/logout", self.logout, methods=["POST"]),
            Route("/api/session", self.session_info),
            Route("/runs", self.start_run, methods=["POST"]),
            Route("/users", self.add_user, methods=["POST"]),
            Route("/users/{username}/disable", self.toggle_user, methods=["POST"]),
            Route("/users/{username}/enable", self.toggle_user, methods=["POST"]),
            Route("/export/statements.csv", self.export_statements),
            Route("/export/payroll.xlsx", self.export_payroll),
            Route("/static/plotly.min.js", self.plotly_js),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
        for path, action, roles, handler in pages:
            routes.append(Route(path, self._page(action, roles, handler, api=False)))
            routes.append(Route("/api" + path, self._page(action, roles, handler, api=True)))
        return routes

    def _page(
        self, action: str, roles: tuple[str, ...], handler: Handler, api: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            session = self._session(request)
            if session is None:
                return self._unauthenticated(request, api, action)
            if session.user.role not in roles:
                self._audit(request, session.user, "denied:" + action, request.url.path, None, 403)
                return self._error(request, session, 403, "not allowed for your role", api)
            try:
                view = handler(request, session)
            except HTTPProblem as exc:
                done = exc.audit_action or action
                self._audit(request, session.user, done, request.url.path, None, exc.status)
                return self._error(request, session, exc.status, exc.message, api)
            self._audit(request, session.user, action, view.target, view.run_id, 200)
            if api:
                return _json(view.data)
            return self._html(view.template, session, {**view.data, **view.extra})

        return endpoint

    # helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _ip(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def _audit(
        self,
        request: Request,
        user: User | None,
        action: str,
        target: str | None,
        run_id: str | None,
        status: int,
        username: str | None = None,
    ) -> None:
        self.store.audit(
            username=user.username if user else username,
            role=user.role if user else None,
            action=action,
            target=target,
            run_id=run_id,
            ip=self._ip(request),
            user_agent=request.headers.get("user-agent"),
            status=status,
        )

    def _session(self, request: Request) -> Session | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            token = self.signer.loads(cookie, max_age=int(self.config.session_absolute))
        except BadSignature:
            return None
        return self.store.session(
            str(token), self.config.session_idle, self.config.session_absolute
        )

    def _html(
        self, template: str, session: Session | None, context: dict[str, Any], status: int = 200
    ) -> Response:
        page = self.env.get_template(template).render(
            user=session.user if session else None,
            csrf=session.csrf if session else "",
            **context,
        )
        return Response(page, status_code=status, media_type="text/html; charset=utf-8")

    def _error(
        self, request: Request, session: Session | None, status: int, message: str, api: bool
    ) -> Response:
        if api:
            return _json({"error": {"status": status, "message": message}}, status)
        return self._html(
            "error.html", session, {"status": status, "message": message}, status=status
        )

    def _unauthenticated(self, request: Request, api: bool, action: str | None = None) -> Response:
        """401 (API) or the login page; an attempt at a page or export of pay data (``action``)
        is audited as ``unauthenticated:<action>``."""
        if action is not None:
            status = 401 if api else 303
            self._audit(request, None, "unauthenticated:" + action, request.url.path, None, status)
        if api:
            return _json({"error": {"status": 401, "message": "log in first"}}, 401)
        response = RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    def _check_csrf(self, request: Request, session: Session, form: FormData | None) -> bool:
        given = request.headers.get("x-csrf-token") or (
            str(form.get("csrf", "")) if form is not None else ""
        )
        if not given or not secrets.compare_digest(given, session.csrf):
            return False
        return self._same_origin(request)

    @staticmethod
    def _same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            return origin is None
        host = request.headers.get("host", "")
        return re.sub(r"^https?://", "", origin) == host

    def _run(self, request: Request) -> RunInfo:
        run = self.runs.get(request.query_params.get("run") or None)
        if run is None:
            raise HTTPProblem(404, "no such run (run `paycascade run WORKSPACE` first)")
        return run

    # authentication --------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(_home(session.user), status_code=303)

    async def session_info(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return _json({"error": {"status": 401, "message": "log in first"}}, 401)
        u = session.user
        return _json(
            {"user": {"username": u.username, "role": u.role, "npi": u.npi}, "csrf": session.csrf}
        )

    def _pre_token(self, request: Request) -> str | None:
        cookie = request.cookies.get(PRE_COOKIE)
        if not cookie:
            return None
        try:
            return str(self.signer.loads(cookie, max_age=3600))
        except BadSignature:
            return None

    async def login(self, request: Request) -> Response:
        api = request.url.path.startswith("/api/")
        pre = self._pre_token(request)
        if request.method == "GET":
            session = self._session(request)
            if session is not None and not api:
                return RedirectResponse(_home(session.user), status_code=303)
            pre = pre or secrets.token_urlsafe(32)
            nxt = _safe_next(request.query_params.get("next"))
            page = (
                _json({"csrf": pre})
                if api
                else self._html("login.html", None, {"pre": pre, "next": nxt, "error": None})
            )
            self._set_pre(page, pre)
            return page

        if api:
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = {}
            if not isinstance(body, dict):
                self._audit(request, None, "login_failed", None, None, 400)
                message = 'send a JSON object: {"username": …, "password": …}'
                return _json({"error": {"status": 400, "message": message}}, 400)
            fields: dict[str, str] = {k: str(v) for k, v in body.items()}
            given = request.headers.get("x-csrf-token", "")
        else:
            form = await request.form()
            fields = {k: str(v) for k, v in form.items()}
            given = fields.get("csrf", "")
        username, password = fields.get("username", "").strip(), fields.get("password", "")
        nxt = _safe_next(fields.get("next"))
        ip = self._ip(request)

        def fail(status: int, message: str) -> Response:
            if api:
                return _json({"error": {"status": status, "message": message}}, status)
            token = pre or secrets.token_urlsafe(32)
            response = self._html(
                "login.html", None, {"pre": token, "next": nxt, "error": message}, status=status
            )
            self._set_pre(response, token)
            return response

        if not pre or not given or not secrets.compare_digest(given, pre):
            self._audit(request, None, "login_csrf_rejected", username, None, 403, username)
            return fail(403, "the form expired or was not sent by this site; try again")
        if not self._same_origin(request):
            self._audit(request, None, "login_csrf_rejected", username, None, 403, username)
            return fail(403, "cross-site login refused")
        # the attempt is counted before the password is checked, in one transaction, so that
        # concurrent guesses cannot all pass the check of the count
        counted = self.store.begin_attempt(
            username,
            ip,
            self.config.login_window,
            self.config.login_max_failures,
            self.config.login_max_failures_per_user,
        )
        if not counted:
            self._audit(request, None, "login_throttled", username, None, 429, username)
            minutes = int(self.config.login_window // 60)
            return fail(429, f"too many failed logins; wait {minutes} minutes")
        user = await run_in_threadpool(self.store.verify, username, password)
        if user is None:  # the counted attempt stays as a failure
            self._audit(request, None, "login_failed", username, None, 401, username)
            return fail(401, "wrong username or password")
        self.store.clear_failures(username, ip)
        token, csrf = self.store.new_session(user)
        self._audit(request, user, "login", user.username, None, 200)
        response: Response = (
            _json(
                {
                    "user": {"username": user.username, "role": user.role, "npi": user.npi},
                    "csrf": csrf,
                }
            )
            if api
            else RedirectResponse(nxt or _home(user), status_code=303)
        )
        response.delete_cookie(PRE_COOKIE)
        response.set_cookie(
            SESSION_COOKIE,
            self.signer.dumps(token),
            max_age=int(self.config.session_absolute),
            httponly=True,
            samesite="lax",
            secure=self.config.cookie_secure,
        )
        return response

    def _set_pre(self, response: Response, token: str) -> None:
        response.set_cookie(
            PRE_COOKIE,
            self.signer.dumps(token),
            max_age=3600,
            httponly=True,
            samesite="lax",
            secure=self.config.cookie_secure,
        )

    async def logout(self, request: Request) -> Response:
        api = request.url.path.startswith("/api/")
        session = self._session(request)
        if session is None:
            return self._unauthenticated(request, api)
        form = None if api else await request.form()
        if not self._check_csrf(request, session, form):
            self._audit(request, session.user, "csrf_rejected:logout", None, None, 403)
            return self._error(request, session, 403, "CSRF check failed", api)
        self.store.end_session(session.token_hash)
        self._audit(request, session.user, "logout", session.user.username, None, 200)
        response: Response = (
            _json({"logged_out": True}) if api else RedirectResponse("/login", status_code=303)
        )
        response.delete_cookie(SESSION_COOKIE)
        return response

    # state-changing actions (admin, analyst) --------------------------------------------------

    async def _post(
        self, request: Request, roles: tuple[str, ...], action: str
    ) -> tuple[Session, FormData] | Response:
        session = self._session(request)
        if session is None:
            return self._unauthenticated(request, False)
        form = await request.form()
        if not self._check_csrf(request, session, form):
            self._audit(request, session.user, "csrf_rejected:" + action, None, None, 403)
            return self._error(request, session, 403, "CSRF check failed", False)
        if session.user.role not in roles:
            self._audit(request, session.user, "denied:" + action, None, None, 403)
            return self._error(request, session, 403, "not allowed for your role", False)
        return session, form

    async def add_user(self, request: Request) -> Response:
        got = await self._post(request, ("admin",), "user_add")
        if isinstance(got, Response):
            return got
        session, form = got
        username = str(form.get("username", "")).strip()
        role = str(form.get("role", ""))
        npi = str(form.get("npi", "")).strip() or None
        try:
            self._check_npi(role, npi)
            await run_in_threadpool(
                self.store.add_user, username, str(form.get("password", "")), role, npi
            )
        except UserError as exc:
            self._audit(request, session.user, "user_add", username, None, 400)
            return self._html(
                "users.html", session, {**self._users_data(), "error": str(exc)}, status=400
            )
        self._audit(request, session.user, "user_add", f"{username} ({role})", None, 200)
        return RedirectResponse("/users", status_code=303)

    def _check_npi(self, role: str, npi: str | None) -> None:
        if role == "physician" and npi:
            run = self.runs.get(None)
            if run is None or npi not in self.runs.statements(run):
                raise UserError(f"NPI {npi} has no statement in the latest run")

    async def toggle_user(self, request: Request) -> Response:
        op = "disable" if request.url.path.endswith("/disable") else "enable"  # the two routes
        got = await self._post(request, ("admin",), "user_" + op)
        if isinstance(got, Response):
            return got
        session, _ = got
        username = request.path_params["username"]
        if self.store.user(username) is None:
            self._audit(request, session.user, "user_" + op, username, None, 404)
            return self._error(request, session, 404, "no such user", False)
        if username == session.user.username:
            self._audit(request, session.user, "user_" + op, username, None, 400)
            return self._error(request, session, 400, "you cannot disable yourself", False)
        self.store.set_disabled(username, op == "disable")
        self._audit(request, session.user, "user_" + op, username, None, 200)
        return RedirectResponse("/users", status_code=303)

    async def start_run(self, request: Request) -> Response:
        got = await self._post(request, PAY_ROLES, "run")
        if isinstance(got, Response):
            return got
        session, form = got
        period = str(form.get("period", "")).strip() or None
        from paycascade.diagnostics import PaycascadeError
        from paycascade.runner import run as do_run

        def work() -> str:
            with self._run_lock:
                return do_run(self.workspace, period).run_id

        try:
            run_id = await run_in_threadpool(work)
        except PaycascadeError as exc:
            self._audit(request, session.user, "run", period, None, 400)
            return self._error(request, session, 400, exc.diagnostics.format(), False)
        self.runs = Runs(self.workspace)  # forget the listing so the new run shows at once
        self._audit(request, session.user, "run", period, run_id, 200)
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    # exports ---------------------------------------------------------------------------------

    async def _export(
        self, request: Request, action: str, build: Callable[[RunInfo], tuple[bytes, str, str]]
    ) -> Response:
        session = self._session(request)
        if session is None:
            return self._unauthenticated(request, False, action)
        if session.user.role not in PAY_ROLES:
            self._audit(request, session.user, "denied:" + action, request.url.path, None, 403)
            return self._error(request, session, 403, "not allowed for your role", False)
        try:
            run = self._run(request)
        except HTTPProblem as exc:
            self._audit(request, session.user, action, request.url.path, None, exc.status)
            return self._error(request, session, exc.status, exc.message, False)
        body, media, name = await run_in_threadpool(build, run)
        self._audit(request, session.user, action, name, run.run_id, 200)
        return Response(
            body,
            media_type=media,
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    async def export_statements(self, request: Request) -> Response:
        def build(run: RunInfo) -> tuple[bytes, str, str]:
            body = defuse_csv((run.folder / "statements.csv").read_bytes())
            return body, "text/csv; charset=utf-8", f"statements-{run.run_id}.csv"

        return await self._export(request, "export_statements_csv", build)

    async def export_payroll(self, request: Request) -> Response:
        def build(run: RunInfo) -> tuple[bytes, str, str]:
            body = payroll_xlsx(run, self.runs.statements(run))
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return body, media, f"payroll-{run.run_id}.xlsx"

        return await self._export(request, "export_payroll_xlsx", build)

    async def plotly_js(self, request: Request) -> Response:
        spec = importlib.util.find_spec("plotly")
        if spec is None or spec.origin is None:
            return Response("plotly is not installed", status_code=404)
        path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
        return FileResponse(
            path, media_type="text/javascript", headers={"cache-control": "public, max-age=86400"}
        )

    # views -----------------------------------------------------------------------------------

    def _statement_body(self, run: RunInfo, npi: str, s: dict[str, Any]) -> tuple[str, str]:
        """The engine's own statement HTML (``paycascade/templates/statement.html``, the same
        as ``paycascade statement --format html``), split into its style and body."""
        key = (run.run_id, run.written, npi)
        with self._bodies_lock:
            hit = self._bodies.get(key)
            if hit is not None:
                self._bodies.move_to_end(key)
                return hit
        doc = render_statement(s, "html")
        style = _between(doc, "<style>", "</style>")
        body = _between(doc, "<body>", "</body>")
        with self._bodies_lock:
            self._bodies[key] = (style, body)
            while len(self._bodies) > 2048:
                self._bodies.popitem(last=False)
        return style, body

    def v_statement(self, request: Request, session: Session) -> View:
        npi = request.path_params["npi"]
        user = session.user
        if user.role == "physician" and npi != user.npi:
            raise HTTPProblem(404, "no statement of yours at this address", "denied:view_statement")
        run = self._run(request)
        statements = self.runs.statements(run)
        s = statements.get(npi)
        if s is None:
            raise HTTPProblem(404, f"NPI {npi} has no statement in run {run.run_id}")
        peers = self.runs.peers(run).get(s["specialty"], {})
        cards = []
        for card in s.get("scorecards", []):
            measures = []
            for m in card.get("measures", []):
                rate = m.get("rate")
                peer_vals = peers.get("rate:" + m["measure"], [])
                measures.append(
                    {
                        **m,
                        "reliability": reliability(m.get("numerator"), m.get("denominator")),
                        "peer": None
                        if rate is None
                        else percentile_position(peer_vals, float(rate)),
                    }
                )
            comp = card.get("composite")
            comp_vals = peers.get("composite:" + card["scorecard"], [])
            cards.append(
                {
                    "scorecard": card["scorecard"],
                    "basis": card.get("basis"),
                    "composite": comp,
                    "explanation": card.get("explanation"),
                    "composite_peer": None
                    if comp is None
                    else percentile_position(comp_vals, float(comp)),
                    "measures": measures,
                }
            )
        specialty_shares = peers.get("value_linked_share", [])
        vls_peer = percentile_position(specialty_shares, float(s["value_linked_share"]))
        trend = self.runs.trend(npi)
        data = {
            "run_id": run.run_id,
            "statement": s,
            "scorecards": cards,
            "value_linked": {
                "share": s["value_linked_share"],
                "value_share": s["value_share"],
                "volume": s["volume"],
                "mixed": s["mixed"],
                "value": s["value"],
                "peer": vls_peer,
                "national_reference": "9% of primary-care and 5% of specialist pay tied to "
                "value (Reid et al., JAMA Health Forum 2022)",
            },
            "trend": trend,
            "peer_group": {
                "specialty": s["specialty"],
                "physicians": len(specialty_shares),
                # peer figures are withheld (null) among fewer clinicians than this
                "min_peers": MIN_PEERS,
            },
        }
        style, body = self._statement_body(run, npi, s)
        extra = {
            "core_style": style,
            "core_body": body,
            "charts": {
                f"scorecard-{i}": charts.scorecard(c["measures"], f"Scorecard {c['scorecard']}")
                for i, c in enumerate(cards)
                if c["measures"]
            },
            "trend_chart": charts.trend(trend) if len(trend) > 1 else None,
            "runs": [r for r in self.runs.all() if npi in self.runs.statements(r)]
            if len(self.runs.all()) > 1
            else [],
        }
        return View("statement.html", data, target=npi, run_id=run.run_id, extra=extra)

    def v_runs(self, request: Request, session: Session) -> View:
        rows = []
        for run in self.runs.all():
            stm = self.runs.table(run, "statements.csv")
            total = sum((Decimal(r["total"]) for r in stm), Decimal(0))
            linked = sum((Decimal(r["mixed"]) + Decimal(r["value"]) for r in stm), Decimal(0))
            rows.append(
                {
                    "run_id": run.run_id,
                    "period": run.period,
                    "period_start": run.period_start,
                    "period_end": run.period_end,
                    "engine_version": run.engine_version,
                    "physicians": len(stm),
                    "total": str(total),
                    "value_linked_share": str((linked / total).quantize(Decimal("0.0001")))
                    if total
                    else "0",
                    "findings": self.runs.has_findings(run),
                }
            )
        return View("runs.html", {"runs": rows}, target="runs")

    def v_run(self, request: Request, session: Session) -> View:
        run = self.runs.get(request.path_params["run_id"])
        if run is None:
            raise HTTPProblem(404, "no such run")
        stm = self.runs.table(run, "statements.csv")
        spec = by_specialty(stm)
        total = sum((Decimal(r["total"]) for r in stm), Decimal(0))
        sums = {
            k: sum((Decimal(r[k]) for r in stm), Decimal(0)) for k in ("volume", "mixed", "value")
        }
        detail = request.query_params.get("detail") == "1"
        flow = sankey(self.runs.table(run, "cascade.csv"), detail=detail)
        data = {
            "run": {
                "run_id": run.run_id,
                "period": run.period,
                "period_start": run.period_start,
                "period_end": run.period_end,
                "engine_version": run.engine_version,
            },
            "summary": {
                "physicians": len(stm),
                "total": str(total),
                **{k: str(v) for k, v in sums.items()},
                "value_linked_share": str(
                    ((sums["mixed"] + sums["value"]) / total).quantize(Decimal("0.0001"))
                )
                if total
                else "0",
            },
            "by_specialty": spec,
            "contracts": self.runs.table(run, "contracts.csv"),
            "cascade": flow,
            "findings": len(self.runs.table(run, "findings.csv")),
        }
        extra = {
            "composition_chart": charts.composition(spec),
            "sankey_chart": charts.sankey(flow["nodes"], flow["links"]),
            "detail": detail,
        }
        return View("run.html", data, target=run.run_id, run_id=run.run_id, extra=extra)

    def v_physicians(self, request: Request, session: Session) -> View:
        run = self._run(request)
        rows = self.runs.table(run, "statements.csv")
        q = request.query_params
        text = q.get("q", "").strip().lower()
        specialty, plan = q.get("specialty", ""), q.get("plan", "")
        cols = ["npi", "name", "specialty", "plan", "fte", "total", "volume", "mixed", "value",
                "value_linked_share"]  # fmt: skip
        sort = q.get("sort", "total") if q.get("sort", "total") in cols else "total"
        order = "asc" if q.get("order") == "asc" else "desc"
        numeric = sort in ("fte", "total", "volume", "mixed", "value", "value_linked_share")
        picked = [
            {c: r[c] for c in cols}
            for r in rows
            if (not text or text in r["name"].lower() or text in r["npi"])
            and (not specialty or r["specialty"] == specialty)
            and (not plan or r["plan"] == plan)
        ]
        picked.sort(
            key=lambda r: Decimal(r[sort]) if numeric else r[sort].lower(), reverse=order == "desc"
        )
        data = {
            "run_id": run.run_id,
            "filters": {
                "q": text,
                "specialty": specialty,
                "plan": plan,
                "sort": sort,
                "order": order,
            },
            "count": len(picked),
            "total": str(sum((Decimal(r["total"]) for r in picked), Decimal(0))),
            "physicians": picked,
        }
        extra = {
            "columns": cols,
            "specialties": sorted({r["specialty"] for r in rows}),
            "plans": sorted({r["plan"] for r in rows}),
        }
        return View("physicians.html", data, target=run.run_id, run_id=run.run_id, extra=extra)

    def v_findings(self, request: Request, session: Session) -> View:
        run = self._run(request)
        rows = self.runs.table(run, "findings.csv")
        data = {
            "run_id": run.run_id,
            "available": self.runs.has_findings(run),
            "columns": list(rows[0]) if rows else [],
            "findings": rows,
        }
        return View("findings.html", data, target=run.run_id, run_id=run.run_id)

    def _scenario_dirs(self) -> dict[str, Path]:
        """Reports written by `paycascade scenario` (out/scenarios/<reform>/)."""
        root = self.workspace / "out" / "scenarios"
        found = sorted(root.glob("*/summary.json")) if root.is_dir() else []
        return {path.parent.name: path.parent for path in found}

    def v_scenarios(self, request: Request, session: Session) -> View:
        rows = []
        for name, folder in self._scenario_dirs().items():
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            rows.append({"id": name, **summary})
        return View("scenarios.html", {"scenarios": rows}, target="scenarios")

    def v_scenario(self, request: Request, session: Session) -> View:
        name = request.path_params["name"]
        folder = self._scenario_dirs().get(name)
        if folder is None:
            raise HTTPProblem(404, f"no scenario report '{name}' (run `paycascade scenario`)")
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        doc = (folder / "report.html").read_text(encoding="utf-8")
        extra = {
            "core_style": _between(doc, "<style>", "</style>"),
            "core_body": _between(doc, "<body>", "</body>"),
        }
        data = {"id": name, "summary": summary}
        return View("scenario.html", data, target=f"scenario:{name}", extra=extra)

    def _users_data(self) -> dict[str, Any]:
        return {
            "users": [
                {
                    "username": u.username,
                    "role": u.role,
                    "npi": u.npi,
                    "created_at": u.created_at,
                    "disabled": u.disabled,
                }
                for u in self.store.users()
            ],
            "roles": list(ROLES),
        }

    def v_users(self, request: Request, session: Session) -> View:
        return View("users.html", self._users_data(), target="users", extra={"error": None})

    def v_audit(self, request: Request, session: Session) -> View:
        q = request.query_params
        try:
            limit = max(1, min(int(q.get("limit", "200")), 1000))
            before = int(q["before"]) if q.get("before") else None
        except ValueError as exc:
            raise HTTPProblem(400, "limit and before are numbers") from exc
        rows = self.store.audit_rows(
            username=q.get("user") or None, action=q.get("action") or None, limit=limit,
            before=before,
        )  # fmt: skip
        data = {
            "filters": {"user": q.get("user", ""), "action": q.get("action", ""), "limit": limit},
            "rows": rows,
            "next_before": rows[-1]["id"] if len(rows) == limit else None,
        }
        return View("audit.html", data, target="audit")


def _home(user: User) -> str:
    if user.role == "physician":
        return f"/statements/{user.npi}"
    if user.role == "auditor":
        return "/audit"
    return "/runs"


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def _between(text: str, start: str, end: str) -> str:
    i = text.find(start)
    j = text.rfind(end)
    return text[i + len(start) : j] if i >= 0 and j > i else ""


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, default=str, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


# entry points used by the CLI and `make demo` ---------------------------------------------------


def create_demo_users(workspace: Path) -> list[tuple[str, str, str, str | None]]:
    """One admin, analyst and auditor and three physicians (one per plan family where the latest
    run has them), each with a fresh random password; existing demo users are reset."""
    runs = Runs(Path(workspace))
    run = runs.get(None)
    if run is None:
        raise UserError(f"no run in {workspace}; run it first")
    statements = runs.statements(run)
    npis: list[str] = []
    for plan in ("pcp-aligned", "cardio-ob-withhold", "hospitalist-shift"):
        npi = next((n for n in sorted(statements) if statements[n]["plan"] == plan), None)
        if npi:
            npis.append(npi)
    for n in sorted(statements):
        if len(npis) >= 3:
            break
        if n not in npis:
            npis.append(n)
    store = Store(Path(workspace) / ".paycascade", time.time)
    wanted: list[tuple[str, str, str | None]] = [
        ("admin", "admin", None),
        ("analyst", "analyst", None),
        ("auditor", "auditor", None),
    ] + [(f"dr-{statements[n]['name'].split('-')[-1].lower()}", "physician", n) for n in npis]
    out = []
    try:
        for username, role, npi in wanted:
            password = secrets.token_urlsafe(12)
            store.add_user(username, password, role, npi, replace=True)
            out.append((username, password, role, npi))
    finally:
        store.close()
    return out


def serve(
    workspace: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    demo_logins: bool = False,
    config: PortalConfig | None = None,
    trust_proxy: str | None = None,
) -> None:
    """Serve the portal with uvicorn until interrupted; with ``demo_logins``, (re)create the demo
    users first and print their logins.  The client address (login throttling, audit log) is
    the connection's own unless ``trust_proxy`` names the reverse proxies whose
    ``X-Forwarded-For`` is believed: uvicorn would otherwise believe it from 127.0.0.1, so
    anyone on the machine could pose as any address."""
    if demo_logins:
        print("demo logins (synthetic data; passwords are new on every start):")
        for username, password, role, npi in create_demo_users(workspace):
            who = f"{role} NPI {npi}" if npi else role
            print(f"  {username:<24} {password}   ({who})")
    app = PortalApp(workspace, config)
    print(f"paycascade portal for {workspace} on http://{host}:{port}/  (Ctrl-C to stop)")
    import uvicorn

    uvicorn.Server(server_config(app, host, port, trust_proxy)).run()


def server_config(
    app: PortalApp, host: str, port: int, trust_proxy: str | None = None
) -> uvicorn.Config:
    """uvicorn's configuration of the portal (``serve`` and the tests' live server)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=trust_proxy is not None,
        forwarded_allow_ips=trust_proxy,
    )
