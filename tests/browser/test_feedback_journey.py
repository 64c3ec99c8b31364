"""Issue 5's journey on a phone, both ways round: one customer answers with a 3 and a
callback request (the seller then sees the notification, the complaint and the call),
another with a 10, a testimonial and two friends (the seller then sees them on the
client's page); once with the unhappy one in Spanish and the happy one in Russian, once
the other way."""

import pytest
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.tenancy import bound

from ..factories import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
SORRY = {"es-CL": "Lo sentimos", "ru-RU": "Нам очень жаль"}
PRAISE = {"es-CL": "El mejor pan de la ciudad", "ru-RU": "Лучший хлеб в городе"}


def log_in(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()


@pytest.mark.parametrize("unhappy_locale, happy_locale", [("es-CL", "ru-RU"), ("ru-RU", "es-CL")])
def test_unhappy_and_happy_customers_on_a_phone(browser, live_server, app, make, shoot, monkeypatch, unhappy_locale,
                                                happy_locale):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    shot = f"feedback-phone-{unhappy_locale[:2]}"
    business, _owner, _manager, seller = make.team("Panadería La Espiga")
    with app.app_context(), bound(business.id):
        unhappy = Client(name="Rosa Díaz", seller_id=seller.id, phone="+56987654321", email="rosa@example.com")
        happy = Client(name="Ivan Petrov", seller_id=seller.id, phone="+56911112222")
        db.session.add_all([unhappy, happy])
        db.session.commit()
        unhappy_id, happy_id = unhappy.id, happy.id
        bad_secret = feedback.create_link(unhappy, None)
        good_secret = feedback.create_link(happy, None)

    # A 3 and a callback by WhatsApp, any time (the form's default window).
    customer = browser.new_context(locale=unhappy_locale, viewport=PHONE)
    page = customer.new_page()
    page.goto(f"{live_server}/f/{bad_secret}")
    expect(page.locator("html")).to_have_attribute("lang", unhappy_locale[:2])
    expect(page.locator("h1")).to_contain_text("Rosa")
    page.locator("label.score", has_text="3").first.click()
    page.fill("#comment", "El pan llegó frío")
    page.locator("input[name=callback]").check()
    page.select_option("select[name=callback_channel]", "whatsapp")
    shoot(page, shot, "unhappy-answer")
    page.locator("form button[type=submit]").first.click()
    expect(page.locator("h1")).to_contain_text(SORRY[unhappy_locale])
    expect(page.get_by_test_id("share-form")).to_have_count(0)
    customer.close()

    # A 10, a testimonial with initials, and two friends.
    customer = browser.new_context(locale=happy_locale, viewport=PHONE)
    page = customer.new_page()
    page.goto(f"{live_server}/f/{good_secret}")
    expect(page.locator("html")).to_have_attribute("lang", happy_locale[:2])
    page.locator("label.score", has_text="10").first.click()
    page.locator("form button[type=submit]").first.click()
    form = page.get_by_test_id("share-form")
    expect(form).to_be_visible()
    form.locator("#testimonial").fill(PRAISE[happy_locale])
    form.locator("input[name=name_display][value=initials]").check()
    form.locator("input[name=may_publish]").check()
    form.locator("input[name=friend_name_0]").fill("Olga Smirnova")
    form.locator("input[name=friend_contact_0]").fill("olga@example.com")
    form.locator("input[name=friend_name_1]").fill("Pedro Soto")
    form.locator("input[name=friend_contact_1]").fill("9 8765 4320")
    form.locator("button[type=submit]").click()
    # forgot the friends' consent: told beside the box, nothing lost
    expect(page.locator("#friend_consent-error")).to_be_visible()
    expect(page.locator("input[name=friend_name_1]")).to_have_value("Pedro Soto")
    shoot(page, shot, "happy-consent-missing")
    page.locator("input[name=friend_consent]").check()
    page.get_by_test_id("share-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("shared")).to_be_visible()
    shoot(page, shot, "happy-shared")
    customer.close()

    # The seller, on a phone: told in the header, the call today, the complaint, the
    # testimonial and the friends.
    staff = browser.new_context(locale="es-CL", viewport=PHONE)
    page = staff.new_page()
    log_in(page, live_server, seller.email)
    # the complaint is theirs, the callback, and the good news: a testimonial to approve, two friends
    expect(page.get_by_test_id("unread-count")).to_have_text("4")
    page.get_by_test_id("bell").click()
    expect(page.get_by_test_id("notification")).to_have_count(4)
    expect(page.get_by_test_id("notifications")).to_contain_text("Rosa Díaz")
    shoot(page, shot, "notifications")
    page.goto(f"{live_server}/agenda")
    expect(page.get_by_test_id("today")).to_contain_text("Rosa Díaz")
    page.goto(f"{live_server}/clients/{unhappy_id}")
    expect(page.get_by_test_id("open-complaint")).to_be_visible()
    expect(page.get_by_test_id("timeline-complaint")).to_contain_text("El pan llegó frío")
    page.goto(f"{live_server}/clients/{happy_id}")
    expect(page.get_by_test_id("timeline-testimonial")).to_contain_text(PRAISE[happy_locale])
    expect(page.get_by_test_id("timeline-referral")).to_have_count(2)
    shoot(page, shot, "seller-client-page")
    page.goto(f"{live_server}/feedback")
    expect(page.get_by_test_id("answer")).to_have_count(2)
    shoot(page, shot, "inbox")
    staff.close()
