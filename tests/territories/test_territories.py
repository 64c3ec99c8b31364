"""Territories and portfolios, rule 10: never without a responsible seller."""
from sqlalchemy import event, select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound
from pymes.territories.models import Territory

from ..factories import csrf_token, login


def logged(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def create(http, kind="territories", **fields):
    data = {"csrf_token": csrf_token(http, f"/{kind}/new"), "name": "Zona Costa Norte",
            "description": "Comunas del sur"}
    data.update(fields)
    return http.post(f"/{kind}/new", data=data)


def test_create_with_sellers_and_see_counts(app, make):
    business, owner, manager, seller = make.team()
    http = logged(app, manager)
    response = create(http, seller_ids=[str(seller.id), str(manager.id)])
    assert response.status_code == 303
    with app.app_context(), bound(business.id):
        territory = db.session.execute(select(Territory)).scalar_one()
        tid = territory.id
        db.session.add_all([Client(name="Uno", territory_id=tid), Client(name="Dos", territory_id=tid),
                            Client(name="Tres", kind="prospect", territory_id=tid)])
        db.session.commit()
    page = http.get("/territories").get_data(as_text=True)
    row = page.split(">Zona Costa Norte<")[1].split("</tr>")[0]
    assert seller.name in row and manager.name in row
    assert ">2<" in row and ">1<" in row
    assert "Tres" in http.get(f"/territories/{tid}").get_data(as_text=True)


def test_no_seller_is_refused_and_keeps_what_was_typed(app, make):
    _b, owner, _m, _s = make.team()
    http = logged(app, owner)
    response = create(http, kind="portfolios", name="Constructoras", description="Las grandes")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="seller_ids-error"' in html and 'value="Constructoras"' in html and "Las grandes" in html


def test_duplicate_name_and_removing_the_last_seller_are_refused(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    again = create(http, name="zona costa norte", seller_ids=[str(seller.id)])
    assert again.status_code == 422 and 'id="name-error"' in again.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        tid = db.session.execute(select(Territory.id)).scalar_one()
    emptied = http.post(f"/territories/{tid}/edit", data={"csrf_token": csrf_token(http, "/territories"),
                                                          "name": "Zona Costa Norte"})
    assert emptied.status_code == 422 and 'id="seller_ids-error"' in emptied.get_data(as_text=True)


def test_a_territory_whose_only_seller_left_is_flagged(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    http.post(f"/team/members/{seller.id}/deactivate", data={"csrf_token": csrf_token(http, "/team")})
    page = http.get("/territories").get_data(as_text=True)
    assert 'data-testid="no-seller"' in page


def test_delete_keeps_the_clients_without_it(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    with app.app_context(), bound(business.id):
        tid = db.session.execute(select(Territory.id)).scalar_one()
        c = Client(name="Se queda", territory_id=tid)
        db.session.add(c)
        db.session.commit()
        cid = c.id
    assert http.post(f"/territories/{tid}/delete", data={"csrf_token": csrf_token(http, "/territories")}
                     ).status_code == 303
    with app.app_context(), bound(business.id):
        assert db.session.get(Client, cid).territory_id is None
        assert db.session.get(Territory, tid) is None


def test_sellers_view_but_do_not_manage(app, make):
    _b, _o, _m, seller = make.team()
    http = logged(app, seller)
    assert http.get("/territories").status_code == 200
    assert http.get("/territories/new").status_code == 403


def test_sql_statements_do_not_grow_with_the_territories(app, make):
    counts = []
    for n in (2, 30):
        business, owner, _m, seller = make.team()
        from pymes.territories.models import TerritorySeller

        with app.app_context(), bound(business.id):
            for i in range(n):
                t = Territory(name=f"T{i}")
                db.session.add(t)
                db.session.flush()
                db.session.add(TerritorySeller(territory_id=t.id, user_id=seller.id))
                db.session.add(Client(name=f"C{i}", territory_id=t.id))
            db.session.commit()
        http = logged(app, owner)
        with app.app_context():
            engine = db.engine
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        http.get("/territories")
        event.remove(engine, "before_cursor_execute", listener)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
