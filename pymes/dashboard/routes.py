"""The manager's dashboard: figures with a one-line explanation, each linking to the
list behind it; the charts arrive as lazy htmx fragments so the page paints at once."""
from __future__ import annotations

import dataclasses

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.decorators import manager_required, roles_required
from ..htmx import render
from ..i18n import business_timezone, business_today
from ..validation import query_int
from . import charts, figures, services

bp = Blueprint("dashboard", __name__)


DASHBOARD_ROLES = ("owner", "manager", "seller")


def _filters() -> figures.Filters:
    """The filters from the address. A seller sees their own clients only: the seller
    filter is forced to them, whatever the address says."""
    days = request.args.get("days", "")
    days = int(days) if days in {str(p) for p in figures.PERIODS} else figures.DEFAULT_DAYS
    seller = current_user.id if current_user.role == "seller" else query_int("seller")
    return figures.Filters(days=days, seller_id=seller, portfolio_id=query_int("portfolio"),
                           territory_id=query_int("territory"))


def _choices() -> dict:
    """Who and what the filters offer (three small reads)."""
    from sqlalchemy import select

    from ..accounts.models import User
    from ..extensions import db
    from ..territories.models import Portfolio, Territory

    sellers = [] if current_user.role == "seller" else db.session.execute(
        select(User.id, User.name).where(User.active.is_(True), User.role != "service").order_by(User.name)).all()
    return dict(sellers=sellers,
                portfolios=db.session.execute(select(Portfolio.id, Portfolio.name).order_by(Portfolio.name)).all(),
                territories=db.session.execute(select(Territory.id, Territory.name).order_by(Territory.name)).all())


@bp.get("/dashboard")
@roles_required(*DASHBOARD_ROLES)
def index():
    from ..complaints.services import settings as complaint_settings
    from ..htmx import render_cached

    f = _filters()

    def content():
        today, zone = business_today(), business_timezone()
        repeat, buyers = figures.repeat_rate(today, f)
        key_count, key_share = figures.key_share(today, f)
        on_time, due = figures.followup(today, zone, f)
        ups, downs = figures.tier_moves(today, zone, f)
        cases = figures.complaints(today, zone, f)  # shared by every reader: a changed copy
        cases = dataclasses.replace(
            cases, replacement_cost=complaint_settings().acquisition_multiplier * cases.remedy_cost)
        return dict(f=f, periods=figures.PERIODS, charts=CHARTS, feedback=figures.feedback(today, zone, f),
                    repeat=repeat, buyers=buyers, key_share=key_share, key_count=key_count, follow_due=due,
                    follow_on_time=on_time, ups=ups, downs=downs, dropped=figures.dropped(f),
                    referrals=figures.referrals(today, zone, f), complaints=cases, **_choices())

    return render_cached("dashboard/index.html", "dashboard.index", (f,), content, f=f)


CHARTS = {"nps": _l("NPS, month by month"), "responses": _l("Feedback answered, month by month"),
          "tiers": _l("The loyalty ladder"), "moves": _l("Tier moves, month by month"),
          "followup": _l("Follow-up on time, month by month"), "referrals": _l("Referrals, month by month")}

@bp.get("/dashboard/charts/<any(nps, responses, tiers, moves, followup, referrals):name>")
@roles_required(*DASHBOARD_ROLES)
def chart(name: str):
    """One chart and its table, as a fragment (the page asks for it once it has painted),
    under the page's filters. Each monthly series is one statement; each chart is a
    function of ``charts.BUILDERS``."""
    drawn = charts.BUILDERS[name](business_today(), business_timezone(), _filters())
    return render("dashboard/_chart.html", "dashboard/_chart.html", name=name, config=drawn.config,
                  caption=drawn.caption, head=drawn.head, rows=drawn.rows)


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
    delivery_total, delivery_by_seller = figures.delivery_asks(today, zone, days)
    return render("dashboard/funnel.html", days=days, periods=FUNNEL_PERIODS, steps=services.FUNNEL_STEPS,
                  delivery_total=delivery_total, delivery_by_seller=delivery_by_seller,
                  labels=FUNNEL_LABELS, total=services.funnel(today, days, zone)[None],
                  by_seller=services.funnel(today, days, zone, Client.seller_id),
                  by_territory=services.funnel(today, days, zone, Client.territory_id),
                  sellers=dict(db.session.execute(select(User.id, User.name)).all()),
                  territories=dict(db.session.execute(select(Territory.id, Territory.name)).all()))
