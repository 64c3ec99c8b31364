"""Stripe events in any order (issue 20, finding 2; PAY-3): ``stripe_subscriptions``,
one line per Stripe subscription a business has had, as the newest event about it told
(row-level security). The business's ``subscriptions`` row is derived from these lines.
Existing rows join lazily: the first event after the upgrade copies the stored current
subscription into its line (``billing.services._seed_ledger``), so nothing is read
across tenants here.

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-05 13:00:00

"""
import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0020'
branch_labels = None
depends_on = None

STATUSES = ('trialing', 'incomplete', 'incomplete_expired', 'active', 'past_due', 'unpaid', 'canceled', 'paused')


def upgrade():
    op.create_table(
        'stripe_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('price_id', sa.String(length=255), nullable=True),
        sa.Column('trial_end', sa.DateTime(timezone=True), nullable=True),
        sa.Column('current_period_end', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
        sa.Column('past_due_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN (" + ", ".join(repr(s) for s in STATUSES) + ")",
                           name=op.f('ck_stripe_subscriptions_status')),
        sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'],
                                name=op.f('fk_stripe_subscriptions_tenant_id_businesses'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_subscriptions')),
        sa.UniqueConstraint('tenant_id', 'subscription_id',
                            name=op.f('uq_stripe_subscriptions_tenant_id_subscription_id')),
    )
    with op.batch_alter_table('stripe_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_subscriptions_tenant_id'), ['tenant_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_statements("stripe_subscriptions"):
            op.execute(statement)


def downgrade():
    with op.batch_alter_table('stripe_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_subscriptions_tenant_id'))
    op.drop_table('stripe_subscriptions')
