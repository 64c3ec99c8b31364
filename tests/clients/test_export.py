"""Client exports: filters, EXP-1 formula cells, EXP-2 flat memory, tenant isolation."""
import csv
import io
import tracemalloc

from openpyxl import load_workbook
from sqlalchemy import insert

from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import login


def seed(app, business, rows):
    with app.app_context(), bound(business.id):
        db.session.add_all([Client(**row) for row in rows])
        db.session.commit()


def test_csv_export_follows_the_filters_and_neutralises_formulas(app, make):
    business, owner, _m, seller = make.team("Ferretería Ñuñoa")
    other, other_owner, _om, _os = make.team("CANARYEXPORT")
    seed(app, business, [
        dict(name="=HYPERLINK(\"http://evil\")", tier="frequent", seller_id=seller.id, revenue_12m=123456,
             phone="+56987654321", sales_count=4),
        dict(name="José Ñúñez", company="+Comercial", tier="frequent", notes="x", sales_count=5),
        dict(name="Fuera del filtro", tier="buyer"),
    ])
    seed(app, other, [dict(name="CANARYEXPORT cliente", tier="frequent")])
    http = app.test_client()
    login(http, owner.email)
    response = http.get("/clients/export.csv?tier=frequent&mine=0")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ferreteria-nunoa-')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    names = [row[0] for row in table[1:]]
    assert names == ["'=HYPERLINK(\"http://evil\")", "José Ñúñez"]  # sorted by name, filtered, neutralised
    assert table[2][1] == "'+Comercial"
    assert table[1][4] == "9 8765 4321"
    assert table[1][13] == "4" and table[1][15] == "123456"  # numbers stay numbers (CLP has no decimals)
    assert "CANARYEXPORT" not in text


def test_xlsx_export_opens_in_excel_terms(app, make):
    business, owner, _m, _s = make.team()
    seed(app, business, [dict(name="@SUM(A1)", tier="sporadic", sales_count=2, revenue_12m=5000)])
    http = app.test_client()
    login(http, owner.email)
    response = http.get("/clients/export.xlsx?mine=0")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "'@SUM(A1)" and rows[1][13] == 2 and rows[1][15] == 5000


def test_export_memory_stays_flat(app, make):
    """EXP-2: 20,000 rows stream out without holding them all in memory."""
    business, owner, _m, _s = make.team()
    with app.app_context(), bound(business.id):
        now = utcnow()
        db.session.execute(insert(Client), [
            {"tenant_id": business.id, "name": f"Cliente {i:05d}", "kind": "client", "company": "", "tax_id": "",
             "address": "", "notes": "", "is_key": False, "tier_override_reason": "", "sales_count": 0,
             "revenue_12m": 0, "created_at": now, "updated_at": now} for i in range(20_000)])
        db.session.commit()
    http = app.test_client()
    login(http, owner.email)
    tracemalloc.start()
    response = http.get("/clients/export.csv?mine=0", buffered=False)
    lines = 0
    for chunk in response.response:
        lines += chunk.count("\n") if isinstance(chunk, str) else chunk.count(b"\n")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    response.close()
    assert lines == 20_001
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
