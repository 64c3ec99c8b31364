"""Client import: hostile files (EXP-, OPS-), dates and amounts as people write them, and
undoing an import."""
import io
import tracemalloc
import zipfile
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import select, update

from pymes.clients import import_routes
from pymes.clients.import_files import UploadProblem, read_upload
from pymes.clients.import_values import ImpossibleDate, parse_amount, parse_day
from pymes.clients.models import Client, ClientImport, ClientOpening
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback.models import FeedbackLink
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import csrf_token
from .test_import import clients, confirm, import_id, logged, stored, text_of, to_csv, upload

TODAY = date(2026, 12, 5)


@pytest.fixture
def shop(app, make, monkeypatch):
    monkeypatch.setattr(import_routes, "business_today", lambda: TODAY)
    business = make.business("Ferretería Segura")
    return business, make.user(business, "owner", language="en")


# --- hostile files ---------------------------------------------------------------------------

def _workbook_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Nombre", "Teléfono"])
    workbook.active.append(["Ana", "+56 9 8765 4321"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _replace_part(data: bytes, name: str, content: bytes, chunks: int = 1) -> bytes:
    """The same workbook with one part replaced; ``chunks`` > 1 writes ``content`` that many times."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == name:
                with target.open(name, "w", force_zip64=True) as part:
                    for _ in range(chunks):
                        part.write(content)
            else:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 150 KB on disk, 150 MB of one cell once unpacked."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.'
            b'org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
    data = _replace_part(_workbook_bytes(), "xl/worksheets/sheet1.xml", head + b"A" * (1024 * 1024), chunks=150)
    assert len(data) < 400 * 1024
    return data


def test_an_xlsx_bomb_is_refused_from_its_directory_without_inflating_it(app, shop, bomb):
    """EXP-: a 150 MB cell packed in a small file is refused with a message, and reading
    it does not grow the worker's memory by the unpacked size."""
    business, owner = shop
    with app.test_request_context():
        tracemalloc.start()
        try:
            with pytest.raises(UploadProblem) as problem:
                read_upload("clientes.xlsx", bomb, "es_CL")
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "60 MB" in problem.value.message  # says how much is too much
    assert peak < 50 * 1024 * 1024
    http = logged(app, owner)
    response = upload(http, bomb, "clientes.xlsx")
    assert response.status_code == 422 and "much more data" in text_of(response)
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(ClientImport)).first() is None


ENTITIES = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;'
            b'&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
            b'<c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>')


@pytest.mark.parametrize("part, content", [
    ("xl/worksheets/sheet1.xml", ENTITIES),  # entity expansion (billion laughs)
    ("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row><c>not closed"),  # malformed XML
    ("xl/workbook.xml", b"\x00\x01garbage"),  # a broken workbook part
])
def test_malformed_or_entity_laden_xlsx_is_a_422_with_a_message(app, shop, part, content):
    """EXP-: never a 500, never an expanded entity."""
    _business, owner = shop
    http = logged(app, owner)
    response = upload(http, _replace_part(_workbook_bytes(), part, content), "clientes.xlsx")
    assert response.status_code == 422
    assert "cannot be opened" in text_of(response)


def test_a_cell_over_the_limit_rejects_its_row_with_the_reason(app, shop):
    business, owner = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Nombre", "Notas"], ["Ana", "x" * 5000], ["Bea", "corta"]])))
    record = stored(app, business, iid)
    assert [r["status"] for r in record.rows] == ["rejected", "new"]
    assert "more than 2000 characters" in record.rows[0]["problems"][0][1]
    assert len(record.rows[0]["cells"][1]) == 2000  # what is kept is capped too


def test_google_s_two_numbers_in_one_cell_are_not_a_formula_but_a_formula_is_flagged(app, shop):
    """EXP-1: a cell a spreadsheet would run is kept as text with a warning; Google's
    " ::: " between two phones is not such a cell (every row of a real export has one)."""
    business, owner = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Nombre", "Teléfono", "Notas"],
                                         ["Ana", "+56 9 8765 4321 ::: +56 2 2345 6789", "cliente"],
                                         ["Bea", "+56 9 6123 4567", "=HYPERLINK(\"http://x\")"],
                                         ["Ceci", "+56 9 5555 1234 ::: =1+2", ""]])))
    rows = stored(app, business, iid).rows
    assert rows[0]["warnings"] == []
    assert (rows[0]["values"]["phone"], rows[0]["values"]["whatsapp"]) == ("+56223456789", "+56987654321")
    assert "formula" in str(rows[1]["warnings"]) and "formula" in str(rows[2]["warnings"])


def test_line_breaks_in_a_file_s_names_and_sales_become_spaces(app, shop):
    """Issue 20's finding 4 for imported rows: a cell with a line break (Excel's Alt+Enter)
    must not put one into a name or a sale's description (e-mail subjects, digests)."""
    business, owner = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Nombre", "Empresa", "Fecha", "Descripción", "Monto"],
                                         ["Ana\r\nRojas", "Taller\tSur", "01/11/2026", "Bici\naro 29", "100.000"]])))
    assert confirm(http, iid).status_code == 303
    with app.app_context(), bound(business.id):
        ana = db.session.execute(select(Client)).scalar_one()
        sale = db.session.execute(select(Sale)).scalar_one()
        assert (ana.name, ana.company, sale.description) == ("Ana Rojas", "Taller Sur", "Bici aro 29")


# --- dates and amounts -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2025-03-05", date(2025, 3, 5)), ("05-03-2025", date(2025, 3, 5)), ("05/03/2025", date(2025, 3, 5)),
    ("5.3.25", date(2025, 3, 5)), ("5 mar 2025", date(2025, 3, 5)), ("5 de marzo de 2025", date(2025, 3, 5)),
    ("March 5, 2025", date(2025, 3, 5)), ("2025-03-05 14:30:00", date(2025, 3, 5)), ("45721", date(2025, 3, 5)),
    ("5-sept-2025", date(2025, 9, 5)),
])
def test_dates_as_people_write_them(app, text, expected):
    with app.test_request_context():
        assert parse_day(text, "es_CL") == expected


def test_an_impossible_date_is_flagged_not_guessed(app):
    with app.test_request_context():
        with pytest.raises(ImpossibleDate):
            parse_day("31/04/2024", "es_CL")
        with pytest.raises(ValueError):
            parse_day("ayer", "es_CL")
        assert parse_day("04/05/2025", "en_US") == date(2025, 4, 5)  # month first only there


@pytest.mark.parametrize("text, currency, locale, minor", [
    ("$12.990", "CLP", "es_CL", 12990), ("12.990", "CLP", "es_CL", 12990), ("12,990", "CLP", "es_CL", 12990),
    ("$ 1.250.000", "CLP", "es_CL", 1250000), ("CLP 45990", "CLP", "es_CL", 45990),
    ("1.234,50", "EUR", "es_ES", 123450), ("12,990.00", "EUR", "es_ES", 1299000), ("12,5", "EUR", "es_ES", 1250),
    ("1234.5", "USD", "en_US", 123450), ("US$ 1,234.50", "USD", "en_US", 123450), ("-5", "CLP", "es_CL", -5),
])
def test_amounts_as_people_write_them(app, text, currency, locale, minor):
    assert parse_amount(text, currency, locale) == minor


def test_an_amount_that_is_not_one_is_refused(app):
    with pytest.raises(ValueError):
        parse_amount("consultar", "CLP", "es_CL")


# --- undo ----------------------------------------------------------------------------------------

def _undo(http, iid):
    return http.post(f"/clients/import/{iid}/undo", data={"csrf_token": csrf_token(http, f"/clients/import/{iid}")})


def test_undo_removes_what_the_import_created_and_puts_merged_fields_back(app, shop):
    business, owner = shop
    with app.app_context(), bound(business.id):
        db.session.add(Client(name="Ya Existía", email="ya@example.com", company="", address="Calle Vieja 1",
                              notes="nota propia"))
        db.session.commit()
    http = logged(app, owner)
    data = to_csv([
        ["Nombre", "Correo", "Empresa", "Dirección", "Última compra", "Monto", "N° compras"],
        ["Nueva Clienta", "nueva@example.com", "", "", "20/11/2026", "$45.990", "12"],
        ["Otro Nombre", "ya@example.com", "Empresa Nueva", "Calle Nueva 2", "01/11/2026", "$10.000", "6"],
        ["Usada Después", "usada@example.com", "", "", "", "", ""],
    ])
    iid = import_id(upload(http, data))
    assert confirm(http, iid, **{"choice-3": "merge"}).status_code == 303
    book = clients(app, business)
    assert set(book) == {"Ya Existía", "Nueva Clienta", "Usada Después"}
    assert (book["Ya Existía"].company, book["Ya Existía"].address) == ("Empresa Nueva", "Calle Vieja 1")
    assert book["Ya Existía"].tier == "frequent" and book["Nueva Clienta"].tier == "frequent"
    # the team works with one of the new clients before the owner changes their mind
    with app.app_context(), bound(business.id):
        used = db.session.execute(select(Client).where(Client.name == "Usada Después")).scalar_one()
        db.session.add(FeedbackLink(client_id=used.id, expires_at=utcnow() + timedelta(days=9)))
        db.session.commit()
    page = text_of(http.get(f"/clients/import/{iid}"))
    assert 'data-testid="undo-import"' in page
    response = _undo(http, iid)
    assert response.status_code == 303
    book = clients(app, business)
    assert set(book) == {"Ya Existía", "Usada Después"}
    existing = book["Ya Existía"]
    assert (existing.company, existing.address, existing.notes) == ("", "Calle Vieja 1", "nota propia")
    assert existing.tier is None and existing.sales_count == 0
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Sale)).first() is None
        assert db.session.execute(select(ClientOpening)).first() is None
        assert db.session.execute(select(Activity).where(Activity.client_id == existing.id,
                                                         Activity.sale_id.is_not(None))).first() is None
    page = text_of(http.get(f"/clients/import/{iid}"))
    assert 'data-testid="import-undone"' in page and "1 clients were kept" in page
    assert 'data-testid="undo-import"' not in page
    assert "then undone on" in text_of(http.get("/clients/import"))
    assert _undo(http, iid).status_code == 409  # once


def test_undo_is_possible_for_seven_days_only(app, shop):
    business, owner = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Nombre"], ["Ana"]])))
    confirm(http, iid)
    with app.app_context(), bound(business.id):
        record = db.session.get(ClientImport, iid)
        db.session.execute(update(ClientImport).where(ClientImport.id == iid)
                           .values(imported_at=record.imported_at - timedelta(days=8)))
        db.session.commit()
    assert 'data-testid="undo-import"' not in text_of(http.get(f"/clients/import/{iid}"))
    response = _undo(http, iid)
    assert response.status_code == 409 and "no longer be undone" in text_of(response)
    assert set(clients(app, business)) == {"Ana"}


def test_another_business_cannot_undo_an_import(app, shop, make):
    """TEN-: the undo of another tenant's import is a plain 404 and changes nothing."""
    business, owner = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Nombre"], ["Ana"]])))
    confirm(http, iid)
    other = make.business("Otra")
    intruder = logged(app, make.user(other, "owner", language="en"))
    token = csrf_token(intruder, "/clients/import")
    assert intruder.post(f"/clients/import/{iid}/undo", data={"csrf_token": token}).status_code == 404
    assert intruder.post(f"/clients/import/{iid}/columns", data={"csrf_token": token, "col-0": "ignore"}
                         ).status_code == 404
    assert set(clients(app, business)) == {"Ana"}


def test_two_rows_of_one_client_with_purchase_figures_keep_the_first_ones(app, shop):
    """The second row merged into a client this file creates does not give it a second
    opening balance (the first row's figures stand)."""
    business, owner = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Nombre", "Correo", "Última compra", "N° compras"],
                                         ["Ana", "ana@example.com", "20/11/2026", "12"],
                                         ["Ana B.", "ana@example.com", "01/10/2026", "2"]])))
    assert confirm(http, iid, **{"choice-3": "merge"}).status_code == 303
    ana = clients(app, business)["Ana"]
    assert ana.tier == "frequent" and ana.sales_count == 12
    with app.app_context(), bound(business.id):
        assert len(db.session.execute(select(ClientOpening)).scalars().all()) == 1
