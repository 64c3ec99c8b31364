"""Two-step log-in: a TOTP code (RFC 6238, pyotp) after the password, ten single-use
recovery codes, and the owners' grace period (ASVS 5.0 L2, security.md's known gap).

Who must use it: owners, from ``users.mfa_due_at`` (sign-up, promotion to owner or
migration 0020 + ``MFA_GRACE_DAYS``, 14 by default); until then each log-in tells them
the date. Managers, sellers and service staff may turn it on; nobody else is forced.

What is stored:
- the TOTP secret, encrypted with AES-GCM under a key derived (HKDF-SHA256) from
  ``SECRET_KEY``; values written under a key listed in ``SECRET_KEY_FALLBACKS`` still
  open, so rotating the key does not lock anyone out. The secret is shown only while
  enrolment waits for its first code, never again;
- the time step of the last accepted code: a code (or an older one) is accepted once,
  decided by the database (``UPDATE … WHERE mfa_last_step < step``), so two concurrent
  submits of the same code cannot both pass;
- recovery codes as SHA-256 (80 random bits each, ``security.hash_secret``), used with
  ``UPDATE … WHERE used_at IS NULL``.

Services own the transaction: each function here commits what it changes."""
from __future__ import annotations

import base64
import hmac
import os
import secrets
from datetime import timedelta

import pyotp
from flask import current_app, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from ..db import utcnow
from ..extensions import db
from ..security import hash_secret, verify_password
from ..validation import FieldError
from .models import RecoveryCode, Role, User

ISSUER = "Fideliza"
RECOVERY_CODE_COUNT = 10
# Crockford's base32 alphabet: no I, L, O or U to misread; 16 characters = 80 bits.
_RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECOVERY_LENGTH = 16
# A code from the step before or after the server's clock is accepted (phones drift).
_DRIFT_STEPS = 1
_AAD = b"pymes totp secret"


# --- the secret at rest -----------------------------------------------------------------

def _keys() -> list[bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
    keys = []
    for secret_key in raw:
        material = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
        keys.append(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pymes mfa v1").derive(material))
    return keys


def encrypt_secret(secret: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_keys()[0]).encrypt(nonce, secret.encode(), _AAD)
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(stored: str) -> str:
    """The plain TOTP secret; ValueError when no configured key opens it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not stored or not stored.startswith("v1:"):
        raise ValueError("not an encrypted TOTP secret")
    blob = base64.urlsafe_b64decode(stored[3:])
    for key in _keys():
        try:
            return AESGCM(key).decrypt(blob[:12], blob[12:], _AAD).decode()
        except InvalidTag:
            continue
    raise ValueError("no configured key opens this TOTP secret")


# --- who must use it ----------------------------------------------------------------------

def grace_days() -> int:
    return int(current_app.config.get("MFA_GRACE_DAYS", 14))


def enabled(user: User) -> bool:
    return user.mfa_enabled_at is not None


def required(user: User) -> bool:
    """True when this user may not log in without a second step: an owner whose grace
    period is over."""
    return (user.role == Role.OWNER.value and user.mfa_due_at is not None and utcnow() >= user.mfa_due_at)


def due_soon(user: User):
    """The date an owner without two-step log-in must have it, while that is ahead; else None."""
    if enabled(user) or user.role != Role.OWNER.value or user.mfa_due_at is None or required(user):
        return None
    return user.mfa_due_at


def start_grace(user: User) -> None:
    """A new owner (sign-up, promotion, an owner's invitation) gets the grace period
    once; an owner who already had one keeps its date. The caller commits."""
    if user.role == Role.OWNER.value and user.mfa_due_at is None:
        user.mfa_due_at = utcnow() + timedelta(days=grace_days())


# --- codes ----------------------------------------------------------------------------------

def _clean(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-").upper()[:40]


def _accept_totp(user: User, secret: str, code: str) -> bool:
    """A 6-digit code of the current step (± one), newer than the last one accepted.
    The database decides, so the same code submitted twice at once passes once."""
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(utcnow())
    for step in range(now_step - _DRIFT_STEPS, now_step + _DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            result = db.session.execute(
                update(User).where(User.id == user.id,
                                   or_(User.mfa_last_step.is_(None), User.mfa_last_step < step))
                .values(mfa_last_step=step),
                execution_options={"synchronize_session": False})
            return result.rowcount == 1
    return False


def _accept_recovery(user: User, code: str) -> bool:
    if len(code) != _RECOVERY_LENGTH:
        return False
    result = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == hash_secret(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()),
        execution_options={"synchronize_session": False})
    return result.rowcount == 1


def check_code(user: User, code: str, *, allow_recovery: bool = True) -> str | None:
    """Use a code of an enabled user: ``"totp"``, ``"recovery"`` or None (wrong, replayed,
    or already used). Commits, so a used code stays used whatever happens next."""
    if not enabled(user) or not user.mfa_secret:
        return None
    code = _clean(code)
    kind = None
    if _accept_totp(user, decrypt_secret(user.mfa_secret), code):
        kind = "totp"
    elif allow_recovery and _accept_recovery(user, code):
        kind = "recovery"
    db.session.commit()
    return kind


def recovery_codes_left(user: User) -> int:
    return db.session.execute(select(func.count()).select_from(RecoveryCode)
                              .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; the caller commits. Returned
    once, formatted ``XXXX-XXXX-XXXX-XXXX``; only their hashes are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id),
                       execution_options={"synchronize_session": False})
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all([RecoveryCode(user_id=user.id, tenant_id=user.tenant_id, code_hash=hash_secret(c))
                        for c in codes])
    return ["-".join(c[i:i + 4] for i in range(0, _RECOVERY_LENGTH, 4)) for c in codes]


# --- enrolment, new codes, turning it off ------------------------------------------------

_PENDING = "mfa_pending"


def pending_secret(user: User) -> str:
    """The secret of this browser's enrolment in progress: made on the first visit of the
    set-up page, kept (encrypted) in this browser's session across reloads until the first
    code confirms it, and only then written to the user. Nothing is stored on the user
    before that: someone who opened the set-up page with a stolen password or session
    learns a secret that is never the one the owner later turns on (review finding)."""
    if enabled(user):
        raise FieldError("code", str(_l("Two-step verification is already on.")))
    stored = session.get(_PENDING)
    if isinstance(stored, list) and len(stored) == 2 and stored[0] == user.id:
        try:
            return decrypt_secret(stored[1])
        except ValueError:
            pass  # SECRET_KEY changed with no fallback: start this enrolment again
    secret = pyotp.random_base32()  # 32 characters: 160 bits, RFC 4226's recommendation
    session[_PENDING] = [user.id, encrypt_secret(secret)]
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The enrolment QR (segno) as an SVG data: URI, drawn in the page (CSP: img-src data:)."""
    import segno

    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn two-step log-in on with the first code of the pending secret; returns the
    ten recovery codes, to be shown once. FieldError on a wrong code."""
    stored = session.get(_PENDING)
    if enabled(user) or not (isinstance(stored, list) and len(stored) == 2 and stored[0] == user.id):
        raise FieldError("code", str(_l("Start again: scan the new QR code.")))
    try:
        secret = decrypt_secret(stored[1])
    except ValueError:
        session.pop(_PENDING, None)
        raise FieldError("code", str(_l("Start again: scan the new QR code."))) from None
    user.mfa_last_step = None
    if not _accept_totp(user, secret, _clean(code)):
        db.session.rollback()
        raise FieldError("code", str(_l("That code is not right. Type the 6 digits your app shows now.")))
    session.pop(_PENDING, None)
    user.mfa_secret = encrypt_secret(secret)
    user.mfa_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    db.session.commit()
    return codes


def new_recovery_codes(user: User, code: str) -> list[str]:
    """Ten fresh recovery codes (the old ones stop working), against a current app code."""
    if check_code(user, code, allow_recovery=False) is None:
        raise FieldError("code", str(_l("That code is not right. Type the 6 digits your app shows now.")))
    codes = _new_recovery_codes(user)
    db.session.commit()
    return codes


def disable(user: User, password: str, code: str) -> None:
    """Turn two-step log-in off: the password and a code (app or recovery) both needed.
    An owner past the grace period is asked to set it up again at the next page."""
    if not verify_password(user.password_hash, password):
        raise FieldError("password", str(_l("That is not your current password.")))
    if check_code(user, code) is None:
        raise FieldError("code", str(_l("That code is not right, or it was already used.")))
    user.mfa_secret = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id),
                       execution_options={"synchronize_session": False})
    db.session.commit()
