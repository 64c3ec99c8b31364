"""Issue 6 after the audit: the client's language in the prefilled message, the graded
clocks by tier, the board's age and order, a history with old → new values, reopening
a resolved case, and the in-app note to managers when a case goes late."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from pymes.clients.models import Client
from pymes.complaints import jobs, services
from pymes.complaints.models import Complaint, ComplaintEvent, ComplaintSettings
from pymes.db import utcnow
from pymes.extensions import db
from pymes.notifications.models import Notification
from pymes.tenancy import bound

from ..factories import santiago_today
from .test_complaints import as_user, open_case, post

MESSAGE = ("Hello %(name)s, this is %(business)s. We are sorry about the problem you told us about. "
           "What we are doing about it: %(remedy)s.")


def _set_client(app, shop, **values):
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Client).where(Client.id == shop["client_id"]).values(**values))
        db.session.commit()


@pytest.fixture
def eva(make, shop):
    """A manager who reads the app in English: the new words show before the catalogs are merged."""
    return make.user(shop["business"], "manager", name="Eva English", language="en")


def _remedied_page(app, shop, user_key="seller"):
    case_id = open_case(app, shop)
    http = as_user(app, shop[user_key])
    base = f"/complaints/{case_id}"
    post(http, f"{base}/remedy", {"remedy": "replacement", "remedy_cost": "10.000"}, base)
    return case_id, http.get(base).get_data(as_text=True)


# --- 1. the message to the client is in the client's language ------------------------------------

def test_the_message_is_marked_with_the_clients_language(app, shop):
    _set_client(app, shop, language="ru")
    _case, html = _remedied_page(app, shop)
    assert 'data-testid="client-message" lang="ru"' in html
    _set_client(app, shop, language="pt")
    with app.app_context(), bound(shop["business"].id):
        client = db.session.get(Client, shop["client_id"])
        from pymes.accounts.models import Business

        assert services.client_language(client, db.session.get(Business, shop["business"].id)) == "pt"


def test_a_russian_clients_message_is_written_in_russian(app, shop):
    _set_client(app, shop, language="ru")
    _case, html = _remedied_page(app, shop)
    message = html.split('data-testid="client-message"')[1].split("</p>")[0]
    assert "Здравствуйте, Jorge" in message and "замена" in message and "Lamentamos" not in message


def test_a_client_without_a_language_is_written_to_in_the_business_language(app, shop):
    _set_client(app, shop, language=None)
    _case, html = _remedied_page(app, shop)
    message = html.split('data-testid="client-message"')[1].split("</p>")[0]
    assert 'lang="es"' in message
    assert "Hola Jorge" in message and "Lamentamos el problema" in message and "reposición" in message


# --- 3. graded clocks ------------------------------------------------------------------------------

MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DEFAULTS = ComplaintSettings(ack_hours=24, resolve_days=5, priority_ack_hours=4, priority_resolve_days=2,
                             acquisition_multiplier=5, followup_days=5)


@pytest.mark.parametrize("tier, hours, resolve_by", [
    ("apostle", 4, datetime(2026, 12, 3, tzinfo=UTC)),    # 2 business days: Tue 1, Wed 2
    ("frequent", 11, datetime(2026, 12, 4, tzinfo=UTC)),  # 3: to Thu 3
    ("sporadic", 17, datetime(2026, 12, 5, tzinfo=UTC)),  # 4: to Fri 4
    ("buyer", 24, datetime(2026, 12, 8, tzinfo=UTC)),     # 5: to Mon 7 (the weekend skipped)
    (None, 24, datetime(2026, 12, 8, tzinfo=UTC)),        # no tier yet: like a one-off buyer
])
def test_each_tier_has_its_own_clock_tightest_for_apostles(tier, hours, resolve_by):
    at = services.level("normal", tier)
    ack, resolve = services.clocks(MONDAY_NOON, ZoneInfo("UTC"), DEFAULTS, at)
    assert ack == MONDAY_NOON + timedelta(hours=hours)
    assert resolve == resolve_by


def test_severity_tightens_the_clock_but_never_loosens_it():
    assert services.level("urgent", "buyer") == 0
    assert services.level("high", "sporadic") == 1
    assert services.level("low", "apostle") == 0
    assert services.is_priority("normal", "frequent") and not services.is_priority("normal", "sporadic")


@pytest.mark.parametrize("tier, hours", [("apostle", 8), ("frequent", 21), ("sporadic", 35), ("buyer", 48)])
def test_a_business_edits_the_ends_of_the_scale_and_cases_follow(app, shop, eva, tier, hours):
    http = as_user(app, eva)
    answer = post(http, "/complaints/settings", {
        "ack_hours": "48", "resolve_days": "10", "priority_ack_hours": "8", "priority_resolve_days": "1",
        "acquisition_multiplier": "5", "followup_days": "5"}, "/complaints/settings")
    assert answer.status_code == 303
    page = http.get("/complaints/settings").get_data(as_text=True)
    scale = page.split('data-testid="scale"')[1].split("</table>")[0]
    for shown in ("8 h", "21 h", "35 h", "48 h", "1 business day", "4 business days", "7 business days",
                  "10 business days"):
        assert shown in scale
    _set_client(app, shop, tier=tier)
    case_id = open_case(app, shop, severity="normal")
    with app.app_context(), bound(shop["business"].id):
        case = db.session.get(Complaint, case_id)
        assert case.ack_due_at - case.opened_at == timedelta(hours=hours)


# --- 4. the board: age, order, late ----------------------------------------------------------------

def test_the_board_shows_each_cases_age_and_sorts_by_age_owner_or_newest(app, shop, make, eva):
    ana = make.user(shop["business"], "service", name="Ana Aguilar")
    zoe = make.user(shop["business"], "service", name="Zoe Zamora")
    old = open_case(app, shop, description="Viejo", owner_id=zoe.id)
    new = open_case(app, shop, description="Nuevo", owner_id=ana.id)
    nobody = open_case(app, shop, description="Sin dueño")
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == old).values(
            opened_at=utcnow() - timedelta(days=3), acknowledged_at=utcnow() - timedelta(days=3)))
        db.session.execute(update(Complaint).where(Complaint.id == nobody).values(owner_id=None))
        db.session.commit()
    http = as_user(app, eva)

    def order(query):
        html = http.get("/complaints" + query).get_data(as_text=True)
        return html, sorted((old, new, nobody), key=lambda i: html.index(f"/complaints/{i}\""))

    html, by_age = order("")
    assert by_age == [old, new, nobody]
    ages = [cell.split(">", 1)[1].split("<")[0] for cell in html.split('data-testid="age"')[1:]]
    assert ages[0] == "3 days"
    assert by_age == order("?sort=age")[1]
    assert order("?sort=newest")[1] == [nobody, new, old]
    assert order("?sort=owner")[1] == [new, old, nobody]  # Ana, Zoe, then nobody in charge
    assert 'sort=owner' in order("?sort=owner")[0]  # the tabs keep the chosen order


def test_the_late_tab_lists_only_late_cases(app, shop):
    late = open_case(app, shop, description="Atrasado")
    on_time = open_case(app, shop, description="A tiempo")
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == late).values(
            ack_due_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    html = as_user(app, shop["manager"]).get("/complaints?show=breached").get_data(as_text=True)
    assert f"/complaints/{late}\"" in html and f"/complaints/{on_time}\"" not in html
    assert "sin acuse de recibo a tiempo" in html


# --- 5. the history: who, when, what, old → new --------------------------------------------------

def _events(app, shop, case_id):
    with app.app_context(), bound(shop["business"].id):
        rows = db.session.execute(select(ComplaintEvent).where(ComplaintEvent.complaint_id == case_id)
                                  .order_by(ComplaintEvent.id)).scalars().all()
        return [(e.kind, e.user_id, services.changes(e)) for e in rows]


def test_every_change_is_recorded_with_old_and_new_values(app, shop, eva):
    case_id = open_case(app, shop)
    http = as_user(app, shop["service"])
    base = f"/complaints/{case_id}"
    assert post(http, f"{base}/acknowledge", {}, base).status_code == 303
    assert post(http, f"{base}/assign", {"owner_id": str(shop["service"].id)}, base).status_code == 303
    assert post(http, f"{base}/severity", {"severity": "urgent"}, base).status_code == 303
    assert post(http, f"{base}/remedy", {"remedy": "apology", "remedy_cost": "0"}, base).status_code == 303
    assert post(http, f"{base}/remedy", {"remedy": "replacement", "remedy_cost": "10.000",
                                         "remedy_notes": "Taladro nuevo"}, base).status_code == 303
    assert post(http, f"{base}/told", {"channel": "whatsapp"}, base).status_code == 303
    assert post(http, f"{base}/resolve", {"note": "Conforme"}, base).status_code == 303

    events = _events(app, shop, case_id)
    assert [k for k, _, _ in events] == ["opened", "acknowledged", "assigned", "severity", "remedy", "remedy",
                                        "told", "resolved"]
    assert all(user == shop["service"].id for _, user, _ in events[1:])
    changes = {i: c for i, (_, _, c) in enumerate(events)}
    assert changes[1]["status"] == ["open", "acknowledged"]
    assert changes[2]["owner"] == [shop["seller"].id, shop["service"].id]
    assert changes[3]["severity"] == ["normal", "urgent"]
    assert changes[4]["remedy"] == [None, "apology"] and changes[4]["remedy_cost"] == [None, 0]
    assert changes[5]["remedy"] == ["apology", "replacement"] and changes[5]["remedy_cost"] == [0, 10_000]
    assert changes[6]["channel"] == "whatsapp"
    assert changes[7]["status"] == ["acknowledged", "resolved"] and changes[7]["note"] == "Conforme"

    html = as_user(app, eva).get(base).get_data(as_text=True)
    history = html.split('data-testid="history"')[1].split("</ol>")[0]
    for shown in ("State: Open → Acknowledged", f"In charge: {shop['seller'].name} → Paula Servicio",
                  "Severity: Normal → Urgent", "Remedy: — → Apology", "Cost: — → $0",
                  "Remedy: Apology → Replacement", "Cost: $0 → $10.000", "Taladro nuevo",
                  "Told by WhatsApp", "State: Acknowledged → Resolved", "Conforme", "Paula Servicio"):
        assert shown in history, shown
    assert "10000" not in history and "whatsapp" not in history  # formatted, not raw


def test_a_higher_severity_counts_the_clocks_again_from_the_opening(app, shop, eva):
    case_id = open_case(app, shop, severity="normal")  # the shop's client has no tier: the loosest clock
    http = as_user(app, eva)
    base = f"/complaints/{case_id}"
    post(http, f"{base}/severity", {"severity": "urgent"}, base)
    with app.app_context(), bound(shop["business"].id):
        case = db.session.get(Complaint, case_id)
        assert case.severity == "urgent" and case.priority
        assert case.ack_due_at - case.opened_at == timedelta(hours=4)
    html = http.get(base).get_data(as_text=True)
    history = html.split('data-testid="history"')[1]
    assert "Severity: Normal → Urgent" in history and "Acknowledge by:" in history and "Resolve by:" in history
    assert "the clocks were counted again" in html
    bad = post(http, f"{base}/severity", {"severity": "apocalyptic"}, base)
    assert bad.status_code == 422


def test_escalations_and_follow_ups_are_spelled_out_in_the_history(app, shop, eva):
    case_id = open_case(app, shop)
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == case_id).values(
            ack_due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with app.app_context():
        jobs.escalate_breaches()
    with app.app_context(), bound(shop["business"].id):
        case = db.session.get(Complaint, case_id)
        case.remedy, case.status, case.resolved_at, case.followup_on = "apology", "resolved", utcnow(), santiago_today()
        db.session.commit()
    with app.app_context():
        jobs.send_followups()
    html = as_user(app, eva).get(f"/complaints/{case_id}").get_data(as_text=True)
    history = html.split('data-testid="history"')[1].split("</ol>")[0]
    assert "The time to acknowledge ran out" in history and "Feedback link sent by e-mail" in history
    assert "Fideliza" in history


# --- 5b. a resolved case and the problem coming back -----------------------------------------------

def _resolved(app, shop, user):
    case_id = open_case(app, shop)
    http = as_user(app, user)
    base = f"/complaints/{case_id}"
    post(http, f"{base}/remedy", {"remedy": "repair", "remedy_cost": "2.000"}, base)
    post(http, f"{base}/resolve", {}, base)
    return case_id, http, base


def test_the_problem_coming_back_opens_a_linked_case_and_keeps_the_resolved_one(app, shop, eva):
    case_id, http, base = _resolved(app, shop, eva)
    page = http.get(base).get_data(as_text=True)
    assert 'data-testid="reopen"' in page
    answer = post(http, f"{base}/reopen", {"reason": "Se volvió a soltar el mango"}, base)
    assert answer.status_code == 303
    with app.app_context(), bound(shop["business"].id):
        old = db.session.get(Complaint, case_id)
        again = db.session.execute(select(Complaint).where(Complaint.id != case_id)).scalars().one()
        assert old.status == "resolved" and old.remedy == "repair" and old.value_kept == 36_000  # a 2.000 repair is below the sale's 3.000 margin: nothing lost, nothing added
        assert again.status == "open" and again.description == "Se volvió a soltar el mango"
        assert (again.client_id, again.sale_id, again.category) == (old.client_id, old.sale_id, old.category)
    assert answer.headers["Location"].endswith(f"/complaints/{again.id}")
    new_page = http.get(answer.headers["Location"]).get_data(as_text=True)
    assert "A new complaint was opened because the problem came back" in new_page
    assert f'href="/complaints/{case_id}"' in new_page.split('data-testid="history"')[1]
    old_page = http.get(base).get_data(as_text=True)
    old_history = old_page.split('data-testid="history"')[1].split("</ol>")[0]
    assert "The problem came back: Se volvió a soltar el mango" in old_history
    assert f'href="/complaints/{again.id}"' in old_history


def test_reopening_needs_a_reason_and_only_a_resolved_case(app, shop, eva):
    case_id, http, base = _resolved(app, shop, eva)
    empty = post(http, f"{base}/reopen", {"reason": "  "}, base)
    assert empty.status_code == 422
    assert "This field is required" in empty.get_data(as_text=True)
    still_open = open_case(app, shop, description="Abierto")
    for reason in ("x", ""):
        answer = post(http, f"/complaints/{still_open}/reopen", {"reason": reason}, f"/complaints/{still_open}")
        assert answer.status_code == 303
        assert "still open" in http.get(answer.headers["Location"]).get_data(as_text=True)
    with app.app_context(), bound(shop["business"].id), app.test_request_context():
        from pymes.accounts.models import User

        case = db.session.get(Complaint, still_open)
        with pytest.raises(services.NotClosed):  # the service refuses it too, not only the page
            services.reopen(case, db.session.get(User, eva.id), "otra vez")
    with app.app_context(), bound(shop["business"].id):
        assert len(db.session.execute(select(Complaint)).scalars().all()) == 2


def test_changing_a_resolved_case_explains_how_to_reopen_it(app, shop, eva):
    case_id, http, base = _resolved(app, shop, eva)
    answer = post(http, f"{base}/severity", {"severity": "urgent"}, base)
    page = http.get(answer.headers["Location"]).get_data(as_text=True)
    assert "stays closed" in page and "“The problem is back”" in page
    with app.app_context(), bound(shop["business"].id):
        assert db.session.get(Complaint, case_id).severity == "normal"


# --- escalation: managers told in the app, once ----------------------------------------------------

def test_managers_are_notified_in_the_app_once_when_a_case_goes_late(app, shop, outbox):
    case_id = open_case(app, shop)
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == case_id).values(
            ack_due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with app.app_context():
        jobs.escalate_breaches()
        jobs.escalate_breaches()
    with app.app_context(), bound(shop["business"].id):
        db.session.execute(update(Complaint).where(Complaint.id == case_id).values(
            resolve_due_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    with app.app_context():
        assert jobs.escalate_breaches() == 1  # the resolve target still e-mails
    with app.app_context(), bound(shop["business"].id):
        notes = db.session.execute(select(Notification).order_by(Notification.user_id)).scalars().all()
        managers = sorted([shop["owner"].id, shop["manager"].id])  # the seller and service staff: not told
        assert [n.user_id for n in notes] == managers
        assert all(n.kind == "complaint_late" and n.url == f"/complaints/{case_id}" for n in notes)
        assert notes[0].params["client"] == "Jorge Muñoz"
