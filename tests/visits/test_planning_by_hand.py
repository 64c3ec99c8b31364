"""Contacts planned by hand (bad input comes back beside its field) and a sale's plan,
adjusted contact by contact."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import format_date
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits import services
from pymes.visits.models import Activity

from ..factories import Factory, csrf_token, login


def today():
    return datetime.now(ZoneInfo("America/Santiago")).date()


def logged(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def make_client(app, business, seller, name="Rosa Díaz"):
    return Factory(app).client(business, name, seller_id=seller.id).id


def contacts(app, business, client_id):
    with app.app_context(), bound(business.id):
        return db.session.execute(select(Activity.due_on, Activity.status, Activity.seller_id, Activity.notes)
                                  .where(Activity.client_id == client_id).order_by(Activity.id)).all()


def test_a_contact_planned_by_hand_lands_on_the_timeline(app, make):
    business, _o, manager, seller = make.team()
    cid = make_client(app, business, seller)
    http = logged(app, seller)
    day = today() + timedelta(days=2)
    response = http.post(f"/clients/{cid}/contacts", data={
        "csrf_token": csrf_token(http, f"/clients/{cid}"), "kind": "visit", "due_on": day.isoformat(),
        "seller_id": str(manager.id), "notes": "Llevar catálogo"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/clients/{cid}#timeline")
    assert contacts(app, business, cid) == [(day, "planned", manager.id, "Llevar catálogo")]


@pytest.mark.parametrize("case, field", [("past", "due_on"), ("impossible", "due_on"), ("foreign", "seller_id")])
def test_a_refused_contact_comes_back_beside_its_field_with_the_notes_kept(app, make, case, field):
    business, _o, _m, seller = make.team()
    _other, _oo, _om, foreign_seller = make.team("Otro negocio")
    cid = make_client(app, business, seller)
    http = logged(app, seller)
    data = {"csrf_token": csrf_token(http, f"/clients/{cid}"), "kind": "call",
            "due_on": (today() + timedelta(days=1)).isoformat(), "seller_id": "", "notes": "Preguntar por la garantía"}
    if case == "past":
        data["due_on"] = (today() - timedelta(days=1)).isoformat()
    elif case == "impossible":
        data["due_on"] = "2026-02-30"
    else:
        data["seller_id"] = str(foreign_seller.id)
    response = http.post(f"/clients/{cid}/contacts", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert "Preguntar por la garantía" in html and 'data-testid="plan-form"' in html
    assert contacts(app, business, cid) == []


def sale_with_plan(app, business, seller, delivery):
    cid = make_client(app, business, seller)
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, cid)
        sale = Sale(client_id=cid, seller_id=seller.id, sold_on=today(), delivery_on=delivery,
                    description="Sofá", amount=450_000)
        db.session.add(sale)
        db.session.flush()
        visit, call = services.plan_for_sale(sale, client)
        db.session.commit()
        return cid, sale.id, visit.id, call.id


def activity(app, business, activity_id):
    with app.app_context(), bound(business.id):
        a = db.session.get(Activity, activity_id)
        return a.due_on, a.status, a.seller_id


def test_the_client_page_leads_to_each_sale_s_plan(app, make):
    business, _o, _m, seller = make.team()
    cid, sale_id, visit_id, call_id = sale_with_plan(app, business, seller, today() + timedelta(days=2))
    http = logged(app, seller)
    assert f'href="/sales/{sale_id}/plan"' in http.get(f"/clients/{cid}").get_data(as_text=True)
    page = http.get(f"/sales/{sale_id}/plan").get_data(as_text=True)
    assert page.count('data-testid="plan-row"') == 2  # the delivery visit and the follow-up call (not the check-in)
    assert f'id="a{visit_id}-due_on"' in page and f'id="a{call_id}-due_on"' in page


def test_a_planned_contact_of_a_sale_moves_inline(app, make):
    business, _o, manager, seller = make.team()
    _cid, sale_id, visit_id, call_id = sale_with_plan(app, business, seller, today() + timedelta(days=2))
    http = logged(app, seller)
    token = csrf_token(http, f"/sales/{sale_id}/plan")
    new_day = today() + timedelta(days=9)
    response = http.post(f"/sales/{sale_id}/plan/{call_id}", headers={"HX-Request": "true"}, data={
        "csrf_token": token, f"a{call_id}-due_on": new_day.isoformat(), f"a{call_id}-seller_id": str(manager.id)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.test_request_context():
        shown = format_date(new_day)
    assert f'id="plan-row-{call_id}"' in html and shown in html and 'hx-swap-oob="true"' in html
    assert "<html" not in html  # the row only
    assert activity(app, business, call_id) == (new_day, "planned", manager.id)
    assert activity(app, business, visit_id)[0] == today() + timedelta(days=2)  # the others stay
    # Without htmx, the same change answers with the page again.
    plain = http.post(f"/sales/{sale_id}/plan/{visit_id}", data={
        "csrf_token": token, f"a{visit_id}-due_on": new_day.isoformat(), f"a{visit_id}-seller_id": ""})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/sales/{sale_id}/plan")
    assert activity(app, business, visit_id) == (new_day, "planned", seller.id)


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("case, field", [("past", "due_on"), ("impossible", "due_on"), ("foreign", "seller_id")])
def test_a_refused_change_says_why_beside_the_field_and_changes_nothing(app, make, case, field, htmx):
    business, _o, _m, seller = make.team()
    _other, _oo, _om, foreign_seller = make.team("Otro negocio")
    delivery = today() + timedelta(days=2)
    _cid, sale_id, _visit_id, call_id = sale_with_plan(app, business, seller, delivery)
    http = logged(app, seller)
    data = {"csrf_token": csrf_token(http, f"/sales/{sale_id}/plan"),
            f"a{call_id}-due_on": (today() + timedelta(days=5)).isoformat(), f"a{call_id}-seller_id": ""}
    if case == "past":
        data[f"a{call_id}-due_on"] = (today() - timedelta(days=1)).isoformat()
    elif case == "impossible":
        data[f"a{call_id}-due_on"] = "2026-02-30"
    else:
        data[f"a{call_id}-seller_id"] = str(foreign_seller.id)
    response = http.post(f"/sales/{sale_id}/plan/{call_id}", data=data,
                         headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="a{call_id}-{field}-error"' in html
    if case == "past":
        assert f'value="{data[f"a{call_id}-due_on"]}"' in html  # the typed date is kept
    assert activity(app, business, call_id) == (delivery + timedelta(days=3), "planned", seller.id)


def test_a_planned_contact_of_a_sale_is_cancelled_and_cannot_be_changed_after(app, make):
    business, _o, _m, seller = make.team()
    _cid, sale_id, visit_id, call_id = sale_with_plan(app, business, seller, today() + timedelta(days=2))
    http = logged(app, seller)
    token = csrf_token(http, f"/sales/{sale_id}/plan")
    response = http.post(f"/sales/{sale_id}/plan/{call_id}/cancel", data={"csrf_token": token},
                         headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="plan-row-{call_id}"' in html and f'id="a{call_id}-due_on"' not in html
    assert activity(app, business, call_id)[1] == "cancelled"
    assert activity(app, business, visit_id)[1] == "planned"
    again = http.post(f"/sales/{sale_id}/plan/{call_id}", data={
        "csrf_token": token, f"a{call_id}-due_on": (today() + timedelta(days=5)).isoformat()})
    assert again.status_code == 409
    agenda = http.get("/agenda").get_data(as_text=True)
    assert agenda.count('data-testid="activity"') == 1  # only the delivery visit is left to do


def test_an_activity_of_another_sale_is_not_reachable_through_this_sale(app, make):
    business, _o, _m, seller = make.team()
    _c1, sale_a, _v1, _call_a = sale_with_plan(app, business, seller, today() + timedelta(days=2))
    _c2, _sale_b, _v2, call_b = sale_with_plan(app, business, seller, today() + timedelta(days=2))
    http = logged(app, seller)
    token = csrf_token(http, f"/sales/{sale_a}/plan")
    assert http.post(f"/sales/{sale_a}/plan/{call_b}/cancel", data={"csrf_token": token}).status_code == 404
    assert activity(app, business, call_b)[1] == "planned"
