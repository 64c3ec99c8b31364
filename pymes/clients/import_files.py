"""Reading an uploaded client file into a header and rows of text.

The type comes from the content, not the name (a PNG called ``.csv`` is refused):

- **CSV** is read as UTF-8 (with or without a BOM), else Windows-1252 / Latin-1, with
  ``;``, ``,``, tab or ``|`` found from the header line.
- **XLSX** goes through openpyxl in read-only mode with ``data_only=False`` (a formula
  arrives as its text and nothing is ever calculated). Before openpyxl sees it, the
  archive's directory is checked: the declared uncompressed size of all its parts is
  capped (a 150 KB file holding a 150 MB cell is refused at once, without inflating
  it), and zipfile never inflates a part beyond its declared size. defusedxml is
  installed, so openpyxl refuses XML entities (billion laughs) instead of expanding
  them. Any error of a malformed workbook, while opening or while reading rows, is
  an ``UploadProblem`` (a 422 with a message), never a 500.
- **vCard** (``.vcf``: 2.1, 3.0 and 4.0, several cards per file, quoted-printable and
  UTF-8 names, ``TEL;TYPE=CELL``), as shared from an Android or iPhone address book,
  is read by vobject and turned into rows with headers the column detection knows.

Every cell is capped at ``MAX_CELL`` characters: a longer cell is a problem of its
row (``long_cells``), not a truncated value.
"""
from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import gettext as _

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 10_000
MAX_COLUMNS = 120  # Outlook's export has 90 columns
MAX_CELL = 2000  # characters in one cell: notes can be long, a name cannot
MAX_UNZIPPED = 60 * 1024 * 1024  # bytes of XML inside an XLSX (10,000 rows × 120 columns fit easily)
CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
VCARD_EXTENSIONS = (".vcf", ".vcard")


def max_bytes() -> int:
    """The largest file accepted (``IMPORT_MAX_BYTES``, 5 MB unless configured)."""
    return int(current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def max_unzipped() -> int:
    return int(current_app.config.get("IMPORT_MAX_UNZIPPED", MAX_UNZIPPED))


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


@dataclass
class Sheet:
    headers: list[str]
    rows: list[dict]  # {"n": line number in the spreadsheet (or card number), "cells": [text, ...]}
    notes: list[str] = field(default_factory=list)
    kind: str = "csv"  # csv, xlsx, vcard


def _clean(text: str) -> str:
    # NUL cannot be stored by PostgreSQL and means nothing in a name; the rest is kept as typed.
    return text.replace("\x00", "").strip()


def not_a_spreadsheet() -> str:
    return _("This file is not a spreadsheet we can read. Upload a CSV file, an Excel workbook (.xlsx) or contacts "
             "shared from a phone (.vcf).")


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
    if extension in VCARD_EXTENSIONS or data.lstrip(b"\xef\xbb\xbf \r\n\t")[:11].upper() == b"BEGIN:VCARD":
        return _read_vcard(data)
    if extension in XLSX_EXTENSIONS or (extension and extension not in CSV_EXTENSIONS):
        raise UploadProblem(not_a_spreadsheet())
    return _read_csv(data)


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
                              "quote that is never closed).", line=reader.line_num)) from None
    return _sheet(records, [note] if note else [], "csv")


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


def _check_archive(data: bytes) -> None:
    """The zip's own directory, read without inflating anything: too many parts or too
    many declared bytes is refused before openpyxl (or zipfile) expands a byte."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UploadProblem(damaged_workbook()) from None
    if len(infos) > 500 or sum(i.file_size for i in infos) > max_unzipped():
        raise UploadProblem(_("This Excel file holds much more data than its size suggests (more than %(size)s "
                              "once unpacked), so it was not opened. Save it again as CSV, or remove what it does "
                              "not need.", size=size_label(max_unzipped())))


def damaged_workbook() -> str:
    return _("This Excel file cannot be opened: it may be damaged or protected with a password. Save it again as "
             ".xlsx or CSV.")


def _read_xlsx(data: bytes, locale: str) -> Sheet:
    from openpyxl import load_workbook

    _check_archive(data)
    try:
        # data_only=False: a formula cell is read as its text and never calculated.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # a damaged or fake workbook raises anything from zipfile to KeyError
        raise UploadProblem(damaged_workbook()) from None
    try:
        sheet = workbook.worksheets[0]
        records = []
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            records.append([_cell_text(v, locale) for v in values])
            if len(records) > max_rows() + 50:
                break
    except UploadProblem:
        raise
    except Exception:  # malformed sheet XML, forbidden entities (defusedxml), a lying zip entry
        raise UploadProblem(damaged_workbook()) from None
    finally:
        workbook.close()
    return _sheet(records, [], "xlsx")


# --- vCard -------------------------------------------------------------------------------

def _vcard_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(_vcard_text(v) for v in value if v)
    return _clean(str(value or "")).replace("\r", "")


def _phone_value(text: str) -> str:
    return text[4:] if text.lower().startswith("tel:") else text


def _read_vcard(data: bytes) -> Sheet:
    """Cards → rows: one column per name part, organisation, title, each e-mail, each
    phone, each address, birthday, note, categories and web page."""
    import vobject

    text, note = _decode(data)
    cards = []
    try:
        for number, card in enumerate(vobject.readComponents(text, ignoreUnreadable=True), start=1):
            if number > max_rows() + 50:
                break
            if getattr(card, "name", "").upper() != "VCARD":
                continue
            cards.append(card)
    except Exception:  # vobject raises ParseError and friends on a broken file
        raise UploadProblem(_("This contacts file (.vcf) cannot be read. Export the contacts again from the phone "
                              "or from Google Contacts.")) from None
    if not cards:
        raise UploadProblem(_("The file is empty."))
    people = []
    width = {"email": 0, "tel": 0, "adr": 0}
    for card in cards:
        contents = card.contents
        person = {"fn": "", "given": "", "additional": "", "family": "", "org": "", "title": "", "email": [],
                  "tel": [], "adr": [], "bday": "", "note": "", "categories": "", "url": "", "nickname": ""}
        for item in contents.get("fn", [])[:1]:
            person["fn"] = _vcard_text(item.value)
        for item in contents.get("n", [])[:1]:
            name = item.value
            person["given"] = _vcard_text(getattr(name, "given", ""))
            person["additional"] = _vcard_text(getattr(name, "additional", ""))
            person["family"] = _vcard_text(getattr(name, "family", ""))
        for key in ("org", "title", "bday", "note", "categories", "url", "nickname"):
            for item in contents.get(key, [])[:1]:
                value = item.value
                person[key] = _vcard_text(value if not isinstance(value, (list, tuple)) else
                                          (", ".join(str(v) for v in value if v)))
        person["email"] = [_vcard_text(i.value) for i in contents.get("email", []) if _vcard_text(i.value)]
        person["tel"] = [_phone_value(_vcard_text(i.value)) for i in contents.get("tel", []) if _vcard_text(i.value)]
        for item in contents.get("adr", []):
            a = item.value
            parts = [getattr(a, k, "") for k in ("box", "extended", "street", "city", "region", "code", "country")]
            joined = ", ".join(_vcard_text(p) for p in parts if _vcard_text(p))
            if joined:
                person["adr"].append(joined)
        for key in width:
            width[key] = max(width[key], len(person[key]))
        people.append(person)
    headers = ["Name", "Given Name", "Additional Name", "Family Name", "Organization", "Job Title"]
    headers += [f"E-mail {i + 1}" for i in range(width["email"])]
    headers += [f"Phone {i + 1}" for i in range(width["tel"])]
    headers += [f"Address {i + 1}" for i in range(width["adr"])]
    headers += ["Birthday", "Note", "Categories", "Website", "Nickname"]
    records = [headers]
    for p in people:
        row = [p["fn"], p["given"], p["additional"], p["family"], p["org"], p["title"]]
        for key in ("email", "tel", "adr"):
            row += (p[key] + [""] * width[key])[:width[key]]
        row += [p["bday"], p["note"], p["categories"], p["url"], p["nickname"]]
        records.append([_clean(c) for c in row[:MAX_COLUMNS]])
    return _sheet(records, [note] if note else [], "vcard")


def _sheet(records: list[list[str]], notes: list[str], kind: str) -> Sheet:
    numbered = [(n, cells) for n, cells in enumerate(records, start=1) if any(cells)]
    if not numbered:
        raise UploadProblem(_("The file is empty."))
    (_n, headers), body = numbered[0], numbered[1:]
    if len(body) > max_rows():
        raise UploadProblem(_("The file has more than %(max)d rows. Split it in parts of at most %(max)d rows.",
                              max=max_rows()))
    if not body:
        raise UploadProblem(_("The file has a header but no clients under it."))
    if kind == "vcard":  # a card's number, not a line, identifies it
        body = [(i, cells) for i, (_line, cells) in enumerate(body, start=1)]
    return Sheet(headers=[h[:200] for h in headers], rows=[{"n": n, "cells": cells} for n, cells in body],
                 notes=notes, kind=kind)


def long_cells(cells: list[str]) -> list[int]:
    """Positions of the cells longer than ``MAX_CELL`` characters."""
    return [i for i, c in enumerate(cells) if len(c) > MAX_CELL]
