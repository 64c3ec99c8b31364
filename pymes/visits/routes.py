"""The agenda of each seller and the one-click logging of visits and calls."""
from __future__ import annotations

from datetime import date, timedelta

from babel import Locale
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.decorators import login_required, manager_required
from ..accounts.models import Business
from ..accounts.team import active_team
from ..clients.forms import CHANNEL_LABELS, TIME_LABELS
from ..clients.models import Client
from ..clients.services import national
from ..contact import client_language, greeting_name, wa_url, whatsapp_number
from ..events import contact_logged
from ..extensions import db, limiter
from ..htmx import render, render_cached
from ..i18n import business_locale, business_today
from ..sales.models import Sale
from ..sales.services import parse_money, record_sale
from ..tenancy import get_child_or_404, get_or_404
from ..validation import FieldError, apply_field_error, digits_int
from . import calendar, services
from .calendar import has_feed
from .forms import KIND_LABELS, PURPOSE_LABELS, STATUS_LABELS, CadenceForm, ChangePlanForm, OutcomeForm, PlanForm
from .models import Activity

bp = Blueprint("visits", __name__)


def whatsapp_link(client: Client, business_name: str, activity: Activity | None = None) -> str:
    """A wa.me link to the client's WhatsApp (or mobile phone) with a greeting prefilled
    in the client's language (else the business's), not in the seller's interface
    language; a callback the client asked for says so."""
    number = whatsapp_number(client)
    if number is None:
        return ""
    with force_locale(client_language(client, g.business)):
        if activity is not None and activity.purpose == "callback":
            text = _("Hello %(name)s, this is %(business)s. You asked us to contact you: thank you for telling us "
                     "how it went. Do you have a moment?", name=greeting_name(client), business=business_name)
        else:
            text = _("Hello %(name)s, this is %(business)s. How is it going with your purchase?",
                     name=greeting_name(client), business=business_name)
    return wa_url(number, text)


def _item_context(activity: Activity, client: Client, form: OutcomeForm | None = None) -> dict:
    return dict(a=activity, c=client, form=form or OutcomeForm(formdata=None), today=business_today(),
                wa=whatsapp_link(client, g.business.name, activity),
                phone=national(client.phone or client.whatsapp, g.business.country), labels=_labels())


def _labels() -> dict:
    return dict(purpose=PURPOSE_LABELS, kind=KIND_LABELS, status=STATUS_LABELS, channel=CHANNEL_LABELS,
                time=TIME_LABELS)


def _whose_agenda() -> int | None:
    """Sellers see their own; managers and owners pick one (?seller=ID) or everyone (?seller=all)."""
    who = request.args.get("seller", "")
    if current_user.has_role("owner", "manager"):
        if who == "all":
            return None
        chosen = digits_int(who)
        if chosen is not None:
            return chosen
    return current_user.id


@bp.get("/agenda")
@login_required
def agenda():
    """Today, overdue and this week. Sellers see their own; managers pick a seller or everyone."""
    seller_id = _whose_agenda()
    today = business_today()
    page = request.args.get("overdue_page", "1")
    overdue_page = int(page) if page.isdigit() and len(page) < 7 else 1

    def content():
        plan = services.agenda(seller_id, today, overdue_page=overdue_page)
        return dict(plan=plan, today=today, seller_id=seller_id, team=active_team(), has_feed=has_feed(current_user),
                    form=OutcomeForm(formdata=None), labels=_labels(), wa=whatsapp_link,
                    phone=lambda c: national(c.phone or c.whatsapp, g.business.country))

    # the outcome forms carry the session's CSRF token: the agenda is kept per session
    return render_cached("visits/agenda.html", "visits.agenda", (seller_id, overdue_page), content,
                         per_session=True)


@bp.get("/agenda/<id:activity_id>")
@login_required
def item(activity_id: int):
    activity = get_or_404(Activity, activity_id)
    client = get_or_404(Client, activity.client_id)
    return render("visits/_item.html", **_item_context(activity, client))


@bp.post("/agenda/<id:activity_id>/outcome")
@login_required
def log_outcome(activity_id: int):
    activity = get_or_404(Activity, activity_id)
    client = get_or_404(Client, activity.client_id)
    key = services.outcome_key(request.form.get("outcome_key"))
    if activity.status != "planned":
        return _logged_already(activity, client, key)
    form = OutcomeForm()
    if form.validate_on_submit():
        today = business_today()
        try:
            amount = _opportunity_amount(form)
            services.log_outcome(activity, status=form.status.data, notes=form.notes.data or "",
                                 satisfaction=form.satisfaction.data, opportunity=bool(form.opportunity.data),
                                 new_date=form.new_date.data, today=today, key=key)
        except services.AlreadyLogged:
            activity = get_or_404(Activity, activity_id)
            return _logged_already(activity, client, key)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Logged: %(what)s with %(name)s.", what=PURPOSE_LABELS[activity.purpose], name=client.name),
                  "success")
            if form.opportunity.data:
                _act_on_opportunity(activity, client, form.opportunity_what.data.strip(), amount, today)
            # article 004: referrals are asked while the client is satisfied (events.contact_logged)
            offer = next((offer for _, offer in contact_logged.send(activity, client=client) if offer), None)
            if request.headers.get("HX-Request"):
                answer = render("visits/_item.html", "visits/_item.html", **_item_context(activity, client))
                if offer:  # the offers drawn right under the item just logged
                    answer.set_data(answer.get_data(as_text=True) + str(offer.panel()))
                return answer
            if offer:
                return redirect(offer.url, code=303)
            return redirect(url_for(".agenda"), code=303)
    return render("visits/_item.html", "visits/_item.html", status=422, **_item_context(activity, client, form))


def _logged_already(activity: Activity, client: Client, key: str | None):
    """The phone's outbox sent this outcome again (its first answer was lost): it is
    recorded already, once; say so instead of refusing it (issue 21, point 2). Another
    outcome for a contact already logged is refused (409), as ever."""
    if key and activity.outcome_key == key:
        return render("visits/_item.html", "visits/_item.html", **_item_context(activity, client))
    abort(409)


def _opportunity_amount(form: OutcomeForm) -> int | None:
    """Checked before anything is saved, so a wrong amount loses nothing."""
    if not form.opportunity.data:
        return None
    if not (form.opportunity_what.data or "").strip():
        raise FieldError("opportunity_what", _("Write what the client wants, so nobody forgets it."))
    amount = parse_money(form.opportunity_amount.data, g.business.currency, business_locale(), "opportunity_amount")
    if amount is not None and amount <= 0:
        raise FieldError("opportunity_amount", _("Write an amount above zero, or leave it empty."))
    return amount


def _act_on_opportunity(activity: Activity, client: Client, what: str, amount: int | None, today) -> None:
    """On the spot: a sale when the client bought it now (which plans its own follow-up),
    otherwise a call in a week to follow the opportunity up."""
    if amount is not None:
        record_sale(client, sold_on=today, description=what, product_line="", amount=amount, margin=None,
                    seller_id=activity.seller_id, delivery_on=None, actor=current_user, today=today)
        flash(_("Sale recorded: %(what)s.", what=what), "success")
        return
    call = services.plan_contact(client, kind="call", due_on=today + timedelta(days=7), seller_id=activity.seller_id,
                                 today=today, notes=_("Opportunity: %(what)s", what=what))
    flash(_("Opportunity noted: a call to follow it up is planned for %(day)s.", day=format_date(call.due_on)), "info")


@bp.post("/clients/<id:client_id>/contacts")
@login_required
def plan_contact(client_id: int):
    """A visit or call planned by hand. A refused one comes back as its own page (422), the
    message beside the field and everything typed kept."""
    client = get_or_404(Client, client_id)
    form = PlanForm(sellers=active_team())
    if form.validate_on_submit():
        try:
            services.plan_contact(client, kind=form.kind.data, due_on=form.due_on.data,
                                  seller_id=form.seller_id.data, today=business_today(), notes=form.notes.data or "")
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Contact planned."), "success")
            return redirect(url_for("clients.show", client_id=client.id) + "#timeline", code=303)
    return render("visits/plan_contact.html", status=422, form=form, client=client)


# --- a sale's planned contacts, editable one by one ---------------------------------------

def _sale_and_activity(sale_id: int, activity_id: int):
    sale = get_or_404(Sale, sale_id)
    activity = get_child_or_404(Activity, activity_id, sale_id=sale.id)
    return sale, activity, get_or_404(Client, sale.client_id)


def _plan_row_form(activity: Activity, team=None) -> ChangePlanForm:
    return ChangePlanForm(formdata=None, sellers=team if team is not None else active_team(), prefix=f"a{activity.id}",
                          data={"due_on": activity.due_on, "seller_id": activity.seller_id})


def _sale_plan_context(sale, client, failed: tuple | None = None) -> dict:
    team = active_team()
    rows = []
    for activity in services.sale_plan(sale):
        if failed and failed[0].id == activity.id:
            rows.append((activity, failed[1]))
        else:
            rows.append((activity, _plan_row_form(activity, team=team) if activity.status == "planned" else None))
    return dict(sale=sale, client=client, rows=rows, names={u.id: u.name for u in team}, labels=_labels(),
                today=business_today())


@bp.get("/sales/<id:sale_id>/plan")
@login_required
def sale_plan(sale_id: int):
    """The visits and calls a sale planned: move each one's date or seller, or cancel it."""
    sale = get_or_404(Sale, sale_id)
    client = get_or_404(Client, sale.client_id)
    return render("visits/sale_plan.html", "visits/_sale_plan.html", **_sale_plan_context(sale, client))


def _plan_row_answer(sale, activity, client, form, status=200):
    if request.headers.get("HX-Request"):
        team = active_team()
        return render("visits/_plan_row.html", "visits/_plan_row.html", status=status, a=activity, form=form, oob=True,
                      sale=sale, names={u.id: u.name for u in team}, labels=_labels(), today=business_today())
    if status == 200:
        return redirect(url_for(".sale_plan", sale_id=sale.id), code=303)
    return render("visits/sale_plan.html", status=status, **_sale_plan_context(sale, client, (activity, form)))


@bp.post("/sales/<id:sale_id>/plan/<id:activity_id>")
@login_required
def move_planned(sale_id: int, activity_id: int):
    sale, activity, client = _sale_and_activity(sale_id, activity_id)
    if activity.status != "planned":
        abort(409)
    team = active_team()
    form = ChangePlanForm(sellers=team, prefix=f"a{activity.id}")
    if form.validate_on_submit():
        try:
            services.move_contact(activity, due_on=form.due_on.data, seller_id=form.seller_id.data,
                                  today=business_today())
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Moved to %(day)s: %(what)s.", what=PURPOSE_LABELS[activity.purpose],
                    day=format_date(activity.due_on)), "success")
            return _plan_row_answer(sale, activity, client, _plan_row_form(activity, team=team))
    return _plan_row_answer(sale, activity, client, form, status=422)


@bp.post("/sales/<id:sale_id>/plan/<id:activity_id>/cancel")
@login_required
def cancel_planned(sale_id: int, activity_id: int):
    sale, activity, client = _sale_and_activity(sale_id, activity_id)
    if activity.status != "planned":
        abort(409)
    services.cancel_contact(activity)
    flash(_("Cancelled: %(what)s.", what=PURPOSE_LABELS[activity.purpose]), "info")
    return _plan_row_answer(sale, activity, client, None)


# --- the private calendar feed ------------------------------------------------------------

@bp.post("/agenda/calendar")
@login_required
def new_calendar_link():
    """Make a new private feed link (the old one stops working) and show it once."""
    secret = calendar.new_feed(current_user)
    g.no_store = True
    url = current_app.config["BASE_URL"] + url_for(".calendar_feed", token=secret)
    return render("visits/calendar_link.html", url=url)


@bp.post("/agenda/calendar/revoke")
@login_required
def revoke_calendar_link():
    calendar.revoke_feed(current_user)
    flash(_("Your calendar link no longer works."), "info")
    return redirect(url_for(".agenda"), code=303)


@bp.get("/calendar/<token>.ics")
@limiter.limit("60 per minute")
def calendar_feed(token: str):
    """Public, no log-in: the secret in the URL is the only key. Any problem is a bare 404."""
    g.no_store = True
    g.referrer_policy = "no-referrer"
    user = calendar.feed_owner(token)
    if user is None:
        abort(404)
    business = db.session.get(Business, user.tenant_id)
    body = calendar.build(user, business_today(business))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="fideliza.ics"'
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/agenda/settings", methods=["GET", "POST"])
@manager_required
def cadence_settings():
    """The business's post-sale cadence; each planned contact can still be moved by hand."""
    form = CadenceForm(data=services.cadence().__dict__)
    if form.validate_on_submit():
        services.save_cadence({key: getattr(form, key).data for key in services.Cadence.__dataclass_fields__})
        flash(_("Follow-up cadence saved. It applies to the sales recorded from now on."), "success")
        return redirect(url_for(".cadence_settings"), code=303)
    return render("visits/settings.html", status=422 if form.errors else 200, form=form)


@bp.get("/agenda/team")
@manager_required
def team_health():
    """Managers see whether the team follows up on time."""
    return render("visits/team.html", rows=services.team_health(business_today()))


@bp.get("/agenda/month")
@login_required
def month():
    """A month at a glance; the month comes from ?month=YYYY-MM (this month by default)."""
    today = business_today()
    year, number = today.year, today.month
    who = request.args.get("seller", "")
    asked = request.args.get("month", "")
    if (len(asked) == 7 and asked[4] == "-" and asked[:4].isdigit() and asked[5:].isdigit()
            and 2000 <= int(asked[:4]) <= 2100 and 1 <= int(asked[5:]) <= 12):
        year, number = int(asked[:4]), int(asked[5:])
    seller_id = _whose_agenda()
    first_weekday = Locale.parse(f"{get_locale()}_{g.business.country}").first_week_day
    weeks = services.month(seller_id, year, number, first_weekday)
    previous = f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"
    following = f"{year + 1}-01" if number == 12 else f"{year}-{number + 1:02d}"
    return render("visits/month.html", weeks=weeks, year=year, number=number, today=today, previous=previous,
                  first_day=date(year, number, 1),
                  following=following, seller=who, labels=_labels())
