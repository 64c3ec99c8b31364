"""Client import: opening balances from a shop's summary columns (``client_openings``,
row-level security), the remembered column mapping (``headers_key``,
``mapping_chosen``) and undo (``undo``, ``undone_at``, ``undone_by_id``) on
``client_imports``.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-05 09:30:00

"""
import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'client_openings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=True),
        sa.Column('purchases', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=8), nullable=False),
        sa.Column('first_purchase_on', sa.Date(), nullable=True),
        sa.Column('last_purchase_on', sa.Date(), nullable=False),
        sa.Column('total_amount', sa.BigInteger(), nullable=True),
        sa.Column('total_period', sa.String(length=8), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("period IN ('ever', '12m')", name=op.f('ck_client_openings_period')),
        sa.CheckConstraint("total_period IS NULL OR total_period IN ('ever', '12m')",
                           name=op.f('ck_client_openings_total_period')),
        sa.CheckConstraint('purchases > 0', name=op.f('ck_client_openings_purchases')),
        sa.CheckConstraint('first_purchase_on IS NULL OR first_purchase_on <= last_purchase_on',
                           name=op.f('ck_client_openings_dates')),
        sa.ForeignKeyConstraint(['tenant_id', 'client_id'], ['clients.tenant_id', 'clients.id'],
                                name=op.f('fk_client_openings_tenant_id_client_id_clients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'], name=op.f('fk_client_openings_tenant_id_businesses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_client_openings')),
        sa.UniqueConstraint('tenant_id', 'client_id', name=op.f('uq_client_openings_tenant_id_client_id')),
    )
    with op.batch_alter_table('client_openings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_openings_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('client_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('mapping_chosen', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('undo', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('undone_by_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_client_imports_tenant_headers', ['tenant_id', 'headers_key'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_statements("client_openings"):
            op.execute(statement)


def downgrade():
    with op.batch_alter_table('client_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_client_imports_tenant_headers')
        for column in ('undone_by_id', 'undone_at', 'undo', 'mapping_chosen', 'headers_key'):
            batch_op.drop_column(column)
    with op.batch_alter_table('client_openings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_openings_tenant_id'))
    op.drop_table('client_openings')
