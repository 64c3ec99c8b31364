"""The referrals list (status moved inline), a referral written down by hand, and the
export of referral lists (CSV and XLSX, EXP-1/EXP-2)."""
from __future__ import annotations

from datetime import date

from babel.numbers import get_currency_precision
from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from sqlalchemy import case, func, select

from .. import audit, tables
from ..accounts.decorators import login_required, manager_required
from ..accounts.models import User
from ..clients.export import shown
from ..clients.models import Client
from ..clients.services import national, restricted_to_own
from ..db import local_date
from ..extensions import db
from ..htmx import render, render_cached
from ..sales.models import Sale
from ..tenancy import bound, get_or_404
from ..territories.models import Portfolio, Territory
from ..validation import FieldError, query_int
from . import services
from .models import Referral, ReferralSettings

bp = Blueprint("referrals", __name__)

STATUS_LABELS = {"new": lazy_pgettext("referral", "New"), "contacted": _l("Contacted"), "meeting": _l("Meeting"),
                 "converted": _l("Became a client"), "lost": _l("Lost")}
SOURCE_LABELS = {"feedback": _l("Feedback page"), "visit": _l("During a visit"), "call": _l("During a call"),
                 "manual": _l("Written by hand"), "link": _l("Referral link")}
PERIODS = (30, 90, 365)


FILTER_ARGS = ("days", "from", "to", "status", "seller", "territory", "portfolio")


def _day(name: str, errors: dict):
    """A day of the custom period as the date field sends it (YYYY-MM-DD); empty is None."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        day = date.fromisoformat(value)
        if not 2000 <= day.year <= 2100:  # 9999-12-31 + 1 day would overflow
            raise ValueError(value)
        return day
    except ValueError:
        errors[name] = _("Write the date as year-month-day, like %(example)s.", example="2026-11-30")
        return None


def _filters() -> tuple[services.ReferralFilters, dict]:
    """The list's filters from the address, and the problems by field (a custom period
    with a bad day, or its first day after its last). A custom period may be open at
    either end (no first day: since the start; no last day: until today)."""
    errors: dict = {}
    days = request.args.get("days", "90")
    status = request.args.get("status") or None
    date_from = date_to = None
    if days == "custom":
        period = None
        date_from, date_to = _day("from", errors), _day("to", errors)
        if date_from and date_to and date_from > date_to:
            errors["to"] = _("The last day is before the first day: swap them or choose again.")
    else:
        period = None if days == "all" else (int(days) if days in {str(p) for p in PERIODS} else 90)
    return services.ReferralFilters(days=period, status=status if status in services.STATUS_FLOW else None,
                                    seller_id=query_int("seller"), territory_id=query_int("territory"),
                                    portfolio_id=query_int("portfolio"), date_from=date_from, date_to=date_to,
                                    zone=g.business.timezone or "UTC"), errors


def _names():
    """Names and the reward policy the list's rows need (read, never created, here)."""
    policy = db.session.execute(select(ReferralSettings.reward_kind)).scalar_one_or_none() or "none"
    country = g.business.country
    return dict(national=lambda number: national(number, country), reward_on=policy != "none",
                veiled=services.veiled_for(current_user),
                sellers=dict(db.session.execute(select(User.id, User.name)).all()),
                territories=dict(db.session.execute(select(Territory.id, Territory.name)).all()),
                portfolios=dict(db.session.execute(select(Portfolio.id, Portfolio.name)).all()))


@bp.get("/referrals")
@login_required
def index():
    f, errors = _filters()
    def content():
        rows = [] if errors else db.session.execute(services.referral_query(current_user, f).limit(500)).all()
        team = db.session.execute(select(User).where(User.active.is_(True)).order_by(User.name)).scalars().all()
        args = {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}  # for the export links
        return dict(rows=rows, f=f, errors=errors, team=team, labels=STATUS_LABELS, sources=SOURCE_LABELS,
                    periods=PERIODS, args=args, custom=request.args.get("days") == "custom", **_names())

    # each row's status form carries the session's CSRF token: kept per session
    return render_cached("referrals/index.html", "referrals.index", tuple(request.args.items(multi=True)), content,
                         per_session=True, status=422 if errors else 200)


@bp.post("/referrals/<id:referral_id>/status")
@login_required
def status(referral_id: int):
    referral = get_or_404(Referral, referral_id)
    visible = db.session.execute(services.referral_query(current_user, services.ReferralFilters(days=None))
                                 .where(Referral.id == referral.id)).first()
    if visible is None:
        abort(404)  # a restricted seller: not one of theirs
    try:
        services.set_status(referral, request.form.get("status", ""))
    except FieldError as error:
        message, category = error.message, "error"
    else:
        message, category = _("Referral of %(name)s: %(status)s.", name=referral.name,
                              status=STATUS_LABELS[referral.status]), "success"
    if request.headers.get("HX-Request"):  # the row, swapped in place; the select shows the new state
        row = db.session.execute(services.referral_query(current_user, services.ReferralFilters(days=None))
                                 .where(Referral.id == referral.id)).one()
        return render("referrals/_row.html", "referrals/_row.html", row=row, labels=STATUS_LABELS,
                      sources=SOURCE_LABELS, **_names())
    flash(message, category)
    return redirect(url_for(".index"), code=303)


@bp.route("/clients/<id:client_id>/referrals/new", methods=["GET", "POST"])
@login_required
def new(client_id: int):
    client = get_or_404(Client, client_id)
    source = request.args.get("source")
    values, errors = {"source": source if source in ("visit", "call") else "visit"}, {}
    if request.method == "POST":
        values = request.form
        try:
            referral = services.add_by_hand(client, request.form.get("name", ""), request.form.get("contact", ""),
                                            g.business.country, request.form.get("source", "manual"),
                                            request.form.get("friend_consent") == "1", current_user.id)
        except FieldError as error:
            errors[error.field] = error.message
        else:
            if referral.flag == "duplicate" and not services.veiled_referrals(current_user, [referral]):
                flash(_("%(name)s is already in your client book: the referral is linked to them.",
                        name=referral.name), "info")
            elif restricted_to_own(current_user):
                # the same words whether or not another seller has them (issue 20, finding 5)
                flash(_("Referral saved: %(name)s.", name=referral.name), "success")
            else:
                flash(_("Referral saved: %(name)s is a new prospect.", name=referral.name), "success")
            if request.args.get("back") == "agenda":   # logged from a visit or call in the agenda
                return redirect(url_for("visits.agenda"), code=303)
            return redirect(url_for("clients.show", client_id=client.id) + "#timeline", code=303)
    return render("referrals/new.html", status=422 if errors else 200, client=client, values=values, errors=errors,
                  sources={k: v for k, v in SOURCE_LABELS.items() if k in ("visit", "call", "manual")})


def _export_rows(user, f, business):
    """Rows of the export, read in batches as plain columns, with the value of the
    referred person's sales since the referral (what the referral brought in)."""
    with bound(business.id):
        names = _names()
        sellers, territories, portfolios = names["sellers"], names["territories"], names["portfolios"]
        statuses = {k: str(v) for k, v in STATUS_LABELS.items()}
        sources = {k: str(v) for k, v in SOURCE_LABELS.items()}
        already = _("Already a client")
        country = business.country
        divisor = 10 ** get_currency_precision(business.currency)
        # what a converted referral brought in: the referred person's sales since the
        # referral (its day in the business's zone, as sales are dated); nothing for one that has not converted (a duplicate's old sales are not its)
        value = case((Referral.status == "converted", select(func.coalesce(func.sum(Sale.amount), 0)).where(
            Sale.client_id == Referral.prospect_id, Sale.sold_on >= local_date(Referral.created_at, business.timezone))
            .correlate(Referral).scalar_subquery()), else_=None)

        def columns(referrer, prospect):
            return (Referral.created_at, referrer.name, Referral.name, Referral.email, Referral.phone,
                    Referral.phone_shown,
                    Referral.status, Referral.converted_at, prospect.seller_id, prospect.territory_id,
                    prospect.portfolio_id, Referral.source, Referral.flag, value)

        stmt = services.referral_query(user, f, columns).execution_options(yield_per=1000)
        veil = services.veiled_for(user)
        for (created, referrer, name, email, phone, phone_shown, status, converted, seller, territory, portfolio,
             source, flag, brought) in db.session.execute(stmt):
            if veil(seller):  # another seller's client: nothing of theirs (issue 20, finding 5)
                seller = territory = portfolio = flag = brought = None
            yield [created.date().isoformat(), referrer, name, email or "", shown(phone_shown, phone, country),
                   statuses[status],
                   converted.date().isoformat() if converted else "", sellers.get(seller, ""),
                   territories.get(territory, ""), portfolios.get(portfolio, ""), sources[source],
                   already if flag == "duplicate" else "",
                   "" if brought is None else (int(brought) / divisor if divisor > 1 else int(brought))]


@bp.get("/referrals/export.<any(csv, xlsx):extension>")
@login_required
def export(extension: str):
    header = [_("Date"), _("Referred by"), _("Referred person"), _("E-mail"), _("Phone"), _("Status"),
              _("Became a client on"), _("Seller"), _("Territory"), _("Portfolio"), _("Source"), _("Note"),
              _("Value of converted sales")]
    business = g.business
    f, errors = _filters()
    if errors:  # the list says what is wrong with the period, beside the fields
        return redirect(url_for(".index", **{k: v for k, v in request.args.items() if k in FILTER_ARGS}), code=303)
    audit.record("export", what="referrals", format=extension)
    return tables.download(extension, tables.file_name(business, extension, "referidos"), header,
                           _export_rows(current_user, f, business), _("Referrals"))
REWARD_LABELS = {"none": _l("No reward"), "discount": _l("A discount"), "gift": _l("A gift"),
                 "note": _l("A thank-you note")}


@bp.route("/referrals/reward", methods=["GET", "POST"])
@manager_required
def reward():
    """The business's thank-you for a referral that became a client."""
    row = services.referral_settings()
    values, errors = {"reward_kind": row.reward_kind, "reward_text": row.reward_text or ""}, {}
    if request.method == "POST":
        values = request.form
        try:
            services.save_reward_policy(request.form.get("reward_kind", ""), request.form.get("reward_text", ""))
        except FieldError as error:
            errors[error.field] = error.message
        else:
            flash(_("Reward policy saved."), "success")
            return redirect(url_for(".index"), code=303)
    return render("referrals/reward.html", status=422 if errors else 200, values=values, errors=errors,
                  kinds=REWARD_LABELS)


@bp.post("/referrals/<id:referral_id>/reward")
@login_required
def reward_delivered(referral_id: int):
    referral = get_or_404(Referral, referral_id)
    if db.session.execute(services.referral_query(current_user, services.ReferralFilters(days=None))
                          .where(Referral.id == referral.id)).first() is None:
        abort(404)
    try:
        services.mark_reward(referral, request.form.get("delivered") == "1")
    except FieldError as error:
        flash(error.message, "error")
    else:
        flash(_("Reward of %(name)s's referral: noted.", name=referral.name), "success")
    return redirect(url_for(".index", **{k: v for k, v in request.args.items() if k in FILTER_ARGS}), code=303)


from . import delivery, links, testimonials  # noqa: E402,F401  (their routes live on this blueprint)
