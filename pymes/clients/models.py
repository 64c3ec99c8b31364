"""Clients and prospects, their specialist sellers, the tier history, the loyalty
thresholds of each business and client files waiting to be imported."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, UTCDateTime, utcnow
from ..extensions import db
from ..tenancy import TenantScoped

KINDS = ("client", "prospect")
CHANNELS = ("whatsapp", "phone", "email", "visit")
TIME_WINDOWS = ("morning", "midday", "afternoon", "evening", "any")
SOURCES = ("walk_in", "referral", "web", "social", "campaign", "other")
TIER_VALUES = ("buyer", "sporadic", "frequent", "apostle")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Client(TenantScoped, TimestampMixin, db.Model):
    """A client or a prospect of the business.

    ``tier``, ``sales_count``, ``last_sale_on`` and ``revenue_12m`` are kept by
    ``clients.services.refresh_client`` whenever a sale changes, so that the list can
    filter and sort on them over an index instead of aggregating sales per request."""

    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "territory_id"], ["territories.tenant_id", "territories.id"]),
        ForeignKeyConstraint(["tenant_id", "portfolio_id"], ["portfolios.tenant_id", "portfolios.id"]),
        ForeignKeyConstraint(["tenant_id", "seller_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "referred_by_id"], ["clients.tenant_id", "clients.id"]),
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("preferred_channel", CHANNELS), name="channel"),
        CheckConstraint(_in("preferred_time", TIME_WINDOWS), name="time_window"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(_in("tier", TIER_VALUES), name="tier"),
        CheckConstraint(_in("tier_override", TIER_VALUES), name="tier_override"),
        Index("ix_clients_tenant_name", "tenant_id", "name"),
        Index("ix_clients_tenant_seller", "tenant_id", "seller_id"),
        Index("ix_clients_tenant_tier", "tenant_id", "tier"),
        Index("ix_clients_tenant_dropped", "tenant_id", "tier_dropped_at"),  # "who dropped a tier"
        # the composite foreign keys' own columns: the filters join on them, and without
        # them SQLite checks every client for each deleted parent (a purge went quadratic)
        Index("ix_clients_tenant_referred_by", "tenant_id", "referred_by_id"),
        Index("ix_clients_tenant_territory", "tenant_id", "territory_id"),
        Index("ix_clients_tenant_portfolio", "tenant_id", "portfolio_id"),
        Index("ix_clients_tenant_email", "tenant_id", "email"),
        Index("ix_clients_tenant_phone", "tenant_id", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="client")
    name: Mapped[str] = mapped_column(String(160))
    company: Mapped[str] = mapped_column(String(160), default="")
    tax_id: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    whatsapp: Mapped[str | None] = mapped_column(String(20))
    # the two numbers as people of the business's country write them (``services.national``),
    # kept in step with them on every flush (``services._keep_shown_phones``): the exports
    # print them without formatting each number again
    phone_shown: Mapped[str | None] = mapped_column(String(40))
    whatsapp_shown: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(300), default="")
    territory_id: Mapped[int | None] = mapped_column(Integer)
    portfolio_id: Mapped[int | None] = mapped_column(Integer)
    seller_id: Mapped[int | None] = mapped_column(Integer)
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    preferred_time: Mapped[str | None] = mapped_column(String(16))
    # the language messages to the client are written in; None: the business's language
    language: Mapped[str | None] = mapped_column(String(5))
    notes: Mapped[str] = mapped_column(Text, default="")
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(16))
    referred_by_id: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[str | None] = mapped_column(String(16))
    computed_tier: Mapped[str | None] = mapped_column(String(16))
    tier_override: Mapped[str | None] = mapped_column(String(16))
    tier_override_reason: Mapped[str] = mapped_column(String(300), default="")
    tier_dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sales_count: Mapped[int] = mapped_column(Integer, default=0)
    last_sale_on: Mapped[date | None] = mapped_column(Date)
    revenue_12m: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # when the client wrote BAJA/STOP to the business's WhatsApp number (``whatsapp.webhook``):
    # no automatic WhatsApp message until they write ALTA/START; the team cannot change it
    whatsapp_opt_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClientSpecialist(TenantScoped, db.Model):
    """A specialist seller of one client for one product line (rule 10)."""

    __tablename__ = "client_specialists"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id", "product_line"),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    product_line: Mapped[str] = mapped_column(String(80))


class TierChange(TenantScoped, db.Model):
    """The tier history: every change, computed or set by a manager, with its reason."""

    __tablename__ = "tier_changes"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "changed_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("source IN ('computed', 'override', 'override_removed')", name="source"),
        Index("ix_tier_changes_tenant_client", "tenant_id", "client_id"),
        Index("ix_tier_changes_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer)
    old_tier: Mapped[str | None] = mapped_column(String(16))
    new_tier: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300), default="")
    changed_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoyaltySettings(TenantScoped, db.Model):
    """A business's own thresholds for the loyalty ladder (defaults in ``loyalty.TierRules``)."""

    __tablename__ = "loyalty_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("sporadic_min_purchases >= 2 AND frequent_min_purchases >= 2 AND "
                        "frequent_max_gap_days >= 1 AND lapsed_after_days >= 30 AND "
                        "apostle_min_score BETWEEN 0 AND 10 AND apostle_min_referrals >= 0", name="sane"),
        CheckConstraint("rhythm_min_purchases BETWEEN 2 AND 50 AND rhythm_tolerance_percent BETWEEN 0 AND 100",
                        name="rhythm"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sporadic_min_purchases: Mapped[int] = mapped_column(Integer, default=2)
    frequent_min_purchases: Mapped[int] = mapped_column(Integer, default=4)
    frequent_max_gap_days: Mapped[int] = mapped_column(Integer, default=120)
    lapsed_after_days: Mapped[int] = mapped_column(Integer, default=365)
    apostle_min_score: Mapped[int] = mapped_column(Integer, default=9)
    apostle_min_referrals: Mapped[int] = mapped_column(Integer, default=1)
    # the client's own rhythm (loyalty.own_rhythm): purchases over a year or more, steady within a tolerance
    rhythm_min_purchases: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    rhythm_tolerance_percent: Mapped[int] = mapped_column(Integer, default=25, server_default="25")


IMPORT_STATUSES = ("preview", "imported")


class ClientImport(TenantScoped, TimestampMixin, db.Model):
    """An uploaded client file between its preview and its import.

    The parsed rows live here as JSON (cells as read, cleaned values, problems and the
    duplicate each row matches) so that the preview survives a restart, belongs to the
    tenant like any other row (scoping, RLS) and the confirm step never re-reads the
    upload. ``summary`` holds the counts once imported."""

    __tablename__ = "client_imports"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "created_by_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        CheckConstraint(_in("status", IMPORT_STATUSES), name="status"),
        Index("ix_client_imports_tenant_created", "tenant_id", "created_at"),
        Index("ix_client_imports_tenant_headers", "tenant_id", "headers_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="preview")
    headers: Mapped[list] = mapped_column(JSON, default=list)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    notes: Mapped[list] = mapped_column(JSON, default=list)
    rows: Mapped[list] = mapped_column(JSON, default=list)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the key of the file's headers (import_columns.headers_key) and whether the owner
    # chose the mapping: the next file with the same headers starts from that choice
    headers_key: Mapped[str | None] = mapped_column(String(40))
    mapping_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    # what the import did, for undo: {"clients": [ids created], "sales": [ids], "merged":
    # {client id: {field: value before}}, "openings": [existing clients given one]}
    undo: Mapped[dict | None] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(Integer)


OPENING_PERIODS = ("ever", "12m")


class ClientOpening(TenantScoped, TimestampMixin, db.Model):
    """A client's buying history as a shop's own spreadsheet summarised it on import
    (``Última compra``, ``N° compras``, ``Total comprado``): the opening balance.

    Decision: the summary is kept as one row per client instead of inventing sales.
    Invented sales would show up as sales (in exports, the dashboard's revenue, the
    recovery economics, the post-sale plans) although nobody knows what was sold, when
    or for how much. The ladder alone reads it: ``loyalty.opening_dates`` spreads the
    purchases over the period before the last one, and real sales replace them from the
    first real sale's date on. The client's why-sentence says which purchases came from
    the imported spreadsheet. Undoing the import removes it (``import_id``)."""

    __tablename__ = "client_openings"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "client_id"),
        CheckConstraint(_in("period", OPENING_PERIODS), name="period"),
        CheckConstraint("total_period IS NULL OR " + _in("total_period", OPENING_PERIODS), name="total_period"),
        CheckConstraint("purchases > 0", name="purchases"),
        CheckConstraint("first_purchase_on IS NULL OR first_purchase_on <= last_purchase_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(Integer)
    import_id: Mapped[int | None] = mapped_column(Integer)
    purchases: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(8), default="ever")  # the count is of all time, or of 12 months
    first_purchase_on: Mapped[date | None] = mapped_column(Date)
    last_purchase_on: Mapped[date] = mapped_column(Date)
    total_amount: Mapped[int | None] = mapped_column(BigInteger)  # minor units of the business's currency
    total_period: Mapped[str | None] = mapped_column(String(8))
