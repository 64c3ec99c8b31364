"""Feedback links and answers. The link's secret lives hashed in ``tokens`` (purpose
``feedback``), which also carries its expiry and revocation; one answer per link is a
unique key, not a check."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, UTCDateTime
from ..extensions import db
from ..tenancy import TenantScoped


class FeedbackLink(TenantScoped, TimestampMixin, db.Model):
    __tablename__ = "feedback_links"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "created_by_id"], ["users.tenant_id", "users.id"]),
        Index("ix_feedback_links_tenant_client", "tenant_id", "client_id"),
        Index("ix_feedback_links_tenant_sale", "tenant_id", "sale_id"),
        Index("ix_feedback_links_tenant_created", "tenant_id", "created_at"),  # response rate per period and month
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer)
    sale_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    sent_by: Mapped[str] = mapped_column(String(16), default="link")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # when it left: e-mailed (by a person or a job), handed over at the delivery (kiosk), or
    # sent from the seller's phone (WhatsApp, copy, share sheet); None: made, maybe never sent
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the customer first opened the page


def link_was_sent(answer_id):
    """The rule every "links sent" figure follows: a link counts as sent when it was
    e-mailed, handed over or shared from the seller's phone (``sent_at``), when the
    customer opened it (``opened_at``) or when it was answered (``answer_id`` is the
    joined ``FeedbackResponse.id``). A link made and never shared is not "sent": it
    cannot lower the response rate."""
    from sqlalchemy import or_

    return or_(FeedbackLink.sent_at.is_not(None), FeedbackLink.opened_at.is_not(None), answer_id.is_not(None))


class FeedbackResponse(TenantScoped, TimestampMixin, db.Model):
    """The customer's answer: a 0-10 score (NPS), a comment, maybe a callback request."""

    __tablename__ = "feedback_responses"
    __table_args__ = (
        UniqueConstraint("link_id"),  # TOK-2: one answer per link, decided by the database
        ForeignKeyConstraint(["tenant_id", "link_id"], ["feedback_links.tenant_id", "feedback_links.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        CheckConstraint("score BETWEEN 0 AND 10", name="score"),
        CheckConstraint("callback_channel IS NULL OR callback_channel IN ('whatsapp', 'phone', 'email', 'visit')",
                        name="channel"),
        Index("ix_feedback_responses_tenant_created", "tenant_id", "created_at"),
        Index("ix_feedback_responses_tenant_client", "tenant_id", "client_id"),
        Index("ix_feedback_responses_tenant_link", "tenant_id", "link_id"),  # its composite foreign key
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    callback: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_channel: Mapped[str | None] = mapped_column(String(16))
    callback_window: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(5), default="es")
    # the number or address the customer typed because the business had none for the
    # channel they chose (it was saved on the client too; the timeline says it came from them)
    given_contact: Mapped[str | None] = mapped_column(String(300))


class FeedbackSettings(TenantScoped, db.Model):
    """How long a link lives, and whether links go out by themselves after a delivery
    (``auto_days`` days after it; 0 = only when a person sends one)."""

    __tablename__ = "feedback_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("link_days BETWEEN 1 AND 365 AND auto_days BETWEEN 0 AND 60", name="sane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_days: Mapped[int] = mapped_column(Integer, default=30)
    auto_days: Mapped[int] = mapped_column(Integer, default=0)
