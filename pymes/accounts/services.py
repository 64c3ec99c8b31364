"""Accounts: sign-up, confirmation, sessions, password reset, invitations, team, settings.

Services own the transaction. Each one that sends e-mail commits first, so a message
never announces something that was rolled back."""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import mail
from ..db import utcnow
from ..events import member_deactivated
from ..extensions import db
from ..i18n import business_today
from ..security import hash_password, hash_secret, new_secret, verify_password
from ..tenancy import bind_tenant, current_tenant_id, identity_lookup, require_tenant
from ..validation import FieldError
from . import mfa, tokens
from .models import Business, Invitation, Role, User, UserSession


def external_url(endpoint: str, **values) -> str:
    """Links in e-mails use the configured BASE_URL, never the request's Host (AUTH-4).
    Works in CLI jobs too (the daily digest), where there is no request."""
    if has_request_context():
        path = url_for(endpoint, _external=False, **values)
    else:
        from ..tenancy import bind_tenant, current_tenant_id

        tenant = current_tenant_id()
        with current_app.test_request_context("/"):
            path = url_for(endpoint, _external=False, **values)
        bind_tenant(tenant)  # the throwaway request's teardown unbinds; the job goes on as its tenant
    return current_app.config["BASE_URL"] + path


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    with identity_lookup():
        return db.session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()


# --- sign-up and confirmation --------------------------------------------------------

def sign_up(*, business_name: str, name: str, email: str, password: str, country: str, currency: str,
            timezone: str, language: str) -> None:
    """Create a business and its owner, and e-mail a confirmation link.

    AUTH-3: the caller shows the same answer whether or not the e-mail was known; a
    known address gets an e-mail saying so instead of a second account."""
    email = normalise_email(email)
    existing = find_user_by_email(email)
    if existing is not None:
        hash_password(password)  # the same work as a real sign-up, so timing tells nothing
        _send_account_exists(existing)
        return
    business = Business(name=business_name.strip(), country=country, currency=currency, timezone=timezone,
                        language=language)
    db.session.add(business)
    db.session.flush()
    bind_tenant(business.id)
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), role=Role.OWNER.value,
                language=language)
    mfa.start_grace(user)  # owners: two-step log-in required after the grace period
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same e-mail signed up a moment ago
        db.session.rollback()
        bind_tenant(None)
        return
    secret = tokens.issue(tokens.CONFIRM_EMAIL, business.id, user.id,
                          timedelta(hours=current_app.config["CONFIRM_TOKEN_HOURS"]))
    db.session.commit()
    _send_confirmation(user, secret)


def _send_account_exists(user: User) -> None:
    mail.send_email(user.email, _l("You already have a Fideliza account"), "account_exists", user.language,
                    user=user, login_url=external_url("accounts.login"),
                    reset_url=external_url("accounts.forgot_password"))


def _send_confirmation(user: User, secret: str) -> None:
    mail.send_email(user.email, _l("Confirm your e-mail for Fideliza"), "confirm_email", user.language,
                    user=user, business=user.business,
                    link=external_url("accounts.confirm_email", token=secret),
                    hours=current_app.config["CONFIRM_TOKEN_HOURS"])


def resend_confirmation(user: User) -> None:
    if user.email_confirmed:
        return
    tokens.retire(tokens.CONFIRM_EMAIL, user.tenant_id, user.id)
    secret = tokens.issue(tokens.CONFIRM_EMAIL, user.tenant_id, user.id,
                          timedelta(hours=current_app.config["CONFIRM_TOKEN_HOURS"]))
    db.session.commit()
    _send_confirmation(user, secret)


def confirm_email(secret: str) -> tuple[User | None, str]:
    """Use a confirmation token; returns the confirmed user or ``(None, reason)``."""
    token, reason = tokens.check(secret, tokens.CONFIRM_EMAIL)
    if token is None:
        return None, reason
    user = db.session.get(User, token.subject_id)
    if user is None or not user.active or not tokens.use(token):
        db.session.rollback()
        return None, "used"
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.commit()
    return user, "ok"


# --- sessions --------------------------------------------------------------------------

def start_session(user: User) -> str:
    """Open a server-side session for ``user`` and return its key (kept in the cookie)."""
    key = new_secret()
    days = current_app.config["SESSION_LIFETIME_DAYS"]
    db.session.add(UserSession(user_id=user.id, key_hash=hash_secret(key), expires_at=utcnow() + timedelta(days=days)))
    user.last_login_at = utcnow()
    db.session.commit()
    user.session_key = key
    return key


@lru_cache(maxsize=1)
def _session_statement():
    """The session look-up of every logged-in request, built once (building it cost more
    than running it)."""
    from sqlalchemy import bindparam

    return (select(User, UserSession.id, UserSession.expires_at)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.key_hash == bindparam("key_hash"), UserSession.revoked_at.is_(None),
                   UserSession.expires_at > bindparam("now"), User.active.is_(True))
            .execution_options(pymes_static=True))


@lru_cache(maxsize=1)
def _version_statement():
    from sqlalchemy import bindparam

    return select(Business.data_version).where(Business.id == bindparam("business_id"))


def _session_cache():
    """This worker's kept sessions, or None (no application, or switched off with
    ``SESSION_CACHE = False``)."""
    if not current_app.config.get("SESSION_CACHE", True):
        return None
    return current_app.extensions.get("pymes_sessions")


def _columns(obj) -> dict:
    from sqlalchemy import inspect

    return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}


def _detached(model, values: dict):
    """A detached instance of ``model`` holding ``values`` as loaded (no change to flush)."""
    from sqlalchemy.orm import make_transient_to_detached
    from sqlalchemy.orm.attributes import set_committed_value

    obj = model.__mapper__.class_manager.new_instance()
    for key, value in values.items():
        set_committed_value(obj, key, value)
    make_transient_to_detached(obj)
    return obj


def _kept_user(entry) -> User | None:
    """The user of a kept session, attached to this request's database session, when the
    session is still live: not expired, and its business's data version unchanged.
    Everything that ends a session or changes who may use it bumps that version in the
    same transaction (log-out, a password changed or reset, a member deactivated or
    changed, the business deleted: ``cache.note_change`` and the automatic noting), so a
    session ended on one worker is refused by every other at its next request."""
    from sqlalchemy.orm.attributes import set_committed_value

    tenant_id, user_values, business_values, version, expires_at = entry
    if expires_at <= utcnow():
        return None
    current = db.session.execute(_version_statement(), {"business_id": tenant_id}).scalar_one_or_none()
    if current is None or current != version:
        return None
    user = _detached(User, user_values)
    set_committed_value(user, "business", _detached(Business, business_values))
    return db.session.merge(user, load=False)


def load_session(key: str) -> User | None:
    """The user of a live session key, or None (revoked, expired, deactivated). A session
    this worker has seen live is kept (``_kept_user``): a logged-in page then reads one
    number, its business's data version, instead of the session, user and business."""
    from ..cache import _MISSING

    if not key or len(key) > 100:
        return None
    key_hash = hash_secret(key)
    cache = _session_cache()
    if cache is not None:
        entry = cache.get(key_hash)
        if entry is not _MISSING:
            user = _kept_user(entry)
            if user is not None:
                user.session_key = key
                return user
            cache.discard(key_hash)
    with identity_lookup():
        row = db.session.execute(_session_statement(), {"key_hash": key_hash, "now": utcnow()}).first()
    if row is None:
        return None
    user, _session_id, expires_at = row
    if cache is not None:
        business = user.business
        cache.put(key_hash, (user.tenant_id, _columns(user), _columns(business), business.data_version, expires_at))
    user.session_key = key
    return user


def end_session(key: str | None) -> None:
    if key:
        from ..cache import note_change

        key_hash = hash_secret(key)
        tenant_id = current_tenant_id()
        if tenant_id is None:
            with identity_lookup():
                tenant_id = db.session.execute(select(User.tenant_id).join(UserSession, UserSession.user_id == User.id)
                                               .where(UserSession.key_hash == key_hash)).scalar_one_or_none()
        db.session.execute(update(UserSession).where(UserSession.key_hash == key_hash).values(revoked_at=utcnow()))
        note_change(tenant_id)  # every worker's kept copy of this session is dropped at once
        db.session.commit()
        cache = _session_cache()
        if cache is not None:
            cache.discard(key_hash)


def end_other_sessions(user: User, keep_key: str | None = None) -> None:
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep_key:
        stmt = stmt.where(UserSession.key_hash != hash_secret(keep_key))
    db.session.execute(stmt.values(revoked_at=utcnow()))
    from ..cache import note_change

    note_change(user.tenant_id)  # every worker's kept copies of these sessions are dropped at commit


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; the same work either way (AUTH-3)."""
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    bind_tenant(user.tenant_id)
    return user


# --- password reset ----------------------------------------------------------------------

def request_password_reset_after(response, email: str):
    """AUTH-3: the reset's work (the look-up, the token, the e-mail) runs after the
    response has gone out (``call_on_close``: the server calls it once the answer is
    sent), so a known and an unknown address answer after the same work: the form's
    check and a redirect. Before, a known address took about twice as long."""
    import logging

    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                request_password_reset(email)
            except Exception:  # noqa: BLE001 - after the response: log, never lose the worker
                db.session.rollback()
                logging.getLogger(__name__).exception("password reset e-mail failed")

    response.call_on_close(work)
    return response


def request_password_reset(email: str) -> None:
    """E-mail a 30-minute single-use reset link if the account exists; silent otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    bind_tenant(user.tenant_id)
    secret = tokens.issue(tokens.RESET_PASSWORD, user.tenant_id, user.id,
                          timedelta(minutes=current_app.config["RESET_TOKEN_MINUTES"]))
    db.session.commit()
    mail.send_email(user.email, _l("Reset your Fideliza password"), "reset_password", user.language,
                    user=user, link=external_url("accounts.reset_password", token=secret),
                    minutes=current_app.config["RESET_TOKEN_MINUTES"])


def reset_password(secret: str, password: str) -> tuple[User | None, str]:
    token, reason = tokens.check(secret, tokens.RESET_PASSWORD)
    if token is None:
        return None, reason
    user = db.session.get(User, token.subject_id)
    if user is None or not user.active or not tokens.use(token):
        db.session.rollback()
        return None, "used"
    user.password_hash = hash_password(password)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()  # the link proved the address
    end_other_sessions(user)
    # Every other reset link the user asked for dies with this one (issue 20, finding 6).
    tokens.retire(tokens.RESET_PASSWORD, user.tenant_id, user.id)
    db.session.commit()
    return user, "ok"


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise FieldError("current_password", str(_l("That is not your current password.")))
    user.password_hash = hash_password(new)
    end_other_sessions(user, keep_key=user.session_key)
    # A reset link asked for before the change (perhaps by whoever knew the old password,
    # perhaps lying in a mailbox) no longer works (issue 20, finding 6).
    tokens.retire(tokens.RESET_PASSWORD, user.tenant_id, user.id)
    db.session.commit()


# --- invitations and team ----------------------------------------------------------------

def roles_assignable_by(user: User) -> list[str]:
    if user.role == Role.OWNER.value:
        return [r.value for r in Role]
    if user.role == Role.MANAGER.value:
        return [Role.MANAGER.value, Role.SELLER.value, Role.SERVICE.value]
    return []


def invite(inviter: User, *, email: str, role: str, name: str = "") -> Invitation:
    """Invite someone to the inviter's business, or renew a pending invitation."""
    tid = require_tenant()
    email = normalise_email(email)
    if role not in roles_assignable_by(inviter):
        raise FieldError("role", str(_l("You cannot give that role.")))
    member = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if member is not None:
        raise FieldError("email", str(_l("This person is already in your team.")))
    invitation = db.session.execute(select(Invitation).where(Invitation.email == email)).scalar_one_or_none()
    days = current_app.config["INVITATION_DAYS"]
    if invitation is None:
        invitation = Invitation(email=email, tenant_id=tid)
        db.session.add(invitation)
    invitation.name = name.strip()
    invitation.role = role
    invitation.invited_by_id = inviter.id
    invitation.expires_at = utcnow() + timedelta(days=days)
    invitation.revoked_at = None
    invitation.accepted_at = None
    db.session.flush()
    tokens.retire(tokens.INVITATION, tid, invitation.id)
    secret = tokens.issue(tokens.INVITATION, tid, invitation.id, timedelta(days=days))
    db.session.commit()
    business = inviter.business
    mail.send_email(email, lambda: _l("%(name)s invites you to %(business)s on Fideliza", name=inviter.name,
                                      business=business.name),
                    "invitation", business.language, reply_to=inviter.email, inviter=inviter, business=business,
                    invitation=invitation,
                    link=external_url("accounts.accept_invitation", token=secret), days=days)
    return invitation


def revoke_invitation(invitation: Invitation) -> None:
    invitation.revoked_at = utcnow()
    tokens.retire(tokens.INVITATION, invitation.tenant_id, invitation.id)
    db.session.commit()


def check_invitation(secret: str) -> tuple[Invitation | None, str]:
    invitation, _token, reason = _open_invitation(secret)
    return invitation, reason


def _open_invitation(secret: str):
    token, reason = tokens.check(secret, tokens.INVITATION)
    if token is None:
        return None, None, reason
    invitation = db.session.get(Invitation, token.subject_id)
    if invitation is None or invitation.status != "pending":
        status = invitation.status if invitation is not None else "invalid"
        return None, None, {"accepted": "used", "expired": "expired"}.get(status, "invalid")
    return invitation, token, "ok"


def accept_invitation(secret: str, *, name: str, password: str, language: str) -> tuple[User | None, str]:
    """Create the invitee's account in the inviting business and use the token."""
    invitation, token, reason = _open_invitation(secret)
    if invitation is None:
        return None, reason
    if find_user_by_email(invitation.email) is not None:
        raise FieldError("email", str(_l("This e-mail already has a Fideliza account. Ask whoever invited you "
                                         "to invite another address, or log in with this one.")))
    if not tokens.use(token):
        db.session.rollback()
        return None, "used"
    user = User(email=invitation.email, name=name.strip(), password_hash=hash_password(password),
                role=invitation.role, language=language, email_confirmed_at=utcnow())
    mfa.start_grace(user)
    db.session.add(user)
    invitation.accepted_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None, "used"
    return user, "ok"


def team() -> tuple[list[User], list[Invitation]]:
    members = db.session.execute(select(User).order_by(User.active.desc(), User.name)).scalars().all()
    invitations = db.session.execute(
        select(Invitation).where(Invitation.accepted_at.is_(None)).order_by(Invitation.created_at.desc())
    ).scalars().all()
    return list(members), list(invitations)


def _owners_left(excluding: User) -> int:
    return db.session.execute(
        select(func.count()).select_from(User)
        .where(User.role == Role.OWNER.value, User.active.is_(True), User.id != excluding.id)
    ).scalar_one()


def change_role(actor: User, member: User, role: str) -> None:
    if role not in roles_assignable_by(actor) or (member.role == Role.OWNER.value and actor.role != Role.OWNER.value):
        raise FieldError("role", str(_l("You cannot give that role.")))
    if member.role == Role.OWNER.value and role != Role.OWNER.value and _owners_left(member) == 0:
        raise FieldError("role", str(_l("A business needs at least one owner.")))
    member.role = role
    mfa.start_grace(member)
    db.session.commit()


def set_active(actor: User, member: User, active: bool) -> None:
    if member.id == actor.id:
        raise FieldError("active", str(_l("You cannot deactivate yourself.")))
    if member.role == Role.OWNER.value and actor.role != Role.OWNER.value:
        raise FieldError("active", str(_l("Only an owner can deactivate an owner.")))
    if not active and member.role == Role.OWNER.value and _owners_left(member) == 0:
        raise FieldError("active", str(_l("A business needs at least one owner.")))
    member.active = active
    if not active:
        end_other_sessions(member)
        _hand_over(member)
    db.session.commit()


def _hand_over(member: User) -> None:
    """Rule 10: the clients of a seller who leaves get a new responsible seller and, when
    they were mostly served by them, a handover visit (``visits.handover``, through
    ``events.member_deactivated``)."""
    member_deactivated.send(member, today=business_today(db.session.get(Business, member.tenant_id)))


# --- settings ------------------------------------------------------------------------------

LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}
LOGO_MAX_BYTES = 300 * 1024
LOGO_MAX_SIDE = 2000  # pixels, each side: plenty for a header and an e-mail at 3x


def logo_problem(data: bytes, mime: str) -> str | None:
    """The image's own header, decoded by Pillow without decoding its pixels: a 14 KB
    PNG may declare 60000 x 60000 (3.6 billion pixels, gigabytes in any browser that
    shows the business's page). Refused above ``LOGO_MAX_SIDE`` on a side, or when the
    file is not the image its first bytes claim (issue 20, finding 14)."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    formats = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
    too_big = str(_l("The logo must be at most %(max)d × %(max)d pixels.", max=LOGO_MAX_SIDE))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[formats[mime]]) as image:
                width, height = image.size
                if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
                    return too_big
                image.verify()  # the file's structure and checksums, still without the pixels
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return too_big  # Pillow's own limit (tens of millions of pixels) came first
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return str(_l("The logo could not be read as an image. Save it again as PNG, JPEG or WebP."))
    return None


def sniff_logo(data: bytes) -> str | None:
    """The image type from the file's first bytes (never the browser's claim); SVG is
    refused because it can carry script."""
    for magic, mime in LOGO_TYPES.items():
        if data.startswith(magic) and (mime != "image/webp" or data[8:12] == b"WEBP"):
            return mime
    return None


def update_business(business: Business, *, name: str, currency: str, timezone: str, language: str,
                    logo: bytes | None = None, remove_logo: bool = False) -> None:
    business.name = name.strip()
    business.currency = currency
    business.timezone = timezone
    business.language = language
    if remove_logo:
        business.logo, business.logo_mime = None, None
    elif logo:
        mime = sniff_logo(logo)
        if mime is None:
            raise FieldError("logo", str(_l("The logo must be a PNG, JPEG or WebP image.")))
        if len(logo) > LOGO_MAX_BYTES:
            raise FieldError("logo", str(_l("The logo must be at most 300 KB.")))
        problem = logo_problem(logo, mime)
        if problem:
            raise FieldError("logo", problem)
        business.logo, business.logo_mime = logo, mime
    db.session.commit()


_KEEP = object()


def update_profile(user: User, *, name: str, language: str, timezone=_KEEP) -> None:
    """``timezone``: an IANA zone, or None for the business's; left as it is when not given."""
    user.name = name.strip()
    user.language = language
    if timezone is not _KEEP:
        user.timezone = timezone or None
    db.session.commit()


def live_business_ids() -> list[int]:
    """The businesses the scheduled jobs (digests, escalations, automatic feedback links,
    follow-ups) work for: every one but those whose owner asked to delete them, whose
    team and clients should hear nothing more from us during the grace period."""
    return db.session.execute(select(Business.id).where(Business.deletion_requested_at.is_(None))
                              .order_by(Business.id)).scalars().all()

