"""Phone numbers stored also as shown in the business's country
(``clients.phone_shown``, ``clients.whatsapp_shown``, ``referrals.phone_shown``):
the exports formatted each E.164 number per row, 42-48 % of their time at 100,000
rows (issue 24, point 5). Filled here for the rows already there, business by
business, with the app's own formatting (``pymes.clients.services.shown_phone``); kept
in step afterwards by the flush hook beside it.

Also fills ``activities.done_on`` where 0014 could not: it wrote as the owner under
FORCE ROW LEVEL SECURITY, which hides every row from the owner on PostgreSQL, so rows
logged before 0014 kept an empty ``done_on`` there (SQLite has no such policy).

Revision ID: 0024
Revises: 0019b
Create Date: 2026-12-05 13:55:00

"""
from datetime import UTC

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0019b'
branch_labels = None
depends_on = None

COLUMNS = (("clients", ("phone", "whatsapp")), ("referrals", ("phone",)))


def upgrade():
    from pymes.clients.services import shown_phone

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for table, numbers in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for number in numbers:
                batch_op.add_column(sa.Column(f"{number}_shown", sa.String(length=40), nullable=True))
        if postgres:  # the owner runs this; FORCE would hide every row from it
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        countries = dict(bind.execute(sa.text("SELECT id, country FROM businesses")).all())
        for number in numbers:
            rows = bind.execute(sa.text(f"SELECT id, tenant_id, {number} FROM {table} WHERE {number} IS NOT NULL")).all()
            values = [{"id": row_id, "shown": shown_phone(value, countries.get(tenant, ""))}
                      for row_id, tenant, value in rows]
            for start in range(0, len(values), 1000):
                bind.execute(sa.text(f"UPDATE {table} SET {number}_shown = :shown WHERE id = :id"),
                             values[start:start + 1000])
        if postgres:
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    _fill_done_on(bind, postgres)


def _fill_done_on(bind, postgres: bool) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if postgres:
        op.execute("ALTER TABLE activities NO FORCE ROW LEVEL SECURITY")
    zones = dict(bind.execute(sa.text("SELECT id, timezone FROM businesses")).all())
    rows = bind.execute(sa.text("SELECT id, tenant_id, done_at FROM activities "
                                "WHERE done_at IS NOT NULL AND done_on IS NULL")).all()
    values = []
    for row_id, tenant, done_at in rows:
        if isinstance(done_at, str):
            done_at = datetime.fromisoformat(done_at)
        if done_at.tzinfo is None:
            done_at = done_at.replace(tzinfo=UTC)
        values.append({"id": row_id, "day": done_at.astimezone(ZoneInfo(zones.get(tenant) or "UTC")).date()})
    for start in range(0, len(values), 1000):
        bind.execute(sa.text("UPDATE activities SET done_on = :day WHERE id = :id"), values[start:start + 1000])
    if postgres:
        op.execute("ALTER TABLE activities FORCE ROW LEVEL SECURITY")


def downgrade():
    for table, numbers in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for number in numbers:
                batch_op.drop_column(f"{number}_shown")
