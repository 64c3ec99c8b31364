"""Rule 10 (article 001): loyalty is often to the seller who serves the client. When a
seller leaves the team, or a client gets a new responsible seller, the clients whose
sales and visits were mostly with the seller they lose get a *handover visit* planned
with the seller who now has them, and the visit's text says why.

"Mostly": that seller made more than half of the client's sales and done visits and
calls, counted together over the whole history (a client served by two specialists
half and half has no single seller to lose).

Who takes over from a seller who is deactivated (``after_deactivation``): a client whose
responsible seller they were gets a new one — another active responsible seller of the
client's portfolio, else of the client's territory (rule 10: every portfolio and
territory has one), else the business's owner (the first active owner): someone is always
responsible, and the owner can reassign from the client's page. Their planned visits and
calls move to that new responsible seller too, so nothing is left on an agenda nobody
reads. A client whose responsible seller is someone else keeps them; the handover visit,
when due, is with that responsible seller."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..accounts.models import Business, Role, User
from ..clients.models import Client
from ..extensions import db
from ..sales.models import Sale
from ..territories.models import PortfolioSeller, TerritorySeller
from .models import Activity

HANDOVER_DAYS = 3  # the new seller visits within three days: before the client notices the silence
CHUNK = 500


def served_by(client_ids) -> dict[int, Counter]:
    """Per client: how many sales and done visits or calls each seller made."""
    ids = list(client_ids)
    counts: dict[int, Counter] = {cid: Counter() for cid in ids}
    for start in range(0, len(ids), CHUNK):  # a seller with thousands of clients: bounded IN lists
        chunk = ids[start:start + CHUNK]
        for client_id, seller_id, n in db.session.execute(
                select(Sale.client_id, Sale.seller_id, func.count()).where(Sale.client_id.in_(chunk),
                                                                           Sale.seller_id.is_not(None))
                .group_by(Sale.client_id, Sale.seller_id)).all():
            counts[client_id][seller_id] += n
        for client_id, seller_id, n in db.session.execute(
                select(Activity.client_id, Activity.seller_id, func.count()).where(
                    Activity.client_id.in_(chunk), Activity.status == "done", Activity.seller_id.is_not(None))
                .group_by(Activity.client_id, Activity.seller_id)).all():
            counts[client_id][seller_id] += n
    return counts


def mostly_with(counts: Counter, seller_id: int) -> bool:
    total = sum(counts.values())
    return bool(total) and counts[seller_id] * 2 > total


def successor(client: Client, leaving_id: int) -> int | None:
    """The client's new responsible seller when ``leaving_id`` leaves: an active
    responsible seller of their portfolio, else of their territory, else the owner."""
    for model, key, value in ((PortfolioSeller, PortfolioSeller.portfolio_id, client.portfolio_id),
                              (TerritorySeller, TerritorySeller.territory_id, client.territory_id)):
        if value is None:
            continue
        found = db.session.execute(
            select(model.user_id).join(User, User.id == model.user_id)
            .where(key == value, User.active.is_(True), User.id != leaving_id).order_by(model.id).limit(1)
        ).scalar_one_or_none()
        if found is not None:
            return found
    return db.session.execute(select(User.id).where(User.role == Role.OWNER.value, User.active.is_(True),
                                                    User.id != leaving_id).order_by(User.id).limit(1)
                              ).scalar_one_or_none()


def _why(business: Business, old: User, counts: Counter, left_team: bool) -> str:
    """The handover visit's text, in the business's language: the seller reads it on the
    agenda card."""
    with force_locale(business.language):
        if left_team:
            return _("Handover: %(old)s, who is no longer on the team, made %(num)d of this client's %(total)d "
                     "sales and visits. Visit them to introduce yourself: they may be loyal to %(old)s more than "
                     "to the business.", old=old.name, num=counts[old.id], total=sum(counts.values()))
        return _("Handover: %(old)s, their responsible seller until now, made %(num)d of this client's %(total)d "
                 "sales and visits. Visit them to introduce yourself: they may be loyal to %(old)s more than to "
                 "the business.", old=old.name, num=counts[old.id], total=sum(counts.values()))


def plan(client: Client, old: User, new_seller_id: int | None, counts: Counter, today: date,
         left_team: bool) -> Activity | None:
    """One planned handover visit with ``new_seller_id``; an earlier planned handover of
    the client with someone else is cancelled (the client changed hands again), one with
    the same seller is kept. The caller commits."""
    if new_seller_id is None or new_seller_id == old.id:
        return None
    planned = db.session.execute(select(Activity).where(
        Activity.client_id == client.id, Activity.purpose == "handover", Activity.status == "planned")).scalars().all()
    for earlier in planned:
        if earlier.seller_id == new_seller_id:
            return earlier
        earlier.status = "cancelled"
    business = db.session.get(Business, client.tenant_id)
    visit = Activity(client_id=client.id, seller_id=new_seller_id, kind="visit", purpose="handover",
                     due_on=today + timedelta(days=HANDOVER_DAYS), notes=_why(business, old, counts, left_team))
    db.session.add(visit)
    return visit


def after_reassignment(client: Client, old_seller_id: int | None, today: date) -> Activity | None:
    """The client's responsible seller changed from ``old_seller_id``: a handover visit
    with the new one when the client's sales and visits were mostly with the old one."""
    if not old_seller_id or not client.seller_id or old_seller_id == client.seller_id:
        return None
    pending = db.session.execute(select(Activity).where(
        Activity.client_id == client.id, Activity.purpose == "handover", Activity.status == "planned",
        Activity.seller_id == old_seller_id)).scalars().first()
    if pending is not None:  # handed over once already and not visited yet: the visit follows the client
        pending.seller_id = client.seller_id
        return pending
    counts = served_by([client.id])[client.id]
    if not mostly_with(counts, old_seller_id):
        return None
    old = db.session.get(User, old_seller_id)
    return plan(client, old, client.seller_id, counts, today, left_team=not old.active) if old else None


def after_deactivation(old: User, today: date) -> list[Activity]:
    """``old`` left the team: their clients get a new responsible seller and their
    planned contacts go with them; the clients mostly served by ``old`` get a handover
    visit. The caller commits."""
    touched = select(Sale.client_id).where(Sale.seller_id == old.id).union(
        select(Activity.client_id).where(Activity.seller_id == old.id, Activity.status == "done"))
    clients = db.session.execute(select(Client).where(
        Client.deleted_at.is_(None), (Client.seller_id == old.id) | Client.id.in_(touched))).scalars().all()
    counts = served_by(c.id for c in clients)
    visits = []
    for client in clients:
        if client.seller_id == old.id:
            client.seller_id = successor(client, old.id)
            for contact in db.session.execute(select(Activity).where(
                    Activity.client_id == client.id, Activity.seller_id == old.id,
                    Activity.status == "planned")).scalars():
                contact.seller_id = client.seller_id
        if mostly_with(counts[client.id], old.id):
            visit = plan(client, old, client.seller_id or successor(client, old.id), counts[client.id], today,
                         left_team=True)
            if visit is not None:
                visits.append(visit)
    return visits
