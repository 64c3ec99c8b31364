"""Issue 6's journey in the browser: a detractor's answer becomes a complaint; the
service user acknowledges it, records a replacement, watches the economics follow the
typed cost, tells the client and resolves it; a follow-up feedback link is scheduled."""
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.complaints.models import Complaint
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.sales.models import Sale
from pymes.tenancy import bound
from tests.factories import santiago_today

from ..factories import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()


@pytest.mark.parametrize("width", [1280, 390])
def test_detractor_to_resolved_complaint(browser, live_server, app, make, shoot, monkeypatch, width):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    business, _owner, _manager, seller = make.team("Bicicletas Ruta")
    service = make.user(business, "service", name="Paula Servicio")
    today = santiago_today()
    with app.app_context(), bound(business.id):
        client = Client(name="Tomás Fuentes", seller_id=seller.id, email="tomas@example.com",
                        whatsapp="+56987654321", preferred_channel="whatsapp")
        db.session.add(client)
        db.session.flush()
        for back in range(12):  # 100.000 a month with 30.000 margin
            month = (today.month - 1 - back) % 12 + 1
            year = today.year + (today.month - 1 - back) // 12
            db.session.add(Sale(client_id=client.id, seller_id=seller.id, sold_on=date(year, month, 1),
                                description="Mantención", amount=100_000, margin=30_000))
        db.session.commit()
        secret = feedback.create_link(client, None, sent_by="email")
    prefix = f"complaint-{width}"

    # The client answers 2/10 on the public page, in Spanish, without logging in.
    customer = browser.new_context(locale="es-CL", viewport={"width": width, "height": 900})
    page = customer.new_page()
    page.goto(f"{live_server}/f/{secret}")
    page.locator("label.score", has_text="2").first.click()
    page.fill("#comment", "La bicicleta llegó con el freno suelto")
    page.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Gracias")
    customer.close()
    with app.app_context(), bound(business.id):
        case = db.session.execute(select(Complaint)).scalars().one()
        assert case.source == "feedback" and case.score_before == 2
        case_id = case.id

    staff = browser.new_context(locale="es-CL", viewport={"width": width, "height": 900})
    page = staff.new_page()
    log_in(page, live_server, service.email)
    page.goto(f"{live_server}/complaints")
    row = page.locator(f"a[href='/complaints/{case_id}']").first
    expect(row).to_be_visible()
    expect(page.get_by_test_id("age").first).not_to_be_empty()  # how long the client has been waiting
    shoot(page, prefix, "board")
    row.click()
    expect(page.locator("main")).to_contain_text("La bicicleta llegó con el freno suelto")
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("status")).to_contain_text("Recibido")

    page.select_option("#remedy", "replacement")
    page.fill("#remedy_cost", "40.000")
    # 360.000 a year at stake; a 40.000 replacement minus no sale margin: 320.000 kept
    expect(page.get_by_test_id("kept")).to_contain_text("320.000")
    page.fill("#remedy_cost", "-5")
    expect(page.get_by_test_id("economics")).to_contain_text("negativo")
    page.fill("#remedy_cost", "40.000")
    expect(page.get_by_test_id("kept")).to_contain_text("320.000")
    # replacing him: five times a month of his margin (30.000), whatever the remedy costs
    expect(page.get_by_test_id("replacement")).to_contain_text("150.000")
    shoot(page, prefix, "economics")
    page.get_by_test_id("save-remedy").click()
    expect(page.get_by_test_id("remedy")).to_contain_text("40.000")
    expect(page.get_by_test_id("client-message")).to_contain_text("Tomás")
    expect(page.locator("a[href^='https://wa.me/56987654321']")).to_be_visible()
    page.locator("#tell button[type=submit]").click()
    page.get_by_test_id("resolve").click()
    expect(page.get_by_test_id("status")).to_contain_text("Resuelto")
    expect(page.get_by_test_id("followup")).to_be_visible()
    expect(page.get_by_test_id("history")).to_contain_text("Paula Servicio")
    expect(page.get_by_test_id("history")).to_contain_text("$40.000")  # the remedy's cost, formatted
    shoot(page, prefix, "resolved")

    staff.close()
    with app.app_context(), bound(business.id):
        case = db.session.get(Complaint, case_id)
        assert case.status == "resolved" and case.followup_on > today and case.value_kept == 320_000
