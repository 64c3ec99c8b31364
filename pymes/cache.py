"""Figures cached per business and data version.

Every committed change to a business's data bumps ``businesses.data_version`` in the
same transaction (``_note_changes`` and ``_bump`` below, on every ORM flush and every
UPDATE/INSERT/DELETE statement run through the session). A cached answer is keyed by
the business, that version and the arguments that shape it (filters, the business's
day), so a change is never hidden behind a cached figure: the first request after it
misses and recomputes, the others read the answer that request stored.

The version comes for free with the logged-in user's row (the session look-up joins the
business), so a hit costs no SQL. A request that has changed data and not yet committed
never reads or stores a cached answer. Two stores, each worker's own memory: figures
(counts, rankings, monthly series — plain values, never ORM objects) and rendered
fragments of logged-in pages (``fragment``, kept per reader and at most five minutes).
There is nothing to keep coherent between workers: a worker whose entry is stale has a
different key for the current version.

Writes that bypass the session (the seed's bulk inserts on a raw connection, the
migrations) do not bump the version; the seed creates its businesses with fresh random
versions, and a running server should be restarted after a migration anyway.

The contract every caller keeps (docs/architecture.md, "The cache and its contract"):

1. ``parts`` names every input that is not in the database (filters, page, sort, the
   day, the reader when the answer depends on who asks).
2. Values reach a kept fragment only through ``context()`` (``htmx.render_cached``);
   ``live`` values are for the layout around it.
3. Kept values are never mutated: later requests of the same version share them.
4. A ``@cached`` figure does not read ``current_user``, ``request`` or ``session``: pass
   what it needs as an argument (tests/test_cache_contract.py checks the source).
5. Models marked ``__data_version__ = False`` and raw-connection writes do not bump the
   version: use them only for data no figure or kept fragment shows.
"""
from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import chain
from typing import TypeVar

from flask import current_app, g, has_app_context, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from .tenancy import _tenant_tables, current_tenant_id

T = TypeVar("T")
CHANGED = "pymes_changed_tenants"
_MISSING = object()


class VersionCache:
    """A thread-safe LRU of small values."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            value = self._data.get(key, _MISSING)
            if value is not _MISSING:
                self._data.move_to_end(key)
            return value

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def init_app(app) -> None:
    app.extensions["pymes_cache"] = VersionCache(app.config.get("FIGURE_CACHE_SIZE", 4096))
    app.extensions["pymes_fragments"] = VersionCache(app.config.get("FRAGMENT_CACHE_SIZE", 512))
    # Live log-in sessions, per worker (pymes.accounts.services.load_session): a hit costs
    # the business's data version read instead of the session look-up.
    app.extensions["pymes_sessions"] = VersionCache(app.config.get("SESSION_CACHE_SIZE", 4096))


def store(name: str = "pymes_cache") -> VersionCache | None:
    if not has_app_context() or not current_app.config.get("FIGURE_CACHE", True):
        return None
    return current_app.extensions.get(name)


def _session_changed(session: Session) -> bool:
    return bool(session.info.get(CHANGED) or session.new or session.dirty or session.deleted)


def current_version() -> int | None:
    """The bound business's data version, or None when nothing may be cached: no
    business on this request (jobs, public pages without one), another tenant bound
    than the logged-in one, or changes of this request not yet committed."""
    from .extensions import db

    business = g.get("business") if has_app_context() else None
    if business is None or business.id != current_tenant_id():
        return None
    if _session_changed(db.session()):
        return None
    return business.data_version


def remember(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, or the answer stored for the same name, parts, business and data
    version. ``parts`` must be hashable and name everything the answer depends on
    besides the business's data (filters, the day, the reader when it matters)."""
    cache = store()
    version = current_version() if cache is not None else None
    if version is None:
        return compute()
    key = (name, current_tenant_id(), version, parts)
    value = cache.get(key)
    if value is _MISSING:
        value = compute()
        cache.put(key, value)
    return value


DEGRADED = "pymes_cache_degraded"  # set when a piece was drawn with a fallback (a failed query): not kept
FRAGMENT_MAX_AGE = 300  # seconds: well inside the CSRF tokens' hour, and "today" moves on


def fragment(name: str, parts: tuple, render: Callable[[], str], per_session: bool = False,
             max_age: int = FRAGMENT_MAX_AGE):
    """A rendered piece of a logged-in page (a list, a table), kept per business, data
    version, reader, language and day for at most five minutes. ``per_session`` adds
    the browser session: a fragment carrying a form's CSRF token is only ever served
    back to the session it was made for. ``max_age`` shortens the five minutes for a
    fragment that shows the time passing (a complaint's age). Returns Markup."""
    from .i18n import business_today

    cache = store("pymes_fragments")
    version = current_version() if cache is not None else None
    if version is None or not current_user.is_authenticated:
        return Markup(render())
    reader = (current_user.id, str(get_locale()), business_today())
    if per_session:  # the browser's log-in and its CSRF token (Flask-WTF keeps it in the cookie session)
        generate_csrf()  # the token exists before the key is made
        key_text = f"{getattr(current_user, 'session_key', '') or ''}|{session.get('csrf_token', '')}"
        reader += (hashlib.sha256(key_text.encode()).hexdigest()[:16],)
    key = (name, current_tenant_id(), version, reader, parts)
    now = time.monotonic()
    entry = cache.get(key)
    if entry is _MISSING or now - entry[1] > max_age:
        entry = (Markup(render()), now)
        if not g.get(DEGRADED):
            cache.put(key, entry)
    return entry[0]


def cached_block(name: str, *parts, caller):
    """For templates: ``{% call cached_block("layout.header", part) %}…{% endcall %}``
    keeps what the block draws like ``fragment`` does, per browser session (the block
    may carry a form's CSRF token)."""
    return fragment(name, parts, caller, per_session=True)


def cached(name: str):
    """Decorator form of ``remember``: the positional and keyword arguments are the parts
    (they must be hashable: dates, zones, frozen dataclasses, ids)."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            return remember(name, (args, tuple(sorted(kwargs.items()))), lambda: fn(*args, **kwargs))

        return inner

    return wrap


# --- the data version: noted on every write, bumped once at commit ---------------------------

def _counts(obj) -> bool:
    """Tenant-owned rows, and the few tenant rows outside the guard's models that pages
    show (e-mailed and calendar tokens carry a ``tenant_id`` too)."""
    return getattr(type(obj), "__data_version__", True) and getattr(obj, "tenant_id", None) is not None


def note_change(tenant_id: int | None) -> None:
    """Bump ``tenant_id``'s data version when this transaction commits, for a write that
    the automatic noting cannot see (a table without ``tenant_id``: ending log-in
    sessions, so that every worker's kept copy of them is dropped at once)."""
    from .extensions import db

    _note(db.session(), tenant_id)


def _note(session: Session, tenant_id: int | None) -> None:
    if tenant_id is not None:
        session.info.setdefault(CHANGED, set()).add(tenant_id)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context) -> None:
    from .accounts.models import Business

    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Business):
            _note(session, obj.id)
        elif _counts(obj):
            _note(session, obj.tenant_id)


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    """An UPDATE, INSERT or DELETE run as a statement: the bound tenant's data changed
    when it writes a table with a ``tenant_id`` (or the businesses table itself)."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is None:
        return
    model = _tenant_tables().get(table)
    if table.name == "businesses" or ("tenant_id" in table.c and getattr(model, "__data_version__", True)):
        _note(state.session, current_tenant_id())


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    """The last statements of a writing transaction: one UPDATE per business it
    changed. Taken last, the row lock on the business is held only while committing, so
    two writers of one business cannot deadlock on it."""
    if session.in_nested_transaction():
        return  # a savepoint released: the bump belongs to the outer commit
    if session.new or session.dirty or session.deleted:
        session.flush()
    tenants = session.info.pop(CHANGED, None)
    if not tenants:
        return
    from .accounts.models import Business

    table = Business.__table__
    connection = session.connection()
    for tid in sorted(tenants):
        connection.execute(update(table).where(table.c.id == tid).values(data_version=table.c.data_version + 1))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    """The outer transaction is over (a rollback, or a commit that already bumped): what
    it noted goes. A savepoint ending keeps the outer transaction's notes."""
    if transaction.parent is None:
        session.info.pop(CHANGED, None)
