"""Client import at 10,000 rows (issue 17: preview in under 5 s, memory growth under
100 MB on this machine), through the real upload route (log-in, tenancy, CSRF) with
Flask's test client, on a fresh SQLite file (or BENCH_DATABASE_URL).

    .venv/bin/python bench/import.py                  # 10,000 rows, a Google Contacts-like CSV
    BENCH_ROWS=2000 .venv/bin/python bench/import.py

The file has the current Google Contacts headers (first, middle and last name, two
e-mails, two phones in " ::: " cells, an address with its parts, labels, birthday) plus a
Chilean shop's summary columns, so every row goes through the name, phone-type, notes,
date, amount and opening-balance rules. Each step is timed once without tracing, then
the upload is repeated under tracemalloc for the peak. Exits 1 when a goal is missed."""
from __future__ import annotations

import csv
import io
import os
import re
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PREVIEW_GOAL_S, MEMORY_GOAL_MB = 5.0, 100
EMAIL, PASSWORD = "import-owner@example.com", "import-password-2026"
FIRST = ["José", "María", "Ñandú", "Camila", "Tomás", "Sofía", "Andrés", "Isabel"]
LAST = ["Pérez", "Muñoz", "Núñez", "Rojas", "Fuentes", "Díaz", "Araya", "Sepúlveda"]


def make_file(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["First Name", "Middle Name", "Last Name", "Organization Name", "Birthday", "Labels",
                     "E-mail 1 - Value", "E-mail 2 - Value", "Phone 1 - Value", "Phone 2 - Value",
                     "Address 1 - Street", "Address 1 - City", "Address 1 - Country", "Última compra", "Monto",
                     "N° compras"])
    for i in range(rows):
        writer.writerow([FIRST[i % 8], "Luis" if i % 3 == 0 else "", f"{LAST[i % 8]} {i}", f"Empresa {i % 97}",
                         "1980-05-04", "* myContacts ::: Clientes", f"cliente{i}@example.com",
                         f"otro{i}@example.com" if i % 5 == 0 else "",
                         f"+56 9 8{i % 1000:03d} {i % 10000:04d} ::: +56 2 2{i % 1000:03d} {i % 10000:04d}",
                         "", f"Av. Siempre Viva {i}", "Providencia", "Chile", f"{1 + i % 28:02d}/11/2026",
                         f"${10000 + i:,}".replace(",", "."), str(1 + i % 12)])
    return buffer.getvalue().encode("utf-8")


def main() -> int:
    rows = int(os.environ.get("BENCH_ROWS", "10000"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench-import.sqlite3"
    os.environ["DATABASE_URL"] = url
    from flask_migrate import upgrade

    from pymes import create_app
    from pymes.accounts.models import Business, User
    from pymes.db import utcnow
    from pymes.extensions import db
    from pymes.security import hash_password
    from pymes.tenancy import bound

    app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        business = Business(name="Bench Import", country="CL", currency="CLP", timezone="America/Santiago",
                            language="es")
        db.session.add(business)
        db.session.flush()
        with bound(business.id):
            db.session.add(User(email=EMAIL, name="Dueña", password_hash=hash_password(PASSWORD), role="owner",
                                language="es", email_confirmed_at=utcnow()))
            db.session.commit()
    data = make_file(rows)
    http = app.test_client()

    def token(path):
        return re.search(r'name="csrf_token" value="([^"]+)"', http.get(path).get_data(as_text=True)).group(1)

    http.post("/login", data={"csrf_token": token("/login"), "email": EMAIL, "password": PASSWORD})

    def preview():
        started = time.perf_counter()
        response = http.post("/clients/import", data={"csrf_token": token("/clients/import"),
                                                       "file": (io.BytesIO(data), "contacts.csv")},
                             content_type="multipart/form-data")
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        page = http.get(response.headers["Location"])
        assert page.status_code == 200
        return time.perf_counter() - started, response.headers["Location"]

    seconds, location = preview()
    tracemalloc.start()
    preview()
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    done = http.post(location, data={"csrf_token": token(location)})
    confirm_s = time.perf_counter() - started
    assert done.status_code == 303, done.get_data(as_text=True)[:500]
    peak_mb = peak / 1024 / 1024
    print(f"import of {rows:,} rows ({len(data) / 1024:.0f} KB, {url.split(':')[0]}): preview {seconds:.2f} s "
          f"(goal < {PREVIEW_GOAL_S:.0f} s), peak memory growth {peak_mb:.0f} MB (goal < {MEMORY_GOAL_MB} MB), "
          f"confirm {confirm_s:.2f} s")
    return 0 if seconds < PREVIEW_GOAL_S and peak_mb < MEMORY_GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
