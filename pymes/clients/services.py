"""Client book rules: contact data normalised, soft delete with undo, the tier kept
up to date from the sales and its history kept."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, inspect, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from wtforms.fields.core import UnboundField

from ..accounts.models import Business, Role, User
from ..db import utcnow
from ..extensions import db
from ..i18n import business_today, country_name
from ..tenancy import current_tenant_id
from ..validation import FieldError
from . import loyalty
from .forms import ClientForm
from .models import Client, ClientOpening, ClientSpecialist, LoyaltySettings, TierChange


def _form_fields(form_class) -> tuple[str, ...]:
    return tuple(name for name in dir(form_class) if isinstance(getattr(form_class, name, None), UnboundField))


# What a person may change on a client: the client form's fields, by the model's names (the
# form takes the referrer by name, ``referred_by``; the client keeps ``referred_by_id``). A
# field added to the form is saved without a second list to keep in step.
EDITABLE = tuple("referred_by_id" if name == "referred_by" else name for name in _form_fields(ClientForm))


def parse_phone(raw: str | None, country: str, field_name: str = "phone") -> phonenumbers.PhoneNumber | None:
    """The number a person typed, read with the business's country as the default
    region (None when empty); an impossible number is a field error."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise FieldError(field_name, str(_l("This is not a valid phone number for %(country)s (or start with +"
                                            " and the country code).", country=country_name(country))))
    return number


def normalise_phone(raw: str | None, country: str, field_name: str = "phone") -> str | None:
    """E.164 (``+56912345678``) from what a person typed (``parse_phone``)."""
    number = parse_phone(raw, country, field_name)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


def _from_e164(e164: str) -> phonenumbers.PhoneNumber:
    """A stored E.164 string as a PhoneNumber without the general parser (exports format
    one per row): the country code is the 1–3 digit prefix phonenumbers knows, and leading
    zeros are kept as ``parse`` keeps them. Anything unexpected goes through ``parse``."""
    digits = e164[1:]
    if e164.startswith("+") and digits.isdigit():
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                rest = digits[size:]
                if not rest:
                    break
                number = phonenumbers.PhoneNumber(country_code=code, national_number=int(rest))
                if len(rest) > 1 and rest[0] == "0":
                    number.italian_leading_zero = True
                    zeros = len(rest) - len(rest.lstrip("0"))
                    zeros = min(zeros, len(rest) - 1)
                    if zeros != 1:
                        number.number_of_leading_zeros = zeros
                return number
    return phonenumbers.parse(e164, None)


def national(e164: str | None, country: str) -> str:
    """A stored number shown the way people write it in the business's country."""
    if not e164:
        return ""
    number = _from_e164(e164)
    if phonenumbers.region_code_for_number(number) == country:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Stored numbers and the columns that hold them as shown ("9 8765 4321" in Chile,
# "+34 612 34 56 78" from there): one place keeps them in step, whoever writes the number
# (the forms, the import, the public page, a referral, a job).
SHOWN_PHONES: dict[type, tuple[tuple[str, str], ...]] = {Client: (("phone", "phone_shown"),
                                                                  ("whatsapp", "whatsapp_shown"))}


def shown_phone(e164: str | None, country: str) -> str | None:
    """What ``national`` shows, stored (None for no number; an unreadable one as it is)."""
    if not e164:
        return None
    try:
        return national(e164, country)[:40]
    except phonenumbers.NumberParseException:
        return e164[:40]


@event.listens_for(Session, "before_flush")
def _keep_shown_phones(session, flush_context, instances) -> None:
    countries: dict[int, str] = {}
    for obj in list(session.new) + list(session.dirty):
        pairs = SHOWN_PHONES.get(type(obj))
        if not pairs:
            continue
        state = inspect(obj)
        changed = [(number, shown) for number, shown in pairs
                   if obj in session.new or state.attrs[number].history.has_changes()]
        if not changed:
            continue
        tenant = obj.tenant_id or current_tenant_id()
        if tenant not in countries:
            business = session.get(Business, tenant) if tenant else None
            countries[tenant] = business.country if business is not None else ""
        for number, shown in changed:
            setattr(obj, shown, shown_phone(getattr(obj, number), countries[tenant]))


def rules() -> loyalty.TierRules:
    return _rules_of(db.session.execute(select(LoyaltySettings)).scalar_one_or_none())


def _rules_of(row: LoyaltySettings | None) -> loyalty.TierRules:
    if row is None:
        return loyalty.TierRules()
    return loyalty.TierRules(**{k: getattr(row, k) for k in loyalty.TierRules().as_dict()})


def _check_references(values: dict) -> None:
    """Ids chosen in a form must belong to this business (the scoped query sees no other)."""
    from ..territories.models import Portfolio, Territory  # cycle: territories is above clients

    for key, model, field_name in (("territory_id", Territory, "territory_id"),
                                   ("portfolio_id", Portfolio, "portfolio_id"),
                                   ("referred_by_id", Client, "referred_by_id")):
        ident = values.get(key)
        if ident and db.session.execute(select(model.id).where(model.id == ident)).scalar_one_or_none() is None:
            raise FieldError(field_name, str(_l("Choose one from the list.")))
    seller = values.get("seller_id")
    if seller and db.session.execute(
            select(User.id).where(User.id == seller, User.active.is_(True))).scalar_one_or_none() is None:
        raise FieldError("seller_id", str(_l("Choose an active member of your team.")))


def save_client(client: Client | None, values: dict, country: str) -> Client:
    """Create (``client=None``) or update a client from validated form values."""
    values = {k: v for k, v in values.items() if k in EDITABLE}
    values["phone"] = normalise_phone(values.get("phone"), country, "phone")
    values["whatsapp"] = normalise_phone(values.get("whatsapp"), country, "whatsapp")
    values["email"] = (values.get("email") or "").strip().lower() or None
    for key in ("territory_id", "portfolio_id", "seller_id", "referred_by_id", "preferred_channel",
                "preferred_time", "source", "language"):
        values[key] = values.get(key) or None
    _check_references(values)
    if client is not None and values.get("referred_by_id") == client.id:
        raise FieldError("referred_by_id", str(_l("A client cannot refer themselves.")))
    if client is None:
        client = Client(**values)
        db.session.add(client)
    else:
        old_seller = client.seller_id
        for key, value in values.items():
            setattr(client, key, value)
        if client.seller_id != old_seller:
            _hand_over(client, old_seller)
    db.session.commit()
    return client


def _hand_over(client: Client, old_seller_id: int | None) -> None:
    """Rule 10: a client who changes hands, mostly served by the seller they lose, gets a
    handover visit with the new one (``visits.handover``)."""
    from ..visits.handover import after_reassignment  # cycle: visits is above clients

    after_reassignment(client, old_seller_id, business_today(db.session.get(Business, client.tenant_id)))


def soft_delete(client: Client) -> None:
    client.deleted_at = utcnow()
    db.session.commit()


def restore(client: Client) -> None:
    client.deleted_at = None
    db.session.commit()


def refresh_client(client: Client, today: date | None = None, actor: User | None = None) -> loyalty.TierResult:
    """Recompute the cached sales figures and the tier from the sales; record a tier
    change in the history and flag a drop. The caller commits."""
    from ..sales.models import Sale  # cycle: sales is above clients

    today = today or date.today()
    real = db.session.execute(select(Sale.sold_on).where(Sale.client_id == client.id)).scalars().all()
    if real:
        _convert_referrals(client, today, actor)  # before the facts: a conversion counts for the referrer
    # The revenue, latest score, converted referrals, published testimonials, imported
    # opening and the business's ladder rules in one statement (one round trip instead of
    # six: a public answer recomputes the ladder).
    revenue = (select(func.coalesce(func.sum(Sale.amount), 0))
               .where(Sale.client_id == client.id, Sale.sold_on > today - timedelta(days=365), Sale.sold_on <= today)
               .scalar_subquery())
    revenue, score, converted, testimonials, opening, settings = db.session.execute(
        select(revenue, *_fact_subqueries(client.id), ClientOpening, LoyaltySettings)
        .select_from(Client)
        .outerjoin(ClientOpening, ClientOpening.client_id == Client.id)
        .outerjoin(LoyaltySettings, true())
        .where(Client.id == client.id)).one()
    return place_on_ladder(client, real, int(revenue), opening, today, actor, score=score,
                           converted=int(converted), testimonials=int(testimonials), tier_rules=_rules_of(settings))


def place_on_ladder(client: Client, real: list[date], revenue: int, opening: ClientOpening | None, today: date,
                    actor: User | None, *, score: int | None = None, converted: int = 0, testimonials: int = 0,
                    tier_rules: loyalty.TierRules | None = None) -> loyalty.TierResult:
    """The client's cached figures and tier from facts already read: the dates of their
    real sales, the revenue of those in the last 365 days, their imported opening
    balance, latest score, converted referrals and published testimonials.
    ``refresh_client`` reads them one client at a time; the import passes what it knows
    of the clients it has just created (none of which can have answers or referrals)."""
    window_start = today - timedelta(days=365)
    imported = opening_purchases(opening, real)
    if opening is not None and opening.total_amount and imported:
        # the summary's total, shared evenly by the purchases it stands for
        each = opening.total_amount // opening.purchases
        revenue += each * sum(1 for d in imported if window_start < d <= today)
    dates = list(real) + imported
    client.sales_count = len(dates)
    client.last_sale_on = max(dates) if dates else None
    client.revenue_12m = int(revenue)
    if dates and client.kind == "prospect":
        client.kind = "client"  # a first sale turns a prospect into a client
    result = loyalty.compute_tier(dates, today, score=score, converted_referrals=converted,
                                  rules=tier_rules or rules(), imported=len(imported), testimonials=testimonials)
    client.computed_tier = result.tier
    _set_tier(client, client.tier_override or result.tier, "computed", "", actor)
    return result


def opening_purchases(opening: ClientOpening | None, real_dates) -> list[date]:
    """The purchase dates a client's imported summary still stands for (see
    ``loyalty.opening_dates``; empty without one)."""
    if opening is None:
        return []
    return loyalty.opening_dates(opening.purchases, opening.last_purchase_on, opening.first_purchase_on,
                                 list(real_dates))


def purchase_history(client_id: int, real_dates) -> tuple[list[date], int]:
    """(every purchase date the ladder counts, how many of them come from an import)."""
    imported = opening_purchases(_opening_of(client_id), real_dates)
    return list(real_dates) + imported, len(imported)


def _opening_of(client_id: int) -> ClientOpening | None:
    return db.session.execute(select(ClientOpening).where(ClientOpening.client_id == client_id)).scalar_one_or_none()


def _fact_subqueries(client_id: int):
    """Scalar subqueries of the ladder's facts besides the sales: the latest satisfaction
    score, the client's referrals that became clients, their published testimonials."""
    from ..feedback.models import FeedbackResponse  # cycle: feedback is above clients
    from ..referrals.models import Referral, Testimonial  # cycle: referrals is above clients

    score = (select(FeedbackResponse.score).where(FeedbackResponse.client_id == client_id)
             .order_by(FeedbackResponse.created_at.desc(), FeedbackResponse.id.desc()).limit(1).scalar_subquery())
    converted = (select(func.count()).select_from(Referral)
                 .where(Referral.referrer_id == client_id, Referral.status == "converted").scalar_subquery())
    testimonials = (select(func.count()).select_from(Testimonial)
                    .where(Testimonial.client_id == client_id, Testimonial.status == "approved",
                           Testimonial.may_publish.is_(True), Testimonial.revoked_at.is_(None)).scalar_subquery())
    return score, converted, testimonials


def loyalty_facts(client_id: int) -> tuple[int | None, int]:
    """(latest satisfaction score, referrals of theirs that became clients): with the
    sales, what the ladder looks at."""
    score, converted, _testimonials = _fact_subqueries(client_id)
    score, converted = db.session.execute(select(score, converted)).one()
    return score, int(converted)


def published_testimonials(client_id: int) -> int:
    """The client's testimonials published with their consent (approved by a manager,
    allowed to be published, not revoked): article 001's apostle "gives testimony", and
    each counts on the ladder like a referral who became a client."""
    from ..referrals.models import Testimonial  # cycle: referrals is above clients

    return int(db.session.execute(select(func.count()).select_from(Testimonial).where(
        Testimonial.client_id == client_id, Testimonial.status == "approved", Testimonial.may_publish.is_(True),
        Testimonial.revoked_at.is_(None))).scalar_one())


def _convert_referrals(client: Client, today: date, actor: User | None) -> None:
    """A referred prospect who buys converts their referral by itself, and the referrer
    gets the credit on the ladder. A referral flagged as a duplicate (the person was in
    the book already) waits for a person to decide."""
    from ..referrals.models import Referral  # cycle: referrals is above clients

    open_ones = db.session.execute(select(Referral).where(
        Referral.prospect_id == client.id, Referral.flag.is_(None),
        Referral.status.not_in(("converted",)))).scalars().all()
    for referral in open_ones:
        referral.status, referral.converted_at = "converted", utcnow()
        referrer = db.session.get(Client, referral.referrer_id)
        db.session.flush()
        if referrer is not None and referrer.id != client.id:
            refresh_client(referrer, today, actor)


def _set_tier(client: Client, new: str | None, source: str, reason: str, actor: User | None) -> None:
    old = client.tier
    if old == new:
        return
    client.tier = new
    if loyalty.dropped(old, new):
        client.tier_dropped_at = utcnow()
    elif loyalty.RANK[new] > loyalty.RANK[old]:
        client.tier_dropped_at = None
    db.session.add(TierChange(client_id=client.id, old_tier=old, new_tier=new, source=source, reason=reason[:300],
                              changed_by_id=actor.id if actor else None))


def override_tier(actor: User, client: Client, tier: str | None, reason: str) -> None:
    """A manager sets the tier by hand (or removes the override) with a reason."""
    if tier and tier not in loyalty.TIERS:
        raise FieldError("tier", str(_l("Choose a tier from the list.")))
    reason = (reason or "").strip()
    if tier and not reason:
        raise FieldError("reason", str(_l("Say why: the team will read it on the client's page.")))
    client.tier_override = tier or None
    client.tier_override_reason = reason if tier else ""
    target = tier or client.computed_tier
    if client.tier == target:
        db.session.add(TierChange(client_id=client.id, old_tier=client.tier, new_tier=target,
                                  source="override" if tier else "override_removed", reason=reason[:300],
                                  changed_by_id=actor.id))
    else:
        _set_tier(client, target, "override" if tier else "override_removed", reason, actor)
    db.session.commit()


def acknowledge_drop(client: Client) -> None:
    client.tier_dropped_at = None
    db.session.commit()


# --- the list --------------------------------------------------------------------------

SORTS = {
    "name": Client.name,
    "tier": Client.tier,
    "last_sale": Client.last_sale_on,
    "revenue": Client.revenue_12m,
    "created": Client.created_at,
}


@dataclass
class ClientFilters:
    q: str = ""
    tier: str = ""
    portfolio_id: int | None = None
    territory_id: int | None = None
    seller_id: int | None = None
    kind: str = ""
    key: bool = False
    dropped: bool = False
    mine: bool = False
    sort: str = "name"
    direction: str = "asc"
    page: int = 1


def restricted_to_own(user: User) -> bool:
    """Sellers only ever see their own clients when the business says so."""
    return user.role == Role.SELLER.value and user.business.sellers_see_only_own


def sees_client(user: User, client_id: int) -> bool:
    """A restricted seller sees the clients they are responsible for, and those they
    serve as a specialist seller for a product line."""
    if not restricted_to_own(user):
        return True
    seller_id = db.session.execute(select(Client.seller_id).where(Client.id == client_id)).scalar_one_or_none()
    if seller_id == user.id:
        return True
    return db.session.execute(select(ClientSpecialist.id).where(
        ClientSpecialist.client_id == client_id, ClientSpecialist.user_id == user.id).limit(1)
    ).scalar_one_or_none() is not None


def default_mine(user: User) -> bool:
    """Sellers start on their own clients; one click shows everyone's."""
    return user.role == Role.SELLER.value


def client_query(user: User, f: ClientFilters):
    """The clients this user may see, filtered and sorted (tenant scoping is automatic)."""
    stmt = select(Client).where(Client.deleted_at.is_(None))
    if f.mine or restricted_to_own(user):
        stmt = stmt.where(Client.seller_id == user.id)
    if f.q:
        like = f"%{f.q.strip().lower()}%"
        digits = "".join(ch for ch in f.q if ch.isdigit())
        conditions = [func.lower(Client.name).like(like), func.lower(Client.company).like(like),
                      func.lower(Client.email).like(like)]
        if len(digits) >= 4:
            conditions.append(Client.phone.like(f"%{digits}%"))
        stmt = stmt.where(or_(*conditions))
    if f.tier == "none":
        stmt = stmt.where(Client.tier.is_(None))
    elif f.tier in loyalty.TIERS:
        stmt = stmt.where(Client.tier == f.tier)
    if f.portfolio_id:
        stmt = stmt.where(Client.portfolio_id == f.portfolio_id)
    if f.territory_id:
        stmt = stmt.where(Client.territory_id == f.territory_id)
    if f.seller_id:
        stmt = stmt.where(Client.seller_id == f.seller_id)
    if f.kind in ("client", "prospect"):
        stmt = stmt.where(Client.kind == f.kind)
    if f.key:
        stmt = stmt.where(Client.is_key.is_(True))
    if f.dropped:
        stmt = stmt.where(Client.tier_dropped_at.is_not(None))
    column = SORTS.get(f.sort, Client.name)
    order = column.desc() if f.direction == "desc" else column.asc()
    return stmt.order_by(order, Client.id)


# --- key clients (rule 9) ------------------------------------------------------------------

@dataclass
class KeyClientRow:
    client: Client
    revenue: int
    share: float
    cumulative: float


def key_clients(today: date | None = None, threshold: float = 0.8, limit: int = 200,
                seller_id: int | None = None) -> tuple[list[KeyClientRow], int]:
    """The few clients that carry most of the last 12 months' sales (Pareto): the
    smallest group, biggest first, whose sales reach ``threshold`` of the total.
    One aggregate over the (tenant_id, sold_on) index; returns (rows, total).
    ``seller_id``: over that seller's own clients only (a seller restricted to them)."""
    from ..sales.models import Sale  # cycle: sales is above clients

    today = today or date.today()
    since = today - timedelta(days=365)
    in_window = (Sale.sold_on > since, Sale.sold_on <= today)
    if seller_id is not None:
        in_window += (Sale.client_id.in_(select(Client.id).where(Client.seller_id == seller_id)),)
    total = int(db.session.execute(select(func.coalesce(func.sum(Sale.amount), 0)).where(*in_window)).scalar_one())
    if total <= 0:
        return [], 0
    revenue = func.sum(Sale.amount).label("revenue")
    ranked = db.session.execute(
        select(Sale.client_id, revenue).where(*in_window).group_by(Sale.client_id)
        .order_by(revenue.desc(), Sale.client_id).limit(limit)
    ).all()
    picked, cumulative = [], 0
    for client_id, amount in ranked:
        cumulative += int(amount)
        picked.append((client_id, int(amount), cumulative))
        if cumulative / total >= threshold:
            break
    clients = {c.id: c for c in db.session.execute(
        select(Client).where(Client.id.in_([p[0] for p in picked]), Client.deleted_at.is_(None))).scalars()}
    rows = [KeyClientRow(clients[cid], amount, amount / total, cum / total)
            for cid, amount, cum in picked if cid in clients]
    return rows, total


def set_key(client: Client, is_key: bool) -> None:
    client.is_key = is_key
    db.session.commit()


def save_loyalty_settings(values: dict, sellers_see_only_own: bool, business) -> None:
    """Save the business's tier thresholds and recompute every client's tier with them."""
    row = db.session.execute(select(LoyaltySettings)).scalar_one_or_none()
    if row is None:
        row = LoyaltySettings()
        db.session.add(row)
    for key in loyalty.TierRules().as_dict():
        setattr(row, key, values[key])
    db.session.flush()
    for client in db.session.execute(select(Client).where(Client.sales_count > 0)).scalars():
        refresh_client(client)
    # the business row last: its lock (and the data version's, pymes.cache) is then held
    # only while committing, so a teammate's sale during the recompute cannot deadlock
    business.sellers_see_only_own = sellers_see_only_own
    db.session.commit()


def add_specialist(client: Client, user_id: int | None, product_line: str) -> None:
    """Rule 10: a client can have one specialist seller per product line."""
    product_line = (product_line or "").strip()
    if not product_line:
        raise FieldError("product_line", str(_l("Write the product line this seller handles.")))
    if not user_id or db.session.execute(
            select(User.id).where(User.id == user_id, User.active.is_(True))).scalar_one_or_none() is None:
        raise FieldError("user_id", str(_l("Choose an active member of your team.")))
    db.session.add(ClientSpecialist(client_id=client.id, user_id=user_id, product_line=product_line[:80]))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise FieldError("product_line", str(_l("This client already has a specialist for that product line."))) from None


def remove_specialist(specialist) -> None:
    db.session.delete(specialist)
    db.session.commit()
