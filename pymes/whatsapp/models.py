"""A business's connected WhatsApp number (at most one row per business), its approved
templates, and every message sent or received through it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
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
    feedback request goes out with (empty: it keeps going by e-mail).

    The webhook (``whatsapp.webhook``): ``verify_token`` answers Meta's handshake and
    ``app_secret_sealed`` (sealed like the token) checks each delivery's signature.
    An identity model: the webhook finds the business from the receiving number's id
    inside ``identity_lookup()`` before any tenant is bound, then binds it (TEN-1).

    ``monthly_cap``: at most that many messages sent per calendar month (None: no cap)."""

    __tablename__ = "whatsapp_connections"
    __tenant_identity__ = True
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        UniqueConstraint("verify_token"),
        Index("ix_whatsapp_connections_phone_number_id", "phone_number_id"),
        CheckConstraint("monthly_cap IS NULL OR monthly_cap >= 0", name="monthly_cap"),
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
    app_secret_sealed: Mapped[str] = mapped_column(Text, default="", info={"export": False})  # a secret
    verify_token: Mapped[str | None] = mapped_column(String(64), info={"export": False})
    monthly_cap: Mapped[int | None] = mapped_column(Integer)


PURPOSES = ("callback", "complaint_ack", "complaint_resolved")


class WhatsappTemplate(TenantScoped, db.Model):
    """An approved template the business named for one purpose and one language. The
    body parameters, in order, are those ``whatsapp.messaging.TEMPLATE_PARAMETERS`` lists."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "purpose", "language"),
        CheckConstraint("purpose IN ('callback', 'complaint_ack', 'complaint_resolved')", name="purpose"),
        CheckConstraint("name <> '' AND language <> ''", name="filled"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(15))


DIRECTIONS = ("in", "out")
STATUSES = ("received", "accepted", "sent", "delivered", "read", "failed")
CATEGORIES = ("marketing", "utility", "authentication", "service")


class WhatsappMessage(TenantScoped, TimestampMixin, db.Model):
    """One message through the connected number: sent by the application (``out``: its
    status follows Meta's webhook, never backwards) or received (``in``: on the client's
    timeline; ``client_id`` None when no client of the business has that number).
    ``wamid`` is Meta's message id: unique per business, so a replayed delivery of the
    same message is stored once."""

    __tablename__ = "whatsapp_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "wamid"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        CheckConstraint("status IN ('received', 'accepted', 'sent', 'delivered', 'read', 'failed')", name="status"),
        CheckConstraint("category IS NULL OR category IN ('marketing', 'utility', 'authentication', 'service')",
                        name="category"),
        CheckConstraint("wamid <> ''", name="wamid"),
        Index("ix_whatsapp_messages_client", "tenant_id", "client_id", "created_at"),
        Index("ix_whatsapp_messages_month", "tenant_id", "direction", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(4))
    wamid: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(20), default="")  # the other party, E.164
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text, template, image, ...
    purpose: Mapped[str | None] = mapped_column(String(24))  # feedback, callback, complaint_ack, ...
    category: Mapped[str | None] = mapped_column(String(16))  # what Meta bills it as
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="accepted")
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_code: Mapped[int | None] = mapped_column(Integer)
