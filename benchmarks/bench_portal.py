"""Benchmark: the portal's statement page under 50 concurrent logged-in sessions on loopback.

Writes the synthetic demo workspace (300 clinicians) to a temporary folder, runs it, adds one
physician user per session (each bound to its own NPI), starts `paycascade.web.serve` in a
separate process on 127.0.0.1, logs every session in, then has each session request its own
statement page (`/statements/{npi}`) in a loop, waiting `--think` seconds between requests.
Bounded: stops after `--requests` statement requests or `--seconds` seconds, whichever first.
Prints p50 / p95 / max latency, throughput and the environment.  Not a test: it asserts
nothing; the product target is p95 < 100 ms.

    .venv/bin/python benchmarks/bench_portal.py                 # 50 sessions, think 0.25 s
    .venv/bin/python benchmarks/bench_portal.py --think 0       # saturation: no pause at all
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode


def environment() -> str:
    import starlette
    import uvicorn

    from paycascade import __version__

    return (
        f"paycascade {__version__}; Python {platform.python_version()}; starlette "
        f"{starlette.__version__}; uvicorn {uvicorn.__version__}; {platform.platform()}; "
        f"{os.cpu_count()} CPUs; server and load generator on the same machine"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Session:
    def __init__(self, port: int, username: str, password: str) -> None:
        self.con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        page = self.request("GET", "/login")
        token = re.search(rb'name="csrf" value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        body = urlencode({"username": username, "password": password, "csrf": token.group(1)})
        self.request(
            "POST",
            "/login",
            body,
            {
                "content-type": "application/x-www-form-urlencoded",
                "origin": f"http://127.0.0.1:{port}",
            },
        )
        assert "pc_session" in self.cookies, f"login failed for {username}"

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> bytes:
        h = dict(headers or {})
        if self.cookies:
            h["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.con.request(method, path, body, h)
        response = self.con.getresponse()
        data = response.read()
        for value in response.headers.get_all("set-cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status}")
        return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="stop after this many")
    parser.add_argument("--seconds", type=float, default=60.0, help="... or after this long")
    parser.add_argument("--think", type=float, default=0.25, help="pause between requests (s)")
    parser.add_argument("--physicians", type=int, default=300)
    args = parser.parse_args()

    from paycascade.demo.workspace import write_demo
    from paycascade.runner import run
    from paycascade.web.data import Runs
    from paycascade.web.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        write_demo(ws, physicians=args.physicians, seed=2026)
        run(ws, None)
        runs = Runs(ws)
        latest = runs.get(None)
        assert latest is not None
        npis = sorted(runs.statements(latest))[: args.sessions]
        store = Store(ws / ".paycascade", time.time)
        users = []
        for i, npi in enumerate(npis):
            password = f"bench-password-{i:03d}"
            store.add_user(f"bench{i:03d}", password, "physician", npi, replace=True)
            users.append((f"bench{i:03d}", password, npi))
        store.close()

        port = free_port()
        code = f"from paycascade.web import serve; serve({str(ws)!r}, '127.0.0.1', {port})"
        server = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PAYCASCADE_SECRET": "benchmark-only-secret"},
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the portal did not start") from None
                    time.sleep(0.1)
            sessions = [Session(port, u, p) for u, p, _ in users]
            for s, (_, _, npi) in zip(sessions, users, strict=True):
                s.request("GET", f"/statements/{npi}")  # warm the per-run caches
            latencies: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()
            stop_at = time.monotonic() + args.seconds
            start = threading.Barrier(len(sessions) + 1)

            issued = [0]

            def worker(session: Session, npi: str) -> None:
                start.wait()
                while time.monotonic() < stop_at:
                    with lock:
                        if issued[0] >= args.requests:
                            return
                        issued[0] += 1
                    t0 = time.perf_counter()
                    try:
                        session.request("GET", f"/statements/{npi}")
                    except Exception as exc:
                        with lock:
                            errors.append(str(exc))
                        continue
                    with lock:
                        latencies.append(time.perf_counter() - t0)
                    if args.think:
                        time.sleep(args.think)

            threads = [
                threading.Thread(target=worker, args=(s, npi))
                for s, (_, _, npi) in zip(sessions, users, strict=True)
            ]
            for t in threads:
                t.start()
            start.wait()
            began = time.monotonic()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - began
        finally:
            server.terminate()
            server.wait(timeout=10)

    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(
        f"statement page, {len(sessions)} concurrent sessions, think {args.think}s: "
        f"{len(latencies)} requests in {elapsed:.1f}s ({len(latencies) / elapsed:.0f}/s), "
        f"{len(errors)} errors"
    )
    print(f"  p50 {pct(0.50):.1f} ms   p95 {pct(0.95):.1f} ms   max {latencies[-1] * 1000:.1f} ms")
    print(f"  target p95 < 100 ms: {'met' if pct(0.95) < 100 else 'NOT met'}")
    print("environment:", environment())


if __name__ == "__main__":
    main()
