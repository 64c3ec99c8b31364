"""Issue 17, point 10: faster hand entry. "Save and add another" on the new-client form,
and the client list's quick add (a name and a phone; htmx, and plain forms without it)."""
import re

import pytest
from sqlalchemy import func, select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import csrf_token, login

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(app, make):
    business, owner, _manager, seller = make.team("Ferretería Rápida")
    http = app.test_client()
    login(http, owner.email)
    return business, owner, seller, http


def clients_of(app, business) -> list[Client]:
    with app.app_context(), bound(business.id):
        rows = db.session.execute(select(Client).order_by(Client.id)).scalars().all()
        db.session.expunge_all()
        return rows


def field_error(html: str, field: str) -> str:
    """The message shown beside ``field`` (the macro's ``<small id="<field>-error">``)."""
    found = re.search(rf'id="{field}-error" class="field-error">([^<]*)<', html)
    return found.group(1) if found else ""


def quick(http, headers=None, **fields):
    data = {"csrf_token": csrf_token(http, "/clients")}
    data.update(fields)
    return http.post("/clients/quick", data=data, headers=headers or {})


# --- "Save and add another" ---------------------------------------------------------------

def test_save_and_add_another_returns_an_empty_form_naming_the_saved_client(app, shop):
    business, _owner, _seller, http = shop
    response = http.post("/clients/new", data={
        "csrf_token": csrf_token(http, "/clients/new"), "name": "Josefina Núñez", "kind": "client",
        "phone": "9 8765 4321", "then": "another"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/clients/new?kind=client")
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert "Josefina Núñez" in page and "flash-success" in page  # the flash names who was saved
    assert re.search(r'<input[^>]*\bname="name"[^>]*value=""', page)  # an empty form for the next one
    assert 'data-testid="save-and-add-another"' in page
    saved = clients_of(app, business)
    assert [(c.name, c.phone) for c in saved] == [("Josefina Núñez", "+56987654321")]


def test_save_and_add_another_keeps_adding_prospects_as_prospects(app, shop):
    business, _owner, _seller, http = shop
    response = http.post("/clients/new", data={
        "csrf_token": csrf_token(http, "/clients/new?kind=prospect"), "name": "Ramón Peña", "kind": "prospect",
        "then": "another"})
    assert response.headers["Location"].endswith("/clients/new?kind=prospect")
    form = http.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<option selected value="prospect">|<option value="prospect" selected', form)


def test_plain_save_still_opens_the_client_and_the_button_is_only_on_a_new_client(app, shop):
    business, _owner, _seller, http = shop
    response = http.post("/clients/new", data={"csrf_token": csrf_token(http, "/clients/new"),
                                               "name": "Inés Sáez", "kind": "client"})
    assert response.status_code == 303
    cid = clients_of(app, business)[0].id
    assert response.headers["Location"].endswith(f"/clients/{cid}")
    assert "save-and-add-another" not in http.get(f"/clients/{cid}/edit").get_data(as_text=True)


def test_save_and_add_another_with_a_bad_phone_keeps_what_was_typed(app, shop):
    business, _owner, _seller, http = shop
    response = http.post("/clients/new", data={
        "csrf_token": csrf_token(http, "/clients/new"), "name": "Héctor Ríos", "kind": "client",
        "phone": "123", "then": "another"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Héctor Ríos" in html and field_error(html, "phone")
    assert clients_of(app, business) == []


# --- the quick add: htmx -------------------------------------------------------------------

def test_quick_add_with_htmx_creates_the_client_and_brings_its_row_to_the_list(app, shop):
    business, owner, _seller, http = shop
    response = quick(http, HX, name="  Cristián Muñoz  ", phone="9 6123 4567")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    saved = clients_of(app, business)
    assert [(c.name, c.phone, c.kind, c.seller_id) for c in saved] == [
        ("Cristián Muñoz", "+56961234567", "client", owner.id)]
    # a fresh, empty form for the next one …
    assert 'id="quick-add"' in html and not re.search(r'id="name"[^>]*value="[^"]+"', html)
    # … the new row on top of the list, and the flash naming the client, both out of band
    assert 'hx-swap-oob="afterbegin:#client-rows"' in html and f'id="client-row-{saved[0].id}"' in html
    assert 'id="flashes" aria-live="polite" hx-swap-oob="true"' in html and "Cristián Muñoz" in html


def test_quick_add_with_an_impossible_phone_answers_422_with_what_was_typed(app, shop):
    business, _owner, _seller, http = shop
    response = quick(http, HX, name="Cristián Muñoz", phone="12")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Cristián Muñoz"' in html and 'value="12"' in html
    assert field_error(html, "phone") and 'aria-invalid="true"' in html
    assert "client-rows" not in html  # nothing joins the list
    assert clients_of(app, business) == []


def test_quick_add_without_a_name_answers_422_beside_the_name(app, shop):
    business, _owner, _seller, http = shop
    response = quick(http, HX, name="   ", phone="9 6123 4567")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "name") and 'value="9 6123 4567"' in html and not field_error(html, "phone")
    assert clients_of(app, business) == []


def test_quick_add_without_a_phone_is_a_client_with_a_name_only(app, shop):
    business, _owner, _seller, http = shop
    assert quick(http, HX, name="Pilar Araya", phone="").status_code == 200
    assert [(c.name, c.phone) for c in clients_of(app, business)] == [("Pilar Araya", None)]


# --- the quick add: without JavaScript -------------------------------------------------------

def test_the_list_page_has_the_quick_add_form_for_everyone(app, shop):
    _business, _owner, seller, http = shop
    page = http.get("/clients").get_data(as_text=True)
    assert 'action="/clients/quick"' in page and 'data-testid="quick-add"' in page
    their = app.test_client()
    login(their, seller.email)
    assert 'action="/clients/quick"' in their.get("/clients").get_data(as_text=True)


def test_quick_add_without_javascript_shows_the_list_newest_first(app, make, shop):
    business, _owner, _seller, http = shop
    quick(http, name="Antonia Bravo", phone="9 7777 1234")
    response = quick(http, name="Ximena Leiva", phone="+56 9 3333 4444")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/clients?sort=created&dir=desc")
    page = http.get(response.headers["Location"]).get_data(as_text=True)
    assert page.index("Ximena Leiva") < page.index("Antonia Bravo")  # the new one first
    assert "flash-success" in page


def test_quick_add_without_javascript_shows_the_whole_page_with_the_error(app, shop):
    business, _owner, _seller, http = shop
    response = quick(http, name="Ximena Leiva", phone="no sé")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" in html and 'id="client-list"' in html  # the list page, whole
    assert '<details class="quick-add-box" data-testid="quick-add" open>' in html
    assert 'value="Ximena Leiva"' in html and 'value="no sé"' in html and field_error(html, "phone")
    assert clients_of(app, business) == []


def test_quick_add_needs_the_csrf_token(app, shop):
    business, _owner, _seller, http = shop
    assert http.post("/clients/quick", data={"name": "Sin Token", "phone": ""}).status_code == 400
    assert clients_of(app, business) == []


def test_quick_add_needs_a_log_in(app, shop):
    anonymous = app.test_client()
    response = anonymous.post("/clients/quick", data={"csrf_token": csrf_token(anonymous, "/login"),
                                                      "name": "Nadie", "phone": ""})
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


# --- tenancy (TEN-) ---------------------------------------------------------------------------

def test_ten_quick_add_lands_in_the_user_s_own_business_whatever_the_form_says(app, make, shop):
    """TEN-1/2: the tenant comes from the logged-in user only. A client typed in one
    business is in that business, with its user as seller; a tenant id, a seller of
    another business or an id in the form change nothing; the other business neither
    lists it nor opens it (404), and its own quick add cannot reach it."""
    business, owner, _seller, http = shop
    other, other_owner, _m, other_seller = make.team("Ferretería Ajena")
    response = quick(http, HX, name="Rocío Tapia", phone="9 5555 6666", tenant_id=str(other.id),
                     seller_id=str(other_seller.id), id="1", kind="prospect")
    assert response.status_code == 200
    mine = clients_of(app, business)
    assert [(c.name, c.tenant_id, c.seller_id, c.kind) for c in mine] == [
        ("Rocío Tapia", business.id, owner.id, "client")]
    assert clients_of(app, other) == []

    theirs = app.test_client()
    login(theirs, other_owner.email)
    assert "Rocío Tapia" not in theirs.get("/clients").get_data(as_text=True)
    assert "Rocío Tapia" not in theirs.get("/clients?sort=created&dir=desc").get_data(as_text=True)
    for path in (f"/clients/{mine[0].id}", f"/clients/{mine[0].id}/row", f"/clients/{mine[0].id}/edit"):
        assert theirs.get(path).status_code == 404, path

    # the other business's quick add makes its own client, and the row it sends back is its own
    response = quick(theirs, HX, name="Rocío Tapia", phone="9 5555 6666")
    assert response.status_code == 200
    theirs_now = clients_of(app, other)
    assert [(c.name, c.tenant_id, c.seller_id) for c in theirs_now] == [("Rocío Tapia", other.id, other_owner.id)]
    assert f'id="client-row-{mine[0].id}"' not in response.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(func.count()).select_from(Client)).scalar_one() == 1
