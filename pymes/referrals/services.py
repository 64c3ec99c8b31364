"""Referrals and testimonials as the customer leaves them on the feedback page (and, as
the referrals issue lands, from visits and by hand). Each referred friend becomes a
prospect with a responsible seller; a testimonial waits for a manager's approval."""
from __future__ import annotations

from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..clients.models import Client
from ..clients.services import normalise_phone
from ..db import utcnow
from ..extensions import db
from ..territories.models import TerritorySeller
from .models import NAME_DISPLAYS, Referral, Testimonial

MAX_FRIENDS = 3
TEXT_MAX = 1000
NAME_DISPLAY_LABELS = {"full": _l("My full name"), "first": _l("My first name only"), "initials": _l("My initials"),
                       "anonymous": _l("Anonymous")}


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
    friend = Friend(name=(name or "").strip()[:160], contact=(contact or "").strip()[:254])
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
                 feedback_response_id: int | None = None, created_by_id: int | None = None) -> Referral:
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
                        feedback_response_id=feedback_response_id, created_by_id=created_by_id)
    db.session.add(referral)
    return referral


def save_testimonial(client: Client, text: str, name_display: str, may_publish: bool,
                     feedback_response_id: int | None, source: str = "feedback") -> Testimonial:
    """A new testimonial, or the same answer's one corrected (and back to pending)."""
    existing = None
    if feedback_response_id is not None:
        existing = db.session.execute(select(Testimonial).where(
            Testimonial.feedback_response_id == feedback_response_id)).scalar_one_or_none()
    testimonial = existing or Testimonial(client_id=client.id, feedback_response_id=feedback_response_id, source=source)
    testimonial.text = text
    testimonial.name_display = name_display if name_display in NAME_DISPLAYS else "first"
    testimonial.may_publish = may_publish
    testimonial.consent_at = utcnow()
    testimonial.status = "pending"
    testimonial.reviewed_at = testimonial.reviewed_by_id = None
    if existing is None:
        db.session.add(testimonial)
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
    friends = []
    for i in range(MAX_FRIENDS):
        friend = read_friend(form.get(f"friend_name_{i}", ""), form.get(f"friend_contact_{i}", ""), country, client)
        for key, message in friend.errors.items():
            errors[f"friend_{key}_{i}"] = message
        if not friend.empty:
            friends.append(friend)
    consent = form.get("friend_consent") == "1"
    if friends and not consent:
        errors["friend_consent"] = str(_l("Tick this box: we only contact friends who agreed to it."))
    if errors:
        return errors
    if text:
        save_testimonial(client, text, form.get("name_display", "first"), form.get("may_publish") == "1",
                         response.id)
    for friend in friends:
        already = _existing(friend)
        if already is not None and db.session.execute(select(Referral.id).where(
                Referral.feedback_response_id == response.id, Referral.prospect_id == already.id)).first():
            continue  # the same friend sent twice from the same answer
        add_referral(client, friend, source="feedback", friend_consent=consent, feedback_response_id=response.id)
    db.session.commit()
    return {}
