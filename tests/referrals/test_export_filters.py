"""The referral export holds exactly the rows the list shows for the same filter (seller,
territory, portfolio, preset and custom periods), the value column counts only referrals
that converted, a custom period is checked, and an empty filter is said so plainly."""
import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.clients.services import refresh_client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.referrals import services as referrals
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.territories.models import Portfolio, Territory
from tests.factories import santiago_today

from ..factories import login

SANTIAGO = ZoneInfo("America/Santiago")


@pytest.fixture
def spread(app, make):
    """Six referrals spread over two sellers, two territories, a portfolio and time:

    name    seller  territory  portfolio  created       status
    Uno     A       Norte      P          10 days ago   new
    Dos     A       Sur        -          40 days ago   new
    Tres    B       Norte      P          100 days ago  new
    Cuatro  B       -          P          5 days ago    converted (a sale of 45,000)
    Cinco   A       Norte      -          2 days ago    new, already a client (with a sale of 9,000)
    Seis    -       -          -          400 days ago  lost
    """
    business, _owner, manager, a = make.team("Librería Austral")
    b = make.user(business, "seller", name="Berta Vendedora")
    now, today = utcnow(), santiago_today()
    with app.app_context(), bound(business.id):
        north, south, p = Territory(name="Norte"), Territory(name="Sur"), Portfolio(name="Colegios")
        referrer = Client(name="Ana Referente", email="ana@example.com")
        known = Client(name="Cinco Conocido", email="cinco@example.com")
        db.session.add_all([north, south, p, referrer, known])
        db.session.flush()
        db.session.add(Sale(client_id=known.id, sold_on=today, description="Cuadernos", amount=9_000))
        plan = (("Uno", a.id, north.id, p.id, 10, None), ("Dos", a.id, south.id, None, 40, None),
                ("Tres", b.id, north.id, p.id, 100, None), ("Cuatro", b.id, None, p.id, 5, None),
                ("Cinco", a.id, north.id, None, 2, None), ("Seis", None, None, None, 400, "lost"))
        for name, seller_id, territory_id, portfolio_id, back, status in plan:
            contact = f"{name.lower()}@example.com"
            referral = referrals.add_referral(referrer, referrals.read_friend(name, contact, "CL", referrer),
                                              source="manual", friend_consent=True)
            db.session.flush()
            prospect = db.session.get(Client, referral.prospect_id)
            prospect.seller_id, prospect.territory_id, prospect.portfolio_id = seller_id, territory_id, portfolio_id
            referral.created_at = now - timedelta(days=back)
            referral.status = status or referral.status
        db.session.commit()
        cuatro = db.session.execute(select(Referral).where(Referral.name == "Cuatro")).scalar_one()
        db.session.add(Sale(client_id=cuatro.prospect_id, sold_on=today, description="Libros", amount=45_000))
        db.session.flush()
        refresh_client(db.session.get(Client, cuatro.prospect_id))   # the first sale converts it
        db.session.commit()
        ids = dict(a=a.id, b=b.id, north=north.id, south=south.id, p=p.id)
    http = app.test_client()
    login(http, manager.email)
    return business, http, ids


def listed(http, query: str) -> list[str]:
    page = http.get(f"/referrals?{query}")
    assert page.status_code == 200, query
    return sorted(re.findall(r'data-testid="referral">.*?<td[^>]*>.*?</td>\s*<td[^>]*>.*?</td>\s*<td[^>]*><a [^>]*>([^<]+)</a>',
                             page.get_data(as_text=True), re.S))


def csv_table(http, query: str) -> list[list[str]]:
    response = http.get(f"/referrals/export.csv?{query}")
    assert response.status_code == 200, query
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def xlsx_rows(http, query: str) -> list[tuple]:
    response = http.get(f"/referrals/export.xlsx?{query}")
    assert response.status_code == 200, query
    return list(load_workbook(io.BytesIO(response.data), read_only=True).active.iter_rows(values_only=True))


def ago(days: int) -> str:
    return (santiago_today() - timedelta(days=days)).isoformat()


@pytest.mark.parametrize("query, expected", [
    ("days=all&seller={a}", ["Cinco", "Dos", "Uno"]),
    ("days=all&seller={b}", ["Cuatro", "Tres"]),
    ("days=all&territory={north}", ["Cinco", "Tres", "Uno"]),
    ("days=all&territory={south}", ["Dos"]),
    ("days=all&portfolio={p}", ["Cuatro", "Tres", "Uno"]),
    ("days=30", ["Cinco", "Cuatro", "Uno"]),
    ("days=90", ["Cinco", "Cuatro", "Dos", "Uno"]),
    ("days=all", ["Cinco", "Cuatro", "Dos", "Seis", "Tres", "Uno"]),
    ("days=custom&from={d45}&to={d8}", ["Dos", "Uno"]),
    ("days=custom&from={d7}", ["Cinco", "Cuatro"]),
    ("days=custom&to={d300}", ["Seis"]),
    ("days=custom&from={d120}&to={d1}&seller={b}&portfolio={p}", ["Cuatro", "Tres"]),
    ("days=all&seller={b}&territory={north}&status=new", ["Tres"]),
])
def test_the_export_holds_exactly_the_rows_of_the_list(app, spread, query, expected):
    _business, http, ids = spread
    query = query.format(**ids, d45=ago(45), d8=ago(8), d7=ago(7), d300=ago(300), d120=ago(120), d1=ago(1))
    assert listed(http, query) == expected
    table = csv_table(http, query)
    assert len(table) - 1 == len(expected) and sorted(row[2] for row in table[1:]) == expected
    rows = xlsx_rows(http, query)
    assert len(rows) - 1 == len(expected) and sorted(row[2] for row in rows[1:]) == expected


def test_the_value_column_counts_only_converted_referrals(app, spread):
    _business, http, _ids = spread
    table = csv_table(http, "days=all")
    with app.test_request_context(), force_locale("es"):
        assert table[0][-1] == gettext("Value of converted sales")
    value = {row[2]: row[-1] for row in table[1:]}
    assert value["Cuatro"] == "45000"
    assert value["Cinco"] == ""        # already a client with a sale of their own: not the referral's doing
    assert value["Uno"] == value["Seis"] == ""
    xlsx = {row[2]: row[-1] for row in xlsx_rows(http, "days=all")[1:]}
    assert xlsx["Cuatro"] == 45000 and xlsx["Cinco"] is None and xlsx["Uno"] is None


def test_a_custom_period_follows_the_business_calendar(app, spread):
    business, http, _ids = spread
    with app.app_context(), bound(business.id):
        late = db.session.execute(select(Referral).where(Referral.name == "Seis")).scalar_one()
        late.created_at = datetime(2025, 11, 10, 23, 30, tzinfo=SANTIAGO)   # 02:30 UTC on the 11th
        db.session.commit()
    assert listed(http, "days=custom&from=2025-11-10&to=2025-11-10") == ["Seis"]
    assert listed(http, "days=custom&from=2025-11-11&to=2025-11-11") == []


@pytest.mark.parametrize("dates, field", [("from=2026-11-20&to=2026-11-01", "to"),
                                          ("from=2026-13-01", "from"), ("to=yesterday", "to")])
def test_a_wrong_custom_period_is_explained_beside_the_field(app, spread, dates, field):
    _business, http, _ids = spread
    page = http.get(f"/referrals?days=custom&{dates}")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert re.search(rf'<small id="{field}-error" class="field-error">[^<]+</small>', html)
    assert 'data-testid="referral"' not in html and 'data-testid="nothing-to-export"' in html
    assert re.search(r'<option value="custom"\s+selected', html)
    typed = dict(pair.split("=") for pair in dates.split("&"))
    for name, value in typed.items():
        assert re.search(rf'name="{name}" value="{re.escape(value)}"', html)   # what was typed is kept
    export = http.get(f"/referrals/export.csv?days=custom&{dates}")
    assert export.status_code == 303 and "/referrals?" in export.headers["Location"]
    assert "days=custom" in export.headers["Location"]


def test_an_export_filter_with_no_rows_says_so_and_the_file_still_opens(app, spread):
    _business, http, ids = spread
    query = f"days=all&seller={ids['b']}&territory={ids['south']}"
    html = http.get(f"/referrals?{query}").get_data(as_text=True)
    assert 'data-testid="nothing-to-export"' in html
    for kind in ("csv", "xlsx"):
        button = re.search(rf'<[^>]*data-testid="export-{kind}"[^>]*>', html).group(0)
        assert button.startswith("<button") and " disabled" in button and "href" not in button
    table = csv_table(http, query)
    assert len(table) == 1 and table[0][2]                                  # the header alone
    rows = xlsx_rows(http, query)
    assert len(rows) == 1 and rows[0][0]
    full = http.get("/referrals?days=all").get_data(as_text=True)
    assert 'data-testid="nothing-to-export"' not in full
    assert re.search(r'<a href="/referrals/export\.csv\?days=all"[^>]*data-testid="export-csv"', full)
