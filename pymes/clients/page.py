"""What the client page shows, gathered in one place: ``client_page`` reads the client's
sales, contacts, answers, complaints, testimonials and referrals, places them on one
timeline and returns a ``ClientPage`` the route renders. It runs only when the page's
kept fragment is missing (``htmx.render_cached``): everything it depends on besides the
database comes in as an argument (the reader, the business), never from the request."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select

from ..accounts.team import active_team
from ..extensions import db
from ..i18n import business_timezone, business_today
from ..sales.models import Sale
from ..territories.models import Portfolio, Territory
from . import loyalty, services
from .forms import CHANNEL_LABELS, SOURCE_LABELS, TIME_LABELS, SaleForm, SpecialistForm, TierForm
from .models import Client, ClientSpecialist, TierChange


@dataclass
class Records:
    """Everything recorded about one client, newest first."""
    sales: list
    activities: list
    answers: list
    complaints: list
    testimonials: list
    referred: list  # (Referral, the prospect Client)
    added: list = field(default_factory=list)  # (moment, kind, record) from ``TIMELINE_SOURCES``


# Records a higher feature puts on the timeline (WhatsApp's messages), registered by that
# feature at import, so clients stays below it: client id → [(aware datetime, kind, record)];
# the template draws each kind.
TIMELINE_SOURCES: list[Callable[[int], list]] = []


@dataclass
class ClientPage:
    client: Client
    sales: list
    history: list
    why: Any
    share: float
    seller_names: dict
    referrer: Client | None
    territory: Territory | None
    portfolio: Portfolio | None
    sale_form: SaleForm
    tier_form: TierForm
    specialists: list
    specialist_form: SpecialistForm
    timeline: list
    plan_form: Any
    activity_labels: dict
    complaint_labels: dict
    open_complaints: list
    name_displays: dict
    channel_labels: dict
    time_labels: dict
    source_labels: dict
    tier_labels: dict
    national: Any

    def context(self) -> dict:
        """The template's names (a shallow dict: the ORM rows stay as they are)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _newest(statement) -> list:
    return db.session.execute(statement).scalars().all()


def _records(client_id: int) -> Records:
    from ..complaints.models import Complaint
    from ..feedback.models import FeedbackResponse
    from ..referrals.models import Referral, Testimonial
    from ..visits.models import Activity

    return Records(
        sales=_newest(select(Sale).where(Sale.client_id == client_id).order_by(Sale.sold_on.desc(), Sale.id.desc())),
        activities=_newest(select(Activity).where(Activity.client_id == client_id)
                           .order_by(Activity.due_on.desc(), Activity.id.desc())),
        answers=_newest(select(FeedbackResponse).where(FeedbackResponse.client_id == client_id)
                        .order_by(FeedbackResponse.id.desc())),
        complaints=_newest(select(Complaint).where(Complaint.client_id == client_id)
                           .order_by(Complaint.opened_at.desc())),
        testimonials=_newest(select(Testimonial).where(Testimonial.client_id == client_id)
                             .order_by(Testimonial.id.desc())),
        referred=db.session.execute(select(Referral, Client).join(Client, Client.id == Referral.prospect_id)
                                    .where(Referral.referrer_id == client_id).order_by(Referral.id.desc())).all(),
        added=[item for source in TIMELINE_SOURCES for item in source(client_id)],
    )


def timeline(records: Records, local: tzinfo) -> list[tuple[date, str, Any]]:
    """(day, kind, record) for everything that happened with the client, newest first."""
    def day(moment) -> date:
        return moment.astimezone(local).date()

    return sorted([(s.sold_on, "sale", s) for s in records.sales]
                  + [(a.due_on, "activity", a) for a in records.activities]
                  + [(day(r.created_at), "feedback", r) for r in records.answers]
                  + [(day(c.opened_at), "complaint", c) for c in records.complaints]
                  + [(day(t.created_at), "testimonial", t) for t in records.testimonials]
                  + [(day(r.created_at), "referral", (r, p)) for r, p in records.referred]
                  + [(day(moment), kind, record) for moment, kind, record in records.added],
                  key=lambda item: item[0], reverse=True)


def business_revenue_12m(today: date) -> int:
    return int(db.session.execute(
        select(func.coalesce(func.sum(Sale.amount), 0))
        .where(Sale.sold_on > today - timedelta(days=365), Sale.sold_on <= today)
    ).scalar_one())


def _why(client: Client, sales: list, today: date) -> list:
    """The rung's explanation, computed from the client's purchases as the ladder does."""
    score, converted = services.loyalty_facts(client.id)
    dates, imported = services.purchase_history(client.id, [s.sold_on for s in sales])
    result = loyalty.compute_tier(dates, today, score=score, converted_referrals=converted, rules=services.rules(),
                                  imported=imported, testimonials=services.published_testimonials(client.id))
    return loyalty.explain(result, services.rules())


def _get(model, row_id: int | None):
    return db.session.get(model, row_id) if row_id else None


def client_page(client: Client, reader_id: int, currency: str, country: str) -> ClientPage:
    """The client page's data for a reader (the sale form proposes them as its seller)."""
    from ..complaints.forms import CATEGORY_LABELS
    from ..complaints.forms import STATUS_LABELS as COMPLAINT_STATUS
    from ..referrals.services import OWNER_NAME_DISPLAY_LABELS
    from ..visits.forms import KIND_LABELS, PURPOSE_LABELS, STATUS_LABELS, PlanForm

    today, team = business_today(), active_team()
    records = _records(client.id)
    total = business_revenue_12m(today)
    return ClientPage(
        client=client, sales=records.sales, why=_why(client, records.sales, today),
        history=_newest(select(TierChange).where(TierChange.client_id == client.id)
                        .order_by(TierChange.created_at.desc()).limit(20)),
        share=(client.revenue_12m / total) if total else 0, seller_names={u.id: u.name for u in team},
        referrer=_get(Client, client.referred_by_id), territory=_get(Territory, client.territory_id),
        portfolio=_get(Portfolio, client.portfolio_id),
        sale_form=SaleForm(formdata=None, sellers=team, currency=currency,
                           data={"sold_on": today, "seller_id": reader_id}),
        tier_form=TierForm(formdata=None, data={"tier": client.tier_override or "",
                                                "reason": client.tier_override_reason}),
        specialists=_newest(select(ClientSpecialist).where(ClientSpecialist.client_id == client.id)
                            .order_by(ClientSpecialist.product_line)),
        specialist_form=SpecialistForm(formdata=None, sellers=team),
        timeline=timeline(records, business_timezone()),
        plan_form=PlanForm(formdata=None, sellers=team, data={"due_on": today}),
        activity_labels=dict(purpose=PURPOSE_LABELS, kind=KIND_LABELS, status=STATUS_LABELS),
        complaint_labels=dict(category=CATEGORY_LABELS, status=COMPLAINT_STATUS),
        open_complaints=[c for c in records.complaints if c.status != "resolved"],
        name_displays=OWNER_NAME_DISPLAY_LABELS, channel_labels=CHANNEL_LABELS, time_labels=TIME_LABELS,
        source_labels=SOURCE_LABELS, tier_labels=loyalty.TIER_LABELS,
        national=lambda n: services.national(n, country))
