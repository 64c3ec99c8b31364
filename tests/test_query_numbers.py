"""Numbers in a page's address (issue 22, point 10: one ``digits_int`` instead of five
copies). A filter or page number that is not a plain ASCII number is ignored, as a
missing one is; a superscript "²" or another script's digit once passed ``isdigit()`` and
crashed ``int()`` with a server error.
"""
from __future__ import annotations

import re

import pytest

from pymes.validation import digits_int

from .factories import csrf_token, login

ODD = ["²", "١٢", "-3", "3.5", " 4", "9" * 12, "abc", ""]


@pytest.mark.parametrize("value", ODD)
def test_anything_but_a_plain_number_is_none(value):
    assert digits_int(value) is None


def test_a_plain_number_is_read():
    assert digits_int("42") == 42 and digits_int("007") == 7 and digits_int(None) is None


def test_list_pages_ignore_odd_numbers_in_their_filters(app, make):
    business, owner, manager, seller = make.team("Números Raros")
    http = app.test_client()
    login(http, owner.email)
    for path in ("/clients?page={v}&seller={v}&territory={v}&portfolio={v}",
                 "/dashboard?seller={v}&portfolio={v}&territory={v}",
                 "/feedback?page={v}&days={v}&seller={v}",
                 "/referrals?seller={v}&territory={v}&portfolio={v}",
                 "/complaints?owner={v}"):
        for value in ("²", "١٢"):
            answer = http.get(path.format(v=value))
            assert answer.status_code == 200, (path, value, answer.status_code)


def test_the_agenda_ignores_an_odd_seller_number(app, make):
    business, owner, manager, seller = make.team("Agenda Rara")
    http = app.test_client()
    login(http, owner.email)
    assert http.get("/agenda?seller=²").status_code == 200


@pytest.fixture
def linked(app, make):
    """A client with a feedback link made by its seller: (seller's browser, client id, public path)."""

    business, owner, manager, seller = make.team("Óptica Números")
    cid = make.client(business, "Rosa Díaz", email="rosa@example.com", seller_id=seller.id).id
    http = app.test_client()
    login(http, seller.email)
    page = http.post(f"/clients/{cid}/feedback-links",
                     data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": "share"})
    url = re.search(r'value="([^"]+/f/[^"]+)"', page.get_data(as_text=True)).group(1)
    return http, cid, url.removeprefix(app.config["BASE_URL"])


def test_a_link_for_an_odd_sale_number_is_the_plain_404(app, linked):
    http, cid, _path = linked
    answer = http.post(f"/clients/{cid}/feedback-links",
                       data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": "share", "sale_id": "²"})
    assert answer.status_code == 404


def test_a_public_answer_with_an_odd_score_is_refused_not_a_server_error(app, linked, monkeypatch):
    from pymes.feedback import services
    from pymes.feedback.models import FeedbackResponse

    monkeypatch.setattr(services, "MIN_FILL_SECONDS", 0)
    _http, _cid, path = linked
    customer = app.test_client()
    form = customer.get(path).get_data(as_text=True)
    data = {name: re.search(rf'name="{name}" value="([^"]+)"', form).group(1) for name in ("csrf_token", "stamp")}
    answer = customer.post(path, data={**data, "score": "¹⁰", "comment": "Muy bien"})
    assert answer.status_code < 500
    assert "Muy bien" in answer.get_data(as_text=True)  # the comment comes back to be sent again
    with app.app_context():
        from pymes.extensions import db
        from pymes.tenancy import unscoped

        with unscoped():
            assert db.session.query(FeedbackResponse).count() == 0
