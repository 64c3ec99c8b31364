"""The referrals list, its inline status, a referral written down by hand, and the
export of referral lists (EXP-1: formula-safe; round trip through csv and openpyxl)."""
import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.referrals import services as referrals
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound
from tests.factories import santiago_today

from ..factories import csrf_token, login


@pytest.fixture
def book(app, make):
    business, owner, manager, seller = make.team("Vivero El Roble")
    with app.app_context(), bound(business.id):
        ana = Client(name="Ana Fuentes", seller_id=seller.id, email="ana@example.com")
        db.session.add(ana)
        db.session.commit()
        for name, contact in (("=HYPERLINK(\"http://x\")", "mal@example.com"), ("Bruno Díaz", "+56 9 8765 4320"),
                              ("Carla Peña", "carla@example.com")):
            referrals.add_referral(ana, referrals.read_friend(name, contact, "CL", ana), source="feedback",
                                   friend_consent=True)
        db.session.commit()
        carla = db.session.execute(select(Client).where(Client.email == "carla@example.com")).scalar_one()
        db.session.add(Sale(client_id=carla.id, sold_on=santiago_today(), description="Olivo", amount=45_000))
        db.session.flush()
        from pymes.clients.services import refresh_client

        refresh_client(carla)  # what recording the sale does: the referral converts
        db.session.commit()
        ana_id = ana.id
    return business, owner, manager, seller, ana_id


def as_user(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def test_the_list_shows_each_referral_and_the_status_moves_inline(app, book):
    business, _owner, manager, _seller, _ana = book
    http = as_user(app, manager)
    page = http.get("/referrals").get_data(as_text=True)
    assert page.count('data-testid="referral"') == 3 and "Bruno Díaz" in page and "9 8765 4320" in page
    with app.app_context(), bound(business.id):
        bruno = db.session.execute(select(Referral).where(Referral.name == "Bruno Díaz")).scalar_one()
    row = http.post(f"/referrals/{bruno.id}/status", data={"csrf_token": csrf_token(http, "/referrals"),
                                                           "status": "meeting"}, headers={"HX-Request": "true"})
    html = row.get_data(as_text=True)
    assert row.status_code == 200 and html.lstrip().startswith(f'<tr id="referral-{bruno.id}"')
    assert 'value="meeting" selected' in html
    assert http.get("/referrals?status=meeting").get_data(as_text=True).count('data-testid="referral"') == 1
    bad = http.post(f"/referrals/{bruno.id}/status", data={"csrf_token": csrf_token(http, "/referrals"),
                                                           "status": "hacked"})
    assert bad.status_code == 303
    with app.app_context(), bound(business.id):
        assert db.session.get(Referral, bruno.id).status == "meeting"


def test_the_export_is_formula_safe_and_matches_the_filter(app, book):
    _business, _owner, manager, _seller, _ana = book
    http = as_user(app, manager)
    text = http.get("/referrals/export.csv?days=all").get_data(as_text=True)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(table) == 1 + 3
    names = [row[2] for row in table[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names and "Bruno Díaz" in names
    carla = next(row for row in table[1:] if row[2] == "Carla Peña")
    assert carla[5] == "Se hizo cliente" and carla[-1] == "45000"
    only_new = list(csv.reader(io.StringIO(http.get("/referrals/export.csv?status=new").get_data(as_text=True)
                                           .lstrip("\ufeff"))))
    assert len(only_new) == 1 + 2
    workbook = load_workbook(io.BytesIO(http.get("/referrals/export.xlsx?days=all").data), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert len(rows) == 4 and any(r[2] == "'=HYPERLINK(\"http://x\")" for r in rows[1:])
    assert any(r[-1] == 45000 for r in rows[1:])  # numbers stay numbers
    empty = list(csv.reader(io.StringIO(http.get("/referrals/export.csv?status=lost").get_data(as_text=True))))
    assert len(empty) == 1  # the header alone: a clear, empty list


def test_a_seller_writes_down_a_referral_from_a_visit(app, book):
    business, _owner, _manager, seller, ana = book
    http = as_user(app, seller)
    path = f"/clients/{ana}/referrals/new"
    missing = http.post(path, data={"csrf_token": csrf_token(http, path), "name": "Diego", "contact": "",
                                    "source": "visit", "friend_consent": "1"})
    assert missing.status_code == 422 and 'value="Diego"' in missing.get_data(as_text=True)
    herself = http.post(path, data={"csrf_token": csrf_token(http, path), "name": "Ana", "contact": "ana@example.com",
                                    "source": "visit", "friend_consent": "1"})
    assert herself.status_code == 422 and "tu propio contacto" in herself.get_data(as_text=True)
    no_consent = http.post(path, data={"csrf_token": csrf_token(http, path), "name": "Diego",
                                       "contact": "diego@example.com", "source": "visit"})
    assert no_consent.status_code == 422 and 'id="friend_consent-error"' in no_consent.get_data(as_text=True)
    ok = http.post(path, data={"csrf_token": csrf_token(http, path), "name": "Diego", "contact": "diego@example.com",
                               "source": "visit", "friend_consent": "1"})
    assert ok.status_code == 303
    with app.app_context(), bound(business.id):
        referral = db.session.execute(select(Referral).where(Referral.name == "Diego")).scalar_one()
        assert referral.source == "visit" and referral.created_by_id == seller.id
        assert db.session.get(Client, referral.prospect_id).seller_id == seller.id


def test_from_the_agenda_a_referral_heard_on_a_call_takes_seconds_and_returns_to_the_agenda(app, book):
    business, _owner, _manager, seller, ana = book
    http = as_user(app, seller)
    path = f"/clients/{ana}/referrals/new?source=call&back=agenda"
    form = http.get(path).get_data(as_text=True)
    assert '<option value="call" selected>' in form
    ok = http.post(path, data={"csrf_token": csrf_token(http, path), "name": "Elena", "contact": "9 6543 2109",
                               "source": "call", "friend_consent": "1"})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/agenda")
    with app.app_context(), bound(business.id):
        referral = db.session.execute(select(Referral).where(Referral.name == "Elena")).scalar_one()
        assert referral.source == "call" and referral.phone == "+56965432109"


def test_a_restricted_seller_sees_only_their_referrals(app, book, make):
    from sqlalchemy import update

    from pymes.accounts.models import Business

    business, _owner, _manager, _seller, _ana = book
    with app.app_context():
        db.session.execute(update(Business).where(Business.id == business.id).values(sellers_see_only_own=True))
        db.session.commit()
    stranger = make.user(business, "seller")
    http = as_user(app, stranger)
    assert 'data-testid="referral"' not in http.get("/referrals?days=all").get_data(as_text=True)
    with app.app_context(), bound(business.id):
        some = db.session.execute(select(Referral.id)).scalars().first()
    assert http.post(f"/referrals/{some}/status", data={"csrf_token": csrf_token(http, "/referrals"),
                                                        "status": "lost"}).status_code == 404
    assert len(list(csv.reader(io.StringIO(http.get("/referrals/export.csv?days=all").get_data(as_text=True))))) == 1


def test_a_reward_policy_and_its_delivery(app, book):
    business, _owner, manager, seller, _ana = book
    http = as_user(app, manager)
    bad = http.post("/referrals/reward", data={"csrf_token": csrf_token(http, "/referrals/reward"),
                                               "reward_kind": "discount", "reward_text": ""})
    assert bad.status_code == 422 and 'id="reward_text-error"' in bad.get_data(as_text=True)
    assert 'selected value="discount"' in bad.get_data(as_text=True) or 'value="discount" selected' in \
        bad.get_data(as_text=True)
    ok = http.post("/referrals/reward", data={"csrf_token": csrf_token(http, "/referrals/reward"),
                                              "reward_kind": "discount", "reward_text": "10 % en la próxima compra"})
    assert ok.status_code == 303
    page = http.get("/referrals?days=all").get_data(as_text=True)
    assert page.count('data-testid="give-reward"') == 1  # only Carla became a client
    with app.app_context(), bound(business.id):
        carla = db.session.execute(select(Referral).where(Referral.name == "Carla Peña")).scalar_one()
        bruno = db.session.execute(select(Referral).where(Referral.name == "Bruno Díaz")).scalar_one()
    http.post(f"/referrals/{bruno.id}/reward", data={"csrf_token": csrf_token(http, "/referrals"), "delivered": "1"})
    http.post(f"/referrals/{carla.id}/reward", data={"csrf_token": csrf_token(http, "/referrals"), "delivered": "1"})
    with app.app_context(), bound(business.id):
        assert db.session.get(Referral, carla.id).reward_delivered_at is not None
        assert db.session.get(Referral, bruno.id).reward_delivered_at is None  # not a client yet: refused
    assert as_user(app, seller).get("/referrals/reward").status_code == 403
