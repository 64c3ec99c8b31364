"""Issue 18: a callback's agenda card leads with the channel the client chose (WhatsApp
opens wa.me, a phone call tel:, an e-mail mailto:), shows the window, and a day's
contacts come in the order of their windows; the card sends a feedback link too."""
import html
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound
from pymes.visits import services
from pymes.visits.models import Activity

from ..factories import Factory, csrf_token, login


def today():
    return datetime.now(ZoneInfo("America/Santiago")).date()


@pytest.fixture
def team(make):
    return make.team("Panadería La Espiga")


def add(app, business, seller, client_fields, **activity):
    make = Factory(app)
    c = make.client(business, **{"name": "Rosa Díaz", "seller_id": seller.id, **client_fields})
    a = make.activity(business, c, **{"kind": "call", "seller_id": seller.id, "purpose": "callback", "due_on": today(),
                                      **activity})
    return c.id, a.id


def agenda_of(app, user) -> str:
    http = app.test_client()
    login(http, user.email)
    return http.get("/agenda").get_data(as_text=True)


def card(page: str, activity_id: int) -> str:
    start = page.index(f'id="activity-{activity_id}"')
    return page[start:page.index("</article>", start)]


def main_action(fragment: str) -> str:
    found = re.search(r'<a href="([^"]+)"[^>]*class="main-action"[^>]*>([^<]+)</a>', fragment)
    assert found, fragment
    return html.unescape(found.group(1)), found.group(2)


def test_a_whatsapp_evening_callback_leads_with_whatsapp_in_its_window(app, team):
    business, _owner, _manager, seller = team
    _cid, aid = add(app, business, seller, {"phone": "+56987654321", "language": "ru", "preferred_channel": "whatsapp",
                                            "preferred_time": "evening"},
                    channel="whatsapp", time_window="evening")
    item = card(agenda_of(app, seller), aid)
    href, label = main_action(item)
    parts = urlsplit(href)
    assert (parts.netloc, parts.path) == ("wa.me", "/56987654321")  # only a phone: it is a mobile
    assert parse_qs(parts.query)["text"][0].startswith("Здравствуйте, Rosa!")  # in the client's language
    assert label == "Escribir por WhatsApp"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item))
    assert "Pidió que lo contacten · WhatsApp" in text and "Llamada" not in text
    assert re.search(r'data-testid="activity-window">Noche \(19–21\)<', item)
    assert "Prefiere: WhatsApp, Noche (19–21)" in text
    assert 'data-testid="call"' in item  # the other ways stay, second
    assert 'data-testid="missing-contact"' not in item


@pytest.mark.parametrize("channel, fields, scheme, target", [
    ("phone", {"phone": "+56223456789", "email": "rosa@example.com"}, "tel", "+56223456789"),
    ("phone", {"whatsapp": "+56987654321"}, "tel", "+56987654321"),  # any number can be called
    ("email", {"phone": "+56987654321", "email": "rosa@example.com"}, "mailto", "rosa@example.com"),
])
def test_the_main_button_is_the_chosen_channel(app, team, channel, fields, scheme, target):
    business, _owner, _manager, seller = team
    _cid, aid = add(app, business, seller, fields, channel=channel, time_window="morning")
    href, _label = main_action(card(agenda_of(app, seller), aid))
    assert href == f"{scheme}:{target}"


def test_a_channel_without_its_number_says_so_on_the_card(app, team):
    business, _owner, _manager, seller = team
    _cid, aid = add(app, business, seller, {"phone": "+34912345678"}, channel="whatsapp", time_window="any")
    item = card(agenda_of(app, seller), aid)
    assert 'data-testid="missing-contact"' in item and 'class="main-action"' not in item
    assert "wa.me" not in item  # a Madrid landline takes no WhatsApp
    assert 'data-testid="activity-window"' not in item  # "any time" is no window


def test_a_day_s_contacts_come_in_the_order_of_their_windows(app, team):
    business, _owner, _manager, seller = team
    ids = {}
    for name, window in (("Eva", "evening"), ("Sin Hora", None), ("Mara", "morning"), ("Ada", "afternoon")):
        ids[window] = add(app, business, seller, {"name": name, "phone": "+56987654321"}, channel="phone",
                          time_window=window)[1]
    with app.app_context(), bound(business.id):
        plan = services.agenda(seller.id, today())
        assert [a.time_window for a, _c in plan.today] == ["morning", "afternoon", "evening", None]
        paged = services.agenda(seller.id, today(), overdue_page=1)
        assert [a.id for a, _c in paged.today] == [ids["morning"], ids["afternoon"], ids["evening"], ids[None]]


def test_a_delivery_card_sends_a_feedback_link_and_comes_back_to_the_agenda(app, team):
    business, _owner, _manager, seller = team
    cid, aid = add(app, business, seller, {"phone": "+56987654321"}, kind="visit", purpose="delivery")
    http = app.test_client()
    login(http, seller.email)
    item = card(http.get("/agenda").get_data(as_text=True), aid)
    assert 'data-testid="agenda-feedback-link"' in item
    sent = http.post(f"/clients/{cid}/feedback-links", data={
        "csrf_token": csrf_token(http, "/agenda"), "send": "share", "activity_id": str(aid), "back": "agenda"})
    page = sent.get_data(as_text=True)
    assert sent.status_code == 200 and 'data-testid="feedback-whatsapp"' in page
    assert re.search(r'href="/agenda"[^>]*data-testid="send-done"', page)


def test_a_callback_card_has_no_feedback_link(app, team):
    business, _owner, _manager, seller = team
    _cid, aid = add(app, business, seller, {"phone": "+56987654321"}, channel="phone")
    assert 'data-testid="agenda-feedback-link"' not in card(agenda_of(app, seller), aid)


def test_the_channel_and_window_are_checked_by_the_database(app, team):
    from sqlalchemy.exc import IntegrityError

    business, _owner, _manager, seller = team
    with app.app_context(), bound(business.id):
        client = Client(name="Rosa Díaz", seller_id=seller.id)
        db.session.add(client)
        db.session.commit()
        for wrong in ({"channel": "fax"}, {"channel": "phone", "time_window": "midnight"}):
            db.session.add(Activity(client_id=client.id, seller_id=seller.id, kind="call", purpose="callback",
                                    due_on=today(), **wrong))
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()
        assert db.session.execute(select(Activity)).first() is None
