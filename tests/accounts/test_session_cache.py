"""The per-worker session cache (issue 24, point 4; SES-1).

A worker keeps the log-in sessions it has seen live; a kept page then reads its
business's data version instead of the session, its user and business. Whatever ends a
session bumps that version in the same transaction, so revocation is immediate on every
worker: two app instances on one database stand for two gunicorn workers, each with its
own memory."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from pymes import create_app

from ..conftest import _BYTECODE
from ..factories import PASSWORD, csrf_token, login, statements

SHARED = ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "BASE_URL", "MAIL_SERVER", "MAIL_OUTBOX_DIR",
          "REDIS_URL", "RATELIMIT_STORAGE_URI", "SERVER_NAME")


@pytest.fixture
def second_worker(app):
    """Another app instance on the same database: its own engine, pool and caches."""
    other = create_app({key: app.config[key] for key in SHARED})
    other.jinja_env.bytecode_cache = _BYTECODE
    yield other
    from pymes.extensions import db

    with other.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@contextmanager
def same_browser(first, second_app):
    """A test client of ``second_app`` carrying ``first``'s cookies: the same browser,
    its next request served by the other worker."""
    other = second_app.test_client()
    for cookie in (first.get_cookie("session"), first.get_cookie("remember_token")):
        if cookie is not None:
            other.set_cookie(cookie.key, cookie.value)
    yield other


def _warm(http, path="/clients"):
    for _ in range(2):
        answer = http.get(path)
        assert answer.status_code == 200, answer.status_code


def _session_lookups(app, http, path="/clients"):
    with statements(app) as seen:
        answer = http.get(path)
    assert answer.status_code == 200
    return [s for s in seen if "user_sessions" in s]


def test_a_kept_page_makes_no_session_query(app, make):
    business, owner, _manager, _seller = make.team("Ferretería Memoria")
    http = app.test_client()
    login(http, owner.email)
    _warm(http)
    assert _session_lookups(app, http) == []
    assert "Ferretería Memoria" in http.get("/clients").get_data(as_text=True)


def test_log_out_on_one_worker_ends_the_session_on_the_other_at_once(app, make, second_worker):
    business, owner, _manager, _seller = make.team("Ferretería Dos Procesos")
    first = app.test_client()
    login(first, owner.email)
    with same_browser(first, second_worker) as second:
        _warm(first)
        _warm(second)  # both workers keep the session now
        assert _session_lookups(second_worker, second) == []
        answer = first.post("/logout", data={"csrf_token": csrf_token(first, "/")})
        assert answer.status_code == 303
        gone = second.get("/clients")
        assert gone.status_code == 302 and "/login" in gone.headers["Location"]


def test_a_password_change_ends_the_other_devices_on_every_worker_at_once(app, make, second_worker):
    business, owner, _manager, _seller = make.team("Ferretería Clave Nueva")
    phone = app.test_client()
    login(phone, owner.email)
    laptop = app.test_client()
    login(laptop, owner.email)
    with same_browser(laptop, second_worker) as laptop_elsewhere:
        _warm(laptop)
        _warm(laptop_elsewhere)
        _warm(phone)
        changed = phone.post("/settings/password", data={
            "csrf_token": csrf_token(phone, "/settings/profile"), "password-current_password": PASSWORD,
            "password-password": "a brand new password"})
        assert changed.status_code == 303
        for other in (laptop, laptop_elsewhere):
            gone = other.get("/clients")
            assert gone.status_code == 302 and "/login" in gone.headers["Location"]
        assert phone.get("/clients").status_code == 200  # the device that changed it stays in


def test_a_deactivated_member_is_out_on_every_worker_at_once(app, make, second_worker):
    business, owner, _manager, seller = make.team("Ferretería Baja")
    seller_browser = app.test_client()
    login(seller_browser, seller.email)
    with same_browser(seller_browser, second_worker) as elsewhere:
        _warm(seller_browser, "/agenda")
        _warm(elsewhere, "/agenda")
        with app.app_context():
            from pymes.accounts.models import User
            from pymes.accounts.services import set_active
            from pymes.extensions import db
            from pymes.tenancy import bound

            with bound(business.id):
                set_active(db.session.get(User, owner.id), db.session.get(User, seller.id), False)
        for browser in (seller_browser, elsewhere):
            gone = browser.get("/agenda")
            assert gone.status_code == 302 and "/login" in gone.headers["Location"]


def test_an_expired_kept_session_is_refused(app, make, monkeypatch):
    from datetime import timedelta

    from pymes.accounts import services
    from pymes.db import utcnow

    business, owner, _manager, _seller = make.team("Ferretería Vencida")
    http = app.test_client()
    login(http, owner.email)
    _warm(http)
    later = utcnow() + timedelta(days=app.config["SESSION_LIFETIME_DAYS"], minutes=1)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    gone = http.get("/clients")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
