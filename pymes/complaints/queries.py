"""Complaints, read side: what a case costs and keeps (economics), whether the client came
back (recovery), who sees which case, the board and its figures. No writes."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from ..accounts.models import Role, User
from ..clients.models import Client
from ..clients.services import restricted_to_own
from ..db import utcnow
from ..extensions import db
from ..feedback.models import FeedbackResponse
from ..i18n import business_today
from ..sales.models import Sale
from .models import Complaint
from .services import PROMOTER_OR_PASSIVE, RECOVERY_DAYS, _business, breached

# --- recovery -----------------------------------------------------------------------------

@dataclass
class Recovery:
    score_before: int | None
    score_after: int | None
    bought_again: bool
    window_over: bool

    @property
    def recovered(self) -> bool | None:
        """True: happy again or bought again; False: unhappy again, or 90 days without
        either; None: too early to say."""
        if self.bought_again or (self.score_after is not None and self.score_after >= PROMOTER_OR_PASSIVE):
            return True
        if self.score_after is not None or self.window_over:
            return False
        return None


def recovery(complaint: Complaint, today: date | None = None) -> Recovery | None:
    if complaint.resolved_at is None:
        return None
    business = _business(complaint.tenant_id)
    zone = ZoneInfo(business.timezone)
    today = today or business_today(business)
    resolved_day = complaint.resolved_at.astimezone(zone).date()
    after = db.session.execute(
        select(FeedbackResponse.score).where(FeedbackResponse.client_id == complaint.client_id,
                                             FeedbackResponse.created_at > complaint.resolved_at)
        .order_by(FeedbackResponse.created_at).limit(1)).scalar_one_or_none()
    bought = db.session.execute(
        select(func.count()).select_from(Sale).where(
            Sale.client_id == complaint.client_id, Sale.sold_on > resolved_day,
            Sale.sold_on <= resolved_day + timedelta(days=RECOVERY_DAYS))).scalar_one() > 0
    return Recovery(score_before=complaint.score_before, score_after=after, bought_again=bought,
                    window_over=today > resolved_day + timedelta(days=RECOVERY_DAYS))


# --- who sees what --------------------------------------------------------------------------

def visible(user: User, stmt):
    """Sellers restricted to their own clients see complaints they own or about their
    clients; everyone else in the business sees the whole board."""
    if restricted_to_own(user):
        mine = select(Client.id).where(Client.seller_id == user.id)
        stmt = stmt.where(or_(Complaint.owner_id == user.id, Complaint.client_id.in_(mine)))
    return stmt


def may_handle(user: User, complaint: Complaint) -> bool:
    """The case's owner, managers and owners act on it; service staff too (they handle
    complaints for the whole business)."""
    return complaint.owner_id == user.id or user.role in (Role.OWNER.value, Role.MANAGER.value, Role.SERVICE.value)


# --- board and figures ------------------------------------------------------------------------

BOARD_FILTERS = ("open", "breached", "mine", "resolved", "all")
BOARD_SORTS = ("age", "newest", "owner")


def board_query(user: User, show: str, owner_id: int | None = None, sort: str = ""):
    """The board's rows. ``sort``: "age" oldest first (the default, age is urgency; the
    resolved tab defaults to the latest resolved), "newest", or "owner" (by the name of
    who is in charge, nobody last, oldest first within each)."""
    stmt = visible(user, select(Complaint, Client).join(Client, Client.id == Complaint.client_id))
    now = utcnow()
    if show == "open":
        stmt = stmt.where(Complaint.status != "resolved")
    elif show == "breached":
        stmt = stmt.where(Complaint.status != "resolved",
                          or_(Complaint.resolve_due_at < now,
                              (Complaint.acknowledged_at.is_(None)) & (Complaint.ack_due_at < now)))
    elif show == "mine":
        stmt = stmt.where(Complaint.status != "resolved", Complaint.owner_id == user.id)
    elif show == "resolved":
        stmt = stmt.where(Complaint.status == "resolved")
    if owner_id:
        stmt = stmt.where(Complaint.owner_id == owner_id)
    if sort == "owner":
        in_charge = select(User.name).where(User.id == Complaint.owner_id).scalar_subquery()
        return stmt.order_by(in_charge.is_(None), in_charge, Complaint.opened_at, Complaint.id)
    if sort == "newest":
        return stmt.order_by(Complaint.opened_at.desc(), Complaint.id.desc())
    if show == "resolved" and sort != "age":
        return stmt.order_by(Complaint.resolved_at.desc(), Complaint.id.desc())
    return stmt.order_by(Complaint.opened_at, Complaint.id)  # oldest first: age is urgency


def counts(user: User) -> dict:
    now = utcnow()
    base = visible(user, select(func.count()).select_from(Complaint).where(Complaint.status != "resolved"))
    open_count = db.session.execute(base).scalar_one()
    late = db.session.execute(base.where(or_(Complaint.resolve_due_at < now,
                                             (Complaint.acknowledged_at.is_(None)) & (Complaint.ack_due_at < now)))
                              ).scalar_one()
    mine = db.session.execute(base.where(Complaint.owner_id == user.id)).scalar_one()
    return {"open": open_count, "breached": late, "mine": mine}


@dataclass
class Figures:
    opened: int
    resolved: int
    median_ack_hours: float | None
    median_resolve_days: float | None
    breached: int
    recovered: int
    recovery_known: int
    remedy_cost: int
    value_kept: int

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.recovery_known if self.recovery_known else None


def _median(values: list):
    return statistics.median(values) if values else None


def _recoveries(done: list, today: date | None) -> tuple[int, int, int]:
    """Of the resolved cases: how many recovered the client, how many are known either
    way, and the value the recovered ones kept."""
    outcomes = [recovery(c, today) for c in done]
    known = [r for r in outcomes if r is not None and r.recovered is not None]
    kept = sum(c.value_kept or 0 for c, r in zip(done, outcomes, strict=False) if r is not None and r.recovered)
    return sum(1 for r in known if r.recovered), len(known), kept


def figures(user: User, days: int, today: date | None = None) -> Figures:
    """The period's figures: cases opened in the last ``days`` days."""
    since = utcnow() - timedelta(days=days)
    cases = db.session.execute(visible(user, select(Complaint).where(Complaint.opened_at >= since))).scalars().all()
    acks = [(c.acknowledged_at - c.opened_at).total_seconds() / 3600 for c in cases if c.acknowledged_at]
    done = [c for c in cases if c.resolved_at]
    recovered, known, kept = _recoveries(done, today)
    return Figures(opened=len(cases), resolved=len(done), median_ack_hours=_median(acks),
                   median_resolve_days=_median([(c.resolved_at - c.opened_at).total_seconds() / 86400 for c in done]),
                   breached=sum(1 for c in cases if breached(c)), recovered=recovered, recovery_known=known,
                   remedy_cost=sum(c.remedy_cost or 0 for c in done), value_kept=kept)
