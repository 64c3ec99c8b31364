"""CSV exports and Excel set to ``;`` (issue 20, finding 12; EXP-1).

Excel in Chile and Spain separates cells with ``;``, and reads a comma file that way
too: ``ACME;=2+3;`` became three cells, the middle one a formula. A dangerous character
right after a ``;`` now gets the apostrophe, as one at the start of a cell does. Excel's
reading is modelled by Python's csv reader with that separator."""
import csv
import io

import pytest

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import login

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
PAYLOADS = ["ACME;=2+3;", "Ferretería;+cmd|' /C calc'!A0", "x;@SUM(1+1)", "Ana,=1+1", "a;-2+3;b"]


def _cells(text: str, separator: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=separator) for cell in row]


@pytest.fixture
def book(app, make):
    business, owner, _m, seller = make.team("Ferretería El Roble")
    with app.app_context(), bound(business.id):
        db.session.add_all([Client(name=name, company=name, address=name, seller_id=seller.id, sales_count=3)
                            for name in PAYLOADS])
        db.session.commit()
    http = app.test_client()
    login(http, owner.email)
    return http


@pytest.mark.parametrize("path", ["/clients/export.csv?mine=0", "/referrals/export.csv?days=all"])
@pytest.mark.parametrize("separator", [",", ";"])
def test_exp1_no_cell_starts_like_a_formula_in_either_separator(book, path, separator):
    text = book.get(path).get_data(as_text=True)
    formulas = [cell for cell in _cells(text, separator) if cell.startswith(DANGEROUS)]
    assert formulas == []


def test_exp1_the_comma_file_still_round_trips_and_numbers_stay_numbers(book):
    text = book.get("/clients/export.csv?mine=0").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert sorted(row[0] for row in table[1:]) == sorted(
        ["ACME;'=2+3;", "Ferretería;'+cmd|' /C calc'!A0", "x;'@SUM(1+1)", "Ana,=1+1", "a;'-2+3;b"])
    sales = table[0].index("Ventas")
    assert {row[sales] for row in table[1:]} == {"3"}
    assert ",3," in text  # unquoted: a spreadsheet reads a number
