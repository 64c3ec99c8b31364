"""WhatsApp as a channel both ways (issue 23): the webhook's verify token and sealed app
secret, a monthly cap and the identity look-up on ``whatsapp_connections``; the
business's approved templates (``whatsapp_templates``); every message sent or received
(``whatsapp_messages``, unique Meta id per business); the client's opt-out
(``clients.whatsapp_opt_out_at``). Writes no rows.

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-05 17:10:00

"""
import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('whatsapp_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_secret_sealed', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('verify_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('monthly_cap', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_whatsapp_connections_verify_token'), ['verify_token'])
        batch_op.create_check_constraint(batch_op.f('ck_whatsapp_connections_monthly_cap'),
                                         'monthly_cap IS NULL OR monthly_cap >= 0')
        batch_op.create_index('ix_whatsapp_connections_phone_number_id', ['phone_number_id'], unique=False)
    with op.batch_alter_table('whatsapp_connections', schema=None) as batch_op:
        batch_op.alter_column('app_secret_sealed', server_default=None)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('whatsapp_opt_out_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        'whatsapp_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=24), nullable=False),
        sa.Column('name', sa.String(length=512), nullable=False),
        sa.Column('language', sa.String(length=15), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("purpose IN ('callback', 'complaint_ack', 'complaint_resolved')",
                           name=op.f('ck_whatsapp_templates_purpose')),
        sa.CheckConstraint("name <> '' AND language <> ''", name=op.f('ck_whatsapp_templates_filled')),
        sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'],
                                name=op.f('fk_whatsapp_templates_tenant_id_businesses'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_whatsapp_templates')),
        sa.UniqueConstraint('tenant_id', 'purpose', 'language',
                            name=op.f('uq_whatsapp_templates_tenant_id_purpose_language')),
    )
    with op.batch_alter_table('whatsapp_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatsapp_templates_tenant_id'), ['tenant_id'], unique=False)

    op.create_table(
        'whatsapp_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=True),
        sa.Column('direction', sa.String(length=4), nullable=False),
        sa.Column('wamid', sa.String(length=128), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('purpose', sa.String(length=24), nullable=True),
        sa.Column('category', sa.String(length=16), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error_code', sa.Integer(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_whatsapp_messages_direction')),
        sa.CheckConstraint("status IN ('received', 'accepted', 'sent', 'delivered', 'read', 'failed')",
                           name=op.f('ck_whatsapp_messages_status')),
        sa.CheckConstraint("category IS NULL OR category IN ('marketing', 'utility', 'authentication', 'service')",
                           name=op.f('ck_whatsapp_messages_category')),
        sa.CheckConstraint("wamid <> ''", name=op.f('ck_whatsapp_messages_wamid')),
        sa.ForeignKeyConstraint(['tenant_id', 'client_id'], ['clients.tenant_id', 'clients.id'],
                                name=op.f('fk_whatsapp_messages_tenant_id_client_id_clients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'],
                                name=op.f('fk_whatsapp_messages_tenant_id_businesses'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_whatsapp_messages')),
        sa.UniqueConstraint('tenant_id', 'wamid', name=op.f('uq_whatsapp_messages_tenant_id_wamid')),
    )
    with op.batch_alter_table('whatsapp_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatsapp_messages_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_whatsapp_messages_client', ['tenant_id', 'client_id', 'created_at'], unique=False)
        batch_op.create_index('ix_whatsapp_messages_month', ['tenant_id', 'direction', 'created_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # the webhook finds the connection by the receiving number before a tenant is bound
        op.execute("CREATE POLICY identity_lookup ON whatsapp_connections FOR SELECT "
                   "USING (current_setting('app.identity_lookup', true) = 'on')")
        for statement in rls_statements("whatsapp_templates") + rls_statements("whatsapp_messages"):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS identity_lookup ON whatsapp_connections")
    with op.batch_alter_table('whatsapp_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_whatsapp_messages_month')
        batch_op.drop_index('ix_whatsapp_messages_client')
        batch_op.drop_index(batch_op.f('ix_whatsapp_messages_tenant_id'))
    op.drop_table('whatsapp_messages')
    with op.batch_alter_table('whatsapp_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whatsapp_templates_tenant_id'))
    op.drop_table('whatsapp_templates')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('whatsapp_opt_out_at')
    with op.batch_alter_table('whatsapp_connections', schema=None) as batch_op:
        batch_op.drop_index('ix_whatsapp_connections_phone_number_id')
        batch_op.drop_constraint(batch_op.f('ck_whatsapp_connections_monthly_cap'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_whatsapp_connections_verify_token'), type_='unique')
        batch_op.drop_column('monthly_cap')
        batch_op.drop_column('verify_token')
        batch_op.drop_column('app_secret_sealed')
