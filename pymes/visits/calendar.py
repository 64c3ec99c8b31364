"""Each seller's private iCal feed: a secret, revocable URL that Google Calendar,
Outlook and phone calendars subscribe to. Built with the ``icalendar`` library.

The secret is a 256-bit token stored only as its hash (``accounts.tokens``), so the
link is shown once when made; making a new one retires the old."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from flask_babel import force_locale, pgettext
from sqlalchemy import select

from ..accounts import tokens
from ..accounts.models import Business, Token, User
from ..clients.models import Client
from ..clients.services import national
from ..extensions import db
from .forms import PURPOSE_LABELS
from .models import Activity

CALENDAR_FEED = "calendar_feed"
FEED_LIFETIME = timedelta(days=3650)
WINDOW_START = {"morning": time(9), "midday": time(12), "afternoon": time(15), "evening": time(19)}


def new_feed(user: User) -> str:
    """Retire the user's old feed link and return a new secret."""
    tokens.retire(CALENDAR_FEED, user.tenant_id, user.id)
    secret = tokens.issue(CALENDAR_FEED, user.tenant_id, user.id, FEED_LIFETIME)
    db.session.commit()
    return secret


def revoke_feed(user: User) -> None:
    tokens.retire(CALENDAR_FEED, user.tenant_id, user.id)
    db.session.commit()


def has_feed(user: User) -> bool:
    return db.session.execute(
        select(Token.id).where(Token.purpose == CALENDAR_FEED, Token.tenant_id == user.tenant_id,
                               Token.subject_id == user.id, Token.used_at.is_(None))
    ).first() is not None


def feed_owner(secret: str) -> User | None:
    """The active user a feed secret belongs to (binds the tenant), or None."""
    token, _reason = tokens.check(secret, CALENDAR_FEED)
    if token is None:
        return None
    user = db.session.get(User, token.subject_id)
    return user if user is not None and user.active else None


def build(user: User, today) -> bytes:
    """The feed: the user's contacts from 30 days ago to 180 days ahead, in the
    business's time zone, in the user's language."""
    business = db.session.get(Business, user.tenant_id)
    zone = ZoneInfo(business.timezone)
    rows = db.session.execute(
        select(Activity, Client).join(Client, Client.id == Activity.client_id)
        .where(Activity.seller_id == user.id, Activity.status.in_(("planned", "done")),
               Activity.due_on >= today - timedelta(days=30), Activity.due_on <= today + timedelta(days=180),
               Client.deleted_at.is_(None))
        .order_by(Activity.due_on, Activity.id)
    ).all()
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Fideliza//pymes//ES")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Fideliza · {business.name}")
    cal.add("x-wr-timezone", business.timezone)
    stamp = datetime.now(UTC)
    with force_locale(user.language):
        for activity, client in rows:
            event = icalendar.Event()
            event.add("uid", f"activity-{activity.id}@fideliza")
            event.add("dtstamp", stamp)
            event.add("summary", f"{PURPOSE_LABELS[activity.purpose]}: {client.name}")
            start = WINDOW_START.get(client.preferred_time or "")
            if start is None:
                event.add("dtstart", activity.due_on)
                event.add("dtend", activity.due_on + timedelta(days=1))
            else:
                begins = datetime.combine(activity.due_on, start, tzinfo=zone)
                event.add("dtstart", begins)
                event.add("dtend", begins + timedelta(minutes=30))
            lines = [line for line in (national(client.phone, business.country), client.address, activity.notes)
                     if line]
            if activity.status == "done":
                lines.insert(0, pgettext("contact status", "Done"))
            event.add("description", "\n".join(lines))
            if client.address and activity.kind == "visit":
                event.add("location", client.address)
            cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
