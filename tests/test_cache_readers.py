"""Kept fragments never carry one reader's state to another (issue 22, point 3;
docs/architecture.md, "The cache and its contract"). A kept page's content is stored per
business and data version; the owner and a seller of one business reading it at the
same version must each get their own: their greeting, their agenda, their ladder, the
sale form proposing themselves, the filters their role allows.

``read_in_turn`` renders a kept page for two readers, back and forth, with nothing
written in between (the same data version, so the second reader would be served the
first one's fragment if the reader were missing from its key), then asks for what must
differ.
"""
from __future__ import annotations

import re

from pymes.accounts.models import Business
from pymes.cache import store
from pymes.extensions import db
from pymes.tenancy import bound

from .factories import login


def _version(app, business) -> int:
    with app.app_context(), bound(business.id):
        return db.session.get(Business, business.id).data_version


def read_in_turn(app, business, path: str, *readers) -> dict[str, str]:
    """email → the page at ``path``: each reader twice, in turn (a, b, a, b), so the
    second look of each is served from the fragment store. The readings share one data
    version (checked): a write between them would key a new fragment and prove nothing."""
    sessions = {}
    for user in readers:
        sessions[user.email] = app.test_client()
        login(sessions[user.email], user.email)
    version = _version(app, business)
    pages: dict[str, str] = {}
    for _round in range(2):
        for user in readers:
            response = sessions[user.email].get(path)
            assert response.status_code == 200, (path, user.email, response.status_code)
            pages[user.email] = response.get_data(as_text=True)
    assert _version(app, business) == version
    return pages


def _shop(app, make):
    business, owner, _manager, seller = make.team()
    mine = make.client(business, "Cliente De La Vendedora", kind="client", seller_id=seller.id)
    theirs = make.client(business, "Cliente Del Titular", kind="client", seller_id=owner.id)
    make.visit(business, mine, seller_id=seller.id)
    make.visit(business, theirs, seller_id=owner.id)
    return business, owner, seller, mine, theirs


def _my_day(page: str) -> str:
    return re.search(r'data-testid="my-day">(.*?)</article>', page, re.S).group(1)


def test_home_greets_and_plans_each_reader_s_own_day(app, make):
    business, owner, seller, mine, theirs = _shop(app, make)
    pages = read_in_turn(app, business, "/", owner, seller)
    for reader, other in ((owner, seller), (seller, owner)):
        greeting = re.search(r"<h1>(.*?)</h1>", pages[reader.email], re.S).group(1)
        assert reader.name in greeting and other.name not in greeting
    assert theirs.name in _my_day(pages[owner.email]) and mine.name not in _my_day(pages[owner.email])
    assert mine.name in _my_day(pages[seller.email]) and theirs.name not in _my_day(pages[seller.email])
    # the ladder: the business's for the owner, the seller's own clients for the seller
    assert "mine=1" in pages[seller.email] and "mine=0" in pages[owner.email]


def test_the_client_page_proposes_its_reader_as_the_sale_s_seller(app, make):
    business, owner, seller, mine, _theirs = _shop(app, make)
    pages = read_in_turn(app, business, f"/clients/{mine.id}", owner, seller)

    def proposed(page: str) -> str:
        form = re.search(r'<select[^>]*name="seller_id"[^>]*>(.*?)</select>', page, re.S).group(1)
        return re.search(r'<option selected value="(\d+)"', form).group(1)

    assert proposed(pages[owner.email]) == str(owner.id)
    assert proposed(pages[seller.email]) == str(seller.id)


def test_the_agenda_is_each_reader_s_own(app, make):
    business, owner, seller, mine, theirs = _shop(app, make)
    pages = read_in_turn(app, business, "/agenda", owner, seller)
    assert theirs.name in pages[owner.email] and mine.name not in pages[owner.email]
    assert mine.name in pages[seller.email] and theirs.name not in pages[seller.email]


def test_the_dashboard_offers_the_seller_filter_only_to_those_who_may_use_it(app, make):
    business, owner, seller, _mine, _theirs = _shop(app, make)
    pages = read_in_turn(app, business, "/dashboard", owner, seller)
    assert 'name="seller"' in pages[owner.email]
    assert 'name="seller"' not in pages[seller.email]


def test_each_reader_has_a_kept_page_of_their_own(app, make):
    """The second look of each reader above is a hit on their own entry: one kept home
    page per reader at that version, none shared."""
    business, owner, seller, _mine, _theirs = _shop(app, make)
    read_in_turn(app, business, "/", owner, seller)
    with app.app_context():
        kept = [key for key in store("pymes_fragments")._data if key[0] == "main.home" and key[1] == business.id]
    assert sorted(key[3][0] for key in kept) == sorted([owner.id, seller.id])
