"""The loyalty ladder's own-rhythm thresholds (issue 19, article 001): a client is
regular by their own rhythm when their last ``rhythm_min_purchases`` purchases span a
year or more with every gap within ``rhythm_tolerance_percent`` of the average gap.
Editable per business like the other thresholds; existing businesses get the defaults
(3 purchases, 25 %).

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-05 13:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loyalty_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rhythm_min_purchases', sa.Integer(), nullable=False, server_default='3'))
        batch_op.add_column(sa.Column('rhythm_tolerance_percent', sa.Integer(), nullable=False,
                                      server_default='25'))
        batch_op.create_check_constraint(
            op.f('ck_loyalty_settings_rhythm'),
            "rhythm_min_purchases BETWEEN 2 AND 50 AND rhythm_tolerance_percent BETWEEN 0 AND 100")


def downgrade():
    with op.batch_alter_table('loyalty_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_loyalty_settings_rhythm'), type_='check')
        batch_op.drop_column('rhythm_tolerance_percent')
        batch_op.drop_column('rhythm_min_purchases')
