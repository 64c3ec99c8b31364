"""E-mailed single-use tokens: 256-bit secrets, stored hashed, with a life and a purpose.

A verified token is the only way a request without a log-in learns its tenant."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from ..db import utcnow
from ..extensions import db
from ..security import hash_secret, new_secret
from ..tenancy import bind_tenant
from .models import Token

CONFIRM_EMAIL = "confirm_email"
RESET_PASSWORD = "reset_password"
INVITATION = "invitation"


def issue(purpose: str, tenant_id: int, subject_id: int, lifetime: timedelta) -> str:
    """Create a token and return its secret; only the hash is kept."""
    secret = new_secret()
    db.session.add(Token(token_hash=hash_secret(secret), purpose=purpose, tenant_id=tenant_id,
                         subject_id=subject_id, expires_at=utcnow() + lifetime))
    return secret


def check(secret: str, purpose: str) -> tuple[Token | None, str]:
    """Look a secret up without using it. Returns ``(token, "ok")`` or ``(None, reason)``
    where reason is ``invalid``, ``expired`` or ``used``. A valid token binds its tenant."""
    if not secret or len(secret) > 100:
        return None, "invalid"
    token = db.session.execute(select(Token).where(Token.token_hash == hash_secret(secret))).scalar_one_or_none()
    if token is None or token.purpose != purpose:
        return None, "invalid"
    if token.used_at is not None:
        return None, "used"
    if token.expires_at < utcnow():
        return None, "expired"
    bind_tenant(token.tenant_id)
    return token, "ok"


def use(token: Token) -> bool:
    """Mark a token used. Exactly one of two concurrent uses gets True: the database
    decides (``UPDATE … WHERE used_at IS NULL``), not a check-then-write."""
    result = db.session.execute(
        update(Token).where(Token.id == token.id, Token.used_at.is_(None)).values(used_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def retire(purpose: str, tenant_id: int, subject_id: int) -> None:
    """Invalidate every open token for a subject (a new invitation link replaces the old)."""
    db.session.execute(
        update(Token).where(Token.purpose == purpose, Token.tenant_id == tenant_id, Token.subject_id == subject_id,
                            Token.used_at.is_(None))
        .values(used_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
