"""The foundation journey in a real browser, in Spanish and in English: sign up, confirm
through the development outbox, invite a seller, the seller joins, logs out, logs in,
logs out. Plus a rejected sign-up, and phone-width screenshots of the main pages.

Screenshots land in test-artifacts/screenshots/<lang>-NN-<step>.png (git-ignored)."""
import re

import pytest
from playwright.sync_api import expect

from ..factories import PASSWORD

pytestmark = pytest.mark.browser

# Per UI language: the browser locale, the country the sign-up preselects from it, the
# country chosen first to see the htmx swap, and the visible words the page must use.
WORDS = {
    "es": {
        "locale": "es-CL", "business": "Ferretería Ñandú",
        "preset": ("CL", "CLP", "America/Santiago", "es"),
        "detour": ("US", "USD", "America/New_York", "en"),
        "signup": "Crear cuenta", "login": "Iniciar sesión", "logout": "Cerrar sesión", "team": "Equipo",
        "team_heading": "Tu equipo", "invited": "Invitación enviada a", "check_email": "Revisa tu correo",
        "welcome": "Te damos la bienvenida",
    },
    "en": {
        "locale": "en-US", "business": "Hardware Corner",
        "preset": ("US", "USD", "America/New_York", "en"),
        "detour": ("CL", "CLP", "America/Santiago", "es"),
        "signup": "Create an account", "login": "Log in", "logout": "Log out", "team": "Team",
        "team_heading": "Your team", "invited": "Invitation sent to", "check_email": "Check your e-mail",
        "welcome": "Welcome to",
    },
}


def expect_language(page, lang: str, phrase_locator) -> None:
    """The page says it is in ``lang`` (<html lang>) and shows a phrase in that language."""
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(phrase_locator).to_be_visible()


def expect_locale_fields(page, country, currency, timezone, language) -> None:
    expect(page.locator("#country")).to_have_value(country)
    expect(page.locator("#currency")).to_have_value(currency)
    expect(page.locator("#timezone")).to_have_value(timezone)
    expect(page.locator("#language")).to_have_value(language)


class SoftChecks:
    """Checks that record a failure and let the journey go on; ``assert_none`` at the end
    fails the test with all of them (so one broken widget does not hide the rest)."""

    def __init__(self):
        self.failures: list[str] = []

    def check(self, what: str, fn, *args) -> None:
        try:
            fn(*args)
        except AssertionError as error:
            self.failures.append(f"{what}: {str(error).splitlines()[0]}")

    def assert_none(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def open_mail_link(page, base: str, to: str, shoot=None, prefix: str = "", step: str = "") -> None:
    """Like a developer: open /dev/outbox, the newest message to ``to``, follow its link."""
    page.goto(base + "/dev/outbox")
    row = page.locator("table tbody tr").filter(has_text=to).first
    expect(row).to_be_visible()
    row.get_by_role("link").click()
    expect(page.locator("main article")).to_contain_text(to)
    if shoot:
        shoot(page, prefix, step)
    link = page.get_by_test_id("mail-link").first.get_attribute("href")
    assert link.startswith(base + "/"), f"the e-mailed link should point at the live server: {link}"
    page.goto(link)


def log_out(page, words) -> None:
    page.locator("header details.dropdown summary").click()
    page.get_by_role("button", name=words["logout"]).click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name=words["login"])).to_be_visible()
    expect(page.get_by_test_id("business-name")).to_have_count(0)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_sign_up_confirm_invite_and_join(browser, live_server, lang, shoot):
    words = WORDS[lang]
    base = live_server
    business = words["business"]
    owner_email, seller_email = f"olga.{lang}@example.com", f"sergio.{lang}@example.com"
    context = browser.new_context(locale=words["locale"], viewport={"width": 1280, "height": 900})
    page = context.new_page()
    soft = SoftChecks()

    # A visitor lands on / and goes to sign-up.
    page.goto(base + "/")
    expect_language(page, lang, page.locator("header").get_by_role("link", name=words["login"], exact=True))
    shoot(page, lang, "landing")
    page.locator("header").get_by_role("button", name=words["signup"], exact=True).click()  # <a role=button>
    expect(page).to_have_url(re.compile(r"/signup$"))

    # The country is preselected from the browser's locale; changing it swaps in (htmx)
    # the currency, time zone and language that fit, without touching what was typed.
    expect_locale_fields(page, *words["preset"])
    page.fill("#business_name", business)
    page.fill("#name", "Olga Owner")
    page.fill("#email", owner_email)
    page.fill("#password", "una clave muy larga 123")
    page.evaluate("window.__sameDocument = true")
    page.select_option("#country", words["detour"][0])
    soft.check(f"country {words['detour'][0]} should swap in its currency/time zone/language (htmx)",
               expect_locale_fields, page, *words["detour"])
    page.select_option("#country", words["preset"][0])
    expect_locale_fields(page, *words["preset"])
    assert page.evaluate("window.__sameDocument") is True, "the country change reloaded the page"
    expect(page.locator("#business_name")).to_have_value(business)
    shoot(page, lang, "signup-filled")
    page.locator("main button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/check-email/signup$"))
    expect_language(page, lang, page.get_by_role("heading", name=words["check_email"]))
    shoot(page, lang, "check-email")

    # The confirmation link, read from the development outbox; one click confirms.
    open_mail_link(page, base, owner_email, shoot, lang, "outbox-confirmation")
    expect(page).to_have_url(re.compile(r"/confirm/"))
    shoot(page, lang, "confirm")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(base + "/")
    expect(page.get_by_test_id("business-name")).to_have_text(business)
    expect(page.locator("#flashes .flash-success")).to_be_visible()
    expect_language(page, lang, page.locator("header").get_by_role("link", name=words["team"], exact=True))
    shoot(page, lang, "home")

    # Team: the invitation goes through htmx, the table updates in place with a flash.
    page.locator("header").get_by_role("link", name=words["team"], exact=True).click()
    expect(page.get_by_role("heading", name=words["team_heading"])).to_be_visible()
    shoot(page, lang, "team")
    page.evaluate("window.__sameDocument = true")
    invite = page.locator("#team form[hx-post$='/team/invite']")
    invite.locator("#name").fill("Sergio Seller")
    invite.locator("#email").fill(seller_email)
    invite.locator("#role").select_option("seller")
    invite.locator("button[type=submit]").click()
    expect(page.locator("#flashes .flash-success")).to_contain_text(f"{words['invited']} {seller_email}")
    expect(page.locator("#team tr[data-testid^=invitation-]")).to_contain_text(seller_email)
    assert page.evaluate("window.__sameDocument") is True, "the invitation reloaded the whole page"
    expect(page.locator("#team form[hx-post$='/team/invite'] #email")).to_have_value("")  # ready for the next one
    shoot(page, lang, "team-invited")
    log_out(page, words)
    shoot(page, lang, "logged-out")

    # The seller opens the invitation, chooses name and password, and is inside.
    open_mail_link(page, base, seller_email)
    expect(page).to_have_url(re.compile(r"/invitations/"))
    expect(page.locator("main h1")).to_contain_text(business)
    expect(page.locator("#name")).to_have_value("Sergio Seller")
    page.fill("#name", "Sergio Vendedor")
    page.fill("#password", "clave del vendedor 456")
    shoot(page, lang, "invitation")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(base + "/")
    expect(page.get_by_test_id("business-name")).to_have_text(business)
    expect(page.locator("#flashes .flash-success")).to_contain_text(words["welcome"])
    expect(page.locator("header details.dropdown summary")).to_have_text("Sergio Vendedor")
    expect(page.locator("header").get_by_role("link", name=words["team"], exact=True)).to_have_count(0)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    shoot(page, lang, "seller-home")
    log_out(page, words)

    # ... and logs in again through the form.
    page.fill("#email", seller_email)
    page.fill("#password", "clave del vendedor 456")
    shoot(page, lang, "login")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(base + "/")
    expect(page.get_by_test_id("business-name")).to_have_text(business)
    expect(page.locator("header").get_by_role("link", name=words["team"], exact=True)).to_have_count(0)
    log_out(page, words)
    expect(page.locator("#flashes .flash-info")).to_be_visible()
    expect_language(page, lang, page.locator("header").get_by_role("link", name=words["login"], exact=True))
    shoot(page, lang, "logged-out-again")
    context.close()
    soft.assert_none()


@pytest.mark.parametrize("width", [1280, 390])
def test_rejected_sign_up_keeps_what_was_typed(browser, live_server, shoot, width):
    context = browser.new_context(locale="es-CL", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/signup")
    page.fill("#business_name", "Panadería Doña Rosa")
    page.fill("#name", "Rosa Pérez")
    page.fill("#email", "rosa-sin-arroba")
    page.fill("#password", "corta")
    page.locator("main button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/signup$"))
    for field in ("email", "password"):
        error = page.locator(f"#{field}-error")
        expect(error).to_be_visible()
        expect(error).not_to_be_empty()
        # Beside its field: inside the field's label, and announced with it.
        expect(page.locator(f"label[for={field}]").locator(f"#{field}-error")).to_have_count(1)
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#{field}")).to_have_attribute("aria-describedby", f"{field}-error")
    for field in ("business_name", "name"):
        expect(page.locator(f"#{field}-error")).to_have_count(0)
    expect(page.locator("#business_name")).to_have_value("Panadería Doña Rosa")
    expect(page.locator("#name")).to_have_value("Rosa Pérez")
    expect(page.locator("#email")).to_have_value("rosa-sin-arroba")
    expect(page.locator("#password")).to_have_value("")  # a password is never sent back
    expect(page.locator("#country")).to_have_value("CL")
    shoot(page, "es-bad" if width > 600 else "phone-es-bad", "signup-errors")
    context.close()


def test_phone_screens(browser, live_server, make, shoot):
    """Phone width (390 px), in Spanish: sign-up, home and team pages, for a look."""
    business, owner, _manager, _seller = make.team("Ferretería y Materiales Doña Clotilde")
    context = browser.new_context(locale="es-CL", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    base = live_server
    page.goto(base + "/")
    shoot(page, "phone-es", "landing")
    page.goto(base + "/signup")
    expect_locale_fields(page, "CL", "CLP", "America/Santiago", "es")
    shoot(page, "phone-es", "signup")

    page.goto(base + "/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(base + "/")
    shoot(page, "phone-es", "home")

    page.goto(base + "/team")
    invite = page.locator("#team form[hx-post$='/team/invite']")
    invite.locator("#name").fill("Juan Carlos Vendedor")
    invite.locator("#email").fill("juan.carlos.vendedor@ferreteria-clotilde.cl")
    invite.locator("button[type=submit]").click()
    expect(page.locator("#flashes .flash-success")).to_be_visible()
    shoot(page, "phone-es", "team-invited")
    page.locator("header details.dropdown summary").click()
    logout = page.get_by_role("button", name="Cerrar sesión")
    expect(logout).to_be_visible()
    page.wait_for_timeout(300)  # Pico fades the menu in
    box = page.locator("header details.dropdown > ul").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"the user menu leaves the screen: {box}"
    shoot(page, "phone-es", "user-menu")
    context.close()
