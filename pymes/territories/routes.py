"""Territories and portfolios: list with sellers and counts, create, edit, delete (after
a confirm), and a page per group with its clients and prospects.

Territories and portfolios share every view; the thin endpoints below only say which
kind and fetch the object through ``get_or_404`` (another business's id is a 404).
Owners and managers manage them; every team member may look."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..accounts.decorators import login_required, manager_required
from ..htmx import is_htmx, render
from ..tenancy import get_or_404
from ..validation import FieldError, apply_field_error
from . import services
from .forms import GroupForm
from .models import Portfolio, Territory

bp = Blueprint("territories", __name__)

KIND_KEYS = ("territory", "portfolio")


def _can_manage() -> bool:
    return current_user.has_role("owner", "manager")


def _sections() -> dict:
    return {key: services.overview(services.KINDS[key], current_user) for key in KIND_KEYS}


@bp.get("/territories")
@login_required
def index():
    return render("territories/index.html", sections=_sections(), can_manage=_can_manage())


def _form_page(kind: str, group=None):
    form = GroupForm(obj=group, sellers=services.eligible_sellers())
    if request.method == "GET" and group is not None:
        form.seller_ids.data = services.current_seller_ids(services.KINDS[kind], group)
    if form.validate_on_submit():
        try:
            saved = services.save(services.KINDS[kind], group, name=form.name.data,
                                  description=form.description.data or "", seller_ids=form.seller_ids.data or [])
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
    k = services.KINDS[kind]
    return render("territories/show.html", kind=kind, group=group, summary=services.summary(k, group, current_user),
                  clients=services.members(k, group, current_user), limit=services.DETAIL_LIMIT,
                  seller_names=services.team_names(),
                  can_manage=_can_manage())


@bp.get("/territories/<id:territory_id>")
@login_required
def show_territory(territory_id: int):
    return _show("territory", get_or_404(Territory, territory_id))


@bp.get("/portfolios/<id:portfolio_id>")
@login_required
def show_portfolio(portfolio_id: int):
    return _show("portfolio", get_or_404(Portfolio, portfolio_id))


def _delete(kind: str, group):
    """GET, or a POST without ``confirm=yes``: the confirm page (works without JS).
    The list's htmx button confirms in the browser and gets its section back."""
    k = services.KINDS[kind]
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render("territories/delete.html", kind=kind, group=group, summary=services.summary(k, group, None))
    name = group.name
    moved = services.delete(k, group)
    flash(ngettext("%(name)s was deleted; %(num)d client kept without it.",
                   "%(name)s was deleted; %(num)d clients kept without it.", moved, name=name), "info")
    if is_htmx():
        sections = _sections()
        return render("territories/index.html", "territories/_section.html", sections=sections, kind=kind,
                      rows=sections[kind], can_manage=True, oob_flashes=True)
    return redirect(url_for(".index"), code=303)


@bp.route("/territories/<id:territory_id>/delete", methods=["GET", "POST"])
@manager_required
def delete_territory(territory_id: int):
    return _delete("territory", get_or_404(Territory, territory_id))


@bp.route("/portfolios/<id:portfolio_id>/delete", methods=["GET", "POST"])
@manager_required
def delete_portfolio(portfolio_id: int):
    return _delete("portfolio", get_or_404(Portfolio, portfolio_id))
