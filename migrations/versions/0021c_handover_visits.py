"""Handover visits (issue 19, point 3; rule 10): ``activities.purpose`` may be
'handover', the visit the new seller makes when a client's seller leaves the team or
the client changes hands.

Revision ID: 0021c
Revises: 0021b
Create Date: 2026-12-05 14:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021c'
down_revision = '0021b'
branch_labels = None
depends_on = None

OLD = "purpose IN ('delivery', 'follow_up', 'check_in', 'callback', 'other')"
NEW = "purpose IN ('delivery', 'follow_up', 'check_in', 'callback', 'handover', 'other')"


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_activities_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_activities_purpose'), NEW)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # the owner runs this; FORCE would hide every row from it
        op.execute("ALTER TABLE activities NO FORCE ROW LEVEL SECURITY")
    op.execute("UPDATE activities SET purpose = 'other' WHERE purpose = 'handover'")
    if postgres:
        op.execute("ALTER TABLE activities FORCE ROW LEVEL SECURITY")
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_activities_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_activities_purpose'), OLD)
