"""TEN-5: PostgreSQL row-level security, on its own, keeps tenants apart."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from pymes import create_app
from pymes.extensions import db

from ..factories import login

pytestmark = pytest.mark.postgres

IDENTITY_OR_GLOBAL = {"tokens"}  # installation-wide lookup of hashes, no business data


@pytest.fixture
def pg(database):
    app_url, owner = database
    if owner.dialect.name != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature (TEST_DATABASE_URL)")
    return app_url, owner


def test_rls_is_enabled_and_forced_on_every_tenant_table(pg):
    _url, owner = pg
    with owner.connect() as conn:
        tables = conn.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN information_schema.columns col ON col.table_name = c.relname AND col.column_name = 'tenant_id' "
            "WHERE c.relkind = 'r' AND col.table_schema = 'public'")).all()
    checked = [t for t in tables if t.relname not in IDENTITY_OR_GLOBAL]
    assert len(checked) >= 10
    for name, enabled, forced in checked:
        assert enabled and forced, name


def test_the_app_role_cannot_bypass_rls(pg):
    app_url, _owner = pg
    engine = create_engine(app_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    engine.dispose()
    assert row == (False, False)


def test_raw_connection_sees_only_the_tenant_it_sets(pg, make):
    app_url, _owner = pg
    a, a_owner, _m, _s = make.team()
    b, b_owner, _bm, _bs = make.team()
    engine = create_engine(app_url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a.id)})
        tenants = set(conn.execute(text("SELECT DISTINCT tenant_id FROM users")).scalars())
        assert tenants == {a.id}
    with engine.connect() as conn:
        trans = conn.begin()
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a.id)})
        with pytest.raises(DBAPIError, match="row-level security"):
            conn.execute(text("INSERT INTO territories (tenant_id, name, description, created_at, updated_at) "
                              "VALUES (:b, 'intrusa', '', now(), now())"), {"b": b.id})
        trans.rollback()
    engine.dispose()


def test_a_thousand_alternating_requests_on_one_connection(pg, make, tmp_path):
    app_url, _owner = pg
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app_url, "MAIL_OUTBOX_DIR": str(tmp_path),
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
                      "RATELIMIT_ENABLED": False})
    a, a_owner, a_manager, a_seller = make.team("Alfa")
    b, b_owner, b_manager, b_seller = make.team("Beta")
    clients = {}
    for owner in (a_owner, b_owner):
        http = app.test_client()
        login(http, owner.email)
        clients[owner.email] = http
    wrong = 0
    expected = {a_owner.email: ({a_owner.name, a_manager.name, a_seller.name}, {b_owner.name, b_manager.name}),
                b_owner.email: ({b_owner.name, b_manager.name, b_seller.name}, {a_owner.name, a_manager.name})}
    for i in range(1000):
        email = a_owner.email if i % 2 == 0 else b_owner.email
        html = clients[email].get("/team").get_data(as_text=True)
        mine, theirs = expected[email]
        wrong += sum(1 for name in theirs if name in html)
        assert all(name in html for name in mine)
    with app.app_context():
        db.engine.dispose()
    assert wrong == 0
