"""A referral (a client names a friend, who becomes a prospect) and a testimonial (a
client's words, published only with their consent and a manager's approval)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, UTCDateTime
from ..extensions import db
from ..sealing import seal, unseal
from ..security import hash_secret
from ..tenancy import TenantScoped

REFERRAL_SOURCES = ("feedback", "visit", "call", "manual", "link")
REFERRAL_STATUSES = ("new", "contacted", "meeting", "converted", "lost")
NAME_DISPLAYS = ("full", "first", "initials", "anonymous")
TESTIMONIAL_SOURCES = ("feedback", "seller")
TESTIMONIAL_STATUSES = ("pending", "approved", "rejected")
# where a published testimonial may appear: the business's public wall page, the
# embed on the business's own website, or both
PUBLISH_PLACES = ("wall", "website", "both")


def _in(column: str, values: tuple) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Referral(TenantScoped, TimestampMixin, db.Model):
    """``referrer_id`` named a friend; the friend is ``prospect_id``, a prospect in the
    client book with a responsible seller. ``flag`` says why a person should look twice
    (the same contact as a client already in the book). A referral of the referrer
    themself is refused, never stored."""

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "referrer_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "prospect_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "created_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint(_in("source", REFERRAL_SOURCES), name="source"),
        CheckConstraint(_in("status", REFERRAL_STATUSES), name="status"),
        CheckConstraint("flag IS NULL OR flag = 'duplicate'", name="flag"),
        CheckConstraint("referrer_id <> prospect_id", name="not_self"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_contact"),
        Index("ix_referrals_referrer", "tenant_id", "referrer_id"),
        Index("ix_referrals_prospect", "tenant_id", "prospect_id"),
        Index("ix_referrals_status", "tenant_id", "status", "created_at"),
        Index("ix_referrals_tenant_created", "tenant_id", "created_at"),  # referrals made per period and month
        Index("ix_referrals_activity", "tenant_id", "activity_id"),  # referrals obtained per delivery visit
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(Integer)
    prospect_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_shown: Mapped[str | None] = mapped_column(String(40))  # as Client.phone_shown
    source: Mapped[str] = mapped_column(String(16), default="manual")
    status: Mapped[str] = mapped_column(String(16), default="new")
    flag: Mapped[str | None] = mapped_column(String(16))
    friend_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback_response_id: Mapped[int | None] = mapped_column(Integer)
    # the visit (an ``activities`` row) where the seller asked for it: the delivery moment
    # of article 004. No foreign key, like a complaint's activity: activities have no
    # (tenant_id, id) key to point at, and a referral outlives a deleted visit.
    activity_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reward_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the business's thank-you, given


class Testimonial(TenantScoped, TimestampMixin, db.Model):
    """The client's words with the consent they gave: how their name may appear and
    whether it may be published. Published only once approved and while not revoked."""

    __test__ = False  # pytest: a model named Test…, not a test class
    __tablename__ = "testimonials"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "feedback_response_id"),  # one per answer; a correction edits it
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "reviewed_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint(_in("name_display", NAME_DISPLAYS), name="name_display"),
        CheckConstraint(_in("source", TESTIMONIAL_SOURCES), name="source"),
        CheckConstraint(_in("status", TESTIMONIAL_STATUSES), name="status"),
        CheckConstraint(_in("publish_where", PUBLISH_PLACES), name="publish_where"),
        Index("ix_testimonials_client", "tenant_id", "client_id"),
        Index("ix_testimonials_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer)
    feedback_response_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    name_display: Mapped[str] = mapped_column(String(16), default="first")
    may_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_where: Mapped[str] = mapped_column(String(16), default="both", server_default="both")
    source: Mapped[str] = mapped_column(String(16), default="feedback")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reviewed_by_id: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


REWARD_KINDS = ("none", "discount", "gift", "note")


class ReferralSettings(TenantScoped, db.Model):
    """One row per business: the unguessable key of its public testimonial wall, and the
    reward policy for referrals (used by a later slice).

    An identity model: the public wall finds the business from the key inside
    ``identity_lookup()`` before any tenant is bound, then binds it."""

    __tablename__ = "referral_settings"
    __tenant_identity__ = True
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint(_in("reward_kind", REWARD_KINDS), name="reward_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The key is kept as its hash (the public look-up) and sealed (shown to the owner in
    # the wall's address and embed code): never in plain text (pymes/sealing.py, TOK-1).
    wall_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    wall_key_sealed: Mapped[str] = mapped_column(String(255))
    reward_kind: Mapped[str] = mapped_column(String(16), default="none")
    reward_text: Mapped[str | None] = mapped_column(String(500))

    @property
    def wall_key(self) -> str | None:
        return unseal(self.wall_key_sealed, "wall key")

    @wall_key.setter
    def wall_key(self, value: str) -> None:
        self.wall_key_hash, self.wall_key_sealed = hash_secret(value), seal(value, "wall key")


class ReferralCode(TenantScoped, db.Model):
    """A client's personal referral link: friends who open it leave their contact, which
    creates the referral. An identity model, like the wall's key: the public page finds
    the business from the code before any tenant is bound."""

    __tablename__ = "referral_codes"
    __tenant_identity__ = True
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer)
    # The code is printed on QR codes and shared, so the business must see it again: it
    # is kept as its hash (what /r/<code> compares) and sealed (what the client's page
    # shows), never in plain text (pymes/sealing.py; issue 20, finding 10; TOK-1).
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_sealed: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def code(self) -> str | None:
        return unseal(self.code_sealed, "referral code")

    @code.setter
    def code(self, value: str) -> None:
        self.code_hash, self.code_sealed = hash_secret(value), seal(value, "referral code")


class ReferralAsk(TenantScoped, TimestampMixin, db.Model):
    """A seller asked a client for referrals at a visit (article 004: at the delivery,
    while the client is satisfied), whether or not the client named anyone. One row per
    visit: the dashboard counts visits where referrals were asked, and the referrals
    each one obtained (``Referral.activity_id``)."""

    __tablename__ = "referral_asks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "activity_id"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "asked_by_id"], ["users.tenant_id", "users.id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[int] = mapped_column(Integer)
    asked_by_id: Mapped[int | None] = mapped_column(Integer)
