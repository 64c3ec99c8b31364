"""What the application sends through a connected WhatsApp number (issue 23, point 2).

Today: the automatic feedback request after a delivery, as the approved template the
owner named on Settings → WhatsApp, with three body parameters in this order:
{{1}} the client's greeting name, {{2}} the business's name, {{3}} the feedback link.
Without a connection, a template or a key that opens the token, ``feedback_sender``
gives None and the request goes by e-mail exactly as before."""
from __future__ import annotations

import logging

from flask_babel import gettext as _

from ..contact import greeting_name, whatsapp_number
from ..notifications.services import SENTENCES
from . import cloud_api, services

log = logging.getLogger(__name__)

# Failures that will fail the same way for every client of the business this run.
BUSINESS_WIDE = {"token", "permission", "phone_number", "template", "rate_limit", "unavailable"}
# ... and of those, the ones only the owner can fix (on Meta's side or on Settings → WhatsApp).
OWNER_MUST_ACT = {"token", "permission", "phone_number", "template"}


class FeedbackSender:
    """Sends the feedback template for the bound business."""

    def __init__(self, connection, token: str):
        self.connection, self._token = connection, token
        self.broken: cloud_api.WhatsAppError | None = None  # set by a business-wide failure

    def number(self, client) -> str | None:
        """The client's WhatsApp-capable mobile, or None (then: e-mail). A client who has
        opted out of automatic WhatsApp messages gets None too."""
        if self.broken is not None or getattr(client, "whatsapp_opt_out_at", None) is not None:
            return None
        return whatsapp_number(client)

    def send(self, client, business, number: str, url: str) -> str:
        """Send the template; Meta's message id. Raises ``cloud_api.WhatsAppError``."""
        conn = self.connection
        try:
            wamid = cloud_api.send_template(conn.phone_number_id, self._token, number, conn.feedback_template,
                                            conn.template_language, [greeting_name(client), business.name, url])
            record(client, number, wamid, kind="template", purpose="feedback", body=conn.feedback_template)
            return wamid
        except cloud_api.WhatsAppError as error:
            if error.kind in BUSINESS_WIDE:
                self.broken = error
                if error.kind in OWNER_MUST_ACT:
                    tell_owners(error.kind)
            raise


def record(client, number: str, wamid: str, *, kind: str, purpose: str, body: str = "",
           category: str | None = None) -> None:
    """Keep a message Meta accepted (its statuses arrive later on the webhook), committed
    at once: Meta has it, whatever the caller does next."""
    from ..extensions import db
    from .models import WhatsappMessage

    db.session.add(WhatsappMessage(direction="out", wamid=wamid[:128], phone=number, client_id=client.id, kind=kind,
                                   purpose=purpose, body=body[:4096], status="accepted",
                                   category=category or ("utility" if kind == "template" else "service")))
    db.session.commit()


def tell_owners(reason: str) -> None:
    """An in-app notification to the business's active owners, linking to Settings →
    WhatsApp; not again while an earlier one is unread (the job runs every day)."""
    from sqlalchemy import select

    from ..accounts.models import User
    from ..extensions import db
    from ..notifications.models import Notification
    from ..notifications.services import notify, path_for

    owners = db.session.execute(select(User.id).where(User.role == "owner", User.active.is_(True))).scalars().all()
    told = set(db.session.execute(select(Notification.user_id).where(
        Notification.kind == "whatsapp_failed", Notification.read_at.is_(None))).scalars())
    notify([user_id for user_id in owners if user_id not in told], "whatsapp_failed", {"reason": reason},
           url=path_for("whatsapp.page"))
    db.session.commit()


def feedback_sender() -> FeedbackSender | None:
    """The bound business's sender for the feedback request, or None (e-mail only)."""
    conn = services.connection()
    if conn is None or not conn.feedback_template or not conn.template_language:
        return None
    token = services.token(conn)
    if token is None:
        log.warning("whatsapp: business %s has a token no configured key opens; feedback requests go by e-mail",
                    conn.tenant_id)
        return None
    return FeedbackSender(conn, token)


def _failed_sentence(payload: dict) -> str:
    """The owners' notification when Meta refused an automatic send and e-mail took over."""
    return _("WhatsApp did not send the automatic messages (clients with an e-mail address got them by e-mail). "
             "%(reason)s", reason=cloud_api.WhatsAppError(str(payload.get("reason") or "rejected")).message)


SENTENCES["whatsapp_failed"] = _failed_sentence
