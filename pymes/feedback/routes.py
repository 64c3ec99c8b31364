"""The public feedback page (no log-in) and the staff side that makes and sends links."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.decorators import confirmed_required, login_required
from ..clients.forms import CHANNEL_LABELS, TIME_LABELS
from ..clients.models import Client
from ..extensions import limiter
from ..tenancy import get_or_404
from ..validation import FieldError
from . import services
from .models import FeedbackLink

bp = Blueprint("feedback", __name__)

PUBLIC_LANGUAGES = ("es", "en", "pt", "ru")  # the customer's language, from the browser


def _public_language() -> str:
    chosen = request.values.get("lang", "")
    if chosen in PUBLIC_LANGUAGES:
        return chosen
    return request.accept_languages.best_match(PUBLIC_LANGUAGES) or "es"


def _private() -> None:
    """Token pages: not cached, not indexed, no Referer with the secret (TOK-4)."""
    g.no_store = True
    g.referrer_policy = "no-referrer"


def _gone(language: str):
    # Unknown, expired and revoked links get this same page: no hint which.
    with force_locale(language):
        return render_template("feedback/gone.html", language=language), 404


@bp.route("/f/<token>", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["GET"])
@limiter.limit("10 per minute", methods=["POST"])
def public(token: str):
    _private()
    language = _public_language()
    opened = services.open_link(token)
    if opened is None:
        return _gone(language)
    link, client, business, existing = opened
    first_name = client.name.split(" ")[0]
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form
        if services.looks_like_a_bot(request.form.get("stamp", ""), request.form.get("website", "")):
            with force_locale(language):  # dropped silently: a bot learns nothing
                return render_template("feedback/thanks.html", business=business, score=None, language=language)
        if existing is not None and not services.can_correct(existing):
            with force_locale(language):
                return render_template("feedback/thanks.html", business=business, score=existing.score,
                                       language=language, closed=True)
        score = request.form.get("score", "")
        try:
            with force_locale(language):
                saved = services.answer(link, client, score=int(score) if score.isdigit() else None,
                                        comment=request.form.get("comment", ""),
                                        callback=request.form.get("callback") == "1",
                                        channel=request.form.get("callback_channel") or None,
                                        window=request.form.get("callback_window") or None, language=language)
        except FieldError as error:
            errors[error.field] = error.message
        else:
            with force_locale(language):
                return render_template("feedback/thanks.html", business=business, score=saved.score,
                                       language=language, token=token)
    elif existing is not None:
        values = {"score": str(existing.score), "comment": existing.comment,
                  "callback": "1" if existing.callback else "", "callback_channel": existing.callback_channel or "",
                  "callback_window": existing.callback_window or ""}
        if not services.can_correct(existing):
            with force_locale(language):
                return render_template("feedback/thanks.html", business=business, score=existing.score,
                                       language=language, closed=True)
    elif request.args.get("score", "").isdigit():
        values = {"score": request.args["score"]}  # a one-click score from the e-mail: chosen, not yet sent
    with force_locale(language):
        return render_template("feedback/public.html", business=business, first_name=first_name, values=values,
                               errors=errors, stamp=services.form_stamp(), language=language, token=token,
                               correcting=existing is not None, channels=CHANNEL_LABELS, windows=TIME_LABELS,
                               languages=PUBLIC_LANGUAGES), (422 if errors else 200)


@bp.post("/clients/<id:client_id>/feedback-links")
@confirmed_required
def create_link(client_id: int):
    """Make a link for this client and send it the way they prefer (AUTH-5: confirmed e-mail)."""
    client = get_or_404(Client, client_id)
    send = "email" if request.form.get("send") == "email" else "share"
    if send == "email" and not client.email:
        flash(_("This client has no e-mail: share the link another way."), "error")
        return redirect(url_for("clients.show", client_id=client.id), code=303)
    secret = services.create_link(client, current_user, sent_by=send)
    url = current_app.config["BASE_URL"] + url_for(".public", token=secret)
    business = g.business
    with force_locale(business.language):
        message = _("Hello %(name)s, thank you for choosing %(business)s. How did we do? It takes one minute: "
                    "%(url)s", name=client.name.split(" ")[0], business=business.name, url=url)
    if send == "email":
        services.email_link(client, business, url)
        flash(_("The feedback link was e-mailed to %(email)s.", email=client.email), "success")
        return redirect(url_for("clients.show", client_id=client.id), code=303)
    g.no_store = True
    whatsapp = f"https://wa.me/{client.whatsapp[1:]}?text={quote(message)}" if client.whatsapp else ""
    return render_template("feedback/created.html", client=client, url=url, whatsapp=whatsapp, message=message,
                           qr_svg=services.qr_data_uri(url, "svg"), qr_png=services.qr_data_uri(url, "png"))


@bp.post("/clients/<id:client_id>/feedback-links/<id:link_id>/revoke")
@login_required
def revoke_link(client_id: int, link_id: int):
    client = get_or_404(Client, client_id)
    link = get_or_404(FeedbackLink, link_id)
    if link.client_id != client.id:
        abort(404)
    services.revoke(link)
    flash(_("That feedback link no longer works."), "info")
    return redirect(url_for("clients.show", client_id=client.id), code=303)
