"""Sign-up, e-mail confirmation and the answers to bad input."""
from sqlalchemy import select

from pymes.accounts.models import Business, Token, User
from pymes.extensions import db
from pymes.tenancy import identity_lookup

from ..factories import PASSWORD, csrf_token

SIGNUP = {
    "business_name": "Panadería La Espiga",
    "name": "Rosa Díaz",
    "email": "Rosa@Example.com",
    "password": "una clave bien larga",
    "country": "CL",
    "currency": "CLP",
    "timezone": "America/Santiago",
    "language": "es",
}


def signup(client, **changes):
    data = dict(SIGNUP, csrf_token=csrf_token(client, "/signup"))
    data.update(changes)
    return client.post("/signup", data=data)


def test_signup_confirm_and_land_on_own_home(client, outbox, app):
    response = signup(client)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/check-email/signup")

    message = outbox.last("rosa@example.com")
    link = outbox.link("rosa@example.com", "/confirm/")
    assert link.startswith("http://fideliza.test/confirm/")
    # Not logged in until the address is confirmed.
    assert "Panadería La Espiga" not in client.get("/").get_data(as_text=True)

    path = link.removeprefix("http://fideliza.test")
    assert client.get(path).status_code == 200
    confirmed = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert confirmed.status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert "Panadería La Espiga" in home
    assert "Rosa Díaz" in home
    assert message["Subject"]

    with app.app_context(), identity_lookup():
        user = db.session.execute(select(User).where(User.email == "rosa@example.com")).scalar_one()
        assert user.role == "owner" and user.email_confirmed
        business = db.session.get(Business, user.tenant_id)
        assert (business.currency, business.timezone, business.language) == ("CLP", "America/Santiago", "es")


def test_confirmation_link_works_once(client, outbox):
    signup(client)
    path = outbox.link(path_part="/confirm/").removeprefix("http://fideliza.test")
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    again = client.get(path)
    assert again.status_code == 410
    assert "link" in again.get_data(as_text=True).lower()


def test_unknown_confirmation_link_is_a_clear_404(client):
    page = client.get("/confirm/not-a-real-token")
    assert page.status_code == 404
    assert 'data-testid="link-problem"' in page.get_data(as_text=True)


def test_duplicate_email_gets_the_same_answer_and_an_email_instead(client, outbox, make, app):
    business = make.business("Existente")
    make.user(business, email="rosa@example.com")
    first = signup(client)
    assert first.status_code == 303 and first.headers["Location"].endswith("/check-email/signup")
    # The owner of the address hears about it by e-mail; no second business exists.
    assert outbox.last("rosa@example.com")["X-Pymes-Template"] == "account_exists"
    with app.app_context():
        names = db.session.execute(select(Business.name)).scalars().all()
    assert "Panadería La Espiga" not in names


def test_rejected_signup_keeps_what_was_typed(client):
    response = signup(client, email="not-an-email", password="short")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Panadería La Espiga"' in html
    assert 'value="Rosa Díaz"' in html
    assert 'value="not-an-email"' in html
    assert html.count('aria-invalid="true"') == 2
    assert "short" not in html.split('name="password"')[1].split(">")[0]  # passwords are never echoed
    assert 'id="email-error"' in html and 'id="password-error"' in html


def test_too_long_business_name_is_refused_with_a_message(client):
    response = signup(client, business_name="x" * 121)
    assert response.status_code == 422
    assert 'id="business_name-error"' in response.get_data(as_text=True)


def test_unknown_country_or_currency_is_refused(client):
    response = signup(client, country="XX", currency="ZZZ")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="country-error"' in html and 'id="currency-error"' in html


def test_non_utf8_body_gets_an_answer_not_a_500(client):
    token = csrf_token(client, "/signup")
    body = b"csrf_token=" + token.encode() + b"&business_name=%FF%FE%FD&name=Ana&email=ana%40example.com"
    response = client.post("/signup", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 422)


def test_country_change_suggests_currency_zone_and_language(client):
    fragment = client.get("/signup/defaults?country=US", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'selected value="USD"' in fragment
    assert 'selected value="en"' in fragment
    assert "<html" not in fragment


def test_tokens_are_stored_hashed(client, outbox, app):
    signup(client)
    secret = outbox.link(path_part="/confirm/").rsplit("/", 1)[1]
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    with app.app_context():
        stored = db.session.execute(select(Token.token_hash)).scalars().all()
    assert stored and secret not in stored


def test_existing_password_never_needed_for_duplicate(make):
    # The factory password is long enough for the form's rule.
    assert len(PASSWORD) >= 12


def test_default_time_zone_is_where_most_people_live(client):
    chile = client.get("/signup/defaults?country=CL").get_data(as_text=True)
    assert 'selected value="America/Santiago"' in chile
    spain = client.get("/signup/defaults?country=ES").get_data(as_text=True)
    assert 'selected value="Europe/Madrid"' in spain and 'selected value="EUR"' in spain


def test_country_select_is_wired_to_htmx(client):
    html = client.get("/signup").get_data(as_text=True)
    assert 'data-hx-get="/signup/defaults"' in html and "hx_get" not in html
