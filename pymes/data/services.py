"""A business's ownership of its data (DATA-3): the full export, the deletion request
with its grace period, and the purge.

Every tenant-owned table is found from the SQLAlchemy metadata (a ``tenant_id``
column), so a table added later is exported and purged without touching this file.
Secret columns (password, token and session-key hashes, capability keys and URLs)
never leave the database; a model may also mark a column with
``info={"export": False}``."""
from __future__ import annotations

import json
import logging
import unicodedata
import zipfile
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import LargeBinary, Table, delete, select

from .. import mail
from ..accounts.models import Business, Role, User
from ..billing.models import Subscription
from ..config import billing_enabled
from ..db import utcnow
from ..extensions import db
from ..jobs import EachTenant
from ..tables import csv_stream, file_name
from ..tenancy import bound, unscoped
from ..validation import FieldError

log = logging.getLogger(__name__)

# Columns that are secrets, not the business's data: log-in and e-mailed token hashes,
# the testimonial wall's key, an open Stripe Checkout (a payable URL).
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "key_hash", "wall_key", "wall_key_hash",
                            "wall_key_sealed", "code_hash", "code_sealed", "checkout_url",
                            "checkout_session_id"})
BATCH = 1000
CHUNK_BYTES = 64 * 1024  # compressed bytes gathered before they leave
LOGO_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


# --- which tables and columns ---------------------------------------------------------

def tenant_tables() -> list[Table]:
    """Every table with a ``tenant_id`` column, parents before children."""
    return [t for t in db.metadata.sorted_tables if "tenant_id" in t.c]


def dependent_tables() -> list[tuple[Table, object, Table, object]]:
    """Tables without a ``tenant_id`` whose rows belong to a tenant through a foreign key
    to a tenant table (log-in sessions through their user) or to the business itself:
    (table, column, parent, parent column)."""
    found = []
    for table in db.metadata.sorted_tables:
        if "tenant_id" in table.c or table.name == Business.__tablename__:
            continue
        for fk in table.foreign_keys:
            if "tenant_id" in fk.column.table.c or fk.column.table.name == Business.__tablename__:
                found.append((table, fk.parent, fk.column.table, fk.column))
    return found


def _owned(parent: Table, parent_column, tenant_id: int):
    """The parent keys that belong to the tenant: a subquery, or the tenant id itself."""
    if parent.name == Business.__tablename__:
        return [tenant_id]
    return select(parent_column).where(parent.c.tenant_id == tenant_id)


def is_secret(column) -> bool:
    name = column.name.lower()
    return (column.info.get("export") is False or name in SECRET_COLUMNS or name.endswith("_hash")
            or "password" in name or "secret" in name or isinstance(column.type, LargeBinary))


def export_columns(table: Table) -> list:
    return [c for c in table.c if not is_secret(c)]


# --- the export -----------------------------------------------------------------------

def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _table_rows(table: Table, columns: list, tenant_id: int, counter: list):
    key = table.c.tenant_id if table.name != Business.__tablename__ else table.c.id
    order = list(table.primary_key.columns) or columns[:1]
    stmt = (select(*columns).where(key == tenant_id).order_by(*order).execution_options(yield_per=BATCH))
    for row in db.session.execute(stmt):
        counter[0] += 1
        yield [_cell(v) for v in row]


class _Sink:
    """A write-only file for ``zipfile``: it keeps what was written until the stream
    takes it. ``tell`` fails, so zipfile writes a streamable zip (data descriptors)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def tell(self):
        raise OSError("not seekable")

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _write_csv(archive: zipfile.ZipFile, sink: _Sink, name: str, table: Table, tenant_id: int, entry: dict):
    """One CSV in the zip, written as the rows come (EXP-1 through the exports' helper);
    yields the compressed bytes as they are ready."""
    columns = export_columns(table)
    counter = [0]
    entry.update({"file": name, "table": table.name, "columns": [c.name for c in columns]})
    with archive.open(name, "w", force_zip64=True) as raw:
        for chunk in csv_stream(entry["columns"], _table_rows(table, columns, tenant_id, counter)):
            raw.write(chunk.encode("utf-8"))
            if sum(map(len, sink.parts)) >= CHUNK_BYTES:
                yield sink.take()
    entry["rows"] = counter[0]
    yield sink.take()


def export_archive(business: Business):
    """Everything the business owns as a zip, streamed: ``businesses.csv`` (its own row),
    one CSV per tenant table, its logo, and ``manifest.json`` last (it holds the row
    counts). Rows are read in batches and bytes leave as they are compressed, so memory
    stays flat and the download starts at once whatever the size.

    A streamed body is read after the request's teardown has unbound the tenant, so the
    generator binds it itself, from the logged-in owner's business (layer 1)."""
    tenant_id, name = business.id, business.name
    sink = _Sink()
    files: list[dict] = []
    with bound(tenant_id):
        archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
        for file_name, table in [("businesses.csv", Business.__table__)] + [
                (f"{t.name}.csv", t) for t in tenant_tables()]:
            entry: dict = {}
            yield from _write_csv(archive, sink, file_name, table, tenant_id, entry)
            files.append(entry)
        logo, mime = db.session.execute(
            select(Business.logo, Business.logo_mime).where(Business.id == tenant_id)).one()
        if logo:
            logo_name = f"logo.{LOGO_EXTENSIONS.get(mime or '', 'bin')}"
            archive.writestr(logo_name, logo)
            files.append({"file": logo_name, "table": "businesses", "column": "logo", "mime": mime,
                          "bytes": len(logo)})
        manifest = {
            "business": name,
            "business_id": tenant_id,
            "generated_at": utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "format": "CSV, UTF-8 with BOM, comma-separated, header row; times in UTC (ISO 8601); "
                      "text that a spreadsheet would read as a formula starts with an apostrophe",
            "files": files,
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        archive.close()
        db.session.rollback()
    yield sink.take()


def archive_name(business: Business) -> str:
    return file_name(business, "zip", "data")


# --- deletion -------------------------------------------------------------------------

def grace_days() -> int:
    return int(current_app.config.get("DELETION_GRACE_DAYS", 14))


def purge_on(business: Business) -> datetime | None:
    """When the business will be purged, or None when no deletion is requested."""
    if business.deletion_requested_at is None:
        return None
    return business.deletion_requested_at + timedelta(days=grace_days())


def _same_name(typed: str, name: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s or "").split()).casefold()

    return bool(typed and typed.strip()) and norm(typed) == norm(name)


def _owners(tenant_id: int) -> list[User]:
    with bound(tenant_id):
        return list(db.session.execute(
            select(User).where(User.role == Role.OWNER.value, User.active.is_(True)).order_by(User.id)).scalars())


def request_deletion(business: Business, owner: User, typed_name: str) -> datetime:
    """The owner typed the business's name: schedule the purge and tell every owner."""
    if not _same_name(typed_name, business.name):
        raise FieldError("confirm_name", str(_l("Type the business name exactly as it is shown: %(name)s.",
                                                name=business.name)))
    if _still_paying(business):
        raise FieldError("confirm_name", str(_l("Cancel the subscription on the billing page first, so that Stripe "
                                                "stops charging; then delete the business.")))
    business = db.session.get(Business, business.id)
    if business.deletion_requested_at is None:
        business.deletion_requested_at = utcnow()
    db.session.commit()
    when = purge_on(business)
    for user in _owners(business.id):
        mail.send_email(user.email, lambda: _l("%(business)s will be deleted on Fideliza", business=business.name),
                        "business_deletion", user.language, reply_to=owner.email, user=user, business=business,
                        requested_by=owner,
                        purge_on=when, link=f"{current_app.config['BASE_URL']}/settings/data")
    log.info("deletion requested business=%s user=%s", business.id, owner.id)
    return when


def _still_paying(business: Business) -> bool:
    """A Stripe subscription that will charge again (the purge removes our rows, not
    Stripe's subscription): the owner cancels it first, in the Customer Portal."""
    if not billing_enabled(current_app.config):
        return False
    sub = db.session.execute(select(Subscription).where(Subscription.tenant_id == business.id)).scalar_one_or_none()
    return bool(sub and sub.stripe_subscription_id and sub.status in ("active", "trialing", "past_due")
                and not sub.cancel_at_period_end)


def cancel_deletion(business: Business, owner: User) -> None:
    business = db.session.get(Business, business.id)
    business.deletion_requested_at = None
    db.session.commit()
    log.info("deletion cancelled business=%s user=%s", business.id, owner.id)


def due_for_purge(now: datetime | None = None) -> list[int]:
    cutoff = (now or utcnow()) - timedelta(days=grace_days())
    return list(db.session.execute(
        select(Business.id).where(Business.deletion_requested_at.is_not(None),
                                  Business.deletion_requested_at <= cutoff).order_by(Business.id)).scalars())


def purge_business(tenant_id: int, now: datetime | None = None) -> bool:
    """Delete every row of one business in one transaction: each tenant table (children
    first), the rows that belong to it through a foreign key (log-in sessions), then
    the business. Runs as that tenant (row-level security on PostgreSQL) with the ORM
    safety net off (a cross-tenant CLI job). False when the request was cancelled."""
    cutoff = (now or utcnow()) - timedelta(days=grace_days())
    with unscoped(), bound(tenant_id):
        try:
            business = db.session.execute(
                select(Business).where(Business.id == tenant_id).with_for_update()).scalar_one_or_none()
            if (business is None or business.deletion_requested_at is None
                    or business.deletion_requested_at > cutoff):
                db.session.rollback()
                return False
            for table, column, parent, parent_column in dependent_tables():
                db.session.execute(delete(table).where(column.in_(_owned(parent, parent_column, tenant_id))))
            for table in reversed(tenant_tables()):
                db.session.execute(delete(table).where(table.c.tenant_id == tenant_id))
            db.session.execute(delete(Business.__table__).where(Business.__table__.c.id == tenant_id))
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        db.session.expunge_all()
    log.info("business purged business=%s", tenant_id)
    return True


def purge_due(now: datetime | None = None, echo=None) -> int:
    """Purge every business whose grace period is over (the ``purge-deleted`` command)."""
    run = EachTenant("purge-deleted")
    purged = 0
    for tenant_id in due_for_purge(now):
        with run.tenant(tenant_id):
            if purge_business(tenant_id, now):
                purged += 1
                if echo:
                    echo(f"business {tenant_id} purged")
    return run.finish(purged)
