"""Load and fault scenarios of security.md (OPS-1..5), each with its figures and its
verdict. Driven by ``bench/faults`` (one command), which builds the data set and starts
gunicorn as in production; this module generates the load and breaks things.

The load is open-loop: requests are *scheduled* at a fixed rate whatever the server's
speed (a slow server does not slow the load down, as real visitors would not), sent by
a pool of threads over keep-alive connections, each recorded with its send time,
latency and status. Everything is bounded: a scenario runs for a set number of seconds
and a request times out after 10 s.

Scenarios (``--scenario``):
  steady   OPS-1  50 requests/s of mixed traffic: 0 % errors other than 429, p95 below
                  300 ms for fragments and 500 ms for pages.
  kill     OPS-2  the same load; one gunicorn worker gets SIGKILL: 0 errors from five
                  seconds after the kill.
  redis    OPS-3  the app on a Redis of its own; Redis is shut down under load: pages,
                  log-in and the public form keep answering (limits fall back to memory).
  postgres OPS-4  the app on PostgreSQL; the server is stopped for 30 s under load:
                  requests fail fast (≤ 5 s) with the friendly 503, and 0 errors again
                  within 10 s of the restart.
  sqlite   OPS-5  the embedded SQLite: 10 writes/s + 50 reads/s: 0 "database is locked"
                  and 0 server errors.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import feedback_link, login_cookie  # noqa: E402


@dataclass
class Result:
    kind: str          # page | fragment | public | write | health
    sent: float        # seconds since the scenario started
    ms: float
    status: int        # 0: connection error or timeout


@dataclass
class Load:
    """An open-loop load of weighted requests at ``rate`` per second."""

    host: str
    port: int
    mix: list          # (weight, kind, method, path, headers, body)
    rate: float
    threads: int = 16
    results: list = field(default_factory=list)

    def run(self, seconds: float, during=None) -> list[Result]:
        jobs: queue.Queue = queue.Queue()
        lock = threading.Lock()
        start = time.monotonic()
        weights = [m[0] for m in self.mix]
        total = sum(weights)
        current = [0] * len(weights)

        def worker():
            conn = None
            while True:
                job = jobs.get()
                if job is None:
                    return
                kind, method, path, headers, body = job
                sent = time.monotonic()
                status = 0
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    if response.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
                with lock:
                    self.results.append(Result(kind, sent - start, (time.monotonic() - sent) * 1000, status))

        pool = [threading.Thread(target=worker, daemon=True) for _ in range(self.threads)]
        for t in pool:
            t.start()
        if during is not None:
            threading.Thread(target=during, args=(start,), daemon=True).start()
        n = 0
        interval = 1.0 / self.rate
        while True:
            due = start + n * interval
            if due - start >= seconds:
                break
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            # smooth weighted round robin (as nginx balances): deterministic, and each kind
            # of request is spread evenly over the run instead of coming in blocks
            for i, weight in enumerate(weights):
                current[i] += weight
            pick = max(range(len(weights)), key=current.__getitem__)
            current[pick] -= total
            jobs.put(tuple(self.mix[pick][1:]))
            n += 1
        for _ in pool:
            jobs.put(None)
        for t in pool:
            t.join(timeout=15)
        return sorted(self.results, key=lambda r: r.sent)


def answered(r: Result) -> bool:
    """A wrong password answered with the form's message (a 4xx other than a CSRF 400)
    is the log-in working; for everything else only 2xx and 3xx are."""
    if r.kind == "login":
        return 200 <= r.status < 500 and r.status not in (400, 429)
    return 200 <= r.status < 400


def p95(values: list[float]) -> float:
    if not values:
        return 0.0
    if len(values) < 20:
        return max(values)
    return statistics.quantiles(values, n=20)[18]


def summary(results: list[Result], seconds: float) -> dict:
    by_kind: dict[str, list[Result]] = {}
    for r in results:
        by_kind.setdefault(r.kind, []).append(r)
    rows = {}
    for kind, rs in sorted(by_kind.items()):
        ok = [r for r in rs if answered(r)]
        rows[kind] = dict(count=len(rs), ok=len(ok), r429=sum(1 for r in rs if r.status == 429),
                          errors=sum(1 for r in rs if not answered(r) and r.status != 429),
                          p50=statistics.median([r.ms for r in ok]) if ok else 0.0, p95=p95([r.ms for r in ok]))
    rows["all"] = dict(count=len(results), rate=len(results) / seconds)
    return rows


def table(rows: dict) -> str:
    lines = ["| traffic | requests | 2xx/3xx | 429 | errors | p50 ms | p95 ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, r in rows.items():
        if kind == "all":
            continue
        lines.append(f"| {kind} | {r['count']} | {r['ok']} | {r['r429']} | {r['errors']} | {r['p50']:.1f} | {r['p95']:.1f} |")
    lines.append(f"| all | {rows['all']['count']} ({rows['all']['rate']:.1f}/s) | | | | | |")
    return "\n".join(lines)


def errors_after(results: list[Result], t0: float) -> list[Result]:
    return [r for r in results if r.sent >= t0 and not answered(r) and r.status != 429]


# --- the traffic -----------------------------------------------------------------------

def csrf_for(host: str, port: int, cookie: str) -> str:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/clients?mine=0", headers={"Cookie": cookie})
    page = conn.getresponse().read().decode()
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def anonymous_form(host: str, port: int) -> tuple[str, str]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = "; ".join(h.split(";", 1)[0] for k, h in response.getheaders() if k.lower() == "set-cookie")
    return cookie, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def client_ids(database_url: str, limit: int = 50) -> list[int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        first = conn.execute(text("SELECT min(id) FROM businesses")).scalar_one()
        ids = conn.execute(text("SELECT id FROM clients WHERE tenant_id = :t ORDER BY id LIMIT :n"),
                           {"t": first, "n": limit}).scalars().all()
    engine.dispose()
    return list(ids)


def mix(base_host: str, port: int, cookie: str, public_path: str, database_url: str, writes: bool = False,
        login: tuple[str, str] | None = None) -> list:
    page = {"Cookie": cookie, "Accept-Language": "es"}
    fragment = dict(page, **{"HX-Request": "true"})
    traffic = [
        (4, "page", "GET", "/clients?mine=0", page, None),
        (2, "page", "GET", "/", page, None),
        (2, "page", "GET", "/agenda?seller=all", page, None),
        (4, "fragment", "GET", "/clients?mine=0&q=gonz", fragment, None),
        (2, "fragment", "GET", "/clients?mine=0&q=ma&page=2", fragment, None),
        (3, "public", "GET", public_path, {"Accept-Language": "es-CL"}, None),
        (1, "health", "GET", "/healthz", {}, None),
    ]
    if login is not None:
        # a wrong password from an anonymous session: the form answers with its message
        # (or the generic 429 once the per-IP limit is reached), limits counting either way
        anon, token = anonymous_form(base_host, port)
        body = urllib.parse.urlencode({"csrf_token": token, "email": login[0], "password": "not-the-password"})
        traffic.append((1, "login", "POST", "/login",
                        {"Cookie": anon, "Content-Type": "application/x-www-form-urlencoded"}, body))
    if writes:
        token = csrf_for(base_host, port, cookie)
        headers = dict(page, **{"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"})
        for cid in client_ids(database_url, 8):
            traffic.append((1, "write", "POST", f"/clients/{cid}/key", headers, "is_key=1&next=/healthz"))
    return traffic


# --- scenarios -------------------------------------------------------------------------

def gunicorn_workers(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def scenario(args) -> tuple[bool, str]:
    host, port = "127.0.0.1", args.port
    base = f"http://{host}:{port}"
    cookie = login_cookie(base, args.email, args.password)
    public_path = feedback_link(args.database_url)
    seconds = args.seconds
    notes: list[str] = []
    if args.scenario == "sqlite":
        reads = mix(host, port, cookie, public_path, args.database_url)
        writes = [m for m in mix(host, port, cookie, public_path, args.database_url, writes=True) if m[1] == "write"]
        # 50 reads and 10 writes a second: the two groups weighted 5 : 1 at 60 requests/s
        read_total, write_total = sum(m[0] for m in reads), sum(m[0] for m in writes)
        traffic = [(w * 5 * write_total, *rest) for w, *rest in reads]
        traffic += [(w * read_total, *rest) for w, *rest in writes]
        load = Load(host, port, traffic, rate=60)
    else:
        load = Load(host, port, mix(host, port, cookie, public_path, args.database_url,
                                    login=(args.email, "") if args.scenario == "redis" else None), rate=args.rate)

    event: dict[str, float] = {}

    def during(start: float):
        if args.scenario == "kill":
            time.sleep(seconds / 3)
            victims = gunicorn_workers(args.master_pid)
            if victims:
                os.kill(victims[0], signal.SIGKILL)
                event["kill"] = time.monotonic() - start
                notes.append(f"SIGKILL to worker {victims[0]} at {event['kill']:.1f} s")
        elif args.scenario == "redis":
            time.sleep(seconds / 3)
            subprocess.run(["redis-cli", "-p", str(args.redis_port), "shutdown", "nosave"], capture_output=True)
            event["down"] = time.monotonic() - start
            notes.append(f"Redis (port {args.redis_port}) shut down at {event['down']:.1f} s")
        elif args.scenario == "postgres":
            time.sleep(seconds / 4)
            cluster = os.listdir("/etc/postgresql")[0]
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "stop", "-m", "fast"],
                           capture_output=True)
            event["down"] = time.monotonic() - start
            notes.append(f"PostgreSQL stopped at {event['down']:.1f} s")
            time.sleep(args.outage)
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "start"],
                           capture_output=True)
            for _ in range(100):
                if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0:
                    break
                time.sleep(0.1)
            event["up"] = time.monotonic() - start
            notes.append(f"PostgreSQL accepting connections again at {event['up']:.1f} s")

    results = load.run(seconds, during)
    rows = summary(results, seconds)
    verdicts: list[tuple[str, bool]] = []
    if args.scenario == "steady":
        errors = sum(r["errors"] for k, r in rows.items() if k != "all")
        verdicts.append((f"errors other than 429: {errors} (goal 0)", errors == 0))
        frag = rows.get("fragment", {}).get("p95", 0)
        pages = max(rows.get(k, {}).get("p95", 0) for k in ("page", "public"))
        verdicts.append((f"p95 fragments {frag:.0f} ms (goal < 300)", frag < 300))
        verdicts.append((f"p95 pages {pages:.0f} ms (goal < 500)", pages < 500))
        achieved = rows["all"]["rate"]
        verdicts.append((f"offered {args.rate:.0f}/s, sent {achieved:.1f}/s", achieved >= 0.95 * args.rate))
    elif args.scenario == "kill":
        if "kill" not in event:
            verdicts.append(("no worker found to kill", False))
        else:
            late = errors_after(results, event["kill"] + 5)
            early = errors_after(results, event["kill"])
            verdicts.append((f"errors in the 5 s after the kill: {len(early) - len(late)} (allowed)", True))
            verdicts.append((f"errors from 5 s after the kill: {len(late)} (goal 0)", not late))
            alive = gunicorn_workers(args.master_pid)
            verdicts.append((f"workers after the run: {len(alive)} (the master replaced the killed one)",
                             len(alive) >= args.workers))
    elif args.scenario == "redis":
        after = [r for r in results if r.sent >= event.get("down", seconds)]
        bad = errors_after(results, event.get("down", seconds))
        kinds = {r.kind for r in after if answered(r)}
        verdicts.append((f"errors other than 429 after Redis went down: {len(bad)} (goal 0)", not bad))
        wanted = {"page", "fragment", "public", "login"}
        verdicts.append((f"answered after Redis went down: {', '.join(sorted(kinds))}", wanted <= kinds))
    elif args.scenario == "postgres":
        down, up = event.get("down", 0), event.get("up", seconds)
        outage = [r for r in results if down <= r.sent < up]
        slow = [r for r in outage if r.ms > 5000]
        statuses = sorted({r.status for r in outage})
        verdicts.append((f"during the outage: {len(outage)} requests, statuses {statuses}, slowest "
                         f"{max((r.ms for r in outage), default=0):.0f} ms (goal ≤ 5000)", not slow))
        friendly = [r for r in outage if r.status not in (503, 429) and not answered(r)]
        verdicts.append((f"failures during the outage that were not the 503 page: {len(friendly)} (goal 0)",
                         not friendly))
        late = errors_after(results, up + 10)
        verdicts.append((f"errors from 10 s after the restart: {len(late)} (goal 0)", not late))
        recovered = [r for r in results if r.sent >= up and answered(r)]
        if recovered:
            notes.append(f"first success after the restart: {recovered[0].sent - up:.1f} s")
    elif args.scenario == "sqlite":
        errors = sum(r["errors"] for k, r in rows.items() if k != "all")
        writes_ok = rows.get("write", {}).get("ok", 0)
        verdicts.append((f"server errors: {errors} (goal 0)", errors == 0))
        verdicts.append((f"writes done: {writes_ok} ({writes_ok / seconds:.1f}/s, goal 10/s)",
                         writes_ok / seconds >= 9.5))
        locked = 0
        if args.server_log and os.path.exists(args.server_log):
            with open(args.server_log, encoding="utf-8", errors="replace") as f:
                locked = f.read().count("database is locked")
        verdicts.append((f'"database is locked" in the server log: {locked} (goal 0)', locked == 0))

    ok = all(v for _, v in verdicts)
    out = [f"### {args.scenario} · {seconds:.0f} s · {load.rate:.0f} requests/s offered", "", table(rows), ""]
    out += [f"- {n}" for n in notes]
    out += [f"- {'PASS' if v else 'FAIL'}: {text}" for text, v in verdicts]
    out.append(f"- verdict: **{'PASS' if ok else 'FAIL'}**")
    return ok, "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", required=True, choices=("steady", "kill", "redis", "postgres", "sqlite"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--master-pid", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--outage", type=float, default=30)
    parser.add_argument("--server-log", default="")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    ok, report = scenario(args)
    print(report, flush=True)
    if args.json:
        with open(args.json, "a", encoding="utf-8") as f:
            f.write(json.dumps({"scenario": args.scenario, "ok": ok}) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
