"""The feedback request and the daily digest drawn by Chromium at 390 px, as a phone's mail
app would (issue 21, point 4): nothing wider than the screen, the score buttons in one
row big enough to tap, the logo loaded from the live server. Screenshots go to
test-artifacts/screenshots/mail-*.png for a person to look at."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..test_mail_html import png_logo, send_feedback_request

pytestmark = pytest.mark.browser


def _draw(browser, html, shoot, name):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-CL")
    page = context.new_page()
    page.set_content(html, wait_until="load")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    shoot(page, "mail", name)
    return context, page, widths


def test_feedback_request_and_digest_fit_a_phone(browser, live_server, app, make, outbox, shoot):
    from pymes.accounts.models import Business
    from pymes.visits.digest import send_digests

    business = make.business("Ferretería Los Andes")
    owner = make.user(business, "owner", name="Marta Dueña")
    seller = make.user(business, "seller", name="Sergio Vendedor")
    with app.app_context(), bound(business.id):
        stored = db.session.get(Business, business.id)
        stored.logo, stored.logo_mime = png_logo(), "image/png"
        client = Client(name="Ana Souza", email="ana@example.com", seller_id=seller.id, phone="+56987654321")
        db.session.add(client)
        db.session.flush()
        today = datetime.now(ZoneInfo(business.timezone)).date()
        for name in ("Panadería El Trigal", "Almacén Don Pepe"):
            other = Client(name=name, seller_id=seller.id, phone="+56 9 8765 4321")
            db.session.add(other)
            db.session.flush()
            db.session.add(Activity(client_id=other.id, seller_id=seller.id, kind="visit", purpose="delivery",
                                    due_on=today))
        db.session.commit()
        cid = client.id
    send_feedback_request(app, owner, cid)
    with app.app_context():
        send_digests()

    request = outbox.last("ana@example.com").get_body(preferencelist=("html",)).get_content()
    context, page, (scroll, inner) = _draw(browser, request, shoot, "feedback-request")
    assert scroll <= inner, f"the feedback request is {scroll} px wide on a {inner}-px screen"
    boxes = [page.locator(f'a[href$="?score={n}"]').bounding_box() for n in range(11)]
    assert len({round(b["y"]) for b in boxes}) == 1, "the 0-10 scores sit in one row"
    assert all(b["height"] >= 44 and b["width"] >= 24 for b in boxes), boxes
    assert page.evaluate("document.querySelector('img.logo').naturalWidth") == 120  # served by /f/<token>/logo
    context.close()

    digest = [m for m in outbox.messages() if m["X-Pymes-Template"] == "digest"][-1]
    context, page, (scroll, inner) = _draw(browser, digest.get_body(preferencelist=("html",)).get_content(),
                                           shoot, "digest")
    assert scroll <= inner, f"the digest is {scroll} px wide on a {inner}-px screen"
    button = page.locator("a.button").bounding_box()
    assert button["height"] >= 44
    assert page.get_by_text("Panadería El Trigal").is_visible()
    context.close()
