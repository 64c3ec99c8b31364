"""Test factories. Every tenant-owned row is created with an explicit tenant."""
from __future__ import annotations

import itertools
import re
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pymes.accounts.models import Business, Invitation, User
from pymes.db import utcnow
from pymes.extensions import db
from pymes.security import hash_password
from pymes.tenancy import bound

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)


class Factory:
    def __init__(self, app):
        self.app = app

    def business(self, name: str | None = None, **fields) -> Business:
        n = next(_seq)
        values = dict(name=name or f"Negocio {n}", country="CL", currency="CLP", timezone="America/Santiago",
                      language="es")
        values.update(fields)
        with self.app.app_context():
            business = Business(**values)
            db.session.add(business)
            db.session.commit()
            db.session.refresh(business)
            db.session.expunge(business)
            return business

    def user(self, business: Business, role: str = "owner", email: str | None = None, name: str | None = None,
             confirmed: bool = True, language: str = "es", **fields) -> User:
        n = next(_seq)
        with self.app.app_context(), bound(business.id):
            user = User(tenant_id=business.id, email=email or f"user{n}@example.com", name=name or f"Persona {n}",
                        password_hash=password_hash(), role=role, language=language,
                        email_confirmed_at=utcnow() if confirmed else None, **fields)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    def invitation(self, business: Business, inviter: User, email: str | None = None, role: str = "seller",
                   **fields) -> Invitation:
        from datetime import timedelta

        n = next(_seq)
        with self.app.app_context(), bound(business.id):
            invitation = Invitation(tenant_id=business.id, email=email or f"invitee{n}@example.com", role=role,
                                    invited_by_id=inviter.id, name=fields.pop("name", ""),
                                    expires_at=utcnow() + timedelta(days=7), **fields)
            db.session.add(invitation)
            db.session.commit()
            db.session.refresh(invitation)
            db.session.expunge(invitation)
            return invitation

    def team(self, name: str | None = None):
        """A business with an owner, a manager and a seller."""
        business = self.business(name)
        owner = self.user(business, "owner")
        manager = self.user(business, "manager")
        seller = self.user(business, "seller")
        return business, owner, manager, seller


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page like a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no csrf-token meta tag"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD, follow: bool = False):
    """Log in through the real form."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password},
                       follow_redirects=follow)


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token, like the browser would."""
    payload = {"csrf_token": csrf_token(client, kwargs.pop("token_page", "/login"))}
    payload.update(data or {})
    return client.post(path, data=payload, **kwargs)


@contextmanager
def statements(app):
    """The SQL statements run inside the ``with`` block, as a list that fills as they run
    (PostgreSQL's per-transaction tenant binding, ``set_config``, left out: it is no query
    of the page's)."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def counter(conn, cursor, statement, *args):
        if "set_config" not in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def santiago_today() -> date:
    """Today in America/Santiago, the test businesses' zone: the app dates sales and
    contacts by the business's day, so between 00:00 and 03:00 UTC ``date.today()`` is
    already tomorrow there (a sale "in the future", a figure that misses it)."""
    return datetime.now(ZoneInfo("America/Santiago")).date()
