"""Issue 3's journey: a territory with its seller, a client in it, two sales, and the
tier moving up with its reason — in the browser, in Spanish."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from ..factories import PASSWORD

pytestmark = pytest.mark.browser


def test_territory_client_two_sales_tier_change(browser, live_server, make, shoot):
    business, owner, _manager, seller = make.team("Ferretería Los Aromos")
    context = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    base = live_server
    page.goto(base + "/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()

    page.goto(base + "/territories/new")
    page.fill("#name", "V Región")
    page.get_by_label(seller.name).check()
    page.locator("main button[type=submit]").click()
    expect(page.locator("main")).to_contain_text(seller.name)
    shoot(page, "book", "territory")

    page.goto(base + "/clients/new")
    page.fill("#name", "Constructora Pacífico")
    page.fill("#phone", "32 234 5678")
    page.select_option("#territory_id", label="V Región")
    page.select_option("#seller_id", label=seller.name)
    page.locator("main form button[type=submit]:not([name=then])").click()
    expect(page.get_by_test_id("tier-reason")).to_contain_text("primera venta")
    expect(page.locator("a[href^='tel:+56322345678']")).to_be_visible()

    today = datetime.now(ZoneInfo("America/Santiago")).date()
    for days_ago, what in ((40, "Cemento 25 kg × 40"), (0, "Fierro 12 mm × 100")):
        if not page.locator("#sale-form").is_visible():
            page.locator("details:has(#sale-form) > summary").click()  # folded once the client has sales
        page.fill("#sold_on", (today - timedelta(days=days_ago)).isoformat())
        page.fill("#description", what)
        page.fill("#amount", "385.000")
        page.locator("#sale-form button[type=submit]").click()
        expect(page.locator("#flashes")).to_contain_text("Venta registrada")
    tier = page.get_by_test_id("tier")
    expect(tier).to_contain_text("Cliente esporádico")
    expect(page.get_by_test_id("tier-reason")).to_contain_text(re.compile("2 compras"))
    expect(page.locator("#timeline")).to_contain_text("Cemento 25 kg")
    shoot(page, "book", "client-two-sales")

    page.goto(base + "/clients?mine=0&tier=sporadic")
    expect(page.locator("#client-list")).to_contain_text("Constructora Pacífico")
    page.fill("#q", "pacíf")
    expect(page.locator("#client-list tbody tr")).to_have_count(1)
    shoot(page, "book", "list-search")
    context.close()
