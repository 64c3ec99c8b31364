"""Public feedback links: TOK-1..4, the answer, the callback and the detractor."""
import re
import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pymes.accounts.models import Token
from pymes.complaints.models import Complaint
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback import services
from pymes.feedback.models import FeedbackResponse
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import csrf_token, login


@pytest.fixture
def shop(app, make):
    business, owner, manager, seller = make.team("Óptica Vista Clara")
    cid = make.client(business, "Rosa María Díaz", email="rosa@example.com", phone="+56987654321",
                      whatsapp="+56987654321", seller_id=seller.id).id
    return business, owner, manager, seller, cid


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(services, "MIN_FILL_SECONDS", 0)  # people in tests type fast


@pytest.fixture
def at_hour(monkeypatch):
    """Set the business's clock to ``hour`` o'clock today (its real today)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def set_hour(hour: int):
        monkeypatch.setattr(services, "local_now", lambda business: datetime.now(ZoneInfo(business.timezone)).replace(
            hour=hour, minute=30))

    return set_hour


def make_link(app, user, cid, send="share"):
    http = app.test_client()
    login(http, user.email)
    page = http.post(f"/clients/{cid}/feedback-links", data={"csrf_token": csrf_token(http, f"/clients/{cid}"),
                                                             "send": send})
    return http, page


def link_path(app, page) -> str:
    url = re.search(r'value="([^"]+/f/[^"]+)"', page.get_data(as_text=True)).group(1)
    return url.removeprefix(app.config["BASE_URL"])


def answer(http, path, **fields):
    form = http.get(path).get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1)}
    data.update(fields)
    return http.post(path, data=data)


def test_link_is_made_once_hashed_and_shared_by_whatsapp(app, shop):
    business, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    path = link_path(app, page)
    secret = path.rsplit("/", 1)[1]
    assert len(secret) >= 43
    assert "https://wa.me/56987654321?text=" in html and "Rosa" in html
    with app.app_context():
        hashes = set(db.session.execute(select(Token.token_hash).where(Token.purpose == "feedback")).scalars())
    assert hashes and secret not in hashes


def test_public_page_is_private_and_speaks_the_customer_s_language(app, shop):
    _b, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    path = link_path(app, page)
    customer = app.test_client()
    spanish = customer.get(path)
    html = spanish.get_data(as_text=True)
    assert spanish.status_code == 200 and '<html lang="es">' in html
    assert "Óptica Vista Clara" in html and "Rosa" in html
    for private in ("María Díaz", "rosa@example.com", "98765", "<script"):
        assert private not in html
    assert 'content="noindex' in html
    assert spanish.headers["Cache-Control"] == "no-store" and spanish.headers["Referrer-Policy"] == "no-referrer"
    english = customer.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english.get_data(as_text=True)


def test_a_happy_answer_is_saved_and_shown_on_the_client(app, shop, quick):
    business, _o, _m, seller, cid = shop
    http, page = make_link(app, seller, cid)
    customer = app.test_client()
    response = answer(customer, link_path(app, page), score="10", comment="¡Excelente atención!")
    assert response.status_code == 200
    with app.app_context(), bound(business.id):
        saved = db.session.execute(select(FeedbackResponse)).scalar_one()
        assert (saved.score, saved.comment, saved.client_id) == (10, "¡Excelente atención!", cid)
    timeline = http.get(f"/clients/{cid}").get_data(as_text=True)
    assert 'data-testid="timeline-feedback"' in timeline and "Excelente atención" in timeline


def test_a_detractor_with_a_callback_lands_in_the_seller_s_agenda(app, shop, outbox, quick, at_hour):
    business, owner, manager, seller, cid = shop
    at_hour(8)  # the morning is still ahead
    _http, page = make_link(app, seller, cid)
    answer(app.test_client(), link_path(app, page), score="3", comment="Los lentes llegaron rayados",
           callback="1", callback_channel="whatsapp", callback_window="morning")
    with app.app_context(), bound(business.id):
        calls = db.session.execute(select(Activity).where(Activity.purpose == "callback")).scalars().all()
    assert len(calls) == 1 and calls[0].seller_id == seller.id and calls[0].kind == "call"
    agenda = app.test_client()
    login(agenda, seller.email)
    today = agenda.get("/agenda").get_data(as_text=True).split('data-testid="today"')[1].split("</section>")[0]
    assert "Rosa María Díaz" in today
    told = sorted(m["To"] for m in outbox.messages() if m["X-Pymes-Template"] == "detractor")
    assert told == sorted([owner.email, manager.email])
    with app.app_context(), bound(business.id):
        case = db.session.execute(select(Complaint)).scalar_one()
    assert case.description == "Los lentes llegaron rayados" and case.owner_id == seller.id


def test_a_detractor_opens_a_complaint_for_the_responsible_seller(app, shop, outbox, quick):
    business, owner, manager, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    answer(app.test_client(), link_path(app, page), score="5")
    with app.app_context(), bound(business.id):
        case = db.session.execute(select(Complaint)).scalar_one()
        assert (case.owner_id, case.source, case.score_before, case.status) == (seller.id, "feedback", 5, "open")
        assert "5" in case.description  # no comment: the score says what happened
        assert db.session.execute(select(Activity)).first() is None  # the case is the to-do, not a second call
    told = [m for m in outbox.messages() if m["X-Pymes-Template"] == "detractor"]
    assert sorted(m["To"] for m in told) == sorted([owner.email, manager.email])
    assert f"/complaints/{case.id}" in told[0].get_body(preferencelist=("plain",)).get_content()
    board = app.test_client()
    login(board, seller.email)
    assert "Rosa María Díaz" in board.get("/complaints?show=mine").get_data(as_text=True)


def test_a_correction_down_to_detractor_opens_one_complaint(app, shop, quick):
    business, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    path = link_path(app, page)
    customer = app.test_client()
    answer(customer, path, score="9")
    answer(customer, path, score="2", comment="Al final se rompió")
    answer(customer, path, score="1", comment="Al final se rompió del todo")
    with app.app_context(), bound(business.id):
        cases = db.session.execute(select(Complaint)).scalars().all()
    assert len(cases) == 1 and cases[0].description == "Al final se rompió"


def test_bots_are_dropped_silently(app, shop):
    business, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    path = link_path(app, page)
    too_fast = answer(app.test_client(), path, score="0")  # no pause: under the minimum fill time
    honeypot = answer(app.test_client(), path, score="0", website="http://spam.example")
    assert too_fast.status_code == honeypot.status_code == 200
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackResponse)).first() is None


def test_long_comment_is_refused_with_the_text_kept(app, shop, quick):
    _b, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    long = "muy bueno " * 300
    response = answer(app.test_client(), link_path(app, page), score="8", comment=long)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="comment-error"' in html and long.strip() in html


def test_correct_within_24_hours_then_closed(app, shop, quick):
    business, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    path = link_path(app, page)
    customer = app.test_client()
    answer(customer, path, score="7")
    answer(customer, path, score="9", comment="Lo pensé mejor")
    with app.app_context(), bound(business.id):
        rows = db.session.execute(select(FeedbackResponse)).scalars().all()
        assert [(r.score, r.comment) for r in rows] == [(9, "Lo pensé mejor")]
        db.session.execute(update(FeedbackResponse).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    page = customer.get(path)
    assert page.status_code == 200 and 'name="score"' not in page.get_data(as_text=True)  # no form any more
    closed = customer.post(path, data={"csrf_token": csrf_token(customer, "/login"), "score": "2",
                                       "stamp": _old_stamp(app)})
    assert closed.status_code == 200
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackResponse.score)).scalar_one() == 9


def _old_stamp(app) -> str:
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(app.config["SECRET_KEY"], salt="feedback-form").dumps(0)


def test_unknown_expired_and_revoked_links_are_the_same_404(app, shop):
    business, _o, _m, seller, cid = shop
    http, first = make_link(app, seller, cid)
    expired_path = link_path(app, first)
    _again, second = make_link(app, seller, cid)
    revoked_path = link_path(app, second)
    with app.app_context():
        secret = expired_path.rsplit("/", 1)[1]
        from pymes.security import hash_secret

        db.session.execute(update(Token).where(Token.token_hash == hash_secret(secret))
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    with app.app_context(), bound(business.id):
        from pymes.feedback.models import FeedbackLink

        link_id = db.session.execute(select(FeedbackLink.id).order_by(FeedbackLink.id.desc())).scalars().first()
    http.post(f"/clients/{cid}/feedback-links/{link_id}/revoke", data={"csrf_token": csrf_token(http, "/")})
    visitor = app.test_client()
    bodies = set()
    for path in (expired_path, revoked_path, "/f/" + secrets.token_urlsafe(32)):
        response = visitor.get(path)
        assert response.status_code == 404
        bodies.add(re.sub(r'"[\w.-]{40,}"', '"x"', response.get_data(as_text=True)))
    assert len(bodies) == 1


def test_ten_thousand_guesses_find_nothing(app, shop):
    """TOK-1: random 256-bit guesses: 0 hits, identical 404s."""
    from pymes.extensions import limiter

    limiter.enabled = False
    _b, _o, _m, seller, cid = shop
    make_link(app, seller, cid)
    visitor = app.test_client()
    statuses = {visitor.get("/f/" + secrets.token_urlsafe(32)).status_code for _ in range(10_000)}
    assert statuses == {404}


def test_invalid_lookups_are_rate_limited_per_ip(app, shop):
    visitor = app.test_client()
    codes = [visitor.get("/f/" + secrets.token_urlsafe(32)).status_code for _ in range(61)]
    assert codes[:60] == [404] * 60 and codes[60] == 429


def test_concurrent_submits_make_exactly_one_answer(app, shop, quick):
    business, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    path = link_path(app, page)
    clients = [app.test_client() for _ in range(5)]
    forms = []
    for c in clients:
        html = c.get(path).get_data(as_text=True)
        forms.append({"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
                      "stamp": re.search(r'name="stamp" value="([^"]+)"', html).group(1), "score": "4"})
    barrier = threading.Barrier(len(clients))
    results = []

    def submit(c, data):
        barrier.wait()
        results.append(c.post(path, data=data).status_code)

    threads = [threading.Thread(target=submit, args=(c, f)) for c, f in zip(clients, forms, strict=False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code < 500 for code in results), results
    with app.app_context(), bound(business.id):
        assert len(db.session.execute(select(FeedbackResponse)).all()) == 1
        assert len(db.session.execute(select(Complaint)).all()) == 1


def test_email_request_has_one_click_scores(app, shop, outbox):
    _b, _o, _m, seller, cid = shop
    make_link(app, seller, cid, send="email")
    message = outbox.last("rosa@example.com")
    body = message.get_body().get_content()
    links = re.findall(r"https?://\S+\?score=(\d+)", body)
    assert links == [str(n) for n in range(11)]
    path = re.search(r"https?://[^/\s]+(/f/\S+)\?score=9", body).group(1)
    preselected = app.test_client().get(path + "?score=9").get_data(as_text=True)
    assert 'value="9" checked' in preselected


def test_unconfirmed_users_cannot_send_links(app, make):
    business = make.business()
    pending = make.user(business, confirmed=False)
    cid = make.client(business, "X").id
    http = app.test_client()
    login(http, pending.email)
    response = http.post(f"/clients/{cid}/feedback-links", data={"csrf_token": csrf_token(http, "/")})
    assert response.status_code == 303 and response.headers["Location"].endswith("/")


def test_the_public_page_speaks_portuguese_and_russian(app, shop, quick):
    business, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    path = link_path(app, page)
    customer = app.test_client()
    russian = customer.get(path, headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert '<html lang="ru">' in russian and "Как мы справились?" in russian and "Утром (9–12)" in russian
    portuguese = customer.get(path, headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert '<html lang="pt">' in portuguese and "como nos saímos?" in portuguese
    thanks = answer(customer, path + "?lang=ru", score="10").get_data(as_text=True)
    assert "Спасибо!" in thanks
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackResponse.language)).scalar_one() == "ru"


def test_the_link_comes_with_a_qr_code(app, shop):
    import base64

    _b, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    html = page.get_data(as_text=True)
    svg = re.search(r'src="data:image/svg\+xml[^"]*"', html)
    png = re.search(r'href="data:image/png;base64,([^"]+)"', html)
    assert svg and png
    assert base64.b64decode(png.group(1)).startswith(b"\x89PNG")


def test_tampered_fields_get_an_answer_not_a_500(app, shop, quick):
    business, _o, _m, seller, cid = shop
    _http, page = make_link(app, seller, cid)
    response = answer(app.test_client(), link_path(app, page), score="99999999999999999999",
                      callback="1", callback_channel="x" * 50, callback_window="y" * 50)
    assert response.status_code == 422
    ok = answer(app.test_client(), link_path(app, page), score="8", callback="1", callback_channel="phone",
                callback_window="z" * 40)
    assert ok.status_code == 200
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackResponse.callback_window)).scalar_one() is None
