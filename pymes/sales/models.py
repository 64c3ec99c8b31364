"""A sale: the start of every post-sale plan (rule 1)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin
from ..extensions import db
from ..tenancy import TenantScoped


class Sale(TenantScoped, TimestampMixin, db.Model):
    """Amounts are integers in the minor unit of the business's currency."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),  # target of composite foreign keys (complaints)
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "seller_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("margin IS NULL OR margin <= amount", name="margin_within_amount"),
        Index("ix_sales_tenant_client_sold", "tenant_id", "client_id", "sold_on"),
        Index("ix_sales_tenant_sold", "tenant_id", "sold_on"),
        Index("ix_sales_tenant_seller", "tenant_id", "seller_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer)
    seller_id: Mapped[int | None] = mapped_column(Integer)
    sold_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200))
    product_line: Mapped[str] = mapped_column(String(80), default="")
    amount: Mapped[int] = mapped_column(BigInteger)
    margin: Mapped[int | None] = mapped_column(BigInteger)
    delivery_on: Mapped[date | None] = mapped_column(Date)
