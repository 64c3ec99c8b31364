"""The activity log an owner reads (Settings → Activity): log-ins with their device and
address, failed log-ins, two-step changes, role changes, invitations, exports and
imports, deletions and restores, billing changes. Per business, kept
``AUDIT_RETENTION_DAYS`` (365) and never editable: rows are only ever inserted (an ORM
guard here, a trigger in migration 0022), and removed only by ``pymes prune-activity``
or with the whole business.

Each place that does one of those things calls ``record`` once, after its own change is
committed: the log says what happened, and a failure to write it is logged, never
turned into an error for the user."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from flask import after_this_request, current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..extensions import db
from ..jobs import EachTenant
from ..tenancy import _flag, bound, current_tenant_id
from .models import AuditEvent

log = logging.getLogger(__name__)

ACTIONS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed log-in"),
    "mfa_on": _l("Two-step verification turned on"),
    "mfa_off": _l("Two-step verification turned off"),
    "recovery_codes": _l("New recovery codes made"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by e-mail"),
    "role_changed": _l("Role changed"),
    "member_deactivated": _l("Member deactivated"),
    "member_reactivated": _l("Member reactivated"),
    "invitation_sent": _l("Invitation sent"),
    "invitation_revoked": _l("Invitation cancelled"),
    "invitation_accepted": _l("Invitation accepted"),
    "export": lazy_pgettext("activity", "Export"),  # the event, not the button ("Exportar")
    "import": lazy_pgettext("activity", "Import"),
    "import_undone": _l("Import undone"),
    "client_deleted": _l("Client deleted"),
    "client_restored": _l("Client restored"),
    "sale_deleted": _l("Sale deleted"),
    "deletion_requested": _l("Business deletion requested"),
    "deletion_cancelled": _l("Business deletion cancelled"),
    "billing": _l("Billing change"),
    "whatsapp_connected": _l("WhatsApp connected"),
    "whatsapp_disconnected": _l("WhatsApp disconnected"),
}


def retention_days() -> int:
    return int(current_app.config.get("AUDIT_RETENTION_DAYS", 365))


# --- the device and the address ------------------------------------------------------------

_BROWSERS = (("Edg/", "Edge"), ("EdgA/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
             ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "ChromeOS"),
            ("Windows", "Windows"), ("Macintosh", "Mac"), ("Linux", "Linux"))


def device_label(user_agent: str | None) -> str:
    """The User-Agent summarised as "Browser · System" (``Chrome · Android``): enough to
    recognise one's own phone, without keeping the whole fingerprint."""
    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in ua), "")
    system = next((name for token, name in _SYSTEMS if token in ua), "")
    if not browser and not system:
        cleaned = re.sub(r"[^\w./ -]", "", ua)[:40].strip()
        return cleaned
    return " · ".join(part for part in (browser, system) if part)


def _client() -> tuple[str, str]:
    if not has_request_context():
        return "", ""
    return (request.remote_addr or "")[:45], device_label(request.headers.get("User-Agent"))[:120]


# --- writing -------------------------------------------------------------------------------

def _actor(user):
    if user is not None:
        return user
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user
    return None


def record(action: str, subject: str = "", *, user=None, tenant_id: int | None = None, **details) -> None:
    """Log one action of the business: ``user`` did it (default: who is logged in), about
    ``subject`` (a name, an address, a file), with ``details``. Commits on its own; call
    it after the action's own commit."""
    if action not in ACTIONS:
        raise ValueError(f"unknown activity {action!r}")
    actor = _actor(user)
    tid = tenant_id or (actor.tenant_id if actor is not None else None) or current_tenant_id()
    if tid is None:
        log.warning("activity %s with no business: not recorded", action)
        return
    ip, device = _client()
    row = AuditEvent(tenant_id=tid, action=action, actor_id=actor.id if actor else None,
                     actor_name=(actor.name if actor else "")[:120], subject=(subject or "")[:300],
                     details={k: v for k, v in details.items() if v is not None} or None, ip=ip, device=device)
    try:
        with bound(tid):
            db.session.add(row)
            db.session.commit()
    except Exception:  # noqa: BLE001 - the action happened; losing its log line must not undo or hide it
        db.session.rollback()
        log.exception("activity %s of business=%s not recorded", action, tid)


def failed_login(email: str, find_user) -> None:
    """A wrong password for ``email``: logged for the account's business, if it has one
    (``find_user(email)``: accounts' look-up, passed in because accounts sits above the
    log), *after* the answer has gone out, so a known and an unknown address still answer
    in the same time (AUTH-3)."""
    app = current_app._get_current_object()
    ip, device = _client()

    @after_this_request
    def _later(response):
        response.call_on_close(lambda: _write_failed_login(app, email, find_user, ip, device))
        return response


def _write_failed_login(app, email: str, find_user, ip: str, device: str) -> None:
    with app.app_context():
        try:
            user = find_user(email or "")
            if user is None:
                return
            with bound(user.tenant_id):
                db.session.add(AuditEvent(tenant_id=user.tenant_id, action="login_failed", actor_id=user.id,
                                          actor_name=user.name[:120], subject=user.email, ip=ip, device=device,
                                          details={"step": "password"}))
                db.session.commit()
        except Exception:  # noqa: BLE001 - after the response: nobody to tell but the log
            db.session.rollback()
            log.exception("failed log-in not recorded")
        finally:
            db.session.remove()


# --- reading, exporting, pruning -------------------------------------------------------------

def events(page: int = 1, per_page: int = 50, action: str | None = None):
    """The business's activity, newest first (the tenant's ORM criteria scope it)."""
    stmt = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def export_rows(action: str | None = None):
    """Every row of the business's activity, newest first, read in batches."""
    stmt = (select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .execution_options(yield_per=500))
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    yield from db.session.execute(stmt).scalars()


def prune(business_ids, now=None, echo=None) -> int:
    """Delete the activity older than the retention period, business by business (each of
    ``business_ids`` bound in turn: row-level security on PostgreSQL). The ``pymes
    prune-activity`` job."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days())
    run = EachTenant("prune-activity")
    removed = 0
    for tenant_id in business_ids:
        with run.tenant(tenant_id):
            result = db.session.execute(delete(AuditEvent).where(AuditEvent.created_at < cutoff),
                                        execution_options={"audit_retention": True, "synchronize_session": False})
            db.session.commit()
            removed += result.rowcount or 0
    return run.finish(removed)


# --- never editable ------------------------------------------------------------------------

class ActivityIsPermanent(RuntimeError):
    """An attempt to change or delete a logged activity outside the retention job."""


@event.listens_for(Session, "before_flush")
def _no_edits(session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise ActivityIsPermanent("the activity log is never changed")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_edits(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) != AuditEvent.__tablename__:
        return
    if state.is_update:
        raise ActivityIsPermanent("the activity log is never changed")
    if not (state.execution_options.get("audit_retention") or _flag("_tenant_unscoped")):
        raise ActivityIsPermanent("activity is removed only by the retention job or with the business")
