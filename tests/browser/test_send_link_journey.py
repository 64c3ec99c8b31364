"""Issue 18 on a 390-px phone, with a Spanish and a Russian customer: the owner sends a
feedback link by WhatsApp to a client who has only a phone number (the wa.me address and
its text checked, the message edited first), copies the link and the message with the
copy buttons (the clipboard read back), and sends it again later (the old link stops
working); a 3/10 asking for a WhatsApp callback in the evening becomes a WhatsApp action
in the evening window of the seller's agenda and the client's preference; and a client
with no number is asked for one on the public page, in their language."""
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.tenancy import bound

from ..factories import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
GREETING = {"es-CL": "Hola Rosa, gracias por elegir Panadería La Espiga.",
            "ru-RU": "Здравствуйте, Rosa! Спасибо, что выбрали Panadería La Espiga."}
SORRY = {"es-CL": "Lo sentimos", "ru-RU": "Нам очень жаль"}
PROMISE = {"es-CL": "te escribirá por WhatsApp", "ru-RU": "напишет вам в WhatsApp"}
ASK = {"es-CL": "Escribe tu número de WhatsApp para que podamos escribirte.",
       "ru-RU": "Напишите свой номер WhatsApp, чтобы мы могли вам написать."}


def log_in(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()


def add_client(app, business, seller, **fields) -> int:
    with app.app_context(), bound(business.id):
        c = Client(**{"name": "Rosa Díaz", "seller_id": seller.id, **fields})
        db.session.add(c)
        db.session.commit()
        return c.id


def sent_at(app, business):
    from pymes.feedback.models import FeedbackLink

    with app.app_context(), bound(business.id):
        return db.session.execute(db.select(FeedbackLink.sent_at).order_by(FeedbackLink.id.desc())).scalars().first()


def wa_text(href: str) -> tuple[str, str]:
    parts = urlsplit(href)
    assert parts.scheme == "https" and parts.netloc == "wa.me", href
    return parts.path, parse_qs(parts.query)["text"][0]


@pytest.mark.parametrize("locale", ["es-CL", "ru-RU"])
def test_send_by_whatsapp_copy_and_send_again(browser, live_server, app, make, shoot, locale):
    shot = f"send-link-{locale[:2]}"
    business, owner, _manager, seller = make.team("Panadería La Espiga")
    cid = add_client(app, business, seller, phone="+56987654321", language=locale[:2])  # no WhatsApp field
    staff = browser.new_context(locale="es-CL", viewport=PHONE, permissions=["clipboard-read", "clipboard-write"])
    page = staff.new_page()
    log_in(page, live_server, owner.email)
    page.goto(f"{live_server}/clients/{cid}")
    page.get_by_role("button", name="Pedir su opinión (WhatsApp o enlace)").click()
    expect(page.get_by_test_id("send-link")).to_be_visible()
    shoot(page, shot, "created")

    # WhatsApp to the phone (a Chilean mobile), the message in the client's language
    whatsapp = page.get_by_test_id("feedback-whatsapp")
    expect(whatsapp).to_be_visible()
    url = page.get_by_test_id("feedback-url").input_value()
    path, text = wa_text(whatsapp.get_attribute("href"))
    assert path == "/56987654321"
    assert text.startswith(GREETING[locale]) and text.endswith(url)
    assert "/f/" in url and page.get_by_test_id("feedback-message").input_value() == text

    # edited before sending: the WhatsApp button follows
    message = page.get_by_test_id("feedback-message")
    message.fill(text + " 🙂")
    _path, edited = wa_text(whatsapp.get_attribute("href"))
    assert edited == text + " 🙂"

    # the copy buttons put the link and the message on the clipboard
    assert sent_at(app, business) is None  # shown, not sent: not among the links sent (issue 19)
    page.get_by_test_id("copy-link").click()
    expect(page.get_by_test_id("copy-status")).to_contain_text("Copiado")
    for _ in range(50):  # send.js told the server: the link counts as sent from now on
        if sent_at(app, business) is not None:
            break
        page.wait_for_timeout(100)
    assert sent_at(app, business) is not None
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.get_by_test_id("copy-message").click()
    assert page.evaluate("navigator.clipboard.readText()") == text + " 🙂"
    has_share = page.evaluate("typeof navigator.share === 'function'")
    expect(page.get_by_test_id("share")).to_be_visible() if has_share else expect(
        page.get_by_test_id("share")).to_be_hidden()
    shoot(page, shot, "copied")
    done = page.get_by_test_id("send-done")
    expect(done).to_have_text("Listo")
    done.click()

    # later: sent again from the client's page; the old link stops working
    expect(page.get_by_test_id("feedback-link")).to_have_count(1)
    expect(page.get_by_test_id("send-again-help")).to_be_visible()
    shoot(page, shot, "client-links")
    page.get_by_test_id("send-again").click()
    expect(page.get_by_test_id("link-replaced")).to_be_visible()
    new_url = page.get_by_test_id("feedback-url").input_value()
    assert new_url != url
    _path, again = wa_text(page.get_by_test_id("feedback-whatsapp").get_attribute("href"))
    assert again.endswith(new_url) and again.startswith(GREETING[locale])
    shoot(page, shot, "sent-again")
    staff.close()

    customer = browser.new_context(locale=locale, viewport=PHONE)
    visit = customer.new_page()
    assert visit.goto(url).status == 404
    assert visit.goto(new_url).status == 200
    expect(visit.locator("h1")).to_contain_text("Rosa")
    customer.close()


@pytest.mark.parametrize("locale", ["es-CL", "ru-RU"])
def test_a_whatsapp_evening_callback_reaches_the_seller_s_agenda(browser, live_server, app, make, shoot, monkeypatch,
                                                                 locale):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    shot = f"callback-{locale[:2]}"
    business, _owner, _manager, seller = make.team("Panadería La Espiga")
    cid = add_client(app, business, seller, phone="+56987654321", language=locale[:2], preferred_channel="phone",
                     preferred_time="morning")
    with app.app_context(), bound(business.id):
        secret = feedback.create_link(db.session.get(Client, cid), None)

    customer = browser.new_context(locale=locale, viewport=PHONE)
    page = customer.new_page()
    page.goto(f"{live_server}/f/{secret}")
    page.locator("label.score", has_text="3").first.click()
    page.fill("#comment", "Llegó tarde" if locale == "es-CL" else "Опоздали")
    page.locator("#callback").check()
    page.select_option("#callback_channel", "whatsapp")
    page.select_option("select[name=callback_window]", "evening")
    expect(page.get_by_test_id("ask-whatsapp")).to_have_count(0)  # the business has a mobile: nothing to ask
    shoot(page, shot, "answer")
    page.locator("form button[type=submit]").first.click()
    expect(page.locator("h1")).to_contain_text(SORRY[locale])
    expect(page.get_by_test_id("promise")).to_contain_text(PROMISE[locale])
    expect(page.get_by_test_id("promise")).to_contain_text("19:00")
    shoot(page, shot, "thanks")
    customer.close()

    now = datetime.now(ZoneInfo(business.timezone))
    section = "today" if feedback.callback_due("evening", now) == now.date() else "week"
    staff = browser.new_context(locale="es-CL", viewport=PHONE)
    page = staff.new_page()
    log_in(page, live_server, seller.email)
    page.goto(f"{live_server}/agenda")
    item = page.get_by_test_id(section).get_by_test_id("activity").filter(has_text="Rosa Díaz")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("activity-channel")).to_have_text("WhatsApp")
    expect(item.get_by_test_id("activity-window")).to_have_text("Noche (19–21)")
    main = item.get_by_test_id("main-action")
    expect(main).to_have_text("Escribir por WhatsApp")
    path, text = wa_text(main.get_attribute("href"))
    assert path == "/56987654321" and "Rosa" in text
    expect(item).to_contain_text("Prefiere: WhatsApp, Noche (19–21)")
    item.scroll_into_view_if_needed()
    shoot(page, shot, "agenda")
    page.goto(f"{live_server}/clients/{cid}")
    expect(page.get_by_test_id("preference-from-customer")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Prefiere: WhatsApp, Noche (19–21)")
    shoot(page, shot, "client")
    staff.close()


@pytest.mark.parametrize("locale", ["es-CL", "ru-RU"])
def test_a_whatsapp_callback_without_a_number_asks_for_it(browser, live_server, app, make, shoot, monkeypatch, locale):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    shot = f"callback-ask-{locale[:2]}"
    business, _owner, _manager, seller = make.team("Panadería La Espiga")
    cid = add_client(app, business, seller, email="rosa@example.com", language=locale[:2])
    with app.app_context(), bound(business.id):
        secret = feedback.create_link(db.session.get(Client, cid), None)

    customer = browser.new_context(locale=locale, viewport=PHONE)
    page = customer.new_page()
    page.goto(f"{live_server}/f/{secret}")
    ask = page.get_by_test_id("ask-whatsapp")
    expect(ask).to_be_hidden()  # nothing asked before WhatsApp is chosen
    page.locator("label.score", has_text="3").first.click()
    page.locator("#callback").check()
    page.select_option("#callback_channel", "email")
    expect(ask).to_be_hidden()  # the business has the e-mail
    page.select_option("#callback_channel", "whatsapp")
    expect(ask).to_be_visible()
    shoot(page, shot, "asked")
    page.locator("form button[type=submit]").first.click()
    expect(page.locator("#contact_whatsapp-error")).to_have_text(ASK[locale])
    expect(page.locator("#callback_channel")).to_have_value("whatsapp")
    expect(ask).to_be_visible()
    shoot(page, shot, "missing-number")
    page.fill("#contact_whatsapp", "9 8765 4321")
    page.locator("form button[type=submit]").first.click()
    expect(page.get_by_test_id("promise")).to_contain_text(PROMISE[locale])
    shoot(page, shot, "thanks")
    customer.close()
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, cid)
        assert (client.whatsapp, client.preferred_channel) == ("+56987654321", "whatsapp")
