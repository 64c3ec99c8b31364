"""Rules 4, 5 and 8 at the public end: the customer answers, chooses the callback, and
a detractor is acted on at once."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import mail
from ..accounts import tokens
from ..accounts.models import Business, User
from ..clients.models import Client
from ..contact import client_language
from ..db import utcnow
from ..extensions import db
from ..i18n import business_today
from ..validation import FieldError, multi_line, single_line
from ..visits.models import Activity
from .models import FeedbackLink, FeedbackResponse, FeedbackSettings

FEEDBACK = "feedback"
LINK_DAYS = 30
CORRECTION_HOURS = 24
MIN_FILL_SECONDS = 3
COMMENT_MAX = 2000
DETRACTOR_MAX = 6
SHARE_MIN = 7  # passives and promoters are offered a testimonial and referrals
# the hour (business's clock) each callback window ends: after it, the call is for tomorrow
WINDOW_ENDS = {"morning": 12, "midday": 15, "afternoon": 19, "evening": 21}


def local_now(business: Business) -> datetime:
    return datetime.now(ZoneInfo(business.timezone))


def callback_due(window: str | None, now: datetime) -> date:
    """The day of the call: today while the chosen window is still ahead (or not over),
    else tomorrow; "any time" is today."""
    end = WINDOW_ENDS.get(window or "any")
    if end is not None and now.hour >= end:
        return now.date() + timedelta(days=1)
    return now.date()


def settings() -> FeedbackSettings:
    """The business's link lifetime and automatic sending (defaults until changed)."""
    found = db.session.execute(select(FeedbackSettings)).scalar_one_or_none()
    return found or FeedbackSettings(link_days=LINK_DAYS, auto_days=0)


def save_settings(link_days: int, auto_days: int) -> None:
    current = db.session.execute(select(FeedbackSettings)).scalar_one_or_none()
    if current is None:
        current = FeedbackSettings()
        db.session.add(current)
    current.link_days, current.auto_days = link_days, auto_days
    db.session.commit()


# Ways a link leaves the moment it is made: e-mailed by a person or a job, handed over on
# the seller's phone at the delivery (the kiosk). A "share" link is only shown to the
# seller; it is sent when they press WhatsApp, copy or share (``mark_sent``), or when the
# customer opens it (``mark_opened``).
SENT_ON_CREATION = ("email", "auto", "kiosk")


def create_link(client: Client, actor: User | None, sent_by: str = "link", sale_id: int | None = None) -> str:
    """A new feedback link for a client (``actor`` None: sent by a scheduled job);
    returns the secret (only its hash is kept). It lives as long as the business says."""
    lifetime = timedelta(days=settings().link_days)
    now = utcnow()
    link = FeedbackLink(client_id=client.id, created_by_id=actor.id if actor else None, sent_by=sent_by, sale_id=sale_id,
                        expires_at=now + lifetime, sent_at=now if sent_by in SENT_ON_CREATION else None)
    db.session.add(link)
    db.session.flush()
    secret = tokens.issue(FEEDBACK, client.tenant_id, link.id, lifetime)
    db.session.commit()
    return secret


def send_again(old: FeedbackLink, client: Client, actor: User | None, sent_by: str) -> tuple[str, bool]:
    """The same request once more. Only the old link's hash is kept, so it cannot be shown
    again: a fresh link is made (about the same sale), and the old one, if nobody answered
    it and it still works, is revoked so that only one link of the request floats around.
    Returns (the new secret, whether the old link was revoked)."""
    answered = db.session.execute(select(FeedbackResponse.id).where(FeedbackResponse.link_id == old.id)).first()
    if answered is not None:
        raise FieldError("link", str(_l("This client already answered that link.")))
    revoked = old.revoked_at is None and utcnow() < old.expires_at
    if revoked:
        old.revoked_at = utcnow()
        tokens.retire(FEEDBACK, old.tenant_id, old.id)
    return create_link(client, actor, sent_by=sent_by, sale_id=old.sale_id), revoked


def request_message(client: Client, business: Business, url: str) -> str:
    """The message that carries the link, in the client's language, greeting them by the
    name that reads naturally (a person's first name, a company's name)."""
    from flask_babel import gettext

    from ..contact import greeting_name

    with force_locale(client_language(client, business)):
        return gettext("Hello %(name)s, thank you for choosing %(business)s. How did we do? It takes one minute: "
                       "%(url)s", name=greeting_name(client), business=business.name, url=url)


def email_link(client: Client, business: Business, url: str) -> None:
    """E-mail the link with one-click 0-10 scores, in the client's language (else the
    business's)."""
    from flask_babel import gettext

    from ..contact import greeting_name

    mail.send_email(client.email, lambda: gettext("How did we do, %(name)s?", name=greeting_name(client)),
                    "feedback_request", client_language(client, business), client=client, business=business,
                    url=url, scores=range(11), greeting=greeting_name(client),
                    logo_url=mail.logo_url(business, url), reply_to=mail.owner_address(business.id))


LINKS_SHOWN = 20


def link_status(link: FeedbackLink, answered: bool, now: datetime) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if now >= link.expires_at:
        return "expired"
    return "answered" if answered else "active"


def links_of(client: Client) -> list[tuple[FeedbackLink, str]]:
    """The client's latest links, newest first, each with where it stands."""
    rows = db.session.execute(
        select(FeedbackLink, FeedbackResponse.id).outerjoin(FeedbackResponse, FeedbackResponse.link_id == FeedbackLink.id)
        .where(FeedbackLink.client_id == client.id).order_by(FeedbackLink.id.desc()).limit(LINKS_SHOWN)).all()
    now = utcnow()
    return [(link, link_status(link, answer_id is not None, now)) for link, answer_id in rows]


def mark_sent(link: FeedbackLink) -> None:
    """The seller sent the link from their phone (WhatsApp, copy, share sheet): from now
    on it counts among the links sent. The first time only."""
    if link.sent_at is None:
        link.sent_at = utcnow()
        db.session.commit()


def mark_opened(link: FeedbackLink) -> None:
    """The customer opened the page: the link reached them, whoever sent it and however.
    One conditional UPDATE the first time; later visits write nothing."""
    if link.opened_at is None:
        db.session.execute(update(FeedbackLink).where(FeedbackLink.id == link.id, FeedbackLink.opened_at.is_(None))
                           .values(opened_at=utcnow()))
        db.session.commit()


def revoke(link: FeedbackLink) -> None:
    link.revoked_at = utcnow()
    tokens.retire(FEEDBACK, link.tenant_id, link.id)
    db.session.commit()


def open_link(secret: str):
    """(link, client, business, existing answer) for a live secret, or None. Unknown,
    expired and revoked links are the same None: the page gives no hint which."""
    token, _reason = tokens.check(secret, FEEDBACK)
    if token is None:
        return None
    row = db.session.execute(_open_statement(), {"link_id": token.subject_id}).first()
    if row is None or row[0].revoked_at is not None:
        return None
    link, client, business, answer = row
    if client.deleted_at is not None:
        return None  # a deleted client's links are dead while it is deleted (issue 20, finding 11)
    return link, client, business, answer


@lru_cache(maxsize=1)
def _open_statement():
    """The link, its client, its business and its answer if any: one statement (the
    public page is the most requested page of all), built once."""
    from sqlalchemy import and_, bindparam

    return (select(FeedbackLink, Client, Business, FeedbackResponse)
            .join(Client, and_(Client.id == FeedbackLink.client_id, Client.tenant_id == FeedbackLink.tenant_id))
            .join(Business, Business.id == FeedbackLink.tenant_id)
            .outerjoin(FeedbackResponse, FeedbackResponse.link_id == FeedbackLink.id)
            .where(FeedbackLink.id == bindparam("link_id"))
            .execution_options(pymes_static=True))


STAMP_MAX_AGE = 24 * 3600  # a page left open longer asks to send again, with what was typed


def _stamp_scope(link_secret: str) -> str:
    import hashlib

    return hashlib.sha256((link_secret or "").encode()).hexdigest()[:16]


def form_stamp(link_secret: str = "") -> str:
    """A signed time stamp put in a public form, to drop bots that answer too fast
    (TOK-3). It is bound to the link it was issued on (a hash of the link's secret) and
    lasts ``STAMP_MAX_AGE``: one stamp fetched once cannot be replayed on every link,
    or a day later, to skip the minimum fill time (issue 20, finding 9)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="feedback-form").dumps(
        [int(time.time()), _stamp_scope(link_secret)])


def stamp_verdict(stamp: str, honeypot: str, link_secret: str = "") -> str:
    """"ok"; "bot" (honeypot filled, a forged or another link's stamp, sent too fast:
    dropped silently); or "stale" (a real page left open too long: shown again)."""
    if honeypot:
        return "bot"
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="feedback-form").loads(stamp or "")
    except BadSignature:
        return "bot"
    if isinstance(data, int):
        return "stale"  # a page served before stamps named their link
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], int)):
        return "bot"
    issued, scope = data
    if scope != _stamp_scope(link_secret):
        return "bot"
    age = time.time() - issued
    if age < MIN_FILL_SECONDS:
        return "bot"
    return "stale" if age > STAMP_MAX_AGE else "ok"


def looks_like_a_bot(stamp: str, honeypot: str, link_secret: str = "") -> bool:
    return stamp_verdict(stamp, honeypot, link_secret) != "ok"


def stale_message() -> str:
    return str(_l("This page was open for a long time. Check your answer and send it again."))


def can_correct(answer: FeedbackResponse) -> bool:
    return utcnow() - answer.created_at < timedelta(hours=CORRECTION_HOURS)


# What each way of being contacted needs that the business may not have.
ADDRESS_MAX = 300


def missing_contact(client: Client) -> dict[str, bool]:
    """Per callback channel, whether the business lacks what it needs to use it: a mobile
    number for WhatsApp, any number for a call, an e-mail address, a street address for
    a visit. The public page asks the customer for exactly those."""
    from ..contact import whatsapp_number

    return {"whatsapp": whatsapp_number(client) is None, "phone": not (client.phone or client.whatsapp),
            "email": not client.email, "visit": not (client.address or "").strip()}


def read_given_contact(channel: str, raw: str, country: str) -> str:
    """The number or address the customer typed for ``channel``, checked and normalised;
    a problem is a FieldError on ``contact_<channel>``, in the customer's language."""
    import phonenumbers

    from ..contact import MOBILE_TYPES, phone_example

    field, raw = f"contact_{channel}", single_line(raw or "").strip()
    if channel in ("whatsapp", "phone"):
        shown = phone_example(country)  # a mobile: what most people give, for a call too
        if not raw:
            message = (_l("Write your WhatsApp number so we can write to you.") if channel == "whatsapp"
                       else _l("Write your phone number so we can call you."))
            raise FieldError(field, str(message))
        try:
            number = phonenumbers.parse(raw, country)
        except phonenumbers.NumberParseException:
            number = None
        valid = number is not None and phonenumbers.is_valid_number(number)
        if not valid or (channel == "whatsapp" and phonenumbers.number_type(number) not in MOBILE_TYPES):
            message = (_l("This does not look like a mobile number. Write it like %(example)s.", example=shown)
                       if channel == "whatsapp" else
                       _l("This does not look like a phone number. Write it like %(example)s.", example=shown))
            raise FieldError(field, str(message))
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if channel == "email":
        from email_validator import EmailNotValidError, validate_email

        if not raw:
            raise FieldError(field, str(_l("Write your e-mail address so we can write to you.")))
        try:
            return validate_email(raw, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise FieldError(field, str(_l("Write a valid e-mail address, like ana@example.com."))) from None
    address = " ".join(raw.split())
    if len(address) < 5:
        raise FieldError(field, str(_l("Write the address where we can visit you.")))
    if len(address) > ADDRESS_MAX:
        raise FieldError(field, str(_l("Please keep it under %(max)d characters.", max=ADDRESS_MAX)))
    return address


def _save_given_contact(client: Client, channel: str, value: str) -> None:
    """The customer's own number or address goes on the client, where it was missing."""
    if channel == "whatsapp":
        client.whatsapp = value
    elif channel == "phone":
        client.phone = value
    elif channel == "email":
        client.email = value
    else:
        client.address = value


_UNREAD = object()


def _commit_keeping_loaded() -> None:
    """Commit without expiring the loaded objects: what was just written is what they
    hold (the data version bumped on the business is not shown by a public page)."""
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def _checked_answer(score: int | None, comment: str, callback: bool, channel: str | None,
                    window: str | None) -> dict:
    """The answer's values as they are stored, or a ``FieldError`` naming the first field
    that is wrong."""
    from ..clients.models import TIME_WINDOWS

    if score is None or not 0 <= score <= 10:
        raise FieldError("score", str(_l("Choose a number from 0 to 10.")))
    comment = multi_line(comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise FieldError("comment", str(_l("Please keep it under %(max)d characters.", max=COMMENT_MAX)))
    if callback and channel not in ("whatsapp", "phone", "email", "visit"):
        raise FieldError("callback_channel", str(_l("Choose how we should contact you.")))
    if window not in TIME_WINDOWS:
        window = None  # an unknown window from a tampered form: "any time"
    return dict(score=score, comment=comment, callback=bool(callback), callback_channel=channel if callback else None,
                callback_window=window if callback else None)


def answer(link: FeedbackLink, client: Client, *, score: int | None, comment: str, callback: bool,
           channel: str | None, window: str | None, language: str, given_contact: str = "",
           country: str = "CL", existing=_UNREAD) -> FeedbackResponse:
    """Save the customer's answer (or correct it within 24 hours) and act on it. A
    callback by a channel the business cannot use yet needs ``given_contact`` (the
    customer's number or address, read in ``country``'s numbering). ``existing`` is the
    link's answer when the caller has just read it (the public page reads it with the
    link): no second look-up. The answer, its link, client and business stay loaded after
    the commit (the thank-you page reads them: no round trip to read back what was written)."""
    values = _checked_answer(score, comment, callback, channel, window)
    values["language"] = language
    given = None
    if callback and missing_contact(client)[channel]:
        given = read_given_contact(channel, given_contact, country)
    if given is not None:
        _save_given_contact(client, channel, given)
        values["given_contact"] = given
    if existing is _UNREAD:
        existing = db.session.execute(select(FeedbackResponse).where(FeedbackResponse.link_id == link.id)
                                      ).scalar_one_or_none()
    if existing is None:
        response = FeedbackResponse(link_id=link.id, client_id=client.id, **values)
        db.session.add(response)
        try:
            db.session.flush()
        except IntegrityError:  # a second submit won the race: this one becomes a correction
            db.session.rollback()
            existing = db.session.execute(select(FeedbackResponse).where(FeedbackResponse.link_id == link.id)
                                          ).scalar_one()
        else:
            complaint = _act_on(response, client, first=True)
            _commit_keeping_loaded()
            if complaint is not None:
                _tell_managers(response, client, complaint)  # after the commit: never announce what was rolled back
            return response
    if not can_correct(existing):
        raise FieldError("score", str(_l("This answer can no longer be changed.")))
    was_callback = existing.callback
    for key, value in values.items():
        setattr(existing, key, value)
    complaint = _act_on(existing, client, first=False, had_callback=was_callback)
    _commit_keeping_loaded()
    if complaint is not None:
        _tell_managers(existing, client, complaint)
    return existing


def _act_on(response: FeedbackResponse, client: Client, first: bool, had_callback: bool = False):
    """A callback request becomes a contact in the seller's agenda; a detractor opens a
    complaint owned by the responsible seller, and the managers hear about it (rule 4:
    act immediately). Returns the complaint opened, if any."""
    business = db.session.get(Business, client.tenant_id)
    today = business_today(business)
    from ..clients.services import refresh_client

    db.session.flush()
    refresh_client(client, today)  # the latest score is on the ladder (an apostle's needs a high one)
    _follow_callback(response, client, business, first, had_callback)
    if response.score <= DETRACTOR_MAX:
        return _open_detractor_case(response, client, business, first)
    return None


def _follow_callback(response: FeedbackResponse, client: Client, business: Business, first: bool,
                     had_callback: bool) -> None:
    """The agenda follows the answer's callback: planned, kept, dropped or planned again."""
    if response.callback:
        # the customer said how and when: that is their preference from now on
        client.preferred_channel = response.callback_channel
        client.preferred_time = response.callback_window or "any"
    if not first and had_callback:
        if response.callback:
            _follow_corrected_callback(response, client, business)
        else:  # corrected to "no callback": the item this answer put in the agenda is dropped
            planned = _callback_of_answer(response, client, ("planned",))
            if planned is not None:
                planned.status = "cancelled"
        return
    if not response.callback:
        return
    if not first:
        # Switched off and on again within the correction window: the same agenda item,
        # planned again, and no second notification (issue 20, finding 8).
        again = _callback_of_answer(response, client, ("planned", "cancelled"))
        if again is not None:
            again.status = "planned"
            _follow_corrected_callback(response, client, business)
            return
    _plan_callback(response, client, business)


def _plan_callback(response: FeedbackResponse, client: Client, business: Business) -> None:
    """A new call or visit in the responsible seller's agenda, and the seller told."""
    from ..notifications.services import notify

    kind = "visit" if response.callback_channel == "visit" else "call"
    with force_locale(business.language):  # the seller reads the note, not the customer
        note = _callback_note(response)
    db.session.add(Activity(client_id=client.id, seller_id=client.seller_id, kind=kind, purpose="callback",
                            channel=response.callback_channel, time_window=response.callback_window or "any",
                            due_on=callback_due(response.callback_window, local_now(business)), notes=note))
    if client.seller_id:
        notify([client.seller_id], "callback_requested",
               {"client": client.name, "client_id": client.id, "channel": response.callback_channel,
                "window": response.callback_window}, url=url_for("clients.show", client_id=client.id))


def _open_detractor_case(response: FeedbackResponse, client: Client, business: Business, first: bool):
    """A detractor's complaint, owned by the responsible seller, the managers told; none
    when a corrected answer's case is already open."""
    from ..complaints.models import Complaint
    from ..complaints.services import open_complaint
    from ..notifications.services import notify

    if not first and db.session.execute(select(Complaint.id).where(
            Complaint.feedback_response_id == response.id)).first():
        return None  # corrected, still unhappy: the case is already open
    link = db.session.get(FeedbackLink, response.link_id)
    with force_locale(business.language):
        description = response.comment or str(_l("Gave %(score)d out of 10 without a comment.",
                                                 score=response.score))
    complaint = open_complaint(client, None, category="other", description=description, source="feedback",
                               sale_id=link.sale_id if link else None, feedback_response_id=response.id,
                               score_before=response.score, commit=False)
    managers = db.session.execute(select(User.id).where(User.active.is_(True),
                                                        User.role.in_(("owner", "manager")))).scalars().all()
    notify([*managers, *([complaint.owner_id] if complaint.owner_id else [])], "complaint_opened",
           {"client": client.name, "client_id": client.id, "score": response.score, "complaint_id": complaint.id},
           url=url_for("complaints.show", complaint_id=complaint.id))
    return complaint


def _callback_of_answer(response: FeedbackResponse, client: Client, statuses: tuple) -> Activity | None:
    """The callback this answer put in the agenda (made since the answer was first
    saved), if it is still in one of ``statuses``."""
    return db.session.execute(
        select(Activity).where(Activity.client_id == client.id, Activity.purpose == "callback",
                               Activity.created_at >= response.created_at, Activity.status.in_(statuses))
        .order_by(Activity.id.desc())).scalars().first()


def _follow_corrected_callback(response: FeedbackResponse, client: Client, business: Business) -> None:
    """A corrected answer that changed how or when: the planned callback follows it."""
    planned = db.session.execute(
        select(Activity).where(Activity.client_id == client.id, Activity.purpose == "callback",
                               Activity.status == "planned").order_by(Activity.id.desc())).scalars().first()
    if planned is None or (planned.channel, planned.time_window) == (response.callback_channel,
                                                                     response.callback_window or "any"):
        return
    planned.kind = "visit" if response.callback_channel == "visit" else "call"
    planned.channel, planned.time_window = response.callback_channel, response.callback_window or "any"
    planned.due_on = callback_due(response.callback_window, local_now(business))
    with force_locale(business.language):
        planned.notes = _callback_note(response)


def callback_promise(response: FeedbackResponse, business: Business) -> dict | None:
    """What the thank-you page promises a customer who asked to be contacted: the
    channel, the day (today or tomorrow, where the business is) and the window's hours."""
    if not response.callback or not response.callback_channel:
        return None
    now = local_now(business)
    day = callback_due(response.callback_window, now)
    return {"channel": response.callback_channel, "tomorrow": day > now.date(),
            "window": response.callback_window if response.callback_window in WINDOW_HOURS else None}


# each window's hours, for sentences that read without a parenthesis in a parenthesis
WINDOW_HOURS = {"morning": (9, 12), "midday": (12, 15), "afternoon": (15, 19), "evening": (19, 21)}


def _callback_note(response: FeedbackResponse) -> str:
    from ..clients.forms import CHANNEL_LABELS, TIME_LABELS

    parts = [str(_l("Asked to be contacted"))]
    if response.callback_channel:
        parts.append(str(CHANNEL_LABELS[response.callback_channel]))
    if response.callback_window:
        parts.append(str(TIME_LABELS.get(response.callback_window, "")))
    parts.append(str(_l("score %(score)d", score=response.score)))
    return " · ".join(p for p in parts if p)


def _tell_managers(response: FeedbackResponse, client: Client, complaint) -> None:
    from ..accounts.services import external_url

    managers = db.session.execute(select(User).where(User.active.is_(True), User.role.in_(("owner", "manager")))
                                  ).scalars().all()
    business = db.session.get(Business, client.tenant_id)
    # a reply reaches the person the case was opened for, not no-reply
    owner_email = db.session.execute(select(User.email).where(User.id == complaint.owner_id)).scalar_one_or_none() \
        if complaint.owner_id else None
    for manager in managers:
        mail.send_email(manager.email, lambda: _l("A client is unhappy: %(name)s (%(score)d/10)", name=client.name,
                                                  score=response.score),
                        "detractor", manager.language, user=manager, client=client, response=response,
                        business=business, link=external_url("complaints.show", complaint_id=complaint.id),
                        reply_to=mail.alert_reply_to(client.tenant_id, manager.email, owner_email))


def qr_data_uri(url: str, kind: str) -> str:
    """A QR code of the link (segno), as a data: URI: the secret is shown only once, so
    the code travels in the same page, printable on a delivery note or shown on the phone."""
    import segno

    code = segno.make(url, error="m")
    if kind == "svg":
        return code.svg_data_uri(scale=6, border=2)
    return code.png_data_uri(scale=8, border=2)


def send_after_delivery(echo=lambda message: None, today=None) -> int:
    """Each business that asked for it: send a feedback link ``auto_days`` days after a
    delivery, once per sale. By WhatsApp (the approved template, ``pymes.whatsapp``)
    when the business connected its number and named the template and the client has a
    WhatsApp-capable mobile; else by e-mail to clients with an address. Deliveries missed
    by a day or two (the job did not run) are still sent, within a week; so is a request
    WhatsApp failed to take for a client without e-mail (its link is withdrawn and made
    again on the next run)."""
    from sqlalchemy import delete, or_

    from ..accounts.services import external_url
    from ..sales.models import Sale
    from ..whatsapp.cloud_api import WhatsAppError
    from ..whatsapp.messaging import feedback_sender

    sent = 0
    from ..accounts.services import live_business_ids
    from ..jobs import EachTenant

    run = EachTenant("send-feedback-requests")
    for business_id in live_business_ids():
        with run.tenant(business_id):
            wanted = settings()
            if not wanted.auto_days:
                continue
            business = db.session.get(Business, business_id)
            day = (today or business_today(business)) - timedelta(days=wanted.auto_days)
            whatsapp = feedback_sender()
            reachable = Client.email.is_not(None)
            if whatsapp is not None:
                reachable = or_(reachable, Client.whatsapp.is_not(None), Client.phone.is_not(None))
            already = select(FeedbackLink.sale_id).where(FeedbackLink.sale_id.is_not(None))
            due = db.session.execute(
                select(Sale, Client).join(Client, Client.id == Sale.client_id)
                .where(Sale.delivery_on <= day, Sale.delivery_on > day - timedelta(days=7),
                       reachable, Client.deleted_at.is_(None), Sale.id.not_in(already))
                .order_by(Sale.id)).all()
            for sale, client in due:
                number = whatsapp.number(client) if whatsapp is not None else None
                if number is None and not client.email:
                    continue
                secret = create_link(client, None, sent_by="auto", sale_id=sale.id)
                url = external_url("feedback.public", token=secret)
                if number is not None:
                    try:
                        whatsapp.send(client, business, number, url)
                    except WhatsAppError as error:
                        echo(f"business {business_id}: WhatsApp refused the request for sale {sale.id} ({error.kind})")
                        if not client.email:  # withdraw the link: the next run tries again
                            link = db.session.execute(select(FeedbackLink).where(
                                FeedbackLink.sale_id == sale.id, FeedbackLink.sent_by == "auto")).scalar_one()
                            tokens.retire(FEEDBACK, link.tenant_id, link.id)
                            db.session.execute(delete(FeedbackLink).where(FeedbackLink.id == link.id))
                            db.session.commit()
                            continue
                    else:
                        sent += 1
                        echo(f"business {business_id}: feedback link for sale {sale.id} sent by WhatsApp")
                        continue
                email_link(client, business, url)
                sent += 1
                echo(f"business {business_id}: feedback link for sale {sale.id} e-mailed")
    return run.finish(sent)
