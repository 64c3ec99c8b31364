"""Rule 8 and the ladder: a referred prospect's first sale converts the referral by
itself, and the referrer gets the credit (an apostle needs a high score and a
converted referral)."""
import re
from datetime import timedelta

from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.referrals import services as referrals
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound
from tests.factories import santiago_today

from ..factories import csrf_token, login


def reason(html: str) -> str:
    return re.search(r'data-testid="tier-reason">([^<]*)', html).group(1)


def frequent_client(make, business, seller) -> int:
    """Six purchases, one every 40 days, the last a week ago: a frequent client."""
    client = make.client(business, "Marta Rivas", seller_id=seller.id, email="marta@example.com")
    for n in range(6):
        make.sale(business, client, 20_000, sold_on=santiago_today() - timedelta(days=7 + 40 * n), description="Café")
    return client.id


def test_a_referred_friends_first_sale_makes_the_referrer_an_apostle(app, make):
    business, owner, _manager, seller = make.team("Tostaduría Sur")
    marta = frequent_client(make, business, seller)
    make.answer(business, client=marta, score=10)
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, marta)
        friend = referrals.read_friend("Pablo Núñez", "pablo@example.com", "CL", client)
        referral = referrals.add_referral(client, friend, source="visit", friend_consent=True)
        db.session.commit()
        prospect_id = referral.prospect_id
    http = app.test_client()
    login(http, seller.email)
    before = reason(http.get(f"/clients/{marta}").get_data(as_text=True))
    assert "apóstol" in before and "1 referido que se haga cliente" in before, before
    page = f"/clients/{prospect_id}"
    answer = http.post(f"/clients/{prospect_id}/sales", data={
        "csrf_token": csrf_token(http, page), "sold_on": santiago_today().isoformat(), "description": "Molinillo",
        "amount": "45.000", "seller_id": str(seller.id)})
    assert answer.status_code in (200, 303)
    with app.app_context(), bound(business.id):
        referral = db.session.execute(select(Referral)).scalar_one()
        assert referral.status == "converted" and referral.converted_at is not None
        assert db.session.get(Client, prospect_id).kind == "client"
        assert db.session.get(Client, marta).tier == "apostle"
    after = reason(http.get(f"/clients/{marta}").get_data(as_text=True))
    assert "1 referido que ya es cliente" in after, after


def test_a_low_score_keeps_a_frequent_client_from_the_top(app, make):
    business, _owner, _manager, seller = make.team()
    marta = frequent_client(make, business, seller)
    make.answer(business, client=marta, score=6)
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, marta)
        friend = referrals.read_friend("Pablo", "+56 9 8765 4320", "CL", client)
        referral = referrals.add_referral(client, friend, source="manual", friend_consent=True)
        db.session.commit()
        db.session.add(Sale(client_id=referral.prospect_id, sold_on=santiago_today(), description="x", amount=1))
        db.session.commit()
        from pymes.clients.services import refresh_client

        refresh_client(db.session.get(Client, referral.prospect_id))
        db.session.commit()
        assert db.session.execute(select(Referral.status)).scalar_one() == "converted"
        assert db.session.get(Client, marta).tier == "frequent"


def test_a_duplicate_referral_waits_for_a_person(app, make):
    business, _owner, _manager, seller = make.team()
    marta = frequent_client(make, business, seller)
    with app.app_context(), bound(business.id):
        known = Client(name="Ya Cliente", email="ya@example.com")
        db.session.add(known)
        db.session.commit()
        client = db.session.get(Client, marta)
        referral = referrals.add_referral(client, referrals.read_friend("Ya", "ya@example.com", "CL", client),
                                          source="manual", friend_consent=True)
        db.session.commit()
        assert referral.flag == "duplicate" and referral.prospect_id == known.id
        db.session.add(Sale(client_id=known.id, sold_on=santiago_today(), description="x", amount=1))
        db.session.commit()
        from pymes.clients.services import refresh_client

        refresh_client(db.session.get(Client, known.id))
        db.session.commit()
        assert db.session.execute(select(Referral.status)).scalar_one() == "new"
