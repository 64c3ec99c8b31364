"""Who follows a referred friend up (the referrer's seller, else the territory's), and a
friend already in the client book recognised by their phone however it was typed."""
import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.referrals.models import Referral
from pymes.tenancy import bound
from pymes.territories.models import Territory, TerritorySeller

from ..factories import csrf_token, login


@pytest.fixture
def north(app, make):
    """A territory with two responsible sellers (Rosa first) and a client in it with no seller."""
    business, _owner, manager, seller = make.team("Ferretería Norte")
    rosa = make.user(business, "seller", name="Rosa Territorio")
    with app.app_context(), bound(business.id):
        territory = Territory(name="Norte")
        db.session.add(territory)
        db.session.flush()
        db.session.add_all([TerritorySeller(territory_id=territory.id, user_id=rosa.id),
                            TerritorySeller(territory_id=territory.id, user_id=seller.id)])
        orphan = Client(name="Olga Sin Vendedor", territory_id=territory.id)
        followed = Client(name="Félix Con Vendedor", territory_id=territory.id, seller_id=seller.id)
        loose = Client(name="Luis Sin Nada")
        db.session.add_all([orphan, followed, loose])
        db.session.commit()
        ids = dict(orphan=orphan.id, followed=followed.id, loose=loose.id, territory=territory.id)
    http = app.test_client()
    login(http, manager.email)
    return business, http, rosa, seller, ids


def refer(http, client_id, name, contact):
    path = f"/clients/{client_id}/referrals/new"
    return http.post(path, data={"csrf_token": csrf_token(http, path), "name": name, "contact": contact,
                                 "source": "visit", "friend_consent": "1"}, follow_redirects=True)


def prospect_of(app, business, name):
    with app.app_context(), bound(business.id):
        referral = db.session.execute(select(Referral).where(Referral.name == name)).scalar_one()
        return db.session.get(Client, referral.prospect_id)


@pytest.mark.parametrize("who, expected", [("orphan", "rosa"), ("followed", "seller"), ("loose", None)])
def test_the_responsible_seller_is_the_referrers_else_the_territorys_first(app, north, who, expected):
    business, http, rosa, seller, ids = north
    assert refer(http, ids[who], "Amigo Nuevo", "amigo@example.com").status_code == 200
    prospect = prospect_of(app, business, "Amigo Nuevo")
    assert prospect.seller_id == {"rosa": rosa.id, "seller": seller.id, None: None}[expected]
    assert prospect.territory_id == (ids["territory"] if who != "loose" else None)
    assert prospect.kind == "prospect" and prospect.referred_by_id == ids[who]


@pytest.mark.parametrize("stored_in, typed", [
    ("phone", "9 8765 4321"),            # national, with spaces
    ("phone", "+56 (9) 8765-4321"),      # international, with punctuation
    ("whatsapp", "56987654321"),         # the WhatsApp number, without the +
])
def test_a_friend_already_in_the_book_is_recognised_by_phone_in_any_format(app, north, stored_in, typed):
    business, http, _rosa, _seller, ids = north
    with app.app_context(), bound(business.id):
        known = Client(name="Teresa Conocida", **{stored_in: "+56987654321"})
        db.session.add(known)
        db.session.commit()
        known_id, before = known.id, db.session.execute(select(func.count(Client.id))).scalar_one()
    page = refer(http, ids["followed"], "Tere", typed).get_data(as_text=True)
    with app.app_context(), bound(business.id):
        referral = db.session.execute(select(Referral)).scalar_one()
        assert (referral.flag, referral.prospect_id, referral.phone) == ("duplicate", known_id, "+56987654321")
        assert db.session.execute(select(func.count(Client.id))).scalar_one() == before  # no second person
    with app.test_request_context(), force_locale("es"):
        told = gettext("%(name)s is already in your client book: the referral is linked to them.", name="Tere")
    assert told in page                                                  # the seller is told, not left guessing
