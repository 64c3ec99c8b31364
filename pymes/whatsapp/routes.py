"""Settings → WhatsApp: the owner connects, checks and disconnects the business's number."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit
from ..accounts.decorators import login_required, owner_required
from ..extensions import limiter
from ..htmx import render
from ..tenancy import get_or_404
from . import cloud_api, messaging, services  # noqa: F401 (messaging registers its notification sentence)
from .forms import (
    CATEGORY_LABELS,
    PURPOSE_LABELS,
    AppSecretForm,
    CapForm,
    ConnectForm,
    PurposeTemplateForm,
    TemplateForm,
)

bp = Blueprint("whatsapp", __name__, url_prefix="/settings/whatsapp")
chat_bp = Blueprint("whatsapp_chat", __name__, url_prefix="/whatsapp")


def _page(form: ConnectForm | None = None, template_form: TemplateForm | None = None, status: int = 200,
          secret_form: AppSecretForm | None = None, purpose_form: PurposeTemplateForm | None = None,
          cap_form: CapForm | None = None):
    from flask import current_app

    conn = services.connection()
    form = form or ConnectForm()
    if template_form is None:
        template_form = TemplateForm(obj=conn) if conn else TemplateForm()
    if conn is not None and not form.phone_number_id.data:
        form.phone_number_id.data = conn.phone_number_id
        form.business_account_id.data = conn.business_account_id
    extra = {}
    if conn is not None:
        extra = dict(verify_token=services.ensure_verify_token(conn), has_secret=bool(conn.app_secret_sealed),
                     webhook_url=current_app.config["BASE_URL"] + url_for("whatsapp_webhook.verify"),
                     templates=services.templates(), unknown=services.unknown_messages(),
                     usage=services.usage_this_month(),
                     cap_form=cap_form or CapForm(formdata=None, data={"monthly_cap": conn.monthly_cap}))
    return render("whatsapp/settings.html", status=status, form=form, template_form=template_form,
                  connection=conn, secret_form=secret_form or AppSecretForm(),
                  purpose_form=purpose_form or PurposeTemplateForm(), purpose_labels=PURPOSE_LABELS,
                  category_labels=CATEGORY_LABELS, **extra)


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


@bp.post("/app-secret")
@owner_required
def app_secret():
    conn = services.connection()
    if conn is None:
        return redirect(url_for(".page"), code=303)
    form = AppSecretForm()
    if form.validate_on_submit():
        services.set_app_secret(conn, form.app_secret.data)
        audit.record("whatsapp_connected", _("app secret for the webhook"))
        flash(_("App secret saved: messages and statuses Meta sends to the webhook are now accepted."), "success")
        return redirect(url_for(".page"), code=303)
    return _page(secret_form=form, status=422)


@bp.post("/cap")
@owner_required
def cap():
    conn = services.connection()
    if conn is None:
        return redirect(url_for(".page"), code=303)
    form = CapForm()
    if form.validate_on_submit():
        services.set_cap(conn, form.monthly_cap.data)
        flash(_("Limit saved."), "success")
        return redirect(url_for(".page"), code=303)
    return _page(cap_form=form, status=422)


@bp.post("/templates")
@owner_required
def add_template():
    if services.connection() is None:
        return redirect(url_for(".page"), code=303)
    form = PurposeTemplateForm()
    if form.validate_on_submit():
        services.save_template(form.purpose.data, form.name.data, form.language.data)
        flash(_("Template saved."), "success")
        return redirect(url_for(".page"), code=303)
    return _page(purpose_form=form, status=422)


@bp.post("/templates/delete")
@owner_required
def delete_template():
    """The template named in the form (``template_id``), found within the business only."""
    from flask import abort, request

    template_id = request.form.get("template_id", "")
    if not template_id.isdigit() or len(template_id) > 9:
        abort(404)
    services.delete_template(int(template_id))
    flash(_("Template removed."), "success")
    return redirect(url_for(".page"), code=303)


# --- writing to one client (the client page's box, loaded by htmx) ---------------------------

@chat_bp.get("/clients/<id:client_id>/compose")
@login_required
def compose(client_id: int):
    """The box on the client page: nothing without a connection; inside the 24-hour
    window a text box, outside it the reason free text cannot go."""
    from ..clients.models import Client
    from ..contact import whatsapp_number

    client = get_or_404(Client, client_id)
    if services.connection() is None:
        return ""
    last = messaging.last_inbound_at(client.id)
    return render("whatsapp/_compose.html", client=client, last=last, number=whatsapp_number(client),
                  open=messaging.window_open(client.id),
                  closes=(last + messaging.WINDOW) if last else None)


@chat_bp.post("/clients/<id:client_id>/message")
@login_required
def send_message(client_id: int):
    from flask import request

    from ..clients.models import Client

    client = get_or_404(Client, client_id)
    text = (request.form.get("text") or "").strip()[:4096]
    if not text:
        flash(_("Write the message first."), "error")
    else:
        try:
            messaging.send_free_text(client, text)
        except cloud_api.WhatsAppError as error:
            flash(error.message, "error")
        else:
            flash(_("Sent by WhatsApp."), "success")
    return redirect(url_for("clients.show", client_id=client.id) + "#timeline", code=303)
