"""Issue 4's journey in the browser: record a sale, see the delivery visit in the
seller's agenda, log it as done with an opportunity, see the next contact planned from
the day it was done (not from the day it was due)."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()


def assert_no_horizontal_overflow(page, width):
    """On a phone nothing may stick out sideways (the seller would have to scroll to find it)."""
    if width <= 390:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"the page is {scroll_width}px wide on a {width}px screen"


@pytest.mark.parametrize("width", [1280, 390])
def test_sale_to_agenda_to_logged_visit(browser, live_server, app, make, shoot, width):
    business, owner, _manager, seller = make.team("Muebles Sur")
    with app.app_context(), bound(business.id):
        client = Client(name="Rosa Díaz", seller_id=seller.id, phone="+56987654321", whatsapp="+56987654321",
                        preferred_channel="whatsapp", preferred_time="morning")
        db.session.add(client)
        db.session.commit()
        client_id = client.id
    today = datetime.now(ZoneInfo("America/Santiago")).date()
    yesterday = today - timedelta(days=1)  # delivered yesterday, logged today: the next call counts from today
    next_call = format_date(today + timedelta(days=7), locale="es")  # what the page shows, as flask-babel does
    from_due_date = format_date(yesterday + timedelta(days=7), locale="es")
    context = browser.new_context(locale="es-CL", viewport={"width": width, "height": 900})
    page = context.new_page()
    prefix = f"followup-{width}"
    log_in(page, live_server, seller.email)

    page.goto(f"{live_server}/clients/{client_id}")
    page.fill("#sold_on", yesterday.isoformat())
    page.fill("#description", "Sofá de tres cuerpos")
    page.fill("#amount", "450.000")
    page.fill("#delivery_on", yesterday.isoformat())
    page.locator("#sale-form button[type=submit]").click()
    expect(page.locator("#flashes")).to_contain_text("Venta registrada")
    expect(page.get_by_test_id("tier-reason")).to_be_visible()
    shoot(page, prefix, "sale-recorded")

    page.goto(f"{live_server}/agenda")
    item = page.get_by_test_id("overdue").get_by_test_id("activity").first
    expect(item).to_contain_text("Rosa Díaz")
    expect(item.locator("a[href^='https://wa.me/56987654321']")).to_be_visible()
    expect(item.locator("a[href='tel:+56987654321']")).to_be_visible()
    shoot(page, prefix, "agenda")
    item.locator("summary").click()
    item.locator("select[name=status]").select_option("done")
    item.locator("select[name=satisfaction]").select_option("5")
    item.locator("textarea[name=notes]").fill("Quedó feliz; quiere otro sofá para la oficina")
    item.locator("input[name=opportunity]").check()
    item.locator("input[name=opportunity_what]").fill("Sofá para la oficina")
    item.locator("details form button[type=submit]").click()  # the outcome form, not the feedback link
    expect(page.locator("#flashes")).to_contain_text("Rosa Díaz")
    expect(page.locator("#flashes")).to_contain_text(next_call)  # "a call to follow it up is planned for …"
    expect(page.locator("text=Quedó feliz")).to_be_visible()
    assert_no_horizontal_overflow(page, width)
    shoot(page, prefix, "logged")

    page.goto(f"{live_server}/clients/{client_id}")
    timeline = page.locator("#timeline")
    expect(timeline.get_by_test_id("timeline-activity").first).to_be_visible()
    expect(timeline).to_contain_text(re.compile("Llamada|llamada"))
    call = timeline.get_by_test_id("timeline-activity").filter(has_text="Oportunidad: Sofá para la oficina")
    expect(call).to_have_count(1)
    expect(call).to_contain_text(next_call)
    expect(call).not_to_contain_text(from_due_date)
    assert_no_horizontal_overflow(page, width)
    shoot(page, prefix, "timeline")
    context.close()
