"""The public feedback page (no log-in) and the staff side that makes and sends links."""
from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts import tokens
from ..accounts.decorators import confirmed_required, login_required, manager_required
from ..accounts.models import User
from ..clients.forms import CHANNEL_LABELS, TIME_LABELS
from ..clients.models import Client
from ..contact import greeting_name, phone_example, wa_url, whatsapp_number
from ..events import answer_shared, share_form
from ..extensions import db, limiter
from ..htmx import is_htmx, render, render_cached
from ..sales.models import Sale
from ..tenancy import get_child_or_404, get_or_404
from ..territories.models import Portfolio
from ..validation import FieldError, digits_int, query_int
from ..visits.models import Activity
from ..whatsapp.messaging import confirm_callback
from . import inbox as box
from . import services
from .forms import FeedbackSettingsForm
from .models import FeedbackLink

bp = Blueprint("feedback", __name__)

PUBLIC_LANGUAGES = ("es", "en", "pt", "ru")  # the customer's language, from the browser


def _public_language(default: str = "es") -> str:
    """The language the customer chose, else the browser's, else ``default`` (the
    client's language once the link is known)."""
    chosen = request.values.get("lang", "")
    if chosen in PUBLIC_LANGUAGES:
        return chosen
    return request.accept_languages.best_match(PUBLIC_LANGUAGES) or default


def _opened_language(opened) -> str:
    if opened is None:
        return _public_language()
    _link, client, business, _answer = opened
    return _public_language(services.client_language(client, business))


def _team_member_of(link) -> bool:
    """A logged-in member of the link's business opening it (trying it before sending)
    is not the customer: the link is not "opened" by that."""
    return bool(getattr(current_user, "is_authenticated", False)
                and getattr(current_user, "tenant_id", None) == link.tenant_id)


def _private() -> None:
    """Token pages: not cached, not indexed, no Referer with the secret (TOK-4)."""
    g.no_store = True
    g.referrer_policy = "no-referrer"


def _thanks(business, language: str, score, token: str | None = None, *, closed: bool = False, status: int = 200,
            share_values=None, share_errors=None, shared: bool = False, promise=None, kiosk: bool = False):
    """The thank-you that matches the score; a happy customer is offered step two
    (a testimonial and friends to refer) while the answer can still be changed. On the
    seller's phone at the delivery (``kiosk``) it ends by telling the client to hand the
    phone back: the seller was logged out before the page opened."""
    step_two = {key: value for _, values in share_form.send() for key, value in values.items()}  # referrals
    with force_locale(language):
        return render_template("feedback/thanks.html", business=business, score=score, language=language,
                               token=token, closed=closed, shared=shared, promise=promise, kiosk=kiosk,
                               window_hours=services.WINDOW_HOURS,
                               offer_share=bool(token) and not closed and not shared and score is not None
                               and score >= services.SHARE_MIN,
                               share_values=share_values or {}, share_errors=share_errors or {},
                               stamp=services.form_stamp(token or ""), **step_two), status


def _gone(language: str):
    # Unknown, expired and revoked links get this same page: no hint which.
    with force_locale(language):
        return render_template("feedback/gone.html", language=language), 404


@bp.route("/f/<token>", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["GET"])
@limiter.limit("10 per minute", methods=["POST"])
def public(token: str):
    _private()
    opened = services.open_link(token)
    language = _opened_language(opened)
    if opened is None:
        return _gone(language)
    link, client, business, existing = opened
    if request.method == "GET" and not _team_member_of(link):
        services.mark_opened(link)  # it reached the customer: among the links sent from now on
    errors, values = {}, {}
    if request.method == "POST":
        done, errors = _take_answer(token, link, client, business, existing, language)
        if done is not None:
            return done
        values = request.form
    elif existing is not None:
        if not services.can_correct(existing):
            return _thanks(business, language, existing.score, closed=True)
        values = _kept_values(existing)
    elif request.args.get("score", "").isdigit():
        values = {"score": request.args["score"]}  # a one-click score from the e-mail: chosen, not yet sent
    return _answer_page(token, client, business, existing, language, values, errors)


def _take_answer(token: str, link, client, business, existing, language: str):
    """The posted answer: (the page to answer with, {}) once handled, or (None, the
    field errors) when the form is shown again."""
    verdict = services.stamp_verdict(request.form.get("stamp", ""), request.form.get("website", ""), token)
    if verdict == "bot":
        return _thanks(business, language, None), {}  # dropped silently: a bot learns nothing
    if existing is not None and not services.can_correct(existing):
        return _thanks(business, language, existing.score, closed=True), {}
    try:
        saved = _save_answer(link, client, business, existing, language, stale=verdict == "stale")
    except FieldError as error:
        return None, {error.field: error.message}
    promise = services.callback_promise(saved, business)
    confirm_callback(saved, client, business, promise, services.WINDOW_HOURS)
    return _thanks(business, language, saved.score, token, promise=promise, kiosk=link.sent_by == "kiosk"), {}


def _save_answer(link, client, business, existing, language: str, stale: bool):
    """Save the posted answer in the customer's language, or raise ``FieldError``."""
    form = request.form
    with force_locale(language):
        if stale:  # the page sat open for a day: shown again with the answer kept
            raise FieldError("stamp", services.stale_message())
        channel = form.get("callback_channel") or None
        return services.answer(link, client, score=digits_int(form.get("score", "")), comment=form.get("comment", ""),
                               callback=form.get("callback") == "1", channel=channel,
                               window=form.get("callback_window") or None, language=language,
                               given_contact=form.get(f"contact_{channel}", "") if channel in CHANNEL_LABELS else "",
                               country=business.country, existing=existing)


def _kept_values(existing) -> dict:
    """The saved answer, in the form's fields (to correct it)."""
    return {"score": str(existing.score), "comment": existing.comment,
            "callback": "1" if existing.callback else "", "callback_channel": existing.callback_channel or "",
            "callback_window": existing.callback_window or ""}


def _answer_page(token: str, client, business, existing, language: str, values, errors: dict):
    with force_locale(language):
        return render_template("feedback/public.html", business=business, first_name=greeting_name(client),
                               values=values, errors=errors, stamp=services.form_stamp(token), language=language,
                               token=token, correcting=existing is not None, channels=CHANNEL_LABELS,
                               windows=TIME_LABELS, languages=PUBLIC_LANGUAGES,
                               missing=services.missing_contact(client),
                               examples=_contact_examples(business.country)), (422 if errors else 200)


def _contact_examples(country: str) -> dict:
    """Placeholders for the numbers a customer may be asked for, in their country's format."""
    return {"whatsapp": phone_example(country), "phone": phone_example(country)}


@bp.post("/f/<token>/share")
@limiter.limit("10 per minute")
def share(token: str):
    """Step two: the happy customer's testimonial (with its consent) and friends
    (saved by referrals, through ``events.answer_shared``)."""
    _private()
    opened = services.open_link(token)
    language = _opened_language(opened)
    if opened is None:
        return _gone(language)
    link, client, business, existing = opened
    if existing is None:
        return redirect(url_for(".public", token=token, lang=language), code=303)
    if not services.can_correct(existing):
        return _thanks(business, language, existing.score, closed=True)
    verdict = services.stamp_verdict(request.form.get("stamp", ""), request.form.get("website", ""), token)
    if existing.score < services.SHARE_MIN or verdict == "bot":
        return _thanks(business, language, existing.score, shared=True)
    if verdict == "stale":
        with force_locale(language):
            return _thanks(business, language, existing.score, token, status=422, share_values=request.form,
                           share_errors={"stamp": services.stale_message()})
    with force_locale(language):
        errors = {field: problem for _, found in answer_shared.send(existing, client=client, country=business.country,
                                                                   form=request.form) for field, problem in found.items()}
    if errors:
        return _thanks(business, language, existing.score, token, status=422, share_values=request.form,
                       share_errors=errors)
    return _thanks(business, language, existing.score, token, shared=True, kiosk=link.sent_by == "kiosk")


@bp.get("/f/<token>/logo")
@limiter.limit("60 per minute")
def logo(token: str):
    """The business's logo on its public page (the page has no log-in to fetch it with)."""
    opened = services.open_link(token)
    if opened is None or not opened[2].logo_mime:
        abort(404)
    business = opened[2]
    response = Response(business.logo, mimetype=business.logo_mime)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/clients/<id:client_id>/feedback-links")
@confirmed_required
def create_link(client_id: int):
    """Make a link for this client and send it the way they prefer (AUTH-5: confirmed
    e-mail); from a sale or a visit, the link (and a complaint it may open) names the sale."""
    client = get_or_404(Client, client_id)
    sale_id = _origin_sale(client)
    send = "email" if request.form.get("send") == "email" else "share"
    if send == "email" and not client.email:
        flash(_("This client has no e-mail: share the link another way."), "error")
        return redirect(url_for("clients.show", client_id=client.id), code=303)
    secret = services.create_link(client, current_user, sent_by=send, sale_id=sale_id)
    return _send(client, secret, send)


def _send(client: Client, secret: str, send: str, replaced: bool = False):
    """E-mail the new link, or show it once with every way to send it from a phone:
    WhatsApp (when the client has a mobile), copy, the phone's share sheet, the QR."""
    url = current_app.config["BASE_URL"] + url_for(".public", token=secret)
    business = g.business
    message = services.request_message(client, business, url)
    if send == "email":
        services.email_link(client, business, url)
        if replaced:
            flash(_("A new feedback link was e-mailed to %(email)s; the previous one no longer works.",
                    email=client.email), "success")
        else:
            flash(_("The feedback link was e-mailed to %(email)s.", email=client.email), "success")
        return redirect(url_for("clients.show", client_id=client.id), code=303)
    g.no_store = True
    number = whatsapp_number(client)
    token, _reason = tokens.check(secret, services.FEEDBACK)
    return render_template("feedback/created.html", client=client, url=url, message=message,
                           sent_url=url_for(".mark_sent", client_id=client.id, link_id=token.subject_id),
                           whatsapp=wa_url(number, message), wa_base=wa_url(number) + "?text=" if number else "",
                           replaced=replaced, back=_back(client),
                           qr_svg=services.qr_data_uri(url, "svg"), qr_png=services.qr_data_uri(url, "png"),
                           link_days=services.settings().link_days)


def _back(client: Client) -> str:
    """Where "Done" leads: back to the agenda when the link was made from it."""
    if request.form.get("back") == "agenda":
        return url_for("visits.agenda")
    return url_for("clients.show", client_id=client.id)


@bp.post("/clients/<id:client_id>/feedback-links/<id:link_id>/sent")
@confirmed_required
def mark_sent(client_id: int, link_id: int):
    """The seller pressed WhatsApp, copy or share on the link's page (send.js): the link
    counts among the links sent. 204, nothing to show; another business's ids are a 404."""
    client = get_or_404(Client, client_id)
    link = get_child_or_404(FeedbackLink, link_id, client_id=client.id)
    services.mark_sent(link)
    return "", 204


@bp.post("/clients/<id:client_id>/feedback-links/<id:link_id>/again")
@confirmed_required
def send_again(client_id: int, link_id: int):
    """The same request once more: a fresh link, and the unanswered old one revoked (only
    its hash is kept, so the old one cannot be shown again)."""
    client = get_or_404(Client, client_id)
    link = get_child_or_404(FeedbackLink, link_id, client_id=client.id)
    send = "email" if request.form.get("send") == "email" else "share"
    if send == "email" and not client.email:
        flash(_("This client has no e-mail: share the link another way."), "error")
        return redirect(url_for("clients.show", client_id=client.id), code=303)
    try:
        secret, replaced = services.send_again(link, client, current_user, sent_by=send)
    except FieldError as error:
        flash(error.message, "info")
        return redirect(url_for("clients.show", client_id=client.id), code=303)
    return _send(client, secret, send, replaced=replaced)


def _form_id(name: str) -> int | None:
    value = request.form.get(name, "")
    if not value:
        return None
    number = digits_int(value)
    if number is None or not 1 <= number <= 2**31 - 1:
        abort(404)
    return number


def _origin_sale(client: Client) -> int | None:
    """The sale a link is about: the one given, or the given visit's; either must be this
    client's (another client's or business's is a 404, like a missing one)."""
    sale_id, activity_id = _form_id("sale_id"), _form_id("activity_id")
    if activity_id is not None:
        activity = get_child_or_404(Activity, activity_id, client_id=client.id)
        sale_id = sale_id or activity.sale_id
    if sale_id is not None:
        get_child_or_404(Sale, sale_id, client_id=client.id)
    return sale_id


@bp.get("/clients/<id:client_id>/feedback-links")
@login_required
def links(client_id: int):
    """The client's sent links and where each stands, with a Revoke button (htmx fragment)."""
    client = get_or_404(Client, client_id)
    return render("feedback/links.html", "feedback/_links.html", client=client, links=services.links_of(client))


@bp.post("/clients/<id:client_id>/feedback-links/<id:link_id>/revoke")
@login_required
def revoke_link(client_id: int, link_id: int):
    client = get_or_404(Client, client_id)
    link = get_child_or_404(FeedbackLink, link_id, client_id=client.id)
    if link.revoked_at is None:
        services.revoke(link)
    if is_htmx():
        return render("feedback/links.html", "feedback/_links.html", client=client, links=services.links_of(client))
    flash(_("That feedback link no longer works."), "info")
    return redirect(url_for("clients.show", client_id=client.id), code=303)


@bp.get("/feedback")
@login_required
def inbox():
    """Every answer, newest first, with NPS and response rate per seller and portfolio."""
    days = query_int("days")
    f = box.Filters(days=days if days in box.PERIODS else 90, seller_id=query_int("seller"),
                    portfolio_id=query_int("portfolio"), page=max(1, min(query_int("page") or 1, 10_000)))
    def content():
        rows = box.answers(current_user, f)
        team = db.session.execute(select(User).where(User.active.is_(True)).order_by(User.name)).scalars().all()
        portfolios = db.session.execute(select(Portfolio).order_by(Portfolio.name)).scalars().all()
        return dict(f=f, rows=rows[:box.PAGE_SIZE], more=len(rows) > box.PAGE_SIZE,
                    total=box.total(current_user, f), by_seller=box.figures(current_user, f, Client.seller_id),
                    by_portfolio=box.figures(current_user, f, Client.portfolio_id), team=team,
                    names={u.id: u.name for u in team}, portfolios=portfolios,
                    portfolio_names={p.id: p.name for p in portfolios}, periods=box.PERIODS,
                    channels=CHANNEL_LABELS, windows=TIME_LABELS)

    return render_cached("feedback/inbox.html", "feedback.inbox", dataclasses.astuple(f), content, per_session=True)


@bp.route("/feedback/settings", methods=["GET", "POST"])
@manager_required
def settings():
    form = FeedbackSettingsForm(obj=services.settings())
    if form.validate_on_submit():
        services.save_settings(form.link_days.data, form.auto_days.data)
        flash(_("Feedback settings saved. New links follow them."), "success")
        return redirect(url_for(".settings"), code=303)
    return render("feedback/settings.html", status=422 if form.errors else 200, form=form)
