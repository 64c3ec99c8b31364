"""The owner's activity log (``audit_events``, row-level security): log-ins with device
and address, failed log-ins, role changes, invitations, exports and imports, deletions
and restores, billing changes. A trigger refuses every UPDATE of a row, on PostgreSQL
and on SQLite alike: the log is written once and never changed.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-05 13:00:00

"""
import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_name', sa.String(length=120), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('details', sa.JSON(), nullable=True),
        sa.Column('ip', sa.String(length=45), nullable=False),
        sa.Column('device', sa.String(length=120), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'], name=op.f('fk_audit_events_tenant_id_businesses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_tenant_created', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_tenant_id'), ['tenant_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_statements("audit_events"):
            op.execute(statement)
        op.execute("CREATE FUNCTION audit_events_never_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION 'the activity log is never changed'; END $$")
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_never_change()")
    else:
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'the activity log is never changed'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_never_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_tenant_id'))
        batch_op.drop_index('ix_audit_events_tenant_created')
    op.drop_table('audit_events')
