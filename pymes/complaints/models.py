"""A complaint, its history, and each business's service-level targets."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, UTCDateTime
from ..extensions import db
from ..tenancy import TenantScoped

CATEGORIES = ("late_delivery", "wrong_product", "missing_part", "quality", "attention", "billing", "other")
SEVERITIES = ("low", "normal", "high", "urgent")
SOURCES = ("feedback", "call", "visit", "message", "manual")
STATUSES = ("open", "acknowledged", "resolved")
REMEDIES = ("apology", "replacement", "repair", "refund", "discount", "explanation")
CHANNELS = ("whatsapp", "phone", "email", "visit")
MAX_COST = 10**12  # minor units: beyond any pyme's remedy, well inside BIGINT


def _in(column: str, values: tuple) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Complaint(TenantScoped, TimestampMixin, db.Model):
    """One case. The clocks (``ack_due_at``, ``resolve_due_at``) are fixed when the case
    is opened, from the business's targets and the case's place on the scale (client's
    tier and severity), so that later changes to the targets never rewrite an old case's
    breach; only changing the case's own severity counts them again."""

    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "sale_id"], ["sales.tenant_id", "sales.id"]),  # a deleted sale is first unlinked
        ForeignKeyConstraint(["tenant_id", "owner_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "opened_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(f"remedy IS NULL OR {_in('remedy', REMEDIES)}", name="remedy"),
        CheckConstraint(f"remedy_cost IS NULL OR remedy_cost BETWEEN 0 AND {MAX_COST}", name="remedy_cost"),
        CheckConstraint("status <> 'resolved' OR (remedy IS NOT NULL AND resolved_at IS NOT NULL)",
                        name="resolved_has_remedy"),
        CheckConstraint("score_before IS NULL OR score_before BETWEEN 0 AND 10", name="score_before"),
        Index("ix_complaints_board", "tenant_id", "status", "opened_at"),
        Index("ix_complaints_client", "tenant_id", "client_id"),
        Index("ix_complaints_owner", "tenant_id", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer)
    sale_id: Mapped[int | None] = mapped_column(Integer)
    feedback_response_id: Mapped[int | None] = mapped_column(Integer)
    activity_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    category: Mapped[str] = mapped_column(String(16), default="other")
    severity: Mapped[str] = mapped_column(String(8), default="normal")
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(Integer)
    opened_by_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[bool] = mapped_column(default=False)
    score_before: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolve_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ack_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolve_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remedy: Mapped[str | None] = mapped_column(String(16))
    remedy_cost: Mapped[int | None] = mapped_column(BigInteger)
    remedy_notes: Mapped[str] = mapped_column(Text, default="")
    client_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client_told_via: Mapped[str | None] = mapped_column(String(16))
    annual_margin: Mapped[int | None] = mapped_column(BigInteger)  # economics kept at resolution, for figures
    value_kept: Mapped[int | None] = mapped_column(BigInteger)
    followup_on: Mapped[date | None] = mapped_column(Date)
    followup_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def resolve_last_moment(self) -> datetime:
        """The resolve target is due at midnight after the last business day; people
        read it as "by the end of <that day>", so show the day, not 0:00 of the next."""
        return self.resolve_due_at - timedelta(seconds=1)


class ComplaintEvent(TenantScoped, db.Model):
    """The case's history: who did what, when. Written by the services, never edited.
    ``detail`` holds what changed as JSON (``{"owner": [old, new], ...}``); lines written
    before that are plain text."""

    __tablename__ = "complaint_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "complaint_id"], ["complaints.tenant_id", "complaints.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        Index("ix_complaint_events_complaint", "tenant_id", "complaint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComplaintSettings(TenantScoped, db.Model):
    """Service-level targets and the economics' acquisition multiplier (rule 7: 5×)."""

    __tablename__ = "complaint_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("ack_hours BETWEEN 1 AND 168 AND priority_ack_hours BETWEEN 1 AND 168 AND "
                        "resolve_days BETWEEN 1 AND 60 AND priority_resolve_days BETWEEN 1 AND 60 AND "
                        "priority_ack_hours <= ack_hours AND priority_resolve_days <= resolve_days AND "
                        "acquisition_multiplier BETWEEN 1 AND 20 AND followup_days BETWEEN 1 AND 60", name="sane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ack_hours: Mapped[int] = mapped_column(Integer, default=24)
    resolve_days: Mapped[int] = mapped_column(Integer, default=5)
    priority_ack_hours: Mapped[int] = mapped_column(Integer, default=4)
    priority_resolve_days: Mapped[int] = mapped_column(Integer, default=2)
    acquisition_multiplier: Mapped[int] = mapped_column(Integer, default=5)
    followup_days: Mapped[int] = mapped_column(Integer, default=5)
