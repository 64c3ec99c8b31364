"""Rules 1-3: the post-sale plan, the agenda and outcome logging."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits import services
from pymes.visits.models import Activity

from ..factories import Factory, csrf_token, login, statements


def today():
    """Today in the factories' business zone, read when used (tests may cross midnight)."""
    return datetime.now(ZoneInfo("America/Santiago")).date()


def make_client(app, business, seller, name="Rosa", tier=None, **fields):
    if tier is not None:
        fields["tier"] = tier
    return Factory(app).client(business, name, seller_id=seller.id, phone="+56987654321", whatsapp="+56987654321",
                               **fields).id


def logged(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def activities(app, business, client_id):
    with app.app_context(), bound(business.id):
        return [(a.kind, a.purpose, a.due_on, a.seller_id, a.status) for a in db.session.execute(
            select(Activity).where(Activity.client_id == client_id).order_by(Activity.due_on, Activity.id)).scalars()]


def test_a_sale_plans_the_delivery_visit_by_the_seller_who_sold(app, make):
    business, owner, manager, seller = make.team()
    cid = make_client(app, business, manager)  # responsible seller: the manager
    http = logged(app, owner)
    delivery = today() + timedelta(days=5)
    response = http.post(f"/clients/{cid}/sales", data={
        "csrf_token": csrf_token(http, f"/clients/{cid}"), "sold_on": today().isoformat(), "description": "Cocina",
        "amount": "1.500.000", "margin_kind": "amount", "seller_id": str(seller.id),
        "delivery_on": delivery.isoformat()})
    assert response.status_code == 303
    plan = activities(app, business, cid)
    assert ("visit", "delivery", delivery, seller.id, "planned") in plan          # rule 2: who sold, on delivery
    assert ("call", "follow_up", delivery + timedelta(days=3), seller.id, "planned") in plan  # rule 3
    # The new client is a one-off buyer: check-in 90 days after the follow-up call, by the responsible seller.
    assert ("call", "check_in", delivery + timedelta(days=3 + 90), manager.id, "planned") in plan
    assert len(plan) == 3


def test_frequent_clients_and_apostles_are_contacted_more_often(app, make):
    business, _o, _m, seller = make.team()
    with app.app_context(), bound(business.id):
        rules = services.Cadence()
        due = {}
        for tier in ("buyer", "sporadic", "frequent", "apostle"):
            c = Client(name=tier, seller_id=seller.id, tier=tier)
            db.session.add(c)
            db.session.flush()
            sale = Sale(client_id=c.id, seller_id=seller.id, sold_on=today(), description="x", amount=1)
            db.session.add(sale)
            db.session.flush()
            services.plan_for_sale(sale, c, rules)
            db.session.flush()
            due[tier] = db.session.execute(select(Activity.due_on).where(
                Activity.client_id == c.id, Activity.purpose == "check_in")).scalar_one()
        db.session.commit()
    assert due["apostle"] < due["frequent"] < due["sporadic"] < due["buyer"]
    assert due["frequent"] == today() + timedelta(days=3 + 30)


def test_the_plan_is_idempotent_and_follows_a_changed_delivery_date(app, make):
    business, _o, _m, seller = make.team()
    cid = make_client(app, business, seller)
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, cid)
        sale = Sale(client_id=cid, seller_id=seller.id, sold_on=today(), delivery_on=today(), description="x", amount=1)
        db.session.add(sale)
        db.session.flush()
        services.plan_for_sale(sale, client)
        services.plan_for_sale(sale, client)
        db.session.flush()
        sale.delivery_on = today() + timedelta(days=10)
        services.plan_for_sale(sale, client)
        db.session.commit()
    plan = activities(app, business, cid)
    assert len(plan) == 3
    assert ("visit", "delivery", today() + timedelta(days=10), seller.id, "planned") in plan


def test_logging_a_contact_pushes_the_next_check_in_out(app, make):
    business, _o, _m, seller = make.team()
    cid = make_client(app, business, seller, tier="frequent")
    visit_id = make.visit(business, cid, seller_id=seller.id, purpose="delivery", due_on=today()).id
    checkin_id = make.call(business, cid, seller_id=seller.id, purpose="check_in", due_on=today() + timedelta(days=2)).id
    http = logged(app, seller)
    response = http.post(f"/agenda/{visit_id}/outcome", data={
        "csrf_token": csrf_token(http, "/agenda"), "status": "done", "satisfaction": "5",
        "notes": "Todo bien", "opportunity": "y", "opportunity_what": "Una segunda cama"},
        headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Todo bien" in html and 'hx-swap-oob="true"' in html
    with app.app_context(), bound(business.id):
        assert db.session.get(Activity, checkin_id).due_on == today() + timedelta(days=30)
        done = db.session.get(Activity, visit_id)
        assert (done.status, done.satisfaction, done.opportunity) == ("done", 5, True)
    # Logging twice is refused.
    again = http.post(f"/agenda/{visit_id}/outcome", data={"csrf_token": csrf_token(http, "/agenda"),
                                                           "status": "done"})
    assert again.status_code == 409


@pytest.mark.parametrize("amount", ["350.000", ""])
def test_an_opportunity_becomes_a_sale_or_a_call_on_the_spot(app, make, amount):
    business, _o, _m, seller = make.team()
    cid = make_client(app, business, seller)
    visit_id = make.visit(business, cid, seller_id=seller.id, purpose="delivery", due_on=today()).id
    http = logged(app, seller)
    response = http.post(f"/agenda/{visit_id}/outcome", data={
        "csrf_token": csrf_token(http, "/agenda"), "status": "done", "opportunity": "y",
        "opportunity_what": "Velador de roble", "opportunity_amount": amount})
    assert response.status_code == 303
    with app.app_context(), bound(business.id):
        sales = db.session.execute(select(Sale).where(Sale.client_id == cid)).scalars().all()
        calls = db.session.execute(select(Activity).where(Activity.client_id == cid, Activity.notes.contains(
            "Velador de roble"))).scalars().all()
    if amount:
        assert [(s.description, s.amount, s.seller_id) for s in sales] == [("Velador de roble", 350_000, seller.id)]
        assert calls == []
    else:
        assert sales == []
        assert [(c.kind, c.due_on, c.seller_id) for c in calls] == [("call", today() + timedelta(days=7), seller.id)]


@pytest.mark.parametrize("what, amount, field", [("", "", "opportunity_what"),
                                                 ("Velador", "-5", "opportunity_amount"),
                                                 ("Velador", "mucho", "opportunity_amount")])
def test_a_wrong_opportunity_logs_nothing_and_keeps_what_was_typed(app, make, what, amount, field):
    business, _o, _m, seller = make.team()
    cid = make_client(app, business, seller)
    visit_id = make.visit(business, cid, seller_id=seller.id, purpose="delivery", due_on=today()).id
    http = logged(app, seller)
    response = http.post(f"/agenda/{visit_id}/outcome", data={
        "csrf_token": csrf_token(http, "/agenda"), "status": "done", "notes": "Muy contento", "opportunity": "y",
        "opportunity_what": what, "opportunity_amount": amount}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-{visit_id}-error"' in html and "Muy contento" in html
    with app.app_context(), bound(business.id):
        assert db.session.get(Activity, visit_id).status == "planned"


def test_reschedule_needs_a_future_date_and_plans_it(app, make):
    business, _o, _m, seller = make.team()
    cid = make_client(app, business, seller)
    call_id = make.call(business, cid, seller_id=seller.id, purpose="follow_up", due_on=today()).id
    http = logged(app, seller)
    token = csrf_token(http, "/agenda")
    past = http.post(f"/agenda/{call_id}/outcome", data={"csrf_token": token, "status": "rescheduled",
                                                         "new_date": (today() - timedelta(days=1)).isoformat(),
                                                         "notes": "llamar el lunes"},
                     headers={"HX-Request": "true"})
    assert past.status_code == 422
    assert f'id="new_date-{call_id}-error"' in past.get_data(as_text=True) and "llamar el lunes" in past.get_data(as_text=True)
    later = today() + timedelta(days=4)
    ok = http.post(f"/agenda/{call_id}/outcome", data={"csrf_token": token, "status": "rescheduled",
                                                       "new_date": later.isoformat()})
    assert ok.status_code == 303
    plan = activities(app, business, cid)
    assert ("call", "follow_up", later, seller.id, "planned") in plan
    assert ("call", "follow_up", today(), seller.id, "rescheduled") in plan


def test_agenda_shows_overdue_today_and_week_for_the_seller_only(app, make):
    business, owner, manager, seller = make.team()
    mine = make_client(app, business, seller, name="Cliente de Marta", preferred_channel="whatsapp",
                       preferred_time="morning")
    other = make_client(app, business, manager, name="Cliente de Otro")
    make.visit(business, mine, purpose="delivery", due_on=today() - timedelta(days=2))
    make.call(business, mine, purpose="follow_up", due_on=today())
    make.call(business, mine, purpose="check_in", due_on=today() + timedelta(days=3))
    make.call(business, other, purpose="follow_up", due_on=today())
    html = logged(app, seller).get("/agenda").get_data(as_text=True)
    assert "Cliente de Marta" in html and "Cliente de Otro" not in html
    for section in ("overdue", "today", "week"):
        part = html.split(f'data-testid="{section}"')[1].split("</section>")[0]
        assert part.count('data-testid="activity"') == 1, section
    assert 'href="tel:+56987654321"' in html and "https://wa.me/56987654321?text=" in html
    everyone = logged(app, owner).get("/agenda?seller=all").get_data(as_text=True)
    assert "Cliente de Otro" in everyone and "Cliente de Marta" in everyone


def test_agenda_sql_statements_do_not_grow_with_the_visits(app, make):
    counts = []
    for n in (3, 60):
        business, _o, _m, seller = make.team()
        with app.app_context(), bound(business.id):
            for i in range(n):
                c = Client(name=f"C{i}", seller_id=seller.id)
                db.session.add(c)
                db.session.flush()
                db.session.add(Activity(client_id=c.id, seller_id=seller.id, kind="call", purpose="follow_up",
                                        due_on=today() + timedelta(days=i % 8)))
            db.session.commit()
        http = logged(app, seller)
        with statements(app) as seen:
            assert http.get("/agenda").status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def test_today_is_the_business_s_today():
    from types import SimpleNamespace

    from pymes.i18n import business_today

    santiago = business_today(SimpleNamespace(timezone="America/Santiago"))
    madrid = business_today(SimpleNamespace(timezone="Europe/Madrid"))
    assert 0 <= (madrid - santiago).days <= 1
    assert madrid == datetime.now(ZoneInfo("Europe/Madrid")).date()


def test_cadence_is_editable_and_used_by_new_plans(app, make):
    business, owner, _m, seller = make.team()
    http = logged(app, owner)
    form = {"csrf_token": csrf_token(http, "/agenda/settings"), "call_after_days": "7", "checkin_buyer_days": "45",
            "checkin_sporadic_days": "40", "checkin_frequent_days": "20", "checkin_apostle_days": "14"}
    assert http.post("/agenda/settings", data=form).status_code == 303
    bad = http.post("/agenda/settings", data=dict(form, call_after_days="0", checkin_apostle_days="mil"))
    assert bad.status_code == 422
    assert 'id="call_after_days-error"' in bad.get_data(as_text=True)
    cid = make_client(app, business, seller)
    http.post(f"/clients/{cid}/sales", data={"csrf_token": csrf_token(http, f"/clients/{cid}"),
                                             "sold_on": today().isoformat(), "description": "x", "amount": "1000",
                                             "margin_kind": "amount", "seller_id": str(seller.id)})
    plan = activities(app, business, cid)
    assert ("call", "follow_up", today() + timedelta(days=7), seller.id, "planned") in plan
    assert ("call", "check_in", today() + timedelta(days=7 + 45), seller.id, "planned") in plan
    seller_http = logged(app, seller)
    assert seller_http.get("/agenda/settings").status_code == 403


def test_team_health_counts_on_time_late_and_overdue(app, make):
    from pymes.db import utcnow

    business, owner, manager, seller = make.team()
    cid = make_client(app, business, seller)
    now = utcnow()
    t = datetime.now(ZoneInfo("America/Santiago")).date()
    make.call(business, cid, purpose="follow_up", due_on=t - timedelta(days=5), status="done",
              done_at=now - timedelta(days=6))
    make.call(business, cid, purpose="follow_up", due_on=t - timedelta(days=9), status="done",
              done_at=now - timedelta(days=2))
    make.visit(business, cid, purpose="delivery", due_on=t - timedelta(days=3))
    html = logged(app, owner).get("/agenda/team").get_data(as_text=True)
    row = html.split(f'data-testid="health-{seller.id}"')[1].split("</tr>")[0]
    cells = [c.strip() for c in row.split("<td>")[2:]]
    assert cells[0].startswith('<span class="badge badge-revoked">1<')  # one overdue
    assert [c.split("<")[0] for c in cells[1:4]] == ["3", "1", "1"]


def test_a_call_made_late_in_the_evening_is_on_time_where_the_business_is(app, make):
    business, owner, _manager, seller = make.team()  # America/Santiago
    cid = make_client(app, business, seller)
    zone = ZoneInfo("America/Santiago")
    due = datetime.now(zone).date() - timedelta(days=4)
    evening = datetime.combine(due, datetime.min.time(), tzinfo=zone).replace(hour=23, minute=30)
    make.call(business, cid, purpose="follow_up", due_on=due, status="done",
              done_at=evening)  # already the next day in UTC
    html = logged(app, owner).get("/agenda/team").get_data(as_text=True)
    row = html.split(f'data-testid="health-{seller.id}"')[1].split("</tr>")[0]
    cells = [c.strip() for c in row.split("<td>")[2:]]
    assert [c.split("<")[0] for c in cells[1:4]] == ["1", "1", "0"]


def test_month_view_shows_the_seller_s_contacts_on_their_days(app, make):
    business, owner, manager, seller = make.team()
    mine = make_client(app, business, seller, name="Visita de Marta")
    other = make_client(app, business, manager, name="Del gerente")
    day = today().replace(day=15)
    make.visit(business, mine, purpose="delivery", due_on=day)
    make.call(business, other, purpose="follow_up", due_on=day)
    html = logged(app, seller).get(f"/agenda/month?month={day:%Y-%m}").get_data(as_text=True)
    assert "Visita de Marta" in html and "Del gerente" not in html
    cell = html.split('<span class="day-number">15</span>')[1].split("</td>")[0]
    assert "Visita de Marta" in cell
    assert logged(app, seller).get("/agenda/month?month=9999-99").status_code == 200  # a bad month is this month


def test_history_typed_in_late_plans_nothing_long_overdue(app, make):
    business, owner, _m, seller = make.team()
    cid = make_client(app, business, seller)
    http = logged(app, owner)
    old = today() - timedelta(days=60)
    http.post(f"/clients/{cid}/sales", data={"csrf_token": csrf_token(http, f"/clients/{cid}"),
                                             "sold_on": old.isoformat(), "description": "Antigua", "amount": "1000",
                                             "margin_kind": "amount", "seller_id": str(seller.id)})
    plan = activities(app, business, cid)
    assert [p[1] for p in plan] == ["check_in"]  # no delivery visit or call two months late
    recent = today() - timedelta(days=2)
    http.post(f"/clients/{cid}/sales", data={"csrf_token": csrf_token(http, f"/clients/{cid}"),
                                             "sold_on": recent.isoformat(), "description": "Reciente",
                                             "amount": "1000", "margin_kind": "amount", "seller_id": str(seller.id)})
    purposes = [p[1] for p in activities(app, business, cid)]
    assert "delivery" in purposes and "follow_up" in purposes  # two days late still gets its visit


def test_a_long_backlog_of_overdue_contacts_comes_a_page_at_a_time(app, make):
    """A team 60 calls behind sees the oldest 25 first, the total, and the way to the
    more recent ones; the statements per page do not grow with the backlog."""
    from datetime import timedelta

    from pymes.clients.models import Client
    from pymes.extensions import db
    from pymes.i18n import business_today
    from pymes.tenancy import bound
    from pymes.visits import services
    from pymes.visits.models import Activity

    business, owner, _manager, seller = make.team("Ferretería Atrasada")
    with app.test_request_context(), bound(business.id):
        from flask import g

        g.business = business
        today = business_today(business)
        clients = [Client(name=f"Cliente call-{n:02d}", seller_id=seller.id) for n in range(60)]
        client = Client(name="Cliente today-visit", seller_id=seller.id)
        db.session.add_all(clients + [client])
        db.session.flush()
        for n in range(60):
            db.session.add(Activity(client_id=clients[n].id, seller_id=seller.id, kind="call", purpose="follow_up",
                                    due_on=today - timedelta(days=61 - n), notes=f"call-{n:02d}"))
        db.session.add(Activity(client_id=client.id, seller_id=seller.id, kind="visit", purpose="check_in",
                                due_on=today, notes="today-visit"))
        db.session.commit()
        first = services.agenda(seller.id, today, overdue_page=1)
        last = services.agenda(seller.id, today, overdue_page=9)
        everything = services.agenda(seller.id, today)
    assert first.overdue_total == 60 and first.overdue_pages == 3 and len(first.overdue) == 25
    assert [a.notes for a, _c in first.overdue][:2] == ["call-00", "call-01"]
    assert last.overdue_page == 3 and [a.notes for a, _c in last.overdue][-1] == "call-59"
    assert [a.notes for a, _c in first.today] == ["today-visit"]
    assert len(everything.overdue) == 60  # the digest still lists them all

    http = app.test_client()
    login(http, seller.email)
    page = http.get("/agenda").get_data(as_text=True)
    assert 'data-testid="overdue-pager"' in page and "call-00" in page and "call-59" not in page
    page = http.get("/agenda?overdue_page=3").get_data(as_text=True)
    assert "call-59" in page and "call-00" not in page and "today-visit" in page


def test_every_agenda_item_s_form_logs_that_item(app, make):
    """The outcome form is drawn once per page and copied per item: each copy must post
    to, and swap, its own visit or call."""
    import re
    from datetime import timedelta

    from pymes.i18n import business_today

    business, owner, _manager, seller = make.team("Ferretería Tres Visitas")
    with app.test_request_context(), bound(business.id):
        today = business_today(business)
        clients = [Client(name=f"Cliente {n}", seller_id=seller.id) for n in range(3)]
        db.session.add_all(clients)
        db.session.flush()
        acts = [Activity(client_id=c.id, seller_id=seller.id, kind="call", purpose="follow_up",
                         due_on=today - timedelta(days=n)) for n, c in enumerate(clients)]
        db.session.add_all(acts)
        db.session.commit()
        ids = [a.id for a in acts]
    http = app.test_client()
    login(http, seller.email)
    html = http.get("/agenda").get_data(as_text=True)
    pairs = re.findall(r'<article class="agenda-item[^"]*" id="activity-(\d+)".*?hx-post="/agenda/(\d+)/outcome" '
                       r'hx-target="#activity-(\d+)"', html, re.S)
    assert sorted(int(a) for a, _p, _t in pairs) == sorted(ids)
    assert all(a == p == t for a, p, t in pairs)
    target = ids[1]
    done = http.post(f"/agenda/{target}/outcome", data={"csrf_token": csrf_token(http, "/agenda"), "status": "done",
                                                       "notes": "Todo bien"}, headers={"HX-Request": "true"})
    assert done.status_code == 200
    with app.app_context(), bound(business.id):
        statuses = {a.id: a.status for a in db.session.execute(select(Activity).where(Activity.id.in_(ids))).scalars()}
    assert statuses[target] == "done" and [statuses[i] for i in ids if i != target] == ["planned", "planned"]
