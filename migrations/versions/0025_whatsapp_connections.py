"""A business's connected WhatsApp number (``whatsapp_connections``, one row per
business, row-level security; the access token sealed, issue 23).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 14:00:00

"""
import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'whatsapp_connections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phone_number_id', sa.String(length=32), nullable=False),
        sa.Column('business_account_id', sa.String(length=32), nullable=False),
        sa.Column('token_sealed', sa.Text(), nullable=False),
        sa.Column('display_phone_number', sa.String(length=40), nullable=False),
        sa.Column('verified_name', sa.String(length=200), nullable=False),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('connected_by_id', sa.Integer(), nullable=True),
        sa.Column('feedback_template', sa.String(length=512), nullable=False),
        sa.Column('template_language', sa.String(length=15), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("phone_number_id <> '' AND business_account_id <> '' AND token_sealed <> ''",
                           name=op.f('ck_whatsapp_connections_filled')),
        sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'],
                                name=op.f('fk_whatsapp_connections_tenant_id_businesses'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_whatsapp_connections')),
        sa.UniqueConstraint('tenant_id', name=op.f('uq_whatsapp_connections_tenant_id')),
    )
    with op.batch_alter_table('whatsapp_connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatsapp_connections_tenant_id'), ['tenant_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_statements("whatsapp_connections"):
            op.execute(statement)


def downgrade():
    with op.batch_alter_table('whatsapp_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whatsapp_connections_tenant_id'))
    op.drop_table('whatsapp_connections')
