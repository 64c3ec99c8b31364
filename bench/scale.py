"""The "scale" goals of performance.md: p95 of every page under 100 ms (the dashboard
under 150 ms) with 20 concurrent connections on the scale data set (200 businesses,
1,000,000 clients, ~3,000,000 sales and visits), and no full table scan per request.

Run by ``bench/run`` when ``BENCH_SCALE=scale``; it can also run alone against a
running app::

    .venv/bin/python bench/scale.py --app http://127.0.0.1:8765 --database-url sqlite:///…

Four parts:
1. wrk, 20 connections, each page for ``--seconds``: requests/s and p50/p95/p99.
2. The first view after a change, in-process: pages keep their figures and fragments
   per business data version (``pymes.cache``), so this is what the first reader after
   each change pays (reported beside the p95).
3. The same load while the business's data changes once a second (reported).
4. The query plans: every SQL statement a page runs (captured in-process on the same
   database) is explained (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL);
   a plan that reads a whole tenant table (SQLite ``SCAN <table>`` without an index,
   PostgreSQL ``Seq Scan`` on a table of over 10,000 rows) is listed and fails the run.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import _app, feedback_link, logged_in, login_cookie, wrk  # noqa: E402

GOAL_MS = 100
DASHBOARD_GOAL_MS = 150
BIG_TABLES = ("clients", "sales", "activities", "feedback_responses", "feedback_links", "tier_changes",
              "referrals", "complaints", "testimonials")


def first_ids(database_url: str, email: str) -> dict:
    from sqlalchemy import select

    from pymes.accounts.models import User
    from pymes.clients.models import Client
    from pymes.extensions import db
    from pymes.tenancy import bound, identity_lookup

    app = _app(database_url)
    with app.app_context():
        with identity_lookup():
            tenant = db.session.execute(select(User.tenant_id).where(User.email == email)).scalar_one()
        with bound(tenant):
            client_id = db.session.execute(select(Client.id).where(Client.sales_count > 2).order_by(Client.id)
                                           .limit(1)).scalar_one()
    return {"client": client_id}


def pages(ids: dict, public_path: str) -> list[tuple[str, str, dict, int]]:
    """(name, path, extra headers, goal ms)"""
    hx = {"HX-Request": "true"}
    return [
        ("home", "/", {}, GOAL_MS),
        ("client list", "/clients?mine=0", {}, GOAL_MS),
        ("client list, page 40, by revenue", "/clients?mine=0&sort=revenue&dir=desc&page=40", {}, GOAL_MS),
        ("search fragment", "/clients?mine=0&q=gonz", hx, GOAL_MS),
        ("client page", f"/clients/{ids['client']}", {}, GOAL_MS),
        ("key clients", "/clients/key", {}, GOAL_MS),
        ("agenda", "/agenda?seller=all", {}, GOAL_MS),
        ("feedback inbox", "/feedback", {}, GOAL_MS),
        ("complaints board", "/complaints", {}, GOAL_MS),
        ("referrals", "/referrals", {}, GOAL_MS),
        ("dashboard", "/dashboard", {}, DASHBOARD_GOAL_MS),
        ("dashboard chart: NPS", "/dashboard/charts/nps", hx, DASHBOARD_GOAL_MS),
        ("dashboard chart: tiers", "/dashboard/charts/tiers", hx, DASHBOARD_GOAL_MS),
        ("public feedback page", public_path, {"Accept-Language": "es"}, GOAL_MS),
    ]


def plans(database_url: str, email: str, password: str, targets) -> dict[str, list[str]]:
    """The statements each page runs, explained; returns the full scans per page."""
    from sqlalchemy import event

    from pymes.extensions import db

    app = _app(database_url)
    client = logged_in(app, email, password)
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    scans: dict[str, list[str]] = {}
    for name, path, headers, _goal in targets:
        seen: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany, seen=seen):
            if statement.lstrip().upper().startswith("SELECT") and not executemany:
                seen.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        response = client.get(path, headers=headers)
        event.remove(engine, "before_cursor_execute", capture)
        if response.status_code != 200:
            scans[name] = [f"answered {response.status_code}"]
            continue
        found = []
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            if not sqlite:  # the planner rightly reads a table of a few rows whole: only big ones count
                cursor = raw.cursor()
                cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")
                small = {name for name, rows in cursor.fetchall() if rows < 10_000}
                cursor.close()
            for statement, parameters in seen:
                cursor = raw.cursor()
                try:
                    if sqlite:
                        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                        for row in cursor.fetchall():
                            detail = row[-1]
                            match = re.match(r"SCAN (\w+)(?! USING)", detail)
                            if match and match.group(1) in BIG_TABLES and "USING" not in detail:
                                found.append(f"{detail} ← {statement[:140]}")
                    else:
                        cursor.execute("EXPLAIN " + statement, parameters)
                        for (line,) in cursor.fetchall():
                            match = re.search(r"Seq Scan on (\w+)", line)
                            if match and match.group(1) in BIG_TABLES and match.group(1) not in small:
                                found.append(f"{line.strip()} ← {statement[:140]}")
                except Exception as error:  # noqa: BLE001 - an unexplainable statement is reported, not fatal
                    found.append(f"could not explain ({type(error).__name__}): {statement[:100]}")
                finally:
                    cursor.close()
            conn.rollback()
        scans[name] = found
    return scans


def after_a_change(database_url: str, email: str, password: str, targets, repeat: int = 5) -> dict[str, float]:
    """In-process median time of each page right after its business's data changed: the
    kept figures and fragments (pymes.cache) are keyed by the business's data version,
    so this is what the first reader after every change pays."""
    import statistics
    import time

    from sqlalchemy import select, update

    from pymes.accounts.models import Business, User
    from pymes.extensions import db
    from pymes.tenancy import identity_lookup

    app = _app(database_url)
    client = logged_in(app, email, password)
    with app.app_context(), identity_lookup():
        tenant = db.session.execute(select(User.tenant_id).where(User.email == email)).scalar_one()
    times: dict[str, float] = {}
    for name, path, headers, _goal in targets:
        if path.startswith("/f/"):
            continue  # the public page keeps nothing
        client.get(path, headers=headers)
        samples = []
        for _ in range(repeat):
            with app.app_context():
                db.session.execute(update(Business).where(Business.id == tenant)
                                   .values(data_version=Business.data_version + 1))
                db.session.commit()
            start = time.perf_counter()
            client.get(path, headers=headers)
            samples.append((time.perf_counter() - start) * 1000)
        times[name] = statistics.median(samples)
    return times


def under_writes(app_url: str, database_url: str, email: str, cookie: str, targets, seconds: int) -> list[str]:
    """The same load while the business's data changes once a second (what a busy shop
    does to the kept figures): every second the first readers recompute."""
    import threading

    from sqlalchemy import select, update

    from pymes.accounts.models import Business, User
    from pymes.extensions import db
    from pymes.tenancy import identity_lookup

    app = _app(database_url)
    with app.app_context(), identity_lookup():
        tenant = db.session.execute(select(User.tenant_id).where(User.email == email)).scalar_one()
    stop = threading.Event()

    def writer():
        while not stop.wait(1.0):
            with app.app_context():
                db.session.execute(update(Business).where(Business.id == tenant)
                                   .values(data_version=Business.data_version + 1))
                db.session.commit()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    lines = []
    try:
        for name, path, headers, goal in targets:
            if path.startswith("/f/"):
                continue
            r = wrk(app_url + path, seconds, 20, dict(headers, Cookie=cookie))
            lines.append(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
                         f"{r['errors']} | < {goal} {'✓' if r['p95'] < goal else '✗'} |")
    finally:
        stop.set()
        thread.join()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--email", default="seed1-owner0@example.com")
    parser.add_argument("--password", default="seed-password-2026")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()

    cookie = login_cookie(args.app, args.email, args.password)
    public_path = feedback_link(args.database_url)
    targets = pages(first_ids(args.database_url, args.email), public_path)
    scans = plans(args.database_url, args.email, args.password, targets)
    cold = after_a_change(args.database_url, args.email, args.password, targets)
    print("\n| page (20 concurrent) | requests/s | p50 ms | p95 ms | p99 ms | non-2xx | goal p95 | full scans "
          "| first view after a change, ms (in-process) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = []
    for name, path, headers, goal in targets:
        h = dict(headers)
        if not path.startswith("/f/"):
            h["Cookie"] = cookie
        r = wrk(args.app + path, args.seconds, args.connections, h)
        verdict = "✓" if r["p95"] < goal and not r["errors"] else "✗"
        if verdict == "✗":
            failed.append(f"{name}: p95 {r['p95']:.0f} ms (goal < {goal}), {r['errors']} non-2xx")
        if scans.get(name):
            failed.append(f"{name}: {len(scans[name])} full scan(s)")
        first = f"{cold[name]:.0f}" if name in cold else "—"
        print(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['errors']} | "
              f"< {goal} {verdict} | {len(scans.get(name, []))} | {first} |")
    for name, found in scans.items():
        for line in found:
            print(f"  full scan on {name}: {line}")
    print("\nThe same pages while the business's data changes once a second (its kept figures and pages "
          "recomputed by the first reader after each change; reported, not a goal of its own):\n")
    print("| page (20 concurrent, one change a second) | requests/s | p50 ms | p95 ms | p99 ms | non-2xx | goal p95 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for line in under_writes(args.app, args.database_url, args.email, cookie, targets, args.seconds):
        print(line)
    if failed:
        print("\nSCALE GOALS MISSED: " + "; ".join(failed))
        return 1
    print("\nEvery scale goal of this run met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
