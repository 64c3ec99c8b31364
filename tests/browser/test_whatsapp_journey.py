"""Connecting WhatsApp on a 390-px phone, in Spanish: from Business settings to the
WhatsApp page, a wrong token explained on its field, then connected and shown as Meta
verified it, the template named, disconnected. Meta is the fake Graph API on 127.0.0.1
(tests/whatsapp/conftest.py). Screenshots: test-artifacts/screenshots/whatsapp-NN-<step>.png."""
import pytest
from playwright.sync_api import expect

from tests.whatsapp.conftest import PHONE_ID, TOKEN, VERSION, WABA_ID, FakeGraph

from ..factories import PASSWORD

pytestmark = pytest.mark.browser
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Mobile Safari/537.36")


@pytest.fixture
def graph():
    import threading

    fake = FakeGraph()
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def app_overrides(graph):
    return {"WHATSAPP_API_BASE": graph.url, "WHATSAPP_API_VERSION": VERSION}


def fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide on a 390-px phone"


def test_owner_connects_whatsapp_on_a_phone(browser, live_server, make, shoot, graph):
    business = make.business("Ferretería Sur")
    owner = make.user(business, "owner", email="ana@example.com", name="Ana")
    context = browser.new_context(locale="es-CL", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, user_agent=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_load_state()

    page.goto(f"{live_server}/settings/business")
    page.get_by_test_id("whatsapp-link").click()
    expect(page.get_by_role("heading", name="WhatsApp", exact=True)).to_be_visible()
    fits_the_phone(page)
    shoot(page, "whatsapp", "empty")

    page.get_by_label("Identificador del número").fill(PHONE_ID)
    page.get_by_label("Identificador de la cuenta de WhatsApp Business").fill(WABA_ID)
    page.get_by_label("Token de acceso permanente").fill("EAAGrevokedToken000000000000")
    page.get_by_role("button", name="Comprobar y conectar").click()
    expect(page.locator("#access_token-error")).to_contain_text("Meta no aceptó el token de acceso")
    expect(page.get_by_label("Identificador del número")).to_have_value(PHONE_ID)  # what was typed is kept
    fits_the_phone(page)
    shoot(page, "whatsapp", "wrong-token")

    page.get_by_label("Token de acceso permanente").fill(TOKEN)
    page.get_by_role("button", name="Comprobar y conectar").click()
    expect(page.get_by_test_id("whatsapp-connected")).to_contain_text("+56 9 8765 4321")
    expect(page.get_by_test_id("whatsapp-connected")).to_contain_text("Ferretería Sur")
    fits_the_phone(page)

    page.get_by_label("Plantilla para la solicitud de opinión").fill("pedido_opinion")
    page.locator("#template_language").fill("es_CL")  # the feedback template's (the list below has its own)
    page.get_by_role("button", name="Guardar plantilla").click()
    expect(page.get_by_text("Plantilla guardada.")).to_be_visible()
    expect(page.get_by_label("Plantilla para la solicitud de opinión")).to_have_value("pedido_opinion")
    shoot(page, "whatsapp", "connected")

    page.get_by_test_id("whatsapp-disconnect").click()
    expect(page.get_by_text("WhatsApp desconectado")).to_be_visible()
    expect(page.get_by_test_id("whatsapp-connected")).to_have_count(0)
    context.close()
