"""Planned and logged contacts with a client (visits and calls), and each business's
follow-up cadence."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..accounts.models import Business
from ..db import TimestampMixin, UTCDateTime
from ..extensions import db
from ..tenancy import TenantScoped

KINDS = ("visit", "call")
PURPOSES = ("delivery", "follow_up", "check_in", "callback", "handover", "other")
STATUSES = ("planned", "done", "no_answer", "rescheduled", "cancelled")
REAL_CONTACT = ("done",)


class Activity(TenantScoped, TimestampMixin, db.Model):
    """A visit or a call: planned by a sale's post-sale plan or by hand, then logged."""

    __tablename__ = "activities"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "seller_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("kind IN ('visit', 'call')", name="kind"),
        CheckConstraint("purpose IN ('delivery', 'follow_up', 'check_in', 'callback', 'handover', 'other')",
                        name="purpose"),
        CheckConstraint("status IN ('planned', 'done', 'no_answer', 'rescheduled', 'cancelled')", name="status"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction"),
        CheckConstraint("channel IS NULL OR channel IN ('whatsapp', 'phone', 'email', 'visit')", name="channel"),
        CheckConstraint("time_window IS NULL OR time_window IN ('morning', 'midday', 'afternoon', 'evening', 'any')",
                        name="time_window"),
        Index("ix_activities_agenda", "tenant_id", "seller_id", "status", "due_on"),
        Index("ix_activities_client", "tenant_id", "client_id", "due_on"),
        Index("ix_activities_tenant_due", "tenant_id", "due_on"),  # the monthly follow-up series
        Index("ix_activities_tenant_status_due", "tenant_id", "status", "due_on"),  # the whole team's open items
        Index("uq_activities_outcome_key", "tenant_id", "outcome_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer)
    sale_id: Mapped[int | None] = mapped_column(Integer, index=True)
    seller_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    notes: Mapped[str] = mapped_column(Text, default="")
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    opportunity: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the business's calendar day the outcome was logged: "on time" is done_on <= due_on,
    # judged once where the business was, and countable in SQL over (tenant_id, due_on)
    done_on: Mapped[date | None] = mapped_column(Date)
    # how and when the client asked to be contacted (a callback from their feedback):
    # the agenda's main button is that channel, and the item shows the window
    channel: Mapped[str | None] = mapped_column(String(16))
    time_window: Mapped[str | None] = mapped_column(String(16))
    # the key a phone gave an outcome logged offline (migration 0023): a second send of
    # the same outcome is recognised, never recorded twice
    outcome_key: Mapped[str | None] = mapped_column(String(36))


class FollowUpSettings(TenantScoped, db.Model):
    """The post-sale cadence of a business. Apostles and frequent clients are contacted
    more often than one-off buyers."""

    __tablename__ = "followup_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("call_after_days BETWEEN 1 AND 90 AND checkin_buyer_days BETWEEN 7 AND 730 AND "
                        "checkin_sporadic_days BETWEEN 7 AND 730 AND checkin_frequent_days BETWEEN 7 AND 730 AND "
                        "checkin_apostle_days BETWEEN 7 AND 730", name="sane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_after_days: Mapped[int] = mapped_column(Integer, default=3)
    checkin_buyer_days: Mapped[int] = mapped_column(Integer, default=90)
    checkin_sporadic_days: Mapped[int] = mapped_column(Integer, default=60)
    checkin_frequent_days: Mapped[int] = mapped_column(Integer, default=30)
    checkin_apostle_days: Mapped[int] = mapped_column(Integer, default=21)


class DigestLog(TenantScoped, db.Model):
    """One row per seller and day a digest was sent: the unique key makes a second run
    of the command send nothing (idempotent by the database, not by a check)."""

    __data_version__ = False  # not a figure: cached figures stay valid (pymes.cache)
    __tablename__ = "digest_log"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "day"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


@event.listens_for(Activity, "before_insert")
@event.listens_for(Activity, "before_update")
def _stamp_done_on(mapper, connection, target: Activity) -> None:
    """Whatever logs an outcome, ``done_on`` is the business's calendar day of ``done_at``."""
    if target.done_at is not None and target.done_on is None:
        zone = connection.execute(select(Business.timezone).where(Business.id == target.tenant_id)).scalar()
        target.done_on = target.done_at.astimezone(ZoneInfo(zone or "UTC")).date()
