"""Any table as a download: streamed CSV or a write-only XLSX, every cell EXP-1-safe.

Shared by the exports of every feature (clients, referrals, the activity log, the data
export); it imports no feature (issue 22, point 1)."""
from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from datetime import date

from flask import Response, stream_with_context

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_DANGEROUS = frozenset(DANGEROUS_FIRST)
# Excel set to ";" as its list separator (the default in Chile and Spain) reads this
# comma file splitting on ";", quotes or not: in "ACME;=2+3;" the "=2+3" begins a cell
# and runs. So a dangerous character right after a ";" (spaces between allowed) gets
# the apostrophe too (issue 20, finding 12; OWASP: mind the field separators).
_AFTER_SEMICOLON = re.compile(r";( *)(?=[=+\-@\t\r\n\0])")


def neutralise(value):
    """EXP-1 (OWASP "CSV injection"): text that starts like a formula becomes inert text."""
    if isinstance(value, str):
        if ";" in value:
            value = _AFTER_SEMICOLON.sub(r";\1'", value)
        if value.startswith(DANGEROUS_FIRST):
            return "'" + value
    return value


def _inert(row: list) -> list:
    """``neutralise`` over a row, inlined: exports call it for every cell."""
    return [neutralise(v) if type(v) is str and v and (v[0] in _DANGEROUS or ";" in v) else v for v in row]


def csv_stream(header: list[str], body):
    """Any table as streamed CSV chunks: BOM, header, EXP-1-neutralised rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(header)
    for count, row in enumerate(body, start=1):
        writer.writerow(_inert(row))
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_table(title: str, header: list[str], body):
    """Any table as a temporary write-only .xlsx, EXP-1-neutralised."""
    from openpyxl import Workbook  # heavy: loaded by the first XLSX export, not at start-up

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for row in body:
        sheet.append(_inert(row))
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (returned open: the response streams and closes it)
    workbook.save(handle)
    handle.seek(0)
    return handle


def file_name(business, extension: str, what: str = "") -> str:
    ascii_name = unicodedata.normalize("NFKD", business.name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", ascii_name).strip("-").lower() or "clientes"
    return f"{slug}{'-' + what if what else ''}-{date.today().isoformat()}.{extension}"


def download(extension: str, name: str, header: list[str], body, title: str):
    """The streamed response of an export, CSV or XLSX."""
    if extension == "csv":
        response = Response(stream_with_context(csv_stream(header, body)), mimetype="text/csv")
    else:
        handle = xlsx_table(title, header, body)

        def chunks():
            with handle:
                while block := handle.read(64 * 1024):
                    yield block

        response = Response(chunks(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
