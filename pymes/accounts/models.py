"""The business (tenant), its users, sessions, invitations and e-mailed tokens."""
from __future__ import annotations

import enum
from datetime import datetime
from functools import lru_cache

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, UTCDateTime, utcnow
from ..extensions import db
from ..tenancy import TenantScoped


class Role(str, enum.Enum):  # noqa: UP042 (StrEnum would change str(Role.OWNER), kept as is)
    OWNER = "owner"
    MANAGER = "manager"
    SELLER = "seller"
    SERVICE = "service"


ROLE_VALUES = tuple(r.value for r in Role)


class Business(TimestampMixin, db.Model):
    """The tenant: one subscribing company. Its id is the ``tenant_id`` everywhere."""

    __tablename__ = "businesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_mime: Mapped[str | None] = mapped_column(String(32))
    sellers_see_only_own: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # the owner asked to delete the business: purged once the grace period is over
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # bumped by every committed change to the business's data (``pymes.cache``): cached
    # figures are keyed by it, so a change is never hidden behind a cached answer. It
    # starts at a random number so that two databases' business 1 never share a key.
    data_version: Mapped[int] = mapped_column(BigInteger, default=lambda: _random_version(), server_default="0")

    @property
    def locale(self) -> str:
        """Babel locale for formatting dates, numbers and money: language + country, or
        the nearest one Babel knows (English in Chile has no CLDR locale: ``en_001``)."""
        return known_locale(self.language, self.country)


def _random_version() -> int:
    import secrets

    return secrets.randbits(48)


@lru_cache(maxsize=256)
def known_locale(language: str, country: str) -> str:
    from babel import localedata

    for name in (f"{language}_{country}", "en_001" if language == "en" else "", language):
        if name and localedata.exists(name):
            return name
    return "es"


class User(UserMixin, TenantScoped, TimestampMixin, db.Model):
    """A member of a business's team. The e-mail is unique across the installation so
    that log-in needs nothing but an e-mail and a password."""

    __tablename__ = "users"
    __tenant_identity__ = True
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),  # target of composite foreign keys
        CheckConstraint("role IN ('owner', 'manager', 'seller', 'service')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(5))
    # None: the business's time zone (a seller abroad or in another zone sets their own)
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-step log-in (pymes/accounts/mfa.py). The TOTP secret is stored encrypted
    # (AES-GCM, key derived from SECRET_KEY); set and not enabled while enrolment waits
    # for its first code. ``mfa_last_step`` is the time step of the last accepted code,
    # so a code is never accepted twice. ``mfa_due_at``: owners must use it from then on.
    mfa_secret: Mapped[str | None] = mapped_column(String(255))
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)
    mfa_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    business: Mapped[Business] = relationship(lazy="joined", innerjoin=True)

    # Set by the user loader: the server-side session this request runs under.
    session_key = None

    def get_id(self) -> str:  # Flask-Login keeps the session key, not the user id
        return self.session_key or ""

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class RecoveryCode(TenantScoped, db.Model):
    """One of a user's ten single-use recovery codes for two-step log-in. Only the
    SHA-256 of the code is kept (80 random bits: a fast hash cannot be reversed)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (
        UniqueConstraint("user_id", "code_hash"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserSession(db.Model):
    """A server-side log-in session. The cookie carries a random key whose hash is
    stored here, so log-out and a password change end sessions for real (SES-1)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Invitation(TenantScoped, TimestampMixin, db.Model):
    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        ForeignKeyConstraint(["tenant_id", "invited_by_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        CheckConstraint("role IN ('owner', 'manager', 'seller', 'service')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    invited_by_id: Mapped[int] = mapped_column(Integer, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    invited_by: Mapped[User] = relationship(
        primaryjoin="and_(Invitation.tenant_id == User.tenant_id, Invitation.invited_by_id == User.id)",
        foreign_keys="[Invitation.tenant_id, Invitation.invited_by_id]",
        viewonly=True,
    )

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at < utcnow():
            return "expired"
        return "pending"


class Token(db.Model):
    """A single-use secret sent by e-mail (confirmation, password reset, invitation).

    Only the SHA-256 of the secret is stored. It is the verified public token through
    which a request without a log-in learns its tenant (layer 1)."""

    __tablename__ = "tokens"
    __table_args__ = (Index("ix_tokens_subject", "purpose", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
