"""Owner pages for the business's data: download everything, ask for deletion, cancel.

While a deletion is scheduled the account is read-only (like a lapsed subscription):
every page and every export keep working, writes are refused with a message, and a
banner on every page says when the purge happens, with a cancel button for owners."""
from __future__ import annotations

from flask import Blueprint, Response, flash, g, has_request_context, redirect, request, stream_with_context, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import Length

from .. import audit
from ..accounts.decorators import owner_required
from ..billing.guard import write_allowed
from ..forms import FlaskForm
from ..htmx import render
from ..read_only import SAFE_METHODS, refuse
from ..validation import FieldError, apply_field_error
from . import services

bp = Blueprint("data", __name__, url_prefix="/settings/data")

class DeleteBusinessForm(FlaskForm):
    confirm_name = StringField(_l("Type the business name to confirm"),
                               validators=[Length(max=120, message=_l("Use at most %(max)d characters.", max=120))])


class CancelForm(FlaskForm):
    pass


# --- read-only while a deletion is scheduled ---------------------------------------------

def _write_allowed(endpoint: str | None) -> bool:
    return bool(endpoint) and (endpoint.startswith("data.") or write_allowed(endpoint))


def _scheduled_business():
    if not current_user.is_authenticated:
        return None
    business = current_user.business
    return business if business.deletion_requested_at is not None else None


@bp.before_app_request
def deletion_guard():
    if request.endpoint in (None, "static") or request.method in SAFE_METHODS:
        return None
    business = _scheduled_business()
    if business is None or _write_allowed(request.endpoint):
        return None
    return refuse(_("This business is scheduled for deletion on %(date)s: the account is read-only until then. "
                    "You can still see and download everything.", date=_date(business)),
                  action_url=url_for("data.page"), action_label=_("Your data"),
                  others=_("Ask the owner of your business if you think this is a mistake."))


def _date(business) -> str:
    return format_date(services.purge_on(business), "long")


@bp.app_context_processor
def deletion_context():
    business = _scheduled_business() if has_request_context() else None
    return {"deletion_scheduled": services.purge_on(business) if business is not None else None}


# --- pages -------------------------------------------------------------------------------

def _page(form: DeleteBusinessForm | None = None, status: int = 200):
    business = g.business
    return render("data/page.html", status=status, business=business, form=form or DeleteBusinessForm(),
                  cancel_form=CancelForm(), purge_on=services.purge_on(business),
                  grace_days=services.grace_days())


@bp.get("")
@owner_required
def page():
    return _page()


@bp.get("/export.zip")
@owner_required
def export():
    business = g.business
    audit.record("export", what="all_data", format="zip")
    response = Response(stream_with_context(services.export_archive(business)), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{services.archive_name(business)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/delete")
@owner_required
def request_deletion():
    form = DeleteBusinessForm()
    if form.validate_on_submit():
        try:
            when = services.request_deletion(g.business, current_user, form.confirm_name.data or "")
        except FieldError as error:
            apply_field_error(form, error)
        else:
            audit.record("deletion_requested", g.business.name)
            flash(_("%(name)s will be deleted on %(date)s. We sent you an e-mail; until then you can cancel here.",
                    name=g.business.name, date=format_date(when, "long")), "success")
            return redirect(url_for(".page"), code=303)
    return _page(form, status=422)


@bp.post("/cancel")
@owner_required
def cancel_deletion():
    form = CancelForm()
    if form.validate_on_submit():
        services.cancel_deletion(g.business, current_user)
        audit.record("deletion_cancelled", g.business.name)
        flash(_("The deletion is cancelled: your business stays as it was."), "success")
    return redirect(url_for(".page"), code=303)
