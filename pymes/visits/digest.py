"""The daily digest: each seller's visits and calls for today and what is overdue,
by e-mail, in the seller's language and the business's day; never twice a day."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import mail
from ..accounts.models import Business, User
from ..db import utcnow
from ..extensions import db
from ..i18n import business_today
from ..tenancy import bound
from .forms import KIND_LABELS, PURPOSE_LABELS
from .models import DigestLog
from .services import agenda


def send_digests(echo=lambda message: None) -> int:
    """Send today's digest to every active team member who has something to do.
    Safe to run as often as cron likes: the digest log's unique key decides."""
    from flask_babel import lazy_gettext as _l

    from ..accounts.services import external_url

    sent = 0
    business_ids = db.session.execute(select(Business.id).order_by(Business.id)).scalars().all()
    for business_id in business_ids:
        with bound(business_id):
            business = db.session.get(Business, business_id)
            today = business_today(business)
            users = db.session.execute(select(User).where(User.active.is_(True), User.role != "service")
                                       .order_by(User.id)).scalars().all()
            for user in users:
                plan = agenda(user.id, today)
                if not (plan.today or plan.overdue):
                    continue
                db.session.add(DigestLog(user_id=user.id, day=today, sent_at=utcnow()))
                try:
                    db.session.commit()
                except IntegrityError:
                    db.session.rollback()  # already sent today
                    continue
                mail.send_email(user.email, lambda: _l("Your day at %(business)s", business=business.name),
                                "digest", user.language, user=user, business=business, today=today,
                                plan=plan, purposes=PURPOSE_LABELS, kinds=KIND_LABELS,
                                agenda_url=external_url("visits.agenda"))
                sent += 1
                echo(f"digest sent to user {user.id} of business {business_id}")
    return sent
