"""The route inventory the security matrices walk: every rule of ``app.url_map``, and
for each id argument a factory that makes such an object in a given tenant.

A new route with an id argument the registry does not know fails
``test_every_id_argument_has_a_factory`` until someone adds a factory here: no route
escapes the cross-tenant matrix by being forgotten."""
from __future__ import annotations

import re
from datetime import date

from pymes.extensions import db
from pymes.tenancy import bound

PUBLIC_TOKEN_ARGS = {"token", "key", "code"}  # verified secrets (feedback tokens, wall keys, referral codes), tested apart
FREE_ARGS = {"kind", "name", "filename", "extension"}  # not object ids: fixed words, file names
SKIP_ENDPOINTS = {"static"}


def _client(app, business, owner):
    from pymes.clients.models import Client

    with app.app_context(), bound(business.id):
        c = Client(name="Objeto ajeno", seller_id=owner.id)
        db.session.add(c)
        db.session.commit()
        return c.id


def _sale(app, business, owner):
    from pymes.sales.models import Sale

    cid = _client(app, business, owner)
    with app.app_context(), bound(business.id):
        s = Sale(client_id=cid, seller_id=owner.id, sold_on=date(2026, 1, 1), description="x", amount=1)
        db.session.add(s)
        db.session.commit()
        return s.id


def _activity(app, business, owner):
    from pymes.visits.models import Activity

    cid = _client(app, business, owner)
    with app.app_context(), bound(business.id):
        a = Activity(client_id=cid, seller_id=owner.id, kind="call", purpose="other", due_on=date(2030, 1, 1))
        db.session.add(a)
        db.session.commit()
        return a.id


def _specialist(app, business, owner):
    from pymes.clients.models import ClientSpecialist

    cid = _client(app, business, owner)
    with app.app_context(), bound(business.id):
        s = ClientSpecialist(client_id=cid, user_id=owner.id, product_line="Línea")
        db.session.add(s)
        db.session.commit()
        return s.id


def _territory(app, business, owner):
    from pymes.territories.models import Territory

    with app.app_context(), bound(business.id):
        t = Territory(name=f"Zona {owner.id}")
        db.session.add(t)
        db.session.commit()
        return t.id


def _portfolio(app, business, owner):
    from pymes.territories.models import Portfolio

    with app.app_context(), bound(business.id):
        p = Portfolio(name=f"Cartera {owner.id}")
        db.session.add(p)
        db.session.commit()
        return p.id


def _feedback_link(app, business, owner):
    from datetime import timedelta

    from pymes.db import utcnow
    from pymes.feedback.models import FeedbackLink

    cid = _client(app, business, owner)
    with app.app_context(), bound(business.id):
        link = FeedbackLink(client_id=cid, created_by_id=owner.id, expires_at=utcnow() + timedelta(days=30))
        db.session.add(link)
        db.session.commit()
        return link.id


def _complaint(app, business, owner):
    from pymes.clients.models import Client
    from pymes.complaints.services import open_complaint

    cid = _client(app, business, owner)
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, cid)
        return open_complaint(client, None, category="quality", description="Llegó roto").id


def _referral(app, business, owner):
    from pymes.clients.models import Client
    from pymes.referrals import services as referrals

    cid = _client(app, business, owner)
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, cid)
        friend = referrals.read_friend("Amigo Canario", f"amigo{cid}@example.com", "CL", client)
        referral = referrals.add_referral(client, friend, source="manual", friend_consent=True)
        db.session.commit()
        return referral.id


def _testimonial(app, business, owner):
    from pymes.clients.models import Client
    from pymes.referrals import services as referrals

    cid = _client(app, business, owner)
    with app.app_context(), bound(business.id):
        client = db.session.get(Client, cid)
        testimonial = referrals.save_testimonial(client, "Muy buena atención", "first", True, None, source="seller")
        db.session.commit()
        return testimonial.id


def _client_import(app, business, owner):
    from pymes.clients.models import ClientImport

    with app.app_context(), bound(business.id):
        name = f"Importado {owner.name}"
        row = {"n": 2, "cells": [name, "mal"], "values": {"name": name, "email": None, "phone": None},
               "sale": None, "problems": [["E-mail", "x"]], "warnings": [], "status": "rejected", "dup": None,
               "choice": "skip"}
        record = ClientImport(created_by_id=owner.id, file_name=f"{name}.csv", headers=["Nombre", "Correo"],
                              mapping={"0": "name", "1": "email"}, notes=[], rows=[row],
                              summary={"new": 0, "duplicate": 0, "rejected": 1, "sales": 0})
        db.session.add(record)
        db.session.commit()
        return record.id


def _notification(app, business, owner):
    from sqlalchemy import select

    from pymes.notifications.models import Notification
    from pymes.notifications.services import notify

    with app.app_context(), bound(business.id):
        notify([owner.id], "complaint_opened", {"client": "Objeto ajeno", "score": 2}, url="/complaints")
        db.session.commit()
        return db.session.execute(select(Notification.id).where(Notification.user_id == owner.id)
                                  .order_by(Notification.id.desc())).scalars().first()


def registry(make):
    """argument name → function(app, business, owner) returning a real id in that business."""
    return {
        "user_id": lambda app, business, owner: make.user(business, "seller").id,
        "invitation_id": lambda app, business, owner: make.invitation(business, owner).id,
        "client_id": _client,
        "sale_id": _sale,
        "activity_id": _activity,
        "specialist_id": _specialist,
        "territory_id": _territory,
        "portfolio_id": _portfolio,
        "link_id": _feedback_link,
        "complaint_id": _complaint,
        "referral_id": _referral,
        "import_id": _client_import,
        "testimonial_id": _testimonial,
        "notification_id": _notification,
    }


KNOWN_ARGS = {"user_id", "invitation_id", "client_id", "sale_id", "activity_id", "specialist_id", "territory_id",
              "portfolio_id", "link_id", "complaint_id", "referral_id", "import_id",
              "testimonial_id", "notification_id"}


def rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP_ENDPOINTS]


def id_rules(app):
    """Rules whose arguments are all object ids (no public token)."""
    return [r for r in rules(app) if r.arguments and not (r.arguments & (PUBLIC_TOKEN_ARGS | FREE_ARGS))]


def build(rule, ids: dict) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(r"<[^>]*\b" + arg + r">", str(ids[arg]), path)
    return path


def methods(rule) -> list[str]:
    return sorted(m for m in rule.methods if m in ("GET", "POST", "PUT", "PATCH", "DELETE"))
