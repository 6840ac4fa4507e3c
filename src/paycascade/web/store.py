"""The portal's state in the workspace: users, sessions, login failures and the audit log.

One SQLite file, ``.paycascade/portal.sqlite`` (not committed, like the rest of
``.paycascade/``).  SQLite rather than the run database: the portal is a long-lived process and
must not hold the DuckDB write lock that ``paycascade run`` needs.  The audit table is
append-only: triggers abort any UPDATE or DELETE, and this module has no code path for either.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("admin", "analyst", "physician", "auditor")
STATE_FILE = "portal.sqlite"
MIN_PASSWORD = 10

_SCHEMA = """
create table if not exists users (
    username text primary key,
    role text not null,
    npi text,
    password_hash text not null,
    created_at text not null,
    disabled integer not null default 0
);
create table if not exists sessions (
    token_hash text primary key,
    username text not null,
    csrf text not null,
    created_at real not null,
    last_seen real not null
);
create table if not exists login_failures (
    username text not null,
    ip text not null,
    at real not null
);
create index if not exists login_failures_key on login_failures (username, ip, at);
create table if not exists audit (
    id integer primary key autoincrement,
    at text not null,
    username text,
    role text,
    action text not null,
    target text,
    run_id text,
    ip text,
    user_agent text,
    status integer not null
);
create trigger if not exists audit_no_update before update on audit
begin select raise(abort, 'the audit log is append-only'); end;
create trigger if not exists audit_no_delete before delete on audit
begin select raise(abort, 'the audit log is append-only'); end;
"""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    npi: str | None
    created_at: str = ""
    disabled: bool = False


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    token_hash: str


class UserError(ValueError):
    """A user that cannot be created as asked (bad role, missing NPI, short password)."""


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """Thread-safe access to ``portal.sqlite``; ``clock`` is injectable for tests."""

    def __init__(self, state_dir: Path, clock: Callable[[], float]) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / STATE_FILE
        self.clock = clock
        self._lock = threading.Lock()
        # users' password hashes, sessions and the audit log: readable by the owner only
        # (SQLite gives its -wal and -shm files the database file's mode)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._con.execute("pragma journal_mode=wal")
        self._con.execute("pragma synchronous=normal")
        self._con.execute("pragma busy_timeout=5000")
        self._con.executescript(_SCHEMA)
        # argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~50 ms a login
        # here.  Hashes made with other parameters are upgraded at the next successful login.
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._con.execute("begin immediate")
            try:
                yield self._con
            except BaseException:
                self._con.execute("rollback")
                raise
            self._con.execute("commit")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    # users ---------------------------------------------------------------------------------

    def add_user(
        self, username: str, password: str, role: str, npi: str | None, *, replace: bool = False
    ) -> User:
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if role == "physician" and not npi:
            raise UserError("a physician user needs --npi")
        if role != "physician" and npi:
            raise UserError("only a physician user is bound to an NPI")
        if (
            not username
            or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
        ):
            raise UserError("username: letters, digits, '-', '_' and '.' only")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password must have at least {MIN_PASSWORD} characters")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        digest = self._hasher.hash(password)
        with self._tx() as con:
            exists = con.execute("select 1 from users where username = ?", (username,)).fetchone()
            if exists and not replace:
                raise UserError(f"user {username!r} already exists")
            con.execute(
                "insert or replace into users values (?, ?, ?, ?, ?, 0)",
                (username, role, npi, digest, created),
            )
            con.execute("delete from sessions where username = ?", (username,))
        return User(username, role, npi, created)

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self._tx() as con:
            con.execute(
                "update users set disabled = ? where username = ?", (int(disabled), username)
            )
            if disabled:
                con.execute("delete from sessions where username = ?", (username,))

    def users(self) -> list[User]:
        rows = self._query(
            "select username, role, npi, created_at, disabled from users order by username"
        )
        return [User(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def user(self, username: str) -> User | None:
        rows = self._query(
            "select username, role, npi, created_at, disabled from users where username = ?",
            (username,),
        )
        return (
            User(rows[0][0], rows[0][1], rows[0][2], rows[0][3], bool(rows[0][4])) if rows else None
        )

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password matches (argon2 verify); None otherwise."""
        rows = self._query(
            "select password_hash, disabled from users where username = ?", (username,)
        )
        if not rows:
            # Spend the same time as a real check so a timing probe cannot list usernames.
            self._hasher.hash(password)
            return None
        digest, disabled = rows[0]
        try:
            self._hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return None
        if disabled:
            return None
        if self._hasher.check_needs_rehash(digest):
            with self._tx() as con:
                con.execute(
                    "update users set password_hash = ? where username = ?",
                    (self._hasher.hash(password), username),
                )
        return self.user(username)

    # throttling ----------------------------------------------------------------------------

    def begin_attempt(
        self, username: str, ip: str, window: float, per_ip: int, per_user: int
    ) -> bool:
        """Count a login attempt before its password is checked: False (refused) when the
        username already has ``per_ip`` failures from this address, or ``per_user`` from any,
        within ``window`` seconds.  The count and the insert are one transaction, so concurrent
        attempts cannot all pass; the attempt stays counted as a failure unless
        :meth:`clear_failures` follows a successful login."""
        now = self.clock()
        with self._tx() as con:
            from_ip, from_any = con.execute(
                "select count(*) filter (where ip = ?), count(*) from login_failures "
                "where username = ? and at > ?",
                (ip, username, now - window),
            ).fetchone()
            if from_ip >= per_ip or from_any >= per_user:
                return False
            con.execute("insert into login_failures values (?, ?, ?)", (username, ip, now))
        return True

    def clear_failures(self, username: str, ip: str) -> None:
        with self._tx() as con:
            con.execute("delete from login_failures where username = ? and ip = ?", (username, ip))

    # sessions ------------------------------------------------------------------------------

    def new_session(self, user: User) -> tuple[str, str]:
        """A new session for the user: (token for the cookie, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock()
        with self._tx() as con:
            con.execute(
                "insert into sessions values (?, ?, ?, ?, ?)",
                (_hash_token(token), user.username, csrf, now, now),
            )
        return token, csrf

    def session(self, token: str, idle: float, absolute: float) -> Session | None:
        """The live session for a cookie token; expired ones are deleted and give None."""
        key = _hash_token(token)
        now = self.clock()
        with self._lock:
            row = self._con.execute(
                """select s.csrf, s.created_at, s.last_seen, u.username, u.role, u.npi,
                          u.created_at, u.disabled
                   from sessions s join users u using (username) where s.token_hash = ?""",
                (key,),
            ).fetchone()
            if row is None:
                return None
            csrf, created, last_seen, username, role, npi, user_created, disabled = row
            if disabled or now - last_seen > idle or now - created > absolute:
                self._con.execute("delete from sessions where token_hash = ?", (key,))
                return None
            if now - last_seen > 15:  # sliding expiry, written at most every 15 s
                self._con.execute(
                    "update sessions set last_seen = ? where token_hash = ?", (now, key)
                )
        return Session(User(username, role, npi, user_created, bool(disabled)), csrf, key)

    def end_session(self, token_hash: str) -> None:
        with self._tx() as con:
            con.execute("delete from sessions where token_hash = ?", (token_hash,))

    # audit ---------------------------------------------------------------------------------

    def audit(
        self,
        *,
        username: str | None,
        role: str | None,
        action: str,
        target: str | None,
        run_id: str | None,
        ip: str | None,
        user_agent: str | None,
        status: int,
    ) -> None:
        at = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="milliseconds")
        with self._lock:
            self._con.execute(
                """insert into audit (at, username, role, action, target, run_id, ip, user_agent,
                   status) values (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (at, username, role, action, target, run_id, ip, (user_agent or "")[:300], status),
            )

    def audit_rows(
        self,
        *,
        username: str | None = None,
        action: str | None = None,
        limit: int = 200,
        before: int | None = None,
    ) -> list[dict[str, Any]]:
        where, params = [], []
        if username:
            where.append("username = ?")
            params.append(username)
        if action:
            where.append("action = ?")
            params.append(action)
        if before is not None:
            where.append("id < ?")
            params.append(str(before))
        sql = "select id, at, username, role, action, target, run_id, ip, user_agent, status "
        sql += "from audit" + (" where " + " and ".join(where) if where else "")
        sql += " order by id desc limit ?"
        rows = self._query(sql, (*params, limit))
        keys = ("id", "at", "username", "role", "action", "target", "run_id", "ip", "user_agent")
        return [{**dict(zip(keys, r[:9], strict=True)), "status": r[9]} for r in rows]
