"""What a verified webhook delivery changes in one business (issue 23, point 3).

``apply(change_value)`` runs with the business bound (``whatsapp.webhook`` binds the
business that owns the receiving number) and handles one ``changes[].value`` of Meta's
payload:

- ``statuses``: the outbound message's status moves forward only (accepted → sent →
  delivered → read; failed only before delivery), so deliveries may arrive in any order;
- ``messages``: an inbound message is stored once per Meta id (unique per business: a
  replayed delivery changes nothing), matched to the client by number (E.164) within
  this business only, put on the client's timeline, counted as a contact (the client's
  next check-in moves out), added to the history of the client's open complaint, and
  announced to the responsible seller (to the owners and managers when there is none, or
  when no client has that number). "BAJA", "STOP"... opt the client out of automatic
  WhatsApp messages; "ALTA", "START"... opt them back in."""
from __future__ import annotations

import logging
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..clients.page import TIMELINE_SOURCES
from ..db import utcnow
from ..extensions import db
from ..notifications.services import SENTENCES, notify, path_for
from .models import WhatsappMessage

log = logging.getLogger(__name__)

# The order a message's status moves in; an older status arriving late changes nothing.
RANK = {"accepted": 0, "sent": 1, "failed": 2, "delivered": 3, "read": 4}
OPT_OUT = frozenset({"baja", "stop", "parar", "cancelar", "sair", "стоп", "unsubscribe", "darse de baja"})
OPT_IN = frozenset({"alta", "start", "volver", "старт"})
BODY_LIMIT = 4096


def _keyword(text: str) -> str:
    """The message as one keyword: trimmed, lower case, accents and final punctuation off."""
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.strip(" .!¡¿?")


def _when(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def apply(value: dict) -> int:
    """Apply one change's value for the bound business; the number of new effects."""
    done = 0
    for status in value.get("statuses") or []:
        if isinstance(status, dict):
            done += _status(status)
    for message in value.get("messages") or []:
        if isinstance(message, dict):
            done += _inbound(message)
    return done


def _status(event: dict) -> int:
    wamid, status = str(event.get("id") or ""), str(event.get("status") or "")
    if not wamid or status not in RANK:
        return 0
    message = db.session.execute(select(WhatsappMessage).where(
        WhatsappMessage.wamid == wamid, WhatsappMessage.direction == "out")).scalar_one_or_none()
    if message is None:
        return 0  # sent from the phone or another tool: not ours to follow
    changed = 0
    category = str((event.get("pricing") or {}).get("category") or "")
    if category in ("marketing", "utility", "authentication", "service") and message.category != category:
        message.category, changed = category, 1
    if RANK[status] > RANK.get(message.status, -1):
        message.status, message.status_at, changed = status, _when(event.get("timestamp")), 1
        errors = event.get("errors") or []
        if status == "failed" and errors and isinstance(errors[0], dict) and isinstance(errors[0].get("code"), int):
            message.error_code = errors[0]["code"]
    if changed:
        db.session.commit()
    return changed


def _text_of(message: dict) -> str:
    kind = message.get("type")
    part = message.get(kind) if isinstance(kind, str) else None
    if not isinstance(part, dict):
        return ""
    if kind == "text":
        return str(part.get("body") or "")
    if kind == "button":
        return str(part.get("text") or "")
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        return str(reply.get("title") or "") if isinstance(reply, dict) else ""
    return str(part.get("caption") or "")


def find_client(e164: str):
    """The business's client with that number (phone or WhatsApp field), or None; the
    bound business only (the ORM's tenant criteria and, on PostgreSQL, row-level security)."""
    from ..clients.models import Client

    return db.session.execute(
        select(Client).where(or_(Client.whatsapp == e164, Client.phone == e164))
        .order_by(Client.deleted_at.is_not(None), Client.id)).scalars().first()


def _inbound(event: dict) -> int:
    wamid, sender = str(event.get("id") or "")[:128], str(event.get("from") or "")
    digits = "".join(ch for ch in sender if ch.isdigit())
    if not wamid or not 8 <= len(digits) <= 15:
        return 0
    if db.session.execute(select(WhatsappMessage.id).where(WhatsappMessage.wamid == wamid)).first():
        return 0  # a replay
    e164 = "+" + digits
    client = find_client(e164)
    body = _text_of(event)[:BODY_LIMIT]
    at = _when(event.get("timestamp"))
    row = WhatsappMessage(direction="in", wamid=wamid, phone=e164, client_id=client.id if client else None,
                          kind=str(event.get("type") or "text")[:16], category="service", body=body,
                          status="received", status_at=at)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # the same message delivered concurrently: the other delivery stored it
        db.session.rollback()
        return 0
    if client is not None:
        _effects(client, row, body, at)
    else:
        _tell(None, "whatsapp_received", {"client": e164, "text": body[:140]}, path_for("whatsapp.page") + "#unknown")
    db.session.commit()
    return 1


def _effects(client, row: WhatsappMessage, body: str, at: datetime) -> None:
    from ..accounts.models import Business
    from ..complaints.models import Complaint
    from ..complaints.services import log as complaint_log
    from ..visits.services import schedule_checkin

    keyword = _keyword(body) if row.kind == "text" else ""
    if keyword in OPT_OUT and client.whatsapp_opt_out_at is None:
        client.whatsapp_opt_out_at = at
    elif keyword in OPT_IN and client.whatsapp_opt_out_at is not None:
        client.whatsapp_opt_out_at = None
    if client.deleted_at is None:
        business = db.session.get(Business, client.tenant_id)
        schedule_checkin(client, at.astimezone(ZoneInfo(business.timezone)).date())  # a message is a contact
    complaints = db.session.execute(select(Complaint).where(
        Complaint.client_id == client.id, Complaint.status != "resolved").order_by(Complaint.id)).scalars().all()
    for complaint in complaints:
        complaint_log(complaint, None, "whatsapp_in", body[:1000])
    url = path_for("clients.show", client_id=client.id) + f"#whatsapp-{row.id}"
    params = {"client": client.name, "text": body[:140]}
    readers = {client.seller_id} | {c.owner_id for c in complaints}
    _tell({r for r in readers if r}, "whatsapp_received", params, url)


def _tell(user_ids: set[int] | None, kind: str, params: dict, url: str) -> None:
    """The responsible people, active; the owners and managers when there is none."""
    from ..accounts.models import User

    query = select(User.id).where(User.active.is_(True))
    readers = db.session.execute(query.where(User.id.in_(user_ids))).scalars().all() if user_ids else []
    if not readers:
        readers = db.session.execute(query.where(User.role.in_(("owner", "manager")))).scalars().all()
    notify(sorted(readers), kind, params, url)


def _received_sentence(payload: dict) -> str:
    text = str(payload.get("text") or "")
    if text:
        return _("%(client)s wrote on WhatsApp: “%(text)s”", client=payload.get("client", ""), text=text)
    return _("%(client)s sent a WhatsApp message.", client=payload.get("client", ""))


SENTENCES["whatsapp_received"] = _received_sentence


def _on_the_timeline(client_id: int) -> list:
    """The client's latest 50 messages for the client page's timeline."""
    rows = db.session.execute(select(WhatsappMessage).where(WhatsappMessage.client_id == client_id)
                              .order_by(WhatsappMessage.created_at.desc(), WhatsappMessage.id.desc())
                              .limit(50)).scalars().all()
    return [(row.created_at, "whatsapp", row) for row in rows]


TIMELINE_SOURCES.append(_on_the_timeline)
