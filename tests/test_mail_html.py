"""E-mails that look like the business (issue 21, point 4): every message has a plain-text
part and an HTML alternative with inlined CSS, the business's name (and logo when it has
one and the message has a public page to serve it), one button per action, links behind
words, a footer, and a Reply-To that reaches a person. Every link in the HTML works."""
import io
import re
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from pymes.accounts.models import Business
from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound
from pymes.visits.models import Activity

from .factories import csrf_token, login


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.imgs, self.styles, self.style_tags = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.hrefs.append((attrs.get("href"), attrs))
        if tag == "img":
            self.imgs.append(attrs.get("src"))
        if tag == "style":
            self.style_tags += 1
        if "style" in attrs:
            self.styles.append(attrs["style"])


def parts(message):
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    assert html is not None and text is not None, "both an HTML and a plain-text part"
    assert message.get_content_type() == "multipart/alternative"
    return html.get_content(), text.get_content()


def parsed(html):
    found = _Links()
    found.feed(html)
    return found


def assert_links_work(http, base_url, hrefs):
    """Each link of the HTML part, requested with the test client: 200 or a redirect, never 404."""
    assert hrefs
    for href in hrefs:
        assert href.startswith(base_url + "/"), href  # absolute, from BASE_URL (AUTH-4)
        parts_ = urlsplit(href)
        response = http.get(parts_.path + (f"?{parts_.query}" if parts_.query else ""))
        assert response.status_code in (200, 302, 303), (href, response.status_code)


def png_logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def shop(app, make):
    business = make.business("Ferretería Los Andes")
    owner = make.user(business, "owner", email="duena@losandes.cl", name="Marta Dueña")
    seller = make.user(business, "seller", name="Sergio Vendedor")
    with app.app_context(), bound(business.id):
        db.session.get(Business, business.id).logo = png_logo()
        db.session.get(Business, business.id).logo_mime = "image/png"
        client = Client(name="Ana Souza", email="ana@example.com", seller_id=seller.id, language="es")
        db.session.add(client)
        db.session.commit()
        cid = client.id
    return business, owner, seller, cid


def send_feedback_request(app, owner, cid):
    http = app.test_client()
    login(http, owner.email)
    response = http.post(f"/clients/{cid}/feedback-links",
                         data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": "email"})
    assert response.status_code in (200, 303)


def test_feedback_request_is_html_with_score_buttons_logo_and_reply_to_the_owner(app, shop, outbox):
    business, owner, _seller, cid = shop
    send_feedback_request(app, owner, cid)
    message = outbox.last("ana@example.com")
    assert message["Reply-To"] == "duena@losandes.cl"  # a reply reaches a person, not no-reply
    html, text = parts(message)
    assert "Hola, Ana" in text and "Hola, Ana" in html  # the client's language (es)
    found = parsed(html)
    assert found.style_tags == 0 and any("background" in s for s in found.styles)  # CSS inlined
    base = app.config["BASE_URL"]
    scores = [(h, a) for h, a in found.hrefs if "?score=" in h]
    assert [int(h.rsplit("=", 1)[1]) for h, _ in scores] == list(range(11))  # a row of 0..10 buttons
    assert all(a.get("aria-label") for _, a in scores)
    page_link = [h for h, _ in found.hrefs if "?" not in h]
    assert len(page_link) == 1 and page_link[0] == scores[0][0].split("?")[0]
    # short links behind words: no bare address shown as text
    assert not re.search(r">\s*https?://", html)
    assert found.imgs == [page_link[0] + "/logo"]
    assert "Ferretería Los Andes" in html  # the logo's alt text and the footer
    anonymous = app.test_client()
    assert_links_work(anonymous, base, [h for h, _ in found.hrefs] + found.imgs)
    preselected = anonymous.get(urlsplit(scores[7][0]).path + "?score=7").get_data(as_text=True)
    assert re.search(r'value="7"[^>]*checked|checked[^>]*value="7"', preselected)


def test_feedback_request_without_a_logo_shows_the_name(app, shop, outbox):
    business, owner, _seller, cid = shop
    with app.app_context(), bound(business.id):
        db.session.get(Business, business.id).logo_mime = None
        db.session.commit()
    send_feedback_request(app, owner, cid)
    html, _text = parts(outbox.last("ana@example.com"))
    assert parsed(html).imgs == [] and "Ferretería Los Andes" in html


def test_digest_html_has_one_button_to_the_agenda_that_works(app, make, outbox):
    business, _owner, _manager, seller = make.team()
    from pymes.visits.digest import send_digests

    with app.app_context(), bound(business.id):
        c = Client(name="Cliente Digest", seller_id=seller.id, phone="+56987654321")
        db.session.add(c)
        db.session.flush()
        db.session.add(Activity(client_id=c.id, seller_id=seller.id, kind="visit", purpose="delivery",
                                due_on=datetime.now(ZoneInfo(business.timezone)).date()))
        db.session.commit()
    with app.app_context():
        send_digests()
    message = [m for m in outbox.messages() if m["X-Pymes-Template"] == "digest"][-1]
    html, text = parts(message)
    assert "Cliente Digest" in html and "Cliente Digest" in text
    found = parsed(html)
    assert [h for h, _ in found.hrefs] == [app.config["BASE_URL"] + "/agenda"]
    assert message["Reply-To"] is None  # the system's own message: nobody to reply to
    http = app.test_client()
    login(http, seller.email)
    assert_links_work(http, app.config["BASE_URL"], [h for h, _ in found.hrefs])


def test_invitation_replies_reach_the_inviter(app, make, outbox):
    business, owner, _manager, _seller = make.team()
    http = app.test_client()
    login(http, owner.email)
    http.post("/team/invite", data={"csrf_token": csrf_token(http, "/team"), "email": "nueva@example.com",
                                         "role": "seller", "name": "Nueva"})
    message = outbox.last("nueva@example.com")
    assert message["Reply-To"] == owner.email
    html, text = parts(message)
    found = parsed(html)
    assert len(found.hrefs) == 1 and found.hrefs[0][0] in text  # the same link, behind words in the HTML
    assert_links_work(app.test_client(), app.config["BASE_URL"], [found.hrefs[0][0]])


def test_password_reset_has_html_and_text_and_its_link_works(app, make, client, outbox):
    business, owner, _manager, _seller = make.team()
    response = client.post("/password/forgot", data={"csrf_token": csrf_token(client, "/password/forgot"),
                                                     "email": owner.email})
    response.close()  # the e-mail goes out once the answer is sent
    message = outbox.last(owner.email)
    html, text = parts(message)
    found = parsed(html)
    assert len(found.hrefs) == 1 and found.hrefs[0][0] in text
    assert_links_work(app.test_client(), app.config["BASE_URL"], [found.hrefs[0][0]])


def test_every_message_has_both_parts():
    """A new message written as text only would go out without its HTML alternative:
    send_email renders both, so a missing one fails here first, not in production."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "templates" / "email"
    texts = {p.stem for p in folder.glob("*.txt")}
    htmls = {p.stem for p in folder.glob("*.html") if not p.stem.startswith("_")}
    assert texts and texts == htmls


def test_business_deletion_notice_replies_reach_the_owner_who_asked(app, make, outbox):
    business, owner, _manager, _seller = make.team()
    with app.app_context(), bound(business.id):
        from pymes.accounts.models import User
        from pymes.data.services import request_deletion

        stored_owner = db.session.get(User, owner.id)
        request_deletion(stored_owner.business, stored_owner, business.name)
    message = outbox.last(owner.email)
    assert message["Reply-To"] == owner.email
    html, text = parts(message)
    found = parsed(html)
    assert len(found.hrefs) == 1 and found.hrefs[0][0] in text
    http = app.test_client()
    login(http, owner.email)
    assert_links_work(http, app.config["BASE_URL"], [found.hrefs[0][0]])


def test_a_late_complaint_alert_replies_to_the_person_the_case_waits_for(app, make, outbox):
    """A manager told that a case is late replies to the person who has it (a seller, or the
    owner), and nobody gets a Reply-To naming themself (the sender is no-reply)."""
    from datetime import timedelta

    from sqlalchemy import update

    from pymes.complaints import jobs, services
    from pymes.complaints.models import Complaint
    from pymes.db import utcnow

    business, owner, manager, seller = make.team()
    with app.app_context(), bound(business.id):
        client = Client(name="Cliente Molesto", seller_id=seller.id)
        db.session.add(client)
        db.session.commit()
        cases = [services.open_complaint(client, None, category="wrong_product", description="Modelo equivocado",
                                         owner_id=who).id for who in (seller.id, owner.id)]
        db.session.execute(update(Complaint).where(Complaint.id.in_(cases)).values(
            ack_due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with app.app_context():
        jobs.escalate_breaches()
    late = {}
    for m in outbox.messages():
        if m["X-Pymes-Template"] == "complaint_late":
            case = int(re.search(r"/complaints/(\d+)", parts(m)[1]).group(1))
            late[(case, m["To"])] = m["Reply-To"]
    seller_case, owner_case = cases
    assert late[(seller_case, manager.email)] == seller.email  # the seller who has the case
    assert late[(seller_case, owner.email)] == seller.email
    assert late[(owner_case, manager.email)] == owner.email   # the owner has it
    assert late[(owner_case, owner.email)] is None            # not a reply to oneself
    message = next(m for m in outbox.messages() if m["X-Pymes-Template"] == "complaint_late")
    html, text = parts(message)
    found = parsed(html)
    assert found.hrefs and all(h in text for h, _ in found.hrefs)
    http = app.test_client()
    login(http, manager.email)
    assert_links_work(http, app.config["BASE_URL"], [h for h, _ in found.hrefs])


def test_an_unhappy_client_alert_replies_to_the_seller_who_has_the_case(app, make, outbox, monkeypatch):
    """A detractor's answer tells the owner and the managers; a reply reaches the seller
    the case was opened for (the client's seller), not no-reply."""
    from pymes.feedback import services as feedback

    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)  # people in tests type fast
    business, owner, manager, seller = make.team()
    with app.app_context(), bound(business.id):
        from pymes.accounts.models import User

        client = Client(name="Rosa Díaz", seller_id=seller.id)
        db.session.add(client)
        db.session.commit()
        secret = feedback.create_link(client, db.session.get(User, seller.id))
        db.session.commit()
    http = app.test_client()
    form = http.get(f"/f/{secret}").get_data(as_text=True)
    data = {name: re.search(rf'name="{name}" value="([^"]+)"', form).group(1) for name in ("csrf_token", "stamp")}
    http.post(f"/f/{secret}", data={**data, "score": "3", "comment": "Llegó rayado"})
    told = {m["To"]: m for m in outbox.messages() if m["X-Pymes-Template"] == "detractor"}
    assert sorted(told) == sorted([owner.email, manager.email])
    assert all(m["Reply-To"] == seller.email for m in told.values())
    html, text = parts(told[manager.email])
    found = parsed(html)
    login(http, manager.email)
    assert_links_work(http, app.config["BASE_URL"], [h for h, _ in found.hrefs])
