"""The radar of one business, and the weekly e-mail to its owners.

``compute`` reads the four lists in a fixed number of statements, however many clients
the business has (eight: the cadence; the Pareto total, ranking and rows of
``key_clients``; the key clients with their last contact; the drops; the promoters; the
complaints):

- **key clients past their pace**: the Pareto group of the last 12 months
  (``clients.services.key_clients``, rule 9) plus the clients a manager marked as key,
  whose last contact is older than their tier's check-in interval (``visits.Cadence``).
  The last contact is the later of the last visit or call logged done and the last
  purchase (a purchase is a contact too); a key client never contacted is past its pace;
- **clients who dropped a tier**: the drops nobody has acknowledged yet
  (``Client.tier_dropped_at``, as the clients list's "dropped" filter), with the rung
  they came from read from the tier history (``TierChange``);
- **promoters never asked for a referral**: clients whose latest feedback answer scored
  9 or 10, never asked at a visit (``ReferralAsk``) and with no referral of theirs;
- **complaints close to their deadline**: open cases whose next target (acknowledge, or
  resolve once acknowledged) falls within ``COMPLAINT_HORIZON``, late ones included.

Each list shows at most ``SHOWN`` items, with its real total."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import mail
from ..accounts.models import Business, Role, User
from ..clients.models import Client, TierChange
from ..complaints.models import Complaint
from ..contact import wa_url, whatsapp_number
from ..db import utcnow
from ..extensions import db
from ..feedback.models import FeedbackResponse
from ..referrals.models import Referral, ReferralAsk
from ..visits.models import Activity
from .models import RadarLog

SHOWN = 15  # items per list in the e-mail; the totals are exact
PROMOTER_SCORE = 9  # NPS: 9 and 10 are promoters
COMPLAINT_HORIZON = timedelta(days=3)  # "close to its deadline": due within three days (or late)


@dataclass
class Reach:
    """How to act on a client in one tap: their client page, a call, a WhatsApp chat."""

    client_id: int
    name: str
    client_url: str
    call_url: str = ""
    whatsapp_url: str = ""


@dataclass
class KeyOverdue:
    reach: Reach
    tier: str | None
    last_contact: date | None
    pace_days: int
    days_since: int | None  # None: never contacted


@dataclass
class Drop:
    reach: Reach
    old_tier: str | None
    new_tier: str | None
    dropped_on: date


@dataclass
class Promoter:
    reach: Reach
    score: int
    answered_on: date


@dataclass
class ComplaintDue:
    complaint_id: int
    client_name: str
    target: str  # "acknowledge" or "resolve"
    due_at: datetime
    late: bool
    url: str
    due_local: datetime  # ``due_at`` on the business's clock, to show


@dataclass
class Radar:
    today: date
    key_overdue: list[KeyOverdue] = field(default_factory=list)
    key_overdue_total: int = 0
    key_total: int = 0  # key clients looked at
    drops: list[Drop] = field(default_factory=list)
    drops_total: int = 0
    promoters: list[Promoter] = field(default_factory=list)
    promoters_total: int = 0
    complaints: list[ComplaintDue] = field(default_factory=list)
    complaints_total: int = 0

    @property
    def empty(self) -> bool:
        return not (self.key_overdue_total or self.drops_total or self.promoters_total or self.complaints_total)


def business_day(business: Business, now: datetime) -> date:
    return _local(business, now).date()


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.isoweekday() - 1)


class _Links:
    """Absolute links for the e-mail (``external_url``: BASE_URL, never a request's Host)."""

    def __init__(self):
        from ..accounts.services import external_url

        self.url = external_url

    def complaint_url(self, complaint_id: int) -> str:
        return self.url("complaints.show", complaint_id=complaint_id)

    def reach(self, client_id: int, name: str, phone: str | None, whatsapp: str | None) -> Reach:
        number = whatsapp_number(SimpleNamespace(phone=phone, whatsapp=whatsapp))
        return Reach(client_id, name, self.url("clients.show", client_id=client_id),
                     call_url=f"tel:{phone}" if phone else "", whatsapp_url=wa_url(number))


def compute(business: Business, now: datetime | None = None) -> Radar:
    """The radar of the bound business at ``now`` (the real clock by default)."""
    from ..clients.services import key_clients
    from ..visits.services import cadence

    now = now or datetime.now(UTC)
    today = business_day(business, now)
    links = _Links()
    radar = Radar(today=today)
    live = (Client.deleted_at.is_(None), Client.kind == "client")

    # key clients past their tier's pace
    rules = cadence()
    pareto, _total = key_clients(today)
    pareto_ids = [row.client.id for row in pareto]
    last_done = (select(func.max(Activity.done_on))
                 .where(Activity.client_id == Client.id, Activity.status == "done")
                 .correlate(Client).scalar_subquery())
    rows = db.session.execute(
        select(Client.id, Client.name, Client.phone, Client.whatsapp, Client.tier, Client.last_sale_on,
               last_done.label("last_done"))
        .where(*live, or_(Client.id.in_(pareto_ids), Client.is_key.is_(True)))
    ).all()
    radar.key_total = len(rows)
    overdue = []
    for cid, name, phone, wa, tier, last_sale, done_on in rows:
        last = max((d for d in (last_sale, done_on) if d is not None), default=None)
        pace = rules.checkin_days(tier)
        since = (today - last).days if last is not None else None
        if since is None or since > pace:
            overdue.append(KeyOverdue(links.reach(cid, name, phone, wa), tier, last, pace, since))
    # never contacted first, then the longest past their pace
    overdue.sort(key=lambda k: (k.days_since is not None, -((k.days_since or 0) - k.pace_days), k.reach.name))
    radar.key_overdue_total, radar.key_overdue = len(overdue), overdue[:SHOWN]

    # clients who dropped a tier (not yet acknowledged)
    came_from = (select(TierChange.old_tier).where(TierChange.client_id == Client.id,
                                                   TierChange.new_tier.is_not_distinct_from(Client.tier),
                                                   TierChange.old_tier.is_distinct_from(TierChange.new_tier))
                 .order_by(TierChange.id.desc()).limit(1).correlate(Client).scalar_subquery())
    rows = db.session.execute(
        select(Client.id, Client.name, Client.phone, Client.whatsapp, came_from.label("old"), Client.tier,
               Client.tier_dropped_at, func.count().over().label("total"))
        .where(Client.deleted_at.is_(None), Client.tier_dropped_at.is_not(None))
        .order_by(Client.tier_dropped_at.desc(), Client.id).limit(SHOWN)
    ).all()
    radar.drops_total = rows[0].total if rows else 0
    radar.drops = [Drop(links.reach(cid, name, phone, wa), old, new, _day(business, at))
                   for cid, name, phone, wa, old, new, at, _n in rows]

    # promoters (latest answer 9-10) never asked for a referral
    latest = (select(FeedbackResponse.client_id, func.max(FeedbackResponse.id).label("id"))
              .group_by(FeedbackResponse.client_id).subquery())
    rows = db.session.execute(
        select(Client.id, Client.name, Client.phone, Client.whatsapp, FeedbackResponse.score,
               FeedbackResponse.created_at, func.count().over().label("total"))
        .select_from(latest)
        .join(FeedbackResponse, FeedbackResponse.id == latest.c.id)
        .join(Client, Client.id == latest.c.client_id)
        .where(*live, FeedbackResponse.score >= PROMOTER_SCORE,
               ~exists().where(ReferralAsk.client_id == Client.id),
               ~exists().where(Referral.referrer_id == Client.id))
        .order_by(FeedbackResponse.created_at.desc(), Client.id).limit(SHOWN)
    ).all()
    radar.promoters_total = rows[0].total if rows else 0
    radar.promoters = [Promoter(links.reach(cid, name, phone, wa), score, _day(business, at))
                       for cid, name, phone, wa, score, at, _n in rows]

    # open complaints whose next target is close (or past)
    due = case((Complaint.acknowledged_at.is_(None), Complaint.ack_due_at), else_=Complaint.resolve_due_at)
    rows = db.session.execute(
        select(Complaint.id, Client.name, Complaint.acknowledged_at, due.label("due"),
               func.count().over().label("total"))
        .join(Client, Client.id == Complaint.client_id)
        .where(Complaint.status != "resolved", due <= now + COMPLAINT_HORIZON)
        .order_by(due, Complaint.id).limit(SHOWN)
    ).all()
    radar.complaints_total = rows[0].total if rows else 0
    radar.complaints = [ComplaintDue(cid, name, "resolve" if acked else "acknowledge", _aware(at), _aware(at) < now,
                                     links.complaint_url(cid), _local(business, _aware(at)))
                        for cid, name, acked, at, _n in rows]
    return radar


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _local(business: Business, at: datetime) -> datetime:
    try:
        return at.astimezone(ZoneInfo(business.timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return at.astimezone(UTC)


def _day(business: Business, at: datetime) -> date:
    return _local(business, _aware(at)).date()


def send_radars(echo=lambda message: None, now: datetime | None = None) -> int:
    """E-mail this week's radar to every active owner of every live business that has
    something on it. Safe to run as often as cron likes: the log's unique key (owner,
    ISO week) decides. One business failing is logged and the others still get theirs."""
    from flask_babel import lazy_gettext as _l

    from ..accounts.services import external_url, live_business_ids
    from ..clients.loyalty import TIER_LABELS
    from ..jobs import EachTenant

    now = now or datetime.now(UTC)
    sent = 0
    run = EachTenant("send-radar")
    for business_id in live_business_ids():
        with run.tenant(business_id):
            business = db.session.get(Business, business_id)
            monday = week_of(business_day(business, now))
            owners = db.session.execute(select(User).where(
                User.role == Role.OWNER.value, User.active.is_(True)).order_by(User.id)).scalars().all()
            done = set(db.session.execute(select(RadarLog.user_id).where(RadarLog.week_of == monday)).scalars())
            owners = [o for o in owners if o.id not in done]
            if not owners:
                continue
            radar = compute(business, now)
            if radar.empty:
                continue
            home = external_url("main.home")
            for owner in owners:
                db.session.add(RadarLog(user_id=owner.id, week_of=monday, sent_at=utcnow()))
                try:
                    db.session.commit()
                except IntegrityError:
                    db.session.rollback()  # another run sent it meanwhile
                    continue
                mail.send_email(owner.email,
                                lambda name=business.name: _l("Your week's radar at %(business)s", business=name),
                                "radar", owner.language, user=owner, business=business, radar=radar,
                                tiers=TIER_LABELS, home_url=home)
                sent += 1
                echo(f"radar sent to user {owner.id} of business {business_id}")
    return run.finish(sent)
