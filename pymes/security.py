"""Passwords, secrets, redirect targets and response headers."""
from __future__ import annotations

import hashlib
import secrets
from urllib.parse import unquote, urlsplit

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, request
from flask_login import current_user

# AUTH-1: argon2id at the OWASP floor of m = 19 MiB, t = 2, p = 1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
# Verified when the e-mail is unknown so a log-in takes as long either way (AUTH-3).
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; spends the same work when ``stored`` is None."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """A URL-safe secret of 32 random bytes (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Tokens are stored only as their SHA-256 (TOK-1, AUTH-4). A fast hash is right
    here: the secret has 256 bits of entropy, so nothing can be brute-forced."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def safe_next(target: str | None) -> str | None:
    """SES-2: accept only a local path; anything that could leave the site is None.

    The checks run on the target and on its percent-decoded form, so ``/%09/evil.com``
    (a tab a browser would drop, leaving ``//evil.com``) is refused too."""
    if not target or len(target) > 2000:
        return None
    for form in (target, unquote(target)):
        if any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in form):
            return None
        if not form.startswith("/") or form.startswith("//"):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    return target


def apply_headers(response):
    """WEB-2: security headers on every response.

    ``g.embeddable = True`` is the one explicit opt-in to being framed by other sites
    (the public testimonial wall's embed, meant for an <iframe> on the business's own
    website): ``frame-ancestors *`` and no X-Frame-Options. Every other page refuses it."""
    embeddable = bool(g.get("embeddable"))
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; form-action 'self'; "
        "object-src 'none'; "
        "base-uri 'none'; frame-ancestors " + ("*" if embeddable else "'none'")
    )
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not embeddable:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("HSTS"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    private = g.get("no_store") or (current_user and getattr(current_user, "is_authenticated", False))
    if private and not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response
