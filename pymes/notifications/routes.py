"""The reader's notifications: the header's unread count, the list, open one, read all."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..accounts.decorators import login_required
from ..cache import DEGRADED, remember
from ..extensions import db
from ..htmx import render
from ..tenancy import bound, get_or_404
from . import services
from .models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def unread_counter():
    """``unread_notifications()`` for the header: one COUNT (kept per business data
    version), run only when a logged-in page's header asks for it (public pages never do)."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            with bound(current_user.tenant_id):  # also on pages drawn before the tenant hook (a CSRF 400)
                # kept per data version: a new or read notification changes the version
                return remember("notifications.unread", (current_user.id,),
                                lambda: services.unread_count(current_user.id))
        except SQLAlchemyError:  # the "database is down" page must still render
            db.session.rollback()
            g.setdefault(DEGRADED, True)  # a header drawn with this 0 is not kept
            return 0

    return {"unread_notifications": unread_notifications}


@bp.get("")
@login_required
def index():
    rows = db.session.execute(select(Notification).where(Notification.user_id == current_user.id)
                              .order_by(Notification.id.desc()).limit(services.LIST_SIZE)).scalars().all()
    return render("notifications/index.html", notifications=rows, sentence=services.sentence)


@bp.get("/<id:notification_id>")
@login_required
def open_one(notification_id: int):
    """Mark it read and go where it points (only inside this site)."""
    notification = get_or_404(Notification, notification_id)
    if notification.user_id != current_user.id:
        abort(404)  # a teammate's notification is as missing as another business's
    services.mark_read(current_user.id, notification.id)
    return redirect(services.safe_url(notification.url) or url_for(".index"), code=303)


@bp.post("/read")
@login_required
def read_all():
    services.mark_read(current_user.id)
    return redirect(url_for(".index"), code=303)
