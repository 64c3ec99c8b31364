"""An outcome logged offline carries a key made on the phone (``activities.outcome_key``):
the service worker's outbox may send it again after a lost answer, and the server then
recognises it instead of recording it twice or refusing it (issue 21, point 2). Unique
per business; empty for outcomes logged online.

Revision ID: 0023
Revises: 0025
Create Date: 2026-12-05 14:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_key", sa.String(length=36), nullable=True))
        batch_op.create_index("uq_activities_outcome_key", ["tenant_id", "outcome_key"], unique=True)


def downgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("uq_activities_outcome_key")
        batch_op.drop_column("outcome_key")
