"""Issue 18, point 3 and 4, on a 390-px phone in Chromium: the seller logs the delivery
visit as very satisfied and, right under it, asks for referrals (a refused form keeps
what was typed), shows the client's referral QR full screen, then hands the phone to the
client, who answers the feedback page in kiosk mode; afterwards nobody holding the phone
can get back into the app, not by the back button nor by typing an address. The manager
then sees the good news on "Your day" and the referrals per delivery visit on the
funnel."""
import re

import pytest
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import PASSWORD, santiago_today

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def log_in(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.get_by_test_id("business-name")).to_be_visible()


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def nothing_of_the_app(page):
    """What a stranger holding the phone may see: no app header, none of the book."""
    expect(page.get_by_test_id("business-name")).to_have_count(0)
    html = page.content()
    for private in ("Rosa Díaz", "Bruno Soto", "Carla Peña", "+56987654321", "Sofá de tres cuerpos", "Agenda"):
        assert private not in html, private


def test_a_satisfied_delivery_gives_two_referrals_and_a_kiosk_answer(browser, live_server, app, make, shoot,
                                                                       monkeypatch):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)  # the customer in a test answers fast
    business, _owner, manager, seller = make.team("Muebles Sur")
    with app.app_context(), bound(business.id):
        rosa = Client(name="Rosa Díaz", seller_id=seller.id, phone="+56987654321", email="rosa@example.com")
        db.session.add(rosa)
        db.session.flush()
        sale = Sale(client_id=rosa.id, seller_id=seller.id, sold_on=santiago_today(),
                    description="Sofá de tres cuerpos", amount=450000)
        db.session.add(sale)
        db.session.flush()
        db.session.add(Activity(client_id=rosa.id, sale_id=sale.id, seller_id=seller.id, kind="visit",
                                purpose="delivery", due_on=santiago_today()))
        db.session.commit()
    prefix = "delivery-moment-390"
    context = browser.new_context(locale="es-CL", viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, seller.email)

    # the delivery, logged as very satisfied: the three offers appear under the item
    page.goto(live_server + "/agenda")
    item = page.get_by_test_id("activity").filter(has_text="Rosa Díaz").first
    item.locator("summary").click()
    item.locator("select[name=status]").select_option("done")
    item.locator("select[name=satisfaction]").select_option("5")
    item.locator("details form button[type=submit]").click()
    moment = page.get_by_test_id("delivery-moment")
    expect(moment).to_contain_text("Rosa quedó conforme: el mejor momento para pedir referidos")
    expect(page.locator("#flashes")).to_contain_text("Rosa Díaz")
    no_sideways_scroll(page)
    moment.scroll_into_view_if_needed()
    shoot(page, prefix, "offered")

    # two friends, the consent forgotten: told beside the box, nothing typed is lost
    form = moment.get_by_test_id("ask-referrals")
    form.locator("input[name=friend_name_0]").fill("Bruno Soto")
    form.locator("input[name=friend_contact_0]").fill("9 8765 1111")
    form.locator("input[name=friend_name_1]").fill("Carla Peña")
    form.locator("input[name=friend_contact_1]").fill("carla@example.com")
    form.get_by_test_id("save-referrals").click()
    moment = page.get_by_test_id("delivery-moment")
    expect(moment.locator(".field-error")).to_contain_text("Solo con su consentimiento")
    expect(moment.locator("input[name=friend_name_1]")).to_have_value("Carla Peña")
    expect(moment.locator("input[name=friend_contact_0]")).to_have_value("9 8765 1111")
    no_sideways_scroll(page)
    shoot(page, prefix, "consent-missing")
    moment.locator("input[name=friend_consent]").check()
    moment.get_by_test_id("save-referrals").click()
    expect(page.get_by_test_id("delivery-message")).to_contain_text("2 referidos guardados")
    expect(page.get_by_test_id("referrals-made")).to_contain_text("Bruno Soto")
    expect(page.get_by_test_id("referrals-made")).to_contain_text("Carla Peña")
    expect(page.get_by_test_id("delivery-moment").locator("input[name=friend_name_0]")).to_have_value("")
    shoot(page, prefix, "referrals-saved")

    # the client's referral QR, full screen, then back to the visit
    page.get_by_test_id("show-qr").click()
    expect(page.get_by_test_id("referral-qr")).to_be_visible()
    expect(page.locator("nav")).to_have_count(0)
    qr_box = page.get_by_test_id("referral-qr").bounding_box()
    assert qr_box["width"] >= 300, qr_box  # big enough to scan from across a table
    no_sideways_scroll(page)
    shoot(page, prefix, "qr-full-screen")
    page.get_by_test_id("qr-done").click()
    expect(page.get_by_test_id("referrals-made")).to_contain_text("Carla Peña")
    no_sideways_scroll(page)
    shoot(page, prefix, "visit-page")

    # the kiosk: the seller is logged out before the client sees the questions
    page.get_by_test_id("kiosk").click()
    expect(page).to_have_url(re.compile(r"/f/[\w-]+\?lang=es$"))
    expect(page.locator("h1")).to_contain_text("Hola Rosa")
    nothing_of_the_app(page)
    no_sideways_scroll(page)
    shoot(page, prefix, "kiosk-questions")
    page.locator("label.score", has_text="10").click()
    page.fill("#comment", "Llegó a tiempo y el vendedor lo armó")
    page.locator("main button[type=submit]").first.click()
    expect(page.locator("h1")).to_contain_text("¡Gracias!")
    nothing_of_the_app(page)
    shoot(page, prefix, "kiosk-thanks")

    # whoever holds the phone now: back, back, back… and every app address asks for the password
    for _ in range(6):
        page.go_back()
        page.wait_for_load_state()
        nothing_of_the_app(page)
        if "/login" in page.url:
            break
    assert "/login" in page.url, page.url
    shoot(page, prefix, "kiosk-back-is-login")
    for path in ("/agenda", "/", "/referrals", "/notifications"):
        page.goto(live_server + path)
        nothing_of_the_app(page)
    page.goto(live_server + "/agenda")
    expect(page).to_have_url(re.compile(r"/login"))
    context.close()

    # the manager: good news on "Your day", a bell, and the referrals per delivery visit
    context = browser.new_context(locale="es-CL", viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, manager.email)
    news = page.get_by_test_id("home-good-news")
    expect(news.get_by_test_id("home-referrals")).to_have_text("2 nuevos referidos por contactar")
    expect(news).to_contain_text("Bruno Soto, recomendación de Rosa Díaz")
    expect(page.get_by_test_id("unread-count")).to_have_text("1")  # the batch of two, one notification
    no_sideways_scroll(page)
    shoot(page, prefix, "manager-home")
    page.goto(live_server + "/notifications")
    expect(page.locator("main")).to_contain_text("Rosa Díaz recomendó a 2 personas: Bruno Soto, Carla Peña.")
    page.goto(live_server + "/dashboard/funnel")
    section = page.get_by_test_id("delivery-asks")
    expect(section.get_by_test_id("delivery-per-visit")).to_contain_text("2,0")
    expect(section.get_by_test_id(f"delivery-seller-{seller.id}")).to_contain_text("1")
    cells = section.get_by_test_id(f"delivery-seller-{seller.id}").locator("td").all_inner_texts()
    assert cells == [seller.name, "1", "1", "1", "2", "2,0"], cells
    section.scroll_into_view_if_needed()
    no_sideways_scroll(page)
    shoot(page, prefix, "funnel")
    context.close()
