"""Territories and portfolios: list with sellers and counts, create, edit, delete, and
a page per group with its clients and prospects."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.decorators import login_required, manager_required
from ..accounts.models import User
from ..clients.models import Client
from ..extensions import db
from ..htmx import render
from ..tenancy import get_or_404
from ..validation import FieldError, apply_field_error
from . import services
from .forms import GroupForm
from .models import Portfolio, Territory

bp = Blueprint("territories", __name__)

MODELS = {"territory": Territory, "portfolio": Portfolio}


def _sellers():
    return db.session.execute(select(User).where(User.active.is_(True), User.role != "service")
                              .order_by(User.name)).scalars().all()


@bp.get("/territories")
@login_required
def index():
    groups = {}
    for kind, model in MODELS.items():
        rows = db.session.execute(select(model).order_by(model.name)).scalars().all()
        groups[kind] = dict(rows=rows, sellers=services.sellers_of(kind), counts=services.counts_of(kind))
    return render("territories/index.html", groups=groups)


def _form_page(kind: str, group=None):
    form = GroupForm(obj=group, sellers=_sellers())
    if request.method == "GET" and group is not None:
        form.seller_ids.data = [u.id for u in services.sellers_of(kind).get(group.id, [])]
    if form.validate_on_submit():
        try:
            saved = services.save(kind, group, name=form.name.data, description=form.description.data or "",
                                  seller_ids=form.seller_ids.data or [])
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Saved: %(name)s.", name=saved.name), "success")
            return redirect(url_for(".show_" + kind, **{kind + "_id": saved.id}), code=303)
    return render("territories/form.html", status=422 if form.errors else 200, form=form, kind=kind, group=group)


@bp.route("/territories/new", methods=["GET", "POST"])
@manager_required
def new_territory():
    return _form_page("territory")


@bp.route("/portfolios/new", methods=["GET", "POST"])
@manager_required
def new_portfolio():
    return _form_page("portfolio")


@bp.route("/territories/<id:territory_id>/edit", methods=["GET", "POST"])
@manager_required
def edit_territory(territory_id: int):
    return _form_page("territory", get_or_404(Territory, territory_id))


@bp.route("/portfolios/<id:portfolio_id>/edit", methods=["GET", "POST"])
@manager_required
def edit_portfolio(portfolio_id: int):
    return _form_page("portfolio", get_or_404(Portfolio, portfolio_id))


def _show(kind: str, group):
    column = Client.territory_id if kind == "territory" else Client.portfolio_id
    clients = db.session.execute(
        select(Client).where(column == group.id, Client.deleted_at.is_(None)).order_by(Client.kind, Client.name)
        .limit(500)).scalars().all()
    return render("territories/show.html", kind=kind, group=group, clients=clients,
                  sellers=services.sellers_of(kind).get(group.id, []))


@bp.get("/territories/<id:territory_id>")
@login_required
def show_territory(territory_id: int):
    return _show("territory", get_or_404(Territory, territory_id))


@bp.get("/portfolios/<id:portfolio_id>")
@login_required
def show_portfolio(portfolio_id: int):
    return _show("portfolio", get_or_404(Portfolio, portfolio_id))


def _delete(kind: str, group):
    moved = services.delete(kind, group)
    flash(_("%(name)s was deleted; %(num)d clients kept without it.", name=group.name, num=moved), "info")
    return redirect(url_for(".index"), code=303)


@bp.post("/territories/<id:territory_id>/delete")
@manager_required
def delete_territory(territory_id: int):
    return _delete("territory", get_or_404(Territory, territory_id))


@bp.post("/portfolios/<id:portfolio_id>/delete")
@manager_required
def delete_portfolio(portfolio_id: int):
    return _delete("portfolio", get_or_404(Portfolio, portfolio_id))
