"""Issue 18, the customer's choice reaches the person who acts on it: the callback keeps
its channel and window, the client's preferred contact follows the answer (and the
timeline says the customer chose it), the public page asks for the number or address
the business lacks (checked, in the customer's language), and the thank-you page says
how and when the customer will be contacted."""
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.complaints.models import Complaint
from pymes.extensions import db
from pymes.feedback import services
from pymes.feedback.models import FeedbackResponse
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import Factory, login

SANTIAGO = "America/Santiago"


@pytest.fixture
def shop(app, make, monkeypatch):
    monkeypatch.setattr(services, "MIN_FILL_SECONDS", 0)
    business = make.business("Óptica Vista Clara")
    owner = make.user(business, "owner")
    seller = make.user(business, "seller")
    return business, owner, seller


def at(monkeypatch, hour: int):
    from zoneinfo import ZoneInfo

    monkeypatch.setattr(services, "local_now", lambda b: datetime(2026, 12, 1, hour, 0, tzinfo=ZoneInfo(b.timezone)))


def link_for(app, business, seller, **fields):
    make = Factory(app)
    c = make.client(business, **{"name": "Rosa Díaz", "seller_id": seller.id, **fields})
    return c.id, make.feedback_link(business, c).secret


def answer(app, secret, lang="es", **fields):
    customer = app.test_client()
    form = customer.get(f"/f/{secret}?lang={lang}").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1), **fields}
    return form, customer.post(f"/f/{secret}?lang={lang}", data=data)


def test_a_3_asking_for_whatsapp_in_the_evening_plans_a_whatsapp_action_and_sets_the_preference(app, shop,
                                                                                               monkeypatch):
    business, owner, seller = shop
    at(monkeypatch, 16)
    cid, secret = link_for(app, business, seller, phone="+56987654321", preferred_channel="email",
                           preferred_time="morning")
    form, sent = answer(app, secret, score="3", comment="Los lentes llegaron rayados", callback="1",
                        callback_channel="whatsapp", callback_window="evening")
    assert 'name="contact_whatsapp"' not in form  # a mobile is on file: nothing to ask
    assert sent.status_code == 200
    thanks = sent.get_data(as_text=True)
    promise = re.search(r'data-testid="promise">\s*([^<]+?)\s*</p>', thanks).group(1)
    assert promise == "Óptica Vista Clara te escribirá por WhatsApp hoy entre las 19:00 y las 21:00."
    assert "((" not in thanks and "hoy para" not in thanks  # the generic "today" line gives way to the promise
    with app.app_context(), bound(business.id):
        call = db.session.execute(select(Activity)).scalar_one()
        assert (call.kind, call.purpose, call.channel, call.time_window, call.seller_id) == (
            "call", "callback", "whatsapp", "evening", seller.id)
        assert call.due_on == date(2026, 12, 1)  # 16:00: this evening is still ahead
        client = db.session.get(Client, cid)
        assert (client.preferred_channel, client.preferred_time) == ("whatsapp", "evening")
        assert db.session.execute(select(Complaint)).scalar_one().client_id == cid
    http = app.test_client()
    login(http, owner.email)
    page = http.get(f"/clients/{cid}").get_data(as_text=True)
    assert "Prefiere: WhatsApp, Noche (19–21)" in re.sub(r"<[^>]+>", "", page)
    assert 'data-testid="preference-from-customer"' in page
    activity = re.search(r'data-testid="timeline-activity"[^>]*>(.*?)</li>', page, re.S).group(1)
    assert "Pidió que lo contacten (WhatsApp)" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", activity))


def test_after_the_window_the_promise_and_the_call_are_for_tomorrow(app, shop, monkeypatch):
    business, _owner, seller = shop
    at(monkeypatch, 22)
    _cid, secret = link_for(app, business, seller, email="rosa@example.com", language="ru")
    _form, sent = answer(app, secret, lang="ru", score="8", callback="1", callback_channel="email",
                         callback_window="morning")
    promise = re.search(r'data-testid="promise">\s*([^<]+?)\s*</p>', sent.get_data(as_text=True)).group(1)
    assert promise == "Óptica Vista Clara напишет вам по электронной почте завтра с 9:00 до 12:00."
    with app.app_context(), bound(business.id):
        call = db.session.execute(select(Activity)).scalar_one()
        assert (call.channel, call.time_window, call.due_on) == ("email", "morning", date(2026, 12, 2))


@pytest.mark.parametrize("lang, empty, wrong", [
    ("es", "Escribe tu número de WhatsApp para que podamos escribirte.", "no parece un número de celular"),
    ("ru", "Напишите свой номер WhatsApp, чтобы мы могли вам написать.", "не похоже на номер мобильного"),
    ("pt", "Escreva seu número de WhatsApp para a gente mandar mensagem para você.", "não parece um número de celular"),
])
def test_a_whatsapp_callback_without_a_number_asks_for_one_in_the_customer_s_language(app, shop, monkeypatch, lang,
                                                                                      empty, wrong):
    business, _owner, seller = shop
    at(monkeypatch, 10)
    cid, secret = link_for(app, business, seller, email="rosa@example.com", phone="+34912345678")  # a landline
    form, sent = answer(app, secret, lang=lang, score="3", comment="Muy lento", callback="1",
                        callback_channel="whatsapp", callback_window="evening")
    assert 'name="contact_whatsapp"' in form and 'name="contact_email"' not in form  # only what is missing
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert re.search(r'id="contact_whatsapp-error">([^<]+)<', page).group(1) == empty
    assert "Muy lento" in page and 'value="whatsapp" selected' in page and 'value="evening" selected' in page
    _form, sent = answer(app, secret, lang=lang, score="3", callback="1", callback_channel="whatsapp",
                         callback_window="evening", contact_whatsapp="12 345")
    assert sent.status_code == 422 and wrong in sent.get_data(as_text=True)
    assert 'value="12 345"' in sent.get_data(as_text=True)  # what was typed comes back
    assert "+56 9 1234 5678" in sent.get_data(as_text=True)  # a Chilean mobile as the example, not a landline
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackResponse)).first() is None  # nothing saved before it is right
    _form, sent = answer(app, secret, lang=lang, score="3", callback="1", callback_channel="whatsapp",
                         callback_window="evening", contact_whatsapp="9 8765 4321")
    assert sent.status_code == 200
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, cid)
        assert (client.whatsapp, client.phone) == ("+56987654321", "+34912345678")
        assert db.session.execute(select(FeedbackResponse.given_contact)).scalar_one() == "+56987654321"
        assert db.session.execute(select(Activity.channel)).scalar_one() == "whatsapp"


@pytest.mark.parametrize("channel, field, bad, good, saved", [
    ("phone", "contact_phone", "123", "+56 2 2345 6789", ("phone", "+56223456789")),
    ("email", "contact_email", "rosa@", "Rosa@Example.com", ("email", "rosa@example.com")),
    ("visit", "contact_visit", "x", "Los Leones 123, Providencia", ("address", "Los Leones 123, Providencia")),
])
def test_each_channel_asks_for_what_it_needs(app, shop, monkeypatch, channel, field, bad, good, saved):
    business, _owner, seller = shop
    at(monkeypatch, 10)
    cid, secret = link_for(app, business, seller)  # nothing on file at all
    form, sent = answer(app, secret, score="5", callback="1", callback_channel=channel, **{field: bad})
    assert f'name="{field}"' in form
    assert sent.status_code == 422 and f'id="{field}-error"' in sent.get_data(as_text=True)
    _form, sent = answer(app, secret, score="5", callback="1", callback_channel=channel, **{field: good})
    assert sent.status_code == 200
    with app.app_context(), bound(business.id):
        assert getattr(db.session.get(Client, cid), saved[0]) == saved[1]


def test_a_score_without_a_callback_asks_for_nothing(app, shop, monkeypatch):
    business, _owner, seller = shop
    at(monkeypatch, 10)
    cid, secret = link_for(app, business, seller, preferred_channel="phone")
    _form, sent = answer(app, secret, score="4", callback_channel="whatsapp")  # a channel, but no callback asked
    assert sent.status_code == 200 and 'data-testid="promise"' not in sent.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        assert db.session.get(Client, cid).preferred_channel == "phone"
        assert db.session.execute(select(Activity)).first() is None


def test_a_correction_moves_the_planned_callback_to_the_new_channel_and_window(app, shop, monkeypatch):
    business, _owner, seller = shop
    at(monkeypatch, 10)
    cid, secret = link_for(app, business, seller, phone="+56987654321", email="rosa@example.com")
    answer(app, secret, score="3", callback="1", callback_channel="whatsapp", callback_window="evening")
    answer(app, secret, score="4", callback="1", callback_channel="email", callback_window="morning")
    with app.app_context(), bound(business.id):
        call = db.session.execute(select(Activity)).scalar_one()  # moved, not doubled
        assert (call.channel, call.time_window, call.due_on) == ("email", "morning", date(2026, 12, 1))
        assert "Correo" in call.notes or "E-mail" in call.notes
        client = db.session.get(Client, cid)
        assert (client.preferred_channel, client.preferred_time) == ("email", "morning")
