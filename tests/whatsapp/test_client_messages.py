"""Callback confirmation and the complaint's acknowledgement and resolution sent through
the Cloud API when connected, in the client's language (issue 23, point 2); without a
connection nothing changes."""
import re
import time
from datetime import datetime

from sqlalchemy import select

from pymes.complaints import services as complaints
from pymes.complaints.models import Complaint, ComplaintEvent
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.tenancy import bound
from pymes.whatsapp import services
from pymes.whatsapp.models import WhatsappMessage

from .conftest import PHONE_ID, VERSION
from .test_webhook import _shop
from .test_window import _write_in


def _sent(graph):
    return [r["json"] for r in graph.requests if r["path"] == f"/{VERSION}/{PHONE_ID}/messages"]


def _handle(app, business, owner, complaint_id, *steps):
    from pymes.accounts.models import User

    with app.app_context(), bound(business.id):
        case = db.session.get(Complaint, complaint_id)
        actor = db.session.get(User, owner.id)
        for step in steps:
            if step == "ack":
                complaints.acknowledge(case, actor)
            else:
                complaints.record_remedy(case, actor, "replacement", 0, "Le llevamos una caja nueva el jueves.")
                complaints.resolve(case, actor)


def _history(app, business):
    with app.app_context(), bound(business.id):
        return [(e.kind, e.detail) for e in db.session.execute(
            select(ComplaintEvent).where(ComplaintEvent.kind == "whatsapp_out").order_by(ComplaintEvent.id)).scalars()]


def test_complaint_acknowledged_outside_the_window_goes_as_the_template(app, make, graph):
    business, owner, _seller, ana = _shop(app, make)
    with app.app_context(), bound(business.id):
        services.save_template("complaint_ack", "reclamo_recibido", "es")
    case = make.complaint(business, ana, description="Llegó rota la caja")
    _handle(app, business, owner, case.id, "ack")
    (message,) = _sent(graph)
    assert message["type"] == "template" and message["template"]["name"] == "reclamo_recibido"
    params = [p["text"] for p in message["template"]["components"][0]["parameters"]]
    assert params[:2] == ["Ana", "Ferretería Sur"]
    (line,) = _history(app, business)
    assert "Recibimos tu reclamo" in line[1]  # on the case's history, in the client's language


def test_complaint_resolved_inside_the_window_goes_as_text_and_counts_as_told(app, make, graph):
    business, owner, _seller, ana = _shop(app, make)
    case = make.complaint(business, ana, description="Llegó rota la caja")
    _write_in(app)  # Ana wrote a moment ago
    _handle(app, business, owner, case.id, "ack", "resolve")
    ack, resolved = _sent(graph)
    assert ack["type"] == resolved["type"] == "text"  # no template needed inside the window
    assert "Le llevamos una caja nueva el jueves." in resolved["text"]["body"]
    with app.app_context(), bound(business.id):
        case = db.session.get(Complaint, case.id)
        assert case.client_told_via == "whatsapp" and case.client_told_at is not None


def test_an_english_speaking_client_gets_english(app, make, graph):
    business, owner, _seller, _ana = _shop(app, make)
    john = make.client(business, "John Smith", phone="+56987650000", language="en")
    case = make.complaint(business, john, description="Broken box")
    with app.app_context(), bound(business.id):
        db.session.add(WhatsappMessage(direction="in", wamid="wamid.J", phone="+56987650000", client_id=john.id,
                                       status="received", status_at=datetime.now().astimezone()))
        db.session.commit()
    _handle(app, business, owner, case.id, "ack")
    (message,) = _sent(graph)
    assert message["text"]["body"].startswith("Hello John, this is Ferretería Sur. We received your complaint")


def test_without_a_template_or_a_connection_nothing_is_sent_and_the_case_goes_on(app, make, graph):
    business, owner, _seller, ana = _shop(app, make)
    case = make.complaint(business, ana, description="Llegó rota la caja")
    _handle(app, business, owner, case.id, "ack", "resolve")  # outside the window, no template named
    assert _sent(graph) == [] and _history(app, business) == []
    plain = make.business("Sin WhatsApp")
    other_owner = make.user(plain, "owner")
    rosa = make.client(plain, "Rosa Díaz", phone="+56961234567")
    other = make.complaint(plain, rosa, description="Rayado")
    _handle(app, plain, other_owner, other.id, "ack", "resolve")
    assert _sent(graph) == []
    with app.app_context(), bound(plain.id):
        assert db.session.get(Complaint, other.id).status == "resolved"


def test_a_callback_asked_for_by_whatsapp_is_confirmed_once_from_the_business_number(app, make, graph,
                                                                                    monkeypatch):
    from zoneinfo import ZoneInfo

    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    monkeypatch.setattr(feedback, "local_now",
                        lambda b: datetime(2026, 12, 1, 16, 0, tzinfo=ZoneInfo(b.timezone)))
    business, _owner, _seller, ana = _shop(app, make)
    with app.app_context(), bound(business.id):
        services.save_template("callback", "confirmar_llamada", "es_CL")
        from pymes.clients.models import Client

        secret = feedback.create_link(db.session.get(Client, ana.id), None)
    customer = app.test_client()
    for _ in range(2):  # answered, then corrected: confirmed once
        form = customer.get(f"/f/{secret}?lang=es").get_data(as_text=True)
        data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
                "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1), "score": "4",
                "comment": "Llegó rayado", "callback": "1", "callback_channel": "whatsapp",
                "callback_window": "evening"}
        assert customer.post(f"/f/{secret}?lang=es", data=data).status_code == 200
        time.sleep(0.01)
    (message,) = _sent(graph)
    assert message["template"]["name"] == "confirmar_llamada"
    params = [p["text"] for p in message["template"]["components"][0]["parameters"]]
    assert params == ["Ana", "Ferretería Sur", "hoy entre las 19:00 y las 21:00"]
