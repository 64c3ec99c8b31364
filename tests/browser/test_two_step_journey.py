"""Two-step log-in on a 390-px phone, in Spanish: the owner turns it on from the profile
(the key typed by hand instead of the QR), keeps the recovery codes, logs out, logs in
with the password and then the code; a recovery code works once. Screenshots:
test-artifacts/screenshots/two-step-NN-<step>.png."""
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from pymes.accounts import mfa

from ..factories import PASSWORD

pytestmark = pytest.mark.browser
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Mobile Safari/537.36")


def fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide on a 390-px phone"


def test_owner_turns_on_two_step_and_logs_in_with_a_code_on_a_phone(browser, live_server, make, shoot,
                                                                    monkeypatch):
    now = {"t": datetime.now(UTC).replace(microsecond=0)}
    monkeypatch.setattr(mfa, "utcnow", lambda: now["t"])
    business = make.business("Ferretería El Roble")
    owner = make.user(business, "owner", email="ana@example.com", name="Ana",
                      mfa_due_at=now["t"] + timedelta(days=9, hours=1))
    context = browser.new_context(locale="es-CL", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, user_agent=PHONE)
    page = context.new_page()

    page.goto(f"{live_server}/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_text("la verificación en dos pasos es obligatoria desde el")).to_be_visible()

    page.goto(f"{live_server}/settings/profile")
    page.get_by_test_id("security-link").click()
    expect(page.get_by_test_id("mfa-due")).to_contain_text("Quedan 10 días.")
    fits_the_phone(page)
    shoot(page, "two-step", "security-off")
    page.get_by_role("button", name="Activar la verificación en dos pasos").click()
    expect(page.get_by_test_id("mfa-qr")).to_be_visible()
    assert page.get_by_test_id("mfa-qr").bounding_box()["width"] <= 390
    page.get_by_text("¿No puedes escanearlo? Escribe esta clave").click()
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    fits_the_phone(page)
    shoot(page, "two-step", "setup")

    page.fill("#code", "000000" if pyotp.TOTP(secret).at(now["t"]) != "000000" else "111111")
    page.fill("#password", PASSWORD)  # changing a sign-in factor asks for the password again
    page.get_by_role("button", name="Activar la verificación en dos pasos").click()
    expect(page.locator("#code-error")).to_contain_text("Ese código no es correcto")
    page.fill("#code", pyotp.TOTP(secret).at(now["t"]))
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Activar la verificación en dos pasos").click()
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    fits_the_phone(page)
    shoot(page, "two-step", "recovery-codes")
    page.get_by_role("button", name="Ya los guardé, continuar").click()
    expect(page.get_by_test_id("mfa-status")).to_contain_text("Activada")

    page.get_by_text("Ana").first.click()
    page.get_by_role("button", name="Cerrar sesión").click()
    now["t"] += timedelta(seconds=30)
    page.goto(f"{live_server}/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("heading", name="Verificación en dos pasos")).to_be_visible()
    expect(page.locator("#code")).to_have_attribute("inputmode", "numeric")
    fits_the_phone(page)
    shoot(page, "two-step", "code-step")
    # Half-way, typed addresses lead back to the log-in page.
    page.goto(f"{live_server}/clients")
    expect(page).to_have_url(f"{live_server}/login?next=%2Fclients")
    page.goto(f"{live_server}/login/code")
    page.fill("#code", pyotp.TOTP(secret).at(now["t"]))
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_test_id("business-name")).to_have_text("Ferretería El Roble")

    # The activity log (Settings → Business → Activity) shows those log-ins, from this phone.
    page.goto(f"{live_server}/settings/business")
    page.get_by_test_id("activity-link").click()
    log = page.get_by_test_id("activity")
    expect(log.locator('[data-action="login"]').first).to_contain_text("contraseña y código de la app")
    expect(log.locator('[data-action="login"]').first).to_contain_text("Chrome · Android · 127.0.0.1")
    expect(log.locator('[data-action="mfa_on"]')).to_have_count(1)
    fits_the_phone(page)
    shoot(page, "two-step", "activity")

    # A recovery code, from the fold-out form, works once.
    page.get_by_text("Ana").first.click()
    page.get_by_role("button", name="Cerrar sesión").click()
    for attempt in range(2):
        page.goto(f"{live_server}/login")
        page.fill("#email", owner.email)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Iniciar sesión").click()
        page.get_by_text("¿No tienes el teléfono a mano? Usa un código de recuperación").click()
        page.fill("#recovery-code", codes[0])
        page.get_by_role("button", name="Usar código de recuperación").click()
        if attempt == 0:
            expect(page.get_by_text("Usaste un código de recuperación: quedan 9.")).to_be_visible()
            page.get_by_text("Ana").first.click()
            page.get_by_role("button", name="Cerrar sesión").click()
        else:
            expect(page.locator("#code-error")).to_contain_text("ya se usó")
            shoot(page, "two-step", "recovery-code-used")
    context.close()
