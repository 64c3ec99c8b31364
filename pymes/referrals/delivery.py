"""The delivery moment (article 004, rule 8): when a delivery visit is logged with a
satisfied client, the seller is offered, right there on the phone, three ways to turn
the satisfaction into referrals and an answer:

- ask for referrals now: up to three friends, recorded as the client's referrals
  obtained at this visit (``Referral.activity_id``);
- the client's personal referral QR, full screen, for friends to scan;
- hand the phone to the client: the feedback page opened on the seller's phone in a
  kiosk mode. The seller's session is ended on the server and in the browser *before*
  the public page is shown, so the person holding the phone cannot go back into the
  app: every app page asks for the password again, and none was kept by the browser
  (logged-in pages are sent ``Cache-Control: no-store``, WEB-2).

Asking (by the form, "nobody for now", the QR, or friends the client names on the kiosk's
feedback page) is recorded once per visit (``ReferralAsk``), for the funnel's referrals
asked and obtained per delivery visit."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from markupsafe import Markup

from ..accounts.decorators import login_required
from ..accounts.services import end_session
from ..clients.models import Client
from ..clients.services import restricted_to_own
from ..contact import client_language
from ..events import Offer, contact_logged
from ..extensions import db
from ..feedback.services import create_link, qr_data_uri
from ..htmx import is_htmx, render
from ..tenancy import get_or_404
from ..visits.models import Activity
from . import links, services  # links: a file-level circle (links → routes → delivery), read at call time
from .routes import bp


def _visit(activity_id: int) -> tuple[Activity, Client]:
    """A delivery visit already logged done, and its client (404 otherwise, like a
    missing or another business's visit)."""
    activity = get_or_404(Activity, activity_id)
    if activity.purpose != "delivery" or activity.status != "done":
        abort(404)
    client = get_or_404(Client, activity.client_id)
    if client.deleted_at is not None:
        abort(404)
    return activity, client


def _context(activity: Activity, client: Client, values=None, errors=None) -> dict:
    ask, made = services.asked_at_visit(activity)
    return dict(a=activity, c=client, first_name=client.name.split(" ")[0], asked=ask is not None, made=made,
                veiled_ids=services.veiled_referrals(current_user, made), restricted=restricted_to_own(current_user),
                values=values or {}, errors=errors or {}, max_friends=services.MAX_FRIENDS,
                satisfied=services.delivery_moment(activity))


def panel(activity: Activity, client: Client) -> Markup:
    """The three offers, drawn under the agenda item just logged (the outcome route
    appends it to its answer)."""
    return Markup(render_template("referrals/_delivery_moment.html", **_context(activity, client)))


@contact_logged.connect
def _offer_at_delivery(activity: Activity, *, client: Client) -> Offer | None:
    """Article 004: ask while the client is satisfied (rule 8's moment)."""
    if not services.delivery_moment(activity):
        return None
    return Offer(panel=lambda: panel(activity, client), url=url_for("referrals.delivery", activity_id=activity.id))


@bp.get("/agenda/<id:activity_id>/delivery")
@login_required
def delivery(activity_id: int):
    """The same offers as a page of their own (without JavaScript, or come back later)."""
    activity, client = _visit(activity_id)
    return render("referrals/delivery.html", **_context(activity, client))


@bp.post("/agenda/<id:activity_id>/referrals")
@login_required
def ask_referrals(activity_id: int):
    activity, client = _visit(activity_id)
    made, errors = services.from_visit(activity, client, g.business.country, request.form, current_user.id)
    if errors:
        return render("referrals/delivery.html", "referrals/_delivery_moment.html", status=422,
                      **_context(activity, client, request.form, errors))
    if made:
        message = ngettext("%(num)d referral saved: each friend is a prospect referred by %(name)s.",
                           "%(num)d referrals saved: each friend is a prospect referred by %(name)s.",
                           len(made), name=client.name)
    else:
        message = _("Noted: you asked %(name)s for referrals.", name=client.name)
    if is_htmx():
        return render("referrals/delivery.html", "referrals/_delivery_moment.html", message=message,
                      **_context(activity, client))
    flash(message, "success")
    return redirect(url_for(".delivery", activity_id=activity.id), code=303)


@bp.post("/agenda/<id:activity_id>/referral-qr")
@login_required
def show_qr(activity_id: int):
    """Showing the client their QR is asking them for referrals: recorded, then shown."""
    activity, client = _visit(activity_id)
    services.mark_asked(activity, current_user.id)
    db.session.commit()
    services.referral_code(client, create=True)  # commits
    return redirect(url_for(".delivery_qr", activity_id=activity.id), code=303)


@bp.get("/agenda/<id:activity_id>/referral-qr")
@login_required
def delivery_qr(activity_id: int):
    """The client's personal referral QR, full screen, with a line in the client's
    language for them to read while they scan it."""
    activity, client = _visit(activity_id)
    code = services.referral_code(client)
    if code is None:
        return redirect(url_for(".delivery", activity_id=activity.id), code=303)
    url = links._link_url(code.code)
    language = client_language(client, g.business)
    with force_locale(language):
        caption = _("Scan it and send it to your friends: they leave their contact and %(business)s gets in "
                    "touch with them.", business=g.business.name)
    return render("referrals/delivery_qr.html", a=activity, c=client, url=url, qr=qr_data_uri(url, "svg"),
                  caption=caption, language=language)


@bp.post("/agenda/<id:activity_id>/kiosk")
@login_required
def kiosk(activity_id: int):
    """Hand the phone to the client: a fresh feedback link about this visit's sale, then
    the seller's session ends (server side and cookie, remember-me included) before the
    public page is shown in the client's language. The link's secret travels only in the
    redirect; the page is the customers' public one (TOK-4: the business's name and the
    client's first name, nothing else)."""
    activity, client = _visit(activity_id)
    secret = create_link(client, current_user, sent_by="kiosk", sale_id=activity.sale_id)
    language = client_language(client, g.business)
    end_session(current_user.session_key)
    logout_user()
    session.clear()  # nothing of the seller's session survives in the cookie (CSRF token, language)
    g.no_store = True
    response = redirect(url_for("feedback.public", token=secret, lang=language), code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Clear-Site-Data"] = '"cache"'  # the browser forgets any page it kept of the app
    return response
