"""The 24-hour customer-service window (issue 23, point 2): free text only inside it,
refused outside it in words and without calling Meta; approved templates outside it."""
import hashlib
import hmac
import json
import time

from sqlalchemy import select

from pymes.extensions import db
from pymes.tenancy import bound
from pymes.whatsapp import messaging, services
from pymes.whatsapp.models import WhatsappConnection, WhatsappMessage

from ..factories import csrf_token, login
from .conftest import PHONE_ID, VERSION
from .test_webhook import ANA, SECRET, _payload, _shop, _text


def _write_in(app, wamid="wamid.HOLA", at=None):
    raw = json.dumps(_payload(messages=[_text(wamid, "Hola, ¿me llaman?", at=at or int(time.time()))])).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert app.test_client().post("/whatsapp/webhook", data=raw,
                                  headers={"X-Hub-Signature-256": signature}).status_code == 200


def _sent(graph):
    return [r for r in graph.requests if r["path"] == f"/{VERSION}/{PHONE_ID}/messages"]


def _send(app, seller, client_id, text):
    http = app.test_client()
    login(http, seller.email)
    page = f"/clients/{client_id}"
    response = http.post(f"/whatsapp/clients/{client_id}/message",
                         data={"csrf_token": csrf_token(http, page), "text": text})
    return http, response


def test_free_text_is_refused_outside_the_window_in_words_and_meta_is_not_called(app, make, graph):
    business, _owner, seller, ana = _shop(app, make)
    http = app.test_client()
    login(http, seller.email)
    box = http.get(f"/whatsapp/clients/{ana.id}/compose").get_data(as_text=True)
    assert 'data-testid="whatsapp-window-closed"' in box and "<textarea" not in box
    http, response = _send(app, seller, ana.id, "Hola Ana, ¿cómo le fue con el taladro?")
    assert response.status_code == 303
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert "Han pasado más de 24 horas desde el último mensaje del cliente: solo se puede enviar una plantilla" in page
    assert _sent(graph) == []
    _write_in(app, at=int(time.time()) - 25 * 3600)  # she wrote yesterday, 25 hours ago: still closed
    with app.app_context(), bound(business.id):
        assert not messaging.window_open(ana.id)


def test_free_text_goes_inside_the_window(app, make, graph):
    business, _owner, seller, ana = _shop(app, make)
    _write_in(app)
    http = app.test_client()
    login(http, seller.email)
    box = http.get(f"/whatsapp/clients/{ana.id}/compose").get_data(as_text=True)
    assert "<textarea" in box
    _http, response = _send(app, seller, ana.id, "Sí Ana, la llamamos a las 19:00.")
    assert response.status_code == 303
    (request,) = _sent(graph)
    assert request["json"]["type"] == "text" and request["json"]["to"] == ANA[1:]
    assert request["json"]["text"]["body"] == "Sí Ana, la llamamos a las 19:00."
    with app.app_context(), bound(business.id):
        out = db.session.execute(select(WhatsappMessage).where(WhatsappMessage.direction == "out")).scalar_one()
        assert (out.kind, out.category, out.client_id) == ("text", "service", ana.id)


def test_outside_the_window_an_automatic_message_uses_the_template_in_the_client_s_language(app, make, graph):
    business, _owner, _seller, ana = _shop(app, make)
    bruno = make.client(business, "Bruno Díaz", phone="+56987654321", language="en")
    with app.app_context(), bound(business.id):
        services.save_template("complaint_ack", "reclamo_recibido", "es_CL")
        services.save_template("complaint_ack", "complaint_received", "en_US")
        from pymes.accounts.models import Business
        from pymes.clients.models import Client

        shop = db.session.get(Business, business.id)
        for client_id in (ana.id, bruno.id):
            client = db.session.get(Client, client_id)
            messaging.tell_client(client, shop, "complaint_ack", "texto", [client.name, shop.name, "x"])
    first, second = _sent(graph)
    assert first["json"]["template"]["name"] == "reclamo_recibido"
    assert first["json"]["template"]["language"] == {"code": "es_CL"}
    assert second["json"]["template"]["name"] == "complaint_received"
    assert second["json"]["template"]["components"][0]["parameters"][0] == {"type": "text", "text": "Bruno Díaz"}


def test_the_monthly_cap_stops_sending(app, make, graph):
    business, _owner, seller, ana = _shop(app, make)
    _write_in(app)
    with app.app_context(), bound(business.id):
        conn = db.session.execute(select(WhatsappConnection)).scalar_one()
        conn.monthly_cap = 1
        db.session.commit()
    _send(app, seller, ana.id, "Primero")
    http, response = _send(app, seller, ana.id, "Segundo")
    assert len(_sent(graph)) == 1
    assert "alcanzaron el límite" in http.get(response.headers["Location"]).get_data(as_text=True)
