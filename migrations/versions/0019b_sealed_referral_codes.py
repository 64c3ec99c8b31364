"""Referral codes and testimonial wall keys never in plain text (issue 20, finding 10;
TOK-1): ``referral_codes.code`` becomes ``code_hash`` (SHA-256, what the public page
compares) and ``code_sealed`` (AES-GCM under a key from SECRET_KEY, what the client's
page shows again); ``referral_settings.wall_key`` likewise. Existing codes, already
printed on QR codes, keep working: their hash and sealed copy are computed here from the
running app's SECRET_KEY (``pymes.sealing``), then the plain column is dropped.

Revision ID: 0019b
Revises: 0021c
Create Date: 2026-12-05 13:05:00

"""
import hashlib

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019b'
down_revision = '0021c'
branch_labels = None
depends_on = None

TABLES = (("referral_codes", "code", "code_hash", "code_sealed", "referral code", "uq_referral_codes_code"),
          ("referral_settings", "wall_key", "wall_key_hash", "wall_key_sealed", "wall key",
           "uq_referral_settings_wall_key"))


def upgrade():
    from pymes.sealing import seal

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for table, plain, hashed, sealed, purpose, unique in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(hashed, sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column(sealed, sa.String(length=255), nullable=True))
        if postgres:  # the owner runs this; FORCE would hide every row from it
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        rows = bind.execute(sa.text(f"SELECT id, {plain} FROM {table}")).all()
        for row_id, value in rows:
            bind.execute(sa.text(f"UPDATE {table} SET {hashed} = :h, {sealed} = :s WHERE id = :id"),
                         {"h": hashlib.sha256(value.encode()).hexdigest(), "s": seal(value, purpose), "id": row_id})
        if postgres:
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(hashed, existing_type=sa.String(length=64), nullable=False)
            batch_op.alter_column(sealed, existing_type=sa.String(length=255), nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_{hashed}"), [hashed])
            batch_op.drop_constraint(unique, type_="unique")
            batch_op.drop_column(plain)


def downgrade():
    from pymes.sealing import unseal

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for table, plain, hashed, sealed, purpose, unique in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(plain, sa.String(length=64), nullable=True))
        if postgres:
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        for row_id, value in bind.execute(sa.text(f"SELECT id, {sealed} FROM {table}")).all():
            bind.execute(sa.text(f"UPDATE {table} SET {plain} = :p WHERE id = :id"),
                         {"p": unseal(value, purpose), "id": row_id})
        if postgres:
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(plain, existing_type=sa.String(length=64), nullable=False)
            batch_op.create_unique_constraint(unique, [plain])
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_{hashed}"), type_="unique")
            batch_op.drop_column(sealed)
            batch_op.drop_column(hashed)
