"""Load the real app and the bare reference in one run and print the table of
performance.md: requests/s, p50/p95/p99, ratios, SQL statements per page. Exits 1
when a goal is missed.

The pages are loaded in interleaved rounds (every page once per round, the order
reversed every other round), so a burst of noise on the machine lands on all pages
rather than on whichever ran then. Each ratio is computed within its round (the app's
page against the bare page of the same round) and printed as the median with its
spread (lowest–highest) over the rounds; the load average before and after is printed
with the table."""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from statistics import median

GOALS = {"client list": ("bare 50 rows", 0.5), "search fragment": ("bare 50 rows", 0.6),
         "public feedback page": ("bare hello", 0.5)}


def login_cookie(base: str, email: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    opener.open(base + "/login", data=data)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    assert "session=" in cookie, "log-in failed"
    return cookie


def answer_form(base: str, path: str) -> tuple[str, str]:
    """(cookie, body) of a real answer to the public page: its CSRF token and its signed
    stamp, read like a browser does, then the minimum fill time waited out."""
    import time

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + path).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    stamp = re.search(r'name="stamp" value="([^"]+)"', page).group(1)
    time.sleep(3.2)
    body = urllib.parse.urlencode({"csrf_token": token, "stamp": stamp, "score": "9", "comment": "Muy bien"})
    return "; ".join(f"{c.name}={c.value}" for c in jar), body


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str], body: str = "") -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", os.path.join(os.path.dirname(__file__), "p95.lua")]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    env = dict(os.environ, BENCH_BODY=body)
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p = re.search(r"BENCH p50=([\d.]+) p95=([\d.]+) p99=([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = sum(int(n) for n in sockets.groups()) if sockets else 0
    return {"rps": rps, "p50": float(p.group(1)), "p95": float(p.group(2)), "p99": float(p.group(3)),
            "errors": (int(errors.group(1)) if errors else 0) + failed}


def _app(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from pymes import create_app

    return create_app({"RATELIMIT_ENABLED": False})


def feedback_link(database_url: str) -> str:
    """A fresh feedback link for the first client of the first business (the page's
    path; the secret exists only here and in the database's hash)."""
    from sqlalchemy import select

    from pymes.accounts.models import Business
    from pymes.clients.models import Client
    from pymes.extensions import db
    from pymes.feedback.services import create_link
    from pymes.tenancy import bound

    app = _app(database_url)
    with app.app_context():
        business_id = db.session.execute(select(Business.id).order_by(Business.id)).scalars().first()
        with bound(business_id):
            client = db.session.execute(select(Client).order_by(Client.id).limit(1)).scalar_one()
            return "/f/" + create_link(client, None)


def logged_in(app, email: str, password: str):
    """An in-process test client logged in through the real form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "email": email, "password": password})
    return client


def sql_counts(database_url: str, email: str, password: str, public_path: str) -> dict:
    """SQL statements per page, counted in-process on the same database."""
    from sqlalchemy import event

    from pymes.extensions import db

    app = _app(database_url)
    client = logged_in(app, email, password)
    counts = {}
    with app.app_context():
        engine = db.engine
    for name, path, headers in (("client list", "/clients?mine=0", {}),
                                ("search fragment", "/clients?mine=0&q=gonz", {"HX-Request": "true"}),
                                ("agenda", "/agenda?seller=all", {}),
                                ("public feedback page", public_path, {})):
        seen = []
        listener = lambda *args, seen=seen: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        client.get(path, headers=headers)
        event.remove(engine, "before_cursor_execute", listener)
        counts[name] = len(seen)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    cookie = login_cookie(args.app, args.email, args.password)
    public_path = feedback_link(args.database_url)
    targets = [
        ("bare hello", args.reference + "/hello", {}),
        ("bare 50 rows", args.reference + "/rows", {}),
        ("client list", args.app + "/clients?mine=0", {"Cookie": cookie}),
        ("search fragment", args.app + "/clients?mine=0&q=gonz", {"Cookie": cookie, "HX-Request": "true"}),
        ("agenda", args.app + "/agenda?seller=all", {"Cookie": cookie}),
        ("public feedback page", args.app + public_path, {"Accept-Language": "es-CL,es;q=0.9"}),
        ("health", args.app + "/healthz", {}),
    ]
    answer_cookie, answer_body = answer_form(args.app, public_path)
    targets.append(("public feedback answer (POST)", args.app + public_path, {"Cookie": answer_cookie}))
    bodies = {"public feedback answer (POST)": answer_body}
    load_before = os.getloadavg()
    rounds: list[dict[str, dict]] = []
    for number in range(args.rounds):
        order = targets if number % 2 == 0 else list(reversed(targets))
        rounds.append({name: wrk(url, args.seconds, args.connections, headers, bodies.get(name, ""))
                       for name, url, headers in order})
    load_after = os.getloadavg()
    sql = sql_counts(args.database_url, args.email, args.password, public_path)

    print(f"\n{args.rounds} interleaved rounds of {args.seconds} s per page; load average before "
          f"{load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")
    print("\n| page | requests/s (median) | p50 ms | p95 ms | p99 ms | non-2xx | ratio: median (spread) | SQL statements |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    failed = []
    for name, _url, _headers in targets:
        runs = [r[name] for r in rounds]
        rps = median([r["rps"] for r in runs])
        errors = sum(r["errors"] for r in runs)
        ratio = ""
        if name in GOALS:
            ref, goal = GOALS[name]
            values = [r[name]["rps"] / r[ref]["rps"] for r in rounds]
            value = median(values)
            ratio = f"{value:.2f} ({min(values):.2f}–{max(values):.2f}; goal ≥ {goal} of {ref})"
            if value < goal:
                failed.append(f"{name}: {value:.2f} < {goal}")
        if errors:
            failed.append(f"{name}: {errors} non-2xx responses")
        print(f"| {name} | {rps:.0f} | {median([r['p50'] for r in runs]):.1f} | {median([r['p95'] for r in runs]):.1f} | "
              f"{median([r['p99'] for r in runs]):.1f} | {errors} | {ratio} | {sql.get(name, '')} |")
    if failed:
        print("\nGOALS MISSED: " + "; ".join(failed))
        return 1
    print("\nAll goals of this run met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
