"""Connecting and disconnecting a business's WhatsApp number. The token is checked with
Meta before anything is stored, and stored sealed (``pymes.sealing``, TOK-1)."""
from __future__ import annotations

from sqlalchemy import select

from .. import sealing
from ..db import utcnow
from ..extensions import db
from ..tenancy import require_tenant
from . import cloud_api
from .models import WhatsappConnection

PURPOSE = "whatsapp token"


def connection() -> WhatsappConnection | None:
    """The bound business's connection, or None (then WhatsApp means ``wa.me`` links)."""
    require_tenant()
    return db.session.execute(select(WhatsappConnection)).scalars().first()


def token(conn: WhatsappConnection) -> str | None:
    """The access token, opened with the app's keys; None if no configured key opens it."""
    return sealing.unseal(conn.token_sealed, PURPOSE)


def connect(*, phone_number_id: str, business_account_id: str, access_token: str, user_id: int | None
            ) -> WhatsappConnection:
    """Check the number and token with Meta, then store them (replacing an earlier
    connection). Raises ``cloud_api.WhatsAppError`` and stores nothing when Meta says no."""
    phone_number_id, business_account_id = phone_number_id.strip(), business_account_id.strip()
    access_token = access_token.strip()
    found = cloud_api.verify(phone_number_id, access_token)
    conn = connection() or WhatsappConnection()
    conn.phone_number_id = phone_number_id
    conn.business_account_id = business_account_id
    conn.token_sealed = sealing.seal(access_token, PURPOSE)
    conn.display_phone_number = found["display_phone_number"]
    conn.verified_name = found["verified_name"]
    conn.verified_at = utcnow()
    conn.connected_by_id = user_id
    db.session.add(conn)
    db.session.commit()
    return conn


def set_template(conn: WhatsappConnection, name: str, language: str) -> None:
    conn.feedback_template = name.strip()
    conn.template_language = language.strip() if conn.feedback_template else ""
    db.session.commit()


def disconnect() -> bool:
    """Delete the connection, token included. False when there was none."""
    conn = connection()
    if conn is None:
        return False
    db.session.delete(conn)
    db.session.commit()
    return True
