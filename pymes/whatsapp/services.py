"""Connecting and disconnecting a business's WhatsApp number. The token is checked with
Meta before anything is stored, and stored sealed (``pymes.sealing``, TOK-1)."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from .. import sealing
from ..db import utcnow
from ..extensions import db
from ..tenancy import require_tenant
from . import cloud_api
from .models import WhatsappConnection, WhatsappMessage, WhatsappTemplate

PURPOSE = "whatsapp token"
SECRET_PURPOSE = "whatsapp app secret"


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
    conn.verify_token = conn.verify_token or new_verify_token()
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


def new_verify_token() -> str:
    """The webhook handshake's verify token: random, one per connection (43 characters)."""
    return secrets.token_urlsafe(32)


def ensure_verify_token(conn: WhatsappConnection) -> str:
    """The connection's verify token, made now for a connection that predates it."""
    if not conn.verify_token:
        conn.verify_token = new_verify_token()
        db.session.commit()
    return conn.verify_token


def set_app_secret(conn: WhatsappConnection, app_secret: str) -> None:
    """Keep the Meta app's secret, sealed like the token: it checks the webhook's signatures."""
    conn.app_secret_sealed = sealing.seal(app_secret.strip(), SECRET_PURPOSE)
    db.session.commit()


def app_secret(conn: WhatsappConnection) -> str | None:
    """The app secret, or None when none was entered (or no configured key opens it)."""
    if not conn.app_secret_sealed:
        return None
    return sealing.unseal(conn.app_secret_sealed, SECRET_PURPOSE)


def templates() -> list[WhatsappTemplate]:
    return db.session.execute(select(WhatsappTemplate).order_by(WhatsappTemplate.purpose,
                                                                 WhatsappTemplate.language)).scalars().all()


def save_template(purpose: str, name: str, language: str) -> WhatsappTemplate:
    """One approved template per purpose and language (saving again replaces the name)."""
    language = language.strip()
    row = db.session.execute(select(WhatsappTemplate).where(WhatsappTemplate.purpose == purpose,
                                                            WhatsappTemplate.language == language)).scalar_one_or_none()
    row = row or WhatsappTemplate(purpose=purpose, language=language)
    row.name = name.strip()
    db.session.add(row)
    db.session.commit()
    return row


def delete_template(template_id: int) -> None:
    from ..tenancy import get_or_404

    db.session.delete(get_or_404(WhatsappTemplate, template_id))
    db.session.commit()


def unknown_messages(limit: int = 20) -> list[WhatsappMessage]:
    """The latest messages from numbers no client of the business has."""
    return db.session.execute(select(WhatsappMessage).where(
        WhatsappMessage.direction == "in", WhatsappMessage.client_id.is_(None))
        .order_by(WhatsappMessage.created_at.desc(), WhatsappMessage.id.desc()).limit(limit)).scalars().all()


def month_start():
    from datetime import datetime

    from ..i18n import business_timezone

    local = datetime.now(business_timezone())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage_this_month() -> dict[str, int]:
    """Messages sent this calendar month (the business's), per Meta's billing category."""
    from sqlalchemy import func

    rows = db.session.execute(select(WhatsappMessage.category, func.count())
                              .where(WhatsappMessage.direction == "out", WhatsappMessage.created_at >= month_start())
                              .group_by(WhatsappMessage.category)).all()
    usage: dict[str, int] = {}
    for category, count in rows:  # a message Meta has not billed yet counts as utility
        usage[category or "utility"] = usage.get(category or "utility", 0) + count
    return usage


def set_cap(conn: WhatsappConnection, cap: int | None) -> None:
    """The most messages the business sends per calendar month (None: no limit)."""
    conn.monthly_cap = cap
    db.session.commit()
