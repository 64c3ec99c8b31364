"""The automatic feedback request goes by WhatsApp when the business is connected
(issue 23, point 2): the exact Cloud API request, the e-mail fallback, and nothing
changed for a business that did not connect."""
import re
from datetime import date, timedelta

from sqlalchemy import func, select

from pymes import sealing
from pymes.clients.models import Client
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.feedback.models import FeedbackLink
from pymes.notifications.models import Notification
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.whatsapp.models import WhatsappConnection
from pymes.whatsapp.services import PURPOSE

from ..factories import login
from .conftest import PHONE_ID, TOKEN, VERSION, graph_error

TODAY = date(2026, 11, 25)


def _shop(app, make, connected=True, template="pedido_opinion"):
    """A business sending requests 3 days after delivery, with three delivered clients:
    Ana (mobile and e-mail), Bruno (mobile only), Carla (landline and e-mail)."""
    business = make.business("Ferretería Sur")
    ids = {}
    with app.app_context(), bound(business.id):
        feedback.save_settings(30, 3)
        if connected:
            db.session.add(WhatsappConnection(phone_number_id=PHONE_ID, business_account_id="102290129340398",
                                              token_sealed=sealing.seal(TOKEN, PURPOSE), verified_name="Ferretería Sur",
                                              feedback_template=template, template_language="es_CL"))
        for name, email, phone in (("Ana Pérez", "ana@example.com", "+56 9 6123 4567"),
                                   ("Bruno Díaz", None, "+56 9 8765 4321"),
                                   ("Carla Soto", "carla@example.com", "+56 2 2345 6789")):
            client = Client(name=name, email=email, phone=phone)
            db.session.add(client)
            db.session.flush()
            ids[name.split()[0]] = client.id
            db.session.add(Sale(client_id=client.id, sold_on=TODAY - timedelta(days=5), description="Taladro",
                                amount=50_000, delivery_on=TODAY - timedelta(days=3)))
        db.session.commit()
    return business, ids


def _messages(graph):
    return [r for r in graph.requests if r["path"] == f"/{VERSION}/{PHONE_ID}/messages"]


def test_connected_business_sends_the_template_to_mobiles_and_e_mails_the_rest(app, make, graph, outbox):
    business, _ids = _shop(app, make)
    with app.app_context():
        assert feedback.send_after_delivery(today=TODAY) == 3
        assert feedback.send_after_delivery(today=TODAY) == 0  # once per sale
    sent = _messages(graph)
    assert [r["json"]["to"] for r in sent] == ["56961234567", "56987654321"]
    first = sent[0]
    assert first["authorization"] == f"Bearer {TOKEN}"
    link = first["json"]["template"]["components"][0]["parameters"][2]["text"]
    assert first["json"] == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "56961234567", "type": "template",
        "template": {"name": "pedido_opinion", "language": {"code": "es_CL"},
                     "components": [{"type": "body", "parameters": [
                         {"type": "text", "text": "Ana"}, {"type": "text", "text": "Ferretería Sur"},
                         {"type": "text", "text": link}]}]}}
    assert link.startswith("http://fideliza.test/f/")
    assert app.test_client().get(link.removeprefix(app.config["BASE_URL"])).status_code == 200  # the link works
    assert [m["To"] for m in outbox.messages()] == ["carla@example.com"]  # the landline gets the e-mail


def test_without_a_connection_everything_goes_by_e_mail_as_before(app, make, graph, outbox):
    _shop(app, make, connected=False)
    with app.app_context():
        assert feedback.send_after_delivery(today=TODAY) == 2
    assert graph.requests == []
    assert sorted(m["To"] for m in outbox.messages()) == ["ana@example.com", "carla@example.com"]


def test_without_a_template_named_the_connection_sends_nothing_by_itself(app, make, graph, outbox):
    _shop(app, make, template="")
    with app.app_context():
        assert feedback.send_after_delivery(today=TODAY) == 2
    assert graph.requests == []


def test_a_revoked_token_falls_back_to_e_mail_and_retries_the_others_later(app, make, graph, outbox):
    business, ids = _shop(app, make)
    owner = make.user(business, "owner")
    make.user(business, "seller")
    graph.tokens.clear()  # the owner revoked the token in Meta's Business Manager
    with app.app_context():
        assert feedback.send_after_delivery(today=TODAY) == 2
    assert len(_messages(graph)) == 1  # the first 401 stops WhatsApp for the whole run
    assert sorted(m["To"] for m in outbox.messages()) == ["ana@example.com", "carla@example.com"]
    with app.app_context(), bound(business.id):
        links = {link.client_id for link in db.session.execute(select(FeedbackLink)).scalars()}
    assert ids["Bruno"] not in links  # no e-mail, WhatsApp refused: nothing sent, so nothing marked
    http = app.test_client()
    login(http, owner.email)
    page = http.get("/notifications").get_data(as_text=True)
    assert "WhatsApp no envió los mensajes automáticos (los clientes con correo" in page and "Meta no aceptó el token de acceso" in page
    opened = re.search(r'href="(/notifications/\d+[^"]*)"', page).group(1)
    with app.app_context():
        feedback.send_after_delivery(today=TODAY)  # the next day's run, still revoked: no second notification
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(func.count()).select_from(Notification)).scalar() == 1
    assert http.get(opened).headers["Location"] == "/settings/whatsapp"  # one tap to where the owner fixes it
    graph.tokens.add(TOKEN)  # a new token pasted
    with app.app_context():
        assert feedback.send_after_delivery(today=TODAY + timedelta(days=1)) == 1
    assert _messages(graph)[-1]["json"]["to"] == "56987654321"


def test_a_refused_message_for_a_client_without_e_mail_withdraws_its_link(app, make, graph, outbox):
    business, ids = _shop(app, make)
    graph.script = [(200, {"messaging_product": "whatsapp", "contacts": [{"input": "56961234567", "wa_id": "56961234567"}],
                           "messages": [{"id": "wamid.ANA"}]}),
                    graph_error(400, 131026, "Message undeliverable")]  # Bruno's phone is not on WhatsApp today
    with app.app_context():
        assert feedback.send_after_delivery(today=TODAY) == 2  # Ana by WhatsApp, Carla by e-mail
    with app.app_context(), bound(business.id):
        links = {link.client_id for link in db.session.execute(select(FeedbackLink)).scalars()}
    assert links == {ids["Ana"], ids["Carla"]}  # Bruno's link was withdrawn, not left as "sent"
    with app.app_context():
        assert feedback.send_after_delivery(today=TODAY + timedelta(days=1)) == 1  # tried again the next day
    assert [r["json"]["to"] for r in _messages(graph)] == ["56961234567", "56987654321", "56987654321"]
