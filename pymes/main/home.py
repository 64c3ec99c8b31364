"""What "Your day" (the signed-in home page) shows, gathered by ``home_page`` into a
``HomePage`` the route renders. It runs only when the page's kept fragment is missing;
the reader comes in as an argument (their agenda, their ladder when they are a seller,
the complaints and good news they may see)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import func, select

from ..accounts.models import Business, Invitation, User
from ..extensions import db


@dataclass
class HomePage:
    business: Business
    team_size: int
    pending_invitations: int
    mine: Any  # the reader's agenda
    team: Any  # the whole team's agenda, for owners and managers
    tiers: dict  # rung → clients
    dropped: int
    tier_labels: dict
    clients_total: int
    purposes: dict
    complaints: Any
    news: Any
    news_days: int

    def context(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _team_counts() -> tuple[int, int]:
    """Active teammates, and invitations waiting for an answer."""
    team_size = db.session.execute(select(func.count()).select_from(User).where(User.active.is_(True))).scalar_one()
    pending = db.session.execute(
        select(func.count()).select_from(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    ).scalar_one()
    return team_size, pending


def _ladder(seller_id: int | None) -> tuple[dict, int]:
    """Clients per rung and those who dropped a rung: a seller's own, or the business's."""
    from ..clients.models import Client

    own = (Client.seller_id == seller_id,) if seller_id is not None else ()
    tiers = dict(db.session.execute(
        select(Client.tier, func.count()).where(Client.deleted_at.is_(None), Client.kind == "client", *own)
        .group_by(Client.tier)).all())
    dropped = db.session.execute(select(func.count()).select_from(Client).where(
        Client.deleted_at.is_(None), Client.tier_dropped_at.is_not(None), *own)).scalar_one()
    return tiers, dropped


def home_page(business: Business, reader: User) -> HomePage:
    from ..clients.loyalty import TIER_LABELS
    from ..complaints.queries import counts as complaint_counts
    from ..i18n import business_today
    from ..referrals.services import NEWS_DAYS, good_news
    from ..visits.forms import PURPOSE_LABELS
    from ..visits.services import agenda

    team_size, pending = _team_counts()
    today = business_today()
    # bounded: the oldest page of overdue contacts and their total, however far behind
    mine = agenda(reader.id, today, overdue_page=1)
    team = agenda(None, today, overdue_page=1) if reader.has_role("owner", "manager") else None
    tiers, dropped = _ladder(reader.id if reader.role == "seller" else None)
    return HomePage(business=business, team_size=team_size, pending_invitations=pending, mine=mine, team=team,
                    tiers=tiers, dropped=dropped, tier_labels=TIER_LABELS, clients_total=sum(tiers.values()),
                    purposes=PURPOSE_LABELS, complaints=complaint_counts(reader), news=good_news(reader),
                    news_days=NEWS_DAYS)
