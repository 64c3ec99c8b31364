"""What the application sends through a connected WhatsApp number (issue 23, point 2).

Today: the automatic feedback request after a delivery, as the approved template the
owner named on Settings → WhatsApp, with three body parameters in this order:
{{1}} the client's greeting name, {{2}} the business's name, {{3}} the feedback link.
Without a connection, a template or a key that opens the token, ``feedback_sender``
gives None and the request goes by e-mail exactly as before."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _

from ..contact import greeting_name, whatsapp_number
from ..db import utcnow
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
        try:
            _within_cap(self.connection)
        except cloud_api.WhatsAppError:
            return None  # the month's cap is reached: e-mail
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


# --- the 24-hour customer-service window and messages to one client (issue 23, point 2) ---

WINDOW = timedelta(hours=24)
CLIENT_LANGUAGES = ("es", "en", "pt", "ru")


def last_inbound_at(client_id: int) -> datetime | None:
    """When the client last wrote to the business's number (Meta's time of the message)."""
    from sqlalchemy import func, select

    from ..extensions import db
    from .models import WhatsappMessage

    return db.session.execute(select(func.max(WhatsappMessage.status_at)).where(
        WhatsappMessage.client_id == client_id, WhatsappMessage.direction == "in")).scalar()


def window_open(client_id: int, now: datetime | None = None) -> bool:
    """Whether free-form text may be sent: the client wrote within the last 24 hours."""
    last = last_inbound_at(client_id)
    if last is None:
        return False
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return (now or utcnow()) - last < WINDOW


def _connected():
    """(connection, token) of the bound business; ``WhatsAppError("not_connected")`` otherwise."""
    conn = services.connection()
    token = services.token(conn) if conn is not None else None
    if conn is None or token is None:
        raise cloud_api.WhatsAppError("not_connected")
    return conn, token


def _within_cap(conn) -> None:
    from sqlalchemy import func, select

    from ..extensions import db
    from .models import WhatsappMessage

    if conn.monthly_cap is None:
        return
    sent = db.session.execute(select(func.count()).select_from(WhatsappMessage).where(
        WhatsappMessage.direction == "out", WhatsappMessage.created_at >= services.month_start())).scalar_one()
    if sent >= conn.monthly_cap:
        raise cloud_api.WhatsAppError("cap")


def _number(client, automatic: bool) -> str:
    if automatic and client.whatsapp_opt_out_at is not None:
        raise cloud_api.WhatsAppError("opted_out")
    number = whatsapp_number(client)
    if number is None:
        raise cloud_api.WhatsAppError("recipient")
    return number


def send_free_text(client, text: str, *, purpose: str = "manual", automatic: bool = False) -> str:
    """Free-form text to the client: only inside the 24-hour window (outside it Meta
    delivers approved templates only, so nothing is sent and ``WhatsAppError("window")``
    says so in words). Meta's message id; the message is recorded."""
    conn, token = _connected()
    number = _number(client, automatic)
    if not window_open(client.id):
        raise cloud_api.WhatsAppError("window")
    _within_cap(conn)
    wamid = cloud_api.send_text(conn.phone_number_id, token, number, text)
    record(client, number, wamid, kind="text", purpose=purpose, body=text, category="service")
    return wamid


def client_language(client, business) -> str:
    """The client's language for messages, else the business's (the feedback's rule)."""
    return client.language if client.language in CLIENT_LANGUAGES else business.language


def template_for(purpose: str, language: str):
    """The approved template named for a purpose in a language: exact code first (es_CL),
    then one of the same language (es for es_CL, es_CL for es)."""
    from sqlalchemy import select

    from ..extensions import db
    from .models import WhatsappTemplate

    rows = db.session.execute(select(WhatsappTemplate).where(WhatsappTemplate.purpose == purpose)
                              .order_by(WhatsappTemplate.language)).scalars().all()
    base = language.split("_")[0]
    exact = [t for t in rows if t.language == language]
    same = [t for t in rows if t.language.split("_")[0] == base]
    return (exact or same or [None])[0]


def tell_client(client, business, purpose: str, text: str, parameters: list[str]) -> str:
    """An automatic message the client should get (callback confirmation, complaint
    received or resolved): the text inside the 24-hour window, else the purpose's approved
    template in the client's language with ``parameters``. Meta's message id; raises
    ``WhatsAppError`` (not connected, opted out, no number, no template, cap, Meta's
    refusal) and the caller keeps what it did before WhatsApp could send."""
    conn, token = _connected()
    number = _number(client, automatic=True)
    _within_cap(conn)
    if window_open(client.id):
        wamid = cloud_api.send_text(conn.phone_number_id, token, number, text)
        record(client, number, wamid, kind="text", purpose=purpose, body=text, category="service")
        return wamid
    template = template_for(purpose, client_language(client, business))
    if template is None:
        raise cloud_api.WhatsAppError("no_template")
    wamid = cloud_api.send_template(conn.phone_number_id, token, number, template.name, template.language,
                                    parameters)
    record(client, number, wamid, kind="template", purpose=purpose, body=text, category="utility")
    return wamid


# --- the complaint's acknowledgement and resolution (issue 23, point 2) ---------------------

def complaint_message(complaint, what: str) -> str | None:
    """Tell the client, by WhatsApp, that their complaint was received or what was done
    about it, in their language: text inside the 24-hour window, else the approved
    template (``complaint_ack``: {{1}} name, {{2}} business, {{3}} the day it will be
    resolved by; ``complaint_resolved``: {{1}} name, {{2}} business, {{3}} what was
    done). The message goes on the case's history (and, resolved, counts as the client
    told). Not connected, opted out, no number or template, or refused by Meta: nothing
    changes and the team tells the client as before (the wa.me link on the case).
    Returns Meta's message id or None."""
    from flask_babel import force_locale, format_date

    from ..accounts.models import Business
    from ..clients.models import Client
    from ..complaints.services import log as complaint_log
    from ..complaints.services import message_to_client
    from ..extensions import db

    client = db.session.get(Client, complaint.client_id)
    business = db.session.get(Business, complaint.tenant_id)
    name = greeting_name(client)
    with force_locale(client_language(client, business)):
        if what == "acknowledged":
            purpose = "complaint_ack"
            by = format_date(complaint.resolve_due_at, "long")
            text = _("Hello %(name)s, this is %(business)s. We received your complaint and are working on it: "
                     "you will hear from us by %(date)s.", name=name, business=business.name, date=by)
            third = by
        else:
            purpose = "complaint_resolved"
            _subject, text = message_to_client(complaint, client, business)
            from ..complaints.forms import REMEDY_LABELS

            third = str(REMEDY_LABELS.get(complaint.remedy or "", ""))
            if complaint.remedy_notes:
                third = f"{third}: {complaint.remedy_notes}" if third else complaint.remedy_notes
    try:
        wamid = tell_client(client, business, purpose, text, [name, business.name, third])
    except cloud_api.WhatsAppError as error:
        log.info("whatsapp: complaint %s %s not sent (%s)", complaint.id, what, error.kind)
        return None
    complaint_log(complaint, None, "whatsapp_out", f"“{text}”")
    if what == "resolved" and complaint.client_told_at is None:
        complaint.client_told_at, complaint.client_told_via = utcnow(), "whatsapp"
    db.session.commit()
    return wamid


def _register() -> None:
    from ..complaints.services import CLIENT_MESSENGERS

    if complaint_message not in CLIENT_MESSENGERS:
        CLIENT_MESSENGERS.append(complaint_message)


_register()


# --- the callback confirmation (issue 23, point 2) --------------------------------------------

def confirm_callback(response, client, business, promise: dict | None, window_hours: dict) -> str | None:
    """A customer asked on the feedback page to be contacted by WhatsApp: confirm it from
    the business's number, in their language ("we will write to you today between 19:00
    and 21:00"), as text inside the 24-hour window, else the ``callback`` template ({{1}}
    name, {{2}} business, {{3}} when). Once per answer (a corrected answer is not
    confirmed again). Not connected, opted out, no template or refused: nothing is sent;
    the thank-you page's promise and the seller's agenda stay as before."""
    from sqlalchemy import select

    from ..extensions import db
    from .models import WhatsappMessage

    if not promise or promise.get("channel") != "whatsapp" or services.connection() is None:
        return None
    already = db.session.execute(select(WhatsappMessage.id).where(
        WhatsappMessage.client_id == client.id, WhatsappMessage.purpose == "callback",
        WhatsappMessage.direction == "out", WhatsappMessage.created_at >= response.created_at)).first()
    if already:
        return None
    from flask_babel import force_locale

    name = greeting_name(client)
    hours = window_hours.get(promise.get("window") or "")
    with force_locale(client_language(client, business)):
        if hours and promise.get("tomorrow"):
            when = _("tomorrow between %(start)s:00 and %(end)s:00", start=hours[0], end=hours[1])
        elif hours:
            when = _("today between %(start)s:00 and %(end)s:00", start=hours[0], end=hours[1])
        else:
            when = _("tomorrow") if promise.get("tomorrow") else _("today")
        text = _("Hello %(name)s, this is %(business)s. We got your request: we will write to you on WhatsApp "
                 "%(when)s.", name=name, business=business.name, when=when)
    try:
        return tell_client(client, business, "callback", text, [name, business.name, when])
    except cloud_api.WhatsAppError as error:
        log.info("whatsapp: callback confirmation not sent (%s)", error.kind)
        return None
