"""Client import, step 3b: what every row is checked against (``Context``, read once per
file) and each row's client, sale and opening balance (``analyse``), with the same rules as
the client form. Nothing here writes to the database. See ``importing.py`` for the steps."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..accounts.models import User
from ..contact import number_is_mobile
from ..extensions import db
from ..territories.models import Portfolio, Territory
from ..validation import FieldError, single_line
from .forms import ClientForm, SaleForm
from .import_columns import BY_KEY, MULTI, SALE_KEYS, SUMMARY_KEYS, fold
from .import_files import MAX_CELL, long_cells
from .import_values import (
    CHANNELS,
    KINDS,
    NO,
    SPLIT,
    YES,
    ImpossibleDate,
    _count,
    _month_names,
    formula_like,
    parse_amount,
    parse_day,
)
from .models import Client
from .services import parse_phone

# --- context ----------------------------------------------------------------------------

@dataclass
class Context:
    """What every row is checked against, read once per file (not once per row)."""

    country: str
    currency: str
    locale: str
    today: date
    territories: list
    portfolios: list
    sellers: list
    by_email: dict[str, tuple[int, str]]
    by_phone: dict[str, tuple[int, str]]

    def __post_init__(self):
        self.territory_ids = _by_name(self.territories)
        self.portfolio_ids = _by_name(self.portfolios)
        self.seller_ids = _by_name(self.sellers)
        self.seller_ids.update({fold(u.email): [u.id] for u in self.sellers})
        # One form of each kind, re-filled for every row: building a form (its choices,
        # translated labels) costs ten times more than validating one.
        self.client_form = ClientForm(formdata=None, meta={"csrf": False}, territories=self.territories,
                                      portfolios=self.portfolios, sellers=self.sellers)
        self.sale_form = SaleForm(formdata=None, meta={"csrf": False}, sellers=self.sellers, currency=self.currency)
        self.months = _month_names(self.locale)

    def check(self, form, data: dict):
        """Run one of the forms above on a row's values; returns the form, errors and all."""
        form.process(formdata=MultiDict(data))
        form.validate()
        return form


def _by_name(objects) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for obj in objects:
        found.setdefault(fold(obj.name), []).append(obj.id)
    return found


def load_context(business, today: date) -> Context:
    """Territories, portfolios, the active team and the book's e-mails and phones: four
    queries whatever the size of the file or of the book."""
    book = db.session.execute(
        select(Client.id, Client.name, Client.email, Client.phone, Client.whatsapp).where(Client.deleted_at.is_(None))
        .order_by(Client.id)).all()
    by_email, by_phone = {}, {}
    for cid, name, email, phone, whatsapp in book:
        if email:
            by_email.setdefault(email.lower(), (cid, name))
        for number in (phone, whatsapp):
            if number:
                by_phone.setdefault(number, (cid, name))
    return Context(
        country=business.country, currency=business.currency, locale=business.locale, today=today,
        territories=db.session.execute(select(Territory).order_by(Territory.name)).scalars().all(),
        portfolios=db.session.execute(select(Portfolio).order_by(Portfolio.name)).scalars().all(),
        sellers=db.session.execute(select(User).where(User.active.is_(True)).order_by(User.name)).scalars().all(),
        by_email=by_email, by_phone=by_phone)


def _lookup(ids: dict[str, list[int]], text: str) -> int | None | str:
    found = ids.get(fold(text), [])
    return found[0] if len(found) == 1 else ("ambiguous" if found else None)


class _Row:
    """One row being checked: its problems (which reject it) and warnings (which do
    not) are collected, never raised; what cannot go in its field goes to ``notes``."""

    def __init__(self, cells: list[str], headers: list[str], mapping: dict[str, str]):
        self.single: dict[str, str] = {}
        self.header: dict[str, str] = {}
        self.multi: dict[str, list[tuple[str, str]]] = {}
        for position, key in mapping.items():
            index = int(position)
            value = cells[index] if index < len(cells) else ""
            header = headers[index].strip() if index < len(headers) else ""
            if key == "ignore":
                continue
            if key in MULTI:
                if value:
                    self.multi.setdefault(key, []).append((header, value))
            else:
                self.single[key], self.header[key] = value, header
        self.problems: list[list[str]] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.reported: set[str] = set()

    def get(self, key: str) -> str:
        return self.single.get(key, "")

    def label(self, key: str) -> str:
        return self.header.get(key) or str(BY_KEY[key].label if key in BY_KEY else key)

    def problem(self, key: str, message) -> None:
        self.problems.append([self.label(key), str(message)])
        self.reported.add(key)

    def keep_in_notes(self, header: str, value: str, why=None) -> None:
        self.notes.append(f"{header}: {value}")
        if why:
            self.warnings.append(_("%(column)s: %(why)s Kept in the notes.", column=header, why=why))

    def form_errors(self, form, names: dict[str, str]) -> None:
        for name, messages in form.errors.items():
            key = names.get(name, name)
            if key not in self.reported and messages:
                self.problem(key, messages[0])


def _name(row: _Row) -> str:
    """The full name, completed by the parts the file has beside it: Nombre + Apellidos,
    First + Middle + Last; parts already in the full name (Google's older format repeats
    them) are not added twice."""
    name = " ".join(row.get("name").split())
    for _header, part in row.multi.get("name_part", []):
        words = " ".join(part.split())
        if words and fold(words) not in fold(name):
            name = f"{name} {words}".strip()
    return name


def _emails(row: _Row) -> str | None:
    chosen = None
    for header, cell in row.multi.get("email", []):
        for value in (v for v in SPLIT.split(cell) if v):
            try:
                normal = validate_email(value, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                row.keep_in_notes(header, value, _("not a valid e-mail address."))
                continue
            if chosen is None:
                chosen = normal
            elif normal != chosen:
                row.keep_in_notes(header, value)
    return chosen


def _phones(row: _Row, ctx: Context) -> tuple[str | None, str | None]:
    """(phone, whatsapp) from every phone column: a mobile (by phonenumbers' type for its
    country, not by the header) is the WhatsApp number, and the phone when there is no
    landline; a landline is the phone; the rest go to the notes."""
    numbers: list[tuple[str, str, bool]] = []  # header, E.164, mobile
    whatsapp = None
    sources = list(row.multi.get("phone", []))
    if row.get("whatsapp"):
        sources.insert(0, (row.label("whatsapp"), row.get("whatsapp")))
    for index, (header, cell) in enumerate(sources):
        for value in (v for v in SPLIT.split(cell) if v):
            try:
                number = parse_phone(value, ctx.country, "phone")  # read once: its E.164 and its kind
            except FieldError as error:
                row.keep_in_notes(header, value, error.message)
                continue
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if any(e164 == n for _h, n, _m in numbers):
                continue
            mobile = number_is_mobile(number, header)
            if index == 0 and row.get("whatsapp") and whatsapp is None:
                whatsapp = e164  # the file's own WhatsApp column wins
            numbers.append((header, e164, mobile))
    landlines = [n for n in numbers if not n[2]]
    mobiles = [n for n in numbers if n[2]]
    if whatsapp is None and mobiles:
        whatsapp = mobiles[0][1]
    phone = landlines[0][1] if landlines else (mobiles[0][1] if mobiles else None)
    if phone is None and whatsapp:
        phone = whatsapp
    for header, number, _mobile in numbers:
        if number not in (phone, whatsapp):
            row.keep_in_notes(header, number)
    return phone, whatsapp


def _address(row: _Row) -> str:
    """Street parts joined; city, region, postal code and country appended when the row
    has a street (not repeated when already written in it), else kept in the notes."""
    address = ""
    for _header, value in row.multi.get("address", []):
        value = ", ".join(line.strip() for line in value.splitlines() if line.strip())
        if fold(value) in fold(address):
            continue
        address = value if fold(address) in fold(value) else f"{address}, {value}".strip(", ")
    for header, value in row.multi.get("address_part", []):
        if not address:
            row.keep_in_notes(header, value)
        elif fold(value) not in fold(address):
            address = f"{address}, {value}"
    return address


def _client_values(row: _Row, ctx: Context) -> dict:
    data = {k: row.get(k) for k in ("company", "tax_id")}
    data["name"] = _name(row)
    data["email"] = _emails(row) or ""
    phone, whatsapp = _phones(row, ctx)
    data["address"] = _address(row)
    kind = row.get("kind")
    data["kind"] = KINDS.get(fold(kind), "client")
    if kind and fold(kind) not in KINDS:
        row.keep_in_notes(row.label("kind"), kind, _("write “cliente” or “prospecto”."))
    channel = row.get("preferred_channel")
    data["preferred_channel"] = CHANNELS.get(fold(channel), "")
    if channel and not data["preferred_channel"]:
        row.keep_in_notes(row.label("preferred_channel"), channel, _("write WhatsApp, teléfono, correo or visita."))
    key_mark = fold(row.get("is_key"))
    if key_mark in YES:
        data["is_key"] = "y"
    elif key_mark and key_mark not in NO:
        row.keep_in_notes(row.label("is_key"), row.get("is_key"), _("write sí or no."))
    for key, ids, field_name, unknown in (
            ("territory", ctx.territory_ids, "territory_id", _l("no territory has that name.")),
            ("portfolio", ctx.portfolio_ids, "portfolio_id", _l("no portfolio has that name.")),
            ("seller", ctx.seller_ids, "seller_id", _l("no active member of your team has that name or e-mail."))):
        text = row.get(key)
        if not text:
            continue
        found = _lookup(ids, text)
        if found == "ambiguous":
            row.keep_in_notes(row.label(key), text, _("several have that name: write the e-mail instead.")
                              if key == "seller" else _("several have that name."))
        elif found is None:
            row.keep_in_notes(row.label(key), text, unknown)
        else:
            data[field_name] = str(found)
    # The client form's own rules: required name, lengths, choices of this business. The
    # e-mail was checked and normalised by ``_emails`` already (email-validator is a third
    # of a row's cost): the form sees none, and the normalised one is put back below.
    email = data.pop("email")
    form = ctx.check(ctx.client_form, data)
    names = {"territory_id": "territory", "portfolio_id": "portfolio", "seller_id": "seller"}
    if "name" in form.errors and not data["name"]:
        row.problems.append([_name_label(row), str(form.errors["name"][0])])
        row.reported.add("name")
    row.form_errors(form, names)
    values = {name: getattr(form, name).data for name in (
        "kind", "name", "company", "tax_id", "email", "address", "territory_id", "portfolio_id",
        "seller_id", "preferred_channel", "is_key")}
    values["phone"], values["whatsapp"] = phone, whatsapp
    values["email"] = email or None
    for name in ("territory_id", "portfolio_id", "seller_id", "preferred_channel"):
        values[name] = values[name] or None
    for name in ("name", "company", "tax_id", "address"):
        values[name] = (values[name] or "").strip()
    return values


def _name_label(row: _Row) -> str:
    parts = [h for h, _v in row.multi.get("name_part", [])]
    return row.header.get("name") or (parts[0] if parts else str(BY_KEY["name"].label))


def _notes(row: _Row) -> str:
    lines = [value for _h, value in row.multi.get("notes", [])]
    lines += [f"{header}: {value}" for header, value in row.multi.get("note", [])]
    lines += row.notes
    text = "\n".join(lines)
    if len(text) > 5000:
        row.warnings.append(_("The notes were longer than 5,000 characters and were cut."))
        text = text[:5000]
    return text


def _date_of(row: _Row, key: str, ctx: Context) -> date | None:
    text = row.get(key)
    if not text:
        return None
    try:
        return parse_day(text, ctx.locale, ctx.months)
    except ImpossibleDate:
        row.warnings.append(_("%(column)s: %(value)s is not a real date (that month has no such day); it was left "
                              "out.", column=row.label(key), value=text))
    except ValueError:
        row.warnings.append(_("%(column)s: %(value)s is not a date we can read (write it like 31/03/2025); it was "
                              "left out.", column=row.label(key), value=text))
    row.notes.append(f"{row.label(key)}: {text}")
    row.reported.add(key)
    return None


def _sale_values(row: _Row, ctx: Context, seller_id: int | None) -> dict | None:
    """The row's sale, or None. An incomplete or wrong sale never rejects the client:
    the row gets a warning and the sale's cells are kept in the notes."""
    from ..sales.services import check_sale  # cycle: sales is above clients

    if not any(row.get(k) for k in SALE_KEYS):
        return None
    sold_on = _date_of(row, "sold_on", ctx)
    if sold_on is None and not row.get("sold_on") and row.get("amount"):
        sold_on = _date_of(row, "last_purchase", ctx)  # "Última compra" + "Monto": that purchase
        row.reported.discard("last_purchase")
    delivery_on = _date_of(row, "delivery_on", ctx)
    description = row.get("description") or (_("Imported purchase") if row.get("amount") else "")
    reason = None
    amount = margin = None
    if not row.get("amount"):
        reason = _("the sale has no amount.")
    elif sold_on is None and "sold_on" not in row.reported:
        reason = _("the sale has no date.")
    elif "sold_on" in row.reported or "last_purchase" in row.reported:
        reason = _("the sale's date cannot be used.")
    else:
        try:
            amount = parse_amount(row.get("amount"), ctx.currency, ctx.locale)
            margin_text = row.get("margin").strip()
            if margin_text.endswith("%"):
                from ..sales.services import margin_from  # cycle: sales is above clients
                margin = margin_from(amount or 0, margin_text, "percent", ctx.currency, ctx.locale)
            elif margin_text:
                margin = parse_amount(margin_text, ctx.currency, ctx.locale)
            check_sale(sold_on=sold_on, amount=amount, margin=margin, delivery_on=delivery_on, today=ctx.today)
        except ValueError:
            reason = _("write an amount, like %(example)s.", example="12.990")
        except FieldError as error:
            reason = error.message
        if reason is None and len(description) > 200:
            reason = _("what was sold is longer than 200 characters.")
    if reason is not None:
        row.warnings.append(_("The sale was not recorded: %(reason)s The client is imported and the sale's cells are "
                              "kept in the notes.", reason=reason))
        for key in SALE_KEYS:
            if row.get(key) and key not in row.reported:
                row.notes.append(f"{row.label(key)}: {row.get(key)}")
        return None
    return {"sold_on": sold_on.isoformat(), "description": single_line(description).strip(),
            "product_line": single_line(row.get("product_line")).strip()[:80], "amount": amount, "margin": margin,
            "delivery_on": delivery_on.isoformat() if delivery_on else None, "seller_id": seller_id}


def _opening(row: _Row, ctx: Context, sale: dict | None) -> dict | None:
    """The summary columns as an opening balance (see ``loyalty.opening_dates``)."""
    if not any(row.get(k) for k in SUMMARY_KEYS):
        return None
    counts = {}
    for key in ("purchases", "purchases_12m"):
        text = row.get(key)
        if text:
            try:
                counts[key] = _count(text)
            except ValueError:
                row.keep_in_notes(row.label(key), text, _("not a number of purchases."))
    totals = {}
    for key in ("total_spent", "total_12m"):
        text = row.get(key)
        if text:
            try:
                totals[key] = parse_amount(text, ctx.currency, ctx.locale)
            except ValueError:
                row.keep_in_notes(row.label(key), text, _("write an amount, like %(example)s.", example="12.990"))
    last = _date_of(row, "last_purchase", ctx)
    first = _date_of(row, "first_purchase", ctx)
    if last is not None and last > ctx.today:
        row.keep_in_notes(row.label("last_purchase"), row.get("last_purchase"), _("the date is in the future."))
        last = None
    if last is None and sale:
        last = date.fromisoformat(sale["sold_on"])
    period = "12m" if "purchases_12m" in counts else "ever"
    purchases = counts.get("purchases_12m", counts.get("purchases"))
    if last is None:
        if purchases or any(totals.values()):  # zero purchases and nothing spent: nothing to keep
            row.warnings.append(_("Without the date of the last purchase, the purchase figures cannot place the client "
                                  "on the ladder; they are kept in the notes."))
            for key in ("purchases", "purchases_12m", "total_spent", "total_12m"):
                if key in counts or key in totals:
                    row.notes.append(f"{row.label(key)}: {row.get(key)}")
        return None
    if purchases is None:
        purchases = 1
    if purchases <= 0:
        return None
    if first is not None and first > last:
        row.keep_in_notes(row.label("first_purchase"), row.get("first_purchase"),
                          _("the first purchase is after the last one."))
        first = None
    return {"purchases": min(purchases, 10_000), "period": period, "first_on": first.isoformat() if first else None,
            "last_on": last.isoformat(), "total": totals.get("total_12m", totals.get("total_spent")),
            "total_period": "12m" if "total_12m" in totals else ("ever" if totals else None)}


def has_name_column(mapping: dict[str, str]) -> bool:
    return any(key in ("name", "name_part") for key in mapping.values())


def analyse(rows: list[dict], headers: list[str], mapping: dict[str, str], ctx: Context,
            choices: dict[int, str] | None = None) -> list[dict]:
    """Check every row; mark it rejected, duplicate (of a client or of an earlier row)
    or new. Pure apart from ``ctx``: the same file and book give the same answer."""
    seen_email: dict[str, dict] = {}
    seen_phone: dict[str, dict] = {}
    checked = []
    for source in rows:
        cells = source["cells"]
        row = _Row(cells, headers, mapping)
        too_long = long_cells(cells)
        if too_long:
            for index in too_long:
                row.problems.append([headers[index] if index < len(headers) else str(index + 1),
                                     _("This cell has more than %(max)d characters.", max=MAX_CELL)])
            cells = [c[:MAX_CELL] for c in cells]
        warnings = [_("%(column)s starts like a spreadsheet formula: it is kept as plain text, never calculated.",
                      column=headers[i] if i < len(headers) else str(i + 1))
                    for i, text in enumerate(cells) if formula_like(text) and mapping.get(str(i)) != "ignore"]
        values = _client_values(row, ctx)
        sale = _sale_values(row, ctx, values.get("seller_id"))
        opening = _opening(row, ctx, sale)
        values["notes"] = _notes(row)
        status = "rejected" if row.problems else "new"
        result = {"n": source["n"], "cells": cells, "values": values, "sale": sale, "opening": opening,
                  "problems": row.problems, "warnings": warnings + row.warnings, "status": status, "dup": None,
                  "choice": (choices or {}).get(source["n"], source.get("choice", "skip"))}
        if status != "rejected":
            email, numbers = values["email"], [n for n in (values["phone"], values["whatsapp"]) if n]
            target = None
            if email and email in ctx.by_email:
                cid, name = ctx.by_email[email]
                target = {"client_id": cid, "name": name, "by": "email"}
            elif any(n in ctx.by_phone for n in numbers):
                cid, name = next(ctx.by_phone[n] for n in numbers if n in ctx.by_phone)
                target = {"client_id": cid, "name": name, "by": "phone"}
            elif email and email in seen_email:
                target = dict(seen_email[email], by="email")
            elif any(n in seen_phone for n in numbers):
                target = dict(next(seen_phone[n] for n in numbers if n in seen_phone), by="phone")
            if target is None:
                target = {"row": source["n"], "name": values["name"]}
            else:
                result["status"], result["dup"] = "duplicate", target
            # Later rows with this row's e-mail or phone point at the same client.
            kept = {k: v for k, v in target.items() if k != "by"}
            if email:
                seen_email.setdefault(email, kept)
            for number in numbers:
                seen_phone.setdefault(number, kept)
        checked.append(result)
    return checked


def counts(rows: list[dict]) -> dict[str, int]:
    found = {"new": 0, "duplicate": 0, "rejected": 0, "sales": 0, "warned": 0, "openings": 0}
    for row in rows:
        found[row["status"]] += 1
        accepted = row["status"] != "rejected"
        found["sales"] += 1 if row["sale"] and accepted else 0
        found["openings"] += 1 if row.get("opening") and accepted else 0
        found["warned"] += 1 if row.get("warnings") and accepted else 0
    return found
