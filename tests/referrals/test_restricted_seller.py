"""A seller restricted to their own clients learns nothing of another seller's clients
through referrals (issue 20, finding 5; TEN-3 within a business): the "referred by"
look-up, the "already in your client book" message, the referrals list and its export
after the referral converted."""
import csv
import io
import re

import pytest
from sqlalchemy import select, update

from pymes.accounts.models import Business
from pymes.clients.models import Client
from pymes.extensions import db
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound

from ..factories import csrf_token, login, santiago_today

SECRET = "Marta Secreta"


@pytest.fixture
def book(app, make):
    business, _owner, manager, mine = make.team("Ferretería El Roble")
    other = make.user(business, "seller", name="Otro Vendedor")
    with app.app_context(), bound(business.id):
        db.session.execute(update(Business).where(Business.id == business.id).values(sellers_see_only_own=True))
        ana = Client(name="Ana Soto", seller_id=mine.id)
        marta = Client(name=SECRET, seller_id=other.id, email="marta@example.com")
        db.session.add_all([ana, marta])
        db.session.flush()
        db.session.add(Sale(client_id=marta.id, seller_id=other.id, sold_on=santiago_today(), amount=450000,
                            description="Taladro"))
        db.session.commit()
        ids = ana.id, marta.id
    http = app.test_client()
    login(http, mine.email)
    return business, http, manager, ids


def _new_client(http, referred_by):
    return http.post("/clients/new", data={"csrf_token": csrf_token(http, "/clients/new"), "name": "Juan Pérez",
                                           "kind": "client", "referred_by": referred_by})


def _message(response) -> str:
    html = response.get_data(as_text=True)
    found = re.search(r'id="referred_by-error"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


def test_referred_by_does_not_tell_whether_another_sellers_client_exists(book):
    _business, http, _manager, _ids = book
    theirs, nobody = _new_client(http, SECRET), _new_client(http, "Nadie Conocido")
    assert theirs.status_code == nobody.status_code == 422
    assert _message(theirs) == _message(nobody) != ""
    assert _new_client(http, "Ana Soto").status_code == 303  # one of the seller's own: accepted


def _refer(http, client_id, name, contact):
    path = f"/clients/{client_id}/referrals/new"
    http.post(path, data={"csrf_token": csrf_token(http, path), "name": name, "contact": contact,
                          "friend_consent": "1", "source": "visit"})
    page = http.get(f"/clients/{client_id}").get_data(as_text=True)
    return re.search(r'class="flash[^"]*"[^>]*>\s*([^<]+?)\s*<', page).group(1)


def test_the_referral_message_is_the_same_for_another_sellers_client_and_a_new_person(book):
    _business, http, _manager, (ana_id, _marta_id) = book
    theirs = _refer(http, ana_id, "Marta", "marta@example.com")
    new = _refer(http, ana_id, "Marta", "marta.nueva@example.com")
    assert theirs == new
    assert "cartera" not in theirs and "book" not in theirs


def test_the_list_and_the_export_after_conversion_say_nothing_of_the_other_sellers_client(app, book):
    business, http, _manager, (ana_id, marta_id) = book
    _refer(http, ana_id, "Marta", "marta@example.com")
    with app.app_context(), bound(business.id):
        referral = db.session.execute(select(Referral)).scalar_one()
        assert (referral.prospect_id, referral.flag) == (marta_id, "duplicate")
        referral.status = "converted"
        db.session.commit()
    page = http.get("/referrals?days=all").get_data(as_text=True)
    listing = re.search(r'<tr id="referral-.*?</tr>', page, re.S).group(0)
    assert "Otro Vendedor" not in listing and f"/clients/{marta_id}" not in listing
    assert "ya está en tu cartera" not in listing.lower() and "already in your client book" not in listing
    text = http.get("/referrals/export.csv?days=all").get_data(as_text=True)
    [header, row] = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert "Otro Vendedor" not in text and "450000" not in text and "4500" not in row[-1]
    assert row[header.index(header[-2])] == ""  # "already a client"
    assert row[-1] == ""  # what it brought in


def test_a_manager_still_sees_everything(app, book):
    business, http, manager, (ana_id, _marta_id) = book
    _refer(http, ana_id, "Marta", "marta@example.com")
    boss = app.test_client()
    login(boss, manager.email)
    assert "Otro Vendedor" in boss.get("/referrals/export.csv?days=all").get_data(as_text=True)
