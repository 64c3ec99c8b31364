"""Issue 5's remaining pieces: a happy customer's testimonial and referrals, the logo on
the public page, the business's link lifetime, automatic sending after a delivery, and
the feedback inbox with its NPS."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from pymes.accounts.models import Business
from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback import services
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.referrals.models import Referral
from pymes.referrals.models import Testimonial as TestimonialRow  # not a test class
from pymes.sales.models import Sale
from pymes.tenancy import bound

from ..factories import Factory, csrf_token, login

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def shop(app, make):
    business, owner, manager, seller = make.team("Librería Los Andes")
    cid = make.client(business, "Camila Rojas Soto", email="camila@example.com", phone="+56987654321",
                      seller_id=seller.id).id
    return business, owner, manager, seller, cid


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(services, "MIN_FILL_SECONDS", 0)


def new_link(app, business, cid, **kw) -> str:
    return Factory(app).feedback_link(business, cid, **kw).secret


def answer(http, secret, score, **extra):
    page = http.get(f"/f/{secret}").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1), "score": str(score)}
    data.update(extra)
    return http.post(f"/f/{secret}", data=data)


def share(http, thanks_html, secret, **fields):
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', thanks_html).group(1),
            "stamp": re.findall(r'name="stamp" value="([^"]+)"', thanks_html)[-1]}
    data.update(fields)
    return http.post(f"/f/{secret}/share", data=data)


def count(app, business, model):
    with app.app_context(), bound(business.id):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_promoter_leaves_a_testimonial_and_two_friends(app, shop, quick):
    business, _owner, _manager, seller, cid = shop
    secret = new_link(app, business, cid)
    http = app.test_client()
    thanks = answer(http, secret, 10).get_data(as_text=True)
    assert 'data-testid="share-form"' in thanks
    done = share(http, thanks, secret, testimonial="Siempre encuentro lo que busco.", name_display="initials",
                 may_publish="1", friend_name_0="Pedro Soto", friend_contact_0="9 8765 4320",
                 friend_name_1="Ana Lagos", friend_contact_1="ANA@example.com", friend_consent="1")
    assert done.status_code == 200 and 'data-testid="shared"' in done.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        t = db.session.execute(select(TestimonialRow)).scalar_one()
        assert (t.text, t.name_display, t.may_publish, t.status) == ("Siempre encuentro lo que busco.", "initials",
                                                                     True, "pending")
        prospects = db.session.execute(select(Client).where(Client.kind == "prospect").order_by(Client.name)
                                       ).scalars().all()
        assert [(p.name, p.email, p.phone) for p in prospects] == [("Ana Lagos", "ana@example.com", None),
                                                                   ("Pedro Soto", None, "+56987654320")]
        assert all(p.seller_id == seller.id and p.referred_by_id == cid and p.source == "referral" for p in prospects)
        referrals = db.session.execute(select(Referral)).scalars().all()
        assert len(referrals) == 2 and all(r.referrer_id == cid and r.friend_consent and r.flag is None
                                           for r in referrals)
    # the seller sees it all on the client's page
    staff = app.test_client()
    login(staff, seller.email)
    page = staff.get(f"/clients/{cid}").get_data(as_text=True)
    assert "Siempre encuentro lo que busco." in page and "Pedro Soto" in page and "Ana Lagos" in page
    # sending the same friends again does not duplicate them
    share(http, thanks, secret, friend_name_0="Pedro Soto", friend_contact_0="+56987654320", friend_consent="1")
    assert count(app, business, Referral) == 2


@pytest.mark.parametrize("fields, field, words", [
    ({"friend_name_0": "Pedro", "friend_contact_0": "", "friend_consent": "1"}, "friend_contact_0", "teléfono"),
    ({"friend_name_0": "", "friend_contact_0": "pedro@example.com", "friend_consent": "1"}, "friend_name_0", "nombre"),
    ({"friend_name_0": "Pedro", "friend_contact_0": "pedro@@example", "friend_consent": "1"}, "friend_contact_0",
     "correo"),
    ({"friend_name_0": "Pedro", "friend_contact_0": "123", "friend_consent": "1"}, "friend_contact_0", "teléfono"),
    ({"friend_name_0": "Yo misma", "friend_contact_0": "camila@example.com", "friend_consent": "1"}, "friend_contact_0",
     "tu propio"),
    ({"friend_name_0": "Pedro", "friend_contact_0": "pedro@example.com"}, "friend_consent", "marca"),
    ({"testimonial": "x" * 1001}, "testimonial", "1000"),
])
def test_a_wrong_friend_is_explained_in_the_customers_language_and_nothing_is_lost(app, shop, quick, fields, field,
                                                                                    words):
    business, _owner, _manager, _seller, cid = shop
    secret = new_link(app, business, cid)
    http = app.test_client()
    thanks = answer(http, secret, 9, comment="").get_data(as_text=True)
    fields = dict(fields, testimonial=fields.get("testimonial", "Muy buena atención"))
    page = share(http, thanks, secret, **fields)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert words in html.lower()
    assert "Muy buena atención" in html or "x" * 1001 in html
    for key, value in fields.items():
        if key.startswith("friend_") and key != "friend_consent" and value:
            assert f'value="{value}"' in html
    assert count(app, business, TestimonialRow) == 0 and count(app, business, Referral) == 0


def test_a_friend_already_in_the_book_is_linked_and_flagged(app, shop, quick):
    business, _owner, _manager, _seller, cid = shop
    with app.app_context(), bound(business.id):
        db.session.add(Client(name="Luis Pérez", email="luis@example.com"))
        db.session.commit()
    secret = new_link(app, business, cid)
    http = app.test_client()
    thanks = answer(http, secret, 10).get_data(as_text=True)
    share(http, thanks, secret, friend_name_0="Lucho", friend_contact_0="luis@example.com", friend_consent="1")
    with app.app_context(), bound(business.id):
        referral = db.session.execute(select(Referral)).scalar_one()
        luis = db.session.execute(select(Client).where(Client.email == "luis@example.com")).scalar_one()
        assert referral.prospect_id == luis.id and referral.flag == "duplicate"
        assert db.session.execute(select(func.count()).select_from(Client)).scalar_one() == 2


def test_a_detractor_is_not_asked_to_share_and_cannot_force_it(app, shop, quick):
    business, _owner, _manager, _seller, cid = shop
    secret = new_link(app, business, cid)
    http = app.test_client()
    thanks = answer(http, secret, 3, comment="Llegó roto").get_data(as_text=True)
    assert 'data-testid="share-form"' not in thanks
    correction_form = http.get(f"/f/{secret}").get_data(as_text=True)  # a form to borrow a valid token from
    share(http, correction_form, secret, testimonial="Todo perfecto", friend_name_0="Pedro",
          friend_contact_0="pedro@example.com", friend_consent="1")
    assert count(app, business, TestimonialRow) == 0 and count(app, business, Referral) == 0


def test_sharing_after_the_correction_window_is_closed(app, shop, quick):
    business, _owner, _manager, _seller, cid = shop
    secret = new_link(app, business, cid)
    http = app.test_client()
    thanks = answer(http, secret, 10).get_data(as_text=True)
    with app.app_context(), bound(business.id):
        db.session.execute(update(FeedbackResponse).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    page = share(http, thanks, secret, testimonial="Tarde")
    assert "ya no se puede cambiar" in page.get_data(as_text=True).lower() or "no longer" in page.get_data(as_text=True)
    assert count(app, business, TestimonialRow) == 0
    assert app.test_client().post("/f/not-a-real-token/share", data={}).status_code in (400, 404)


def test_the_public_page_shows_the_business_logo(app, shop):
    business, *_rest, cid = shop
    with app.app_context():
        db.session.execute(update(Business).where(Business.id == business.id).values(logo=PNG, logo_mime="image/png"))
        db.session.commit()
    secret = new_link(app, business, cid)
    http = app.test_client()
    assert f'src="/f/{secret}/logo"' in http.get(f"/f/{secret}").get_data(as_text=True)
    image = http.get(f"/f/{secret}/logo")
    assert image.status_code == 200 and image.data == PNG and image.mimetype == "image/png"
    assert http.get("/f/" + "x" * 43 + "/logo").status_code == 404


def test_links_live_as_long_as_the_business_says(app, shop):
    business, _owner, manager, _seller, cid = shop
    http = app.test_client()
    login(http, manager.email)
    bad = http.post("/feedback/settings", data={"csrf_token": csrf_token(http, "/feedback/settings"),
                                                "link_days": "0", "auto_days": "-1"})
    assert bad.status_code == 422 and 'value="-1"' in bad.get_data(as_text=True)
    ok = http.post("/feedback/settings", data={"csrf_token": csrf_token(http, "/feedback/settings"),
                                               "link_days": "5", "auto_days": "3"})
    assert ok.status_code == 303
    new_link(app, business, cid)
    with app.app_context(), bound(business.id):
        link = db.session.execute(select(FeedbackLink)).scalar_one()
        assert timedelta(days=4, hours=23) < link.expires_at - utcnow() <= timedelta(days=5)


def test_only_managers_change_feedback_settings(app, shop):
    *_rest, seller, _cid = shop
    http = app.test_client()
    login(http, seller.email)
    assert http.get("/feedback/settings").status_code == 403


def test_links_go_out_by_themselves_after_a_delivery(app, shop, make, outbox):
    business, _owner, _manager, seller, cid = shop
    today = date(2026, 11, 25)
    with app.app_context(), bound(business.id):
        services.save_settings(30, 3)
        nobody = Client(name="Sin Correo", phone="+56911112222")
        db.session.add(nobody)
        db.session.flush()
        for client_id, delivered in ((cid, today - timedelta(days=3)), (cid, today - timedelta(days=1)),
                                     (cid, None), (nobody.id, today - timedelta(days=3))):
            db.session.add(Sale(client_id=client_id, sold_on=today - timedelta(days=5), description="Libro",
                                amount=10_000, delivery_on=delivered))
        db.session.commit()
    quiet = make.business("Sin envío automático")
    with app.app_context(), bound(quiet.id):
        c = Client(name="Otro", email="otro@example.com")
        db.session.add(c)
        db.session.flush()
        db.session.add(Sale(client_id=c.id, sold_on=today - timedelta(days=5), description="x", amount=1,
                            delivery_on=today - timedelta(days=3)))
        db.session.commit()
    with app.app_context():
        assert services.send_after_delivery(today=today) == 1
        assert services.send_after_delivery(today=today) == 0
    assert [m["To"] for m in outbox.messages()] == ["camila@example.com"]
    link = outbox.link("camila@example.com", "/f/")
    assert app.test_client().get(link.removeprefix(app.config["BASE_URL"])).status_code == 200


def test_the_inbox_shows_nps_response_rate_and_comments(app, shop, make):
    business, _owner, manager, seller, cid = shop
    other_seller = make.user(business, "seller", name="Zoe Vendedora")
    other_id = make.client(business, "Marta Díaz", seller_id=other_seller.id).id
    for client_id, score, comment in ((cid, 10, "Excelente"), (cid, 9, ""), (cid, 7, ""), (other_id, 3, "Tarde")):
        new_link(app, business, client_id)
        with app.app_context(), bound(business.id):
            link = db.session.execute(select(FeedbackLink).order_by(FeedbackLink.id.desc())).scalars().first()
            db.session.add(FeedbackResponse(link_id=link.id, client_id=client_id, score=score, comment=comment))
            db.session.commit()
    new_link(app, business, cid, sent_by="email")  # sent, not answered
    new_link(app, business, cid, sent_by="share")  # shown to the seller, never sent: not counted
    http = app.test_client()
    login(http, manager.email)
    page = http.get("/feedback").get_data(as_text=True)
    # 2 promoters, 1 detractor of 4 answers: NPS 25; 4 of 5 links answered
    assert re.search(r'data-testid="nps">\s*25<', page)
    assert re.search(r'data-testid="response-rate">\s*80\s*%<', page)
    assert "Excelente" in page and "Tarde" in page and page.count('data-testid="answer"') == 4
    mine = http.get(f"/feedback?seller={other_seller.id}").get_data(as_text=True)
    assert re.search(r'data-testid="nps">\s*-100<', mine) and "Excelente" not in mine


def test_the_public_page_is_light_and_needs_no_javascript(app, shop):
    """Issue 5: the page transfers under 30 KB in all (HTML and every stylesheet it
    links), with no script: it works with JavaScript off."""
    business, *_rest, cid = shop
    secret = new_link(app, business, cid)
    http = app.test_client()
    html = http.get(f"/f/{secret}").get_data(as_text=True)
    assert "<script" not in html
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert sheets
    total = len(html.encode()) + sum(len(http.get(href).data) for href in sheets)
    assert total < 30_000, total
