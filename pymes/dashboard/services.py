"""Each figure of the dashboard, computed from the business's own rows, with its
12-month trend where it has one. Every function is small and tested on a hand-made
data set (tests/dashboard)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..clients.loyalty import RANK
from ..clients.models import Client, TierChange
from ..extensions import db
from ..sales.models import Sale


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


def nps_trend(today: date, zone: ZoneInfo) -> list[MonthNps]:
    """NPS per month of the answers given in it (months of the business's calendar)."""
    from ..feedback.models import FeedbackResponse

    firsts = months(today)
    since = _month_start_utc(firsts[0], zone)
    rows = db.session.execute(select(FeedbackResponse.created_at, FeedbackResponse.score)
                              .where(FeedbackResponse.created_at >= since)).all()
    buckets = {m: MonthNps(m, 0, 0, 0) for m in firsts}
    for created_at, score in rows:
        local = created_at.astimezone(zone).date().replace(day=1)
        bucket = buckets.get(local)
        if bucket is None:
            continue
        bucket.answers += 1
        bucket.promoters += score >= 9
        bucket.detractors += score <= 6
    return [buckets[m] for m in firsts]


def tier_distribution() -> dict[str | None, int]:
    return dict(db.session.execute(
        select(Client.tier, func.count()).where(Client.deleted_at.is_(None), Client.kind == "client")
        .group_by(Client.tier)).all())


def tier_moves(today: date, zone: ZoneInfo) -> tuple[int, int]:
    """(clients who moved up, clients who moved down) this month, by their tier history."""
    since = _month_start_utc(today.replace(day=1), zone)
    ups, downs = set(), set()
    for client_id, old, new in db.session.execute(
            select(TierChange.client_id, TierChange.old_tier, TierChange.new_tier)
            .where(TierChange.created_at >= since)).all():
        if old is None or new is None or old == new:
            continue
        (ups if RANK[new] > RANK[old] else downs).add(client_id)
    return len(ups), len(downs)


def repeat_rate(today: date) -> tuple[int, int]:
    """(clients who bought at least twice, clients who bought) in the last 12 months."""
    since = today - timedelta(days=365)
    per_client = (select(Sale.client_id, func.count().label("n"))
                  .where(Sale.sold_on > since, Sale.sold_on <= today).group_by(Sale.client_id).subquery())
    buyers, repeat = db.session.execute(
        select(func.count(), func.coalesce(func.sum((per_client.c.n >= 2).cast(db.Integer)), 0))
        .select_from(per_client)).one()
    return int(repeat), int(buyers)


@dataclass
class Referrals:
    made: int
    converted: int
    revenue: int          # sales of clients who came referred, last 12 months


def referral_figures(today: date, zone: ZoneInfo) -> Referrals:
    from ..referrals.models import Referral

    since_day = today - timedelta(days=365)
    since = _month_start_utc(since_day, zone)
    made = db.session.execute(select(func.count()).select_from(Referral).where(Referral.created_at >= since)
                              ).scalar_one()
    converted = db.session.execute(select(func.count()).select_from(Referral).where(
        Referral.created_at >= since, Referral.status == "converted")).scalar_one()
    revenue = db.session.execute(
        select(func.coalesce(func.sum(Sale.amount), 0)).join(Client, Client.id == Sale.client_id)
        .where(Client.referred_by_id.is_not(None), Sale.sold_on > since_day, Sale.sold_on <= today)).scalar_one()
    return Referrals(int(made), int(converted), int(revenue))


@dataclass
class Retained:
    recovered: int        # complaints whose client was recovered, last 12 months
    value_kept: int       # their annual margin kept
    replacement_cost: int  # winning new clients instead: the multiplier (5×) × what keeping these cost


def retained(user, today: date) -> Retained:
    from ..complaints import services as complaints

    figures = complaints.figures(user, 365, today)
    multiplier = complaints.settings().acquisition_multiplier
    return Retained(figures.recovered, figures.value_kept, multiplier * figures.remedy_cost)


# --- the virtuous circle (issue 7's funnel) ------------------------------------------------------

FUNNEL_STEPS = ("sales", "contacts", "answers", "promoters", "testimonials", "referrals", "converted", "referred_revenue")


def funnel(today: date, days: int, zone: ZoneInfo, group=None) -> dict:
    """Each step of the circle in the last ``days`` days: sales → post-sale contacts done
    → feedback answered → promoters → testimonials → referrals → converted → revenue from
    referred clients. ``group`` (``Client.seller_id`` or ``Client.territory_id``) splits
    every step by the client's seller or territory; one grouped query per step."""
    from ..feedback.models import FeedbackResponse
    from ..referrals.models import Referral, Testimonial
    from ..visits.models import Activity

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
