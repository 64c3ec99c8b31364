"""Personal referral links: a client shares theirs (WhatsApp, QR); a friend who opens it
leaves their contact on a small public page, which creates the referral."""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app, g, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ..accounts.decorators import login_required
from ..accounts.models import Business
from ..clients.models import Client
from ..contact import greeting_name
from ..extensions import db, limiter
from ..feedback.services import form_stamp, qr_data_uri, stale_message, stamp_verdict
from ..htmx import render
from ..tenancy import bind_tenant, get_or_404
from . import services
from .routes import bp


def _link_url(code: str) -> str:
    return current_app.config["BASE_URL"] + url_for("referrals.friend", code=code)


@bp.route("/clients/<id:client_id>/referral-link", methods=["GET", "POST"])
@login_required
def client_link(client_id: int):
    """The client's personal link to share, with its QR code (made on the first POST)."""
    client = get_or_404(Client, client_id)
    code = services.referral_code(client, create=request.method == "POST")
    url = _link_url(code.code) if code else ""
    whatsapp = ""
    if code and client.whatsapp:
        with force_locale(g.business.language):
            text = _("Hello %(name)s! Do you have friends who would like %(business)s? Share this link with them: "
                     "%(url)s", name=greeting_name(client), business=g.business.name, url=url)
        whatsapp = f"https://wa.me/{client.whatsapp[1:]}?text={quote(text)}"
    return render("referrals/link.html", client=client, url=url, whatsapp=whatsapp,
                  qr=qr_data_uri(url, "svg") if code else "")


@bp.route("/r/<code>", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["GET"])
@limiter.limit("10 per minute", methods=["POST"])
def friend(code: str):
    """The friend's page: no log-in, their own contact and their own consent."""
    g.no_store, g.referrer_policy = True, "no-referrer"
    language = request.values.get("lang") if request.values.get("lang") in ("es", "en", "pt", "ru") else (
        request.accept_languages.best_match(("es", "en", "pt", "ru")) or "es")
    found = services.owner_of_code(code)
    referrer = None
    if found is not None:
        tenant_id, referrer_id = found
        bind_tenant(tenant_id)
        business = db.session.get(Business, tenant_id)
        referrer = db.session.get(Client, referrer_id)
    if referrer is None or referrer.deleted_at is not None:
        # A deleted client's code answers exactly like an unknown one (issue 20, finding 11).
        with force_locale(language):
            return render_template("referrals/wall_missing.html", language=language), 404
    errors, values, done = {}, {}, False
    if request.method == "POST":
        values = request.form
        verdict = stamp_verdict(request.form.get("stamp", ""), request.form.get("website", ""), code)
        if verdict == "bot":
            done = True  # dropped silently
        elif verdict == "stale":  # the page sat open for a day: shown again with what was typed
            with force_locale(language):
                errors = {"stamp": stale_message()}
        else:
            with force_locale(language):
                errors = services.from_link(referrer, request.form.get("name", ""), request.form.get("contact", ""),
                                            business.country, request.form.get("consent") == "1")
            done = not errors
    with force_locale(language):
        return render_template("referrals/friend.html", business=business, referrer=greeting_name(referrer),
                               language=language, values=values, errors=errors, done=done, stamp=form_stamp(code),
                               code=code), (422 if errors else 200)
