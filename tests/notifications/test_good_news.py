"""Good news is seen (issue 18): a testimonial waiting for approval and new referrals
notify the managers and the responsible seller (not the person who recorded them, who
knows), one notification per batch of friends, in the reader's language; and they show
on the home page's "Your day" for whom they concern."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.notifications.models import Notification
from pymes.referrals import services as referrals
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import csrf_token, login, santiago_today


@pytest.fixture
def shop(app, make):
    business = make.business("Ferretería El Clavo")
    owner = make.user(business, "owner", name="Olga Dueña")
    manager = make.user(business, "manager", name="Mark Manager", language="en")
    seller = make.user(business, "seller", name="Sergio Vendedor")
    other = make.user(business, "seller", name="Otto Otro")
    cid = make.client(business, "Rosa María Díaz", email="rosa@example.com", seller_id=seller.id).id
    return business, owner, manager, seller, other, cid


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)


def kinds(app, business, user):
    with app.app_context(), bound(business.id):
        return [(n.kind, n.params.get("count")) for n in db.session.execute(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)).scalars()]


def test_a_promoter_s_testimonial_and_two_friends_tell_the_managers_and_the_seller(app, make, shop):
    business, owner, manager, seller, other, cid = shop
    secret = make.feedback_link(business, cid).secret
    customer = app.test_client()
    page = customer.get(f"/f/{secret}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    thanks = customer.post(f"/f/{secret}", data={"csrf_token": token, "score": "10",
                                                 "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1)})
    stamp = re.search(r'name="stamp" value="([^"]+)"', thanks.get_data(as_text=True)).group(1)
    shared = customer.post(f"/f/{secret}/share", data={
        "csrf_token": token, "stamp": stamp, "testimonial": "Me atendieron de maravilla", "name_display": "first",
        "may_publish": "1", "friend_name_0": "Bruno Soto", "friend_contact_0": "bruno@example.com",
        "friend_name_1": "Carla Peña", "friend_contact_1": "+56 9 6123 4567", "friend_consent": "1"})
    assert shared.status_code == 200 and 'data-testid="shared"' in shared.get_data(as_text=True)
    expected = [("testimonial_pending", None), ("referral_new", 2)]
    assert kinds(app, business, owner) == expected
    assert kinds(app, business, manager) == expected
    assert kinds(app, business, seller) == expected  # Rosa's responsible seller
    assert kinds(app, business, other) == []          # not their client
    # each reads it in their own language, with the friends named, and it leads to the list
    boss, mark = app.test_client(), app.test_client()
    login(boss, owner.email)
    login(mark, manager.email)
    spanish = boss.get("/notifications").get_data(as_text=True)
    assert "Rosa María Díaz recomendó a 2 personas: Bruno Soto, Carla Peña." in spanish
    assert "Rosa María Díaz dejó un testimonio: espera tu aprobación." in spanish
    english = mark.get("/notifications").get_data(as_text=True)
    assert "Rosa María Díaz recommended 2 people: Bruno Soto, Carla Peña." in english
    with app.app_context(), bound(business.id):
        urls = {n.kind: n.id for n in db.session.execute(select(Notification).where(
            Notification.user_id == owner.id)).scalars()}
    assert boss.get(f"/notifications/{urls['referral_new']}").headers["Location"] == "/referrals?status=new"
    assert boss.get(f"/notifications/{urls['testimonial_pending']}").headers["Location"] == "/testimonials"


def test_what_a_seller_records_tells_the_managers_but_not_the_seller(app, shop):
    business, owner, manager, seller, other, cid = shop
    with app.app_context(), bound(business.id):
        sale = Sale(client_id=cid, seller_id=seller.id, sold_on=santiago_today(), description="Taladro", amount=90000)
        db.session.add(sale)
        db.session.flush()
        visit = Activity(client_id=cid, sale_id=sale.id, seller_id=seller.id, kind="visit", purpose="delivery",
                         due_on=santiago_today(), status="done", satisfaction=5, done_at=utcnow())
        db.session.add(visit)
        db.session.commit()
        visit_id = visit.id
    http = app.test_client()
    login(http, seller.email)
    response = http.post(f"/agenda/{visit_id}/referrals", data={
        "csrf_token": csrf_token(http, "/agenda"), "friend_name_0": "Bruno Soto", "friend_contact_0": "9 8765 1111",
        "friend_consent": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    path = f"/clients/{cid}/testimonials/new"
    assert http.post(path, data={"csrf_token": csrf_token(http, path), "text": "Muy buena atención",
                                 "name_display": "first", "publish_where": "both", "consent": "1"}
                     ).status_code == 303
    assert kinds(app, business, seller) == []
    assert kinds(app, business, other) == []
    assert kinds(app, business, owner) == [("referral_new", 1), ("testimonial_pending", None)]
    assert kinds(app, business, manager) == [("referral_new", 1), ("testimonial_pending", None)]


def test_a_testimonial_is_announced_when_it_starts_waiting_not_at_each_correction(app, shop):
    business, owner, _manager, _seller, _other, cid = shop
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, cid)
        testimonial = referrals.save_testimonial(client, "Bien", "first", True, None, source="seller")
        db.session.commit()
        referrals.save_testimonial(client, "Muy bien", "first", True, None, source="seller")  # a second one
        db.session.commit()
        referrals.review(testimonial, "approved", owner.id)
    assert kinds(app, business, owner) == [("testimonial_pending", None), ("testimonial_pending", None)]


def test_a_friend_leaving_their_contact_on_the_referral_link_is_news_too(app, shop):
    business, owner, _manager, seller, _other, cid = shop
    with app.app_context(), bound(business.id):
        code = referrals.referral_code(db.session.get(Client, cid), create=True).code
    friend = app.test_client()
    page = friend.get(f"/r/{code}").get_data(as_text=True)
    assert friend.post(f"/r/{code}", data={
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
        "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1),
        "name": "Diego Amigo", "contact": "diego@example.com", "consent": "1"}).status_code == 200
    assert kinds(app, business, owner) == [("referral_new", 1)]
    assert kinds(app, business, seller) == [("referral_new", 1)]


def _my_day(http) -> str:
    return re.search(r'data-testid="my-day">(.*?)</article>', http.get("/").get_data(as_text=True), re.S).group(1)


def test_your_day_shows_the_new_referrals_and_the_testimonials_waiting(app, shop):
    business, owner, _manager, seller, other, cid = shop
    with app.app_context(), bound(business.id):
        rosa = db.session.get(Client, cid)
        for name, contact in (("Bruno Soto", "bruno@example.com"), ("Carla Peña", "carla@example.com"),
                              ("Diego Viejo", "diego@example.com"), ("Elsa Llamada", "elsa@example.com")):
            referrals.add_referral(rosa, referrals.read_friend(name, contact, "CL", rosa), source="manual",
                                   friend_consent=True)
        db.session.flush()
        old = db.session.execute(select(Referral).where(Referral.name == "Diego Viejo")).scalar_one()
        old.created_at = utcnow() - timedelta(days=45)                  # older than the 30 days: not news
        db.session.execute(select(Referral).where(Referral.name == "Elsa Llamada")).scalar_one().status = "contacted"
        referrals.save_testimonial(rosa, "Excelente", "first", True, None, source="seller")
        approved = referrals.save_testimonial(rosa, "Otra vez", "first", True, None, source="seller")
        db.session.flush()
        approved.status = "approved"                                     # already decided: not waiting
        db.session.commit()
    for user, shown in ((owner, True), (seller, True), (other, False)):
        http = app.test_client()
        login(http, user.email)
        day = _my_day(http)
        if not shown:
            assert 'data-testid="home-good-news"' not in day
            continue
        referrals_line = re.search(r'data-testid="home-referrals"><a href="([^"]+)">([^<]+)</a>', day)
        assert referrals_line.group(2) == "2 nuevos referidos por contactar"
        assert http.get(referrals_line.group(1).replace("&amp;", "&")).status_code == 200
        assert "Carla Peña, recomendación de Rosa María Díaz" in day
        assert "Bruno Soto" in day and "Diego Viejo" not in day and "Elsa Llamada" not in day
        assert re.search(r'data-testid="home-testimonials"><a href="/testimonials">1 testimonio espera aprobación<', day)
    # contacting a referral takes it off the home page at once (the kept page is not served)
    http = app.test_client()
    login(http, owner.email)
    with app.app_context(), bound(business.id):
        db.session.execute(select(Referral).where(Referral.name == "Bruno Soto")).scalar_one().status = "contacted"
        db.session.commit()
    assert "1 nuevo referido por contactar" in _my_day(http)
