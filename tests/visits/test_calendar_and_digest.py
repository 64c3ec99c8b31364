"""The private iCal feed and the daily digest."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from pymes.accounts.models import Token
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import Factory, csrf_token, login


def today(zone="America/Santiago"):
    return datetime.now(ZoneInfo(zone)).date()


def plan(app, business, seller, name, days=0, preferred_time=None, status="planned"):
    make = Factory(app)
    c = make.client(business, name, seller_id=seller.id, phone="+56987654321", preferred_time=preferred_time,
                    address="Av. Siempre Viva 123")
    return make.visit(business, c, purpose="delivery", due_on=today(business.timezone) + timedelta(days=days),
                      status=status).id


def feed_url(app, user):
    http = app.test_client()
    login(http, user.email)
    page = http.post("/agenda/calendar", data={"csrf_token": csrf_token(http, "/agenda")})
    assert page.headers["Cache-Control"] == "no-store"
    url = re.search(r'data-testid="calendar-url"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*data-testid="calendar-url"',
                    page.get_data(as_text=True))
    link = url.group(1) or url.group(2)
    return http, link.removeprefix(app.config["BASE_URL"])


def test_feed_parses_and_holds_only_this_sellers_items(app, make):
    business, owner, manager, seller = make.team()
    plan(app, business, seller, "Cliente de Marta", days=1, preferred_time="morning")
    plan(app, business, seller, "Todo el día", days=2)
    plan(app, business, manager, "Cliente del gerente", days=1)
    other, other_owner, _m, other_seller = make.team("CANARYFEED")
    plan(app, other, other_seller, "CANARYFEED cliente", days=1)
    _http, path = feed_url(app, seller)
    response = app.test_client().get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    events = [c for c in cal.walk("VEVENT")]
    summaries = sorted(str(e["summary"]) for e in events)
    assert len(events) == 2 and all("Cliente de Marta" in s or "Todo el día" in s for s in summaries)
    timed = next(e for e in events if "Marta" in str(e["summary"]))
    start = timed.decoded("dtstart")
    assert start.hour == 9 and str(start.tzinfo) == "America/Santiago"
    assert b"CANARYFEED" not in response.data and b"gerente" not in response.data


def test_a_new_link_retires_the_old_and_revoking_stops_it(app, make):
    business, _o, _m, seller = make.team()
    http, first = feed_url(app, seller)
    _again, second = feed_url(app, seller)
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    http.post("/agenda/calendar/revoke", data={"csrf_token": csrf_token(http, "/agenda")})
    assert anonymous.get(second).status_code == 404
    with app.app_context():
        secret = second.rsplit("/", 1)[1].removesuffix(".ics")
        assert secret not in {t for t in db.session.execute(select(Token.token_hash)).scalars()}


def test_wrong_tokens_are_identical_404s(app, client):
    def body(n):
        response = client.get(f"/calendar/{'x' * n}.ics")
        assert response.status_code == 404
        return re.sub(r'"[\w.-]{40,}"', '"csrf"', response.get_data(as_text=True))  # the session's CSRF token

    assert len({body(n) for n in (10, 43, 60)}) == 1


def test_digest_once_a_day_in_the_sellers_language(app, make, outbox):
    business, owner, manager, seller = make.team()
    with app.app_context(), bound(business.id):
        from pymes.accounts.models import User

        db.session.get(User, seller.id).language = "en"
        db.session.commit()
    plan(app, business, seller, "Para hoy", days=0)
    plan(app, business, seller, "Atrasado", days=-3)
    plan(app, business, manager, "Solo mañana", days=1)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["pymes", "send-digests"])
    assert first.exit_code == 0 and "1 digests sent" in first.output, first.output
    second = runner.invoke(args=["pymes", "send-digests"])
    assert "0 digests sent" in second.output
    messages = [m for m in outbox.messages() if m["X-Pymes-Template"] == "digest"]
    assert [m["To"] for m in messages] == [seller.email]
    body = messages[0].get_body().get_content()
    assert "Para hoy" in body and "Atrasado" in body and "Solo mañana" not in body
    assert "Today" in body and "Overdue" in body  # the seller reads English


# 23:30 UTC on 1 December 2026: 20:30 of the 1st in Santiago (UTC-3), 00:30 of the 2nd in Madrid (UTC+1).
SPLIT = datetime(2026, 12, 1, 23, 30, tzinfo=ZoneInfo("UTC"))
FIRST, SECOND = SPLIT.date(), SPLIT.date() + timedelta(days=1)


def plan_on(app, business, seller, name, due):
    make = Factory(app)
    make.call(business, make.client(business, name, seller_id=seller.id), purpose="follow_up", due_on=due)


def digests(app, outbox, now):
    from pymes.visits.digest import send_digests

    before = len(outbox.messages())
    with app.app_context():
        sent = send_digests(now=now)
    new = [m for m in outbox.messages()[before:] if m["X-Pymes-Template"] == "digest"]
    assert sent == len(new)
    return {m["To"]: m.get_body().get_content() for m in new}


def test_digest_day_follows_each_business_s_zone(app, make, outbox):
    """At one instant Santiago is still on the 1st and Madrid already on the 2nd:
    each seller gets their own day's items, and what is tomorrow for them waits."""
    santiago = make.business("Santiago", timezone="America/Santiago")
    madrid = make.business("Madrid", timezone="Europe/Madrid", country="ES", currency="EUR")
    s_seller = make.user(santiago, "seller")
    m_seller = make.user(madrid, "seller")
    plan_on(app, santiago, s_seller, "Hoy en Santiago", FIRST)
    plan_on(app, santiago, s_seller, "Mañana en Santiago", SECOND)
    plan_on(app, madrid, m_seller, "Hoy en Madrid", SECOND)
    bodies = digests(app, outbox, SPLIT)
    assert "Hoy en Santiago" in bodies[s_seller.email] and "Mañana en Santiago" not in bodies[s_seller.email]
    assert "Hoy en Madrid" in bodies[m_seller.email]


def test_digest_follows_the_seller_s_own_zone_once_per_seller_and_day(app, make, outbox):
    """A seller in Madrid working for a Santiago business gets the digest of their own day."""
    business = make.business("Santiago", timezone="America/Santiago")
    travelling = make.user(business, "seller", timezone="Europe/Madrid")
    at_home = make.user(business, "seller")  # no zone of their own: the business's
    for seller in (travelling, at_home):
        plan_on(app, business, seller, f"Primero {seller.id}", FIRST)
        plan_on(app, business, seller, f"Segundo {seller.id}", SECOND)
    bodies = digests(app, outbox, SPLIT)
    assert f"Segundo {travelling.id}" in bodies[travelling.email]
    assert "Hoy" in bodies[travelling.email] and f"Primero {travelling.id}" in bodies[travelling.email]  # overdue
    assert f"Primero {at_home.id}" in bodies[at_home.email] and f"Segundo {at_home.id}" not in bodies[at_home.email]
    assert digests(app, outbox, SPLIT + timedelta(minutes=20)) == {}  # same day for both: nothing again
    # Four hours later it is the 2nd in Santiago too: only the seller at home has a new day.
    assert list(digests(app, outbox, SPLIT + timedelta(hours=4))) == [at_home.email]


def test_a_business_scheduled_for_deletion_gets_no_more_digests(app, make, outbox):
    """During the deletion's grace period the team hears nothing more from us; the
    business next door still gets its digest."""
    from pymes.accounts.models import Business
    from pymes.db import utcnow
    from pymes.extensions import db

    leaving = make.business("Se Va", timezone="America/Santiago")
    staying = make.business("Se Queda", timezone="America/Santiago")
    gone, kept = make.user(leaving, "seller"), make.user(staying, "seller")
    plan_on(app, leaving, gone, "Cliente del que se va", FIRST)
    plan_on(app, staying, kept, "Cliente del que se queda", FIRST)
    with app.app_context():
        db.session.get(Business, leaving.id).deletion_requested_at = utcnow()
        db.session.commit()
    bodies = digests(app, outbox, SPLIT)
    assert kept.email in bodies and gone.email not in bodies
