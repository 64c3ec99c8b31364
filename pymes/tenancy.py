"""Tenant isolation: binding, the ORM safety net, the scoped lookup helper.

The five layers of ``docs/architecture.md`` ("Tenancy and row-level security") and
where each lives:

1. The tenant comes only from the logged-in user (the request hook in
   ``pymes/__init__.py``, from ``pymes.accounts.services.load_session``), a verified
   public token (``pymes.accounts.tokens``) or a verified Stripe object
   (``pymes.billing.services``). Nothing here reads a tenant id from a URL, header or form.
2. ``get_or_404`` looks an object up by id *and* tenant; another tenant's id is a
   plain 404, produced by the same ``abort(404)`` as a missing id.
3. ``_add_tenant_criteria`` adds ``with_loader_criteria`` to every ORM SELECT,
   UPDATE and DELETE touching a tenant-owned model and refuses to run one when no
   tenant is bound; ``_guard_writes`` stamps and checks ``tenant_id`` on flush.
   ``unscoped()`` is the escape hatch for CLI jobs and webhooks only.
4. The schema: ``TenantScoped`` gives every tenant-owned table a NOT NULL, indexed
   ``tenant_id``; composite foreign keys live on the models.
5. PostgreSQL row-level security (created by the migrations): every transaction
   carries ``app.tenant_id`` as a transaction-local setting, sent here with the first
   statement that needs it (and again with the next statement after the binding changed).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TypeVar

from flask import abort, g, has_app_context
from sqlalchemy import ForeignKey, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.sql import visitors

T = TypeVar("T")


class TenantNotBound(RuntimeError):
    """A tenant-owned table was queried or written with no tenant bound."""


class TenantMismatch(RuntimeError):
    """A write would put or move a row into a tenant other than the bound one."""


class TenantScoped:
    """Mixin for every tenant-owned model.

    ``__tenant_identity__ = True`` marks the few models that log-in must find before
    a tenant is known (users); they may be read inside ``identity_lookup()``."""

    __tenant_identity__ = False

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), nullable=False, index=True)


# --- binding -------------------------------------------------------------------------

def current_tenant_id() -> int | None:
    if not has_app_context():
        return None
    return g.get("_tenant_id")


def require_tenant() -> int:
    tid = current_tenant_id()
    if tid is None:
        raise TenantNotBound("no tenant is bound")
    return tid


def bind_tenant(tenant_id: int | None) -> None:
    """Bind the tenant for the rest of this request or job.

    Only callers that have *verified* where the id comes from may call this: the
    logged-in user's row, a verified token, a verified Stripe object."""
    g._tenant_id = tenant_id


@contextmanager
def bound(tenant_id: int):
    """Run a block (CLI job, worker) as one tenant, restoring the previous binding."""
    previous = current_tenant_id()
    bind_tenant(tenant_id)
    try:
        yield
    finally:
        bind_tenant(previous)


def _flag(name: str) -> bool:
    return has_app_context() and g.get(name, 0) > 0


@contextmanager
def unscoped():
    """Escape hatch: turn off layer 3 for CLI jobs and webhooks only.

    Row-level security (layer 5) still applies on PostgreSQL, so cross-tenant jobs
    bind each tenant in turn."""
    g._tenant_unscoped = g.get("_tenant_unscoped", 0) + 1
    try:
        yield
    finally:
        g._tenant_unscoped -= 1


@contextmanager
def identity_lookup():
    """Allow reading identity models (users) before a tenant is known: log-in,
    loading the session's user, the sign-up duplicate check."""
    g._identity_lookup = g.get("_identity_lookup", 0) + 1
    try:
        yield
    finally:
        g._identity_lookup -= 1


# --- layer 2 -------------------------------------------------------------------------

def get_or_404(model: type[T], ident: int) -> T:
    """The one way routes fetch a tenant-owned object by id.

    Another tenant's id and a missing id both end in the same ``abort(404)``."""
    from .extensions import db

    tid = require_tenant()
    obj = db.session.execute(
        select(model).where(model.id == ident, model.tenant_id == tid)  # type: ignore[attr-defined]
    ).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def get_child_or_404(model: type[T], ident: int, **parent) -> T:
    """``get_or_404`` for a row reached through its parent in the address
    (``/clients/<client_id>/sales/<sale_id>``): ``parent`` names the columns that must
    match (``client_id=client.id``); a row of another parent is the same 404 as a
    missing one."""
    obj = get_or_404(model, ident)
    if any(getattr(obj, column) != value for column, value in parent.items()):
        abort(404)
    return obj


# --- layer 3 -------------------------------------------------------------------------

_TENANT_TABLES: dict | None = None


def _tenant_tables() -> dict:
    """Table → its TenantScoped class, for every tenant-owned table (built once)."""
    global _TENANT_TABLES
    if _TENANT_TABLES is None:
        from .extensions import db

        _TENANT_TABLES = {m.local_table: m.class_ for m in db.Model.registry.mappers
                          if issubclass(m.class_, TenantScoped)}
    return _TENANT_TABLES


_STATIC: dict[int, tuple] = {}


def _tenant_classes(statement) -> set:
    """Every tenant-owned model a statement reads or writes, subqueries and
    ``select_from`` included: ``select(func.count()).select_from(User)`` names no
    entity in its columns, yet it counts users. A statement built once and marked
    ``execution_options(pymes_static=True)`` (the session look-up) is walked once."""
    static = statement.get_execution_options().get("pymes_static")
    if static:
        hit = _STATIC.get(id(statement))
        if hit is not None and hit[0] is statement:
            return hit[1]
    tables = _tenant_tables()
    classes = {tables[element] for element in visitors.iterate(statement) if element in tables}
    if static:
        _STATIC[id(statement)] = (statement, classes)
    return classes


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Lazy and column loads inherit the criteria of the statement that loaded the parent.
    if state.is_select and (state.is_column_load or state.is_relationship_load):
        return
    if _flag("_tenant_unscoped") or state.execution_options.get("tenant_unscoped"):
        return
    classes = _tenant_classes(state.statement)
    if not classes:
        return
    if state.is_select and _flag("_identity_lookup") and all(c.__tenant_identity__ for c in classes):
        return  # an explicit look-up across the installation: log-in, one e-mail, one account
    tid = current_tenant_id()
    if tid is None:
        raise TenantNotBound(
            "query on a tenant-owned table with no tenant bound: " + ", ".join(sorted(c.__name__ for c in classes))
        )
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _guard_writes(session, flush_context, instances) -> None:
    if _flag("_tenant_unscoped"):
        return
    tid = current_tenant_id()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if tid is None:
            raise TenantNotBound(f"new {type(obj).__name__} with no tenant bound")
        if obj.tenant_id is None:
            obj.tenant_id = tid
        elif obj.tenant_id != tid:
            raise TenantMismatch(f"new {type(obj).__name__} for tenant {obj.tenant_id} while {tid} is bound")
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if tid is None:
            raise TenantNotBound(f"write to {type(obj).__name__} with no tenant bound")
        history = inspect(obj).attrs.tenant_id.history
        if history.has_changes() or obj.tenant_id != tid:
            raise TenantMismatch(f"{type(obj).__name__} of another tenant, or tenant_id changed")


# --- layer 5 -------------------------------------------------------------------------
#
# Every statement a Session runs on PostgreSQL carries the binding of the moment it runs:
# ``app.tenant_id`` and ``app.identity_lookup`` as transaction-local settings. They are
# sent lazily, only when the values the transaction holds differ from the current binding,
# and in the same round trip as the statement itself (psycopg's pipeline mode: the
# ``set_config`` and the statement go out together, their answers come back together).
# Binding a tenant or leaving an identity look-up sends nothing by itself: a request
# that reads the session's user, binds its tenant and draws a kept page makes BEGIN, one
# combined exchange and ROLLBACK (tests/test_round_trips.py counts them).

_WANTS = "_pymes_rls_wants"  # on a Session's Connection: its statements carry the settings
_APPLIED = "pymes_rls_applied"  # in the DBAPI connection's info: what its open transaction holds
_SET_SQL = "SELECT set_config('app.tenant_id', %s, true), set_config('app.identity_lookup', %s, true)"


def _settings_values() -> tuple[str, str]:
    tid = current_tenant_id()
    return ("" if tid is None else str(tid), "on" if _flag("_identity_lookup") else "")


def _due(context, statement: str):
    """The settings this statement must send first, or None: not a Session's statement
    on PostgreSQL, no application context, or the transaction already holds them."""
    connection = context.root_connection
    if not getattr(connection, _WANTS, False) or not has_app_context():
        return None
    if statement.lstrip()[:11].upper() == "ROLLBACK TO":
        return None  # it would take back settings sent with it; the next statement sends them
    values = _settings_values()
    info = connection.info
    dbapi = connection.connection.dbapi_connection
    if dbapi.info.transaction_status != 2 or info.get(_APPLIED) != values:  # 2: INTRANS (idle in a transaction)
        return values
    return None


def _send_with(cursor, statement, parameters, context) -> bool:
    values = _due(context, statement)
    if values is None:
        return False
    dbapi = cursor.connection
    context.root_connection.info[_APPLIED] = None  # until the exchange has succeeded
    from psycopg import ServerCursor

    if isinstance(cursor, ServerCursor) or dbapi.autocommit:
        # A server-side (named) cursor cannot run in a pipeline: the settings go first, alone.
        dbapi.execute(_SET_SQL, values)
        context.root_connection.info[_APPLIED] = values
        return False
    with dbapi.pipeline():
        dbapi.execute(_SET_SQL, values)
        if parameters is None:
            cursor.execute(statement)
        else:
            cursor.execute(statement, parameters)
    context.root_connection.info[_APPLIED] = values
    return True


@event.listens_for(Engine, "do_execute")
def _execute_with_settings(cursor, statement, parameters, context):
    if context.dialect.name != "postgresql":
        return False
    return _send_with(cursor, statement, parameters, context)


@event.listens_for(Engine, "do_execute_no_params")
def _execute_no_params_with_settings(cursor, statement, context):
    if context.dialect.name != "postgresql":
        return False
    return _send_with(cursor, statement, None, context)


@event.listens_for(Engine, "do_executemany")
def _executemany_with_settings(cursor, statement, parameters, context):
    """Rare as a transaction's first statement: the settings go alone, then the batch."""
    if context.dialect.name != "postgresql":
        return False
    values = _due(context, statement)
    if values is not None:
        cursor.connection.execute(_SET_SQL, values)
        context.root_connection.info[_APPLIED] = values
    return False


@event.listens_for(Session, "after_begin")
def _set_rls_settings(session, transaction, connection) -> None:
    """The Session's connection carries the settings from its first statement on."""
    if connection.dialect.name == "postgresql":
        setattr(connection, _WANTS, True)
        connection.info.pop(_APPLIED, None)  # a new transaction carries no settings yet


def _forget_settings(conn, *args) -> None:
    """A transaction ended, or a savepoint was rolled back (it takes back what was set
    inside it): the settings are sent again with the next statement."""
    conn.info.pop(_APPLIED, None)


for _name in ("commit", "rollback", "rollback_savepoint"):
    event.listen(Engine, _name, _forget_settings)


# --- layer 5: the SQL the migrations run ---------------------------------------------------

def rls_statements(table: str, identity: bool = False) -> list[str]:
    """Row-level security for one tenant-owned table (PostgreSQL only).

    FORCE makes the policy bind the table's owner too; only superusers and BYPASSRLS
    roles escape it, so the app must not connect as one. An unset ``app.tenant_id``
    becomes NULL through NULLIF and matches no row. Identity tables (users) are also
    readable inside ``identity_lookup()``. Migrations call this: keep its output stable."""
    predicate = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer"
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({predicate}) WITH CHECK ({predicate})",
    ]
    if identity:
        statements.append(
            f"CREATE POLICY identity_lookup ON {table} FOR SELECT "
            "USING (current_setting('app.identity_lookup', true) = 'on')"
        )
    return statements
