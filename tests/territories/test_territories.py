"""Territories and portfolios, rule 10: never without a responsible seller."""
import re

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound
from pymes.territories.models import Portfolio, PortfolioSeller, Territory, TerritorySeller

from ..factories import csrf_token, login, statements


def logged(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def create(http, kind="territories", **fields):
    data = {"csrf_token": csrf_token(http, f"/{kind}/new"), "name": "Zona Costa Norte",
            "description": "Comunas del sur"}
    data.update(fields)
    return http.post(f"/{kind}/new", data=data)


def only_id(app, business, model=Territory):
    with app.app_context(), bound(business.id):
        return db.session.execute(select(model.id)).scalar_one()


def seller_ids(app, business, tid, link=TerritorySeller, column="territory_id"):
    with app.app_context(), bound(business.id):
        return sorted(db.session.execute(select(link.user_id).where(getattr(link, column) == tid)).scalars())


def row_of(html, name):
    """The list row (not the warning above the table) of the group called ``name``."""
    rows = [tr for tr in re.findall(r'<tr id="[^"]+">.*?</tr>', html, re.S) if f">{name}</a>" in tr]
    assert len(rows) == 1, name
    return rows[0]


def test_create_with_sellers_and_see_counts(app, make):
    business, owner, manager, seller = make.team()
    http = logged(app, manager)
    response = create(http, seller_ids=[str(seller.id), str(manager.id)])
    assert response.status_code == 303
    tid = only_id(app, business)
    assert response.headers["Location"].endswith(f"/territories/{tid}")
    assert seller_ids(app, business, tid) == sorted([seller.id, manager.id])
    uno = make.client(business, "Uno", territory_id=tid).id
    make.client(business, "Dos", territory_id=tid)
    make.client(business, "Tres", kind="prospect", territory_id=tid)
    make.client(business, "Borrado", territory_id=tid, deleted_at=utcnow())
    page = http.get("/territories").get_data(as_text=True)
    row = row_of(page, "Zona Costa Norte")
    assert seller.name in row and manager.name in row and "Comunas del sur" in row
    assert '"clients">2<' in row and '"prospects">1<' in row
    assert 'data-testid="no-seller"' not in page
    show = http.get(f"/territories/{tid}").get_data(as_text=True)
    assert show.count('data-testid="member"') == 3 and "Borrado" not in show
    assert f'href="/clients/{uno}"' in show and seller.name in show


def test_portfolio_create_and_page(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    assert create(http, kind="portfolios", name="Constructoras", seller_ids=[str(seller.id)]).status_code == 303
    pid = only_id(app, business, Portfolio)
    assert seller_ids(app, business, pid, PortfolioSeller, "portfolio_id") == [seller.id]
    make.client(business, "Prospecto Grande", kind="prospect", portfolio_id=pid)
    page = http.get(f"/portfolios/{pid}").get_data(as_text=True)
    assert "Prospecto Grande" in page and seller.name in page
    listing = http.get("/territories").get_data(as_text=True).split('id="portfolio-section"')[1]
    assert '"prospects">1<' in row_of(listing, "Constructoras")


def test_no_seller_is_refused_and_keeps_what_was_typed(app, make):
    business, owner, _m, _s = make.team()
    http = logged(app, owner)
    response = create(http, kind="portfolios", name="Constructoras", description="Las grandes")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="seller_ids-error"' in html and 'value="Constructoras"' in html and "Las grandes" in html
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Portfolio)).first() is None


def test_a_seller_outside_the_team_is_refused(app, make):
    business, owner, _m, seller = make.team()
    other_business, other_owner, _om, other_seller = make.team()
    http = logged(app, owner)
    for bad in (str(other_seller.id), "abc", "99999999999"):
        response = create(http, seller_ids=[str(seller.id), bad])
        assert response.status_code == 422, bad
        html = response.get_data(as_text=True)
        assert 'id="seller_ids-error"' in html and 'value="Zona Costa Norte"' in html
        assert re.search(rf'<input [^>]*checked[^>]*value="{seller.id}"', html), "the ticked seller stays ticked"
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Territory)).first() is None


def test_duplicate_name_and_removing_the_last_seller_are_refused(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    again = create(http, name="zona costa norte", description="Otra vez", seller_ids=[str(seller.id)])
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and 'id="name-error"' in html
    assert 'value="zona costa norte"' in html and "Otra vez" in html
    tid = only_id(app, business)
    emptied = http.post(f"/territories/{tid}/edit", data={"csrf_token": csrf_token(http, "/territories"),
                                                          "name": "Zona Costa Norte"})
    assert emptied.status_code == 422 and 'id="seller_ids-error"' in emptied.get_data(as_text=True)
    assert seller_ids(app, business, tid) == [seller.id]


def test_the_unique_constraint_backs_the_name_check(app, make, monkeypatch):
    """Two saves racing: the friendly check passes for both, the constraint refuses one."""
    from pymes.territories import services

    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    monkeypatch.setattr(services, "_name_taken", lambda *args: False)
    again = create(http, seller_ids=[str(seller.id)], description="En carrera")
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and 'id="name-error"' in html and "En carrera" in html
    with app.app_context(), bound(business.id):
        assert len(db.session.execute(select(Territory)).all()) == 1


def test_edit_renames_and_changes_the_sellers(app, make):
    business, owner, manager, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    tid = only_id(app, business)
    form = http.get(f"/territories/{tid}/edit").get_data(as_text=True)
    assert 'value="Zona Costa Norte"' in form
    assert re.search(rf'<input [^>]*checked[^>]*value="{seller.id}"', form)
    response = http.post(f"/territories/{tid}/edit", data={
        "csrf_token": csrf_token(http, "/territories"), "name": "Zona Costa Sur", "description": "",
        "seller_ids": [str(manager.id)]})
    assert response.status_code == 303
    assert seller_ids(app, business, tid) == [manager.id]
    with app.app_context(), bound(business.id):
        t = db.session.get(Territory, tid)
        assert (t.name, t.description) == ("Zona Costa Sur", "")
    # Keeping its own name is not a duplicate.
    assert http.post(f"/territories/{tid}/edit", data={
        "csrf_token": csrf_token(http, "/territories"), "name": "Zona Costa Sur",
        "seller_ids": [str(manager.id), str(seller.id)]}).status_code == 303


def test_a_territory_whose_only_seller_left_is_flagged(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    create(http, name="Zona Centro", seller_ids=[str(owner.id)])
    http.post(f"/team/members/{seller.id}/deactivate", data={"csrf_token": csrf_token(http, "/team")})
    page = http.get("/territories").get_data(as_text=True)
    assert page.count('data-testid="no-seller"') == 1
    assert 'data-testid="no-seller"' in row_of(page, "Zona Costa Norte")
    assert 'data-testid="territory-unattended"' in page and 'data-testid="portfolio-unattended"' not in page
    with app.app_context(), bound(business.id):
        tid = db.session.execute(select(Territory.id).where(Territory.name == "Zona Costa Norte")).scalar_one()
    assert 'data-testid="no-seller"' in http.get(f"/territories/{tid}").get_data(as_text=True)
    # Saving it again needs a new responsible seller.
    refused = http.post(f"/territories/{tid}/edit", data={"csrf_token": csrf_token(http, "/territories"),
                                                          "name": "Zona Costa Norte"})
    assert refused.status_code == 422 and 'id="seller_ids-error"' in refused.get_data(as_text=True)


def test_delete_asks_first_and_keeps_the_clients_without_it(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    tid = only_id(app, business)
    ids = (make.client(business, "Se queda", territory_id=tid).id,
           make.client(business, "En la papelera", territory_id=tid, deleted_at=utcnow()).id)
    confirm = http.get(f"/territories/{tid}/delete")
    assert confirm.status_code == 200 and '"clients">1<' in confirm.get_data(as_text=True)
    token = csrf_token(http, "/territories")
    unconfirmed = http.post(f"/territories/{tid}/delete", data={"csrf_token": token})
    assert unconfirmed.status_code == 200 and 'name="confirm"' in unconfirmed.get_data(as_text=True)
    assert only_id(app, business) == tid
    done = http.post(f"/territories/{tid}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    with app.app_context(), bound(business.id):
        assert [db.session.get(Client, i).territory_id for i in ids] == [None, None]
        assert db.session.get(Territory, tid) is None
        assert db.session.execute(select(TerritorySeller)).first() is None


def test_delete_from_the_list_with_htmx_returns_the_section(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    create(http, kind="portfolios", name="Cartera Norte", seller_ids=[str(seller.id)])
    create(http, kind="portfolios", name="Cartera Sur", seller_ids=[str(seller.id)])
    with app.app_context(), bound(business.id):
        pid = db.session.execute(select(Portfolio.id).where(Portfolio.name == "Cartera Norte")).scalar_one()
    make.client(business, "Cliente Norte", portfolio_id=pid)
    listing = http.get("/territories").get_data(as_text=True)
    assert f'hx-post="/portfolios/{pid}/delete"' in listing and f'href="/portfolios/{pid}/delete"' in listing
    response = http.post(f"/portfolios/{pid}/delete", data={"confirm": "yes"},
                         headers={"HX-Request": "true", "X-CSRFToken": csrf_token(http, "/territories")})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="portfolio-section"' in html and "Cartera Sur" in html and "Cartera Norte" not in html.split(
        'id="portfolio-section"')[1]
    assert 'hx-swap-oob="true"' in html
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Client.portfolio_id)).scalar_one() is None


def test_sellers_view_but_do_not_manage(app, make):
    business, owner, _m, seller = make.team()
    owner_http = logged(app, owner)
    create(owner_http, seller_ids=[str(seller.id)])
    create(owner_http, kind="portfolios", name="Cartera", seller_ids=[str(seller.id)])
    tid, pid = only_id(app, business), only_id(app, business, Portfolio)
    http = logged(app, seller)
    page = http.get("/territories")
    assert page.status_code == 200 and "Zona Costa Norte" in page.get_data(as_text=True)
    assert "/territories/new" not in page.get_data(as_text=True)
    assert http.get(f"/territories/{tid}").status_code == 200
    assert http.get(f"/portfolios/{pid}").status_code == 200
    token = csrf_token(http, "/territories")
    for path in ("/territories/new", "/portfolios/new", f"/territories/{tid}/edit", f"/portfolios/{pid}/edit",
                 f"/territories/{tid}/delete", f"/portfolios/{pid}/delete"):
        assert http.get(path).status_code == 403, path
        assert http.post(path, data={"csrf_token": token, "name": "Mía", "confirm": "yes",
                                     "seller_ids": [str(seller.id)]}).status_code == 403, path
    assert only_id(app, business) == tid and only_id(app, business, Portfolio) == pid


def _blank_csrf(body: bytes) -> bytes:
    return re.sub(rb'[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}', b"CSRF", body)


def test_another_business_territory_is_a_404_like_a_missing_one(app, make):
    a, a_owner, _am, _as = make.team("Negocio A")
    b, b_owner, _bm, b_seller = make.team("Negocio B")
    b_http = logged(app, b_owner)
    create(b_http, seller_ids=[str(b_seller.id)])
    create(b_http, kind="portfolios", name="Cartera B", seller_ids=[str(b_seller.id)])
    tid, pid = only_id(app, b), only_id(app, b, Portfolio)
    http = logged(app, a_owner)
    token = csrf_token(http, "/territories")
    missing = 2_147_000_000
    for template in ("/territories/{}", "/territories/{}/edit", "/territories/{}/delete", "/portfolios/{}",
                     "/portfolios/{}/edit", "/portfolios/{}/delete"):
        ident = tid if template.startswith("/territories") else pid
        for method in ("GET", "POST"):
            if method == "POST" and template.count("/") == 2:
                continue  # the page itself answers GET only
            data = {"csrf_token": token, "name": "Robada", "confirm": "yes", "seller_ids": [str(a_owner.id)]}
            foreign = http.open(template.format(ident), method=method, data=data)
            absent = http.open(template.format(missing), method=method, data=data)
            assert foreign.status_code == 404, (template, method)
            assert _blank_csrf(foreign.get_data()) == _blank_csrf(absent.get_data()), (template, method)
    with app.app_context(), bound(b.id):
        assert db.session.get(Territory, tid).name == "Zona Costa Norte"
        assert db.session.get(Portfolio, pid).name == "Cartera B"
    assert "Zona Costa Norte" not in http.get("/territories").get_data(as_text=True)


def test_a_seller_restricted_to_own_clients_sees_only_those(app, make):
    from pymes.accounts.models import Business

    business, owner, manager, seller = make.team()
    http = logged(app, owner)
    create(http, seller_ids=[str(seller.id)])
    tid = only_id(app, business)
    make.client(business, "Suyo", territory_id=tid, seller_id=seller.id)
    make.client(business, "Ajeno", territory_id=tid, seller_id=manager.id)
    with app.app_context(), bound(business.id):
        db.session.get(Business, business.id).sellers_see_only_own = True
        db.session.commit()
    seller_http = logged(app, seller)
    page = seller_http.get(f"/territories/{tid}").get_data(as_text=True)
    assert "Suyo" in page and "Ajeno" not in page
    assert '"clients">1<' in row_of(seller_http.get("/territories").get_data(as_text=True), "Zona Costa Norte")
    assert '"clients">2<' in row_of(http.get("/territories").get_data(as_text=True), "Zona Costa Norte")


def _fill(make, business, seller, n):
    for i in range(n):
        t = make.territory(business, f"T{i}", description=f"Zona {i}", sellers=[seller])
        p = make.portfolio(business, f"P{i}", sellers=[seller])
        make.client(business, f"C{i}", territory_id=t.id, portfolio_id=p.id)
        make.client(business, f"Pr{i}", kind="prospect", territory_id=t.id)


@pytest.mark.parametrize("as_role", ["owner", "seller"])
def test_sql_statements_do_not_grow_with_the_territories(app, make, as_role):
    counts = []
    for n in (2, 30):
        business, owner, _m, seller = make.team()
        _fill(make, business, seller, n)
        http = logged(app, owner if as_role == "owner" else seller)
        with statements(app) as seen:
            response = http.get("/territories")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('data-testid="clients">1<') == 2 * n
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
