"""Complaints, scheduled jobs (cron): escalate a missed target to the managers, and send
the follow-up link after a resolution. Each runs over every live business."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from .. import mail
from ..accounts.models import Business, User
from ..accounts.services import external_url, live_business_ids
from ..clients.models import Client
from ..db import utcnow
from ..extensions import db
from ..feedback import services as feedback
from ..i18n import business_today
from ..jobs import EachTenant
from ..notifications.services import notify
from ..visits.models import Activity
from .models import Complaint
from .services import log

# --- jobs: escalations and follow-up links ----------------------------------------------------

def _managers() -> list[User]:
    return db.session.execute(select(User).where(User.active.is_(True), User.role.in_(("owner", "manager")))
                              .order_by(User.id)).scalars().all()


def _claim(complaint_id: int, column) -> bool:
    """Mark an escalation as sent, atomically: only one run (or worker) wins."""
    result = db.session.execute(update(Complaint).where(Complaint.id == complaint_id, column.is_(None))
                                .values({column.key: utcnow()}))
    db.session.commit()
    return result.rowcount == 1


def escalate_breaches(echo=lambda message: None) -> int:
    """E-mail the managers about each case that missed a target, once per target, and
    tell them in the app once per case (its first missed target)."""
    run = EachTenant("escalate-complaints")
    sent = 0
    now = utcnow()
    for business_id in live_business_ids():
        with run.tenant(business_id):
            business = db.session.get(Business, business_id)
            late = db.session.execute(select(Complaint).where(Complaint.status != "resolved", or_(
                (Complaint.acknowledged_at.is_(None)) & (Complaint.ack_due_at < now) & Complaint.ack_escalated_at.is_(None),
                (Complaint.resolve_due_at < now) & Complaint.resolve_escalated_at.is_(None)))
                .order_by(Complaint.id)).scalars().all()
            for complaint in late:
                which = []
                if complaint.acknowledged_at is None and complaint.ack_due_at < now and complaint.ack_escalated_at is None:
                    which.append(("ack", Complaint.ack_escalated_at))
                if complaint.resolve_due_at < now and complaint.resolve_escalated_at is None:
                    which.append(("resolve", Complaint.resolve_escalated_at))
                first_lateness = complaint.ack_escalated_at is None and complaint.resolve_escalated_at is None
                for kind, column in which:
                    if not _claim(complaint.id, column):
                        continue
                    client = db.session.get(Client, complaint.client_id)
                    owner = db.session.get(User, complaint.owner_id) if complaint.owner_id else None
                    log(complaint, None, "escalated", target=kind)
                    if first_lateness:  # in the app once per case; the e-mail tells which target
                        notify([m.id for m in _managers()], "complaint_late",
                               {"client": client.name, "complaint_id": complaint.id, "target": kind},
                               f"/complaints/{complaint.id}")
                        first_lateness = False
                    db.session.commit()
                    for manager in _managers():
                        # a reply reaches the person the case waits for (its owner), else the business's owner
                        reply_to = mail.alert_reply_to(business_id, manager.email, owner.email if owner else None)
                        mail.send_email(manager.email, lambda name=client.name: _l("Complaint late: %(name)s", name=name),
                                        "complaint_late", manager.language, reply_to=reply_to, user=manager, client=client,
                                        complaint=complaint, owner=owner, kind=kind, business=business,
                                        link=external_url("complaints.show", complaint_id=complaint.id))
                    sent += 1
                    echo(f"complaint {complaint.id} of business {business_id}: {kind} target missed, managers told")
    return run.finish(sent)


def send_followups(echo=lambda message: None) -> int:
    """The follow-up of each resolved case, on its day: a feedback link by e-mail when
    the client has an address, otherwise a call in the owner's agenda to ask in person."""
    run = EachTenant("send-followups")
    done = 0
    for business_id in live_business_ids():
        with run.tenant(business_id):
            business = db.session.get(Business, business_id)
            today = business_today(business)
            due = db.session.execute(select(Complaint.id).where(
                Complaint.status == "resolved", Complaint.followup_on <= today,
                Complaint.followup_sent_at.is_(None)).order_by(Complaint.id)).scalars().all()
            for complaint_id in due:
                if not _claim(complaint_id, Complaint.followup_sent_at):
                    continue
                complaint = db.session.get(Complaint, complaint_id)
                client = db.session.get(Client, complaint.client_id)
                if client is None or client.deleted_at is not None:
                    continue
                if client.email:
                    secret = feedback.create_link(client, None, sent_by="email", sale_id=complaint.sale_id)
                    feedback.email_link(client, business, external_url("feedback.public", token=secret))
                    log(complaint, None, "followup", via="email")
                else:
                    with force_locale(business.language):
                        note = str(_l("After the complaint: ask how it is going now and send a feedback link."))
                    db.session.add(Activity(client_id=client.id, seller_id=complaint.owner_id or client.seller_id,
                                            kind="call", purpose="other", due_on=today, notes=note))
                    log(complaint, None, "followup", via="call")
                db.session.commit()
                done += 1
                echo(f"complaint {complaint_id} of business {business_id}: follow-up sent")
    return run.finish(done)
