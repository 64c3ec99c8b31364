"""The daily digest: each seller's visits and calls for today and what is overdue,
by e-mail, in the seller's language and on the seller's day (their own time zone, else
the business's); never twice for the same seller and day."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import mail
from ..accounts.models import Business, User
from ..accounts.services import external_url, live_business_ids
from ..db import utcnow
from ..extensions import db
from ..jobs import EachTenant
from .forms import KIND_LABELS, PURPOSE_LABELS
from .models import DigestLog
from .services import agenda


def seller_today(user: User, business: Business, now: datetime) -> date:
    """The seller's calendar day at ``now``: their own zone, else the business's."""
    for name in (user.timezone, business.timezone):
        if not name:
            continue
        try:
            return now.astimezone(ZoneInfo(name)).date()
        except (ZoneInfoNotFoundError, ValueError):
            continue  # a zone the system no longer knows: fall back
    return now.astimezone(UTC).date()


def send_digests(echo=lambda message: None, now: datetime | None = None) -> int:
    """Send today's digest to every active team member who has something to do.
    Safe to run as often as cron likes: the digest log's unique key (seller, day) decides.
    ``now`` (an aware instant, the real clock by default) lets a test fix the moment."""
    now = now or datetime.now(UTC)
    sent = 0
    run = EachTenant("send-digests")
    business_ids = live_business_ids()
    for business_id in business_ids:
        with run.tenant(business_id):
            business = db.session.get(Business, business_id)
            users = db.session.execute(select(User).where(User.active.is_(True), User.role != "service")
                                       .order_by(User.id)).scalars().all()
            for user in users:
                today = seller_today(user, business, now)
                plan = agenda(user.id, today)
                if not (plan.today or plan.overdue):
                    continue
                db.session.add(DigestLog(user_id=user.id, day=today, sent_at=utcnow()))
                try:
                    db.session.commit()
                except IntegrityError:
                    db.session.rollback()  # already sent today
                    continue
                mail.send_email(user.email, lambda name=business.name: _l("Your day at %(business)s", business=name),
                                "digest", user.language, user=user, business=business, today=today,
                                plan=plan, purposes=PURPOSE_LABELS, kinds=KIND_LABELS,
                                agenda_url=external_url("visits.agenda"))
                sent += 1
                echo(f"digest sent to user {user.id} of business {business_id}")
    return run.finish(sent)
