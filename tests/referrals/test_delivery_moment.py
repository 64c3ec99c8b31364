"""The delivery moment (article 004, rule 8): a delivery visit logged with a satisfied
client offers, under the item just logged, to ask for referrals now (recorded as the
client's referrals obtained at that visit, by that seller), the client's referral QR and
the kiosk; the kiosk ends the seller's session before the public page is shown."""
import re

import pytest
from sqlalchemy import select

from pymes.accounts.models import UserSession
from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback.models import FeedbackLink
from pymes.referrals.models import Referral, ReferralAsk
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import csrf_token, login, santiago_today


@pytest.fixture
def delivery(app, make):
    """A seller's client with a sale and its delivery visit, still planned."""
    business, owner, manager, seller = make.team("Muebles Sur")
    with app.app_context(), bound(business.id):
        rosa = Client(name="Rosa Díaz", seller_id=seller.id, phone="+56987654321", email="rosa@example.com")
        known = Client(name="Tomás Ya Cliente", seller_id=owner.id, phone="+56961234567")
        db.session.add_all([rosa, known])
        db.session.flush()
        sale = Sale(client_id=rosa.id, seller_id=seller.id, sold_on=santiago_today(), description="Sofá",
                    amount=450000)
        db.session.add(sale)
        db.session.flush()
        visit = Activity(client_id=rosa.id, sale_id=sale.id, seller_id=seller.id, kind="visit",
                         purpose="delivery", due_on=santiago_today())
        db.session.add(visit)
        db.session.commit()
        ids = dict(rosa=rosa.id, known=known.id, sale=sale.id, visit=visit.id)
    http = app.test_client()
    login(http, seller.email)
    return business, owner, manager, seller, http, ids


def log(http, visit_id, satisfaction, htmx=True):
    return http.post(f"/agenda/{visit_id}/outcome", data={
        "csrf_token": csrf_token(http, "/agenda"), "status": "done", "satisfaction": satisfaction, "notes": ""},
        headers={"HX-Request": "true"} if htmx else {})


@pytest.mark.parametrize("satisfaction, offered", [("5", True), ("4", True), ("3", False), ("", False)])
def test_only_a_satisfied_delivery_offers_the_moment(delivery, satisfaction, offered):
    *_rest, http, ids = delivery
    html = log(http, ids["visit"], satisfaction).get_data(as_text=True)
    assert 'id="activity-' in html  # the logged item itself, as before
    assert ('data-testid="delivery-moment"' in html) is offered
    if offered:
        assert f'action="/agenda/{ids["visit"]}/kiosk"' in html
        assert f'hx-post="/agenda/{ids["visit"]}/referrals"' in html
        assert f'action="/agenda/{ids["visit"]}/referral-qr"' in html


def test_without_javascript_a_satisfied_delivery_lands_on_the_moment_page(delivery):
    *_rest, http, ids = delivery
    response = log(http, ids["visit"], "5", htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/agenda/{ids['visit']}/delivery")
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="delivery-moment"' in page and "Rosa" in page


def test_a_visit_not_yet_logged_or_not_a_delivery_has_no_moment(app, delivery):
    business, _o, _m, seller, http, ids = delivery
    assert http.get(f"/agenda/{ids['visit']}/delivery").status_code == 404  # still planned
    with app.app_context(), bound(business.id):
        call = Activity(client_id=ids["rosa"], seller_id=seller.id, kind="call", purpose="follow_up",
                        due_on=santiago_today(), status="done", done_at=utcnow())
        db.session.add(call)
        db.session.commit()
        call_id = call.id
    assert http.get(f"/agenda/{call_id}/delivery").status_code == 404
    assert http.post(f"/agenda/{call_id}/kiosk", data={"csrf_token": csrf_token(http, "/agenda")}).status_code == 404


def referrals_form(http, visit_id, friends, consent=True, **extra):
    data = {"csrf_token": csrf_token(http, "/agenda")}
    for i, (name, contact) in enumerate(friends):
        data[f"friend_name_{i}"], data[f"friend_contact_{i}"] = name, contact
    if consent:
        data["friend_consent"] = "1"
    data.update(extra)
    return http.post(f"/agenda/{visit_id}/referrals", data=data, headers={"HX-Request": "true"})


def test_two_friends_become_referrals_of_the_client_by_the_seller_at_that_visit(app, delivery):
    business, owner, _manager, seller, http, ids = delivery
    log(http, ids["visit"], "5")
    response = referrals_form(http, ids["visit"], [("Bruno Soto", "9 8765 1111"), ("Tomás", "+56 9 6123 4567")])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="referrals-made"' in html and "Bruno Soto" in html
    assert re.search(r"Tomás\s*<small[^>]*>· ya está en tu cartera", html)
    with app.app_context(), bound(business.id):
        rows = db.session.execute(select(Referral).order_by(Referral.id)).scalars().all()
        assert [(r.name, r.referrer_id, r.created_by_id, r.activity_id, r.source, r.flag) for r in rows] == [
            ("Bruno Soto", ids["rosa"], seller.id, ids["visit"], "visit", None),
            ("Tomás", ids["rosa"], seller.id, ids["visit"], "visit", "duplicate")]
        bruno = db.session.get(Client, rows[0].prospect_id)
        # a new prospect of the referrer's seller, with the phone in E.164; the known client is linked, not copied
        assert (bruno.kind, bruno.seller_id, bruno.phone, bruno.referred_by_id) == (
            "prospect", seller.id, "+56987651111", ids["rosa"])
        assert rows[1].prospect_id == ids["known"]
        asks = db.session.execute(select(ReferralAsk)).scalars().all()
        assert [(a.activity_id, a.client_id, a.asked_by_id) for a in asks] == [(ids["visit"], ids["rosa"], seller.id)]
    # the same friend again at the same visit is one referral, and the visit is asked once
    referrals_form(http, ids["visit"], [("Bruno Soto", "+56987651111")])
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(db.func.count()).select_from(Referral)).scalar_one() == 2
        assert db.session.execute(select(db.func.count()).select_from(ReferralAsk)).scalar_one() == 1


def test_a_refused_friend_list_comes_back_with_everything_typed_and_saves_nothing(app, delivery):
    """DATA-1: the message beside the field, what was typed kept."""
    business, *_rest, http, ids = delivery
    log(http, ids["visit"], "5")
    response = referrals_form(http, ids["visit"], [("Bruno Soto", "9 8765 1111"), ("Carla", "no-es-un-numero"),
                                                   ("", "ana@example.com")], consent=False)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Bruno Soto"' in html and 'value="no-es-un-numero"' in html and 'value="ana@example.com"' in html
    assert re.search(r'id="friend_contact_1-\d+-error" class="field-error">[^<]+', html)
    assert re.search(r'id="friend_name_2-\d+-error" class="field-error">[^<]+', html)
    # the consent is asked too, beside its box, once the friends are right
    response = referrals_form(http, ids["visit"], [("Bruno Soto", "9 8765 1111")], consent=False)
    assert response.status_code == 422
    assert re.search(r'id="friend_consent-\d+-error" class="field-error">[^<]+', response.get_data(as_text=True))
    # nothing typed at all: the seller is told how to say "nobody"
    empty = referrals_form(http, ids["visit"], [])
    assert empty.status_code == 422 and "Nadie por ahora" in empty.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Referral)).first() is None
        assert db.session.execute(select(ReferralAsk)).first() is None


def test_nobody_for_now_records_that_the_seller_asked(app, delivery):
    business, *_rest, http, ids = delivery
    log(http, ids["visit"], "4")
    response = referrals_form(http, ids["visit"], [("Medio escrito", "")], consent=False, nobody="1")
    assert response.status_code == 200 and 'data-testid="asked-nobody"' in response.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Referral)).first() is None
        assert db.session.execute(select(ReferralAsk.activity_id)).scalars().all() == [ids["visit"]]


def test_the_qr_is_the_clients_personal_referral_link_full_screen(app, delivery):
    business, *_rest, http, ids = delivery
    log(http, ids["visit"], "5")
    shown = http.post(f"/agenda/{ids['visit']}/referral-qr", data={"csrf_token": csrf_token(http, "/agenda")})
    assert shown.status_code == 303
    page = http.get(shown.headers["Location"]).get_data(as_text=True)
    code = re.search(r'data-testid="referral-url">[^<]*/r/([\w-]+)<', page).group(1)
    assert 'data-testid="referral-qr"' in page and 'src="data:image/svg+xml' in page
    assert "<nav" not in page  # full screen: no menu
    assert http.get(f"/r/{code}").status_code == 200  # the friend's page of Rosa's link
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(ReferralAsk.activity_id)).scalars().all() == [ids["visit"]]


def test_the_kiosk_logs_the_seller_out_before_showing_the_public_page(app, delivery):
    """SES-1 / WEB-2: the kiosk ends the session on the server and in the cookie; the
    phone's next person gets the log-in page for every app page, and no app page is
    kept by the browser (no-store)."""
    business, _o, _m, seller, http, ids = delivery
    log(http, ids["visit"], "5")
    agenda = http.get("/agenda")
    assert agenda.status_code == 200 and agenda.headers["Cache-Control"] == "no-store"
    response = http.post(f"/agenda/{ids['visit']}/kiosk", data={"csrf_token": csrf_token(http, "/agenda")})
    assert response.status_code == 303
    assert re.fullmatch(r"/f/[\w-]+\?lang=es", response.headers["Location"])
    assert response.headers["Clear-Site-Data"] == '"cache"'
    public = http.get(response.headers["Location"])
    assert public.status_code == 200 and "Rosa" in public.get_data(as_text=True)
    assert "Rosa Díaz" not in public.get_data(as_text=True) and "+569" not in public.get_data(as_text=True)
    for path in ("/agenda", f"/clients/{ids['rosa']}", f"/agenda/{ids['visit']}/delivery", "/referrals",
                 "/notifications"):
        again = http.get(path)
        assert again.status_code in (302, 303) and "/login" in again.headers["Location"], path
    home = http.get("/").get_data(as_text=True)  # the public landing page, nothing of the business
    assert "Muebles Sur" not in home and "Rosa" not in home and 'data-testid="my-day"' not in home
    with app.app_context(), bound(business.id):
        link = db.session.execute(select(FeedbackLink)).scalar_one()
        assert (link.client_id, link.sale_id, link.created_by_id, link.sent_by) == (
            ids["rosa"], ids["sale"], seller.id, "kiosk")
        assert db.session.execute(select(UserSession.revoked_at).where(UserSession.user_id == seller.id)
                                  ).scalar_one() is not None


def test_the_kiosk_s_thank_you_tells_the_client_to_hand_the_phone_back(app, make, delivery, monkeypatch):
    """The client answers on the seller's phone: the last screen says the phone can go
    back; a link the client opens on their own phone never says so."""
    from pymes.feedback import services as feedback_services

    monkeypatch.setattr(feedback_services, "MIN_FILL_SECONDS", 0)
    _b, _o, _m, _seller, http, ids = delivery
    log(http, ids["visit"], "5")
    location = http.post(f"/agenda/{ids['visit']}/kiosk",
                         data={"csrf_token": csrf_token(http, "/agenda")}).headers["Location"]
    form = http.get(location).get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1)}
    sad = http.post(location, data={**data, "score": "6"}).get_data(as_text=True)
    assert 'data-testid="hand-back"' in sad and "devolver el teléfono" in sad
    happy = http.post(location, data={**data, "score": "10"}).get_data(as_text=True)  # corrected within the window
    assert 'data-testid="hand-back"' in happy and "Cuando termines" in happy  # the share step comes first
    secret = make.feedback_link(_b, ids["rosa"]).secret
    own = app.test_client()
    form = own.get(f"/f/{secret}?lang=es").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1)}
    assert 'data-testid="hand-back"' not in own.post(f"/f/{secret}?lang=es", data={**data, "score": "6"}
                                                     ).get_data(as_text=True)


def test_another_business_cannot_reach_our_delivery_moment(app, make, delivery):
    """TEN-2: our visit's id from another business answers 404, like a missing one, and
    nothing is written: no referral, no ask, no feedback link, and its seller stays
    logged in."""
    business, *_rest, http, ids = delivery
    log(http, ids["visit"], "5")
    _b, _o, _m, stranger = make.team("Otra Mueblería")
    other = app.test_client()
    login(other, stranger.email)
    token = csrf_token(other, "/agenda")
    visit = ids["visit"]
    assert other.get(f"/agenda/{visit}/delivery").status_code == 404
    assert other.get(f"/agenda/{visit}/referral-qr").status_code == 404
    for path, data in ((f"/agenda/{visit}/referrals", {"friend_name_0": "Intruso", "friend_contact_0": "x@example.com",
                                                       "friend_consent": "1"}),
                       (f"/agenda/{visit}/referral-qr", {}), (f"/agenda/{visit}/kiosk", {})):
        assert other.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    assert other.get("/agenda").status_code == 200  # not logged out by someone else's kiosk
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Referral)).first() is None
        assert db.session.execute(select(ReferralAsk)).first() is None
        assert db.session.execute(select(FeedbackLink)).first() is None


def _answer_and_share(customer, location, friend):
    page = customer.get(location).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    thanks = customer.post(location, data={"csrf_token": token, "score": "10",
                                           "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1)})
    stamp = re.search(r'name="stamp" value="([^"]+)"', thanks.get_data(as_text=True)).group(1)
    share = location.split("?")[0] + "/share"
    assert customer.post(share, data={"csrf_token": token, "stamp": stamp, "friend_name_0": friend[0],
                                      "friend_contact_0": friend[1], "friend_consent": "1"}).status_code == 200


def test_friends_the_client_names_on_the_kiosk_count_for_the_delivery_visit(app, make, delivery, monkeypatch):
    from pymes.feedback import services as feedback

    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    business, _o, _m, seller, http, ids = delivery
    log(http, ids["visit"], "5")
    kiosk = http.post(f"/agenda/{ids['visit']}/kiosk", data={"csrf_token": csrf_token(http, "/agenda")})
    _answer_and_share(http, kiosk.headers["Location"], ("Diego Amigo", "diego@example.com"))
    # the same sale's link sent another way (from the sale's page) is not the delivery moment
    secret = make.feedback_link(business, ids["rosa"], sent_by="share", sale_id=ids["sale"]).secret
    _answer_and_share(app.test_client(), f"/f/{secret}", ("Elena Otra", "elena@example.com"))
    with app.app_context(), bound(business.id):
        rows = dict(db.session.execute(select(Referral.name, Referral.activity_id)).all())
        assert rows == {"Diego Amigo": ids["visit"], "Elena Otra": None}
        assert db.session.execute(select(ReferralAsk.activity_id, ReferralAsk.asked_by_id)).all() == [
            (ids["visit"], seller.id)]
