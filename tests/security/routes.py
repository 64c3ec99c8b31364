"""The route inventory the security matrices walk: every rule of ``app.url_map``, and
for each id argument a factory that makes such an object in a given tenant.

A new route with an id argument the registry does not know fails
``test_every_id_argument_has_a_factory`` until someone adds a factory here: no route
escapes the cross-tenant matrix by being forgotten."""
from __future__ import annotations

import re
from datetime import date, timedelta

from pymes.extensions import db
from pymes.tenancy import bound

PUBLIC_TOKEN_ARGS = {"token", "key", "code"}  # verified secrets (feedback tokens, wall keys, referral codes), tested apart
FREE_ARGS = {"kind", "name", "filename", "extension"}  # not object ids: fixed words, file names
SKIP_ENDPOINTS = {"static"}


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
    """argument name → function(app, business, owner) returning a real id in that business:
    one plain object each, made by the domain factories (``tests/factories.py``), so each
    is the row the app itself would write."""

    def client(business, owner):
        return make.client(business, "Objeto ajeno", seller_id=owner.id)

    return {
        "user_id": lambda app, business, owner: make.user(business, "seller").id,
        "invitation_id": lambda app, business, owner: make.invitation(business, owner).id,
        "client_id": lambda app, business, owner: client(business, owner).id,
        "sale_id": lambda app, business, owner: make.sale(business, client(business, owner), 1,
                                                          sold_on=date(2026, 1, 1), description="x",
                                                          seller_id=owner.id).id,
        "activity_id": lambda app, business, owner: make.call(business, client(business, owner),
                                                              due_on=date.today() + timedelta(days=60),
                                                              seller_id=owner.id).id,
        "specialist_id": lambda app, business, owner: make.specialist(business, client(business, owner), owner,
                                                                      "Línea").id,
        "territory_id": lambda app, business, owner: make.territory(business, f"Zona {owner.id}", sellers=[owner]).id,
        "portfolio_id": lambda app, business, owner: make.portfolio(business, f"Cartera {owner.id}",
                                                                    sellers=[owner]).id,
        "link_id": lambda app, business, owner: make.feedback_link(business, client(business, owner), actor=owner).id,
        "complaint_id": lambda app, business, owner: make.complaint(business, client(business, owner),
                                                                    description="Llegó roto").id,
        "referral_id": lambda app, business, owner: make.referral(business, client(business, owner),
                                                                  "Amigo Canario").id,
        "import_id": _client_import,
        "testimonial_id": lambda app, business, owner: make.testimonial(business, client(business, owner),
                                                                        "Muy buena atención").id,
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
