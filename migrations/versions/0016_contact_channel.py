"""The channel and time window a client asked to be contacted in, on the contact itself
(``activities.channel``, ``activities.time_window``: a WhatsApp callback in the evening
was a "call" with the channel written in its notes), and the number or address a
customer typed on the feedback page because the business had none
(``feedback_responses.given_contact``). Callbacks already planned get the channel and
window of the answer that asked for them.

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-05 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0017'
branch_labels = None
depends_on = None

_ANSWER = ("SELECT r.{column} FROM feedback_responses r WHERE r.tenant_id = activities.tenant_id "
           "AND r.client_id = activities.client_id AND r.callback_channel IS NOT NULL "
           "AND r.created_at <= activities.created_at ORDER BY r.created_at DESC, r.id DESC LIMIT 1")


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('time_window', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(op.f('ck_activities_channel'),
                                         "channel IS NULL OR channel IN ('whatsapp', 'phone', 'email', 'visit')")
        batch_op.create_check_constraint(
            op.f('ck_activities_time_window'),
            "time_window IS NULL OR time_window IN ('morning', 'midday', 'afternoon', 'evening', 'any')")

    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('given_contact', sa.String(length=300), nullable=True))

    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # the owner runs this; FORCE would hide every row of both tables from it
        for table in ("activities", "feedback_responses"):
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"UPDATE activities SET channel = ({_ANSWER.format(column='callback_channel')}), "
               f"time_window = ({_ANSWER.format(column='callback_window')}) "
               "WHERE purpose = 'callback' AND channel IS NULL")
    if postgres:
        for table in ("activities", "feedback_responses"):
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade():
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.drop_column('given_contact')

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_activities_time_window'), type_='check')
        batch_op.drop_constraint(op.f('ck_activities_channel'), type_='check')
        batch_op.drop_column('time_window')
        batch_op.drop_column('channel')
