"""The business's data version (``businesses.data_version``, bumped by every committed
change to its data; cached figures are keyed by it) and the index of the whole team's
open visits and calls by due date: the overdue count read every past item of the tenant
to keep the planned ones (70 ms at 10,000 clients), and of the clients who dropped a
tier (chosen from the query plans). And the columns of the composite foreign keys that
had no index (referrer, territory, portfolio of a client; the link of an answer): the
filters join on them, and SQLite checked every client for each deleted one without them
(emptying 20,000 clients took 38 s).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 00:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_tenant_status_due', ['tenant_id', 'status', 'due_on'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_tenant_dropped', ['tenant_id', 'tier_dropped_at'], unique=False)
        batch_op.create_index('ix_clients_tenant_referred_by', ['tenant_id', 'referred_by_id'], unique=False)
        batch_op.create_index('ix_clients_tenant_territory', ['tenant_id', 'territory_id'], unique=False)
        batch_op.create_index('ix_clients_tenant_portfolio', ['tenant_id', 'portfolio_id'], unique=False)

    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_responses_tenant_link', ['tenant_id', 'link_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_responses_tenant_link')

    with op.batch_alter_table('clients', schema=None) as batch_op:
        for name in ('ix_clients_tenant_portfolio', 'ix_clients_tenant_territory', 'ix_clients_tenant_referred_by',
                     'ix_clients_tenant_dropped'):
            batch_op.drop_index(name)

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_tenant_status_due')

    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.drop_column('data_version')
