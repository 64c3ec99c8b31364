"""The owner's activity log: a page (Settings → Activity) and its CSV export. There is
no route that changes or deletes a row. The log itself (recording, reading, pruning) is
``pymes.audit``, below accounts; this page, which needs the owner's decorator and the
role names, is here (blueprint "audit", as before)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, g, request
from flask_babel import format_date, format_datetime, pgettext
from flask_babel import gettext as _

from .. import tables
from ..audit import ACTIONS, events, export_rows, record, retention_days
from ..htmx import render
from ..tenancy import bound
from .decorators import owner_required
from .forms import role_label

bp = Blueprint("audit", __name__, url_prefix="/settings/activity")


def describe(event) -> str:
    """The details of one row in words of the reader's language."""
    d = event.details or {}
    parts = []
    if "from" in d and "to" in d:
        parts.append(f"{role_label(d['from'])} → {role_label(d['to'])}")
    if "role" in d:
        parts.append(role_label(d["role"]))
    if "what" in d:
        parts.append(_what(d["what"]) + (f" ({d['format'].upper()})" if d.get("format") else ""))
    if "with" in d:
        parts.append({"password": _("password only"), "code": _("password and app code"),
                      "recovery": _("password and a recovery code")}.get(d["with"], d["with"]))
    if "step" in d:
        parts.append(_("wrong code") if d["step"] == "code" else _("wrong password"))
    if "created" in d:
        parts.append(_("%(created)s new, %(merged)s merged", created=d["created"], merged=d.get("merged", 0)))
    if "removed" in d:
        parts.append(_("%(num)s clients removed", num=d["removed"]))
    if "sold_on" in d:
        parts.append(_("sale of %(date)s", date=format_date(date.fromisoformat(d["sold_on"]), "medium")))
    if "status" in d:
        status = (f"{d['was']} → " if d.get("was") else "") + d["status"]
        parts.append(_("subscription: %(status)s", status=status))
    return " · ".join(parts)


def _what(key: str) -> str:
    return {"clients": _("Clients"), "referrals": _("Referrals"), "all_data": _("All your data"),
            "activity": _("Activity log"), "rejected_rows": _("Rejected rows of an import")}.get(key, key)


def _action_filter() -> str | None:
    action = request.args.get("action", "")
    return action if action in ACTIONS else None


@bp.get("")
@owner_required
def page():
    action = _action_filter()
    try:
        number = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        number = 1
    pagination = events(number, action=action)
    return render("audit/index.html", pagination=pagination, actions=ACTIONS, action=action, describe=describe,
                  retention=retention_days())


@bp.get("/export.csv")
@owner_required
def export():
    """EXP-1: the shared streamed, formula-safe CSV of the exports."""
    action = _action_filter()
    business = g.business
    record("export", what="activity", format="csv")
    header = [_("Date"), _("Who"), _("What"), _("About"), _("Details"), _("Device"), pgettext("network address", "Address")]

    def rows():
        with bound(business.id):  # a streamed body is read after the request's teardown unbound the tenant
            yield from _rows()

    def _rows():
        for event in export_rows(action):
            yield [format_datetime(event.created_at, "yyyy-MM-dd HH:mm:ss"), event.actor_name,
                   str(ACTIONS.get(event.action, event.action)), event.subject, describe(event), event.device,
                   event.ip]

    return tables.download("csv", tables.file_name(business, "csv", "actividad"), header, rows(), _("Activity"))
