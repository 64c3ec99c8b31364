"""Declarative base with a naming convention (so Alembic autogenerate names every
constraint the same way on SQLite and PostgreSQL) and the timestamp mixin."""
from __future__ import annotations

import select
from datetime import UTC, datetime

from sqlalchemy import Date, DateTime, MetaData, event, literal
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import Pool
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always returned timezone-aware.

    SQLite drops the offset; this puts it back so comparisons never mix naive and
    aware datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use pymes.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """DATA-2 / OPS-5: foreign keys on, WAL and a busy timeout for the embedded database."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Pool, "checkout")
def _drop_closed(dbapi_connection, connection_record, connection_proxy):
    """A pooled PostgreSQL connection the server has closed (a restart, a terminated
    backend, an idle timeout) is replaced at check-out, without the round trip of a
    pre-ping: an idle connection has nothing to read, so a readable socket means the
    server said goodbye (or the socket is gone). The pool then opens a fresh one; with
    the server down that fails and the request gets the friendly 503 (OPS-4)."""
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("connection closed")
    try:
        readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
    except Exception as error:  # noqa: BLE001 - OSError, ValueError, psycopg's own: no usable socket
        raise DisconnectionError("connection socket gone") from error
    if readable:
        raise DisconnectionError("the server closed the connection")


class local_date(FunctionElement):
    """SQL: the calendar day of a UTC timestamp column in a business's zone,
    ``local_date(column, "America/Santiago")``. PostgreSQL converts each row exactly
    (``timezone(zone, ts)``); SQLite has no zone database, so it shifts by the zone's
    offset of today (a day changing at a daylight-saving switch can be off by that hour)."""

    type = Date()
    inherit_cache = True
    name = "local_date"

    def __init__(self, column, zone: str):
        from zoneinfo import ZoneInfo

        offset = datetime.now(ZoneInfo(zone)).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        super().__init__(column, literal(zone), literal(f"{minutes:+d} minutes"))


@compiles(local_date, "postgresql")
def _local_date_pg(element, compiler, **kw):
    column, zone, _offset = list(element.clauses)
    return f"(timezone({compiler.process(zone, **kw)}, {compiler.process(column, **kw)}))::date"


@compiles(local_date)
def _local_date_other(element, compiler, **kw):
    column, _zone, offset = list(element.clauses)
    return f"date({compiler.process(column, **kw)}, {compiler.process(offset, **kw)})"


def analyze(engine) -> None:
    """Refresh the planner's statistics. Without them SQLite chose to walk every client
    of a business for each grouped figure (the feedback inbox: 18 → 611 ms once the
    clients had an index to group by); PostgreSQL's autovacuum keeps its own, this
    refreshes them at once after a bulk load. Run after the seed, after migrations
    (scripts/run, bench/run) and daily from cron (``flask pymes analyze``)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # a sample per index: a second at the scale set
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.execute(text("ANALYZE"))
        conn.commit()
