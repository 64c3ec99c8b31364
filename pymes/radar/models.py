"""One row per owner and ISO week a radar was sent."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKeyConstraint, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime
from ..extensions import db
from ..tenancy import TenantScoped


class RadarLog(TenantScoped, db.Model):
    """The weekly radar sent to one owner: ``week_of`` is the Monday of the ISO week (the
    business's calendar). The unique key makes a second run in the same week send
    nothing (idempotent by the database, like ``DigestLog``)."""

    __data_version__ = False  # not a figure: cached figures stay valid (pymes.cache)
    __tablename__ = "radar_log"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "week_of"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    week_of: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
