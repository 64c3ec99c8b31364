"""Writing and reading in-app notifications. The caller's transaction carries them: a
notification exists exactly when what it announces was committed."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update

from ..db import utcnow
from ..extensions import db
from .models import Notification

KINDS = ("complaint_opened", "complaint_late", "callback_requested")


def notify(user_ids: Iterable[int], kind: str, params: dict | None = None, url: str = "") -> None:
    """Add one notification per user (deduplicated) to the current session; the caller
    commits. ``params`` must be JSON-serialisable: names and ids, never secrets."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    for user_id in dict.fromkeys(user_ids):
        db.session.add(Notification(user_id=user_id, kind=kind, params=dict(params or {}), url=url))


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
