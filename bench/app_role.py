"""The role the app connects as in production, for the benchmark: it owns nothing and
cannot bypass row-level security (the migrations and the data build run as the URL's
owner role). Creates it (or refreshes its grants) and prints the app's database URL.

    .venv/bin/python bench/app_role.py postgresql+psycopg://postgres@127.0.0.1/bench"""
from __future__ import annotations

import sys

from sqlalchemy import create_engine, make_url, text

ROLE = "pymes_bench_app"


def main(owner_url: str) -> str:
    engine = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).first():
            conn.execute(text(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {ROLE}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}"))
        bypass = conn.execute(text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = :r"),
                              {"r": ROLE}).scalar_one()
    engine.dispose()
    if bypass:
        raise SystemExit(f"{ROLE} can bypass row-level security: the benchmark would not measure production")
    return make_url(owner_url).set(username=ROLE, password=None).render_as_string(hide_password=False)


if __name__ == "__main__":
    print(main(sys.argv[1]))
