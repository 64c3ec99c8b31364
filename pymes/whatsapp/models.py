"""A business's connected WhatsApp number: at most one row per business."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, UTCDateTime, utcnow
from ..extensions import db
from ..tenancy import TenantScoped


class WhatsappConnection(TenantScoped, TimestampMixin, db.Model):
    """The Cloud API's identifiers of the number, what Meta said about it when it was
    checked, and the access token, sealed (``token_sealed``: AES-256-GCM under a key
    derived from SECRET_KEY, ``pymes.sealing``; never the token itself). Disconnecting
    deletes the row, token included.

    ``feedback_template``/``template_language``: the approved template the automatic
    feedback request goes out with (empty: it keeps going by e-mail)."""

    __tablename__ = "whatsapp_connections"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("phone_number_id <> '' AND business_account_id <> '' AND token_sealed <> ''", name="filled"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_number_id: Mapped[str] = mapped_column(String(32))
    business_account_id: Mapped[str] = mapped_column(String(32))
    token_sealed: Mapped[str] = mapped_column(Text, info={"export": False})  # a secret: not in the export
    display_phone_number: Mapped[str] = mapped_column(String(40), default="")
    verified_name: Mapped[str] = mapped_column(String(200), default="")
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    connected_by_id: Mapped[int | None] = mapped_column(Integer)
    feedback_template: Mapped[str] = mapped_column(String(512), default="")
    template_language: Mapped[str] = mapped_column(String(15), default="")
