"""A logged visit or call remembers the business's calendar day it was logged on
(``activities.done_on``): "done on time" becomes a comparison of two dates that SQL can
count over (tenant_id, due_on) instead of reading every row to convert its time. Rows
already logged get the day of their ``done_at`` in their business's time zone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:47:00

"""
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_on', sa.Date(), nullable=True))

    bind = op.get_bind()
    activities = sa.table('activities', sa.column('id', sa.Integer), sa.column('tenant_id', sa.Integer),
                          sa.column('done_at', sa.DateTime(timezone=True)), sa.column('done_on', sa.Date))
    zones = dict(bind.execute(sa.text("SELECT id, timezone FROM businesses")).all())
    last = 0
    while True:
        rows = bind.execute(sa.select(activities.c.id, activities.c.tenant_id, activities.c.done_at)
                            .where(activities.c.done_at.is_not(None), activities.c.id > last)
                            .order_by(activities.c.id).limit(BATCH)).all()
        if not rows:
            break
        values = []
        for id_, tenant_id, done_at in rows:
            if isinstance(done_at, str):  # SQLite hands the stored text back as it is
                from datetime import datetime

                done_at = datetime.fromisoformat(done_at)
            if done_at.tzinfo is None:
                done_at = done_at.replace(tzinfo=UTC)
            day = done_at.astimezone(ZoneInfo(zones.get(tenant_id) or "UTC")).date()
            values.append({"row_id": id_, "day": day})
        bind.execute(sa.update(activities).where(activities.c.id == sa.bindparam("row_id"))
                     .values(done_on=sa.bindparam("day")), values)
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('done_on')
