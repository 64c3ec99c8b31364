from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, UTCDateTime
from ..extensions import db
from ..tenancy import TenantScoped


class Notification(TenantScoped, TimestampMixin, db.Model):
    """One message for one user. ``kind`` and ``params`` are stored, not the sentence,
    so that it is written in the reader's language when shown."""

    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        Index("ix_notifications_user_unread", "tenant_id", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    url: Mapped[str] = mapped_column(String(255), default="")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
