"""Billing rules: a business's standing (trial, active, grace, read-only), Checkout and
Portal sessions, the webhook's effects and the reconciliation with Stripe.

Services own the transaction. Every Stripe call goes through ``stripe_api``."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..accounts.models import Business
from ..config import billing_enabled
from ..db import utcnow
from ..extensions import db
from ..jobs import EachTenant
from ..tenancy import bind_tenant, identity_lookup
from . import stripe_api
from .models import StripeEvent, StripeSubscription, Subscription

# Statuses that end a subscription for good (Stripe never revives them).
TERMINAL = {"canceled", "incomplete_expired"}
# The account is read-only in these: everything visible and exportable, nothing new (PAY-5).
LAPSED = {"canceled", "unpaid", "incomplete_expired", "paused"}
# Two states stamped with the same second: the one further along the lifecycle wins.
RANK = {"trialing": 0, "incomplete": 1, "active": 2, "past_due": 3, "unpaid": 4, "paused": 4,
        "incomplete_expired": 5, "canceled": 6}
SUBSCRIPTION_EVENTS = {"customer.subscription.created", "customer.subscription.updated",
                       "customer.subscription.deleted", "customer.subscription.paused",
                       "customer.subscription.resumed", "customer.subscription.trial_will_end"}
PAID_EVENTS = {"invoice.paid", "invoice.payment_succeeded"}


def enabled() -> bool:
    return billing_enabled(current_app.config)


def _ts(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC) if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# --- standing -----------------------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """What the app does with a business right now. ``state`` is one of trial,
    trial_over, active, past_due, lapsed."""

    state: str
    status: str
    read_only: bool
    trial_end: datetime | None = None
    grace_until: datetime | None = None
    period_end: datetime | None = None
    cancel_at_period_end: bool = False
    plan: str | None = None
    has_customer: bool = False
    warn: bool = False  # show the banner on every page

    @property
    def subscribed(self) -> bool:
        return self.state in ("active", "past_due")


def default_trial_end(business: Business) -> datetime:
    """A new business's trial ends TRIAL_DAYS after it signed up."""
    return business.created_at + timedelta(days=current_app.config["TRIAL_DAYS"])


def _plan(price_id: str | None) -> str | None:
    config = current_app.config
    if price_id and price_id == config.get("STRIPE_PRICE_MONTHLY"):
        return "monthly"
    if price_id and price_id == config.get("STRIPE_PRICE_YEARLY"):
        return "yearly"
    return None


def standing(business: Business, sub: Subscription | None, now: datetime | None = None) -> Standing:
    """The business's standing from its stored subscription (no Stripe call)."""
    now = now or utcnow()
    config = current_app.config
    status = sub.status if sub else "trialing"
    common = dict(status=status, has_customer=bool(sub and sub.stripe_customer_id),
                  plan=_plan(sub.price_id) if sub else None,
                  period_end=sub.current_period_end if sub else None,
                  cancel_at_period_end=bool(sub and sub.cancel_at_period_end))
    live_stripe_trial = status == "trialing" and sub is not None and sub.stripe_subscription_id
    if status == "active" or live_stripe_trial:
        # A Stripe-managed trial has a card on file and converts by itself: no banner.
        trial_end = sub.trial_end if live_stripe_trial else None
        return Standing("active", read_only=False, trial_end=trial_end, **common)
    if status == "past_due":
        since = sub.past_due_since or now
        grace_until = since + timedelta(days=config["BILLING_GRACE_DAYS"])
        if now < grace_until:
            return Standing("past_due", read_only=False, grace_until=grace_until, warn=True, **common)
        return Standing("lapsed", read_only=True, grace_until=grace_until, warn=True, **common)
    if status in LAPSED:
        return Standing("lapsed", read_only=True, warn=True, **common)
    # Our own trial: no subscription yet, or Checkout started and not paid (incomplete).
    trial_end = (sub.trial_end if sub and sub.trial_end else None) or default_trial_end(business)
    if now < trial_end:
        warn = trial_end - now <= timedelta(days=config["TRIAL_WARNING_DAYS"])
        return Standing("trial", read_only=False, trial_end=trial_end, warn=warn, **common)
    return Standing("trial_over", read_only=True, trial_end=trial_end, warn=True, **common)


def current_subscription() -> Subscription | None:
    """The bound tenant's subscription row (tenant-scoped query)."""
    return db.session.execute(select(Subscription)).scalar_one_or_none()


def current_standing(business: Business) -> Standing:
    return standing(business, current_subscription())


def _row_for_update(business: Business) -> Subscription:
    """The business's row, locked for this transaction; created on first need."""
    row = db.session.execute(select(Subscription).with_for_update()).scalar_one_or_none()
    if row is None:
        row = Subscription(tenant_id=business.id, status="trialing", trial_end=default_trial_end(business))
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:  # created a moment ago by a concurrent request
            db.session.rollback()
            bind_tenant(business.id)
            row = db.session.execute(select(Subscription).with_for_update()).scalar_one()
    return row


# --- Checkout and Portal ------------------------------------------------------------

class AlreadySubscribed(Exception):
    pass


def _checkout_key(business_id: int, price: str, bucket: int) -> str:
    raw = f"{business_id}:{price}:{bucket}".encode()
    return "pymes-checkout-" + hashlib.sha256(raw).hexdigest()[:32]


def checkout_url(business: Business, owner_email: str, plan: str, success_url: str, cancel_url: str) -> str:
    """A Checkout Session URL for ``plan`` (monthly or yearly).

    PAY-4: an open session for the same price is reused; when two clicks race past that
    check, both send the same idempotency key (business, price, hour) with the same
    parameters, and Stripe answers both with one session. Raises
    ``stripe_api.StripeUnavailable`` on any Stripe failure (nothing stored)."""
    config = current_app.config
    price = config["STRIPE_PRICE_MONTHLY"] if plan == "monthly" else config["STRIPE_PRICE_YEARLY"]
    if plan not in ("monthly", "yearly") or not price:
        raise ValueError(plan)
    row = _row_for_update(business)
    if standing(business, row).subscribed:
        db.session.rollback()
        raise AlreadySubscribed()
    now = utcnow()
    if (row.checkout_session_id and row.checkout_price_id == price and row.checkout_expires_at
            and row.checkout_expires_at > now + timedelta(minutes=10)):
        url = row.checkout_url
        db.session.rollback()
        return url
    try:
        if not row.stripe_customer_id:
            row.stripe_customer_id = stripe_api.create_customer(business_id=business.id, name=business.name,
                                                                email=owner_email)
        bucket = int(now.timestamp()) // 3600
        expires_at = datetime.fromtimestamp((bucket + 2) * 3600, UTC)  # 1 to 2 hours from now
        params = {
            "mode": "subscription",
            "customer": row.stripe_customer_id,
            "client_reference_id": str(business.id),
            "line_items": [{"price": price, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
            "subscription_data": {"metadata": {"business_id": str(business.id)}},
        }
        trial_end = row.trial_end or default_trial_end(business)
        if row.stripe_subscription_id is None and trial_end > now + timedelta(hours=49):
            # The days left of the trial are kept: Stripe charges when it ends (needs ≥ 48 h).
            params["subscription_data"]["trial_end"] = int(trial_end.timestamp())
        session = stripe_api.create_checkout_session(params=params,
                                                     idempotency_key=_checkout_key(business.id, price, bucket))
    except stripe_api.StripeUnavailable:
        db.session.rollback()
        raise
    row.checkout_session_id = session.id
    row.checkout_url = session.url
    row.checkout_price_id = price
    row.checkout_expires_at = expires_at
    db.session.commit()
    return session.url


def portal_url(business: Business, return_url: str) -> str | None:
    """A Customer Portal session for the business's Stripe customer (None without one)."""
    row = current_subscription()
    if row is None or not row.stripe_customer_id:
        return None
    return stripe_api.create_portal_session(customer=row.stripe_customer_id, return_url=return_url)


# --- applying Stripe's state ---------------------------------------------------------

def _period_end(obj: dict) -> datetime | None:
    # Newer API versions keep the period on the subscription's items.
    if obj.get("current_period_end"):
        return _ts(obj["current_period_end"])
    items = (obj.get("items") or {}).get("data") or []
    ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
    return _ts(max(ends)) if ends else None


def _price(obj: dict) -> str | None:
    items = (obj.get("items") or {}).get("data") or []
    for item in items:
        price = item.get("price") or {}
        if price.get("id"):
            return price["id"]
    return None


# Of a business's subscriptions, the one it is on: the most recently started live one;
# without a live one, the most recently started of all (a Checkout waiting for its first
# payment, or the last one that ended). An abandoned older Checkout never hides a newer
# subscription's end, and another subscription's end never ends a live one.
_LIVE = {"trialing", "active", "past_due", "unpaid", "paused"}


def _standing_key(entry: StripeSubscription) -> tuple:
    return entry.status in _LIVE, entry.started_at, entry.state_at, entry.subscription_id


def _newer(entry: StripeSubscription, status: str, at: datetime) -> bool:
    """Whether news of ``status`` observed at ``at`` replaces what ``entry`` holds."""
    if entry.status in TERMINAL and status not in TERMINAL:
        return False  # a canceled subscription never comes back, whatever the stamps say
    return at > entry.state_at or (at == entry.state_at and RANK[status] > RANK.get(entry.status, 0))


def _seed_ledger(row: Subscription) -> None:
    """A row stored before the per-subscription lines existed (or by hand) joins them."""
    if row.stripe_subscription_id and row.state_at and db.session.execute(
            select(StripeSubscription.id).where(StripeSubscription.subscription_id == row.stripe_subscription_id)
    ).first() is None:
        db.session.add(StripeSubscription(
            tenant_id=row.tenant_id, subscription_id=row.stripe_subscription_id, status=row.status,
            started_at=row.state_at, state_at=row.state_at, price_id=row.price_id, trial_end=row.trial_end,
            current_period_end=row.current_period_end, cancel_at_period_end=row.cancel_at_period_end,
            past_due_since=row.past_due_since))
        db.session.flush()


def record_subscription(row: Subscription, obj: dict, at: datetime) -> bool:
    """Keep what a Stripe subscription object observed at ``at`` says about that one
    subscription, unless its line already holds newer news. Returns whether it did."""
    status, sid = obj.get("status"), obj.get("id")
    if status not in RANK or not isinstance(sid, str) or not sid:
        return False
    sid = sid[:255]
    _seed_ledger(row)
    started = _ts(obj.get("created")) or at
    entry = db.session.execute(select(StripeSubscription).where(StripeSubscription.subscription_id == sid)
                               ).scalar_one_or_none()
    if entry is None:
        entry = StripeSubscription(tenant_id=row.tenant_id, subscription_id=sid, status=status, started_at=started,
                                   state_at=at, past_due_since=at if status == "past_due" else None)
        db.session.add(entry)
    else:
        entry.started_at = min(entry.started_at, started)
        if not _newer(entry, status, at):
            db.session.flush()
            return False
        if status != "past_due":
            entry.past_due_since = None
        elif entry.status != "past_due" or entry.past_due_since is None:
            entry.past_due_since = at
        entry.status, entry.state_at = status, at
    entry.price_id = _price(obj) or entry.price_id
    entry.current_period_end = _period_end(obj)
    if obj.get("trial_end"):
        entry.trial_end = _ts(obj["trial_end"])
    entry.cancel_at_period_end = bool(obj.get("cancel_at_period_end") or obj.get("cancel_at"))
    db.session.flush()
    return True


def apply_subscription(row: Subscription, obj: dict, at: datetime) -> bool:
    """Apply a Stripe subscription object observed at ``at`` (PAY-3): record it on its
    subscription's own line (``record_subscription``), then set the business's row from
    the subscription the business is on. Nothing a delivery says is dropped because it
    came "too early": a cancellation delivered before its subscription's ``created``
    event is kept on that subscription's line and wins once the others arrive; an older
    event never overrides a newer one; a deleted subscription is never revived. Every
    order of the same events therefore ends in the same row. Returns whether the row
    changed."""
    if not record_subscription(row, obj, at):
        return False
    entries = db.session.execute(select(StripeSubscription)).scalars().all()
    current = max(entries, key=_standing_key)
    before = (row.status, row.stripe_subscription_id, row.state_at, row.current_period_end, row.price_id,
              row.cancel_at_period_end, row.past_due_since, row.trial_end)
    row.status = current.status
    row.stripe_subscription_id = current.subscription_id
    row.state_at = current.state_at
    row.price_id = current.price_id or row.price_id
    row.current_period_end = current.current_period_end
    row.cancel_at_period_end = current.cancel_at_period_end
    row.past_due_since = current.past_due_since
    if current.trial_end:
        row.trial_end = current.trial_end
    after = (row.status, row.stripe_subscription_id, row.state_at, row.current_period_end, row.price_id,
             row.cancel_at_period_end, row.past_due_since, row.trial_end)
    if after != before and row.status != "incomplete":
        row.checkout_session_id = row.checkout_url = row.checkout_price_id = row.checkout_expires_at = None
    return after != before


def apply_paid_invoice(row: Subscription, obj: dict, at: datetime) -> bool:
    paid_at = _ts((obj.get("status_transitions") or {}).get("paid_at")) or at
    if row.last_paid_at is not None and row.last_paid_at >= paid_at:
        return False
    row.last_paid_at = paid_at
    return True


def _tenant_for_customer(customer: str) -> int | None:
    """The business behind a Stripe customer id that arrived in a verified event."""
    with identity_lookup():
        return db.session.execute(
            select(Subscription.tenant_id).where(Subscription.stripe_customer_id == customer)
        ).scalar_one_or_none()


def handle_event(event: dict) -> str:
    """Apply one verified Stripe event. Returns "applied", "duplicate" or "ignored".

    PAY-2: the event id is inserted in the same transaction as its effect; a second
    delivery (a replay, or a concurrent one waiting on the first's insert) fails on the
    unique event id and rolls back without touching anything."""
    kind = event.get("type", "")
    if kind not in SUBSCRIPTION_EVENTS | PAID_EVENTS:
        return "ignored"
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return "ignored"
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if not isinstance(customer, str) or not customer:
        return "ignored"
    tenant_id = _tenant_for_customer(customer)
    if tenant_id is None:
        current_app.logger.info("stripe event %s for an unknown customer ignored", kind)
        db.session.rollback()
        return "ignored"
    bind_tenant(tenant_id)
    db.session.add(StripeEvent(tenant_id=tenant_id, event_id=str(event["id"])[:255], type=kind[:64]))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    row = db.session.execute(select(Subscription).with_for_update()).scalar_one()
    at = _ts(event.get("created")) or utcnow()
    status_before = row.status
    if kind in SUBSCRIPTION_EVENTS:
        apply_subscription(row, obj, at)
    else:
        apply_paid_invoice(row, obj, at)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    if row.status != status_before:  # the owner's activity log (pymes/audit)
        audit.record("billing", "Stripe", tenant_id=tenant_id, status=row.status, was=status_before)
    return "applied"


# --- reconciliation -----------------------------------------------------------------

def sync_all(echo=lambda message: None) -> dict:
    """Re-read every business's latest subscription from Stripe and store it as of now:
    repairs a webhook that never arrived. Safe to run as often as cron likes."""
    counts = {"checked": 0, "changed": 0, "failed": 0}
    business_ids = db.session.execute(select(Business.id).order_by(Business.id)).scalars().all()
    run = EachTenant("billing-sync")
    for business_id in business_ids:
        with run.tenant(business_id):
            row = db.session.execute(select(Subscription).with_for_update()).scalar_one_or_none()
            if row is None or not row.stripe_customer_id:
                db.session.rollback()
                continue
            counts["checked"] += 1
            before = (row.status, row.stripe_subscription_id, row.current_period_end)
            try:
                remote = stripe_api.latest_subscription(row.stripe_customer_id)
            except stripe_api.StripeUnavailable:
                db.session.rollback()
                counts["failed"] += 1
                echo(f"business {business_id}: Stripe unavailable, left as it was")
                continue
            if remote is not None:
                apply_subscription(row, remote.to_dict(), max(utcnow(), row.state_at or utcnow()))
            after = (row.status, row.stripe_subscription_id, row.current_period_end)
            if after != before:
                counts["changed"] += 1
                echo(f"business {business_id}: {before[0]} → {after[0]}")
            db.session.commit()
    counts["failed"] += len(run.failed)
    return counts
