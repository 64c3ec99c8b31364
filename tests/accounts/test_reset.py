"""Password reset (AUTH-3, AUTH-4)."""
from datetime import timedelta

from sqlalchemy import select, update

from pymes.accounts.models import Token
from pymes.db import utcnow
from pymes.extensions import db

from ..factories import csrf_token, login


def ask_reset(client, email, base_url="http://localhost"):
    page = client.get("/password/forgot", base_url=base_url).get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post("/password/forgot", data={"csrf_token": token, "email": email}, base_url=base_url)
    response.close()  # as the server does once the answer is sent: the e-mail goes out then
    return response


def reset(client, path, password="my new long password"):
    return client.post(path, data={"csrf_token": csrf_token(client, path), "password": password,
                                   "confirm": password})


def test_known_and_unknown_email_get_the_same_answer(client, make, outbox):
    user = make.user(make.business())
    known, unknown = ask_reset(client, user.email), ask_reset(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert [m["To"] for m in outbox.messages()] == [user.email]


def test_reset_link_uses_base_url_not_the_host_header(client, make, outbox):
    user = make.user(make.business())
    ask_reset(client, user.email, base_url="http://evil.example")
    assert outbox.link(user.email, "/password/reset/").startswith("http://fideliza.test/password/reset/")


def test_reset_changes_the_password_once(client, make, outbox, app):
    user = make.user(make.business())
    ask_reset(client, user.email)
    path = outbox.link(user.email, "/password/reset/").removeprefix("http://fideliza.test")
    assert len(path.rsplit("/", 1)[1]) >= 43
    assert reset(client, path).status_code == 303
    assert login(app.test_client(), user.email, "my new long password").status_code == 303
    second = reset(client, path, "yet another password")
    assert second.status_code == 410
    assert login(app.test_client(), user.email, "yet another password").status_code == 422


def test_reset_link_expires_after_30_minutes(client, make, outbox, app):
    user = make.user(make.business())
    ask_reset(client, user.email)
    path = outbox.link(user.email, "/password/reset/").removeprefix("http://fideliza.test")
    with app.app_context():
        token = db.session.execute(select(Token).where(Token.purpose == "reset_password")).scalar_one()
        life = token.expires_at - token.created_at
        assert timedelta(minutes=29) < life <= timedelta(minutes=30, seconds=1)
        db.session.execute(update(Token).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    page = client.get(path)
    assert page.status_code == 410
    assert reset(client, path).status_code == 410


def test_reset_ends_every_session(app, make, outbox):
    user = make.user(make.business())
    logged_in = app.test_client()
    login(logged_in, user.email)
    other = app.test_client()
    ask_reset(other, user.email)
    reset(other, outbox.link(user.email, "/password/reset/").removeprefix("http://fideliza.test"))
    assert logged_in.get("/team").status_code == 302


def test_mismatched_passwords_are_explained(client, make, outbox):
    user = make.user(make.business())
    ask_reset(client, user.email)
    path = outbox.link(user.email, "/password/reset/").removeprefix("http://fideliza.test")
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "password": "a long password 1",
                                       "confirm": "a long password 2"})
    assert response.status_code == 422
    assert 'id="confirm-error"' in response.get_data(as_text=True)
