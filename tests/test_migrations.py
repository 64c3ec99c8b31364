"""DATA-4: the migrations build the schema from empty and the models match it."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from pymes import create_app
from pymes.extensions import db


def test_models_match_the_migrated_schema(database):
    _url, owner = database
    with owner.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_downgrade_upgrade_from_empty_on_sqlite(tmp_path):
    from flask_migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert {"businesses", "users", "invitations", "tokens", "user_sessions"} <= set(
            inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_every_tenant_table_has_an_indexed_not_null_tenant_id(database):
    _url, owner = database
    inspector = inspect(owner)
    for table in inspector.get_table_names():
        columns = {c["name"]: c for c in inspector.get_columns(table)}
        if "tenant_id" not in columns:
            continue
        assert columns["tenant_id"]["nullable"] is False, table
        indexed = [ix for ix in inspector.get_indexes(table) if ix["column_names"][:1] == ["tenant_id"]]
        unique = [uq for uq in inspector.get_unique_constraints(table) if uq["column_names"][:1] == ["tenant_id"]]
        assert indexed or unique, f"{table}.tenant_id is not indexed"


def test_0014_gives_logged_contacts_the_business_s_day(tmp_path):
    """A call logged at 02:30 UTC on 2 December was logged on 1 December in Santiago and
    on 2 December in Madrid: the backfill uses each business's zone."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'done_on.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as conn:
            for bid, zone in ((1, "America/Santiago"), (2, "Europe/Madrid")):
                conn.execute(text("INSERT INTO businesses (id, name, country, currency, timezone, language, "
                                  "sellers_see_only_own, created_at, updated_at) VALUES (:id, 'B', 'CL', 'CLP', :z, "
                                  "'es', 0, '2026-01-01', '2026-01-01')"), {"id": bid, "z": zone})
                conn.execute(text("INSERT INTO clients (id, tenant_id, kind, name, company, tax_id, address, notes, "
                                  "is_key, tier_override_reason, sales_count, revenue_12m, created_at, updated_at) "
                                  "VALUES (:id, :t, 'client', 'C', '', '', '', '', 0, '', 0, 0, '2026-01-01', "
                                  "'2026-01-01')"), {"id": bid, "t": bid})
                conn.execute(text("INSERT INTO activities (tenant_id, client_id, kind, purpose, due_on, status, notes, "
                                  "opportunity, done_at, created_at, updated_at) VALUES (:t, :t, 'call', 'follow_up', "
                                  "'2026-12-01', 'done', '', 0, '2026-12-02 02:30:00.000000+00:00', '2026-01-01', "
                                  "'2026-01-01')"), {"t": bid})
        upgrade()
        with db.engine.connect() as conn:
            days = dict(conn.execute(text("SELECT tenant_id, done_on FROM activities")).all())
        db.engine.dispose()
    assert {k: str(v) for k, v in days.items()} == {1: "2026-12-01", 2: "2026-12-02"}


def test_migrations_that_write_rows_lift_forced_row_level_security_while_they_write():
    """TEN-1 / DATA-4: migrations run as the tables' owner, and FORCE ROW LEVEL SECURITY
    binds the owner too: with no tenant set, an UPDATE in a migration changes no row on
    PostgreSQL, silently (0014's done_on, 0016's callback channels and 0021b's sent links
    did so; 0024 fills what 0014 left). A migration that writes rows says NO FORCE … and
    FORCE … around the writes. 0014 is frozen (landed before this rule)."""
    import re
    from pathlib import Path

    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    writes = re.compile(r"\b(UPDATE|INSERT INTO|DELETE FROM)\s+[a-z_]+\b|sa\.(update|insert|delete)\(")
    offenders = []
    for path in sorted(versions.glob("*.py")):
        if path.name.startswith("0014_"):
            continue
        code = path.read_text()
        code_only = re.sub(r'"""(.|\n)*?"""', "", code)  # docstrings mention UPDATE in prose
        code_only = re.sub(r"CREATE TRIGGER[^\n]*\n[^\n]*", "", code_only)  # a trigger's definition writes nothing
        if writes.search(code_only) and not ("NO FORCE ROW LEVEL SECURITY" in code and
                                             re.search(r"[^O] FORCE ROW LEVEL SECURITY", code)):
            offenders.append(path.name)
    assert offenders == []
