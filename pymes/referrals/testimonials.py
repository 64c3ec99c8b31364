"""Testimonials: the manager's review queue, a testimonial a seller types with the
client's consent, revoking consent, and the business's public wall (and its embed for
an <iframe> on the business's own website)."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..accounts.decorators import login_required, manager_required
from ..accounts.models import Business, User
from ..clients.models import Client
from ..extensions import db, limiter
from ..htmx import render
from ..security import safe_next
from ..tenancy import bind_tenant, get_or_404
from ..validation import FieldError
from . import services
from .models import Testimonial
from .routes import bp

STATUS_LABELS = {"pending": _l("Waiting for approval"), "approved": lazy_pgettext("testimonial", "Approved"),
                 "rejected": lazy_pgettext("testimonial", "Rejected")}


def _visible(testimonial: Testimonial) -> tuple[Testimonial, Client]:
    """The (testimonial, client) row as the queue shows it; 404 for a restricted seller's
    colleague's client."""
    row = db.session.execute(services.queue(current_user).where(Testimonial.id == testimonial.id)).first()
    if row is None:
        abort(404)
    return row


def _row_context() -> dict:
    return dict(labels=STATUS_LABELS, name_displays=services.OWNER_NAME_DISPLAY_LABELS, places=services.PUBLISH_PLACE_LABELS,
                reviewers=dict(db.session.execute(select(User.id, User.name)).all()),
                can_review=current_user.has_role("owner", "manager"))


def _wall_urls(key: str) -> dict:
    base = current_app.config["BASE_URL"]  # the public address, never the request's Host header
    return dict(wall_url=base + url_for("referrals.wall", key=key), embed_url=base + url_for("referrals.wall_embed",
                                                                                             key=key))


@bp.get("/testimonials")
@login_required
def testimonials():
    rows = db.session.execute(services.queue(current_user).limit(500)).all()
    wall = services.referral_settings() if current_user.has_role("owner", "manager") else None
    return render("referrals/testimonials.html", rows=rows, wall=wall,
                  **(_wall_urls(wall.wall_key) if wall and wall.wall_key else {}), **_row_context())


def _answer(testimonial: Testimonial, message: str, category: str):
    """The row swapped in place for htmx; a redirect (with the message) without JS."""
    if request.headers.get("HX-Request"):
        testimonial, client = _visible(testimonial)
        return render("referrals/_testimonial.html", "referrals/_testimonial.html", t=testimonial, client=client,
                      message=message, category=category, **_row_context())
    flash(message, category)
    return redirect(safe_next(request.form.get("next")) or url_for(".testimonials"), code=303)


@bp.post("/testimonials/<id:testimonial_id>/review")
@manager_required
def review_testimonial(testimonial_id: int):
    testimonial = get_or_404(Testimonial, testimonial_id)
    try:
        services.review(testimonial, request.form.get("decision", ""), current_user.id)
    except FieldError as error:
        return _answer(testimonial, error.message, "error")
    if testimonial.status == "approved":
        message = _("Approved: it is on your testimonial wall if the client allowed publishing.")
    else:
        message = _("Rejected: it will not be published.")
    return _answer(testimonial, message, "success")


@bp.post("/testimonials/<id:testimonial_id>/revoke")
@login_required
def revoke_testimonial(testimonial_id: int):
    testimonial = get_or_404(Testimonial, testimonial_id)
    _visible(testimonial)
    services.revoke(testimonial)
    return _answer(testimonial, _("Consent revoked: the testimonial is no longer published anywhere."), "success")


@bp.route("/clients/<id:client_id>/testimonials/new", methods=["GET", "POST"])
@login_required
def new_testimonial(client_id: int):
    client = get_or_404(Client, client_id)
    values, errors = {"name_display": "first", "publish_where": "both"}, {}
    if request.method == "POST":
        values = request.form
        testimonial, errors = services.add_by_seller(client, request.form, actor_id=current_user.id)
        if testimonial is not None:
            flash(_("Testimonial saved. A manager will review it before it is published."), "success")
            return redirect(url_for("clients.show", client_id=client.id) + "#timeline", code=303)
    return render("referrals/new_testimonial.html", status=422 if errors else 200, client=client, values=values,
                  errors=errors, name_displays=services.OWNER_NAME_DISPLAY_LABELS, places=services.PUBLISH_PLACE_LABELS,
                  max_length=services.TEXT_MAX)


@bp.post("/testimonials/wall-key")
@manager_required
def rotate_wall_key():
    services.rotate_wall_key()
    flash(_("The wall has a new address. The old links and embeds no longer work: update your website."), "success")
    return redirect(url_for(".testimonials") + "#wall", code=303)


# --- the public wall ------------------------------------------------------------------------------

def _open_wall(key: str) -> Business | None:
    """The business behind the key, bound as the tenant for the rest of the request."""
    tenant_id = services.tenant_for_wall_key(key)
    if tenant_id is None:
        return None
    bind_tenant(tenant_id)
    return db.session.get(Business, tenant_id)


def _public() -> None:
    g.no_store = True  # a revoked testimonial must not linger in a cache
    g.referrer_policy = "no-referrer"


def _wall_page(key: str, template: str, *, embeddable: bool = False):
    """The wall page, or (``embeddable``) its embed for the business's website: each
    shows only the testimonials the client allowed there."""
    _public()
    business = _open_wall(key)
    if business is None:
        language = request.accept_languages.best_match(("es", "en", "pt", "ru")) or "es"
        with force_locale(language):
            return render_template("referrals/wall_missing.html", language=language), 404
    g.embeddable = embeddable  # the one page other sites may frame (pymes.security.apply_headers)
    items = [(t, services.shown_name(t, c)) for t, c in db.session.execute(
        services.published("website" if embeddable else "wall").limit(200)).all()]
    with force_locale(business.language):
        return render_template(template, business=business, items=items, key=key, language=business.language)


@bp.get("/w/<key>")
@limiter.limit("60 per minute")
def wall(key: str):
    return _wall_page(key, "referrals/wall.html")


@bp.get("/w/<key>/embed")
@limiter.limit("60 per minute")
def wall_embed(key: str):
    return _wall_page(key, "referrals/wall_embed.html", embeddable=True)


@bp.get("/w/<key>/logo")
@limiter.limit("60 per minute")
def wall_logo(key: str):
    business = _open_wall(key)
    if business is None or not business.logo_mime:
        abort(404)
    response = Response(business.logo, mimetype=business.logo_mime)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
