"""The public forms' anti-bot stamp (issue 20, finding 9; TOK-3): it was reusable across
links and never expired, so a bot fetched one stamp once and skipped the minimum fill
time everywhere. Now a stamp names the link it was issued on and lasts a day; a real
customer whose page sat open longer sees the form again with their answer kept."""
import re
import time as real_time

import pytest
from sqlalchemy import func, select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.feedback import services
from pymes.feedback.models import FeedbackResponse
from pymes.referrals.models import Referral
from pymes.tenancy import bound

from .test_feedback import link_path, make_link


class Clock:
    def __init__(self):
        self.now = real_time.time()

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(services, "time", fake)
    return fake


@pytest.fixture
def two_links(app, make):
    business, _owner, _manager, seller = make.team("Óptica Vista Clara")
    with app.app_context(), bound(business.id):
        clients = [Client(name=name, seller_id=seller.id) for name in ("Rosa Díaz", "Juan Pérez")]
        db.session.add_all(clients)
        db.session.commit()
        ids = [c.id for c in clients]
    return business, [link_path(app, make_link(app, seller, cid)[1]) for cid in ids]


def _form(http, path):
    page = http.get(path).get_data(as_text=True)
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1)}


def _answers(app, business) -> int:
    with app.app_context(), bound(business.id):
        return db.session.execute(select(func.count()).select_from(FeedbackResponse)).scalar_one()


def test_tok3_a_stamp_from_one_link_is_worthless_on_another(app, two_links, clock):
    business, (first, second) = two_links
    bot = app.test_client()
    fields = _form(bot, first)
    clock.now += 60  # the stamp itself is old enough
    dropped = bot.post(second, data={**fields, "score": "0", "comment": "spam"})
    assert dropped.status_code == 200  # silently, like any bot
    assert _answers(app, business) == 0
    assert bot.post(first, data={**fields, "score": "9"}).status_code == 200
    assert _answers(app, business) == 1  # on its own link it works


def test_tok3_a_stamp_expires_and_the_customer_keeps_their_answer(app, two_links, clock):
    business, (first, _second) = two_links
    customer = app.test_client()
    fields = _form(customer, first)
    clock.now += services.STAMP_MAX_AGE + 60  # the tab was left open until the next day
    again = customer.post(first, data={**fields, "score": "8", "comment": "Muy buena atención"})
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and 'data-testid="stale"' in html
    assert "Muy buena atención" in html and 'value="8" checked' in html
    assert _answers(app, business) == 0
    fresh = re.search(r'name="stamp" value="([^"]+)"', html).group(1)
    clock.now += 10
    assert customer.post(first, data={**fields, "stamp": fresh, "score": "8"}).status_code == 200
    assert _answers(app, business) == 1


def test_tok3_too_fast_is_still_dropped(app, two_links, clock):
    business, (first, _second) = two_links
    bot = app.test_client()
    bot.post(first, data={**_form(bot, first), "score": "0"})
    assert _answers(app, business) == 0


def test_tok3_a_referral_links_stamp_is_bound_to_its_code(app, make, clock):
    from ..factories import csrf_token, login

    business, _owner, _manager, seller = make.team("Bicicletería Andes")
    with app.app_context(), bound(business.id):
        clients = [Client(name=n, seller_id=seller.id) for n in ("Ana Soto", "Luis Rojas")]
        db.session.add_all(clients)
        db.session.commit()
        ids = [c.id for c in clients]
    http = app.test_client()
    login(http, seller.email)
    paths = []
    for cid in ids:
        path = f"/clients/{cid}/referral-link"
        page = http.post(path, data={"csrf_token": csrf_token(http, path)}).get_data(as_text=True)
        paths.append(re.search(r'value="([^"]+/r/[^"]+)"', page).group(1).removeprefix(app.config["BASE_URL"]))
    bot = app.test_client()
    fields = _form(bot, paths[0])
    clock.now += 60
    done = bot.post(paths[1], data={**fields, "name": "Spam", "contact": "spam@example.com", "consent": "1"})
    assert done.status_code == 200
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(func.count()).select_from(Referral)).scalar_one() == 0
    ok = bot.post(paths[0], data={**fields, "name": "Pablo Rey", "contact": "pablo@example.com", "consent": "1"})
    assert ok.status_code == 200  # its own link, in time: saved
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(func.count()).select_from(Referral)).scalar_one() == 1
