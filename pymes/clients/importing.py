"""Client import: read the file, map its columns, check every row, find duplicates,
then import every accepted row in one transaction (all or nothing), and undo it.

The steps:

1. ``import_files.read_upload`` turns the bytes (CSV, XLSX or vCard) into a header
   and rows of text, with the hostile-file limits.
2. ``import_columns.detect_all`` gives every column a target (the name, a part of the
   name, a phone, the notes, a sale's amount, a summary figure…). The owner can change
   any of them on the preview (``set_mapping``); the choice is remembered for the next
   file with the same headers (``ClientImport.headers_key``). A file whose name column
   is not recognised is not refused: the preview asks the owner to pick it.
3. ``analyse`` builds each row's client with the same rules as the client form
   (``ClientForm``, ``services.normalise_phone``). Nothing is silently lost: the parts
   of a name are joined, several phones are sorted by phonenumbers' number type (a
   mobile becomes the WhatsApp number, and the phone when there is no landline),
   extra e-mails and numbers, unknown columns, and any value that cannot go in its
   field land in the notes as ``Header: value`` with a warning on the row. A row is
   *rejected* only when the client itself cannot be saved (no name, a field too long);
   an incomplete or wrong sale never rejects its client (the row gets a warning).
   A row is a *duplicate* (same e-mail or E.164 phone as a client of the book or an
   earlier row) or *new*.
4. Summary columns (last purchase, number of purchases, totals) become an opening
   balance (``ClientOpening``, see ``loyalty.opening_dates``), so that a client with 12
   purchases last year is frequent on day one. An amount with a date and no
   description becomes a sale described as an imported purchase.
5. ``run_import`` re-checks the rows, creates the clients, merges the chosen
   duplicates (filling empty fields, or overwriting only when the owner chose so),
   records the sales, and writes down what it did (``ClientImport.undo``) so that
   ``undo_import`` can take it back for ``UNDO_DAYS`` days.

The routes are in ``import_routes.py`` on the clients blueprint.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import phonenumbers
from babel.dates import get_month_names
from babel.numbers import get_currency_precision
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from werkzeug.datastructures import MultiDict

from ..accounts.models import User
from ..contact import number_is_mobile
from ..db import utcnow
from ..extensions import db
from ..sales.models import Sale
from ..territories.models import Portfolio, Territory
from ..validation import FieldError, single_line
from ..visits.services import cadence, plan_for_new_sales, plan_for_sale
from .export import neutralise
from .forms import ClientForm, SaleForm
from .import_columns import BY_KEY, MULTI, SALE_KEYS, SUMMARY_KEYS, TARGETS, detect_all, fold, headers_key
from .import_files import MAX_CELL, Sheet, UploadProblem, long_cells, max_bytes, max_rows, read_upload, size_label  # noqa: F401
from .models import Client, ClientImport, ClientOpening
from .services import parse_phone, place_on_ladder, refresh_client, rules

UNDO_DAYS = 7
COLUMNS = TARGETS  # what the upload page lists


def template_labels() -> dict[str, str]:
    """The template's own headers (in the UI language) as aliases of their targets."""
    return {fold(str(t.label)): t.key for t in TARGETS if t.group in ("client", "sale", "summary")
            and t.key not in ("name_part", "address_part")}


def template_headers() -> list[str]:
    return [str(t.label) for t in TARGETS if t.group in ("client", "sale")
            and t.key not in ("name_part", "address_part")] + [str(BY_KEY[k].label) for k in (
                "last_purchase", "purchases", "total_spent")]


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


# --- dates and amounts as people write them ---------------------------------------------------

def _month_names(locale: str) -> dict[str, int]:
    """Month names and their abbreviations in the business's language, Spanish and English
    ("mar", "marzo", "march", "sept") → month number."""
    names: dict[str, int] = {}
    for language in dict.fromkeys((locale, "es", "en", "pt")):
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                try:
                    months = get_month_names(width, context, locale=language)
                except Exception:  # an unknown locale: the others still apply
                    continue
                for number, name in months.items():
                    names.setdefault(fold(name), number)
                    names.setdefault(fold(name)[:3], number)
    names.setdefault("sept", 9)
    names.setdefault("set", 9)
    return names


class ImpossibleDate(ValueError):
    """Day and month that do not exist together (31/04/2024): flagged, never guessed."""


EXCEL_EPOCH = date(1899, 12, 30)


def parse_day(text: str, locale: str, months: dict[str, int] | None = None) -> date:
    """``2025-03-31``, ``05-03-2025``, ``05/03/2025``, ``5.3.25``, ``5 mar 2025``,
    ``5 de marzo de 2025``, ``March 5, 2025`` or an Excel serial day; day first, month
    first only for en_US. ``ImpossibleDate`` when the day does not exist in that month."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}([ T].*)?", text):
        year, month, day = (int(p) for p in re.split(r"[-T ]", text)[:3])
        return _make_date(year, month, day)
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(\s+\d{1,2}:\d{2}(:\d{2})?)?", text)
    if match:
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        year = year + 2000 if year < 100 else year
        month, day = (first, second) if locale.endswith("_US") else (second, first)
        return _make_date(year, month, day)
    if re.fullmatch(r"\d{5}(\.0+)?", text) and 20000 <= float(text) <= 80000:  # an Excel day number as text
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    months = months if months is not None else _month_names(locale)
    words = [fold(w) for w in re.split(r"[\s,./\-]+", text)]
    words = [w for w in words if w and w not in ("de", "del", "of", "the")]
    if len(words) == 3:
        numbers = [w for w in words if w.isdigit()]
        named = [months.get(w) or months.get(w[:3]) for w in words if not w.isdigit()]
        if len(numbers) == 2 and len(named) == 1 and named[0]:
            day, year = (int(numbers[0]), int(numbers[1])) if len(numbers[1]) == 4 else \
                (int(numbers[1]), int(numbers[0]))
            if len(numbers[0]) == 4:
                year, day = int(numbers[0]), int(numbers[1])
            return _make_date(year + 2000 if year < 100 else year, named[0], day)
    raise ValueError(text)


def _make_date(year: int, month: int, day: int) -> date:
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2999):
        raise ValueError(f"{year}-{month}-{day}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ImpossibleDate(f"{year}-{month}-{day}") from None


def parse_amount(text: str, currency: str, locale: str) -> int | None:
    """``$12.990``, ``12.990``, ``1.234,50``, ``12,990.00``, ``US$ 45``, ``CLP 12990`` →
    integer minor units of ``currency``. When both separators appear, the last one is
    the decimal mark; when only one appears, the business's locale decides, except that
    a single separator followed by exactly three digits in a currency without cents
    (``12,990`` in pesos) groups thousands. ``ValueError`` when it is not an amount."""
    from babel.numbers import get_decimal_symbol

    cleaned = re.sub(r"[^\d.,\-]", "", text.replace("\u00a0", " "))
    if not cleaned or not re.search(r"\d", cleaned):
        if text.strip():
            raise ValueError(text)
        return None
    negative = cleaned.startswith("-")
    cleaned = cleaned.lstrip("-")
    precision = get_currency_precision(currency)
    if "." in cleaned and "," in cleaned:
        decimal_mark = "." if cleaned.rfind(".") > cleaned.rfind(",") else ","
    elif "." in cleaned or "," in cleaned:
        mark = "." if "." in cleaned else ","
        head, _sep, tail = cleaned.rpartition(mark)
        if cleaned.count(mark) > 1:
            decimal_mark = "," if mark == "." else "."  # 1.234.567: only thousands
        elif precision == 0 and len(tail) == 3:
            decimal_mark = "," if mark == "." else "."
        else:
            try:
                decimal_mark = get_decimal_symbol(locale)
            except Exception:
                decimal_mark = ","
            if mark != decimal_mark and len(tail) != 3:
                decimal_mark = mark  # "12.5" in Chile is not twelve thousand five
    else:
        decimal_mark = "."
    group = "," if decimal_mark == "." else "."
    normal = cleaned.replace(group, "").replace(decimal_mark, ".")
    try:
        value = Decimal(normal)
    except InvalidOperation:
        raise ValueError(text) from None
    minor = int((value * (10 ** precision)).to_integral_value())
    if minor >= 10 ** 15:
        raise ValueError(text)
    return -minor if negative else minor


def _count(text: str) -> int:
    cleaned = re.sub(r"[\s.,](?=\d{3}\b)", "", text.strip())
    if not re.fullmatch(r"\d{1,6}(\.0+)?", cleaned):
        raise ValueError(text)
    return int(float(cleaned))


# --- one row -------------------------------------------------------------------------------

KINDS = {"cliente": "client", "client": "client", "customer": "client", "prospecto": "prospect",
         "prospect": "prospect", "potencial": "prospect", "lead": "prospect"}
CHANNELS = {"whatsapp": "whatsapp", "wsp": "whatsapp", "telefono": "phone", "phone": "phone", "llamada": "phone",
            "call": "phone", "correo": "email", "email": "email", "mail": "email", "visita": "visit",
            "visit": "visit"}
YES = {"si", "s", "yes", "y", "x", "1", "true", "verdadero"}
NO = {"no", "n", "0", "false", "falso"}
SPLIT = re.compile(r"\s*:::\s*|\s*[;\n]\s*|\s+/\s+")


def formula_like(text: str) -> bool:
    """A cell a spreadsheet would run as a formula (EXP-1's list); phones such as
    ``+56 9 1234 5678`` and numbers such as ``-5`` are not."""
    if not text or text[0] not in "=+-@":
        return False
    if text[0] in "=@":
        return True
    # Google Contacts writes several numbers in one cell: "+56 9 … ::: +56 2 …"
    return any(re.search(r"[^0-9 .,()+\-]", part) for part in SPLIT.split(text[1:]))


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
    from ..sales.services import check_sale

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
                from ..sales.services import margin_from
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
        if purchases or totals:
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


def _remembered_mapping(headers: list[str]) -> dict[str, str] | None:
    key = headers_key(headers)
    return db.session.execute(
        select(ClientImport.mapping).where(ClientImport.headers_key == key, ClientImport.mapping_chosen.is_(True))
        .order_by(ClientImport.updated_at.desc(), ClientImport.id.desc()).limit(1)).scalar_one_or_none()


def create_import(user: User, business, file_name: str, data: bytes, today: date) -> ClientImport:
    """Read and check an uploaded file and keep it for the preview (``UploadProblem`` when
    the file as a whole is unusable; nothing is stored then)."""
    sheet = read_upload(file_name, data, business.locale)
    notes = list(sheet.notes)
    remembered = _remembered_mapping(sheet.headers)
    if remembered and len(remembered) == len(sheet.headers):
        mapping = remembered
        notes.append(_("The columns go where you chose last time for a file with these headers; change them "
                       "below if needed."))
    else:
        mapping = detect_all(sheet.headers, template_labels())
    record = ClientImport(created_by_id=user.id, file_name=file_name.replace("\x00", "")[:200],
                          headers=sheet.headers, mapping=mapping, notes=notes,
                          rows=[{"n": r["n"], "cells": r["cells"]} for r in sheet.rows],
                          headers_key=headers_key(sheet.headers), mapping_chosen=False)
    _analyse_record(record, business, today)
    db.session.add(record)
    db.session.commit()
    return record


def _analyse_record(record: ClientImport, business, today: date, choices: dict[int, str] | None = None) -> None:
    if not has_name_column(record.mapping):
        record.rows = [{"n": r["n"], "cells": r["cells"]} for r in record.rows]
        record.summary = {"needs_name": 1, "new": 0, "duplicate": 0, "rejected": 0, "sales": 0, "warned": 0,
                          "openings": 0}
        return
    rows = analyse(record.rows, record.headers, record.mapping, load_context(business, today), choices)
    record.rows = rows
    record.summary = counts(rows)


def set_mapping(record: ClientImport, business, today: date, chosen: dict[str, str]) -> list[str]:
    """The owner's targets for the columns (position → key); the rows are checked again.
    Returns the problems of the choice (a single-valued target chosen twice)."""
    if record.status != "preview":
        return [_("This file was already imported.")]
    mapping = dict(record.mapping)
    for position, key in chosen.items():
        if position in mapping and key in BY_KEY:
            mapping[position] = key
    taken: dict[str, list[str]] = {}
    for position, key in mapping.items():
        taken.setdefault(key, []).append(position)
    errors = [_("“%(target)s” is chosen for several columns (%(columns)s): choose it for one only.",
                target=BY_KEY[key].label, columns=", ".join(record.headers[int(p)] for p in positions))
              for key, positions in taken.items() if len(positions) > 1 and key not in MULTI]
    if errors:
        return errors
    record.mapping = mapping
    record.mapping_chosen = True
    _analyse_record(record, business, today)
    db.session.commit()
    return []


# --- importing -----------------------------------------------------------------------------

class ImportFailed(Exception):
    """The import was rolled back as a whole; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


MERGE_FIELDS = ("company", "tax_id", "email", "phone", "whatsapp", "address", "territory_id", "portfolio_id",
                "seller_id", "preferred_channel", "notes")


def merge_into(client: Client, values: dict, overwrite: bool = False) -> dict[str, object]:
    """Fill the client's empty fields from the row; a field that has a value keeps it,
    unless the owner chose to overwrite (then the file's non-empty values win; notes
    are appended, never replaced). Returns the fields changed and their old values."""
    old: dict[str, object] = {}
    for name in MERGE_FIELDS:
        new, current = values.get(name), getattr(client, name)
        if not new or new == current:
            continue
        if name == "notes" and current:
            if overwrite or new not in current:
                old[name] = current
                client.notes = f"{current}\n{new}"[:5000]
            continue
        if not current or overwrite:
            old[name] = current
            setattr(client, name, new)
    if values.get("is_key") and not client.is_key:
        old["is_key"] = False
        client.is_key = True
    return old


def _signature(rows: list[dict]) -> list:
    return [(r["n"], r["status"], (r["dup"] or {}).get("client_id"), (r["dup"] or {}).get("row")) for r in rows]


def refresh(record: ClientImport, business, today: date, choices: dict[int, str]) -> bool:
    """Check the rows again against the book as it is now. False (and the preview
    updated) when the answer changed since the preview: a client was added or deleted."""
    rows = analyse(record.rows, record.headers, record.mapping, load_context(business, today), choices)
    changed = _signature(rows) != _signature(record.rows)
    record.rows = rows
    record.summary = counts(rows)
    return not changed


def _add_opening(client: Client, opening: dict, record: ClientImport, new: bool, opened: set[int]) -> bool:
    """Keep a row's summary as the client's opening balance; a client that has one
    already (an earlier import, or an earlier row of this file) keeps it. A client the
    import creates had none before it: no query for those."""
    if client.id in opened or (not new and db.session.execute(
            select(ClientOpening.id).where(ClientOpening.client_id == client.id)).first()):
        return False
    opened.add(client.id)
    db.session.add(ClientOpening(
        client_id=client.id, import_id=record.id, purchases=opening["purchases"], period=opening["period"],
        first_purchase_on=date.fromisoformat(opening["first_on"]) if opening["first_on"] else None,
        last_purchase_on=date.fromisoformat(opening["last_on"]), total_amount=opening["total"],
        total_period=opening["total_period"]))
    return True


def run_import(record: ClientImport, user: User, business, today: date, choices: dict[int, str]) -> dict:
    """Import the accepted rows of a previewed file in one transaction: every new client,
    every merge the user chose and every sale, or (on any error) nothing at all.

    A concurrent second confirm of the same file finds its status already changed (the
    guarded UPDATE below matches no row) and is rolled back: the file is imported once."""
    if record.status != "preview":
        raise ImportFailed(_("This file was already imported."))
    if not has_name_column(record.mapping):
        raise ImportFailed(_("Choose the column that holds the clients' names first."))
    if not refresh(record, business, today, choices):
        db.session.commit()
        raise ImportFailed(_("Your client book changed since the preview (a client was added or deleted). Check "
                             "the rows again and confirm."))
    rows = record.rows
    undo: dict = {"clients": [], "sales": [], "merged": {}, "openings": []}
    try:
        created: dict[int, Client] = {}
        for row in rows:
            if row["status"] == "new":
                created[row["n"]] = Client(**row["values"])
        db.session.add_all(created.values())
        db.session.flush()
        undo["clients"] = [c.id for c in created.values()]
        merging = [r for r in rows if r["status"] == "duplicate" and r["choice"] in ("merge", "overwrite")]
        existing_ids = {r["dup"]["client_id"] for r in merging if "client_id" in r["dup"]}
        existing = {c.id: c for c in db.session.execute(
            select(Client).where(Client.id.in_(existing_ids))).scalars()} if existing_ids else {}
        targets: dict[int, Client] = dict(created)
        merged = 0
        for row in merging:
            dup = row["dup"]
            client = existing.get(dup["client_id"]) if "client_id" in dup else created.get(dup["row"])
            if client is None:
                raise ImportFailed(_("A client to merge into was deleted meanwhile. Upload the file again."))
            old = merge_into(client, row["values"], overwrite=row["choice"] == "overwrite")
            if client.id not in undo["clients"] and old:
                before = undo["merged"].setdefault(str(client.id), {})
                for name, value in old.items():
                    before.setdefault(name, value)
            targets[row["n"]] = client
            merged += 1
        openings = 0
        new_ids, opened = set(undo["clients"]), set()
        for row in rows:
            client = targets.get(row["n"])
            if client is not None and row.get("opening") and _add_opening(client, row["opening"], record,
                                                                              client.id in new_ids, opened):
                openings += 1
                if client.id not in undo["clients"]:
                    undo["openings"].append(client.id)
        db.session.flush()
        made = _add_sales(rows, targets)
        undo["sales"] = [sale.id for _client, sale in made]
        sales = len(made)
        _place_clients(rows, targets, made, set(undo["clients"]), user, today)
        follow_up = cadence()  # after the tiers: a check-in's distance depends on the tier
        created_ids = set(undo["clients"])
        for client, sale in made:
            if client.id not in created_ids:
                plan_for_sale(sale, client, rules=follow_up, today=today)  # rule 1, as for a sale typed in
        plan_for_new_sales([(sale, client) for client, sale in made if client.id in created_ids], follow_up, today)
        summary = dict(counts(rows), created=len(created), merged=merged, sales_recorded=sales, openings=openings,
                       skipped=sum(1 for r in rows if r["status"] == "duplicate"
                                   and r["choice"] not in ("merge", "overwrite")))
        claimed = db.session.execute(
            update(ClientImport).where(ClientImport.id == record.id, ClientImport.status == "preview")
            .values(status="imported", summary=summary, rows=rows, undo=undo, imported_at=utcnow(),
                    updated_at=utcnow())
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            raise ImportFailed(_("This file was already imported."))
        db.session.commit()
    except ImportFailed:
        db.session.rollback()
        raise
    except FieldError as error:
        db.session.rollback()
        raise ImportFailed(_("Nothing was imported: %(reason)s", reason=error.message)) from error
    except Exception:
        db.session.rollback()
        current_app.logger.exception("client import %s rolled back", record.id)
        raise ImportFailed(_("Nothing was imported: the database refused a row. Your client book is as it was; "
                             "try again, or upload the file again.")) from None
    db.session.refresh(record)
    return summary


def _add_sales(rows: list[dict], targets: dict[int, Client]) -> list[tuple[Client, Sale]]:
    """The rows' sales, saved together. Each was checked by the sale form's rules when the
    rows were analysed, again at confirm (``refresh``), with its seller among the active
    team: what ``sales.services.record_sale`` checks one at a time."""
    made = []
    for row in rows:
        client, sale = targets.get(row["n"]), row.get("sale")
        if client is None or not sale:
            continue
        made.append((client, Sale(
            client_id=client.id, sold_on=date.fromisoformat(sale["sold_on"]), description=sale["description"].strip(),
            product_line=(sale["product_line"] or "").strip(), amount=sale["amount"], margin=sale["margin"],
            seller_id=sale["seller_id"] or None,
            delivery_on=date.fromisoformat(sale["delivery_on"]) if sale["delivery_on"] else None)))
    db.session.add_all([sale for _client, sale in made])
    db.session.flush()
    return made


def _place_clients(rows: list[dict], targets: dict[int, Client], made: list[tuple[Client, Sale]],
                   created: set[int], user: User, today: date) -> None:
    """Every client the import gave a sale or an opening balance, placed on the ladder once
    (not once per sale). A client this import created has no sales but the file's, no
    answers, referrals or testimonials: its figures come from memory. A client it merged
    into is recomputed from the database (``refresh_client``)."""
    real: dict[int, list[tuple[date, int]]] = {}
    for client, sale in made:
        real.setdefault(client.id, []).append((sale.sold_on, sale.amount or 0))
    placed = {client.id: client for client, _sale in made}
    placed.update({c.id: c for r in rows if r.get("opening") and (c := targets.get(r["n"])) is not None})
    new_ids = [i for i in placed if i in created]
    openings: dict[int, ClientOpening] = {}
    for start in range(0, len(new_ids), 500):
        openings.update({o.client_id: o for o in db.session.execute(
            select(ClientOpening).where(ClientOpening.client_id.in_(new_ids[start:start + 500]))).scalars()})
    tier_rules = rules()
    window_start = today - timedelta(days=365)
    for client_id, client in placed.items():
        if client_id not in created:
            refresh_client(client, today, user)
            continue
        sold = real.get(client_id, [])
        revenue = sum(amount for day, amount in sold if window_start < day <= today)
        place_on_ladder(client, [day for day, _amount in sold], revenue, openings.get(client_id), today, user,
                        tier_rules=tier_rules)


# --- undo ----------------------------------------------------------------------------------

def can_undo(record: ClientImport, now=None) -> bool:
    now = now or utcnow()
    return (record.status == "imported" and record.undone_at is None and record.imported_at is not None
            and now - record.imported_at <= timedelta(days=UNDO_DAYS))


def undo_deadline(record: ClientImport):
    return record.imported_at + timedelta(days=UNDO_DAYS) if record.imported_at else None


def _used_since(client_ids: list[int], import_sales: list[int]) -> set[int]:
    """Clients created by the import that the team has worked with since: a sale the
    import did not make, a logged contact, a feedback link, a complaint or a referral.
    Undo keeps them (and says so) rather than delete that work."""
    from ..complaints.models import Complaint
    from ..feedback.models import FeedbackLink
    from ..referrals.models import Referral
    from ..sales.models import Sale
    from ..visits.models import Activity

    if not client_ids:
        return set()
    used: set[int] = set()
    ids = list(client_ids)
    used.update(db.session.execute(select(Sale.client_id).where(
        Sale.client_id.in_(ids), Sale.id.not_in(import_sales or [0]))).scalars())
    used.update(db.session.execute(select(Activity.client_id).where(
        Activity.client_id.in_(ids), Activity.status != "planned")).scalars())
    used.update(db.session.execute(select(FeedbackLink.client_id).where(FeedbackLink.client_id.in_(ids))).scalars())
    used.update(db.session.execute(select(Complaint.client_id).where(Complaint.client_id.in_(ids))).scalars())
    used.update(db.session.execute(select(Referral.referrer_id).where(Referral.referrer_id.in_(ids))).scalars())
    used.update(db.session.execute(select(Referral.prospect_id).where(Referral.prospect_id.in_(ids))).scalars())
    return used


def undo_import(record: ClientImport, user: User, today: date) -> dict:
    """Take an import back: delete the clients it created (with their sales, plans and
    history) and the sales it added to existing clients, put back the fields it filled
    or overwrote, remove the opening balances it added. Clients the team has worked
    with since are kept and counted. One transaction."""
    from ..sales.models import Sale
    from ..sales.services import delete_sale
    from .services import refresh_client

    if not can_undo(record):
        raise ImportFailed(_("This import can no longer be undone (only for %(days)d days after it).",
                           days=UNDO_DAYS))
    undo = record.undo or {}
    created = [int(i) for i in undo.get("clients", [])]
    import_sales = [int(i) for i in undo.get("sales", [])]
    try:
        kept = _used_since(created, import_sales)
        removing = [cid for cid in created if cid not in kept]
        # sales the import added to clients that stay (merged ones and kept ones)
        for sale in db.session.execute(select(Sale).where(Sale.id.in_(import_sales or [0]),
                                                          Sale.client_id.not_in(removing or [0]))).scalars().all():
            client = db.session.get(Client, sale.client_id)
            delete_sale(sale, client, user, commit=False)
        for cid, fields in (undo.get("merged") or {}).items():
            client = db.session.get(Client, int(cid))
            if client is None:
                continue
            for name, value in fields.items():
                setattr(client, name, value)
        touched = [int(c) for c in undo.get("openings", [])] + list(kept)
        if touched:
            db.session.execute(delete(ClientOpening).where(ClientOpening.client_id.in_(touched),
                                                           ClientOpening.import_id == record.id))
        if removing:
            db.session.execute(delete(Client).where(Client.id.in_(removing)).execution_options(
                synchronize_session=False))
        db.session.flush()
        for cid in set(touched) | {int(c) for c in (undo.get("merged") or {})}:
            client = db.session.get(Client, cid)
            if client is not None:
                refresh_client(client, today, user)
        result = {"removed": len(removing), "kept": len(kept), "restored": len(undo.get("merged") or {})}
        record.undone_at = utcnow()
        record.undone_by_id = user.id
        record.summary = dict(record.summary or {}, undone=result)
        db.session.commit()
    except ImportFailed:
        db.session.rollback()
        raise
    except Exception:
        db.session.rollback()
        current_app.logger.exception("undo of client import %s rolled back", record.id)
        raise ImportFailed(_("The import could not be undone; nothing changed. Try again.")) from None
    return result


# --- files for the user --------------------------------------------------------------------

def reason_of(row: dict) -> str:
    if row["status"] == "rejected":
        return "; ".join(f"{column}: {message}" for column, message in row["problems"])
    dup = row["dup"] or {}
    if dup.get("by") == "email":
        return _("Skipped: same e-mail as %(name)s.", name=dup.get("name", ""))
    return _("Skipped: same phone as %(name)s.", name=dup.get("name", ""))


def not_imported(record: ClientImport) -> list[dict]:
    """The rejected rows, and once imported the duplicates that were skipped."""
    return [r for r in record.rows if r.get("status") == "rejected"
            or (record.status == "imported" and r.get("status") == "duplicate"
                and r.get("choice") not in ("merge", "overwrite"))]


def csv_dialect(locale: str) -> tuple[str, bool]:
    """(delimiter, BOM) that Excel of the business's country opens in columns: Excel in
    a comma-decimal locale (Spanish, Portuguese, most of Europe) splits on ``;``."""
    from babel.numbers import get_decimal_symbol

    try:
        comma_decimal = get_decimal_symbol(locale) == ","
    except Exception:
        comma_decimal = locale.split("_")[0] in ("es", "pt", "fr", "de", "it", "ru")
    return (";" if comma_decimal else ","), True


def rejected_csv(record: ClientImport, locale: str) -> str:
    """The rows that were not imported, as they were in the file, with the reason in the
    first column (EXP-1: formula-like cells neutralised, as in every export)."""
    delimiter, bom = csv_dialect(locale)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    width = len(record.headers)
    writer.writerow([_("Reason")] + [neutralise(h) for h in record.headers])
    for row in not_imported(record):
        cells = (row["cells"] + [""] * width)[:max(width, len(row["cells"]))]
        writer.writerow([neutralise(reason_of(row))] + [neutralise(c) for c in cells])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def column_overview(record: ClientImport, samples: int = 2) -> list[dict]:
    """Every column of the file with its target and a few of its values, for the mapping step."""
    overview = []
    for position, header in enumerate(record.headers):
        values = []
        for row in record.rows:
            cells = row["cells"]
            if position < len(cells) and cells[position] and cells[position] not in values:
                values.append(cells[position][:60])
                if len(values) >= samples:
                    break
        overview.append({"position": str(position), "header": header,
                         "target": record.mapping.get(str(position), "ignore"), "samples": values})
    return overview

