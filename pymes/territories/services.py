"""Territories and portfolios: their responsible sellers (rule 10), names unique per
business, the list's counts and deleting one that still has clients.

Territories and portfolios behave the same, so every function takes a ``Kind`` that
says which model, which seller link table and which column of ``clients`` it is about.
Tenant scoping is automatic (the ORM safety net of ``pymes.tenancy``): every query
here sees only the bound business's rows."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Role, User
from ..clients.models import Client
from ..clients.services import restricted_to_own
from ..extensions import db
from ..validation import FieldError
from .models import Portfolio, PortfolioSeller, Territory, TerritorySeller

# The roles that can be a responsible seller: service staff handle complaints, not accounts.
SELLER_ROLES = (Role.OWNER.value, Role.MANAGER.value, Role.SELLER.value)
DETAIL_LIMIT = 200


@dataclass(frozen=True)
class Kind:
    """Which of the two groupings a function works on."""

    key: str          # "territory" or "portfolio": endpoint suffix, template ids
    model: type
    link: type        # the responsible-seller table
    column: str       # ``<key>_id``: the link table's column and the clients' column

    def link_column(self):
        return getattr(self.link, self.column)

    def client_column(self):
        return getattr(Client, self.column)


TERRITORY = Kind("territory", Territory, TerritorySeller, "territory_id")
PORTFOLIO = Kind("portfolio", Portfolio, PortfolioSeller, "portfolio_id")
KINDS = {k.key: k for k in (TERRITORY, PORTFOLIO)}


NEED_A_SELLER = _l("Choose at least one responsible seller.")
NAME_TAKEN = _l("There is already one with that name.")


# --- who can be responsible ------------------------------------------------------------------

def eligible_sellers() -> list[User]:
    """Active team members who may be responsible for a territory or a portfolio."""
    return list(db.session.execute(
        select(User).where(User.active.is_(True), User.role.in_(SELLER_ROLES)).order_by(User.name, User.id)
    ).scalars())


def team_names() -> dict[int, str]:
    """Every team member's name by id (deactivated ones too: old clients still name them)."""
    return dict(db.session.execute(select(User.id, User.name)).all())


def is_responsible(user: User) -> bool:
    return user.active and user.role in SELLER_ROLES


# --- the list and the page -------------------------------------------------------------------

@dataclass
class Summary:
    """One territory or portfolio as the list shows it."""

    obj: object
    sellers: list[User] = field(default_factory=list)      # active, seller-capable
    former: list[User] = field(default_factory=list)       # still linked but deactivated or no longer a seller
    clients: int = 0
    prospects: int = 0

    @property
    def unattended(self) -> bool:
        """Rule 10 broken: nobody is responsible (e.g. its only seller was deactivated)."""
        return not self.sellers


def _sellers_by_group(kind: Kind, ids: list[int] | None = None) -> dict[int, list[User]]:
    stmt = (select(kind.link_column(), User).join(User, User.id == kind.link.user_id)
            .order_by(User.name, User.id))
    if ids is not None:
        stmt = stmt.where(kind.link_column().in_(ids))
    found: dict[int, list[User]] = defaultdict(list)
    for group_id, user in db.session.execute(stmt):
        found[group_id].append(user)
    return found


def _counts(kind: Kind, viewer: User | None, ids: list[int] | None = None) -> dict[tuple[int, str], int]:
    """(group id, client kind) → number of live clients: one grouped COUNT for the whole list."""
    column = kind.client_column()
    stmt = (select(column, Client.kind, func.count())
            .where(column.is_not(None), Client.deleted_at.is_(None))
            .group_by(column, Client.kind))
    if ids is not None:
        stmt = stmt.where(column.in_(ids))
    if viewer is not None and restricted_to_own(viewer):
        stmt = stmt.where(Client.seller_id == viewer.id)
    return {(group_id, client_kind): n for group_id, client_kind, n in db.session.execute(stmt)}


def _summaries(kind: Kind, objects: list, viewer: User | None, ids: list[int] | None = None) -> list[Summary]:
    sellers = _sellers_by_group(kind, ids)
    counts = _counts(kind, viewer, ids)
    rows = []
    for obj in objects:
        linked = sellers.get(obj.id, [])
        rows.append(Summary(obj=obj, sellers=[u for u in linked if is_responsible(u)],
                            former=[u for u in linked if not is_responsible(u)],
                            clients=counts.get((obj.id, "client"), 0),
                            prospects=counts.get((obj.id, "prospect"), 0)))
    return rows


def overview(kind: Kind, viewer: User) -> list[Summary]:
    """Every territory (or portfolio) with its sellers and counts, in three queries
    whatever the number of rows: the groups, their sellers, one grouped COUNT.

    A seller restricted to their own clients (``sellers_see_only_own``) sees counts of
    their own clients only."""
    objects = list(db.session.execute(select(kind.model).order_by(kind.model.name, kind.model.id)).scalars())
    return _summaries(kind, objects, viewer)


def summary(kind: Kind, obj, viewer: User | None) -> Summary:
    return _summaries(kind, [obj], viewer, [obj.id])[0]


def members(kind: Kind, obj, viewer: User) -> list[Client]:
    """The live clients and prospects of one territory or portfolio (first ``DETAIL_LIMIT``,
    clients before prospects), restricted like the client book."""
    stmt = (select(Client).where(kind.client_column() == obj.id, Client.deleted_at.is_(None))
            .order_by(Client.kind, Client.name, Client.id).limit(DETAIL_LIMIT))
    if restricted_to_own(viewer):
        stmt = stmt.where(Client.seller_id == viewer.id)
    return list(db.session.execute(stmt).scalars())


def responsible_sellers(kind: Kind, obj) -> list[User]:
    """Its linked sellers who can still be responsible (active, selling role)."""
    return [u for u in _sellers_by_group(kind, [obj.id]).get(obj.id, []) if is_responsible(u)]


def current_seller_ids(kind: Kind, obj) -> list[int]:
    """The ids to tick in the edit form."""
    return [u.id for u in responsible_sellers(kind, obj)]


# --- create, edit, delete ---------------------------------------------------------------------

def _name_taken(kind: Kind, name: str, obj) -> bool:
    """The friendly check, case-insensitive ("zona sur" is "Zona Sur")."""
    stmt = select(kind.model.id).where(func.lower(kind.model.name) == name.lower())
    if obj is not None:
        stmt = stmt.where(kind.model.id != obj.id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _exact_name_exists(kind: Kind, name: str) -> bool:
    return db.session.execute(select(kind.model.id).where(kind.model.name == name).limit(1)).first() is not None


def save(kind: Kind, obj, name: str, description: str, seller_ids: list[int]):
    """Create (``obj=None``) or update a territory or portfolio and set its responsible
    sellers to exactly ``seller_ids``.

    Rule 10: at least one responsible seller, each an active member of this business
    with a selling role (ids of other businesses are not found by the scoped query and
    are refused like any other wrong id). The name is unique in the business: checked
    here for a clear message, and by the (tenant_id, name) constraint when two saves
    race, which ends in the same field error."""
    name = " ".join((name or "").split())
    description = (description or "").strip()
    if not name:
        raise FieldError("name", str(_l("This field is required.")))
    chosen = list(dict.fromkeys(int(i) for i in seller_ids or []))
    eligible = {u.id for u in eligible_sellers()}
    if any(i not in eligible for i in chosen):
        raise FieldError("seller_ids", str(_l("Choose active members of your team.")))
    if not chosen:  # also when the last one is unticked on edit: it is refused beside the field
        raise FieldError("seller_ids", str(NEED_A_SELLER))
    if _name_taken(kind, name, obj):
        raise FieldError("name", str(NAME_TAKEN))
    try:
        if obj is None:
            obj = kind.model(name=name, description=description)
            db.session.add(obj)
            db.session.flush()
            existing: dict[int, object] = {}
        else:
            obj.name, obj.description = name, description
            existing = {link.user_id: link for link in db.session.execute(
                select(kind.link).where(kind.link_column() == obj.id)).scalars()}
        for user_id, link in existing.items():
            if user_id not in chosen:
                db.session.delete(link)
        for user_id in chosen:
            if user_id not in existing:
                db.session.add(kind.link(**{kind.column: obj.id, "user_id": user_id}))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if _exact_name_exists(kind, name):
            raise FieldError("name", str(NAME_TAKEN)) from None
        raise
    return obj


def delete(kind: Kind, obj) -> int:
    """Delete a territory or portfolio; its clients (deleted ones too) stay, without it.

    The clients' composite foreign key would refuse the delete, so their reference is
    cleared first, in the same transaction. Returns how many clients were detached."""
    detached = db.session.execute(
        update(Client).where(kind.client_column() == obj.id).values({kind.column: None})
        .execution_options(synchronize_session="fetch")
    ).rowcount
    db.session.execute(sql_delete(kind.link).where(kind.link_column() == obj.id)
                       .execution_options(synchronize_session="fetch"))
    db.session.delete(obj)
    db.session.commit()
    return detached or 0
