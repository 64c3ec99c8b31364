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
