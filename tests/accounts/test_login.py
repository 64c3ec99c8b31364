"""Log-in, log-out, sessions and their limits (AUTH-1..3, SES-1)."""
from datetime import timedelta

from sqlalchemy import select

from pymes.accounts.models import User, UserSession
from pymes.extensions import db
from pymes.security import hash_password
from pymes.tenancy import identity_lookup

from ..factories import PASSWORD, csrf_token, login


def test_wrong_password_and_unknown_email_answer_the_same(client, make):
    business = make.business()
    user = make.user(business)
    wrong = login(client, user.email, "not the password at all")
    unknown = login(client, "nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 422

    def message(response):
        html = response.get_data(as_text=True)
        return html[html.index('class="form-error"'):].split("</p>")[0]

    assert message(wrong) == message(unknown)


def test_login_remembers_email_but_not_password_on_failure(client, make):
    user = make.user(make.business())
    html = login(client, user.email, "wrong-password-123").get_data(as_text=True)
    assert f'value="{user.email}"' in html
    assert "wrong-password-123" not in html


def test_password_hash_is_argon2id_at_owasp_floor():
    stored = hash_password("something long enough")
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2


def test_logout_invalidates_the_session_server_side(client, make, app):
    user = make.user(make.business())
    login(client, user.email)
    cookie = client.get_cookie("session")
    assert "Persona" in client.get("/").get_data(as_text=True) or user.name in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    # Replaying the old cookie does not bring the session back.
    thief = app.test_client()
    thief.set_cookie(cookie.key, cookie.value)
    assert thief.get("/team").status_code == 302


def test_cookies_are_httponly_lax_and_secure_outside_development(make, database, tmp_path):
    from pymes import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database[0], "SESSION_COOKIE_SECURE": True,
                      "REMEMBER_COOKIE_SECURE": True, "MAIL_OUTBOX_DIR": str(tmp_path)})
    user = make.user(make.business())
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD,
                                           "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_password_change_ends_other_sessions(app, make):
    user = make.user(make.business())
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user.email)
    login(laptop, user.email)
    response = laptop.post("/settings/password", data={
        "csrf_token": csrf_token(laptop, "/settings/profile"),
        "password-current_password": PASSWORD,
        "password-password": "a brand new password",
    })
    assert response.status_code == 303
    assert laptop.get("/team").status_code == 200
    assert phone.get("/team").status_code == 302  # sent to log in


def test_wrong_current_password_is_refused_beside_the_field(client, make):
    user = make.user(make.business())
    login(client, user.email)
    response = client.post("/settings/password", data={
        "csrf_token": csrf_token(client, "/settings/profile"),
        "password-current_password": "not my password",
        "password-password": "a brand new password",
    })
    assert response.status_code == 422
    assert 'id="password-current_password-error"' in response.get_data(as_text=True)


def test_deactivated_member_is_logged_out_and_cannot_log_in(app, make):
    business, owner, _manager, seller = make.team()
    seller_client, owner_client = app.test_client(), app.test_client()
    login(seller_client, seller.email)
    login(owner_client, owner.email)
    response = owner_client.post(f"/team/members/{seller.id}/deactivate",
                                 data={"csrf_token": csrf_token(owner_client, "/team")})
    assert response.status_code == 200
    assert seller_client.get("/").status_code == 200 and seller.name not in seller_client.get("/").get_data(as_text=True)
    assert login(app.test_client(), seller.email).status_code == 422


def test_ten_attempts_per_minute_per_ip(app, make):
    user = make.user(make.business())
    client = app.test_client()
    statuses = [login(client, f"someone{i}@example.com", "wrong-password").status_code for i in range(10)]
    assert 429 not in statuses
    assert login(client, user.email).status_code == 429  # even right credentials wait
    page = login(client, user.email).get_data(as_text=True)
    assert user.email not in page  # generic page


def test_ten_failures_per_account_across_ips(app, make):
    user = make.user(make.business())
    for i in range(10):
        ip_client = app.test_client()
        response = ip_client.post("/login", data={"csrf_token": csrf_token(ip_client), "email": user.email,
                                                  "password": "wrong"}, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
        assert response.status_code == 422
    fresh = app.test_client()
    blocked = fresh.post("/login", data={"csrf_token": csrf_token(fresh), "email": user.email, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert blocked.status_code == 429
    # Another account from that address is not affected.
    other = make.user(make.business())
    other_client = app.test_client()
    ok = other_client.post("/login", data={"csrf_token": csrf_token(other_client), "email": other.email,
                                           "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert ok.status_code == 303


def test_successful_logins_do_not_count_as_failures(app, make):
    user = make.user(make.business())
    for i in range(12):
        c = app.test_client()
        ok = c.post("/login", data={"csrf_token": csrf_token(c), "email": user.email, "password": PASSWORD},
                    environ_base={"REMOTE_ADDR": f"10.1.0.{i}"})
        assert ok.status_code == 303


def test_session_rows_are_created_and_revoked(app, client, make):
    user = make.user(make.business())
    login(client, user.email)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    with app.app_context():
        rows = db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalars().all()
        assert len(rows) == 1 and rows[0].revoked_at is not None
        with identity_lookup():
            assert db.session.execute(select(User).where(User.id == user.id)).scalar_one().last_login_at


def test_limits_fall_back_to_memory_when_redis_is_down(database, make, tmp_path):
    """OPS-3: with Redis unreachable, log-in works and the limit still holds."""
    from pymes import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database[0], "MAIL_OUTBOX_DIR": str(tmp_path),
                      "REDIS_URL": "redis://127.0.0.1:1/0", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
    user = make.user(make.business())
    client = app.test_client()
    assert login(client, user.email).status_code == 303
    other = app.test_client()
    statuses = [login(other, "nadie@example.com", "wrong-password").status_code for _ in range(11)]
    assert statuses[-1] == 429
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
