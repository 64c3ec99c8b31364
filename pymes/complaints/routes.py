"""The complaints board, a case's page and its actions, and the business's targets."""
from __future__ import annotations

from urllib.parse import quote

from babel.numbers import format_decimal, get_currency_precision
from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import format_date, format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.decorators import login_required, manager_required
from ..accounts.models import User
from ..accounts.team import active_team
from ..clients.loyalty import TIER_LABELS
from ..clients.models import Client
from ..clients.services import national
from ..db import utcnow
from ..extensions import db
from ..htmx import render, render_cached
from ..i18n import business_locale, money
from ..sales.models import Sale
from ..sales.services import parse_money
from ..tenancy import get_or_404
from ..validation import FieldError, apply_field_error, digits_int, query_int
from ..visits.models import Activity
from . import economics as recovery_economics
from . import history, queries, services
from .forms import (
    CATEGORY_LABELS,
    EVENT_LABELS,
    REMEDY_LABELS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    AssignForm,
    ComplaintForm,
    RemedyForm,
    ReopenForm,
    ResolveForm,
    SeverityForm,
    TargetsForm,
    ToldForm,
)
from .models import Complaint, ComplaintEvent

bp = Blueprint("complaints", __name__)

PERIODS = (30, 90, 365)


def _labels() -> dict:
    return dict(category=CATEGORY_LABELS, severity=SEVERITY_LABELS, source=SOURCE_LABELS, status=STATUS_LABELS,
                remedy=REMEDY_LABELS, event=EVENT_LABELS)


def _case(complaint_id: int) -> tuple[Complaint, Client]:
    complaint = get_or_404(Complaint, complaint_id)
    query = queries.visible(current_user, select(Complaint.id).where(Complaint.id == complaint.id))
    if db.session.execute(query).first() is None:
        abort(404)  # a restricted seller: another seller's client is not there at all
    return complaint, db.session.get(Client, complaint.client_id)


def _handling(complaint_id: int) -> tuple[Complaint, Client]:
    complaint, client = _case(complaint_id)
    if not queries.may_handle(current_user, complaint):
        abort(403)
    return complaint, client


def _closed(complaint: Complaint):
    flash(_("This complaint is resolved and stays closed, so its times and figures stay true. If the problem is "
            "back, use “The problem is back” on this page: it opens a new complaint linked to this one."),
          "error")
    return redirect(url_for(".show", complaint_id=complaint.id), code=303)


@bp.get("/complaints")
@login_required
def board():
    show = request.args.get("show", "open")
    show = show if show in queries.BOARD_FILTERS else "open"
    owner_id = query_int("owner")
    sort = request.args.get("sort", "")
    sort = sort if sort in queries.BOARD_SORTS else ""
    days = int(request.args.get("days", 90)) if request.args.get("days", "90") in {str(p) for p in PERIODS} else 90
    def content():
        rows = db.session.execute(queries.board_query(current_user, show, owner_id, sort).limit(200)).all()
        team = active_team()
        now = utcnow()
        return dict(rows=rows, show=show, owner_id=owner_id, sort=sort, team=team,
                    names={u.id: u.name for u in team}, counts=queries.counts(current_user),
                    figures=queries.figures(current_user, days), days=days, periods=PERIODS, labels=_labels(),
                    breached=services.breached, ack_breached=services.ack_breached,
                    resolve_breached=services.resolve_breached, age=lambda c: _age(c, now))

    # the ages and the late flags move with the clock: kept one minute at most
    return render_cached("complaints/board.html", "complaints.board", (show, owner_id, sort, days), content,
                         per_session=True, max_age=60)


def _age(complaint: Complaint, now) -> str:
    """How long the case has been open ("3 days"), or how long it took once resolved."""
    return format_timedelta((complaint.resolved_at or now) - complaint.opened_at, threshold=1)


@bp.route("/clients/<id:client_id>/complaints/new", methods=["GET", "POST"])
@login_required
def new(client_id: int):
    client = get_or_404(Client, client_id)
    activity = None
    activity_id = digits_int(request.values.get("activity"))
    if activity_id is not None:
        activity = db.session.execute(select(Activity).where(Activity.id == activity_id,
                                                             Activity.client_id == client.id)).scalar_one_or_none()
    sales = db.session.execute(select(Sale).where(Sale.client_id == client.id)
                               .order_by(Sale.sold_on.desc(), Sale.id.desc()).limit(50)).scalars().all()
    form = ComplaintForm(sales=sales, team=active_team(), money=money)
    if request.method == "GET":
        form.severity.data = services.default_severity(client)
        if activity is not None:
            form.source.data = activity.kind
            form.sale_id.data = activity.sale_id
    if form.validate_on_submit():
        try:
            complaint = services.open_complaint(
                client, current_user, category=form.category.data, description=form.description.data,
                severity=form.severity.data, sale_id=form.sale_id.data, owner_id=form.owner_id.data,
                source=form.source.data, activity_id=activity.id if activity else None)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Complaint opened. Acknowledge it quickly: the client is waiting."), "success")
            return redirect(url_for(".show", complaint_id=complaint.id), code=303)
    return render("complaints/new.html", status=422 if form.errors else 200, form=form, client=client,
                  activity=activity)


def _page(complaint: Complaint, client: Client, status: int = 200, remedy_form=None, assign_form=None,
          severity_form=None, reopen_form=None):
    events = db.session.execute(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
                                .order_by(ComplaintEvent.id)).scalars().all()
    team = active_team()
    names = {u.id: u.name for u in db.session.execute(select(User)).scalars()}  # former staff keep their name
    if remedy_form is None:
        remedy_form = RemedyForm(formdata=None, data={
            "remedy": complaint.remedy or "", "remedy_notes": complaint.remedy_notes,
            "remedy_cost": _money_input(complaint.remedy_cost) if complaint.remedy_cost else ""})
    assign_form = assign_form or AssignForm(formdata=None, team=team, data={"owner_id": complaint.owner_id})
    severity_form = severity_form or SeverityForm(formdata=None, data={"severity": complaint.severity})
    sale = db.session.get(Sale, complaint.sale_id) if complaint.sale_id else None
    business = g.business
    subject, text = services.message_to_client(complaint, client, business)
    whatsapp_number = client.whatsapp or (client.phone if client.preferred_channel == "whatsapp" else None)
    return render("complaints/show.html", status=status, c=complaint, client=client, events=events, names=names,
                  sale=sale, labels=_labels(), remedy_form=remedy_form, assign_form=assign_form,
                  severity_form=severity_form, reopen_form=reopen_form or ReopenForm(formdata=None),
                  history=[history.event_lines(e, history.Words(_labels(), names)) for e in events],
                  told_form=ToldForm(formdata=None, data={"channel": client.preferred_channel or "whatsapp"}),
                  resolve_form=ResolveForm(formdata=None), econ=services.economics_for(complaint),
                  article_example=_article_example(),
                  recovery=queries.recovery(complaint), may_handle=queries.may_handle(current_user, complaint),
                  ack_breached=services.ack_breached(complaint), resolve_breached=services.resolve_breached(complaint),
                  message_subject=subject, message_text=text,
                  message_language=services.client_language(client, business),
                  whatsapp=f"https://wa.me/{whatsapp_number[1:]}?text={quote(text)}" if whatsapp_number else "",
                  mailto=(f"mailto:{client.email}?subject={quote(subject)}&body={quote(text)}" if client.email
                          else ""),
                  phone=national(client.phone, business.country) if client.phone else "")


def _money_input(minor: int) -> str:
    digits = get_currency_precision(g.business.currency)
    return format_decimal(minor / (10 ** digits), locale=business_locale(), group_separator=False)


@bp.get("/complaints/<id:complaint_id>")
@login_required
def show(complaint_id: int):
    complaint, client = _case(complaint_id)
    return _page(complaint, client)


@bp.post("/complaints/<id:complaint_id>/acknowledge")
@login_required
def acknowledge(complaint_id: int):
    complaint, _client = _handling(complaint_id)
    try:
        if services.acknowledge(complaint, current_user):
            flash(_("Acknowledged. Now tell the client what you will do."), "success")
    except services.Closed:
        return _closed(complaint)
    return redirect(url_for(".show", complaint_id=complaint.id), code=303)


@bp.post("/complaints/<id:complaint_id>/assign")
@login_required
def assign(complaint_id: int):
    complaint, client = _handling(complaint_id)
    form = AssignForm(team=active_team())
    if form.validate_on_submit():
        try:
            services.assign(complaint, current_user, form.owner_id.data)
        except services.Closed:
            return _closed(complaint)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Complaint given to %(name)s.", name=db.session.get(User, complaint.owner_id).name), "success")
            return redirect(url_for(".show", complaint_id=complaint.id), code=303)
    return _page(complaint, client, status=422, assign_form=form)


@bp.post("/complaints/<id:complaint_id>/severity")
@login_required
def severity(complaint_id: int):
    complaint, client = _handling(complaint_id)
    form = SeverityForm()
    if form.validate_on_submit():
        try:
            changed = services.change_severity(complaint, current_user, form.severity.data)
        except services.Closed:
            return _closed(complaint)
        if changed:
            flash(_("Severity changed: the clocks were counted again from when the complaint was opened."), "success")
        return redirect(url_for(".show", complaint_id=complaint.id), code=303)
    return _page(complaint, client, status=422, severity_form=form)


@bp.post("/complaints/<id:complaint_id>/reopen")
@login_required
def reopen(complaint_id: int):
    """The problem is back: a new case linked to the resolved one (which stays as it was)."""
    complaint, client = _handling(complaint_id)
    form = ReopenForm()
    if complaint.status != "resolved":
        flash(_("This complaint is still open: carry on with it here."), "error")
        return redirect(url_for(".show", complaint_id=complaint.id), code=303)
    if form.validate_on_submit():
        try:
            again = services.reopen(complaint, current_user, form.reason.data or "")
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("A new complaint was opened because the problem came back. The resolved one keeps its times "
                    "and figures, and both histories link to each other."), "success")
            return redirect(url_for(".show", complaint_id=again.id), code=303)
    return _page(complaint, client, status=422, reopen_form=form)


@bp.post("/complaints/<id:complaint_id>/remedy")
@login_required
def remedy(complaint_id: int):
    complaint, client = _handling(complaint_id)
    form = RemedyForm()
    if form.validate_on_submit():
        try:
            cost = parse_money(form.remedy_cost.data, g.business.currency, business_locale(), "remedy_cost")
            services.record_remedy(complaint, current_user, form.remedy.data, cost, form.remedy_notes.data or "")
        except services.Closed:
            return _closed(complaint)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Remedy saved. The economics below use its cost."), "success")
            return redirect(url_for(".show", complaint_id=complaint.id) + "#economics", code=303)
    return _page(complaint, client, status=422, remedy_form=form)


@bp.get("/complaints/<id:complaint_id>/economics")
@login_required
def economics(complaint_id: int):
    """The economics fragment, recomputed as the remedy cost is typed (htmx)."""
    complaint, _client = _case(complaint_id)
    error = None
    try:
        cost = parse_money(request.args.get("remedy_cost"), g.business.currency, business_locale(), "remedy_cost")
        if cost is not None and cost < 0:
            raise FieldError("remedy_cost", _("A cost cannot be negative."))
    except FieldError as problem:
        cost, error = None, problem.message
    econ = services.economics_for(complaint, remedy_cost=cost)
    return render("complaints/_economics.html", "complaints/_economics.html", econ=econ, c=complaint,
                  cost_error=error, article_example=_article_example())


def _article_example():
    """Article 003's case ($10 a month, $3 of margin, a $10 replacement) in the
    business's currency, computed by the same function as the page's figures."""
    return recovery_economics.article_example(get_currency_precision(g.business.currency))


@bp.post("/complaints/<id:complaint_id>/told")
@login_required
def told(complaint_id: int):
    complaint, client = _handling(complaint_id)
    form = ToldForm()
    if form.validate_on_submit():
        try:
            services.mark_told(complaint, current_user, form.channel.data)
        except services.Closed:
            return _closed(complaint)
        flash(_("Noted: the client knows what you are doing about it."), "success")
    else:
        flash(_("Choose how the client was told."), "error")
    return redirect(url_for(".show", complaint_id=complaint.id), code=303)


@bp.post("/complaints/<id:complaint_id>/resolve")
@login_required
def resolve(complaint_id: int):
    complaint, client = _handling(complaint_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            services.resolve(complaint, current_user, form.note.data or "")
        except services.Closed:
            return _closed(complaint)
        except FieldError as error:
            remedy_form = RemedyForm(formdata=None, data={"remedy": "", "remedy_notes": complaint.remedy_notes})
            remedy_form.remedy.errors = [error.message]
            return _page(complaint, client, status=422, remedy_form=remedy_form)
        flash(_("Resolved. A feedback link will ask the client on %(day)s whether all is well again.",
                day=_format_day(complaint.followup_on)), "success")
    return redirect(url_for(".show", complaint_id=complaint.id), code=303)


def _format_day(day) -> str:
    return format_date(day, "long")


@bp.route("/complaints/settings", methods=["GET", "POST"])
@manager_required
def settings():
    current = services.settings()
    form = TargetsForm(obj=current)
    if form.validate_on_submit():
        services.save_settings({name: getattr(form, name).data for name in (
            "ack_hours", "resolve_days", "priority_ack_hours", "priority_resolve_days", "acquisition_multiplier",
            "followup_days")})
        flash(_("Targets saved. They apply to complaints opened from now on."), "success")
        return redirect(url_for(".settings"), code=303)
    return render("complaints/settings.html", status=422 if form.errors else 200, form=form,
                  scale=services.scale(current), tier_labels=TIER_LABELS)
