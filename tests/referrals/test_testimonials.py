"""Testimonials: typed by a seller with the client's consent, approved by a manager before
the public wall shows them, taken down at once when consent is revoked; the wall's key,
its embed (the one page another site may frame) and the names as the client allowed."""
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.referrals import models
from pymes.referrals import services as referrals
from pymes.tenancy import bound

from ..factories import csrf_token, login


@pytest.fixture
def shop(app, make):
    business, owner, manager, seller = make.team("Panadería La Espiga")
    ana_id = make.client(business, "Ana María Fuentes", seller_id=seller.id).id
    return business, owner, manager, seller, ana_id


def as_user(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def typed(app, business, client_id, text, *, name_display="first", may_publish=True, status="pending"):
    """A testimonial as a seller types it, optionally already reviewed."""
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, client_id)
        t, errors = referrals.add_by_seller(client, {"text": text, "name_display": name_display, "consent": "1",
                                                     "may_publish": "1" if may_publish else ""})
        assert not errors
        if status != "pending":
            referrals.review(t, status, None)
        return t.id


def wall_key(app, business):
    with app.app_context(), bound(business.id):
        return referrals.referral_settings().wall_key


def wall_texts(app, key: str) -> list[str]:
    page = app.test_client().get(f"/w/{key}")
    assert page.status_code == 200
    return re.findall(r"<blockquote>“([^”]*)”</blockquote>", page.get_data(as_text=True))


def test_a_seller_types_a_testimonial_only_with_the_clients_consent(app, shop):
    business, _owner, _manager, seller, ana = shop
    http = as_user(app, seller)
    form_page = http.get(f"/clients/{ana}").get_data(as_text=True)
    assert f'href="/clients/{ana}/testimonials/new"' in form_page  # linked from the client page
    token = csrf_token(http, f"/clients/{ana}/testimonials/new")
    refused = http.post(f"/clients/{ana}/testimonials/new", data={
        "csrf_token": token, "text": "El mejor pan de la comuna", "name_display": "initials", "may_publish": "1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    consent = re.search(r'name="consent" value="1"[^>]*aria-describedby="consent-error"[^>]*>.*?'
                        r'<small id="consent-error" class="field-error">([^<]+)</small>', html, re.S)
    assert consent and consent.group(1).strip()                    # the error beside the checkbox
    assert 'id="text-error"' not in html
    assert "El mejor pan de la comuna" in html                      # what was typed is kept
    assert re.search(r'<option value="initials"\s+selected', html)
    assert re.search(r'name="may_publish" value="1"\s+checked', html)
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(models.Testimonial)).first() is None

    saved = http.post(f"/clients/{ana}/testimonials/new", data={
        "csrf_token": token, "text": "El mejor pan de la comuna", "name_display": "initials", "may_publish": "1",
        "consent": "1"})
    assert saved.status_code == 303 and saved.headers["Location"].startswith(f"/clients/{ana}")
    with app.app_context(), bound(business.id):
        t = db.session.execute(select(models.Testimonial)).scalar_one()
        assert (t.source, t.status, t.name_display, t.may_publish) == ("seller", "pending", "initials", True)
        assert t.consent_at is not None and t.reviewed_at is None
    assert "El mejor pan de la comuna" in http.get(f"/clients/{ana}").get_data(as_text=True)


def test_the_wall_shows_a_testimonial_only_once_a_manager_approves_it(app, shop):
    business, _owner, manager, _seller, ana = shop
    tid = typed(app, business, ana, "Siempre pan caliente")
    typed(app, business, ana, "Solo para ustedes", may_publish=False, status="approved")
    key = wall_key(app, business)
    assert wall_texts(app, key) == []
    assert 'data-testid="wall-empty"' in app.test_client().get(f"/w/{key}").get_data(as_text=True)

    http = as_user(app, manager)
    queue = http.get("/testimonials").get_data(as_text=True)
    assert queue.index("Siempre pan caliente") < queue.index("Solo para ustedes")  # pending first
    answer = http.post(f"/testimonials/{tid}/review", data={"csrf_token": csrf_token(http, "/testimonials"),
                                                             "decision": "approved"}, headers={"HX-Request": "true"})
    row = answer.get_data(as_text=True)
    assert answer.status_code == 200 and row.lstrip().startswith(f'<article id="testimonial-{tid}"')
    assert 'data-status="approved"' in row and manager.name in row      # who approved, and when
    with app.app_context(), bound(business.id):
        t = db.session.get(models.Testimonial, tid)
        assert t.reviewed_by_id == manager.id and t.reviewed_at is not None
    assert wall_texts(app, key) == ["Siempre pan caliente"]  # the one not for publishing stays off


def test_reject_without_javascript_redirects_back_to_the_queue(app, shop):
    business, _owner, manager, _seller, ana = shop
    tid = typed(app, business, ana, "Regular nomás")
    http = as_user(app, manager)
    answer = http.post(f"/testimonials/{tid}/review", data={"csrf_token": csrf_token(http, "/testimonials"),
                                                             "decision": "rejected"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/testimonials"
    assert 'data-status="rejected"' in http.get("/testimonials").get_data(as_text=True)
    assert wall_texts(app, wall_key(app, business)) == []


def test_a_seller_sees_the_queue_but_cannot_approve(app, shop):
    business, _owner, _manager, seller, ana = shop
    tid = typed(app, business, ana, "Muy amables")
    http = as_user(app, seller)
    queue = http.get("/testimonials")
    html = queue.get_data(as_text=True)
    assert queue.status_code == 200 and "Muy amables" in html
    assert 'data-testid="approve"' not in html and 'data-testid="wall-settings"' not in html
    refused = http.post(f"/testimonials/{tid}/review", data={"csrf_token": csrf_token(http, "/testimonials"),
                                                              "decision": "approved"})
    assert refused.status_code == 403
    assert http.post("/testimonials/wall-key", data={"csrf_token": csrf_token(http, "/testimonials")}
                     ).status_code == 403
    with app.app_context(), bound(business.id):
        assert db.session.get(models.Testimonial, tid).status == "pending"


def test_revoking_consent_takes_it_down_at_once_and_for_good(app, shop):
    business, _owner, manager, seller, ana = shop
    tid = typed(app, business, ana, "Las mejores empanadas", status="approved")
    key = wall_key(app, business)
    assert wall_texts(app, key) == ["Las mejores empanadas"]
    http = as_user(app, seller)  # the seller hears it from the client
    answer = http.post(f"/testimonials/{tid}/revoke", data={"csrf_token": csrf_token(http, f"/clients/{ana}"),
                                                             "next": f"/clients/{ana}#timeline"})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/clients/{ana}#timeline"
    assert wall_texts(app, key) == []
    embed = app.test_client().get(f"/w/{key}/embed").get_data(as_text=True)
    assert "Las mejores empanadas" not in embed
    assert 'data-testid="testimonial-revoked"' in http.get(f"/clients/{ana}").get_data(as_text=True)
    boss = as_user(app, manager)
    assert 'data-status="revoked"' in boss.get("/testimonials").get_data(as_text=True)
    again = boss.post(f"/testimonials/{tid}/review", data={"csrf_token": csrf_token(boss, "/testimonials"),
                                                           "decision": "approved"})
    assert again.status_code == 303
    assert wall_texts(app, key) == []  # a manager cannot put it back


@pytest.mark.parametrize("display, shown", [("full", "Ana María Fuentes"), ("first", "Ana"),
                                            ("initials", "A. M. F."), ("anonymous", None)])
def test_the_wall_shows_the_name_as_the_client_allowed(app, shop, display, shown):
    business, _owner, _manager, _seller, ana = shop
    typed(app, business, ana, "Excelente", name_display=display, status="approved")
    html = app.test_client().get(f"/w/{wall_key(app, business)}").get_data(as_text=True)
    caption = re.search(r"<figcaption>— ([^<]*)</figcaption>", html).group(1)
    if shown:
        assert caption == shown
    else:
        assert "Ana" not in caption and "Fuentes" not in caption and "A." not in caption
    assert display == "full" or "Fuentes" not in html


def test_the_wall_is_in_the_business_language_newest_first_with_its_name(app, make):
    business = make.business("Bakery Joe", language="en", country="US", currency="USD", timezone="America/New_York")
    owner = make.user(business, "owner")
    joe_id = make.client(business, "Joe Smith", seller_id=owner.id).id
    typed(app, business, joe_id, "Older words", status="approved")
    typed(app, business, joe_id, "Newer words", status="approved")
    key = wall_key(app, business)
    html = app.test_client().get(f"/w/{key}", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "What our clients say" in html and "Bakery Joe" in html
    assert wall_texts(app, key) == ["Newer words", "Older words"]


def test_another_business_key_shows_nothing_of_ours_and_an_unknown_key_is_404(app, shop, make):
    business, _owner, _manager, _seller, ana = shop
    typed(app, business, ana, "Secreto de la casa", status="approved")
    other = make.business("Otra Panadería")
    make.user(other, "owner")
    theirs = app.test_client().get(f"/w/{wall_key(app, other)}")
    html = theirs.get_data(as_text=True)
    assert theirs.status_code == 200 and "Otra Panadería" in html
    assert "Secreto de la casa" not in html and "Panadería La Espiga" not in html
    assert 'data-testid="wall-empty"' in html
    for path in ("/w/no-such-key", "/w/no-such-key/embed", "/w/no-such-key/logo", "/w/" + "x" * 80):
        assert app.test_client().get(path).status_code == 404


def test_only_the_embed_may_be_framed(app, shop):
    business, _owner, manager, _seller, ana = shop
    typed(app, business, ana, "Para la web", status="approved")
    key = wall_key(app, business)
    embed = app.test_client().get(f"/w/{key}/embed")
    assert embed.status_code == 200 and "Para la web" in embed.get_data(as_text=True)
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers
    assert "public.css" in embed.get_data(as_text=True)
    http = as_user(app, manager)
    for response in (app.test_client().get(f"/w/{key}"), app.test_client().get("/w/unknown/embed"),
                     app.test_client().get("/login"), http.get("/testimonials"), http.get(f"/clients/{ana}")):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


def test_changing_the_key_stops_the_old_links(app, shop):
    business, _owner, manager, _seller, ana = shop
    typed(app, business, ana, "Buenísimo", status="approved")
    old = wall_key(app, business)
    http = as_user(app, manager)
    section = http.get("/testimonials").get_data(as_text=True)
    base = app.config["BASE_URL"]
    assert f'value="{base}/w/{old}"' in section                                 # the wall's address
    assert f'&lt;iframe src="{base}/w/{old}/embed"' in section                  # the snippet to copy
    answer = http.post("/testimonials/wall-key", data={"csrf_token": csrf_token(http, "/testimonials")})
    assert answer.status_code == 303
    new = wall_key(app, business)
    assert new != old and len(new) >= 32
    assert app.test_client().get(f"/w/{old}").status_code == 404
    assert app.test_client().get(f"/w/{old}/embed").status_code == 404
    assert wall_texts(app, new) == ["Buenísimo"]
    assert f"/w/{new}" in http.get("/testimonials").get_data(as_text=True)


def test_the_wall_is_rate_limited(app, shop):
    business = shop[0]
    key = wall_key(app, business)
    http = app.test_client()
    codes = [http.get(f"/w/{key}").status_code for _ in range(61)]
    assert codes[:60] == [200] * 60 and codes[60] == 429


def test_another_business_cannot_touch_our_testimonials(app, shop, make):
    business, _owner, _manager, _seller, ana = shop
    tid = typed(app, business, ana, "Nuestro", status="approved")
    _other, other_owner, _m, _s = make.team("Competencia")
    http = as_user(app, other_owner)
    token = csrf_token(http, "/testimonials")
    assert "Nuestro" not in http.get("/testimonials").get_data(as_text=True)
    assert http.post(f"/testimonials/{tid}/revoke", data={"csrf_token": token}).status_code == 404
    assert http.post(f"/testimonials/{tid}/review", data={"csrf_token": token, "decision": "rejected"}
                     ).status_code == 404
    assert http.get(f"/clients/{ana}/testimonials/new").status_code == 404
    assert wall_texts(app, wall_key(app, business)) == ["Nuestro"]


def test_the_seller_records_where_the_client_allows_it_to_be_published(app, shop):
    business, _owner, manager, seller, ana = shop
    http = as_user(app, seller)
    path = f"/clients/{ana}/testimonials/new"
    form = http.get(path).get_data(as_text=True)
    assert re.search(r'<select id="publish_where" name="publish_where"', form)
    assert re.search(r'<option value="both"\s+selected', form)             # both places unless the client says
    base = {"csrf_token": csrf_token(http, path), "text": "Pan de masa madre", "name_display": "first",
            "may_publish": "1", "consent": "1"}
    bad = http.post(path, data={**base, "publish_where": "newspaper"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and re.search(r'<small id="publish_where-error" class="field-error">[^<]+<', html)
    assert "Pan de masa madre" in html
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(models.Testimonial)).first() is None
    assert http.post(path, data={**base, "publish_where": "wall"}).status_code == 303
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(models.Testimonial.publish_where)).scalar_one() == "wall"
    queue = as_user(app, manager).get("/testimonials").get_data(as_text=True)
    shown = re.search(r'data-testid="publish-where">([^<]+)<', queue).group(1)
    with app.test_request_context(), force_locale("es"):
        only_wall = str(referrals.PUBLISH_PLACE_LABELS["wall"]).lower()
    assert shown.endswith(only_wall)                                       # the reviewer sees where, in Spanish


def test_the_wall_and_the_embed_show_only_what_the_client_allowed_there(app, shop):
    business, _owner, _manager, _seller, ana = shop
    for text, where in (("Solo en el muro", "wall"), ("Solo en la web", "website"), ("En ambos", "both")):
        tid = typed(app, business, ana, text, status="approved")
        with app.app_context(), bound(business.id):
            db.session.get(models.Testimonial, tid).publish_where = where
            db.session.commit()
    key = wall_key(app, business)
    assert sorted(wall_texts(app, key)) == ["En ambos", "Solo en el muro"]
    embed = app.test_client().get(f"/w/{key}/embed").get_data(as_text=True)
    assert sorted(re.findall(r"<blockquote>“([^”]*)”</blockquote>", embed)) == ["En ambos", "Solo en la web"]


def test_the_embed_of_a_business_without_testimonials_says_so_kindly(app, shop):
    business, _owner, _manager, _seller, ana = shop
    typed(app, business, ana, "Aún sin aprobar")               # pending: not shown
    key = wall_key(app, business)
    embed = app.test_client().get(f"/w/{key}/embed")
    html = embed.get_data(as_text=True)
    assert embed.status_code == 200 and "<blockquote>" not in html
    empty = re.search(r'data-testid="wall-empty">([^<]+)<', html)
    assert empty and "testimonios" in empty.group(1)                    # a sentence in the business's language
    assert business.name in html                                       # and the link back to the business's wall
