"""Key clients (Pareto over 12 months) and the per-business loyalty thresholds."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound

from ..factories import csrf_token, login


def today():
    """Today in the factories' business zone, read when used (tests may cross midnight)."""
    return datetime.now(ZoneInfo("America/Santiago")).date()


def seed(app, business, amounts, old=()):
    """Clients with one sale each in the last 12 months (and some older sales)."""
    with app.app_context(), bound(business.id):
        ids = []
        for i, amount in enumerate(amounts):
            c = Client(name=f"C{i}")
            db.session.add(c)
            db.session.flush()
            db.session.add(Sale(client_id=c.id, sold_on=today() - timedelta(days=10), description="x", amount=amount))
            ids.append(c.id)
        for i, amount in enumerate(old):
            db.session.add(Sale(client_id=ids[i], sold_on=today() - timedelta(days=400), description="old",
                                amount=amount))
        db.session.commit()
        return ids


def test_pareto_picks_the_few_clients_that_make_80_percent(app, make):
    business, owner, _m, _s = make.team()
    # 1000 in all: 500 + 300 = 80% → the first two; an old sale does not count.
    seed(app, business, [500, 300, 100, 50, 50], old=[0, 0, 0, 0, 100000])
    http = app.test_client()
    login(http, owner.email)
    html = http.get("/clients/key", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="pareto-headline"' in html
    body = html.split("<tbody>")[1]
    assert ">C0<" in body and ">C1<" in body and ">C2<" not in body and ">C4<" not in body  # names, not token bytes
    assert "80%" in html or "80\xa0%" in html


def test_mark_a_key_client_from_the_list(app, make):
    business, owner, _m, _s = make.team()
    ids = seed(app, business, [900, 100])
    http = app.test_client()
    login(http, owner.email)
    http.post(f"/clients/{ids[0]}/key", data={"csrf_token": csrf_token(http, "/clients/key"), "is_key": "1",
                                               "next": "/clients/key"})
    with app.app_context(), bound(business.id):
        assert db.session.get(Client, ids[0]).is_key is True
    assert ">C0<" in http.get("/clients?key=1").get_data(as_text=True)


def test_new_thresholds_recompute_every_tier(app, make):
    business, owner, _m, _s = make.team()
    with app.app_context(), bound(business.id):
        c = Client(name="Dos compras")
        db.session.add(c)
        db.session.flush()
        for days in (5, 50):
            db.session.add(Sale(client_id=c.id, sold_on=today() - timedelta(days=days), description="x", amount=10))
        db.session.flush()
        from pymes.clients.services import refresh_client

        refresh_client(c)
        db.session.commit()
        cid = c.id
        assert c.tier == "sporadic"
    http = app.test_client()
    login(http, owner.email)
    form = {"csrf_token": csrf_token(http, "/clients/settings"), "sporadic_min_purchases": "2",
            "frequent_min_purchases": "2", "frequent_max_gap_days": "60", "lapsed_after_days": "365",
            "apostle_min_score": "9", "apostle_min_referrals": "1"}
    assert http.post("/clients/settings", data=form).status_code == 303
    with app.app_context(), bound(business.id):
        assert db.session.get(Client, cid).tier == "frequent"
    bad = http.post("/clients/settings", data=dict(form, apostle_min_score="11", frequent_max_gap_days="x"))
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="apostle_min_score-error"' in html and 'id="frequent_max_gap_days-error"' in html


def test_sellers_cannot_change_the_ladder(app, make):
    _b, _o, _m, seller = make.team()
    http = app.test_client()
    login(http, seller.email)
    assert http.get("/clients/settings").status_code == 403
