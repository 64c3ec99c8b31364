"""The foundation journey in a real browser, in Spanish and in English: sign up, confirm
through the outbox, invite a seller, the seller joins, logs out, logs in, logs out."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WORDS = {
    "es": {"locale": "es-CL", "country": "CL", "currency": "CLP", "logout": "Cerrar sesión", "login": "Iniciar sesión",
           "team": "Equipo"},
    "en": {"locale": "en-US", "country": "US", "currency": "USD", "logout": "Log out", "login": "Log in",
           "team": "Team"},
}


def open_mail(page, base, subject_part: str | None = None):
    """Open the newest message in the development outbox and follow its link."""
    page.goto(base + "/dev/outbox")
    page.locator("table tbody tr a").first.click()
    link = page.get_by_test_id("mail-link").first.get_attribute("href")
    page.goto(link)


def log_out(page, words):
    page.locator("details.dropdown summary").click()
    page.get_by_role("button", name=words["logout"]).click()
    expect(page.locator("html")).to_have_attribute("lang", re.compile("es|en"))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_sign_up_confirm_invite_and_join(browser, live_server, lang, shoot):
    words = WORDS[lang]
    context = browser.new_context(locale=words["locale"], viewport={"width": 1280, "height": 900})
    page = context.new_page()
    base = live_server
    business = "Ferretería Ñandú" if lang == "es" else "Hardware Corner"

    page.goto(base + "/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    shoot(page, lang, "landing")
    page.goto(base + "/signup")
    page.fill("#business_name", business)
    page.fill("#name", "Olga Owner")
    page.fill("#email", f"olga.{lang}@example.com")
    page.fill("#password", "una clave muy larga 123")
    page.select_option("#country", words["country"])
    expect(page.locator("#currency")).to_have_value(words["currency"])  # htmx swapped the defaults
    shoot(page, lang, "signup")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/check-email/signup$"))
    shoot(page, lang, "check-email")

    open_mail(page, base)
    page.locator("main button[type=submit]").click()
    expect(page.get_by_test_id("business-name")).to_have_text(business)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    shoot(page, lang, "home")

    page.get_by_role("link", name=words["team"], exact=True).click()
    page.fill("#name", "Sergio Seller")
    page.fill("#email", f"sergio.{lang}@example.com")
    page.select_option("#role", "seller")
    page.locator("#team form[hx-post$='/team/invite'] button[type=submit]").click()
    expect(page.locator("#team")).to_contain_text(f"sergio.{lang}@example.com")
    expect(page.locator("#flashes .flash-success")).to_be_visible()
    shoot(page, lang, "team-invited")
    log_out(page, words)
    shoot(page, lang, "logged-out")

    open_mail(page, base)
    page.fill("#password", "clave del vendedor 456")
    page.locator("main button[type=submit]").click()
    expect(page.get_by_test_id("business-name")).to_have_text(business)
    expect(page.get_by_role("link", name=words["team"], exact=True)).to_have_count(0)  # sellers have no team page
    shoot(page, lang, "seller-home")
    log_out(page, words)

    page.fill("#email", f"sergio.{lang}@example.com")
    page.fill("#password", "clave del vendedor 456")
    page.locator("main button[type=submit]").click()
    expect(page.get_by_test_id("business-name")).to_have_text(business)
    log_out(page, words)
    expect(page.get_by_role("heading", name=words["login"])).to_be_visible()
    context.close()


def test_rejected_sign_up_keeps_what_was_typed(browser, live_server, shoot):
    context = browser.new_context(locale="es-CL")
    page = context.new_page()
    page.goto(live_server + "/signup")
    page.fill("#business_name", "Panadería Doña Rosa")
    page.fill("#name", "Rosa")
    page.fill("#email", "rosa-sin-arroba")
    page.fill("#password", "corta")
    page.locator("main button[type=submit]").click()
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.locator("#business_name")).to_have_value("Panadería Doña Rosa")
    expect(page.locator("#name")).to_have_value("Rosa")
    expect(page.locator("#email")).to_have_value("rosa-sin-arroba")
    shoot(page, "es", "signup-errors")
    context.close()
