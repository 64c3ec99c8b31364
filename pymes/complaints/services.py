"""Complaints, write side: open, acknowledge, remedy, tell the client, resolve; the clocks
and the case's economics. Every change writes a line of history. The read side (recovery,
who sees what, the board, figures) is in ``queries.py``; the cron jobs in ``jobs.py``."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..accounts.models import Business, User
from ..clients.models import Client
from ..clients.services import _opening_of, opening_purchases
from ..contact import client_language, greeting_name
from ..db import utcnow
from ..events import sale_deleting
from ..extensions import db
from ..i18n import business_today, in_country
from ..referrals.models import Referral
from ..sales.models import Sale
from ..tenancy import require_tenant
from ..validation import FieldError
from . import economics
from .forms import REMEDY_LABELS
from .models import MAX_COST, Complaint, ComplaintEvent, ComplaintSettings

# The graded scale of clocks, tightest first (rule 4: an apostle's complaint is urgent).
# Level 0 gets the business's tight targets, the last level its normal ones; the levels
# between are spread evenly, so the two pairs a manager edits set the whole scale.
TIER_LEVELS = {"apostle": 0, "frequent": 1, "sporadic": 2, "buyer": 3}
SEVERITY_LEVELS = {"urgent": 0, "high": 1}
LOOSEST = 3
PRIORITY_LEVEL = 1  # levels 0 and 1 are shown as urgent
RECOVERY_DAYS = 90
PROMOTER_OR_PASSIVE = 7


# --- settings and clocks ----------------------------------------------------------------

def settings() -> ComplaintSettings:
    """The business's targets (defaults until a manager changes them)."""
    found = db.session.execute(select(ComplaintSettings)).scalar_one_or_none()
    return found or ComplaintSettings(ack_hours=24, resolve_days=5, priority_ack_hours=4, priority_resolve_days=2,
                                      acquisition_multiplier=5, followup_days=5)


def save_settings(values: dict) -> None:
    current = db.session.execute(select(ComplaintSettings)).scalar_one_or_none()
    if current is None:
        current = ComplaintSettings()
        db.session.add(current)
    for key, value in values.items():
        setattr(current, key, value)
    db.session.commit()


def default_severity(client: Client) -> str:
    """An apostle's complaint is urgent; a frequent client's is high (rule 4)."""
    return {"apostle": "urgent", "frequent": "high"}.get(client.tier or "", "normal")


def level(severity: str, tier: str | None) -> int:
    """Where a case sits on the scale: by the client's tier (apostle 0, frequent 1,
    sporadic 2, one-off buyer or no tier 3), tightened by its severity (urgent 0, high 1)."""
    return min(TIER_LEVELS.get(tier or "", LOOSEST), SEVERITY_LEVELS.get(severity, LOOSEST))


def is_priority(severity: str, tier: str | None) -> bool:
    return level(severity, tier) <= PRIORITY_LEVEL


def _between(tight: int, normal: int, at: int) -> int:
    """``tight`` at level 0, ``normal`` at the loosest level, evenly between (half up)."""
    return tight + (2 * (normal - tight) * at + LOOSEST) // (2 * LOOSEST)


def targets_for(targets: ComplaintSettings, at: int) -> tuple[int, int]:
    """(hours to acknowledge, business days to resolve) at level ``at`` of the scale."""
    return (_between(targets.priority_ack_hours, targets.ack_hours, at),
            _between(targets.priority_resolve_days, targets.resolve_days, at))


def scale(targets: ComplaintSettings) -> list[tuple[str, int, int]]:
    """The whole scale, tightest first: (tier, hours, days), for the settings page."""
    return [(tier, *targets_for(targets, at)) for tier, at in TIER_LEVELS.items()]


def add_business_days(start: date, days: int) -> date:
    """``days`` working days (Monday to Friday) after ``start``."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def clocks(opened_at: datetime, zone: ZoneInfo, targets: ComplaintSettings, at: int) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) at level ``at`` of the scale. Acknowledging is counted
    in hours of the clock; resolving in business days where the business is, due at the
    end of the last one."""
    hours, days = targets_for(targets, at)
    local_day = opened_at.astimezone(zone).date()
    last = add_business_days(local_day, days)
    resolve_by = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return opened_at + timedelta(hours=hours), resolve_by


def ack_breached(c: Complaint, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (c.acknowledged_at or now) > c.ack_due_at


def resolve_breached(c: Complaint, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (c.resolved_at or now) > c.resolve_due_at


def breached(c: Complaint, now: datetime | None = None) -> bool:
    return ack_breached(c, now) or resolve_breached(c, now)


# --- history ------------------------------------------------------------------------------

def log(complaint: Complaint, actor: User | None, kind: str, detail: str = "", **changes) -> None:
    """One line of history. ``changes`` (old → new pairs as ``[old, new]`` lists, or plain
    values) are kept as JSON in ``detail`` so the page can show them formatted."""
    if changes:
        detail = json.dumps(changes, ensure_ascii=False, default=str)
    db.session.add(ComplaintEvent(complaint_id=complaint.id, user_id=actor.id if actor else None, kind=kind,
                                  detail=detail[:4000], created_at=utcnow()))


def changes(event: ComplaintEvent) -> dict | None:
    """The structured change an event recorded, or None for a plain-text (older) line."""
    if not event.detail.startswith("{"):
        return None
    try:
        found = json.loads(event.detail)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


# --- the case's life ---------------------------------------------------------------------

def _business(tenant_id: int | None = None) -> Business:
    return db.session.get(Business, tenant_id or require_tenant())


def _check_owner(owner_id: int | None) -> None:
    if owner_id is None:
        return
    owner = db.session.get(User, owner_id)
    if owner is None or owner.tenant_id != require_tenant() or not owner.active:
        raise FieldError("owner_id", str(_l("Choose someone from your team.")))


def _check_sale(client: Client, sale_id: int | None) -> None:
    if sale_id is None:
        return
    sale = db.session.execute(select(Sale).where(Sale.id == sale_id, Sale.client_id == client.id)).scalar_one_or_none()
    if sale is None:
        raise FieldError("sale_id", str(_l("That sale is not one of this client's.")))


def open_complaint(client: Client, actor: User | None, *, category: str, description: str, severity: str | None = None,
                   sale_id: int | None = None, owner_id: int | None = None, source: str = "manual",
                   feedback_response_id: int | None = None, activity_id: int | None = None,
                   score_before: int | None = None, commit: bool = True) -> Complaint:
    """Open a case, owned by the chosen person or the client's responsible seller, with
    its clocks set from the business's targets (tighter for better clients)."""
    if client.deleted_at is not None:
        raise FieldError("description", str(_l("This client was deleted: restore them first.")))
    _check_sale(client, sale_id)
    _check_owner(owner_id)
    severity = severity or default_severity(client)
    priority = is_priority(severity, client.tier)
    business = _business(client.tenant_id)
    now = utcnow()
    ack_by, resolve_by = clocks(now, ZoneInfo(business.timezone), settings(), level(severity, client.tier))
    complaint = Complaint(client_id=client.id, sale_id=sale_id, category=category, severity=severity,
                          description=description.strip(), owner_id=owner_id or client.seller_id or (actor.id if actor else None),
                          opened_by_id=actor.id if actor else None, source=source, priority=priority,
                          feedback_response_id=feedback_response_id, activity_id=activity_id,
                          score_before=score_before, opened_at=now, ack_due_at=ack_by, resolve_due_at=resolve_by,
                          status="open")
    db.session.add(complaint)
    db.session.flush()
    log(complaint, actor, "opened", description.strip())
    if commit:
        db.session.commit()
    return complaint


class Closed(Exception):
    """A resolved case stays closed, so its clocks and figures stay true."""


class NotClosed(Exception):
    """Only a resolved case can be reopened; an open one is simply still open."""


def _require_open(complaint: Complaint) -> None:
    if complaint.status == "resolved":
        raise Closed()


# What a higher feature does to tell the client by itself when a case is acknowledged or
# resolved (WhatsApp, when connected), registered at import so that complaints stays below
# it: each is called after the commit with (complaint, "acknowledged" | "resolved") and
# commits what it records itself. Without one, the team tells the client as before.
CLIENT_MESSENGERS: list = []


def _tell_client(complaint: Complaint, what: str) -> None:
    for messenger in CLIENT_MESSENGERS:
        messenger(complaint, what)


def acknowledge(complaint: Complaint, actor: User) -> bool:
    """Tell the clock the client has been heard. A second click changes nothing."""
    _require_open(complaint)
    if complaint.acknowledged_at is not None:
        return False
    complaint.acknowledged_at = utcnow()
    old, complaint.status = complaint.status, "acknowledged"
    log(complaint, actor, "acknowledged", status=[old, complaint.status])
    db.session.commit()
    _tell_client(complaint, "acknowledged")
    return True


def assign(complaint: Complaint, actor: User, owner_id: int | None) -> None:
    _require_open(complaint)
    if owner_id is None:
        raise FieldError("owner_id", str(_l("Choose who owns this complaint.")))
    _check_owner(owner_id)
    if owner_id != complaint.owner_id:
        before = db.session.get(User, complaint.owner_id) if complaint.owner_id else None
        log(complaint, actor, "assigned", owner=[complaint.owner_id, owner_id],
            names=[before.name if before else None, db.session.get(User, owner_id).name])
        complaint.owner_id = owner_id
    db.session.commit()


def change_severity(complaint: Complaint, actor: User, severity: str) -> bool:
    """A new severity moves the case on the scale: its clocks are counted again from the
    moment it was opened (with today's targets). Returns whether anything changed."""
    _require_open(complaint)
    if severity == complaint.severity:
        return False
    client = db.session.get(Client, complaint.client_id)
    business = _business(complaint.tenant_id)
    ack_by, resolve_by = clocks(complaint.opened_at, ZoneInfo(business.timezone), settings(),
                                level(severity, client.tier))
    log(complaint, actor, "severity", severity=[complaint.severity, severity],
        ack_due_at=[complaint.ack_due_at.isoformat(), ack_by.isoformat()],
        resolve_due_at=[complaint.resolve_due_at.isoformat(), resolve_by.isoformat()])
    complaint.severity, complaint.priority = severity, is_priority(severity, client.tier)
    complaint.ack_due_at, complaint.resolve_due_at = ack_by, resolve_by
    db.session.commit()
    return True


def record_remedy(complaint: Complaint, actor: User, remedy: str, cost: int | None, notes: str) -> None:
    _require_open(complaint)
    if cost is None:
        cost = 0
    if cost < 0:
        raise FieldError("remedy_cost", str(_l("A cost cannot be negative.")))
    if cost >= MAX_COST:
        raise FieldError("remedy_cost", str(_l("That amount is too large for a remedy: check the digits.")))
    log(complaint, actor, "remedy", remedy=[complaint.remedy, remedy], remedy_cost=[complaint.remedy_cost, cost],
        notes=notes.strip())
    complaint.remedy, complaint.remedy_cost, complaint.remedy_notes = remedy, cost, notes.strip()
    db.session.commit()


def mark_told(complaint: Complaint, actor: User, channel: str) -> None:
    _require_open(complaint)
    complaint.client_told_at = utcnow()
    complaint.client_told_via = channel
    log(complaint, actor, "told", channel=channel)
    db.session.commit()


def resolve(complaint: Complaint, actor: User, note: str = "") -> None:
    """Close the case: a remedy is required; the economics are kept for the figures and a
    follow-up feedback link is scheduled to confirm the client is happy again."""
    _require_open(complaint)
    if not complaint.remedy:
        raise FieldError("remedy", str(_l("Record the remedy before resolving: what was done for the client?")))
    now = utcnow()
    business = _business(complaint.tenant_id)
    if complaint.acknowledged_at is None:
        complaint.acknowledged_at = now
    old_status, complaint.status = complaint.status, "resolved"
    complaint.resolved_at = now
    figures = economics_for(complaint)
    complaint.annual_margin, complaint.value_kept = figures.annual_margin, figures.value_kept
    complaint.followup_on = business_today(business) + timedelta(days=settings().followup_days)
    log(complaint, actor, "resolved", status=[old_status, "resolved"], note=note.strip())
    db.session.commit()
    _tell_client(complaint, "resolved")


def reopen(complaint: Complaint, actor: User, reason: str) -> Complaint:
    """The problem came back after the case was resolved. The resolved case is not
    rewritten (its times and the figures stay true): a new case is opened for the same
    client, sale and category, its description the reason, and both histories say so."""
    if complaint.status != "resolved":
        raise NotClosed()
    reason = reason.strip()
    if not reason:
        raise FieldError("reason", str(_l("Say what is wrong again: it becomes the new complaint's description.")))
    client = db.session.get(Client, complaint.client_id)
    sale_id = complaint.sale_id
    if sale_id is not None and db.session.get(Sale, sale_id) is None:
        sale_id = None
    owner_id = complaint.owner_id
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.active:
        owner_id = None
    again = open_complaint(client, actor, category=complaint.category, description=reason, severity=complaint.severity,
                           sale_id=sale_id, owner_id=owner_id, source="manual", score_before=complaint.score_before,
                           commit=False)
    log(again, actor, "continues", from_id=complaint.id)
    log(complaint, actor, "reopened", new_id=again.id, reason=reason)
    db.session.commit()
    return again


# --- economics ----------------------------------------------------------------------------

def sale_facts(client_id: int) -> list[economics.SaleFact]:
    """The client's purchases for the economics: their sales, and the purchases an
    imported opening balance (issue 17, ``ClientOpening``) still stands for.

    Decision: the opening balance counts. It is the shop's own record of what the client
    bought before Fideliza (how many purchases, the total, the last date), and a client
    imported with twelve purchases last year is not a one-off buyer to the shop. The
    purchases are the ladder's dates (``opening_purchases``: spread over the period
    before the last one, replaced by real sales from the first real sale on), each worth
    an equal share of the sheet's total, like the client's yearly revenue
    (``clients.services.refresh_client``). The sheet records no margin: those purchases
    count in the client's spend and rhythm, and the margin rate comes from the sales that
    record one (none: nothing at stake, as for any sale without a margin). A sheet
    without a total gives no amount to value, and is left out."""
    rows = db.session.execute(select(Sale.sold_on, Sale.amount, Sale.margin).where(Sale.client_id == client_id)).all()
    facts = [economics.SaleFact(*row) for row in rows]
    opening = _opening_of(client_id)
    if opening is not None and opening.total_amount:
        each = opening.total_amount // opening.purchases
        facts += [economics.SaleFact(day, each, None, imported=True)
                  for day in opening_purchases(opening, [f.sold_on for f in facts])]
    return facts


def referral_margin(client_id: int, as_of: date) -> int:
    """The margin left in the 12 months before ``as_of`` by the clients this client
    brought (recorded as referred by them, or a referral of theirs that converted)."""
    referred = select(Client.id).where(or_(
        Client.referred_by_id == client_id,
        Client.id.in_(select(Referral.prospect_id).where(Referral.referrer_id == client_id,
                                                         Referral.status == "converted"))))
    total = db.session.execute(select(func.coalesce(func.sum(Sale.margin), 0)).where(
        Sale.client_id.in_(referred), Sale.client_id != client_id,
        Sale.sold_on > as_of - timedelta(days=economics.WINDOW_DAYS), Sale.sold_on <= as_of)).scalar_one()
    return int(total)


def economics_for(complaint: Complaint, remedy_cost: int | None = None) -> economics.Economics:
    """The economics as of the day the case was opened (what was at stake then).
    ``remedy_cost`` is a cost being typed; without it, the one recorded (or none yet)."""
    business = _business(complaint.tenant_id)
    as_of = complaint.opened_at.astimezone(ZoneInfo(business.timezone)).date()
    sale_margin = None
    if complaint.sale_id:
        sale_margin = db.session.execute(select(Sale.margin).where(Sale.id == complaint.sale_id)).scalar_one_or_none()
    cost = complaint.remedy_cost if remedy_cost is None else remedy_cost
    return economics.compute(sale_facts(complaint.client_id), as_of, remedy_cost=cost, sale_margin=sale_margin,
                             multiplier=settings().acquisition_multiplier,
                             referral_margin=referral_margin(complaint.client_id, as_of))


# --- telling the client ---------------------------------------------------------------------

def message_to_client(complaint: Complaint, client: Client, business: Business) -> tuple[str, str]:
    """(subject, text) telling the client what will be done, in their language."""
    first = greeting_name(client)
    with force_locale(client_language(client, business)), in_country(business.country):
        remedy = str(REMEDY_LABELS.get(complaint.remedy or "", "")).lower()
        subject = str(_l("About your complaint to %(business)s", business=business.name))
        text = str(_l("Hello %(name)s, this is %(business)s. We are sorry about the problem you told us about. "
                      "What we are doing about it: %(remedy)s.", name=first, business=business.name, remedy=remedy))
        if complaint.remedy_notes:
            text += " " + complaint.remedy_notes
        text += " " + str(_l("Thank you for telling us: it helps us serve you better."))
    return subject, text


@sale_deleting.connect
def _unlink_deleted_sale(sale: Sale) -> None:
    """A complaint about a deleted sale keeps its case without the link."""
    for complaint in db.session.execute(select(Complaint).where(Complaint.sale_id == sale.id)).scalars():
        complaint.sale_id = None
