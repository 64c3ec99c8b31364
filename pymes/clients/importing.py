"""Client import from CSV or Excel: read the file, check every row, find duplicates,
then import every accepted row in one transaction (all or nothing).

The steps:

1. ``read_upload`` turns the bytes into a header and rows of text. The type comes from
   the content, not the name (a PNG called ``.csv`` is refused). CSV is read as UTF-8
   (with or without a BOM), else Windows-1252 / Latin-1, with ``;``, ``,``, tab or
   ``|`` found from the header line. XLSX goes through openpyxl in read-only mode with
   ``data_only=False``: a formula cell arrives as its text (``=SUM(A1)``) and nothing is
   ever calculated. Size and row limits are checked before anything is parsed.
2. ``match_columns`` maps the headers (Spanish or English, any case or accent) to the
   client and sale fields; without a name column the file is refused with the columns
   found and the ones expected.
3. ``analyse`` puts each row through the same rules as the client form (``ClientForm``,
   ``services.normalise_phone``) and, when it has sale columns, the sale form and
   ``sales.services.check_sale``. Territories, portfolios, sellers and the e-mails and
   phones of the whole book are loaded once (``load_context``): no query per row.
   A row is *rejected* (with its reasons), a *duplicate* (same e-mail or same E.164
   phone as a client of the book or as an earlier row of the file) or *new*.
4. ``run_import`` re-checks the rows against the book as it is now, then creates the
   new clients, merges the chosen duplicates (filling only empty fields) and records
   the sales through ``record_sale``, committing once.

The routes are in ``import_routes.py`` on the clients blueprint: importing is part of
the client book (same URLs, same roles), and ``routes.py`` is long enough already.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from ..accounts.models import User
from ..db import utcnow
from ..extensions import db
from ..territories.models import Portfolio, Territory
from ..validation import FieldError
from .export import neutralise
from .forms import ClientForm, SaleForm
from .models import Client, ClientImport
from .services import normalise_phone

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 10_000
MAX_COLUMNS = 60
CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")


def max_bytes() -> int:
    """The largest file accepted (``IMPORT_MAX_BYTES``, 5 MB unless configured)."""
    return int(current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def size_label(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


class UploadProblem(Exception):
    """The file as a whole cannot be imported; nothing was kept. ``found`` and
    ``expected`` list columns when the problem is the header."""

    def __init__(self, message: str, found: list[str] | None = None, expected: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.found = found or []
        self.expected = expected or []


# --- the columns ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy string
    aliases: tuple[str, ...]
    sale: bool = False
    example: str = ""


COLUMNS = (
    Column("name", _l("Name"), ("nombre", "name", "nombrecompleto", "fullname", "cliente", "client",
                                 "nombredelcliente", "clientname")),
    Column("kind", _l("Type"), ("tipo", "type", "kind"), example="cliente / prospecto"),
    Column("company", _l("Company"), ("empresa", "company", "razonsocial", "companyname", "compania")),
    Column("tax_id", _l("Tax id"), ("rut", "nif", "cif", "rfc", "cuit", "taxid", "vat", "idfiscal", "ruc")),
    Column("email", _l("E-mail"), ("correo", "email", "mail", "correoelectronico", "emailaddress")),
    Column("phone", _l("Phone"), ("telefono", "phone", "tel", "fono", "celular", "movil", "mobile", "phonenumber")),
    Column("whatsapp", _l("WhatsApp"), ("whatsapp", "wsp", "whatsappnumber")),
    Column("address", _l("Address"), ("direccion", "address", "domicilio")),
    Column("territory", _l("Territory"), ("territorio", "territory", "zona", "zone")),
    Column("portfolio", _l("Portfolio"), ("cartera", "portfolio", "carteradeclientes")),
    Column("seller", _l("Seller"), ("vendedor", "seller", "vendedorresponsable", "responsibleseller", "rep")),
    Column("preferred_channel", _l("Preferred channel"), ("canal", "channel", "canalpreferido", "preferredchannel"),
           example="whatsapp / teléfono / correo / visita"),
    Column("is_key", _l("Key client"), ("clave", "clienteclave", "keyclient", "key"), example="sí / no"),
    Column("notes", _l("Notes"), ("notas", "notes", "observaciones", "comentarios", "comments")),
    Column("sold_on", _l("Date of the sale"), ("fecha", "date", "fechaventa", "fechadeventa", "saledate",
                                                "fechadelaventa", "dateofthesale"), sale=True, example="2025-03-31"),
    Column("description", _l("What was sold"), ("descripcion", "description", "producto", "product", "detalle",
                                                 "loquesevendio", "whatwassold"), sale=True),
    Column("product_line", _l("Product line"), ("lineadeproducto", "linea", "productline", "line"), sale=True),
    Column("amount", _l("Amount"), ("monto", "importe", "amount", "total", "valor", "value", "precio", "price"),
           sale=True, example="12.500"),
    Column("margin", _l("Margin"), ("margen", "margin"), sale=True, example="3.000 / 30%"),
    Column("delivery_on", _l("Delivery / start of service"), ("entrega", "fechaentrega", "fechadeentrega",
                                                              "delivery", "deliverydate", "deliverystartofservice"), sale=True),
)
BY_KEY = {c.key: c for c in COLUMNS}
SALE_KEYS = tuple(c.key for c in COLUMNS if c.sale)


def fold(text: str) -> str:
    """Lower case, no accents, letters and digits only: "Teléfono " → "telefono"."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", text)


ALIASES = {alias: c.key for c in COLUMNS for alias in c.aliases}


def match_columns(headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """Header position → field key, and the headers that were not used (unknown or repeated).
    Without a name column the file is refused, naming the columns found and expected."""
    aliases = dict(ALIASES)
    aliases.update({fold(str(c.label)): c.key for c in COLUMNS})  # the template's headers, in any UI language
    mapping: dict[str, str] = {}
    ignored = []
    for position, header in enumerate(headers):
        key = aliases.get(fold(header))
        if key is None or key in mapping.values():
            if header.strip():
                ignored.append(header.strip())
            continue
        mapping[str(position)] = key
    if "name" not in mapping.values():
        raise UploadProblem(
            _("The file has no column with the clients' names, so nothing was imported."),
            found=[h for h in headers if h.strip()],
            expected=[f"{BY_KEY['name'].label} ({', '.join(BY_KEY['name'].aliases[:2])})"])
    return mapping, ignored


# --- reading the file ----------------------------------------------------------------------

@dataclass
class Sheet:
    headers: list[str]
    rows: list[dict]  # {"n": line number in the spreadsheet, "cells": [text, ...]}
    notes: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    # NUL cannot be stored by PostgreSQL and means nothing in a name; the rest is kept as typed.
    return text.replace("\x00", "").strip()


def read_upload(file_name: str, data: bytes, locale: str) -> Sheet:
    """Bytes of an uploaded file → its header and rows as text, or ``UploadProblem``."""
    if len(data) > max_bytes():
        raise UploadProblem(_("The file is larger than %(size)s. Split it in parts, or remove columns you do not "
                              "need.", size=size_label(max_bytes())))
    if not data.strip():
        raise UploadProblem(_("The file is empty."))
    extension = ("." + file_name.rsplit(".", 1)[-1].lower()) if "." in file_name else ""
    if data.startswith(b"\xd0\xcf\x11\xe0") or extension == ".xls":
        raise UploadProblem(_("This is an old Excel file (.xls). Open it in Excel and save it as .xlsx or CSV."))
    if data.startswith(b"PK\x03\x04"):
        if extension not in XLSX_EXTENSIONS:
            raise UploadProblem(not_a_spreadsheet())
        return _read_xlsx(data, locale)
    if extension in XLSX_EXTENSIONS or (extension and extension not in CSV_EXTENSIONS):
        raise UploadProblem(not_a_spreadsheet())
    return _read_csv(data)


def not_a_spreadsheet() -> str:
    return _("This file is not a spreadsheet we can read. Upload a CSV file or an Excel workbook (.xlsx).")


def _decode(data: bytes) -> tuple[str, str | None]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), None
    if b"\x00" in data[:8192]:
        raise UploadProblem(not_a_spreadsheet())  # images, PDFs, archives: binary, not text
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    note = _("The file was not in UTF-8; it was read as Latin-1 (Windows). Check the accents in the preview.")
    try:
        return data.decode("cp1252"), note
    except UnicodeDecodeError:
        return data.decode("latin-1"), note


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes) -> Sheet:
    text, note = _decode(data)
    if sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t") > 8:
        raise UploadProblem(not_a_spreadsheet())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    records = []
    try:
        for record in reader:
            records.append([_clean(cell) for cell in record[:MAX_COLUMNS]])
            if len(records) > max_rows() + 50:
                break
    except csv.Error:
        raise UploadProblem(_("Line %(line)d of the file cannot be read as CSV (a cell that is too long, or a "
                              "quote that is never closed).", line=reader.line_num))
    return _sheet(records, [note] if note else [])


def _cell_text(value, locale: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # A number shown the way the business writes it, so that the amount rules read it back.
        return str(int(value)) if value.is_integer() else format_decimal(value, "0.##########", locale=locale)
    return _clean(str(value))


def _read_xlsx(data: bytes, locale: str) -> Sheet:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula cell is read as its text and never calculated.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # a damaged or fake workbook raises anything from zipfile to KeyError
        raise UploadProblem(_("This Excel file cannot be opened: it may be damaged or protected with a password. "
                              "Save it again as .xlsx or CSV."))
    try:
        sheet = workbook.worksheets[0]
        records = []
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            records.append([_cell_text(v, locale) for v in values])
            if len(records) > max_rows() + 50:
                break
    finally:
        workbook.close()
    return _sheet(records, [])


def _sheet(records: list[list[str]], notes: list[str]) -> Sheet:
    numbered = [(n, cells) for n, cells in enumerate(records, start=1) if any(cells)]
    if not numbered:
        raise UploadProblem(_("The file is empty."))
    (_n, headers), body = numbered[0], numbered[1:]
    if len(body) > max_rows():
        raise UploadProblem(_("The file has more than %(max)d rows. Split it in parts of at most %(max)d rows.",
                              max=max_rows()))
    if not body:
        raise UploadProblem(_("The file has a header but no clients under it."))
    return Sheet(headers=headers, rows=[{"n": n, "cells": cells} for n, cells in body], notes=notes)


# --- checking the rows ---------------------------------------------------------------------

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
        select(Client.id, Client.name, Client.email, Client.phone).where(Client.deleted_at.is_(None))
        .order_by(Client.id)).all()
    by_email, by_phone = {}, {}
    for cid, name, email, phone in book:
        if email:
            by_email.setdefault(email.lower(), (cid, name))
        if phone:
            by_phone.setdefault(phone, (cid, name))
    return Context(
        country=business.country, currency=business.currency, locale=business.locale, today=today,
        territories=db.session.execute(select(Territory).order_by(Territory.name)).scalars().all(),
        portfolios=db.session.execute(select(Portfolio).order_by(Portfolio.name)).scalars().all(),
        sellers=db.session.execute(select(User).where(User.active.is_(True)).order_by(User.name)).scalars().all(),
        by_email=by_email, by_phone=by_phone)


KINDS = {"cliente": "client", "client": "client", "customer": "client", "prospecto": "prospect",
         "prospect": "prospect", "potencial": "prospect"}
CHANNELS = {"whatsapp": "whatsapp", "wsp": "whatsapp", "telefono": "phone", "phone": "phone", "llamada": "phone",
            "call": "phone", "correo": "email", "email": "email", "mail": "email", "visita": "visit",
            "visit": "visit"}
YES = {"si", "s", "yes", "y", "x", "1", "true", "verdadero"}
NO = {"no", "n", "0", "false", "falso"}


def formula_like(text: str) -> bool:
    """A cell a spreadsheet would run as a formula (EXP-1's list); phones such as
    ``+56 9 1234 5678`` and numbers such as ``-5`` are not."""
    if not text or text[0] not in "=+-@":
        return False
    return text[0] in "=@" or bool(re.search(r"[^0-9 .,()+\-]", text[1:]))


def parse_day(text: str, locale: str) -> date:
    """``2025-03-31``, or day/month/year as written in Spanish (month first for en_US)."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", text):
        return date.fromisoformat(text[:10])
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if not match:
        raise ValueError(text)
    first, second, year = (int(g) for g in match.groups())
    month, day = (first, second) if locale.endswith("_US") else (second, first)
    return date(year, month, day)


def _lookup(ids: dict[str, list[int]], text: str) -> int | None | str:
    found = ids.get(fold(text), [])
    return found[0] if len(found) == 1 else ("ambiguous" if found else None)


class _Row:
    """One row being checked: its problems are collected, never raised."""

    def __init__(self, raw: dict[str, str], headers: dict[str, str]):
        self.raw, self.headers, self.problems, self.reported = raw, headers, [], set()

    def problem(self, key: str, message) -> None:
        self.problems.append([self.headers.get(key, str(BY_KEY[key].label) if key in BY_KEY else key), str(message)])
        self.reported.add(key)

    def form_errors(self, form, names: dict[str, str]) -> None:
        for name, messages in form.errors.items():
            key = names.get(name, name)
            if key not in self.reported and messages:
                self.problem(key, messages[0])


def _client_values(row: _Row, ctx: Context) -> dict:
    raw = row.raw
    data = {k: raw.get(k, "") for k in ("name", "company", "tax_id", "email", "phone", "whatsapp", "address",
                                        "notes")}
    data["kind"] = KINDS.get(fold(raw.get("kind", "")), "client" if not raw.get("kind") else "")
    if not data["kind"]:
        row.problem("kind", _("Write “cliente” or “prospecto”."))
        data["kind"] = "client"
    channel = fold(raw.get("preferred_channel", ""))
    data["preferred_channel"] = CHANNELS.get(channel, "")
    if channel and not data["preferred_channel"]:
        row.problem("preferred_channel", _("Write WhatsApp, teléfono, correo or visita."))
    key_mark = fold(raw.get("is_key", ""))
    if key_mark in YES:
        data["is_key"] = "y"
    elif key_mark and key_mark not in NO:
        row.problem("is_key", _("Write sí or no."))
    for key, ids, field_name, unknown in (
            ("territory", ctx.territory_ids, "territory_id", _l("No territory has that name.")),
            ("portfolio", ctx.portfolio_ids, "portfolio_id", _l("No portfolio has that name.")),
            ("seller", ctx.seller_ids, "seller_id", _l("No active member of your team has that name or e-mail."))):
        text = raw.get(key, "")
        if not text:
            continue
        found = _lookup(ids, text)
        if found == "ambiguous":
            row.problem(key, _("Several have that name: write the e-mail instead.") if key == "seller"
                        else _("Several have that name."))
        elif found is None:
            row.problem(key, unknown)
        else:
            data[field_name] = str(found)
    # The client form's own rules: required name, lengths, e-mail syntax, choices of this business.
    form = ctx.check(ctx.client_form, data)
    row.form_errors(form, {"territory_id": "territory", "portfolio_id": "portfolio", "seller_id": "seller"})
    values = {name: getattr(form, name).data for name in (
        "kind", "name", "company", "tax_id", "email", "phone", "whatsapp", "address", "territory_id", "portfolio_id",
        "seller_id", "preferred_channel", "notes", "is_key")}
    for name in ("phone", "whatsapp"):
        if name in row.reported:
            continue
        try:
            values[name] = normalise_phone(values[name], ctx.country, name)
        except FieldError as error:
            row.problem(name, error.message)
    values["email"] = (values["email"] or "").strip().lower() or None
    for name in ("territory_id", "portfolio_id", "seller_id", "preferred_channel"):
        values[name] = values[name] or None
    for name in ("name", "company", "tax_id", "address", "notes"):
        values[name] = (values[name] or "").strip()
    return values


def _sale_values(row: _Row, ctx: Context, seller_id: int | None) -> dict | None:
    from ..sales.services import check_sale, margin_from, parse_money

    raw = row.raw
    if not any(raw.get(k) for k in SALE_KEYS):
        return None
    problems_before = len(row.problems)
    days = {}
    for key in ("sold_on", "delivery_on"):
        text = raw.get(key, "")
        days[key] = None
        if text:
            try:
                days[key] = parse_day(text, ctx.locale)
            except ValueError:
                row.problem(key, _("Write the date like 2025-03-31 or 31/03/2025."))
    margin_text = raw.get("margin", "")
    margin_kind = "percent" if margin_text.endswith("%") else "amount"
    form = ctx.check(ctx.sale_form, {
        "sold_on": days["sold_on"].isoformat() if days["sold_on"] else "",
        "description": raw.get("description", ""), "product_line": raw.get("product_line", ""),
        "amount": raw.get("amount", ""), "margin": margin_text.rstrip("%").strip(), "margin_kind": margin_kind,
        "seller_id": str(seller_id or ""),
        "delivery_on": days["delivery_on"].isoformat() if days["delivery_on"] else ""})
    if "sold_on" not in row.reported and not raw.get("sold_on"):
        row.problem("sold_on", _("A sale needs its date."))
    row.form_errors(form, {"seller_id": "seller"})
    if len(row.problems) > problems_before or "seller" in row.reported:
        return None
    try:
        amount = parse_money(form.amount.data, ctx.currency, ctx.locale, "amount")
        margin = margin_from(amount or 0, form.margin.data, margin_kind, ctx.currency, ctx.locale)
        check_sale(sold_on=days["sold_on"], amount=amount, margin=margin, delivery_on=days["delivery_on"],
                   today=ctx.today)
    except FieldError as error:
        row.problem(error.field, error.message)
        return None
    return {"sold_on": days["sold_on"].isoformat(), "description": form.description.data.strip(),
            "product_line": (form.product_line.data or "").strip(), "amount": amount, "margin": margin,
            "delivery_on": days["delivery_on"].isoformat() if days["delivery_on"] else None, "seller_id": seller_id}


def analyse(rows: list[dict], headers: list[str], mapping: dict[str, str], ctx: Context,
            choices: dict[int, str] | None = None) -> list[dict]:
    """Check every row; mark it rejected, duplicate (of a client or of an earlier row)
    or new. Pure apart from ``ctx``: the same file and book give the same answer."""
    header_of = {key: headers[int(position)].strip() for position, key in mapping.items()}
    seen_email: dict[str, dict] = {}
    seen_phone: dict[str, dict] = {}
    checked = []
    for source in rows:
        cells = source["cells"]
        raw = {key: cells[int(position)] if int(position) < len(cells) else "" for position, key in mapping.items()}
        row = _Row(raw, header_of)
        warnings = [_("%(column)s starts like a spreadsheet formula: it is kept as plain text, never calculated.",
                      column=header_of[key]) for key, text in raw.items() if formula_like(text)]
        values = _client_values(row, ctx)
        sale = _sale_values(row, ctx, values.get("seller_id"))
        result = {"n": source["n"], "cells": cells, "values": values, "sale": sale, "problems": row.problems,
                  "warnings": warnings, "status": "rejected" if row.problems else "new", "dup": None,
                  "choice": (choices or {}).get(source["n"], source.get("choice", "skip"))}
        if not row.problems:
            email, phone = values["email"], values["phone"]
            target = None
            if email and email in ctx.by_email:
                cid, name = ctx.by_email[email]
                target = {"client_id": cid, "name": name, "by": "email"}
            elif phone and phone in ctx.by_phone:
                cid, name = ctx.by_phone[phone]
                target = {"client_id": cid, "name": name, "by": "phone"}
            elif email and email in seen_email:
                target = dict(seen_email[email], by="email")
            elif phone and phone in seen_phone:
                target = dict(seen_phone[phone], by="phone")
            if target is None:
                target = {"row": source["n"], "name": values["name"]}
            else:
                result["status"], result["dup"] = "duplicate", target
            # Later rows with this row's e-mail or phone point at the same client.
            kept = {k: v for k, v in target.items() if k != "by"}
            if email:
                seen_email.setdefault(email, kept)
            if phone:
                seen_phone.setdefault(phone, kept)
        checked.append(result)
    return checked


def counts(rows: list[dict]) -> dict[str, int]:
    found = {"new": 0, "duplicate": 0, "rejected": 0, "sales": 0}
    for row in rows:
        found[row["status"]] += 1
        found["sales"] += 1 if row["sale"] and row["status"] != "rejected" else 0
    return found


def create_import(user: User, business, file_name: str, data: bytes, today: date) -> ClientImport:
    """Read and check an uploaded file and keep it for the preview (``UploadProblem`` when
    the file as a whole is unusable; nothing is stored then)."""
    sheet = read_upload(file_name, data, business.locale)
    mapping, ignored = match_columns(sheet.headers)
    notes = list(sheet.notes)
    if ignored:
        notes.append(_("These columns were not recognised and are left out: %(columns)s.",
                       columns=", ".join(ignored)))
    rows = analyse(sheet.rows, sheet.headers, mapping, load_context(business, today))
    record = ClientImport(created_by_id=user.id, file_name=file_name.replace("\x00", "")[:200], headers=sheet.headers, mapping=mapping,
                          notes=notes, rows=rows, summary=counts(rows))
    db.session.add(record)
    db.session.commit()
    return record


# --- importing -----------------------------------------------------------------------------

class ImportFailed(Exception):
    """The import was rolled back as a whole; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


MERGE_FIELDS = ("company", "tax_id", "email", "phone", "whatsapp", "address", "territory_id", "portfolio_id",
                "seller_id", "preferred_channel", "notes")


def merge_into(client: Client, values: dict) -> list[str]:
    """Fill the client's empty fields from the row; a field that has a value keeps it."""
    filled = []
    for name in MERGE_FIELDS:
        if not getattr(client, name) and values.get(name):
            setattr(client, name, values[name])
            filled.append(name)
    if values.get("is_key") and not client.is_key:
        client.is_key = True
        filled.append("is_key")
    return filled


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


def run_import(record: ClientImport, user: User, business, today: date, choices: dict[int, str]) -> dict:
    """Import the accepted rows of a previewed file in one transaction: every new client,
    every merge the user chose and every sale, or (on any error) nothing at all.

    A concurrent second confirm of the same file finds its status already changed (the
    guarded UPDATE below matches no row) and is rolled back: the file is imported once."""
    from ..sales.services import record_sale

    if record.status != "preview":
        raise ImportFailed(_("This file was already imported."))
    if not refresh(record, business, today, choices):
        db.session.commit()
        raise ImportFailed(_("Your client book changed since the preview (a client was added or deleted). Check "
                             "the rows again and confirm."))
    rows = record.rows
    try:
        created: dict[int, Client] = {}
        for row in rows:
            if row["status"] == "new":
                created[row["n"]] = Client(**row["values"])
        db.session.add_all(created.values())
        db.session.flush()
        merging = [r for r in rows if r["status"] == "duplicate" and r["choice"] == "merge"]
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
            merge_into(client, row["values"])
            targets[row["n"]] = client
            merged += 1
        sales = 0
        for row in rows:
            client = targets.get(row["n"])
            if client is None or not row["sale"]:
                continue
            sale = row["sale"]
            record_sale(client, sold_on=date.fromisoformat(sale["sold_on"]), description=sale["description"],
                        product_line=sale["product_line"], amount=sale["amount"], margin=sale["margin"],
                        seller_id=sale["seller_id"],
                        delivery_on=date.fromisoformat(sale["delivery_on"]) if sale["delivery_on"] else None,
                        actor=user, today=today, commit=False)
            sales += 1
        summary = dict(counts(rows), created=len(created), merged=merged, sales_recorded=sales,
                       skipped=sum(1 for r in rows if r["status"] == "duplicate" and r["choice"] != "merge"))
        claimed = db.session.execute(
            update(ClientImport).where(ClientImport.id == record.id, ClientImport.status == "preview")
            .values(status="imported", summary=summary, rows=rows, imported_at=utcnow(), updated_at=utcnow())
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            raise ImportFailed(_("This file was already imported."))
        db.session.commit()
    except ImportFailed:
        db.session.rollback()
        raise
    except FieldError as error:
        db.session.rollback()
        raise ImportFailed(_("Nothing was imported: %(reason)s", reason=error.message))
    except Exception:
        db.session.rollback()
        current_app.logger.exception("client import %s rolled back", record.id)
        raise ImportFailed(_("Nothing was imported: the database refused a row. Your client book is as it was; "
                             "try again, or upload the file again."))
    db.session.refresh(record)
    return summary


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
    return [r for r in record.rows if r["status"] == "rejected"
            or (record.status == "imported" and r["status"] == "duplicate" and r["choice"] != "merge")]


def rejected_csv(record: ClientImport) -> str:
    """The rows that were not imported, as they were in the file, with a reason column
    (EXP-1: formula-like cells neutralised, as in every export)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    width = len(record.headers)
    writer.writerow([neutralise(h) for h in record.headers] + [_("Reason")])
    for row in not_imported(record):
        cells = (row["cells"] + [""] * width)[:max(width, len(row["cells"]))]
        writer.writerow([neutralise(c) for c in cells] + [neutralise(reason_of(row))])
    return "\ufeff" + buffer.getvalue()


def template_headers() -> list[str]:
    return [str(c.label) for c in COLUMNS]
