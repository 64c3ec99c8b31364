"""Complaints: open, acknowledge, remedy, tell the client, resolve; the clocks, the
escalations and the recovery check. Every change writes a line of history."""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from .. import mail
from ..accounts.models import Business, Role, User
from ..clients.models import Client
from ..db import utcnow
from ..extensions import db
from ..i18n import business_today, in_country
from ..sales.models import Sale
from ..tenancy import require_tenant
from ..validation import FieldError
from . import economics
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


def acknowledge(complaint: Complaint, actor: User) -> bool:
    """Tell the clock the client has been heard. A second click changes nothing."""
    _require_open(complaint)
    if complaint.acknowledged_at is not None:
        return False
    complaint.acknowledged_at = utcnow()
    old, complaint.status = complaint.status, "acknowledged"
    log(complaint, actor, "acknowledged", status=[old, complaint.status])
    db.session.commit()
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
    from ..clients.services import _opening_of, opening_purchases

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
    from ..referrals.models import Referral

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


# --- recovery -----------------------------------------------------------------------------

@dataclass
class Recovery:
    score_before: int | None
    score_after: int | None
    bought_again: bool
    window_over: bool

    @property
    def recovered(self) -> bool | None:
        """True: happy again or bought again; False: unhappy again, or 90 days without
        either; None: too early to say."""
        if self.bought_again or (self.score_after is not None and self.score_after >= PROMOTER_OR_PASSIVE):
            return True
        if self.score_after is not None or self.window_over:
            return False
        return None


def recovery(complaint: Complaint, today: date | None = None) -> Recovery | None:
    if complaint.resolved_at is None:
        return None
    from ..feedback.models import FeedbackResponse

    business = _business(complaint.tenant_id)
    zone = ZoneInfo(business.timezone)
    today = today or business_today(business)
    resolved_day = complaint.resolved_at.astimezone(zone).date()
    after = db.session.execute(
        select(FeedbackResponse.score).where(FeedbackResponse.client_id == complaint.client_id,
                                             FeedbackResponse.created_at > complaint.resolved_at)
        .order_by(FeedbackResponse.created_at).limit(1)).scalar_one_or_none()
    bought = db.session.execute(
        select(func.count()).select_from(Sale).where(
            Sale.client_id == complaint.client_id, Sale.sold_on > resolved_day,
            Sale.sold_on <= resolved_day + timedelta(days=RECOVERY_DAYS))).scalar_one() > 0
    return Recovery(score_before=complaint.score_before, score_after=after, bought_again=bought,
                    window_over=today > resolved_day + timedelta(days=RECOVERY_DAYS))


# --- who sees what --------------------------------------------------------------------------

def visible(user: User, stmt):
    """Sellers restricted to their own clients see complaints they own or about their
    clients; everyone else in the business sees the whole board."""
    from ..clients.services import restricted_to_own

    if restricted_to_own(user):
        mine = select(Client.id).where(Client.seller_id == user.id)
        stmt = stmt.where(or_(Complaint.owner_id == user.id, Complaint.client_id.in_(mine)))
    return stmt


def may_handle(user: User, complaint: Complaint) -> bool:
    """The case's owner, managers and owners act on it; service staff too (they handle
    complaints for the whole business)."""
    return complaint.owner_id == user.id or user.role in (Role.OWNER.value, Role.MANAGER.value, Role.SERVICE.value)


# --- board and figures ------------------------------------------------------------------------

BOARD_FILTERS = ("open", "breached", "mine", "resolved", "all")
BOARD_SORTS = ("age", "newest", "owner")


def board_query(user: User, show: str, owner_id: int | None = None, sort: str = ""):
    """The board's rows. ``sort``: "age" oldest first (the default, age is urgency; the
    resolved tab defaults to the latest resolved), "newest", or "owner" (by the name of
    who is in charge, nobody last, oldest first within each)."""
    stmt = visible(user, select(Complaint, Client).join(Client, Client.id == Complaint.client_id))
    now = utcnow()
    if show == "open":
        stmt = stmt.where(Complaint.status != "resolved")
    elif show == "breached":
        stmt = stmt.where(Complaint.status != "resolved",
                          or_(Complaint.resolve_due_at < now,
                              (Complaint.acknowledged_at.is_(None)) & (Complaint.ack_due_at < now)))
    elif show == "mine":
        stmt = stmt.where(Complaint.status != "resolved", Complaint.owner_id == user.id)
    elif show == "resolved":
        stmt = stmt.where(Complaint.status == "resolved")
    if owner_id:
        stmt = stmt.where(Complaint.owner_id == owner_id)
    if sort == "owner":
        in_charge = select(User.name).where(User.id == Complaint.owner_id).scalar_subquery()
        return stmt.order_by(in_charge.is_(None), in_charge, Complaint.opened_at, Complaint.id)
    if sort == "newest":
        return stmt.order_by(Complaint.opened_at.desc(), Complaint.id.desc())
    if show == "resolved" and sort != "age":
        return stmt.order_by(Complaint.resolved_at.desc(), Complaint.id.desc())
    return stmt.order_by(Complaint.opened_at, Complaint.id)  # oldest first: age is urgency


def counts(user: User) -> dict:
    now = utcnow()
    base = visible(user, select(func.count()).select_from(Complaint).where(Complaint.status != "resolved"))
    open_count = db.session.execute(base).scalar_one()
    late = db.session.execute(base.where(or_(Complaint.resolve_due_at < now,
                                             (Complaint.acknowledged_at.is_(None)) & (Complaint.ack_due_at < now)))
                              ).scalar_one()
    mine = db.session.execute(base.where(Complaint.owner_id == user.id)).scalar_one()
    return {"open": open_count, "breached": late, "mine": mine}


@dataclass
class Figures:
    opened: int
    resolved: int
    median_ack_hours: float | None
    median_resolve_days: float | None
    breached: int
    recovered: int
    recovery_known: int
    remedy_cost: int
    value_kept: int

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.recovery_known if self.recovery_known else None


def figures(user: User, days: int, today: date | None = None) -> Figures:
    """The period's figures: cases opened in the last ``days`` days."""
    since = utcnow() - timedelta(days=days)
    cases = db.session.execute(visible(user, select(Complaint).where(Complaint.opened_at >= since))).scalars().all()
    acks = [(c.acknowledged_at - c.opened_at).total_seconds() / 3600 for c in cases if c.acknowledged_at]
    done = [c for c in cases if c.resolved_at]
    resolves = [(c.resolved_at - c.opened_at).total_seconds() / 86400 for c in done]
    outcomes = [recovery(c, today) for c in done]
    known = [r for r in outcomes if r is not None and r.recovered is not None]
    recovered_cases = [c for c, r in zip(done, outcomes, strict=False) if r is not None and r.recovered]
    return Figures(opened=len(cases), resolved=len(done),
                   median_ack_hours=statistics.median(acks) if acks else None,
                   median_resolve_days=statistics.median(resolves) if resolves else None,
                   breached=sum(1 for c in cases if breached(c)),
                   recovered=sum(1 for r in known if r.recovered), recovery_known=len(known),
                   remedy_cost=sum(c.remedy_cost or 0 for c in done),
                   value_kept=sum(c.value_kept or 0 for c in recovered_cases))


# --- jobs: escalations and follow-up links ----------------------------------------------------

def _managers() -> list[User]:
    return db.session.execute(select(User).where(User.active.is_(True), User.role.in_(("owner", "manager")))
                              .order_by(User.id)).scalars().all()


def _claim(complaint_id: int, column) -> bool:
    """Mark an escalation as sent, atomically: only one run (or worker) wins."""
    result = db.session.execute(update(Complaint).where(Complaint.id == complaint_id, column.is_(None))
                                .values({column.key: utcnow()}))
    db.session.commit()
    return result.rowcount == 1


def escalate_breaches(echo=lambda message: None) -> int:
    """E-mail the managers about each case that missed a target, once per target, and
    tell them in the app once per case (its first missed target)."""
    from ..accounts.services import external_url
    from ..jobs import EachTenant
    from ..notifications.services import notify

    run = EachTenant("escalate-complaints")
    sent = 0
    now = utcnow()
    from ..accounts.services import live_business_ids

    for business_id in live_business_ids():
        with run.tenant(business_id):
            business = db.session.get(Business, business_id)
            late = db.session.execute(select(Complaint).where(Complaint.status != "resolved", or_(
                (Complaint.acknowledged_at.is_(None)) & (Complaint.ack_due_at < now) & Complaint.ack_escalated_at.is_(None),
                (Complaint.resolve_due_at < now) & Complaint.resolve_escalated_at.is_(None)))
                .order_by(Complaint.id)).scalars().all()
            for complaint in late:
                which = []
                if complaint.acknowledged_at is None and complaint.ack_due_at < now and complaint.ack_escalated_at is None:
                    which.append(("ack", Complaint.ack_escalated_at))
                if complaint.resolve_due_at < now and complaint.resolve_escalated_at is None:
                    which.append(("resolve", Complaint.resolve_escalated_at))
                first_lateness = complaint.ack_escalated_at is None and complaint.resolve_escalated_at is None
                for kind, column in which:
                    if not _claim(complaint.id, column):
                        continue
                    client = db.session.get(Client, complaint.client_id)
                    owner = db.session.get(User, complaint.owner_id) if complaint.owner_id else None
                    log(complaint, None, "escalated", target=kind)
                    if first_lateness:  # in the app once per case; the e-mail tells which target
                        notify([m.id for m in _managers()], "complaint_late",
                               {"client": client.name, "complaint_id": complaint.id, "target": kind},
                               f"/complaints/{complaint.id}")
                        first_lateness = False
                    db.session.commit()
                    for manager in _managers():
                        mail.send_email(manager.email, lambda name=client.name: _l("Complaint late: %(name)s", name=name),
                                        "complaint_late", manager.language, user=manager, client=client,
                                        complaint=complaint, owner=owner, kind=kind, business=business,
                                        link=external_url("complaints.show", complaint_id=complaint.id))
                    sent += 1
                    echo(f"complaint {complaint.id} of business {business_id}: {kind} target missed, managers told")
    return run.finish(sent)


def send_followups(echo=lambda message: None) -> int:
    """The follow-up of each resolved case, on its day: a feedback link by e-mail when
    the client has an address, otherwise a call in the owner's agenda to ask in person."""
    from ..accounts.services import external_url
    from ..feedback import services as feedback
    from ..jobs import EachTenant
    from ..visits.models import Activity

    run = EachTenant("send-followups")
    done = 0
    from ..accounts.services import live_business_ids

    for business_id in live_business_ids():
        with run.tenant(business_id):
            business = db.session.get(Business, business_id)
            today = business_today(business)
            due = db.session.execute(select(Complaint.id).where(
                Complaint.status == "resolved", Complaint.followup_on <= today,
                Complaint.followup_sent_at.is_(None)).order_by(Complaint.id)).scalars().all()
            for complaint_id in due:
                if not _claim(complaint_id, Complaint.followup_sent_at):
                    continue
                complaint = db.session.get(Complaint, complaint_id)
                client = db.session.get(Client, complaint.client_id)
                if client is None or client.deleted_at is not None:
                    continue
                if client.email:
                    secret = feedback.create_link(client, None, sent_by="email", sale_id=complaint.sale_id)
                    feedback.email_link(client, business, external_url("feedback.public", token=secret))
                    log(complaint, None, "followup", via="email")
                else:
                    with force_locale(business.language):
                        note = str(_l("After the complaint: ask how it is going now and send a feedback link."))
                    db.session.add(Activity(client_id=client.id, seller_id=complaint.owner_id or client.seller_id,
                                            kind="call", purpose="other", due_on=today, notes=note))
                    log(complaint, None, "followup", via="call")
                db.session.commit()
                done += 1
                echo(f"complaint {complaint_id} of business {business_id}: follow-up sent")
    return run.finish(done)


# --- telling the client ---------------------------------------------------------------------

def client_language(client: Client, business: Business) -> str:
    """The language chosen for the client (``Client.language``: es, en, pt or ru), else
    the business's: the same rule as the feedback messages."""
    from ..feedback.services import client_language as theirs

    return theirs(client, business)


def message_to_client(complaint: Complaint, client: Client, business: Business) -> tuple[str, str]:
    """(subject, text) telling the client what will be done, in their language."""
    from ..contact import greeting_name
    from .forms import REMEDY_LABELS

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
