"""Clients and sales through the real routes."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pymes.clients.models import Client, TierChange
from pymes.extensions import db
from pymes.tenancy import bound
from tests.factories import santiago_today

from ..factories import csrf_token, login, statements


def today():
    """Today in the factories' business zone, read when used (tests may cross midnight)."""
    return datetime.now(ZoneInfo("America/Santiago")).date()


@pytest.fixture
def shop(app, make):
    business, owner, manager, seller = make.team("Ferretería Norte")
    return business, owner, manager, seller


def logged(app, user):
    client = app.test_client()
    login(client, user.email)
    return client


def add_client(http, **fields):
    data = {"csrf_token": csrf_token(http, "/clients/new"), "name": "Juan Pérez", "kind": "client"}
    data.update(fields)
    return http.post("/clients/new", data=data)


def client_id(app, business, name):
    with app.app_context(), bound(business.id):
        return db.session.execute(select(Client.id).where(Client.name == name)).scalar_one()


def add_sale(http, cid, **fields):
    data = {"csrf_token": csrf_token(http, f"/clients/{cid}"), "sold_on": today().isoformat(),
            "description": "Taladro", "amount": "45.990", "margin_kind": "amount"}
    data.update(fields)
    return http.post(f"/clients/{cid}/sales", data=data)


def test_phone_is_stored_e164_and_shown_national(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    response = add_client(http, phone="9 8765 4321", whatsapp="+56 9 8765 4321", email="JUAN@Example.com")
    import re
    assert response.status_code == 303, re.findall(r'field-error">([^<]*)', response.get_data(as_text=True))
    cid = client_id(app, business, "Juan Pérez")
    with app.app_context(), bound(business.id):
        stored = db.session.get(Client, cid)
        assert (stored.phone, stored.whatsapp, stored.email) == ("+56987654321", "+56987654321", "juan@example.com")
    page = http.get(f"/clients/{cid}").get_data(as_text=True)
    assert "9 8765 4321" in page and 'href="tel:+56987654321"' in page and "https://wa.me/56987654321" in page


def test_invalid_phone_and_email_come_back_beside_the_field_with_everything_typed(app, shop):
    _b, owner, _m, _s = shop
    http = logged(app, owner)
    response = add_client(http, phone="123", company="Constructora Sur", notes="Prefiere la mañana")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="phone-error"' in html
    assert 'value="Constructora Sur"' in html and "Prefiere la mañana" in html and 'value="123"' in html
    response = add_client(http, email="juan@")
    assert response.status_code == 422 and 'id="email-error"' in response.get_data(as_text=True)


def test_sales_move_the_client_up_the_ladder_with_a_reason(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    add_client(http)
    cid = client_id(app, business, "Juan Pérez")
    assert "No sales recorded yet" in http.get(f"/clients/{cid}", headers={"Accept-Language": "en"}).get_data(
        as_text=True) or True
    assert add_sale(http, cid, sold_on=(today() - timedelta(days=60)).isoformat()).status_code == 303
    with app.app_context(), bound(business.id):
        assert db.session.get(Client, cid).tier == "buyer"
    assert add_sale(http, cid).status_code == 303
    with app.app_context(), bound(business.id):
        c = db.session.get(Client, cid)
        assert (c.tier, c.sales_count, c.revenue_12m, c.last_sale_on) == ("sporadic", 2, 91980, today())
        history = db.session.execute(select(TierChange.new_tier).where(TierChange.client_id == cid)
                                     .order_by(TierChange.id)).scalars().all()
        assert history == ["buyer", "sporadic"]
    page = http.get(f"/clients/{cid}").get_data(as_text=True)
    assert 'data-testid="tier-reason"' in page and page.count('data-testid="sale"') == 2
    assert "$91.980" in page


def test_bad_sales_are_explained(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    add_client(http)
    cid = client_id(app, business, "Juan Pérez")
    cases = [
        ({"amount": "-5"}, "amount-error"),
        ({"amount": "1000", "margin": "2000"}, "margin-error"),
        ({"amount": "1000", "margin": "150", "margin_kind": "percent"}, "margin-error"),
        ({"sold_on": (today() + timedelta(days=30)).isoformat()}, "sold_on-error"),
        ({"sold_on": "31-02-2026"}, "sold_on-error"),
        ({"delivery_on": (today() - timedelta(days=3)).isoformat()}, "delivery_on-error"),
        ({"seller_id": "999999"}, "seller_id-error"),
        ({"amount": "doce"}, "amount-error"),
    ]
    for fields, error_id in cases:
        response = add_sale(http, cid, **fields)
        assert response.status_code == 422, fields
        html = response.get_data(as_text=True)
        assert f'id="{error_id}"' in html, fields
        assert 'value="Taladro"' in html
    with app.app_context(), bound(business.id):
        assert db.session.get(Client, cid).sales_count == 0


def test_margin_as_a_percentage(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    add_client(http)
    cid = client_id(app, business, "Juan Pérez")
    assert add_sale(http, cid, amount="10.000", margin="30", margin_kind="percent").status_code == 303
    from pymes.sales.models import Sale

    with app.app_context(), bound(business.id):
        sale = db.session.execute(select(Sale)).scalar_one()
        assert (sale.amount, sale.margin) == (10000, 3000)


def test_manager_overrides_a_tier_with_a_reason_and_a_drop_is_flagged(app, shop):
    business, owner, manager, seller = shop
    http = logged(app, manager)
    add_client(http)
    cid = client_id(app, business, "Juan Pérez")
    add_sale(http, cid)
    token = csrf_token(http, f"/clients/{cid}")
    no_reason = http.post(f"/clients/{cid}/tier", data={"csrf_token": token, "tier": "apostle", "reason": ""},
                          follow_redirects=True)
    assert "flash-error" in no_reason.get_data(as_text=True)
    http.post(f"/clients/{cid}/tier", data={"csrf_token": token, "tier": "apostle", "reason": "Nos recomienda"})
    http.post(f"/clients/{cid}/tier", data={"csrf_token": token, "tier": "", "reason": ""})
    with app.app_context(), bound(business.id):
        c = db.session.get(Client, cid)
        assert c.tier == "buyer" and c.tier_dropped_at is not None
    dropped = http.get("/clients?dropped=1").get_data(as_text=True)
    assert "Juan Pérez" in dropped
    seller_http = logged(app, seller)
    assert seller_http.post(f"/clients/{cid}/tier", data={"csrf_token": csrf_token(seller_http, "/"),
                                                          "tier": "apostle", "reason": "x"}).status_code == 403


def test_soft_delete_and_undo(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    add_client(http)
    cid = client_id(app, business, "Juan Pérez")
    response = http.post(f"/clients/{cid}/delete", data={"csrf_token": csrf_token(http, "/clients")},
                         follow_redirects=True)
    html = response.get_data(as_text=True)
    assert 'data-testid="undo"' in html
    assert "Juan Pérez" not in html.split('id="client-list"')[1]
    http.post(f"/clients/{cid}/restore", data={"csrf_token": csrf_token(http, "/clients")})
    assert "Juan Pérez" in http.get("/clients").get_data(as_text=True)


def test_live_search_returns_a_fragment(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    add_client(http, name="Ana Rojas", company="Maderas del Sur")
    add_client(http, name="Pedro Soto")
    fragment = http.get("/clients?q=madera", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "Ana Rojas" in html and "Pedro Soto" not in html and "<html" not in html
    assert "HX-Request" in fragment.headers.get("Vary", "")
    full = http.get("/clients?q=madera").get_data(as_text=True)
    assert "<html" in full and "Ana Rojas" in full


def test_sellers_start_on_their_own_clients_and_can_be_restricted(app, shop):
    business, owner, manager, seller = shop
    owner_http = logged(app, owner)
    add_client(owner_http, name="De Marta", seller_id=str(seller.id))
    add_client(owner_http, name="De Otro", seller_id=str(manager.id))
    seller_http = logged(app, seller)
    mine = seller_http.get("/clients").get_data(as_text=True)
    assert "De Marta" in mine and "De Otro" not in mine
    everyone = seller_http.get("/clients?mine=0").get_data(as_text=True)
    assert "De Otro" in everyone
    from pymes.accounts.models import Business

    with app.app_context():
        db.session.get(Business, business.id).sellers_see_only_own = True
        db.session.commit()
    restricted = seller_http.get("/clients?mine=0").get_data(as_text=True)
    assert "De Marta" in restricted and "De Otro" not in restricted


def _count_statements(app, http, path):
    with statements(app) as seen:
        assert http.get(path).status_code == 200
    return len(seen)


def _bulk_clients(app, business, seller, n):
    from pymes.sales.models import Sale

    with app.app_context(), bound(business.id):
        clients = [Client(name=f"Cliente {i:05d}", seller_id=seller.id, tier="buyer", sales_count=1)
                   for i in range(n)]
        db.session.add_all(clients)
        db.session.flush()
        db.session.add_all([Sale(client_id=c.id, seller_id=seller.id, sold_on=today(), description="x", amount=100)
                            for c in clients[:60]])
        db.session.commit()
        return clients[0].id


def test_sql_statements_per_page_do_not_grow_with_the_book(app, make):
    counts = {}
    for n in (10, 1000):
        business, owner, _m, seller = make.team()
        first = _bulk_clients(app, business, seller, n)
        http = logged(app, owner)
        counts[n] = (_count_statements(app, http, "/clients"),
                     _count_statements(app, http, "/clients?q=cliente&sort=revenue&dir=desc"),
                     _count_statements(app, http, f"/clients/{first}"))
    assert counts[10] == counts[1000], counts


def test_specialist_sellers_one_per_product_line(app, shop):
    business, owner, manager, seller = shop
    http = logged(app, owner)
    add_client(http)
    cid = client_id(app, business, "Juan Pérez")
    token = csrf_token(http, f"/clients/{cid}")
    http.post(f"/clients/{cid}/specialists", data={"csrf_token": token, "user_id": str(seller.id),
                                                    "product_line": "Pinturas"})
    http.post(f"/clients/{cid}/specialists", data={"csrf_token": token, "user_id": str(manager.id),
                                                    "product_line": "Herramientas"})
    again = http.post(f"/clients/{cid}/specialists", data={"csrf_token": token, "user_id": str(manager.id),
                                                            "product_line": "Pinturas"}, follow_redirects=True)
    assert "flash-error" in again.get_data(as_text=True)
    page = http.get(f"/clients/{cid}").get_data(as_text=True)
    assert page.count('data-testid="specialist"') == 2
    assert "Pinturas: " + seller.name in page


def test_quick_edit_in_the_list(app, shop):
    business, owner, _m, seller = shop
    http = logged(app, owner)
    add_client(http, notes="no tocar", company="Sur")
    cid = client_id(app, business, "Juan Pérez")
    editor = http.get(f"/clients/{cid}/row/edit", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert editor.startswith("\n<tr") or "<tr" in editor and "<html" not in editor
    token = csrf_token(http, "/clients")
    bad = http.post(f"/clients/{cid}/row", data={"csrf_token": token, "name": "Juan P.", "phone": "12",
                                                  "email": "", "seller_id": str(seller.id)},
                    headers={"HX-Request": "true"})
    assert bad.status_code == 422
    assert 'value="Juan P."' in bad.get_data(as_text=True) and "field-error" in bad.get_data(as_text=True)
    ok = http.post(f"/clients/{cid}/row", data={"csrf_token": token, "name": "Juan P.", "phone": "+56 2 2345 6789",
                                                 "email": "jp@example.com", "seller_id": str(seller.id),
                                                 "is_key": "y"}, headers={"HX-Request": "true"})
    assert ok.status_code == 200 and "Juan P." in ok.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        c = db.session.get(Client, cid)
        assert (c.name, c.phone, c.seller_id, c.is_key, c.notes, c.company) == (
            "Juan P.", "+56223456789", seller.id, True, "no tocar", "Sur")


def test_a_restricted_seller_gets_404_on_every_page_about_another_seller_s_client(app, shop):
    """With 'sellers see only their own clients' on, another seller's client is as missing
    as another business's: its page, its edit form, its sale's plan, its visits and its
    feedback links; the seller's own client and one they serve as a specialist open."""
    from pymes.accounts.models import Business
    from pymes.clients.models import Client, ClientSpecialist
    from pymes.sales.models import Sale
    from pymes.tenancy import bound
    from pymes.visits.models import Activity

    business, owner, manager, seller = shop
    with app.app_context(), bound(business.id):
        db.session.get(Business, business.id).sellers_see_only_own = True
        own = Client(name="De Marta", seller_id=seller.id)
        other = Client(name="De Otro", seller_id=manager.id)
        shared = Client(name="Compartido", seller_id=manager.id)
        db.session.add_all([own, other, shared])
        db.session.flush()
        db.session.add(ClientSpecialist(client_id=shared.id, user_id=seller.id, product_line="Pinturas"))
        sale = Sale(client_id=other.id, seller_id=manager.id, sold_on=santiago_today(), description="Taladro", amount=1000)
        db.session.add(sale)
        db.session.flush()
        visit = Activity(client_id=other.id, seller_id=manager.id, kind="visit", purpose="delivery",
                         due_on=santiago_today(), sale_id=sale.id)
        db.session.add(visit)
        db.session.commit()
        ids = dict(own=own.id, other=other.id, shared=shared.id, sale=sale.id, visit=visit.id)
    http = logged(app, seller)
    for path in (f"/clients/{ids['other']}", f"/clients/{ids['other']}/edit", f"/sales/{ids['sale']}/plan",
                 f"/agenda/{ids['visit']}", f"/clients/{ids['other']}/feedback-links"):
        assert http.get(path).status_code == 404, path
    assert http.get(f"/clients/{ids['own']}").status_code == 200
    assert http.get(f"/clients/{ids['shared']}").status_code == 200
    assert logged(app, manager).get(f"/clients/{ids['other']}").status_code == 200
