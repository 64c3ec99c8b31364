"""Meta's webhook (issue 23, point 3): the handshake, signatures, replays, statuses in any
order, inbound messages landing in the one business that owns the receiving number, and
opt-outs honoured by the next automatic send."""
import hashlib
import hmac
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from pymes import sealing
from pymes.clients.models import Client
from pymes.complaints.models import ComplaintEvent
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.notifications.models import Notification
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits.models import Activity
from pymes.whatsapp import services
from pymes.whatsapp.models import WhatsappConnection, WhatsappMessage
from pymes.whatsapp.services import PURPOSE, SECRET_PURPOSE

from ..factories import login
from .conftest import PHONE_ID, TOKEN, VERSION

SECRET = "0123456789abcdef0123456789abcdef"
OTHER_PHONE_ID = "209876543210987"
OTHER_SECRET = "fedcba9876543210fedcba9876543210"
ANA = "+56961234567"
LIMIT = 12


@pytest.fixture
def app_overrides(graph):
    return {"WHATSAPP_API_BASE": graph.url, "WHATSAPP_API_VERSION": VERSION, "WHATSAPP_TIMEOUT": 0.5,
            "WHATSAPP_WEBHOOK_LIMIT": f"{LIMIT} per minute"}


def _connect(app, business, phone_id=PHONE_ID, secret=SECRET, verify="verify-token-sur-0123456789"):
    with app.app_context(), bound(business.id):
        db.session.add(WhatsappConnection(phone_number_id=phone_id, business_account_id="102290129340398",
                                          token_sealed=sealing.seal(TOKEN, PURPOSE), verified_name=business.name,
                                          app_secret_sealed=sealing.seal(secret, SECRET_PURPOSE), verify_token=verify,
                                          feedback_template="pedido_opinion", template_language="es_CL"))
        db.session.commit()


def _shop(app, make, name="Ferretería Sur", phone_id=PHONE_ID, secret=SECRET, verify="verify-token-sur-0123456789"):
    business = make.business(name)
    owner = make.user(business, "owner")
    seller = make.user(business, "seller")
    _connect(app, business, phone_id, secret, verify)
    ana = make.client(business, "Ana Pérez", phone=ANA, email="ana@example.com", seller_id=seller.id)
    return business, owner, seller, ana


def _payload(phone_id=PHONE_ID, messages=(), statuses=()):
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "56987654321", "phone_number_id": phone_id}}
    if messages:
        value["contacts"] = [{"profile": {"name": "Ana"}, "wa_id": messages[0]["from"]}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}


def _text(wamid, text, sender="56961234567", at=1_764_950_000):
    return {"from": sender, "id": wamid, "timestamp": str(at), "type": "text", "text": {"body": text}}


def _status(wamid, status, at):
    event = {"id": wamid, "status": status, "timestamp": str(at), "recipient_id": "56961234567"}
    if status != "read":
        event["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
    return event


def _post(app, payload, secret=SECRET, signature=None):
    raw = json.dumps(payload).encode()
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    return app.test_client().post("/whatsapp/webhook", data=raw, headers=headers)


def _messages(app, business):
    with app.app_context(), bound(business.id):
        return db.session.execute(select(WhatsappMessage).order_by(WhatsappMessage.id)).scalars().all()


def _notifications(app, business):
    with app.app_context(), bound(business.id):
        return db.session.execute(select(Notification).order_by(Notification.id)).scalars().all()


# --- the handshake -------------------------------------------------------------------------

def test_handshake_answers_the_challenge_only_for_a_connection_s_verify_token(app, make):
    _shop(app, make)
    http = app.test_client()
    ok = http.get("/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=verify-token-sur-0123456789"
                  "&hub.challenge=1158201444")
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    assert ok.mimetype == "text/plain"
    for query in ("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444",
                  "hub.mode=unsubscribe&hub.verify_token=verify-token-sur-0123456789&hub.challenge=1",
                  "hub.mode=subscribe&hub.verify_token=verify-token-sur-0123456789&hub.challenge=<script>",
                  ""):
        assert http.get(f"/whatsapp/webhook?{query}").status_code == 403


def test_the_settings_page_shows_the_webhook_address_and_verify_token(app, make):
    business, owner, _seller, _ana = _shop(app, make)
    http = app.test_client()
    login(http, owner.email)
    page = http.get("/settings/whatsapp").get_data(as_text=True)
    assert "/whatsapp/webhook" in page and "verify-token-sur-0123456789" in page
    assert SECRET not in page and "Guardado" in page  # the app secret is never shown back


# --- signatures ----------------------------------------------------------------------------

def test_a_bad_or_missing_signature_is_403_and_stores_nothing(app, make):
    business, _owner, _seller, _ana = _shop(app, make)
    payload = _payload(messages=[_text("wamid.IN1", "Hola, ¿a qué hora abren?")])
    assert _post(app, payload, secret="0" * 32).status_code == 403  # another app's secret
    assert _post(app, payload, signature="").status_code == 403  # no header
    assert _post(app, payload, signature="sha256=abc").status_code == 403
    raw = json.dumps(payload).encode()
    good = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    changed = raw.replace(b"abren", b"cierran")  # one changed word, the signature of the original
    assert app.test_client().post("/whatsapp/webhook", data=changed,
                                  headers={"X-Hub-Signature-256": good}).status_code == 403
    assert _messages(app, business) == [] and _notifications(app, business) == []
    assert _post(app, payload).status_code == 200
    assert len(_messages(app, business)) == 1


def test_the_webhook_needs_no_csrf_token_but_is_rate_limited(app, make):
    business, *_ = _shop(app, make)
    answers = [_post(app, _payload(messages=[_text(f"wamid.X{n}", "hola")])).status_code for n in range(LIMIT + 1)]
    assert answers == [200] * LIMIT + [429]  # no CSRF token asked; past the limit, refused
    assert len(_messages(app, business)) == LIMIT


# --- replays and statuses --------------------------------------------------------------------

def test_a_delivery_replayed_three_times_has_one_effect(app, make):
    business, owner, seller, ana = _shop(app, make)
    make.complaint(business, ana, description="Llegó rota la caja")
    payload = _payload(messages=[_text("wamid.IN7", "¿Cuándo me cambian la caja?")])
    for _ in range(3):
        assert _post(app, payload).status_code == 200
    (row,) = _messages(app, business)
    assert (row.direction, row.client_id, row.body) == ("in", ana.id, "¿Cuándo me cambian la caja?")
    received = [n for n in _notifications(app, business) if n.kind == "whatsapp_received"]
    assert [n.user_id for n in received] == [seller.id]  # the responsible seller, once
    with app.app_context(), bound(business.id):
        events = db.session.execute(select(ComplaintEvent).where(ComplaintEvent.kind == "whatsapp_in")).scalars().all()
        assert [e.detail for e in events] == ["¿Cuándo me cambian la caja?"]  # on the open complaint's history
        checkins = db.session.execute(select(Activity).where(Activity.client_id == ana.id,
                                                             Activity.purpose == "check_in")).scalars().all()
        assert len(checkins) == 1 and checkins[0].status == "planned"  # the message counts as a contact


def test_statuses_arriving_out_of_order_never_go_backwards(app, make, graph):
    business, _owner, _seller, ana = _shop(app, make)
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, ana.id)
        from pymes.whatsapp.messaging import record

        record(client, ANA, "wamid.OUT1", kind="template", purpose="feedback")
    statuses = [_status("wamid.OUT1", "read", 1_764_950_300), _status("wamid.OUT1", "sent", 1_764_950_100),
                _status("wamid.OUT1", "delivered", 1_764_950_200)]
    for status in statuses:
        assert _post(app, _payload(statuses=[status])).status_code == 200
    (row,) = _messages(app, business)
    assert row.status == "read" and row.category == "utility"
    assert row.status_at.timestamp() == 1_764_950_300
    _post(app, _payload(statuses=[_status("wamid.OUT1", "failed", 1_764_950_400)]))
    assert _messages(app, business)[0].status == "read"  # a read message did not fail afterwards


# --- tenants ---------------------------------------------------------------------------------

def test_an_inbound_message_reaches_only_the_business_that_owns_the_receiving_number(app, make):
    """TEN-1: the same customer is a client of two businesses; the message written to the
    first business's number lands only there, whatever the payload claims elsewhere."""
    sur, sur_owner, sur_seller, sur_ana = _shop(app, make)
    norte, norte_owner, norte_seller, norte_ana = _shop(app, make, "Ferretería Norte", OTHER_PHONE_ID, OTHER_SECRET,
                                                        "verify-token-norte-0123456789")
    assert _post(app, _payload(messages=[_text("wamid.SUR", "Gracias por la entrega")])).status_code == 200
    (row,) = _messages(app, sur)
    assert row.client_id == sur_ana.id
    assert _messages(app, norte) == [] and _notifications(app, norte) == []
    # the same delivery signed with Norte's secret, or Sur's number with Norte's secret: refused
    assert _post(app, _payload(messages=[_text("wamid.SUR2", "x")]), secret=OTHER_SECRET).status_code == 403
    # a business that typed another's number id gets nothing without that number's app secret
    intruder = make.business("Intrusa")
    _connect(app, intruder, PHONE_ID, "abcdefabcdefabcdefabcdefabcdefab", "verify-intrusa-0123456789")
    make.client(intruder, "Ana Pérez", phone=ANA)
    assert _post(app, _payload(messages=[_text("wamid.SUR3", "¿Tienen tornillos?")])).status_code == 200
    assert _messages(app, intruder) == []
    assert [m.wamid for m in _messages(app, sur)] == ["wamid.SUR", "wamid.SUR3"]
    assert _messages(app, norte) == []


def test_a_message_from_an_unknown_number_is_kept_for_the_owner(app, make):
    business, owner, _seller, _ana = _shop(app, make)
    _post(app, _payload(messages=[_text("wamid.NEW", "Hola, ¿venden pintura?", sender="56922223333")]))
    (row,) = _messages(app, business)
    assert row.client_id is None and row.phone == "+56922223333"
    assert {n.user_id for n in _notifications(app, business)} == {owner.id}
    http = app.test_client()
    login(http, owner.email)
    page = http.get("/settings/whatsapp").get_data(as_text=True)
    assert "+56922223333" in page and "¿venden pintura?" in page


def test_the_client_page_shows_the_message_and_the_opt_out(app, make):
    business, _owner, seller, ana = _shop(app, make)
    _post(app, _payload(messages=[_text("wamid.A", "Me llegó todo bien")]))
    _post(app, _payload(messages=[_text("wamid.B", "  Baja ")]))
    http = app.test_client()
    login(http, seller.email)
    page = http.get(f"/clients/{ana.id}").get_data(as_text=True)
    assert "Me llegó todo bien" in page
    assert 'data-testid="whatsapp-opt-out"' in page
    assert "Solo el cliente puede deshacerlo" in page  # read-only for the team: no button


# --- opt-out -----------------------------------------------------------------------------------

def test_an_opt_out_is_honoured_by_the_next_automatic_send_and_reversed_by_the_client(app, make, graph, outbox):
    business, _owner, _seller, ana = _shop(app, make)
    today = date(2026, 11, 25)
    with app.app_context(), bound(business.id):
        feedback.save_settings(30, 3)
        db.session.add(Sale(client_id=ana.id, sold_on=today - timedelta(days=5), description="Taladro",
                            amount=50_000, delivery_on=today - timedelta(days=3)))
        db.session.commit()
    for word in ("STOP", "parar", "СТОП"):
        _post(app, _payload(messages=[_text(f"wamid.{word}", word)]))
        with app.app_context(), bound(business.id):
            assert db.session.get(Client, ana.id).whatsapp_opt_out_at is not None
        _post(app, _payload(messages=[_text(f"wamid.alta.{word}", "Alta")]))
        with app.app_context(), bound(business.id):
            assert db.session.get(Client, ana.id).whatsapp_opt_out_at is None
    _post(app, _payload(messages=[_text("wamid.BAJA", "baja")]))
    with app.app_context():
        assert feedback.send_after_delivery(today=today) == 1
    assert [r for r in graph.requests if r["path"] == f"/{VERSION}/{PHONE_ID}/messages"] == []
    assert [m["To"] for m in outbox.messages()] == ["ana@example.com"]  # by e-mail instead


def test_a_connection_without_an_app_secret_accepts_nothing(app, make):
    business = make.business()
    with app.app_context(), bound(business.id):
        db.session.add(WhatsappConnection(phone_number_id=PHONE_ID, business_account_id="1029",
                                          token_sealed=sealing.seal(TOKEN, PURPOSE)))
        db.session.commit()
        conn = services.connection()
        assert services.app_secret(conn) is None
    assert _post(app, _payload(messages=[_text("wamid.Z", "hola")])).status_code == 403
    assert _messages(app, business) == []
