"""Issue 17: a newcomer's ``./scripts/run`` shows a living business on the first screen.
The demo (pymes/demo.py) is loaded, the owner logs in on a 390-px phone, and home,
clients and dashboard show its life — work for today, a late complaint, clients on every
rung, a real NPS — with no sideways scrolling; the screenshots land in
test-artifacts/screenshots/demo-390-*.png. On the client list the quick add (point 10)
is used as a shop owner would: a typo in the phone first, then the client."""
import re

import pytest
from playwright.sync_api import expect

from pymes.cli import DEMO_EMAIL, DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390-px phone"


def test_a_newcomer_sees_a_living_shop_on_a_phone(browser, live_server, app, shoot):
    from pymes.demo import build

    with app.app_context():
        assert build(echo=lambda *a: None)["created"]
    context = browser.new_context(locale="es-CL", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", DEMO_EMAIL)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()

    # home, "Tu día": today's visits and calls, an open complaint that is late, the ladder
    day = page.get_by_test_id("my-day")
    expect(day).to_contain_text(re.compile(r"[1-9]\d* (visita|visitas y llamadas) hoy"))
    expect(day.locator("li a").first).to_be_visible()
    expect(page.get_by_test_id("home-complaints")).to_contain_text("2 reclamos abiertos")
    expect(page.get_by_test_id("home-complaints")).to_contain_text("1 atrasado")
    loyalty = page.get_by_test_id("loyalty")
    for rung in ("Cliente incondicional (apóstol)", "Cliente frecuente", "Cliente esporádico", "Comprador"):
        expect(loyalty).to_contain_text(re.compile(re.escape(rung) + r": [1-9]"))
    shoot(page, "demo-390", "home")
    _no_sideways_scroll(page)

    # the client list: rows with their rung, on every rung
    page.goto(live_server + "/clients")
    rows = page.locator("#client-rows tr")
    expect(rows).to_have_count(50)  # the first page of about sixty
    for tier in ("apostle", "frequent", "sporadic", "buyer"):
        expect(page.locator(f"#client-rows .badge.tier-{tier}").first).to_be_visible()
    expect(page.locator("#client-list")).to_contain_text(re.compile(r"\d{2} clientes"))
    shoot(page, "demo-390", "clients")
    _no_sideways_scroll(page)

    # the quick add: an impossible phone comes back beside the field, then the client joins the list
    quick = page.get_by_test_id("quick-add")
    quick.locator("summary").click()
    quick.get_by_label("Nombre").fill("Ignacio Cañas Ríos")
    quick.get_by_label("Teléfono").fill("12")
    quick.get_by_role("button", name="Agregar").click()
    expect(quick.locator("#phone-error")).to_be_visible()
    expect(quick.get_by_label("Nombre")).to_have_value("Ignacio Cañas Ríos")
    quick.get_by_label("Teléfono").fill("9 6123 4567")
    quick.get_by_role("button", name="Agregar").click()
    expect(rows.first).to_contain_text("Ignacio Cañas Ríos")
    expect(page.locator("#flashes")).to_contain_text("Ignacio Cañas Ríos")
    expect(quick.get_by_label("Nombre")).to_have_value("")
    shoot(page, "demo-390", "quick-add")
    _no_sideways_scroll(page)

    # the dashboard: a real NPS, follow-up on time, complaints recovered, referrals converted
    page.goto(live_server + "/dashboard")
    expect(page.get_by_test_id("fig-nps").locator("strong")).to_have_text(re.compile(r"^-?\d+$"))
    expect(page.get_by_test_id("fig-followup")).to_contain_text("%")
    expect(page.get_by_test_id("fig-referrals")).to_contain_text(re.compile(r"[1-9]\d* → [1-9]"))
    expect(page.get_by_test_id("chart-nps").locator("canvas[data-drawn]")).to_have_count(1)
    shoot(page, "demo-390", "dashboard")
    _no_sideways_scroll(page)

    # the late complaint and what keeping the client is worth
    page.goto(live_server + "/complaints?show=breached")
    page.locator("main table a[href*='/complaints/']").first.click()
    expect(page.locator("main")).to_contain_text("atrasado")
    expect(page.locator(".economics")).to_contain_text("$")
    shoot(page, "demo-390", "late-complaint")
    _no_sideways_scroll(page)
    context.close()
