"""Meta's webhook for the connected numbers (issue 23, point 3): ``/whatsapp/webhook``.

No log-in and no CSRF token (Meta cannot send one), so the tenant comes only from
what verifies (TEN-1):

- ``GET``: Meta's handshake. ``hub.verify_token`` must be one connection's verify token
  (shown on Settings → WhatsApp); the answer is ``hub.challenge``, else 403.
- ``POST``: the payload names the receiving number (``metadata.phone_number_id``). The
  connections with that id are found inside ``identity_lookup()`` (no tenant is bound
  yet: on PostgreSQL row-level security would hide them otherwise), and an event goes
  only to a connection whose app secret signs the raw body
  (``X-Hub-Signature-256: sha256=<HMAC-SHA256>``, compared in constant time). A number
  no connection verifies, a missing or wrong signature: 403 and nothing stored. The
  business is then bound explicitly for its events; a client with the same number in
  another business never sees them. Replays are idempotent (``events``)."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re

from flask import Blueprint, current_app, request
from sqlalchemy import select

from ..extensions import csrf, db, limiter
from ..tenancy import bound, identity_lookup
from . import events, services
from .models import WhatsappConnection

log = logging.getLogger(__name__)

bp = Blueprint("whatsapp_webhook", __name__, url_prefix="/whatsapp")
_CHALLENGE = re.compile(r"[0-9A-Za-z_\-]{1,128}")


def _forbidden():
    return {"error": "forbidden"}, 403


@bp.get("/webhook")
@limiter.limit("60 per minute")
def verify():
    mode, token = request.args.get("hub.mode", ""), request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    if mode != "subscribe" or not token or len(token) > 64 or not _CHALLENGE.fullmatch(challenge):
        return _forbidden()
    with identity_lookup():
        found = db.session.execute(select(WhatsappConnection.verify_token)
                                   .where(WhatsappConnection.verify_token == token)).scalar_one_or_none()
    db.session.rollback()
    if found is None or not hmac.compare_digest(found.encode(), token.encode()):
        return _forbidden()
    return challenge, 200, {"Content-Type": "text/plain; charset=utf-8"}


def _numbers(payload: dict) -> dict[str, list[dict]]:
    """Each receiving number's id → the change values addressed to it."""
    found: dict[str, list[dict]] = {}
    if payload.get("object") != "whatsapp_business_account":
        return found
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue
            number = str((value.get("metadata") or {}).get("phone_number_id") or "")
            if number:
                found.setdefault(number, []).append(value)
    return found


def signed(raw: bytes, header: str, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


@bp.post("/webhook")
@csrf.exempt
@limiter.limit(lambda: current_app.config.get("WHATSAPP_WEBHOOK_LIMIT") or "1200 per minute")
def receive():
    raw = request.get_data()
    header = request.headers.get("X-Hub-Signature-256", "")
    if not header.startswith("sha256="):
        return _forbidden()
    try:
        payload = json.loads(raw)
    except ValueError:
        return _forbidden()
    numbers = _numbers(payload) if isinstance(payload, dict) else {}
    if not numbers:
        return _forbidden()
    with identity_lookup():
        candidates = db.session.execute(select(WhatsappConnection.tenant_id, WhatsappConnection.phone_number_id,
                                               WhatsappConnection.app_secret_sealed)
                                        .where(WhatsappConnection.phone_number_id.in_(list(numbers)))).all()
    db.session.rollback()
    routes: list[tuple[int, str]] = []
    for number in numbers:
        owners = [tenant for tenant, phone_id, sealed in candidates if phone_id == number and sealed and
                  (secret := services.sealing.unseal(sealed, services.SECRET_PURPOSE)) and signed(raw, header, secret)]
        if not owners:
            log.warning("whatsapp webhook: a delivery for a number no connection verifies (signature or number)")
            return _forbidden()
        routes.extend((tenant, number) for tenant in owners)
    applied = 0
    for tenant, number in routes:
        with bound(tenant):
            for value in numbers[number]:
                applied += events.apply(value)
        db.session.rollback()  # nothing of one business's transaction carries into the next
    return {"result": "ok", "applied": applied}, 200
