"""Settings → WhatsApp: the owner connects, checks and disconnects the business's number."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit
from ..accounts.decorators import owner_required
from ..extensions import limiter
from ..htmx import render
from . import cloud_api, messaging, services  # noqa: F401 (messaging registers its notification sentence)
from .forms import ConnectForm, TemplateForm

bp = Blueprint("whatsapp", __name__, url_prefix="/settings/whatsapp")


def _page(form: ConnectForm | None = None, template_form: TemplateForm | None = None, status: int = 200):
    conn = services.connection()
    form = form or ConnectForm()
    if template_form is None:
        template_form = TemplateForm(obj=conn) if conn else TemplateForm()
    if conn is not None and not form.phone_number_id.data:
        form.phone_number_id.data = conn.phone_number_id
        form.business_account_id.data = conn.business_account_id
    return render("whatsapp/settings.html", status=status, form=form, template_form=template_form,
                  connection=conn)


@bp.get("")
@owner_required
def page():
    return _page()


def _business_key() -> str:
    return f"whatsapp-connect:{current_user.tenant_id}"


@bp.post("")
@owner_required
@limiter.limit("10 per 10 minutes", key_func=_business_key)  # each try is a call to Meta with a token
def connect():
    form = ConnectForm()
    if form.validate_on_submit():
        try:
            conn = services.connect(phone_number_id=form.phone_number_id.data,
                                    business_account_id=form.business_account_id.data,
                                    access_token=form.access_token.data, user_id=current_user.id)
        except cloud_api.WhatsAppError as error:
            field = {"token": form.access_token, "permission": form.access_token,
                     "phone_number": form.phone_number_id}.get(error.kind)
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                form.form_errors.append(error.message)
        else:
            audit.record("whatsapp_connected", conn.display_phone_number or conn.phone_number_id)
            flash(_("WhatsApp connected: %(number)s (%(name)s).", number=conn.display_phone_number,
                    name=conn.verified_name), "success")
            return redirect(url_for(".page"), code=303)
    return _page(form=form, status=422)


@bp.post("/template")
@owner_required
def template():
    conn = services.connection()
    if conn is None:
        return redirect(url_for(".page"), code=303)
    form = TemplateForm()
    if form.validate_on_submit():
        name, language = (form.feedback_template.data or "").strip(), (form.template_language.data or "").strip()
        if name and not language:
            form.template_language.errors = [_("Say the template's language, as approved in WhatsApp Manager.")]
        else:
            services.set_template(conn, name, language)
            flash(_("Template saved."), "success")
            return redirect(url_for(".page"), code=303)
    return _page(template_form=form, status=422)


@bp.post("/disconnect")
@owner_required
def disconnect():
    if services.disconnect():
        audit.record("whatsapp_disconnected")
        flash(_("WhatsApp disconnected: the access token was deleted. Messages go back to wa.me links."), "success")
    return redirect(url_for(".page"), code=303)
