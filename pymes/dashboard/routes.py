"""The manager's dashboard: figures with a one-line explanation, each linking to the
list behind it; the charts arrive as lazy htmx fragments so the page paints at once."""
from __future__ import annotations

import json

from flask import Blueprint, abort
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.decorators import manager_required
from ..complaints import services as complaints
from ..clients.loyalty import TIER_LABELS
from ..htmx import render
from ..i18n import business_timezone, business_today
from . import services

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@manager_required
def index():
    from ..clients.services import key_clients
    from ..visits.services import team_health

    today, zone = business_today(), business_timezone()
    repeat, buyers = services.repeat_rate(today)
    key_rows, total = key_clients(today)
    health = team_health(today)
    due, on_time = sum(h.due_30d for h in health), sum(h.on_time_30d for h in health)
    ups, downs = services.tier_moves(today, zone)
    nps = services.nps_trend(today, zone)
    answers = sum(m.answers for m in nps)
    year_nps = services.MonthNps(today, answers, sum(m.promoters for m in nps), sum(m.detractors for m in nps))
    return render("dashboard/index.html", nps=year_nps, repeat=repeat, buyers=buyers,
                  key_share=key_rows[-1].cumulative if key_rows else None, key_count=len(key_rows),
                  follow_due=due, follow_on_time=on_time, ups=ups, downs=downs,
                  referrals=services.referral_figures(today, zone), retained=services.retained(current_user, today),
                  complaints=complaints.figures(current_user, 365, today))


@bp.get("/dashboard/charts/<any(nps, tiers):name>")
@manager_required
def chart(name: str):
    """One chart and its table, as a fragment (the page asks for it once it has painted)."""
    today, zone = business_today(), business_timezone()
    if name == "nps":
        rows = [(format_date(m.month, "MMM yyyy"), m.nps, m.answers) for m in services.nps_trend(today, zone)]
        config = {"type": "line", "data": {"labels": [r[0] for r in rows], "datasets": [{
            "label": "NPS", "data": [r[1] for r in rows], "spanGaps": True, "borderColor": "#0172ad",
            "backgroundColor": "#0172ad"}]}, "options": {"animation": False, "scales": {"y": {"min": -100, "max": 100}},
                                                         "plugins": {"legend": {"display": False}}}}
        return render("dashboard/_chart.html", "dashboard/_chart.html", name=name, config=json.dumps(config),
                      caption=_("NPS per month, last 12 months"), head=(_("Month"), "NPS", _("Answers")), rows=rows)
    if name == "tiers":
        counts = services.tier_distribution()
        order = ("buyer", "sporadic", "frequent", "apostle")
        rows = [(str(TIER_LABELS[k]), counts.get(k, 0)) for k in order]
        config = {"type": "bar", "data": {"labels": [r[0] for r in rows], "datasets": [{
            "label": _("Clients"), "data": [r[1] for r in rows],
            "backgroundColor": ["#8e9aaf", "#6a9fd4", "#0172ad", "#1f7a4d"]}]},
            "options": {"animation": False, "scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}},
                        "plugins": {"legend": {"display": False}}}}
        return render("dashboard/_chart.html", "dashboard/_chart.html", name=name, config=json.dumps(config),
                      caption=_("Clients on each step of the loyalty ladder"), head=(_("Tier"), _("Clients")),
                      rows=rows)
    abort(404)


FUNNEL_LABELS = {"sales": _l("Sales"), "contacts": _l("Post-sale contacts done"), "answers": _l("Feedback answered"),
                 "promoters": _l("Promoters (9–10)"), "testimonials": _l("Testimonials"), "referrals": _l("Referrals"),
                 "converted": _l("Referrals who bought"), "referred_revenue": _l("Sales to referred clients")}
FUNNEL_PERIODS = (30, 90, 365)


@bp.get("/dashboard/funnel")
@manager_required
def circle():
    """The virtuous circle of a period, for the business, per seller and per territory."""
    from flask import request
    from sqlalchemy import select

    from ..accounts.models import User
    from ..clients.models import Client
    from ..extensions import db
    from ..territories.models import Territory

    days = request.args.get("days", "90")
    days = int(days) if days in {str(p) for p in FUNNEL_PERIODS} else 90
    today, zone = business_today(), business_timezone()
    return render("dashboard/funnel.html", days=days, periods=FUNNEL_PERIODS, steps=services.FUNNEL_STEPS,
                  labels=FUNNEL_LABELS, total=services.funnel(today, days, zone)[None],
                  by_seller=services.funnel(today, days, zone, Client.seller_id),
                  by_territory=services.funnel(today, days, zone, Client.territory_id),
                  sellers=dict(db.session.execute(select(User.id, User.name)).all()),
                  territories=dict(db.session.execute(select(Territory.id, Territory.name)).all()))
