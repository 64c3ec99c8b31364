"""Test fixtures.

The schema is built once per run by the real migrations, on SQLite (a temporary
file, so a live server thread shares it) or on PostgreSQL when TEST_DATABASE_URL is
set. On PostgreSQL the migrations run as the URL's (owner) role and the app connects
as ``pymes_app``, a role that owns nothing and cannot bypass row-level security,
exactly as in production. Code under test commits for real; after each test every
table is emptied by the owner connection."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pymes import create_app
from pymes.extensions import db as _db
from pymes.mail import read_outbox

from . import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker process gets a PostgreSQL database of its own
    (``test_gw0``, ``test_gw1``…, created beside the given one when missing): the
    session fixture drops and rebuilds its schema."""
    from sqlalchemy import create_engine as _engine
    from sqlalchemy import make_url as _url
    from sqlalchemy import text as _text

    base = _url(url)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    name = f"{base.database}_{worker}"
    admin = _engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(_text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(_text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


if TEST_DATABASE_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    TEST_DATABASE_URL = _worker_database(TEST_DATABASE_URL, os.environ["PYTEST_XDIST_WORKER"])
APP_ROLE = "pymes_app"


class _SharedBytecode(BytecodeCache):
    """Every test builds a fresh app, and each fresh Jinja environment would compile
    every template again (most of the crawl tests' time). Compiled templates are shared
    across the run, in memory, keyed by template name and source checksum."""

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """(app_url, owner_engine) for a freshly migrated database."""
    if TEST_DATABASE_URL:
        owner_url = make_url(TEST_DATABASE_URL)
        if owner_url.drivername == "postgresql":
            owner_url = owner_url.set(drivername="postgresql+psycopg")
        owner = create_engine(owner_url, isolation_level="AUTOCOMMIT")
        with owner.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).first()
            if not exists:
                try:
                    conn.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
                except Exception:  # noqa: BLE001 - another xdist worker created it (roles are cluster-wide)
                    if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).first():
                        raise
        _upgrade(owner_url.render_as_string(hide_password=False))
        with owner.connect() as conn:
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}"))
            conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"))
            conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}"))
        app_url = owner_url.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
    else:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        app_url = f"sqlite:///{path}"
        _upgrade(app_url)
        owner = create_engine(app_url)
    yield app_url, owner
    owner.dispose()


def _empty_tables(owner) -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)] + ["alembic_version"][:0]
    with owner.begin() as conn:
        for name in tables:
            conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def app_overrides():
    """Extra settings for the ``app`` fixture; a test package overrides this fixture
    (tests/billing switches billing on with test keys)."""
    return {}


@pytest.fixture
def app(database, tmp_path, app_overrides):
    app_url, owner = database
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app_url,
        "SECRET_KEY": "test-secret-key-with-enough-length-0123456789",
        "BASE_URL": "http://fideliza.test",
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "REDIS_URL": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        **app_overrides,
    })
    app.jinja_env.bytecode_cache = _BYTECODE
    from pymes.extensions import limiter

    with app.app_context():
        limiter.reset()
    limiter.enabled = True  # a test may have switched the shared limiter off
    # A test with Redis down leaves the shared limiter on its in-memory fallback, whose
    # counts reset() does not clear and which hands back to the main storage at a moment
    # of its own choosing: a later test's counts would jump between the two.
    limiter._storage_dead = False
    yield app
    with app.app_context():
        _db.session.remove()
        for engine in _db.engines.values():
            engine.dispose()
    _empty_tables(owner)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outbox(app):
    """The e-mails the app has written to its local outbox, oldest first."""

    class Outbox:
        def messages(self):
            return read_outbox(app.config["MAIL_OUTBOX_DIR"])

        def last(self, to: str | None = None):
            found = [m for m in self.messages() if to is None or m["To"] == to]
            assert found, f"no e-mail to {to!r} in the outbox"
            return found[-1]

        def link(self, to: str | None = None, path_part: str = "") -> str:
            body = self.last(to).get_body(preferencelist=("plain",)).get_content()
            links = [u for u in re.findall(r"https?://\S+", body) if path_part in u]
            assert links, f"no link containing {path_part!r} in: {body}"
            return links[0]

    return Outbox()


@pytest.fixture
def make(app):
    """Factories bound to this app: ``make.business()``, ``make.user(business, ...)``."""
    return factories.Factory(app)


def pytest_configure(config):
    Path("test-artifacts").mkdir(exist_ok=True)
