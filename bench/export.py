"""Export throughput and memory at 100,000 rows (performance.md: ≥ 50,000 rows/s, peak
memory growth < 30 MB, streamed), for the referral list and the client list, CSV and XLSX,
through the real routes (log-in, tenancy, filters) with Flask's test client.

    .venv/bin/python bench/export.py                       # SQLite, instance/bench-export-<rows>.sqlite3
    BENCH_ROWS=20000 .venv/bin/python bench/export.py --only "referrals CSV"   # smaller, one export
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/bench .venv/bin/python bench/export.py

Builds its data set once (one business, 100,000 referred prospects from 1,000 referrers,
a sale for one referral in five) and reuses it. Each export is read twice: once for speed,
once under tracemalloc for the peak (tracing slows Python, so the two are kept apart).
Exits 1 when a goal is missed; XLSX has no speed goal (openpyxl), only the memory one."""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
import tracemalloc
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
ROWS_GOAL, MEMORY_GOAL_MB = 50_000, 30
EMAIL, PASSWORD = "export-owner@example.com", "export-password-2026"


def build(total: int) -> None:
    from sqlalchemy import insert, select

    from pymes.accounts.models import Business, User
    from pymes.clients.models import Client
    from pymes.clients.services import shown_phone  # what the app stores beside each number
    from pymes.db import utcnow
    from pymes.extensions import db
    from pymes.referrals.models import Referral
    from pymes.sales.models import Sale
    from pymes.security import hash_password
    from pymes.tenancy import bound, unscoped

    with unscoped():
        if db.session.execute(select(User.id).where(User.email == EMAIL)).first():
            return
    started = time.perf_counter()
    business = Business(name="Exportadora Ñuñoa", country="CL", currency="CLP", timezone="America/Santiago",
                        language="es")
    db.session.add(business)
    db.session.flush()
    with bound(business.id):
        owner = User(email=EMAIL, name="Dueña Export", password_hash=hash_password(PASSWORD), role="owner",
                     language="es", email_confirmed_at=utcnow())
        db.session.add(owner)
        db.session.flush()
        now, today = utcnow(), date.today()

        def client_row(i, kind):
            return {"tenant_id": business.id, "name": f"Persona {i} Muñoz Peña", "kind": kind, "company": "",
                    "tax_id": "", "email": f"p{i}@example.com", "phone": f"+5699{i:07d}",
                    "phone_shown": shown_phone(f"+5699{i:07d}", "CL"), "whatsapp": None,
                    "address": "", "seller_id": owner.id, "preferred_channel": "whatsapp", "preferred_time": "any",
                    "notes": "", "is_key": False, "source": "referral", "tier_override_reason": "",
                    "sales_count": 0, "revenue_12m": 0, "created_at": now, "updated_at": now}

        referrers = db.session.scalars(insert(Client).returning(Client.id, sort_by_parameter_order=True),
                                       [client_row(10_000_000 + i, "client") for i in range(1000)]).all()
        chunk = 5000
        for start in range(0, total, chunk):
            ids = db.session.scalars(insert(Client).returning(Client.id, sort_by_parameter_order=True),
                                     [client_row(i, "prospect") for i in range(start, min(start + chunk, total))]
                                     ).all()
            referrals, sales = [], []
            for n, prospect_id in enumerate(ids, start):
                converted = n % 5 == 0
                referrals.append({"tenant_id": business.id, "referrer_id": referrers[n % 1000],
                                  "prospect_id": prospect_id, "name": f"Persona {n} Muñoz Peña",
                                  "email": f"p{n}@example.com", "phone": f"+5699{n:07d}",
                                  "phone_shown": shown_phone(f"+5699{n:07d}", "CL"), "source": "feedback",
                                  "status": "converted" if converted else "new", "friend_consent": True,
                                  "converted_at": now if converted else None, "created_at": now,
                                  "updated_at": now})
                if converted:
                    sales.append({"tenant_id": business.id, "client_id": prospect_id, "seller_id": owner.id,
                                  "sold_on": today, "description": "Primera compra", "product_line": "",
                                  "amount": 45_990, "margin": 9_000, "delivery_on": today + timedelta(days=1),
                                  "created_at": now, "updated_at": now})
            db.session.execute(insert(Referral), referrals)
            if sales:
                db.session.execute(insert(Sale), sales)
        db.session.commit()
    print(f"data set: {total:,} referrals built in {time.perf_counter() - started:.1f} s", flush=True)


def log_in(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    assert answer.status_code in (302, 303), answer.status_code


def read(client, url: str) -> tuple[int, int]:
    """(bytes, lines) of a streamed export, read chunk by chunk as a browser would."""
    response = client.get(url, buffered=False)
    assert response.status_code == 200, (url, response.status_code)
    size = lines = 0
    for chunk in response.response:
        chunk = chunk if isinstance(chunk, bytes) else chunk.encode()
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return size, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS") or 100_000),
                        help="rows per export (default: $BENCH_ROWS, else 100,000)")
    parser.add_argument("--only", default="", help="run only the exports whose label contains this, e.g. 'referrals CSV'")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{ROOT}/instance/bench-export-{args.rows}.sqlite3"
    os.environ.update(DATABASE_URL=url, SECRET_KEY="bench-secret-key-0123456789abcdef0123",
                      RATELIMIT_ENABLED="0", MAIL_OUTBOX_DIR=os.path.join(ROOT, "instance", "bench-outbox"))
    from flask_migrate import upgrade

    from pymes import create_app

    app = create_app()
    with app.app_context():
        upgrade(directory=os.path.join(ROOT, "migrations"))
        build(args.rows)
        from pymes.db import analyze
        from pymes.extensions import db

        analyze(db.engine)  # the planner's statistics, as after any bulk load (without them: 410 rows/s on PostgreSQL)
    client = app.test_client()
    log_in(client)
    failures = []
    print(f"{date.today().isoformat()} · {os.cpu_count()} cores · {url.split(':')[0]} · {args.rows:,} rows each")
    print("| export | rows | MB | rows/s | peak memory growth MB | goal |")
    print("|---|---:|---:|---:|---:|---|")
    for label, path, speed_goal in (("referrals CSV", "/referrals/export.csv?days=all", True),
                                    ("referrals XLSX", "/referrals/export.xlsx?days=all", False),
                                    ("clients CSV", "/clients/export.csv?mine=0", True),
                                    ("clients XLSX", "/clients/export.xlsx?mine=0", False)):
        if args.only and args.only.lower() not in label.lower():
            continue
        started = time.perf_counter()
        size, lines = read(client, path)
        seconds = time.perf_counter() - started
        rows = lines - 1 if path.endswith("csv") or ".csv?" in path else args.rows
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        read(client, path)
        peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()
        rate = rows / seconds
        missed = []
        if speed_goal and rate < ROWS_GOAL:
            missed.append(f"rows/s < {ROWS_GOAL:,}")
        if peak >= MEMORY_GOAL_MB:
            missed.append(f"memory ≥ {MEMORY_GOAL_MB} MB")
        verdict = ("**missed: " + ", ".join(missed) + "**") if missed else "met"
        failures += [f"{label}: {m}" for m in missed]
        print(f"| {label} | {rows:,} | {size / 2**20:.1f} | {rate:,.0f} | {peak:.1f} | {verdict} |", flush=True)
    if failures:
        print("Goals missed: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
