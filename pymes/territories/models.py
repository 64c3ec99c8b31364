"""Territories (wide geographic zones) and portfolios (finite groups of clients), and
their responsible sellers."""
from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin
from ..extensions import db
from ..tenancy import TenantScoped


class Territory(TenantScoped, TimestampMixin, db.Model):
    __tablename__ = "territories"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")


class Portfolio(TenantScoped, TimestampMixin, db.Model):
    __tablename__ = "portfolios"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")


class TerritorySeller(TenantScoped, db.Model):
    """A responsible seller of a territory."""

    __tablename__ = "territory_sellers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "territory_id", "user_id"),
        ForeignKeyConstraint(["tenant_id", "territory_id"], ["territories.tenant_id", "territories.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)


class PortfolioSeller(TenantScoped, db.Model):
    """A responsible seller of a portfolio."""

    __tablename__ = "portfolio_sellers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "portfolio_id", "user_id"),
        ForeignKeyConstraint(["tenant_id", "portfolio_id"], ["portfolios.tenant_id", "portfolios.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
