"""Issue 19, point 4: the response rate counts the links actually sent. A link shown to
the seller and never shared is not "sent"; it becomes sent when the seller presses
WhatsApp, copy or share (send.js posts to the link's /sent), when it is e-mailed or handed
over at the delivery, or when the customer opens it. Figures computed by hand."""
import re

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.feedback import services as feedback_services
from pymes.feedback.models import FeedbackLink
from pymes.tenancy import bound

from ..factories import csrf_token, login


@pytest.fixture
def shop(app, make):
    business, owner, manager, seller = make.team("Panadería La Espiga")
    with app.app_context(), bound(business.id):
        rosa = Client(name="Rosa Díaz", seller_id=seller.id, email="rosa@example.com", phone="+56987654321")
        db.session.add(rosa)
        db.session.commit()
        return dict(business=business, owner=owner, manager=manager, seller=seller, rosa=rosa.id)


def logged_in(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def make_link(http, cid, send="share"):
    page = http.post(f"/clients/{cid}/feedback-links",
                     data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": send})
    return page.get_data(as_text=True)


def links(app, shop):
    with app.app_context(), bound(shop["business"].id):
        return db.session.execute(select(FeedbackLink).order_by(FeedbackLink.id)).scalars().all()


def rate(http):
    page = http.get("/dashboard").get_data(as_text=True)
    return re.search(r'data-testid="fig-response-rate">([^<]+)<', page).group(1)


def test_a_link_counts_as_sent_only_once_it_left(app, shop, monkeypatch):
    monkeypatch.setattr(feedback_services, "MIN_FILL_SECONDS", 0)  # people in tests type fast
    seller = logged_in(app, shop["seller"])
    page = make_link(seller, shop["rosa"])                  # shown on the seller's phone
    sent_url = re.search(r'data-sent-url="([^"]+)"', page).group(1)
    secret = re.search(r'id="feedback-url" readonly value="[^"]*/f/([A-Za-z0-9_\-]+)"', page).group(1)
    first = links(app, shop)[0]
    assert (first.sent_by, first.sent_at, first.opened_at) == ("share", None, None)
    assert sent_url == f"/clients/{shop['rosa']}/feedback-links/{first.id}/sent"
    manager = logged_in(app, shop["manager"])
    assert "0 de 0" in rate(manager)  # made, not sent: nothing to count yet

    # the seller presses WhatsApp: send.js tells the server, once
    token = csrf_token(seller, f"/clients/{shop['rosa']}")
    assert seller.post(sent_url, headers={"X-CSRFToken": token}).status_code == 204
    stamped = links(app, shop)[0].sent_at
    assert stamped is not None
    assert seller.post(sent_url, headers={"X-CSRFToken": token}).status_code == 204
    assert links(app, shop)[0].sent_at == stamped               # the first time is kept
    # 1 link sent, none answered: 0 %
    assert "0 de 1" in rate(manager)

    # a second link, never shared: not counted; a third, e-mailed: sent at once
    make_link(seller, shop["rosa"])
    make_link(seller, shop["rosa"], send="email")
    second, third = links(app, shop)[1:]
    assert second.sent_at is None and third.sent_at is not None and third.sent_by == "email"
    assert "0 de 2" in rate(manager)

    # the customer opens the first link's page and answers: 1 of 2 links sent, 50 %
    public = app.test_client()
    form = public.get(f"/f/{secret}").get_data(as_text=True)
    opened = links(app, shop)[0].opened_at
    assert opened is not None
    public.get(f"/f/{secret}")
    assert links(app, shop)[0].opened_at == opened
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1), "score": "9"}
    assert public.post(f"/f/{secret}", data=data).status_code == 200
    assert "1 de 2" in rate(manager) and "50" in rate(manager)


def test_a_link_opened_but_never_marked_counts_as_sent(app, shop):
    seller = logged_in(app, shop["seller"])
    page = make_link(seller, shop["rosa"])
    secret = re.search(r'id="feedback-url" readonly value="[^"]*/f/([A-Za-z0-9_\-]+)"', page).group(1)
    manager = logged_in(app, shop["manager"])
    assert "0 de 0" in rate(manager)
    app.test_client().get(f"/f/{secret}")  # copied by hand, without JavaScript, and opened by Rosa
    assert "0 de 1" in rate(manager)


def test_another_business_s_link_cannot_be_marked_sent(app, shop, make):
    """TEN-2: another business's client or link answers 404, like a missing one."""
    seller = logged_in(app, shop["seller"])
    make_link(seller, shop["rosa"])
    link_id = links(app, shop)[0].id
    other_business, other_owner, _m, _s = make.team("Otra Tienda")
    intruder = logged_in(app, other_owner)
    mine_id = make.client(other_business, "Cliente propio").id
    token = csrf_token(intruder, f"/clients/{mine_id}")
    for url in (f"/clients/{mine_id}/feedback-links/{link_id}/sent",
                f"/clients/{shop['rosa']}/feedback-links/{link_id}/sent"):
        assert intruder.post(url, headers={"X-CSRFToken": token}).status_code == 404
    assert links(app, shop)[0].sent_at is None


def test_the_seller_trying_the_link_does_not_make_it_opened(app, shop):
    seller = logged_in(app, shop["seller"])
    page = make_link(seller, shop["rosa"])
    secret = re.search(r'id="feedback-url" readonly value="[^"]*/f/([A-Za-z0-9_\-]+)"', page).group(1)
    assert seller.get(f"/f/{secret}").status_code == 200
    assert links(app, shop)[0].opened_at is None
    assert "0 de 0" in rate(logged_in(app, shop["manager"]))


def test_the_client_s_links_say_which_are_not_sent_yet(app, shop):
    seller = logged_in(app, shop["seller"])
    page = make_link(seller, shop["rosa"])
    secret = re.search(r'id="feedback-url" readonly value="[^"]*/f/([A-Za-z0-9_\-]+)"', page).group(1)
    client_page = seller.get(f"/clients/{shop['rosa']}/feedback-links").get_data(as_text=True)
    assert 'data-testid="link-not-sent"' in client_page and "aún sin enviar" in client_page
    app.test_client().get(f"/f/{secret}")
    client_page = seller.get(f"/clients/{shop['rosa']}/feedback-links").get_data(as_text=True)
    assert 'data-testid="link-not-sent"' not in client_page and 'data-testid="link-opened"' in client_page
