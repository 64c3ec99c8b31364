"""Issue 9 in the browser: the owner's dashboard paints its figures, then the lazy
charts arrive and are drawn (a canvas with pixels, and the table beside it)."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.clients.services import refresh_client
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound
from tests.factories import santiago_today

from ..factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_the_owner_sees_figures_and_charts(browser, live_server, app, make, shoot, width):
    business, owner, _manager, seller = make.team("Ferretería Central")
    with app.app_context(), bound(business.id):
        for n in range(6):
            client = Client(name=f"Cliente {n}", seller_id=seller.id)
            db.session.add(client)
            db.session.flush()
            for k in range(n):
                db.session.add(Sale(client_id=client.id, sold_on=santiago_today() - timedelta(days=30 * k + 1),
                                    description="x", amount=10_000 * (n + 1)))
            db.session.flush()
            refresh_client(client)
        db.session.commit()
    context = browser.new_context(locale="es-CL", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.get_by_test_id("to-dashboard").click()
    expect(page.get_by_test_id("fig-repeat")).to_contain_text("%")
    for name in ("nps", "tiers"):
        chart = page.get_by_test_id(f"chart-{name}")
        expect(chart).to_be_visible()
        expect(chart.locator("canvas[data-drawn]")).to_have_count(1)
    shoot(page, f"dashboard-{width}", "owner")
    page.get_by_test_id("to-funnel").click()
    expect(page.get_by_test_id("step-sales")).to_contain_text("12")  # sales 1, 31 and 61 days ago: 1+2+3+3+3
    shoot(page, f"dashboard-{width}", "funnel")
    context.close()


CHARTS = ("nps", "responses", "tiers", "moves", "followup", "referrals")


def _seeded_business(app):
    """The seeded demo book (pymes.seed: sales, follow-up visits and calls, feedback answers
    over the last year) plus, for one seller's clients, tier moves and referrals (the seed
    has none) and a few feedback links, so that every chart of theirs has something to draw."""
    from sqlalchemy import select

    from pymes.accounts.models import User
    from pymes.clients.models import TierChange
    from pymes.db import utcnow
    from pymes.feedback.models import FeedbackLink, FeedbackResponse
    from pymes.referrals.models import Referral
    from pymes.seed import PASSWORD as SEED_PASSWORD
    from pymes.seed import seed
    from pymes.tenancy import identity_lookup

    with app.app_context():
        seed(businesses=1, clients=60, sales_per_client=2.5, echo=lambda *a: None)
        with identity_lookup():
            owner = db.session.execute(select(User).where(User.role == "owner").order_by(User.id.desc())
                                       ).scalars().first()
            business_id, owner_email = owner.tenant_id, owner.email  # read now: on PostgreSQL, row-level security
            # hides the row from a refresh after the commit below, outside this look-up
        with bound(business_id):
            busiest = db.session.execute(
                select(Client.seller_id).join(User, User.id == Client.seller_id).where(User.role == "seller")
                .group_by(Client.seller_id).order_by(db.func.count().desc()).limit(1)).scalar_one()
            seller = db.session.get(User, busiest)
            seller_email = seller.email
            mine = db.session.execute(select(Client).where(Client.seller_id == seller.id).order_by(Client.id)
                                      .limit(6)).scalars().all()
            now = utcnow()
            for i, client in enumerate(mine[:4]):
                when = now - timedelta(days=35 * i)
                db.session.add(TierChange(client_id=client.id, old_tier="buyer", new_tier="sporadic",
                                          source="computed", created_at=when))
                db.session.add(Referral(referrer_id=client.id, prospect_id=mine[5].id, name="Amiga",
                                        email=f"amiga{i}@example.com", created_at=when,
                                        status="converted" if i == 1 else "new",
                                        converted_at=when + timedelta(days=3) if i == 1 else None))
                link = FeedbackLink(client_id=client.id, expires_at=when + timedelta(days=30), created_at=when)
                db.session.add(link)
                db.session.flush()
                if i % 2 == 0:
                    db.session.add(FeedbackResponse(link_id=link.id, client_id=client.id, score=9 + i % 2,
                                                    created_at=when + timedelta(hours=1)))
            db.session.commit()
        return owner_email, seller_email, SEED_PASSWORD


@pytest.mark.parametrize("who", ["owner", "seller"])
def test_the_demo_dashboard_draws_every_chart_for_the_owner_and_a_seller(browser, live_server, app, shoot, who):
    owner, seller, password = _seeded_business(app)
    email = owner if who == "owner" else seller
    context = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main button[type=submit]").click()
    page.get_by_test_id("to-dashboard").click()
    expect(page.get_by_test_id("fig-repeat")).to_contain_text("%")
    expect(page.get_by_test_id("fig-response-rate")).to_contain_text("%")
    if who == "seller":
        expect(page.locator("select[name=seller]")).to_have_count(0)
    else:
        expect(page.locator("select[name=seller]")).to_have_count(1)
    for name in CHARTS:
        chart = page.get_by_test_id(f"chart-{name}")
        expect(chart).to_be_visible()
        canvas = chart.locator("canvas[data-drawn]")
        expect(canvas).to_have_count(1)
        assert chart.locator("tbody tr").count() >= 1, name
        # non-empty: some value of the chart is a number other than zero
        assert canvas.evaluate("c => JSON.parse(c.dataset.chart).data.datasets"
                               ".some(d => d.data.some(v => v !== null && v !== 0))"), name
        # and Chart.js drew it: the canvas has painted pixels
        assert canvas.evaluate("c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                               " for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; }"), name
    shoot(page, "dashboard-demo", who)
    page.select_option("select[name=days]", "30")
    page.get_by_test_id("apply-filters").click()
    expect(page).to_have_url(re.compile(r"days=30"))
    expect(page.get_by_test_id("chart-nps").locator("canvas[data-drawn]")).to_have_count(1)
    assert "days=30" in page.get_by_test_id("chart-nps").evaluate("() => location.search")
    shoot(page, "dashboard-demo", f"{who}-30-days")
    context.close()
