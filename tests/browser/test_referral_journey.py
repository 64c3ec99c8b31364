"""Issue 7's journey as the issue words it: a promoter's answer with a testimonial and two
referrals; one referred friend buys (the seller records the sale) and the referral converts
by itself; the referrer's tier reason changes (a frequent client becomes an apostle); the
export holds both rows; the wall shows the testimonial once a manager approved it."""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.clients.services import refresh_client
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound
from tests.factories import santiago_today

from ..factories import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def log_in(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()


def test_promoter_refers_two_friends_one_buys_and_the_circle_closes(browser, live_server, app, make, shoot,
                                                                     monkeypatch):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    business, _owner, manager, seller = make.team("Ferretería Los Andes")
    with app.app_context(), bound(business.id):
        # A frequent client: four purchases a month apart, the last one ten days ago.
        ana = Client(name="Ana Fuentes Rojas", seller_id=seller.id, email="ana@example.com")
        db.session.add(ana)
        db.session.flush()
        for k in range(4):
            db.session.add(Sale(client_id=ana.id, seller_id=seller.id, description="Pintura",
                                sold_on=santiago_today() - timedelta(days=10 + 30 * k), amount=50_000))
        db.session.flush()
        refresh_client(ana)
        db.session.commit()
        ana_id = ana.id
        secret = feedback.create_link(ana, None)

    # Ana, on her phone: a 10, a testimonial she lets the business publish, two friends.
    customer = browser.new_context(locale="es-CL", viewport=PHONE)
    page = customer.new_page()
    page.goto(f"{live_server}/f/{secret}")
    page.locator("label.score", has_text="10").first.click()
    page.locator("form button[type=submit]").first.click()
    form = page.get_by_test_id("share-form")
    form.locator("#testimonial").fill("Me asesoraron con la pintura de toda la casa")
    form.locator("input[name=name_display][value=first]").check()
    form.locator("input[name=may_publish]").check()
    form.locator("input[name=friend_name_0]").fill("Carla Muñoz")
    form.locator("input[name=friend_contact_0]").fill("9 8765 4311")
    form.locator("input[name=friend_name_1]").fill("Jorge Peña")
    form.locator("input[name=friend_contact_1]").fill("jorge.pena@example.com")
    form.locator("input[name=friend_consent]").check()
    shoot(page, "referrals-journey", "promoter-shares")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("shared")).to_be_visible()
    customer.close()

    # The seller: Ana is frequent and one converted referral away from apostle.
    staff = browser.new_context(locale="es-CL")
    page = staff.new_page()
    log_in(page, live_server, seller.email)
    page.goto(f"{live_server}/clients/{ana_id}")
    expect(page.get_by_test_id("tier")).to_contain_text("Cliente frecuente")
    expect(page.get_by_test_id("tier-reason")).to_contain_text("1 referido que se haga cliente")
    before = page.get_by_test_id("tier-reason").inner_text()

    # The referrals list: both friends, new, in the seller's hands.
    page.goto(f"{live_server}/referrals")
    rows = page.get_by_test_id("referral")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("referrals")).to_contain_text("Carla Muñoz")
    expect(page.get_by_test_id("referrals")).to_contain_text("Jorge Peña")
    shoot(page, "referrals-journey", "list-new")

    # Carla buys: the seller records her first sale from her page.
    page.get_by_role("link", name="Carla Muñoz").click()
    page.fill("#sold_on", santiago_today().isoformat())
    page.fill("#description", "Taladro percutor")
    page.fill("#amount", "89.990")
    page.locator("#sale-form button[type=submit]").click()
    expect(page.locator("#flashes")).to_contain_text("Venta registrada")

    # The referral converted by itself; Ana's reason now counts it and she is an apostle.
    page.goto(f"{live_server}/referrals")
    carla_row = page.get_by_test_id("referral").filter(has_text="Carla Muñoz")
    expect(carla_row.locator("select[name=status]")).to_have_value("converted")
    jorge_row = page.get_by_test_id("referral").filter(has_text="Jorge Peña")
    expect(jorge_row.locator("select[name=status]")).to_have_value("new")
    # The seller moves Jorge along inline (htmx): he answered the call.
    jorge_row.locator("select[name=status]").select_option("contacted")
    expect(page.get_by_test_id("referral").filter(has_text="Jorge Peña").locator("select[name=status]")
           ).to_have_value("contacted")
    shoot(page, "referrals-journey", "list-converted")
    with app.app_context(), bound(business.id):
        assert db.session.query(Referral).filter_by(status="contacted").count() == 1   # saved, not just shown

    page.goto(f"{live_server}/clients/{ana_id}")
    expect(page.get_by_test_id("tier")).to_contain_text("Cliente incondicional")
    expect(page.get_by_test_id("tier-reason")).to_contain_text("1 referido que ya es cliente")
    assert page.get_by_test_id("tier-reason").inner_text() != before
    shoot(page, "referrals-journey", "referrer-apostle")

    # The export: both rows, accents intact, Carla's sale beside her.
    page.goto(f"{live_server}/referrals")
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.reader(io.StringIO(text), delimiter=";" if text.count(";") > text.count(",") else ","))
    body = exported[1:]
    assert sorted(r[2] for r in body) == ["Carla Muñoz", "Jorge Peña"]
    assert all(r[1] == "Ana Fuentes Rojas" for r in body)
    carla = next(r for r in body if r[2] == "Carla Muñoz")
    assert "89" in carla[-1] and carla[5] != next(r for r in body if r[2] == "Jorge Peña")[5]
    staff.close()

    # The manager approves the testimonial; the public wall shows it, first name only.
    staff = browser.new_context(locale="es-CL")
    page = staff.new_page()
    log_in(page, live_server, manager.email)
    page.goto(f"{live_server}/testimonials")
    row = page.get_by_test_id("testimonial").first
    expect(row).to_contain_text("Me asesoraron con la pintura")
    row.get_by_test_id("approve").click()
    expect(page.get_by_test_id("testimonial").first).to_have_attribute("data-status", "approved")
    wall_url = page.get_by_test_id("wall-url").input_value()
    page.goto(wall_url)
    quote = page.get_by_test_id("wall-testimonial")
    expect(quote).to_have_count(1)
    expect(quote).to_contain_text("Me asesoraron con la pintura de toda la casa")
    expect(quote.locator("figcaption")).to_have_text("— Ana")
    shoot(page, "referrals-journey", "wall")
    staff.close()
