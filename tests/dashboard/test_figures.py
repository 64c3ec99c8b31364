"""Issue 9: each figure on a small hand-made data set, the expected number worked out
by hand here."""
import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pymes.clients.models import Client, TierChange
from pymes.dashboard import figures, services
from pymes.dashboard.figures import Filters
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound
from tests.factories import santiago_today

from ..factories import login

SANTIAGO = ZoneInfo("America/Santiago")
TODAY = date(2026, 11, 25)


def answer(client_id, score, when):
    link = FeedbackLink(client_id=client_id, expires_at=when + timedelta(days=30))
    db.session.add(link)
    db.session.flush()
    db.session.add(FeedbackResponse(link_id=link.id, client_id=client_id, score=score, created_at=when))


def test_months_are_the_last_twelve_oldest_first():
    firsts = services.months(TODAY)
    assert firsts[0] == date(2025, 12, 1) and firsts[-1] == date(2026, 11, 1) and len(firsts) == 12


def test_nps_per_month_in_the_business_calendar(app, make):
    business, *_ = make.team()
    with app.app_context(), bound(business.id):
        c = Client(name="Uno")
        db.session.add(c)
        db.session.flush()
        # November: 10, 9, 3, 7 → 2 promoters, 1 detractor of 4 → NPS 25
        for score, day in ((10, 3), (9, 10), (3, 11), (7, 20)):
            answer(c.id, score, datetime(2026, 11, day, 15, tzinfo=UTC))
        # 1 Nov 01:00 UTC is still 31 October in Santiago (UTC-3): October's, a detractor → NPS -100
        answer(c.id, 2, datetime(2026, 11, 1, 1, tzinfo=UTC))
        db.session.commit()
        trend = {m.month: m for m in figures.nps_trend(TODAY, SANTIAGO, Filters())}
    assert trend[date(2026, 11, 1)].nps == 25 and trend[date(2026, 11, 1)].answers == 4
    assert trend[date(2026, 10, 1)].nps == -100
    assert trend[date(2026, 9, 1)].nps is None


def test_repeat_rate_tier_moves_and_referrals(app, make):
    business, *_ = make.team()
    with app.app_context(), bound(business.id):
        a, b, c = Client(name="A"), Client(name="B"), Client(name="C")
        db.session.add_all([a, b, c])
        db.session.flush()
        # A bought 3 times this year, B once, C once (its other sale is two years old): 1 repeat of 3 buyers
        for client, day in ((a, TODAY - timedelta(days=5)), (a, TODAY - timedelta(days=50)),
                            (a, TODAY - timedelta(days=100)), (b, TODAY - timedelta(days=10)),
                            (c, TODAY - timedelta(days=20)), (c, TODAY - timedelta(days=800))):
            db.session.add(Sale(client_id=client.id, sold_on=day, description="x", amount=1000))
        # tier history this month: A up (sporadic → frequent), B down (frequent → buyer), C up twice (counted once)
        now = datetime(2026, 11, 20, 12, tzinfo=UTC)
        for client, old, new in ((a, "sporadic", "frequent"), (b, "frequent", "buyer"), (c, "buyer", "sporadic"),
                                 (c, "sporadic", "frequent")):
            db.session.add(TierChange(client_id=client.id, old_tier=old, new_tier=new, source="computed",
                                      created_at=now))
        db.session.add(TierChange(client_id=b.id, old_tier="buyer", new_tier="apostle", source="computed",
                                  created_at=datetime(2026, 10, 2, tzinfo=UTC)))  # last month: not counted
        # referrals: A referred B (converted) and C (new); B's sales are referred revenue (1,000)
        b.referred_by_id = a.id
        db.session.flush()
        db.session.add_all([
            Referral(referrer_id=a.id, prospect_id=b.id, name="B", email="b@example.com", status="converted"),
            Referral(referrer_id=a.id, prospect_id=c.id, name="C", email="c@example.com")])
        db.session.commit()
        assert figures.repeat_rate(TODAY, Filters()) == (1, 3)
        assert figures.tier_moves(TODAY, SANTIAGO, Filters()) == (2, 1)
        refs = figures.referrals(santiago_today(), SANTIAGO, Filters())
        assert (refs.made, refs.converted) == (2, 1)
        assert figures.referrals(TODAY, SANTIAGO, Filters()).revenue == 1000


def test_the_dashboard_page_and_its_lazy_charts(app, make):
    business, owner, _manager, seller = make.team()
    with app.app_context(), bound(business.id):
        c = Client(name="Uno", tier="frequent", kind="client")
        db.session.add(c)
        db.session.flush()
        answer(c.id, 10, utcnow())
        db.session.add(Sale(client_id=c.id, sold_on=santiago_today(), description="x", amount=5000))
        db.session.commit()
    http = app.test_client()
    login(http, owner.email)
    page = http.get("/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="fig-nps"><small>NPS</small>\s*<strong>100</strong>', page)
    assert 'hx-get="/dashboard/charts/nps"' in page and 'hx-trigger="load"' in page
    assert re.search(r'data-testid="fig-key">.*?<strong>100\s*%</strong>', page, re.S)  # one client, all sales
    fragment = http.get("/dashboard/charts/tiers", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "<table>" in fragment
    config = json.loads(re.search(r'data-chart="([^"]+)"', fragment).group(1).replace("&#34;", '"')
                        .replace("&quot;", '"'))
    assert config["data"]["datasets"][0]["data"] == [0, 0, 1, 0]
    seller_http = app.test_client()
    login(seller_http, seller.email)
    # issue 9: a seller sees the dashboard of their own clients (test_filters.py), not the team's funnel
    assert seller_http.get("/dashboard").status_code == 200
    assert seller_http.get("/dashboard/funnel").status_code == 403


def test_the_virtuous_circle_step_by_step(app, make):
    from pymes.referrals.models import Testimonial
    from pymes.territories.models import Territory
    from pymes.visits.models import Activity

    business, owner, _manager, seller = make.team()
    other = make.user(business, "seller", name="Otra Vendedora")
    now = utcnow()
    today = santiago_today()
    with app.app_context(), bound(business.id):
        north = Territory(name="Norte")
        db.session.add(north)
        db.session.flush()
        a = Client(name="A", seller_id=seller.id, territory_id=north.id)
        b = Client(name="B", seller_id=other.id)
        db.session.add_all([a, b])
        db.session.flush()
        friend = Client(name="Amiga", seller_id=seller.id, referred_by_id=a.id, kind="client")
        db.session.add(friend)
        db.session.flush()
        # 3 sales in the period (2 of A, 1 of the referred friend for 7,000), one too old
        sales = [Sale(client_id=client.id, sold_on=today - timedelta(days=back), description="x", amount=amount)
                 for client, amount, back in ((a, 1000, 1), (a, 2000, 5), (friend, 7000, 2), (b, 500, 200))]
        db.session.add_all(sales)
        db.session.flush()
        db.session.add_all([
            Activity(client_id=a.id, seller_id=seller.id, kind="visit", purpose="delivery", due_on=today,
                     status="done", done_at=now, sale_id=sales[0].id),
            Activity(client_id=b.id, seller_id=other.id, kind="call", purpose="follow_up", due_on=today,
                     status="planned")])
        answer(a.id, 10, now)
        answer(b.id, 5, now)
        db.session.add(Testimonial(client_id=a.id, text="Muy bien", consent_at=now))
        db.session.add(Referral(referrer_id=a.id, prospect_id=friend.id, name="Amiga", email="amiga@example.com",
                                status="converted", converted_at=now))
        db.session.commit()
        total = services.funnel(today, 90, SANTIAGO)[None]
        by_seller = services.funnel(today, 90, SANTIAGO, Client.seller_id)
    # sales, contacts, answers, promoters, testimonials, referrals, converted, referred revenue
    assert total == [3, 1, 2, 1, 1, 1, 1, 7000]
    assert by_seller[seller.id] == [3, 1, 1, 1, 1, 1, 1, 7000]
    assert by_seller[other.id] == [0, 0, 1, 0, 0, 0, 0, 0]
    http = app.test_client()
    login(http, owner.email)
    page = http.get("/dashboard/funnel?days=90").get_data(as_text=True)
    assert re.search(r'data-testid="step-referred_revenue"><strong>\$7\.000</strong>', page)
    assert 'data-testid="funnel-by-territory"' in page and "Norte" in page
