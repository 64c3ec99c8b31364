"""Referrals and testimonials as the customer leaves them on the feedback page (and, as
the referrals issue lands, from visits and by hand). Each referred friend becomes a
prospect with a responsible seller; a testimonial waits for a manager's approval."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..accounts.models import Business, User
from ..clients.models import Client
from ..clients.services import SHOWN_PHONES, normalise_phone, refresh_client, restricted_to_own
from ..db import utcnow
from ..events import answer_shared, share_form
from ..extensions import db
from ..feedback.models import FeedbackLink
from ..i18n import business_today
from ..notifications.services import notify_team, path_for
from ..security import hash_secret
from ..tenancy import identity_lookup
from ..territories.models import TerritorySeller
from ..validation import FieldError, single_line
from ..visits.models import Activity
from .models import (
    NAME_DISPLAYS,
    PUBLISH_PLACES,
    REWARD_KINDS,
    Referral,
    ReferralAsk,
    ReferralCode,
    ReferralSettings,
    Testimonial,
)

SHOWN_PHONES[Referral] = (("phone", "phone_shown"),)  # the export prints it as stored

MAX_FRIENDS = 3
TEXT_MAX = 1000
NAME_DISPLAY_LABELS = {"full": _l("My full name"), "first": _l("My first name only"), "initials": _l("My initials"),
                       "anonymous": _l("Anonymous")}
# The same choice as the business's team reads it: the customer's "my name" is "their name" here.
OWNER_NAME_DISPLAY_LABELS = {"full": _l("Their full name"), "first": _l("Their first name only"),
                             "initials": _l("Their initials"), "anonymous": _l("Anonymous")}
PUBLISH_PLACE_LABELS = {"both": _l("On the testimonial wall and the business's website"),
                        "wall": _l("Only on the testimonial wall"),
                        "website": _l("Only on the business's website")}
# the places each public page shows: the wall page, and the embed on the business's website
SHOWN_ON = {"wall": ("wall", "both"), "website": ("website", "both")}


@dataclass
class Friend:
    name: str = ""
    contact: str = ""
    email: str | None = None
    phone: str | None = None
    errors: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.name.strip() and not self.contact.strip()


def read_friend(name: str, contact: str, country: str, referrer: Client) -> Friend:
    """One friend from the form: a name and one contact, an e-mail or a phone, told apart
    by the '@'. Problems are kept beside the friend's fields, with what was typed."""
    friend = Friend(name=single_line(name or "").strip()[:160], contact=single_line(contact or "").strip()[:254])
    if friend.empty:
        return friend
    if not friend.name:
        friend.errors["name"] = str(_l("Write your friend's name."))
    if not friend.contact:
        friend.errors["contact"] = str(_l("Write a phone or an e-mail so we can reach your friend."))
    elif "@" in friend.contact:
        try:
            friend.email = validate_email(friend.contact, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            friend.errors["contact"] = str(_l("Enter a valid e-mail address, like ana@example.com."))
    else:
        try:
            friend.phone = normalise_phone(friend.contact, country, "contact")
        except Exception as error:  # FieldError: the message says what a valid number looks like
            friend.errors["contact"] = getattr(error, "message", str(error))
    if not friend.errors and ((friend.email and friend.email == (referrer.email or "").lower())
                              or (friend.phone and friend.phone in (referrer.phone, referrer.whatsapp))):
        friend.errors["contact"] = str(_l("That is your own contact: write your friend's."))
    return friend


def read_friends(form, country: str, client, errors: dict) -> list:
    """The friends typed in the form's ``MAX_FRIENDS`` rows (the feedback page's and the
    delivery visit's); their problems go into ``errors`` by field."""
    friends = []
    for i in range(MAX_FRIENDS):
        friend = read_friend(form.get(f"friend_name_{i}", ""), form.get(f"friend_contact_{i}", ""), country, client)
        for key, message in friend.errors.items():
            errors[f"friend_{key}_{i}"] = message
        if not friend.empty:
            friends.append(friend)
    return friends


def responsible_seller(referrer: Client) -> int | None:
    """The referrer's seller, else the first seller of the referrer's territory."""
    if referrer.seller_id:
        return referrer.seller_id
    if referrer.territory_id:
        return db.session.execute(select(TerritorySeller.user_id).where(
            TerritorySeller.territory_id == referrer.territory_id).order_by(TerritorySeller.id).limit(1)
        ).scalar_one_or_none()
    return None


def _existing(friend: Friend) -> Client | None:
    conditions = []
    if friend.email:
        conditions.append(Client.email == friend.email)
    if friend.phone:
        conditions.extend([Client.phone == friend.phone, Client.whatsapp == friend.phone])
    return db.session.execute(select(Client).where(or_(*conditions), Client.deleted_at.is_(None))
                              .order_by(Client.id).limit(1)).scalar_one_or_none()


def add_referral(referrer: Client, friend: Friend, *, source: str, friend_consent: bool,
                 feedback_response_id: int | None = None, created_by_id: int | None = None,
                 activity_id: int | None = None) -> Referral:
    """Record the referral. A new person becomes a prospect of the referrer's seller; a
    contact already in the book is linked, not duplicated, and the referral flagged."""
    found = _existing(friend)
    flag = None
    if found is not None and found.id != referrer.id:
        prospect, flag = found, "duplicate"
    else:
        prospect = Client(kind="prospect", name=friend.name, email=friend.email, phone=friend.phone,
                          whatsapp=friend.phone if friend.phone and referrer.preferred_channel == "whatsapp" else None,
                          seller_id=responsible_seller(referrer), territory_id=referrer.territory_id,
                          portfolio_id=referrer.portfolio_id, source="referral", referred_by_id=referrer.id)
        db.session.add(prospect)
        db.session.flush()
    referral = Referral(referrer_id=referrer.id, prospect_id=prospect.id, name=friend.name, email=friend.email,
                        phone=friend.phone, source=source, flag=flag, friend_consent=friend_consent,
                        feedback_response_id=feedback_response_id, created_by_id=created_by_id,
                        activity_id=activity_id)
    db.session.add(referral)
    return referral


def announce_referrals(referrer: Client, referrals: list[Referral], actor_id: int | None = None) -> None:
    """One notification per batch (up to three friends at once), for the managers and the
    referrer's responsible seller (who follows the prospects up). The caller commits."""
    if not referrals:
        return
    notify_team("referral_new", {"client": referrer.name, "client_id": referrer.id, "count": len(referrals),
                                 "friends": [r.name for r in referrals]},
                path_for("referrals.index", status="new"), responsible_seller(referrer), actor_id)


def save_testimonial(client: Client, text: str, name_display: str, may_publish: bool,
                     feedback_response_id: int | None, source: str = "feedback",
                     publish_where: str | None = None, actor_id: int | None = None) -> Testimonial:
    """A new testimonial, or the same answer's one corrected (and back to pending).
    ``publish_where`` is where the client allowed it to appear (``PUBLISH_PLACES``);
    None keeps what a correction had, or both places for a new one. One that starts
    waiting for approval is announced to the managers and the client's seller (not to
    ``actor_id``, who typed it)."""
    existing = None
    if feedback_response_id is not None:
        existing = db.session.execute(select(Testimonial).where(
            Testimonial.feedback_response_id == feedback_response_id)).scalar_one_or_none()
    testimonial = existing or Testimonial(client_id=client.id, feedback_response_id=feedback_response_id, source=source)
    testimonial.text = text
    testimonial.name_display = name_display if name_display in NAME_DISPLAYS else "first"
    testimonial.may_publish = may_publish
    if publish_where in PUBLISH_PLACES:
        testimonial.publish_where = publish_where
    elif testimonial.publish_where is None:
        testimonial.publish_where = "both"
    testimonial.consent_at = utcnow()
    testimonial.reviewed_at = testimonial.reviewed_by_id = None
    newly_waiting = existing is None or existing.status != "pending"
    was_approved = existing is not None and existing.status == "approved"
    testimonial.status = "pending"
    if existing is None:
        db.session.add(testimonial)
    if was_approved:  # a corrected testimonial waits for approval again: off the ladder meanwhile
        _rerank(client.id, actor_id)
    if newly_waiting:
        notify_team("testimonial_pending", {"client": client.name, "client_id": client.id},
                    path_for("referrals.testimonials"), client.seller_id, actor_id)
    return testimonial


def shown_name(testimonial: Testimonial, client: Client) -> str:
    """The name as the client allowed it to appear."""
    parts = client.name.split()
    if testimonial.name_display == "full":
        return client.name
    if testimonial.name_display == "first":
        return parts[0] if parts else ""
    if testimonial.name_display == "initials":
        return " ".join(p[0].upper() + "." for p in parts)
    return ""


def from_feedback(response, client: Client, country: str, form) -> dict:
    """Step two of a happy customer's answer: their testimonial and their friends.
    Returns the problems by field; nothing is saved unless there are none."""
    errors: dict = {}
    text = (form.get("testimonial") or "").strip()
    if len(text) > TEXT_MAX:
        errors["testimonial"] = str(_l("Please keep it under %(max)d characters.", max=TEXT_MAX))
    friends = read_friends(form, country, client, errors)
    consent = form.get("friend_consent") == "1"
    if friends and not consent:
        errors["friend_consent"] = str(_l("Tick this box: we only contact friends who agreed to it."))
    if errors:
        return errors
    if text:
        save_testimonial(client, text, form.get("name_display", "first"), form.get("may_publish") == "1",
                         response.id)
    made = []
    visit = _kiosk_visit(response) if friends else None
    if visit is not None:  # answered on the seller's phone at the delivery: the visit asked and obtained them
        mark_asked(visit, visit.seller_id)
    for friend in friends:
        already = _existing(friend)
        if already is not None and db.session.execute(select(Referral.id).where(
                Referral.feedback_response_id == response.id, Referral.prospect_id == already.id)).first():
            continue  # the same friend sent twice from the same answer
        made.append(add_referral(client, friend, source="feedback", friend_consent=consent,
                                 feedback_response_id=response.id,
                                 activity_id=visit.id if visit is not None else None))
    announce_referrals(client, made)
    db.session.commit()
    return {}


# --- the referrals list, its filters and its export --------------------------------------------

STATUS_FLOW = ("new", "contacted", "meeting", "converted", "lost")


@dataclass
class ReferralFilters:
    days: int | None = 90           # None: all time (or the custom period below)
    status: str | None = None
    seller_id: int | None = None
    territory_id: int | None = None
    portfolio_id: int | None = None
    date_from: date | None = None   # a custom period, both days included, in the business's calendar
    date_to: date | None = None
    zone: str = "UTC"               # the business's time zone, for the custom period's days


def referral_query(user, f: ReferralFilters, columns=None):
    """(referral, referrer, prospect) rows, newest first. The seller, territory and
    portfolio are the referred person's (who follows them up); restricted sellers see
    the referrals of their own clients and prospects. ``columns(referrer, prospect)``
    selects plain columns instead (the export: no ORM object per row)."""
    referrer, prospect = aliased(Client), aliased(Client)
    stmt = (select(*(columns(referrer, prospect) if columns else (Referral, referrer, prospect)))
            .select_from(Referral)
            .join(referrer, referrer.id == Referral.referrer_id)
            .join(prospect, prospect.id == Referral.prospect_id))
    if f.days:
        stmt = stmt.where(Referral.created_at >= utcnow() - timedelta(days=f.days))
    if f.date_from or f.date_to:
        zone = ZoneInfo(f.zone)
        if f.date_from:
            stmt = stmt.where(Referral.created_at >= datetime.combine(f.date_from, time(0), tzinfo=zone))
        if f.date_to:
            stmt = stmt.where(Referral.created_at < datetime.combine(f.date_to + timedelta(days=1), time(0),
                                                                    tzinfo=zone))
    if f.status in STATUS_FLOW:
        stmt = stmt.where(Referral.status == f.status)
    if restricted_to_own(user):
        stmt = stmt.where(or_(prospect.seller_id == user.id, referrer.seller_id == user.id))
    if f.seller_id:
        stmt = stmt.where(prospect.seller_id == f.seller_id)
    if f.territory_id:
        stmt = stmt.where(prospect.territory_id == f.territory_id)
    if f.portfolio_id:
        stmt = stmt.where(prospect.portfolio_id == f.portfolio_id)
    return stmt.order_by(Referral.created_at.desc(), Referral.id.desc())


def veiled_for(user):
    """For a seller restricted to their own clients (issue 20, finding 5): a function
    telling whether a referral's prospect, by its responsible seller's id, is another
    seller's client. Such a prospect stays unnamed to them: no "already in your client
    book", no seller, territory, portfolio or sales in the list, the export or the
    messages, so a referral cannot be used to learn who else is a client. Everyone else
    sees everything (the function always says False)."""
    if not restricted_to_own(user):
        return lambda seller_id: False
    own = user.id
    return lambda seller_id: seller_id != own


def veiled_referrals(user, referrals) -> set[int]:
    """The ids of ``referrals`` whose prospect ``user`` may not learn about."""
    veil = veiled_for(user)
    ids = {r.prospect_id for r in referrals if r.prospect_id}
    if not ids:
        return set()
    sellers = dict(db.session.execute(select(Client.id, Client.seller_id).where(Client.id.in_(ids))).all())
    return {r.id for r in referrals if veil(sellers.get(r.prospect_id))}


def set_status(referral: Referral, status: str) -> None:
    if status not in STATUS_FLOW:
        raise FieldError("status", str(_l("Choose one from the list.")))
    referral.status = status
    referral.converted_at = utcnow() if status == "converted" else None
    db.session.commit()
    referrer = db.session.get(Client, referral.referrer_id)
    if referrer is not None:
        refresh_client(referrer)  # converted referrals count on the referrer's ladder
        db.session.commit()


def add_by_hand(referrer: Client, name: str, contact: str, country: str, source: str, friend_consent: bool,
                actor_id: int) -> Referral:
    """A referral a seller writes down during a visit or a call."""
    friend = read_friend(name, contact, country, referrer)
    if friend.empty:
        raise FieldError("name", str(_l("Write your friend's name.")))
    if friend.errors:
        field_name, message = next(iter(friend.errors.items()))
        raise FieldError(field_name, message)
    if not friend_consent:
        raise FieldError("friend_consent", str(_l("Only with their consent: ask the client whether their friend "
                                                  "agreed to be contacted.")))
    referral = add_referral(referrer, friend, source=source if source in ("visit", "call", "manual") else "manual",
                            friend_consent=True, created_by_id=actor_id)
    announce_referrals(referrer, [referral], actor_id)
    db.session.commit()
    return referral


# --- testimonials: typed by a seller, reviewed, revoked, published on the wall ------------------

def add_by_seller(client: Client, form, actor_id: int | None = None) -> tuple[Testimonial | None, dict]:
    """A testimonial a seller types with the client's consent recorded. Returns the
    testimonial, or None and the problems by field (nothing saved)."""
    errors: dict = {}
    text = (form.get("text") or "").strip()
    if not text:
        errors["text"] = str(_l("Write what the client said."))
    elif len(text) > TEXT_MAX:
        errors["text"] = str(_l("Please keep it under %(max)d characters.", max=TEXT_MAX))
    if form.get("name_display") not in NAME_DISPLAYS:
        errors["name_display"] = str(_l("Choose one from the list."))
    where = form.get("publish_where") or "both"
    if where not in PUBLISH_PLACES:
        errors["publish_where"] = str(_l("Choose one from the list."))
    if form.get("consent") != "1":
        errors["consent"] = str(_l("Only with the client's consent: ask them, then tick this box."))
    if errors:
        return None, errors
    testimonial = save_testimonial(client, text, form["name_display"], form.get("may_publish") == "1", None,
                                   source="seller", publish_where=where, actor_id=actor_id)
    db.session.commit()
    return testimonial, {}


def review(testimonial: Testimonial, decision: str, reviewer_id: int) -> None:
    """A manager approves or rejects; who and when are kept. A revoked one stays down."""
    if decision not in ("approved", "rejected"):
        raise FieldError("decision", str(_l("Choose one from the list.")))
    if testimonial.revoked_at is not None:
        raise FieldError("decision", str(_l("The client revoked their consent: this testimonial cannot be "
                                            "published.")))
    testimonial.status = decision
    testimonial.reviewed_by_id = reviewer_id
    testimonial.reviewed_at = utcnow()
    _rerank(testimonial.client_id, reviewer_id)
    db.session.commit()


def _rerank(client_id: int, actor_id: int | None = None) -> None:
    """A testimonial published (or no longer) counts on the client's ladder like a
    converted referral: recompute the tier, which writes the history. The caller commits."""
    db.session.flush()
    client = db.session.get(Client, client_id)
    if client is not None and client.deleted_at is None:
        today = business_today(db.session.get(Business, client.tenant_id))
        refresh_client(client, today, db.session.get(User, actor_id) if actor_id else None)


def revoke(testimonial: Testimonial) -> None:
    """The client took their consent back: off the wall at once, for good."""
    if testimonial.revoked_at is None:
        testimonial.revoked_at = utcnow()
        _rerank(testimonial.client_id)
        db.session.commit()


def published(place: str = "wall"):
    """The testimonials a public page shows, with their clients: approved, allowed, not
    revoked, allowed on that ``place`` ("wall": the wall page, "website": the embed on
    the business's website), newest first."""
    return (select(Testimonial, Client).join(Client, Client.id == Testimonial.client_id)
            .where(Testimonial.status == "approved", Testimonial.may_publish.is_(True),
                   Testimonial.publish_where.in_(SHOWN_ON[place]),
                   Testimonial.revoked_at.is_(None), Client.deleted_at.is_(None))
            .order_by(Testimonial.created_at.desc(), Testimonial.id.desc()))


def queue(user):
    """(testimonial, client) for the review queue: pending first, then newest. Restricted
    sellers see their own clients' only."""
    stmt = select(Testimonial, Client).join(Client, Client.id == Testimonial.client_id)
    if restricted_to_own(user):
        stmt = stmt.where(Client.seller_id == user.id)
    pending_first = case((Testimonial.revoked_at.is_not(None), 2), (Testimonial.status == "pending", 0), else_=1)
    return stmt.order_by(pending_first, Testimonial.created_at.desc(), Testimonial.id.desc())


def new_wall_key() -> str:
    return secrets.token_urlsafe(32)  # 256 bits (TOK-1)


def referral_settings():
    """This business's settings row, made (with a fresh wall key) the first time it is needed."""
    row = db.session.execute(select(ReferralSettings)).scalar_one_or_none()
    if row is None:
        row = ReferralSettings(wall_key=new_wall_key(), reward_kind="none")
        db.session.add(row)
        try:
            db.session.commit()
        except IntegrityError:  # two first visits at once: the other one's row wins
            db.session.rollback()
            row = db.session.execute(select(ReferralSettings)).scalar_one()
    return row


def rotate_wall_key():
    """A new key: the old wall and embed links stop working at once."""
    row = referral_settings()
    row.wall_key = new_wall_key()
    db.session.commit()
    return row


def tenant_for_wall_key(key: str) -> int | None:
    """The business behind a public wall key, found before any tenant is bound."""
    if not key or len(key) > 64:
        return None
    with identity_lookup():
        return db.session.execute(select(ReferralSettings.tenant_id)
                                  .where(ReferralSettings.wall_key_hash == hash_secret(key))).scalar_one_or_none()


# --- personal referral links ------------------------------------------------------------------

def referral_code(client: Client, create: bool = False):
    """The client's personal referral code (made on request, once)."""
    found = db.session.execute(select(ReferralCode).where(ReferralCode.client_id == client.id)).scalar_one_or_none()
    if found is None and create:
        # 256 bits, like every public token (TOK-1); codes printed before stay valid.
        found = ReferralCode(client_id=client.id, code=secrets.token_urlsafe(32), created_at=utcnow())
        db.session.add(found)
        db.session.commit()
    elif found is not None and found.code is None:
        # Sealed under a SECRET_KEY that is gone (no SECRET_KEY_FALLBACKS): it still opens
        # /r/<code> but cannot be shown. Shown as "no link yet"; making one replaces it.
        if not create:
            return None
        found.code, found.created_at = secrets.token_urlsafe(32), utcnow()
        db.session.commit()
    return found


def owner_of_code(code: str) -> tuple[int, int] | None:
    """(tenant id, referrer's client id) behind a public referral code, found before any
    tenant is bound."""
    if not code or len(code) > 64:
        return None
    with identity_lookup():
        row = db.session.execute(select(ReferralCode.tenant_id, ReferralCode.client_id)
                                 .where(ReferralCode.code_hash == hash_secret(code))).first()
    return (row[0], row[1]) if row else None


def from_link(referrer: Client, name: str, contact: str, country: str, consent: bool) -> dict:
    """A friend leaves their own contact on the referrer's link page. Returns problems by
    field; saves nothing unless there are none."""
    friend = read_friend(name, contact, country, referrer)
    errors = dict(friend.errors)
    if (friend.email and friend.email == (referrer.email or "").lower()) or (
            friend.phone and friend.phone in (referrer.phone, referrer.whatsapp)):
        errors["contact"] = str(_l("This link is %(name)s's, for their friends: it cannot refer %(name)s.",
                                   name=referrer.name.split(" ")[0]))
    if friend.empty:
        errors["name"] = str(_l("Write your name."))
    if not consent:
        errors["consent"] = str(_l("Tick this box so we may contact you."))
    if errors:
        return errors
    existing = _existing(friend)
    if existing is not None and db.session.execute(select(Referral.id).where(
            Referral.referrer_id == referrer.id, Referral.prospect_id == existing.id)).first():
        return {}  # the same friend twice: one referral
    announce_referrals(referrer, [add_referral(referrer, friend, source="link", friend_consent=True)])
    db.session.commit()
    return {}


# --- the reward policy ---------------------------------------------------------------------------

def save_reward_policy(kind: str, text: str) -> None:
    if kind not in REWARD_KINDS:
        raise FieldError("reward_kind", str(_l("Choose one from the list.")))
    text = (text or "").strip()
    if kind != "none" and not text:
        raise FieldError("reward_text", str(_l("Say what the client gets, for example: a tenth off their next purchase.")))
    if len(text) > 500:
        raise FieldError("reward_text", str(_l("Use at most %(max)d characters.", max=500)))
    row = referral_settings()
    row.reward_kind, row.reward_text = kind, (text if kind != "none" else None)
    db.session.commit()


def mark_reward(referral: Referral, delivered: bool) -> None:
    """The referrer got (or, undone, did not yet get) the business's thank-you. Only a
    referral that became a client earns it."""
    if delivered and referral.status != "converted":
        raise FieldError("reward", str(_l("The reward is for referrals who became clients.")))
    referral.reward_delivered_at = utcnow() if delivered else None
    db.session.commit()


# --- the delivery moment (article 004) ------------------------------------------------------------

SATISFIED = 4  # "Satisfied" or "Very satisfied" on the visit's outcome


def delivery_moment(activity) -> bool:
    """A delivery visit logged done with a satisfied client: the moment to ask (rule 8)."""
    return (activity.purpose == "delivery" and activity.status == "done"
            and (activity.satisfaction or 0) >= SATISFIED)


def mark_asked(activity, actor_id: int | None) -> ReferralAsk:
    """The seller asked this visit's client for referrals (once per visit, whatever the
    answer; a second ask, or two at once, keeps the first). The caller commits."""
    def found():
        return db.session.execute(select(ReferralAsk).where(ReferralAsk.activity_id == activity.id)
                                  ).scalar_one_or_none()

    ask = found()
    if ask is not None:
        return ask
    ask = ReferralAsk(activity_id=activity.id, client_id=activity.client_id, asked_by_id=actor_id)
    try:
        with db.session.begin_nested():
            db.session.add(ask)
    except IntegrityError:  # the same visit asked at the same moment from another tab
        ask = found()
    return ask


def _kiosk_visit(response):
    """The delivery visit whose kiosk took this answer (a link made by "hand the phone to
    the client" names the visit's sale), or None for any other link."""
    link = db.session.get(FeedbackLink, response.link_id)
    if link is None or link.sent_by != "kiosk" or link.sale_id is None:
        return None
    return db.session.execute(select(Activity).where(
        Activity.sale_id == link.sale_id, Activity.client_id == link.client_id, Activity.purpose == "delivery",
        Activity.status == "done").order_by(Activity.id.desc()).limit(1)).scalar_one_or_none()


def asked_at_visit(activity) -> tuple[ReferralAsk | None, list[Referral]]:
    """Whether referrals were asked at this visit, and the referrals it obtained."""
    ask = db.session.execute(select(ReferralAsk).where(ReferralAsk.activity_id == activity.id)).scalar_one_or_none()
    made = db.session.execute(select(Referral).where(Referral.activity_id == activity.id)
                              .order_by(Referral.id)).scalars().all()
    return ask, list(made)


def from_visit(activity, client: Client, country: str, form, actor_id: int) -> tuple[list[Referral], dict]:
    """Friends the client names to the seller at the visit (up to ``MAX_FRIENDS``, a name
    and a phone or e-mail each, with the client's word that they agreed to be
    contacted), recorded as the client's referrals obtained at this visit. "Nobody for
    now" records that the seller asked. Returns the referrals made and the problems by
    field; nothing is saved unless there are none."""
    if form.get("nobody") == "1":
        mark_asked(activity, actor_id)
        db.session.commit()
        return [], {}
    errors: dict = {}
    friends = read_friends(form, country, client, errors)
    if not friends and not errors:
        errors["friend_name_0"] = str(_l("Write a friend's name and phone or e-mail, or choose \"Nobody for now\"."))
    if friends and form.get("friend_consent") != "1":
        errors["friend_consent"] = str(_l("Only with their consent: ask the client whether their friends agreed "
                                          "to be contacted, then tick this box."))
    if errors:
        return [], errors
    mark_asked(activity, actor_id)
    made = []
    for friend in friends:
        already = _existing(friend)
        if already is not None and db.session.execute(select(Referral.id).where(
                Referral.activity_id == activity.id, Referral.prospect_id == already.id)).first():
            continue  # the same friend twice at the same visit: one referral
        made.append(add_referral(client, friend, source="visit", friend_consent=True, created_by_id=actor_id,
                                 activity_id=activity.id))
    announce_referrals(client, made, actor_id)
    db.session.commit()
    return made, {}


# --- good news on the home page ------------------------------------------------------------------

NEWS_DAYS = 30


@dataclass
class GoodNews:
    testimonials: int = 0       # waiting for approval
    referrals: int = 0          # new (not yet contacted), made in the last NEWS_DAYS days
    latest: list = field(default_factory=list)  # (referral name, referrer name), newest first


def good_news(user) -> GoodNews:
    """What the reader should see on "Your day": testimonials waiting for approval and
    new referrals to contact. Managers see the business's; a seller the ones of the
    clients they are responsible for (their clients' testimonials, the prospects they
    follow up). Two statements."""
    if not user.has_role("owner", "manager", "seller"):
        return GoodNews()
    mine = user.role == "seller"
    referrer, prospect = aliased(Client), aliased(Client)
    waiting = (select(func.count()).select_from(Testimonial).join(Client, Client.id == Testimonial.client_id)
               .where(Testimonial.status == "pending", Testimonial.revoked_at.is_(None), Client.deleted_at.is_(None),
                      *((Client.seller_id == user.id,) if mine else ())))
    fresh = (select(Referral.name, referrer.name).select_from(Referral)
             .join(referrer, referrer.id == Referral.referrer_id).join(prospect, prospect.id == Referral.prospect_id)
             .where(Referral.status == "new", Referral.created_at >= utcnow() - timedelta(days=NEWS_DAYS),
                    prospect.deleted_at.is_(None), *((prospect.seller_id == user.id,) if mine else ())))
    testimonials, referrals = db.session.execute(select(
        waiting.scalar_subquery(),
        select(func.count()).select_from(fresh.subquery()).scalar_subquery())).one()
    latest = db.session.execute(fresh.order_by(Referral.created_at.desc(), Referral.id.desc()).limit(3)).all() \
        if referrals else []
    return GoodNews(int(testimonials), int(referrals), [tuple(row) for row in latest])


@share_form.connect
def _share_form_values(_sender) -> dict:
    return {"name_displays": NAME_DISPLAY_LABELS, "max_friends": MAX_FRIENDS}


@answer_shared.connect
def _save_shared(response, *, client: Client, country: str, form) -> dict:
    return from_feedback(response, client, country, form)
