"""The dashboard's charts: one small function per chart, each returning a ``Chart`` (the
Chart.js configuration and the same figures as a table). ``BUILDERS`` is the table the
chart route looks a name up in; a new chart is a function and a row there (and its
title in ``routes.CHARTS``)."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo

from flask_babel import format_date, pgettext
from flask_babel import gettext as _

from ..clients.loyalty import TIER_LABELS
from . import figures

BLUE, GREEN, RED, GREY = "#0172ad", "#1f7a4d", "#b3261e", "#8e9aaf"
LADDER = ("buyer", "sporadic", "frequent", "apostle")
LADDER_COLOURS = [GREY, "#6a9fd4", BLUE, GREEN]
PERCENT_AXIS = {"min": 0, "max": 100}


@dataclass(frozen=True)
class Chart:
    config: str  # Chart.js configuration, JSON
    head: tuple  # the table's column titles
    caption: str
    rows: list  # one tuple per month (or rung), as the table shows it


def _percent(rate):
    return None if rate is None else round(100 * rate)


def _month(day: date) -> str:
    return format_date(day, "MMM yyyy")


def _config(kind: str, labels: list, datasets: list[dict], y: dict | None = None) -> str:
    legend = len(datasets) > 1
    y = y or {"beginAtZero": True, "ticks": {"precision": 0}}
    return json.dumps({"type": kind, "data": {"labels": labels, "datasets": datasets},
                       "options": {"animation": False, "scales": {"y": y}, "plugins": {"legend": {"display": legend}}}})


def _line(label: str, data: list, colour: str) -> dict:
    return {"label": label, "data": data, "spanGaps": True, "borderColor": colour, "backgroundColor": colour}


def _bar(label: str, data: list, colour) -> dict:
    return {"label": label, "data": data, "backgroundColor": colour}


def _column(rows: list, index: int) -> list:
    return [row[index] for row in rows]


def nps(today: date, zone: tzinfo, f: figures.Filters) -> Chart:
    rows = [(_month(m.month), m.nps, m.answers) for m in figures.nps_trend(today, zone, f)]
    config = _config("line", _column(rows, 0), [_line("NPS", _column(rows, 1), BLUE)], {"min": -100, "max": 100})
    return Chart(config, (_("Month"), "NPS", _("Answers")), _("NPS per month, last 12 months"), rows)


def responses(today: date, zone: tzinfo, f: figures.Filters) -> Chart:
    rows = [(_month(m.month), _percent(m.rate), m.part, m.total) for m in figures.response_trend(today, zone, f)]
    config = _config("line", _column(rows, 0), [_line(_("Response rate (%)"), _column(rows, 1), BLUE)], PERCENT_AXIS)
    head = (_("Month"), _("Response rate (%)"), pgettext("number of links", "Answered"), _("Links sent"))
    return Chart(config, head, _("Feedback links answered, of those sent each month"), rows)


def tiers(today: date, zone: tzinfo, f: figures.Filters) -> Chart:
    counts = figures.tier_distribution(f)
    rows = [(str(TIER_LABELS[k]), counts.get(k, 0)) for k in LADDER]
    config = _config("bar", _column(rows, 0), [_bar(_("Clients"), _column(rows, 1), LADDER_COLOURS)])
    return Chart(config, (_("Tier"), _("Clients")), _("Clients on each step of the loyalty ladder"), rows)


def moves(today: date, zone: tzinfo, f: figures.Filters) -> Chart:
    rows = [(_month(m), up, down) for m, up, down in figures.moves_trend(today, zone, f)]
    config = _config("bar", _column(rows, 0), [_bar(_("Moved up"), _column(rows, 1), GREEN),
                                               _bar(_("Moved down"), _column(rows, 2), RED)])
    return Chart(config, (_("Month"), _("Moved up"), _("Moved down")),
                 _("Clients who moved up or down the ladder each month"), rows)


def followup(today: date, zone: tzinfo, f: figures.Filters) -> Chart:
    rows = [(_month(m.month), _percent(m.rate), m.part, m.total) for m in figures.followup_trend(today, zone, f)]
    config = _config("line", _column(rows, 0), [_line(_("On time (%)"), _column(rows, 1), GREEN)], PERCENT_AXIS)
    return Chart(config, (_("Month"), _("On time (%)"), _("Done on time"), _("Due")),
                 _("Visits and calls done on time, by the month they were due"), rows)


def referrals(today: date, zone: tzinfo, f: figures.Filters) -> Chart:
    rows = [(_month(m), made, won) for m, made, won in figures.referral_trend(today, zone, f)]
    config = _config("bar", _column(rows, 0), [_bar(_("Referrals made"), _column(rows, 1), BLUE),
                                               _bar(_("Became clients"), _column(rows, 2), GREEN)])
    return Chart(config, (_("Month"), _("Referrals made"), _("Became clients")),
                 _("Referrals made and referrals who became clients, each month"), rows)


BUILDERS: dict[str, Callable[[date, tzinfo, figures.Filters], Chart]] = {
    "nps": nps, "responses": responses, "tiers": tiers, "moves": moves, "followup": followup, "referrals": referrals,
}
