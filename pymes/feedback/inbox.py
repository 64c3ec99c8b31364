"""The feedback inbox: every answer, newest first, and the figures a manager reads:
NPS (promoters 9-10 minus detractors 0-6, in points), response rate (answered links of
those sent in the period) and comments, per seller and per portfolio."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, literal, select

from ..accounts.models import User
from ..clients.models import Client
from ..clients.services import restricted_to_own
from ..db import utcnow
from ..extensions import db
from .models import FeedbackLink, FeedbackResponse, link_was_sent

PERIODS = (30, 90, 365)
PAGE_SIZE = 50


@dataclass
class Score:
    """One row of figures: the whole business, a seller or a portfolio."""
    key: int | None
    links: int = 0
    answers: int = 0
    promoters: int = 0
    detractors: int = 0
    comments: int = 0

    @property
    def nps(self) -> int | None:
        if not self.answers:
            return None
        return round(100 * (self.promoters - self.detractors) / self.answers)

    @property
    def response_rate(self) -> float | None:
        return self.answers / self.links if self.links else None


@dataclass
class Filters:
    days: int = 90
    seller_id: int | None = None
    portfolio_id: int | None = None
    page: int = 1


def _scope(stmt, user: User, f: Filters):
    if restricted_to_own(user):
        stmt = stmt.where(Client.seller_id == user.id)
    if f.seller_id:
        stmt = stmt.where(Client.seller_id == f.seller_id)
    if f.portfolio_id:
        stmt = stmt.where(Client.portfolio_id == f.portfolio_id)
    return stmt


def figures(user: User, f: Filters, group=None) -> dict[int | None, Score]:
    """Figures over the links sent in the period (``link_was_sent``: a link made and
    never sent does not count) and their answers, optionally grouped
    by ``Client.seller_id`` or ``Client.portfolio_id`` (one query for each half)."""
    since = utcnow() - timedelta(days=f.days)
    key = group if group is not None else literal(0)
    answered = (FeedbackResponse.id.is_not(None))
    stmt = _scope(
        select(key.label("key"), func.count(FeedbackLink.id),
               func.count(FeedbackResponse.id),
               func.coalesce(func.sum(case((answered & (FeedbackResponse.score >= 9), 1), else_=0)), 0),
               func.coalesce(func.sum(case((answered & (FeedbackResponse.score <= 6), 1), else_=0)), 0),
               func.coalesce(func.sum(case((answered & (FeedbackResponse.comment != ""), 1), else_=0)), 0))
        .select_from(FeedbackLink)
        .join(Client, Client.id == FeedbackLink.client_id)
        .outerjoin(FeedbackResponse, FeedbackResponse.link_id == FeedbackLink.id)
        .where(FeedbackLink.created_at >= since, link_was_sent(FeedbackResponse.id)), user, f)
    if group is not None:
        stmt = stmt.group_by(group)
    rows = db.session.execute(stmt).all()
    return {row[0]: Score(row[0], *[int(v) for v in row[1:]]) for row in rows}


def total(user: User, f: Filters) -> Score:
    return next(iter(figures(user, f).values()), Score(None))


def answers(user: User, f: Filters):
    """(answer, client) rows of the period, newest first, one page."""
    since = utcnow() - timedelta(days=f.days)
    stmt = _scope(select(FeedbackResponse, Client).join(Client, Client.id == FeedbackResponse.client_id)
                  .where(FeedbackResponse.created_at >= since), user, f)
    return db.session.execute(stmt.order_by(FeedbackResponse.created_at.desc(), FeedbackResponse.id.desc())
                              .offset((f.page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
