"""Writing and reading in-app notifications. The caller's transaction carries them: a
notification exists exactly when what it announces was committed."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select, update

from ..accounts.models import User
from ..clients.forms import CHANNEL_LABELS, TIME_LABELS
from ..db import utcnow
from ..extensions import db
from .models import Notification

KINDS = ("complaint_opened", "complaint_late", "callback_requested", "testimonial_pending", "referral_new",
         "whatsapp_failed", "whatsapp_received")
LIST_SIZE = 100


def notify(user_ids: Iterable[int], kind: str, params: dict | None = None, url: str = "") -> None:
    """Add one notification per user (deduplicated) to the current session; the caller
    commits. ``params`` must be JSON-serialisable: names and ids, never secrets."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    for user_id in dict.fromkeys(user_ids):
        db.session.add(Notification(user_id=user_id, kind=kind, params=dict(params or {}), url=url))


def path_for(endpoint: str, **values) -> str:
    """A notification's link: a path on this site, also outside a request (a job, a
    test's service call)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def notify_team(kind: str, params: dict, url: str, seller_id: int | None, actor_id: int | None = None) -> None:
    """Good news for the managers (owners and managers) and the responsible seller, all
    active; not for the person who did it (they know). The caller commits."""
    wanted = [User.role.in_(("owner", "manager"))]
    if seller_id:
        wanted.append(User.id == seller_id)
    readers = db.session.execute(select(User.id).where(User.active.is_(True), or_(*wanted))
                                 .order_by(User.id)).scalars().all()
    notify([user_id for user_id in readers if user_id != actor_id], kind, params, url)


def unread_count(user_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).scalar_one()


def mark_read(user_id: int, notification_id: int | None = None) -> None:
    """One notification, or all of the user's, marked read."""
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    db.session.execute(stmt.values(read_at=utcnow()))
    db.session.commit()


def safe_url(url: str) -> str:
    """A stored url is followed only when it is a path on this site."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else ""


# The sentences of kinds a later feature adds (WhatsApp's "whatsapp_failed"), registered by
# that feature at import: notifications stays below the features that notify.
SENTENCES: dict[str, Callable[[dict], str]] = {}


def sentence(notification: Notification) -> str:
    """The notification in the reader's (current) language, built now from kind and params."""
    p = notification.params or {}
    client = str(p.get("client", ""))
    if notification.kind == "complaint_opened":
        if p.get("score") is not None:
            return _("%(client)s is unhappy (%(score)s/10): a complaint was opened.", client=client,
                     score=p.get("score"))
        return _("A complaint was opened for %(client)s.", client=client)
    if notification.kind == "callback_requested":
        channel = CHANNEL_LABELS.get(p.get("channel") or "")
        window = TIME_LABELS.get(p.get("window") or "any", TIME_LABELS["any"])
        if channel:
            return _("%(client)s asked to be contacted by %(channel)s, %(window)s.", client=client,
                     channel=channel, window=window)  # the window's label has its own parentheses
        return _("%(client)s asked to be contacted, %(window)s.", client=client, window=window)
    if notification.kind == "testimonial_pending":
        return _("%(client)s left a testimonial: it waits for approval.", client=client)
    if notification.kind == "referral_new":
        friends = ", ".join(str(name) for name in (p.get("friends") or []))
        count = int(p.get("count") or 1)
        return ngettext("%(client)s recommended %(num)d person: %(friends)s.",
                        "%(client)s recommended %(num)d people: %(friends)s.", count, client=client, friends=friends)
    if notification.kind == "complaint_late":
        return _("The complaint of %(client)s is late.", client=client)
    if notification.kind in SENTENCES:
        return SENTENCES[notification.kind](p)
    return notification.kind
