"""Client import: CSV and XLSX, encodings and delimiters, bad files, duplicates, the
all-or-nothing confirm, the rejected rows, tenancy, roles and SQL counts."""
import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from pymes.clients.models import Client, ClientImport
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.territories.models import Territory

from ..factories import csrf_token, login, statements


def today():
    return datetime.now(ZoneInfo("America/Santiago")).date()


@pytest.fixture
def shop(app, make):
    """A Chilean business (amounts read as in es_CL) whose team reads the UI in English,
    so that messages are asserted in the source language."""
    business = make.business("Ferretería Import")
    return (business, make.user(business, "owner", language="en"), make.user(business, "manager", language="en"),
            make.user(business, "seller", language="en"))


def logged(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def to_csv(rows, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" if bom else "").encode(encoding) + buffer.getvalue().encode(encoding)


def to_xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(http, data: bytes, name="clientes.csv"):
    token = csrf_token(http, "/clients/import")
    return http.post("/clients/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                     content_type="multipart/form-data")


def import_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/clients/import/(\d+)$", response.headers["Location"]).group(1))


def confirm(http, iid, **choices):
    data = {"csrf_token": csrf_token(http, f"/clients/import/{iid}")}
    data.update(choices)
    return http.post(f"/clients/import/{iid}", data=data)


def clients(app, business):
    with app.app_context(), bound(business.id):
        return {c.name: c for c in db.session.execute(select(Client)).scalars()}


def stored(app, business, iid) -> ClientImport:
    with app.app_context(), bound(business.id):
        record = db.session.get(ClientImport, iid)
        db.session.expunge(record)
        return record


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- good files -----------------------------------------------------------------------------

def test_csv_with_spanish_headers_previews_then_imports_clients_and_sales(app, shop):
    business, owner, _manager, seller = shop
    with app.app_context(), bound(business.id):
        db.session.add(Territory(name="V Región"))
        db.session.commit()
    http = logged(app, owner)
    data = to_csv([
        ["Nombre", "Correo electrónico", "Teléfono", "Territorio", "Vendedor", "Fecha", "Descripción", "Monto"],
        ["Constructora Pacífico", "CONTACTO@pacifico.cl", "32 234 5678", "v region", seller.name,
         today().isoformat(), "Cemento", "385.000"],
        ["Ana Soto", "", "9 8765 4321", "", "", "", "", ""],
    ])
    iid = import_id(upload(http, data))
    page = text_of(http.get(f"/clients/import/{iid}"))
    assert "2 new clients" in page and "Constructora Pacífico" in page and "234 5678" in page
    assert clients(app, business) == {}, "nothing is saved before the confirm"

    response = confirm(http, iid)
    assert response.status_code == 303
    book = clients(app, business)
    pacifico = book["Constructora Pacífico"]
    assert (pacifico.email, pacifico.phone, pacifico.seller_id) == ("contacto@pacifico.cl", "+56322345678", seller.id)
    assert pacifico.territory_id is not None and pacifico.sales_count == 1 and pacifico.tier == "buyer"
    assert pacifico.revenue_12m == 385000
    assert book["Ana Soto"].phone == "+56987654321"
    result = text_of(http.get(f"/clients/import/{iid}"))
    assert 'data-testid="import-result"' in result
    assert stored(app, business, iid).status == "imported"
    assert confirm(http, iid).status_code == 303  # a second confirm imports nothing more
    assert len(clients(app, business)) == 2


def test_xlsx_with_english_headers_numbers_dates_and_a_formula_cell(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    data = to_xlsx([
        ["Name", "Email", "Phone", "Date", "Description", "Amount"],
        ["Ferretería Sur", "sur@example.com", 56987654321, datetime(2025, 3, 31), "Taladro", 45990],
        ["=HYPERLINK(\"http://evil.example\",\"clic\")", None, None, None, None, None],
    ])
    iid = import_id(upload(http, data, "book.xlsx"))
    page = text_of(http.get(f"/clients/import/{iid}"))
    assert "starts like a spreadsheet formula" in page
    assert confirm(http, iid).status_code == 303
    book = clients(app, business)
    assert book["Ferretería Sur"].phone == "+56987654321" and book["Ferretería Sur"].revenue_12m in (0, 45990)
    formula = '=HYPERLINK("http://evil.example","clic")'
    assert formula in book, "kept as plain text, never calculated"
    with app.app_context(), bound(business.id):
        sale = db.session.execute(select(Sale)).scalar_one()
        assert (sale.sold_on.isoformat(), sale.amount) == ("2025-03-31", 45990)
    exported = text_of(http.get("/clients/export.csv?mine=0"))
    assert "'" + formula.replace('"', '""') in exported  # EXP-1 on the way out


def test_latin1_file_is_read_and_said_so(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    data = to_csv([["Nombre", "Dirección"], ["José Ñúñez", "Avenida Providencia 1234, Ñuñoa"]], encoding="cp1252")
    iid = import_id(upload(http, data))
    page = text_of(http.get(f"/clients/import/{iid}"))
    assert "José Ñúñez" in page and "Latin-1" in page
    confirm(http, iid)
    assert clients(app, business)["José Ñúñez"].address == "Avenida Providencia 1234, Ñuñoa"


def test_bom_and_semicolons(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    data = to_csv([["NOMBRE", "EMPRESA", "Clave"], ["María Pérez", "Pérez y Cía; Ltda", "sí"]], delimiter=";",
                  bom=True)
    iid = import_id(upload(http, data))
    confirm(http, iid)
    maria = clients(app, business)["María Pérez"]
    assert maria.company == "Pérez y Cía; Ltda" and maria.is_key is True


# --- bad files: a report, nothing kept ------------------------------------------------------

def _no_import_kept(app, business):
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(func.count()).select_from(ClientImport)).scalar_one() == 0
        assert db.session.execute(select(func.count()).select_from(Client)).scalar_one() == 0


def test_a_file_without_a_recognised_name_column_asks_the_owner_to_pick_it(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Razón", "Celu", "Precio"], ["Taladros Pérez", "+56 9 8765 4321", "45990"]])))
    page = text_of(http.get(f"/clients/import/{iid}"))
    assert 'data-testid="needs-name"' in page and 'data-testid="confirm-import"' not in page
    assert 'data-column="Razón"' in page and "Taladros Pérez" in page  # every column, with its values
    refused = confirm(http, iid)
    assert refused.status_code == 409 and "names first" in text_of(refused)
    token = csrf_token(http, f"/clients/import/{iid}")
    response = http.post(f"/clients/import/{iid}/columns", data={"csrf_token": token, "col-0": "name",
                                                                  "col-1": "phone", "col-2": "ignore"})
    assert response.status_code == 303
    assert stored(app, business, iid).summary["new"] == 1
    assert confirm(http, iid).status_code == 303
    client = clients(app, business)["Taladros Pérez"]
    assert client.whatsapp == "+56987654321" and "45990" not in client.notes  # ignored by choice
    # The same headers next time start from the owner's choice.
    again = import_id(upload(http, to_csv([["Razón", "Celu", "Precio"], ["Otra Razón", "", "1"]])))
    assert stored(app, business, again).mapping == {"0": "name", "1": "phone", "2": "ignore"}
    assert "where you chose last time" in text_of(http.get(f"/clients/import/{again}"))
    # The template, filled in, imports.
    template = http.get("/clients/import/template.xlsx")
    headers = next(load_workbook(io.BytesIO(template.data), read_only=True).active.iter_rows(values_only=True))
    assert headers[0] == "Name"
    iid = import_id(upload(http, to_xlsx([list(headers), ["Desde plantilla"] + [None] * (len(headers) - 1)]),
                           "plantilla.xlsx"))
    assert stored(app, business, iid).summary["new"] == 1


def test_choosing_one_single_field_for_two_columns_is_refused_with_the_choices_kept(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Nombre", "Empresa", "Razón social"], ["Ana", "A", "B"]])))
    token = csrf_token(http, f"/clients/import/{iid}")
    response = http.post(f"/clients/import/{iid}/columns", data={"csrf_token": token, "col-1": "company",
                                                                  "col-2": "company"})
    assert response.status_code == 422
    page = text_of(response)
    assert "several columns (Empresa, Razón social)" in page
    assert page.count('value="company" selected') == 2  # what the owner chose is shown, not lost
    assert stored(app, business, iid).mapping["2"] == "note"  # and not kept


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("name, data", [
    ("clientes.csv", PNG),
    ("foto.png", PNG),
    ("clientes.xlsx", b"Nombre,Correo\nAna,ana@example.com\n"),
    ("viejo.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
    ("vacio.csv", b"   \n"),
])
def test_files_that_are_not_spreadsheets_get_a_clear_report(app, shop, name, data):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    response = upload(http, data, name)
    assert response.status_code == 422
    assert 'data-testid="import-problem"' in text_of(response)
    _no_import_kept(app, business)


def test_too_large_file_is_refused_before_parsing(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    twenty_mb = b"Nombre\n" + b"Ana\n" * (5 * 1024 * 1024)
    response = upload(http, twenty_mb)
    assert response.status_code == 413
    page = text_of(response)
    assert 'data-testid="import-problem"' in page and "5 MB" in page
    _no_import_kept(app, business)


def test_the_limit_is_configurable(app, shop):
    business, owner, _m, _s = shop
    app.config["IMPORT_MAX_BYTES"] = 1024
    http = logged(app, owner)
    response = upload(http, b"Nombre\n" + b"Ana\n" * 400)  # 1.6 KB: under the body limit, over the file limit
    assert response.status_code == 413 and "1 KB" in text_of(response)
    _no_import_kept(app, business)


def test_a_too_large_request_elsewhere_gets_the_friendly_413_page(app, shop):
    _b, owner, _m, _s = shop
    http = logged(app, owner)
    response = http.post("/clients/new", data={"csrf_token": "x", "notes": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413 and 'data-testid="error-page"' in text_of(response)


# --- rows with problems, duplicates ---------------------------------------------------------

def test_only_a_client_that_cannot_be_saved_is_rejected_the_rest_warns_and_keeps_the_cells(app, shop):
    """A row is rejected when the client itself cannot be saved (no name, a name too
    long, a cell beyond the limit); a bad e-mail, phone, seller or sale is a warning on
    the row, and its cells are kept in the client's notes: nothing silently lost."""
    business, owner, _m, _s = shop
    http = logged(app, owner)
    data = to_csv([
        ["Nombre", "Correo", "Teléfono", "Vendedor", "Fecha", "Descripción", "Monto", "Margen"],
        ["Bien", "bien@example.com", "", "", "", "", "", ""],
        ["", "sinnombre@example.com", "", "", "", "", "", ""],
        ["N" * 200, "", "", "", "", "", "", ""],
        ["Correo malo", "no-es-correo", "", "", "", "", "", ""],
        ["Teléfono malo", "", "123", "", "", "", "", ""],
        ["Vendedor fantasma", "", "", "Nadie Nunca", "", "", "", ""],
        ["Venta negativa", "", "", "", today().isoformat(), "x", "-5", ""],
        ["Margen grande", "", "", "", today().isoformat(), "x", "100", "200"],
        ["Venta futura", "", "", "", "2999-01-01", "x", "100", ""],
        ["=cmd|' /C calc'!A0", "", "", "", "31/04/2024", "x", "100", ""],
    ])
    iid = import_id(upload(http, data))
    record = stored(app, business, iid)
    assert (record.summary["new"], record.summary["rejected"], record.summary["sales"]) == (8, 2, 0)
    page = text_of(http.get(f"/clients/import/{iid}"))
    for message in ("This field is required", "Use at most 160 characters", "not a valid e-mail address",
                    "not a valid phone number", "no active member of your team", "cannot be negative",
                    "margin cannot be larger", "cannot be dated in the future", "31/04/2024 is not a real date",
                    "starts like a spreadsheet formula"):
        assert message in page, message
    rejected = http.get(f"/clients/import/{iid}/rejected.csv")
    assert rejected.mimetype == "text/csv"
    body = rejected.get_data(as_text=True)
    assert body.startswith("\ufeff")  # Excel in Chile opens it in columns: BOM and ";"
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert table[0][:4] == ["Reason", "Nombre", "Correo", "Teléfono"]
    assert len(table) == 3 and all(row[0] for row in table[1:])
    assert table[1][2] == "sinnombre@example.com" and "required" in table[1][0]
    confirm(http, iid)
    book = clients(app, business)
    assert set(book) == {"Bien", "Correo malo", "Teléfono malo", "Vendedor fantasma", "Venta negativa",
                         "Margen grande", "Venta futura", "=cmd|' /C calc'!A0"}
    assert "Correo: no-es-correo" in book["Correo malo"].notes
    assert "Teléfono: 123" in book["Teléfono malo"].notes
    assert "Vendedor: Nadie Nunca" in book["Vendedor fantasma"].notes
    assert "Monto: -5" in book["Venta negativa"].notes and book["Venta negativa"].sales_count == 0
    assert "Fecha: 31/04/2024" in book["=cmd|' /C calc'!A0"].notes


def test_duplicates_by_email_and_phone_merge_or_skip(app, shop):
    business, owner, _m, seller = shop
    with app.app_context(), bound(business.id):
        db.session.add_all([
            Client(name="Existente Correo", email="dup@example.com", company="", address="Calle 1"),
            Client(name="Existente Fono", phone="+56987654321", company="Ya tiene empresa"),
        ])
        db.session.commit()
    http = logged(app, owner)
    data = to_csv([
        ["Nombre", "Correo", "Teléfono", "Empresa", "Dirección", "Fecha", "Descripción", "Monto"],
        ["Otro nombre", "DUP@example.com", "", "Empresa Nueva", "Calle 2", today().isoformat(), "Pernos", "1000"],
        ["Por fono", "", "+56 9 8765 4321", "Empresa Pisada", "Calle 3", "", "", ""],
        ["Nuevo", "nuevo@example.com", "", "", "", "", "", ""],
        ["Nuevo otra vez", "nuevo@example.com", "", "Empresa del repetido", "", "", "", ""],
    ])
    iid = import_id(upload(http, data))
    record = stored(app, business, iid)
    assert [r["status"] for r in record.rows] == ["duplicate", "duplicate", "new", "duplicate"]
    assert record.rows[3]["dup"]["row"] == 4  # an earlier row of the same file
    page = text_of(http.get(f"/clients/import/{iid}"))
    assert "Existente Correo" in page and "never overwrites" in page
    response = confirm(http, iid, **{"choice-2": "merge", "choice-3": "skip", "choice-5": "merge"})
    assert response.status_code == 303
    book = clients(app, business)
    assert set(book) == {"Existente Correo", "Existente Fono", "Nuevo"}
    merged = book["Existente Correo"]
    assert (merged.company, merged.address) == ("Empresa Nueva", "Calle 1")  # empty filled, full kept
    assert merged.sales_count == 1
    assert book["Existente Fono"].company == "Ya tiene empresa"
    assert book["Nuevo"].company == "Empresa del repetido"  # merged into the row imported just before
    summary = stored(app, business, iid).summary
    assert (summary["created"], summary["merged"], summary["skipped"]) == (1, 2, 1)
    table = list(csv.reader(io.StringIO(http.get(f"/clients/import/{iid}/rejected.csv").get_data(as_text=True)
                                        .lstrip("\ufeff")), delimiter=";"))
    assert [row[1] for row in table[1:]] == ["Por fono"] and "Existente Fono" in table[1][0]


def test_skip_all_toggle(app, shop):
    business, owner, _m, _s = shop
    with app.app_context(), bound(business.id):
        db.session.add(Client(name="Ya está", email="a@example.com"))
        db.session.commit()
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Name", "Email", "Company"], ["A", "a@example.com", "Nueva"],
                                         ["B", "b@example.com", ""]])))
    confirm(http, iid, **{"choice-2": "merge", "all": "skip"})
    book = clients(app, business)
    assert set(book) == {"Ya está", "B"} and book["Ya está"].company == ""


def test_book_changed_since_the_preview_asks_again(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    iid = import_id(upload(http, to_csv([["Nombre", "Correo"], ["Nueva", "n@example.com"]])))
    with app.app_context(), bound(business.id):
        db.session.add(Client(name="Llegó antes", email="n@example.com"))
        db.session.commit()
    response = confirm(http, iid)
    assert response.status_code == 409 and 'data-testid="import-error"' in text_of(response)
    assert set(clients(app, business)) == {"Llegó antes"}
    assert stored(app, business, iid).rows[0]["status"] == "duplicate"
    confirm(http, iid, **{"choice-2": "skip"})
    assert stored(app, business, iid).status == "imported"


def test_all_or_nothing_when_the_database_refuses_a_row_mid_way(app, shop, monkeypatch):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    rows = [["Nombre", "Fecha", "Descripción", "Monto"]] + [
        [f"Cliente {i}", today().isoformat(), "x", "100"] for i in range(6)]
    iid = import_id(upload(http, to_csv(rows)))
    from pymes.clients import importing

    real = importing.plan_for_new_sales
    calls = {"n": 0}

    def failing(pairs, rules, today):
        calls["n"] += 1
        real(pairs, rules, today)
        from pymes.sales.models import Sale as SaleModel

        # after the clients, sales and plans: a row the database refuses
        db.session.add(SaleModel(client_id=pairs[3][1].id, sold_on=today, description="x", amount=-1))
        db.session.flush()

    monkeypatch.setattr(importing, "plan_for_new_sales", failing)
    response = confirm(http, iid)
    assert response.status_code == 409 and "Nothing was imported" in text_of(response)
    assert calls["n"] == 1
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(func.count()).select_from(Client)).scalar_one() == 0
        assert db.session.execute(select(func.count()).select_from(Sale)).scalar_one() == 0
    assert stored(app, business, iid).status == "preview"
    monkeypatch.setattr(importing, "plan_for_new_sales", real)
    assert confirm(http, iid).status_code == 303
    assert len(clients(app, business)) == 6


def test_imported_sales_get_the_same_post_sale_plan_as_sales_typed_in(app, shop):
    """Rule 1 (nothing is done at the signature): the import saves its sales together,
    but each client ends with the delivery, follow-up and check-in a sale typed in on the
    client's page would give, old purchases planning only the check-in."""
    from datetime import timedelta

    from pymes.sales.services import record_sale
    from pymes.visits.models import Activity

    business, owner, _m, seller = shop
    day = today()
    sales = {"Ana Rojas": (day - timedelta(days=1), day + timedelta(days=2)),  # delivered the day after tomorrow
             "Beatriz Soto": (day - timedelta(days=200), None),             # an old purchase
             "Carla Díaz": (day - timedelta(days=3), None)}
    rows = [["Nombre", "Fecha", "Descripción", "Monto", "Entrega", "Vendedor"]] + [
        [name, sold.isoformat(), "Bicicleta", "120000", delivery.isoformat() if delivery else "", seller.email]
        for name, (sold, delivery) in sales.items()]
    http = logged(app, owner)
    assert confirm(http, import_id(upload(http, to_csv(rows)))).status_code == 303

    def plan(client_id):
        return sorted((a.purpose, a.kind, a.due_on, a.seller_id) for a in db.session.execute(
            select(Activity).where(Activity.client_id == client_id)).scalars())

    with app.app_context(), bound(business.id):
        from pymes.accounts.models import User

        actor = db.session.get(User, owner.id)
        for name, (sold, delivery) in sales.items():
            imported = db.session.execute(select(Client).where(Client.name == name)).scalar_one()
            twin = Client(name=name + " (a mano)", seller_id=imported.seller_id)
            db.session.add(twin)
            db.session.flush()
            record_sale(twin, sold_on=sold, description="Bicicleta", product_line="", amount=120000, margin=None,
                        seller_id=seller.id, delivery_on=delivery, actor=actor, today=day)
            assert plan(imported.id) == plan(twin.id), name
            assert (imported.tier, imported.sales_count) == (twin.tier, twin.sales_count)
        ana = db.session.execute(select(Client).where(Client.name == "Ana Rojas")).scalar_one()
        assert [p[0] for p in plan(ana.id)] == ["check_in", "delivery", "follow_up"]
        beatriz = db.session.execute(select(Client).where(Client.name == "Beatriz Soto")).scalar_one()
        assert [p[0] for p in plan(beatriz.id)] == ["check_in"]


# --- tenancy, roles, SQL counts -------------------------------------------------------------

def test_another_business_import_is_a_plain_404(app, shop, make):
    business, owner, _m, _s = shop
    other, other_owner, _om, _os = make.team("Otro negocio")
    other_http = logged(app, other_owner)
    iid = import_id(upload(other_http, to_csv([["Nombre"], ["CANARYIMPORT"]])))
    http = logged(app, owner)
    for response in (http.get(f"/clients/import/{iid}"), http.get(f"/clients/import/{iid}/rejected.csv"),
                     confirm(http, iid), http.get("/clients/import")):
        assert "CANARYIMPORT" not in text_of(response)
    assert http.get(f"/clients/import/{iid}").status_code == 404
    assert confirm(http, iid).status_code == 404
    assert stored(app, other, iid).status == "preview"


def test_only_owners_and_managers_import(app, shop):
    business, owner, manager, seller = shop
    seller_http = logged(app, seller)
    assert "data-testid=\"import-button\"" not in text_of(seller_http.get("/clients"))
    assert seller_http.get("/clients/import").status_code == 403
    assert upload(seller_http, to_csv([["Nombre"], ["Desde vendedor"]])).status_code == 403
    assert seller_http.get("/clients/import/template.csv").status_code == 403
    _no_import_kept(app, business)
    manager_http = logged(app, manager)
    assert "data-testid=\"import-button\"" in text_of(manager_http.get("/clients"))
    iid = import_id(upload(manager_http, to_csv([["Nombre"], ["Desde gerente"]])))
    assert seller_http.get(f"/clients/import/{iid}").status_code == 403
    assert confirm(seller_http, iid).status_code == 403
    confirm(manager_http, iid)
    assert set(clients(app, business)) == {"Desde gerente"}


def test_upload_without_csrf_token_is_refused(app, shop):
    business, owner, _m, _s = shop
    http = logged(app, owner)
    response = http.post("/clients/import", data={"file": (io.BytesIO(b"Nombre\nAna\n"), "a.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 400
    _no_import_kept(app, business)


def test_upload_with_another_sessions_token_is_refused(app, shop):
    """The upload goes through Flask-WTF's automatic check like every form (WEB-1)."""
    business, owner, manager, _s = shop
    http = logged(app, owner)
    foreign = csrf_token(logged(app, manager), "/clients/import")
    response = http.post("/clients/import", data={"csrf_token": foreign, "file": (io.BytesIO(b"Nombre\nAna\n"), "a.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 400 and 'data-testid="error-page"' in text_of(response)
    _no_import_kept(app, business)


def test_a_file_over_the_app_body_limit_passes_the_csrf_check(app, shop):
    """A 3 MB file (over the app-wide 2 MB body limit, under the import's 5 MB) reaches
    the preview: the limit is raised before the CSRF check reads the form."""
    _b, owner, _m, _s = shop
    http = logged(app, owner)
    data = to_csv([["Nombre", "Notas"]] + [[f"Cliente {n}", "x" * 1500] for n in range(2000)])
    assert len(data) > app.config["MAX_CONTENT_LENGTH"] + 64 * 1024
    import_id(upload(http, data))


def test_only_who_may_import_gets_the_larger_body_limit(app, shop):
    """A seller's (or a stranger's) large POST to the upload keeps the app-wide limit:
    refused with the friendly 413 page before the body is read."""
    business, _o, _m, seller = shop
    big = b"Nombre\n" + b"Ana\n" * (768 * 1024)  # 3 MB
    for http, page in ((logged(app, seller), "/"), (app.test_client(), "/login")):
        token = csrf_token(http, page)
        response = http.post("/clients/import", data={"csrf_token": token, "file": (io.BytesIO(big), "a.csv")},
                             content_type="multipart/form-data")
        assert response.status_code == 413
        assert 'data-testid="error-page"' in text_of(response) and 'data-testid="import-problem"' not in text_of(response)
    _no_import_kept(app, business)


def _statements_of_preview(app, http, data) -> int:
    with statements(app) as seen:
        iid = import_id(upload(http, data))
        assert http.get(f"/clients/import/{iid}").status_code == 200
    return len(seen)


def test_preview_sql_statements_do_not_grow_with_the_rows(app, make):
    """Duplicates are found against the book loaded once, not with a query per row."""
    counts = {}
    for n in (10, 200):
        business, owner, _m, seller = make.team()
        with app.app_context(), bound(business.id):
            db.session.add(Territory(name="Norte"))
            db.session.add_all([Client(name=f"Existente {i}", email=f"c{i}@example.com") for i in range(n)])
            db.session.commit()
        http = logged(app, owner)
        rows = [["Nombre", "Correo", "Teléfono", "Territorio", "Vendedor", "Fecha", "Descripción", "Monto"]]
        rows += [[f"Fila {i}", f"c{i}@example.com" if i % 2 else f"n{i}@example.com", f"9 8765 {i:04d}", "Norte",
                  seller.email, today().isoformat(), "x", "100"] for i in range(n)]
        counts[n] = _statements_of_preview(app, http, to_csv(rows))
    assert counts[10] == counts[200], counts
