"""Issue 18, sending a link: WhatsApp whenever the client has a mobile (the phone field
counts, decided by phonenumbers' number type in the number's own country), the message
editable and copyable, "Listo" instead of "Realizada", "Send again" (a fresh link, the
unanswered one revoked), and greetings that read naturally for a company."""
import html
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.contact import greeting_name, is_mobile, wa_url, whatsapp_number
from pymes.extensions import db
from pymes.feedback import services
from pymes.feedback.models import FeedbackLink
from pymes.tenancy import bound

from ..factories import csrf_token, login


@pytest.fixture
def shop(app, make):
    business = make.business("Panadería La Espiga")
    owner = make.user(business, "owner")
    seller = make.user(business, "seller")
    return business, owner, seller


def add_client(app, business, **fields) -> int:
    with app.app_context(), bound(business.id):
        c = Client(**{"name": "Rosa Díaz", **fields})
        db.session.add(c)
        db.session.commit()
        return c.id


def logged_in(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def make_link(http, cid, **data):
    return http.post(f"/clients/{cid}/feedback-links",
                     data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": "share", **data})


def wa_of(page: str) -> str | None:
    found = re.search(r'href="(https://wa\.me/[^"]+)"[^>]*data-testid="feedback-whatsapp"', page)
    return html.unescape(found.group(1)) if found else None


def secret_of(page: str) -> str:
    return re.search(r'id="feedback-url" readonly value="[^"]*/f/([A-Za-z0-9_\-]+)"', page).group(1)


# --- which number takes WhatsApp ----------------------------------------------------------

@pytest.mark.parametrize("number, mobile", [
    ("+56987654321", True),     # Chile: 9 + eight digits is a mobile
    ("+56223456789", False),    # Chile: typed "fixed or mobile", but the geocoder places it in Santiago
    ("+56322123456", False),    # Chile: a Valparaíso landline
    ("+525512345678", True),    # Mexico: mobiles carry area codes, the plan cannot tell: counts as mobile
    ("+34612345678", True),     # Spain: mobile
    ("+34912345678", False),    # Spain: Madrid landline
    ("+12015550123", True),     # USA: the plan cannot tell, FIXED_LINE_OR_MOBILE counts
    ("+79161234567", True),     # Russia: mobile
    ("+74951234567", False),    # Russia: Moscow landline
    (None, False), ("", False), ("not a number", False),
])
def test_mobile_is_decided_by_the_number_type_of_its_own_country(number, mobile):
    assert is_mobile(number) is mobile


@pytest.mark.parametrize("number, header, mobile", [
    ("+12015550123", "Home Phone", False), ("+12015550123", "Mobile Phone", True),
    ("+525512345678", "Teléfono fijo", False), ("+525512345678", "Celular", True),
    ("+34912345678", "Móvil", False),    # a Madrid landline stays one whatever its column says
    ("+56987654321", "Casa", True),      # Chile: the geocoder knows better than the column
    ("+56223456789", "Celular", False),
])
def test_the_column_breaks_the_tie_only_where_the_plan_cannot_tell(number, header, mobile):
    assert is_mobile(number, header) is mobile


def test_whatsapp_goes_to_the_whatsapp_field_else_a_mobile_phone_never_a_landline():
    person = SimpleNamespace(whatsapp=None, phone="+56987654321")
    assert whatsapp_number(person) == "+56987654321"
    person.phone = "+34912345678"  # a Madrid landline
    assert whatsapp_number(person) is None
    person.whatsapp = "+56911112222"
    assert whatsapp_number(person) == "+56911112222"
    assert wa_url("+56911112222", "Hola & chao") == "https://wa.me/56911112222?text=Hola%20%26%20chao"
    assert wa_url(None, "x") == ""


@pytest.mark.parametrize("name, company, greeting", [
    ("Rosa Díaz", "", "Rosa"),
    ("Taller Mecánico Soto", "", "Taller Mecánico Soto"),
    ("Comercial Andes SpA", "", "Comercial Andes SpA"),
    ("Pedro Soto", "Taller Mecánico Soto", "Pedro"),        # the company's contact person
    ("Taller Soto", "Taller Soto", "Taller Soto"),           # the company itself
    ("ООО Ромашка", "", "ООО Ромашка"),
    ("Ferretería 21 de Mayo", "", "Ferretería 21 de Mayo"),
    ("  Ana   María  Pérez ", "", "Ana"),
])
def test_a_company_is_greeted_by_its_name_and_a_person_by_the_first_name(name, company, greeting):
    assert greeting_name(SimpleNamespace(name=name, company=company)) == greeting


# --- the page that sends it -------------------------------------------------------------------

def test_a_client_with_only_a_mobile_phone_gets_whatsapp_in_their_language(app, shop):
    business, owner, _seller = shop
    cid = add_client(app, business, name="Olga Petrova", phone="+56987654321", language="ru")
    page = make_link(logged_in(app, owner), cid)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    link = wa_of(text)
    assert link is not None, "a Chilean mobile in the phone field must offer WhatsApp"
    parts = urlsplit(link)
    assert parts.netloc == "wa.me" and parts.path == "/56987654321"
    message = parse_qs(parts.query)["text"][0]
    secret = secret_of(text)
    assert message.startswith("Здравствуйте, Olga!")  # Russian, the client's language, not the owner's
    assert f"/f/{secret}" in message and "Panadería La Espiga" in message
    # the same message, editable, before sending; copy buttons; "Listo", not "Realizada"
    assert html.unescape(re.search(r'<textarea id="message"[^>]*>([^<]*)</textarea>', text).group(1)) == message
    for testid in ("copy-message", "copy-link", "share"):
        assert f'data-testid="{testid}"' in text
    done = re.search(r'data-testid="send-done">([^<]+)<', text).group(1)
    assert done == "Listo" and "Realizada" not in text
    assert "js/send.js" in text


def test_a_landline_only_client_gets_no_whatsapp_but_copy_and_share(app, shop):
    business, owner, _seller = shop
    cid = add_client(app, business, phone="+34912345678")  # a Madrid landline: WhatsApp would fail
    text = make_link(logged_in(app, owner), cid).get_data(as_text=True)
    assert wa_of(text) is None
    assert 'data-testid="no-whatsapp"' in text and 'data-testid="copy-link"' in text


def test_a_company_is_not_greeted_by_its_first_word(app, shop):
    business, owner, _seller = shop
    cid = add_client(app, business, name="Taller Mecánico Soto", phone="+56987654321")
    text = make_link(logged_in(app, owner), cid).get_data(as_text=True)
    message = parse_qs(urlsplit(wa_of(text)).query)["text"][0]
    assert message.startswith("Hola Taller Mecánico Soto,")
    public = app.test_client().get(f"/f/{secret_of(text)}").get_data(as_text=True)
    assert "Hola Taller Mecánico Soto" in public


def test_the_agenda_s_link_goes_back_to_the_agenda(app, shop):
    business, owner, _seller = shop
    cid = add_client(app, business, phone="+56987654321")
    text = make_link(logged_in(app, owner), cid, back="agenda").get_data(as_text=True)
    assert re.search(r'href="/agenda"[^>]*data-testid="send-done"', text)


# --- sending it again -------------------------------------------------------------------------

def test_send_again_makes_a_fresh_link_and_revokes_the_unanswered_one(app, shop):
    business, owner, _seller = shop
    cid = add_client(app, business, phone="+56987654321")
    http = logged_in(app, owner)
    first = secret_of(make_link(http, cid).get_data(as_text=True))
    customer = app.test_client()
    assert customer.get(f"/f/{first}").status_code == 200
    links = http.get(f"/clients/{cid}/feedback-links").get_data(as_text=True)
    assert links.count('data-testid="send-again"') == 1 and 'data-testid="send-again-help"' in links
    with app.app_context(), bound(business.id):
        old_id = db.session.execute(select(FeedbackLink.id)).scalar_one()
    again = http.post(f"/clients/{cid}/feedback-links/{old_id}/again",
                      data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": "share"})
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and 'data-testid="link-replaced"' in text
    second = secret_of(text)
    assert second != first
    assert customer.get(f"/f/{first}").status_code == 404   # the old one says "replaced by a newer one"
    assert customer.get(f"/f/{second}").status_code == 200
    with app.app_context(), bound(business.id):
        rows = db.session.execute(select(FeedbackLink).order_by(FeedbackLink.id)).scalars().all()
        assert [r.revoked_at is not None for r in rows] == [True, False]
    statuses = re.findall(r'data-status="(\w+)"', http.get(f"/clients/{cid}/feedback-links").get_data(as_text=True))
    assert statuses == ["active", "revoked"]


def test_send_again_keeps_the_sale_and_can_go_by_e_mail(app, shop, outbox):
    from datetime import date

    from pymes.sales.models import Sale

    business, owner, _seller = shop
    cid = add_client(app, business, email="rosa@example.com")
    with app.app_context(), bound(business.id):
        sale = Sale(client_id=cid, sold_on=date(2026, 11, 30), description="Torta", amount=15000)
        db.session.add(sale)
        db.session.commit()
        sale_id = sale.id
    http = logged_in(app, owner)
    make_link(http, cid, sale_id=str(sale_id))
    with app.app_context(), bound(business.id):
        old_id = db.session.execute(select(FeedbackLink.id)).scalar_one()
    again = http.post(f"/clients/{cid}/feedback-links/{old_id}/again",
                      data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": "email"})
    assert again.status_code == 303
    assert "/f/" in outbox.link("rosa@example.com", "/f/")
    with app.app_context(), bound(business.id):
        rows = db.session.execute(select(FeedbackLink).order_by(FeedbackLink.id)).scalars().all()
        assert [(r.sale_id, r.sent_by, r.revoked_at is not None) for r in rows] == [
            (sale_id, "share", True), (sale_id, "email", False)]


def test_an_answered_link_is_not_sent_again(app, shop, monkeypatch):
    business, owner, _seller = shop
    monkeypatch.setattr(services, "MIN_FILL_SECONDS", 0)
    cid = add_client(app, business, phone="+56987654321")
    http = logged_in(app, owner)
    secret = secret_of(make_link(http, cid).get_data(as_text=True))
    customer = app.test_client()
    form = customer.get(f"/f/{secret}").get_data(as_text=True)
    customer.post(f"/f/{secret}", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
                                        "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1),
                                        "score": "9"})
    assert 'data-testid="send-again"' not in http.get(f"/clients/{cid}/feedback-links").get_data(as_text=True)
    with app.app_context(), bound(business.id):
        link_id = db.session.execute(select(FeedbackLink.id)).scalar_one()
    refused = http.post(f"/clients/{cid}/feedback-links/{link_id}/again",
                        data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": "share"},
                        follow_redirects=True)
    assert "ya respondió" in refused.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackLink)).scalars().all()[0].revoked_at is None
        assert len(db.session.execute(select(FeedbackLink)).scalars().all()) == 1


def test_another_client_s_or_business_s_link_cannot_be_sent_again(app, make, shop):
    """TEN-: a link id of another client, or of another business, is a 404, and nothing is revoked."""
    business, owner, _seller = shop
    mine = add_client(app, business, phone="+56987654321")
    other = add_client(app, business, name="Pedro Soto", phone="+56911112222")
    http = logged_in(app, owner)
    make_link(http, other)
    with app.app_context(), bound(business.id):
        other_link = db.session.execute(select(FeedbackLink.id)).scalar_one()
    token = csrf_token(http, f"/clients/{mine}")
    assert http.post(f"/clients/{mine}/feedback-links/{other_link}/again",
                     data={"csrf_token": token}).status_code == 404
    rival = make.business("Otra Panadería")
    rival_owner = make.user(rival, "owner")
    stranger = logged_in(app, rival_owner)
    rival_client = add_client(app, rival, name="Ana")
    assert stranger.post(f"/clients/{rival_client}/feedback-links/{other_link}/again",
                         data={"csrf_token": csrf_token(stranger, f"/clients/{rival_client}")}).status_code == 404
    assert stranger.post(f"/clients/{other}/feedback-links/{other_link}/again",
                         data={"csrf_token": csrf_token(stranger, f"/clients/{rival_client}")}).status_code == 404
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackLink.revoked_at)).scalar_one() is None
    assert http.post(f"/clients/{other}/feedback-links/{other_link}/again").status_code == 400  # WEB-1: no CSRF
