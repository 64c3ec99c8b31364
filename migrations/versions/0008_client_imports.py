"""Client files waiting between their preview and their import (issue 3, import);
row-level security (PostgreSQL).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:14:43.758860

"""
import sqlalchemy as sa
from alembic import op

from pymes.tenancy import rls_statements

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('client_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('preview', 'imported')", name=op.f('ck_client_imports_status')),
    sa.ForeignKeyConstraint(['tenant_id', 'created_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_client_imports_tenant_id_created_by_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['businesses.id'], name=op.f('fk_client_imports_tenant_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_imports'))
    )
    with op.batch_alter_table('client_imports', schema=None) as batch_op:
        batch_op.create_index('ix_client_imports_tenant_created', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_imports_tenant_id'), ['tenant_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_statements("client_imports"):
            op.execute(statement)


def downgrade():
    with op.batch_alter_table('client_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_imports_tenant_id'))
        batch_op.drop_index('ix_client_imports_tenant_created')

    op.drop_table('client_imports')
