"""Numbers in a page's address (issue 22, point 10: one ``digits_int`` instead of five
copies). A filter or page number that is not a plain ASCII number is ignored, as a
missing one is; a superscript "²" or another script's digit once passed ``isdigit()`` and
crashed ``int()`` with a server error.
"""
from __future__ import annotations

import pytest

from pymes.validation import digits_int

from .factories import login

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
