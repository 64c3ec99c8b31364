"""Rules 1-3: every sale starts a post-sale plan — the delivery visit by the seller who
sold, a follow-up call a few days later, and a check-in whose interval depends on the
client's tier. Cadences count from the last real contact."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update

from ..accounts.models import User
from ..clients.models import Client
from ..db import utcnow
from ..events import member_deactivated, sale_deleting, sale_saved
from ..extensions import db
from ..sales.models import Sale
from ..validation import FieldError
from . import handover
from .models import Activity, FollowUpSettings


@dataclass(frozen=True)
class Cadence:
    call_after_days: int = 3
    checkin_buyer_days: int = 90
    checkin_sporadic_days: int = 60
    checkin_frequent_days: int = 30
    checkin_apostle_days: int = 21

    def checkin_days(self, tier: str | None) -> int:
        return getattr(self, f"checkin_{tier}_days", self.checkin_buyer_days)


def cadence() -> Cadence:
    row = db.session.execute(select(FollowUpSettings)).scalar_one_or_none()
    if row is None:
        return Cadence()
    return Cadence(**{k: getattr(row, k) for k in Cadence.__dataclass_fields__})


BACKFILL_DAYS = 7


def plan_for_sale(sale: Sale, client: Client, rules: Cadence | None = None, today: date | None = None
                  ) -> list[Activity]:
    """Create (or move, when the sale's dates changed) the sale's post-sale plan.
    Idempotent: a second call changes nothing. The caller commits.

    A sale typed in long after the fact (history being entered) plans nothing that
    was due more than a week ago: nobody should be told to deliver last month's order."""
    rules = rules or cadence()
    today = today or date.today()
    start = sale.delivery_on or sale.sold_on
    seller = sale.seller_id or client.seller_id
    existing = {a.purpose: a for a in db.session.execute(
        select(Activity).where(Activity.sale_id == sale.id)).scalars()}
    wanted = _wanted(start, rules)
    planned = []
    for kind, purpose, due in wanted:
        activity = existing.get(purpose)
        if activity is None and due < today - timedelta(days=BACKFILL_DAYS):
            continue
        if activity is None:
            activity = Activity(client_id=client.id, sale_id=sale.id, seller_id=seller, kind=kind, purpose=purpose,
                                due_on=due)
            db.session.add(activity)
        elif activity.status == "planned":
            activity.due_on, activity.seller_id = due, seller
        planned.append(activity)
    schedule_checkin(client, start + timedelta(days=rules.call_after_days), rules)
    return planned


def _wanted(start: date, rules: Cadence) -> list[tuple[str, str, date]]:
    """A sale's post-sale plan: the delivery visit, then the follow-up call."""
    return [("visit", "delivery", start), ("call", "follow_up", start + timedelta(days=rules.call_after_days))]


def plan_for_new_sales(pairs: list[tuple[Sale, Client]], rules: Cadence, today: date) -> None:
    """``plan_for_sale`` for many sales of clients created in this same transaction (the
    client import): they have no activities yet, so nothing is looked up. The same
    plan: the delivery and follow-up unless due more than a week ago, and one check-in
    per client from its latest sale."""
    last: dict[int, tuple[Client, date]] = {}
    for sale, client in pairs:
        start = sale.delivery_on or sale.sold_on
        seller = sale.seller_id or client.seller_id
        for kind, purpose, due in _wanted(start, rules):
            if due >= today - timedelta(days=BACKFILL_DAYS):
                db.session.add(Activity(client_id=client.id, sale_id=sale.id, seller_id=seller, kind=kind,
                                        purpose=purpose, due_on=due))
        contact = start + timedelta(days=rules.call_after_days)
        if client.id not in last or last[client.id][1] < contact:
            last[client.id] = (client, contact)
    for client, contact in last.values():
        db.session.add(Activity(client_id=client.id, seller_id=client.seller_id, kind="call", purpose="check_in",
                                due_on=contact + timedelta(days=rules.checkin_days(client.tier))))


def schedule_checkin(client: Client, last_contact: date, rules: Cadence | None = None) -> Activity:
    """Keep exactly one planned check-in per client, counted from the last real contact."""
    rules = rules or cadence()
    due = last_contact + timedelta(days=rules.checkin_days(client.tier))
    checkin = db.session.execute(
        select(Activity).where(Activity.client_id == client.id, Activity.purpose == "check_in",
                               Activity.status == "planned").order_by(Activity.id)
    ).scalars().first()
    if checkin is None:
        checkin = Activity(client_id=client.id, seller_id=client.seller_id, kind="call", purpose="check_in",
                           due_on=due)
        db.session.add(checkin)
    elif checkin.due_on < due:
        checkin.due_on = due
    return checkin


class AlreadyLogged(Exception):
    """The contact's outcome was recorded meanwhile (by another send of it, or someone else)."""


_KEY = re.compile(r"[0-9a-fA-F-]{8,36}")


def outcome_key(value: str | None) -> str | None:
    """The idempotency key an offline outcome carries (a UUID made by the phone), or None
    when missing or not one: an outcome without a key is logged as ever, just not
    recognised if sent twice."""
    value = (value or "").strip()
    return value.lower() if _KEY.fullmatch(value) else None


def log_outcome(activity: Activity, *, status: str, notes: str = "", satisfaction: int | None = None,
                opportunity: bool = False, new_date: date | None = None, today: date,
                key: str | None = None) -> Activity | None:
    """Record what happened. A real contact pushes the client's next check-in out; a
    reschedule plans the same contact on the new date. Returns the new activity, if any.
    ``key``: the phone's key for an outcome logged offline (see ``outcome_key``)."""
    if status not in ("done", "no_answer", "rescheduled", "cancelled"):
        raise FieldError("status", str(_l("Choose what happened.")))
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise FieldError("satisfaction", str(_l("Choose from 1 to 5.")))
    if status == "rescheduled":
        if new_date is None:
            raise FieldError("new_date", str(_l("Choose the new date.")))
        if new_date < today:
            raise FieldError("new_date", str(_l("The new date cannot be in the past.")))
    # Claimed in one statement: of two sends of the same outcome at once (two tabs whose
    # outboxes wake together), the second finds it no longer planned and records nothing.
    claimed = db.session.execute(update(Activity).where(Activity.id == activity.id, Activity.status == "planned")
                                 .values(status=status).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        raise AlreadyLogged
    follow = None
    if status == "rescheduled":
        follow = Activity(client_id=activity.client_id, sale_id=activity.sale_id, seller_id=activity.seller_id,
                          kind=activity.kind, purpose=activity.purpose, due_on=new_date)
        db.session.add(follow)
    activity.status = status
    activity.notes = (notes or "").strip()[:5000]
    activity.satisfaction = satisfaction
    activity.opportunity = bool(opportunity)
    activity.done_at = utcnow()
    activity.done_on = today
    activity.outcome_key = key
    if status == "done":
        client = db.session.get(Client, activity.client_id)
        schedule_checkin(client, today)
    db.session.commit()
    return follow


def _check_when_and_who(due_on: date, seller_id: int | None, today: date) -> None:
    """A planned date from today to two years ahead; a seller of this business, active."""
    if due_on < today:
        raise FieldError("due_on", str(_l("A planned contact cannot be in the past.")))
    if due_on > today + timedelta(days=730):
        raise FieldError("due_on", str(_l("Plan within the next two years.")))
    if seller_id and db.session.execute(
            select(User.id).where(User.id == seller_id, User.active.is_(True))).scalar_one_or_none() is None:
        raise FieldError("seller_id", str(_l("Choose an active member of your team.")))


def plan_contact(client: Client, *, kind: str, due_on: date, seller_id: int | None, today: date,
                 notes: str = "") -> Activity:
    """A visit or call planned by hand."""
    if kind not in ("visit", "call"):
        raise FieldError("kind", str(_l("Choose a visit or a call.")))
    _check_when_and_who(due_on, seller_id, today)
    activity = Activity(client_id=client.id, seller_id=seller_id or client.seller_id, kind=kind, purpose="other",
                        due_on=due_on, notes=(notes or "").strip()[:5000])
    db.session.add(activity)
    db.session.commit()
    return activity


def sale_plan(sale: Sale) -> list[Activity]:
    """The contacts a sale planned (and their reschedules), in date order."""
    return list(db.session.execute(select(Activity).where(Activity.sale_id == sale.id)
                                   .order_by(Activity.due_on, Activity.id)).scalars())


def move_contact(activity: Activity, *, due_on: date, seller_id: int | None, today: date) -> None:
    """Change a planned contact's date (and, if given, who makes it) by hand."""
    _check_when_and_who(due_on, seller_id, today)
    activity.due_on = due_on
    if seller_id:
        activity.seller_id = seller_id
    db.session.commit()


def cancel_contact(activity: Activity) -> None:
    """Drop a planned contact; it stays in the client's timeline as cancelled."""
    activity.status = "cancelled"
    activity.done_at = utcnow()
    db.session.commit()


@dataclass
class Agenda:
    overdue: list
    today: list
    week: list
    overdue_total: int = 0
    overdue_page: int = 1
    overdue_pages: int = 1


OVERDUE_PAGE = 25
# a day's contacts in the order of the windows clients chose; no window (or "any") last
WINDOW_ORDER = case({"morning": 1, "midday": 2, "afternoon": 3, "evening": 4}, value=Activity.time_window, else_=5)


def agenda(seller_id: int | None, today: date, overdue_page: int | None = None) -> Agenda:
    """Planned contacts of one seller (or everyone, ``None``) with their clients.

    Without ``overdue_page`` (the digest) everything overdue comes in one query. With it
    (the agenda page), overdue contacts come a page of ``OVERDUE_PAGE`` at a time, oldest
    first, with their total: a team that fell behind by hundreds of calls still gets its
    agenda at once, and the statements per page stay three whatever the backlog."""
    base = (select(Activity, Client).join(Client, Client.id == Activity.client_id)
            .where(Activity.status == "planned", Client.deleted_at.is_(None)))
    if seller_id is not None:
        base = base.where(Activity.seller_id == seller_id)
    order = (Activity.due_on, WINDOW_ORDER, Activity.id)  # within a day, the client's chosen window first
    if overdue_page is None:
        rows = db.session.execute(base.where(Activity.due_on <= today + timedelta(days=7)).order_by(*order)).all()
        overdue = [r for r in rows if r[0].due_on < today]
        return Agenda(overdue=overdue, today=[r for r in rows if r[0].due_on == today],
                      week=[r for r in rows if r[0].due_on > today], overdue_total=len(overdue))
    upcoming = db.session.execute(base.where(Activity.due_on >= today, Activity.due_on <= today + timedelta(days=7))
                                  .order_by(*order)).all()
    late = base.where(Activity.due_on < today)
    total = db.session.execute(select(func.count()).select_from(late.with_only_columns(Activity.id).subquery())
                               ).scalar_one()
    pages = max((total + OVERDUE_PAGE - 1) // OVERDUE_PAGE, 1)
    page = min(max(overdue_page, 1), pages)
    overdue = db.session.execute(late.order_by(*order).limit(OVERDUE_PAGE).offset((page - 1) * OVERDUE_PAGE)).all()
    return Agenda(overdue=overdue, today=[r for r in upcoming if r[0].due_on == today],
                  week=[r for r in upcoming if r[0].due_on > today], overdue_total=total, overdue_page=page,
                  overdue_pages=pages)


def save_cadence(values: dict) -> None:
    row = db.session.execute(select(FollowUpSettings)).scalar_one_or_none()
    if row is None:
        row = FollowUpSettings()
        db.session.add(row)
    for key in Cadence.__dataclass_fields__:
        setattr(row, key, values[key])
    db.session.commit()


@dataclass
class SellerHealth:
    user: User
    overdue: int
    due_30d: int
    on_time_30d: int
    late_30d: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time_30d / self.due_30d if self.due_30d else None


def team_health(today: date) -> list[SellerHealth]:
    """Follow-up health per team member: overdue now, and of the contacts due in the
    last 30 days how many were done on time (logged on their date where the business is:
    ``Activity.done_on``, the dashboard's rule too) or late. Two grouped queries."""
    since = today - timedelta(days=30)
    overdue = dict(db.session.execute(
        select(Activity.seller_id, func.count()).where(Activity.status == "planned", Activity.due_on < today)
        .group_by(Activity.seller_id)).all())
    done = Activity.status == "done"
    recent = {seller: (int(total), int(on_time), int(late)) for seller, total, on_time, late in db.session.execute(
        select(Activity.seller_id, func.count(),
               func.coalesce(func.sum(case((done & (Activity.done_on <= Activity.due_on), 1), else_=0)), 0),
               func.coalesce(func.sum(case((done & (Activity.done_on > Activity.due_on), 1), else_=0)), 0))
        .where(Activity.due_on >= since, Activity.due_on < today, Activity.status.not_in(("cancelled", "rescheduled")))
        .group_by(Activity.seller_id)).all()}
    users = db.session.execute(select(User).where(User.active.is_(True), User.role != "service")
                               .order_by(User.name)).scalars().all()
    return [SellerHealth(u, int(overdue.get(u.id, 0)), *recent.get(u.id, (0, 0, 0))) for u in users]


def month(seller_id: int | None, year: int, month_number: int, first_weekday: int = 0):
    """Weeks of the month (each a list of (date, [(activity, client)])), one query."""
    import calendar

    weeks = calendar.Calendar(firstweekday=first_weekday).monthdatescalendar(year, month_number)
    start, end = weeks[0][0], weeks[-1][-1]
    stmt = (select(Activity, Client).join(Client, Client.id == Activity.client_id)
            .where(Activity.due_on >= start, Activity.due_on <= end, Activity.status.in_(("planned", "done")),
                   Client.deleted_at.is_(None))
            .order_by(Activity.due_on, Activity.id))
    if seller_id is not None:
        stmt = stmt.where(Activity.seller_id == seller_id)
    by_day: dict = {}
    for activity, client in db.session.execute(stmt).all():
        by_day.setdefault(activity.due_on, []).append((activity, client))
    return [[(day, by_day.get(day, [])) for day in week] for week in weeks]


@sale_saved.connect
def _plan_saved_sale(sale: Sale, *, client: Client, today: date) -> None:
    plan_for_sale(sale, client, today=today)  # rule 1: nothing is done at the signature


@sale_deleting.connect
def _unlink_deleted_sale(sale: Sale) -> None:
    """A deleted sale's still-planned contacts go with it; logged ones stay as history."""
    for activity in db.session.execute(select(Activity).where(Activity.sale_id == sale.id)).scalars():
        if activity.status == "planned":
            db.session.delete(activity)
        else:
            activity.sale_id = None


@member_deactivated.connect
def _hand_over(member: User, *, today: date) -> None:
    handover.after_deactivation(member, today)  # rule 10
