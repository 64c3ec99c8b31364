"""Test factories. Every tenant-owned row is created with an explicit tenant.

``make`` (the fixture in ``conftest.py``) is a :class:`Factory` bound to the test's app.
Each domain factory takes the business (the object or its id) and keyword fields,
binds that tenant itself, writes through the app's own service where one exists (so the
row is what the app would write: a phone normalised, a sale's plan and the client's rung,
a complaint's clocks), commits, and returns the object refreshed and detached *while the
tenant is still bound* (on PostgreSQL row-level security finds no row for an unbound
refresh). Fields the service does not take (a client's ``tier``, a complaint's
``status``) are set on the row after it, in the same factory call."""
from __future__ import annotations

import itertools
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pymes.accounts.models import Business, Invitation, User
from pymes.clients import services as client_services
from pymes.clients.models import Client, ClientSpecialist
from pymes.complaints.models import Complaint
from pymes.complaints.services import open_complaint
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback import services as feedback_services
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.i18n import business_today
from pymes.referrals import services as referral_services
from pymes.referrals.models import Referral, Testimonial
from pymes.sales.models import Sale
from pymes.sales.services import record_sale
from pymes.security import hash_password
from pymes.tenancy import bound
from pymes.territories import services as territory_services
from pymes.territories.models import Portfolio, Territory
from pymes.visits.models import Activity
from pymes.visits.services import plan_contact

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

    # --- the domain -------------------------------------------------------------------------
    # Each returns the object detached, loaded while its tenant was bound; ``.id`` is what
    # most tests keep. Arguments naming another object (client, link, actor…) take the
    # object or its id.

    @contextmanager
    def _in(self, business):
        """A request context (services build links with ``url_for``) with ``business``
        bound; yields the Business row."""
        business_id = _id(business)
        with self.app.test_request_context(), bound(business_id):
            yield db.session.get(Business, business_id)

    @staticmethod
    def _detached(obj):
        db.session.refresh(obj)
        db.session.expunge(obj)
        return obj

    @staticmethod
    def _set(obj, fields: dict) -> None:
        """Columns the service does not take, written on its row and committed."""
        if fields:
            for key, value in fields.items():
                setattr(obj, key, value)
            db.session.commit()

    def client(self, business, name: str | None = None, **fields) -> Client:
        """A client through ``clients.services.save_client`` (the form's path: phone and
        WhatsApp as typed, read in the business's country; e-mail lower-cased). Fields the
        form does not have (``tier``, ``deleted_at``, ``sales_count``…) are set after it."""
        n = next(_seq)
        editable = {"name": name or f"José Muñoz Peña {n}"}
        rest = {}
        for key, value in fields.items():
            (editable if key in client_services.EDITABLE else rest)[key] = value
        with self._in(business) as row:
            client = client_services.save_client(None, editable, row.country)
            self._set(client, rest)
            return self._detached(client)

    def clients(self, business, *names: str, **fields) -> list[Client]:
        """Several clients with the same fields, one per name."""
        return [self.client(business, name, **fields) for name in names]

    def specialist(self, business, client, user, product_line: str = "Herramientas eléctricas") -> ClientSpecialist:
        """A client's specialist seller for a product line, through ``add_specialist``."""
        with self._in(business):
            target = db.session.get(Client, _id(client))
            client_services.add_specialist(target, _id(user), product_line)
            specialist = db.session.execute(select(ClientSpecialist).where(
                ClientSpecialist.client_id == target.id, ClientSpecialist.product_line == product_line.strip()[:80])
            ).scalar_one()
            return self._detached(specialist)

    def sale(self, business, client, amount: int = 100_000, *, sold_on: date | None = None,
             description: str = "Taladro percutor", product_line: str = "", margin: int | None = None,
             seller_id: int | None = None, delivery_on: date | None = None, actor=None, **fields) -> Sale:
        """A sale through ``sales.services.record_sale``: the client's figures and rung are
        recomputed and the post-sale plan (delivery visit, follow-up call) is made, as in
        the app. ``amount`` and ``margin`` are in the business's minor units (CLP: pesos;
        USD: cents); ``sold_on`` defaults to the business's today and cannot be later."""
        with self._in(business) as row:
            target = db.session.get(Client, _id(client))
            sale = record_sale(target, sold_on=sold_on or business_today(row), description=description,
                               product_line=product_line, amount=amount, margin=margin,
                               seller_id=seller_id, delivery_on=delivery_on,
                               actor=self._user(actor), today=business_today(row))
            self._set(sale, fields)
            return self._detached(sale)

    def activity(self, business, client, kind: str = "visit", *, due_on: date | None = None, purpose: str = "other",
                 seller_id: int | None = None, status: str = "planned", **fields) -> Activity:
        """A visit or a call. A planned contact by hand from today on goes through
        ``visits.services.plan_contact``; any other (a sale's delivery visit, an overdue
        call, one already logged) is written as the row those services write, without
        the check-in that ``log_outcome`` would plan next (a logged one gets ``done_at``
        now unless given; ``done_on`` follows from it)."""
        with self._in(business) as row:
            target = db.session.get(Client, _id(client))
            today = business_today(row)
            due_on = due_on or today
            if status == "planned" and purpose == "other" and due_on >= today and not fields.keys() - {"notes"}:
                activity = plan_contact(target, kind=kind, due_on=due_on, seller_id=seller_id, today=today,
                                        notes=fields.get("notes", ""))
            else:
                if status != "planned":
                    fields.setdefault("done_at", utcnow())
                activity = Activity(client_id=target.id, seller_id=seller_id or target.seller_id, kind=kind,
                                    purpose=purpose, due_on=due_on, status=status, **fields)
                db.session.add(activity)
                db.session.commit()
            return self._detached(activity)

    def visit(self, business, client, **fields) -> Activity:
        return self.activity(business, client, "visit", **fields)

    def call(self, business, client, **fields) -> Activity:
        return self.activity(business, client, "call", **fields)

    def feedback_link(self, business, client, *, actor=None, sent_by: str = "link", sale_id: int | None = None,
                      **fields) -> FeedbackLink:
        """A feedback link through ``feedback.services.create_link``; its secret (only the
        hash is stored) is on ``link.secret``, the public page at ``/f/<secret>``. Its
        expiry and revocation live in the token: change them there, not on the row."""
        with self._in(business):
            target = db.session.get(Client, _id(client))
            secret = feedback_services.create_link(target, self._user(actor), sent_by=sent_by, sale_id=sale_id)
            link = db.session.execute(select(FeedbackLink).where(FeedbackLink.client_id == target.id)
                                      .order_by(FeedbackLink.id.desc()).limit(1)).scalar_one()
            self._set(link, fields)
            link = self._detached(link)
        link.secret = secret
        return link

    def answer(self, business, link=None, score: int = 9, comment: str = "", *, client=None, callback: bool = False,
               channel: str | None = None, window: str | None = None, language: str = "es",
               **fields) -> FeedbackResponse:
        """The customer's answer through ``feedback.services.answer`` (a low score opens
        its complaint, a callback plans its call, as on the public page). Without ``link``
        a new one is made for ``client``."""
        if link is None:
            link = self.feedback_link(business, client)
        with self._in(business) as row:
            target = db.session.get(FeedbackLink, _id(link))
            response = feedback_services.answer(target, db.session.get(Client, target.client_id), score=score,
                                                comment=comment, callback=callback, channel=channel, window=window,
                                                language=language, country=row.country)
            self._set(response, fields)
            return self._detached(response)

    def complaint(self, business, client, *, actor=None, category: str = "quality",
                  description: str = "Llegó con una pata rota", **fields) -> Complaint:
        """A case through ``complaints.services.open_complaint`` (owner, priority and
        clocks as the app sets them). Its service arguments (severity, sale_id, owner_id,
        source…) pass through; other columns (``status``…) are set after it."""
        service_args = {k: fields.pop(k) for k in ("severity", "sale_id", "owner_id", "source",
                                                   "feedback_response_id", "activity_id", "score_before")
                        if k in fields}
        with self._in(business):
            target = db.session.get(Client, _id(client))
            complaint = open_complaint(target, self._user(actor), category=category, description=description,
                                       **service_args)
            self._set(complaint, fields)
            return self._detached(complaint)

    def referral(self, business, referrer, name: str | None = None, contact: str | None = None, *,
                 source: str = "manual", friend_consent: bool = True, **fields) -> Referral:
        """A referral through ``referrals.services.read_friend`` and ``add_referral``: the
        friend becomes a prospect of the referrer's seller (or is linked to the client
        already in the book with that contact)."""
        n = next(_seq)
        service_args = {k: fields.pop(k) for k in ("feedback_response_id", "created_by_id", "activity_id")
                        if k in fields}
        with self._in(business) as row:
            target = db.session.get(Client, _id(referrer))
            friend = referral_services.read_friend(name or f"Amiga Núñez {n}", contact or f"amiga{n}@example.com",
                                                   row.country, target)
            assert not friend.errors, friend.errors
            referral = referral_services.add_referral(target, friend, source=source, friend_consent=friend_consent,
                                                      **service_args)
            db.session.commit()
            self._set(referral, fields)
            return self._detached(referral)

    def testimonial(self, business, client, text: str = "Muy buena atención, volveré", *,
                    name_display: str = "first", may_publish: bool = True, source: str = "seller",
                    status: str | None = None, reviewer=None, **fields) -> Testimonial:
        """A testimonial through ``referrals.services.save_testimonial`` (pending, the team
        told); ``status="approved"`` or ``"rejected"`` reviews it with ``review`` (the
        client's rung recomputed), by ``reviewer`` if given."""
        service_args = {k: fields.pop(k) for k in ("feedback_response_id", "publish_where", "actor_id")
                        if k in fields}
        service_args.setdefault("feedback_response_id", None)
        with self._in(business):
            target = db.session.get(Client, _id(client))
            testimonial = referral_services.save_testimonial(target, text, name_display, may_publish,
                                                             source=source, **service_args)
            db.session.commit()
            if status in ("approved", "rejected"):
                referral_services.review(testimonial, status, _id(reviewer) if reviewer is not None else None)
            elif status is not None:
                fields["status"] = status
            self._set(testimonial, fields)
            return self._detached(testimonial)

    def territory(self, business, name: str | None = None, *, sellers=None, description: str = "",
                  **fields) -> Territory:
        return self._grouping(territory_services.TERRITORY, business, name or f"Zona Ñuble {next(_seq)}", sellers,
                              description, fields)

    def portfolio(self, business, name: str | None = None, *, sellers=None, description: str = "",
                  **fields) -> Portfolio:
        return self._grouping(territory_services.PORTFOLIO, business, name or f"Cartera Ñandú {next(_seq)}", sellers,
                              description, fields)

    def _grouping(self, kind, business, name, sellers, description, fields):
        """Through ``territories.services.save``, which wants at least one responsible
        seller: ``sellers`` (users or ids), else the business's first eligible member."""
        with self._in(business):
            seller_ids = [_id(s) for s in (territory_services.eligible_sellers()[:1] if sellers is None else sellers)]
            obj = territory_services.save(kind, None, name, description, seller_ids)
            self._set(obj, fields)
            return self._detached(obj)

    @staticmethod
    def _user(user) -> User | None:
        """The acting user, loaded in the bound session (services read ``actor.id``)."""
        return None if user is None else db.session.get(User, _id(user))


def _id(obj) -> int:
    """An object's id, or the id itself."""
    return obj if isinstance(obj, int) else obj.id


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
