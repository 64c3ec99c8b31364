"""What the dashboard's figures (``figures.py``) and the funnel share: the months of a
trend, a month's NPS, and the virtuous-circle funnel. The figures themselves, under the
page's filters, are in ``figures.py``; all are tested on hand-made data (tests/dashboard)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..clients.models import Client
from ..extensions import db
from ..feedback.models import FeedbackResponse
from ..referrals.models import Referral, Testimonial
from ..sales.models import Sale
from ..visits.models import Activity


def months(today: date, count: int = 12) -> list[date]:
    """The first day of the last ``count`` months, oldest first, this month last."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _month_start_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass
class MonthNps:
    month: date
    answers: int
    promoters: int
    detractors: int

    @property
    def nps(self) -> int | None:
        return round(100 * (self.promoters - self.detractors) / self.answers) if self.answers else None


# --- the virtuous circle (issue 7's funnel) ------------------------------------------------------

FUNNEL_STEPS = ("sales", "contacts", "answers", "promoters", "testimonials", "referrals", "converted", "referred_revenue")


def funnel(today: date, days: int, zone: ZoneInfo, group=None) -> dict:
    """Each step of the circle in the last ``days`` days: sales → post-sale contacts done
    → feedback answered → promoters → testimonials → referrals → converted → revenue from
    referred clients. ``group`` (``Client.seller_id`` or ``Client.territory_id``) splits
    every step by the client's seller or territory; one grouped query per step."""
    since_day = today - timedelta(days=days)
    since = _month_start_utc(since_day, zone)

    def counted(stmt_for, client_column):
        columns = [group] if group is not None else []
        stmt = stmt_for(select(*columns, func.count()) if columns else select(func.count()))
        stmt = stmt.join(Client, Client.id == client_column)
        if group is not None:
            stmt = stmt.group_by(group)
            return {k: int(n) for k, n in db.session.execute(stmt).all()}
        return {None: int(db.session.execute(stmt).scalar_one())}

    steps = {
        "sales": counted(lambda s: s.select_from(Sale).where(Sale.sold_on > since_day, Sale.sold_on <= today),
                         Sale.client_id),
        # post-sale contacts: visits and calls done in the period that follow up a sale
        "contacts": counted(lambda s: s.select_from(Activity).where(
            Activity.status == "done", Activity.sale_id.is_not(None), Activity.done_at >= since),
            Activity.client_id),
        "answers": counted(lambda s: s.select_from(FeedbackResponse).where(FeedbackResponse.created_at >= since),
                           FeedbackResponse.client_id),
        "promoters": counted(lambda s: s.select_from(FeedbackResponse).where(
            FeedbackResponse.created_at >= since, FeedbackResponse.score >= 9), FeedbackResponse.client_id),
        "testimonials": counted(lambda s: s.select_from(Testimonial).where(Testimonial.created_at >= since),
                                Testimonial.client_id),
        "referrals": counted(lambda s: s.select_from(Referral).where(Referral.created_at >= since),
                             Referral.referrer_id),
        "converted": counted(lambda s: s.select_from(Referral).where(Referral.converted_at >= since),
                             Referral.referrer_id),
    }
    revenue_columns = [group] if group is not None else []
    revenue = (select(*revenue_columns, func.coalesce(func.sum(Sale.amount), 0)).select_from(Sale)
               .join(Client, Client.id == Sale.client_id)
               .where(Client.referred_by_id.is_not(None), Sale.sold_on > since_day, Sale.sold_on <= today))
    if group is not None:
        steps["referred_revenue"] = {k: int(v) for k, v in db.session.execute(revenue.group_by(group)).all()}
    else:
        steps["referred_revenue"] = {None: int(db.session.execute(revenue).scalar_one())}
    keys = set().union(*[set(v) for v in steps.values()]) if group is not None else {None}
    return {k: [steps[s].get(k, 0) for s in FUNNEL_STEPS] for k in keys}
