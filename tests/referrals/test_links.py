"""A client's personal referral link: the friend leaves their own contact, which creates
the referral (source "link"); bad input explained; other businesses see nothing."""
import re

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.referrals.models import Referral
from pymes.tenancy import bound

from ..factories import csrf_token, login


@pytest.fixture
def linked(app, make, monkeypatch):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    business, _owner, _manager, seller = make.team("Bicicletería Andes")
    ana_id = make.client(business, "Ana Soto", seller_id=seller.id, email="ana@example.com",
                         whatsapp="+56987654321").id
    http = app.test_client()
    login(http, seller.email)
    path = f"/clients/{ana_id}/referral-link"
    assert 'data-testid="referral-url"' not in http.get(path).get_data(as_text=True)
    page = http.post(path, data={"csrf_token": csrf_token(http, path)}).get_data(as_text=True)
    url = re.search(r'value="([^"]+/r/[^"]+)"', page).group(1)
    assert "wa.me/56987654321" in page and "data:image/svg+xml" in page
    again = http.post(path, data={"csrf_token": csrf_token(http, path)}).get_data(as_text=True)
    assert url in again  # one code per client
    return business, seller, ana_id, url.removeprefix(app.config["BASE_URL"])


def send(http, path, **fields):
    page = http.get(path).get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1)}
    data.update(fields)
    return http.post(path, data=data)


def test_a_friend_leaves_their_contact_and_becomes_a_prospect(app, linked):
    business, seller, ana_id, path = linked
    http = app.test_client()
    page = http.get(path).get_data(as_text=True)
    assert "Ana recomienda Bicicletería Andes" in page and "Soto" not in page  # first name only
    done = send(http, path, name="Pablo Rey", contact="pablo@example.com", consent="1")
    assert done.status_code == 200 and 'data-testid="friend-done"' in done.get_data(as_text=True)
    send(http, path, name="Pablo Rey", contact="pablo@example.com", consent="1")  # twice: one referral
    with app.app_context(), bound(business.id):
        referral = db.session.execute(select(Referral)).scalar_one()
        prospect = db.session.get(Client, referral.prospect_id)
        assert (referral.source, referral.referrer_id, referral.friend_consent) == ("link", ana_id, True)
        assert (prospect.kind, prospect.seller_id, prospect.referred_by_id) == ("prospect", seller.id, ana_id)


@pytest.mark.parametrize("fields, words", [
    ({"name": "Pablo", "contact": "", "consent": "1"}, "teléfono"),
    ({"name": "", "contact": "", "consent": "1"}, "tu nombre"),
    ({"name": "Pablo", "contact": "pablo@example.com"}, "marca"),
    ({"name": "Ana", "contact": "ana@example.com", "consent": "1"}, "es de ana"),
])
def test_bad_input_on_the_friends_page_is_explained_and_kept(app, linked, fields, words):
    business, _seller, _ana, path = linked
    page = send(app.test_client(), path, **fields)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert words in html.lower()
    if fields["name"]:
        assert f'value="{fields["name"]}"' in html
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Referral)).first() is None


def test_an_unknown_code_is_a_plain_404(app, linked):
    assert app.test_client().get("/r/not-a-code-at-all").status_code == 404
