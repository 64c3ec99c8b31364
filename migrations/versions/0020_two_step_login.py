"""Two-step log-in (TOTP): the encrypted secret, when it was turned on, the time step of
the last accepted code (no code twice) and, for owners, the moment it becomes required
(``users.mfa_*``); ten single-use recovery codes per user, stored hashed
(``recovery_codes``, row-level security). Owners already there get the grace period
from today.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-05 12:30:00

"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None

GRACE_DAYS = 14


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('mfa_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('mfa_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('mfa_due_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'],
                                name=op.f('fk_recovery_codes_tenant_id_user_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'], name=op.f('fk_recovery_codes_tenant_id_businesses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
        sa.UniqueConstraint('user_id', 'code_hash', name=op.f('uq_recovery_codes_user_id_code_hash')),
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)

    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for statement in rls_statements("recovery_codes"):
            op.execute(statement)
        # The owner of the tables runs the migrations and is bound by FORCE ROW LEVEL
        # SECURITY like the app: lifted for the one backfill below, then put back.
        op.execute("ALTER TABLE users NO FORCE ROW LEVEL SECURITY")
    due = datetime.now(UTC) + timedelta(days=GRACE_DAYS)
    op.get_bind().execute(
        sa.text("UPDATE users SET mfa_due_at = :due WHERE role = 'owner'")
        .bindparams(sa.bindparam("due", type_=sa.DateTime(timezone=True))), {"due": due})
    if postgres:
        op.execute("ALTER TABLE users FORCE ROW LEVEL SECURITY")


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
        batch_op.drop_index(batch_op.f('ix_recovery_codes_tenant_id'))
    op.drop_table('recovery_codes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column in ('mfa_due_at', 'mfa_last_step', 'mfa_enabled_at', 'mfa_secret'):
            batch_op.drop_column(column)
