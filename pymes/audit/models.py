"""The activity log: one row per security-relevant action in a business."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, utcnow
from ..extensions import db
from ..tenancy import TenantScoped


class AuditEvent(TenantScoped, db.Model):
    """Written once, never changed (no route, an ORM guard, and a database trigger refuse
    an UPDATE); removed only after ``AUDIT_RETENTION_DAYS`` by ``pymes prune-activity``
    or with the whole business. Who did it is kept by id *and* name, without a foreign
    key, so the trail outlives the person's account."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str] = mapped_column(String(45), default="")
    device: Mapped[str] = mapped_column(String(120), default="")
