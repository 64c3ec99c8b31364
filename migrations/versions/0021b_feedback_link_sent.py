"""Feedback links record when they were actually sent and first opened (issue 19,
point 4): ``feedback_links.sent_at`` (e-mailed, handed over at the delivery, or sent from
the seller's phone by WhatsApp, copy or share) and ``opened_at`` (the customer first
opened the page). The response rate counts a link as sent when either is set or it was
answered (``feedback.models.link_was_sent``).

Existing links: e-mailed ones (by a person, the daily job or a complaint's follow-up)
and the kiosk's were sent when they were made; a link shared from the phone was sent
if it was answered, which the rule sees already. The others stay unknown (NULL): they
no longer count as sent.

Revision ID: 0021b
Revises: 0022
Create Date: 2026-12-05 13:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021b'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # the owner runs this; FORCE would hide every row from it (the UPDATE would change none)
        op.execute("ALTER TABLE feedback_links NO FORCE ROW LEVEL SECURITY")
    op.execute("UPDATE feedback_links SET sent_at = created_at WHERE sent_by IN ('email', 'auto', 'kiosk')")
    if postgres:
        op.execute("ALTER TABLE feedback_links FORCE ROW LEVEL SECURITY")


def downgrade():
    with op.batch_alter_table('feedback_links', schema=None) as batch_op:
        batch_op.drop_column('opened_at')
        batch_op.drop_column('sent_at')
