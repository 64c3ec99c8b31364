"""A complaint's history as the case page shows it: each event's recorded change
(``services.changes``) spelled out in the reader's language, old → new, money in the
business's currency. One small function per kind of change, in ``CHANGE_LINES``'s order."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _

from ..clients.forms import CHANNEL_LABELS
from ..i18n import money
from . import services
from .models import ComplaintEvent


@dataclass(frozen=True)
class Words:
    """How a recorded value reads: labels by kind, teammates' names by id."""
    labels: dict
    names: dict

    def label(self, kind: str, value) -> str:
        if value is None or value == "":
            return "—"
        return str(self.labels[kind].get(value, value)) if kind in self.labels else str(value)

    def pair(self, kind: str, values) -> dict:
        old, new = values
        return dict(old=self.label(kind, old), new=self.label(kind, new))


def _cost(value) -> str:
    return "—" if value is None else money(value)


def _when(value, day: bool = False) -> str:
    if not value:
        return "—"
    moment = datetime.fromisoformat(value)
    # the resolve target is due at midnight after its last day: show that day
    return format_date(moment - timedelta(seconds=1)) if day else format_datetime(moment, "short")


def _status(change: dict, words: Words) -> list[str]:
    return [_("State: %(old)s → %(new)s", **words.pair("status", change["status"]))]


def _owner(change: dict, words: Words) -> list[str]:
    (old_id, new_id), (old_name, new_name) = change["owner"], change.get("names", [None, None])
    return [_("In charge: %(old)s → %(new)s", old=words.names.get(old_id) or old_name or "—",
              new=words.names.get(new_id) or new_name or "—")]


def _severity(change: dict, words: Words) -> list[str]:
    ack, resolve = change["ack_due_at"], change["resolve_due_at"]
    return [_("Severity: %(old)s → %(new)s", **words.pair("severity", change["severity"])),
            _("Acknowledge by: %(old)s → %(new)s", old=_when(ack[0]), new=_when(ack[1])),
            _("Resolve by: %(old)s → %(new)s", old=_when(resolve[0], day=True), new=_when(resolve[1], day=True))]


def _remedy(change: dict, words: Words) -> list[str]:
    old, new = change["remedy_cost"]
    lines = [_("Remedy: %(old)s → %(new)s", **words.pair("remedy", change["remedy"])),
             _("Cost: %(old)s → %(new)s", old=_cost(old), new=_cost(new))]
    return lines + [change["notes"]] if change.get("notes") else lines


def _channel(change: dict, words: Words) -> list[str]:
    return [_("Told by %(channel)s", channel=CHANNEL_LABELS.get(change["channel"], change["channel"]))]


def _target(change: dict, words: Words) -> list[str]:
    return [_("The time to acknowledge ran out") if change["target"] == "ack" else _("The time to resolve ran out")]


def _via(change: dict, words: Words) -> list[str]:
    return [_("Feedback link sent by e-mail") if change["via"] == "email"
            else _("No e-mail address: a call was put in the agenda")]


def _note(change: dict, words: Words) -> list[str]:
    return [change["note"]] if change["note"] else []


def _reopened(change: dict, words: Words) -> list[str]:
    return [_("The problem came back: %(reason)s", reason=change.get("reason", ""))]


CHANGE_LINES: tuple[tuple[str, Callable[[dict, Words], list[str]]], ...] = (
    ("status", _status), ("owner", _owner), ("severity", _severity), ("remedy", _remedy), ("channel", _channel),
    ("target", _target), ("via", _via), ("note", _note), ("new_id", _reopened),
)


def _link(change: dict) -> tuple[str, str] | None:
    """The case this one was reopened as, or the resolved case it reopens."""
    if "from_id" in change:
        return _("The resolved complaint"), url_for("complaints.show", complaint_id=change["from_id"])
    if "new_id" in change:
        return _("New complaint"), url_for("complaints.show", complaint_id=change["new_id"])
    return None


def _plain_lines(event: ComplaintEvent) -> list[str]:
    """An older event recorded as plain text."""
    return [event.detail] if event.detail and event.kind in ("opened", "assigned", "resolved", "whatsapp_in",
                                                                           "whatsapp_out") else []


def event_lines(event: ComplaintEvent, words: Words) -> dict:
    """One history line: what happened, who did it, each change spelled out, and a link
    to the case it points at."""
    change = services.changes(event)
    if change is None:
        lines, link = _plain_lines(event), None
    else:
        lines = [line for key, spell in CHANGE_LINES if key in change for line in spell(change, words)]
        link = _link(change)
    return dict(event=event, label=words.labels["event"].get(event.kind, event.kind),
                who=words.names.get(event.user_id) if event.user_id else None, lines=lines, link=link)
