"""A seller's own time zone (profile) and a change of the business's time zone."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date
from sqlalchemy import select

from pymes.accounts.models import Business, User
from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import csrf_token, login


def profile_post(client, **fields):
    data = {"csrf_token": csrf_token(client, "/settings/profile"), "profile-name": "Marta Soto",
            "profile-language": "es"}
    data.update({f"profile-{key}": value for key, value in fields.items()})
    return client.post("/settings/profile", data=data)


def stored_zone(app, user):
    with app.app_context(), bound(user.tenant_id):
        return db.session.get(User, user.id).timezone


def test_a_seller_picks_a_time_zone_or_goes_back_to_the_business_s(app, client, make):
    business, _o, _m, seller = make.team()  # America/Santiago
    login(client, seller.email)
    page = client.get("/settings/profile").get_data(as_text=True)
    assert 'name="profile-timezone"' in page
    assert '<option selected value="">' in page and "America/Santiago".replace("_", " ") in page
    assert '<option value="Europe/Madrid">' in page
    assert profile_post(client, timezone="Europe/Madrid").status_code == 303
    assert stored_zone(app, seller) == "Europe/Madrid"
    assert '<option selected value="Europe/Madrid">' in client.get("/settings/profile").get_data(as_text=True)
    assert profile_post(client, timezone="").status_code == 303
    assert stored_zone(app, seller) is None


def test_an_unknown_zone_is_refused_beside_the_field_and_nothing_typed_is_lost(app, client, make):
    _b, _o, _m, seller = make.team()
    login(client, seller.email)
    response = profile_post(client, timezone="Mars/Olympus_Mons", name="Marta Nueva", language="en")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="profile-timezone-error"' in html
    assert 'value="Marta Nueva"' in html and '<option selected value="en">' in html
    with app.app_context(), bound(seller.tenant_id):
        saved = db.session.get(User, seller.id)
        assert (saved.name, saved.language, saved.timezone) == (seller.name, "es", None)


def test_changing_the_language_from_the_menu_keeps_the_seller_s_zone(app, client, make):
    _b, _o, _m, seller = make.team()
    login(client, seller.email)
    profile_post(client, timezone="Europe/Madrid")
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en"})
    assert stored_zone(app, seller) == "Europe/Madrid"


def test_a_new_business_zone_keeps_every_visit_on_its_day(app, client, make):
    business, owner, _m, seller = make.team()  # America/Santiago
    santiago_today = datetime.now(ZoneInfo("America/Santiago")).date()
    soon = santiago_today + timedelta(days=3)
    later = (santiago_today.replace(day=1) + timedelta(days=40)).replace(day=15)  # the 15th of next month
    done_at = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("America/Santiago"))  # the 21st in UTC and Madrid
    with app.app_context(), bound(business.id):
        c = Client(name="Rosa Díaz", seller_id=seller.id)
        db.session.add(c)
        db.session.flush()
        rows = [Activity(client_id=c.id, seller_id=seller.id, kind="visit", purpose="delivery", due_on=soon),
                Activity(client_id=c.id, seller_id=seller.id, kind="call", purpose="check_in", due_on=later),
                Activity(client_id=c.id, seller_id=seller.id, kind="call", purpose="follow_up",
                         due_on=done_at.date(), status="done", done_at=done_at)]
        db.session.add_all(rows)
        db.session.commit()
        before = {a.id: (a.due_on, a.done_at) for a in rows}
    login(client, owner.email)
    response = client.post("/settings/business", data={
        "csrf_token": csrf_token(client, "/settings/business"), "name": business.name, "currency": "CLP",
        "timezone": "Europe/Madrid", "language": "es"}, content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Visits and calls keep their calendar days" in html or "mantienen sus días" in html
    with app.app_context(), bound(business.id):
        assert db.session.get(Business, business.id).timezone == "Europe/Madrid"
        after = {a.id: (a.due_on, a.done_at) for a in db.session.execute(
            select(Activity).where(Activity.id.in_(list(before)))).scalars()}
    assert after == before
    # A second save with the same zone says nothing about zones.
    again = client.post("/settings/business", data={
        "csrf_token": csrf_token(client, "/settings/business"), "name": business.name, "currency": "CLP",
        "timezone": "Europe/Madrid", "language": "es"}, content_type="multipart/form-data", follow_redirects=True)
    assert "calendar days" not in again.get_data(as_text=True) and "mantienen" not in again.get_data(as_text=True)

    seller_http = app.test_client()
    login(seller_http, seller.email)
    agenda = seller_http.get("/agenda").get_data(as_text=True)
    week = agenda.split('data-testid="week"')[1].split("</section>")[0]
    with app.test_request_context():
        shown_soon = format_date(soon)
    assert "Rosa Díaz" in week and shown_soon in week
    month = seller_http.get(f"/agenda/month?month={later:%Y-%m}").get_data(as_text=True)
    cell = month.split('<span class="day-number">15</span>')[1].split("</td>")[0]
    assert "Rosa Díaz" in cell
