"""The weekly key-client radar's log (``radar_log``: one row per owner and ISO week,
row-level security; issue 23, point 4).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 17:20:00

"""
import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'radar_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('week_of', sa.Date(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'],
                                name=op.f('fk_radar_log_tenant_id_user_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'], name=op.f('fk_radar_log_tenant_id_businesses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_radar_log')),
        sa.UniqueConstraint('tenant_id', 'user_id', 'week_of', name=op.f('uq_radar_log_tenant_id_user_id_week_of')),
    )
    with op.batch_alter_table('radar_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_radar_log_tenant_id'), ['tenant_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_statements("radar_log"):
            op.execute(statement)


def downgrade():
    with op.batch_alter_table('radar_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_radar_log_tenant_id'))
    op.drop_table('radar_log')
