"""Each business's subscription as Stripe last told us, and the Stripe events already
applied (PAY-2)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, UTCDateTime, utcnow
from ..extensions import db
from ..tenancy import TenantScoped

# Stripe's subscription statuses, plus "trialing" for our own trial before Checkout.
STATUSES = ("trialing", "incomplete", "incomplete_expired", "active", "past_due", "unpaid", "canceled", "paused")


class Subscription(TenantScoped, TimestampMixin, db.Model):
    """One row per business, created when the owner first goes to Checkout (before that
    the business is on its trial, counted from its creation).

    ``state_at`` is the Stripe timestamp of the event whose state is stored: an event
    older than it changes nothing, so deliveries may arrive in any order (PAY-3).

    An identity model: the webhook finds the business from the verified Stripe customer
    id inside ``identity_lookup()`` before any tenant is bound, then binds it."""

    __tablename__ = "subscriptions"
    __tenant_identity__ = True
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("status IN (" + ", ".join(repr(s) for s in STATUSES) + ")", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(24), default="trialing")
    price_id: Mapped[str | None] = mapped_column(String(255))
    trial_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    past_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The open Checkout Session, reused by a double click instead of a second one (PAY-4).
    checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    checkout_url: Mapped[str | None] = mapped_column(String(1024))
    checkout_price_id: Mapped[str | None] = mapped_column(String(255))
    checkout_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StripeEvent(TenantScoped, db.Model):
    """A Stripe event already applied. Inserted in the same transaction as the event's
    effect; the unique event id makes a replay or a concurrent second delivery fail at
    the insert and change nothing (PAY-2)."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StripeSubscription(TenantScoped, TimestampMixin, db.Model):
    """Every Stripe subscription the business has had, as the newest event about it told
    us (PAY-3). Stripe delivers events in any order, and an event about a subscription
    that is not (yet) the business's current one still carries news: a cancellation
    arriving before the ``created`` event of the same subscription must not be lost.
    Each event updates only its own subscription's line here (never with older news;
    a canceled one never comes back), and the business's ``Subscription`` row is then
    derived from these lines, so the end state does not depend on the order."""

    __tablename__ = "stripe_subscriptions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "subscription_id"),
        CheckConstraint("status IN (" + ", ".join(repr(s) for s in STATUSES) + ")", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(24))
    # Stripe's ``created`` of the subscription (else the earliest event seen about it):
    # of two live subscriptions, the later one is the business's.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_at: Mapped[datetime] = mapped_column(UTCDateTime())
    price_id: Mapped[str | None] = mapped_column(String(255))
    trial_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    past_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
