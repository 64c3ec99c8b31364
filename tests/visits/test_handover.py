"""Issue 19, point 3 (rule 10, article 001: loyalty to the seller who serves the client):
a seller deactivated, or a client reassigned, leaves the clients mostly served by that
seller with a handover visit planned with the seller who has them now, who reads why on
the agenda card."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from pymes.clients import services as clients
from pymes.clients.models import Client
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.territories.models import Portfolio, PortfolioSeller
from pymes.visits.models import Activity

from ..factories import csrf_token, login, santiago_today


@pytest.fixture
def shop(app, make):
    business, owner, manager, marta = make.team("Ferretería El Roble")
    joaquin = make.user(business, "seller", name="Joaquín Soto")
    return dict(business=business, owner=owner, manager=manager, marta=marta, joaquin=joaquin)


def as_user(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def _client(shop, name, responsible, sales_by=(), visits_by=(), portfolio_id=None):
    """A client with one sale per seller in ``sales_by`` and a done visit per seller in
    ``visits_by`` (a month apart, in the past)."""
    client = Client(name=name, seller_id=responsible.id if responsible else None, portfolio_id=portfolio_id)
    db.session.add(client)
    db.session.flush()
    day = date(2026, 1, 10)
    for n, seller in enumerate(sales_by):
        db.session.add(Sale(client_id=client.id, seller_id=seller.id, sold_on=day + timedelta(days=30 * n),
                            description="Herramientas", amount=10_000))
    for n, seller in enumerate(visits_by):
        db.session.add(Activity(client_id=client.id, seller_id=seller.id, kind="visit", purpose="check_in",
                                due_on=day + timedelta(days=30 * n + 5), status="done"))
    return client


def _handovers(app, shop):
    with app.app_context(), bound(shop["business"].id):
        return {(a.client_id, a.seller_id): a for a in db.session.execute(
            select(Activity).where(Activity.purpose == "handover", Activity.status == "planned")).scalars()}


def test_a_deactivated_seller_s_clients_get_a_handover_visit_with_their_new_seller(app, shop):
    marta, joaquin, owner = shop["marta"], shop["joaquin"], shop["owner"]
    with app.app_context(), bound(shop["business"].id):
        north = Portfolio(name="Cartera Norte")
        db.session.add(north)
        db.session.flush()
        db.session.add(PortfolioSeller(portfolio_id=north.id, user_id=joaquin.id))
        # Marta's in the North portfolio: 3 sales and a visit of Marta, 1 sale of Joaquín (4 of 5)
        a = _client(shop, "Taller Aníbal", marta, [marta, marta, joaquin, marta], [marta], portfolio_id=north.id)
        # Marta's with no portfolio nor territory: the owner takes over
        b = _client(shop, "Bodega Berta", marta, [marta])
        # Joaquín's, Marta sold once of three: no handover, Joaquín stays
        c = _client(shop, "Carpintería Cid", joaquin, [marta, joaquin, joaquin])
        # Joaquín's on paper, but Marta made 2 of 3: a handover with Joaquín
        d = _client(shop, "Droguería Díaz", joaquin, [marta, marta, joaquin])
        planned = Activity(client_id=a.id, seller_id=marta.id, kind="call", purpose="check_in",
                           due_on=santiago_today() + timedelta(days=10))
        db.session.add(planned)
        db.session.commit()
        ids = dict(a=a.id, b=b.id, c=c.id, d=d.id, planned=planned.id)

    http = as_user(app, shop["manager"])
    answer = http.post(f"/team/members/{marta.id}/deactivate", data={"csrf_token": csrf_token(http, "/team")})
    assert answer.status_code == 200

    with app.app_context(), bound(shop["business"].id):
        sellers = {k: db.session.get(Client, ids[k]).seller_id for k in "abcd"}
        assert sellers == dict(a=joaquin.id, b=owner.id, c=joaquin.id, d=joaquin.id)
        assert db.session.get(Activity, ids["planned"]).seller_id == joaquin.id  # her planned call goes with A
    visits = _handovers(app, shop)
    assert set(visits) == {(ids["a"], joaquin.id), (ids["b"], owner.id), (ids["d"], joaquin.id)}
    a_visit = visits[(ids["a"], joaquin.id)]
    assert a_visit.kind == "visit" and a_visit.due_on == santiago_today() + timedelta(days=3)
    assert marta.name in a_visit.notes and "hizo 4 de las 5 ventas y visitas" in a_visit.notes
    assert "ya no está en el equipo" in a_visit.notes

    # Joaquín sees it on his agenda, and why (Marta is ``marta.name`` in the factory)
    agenda = as_user(app, joaquin).get("/agenda").get_data(as_text=True)
    assert "Visita de traspaso" in agenda and "Taller Aníbal" in agenda
    why = agenda.split('data-testid="handover-why"')[1].split("</p>")[0]
    assert marta.name in why and "Haz una visita para presentarte" in why

    # deactivating again (reactivated, then deactivated) plans nothing twice
    http.post(f"/team/members/{marta.id}/reactivate", data={"csrf_token": csrf_token(http, "/team")})
    http.post(f"/team/members/{marta.id}/deactivate", data={"csrf_token": csrf_token(http, "/team")})
    assert len(_handovers(app, shop)) == 3


def test_a_reassigned_client_mostly_served_by_the_old_seller_gets_a_handover_visit(app, shop):
    marta, joaquin, owner = shop["marta"], shop["joaquin"], shop["owner"]
    with app.app_context(), bound(shop["business"].id):
        e = _client(shop, "Eléctrica Elena", marta, [marta, marta], [joaquin])  # 2 of 3 with Marta
        f = _client(shop, "Ferretería Fénix", marta, [joaquin, joaquin], [marta])  # 1 of 3 with Marta
        db.session.commit()
        ids = dict(e=e.id, f=f.id)
        for key in "ef":
            client = db.session.get(Client, ids[key])
            values = {k: getattr(client, k) for k in clients.EDITABLE}
            clients.save_client(client, dict(values, seller_id=joaquin.id), "CL")
    visits = _handovers(app, shop)
    assert set(visits) == {(ids["e"], joaquin.id)}
    assert "a cargo de este cliente hasta ahora" in visits[(ids["e"], joaquin.id)].notes
    assert "2 de sus 3" in visits[(ids["e"], joaquin.id)].notes

    # handed over again before Joaquín visited: the planned visit follows the client
    with app.app_context(), bound(shop["business"].id):
        client = db.session.get(Client, ids["e"])
        values = {k: getattr(client, k) for k in clients.EDITABLE}
        clients.save_client(client, dict(values, seller_id=owner.id), "CL")
    assert set(_handovers(app, shop)) == {(ids["e"], owner.id)}


def test_the_quick_edit_of_the_list_reassigns_with_a_handover_too(app, shop):
    marta, joaquin = shop["marta"], shop["joaquin"]
    with app.app_context(), bound(shop["business"].id):
        g = _client(shop, "Gasfitería Gómez", marta, [marta])
        db.session.commit()
        gid = g.id
    http = as_user(app, shop["manager"])
    page = http.get(f"/clients/{gid}/row/edit", headers={"HX-Request": "true"})
    assert page.status_code == 200, page.status_code
    form = page.get_data(as_text=True)
    data = {name: value for name, value in re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', form)}
    data.update(seller_id=str(joaquin.id), csrf_token=csrf_token(http, "/clients"))
    saved = http.post(f"/clients/{gid}/row", data=data, headers={"HX-Request": "true"})
    assert saved.status_code == 200
    assert set(_handovers(app, shop)) == {(gid, joaquin.id)}
