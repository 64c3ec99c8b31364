"""Referral settings: the unguessable key of each business's public testimonial wall and
its reward policy; row-level security (PostgreSQL), with the identity read the public
wall needs to find the business from its key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 10:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('referral_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wall_key', sa.String(length=64), nullable=False),
    sa.Column('reward_kind', sa.String(length=16), nullable=False),
    sa.Column('reward_text', sa.String(length=500), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("reward_kind IN ('none', 'discount', 'gift', 'note')", name=op.f('ck_referral_settings_reward_kind')),
    sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'], name=op.f('fk_referral_settings_tenant_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_settings')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_referral_settings_tenant_id')),
    sa.UniqueConstraint('wall_key', name=op.f('uq_referral_settings_wall_key'))
    )
    with op.batch_alter_table('referral_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_settings_tenant_id'), ['tenant_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_statements("referral_settings", identity=True):
            op.execute(statement)


def downgrade():
    with op.batch_alter_table('referral_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_settings_tenant_id'))

    op.drop_table('referral_settings')
