"""The dashboard's figures under its filters (period, seller, portfolio, territory) and
their 12-month trends. Every figure is a fixed number of statements whatever the size
of the book: aggregates in SQL, and each monthly series ONE query (grouped by month in
Python over a single select of (date, value) rows read along an index). Each answer is
kept per business and data version (``pymes.cache``): the first reader after a change
computes it, the others read it without SQL. Callers must not mutate what they get.

Filters apply to the client behind each row (its seller, portfolio, territory), except
the seller filter on sales (the sale's own seller) and on visits and calls (who had to
do them)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select

from ..cache import cached
from ..clients.loyalty import RANK
from ..clients.models import Client, TierChange
from ..complaints import services as cs
from ..complaints.models import Complaint
from ..complaints.queries import Recovery
from ..extensions import db
from ..feedback.models import FeedbackLink, FeedbackResponse, link_was_sent
from ..referrals.models import Referral, ReferralAsk
from ..sales.models import Sale
from ..visits.models import Activity
from .services import MonthNps, months

PERIODS = (30, 90, 365)
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class Filters:
    days: int = DEFAULT_DAYS
    seller_id: int | None = None
    portfolio_id: int | None = None
    territory_id: int | None = None

    def args(self) -> dict:
        """The filters as query arguments (for the page's own links and its charts)."""
        out = {"days": self.days} if self.days != DEFAULT_DAYS else {}
        return {**out, **self.client_args()}

    def client_args(self) -> dict:
        """The filters the clients list understands."""
        out = {}
        for key, value in (("seller", self.seller_id), ("portfolio", self.portfolio_id),
                           ("territory", self.territory_id)):
            if value:
                out[key] = value
        return out


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _month_of(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date().replace(day=1)


def scoped(stmt, f: Filters, client_column, seller_column=None, joined: bool = False):
    """Restrict ``stmt`` to the filtered clients. ``client_column`` is the row's client;
    ``seller_column`` (a sale's or an activity's seller) takes the seller filter instead
    of the client's seller. Joins Client only when a filter needs it (``joined``: the
    statement already has it)."""
    seller_on_client = f.seller_id and seller_column is None
    if not joined and (f.portfolio_id or f.territory_id or seller_on_client):
        stmt = stmt.join(Client, Client.id == client_column)
    if f.seller_id:
        stmt = stmt.where((Client.seller_id if seller_column is None else seller_column) == f.seller_id)
    if f.portfolio_id:
        stmt = stmt.where(Client.portfolio_id == f.portfolio_id)
    if f.territory_id:
        stmt = stmt.where(Client.territory_id == f.territory_id)
    return stmt


# --- the figures of the period ---------------------------------------------------------------

@dataclass
class Feedback:
    answers: int          # answers given in the period
    promoters: int
    detractors: int
    links: int            # feedback links sent in the period
    answered: int         # of those, answered

    @property
    def nps(self) -> int | None:
        return round(100 * (self.promoters - self.detractors) / self.answers) if self.answers else None

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.links if self.links else None


@cached("figures.feedback")
def feedback(today: date, zone: ZoneInfo, f: Filters) -> Feedback:
    """NPS of the answers given in the period, and the response rate of the links sent
    in it (answered links / links sent; sent by ``link_was_sent``: e-mailed, handed over,
    shared from the phone, opened or answered; a link made and never sent is not counted).
    Two aggregates."""
    since = _midnight(today - timedelta(days=f.days), zone)
    answers, promoters, detractors = db.session.execute(scoped(
        select(func.count(), func.coalesce(func.sum(case((FeedbackResponse.score >= 9, 1), else_=0)), 0),
               func.coalesce(func.sum(case((FeedbackResponse.score <= 6, 1), else_=0)), 0))
        .select_from(FeedbackResponse).where(FeedbackResponse.created_at >= since),
        f, FeedbackResponse.client_id)).one()
    links, answered = db.session.execute(scoped(
        select(func.count(FeedbackLink.id), func.count(FeedbackResponse.id)).select_from(FeedbackLink)
        .outerjoin(FeedbackResponse, FeedbackResponse.link_id == FeedbackLink.id)
        .where(FeedbackLink.created_at >= since, link_was_sent(FeedbackResponse.id)), f,
        FeedbackLink.client_id)).one()
    return Feedback(int(answers), int(promoters), int(detractors), int(links), int(answered))


@cached("figures.tier_distribution")
def tier_distribution(f: Filters) -> dict[str | None, int]:
    return dict(db.session.execute(scoped(
        select(Client.tier, func.count()).where(Client.deleted_at.is_(None), Client.kind == "client"),
        f, Client.id, joined=True).group_by(Client.tier)).all())


@cached("figures.tier_moves")
def tier_moves(today: date, zone: ZoneInfo, f: Filters) -> tuple[int, int]:
    """(clients who moved up, clients who moved down) this month."""
    since = _midnight(today.replace(day=1), zone)
    ups, downs = set(), set()
    for client_id, old, new in db.session.execute(scoped(
            select(TierChange.client_id, TierChange.old_tier, TierChange.new_tier)
            .where(TierChange.created_at >= since), f, TierChange.client_id)).all():
        if old is None or new is None or old == new:
            continue
        (ups if RANK[new] > RANK[old] else downs).add(client_id)
    return len(ups), len(downs)


@cached("figures.dropped")
def dropped(f: Filters) -> int:
    """Clients whose tier dropped and nobody has looked at it yet (the clients list's dropped=1)."""
    return int(db.session.execute(scoped(
        select(func.count()).select_from(Client).where(Client.deleted_at.is_(None),
                                                       Client.tier_dropped_at.is_not(None)),
        f, Client.id, joined=True)).scalar_one())


def _sales(today: date, f: Filters, *columns):
    since = today - timedelta(days=f.days)
    return scoped(select(*columns).select_from(Sale).where(Sale.sold_on > since, Sale.sold_on <= today),
                  f, Sale.client_id, Sale.seller_id)


@cached("figures.repeat_rate")
def repeat_rate(today: date, f: Filters) -> tuple[int, int]:
    """(clients who bought at least twice, clients who bought) in the period."""
    per_client = _sales(today, f, Sale.client_id, func.count().label("n")).group_by(Sale.client_id).subquery()
    buyers, repeat = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((per_client.c.n >= 2, 1), else_=0)), 0))
        .select_from(per_client)).one()
    return int(repeat), int(buyers)


@cached("figures.key_share")
def key_share(today: date, f: Filters, threshold: float = 0.8, limit: int = 200) -> tuple[int, float | None]:
    """(how many clients, their share): the smallest group, biggest first, whose sales in
    the period reach ``threshold`` of the total (rule 9's Pareto). Two aggregates."""
    total = int(db.session.execute(_sales(today, f, func.coalesce(func.sum(Sale.amount), 0))).scalar_one())
    if total <= 0:
        return 0, None
    revenue = func.sum(Sale.amount).label("revenue")
    cumulative, count = 0, 0
    for _client, amount in db.session.execute(
            _sales(today, f, Sale.client_id, revenue).group_by(Sale.client_id)
            .order_by(revenue.desc(), Sale.client_id).limit(limit)).all():
        cumulative += int(amount)
        count += 1
        if cumulative / total >= threshold:
            break
    return count, cumulative / total


def _contacts_due(f: Filters, since: date, until: date):
    """Per due day in [since, until): (due_on, visits and calls due, done on time), one
    grouped statement over (tenant_id, due_on); on time is decided when the outcome is
    logged (``Activity.done_on``, the business's day), so nothing is read row by row."""
    on_time = func.coalesce(func.sum(case(
        (Activity.status == "done", case((Activity.done_on <= Activity.due_on, 1), else_=0)), else_=0)), 0)
    return db.session.execute(scoped(
        select(Activity.due_on, func.count(), on_time)
        .where(Activity.due_on >= since, Activity.due_on < until,
               Activity.status.not_in(("cancelled", "rescheduled")))
        .group_by(Activity.due_on),
        f, Activity.client_id, Activity.seller_id)).all()


@cached("figures.followup")
def followup(today: date, zone: ZoneInfo, f: Filters) -> tuple[int, int]:
    """(done on time, due) of the visits and calls due in the period, up to yesterday."""
    rows = _contacts_due(f, today - timedelta(days=f.days), today)
    return sum(int(ok) for _d, _n, ok in rows), sum(int(n) for _d, n, _ok in rows)


@dataclass
class Referrals:
    made: int
    converted: int
    revenue: int


@cached("figures.referrals")
def referrals(today: date, zone: ZoneInfo, f: Filters) -> Referrals:
    """Referrals made in the period (by the filtered clients), how many of those became
    clients, and the period's sales to referred clients."""
    since = _midnight(today - timedelta(days=f.days), zone)
    made, converted = db.session.execute(scoped(
        select(func.count(), func.coalesce(func.sum(case((Referral.status == "converted", 1), else_=0)), 0))
        .select_from(Referral).where(Referral.created_at >= since), f, Referral.referrer_id)).one()
    since_day = today - timedelta(days=f.days)
    revenue = db.session.execute(scoped(
        select(func.coalesce(func.sum(Sale.amount), 0)).select_from(Sale).join(Client, Client.id == Sale.client_id)
        .where(Client.referred_by_id.is_not(None), Sale.sold_on > since_day, Sale.sold_on <= today),
        f, Sale.client_id, Sale.seller_id, joined=True)).scalar_one()
    return Referrals(int(made), int(converted), int(revenue))


@dataclass
class Complaints:
    opened: int
    resolved: int
    median_resolve_days: float | None
    recovered: int
    recovery_known: int
    remedy_cost: int
    value_kept: int
    replacement_cost: int = 0

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.recovery_known if self.recovery_known else None


@cached("figures.complaints")
def complaints(today: date, zone: ZoneInfo, f: Filters) -> Complaints:
    """The complaints opened in the period (about the filtered clients): median days to
    resolve, recovery rate (issue 6's rule: happy again or bought again within 90 days of
    the fix), the remedies' cost and the margin kept. Three statements whatever the
    number of cases (the complaints, then the answers and the sales after the fixes)."""
    since = _midnight(today - timedelta(days=f.days), zone)
    cases = db.session.execute(scoped(
        select(Complaint.client_id, Complaint.opened_at, Complaint.resolved_at, Complaint.score_before,
               Complaint.remedy_cost, Complaint.value_kept).where(Complaint.opened_at >= since),
        f, Complaint.client_id)).all()
    done = [c for c in cases if c.resolved_at is not None]
    resolved_clients = scoped(select(Complaint.client_id).where(Complaint.opened_at >= since,
                                                                 Complaint.resolved_at.is_not(None)),
                              f, Complaint.client_id)
    answers: dict[int, list] = {}
    bought: dict[int, list] = {}
    if done:
        first_fix = min(c.resolved_at for c in done)
        for client_id, created_at, score in db.session.execute(
                select(FeedbackResponse.client_id, FeedbackResponse.created_at, FeedbackResponse.score)
                .where(FeedbackResponse.client_id.in_(resolved_clients), FeedbackResponse.created_at > first_fix)
                .order_by(FeedbackResponse.created_at)).all():
            answers.setdefault(client_id, []).append((created_at, score))
        for client_id, sold_on in db.session.execute(
                select(Sale.client_id, Sale.sold_on).where(Sale.client_id.in_(resolved_clients),
                                                           Sale.sold_on > first_fix.astimezone(zone).date())).all():
            bought.setdefault(client_id, []).append(sold_on)
    recovered = known = remedy = kept = 0
    for c in done:
        day = c.resolved_at.astimezone(zone).date()
        after = next((score for when, score in answers.get(c.client_id, ()) if when > c.resolved_at), None)
        again = any(day < sold <= day + timedelta(days=cs.RECOVERY_DAYS) for sold in bought.get(c.client_id, ()))
        outcome = Recovery(score_before=c.score_before, score_after=after, bought_again=again,
                              window_over=today > day + timedelta(days=cs.RECOVERY_DAYS)).recovered
        remedy += c.remedy_cost or 0
        if outcome is not None:
            known += 1
        if outcome:
            recovered += 1
            kept += c.value_kept or 0
    resolves = [(c.resolved_at - c.opened_at).total_seconds() / 86400 for c in done]
    return Complaints(opened=len(cases), resolved=len(done),
                      median_resolve_days=statistics.median(resolves) if resolves else None,
                      recovered=recovered, recovery_known=known, remedy_cost=remedy, value_kept=kept)


# --- the trends: one statement per series ------------------------------------------------------

def _since(today: date, zone: ZoneInfo) -> tuple[list[date], datetime]:
    firsts = months(today)
    return firsts, _midnight(firsts[0], zone)


@cached("figures.nps_trend")
def nps_trend(today: date, zone: ZoneInfo, f: Filters) -> list[MonthNps]:
    firsts, since = _since(today, zone)
    buckets = {m: MonthNps(m, 0, 0, 0) for m in firsts}
    for created_at, score in db.session.execute(scoped(
            select(FeedbackResponse.created_at, FeedbackResponse.score).where(FeedbackResponse.created_at >= since),
            f, FeedbackResponse.client_id)).all():
        bucket = buckets.get(_month_of(created_at, zone))
        if bucket is not None:
            bucket.answers += 1
            bucket.promoters += score >= 9
            bucket.detractors += score <= 6
    return [buckets[m] for m in firsts]


@dataclass
class Month:
    """One month of a two-number series (e.g. links sent and answered; due and on time)."""
    month: date
    total: int = 0
    part: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.part / self.total if self.total else None


@cached("figures.response_trend")
def response_trend(today: date, zone: ZoneInfo, f: Filters) -> list[Month]:
    """Per month: links sent (``link_was_sent``), and how many of them were answered."""
    firsts, since = _since(today, zone)
    buckets = {m: Month(m) for m in firsts}
    for created_at, response_id in db.session.execute(scoped(
            select(FeedbackLink.created_at, FeedbackResponse.id).select_from(FeedbackLink)
            .outerjoin(FeedbackResponse, FeedbackResponse.link_id == FeedbackLink.id)
            .where(FeedbackLink.created_at >= since, link_was_sent(FeedbackResponse.id)), f,
            FeedbackLink.client_id)).all():
        bucket = buckets.get(_month_of(created_at, zone))
        if bucket is not None:
            bucket.total += 1
            bucket.part += response_id is not None
    return [buckets[m] for m in firsts]


@cached("figures.moves_trend")
def moves_trend(today: date, zone: ZoneInfo, f: Filters) -> list[tuple[date, int, int]]:
    """Per month: (month, clients who moved up, clients who moved down)."""
    firsts, since = _since(today, zone)
    ups = {m: set() for m in firsts}
    downs = {m: set() for m in firsts}
    for created_at, client_id, old, new in db.session.execute(scoped(
            select(TierChange.created_at, TierChange.client_id, TierChange.old_tier, TierChange.new_tier)
            .where(TierChange.created_at >= since), f, TierChange.client_id)).all():
        month = _month_of(created_at, zone)
        if month not in ups or old is None or new is None or old == new:
            continue
        (ups if RANK[new] > RANK[old] else downs)[month].add(client_id)
    return [(m, len(ups[m]), len(downs[m])) for m in firsts]


@cached("figures.followup_trend")
def followup_trend(today: date, zone: ZoneInfo, f: Filters) -> list[Month]:
    """Per month of their due date: visits and calls due (up to yesterday), and done on time."""
    firsts = months(today)
    buckets = {m: Month(m) for m in firsts}
    for due_on, due, on_time in _contacts_due(f, firsts[0], today):
        bucket = buckets[due_on.replace(day=1)]
        bucket.total += int(due)
        bucket.part += int(on_time)
    return [buckets[m] for m in firsts]


@cached("figures.referral_trend")
def referral_trend(today: date, zone: ZoneInfo, f: Filters) -> list[tuple[date, int, int]]:
    """Per month: (month, referrals made in it, referrals that became clients in it)."""
    firsts, since = _since(today, zone)
    made = dict.fromkeys(firsts, 0)
    converted = dict.fromkeys(firsts, 0)
    for created_at, converted_at in db.session.execute(scoped(
            select(Referral.created_at, Referral.converted_at)
            .where(or_(Referral.created_at >= since, Referral.converted_at >= since)), f, Referral.referrer_id)).all():
        if created_at is not None and _month_of(created_at, zone) in made:
            made[_month_of(created_at, zone)] += 1
        if converted_at is not None and _month_of(converted_at, zone) in converted:
            converted[_month_of(converted_at, zone)] += 1
    return [(m, made[m], converted[m]) for m in firsts]


# --- the delivery moment (article 004): referrals asked and obtained per delivery visit -------

@dataclass(frozen=True)
class DeliveryAsks:
    """The delivery visits logged done in the period and what they brought: how many
    found the client satisfied (4–5), at how many the seller asked for referrals (the
    friends form, "nobody for now", the client's QR, or friends the client named on the
    kiosk's feedback page), and the referrals obtained at them."""
    visits: int = 0
    satisfied: int = 0
    asked: int = 0
    obtained: int = 0

    @property
    def per_visit(self) -> float | None:
        """Referrals obtained per delivery visit."""
        return self.obtained / self.visits if self.visits else None

    @property
    def per_ask(self) -> float | None:
        """Referrals obtained per visit where they were asked."""
        return self.obtained / self.asked if self.asked else None

    def __add__(self, other: DeliveryAsks) -> DeliveryAsks:
        return DeliveryAsks(self.visits + other.visits, self.satisfied + other.satisfied, self.asked + other.asked,
                            self.obtained + other.obtained)


@cached("figures.delivery_asks")
def delivery_asks(today: date, zone: ZoneInfo, days: int) -> tuple[DeliveryAsks, dict[int | None, DeliveryAsks]]:
    """(the whole team, per seller who made the visit) over the delivery visits logged
    done in the last ``days`` days. One grouped statement: each visit joined to its ask
    (one per visit) and to the count of the referrals obtained at it."""
    since = _midnight(today - timedelta(days=days), zone)
    obtained = (select(Referral.activity_id, func.count().label("n")).where(Referral.activity_id.is_not(None))
                .group_by(Referral.activity_id).subquery())
    rows = db.session.execute(
        select(Activity.seller_id, func.count(Activity.id),
               func.coalesce(func.sum(case((Activity.satisfaction >= 4, 1), else_=0)), 0),
               func.count(ReferralAsk.id), func.coalesce(func.sum(obtained.c.n), 0))
        .select_from(Activity)
        .outerjoin(ReferralAsk, ReferralAsk.activity_id == Activity.id)
        .outerjoin(obtained, obtained.c.activity_id == Activity.id)
        .where(Activity.purpose == "delivery", Activity.status == "done", Activity.done_at >= since)
        .group_by(Activity.seller_id)).all()
    by_seller = {seller: DeliveryAsks(int(v), int(s), int(a), int(o)) for seller, v, s, a, o in rows}
    total = sum(by_seller.values(), DeliveryAsks())
    return total, by_seller
