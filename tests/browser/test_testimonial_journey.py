"""Issue 7's testimonial journey: a promoter leaves a testimonial on the feedback page, the
manager approves it in the queue, and the business's public wall (and its embed, framed
by another page) shows it with the name as the client allowed."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.tenancy import bound

from ..factories import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@contextmanager
def business_site(html: str):
    """The business's own website: one page on another local port."""
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def log_in(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()


def test_a_promoters_testimonial_reaches_the_wall_once_approved(browser, live_server, app, make, shoot, monkeypatch):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    business, _owner, manager, seller = make.team("Panadería La Espiga")
    with app.app_context(), bound(business.id):
        marta = Client(name="Marta Rojas Vidal", seller_id=seller.id, email="marta@example.com")
        db.session.add(marta)
        db.session.commit()
        secret = feedback.create_link(marta, None)

    # The promoter, on her phone: a 10 and a testimonial, her first name only.
    customer = browser.new_context(locale="es-CL", viewport=PHONE)
    page = customer.new_page()
    page.goto(f"{live_server}/f/{secret}")
    page.locator("label.score", has_text="10").first.click()
    page.locator("form button[type=submit]").first.click()
    form = page.get_by_test_id("share-form")
    form.locator("#testimonial").fill("La marraqueta más rica del barrio")
    form.locator("input[name=name_display][value=first]").check()
    form.locator("input[name=may_publish]").check()
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("shared")).to_be_visible()
    customer.close()

    # The manager, on a laptop: the queue, pending first; approve (htmx swaps the row).
    staff = browser.new_context(locale="es-CL")
    page = staff.new_page()
    log_in(page, live_server, manager.email)
    page.goto(f"{live_server}/referrals")
    page.get_by_test_id("testimonials-link").click()
    row = page.get_by_test_id("testimonial").first
    expect(row).to_contain_text("La marraqueta más rica del barrio")
    expect(row).to_have_attribute("data-status", "pending")
    shoot(page, "testimonials", "queue-pending")
    row.get_by_test_id("approve").click()
    expect(page.get_by_test_id("testimonial").first).to_have_attribute("data-status", "approved")
    expect(page.get_by_test_id("reviewed").first).to_contain_text(manager.name)
    wall_url = page.get_by_test_id("wall-url").input_value()
    shoot(page, "testimonials", "queue-approved")
    staff.close()

    # Anyone: the public wall, in the business's language, her first name only.
    visitor = browser.new_context(locale="en-US", viewport=PHONE)
    page = visitor.new_page()
    page.goto(wall_url)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    quote = page.get_by_test_id("wall-testimonial")
    expect(quote).to_have_count(1)
    expect(quote).to_contain_text("La marraqueta más rica del barrio")
    expect(quote.locator("figcaption")).to_have_text("— Marta")
    shoot(page, "testimonials", "wall-phone")

    # The embed, framed by the business's own website: another origin (its own port),
    # a real local server (Chromium refuses a made-up public page framing a local one).
    with business_site(f'<h1>Pan</h1><iframe src="{wall_url}/embed" width="360" height="300"></iframe>') as site:
        page.goto(site)
        frame = page.frame_locator("iframe")
        expect(frame.get_by_test_id("wall-testimonial")).to_contain_text("La marraqueta más rica del barrio")
        shoot(page, "testimonials", "embed-framed")
    visitor.close()
