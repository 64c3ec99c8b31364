"""In-app notifications: a detractor's complaint and a callback request reach the right
people, in the reader's language; the header counts the unread; each reader sees only
their own."""
import re

import pytest
from sqlalchemy import select

from pymes.complaints.models import Complaint
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.notifications.models import Notification
from pymes.tenancy import bound

from ..factories import Factory, login, post, statements


@pytest.fixture
def shop(app, make):
    business = make.business("Ferretería El Clavo")
    owner = make.user(business, "owner", name="Olga Dueña")
    manager = make.user(business, "manager", name="Mark Manager", language="en")
    seller = make.user(business, "seller", name="Sergio Vendedor")
    cid = make.client(business, "Rosa María Díaz", email="rosa@example.com", seller_id=seller.id).id
    return business, owner, manager, seller, cid


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)


def answer(app, business, cid, **fields):
    secret = Factory(app).feedback_link(business, cid).secret
    customer = app.test_client()
    page = customer.get(f"/f/{secret}").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1)}
    data.update(fields)
    assert customer.post(f"/f/{secret}", data=data).status_code == 200


def mine(app, business, user):
    with app.app_context(), bound(business.id):
        return db.session.execute(select(Notification).where(Notification.user_id == user.id)).scalars().all()


def unread_badge(html: str) -> str | None:
    found = re.search(r'data-testid="unread-count">(\d+)<', html)
    return found.group(1) if found else None


def test_a_detractor_tells_the_managers_and_the_complaint_s_owner_in_their_language(app, shop):
    business, owner, manager, seller, cid = shop
    answer(app, business, cid, score="3", comment="Llegó tarde")
    with app.app_context(), bound(business.id):
        case = db.session.execute(select(Complaint)).scalar_one()
    for user in (owner, manager, seller):  # the seller owns the case
        kinds = [n.kind for n in mine(app, business, user)]
        assert kinds == ["complaint_opened"], (user.role, kinds)

    english = app.test_client()
    login(english, manager.email)
    home = english.get("/").get_data(as_text=True)
    assert unread_badge(home) == "1"
    page = english.get("/notifications").get_data(as_text=True)
    assert "Rosa María Díaz is unhappy (3/10): a complaint was opened." in page

    spanish = app.test_client()
    login(spanish, seller.email)
    listed = spanish.get("/notifications").get_data(as_text=True)
    assert "Rosa María Díaz" in listed and 'lang="es"' in listed
    note = mine(app, business, seller)[0]
    opened = spanish.get(f"/notifications/{note.id}")
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/complaints/{case.id}")
    assert unread_badge(spanish.get("/").get_data(as_text=True)) is None
    assert mine(app, business, seller)[0].read_at is not None
    assert mine(app, business, manager)[0].read_at is None  # reading mine does not read the manager's


def test_a_callback_request_tells_the_client_s_seller_only(app, shop):
    business, owner, manager, seller, cid = shop
    answer(app, business, cid, score="9", callback="1", callback_channel="phone", callback_window="afternoon",
           contact_phone="9 8765 4321")  # the business had no number: the page asked for one
    assert [n.kind for n in mine(app, business, seller)] == ["callback_requested"]
    assert mine(app, business, owner) == [] and mine(app, business, manager) == []
    http = app.test_client()
    login(http, seller.email)
    page = http.get("/notifications").get_data(as_text=True)
    assert "Rosa María Díaz" in page and "Llamada, Tarde (15–19)" in page and "((" not in page
    with app.app_context(), bound(business.id):  # the same notification, read by an English speaker
        from pymes.accounts.models import User

        db.session.get(User, seller.id).language = "en"
        db.session.commit()
    english = app.test_client()
    login(english, seller.email)
    page = english.get("/notifications").get_data(as_text=True)
    assert "Rosa María Díaz asked to be contacted by Phone call, Afternoon (15–19)." in page
    note = mine(app, business, seller)[0]
    assert http.get(f"/notifications/{note.id}").headers["Location"].endswith(f"/clients/{cid}")


def test_a_seller_does_not_see_or_open_a_manager_s_notifications(app, shop):
    business, _owner, manager, seller, cid = shop
    answer(app, business, cid, score="2")
    managers = mine(app, business, manager)[0]
    http = app.test_client()
    login(http, seller.email)
    assert http.get(f"/notifications/{managers.id}").status_code == 404
    assert mine(app, business, manager)[0].read_at is None
    page = http.get("/notifications").get_data(as_text=True)
    assert page.count('data-testid="notification"') == 1  # only the seller's own


def test_mark_all_read_is_a_post_with_csrf(app, shop):
    business, owner, _manager, _seller, cid = shop
    answer(app, business, cid, score="1")
    answer(app, business, cid, score="4")
    http = app.test_client()
    login(http, owner.email)
    assert unread_badge(http.get("/").get_data(as_text=True)) == "2"
    assert http.post("/notifications/read").status_code == 400  # no CSRF token
    assert http.get("/notifications/read").status_code in (404, 405)
    assert unread_badge(http.get("/").get_data(as_text=True)) == "2"
    assert post(http, "/notifications/read", token_page="/notifications").status_code == 303
    assert unread_badge(http.get("/").get_data(as_text=True)) is None
    assert all(n.read_at is not None for n in mine(app, business, owner))


def _statements(app, http, path):
    with statements(app) as seen:
        assert http.get(path).status_code == 200
    return seen


def test_the_header_count_is_one_query_whatever_the_number(app, shop):
    business, owner, _manager, _seller, cid = shop
    http = app.test_client()
    login(http, owner.email)
    before = _statements(app, http, "/clients")
    assert sum("notifications" in s for s in before) == 1
    for score in (0, 1, 2, 3, 4):
        answer(app, business, cid, score=str(score))
    after = _statements(app, http, "/clients")
    # the worker's kept session is checked against the business's data version first (one
    # primary-key read, stale after the answers): not a statement of the page's own
    after = [s for s in after if not s.startswith("SELECT businesses.data_version")]
    assert len(after) == len(before) and unread_badge(http.get("/clients").get_data(as_text=True)) == "5"
    anonymous = _statements(app, app.test_client(), "/login")
    assert not any("notifications" in s for s in anonymous)
