"""Issue 9 in the browser: the owner's dashboard paints its figures, then the lazy
charts arrive and are drawn (a canvas with pixels, and the table beside it)."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.clients.services import refresh_client
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound

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
                db.session.add(Sale(client_id=client.id, sold_on=date.today() - timedelta(days=30 * k + 1),
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
