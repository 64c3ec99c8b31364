"""Phone numbers stored also as shown in the business's country
(``clients.phone_shown``, ``clients.whatsapp_shown``, ``referrals.phone_shown``):
the exports formatted each E.164 number per row, 42-48 % of their time at 100,000
rows (issue 24, point 5). Filled here for the rows already there, business by
business, with the app's own formatting (``pymes.clients.services.shown_phone``); kept
in step afterwards by the flush hook beside it.

Revision ID: 0024
Revises: 0019b
Create Date: 2026-12-05 13:55:00

"""
from alembic import op
import sqlalchemy as sa


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


def downgrade():
    for table, numbers in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for number in numbers:
                batch_op.drop_column(f"{number}_shown")
