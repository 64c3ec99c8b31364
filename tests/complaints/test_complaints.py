"""Complaints: opening, the clocks, the remedy and its economics, resolving, escalations
and follow-ups, and the bad input of issue 6."""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from pymes.clients.models import Client
from pymes.complaints import jobs, queries, services
from pymes.complaints.models import Complaint, ComplaintEvent, ComplaintSettings
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback.models import FeedbackLink
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits.models import Activity
from tests.factories import santiago_today

from ..factories import Factory, csrf_token, login

TARGETS = ComplaintSettings(ack_hours=24, resolve_days=5, priority_ack_hours=4, priority_resolve_days=2,
                            acquisition_multiplier=5, followup_days=5)


def open_case(app, shop, **fields) -> int:
    values = dict(category="wrong_product", description="Llegó el modelo equivocado", sale_id=shop["sale_id"])
    values.update(fields)
    return Factory(app).complaint(shop["business"], shop["client_id"], **values).id


def as_user(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def post(http, path, data, page=None):
    data = dict(data, csrf_token=csrf_token(http, page or path.rsplit("/", 1)[0]))
    return http.post(path, data=data)


# --- the clocks ---------------------------------------------------------------------------------

def test_resolve_clock_counts_business_days_where_the_business_is():
    opened = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Thursday 23:00 in Santiago, Friday 03:00 in Madrid
    ack, resolve = services.clocks(opened, ZoneInfo("America/Santiago"), TARGETS, at=services.LOOSEST)
    assert ack == opened + timedelta(hours=24)
    # Thu 26 + 5 working days = Thu 3 Dec, due at the end of that day in Santiago (UTC-3)
    assert resolve == datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    _, resolve_madrid = services.clocks(opened, ZoneInfo("Europe/Madrid"), TARGETS, at=services.LOOSEST)
    # Fri 27 + 5 working days = Fri 4 Dec, due at midnight in Madrid (UTC+1)
    assert resolve_madrid == datetime(2026, 12, 4, 23, 0, tzinfo=UTC)


def test_weekends_do_not_count_and_urgent_cases_are_tighter():
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    ack, resolve = services.clocks(saturday, ZoneInfo("UTC"), TARGETS, at=0)
    assert ack == saturday + timedelta(hours=4)
    assert resolve == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # Mon 30 and Tue 1 are the two days
    assert services.add_business_days(date(2026, 11, 27), 1) == date(2026, 11, 30)


def test_an_apostles_complaint_is_urgent(app, shop):
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Client).where(Client.id == shop["client_id"]).values(tier="apostle"))
        db.session.commit()
    case_id = open_case(app, shop)
    with app.app_context(), bound(shop["business"].id):
        case = db.session.get(Complaint, case_id)
        assert case.severity == "urgent" and case.priority
        assert case.ack_due_at - case.opened_at == timedelta(hours=4)
        assert case.owner_id == shop["seller"].id  # the client's responsible seller by default


# --- the case's page --------------------------------------------------------------------------------

def test_opening_by_hand_from_the_client_page(app, shop):
    http = as_user(app, shop["seller"])
    path = f"/clients/{shop['client_id']}/complaints/new"
    page = http.post(path, data={"csrf_token": csrf_token(http, path), "category": "late_delivery",
                                 "severity": "normal", "source": "call", "sale_id": str(shop["sale_id"]),
                                 "owner_id": "", "description": "El pedido llegó una semana tarde"})
    assert page.status_code == 303
    case = http.get(page.headers["Location"]).get_data(as_text=True)
    assert "El pedido llegó una semana tarde" in case
    assert "Entrega atrasada" in case or "Late delivery" in case
    assert "Taladro" in case


def test_a_complaint_without_a_description_keeps_what_was_chosen(app, shop):
    http = as_user(app, shop["seller"])
    path = f"/clients/{shop['client_id']}/complaints/new"
    page = http.post(path, data={"csrf_token": csrf_token(http, path), "category": "billing", "severity": "high",
                                 "source": "message", "sale_id": "", "owner_id": "", "description": ""})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'selected value="billing"' in html and 'selected value="high"' in html
    assert "obligatorio" in html or "required" in html


def test_a_complaint_about_another_business_sale_is_refused(app, shop, make):
    other, other_owner, _, _ = make.team("Otra tienda")
    foreign_sale = make.sale(other, make.client(other, "Ajeno"), 5, margin=1, description="Secreto").id
    http = as_user(app, shop["seller"])
    path = f"/clients/{shop['client_id']}/complaints/new"
    page = http.post(path, data={"csrf_token": csrf_token(http, path), "category": "quality", "severity": "normal",
                                 "source": "manual", "sale_id": str(foreign_sale), "owner_id": "",
                                 "description": "Se rompió"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Se rompió" in html and "Secreto" not in html
    with app.app_context(), bound(shop["business"].id):
        assert db.session.execute(select(Complaint)).first() is None
    # the service refuses it too, not only the form
    with app.app_context(), bound(shop["business"].id):
        client = db.session.get(Client, shop["client_id"])
        with app.test_request_context(), pytest.raises(services.FieldError):
            services.open_complaint(client, None, category="quality", description="x", sale_id=foreign_sale)


def test_the_service_user_handles_a_case_to_the_end(app, shop, outbox):
    case_id = open_case(app, shop)
    http = as_user(app, shop["service"])
    base = f"/complaints/{case_id}"
    assert post(http, f"{base}/acknowledge", {}, base).status_code == 303
    saved = post(http, f"{base}/remedy", {"remedy": "replacement", "remedy_cost": "10.000",
                                          "remedy_notes": "Cambiamos el taladro"}, base)
    assert saved.status_code == 303
    html = http.get(base).get_data(as_text=True)
    # 10,000 a month with 30 % margin: 36,000 a year at stake; replacement 10,000 − 3,000 margin = 7,000 lost
    assert "$36.000" in html and "$7.000" in html and "$29.000" in html
    # replacing him: 5 × a month of his margin (3,000), whatever the remedy costs
    assert "$15.000" in html and "$50.000" not in html
    assert "Cambiamos el taladro" in html
    assert post(http, f"{base}/told", {"channel": "whatsapp"}, base).status_code == 303
    assert post(http, f"{base}/resolve", {"note": "Cliente conforme"}, base).status_code == 303
    with app.app_context(), bound(shop["business"].id):
        case = db.session.get(Complaint, case_id)
        assert case.status == "resolved" and case.value_kept == 29_000 and case.annual_margin == 36_000
        assert timedelta(days=4) <= case.followup_on - santiago_today() <= timedelta(days=6)  # five days, in Santiago
        kinds = db.session.execute(select(ComplaintEvent.kind, ComplaintEvent.user_id)
                                   .where(ComplaintEvent.complaint_id == case_id).order_by(ComplaintEvent.id)).all()
    assert [k for k, _ in kinds] == ["opened", "acknowledged", "remedy", "told", "resolved"]
    assert all(user == shop["service"].id for _, user in kinds[1:])
    page = http.get(base).get_data(as_text=True)
    assert 'data-testid="followup"' in page


def test_the_economics_follow_the_typed_cost(app, shop):
    case_id = open_case(app, shop)
    http = as_user(app, shop["seller"])
    fragment = http.get(f"/complaints/{case_id}/economics?remedy_cost=20.000", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert "$19.000" in html  # 36,000 − (20,000 − 3,000)
    bad = http.get(f"/complaints/{case_id}/economics?remedy_cost=-5", headers={"HX-Request": "true"})
    assert "negativo" in bad.get_data(as_text=True) or "negative" in bad.get_data(as_text=True)


@pytest.mark.parametrize("cost, words", [("-100", ("negativo", "negative")),
                                         ("99999999999999", ("grande", "large")),
                                         ("diez mil", ("monto", "amount"))])
def test_a_wrong_remedy_cost_is_explained_and_the_typed_text_kept(app, shop, cost, words):
    case_id = open_case(app, shop)
    http = as_user(app, shop["seller"])
    base = f"/complaints/{case_id}"
    page = post(http, f"{base}/remedy", {"remedy": "refund", "remedy_cost": cost, "remedy_notes": "Devolución"}, base)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert any(w in html.lower() for w in words), html
    assert f'value="{cost}"' in html and "Devolución" in html and 'selected value="refund"' in html
    with app.app_context(), bound(shop["business"].id):
        assert db.session.get(Complaint, case_id).remedy is None


def test_resolving_without_a_remedy_is_refused(app, shop):
    case_id = open_case(app, shop)
    http = as_user(app, shop["seller"])
    base = f"/complaints/{case_id}"
    page = post(http, f"{base}/resolve", {"note": "listo"}, base)
    assert page.status_code == 422
    assert "remedio" in page.get_data(as_text=True).lower() or "remedy" in page.get_data(as_text=True).lower()
    with app.app_context(), bound(shop["business"].id):
        assert db.session.get(Complaint, case_id).status == "open"


def test_a_resolved_case_stays_closed(app, shop):
    case_id = open_case(app, shop)
    http = as_user(app, shop["manager"])
    base = f"/complaints/{case_id}"
    post(http, f"{base}/remedy", {"remedy": "apology", "remedy_cost": "0"}, base)
    post(http, f"{base}/resolve", {}, base)
    for action, data in (("remedy", {"remedy": "refund", "remedy_cost": "5000"}), ("acknowledge", {}),
                         ("assign", {"owner_id": str(shop["manager"].id)}), ("told", {"channel": "phone"})):
        answer = post(http, f"{base}/{action}", data, base)
        assert answer.status_code == 303
        page = http.get(answer.headers["Location"]).get_data(as_text=True)
        assert "cerrad" in page or "closed" in page
    with app.app_context(), bound(shop["business"].id):
        case = db.session.get(Complaint, case_id)
        assert case.remedy == "apology" and case.remedy_cost == 0 and case.client_told_at is None


def test_who_may_act_on_a_case(app, shop, make):
    case_id = open_case(app, shop, owner_id=shop["manager"].id)
    other_seller = make.user(shop["business"], "seller")
    base = f"/complaints/{case_id}"
    http = as_user(app, other_seller)
    assert http.get(base).status_code in (200, 404)  # seen or not, depending on the seller restriction
    assert post(http, f"{base}/acknowledge", {}, "/complaints").status_code in (403, 404)
    http = as_user(app, shop["service"])
    assert post(http, f"{base}/acknowledge", {}, base).status_code == 303


def test_a_restricted_seller_sees_only_their_clients_complaints(app, shop, make):
    from pymes.accounts.models import Business

    case_id = open_case(app, shop)
    with app.app_context():
        db.session.execute(update(Business).where(Business.id == shop["business"].id).values(sellers_see_only_own=True))
        db.session.commit()
    stranger = make.user(shop["business"], "seller", name="Vendedor Ajeno")
    http = as_user(app, stranger)
    assert http.get(f"/complaints/{case_id}").status_code == 404
    assert "Jorge Muñoz" not in http.get("/complaints?show=all").get_data(as_text=True)
    mine = as_user(app, shop["seller"])
    assert "Jorge Muñoz" in mine.get("/complaints?show=all").get_data(as_text=True)


# --- escalations and follow-ups -----------------------------------------------------------------------

def test_a_late_case_is_escalated_to_managers_once(app, shop, outbox):
    case_id = open_case(app, shop)
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == case_id).values(
            ack_due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with app.app_context():
        assert jobs.escalate_breaches() == 1
        assert jobs.escalate_breaches() == 0
    to = sorted(m["To"] for m in outbox.messages())
    assert to == sorted([shop["owner"].email, shop["manager"].email])
    assert f"/complaints/{case_id}" in outbox.link(shop["manager"].email)
    # the resolve target is a second, separate escalation, also sent once
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == case_id).values(
            resolve_due_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    with app.app_context():
        assert jobs.escalate_breaches() == 1
        assert jobs.escalate_breaches() == 0
    assert len(outbox.messages()) == 4
    http = as_user(app, shop["manager"])
    assert "Jorge Muñoz" in http.get("/complaints?show=breached").get_data(as_text=True)


def test_the_follow_up_link_goes_out_on_its_day(app, shop, outbox):
    case_id = open_case(app, shop)
    http = as_user(app, shop["seller"])
    base = f"/complaints/{case_id}"
    post(http, f"{base}/remedy", {"remedy": "repair", "remedy_cost": "2.000"}, base)
    post(http, f"{base}/resolve", {}, base)
    with app.app_context():
        assert jobs.send_followups() == 0  # not yet
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == case_id).values(followup_on=date(2020, 1, 1)))
        db.session.commit()
    with app.app_context():
        assert jobs.send_followups() == 1
        assert jobs.send_followups() == 0
    link = outbox.link("jorge@example.com", "/f/")
    assert app.test_client().get(link.removeprefix(app.config["BASE_URL"])).status_code == 200
    with app.app_context(), bound(shop["business"].id):
        assert db.session.execute(select(FeedbackLink)).scalars().one().client_id == shop["client_id"]


def test_without_an_email_the_follow_up_is_a_call_in_the_agenda(app, shop):
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Client).where(Client.id == shop["client_id"]).values(email=None))
        db.session.commit()
    case_id = open_case(app, shop)
    with app.app_context(), bound(shop["business"].id):
        case = db.session.get(Complaint, case_id)
        case.remedy, case.status, case.resolved_at, case.followup_on = "apology", "resolved", utcnow(), date(2020, 1, 1)
        db.session.commit()
    with app.app_context():
        assert jobs.send_followups() == 1
    with app.app_context(), bound(shop["business"].id):
        call = db.session.execute(select(Activity)).scalars().one()
        assert call.kind == "call" and call.client_id == shop["client_id"] and call.seller_id == shop["seller"].id


def test_recovery_counts_a_new_purchase_or_a_good_score(app, shop):
    case_id = open_case(app, shop, score_before=3)
    with app.app_context(), bound(shop["business"].id):
        case = db.session.get(Complaint, case_id)
        case.remedy, case.status, case.resolved_at = "apology", "resolved", utcnow() - timedelta(days=1)
        # the shop's monthly sale falls on the 1st: on the 1st of a month it would be a purchase
        # made after the case was resolved, so keep the history strictly before it
        db.session.execute(update(Sale).where(Sale.client_id == shop["client_id"],
                                              Sale.sold_on >= santiago_today() - timedelta(days=2))
                           .values(sold_on=santiago_today() - timedelta(days=20)))
        db.session.commit()
        assert queries.recovery(case).recovered is None  # too early to say
        assert queries.recovery(case, today=santiago_today() + timedelta(days=120)).recovered is False
        db.session.add(Sale(client_id=shop["client_id"], sold_on=santiago_today(), description="Brocas", amount=3000))
        db.session.commit()
        assert queries.recovery(case).recovered is True


@pytest.mark.parametrize("after, bought, over, expected", [
    (9, False, False, True), (7, False, False, True), (6, False, False, False),
    (None, False, True, False), (None, False, False, None), (2, True, False, True)])
def test_recovery_reads_the_score_after_the_remedy(after, bought, over, expected):
    """A passive or promoter score after the remedy is a recovered client; a detractor
    score again is not; no news within 90 days is a lost one."""
    outcome = queries.Recovery(score_before=3, score_after=after, bought_again=bought, window_over=over)
    assert outcome.recovered is expected


# --- the board ---------------------------------------------------------------------------------------

def test_the_board_lists_open_cases_oldest_first_with_figures(app, shop):
    first = open_case(app, shop, description="Primero")
    second = open_case(app, shop, description="Segundo", category="quality")
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == first).values(
            opened_at=utcnow() - timedelta(days=2), acknowledged_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    http = as_user(app, shop["manager"])
    html = http.get("/complaints").get_data(as_text=True)
    assert html.index(f"/complaints/{first}") < html.index(f"/complaints/{second}")
    assert http.get("/complaints?show=resolved").get_data(as_text=True).count("Jorge Muñoz") == 0
    with app.app_context(), bound(shop["business"].id):
        from pymes.accounts.models import User

        manager = db.session.get(User, shop["manager"].id)
        figures = queries.figures(manager, 30)
    assert figures.opened == 2 and figures.resolved == 0 and figures.median_ack_hours == pytest.approx(24, abs=0.1)


def test_the_client_page_and_the_home_page_show_the_open_complaint(app, shop):
    case_id = open_case(app, shop, description="El mango vino suelto")
    http = as_user(app, shop["manager"])
    page = http.get(f"/clients/{shop['client_id']}").get_data(as_text=True)
    assert 'data-testid="open-complaint"' in page and f"/complaints/{case_id}" in page
    assert 'data-testid="timeline-complaint"' in page and "El mango vino suelto" in page
    home = http.get("/").get_data(as_text=True)
    assert 'data-testid="home-complaints"' in home and ("1 reclamo abierto" in home or "1 open complaint" in home)


def test_a_complaint_heard_on_a_call_starts_from_the_agenda(app, shop):
    call_id = Factory(app).call(shop["business"], shop["client_id"], seller_id=shop["seller"].id, purpose="follow_up",
                                due_on=santiago_today(), sale_id=shop["sale_id"]).id
    http = as_user(app, shop["seller"])
    agenda = http.get("/agenda").get_data(as_text=True)
    link = f"/clients/{shop['client_id']}/complaints/new?activity={call_id}"
    assert link in agenda.replace("&amp;", "&")
    form = http.get(link).get_data(as_text=True)
    assert 'selected value="call"' in form and f'selected value="{shop["sale_id"]}"' in form
    answer = http.post(link, data={"csrf_token": csrf_token(http, link), "category": "missing_part",
                                   "severity": "normal", "source": "call", "sale_id": str(shop["sale_id"]),
                                   "owner_id": "", "description": "Faltaba la batería"})
    assert answer.status_code == 303
    with app.app_context(), bound(shop["business"].id):
        case = db.session.execute(select(Complaint)).scalars().one()
        assert case.activity_id == call_id and case.source == "call"


def test_the_sellers_home_counts_callbacks_requested(app, shop):
    Factory(app).call(shop["business"], shop["client_id"], seller_id=shop["seller"].id, purpose="callback",
                      due_on=santiago_today())
    home = as_user(app, shop["seller"]).get("/").get_data(as_text=True)
    assert 'data-testid="home-callbacks"' in home and "1 cliente pidió que lo contacten" in home
