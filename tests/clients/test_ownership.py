"""The restricted-seller guard is generated from the url_map (issue 22, point 4; TEN-3).

Every ``<id:…>`` argument of every route is declared in ``pymes/clients/ownership.py``:
either the id of a client's row (the guard finds the client and answers 404 to a seller
restricted to their own clients when it is not theirs) or outside the guard, with the
reason. A route that brings a new id argument fails here until someone decides which.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from pymes.clients.ownership import ID_ARGUMENTS, ClientOwned, NotGuarded, clients_in_view_args
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import csrf_token, login, santiago_today


def id_arguments(app) -> dict[str, set[str]]:
    """Each ``<id:…>`` argument of the url_map with the endpoints that use it."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if converter.__class__ is app.url_map.converters["id"]:
                found.setdefault(name, set()).add(rule.endpoint)
    return found


def test_every_id_argument_of_the_url_map_is_declared(app):
    used = id_arguments(app)
    assert {"client_id", "sale_id", "activity_id", "complaint_id"} <= used.keys()  # the walk sees the routes
    undeclared = {name: sorted(endpoints)[:3] for name, endpoints in used.items() if name not in ID_ARGUMENTS}
    assert not undeclared, ("id arguments without a rule in pymes/clients/ownership.py (ClientOwned or "
                            f"NotGuarded with a reason): {undeclared}")
    stale = set(ID_ARGUMENTS) - used.keys()
    assert not stale, f"declared in pymes/clients/ownership.py but used by no route: {sorted(stale)}"
    for name, rule in ID_ARGUMENTS.items():
        assert isinstance(rule, ClientOwned | NotGuarded), name
        if isinstance(rule, NotGuarded):
            assert len(rule.reason) > 10, name


def test_a_new_id_argument_without_a_rule_fails_the_check(app):
    """The check above can fail: a route with ``<id:visit_id>`` is reported."""
    app.add_url_rule("/visits-by-id/<id:visit_id>", "probe_visit", lambda visit_id: "")
    assert "visit_id" in id_arguments(app) and "visit_id" not in ID_ARGUMENTS


@pytest.fixture
def book(app, make):
    """A business restricting its sellers; another seller's client with one row of every
    client-owned kind."""
    from pymes.accounts.models import Business
    from pymes.clients.models import Client, ClientSpecialist
    from pymes.feedback.models import FeedbackLink
    from pymes.sales.models import Sale
    from pymes.visits.models import Activity

    business, owner, manager, seller = make.team("Ferretería Restringida")
    today = santiago_today()
    with app.app_context(), bound(business.id):
        db.session.get(Business, business.id).sellers_see_only_own = True
        other = Client(name="Cliente De Otro", seller_id=manager.id)
        db.session.add(other)
        db.session.flush()
        sale = Sale(client_id=other.id, seller_id=manager.id, sold_on=today, description="Taladro", amount=1000)
        db.session.add(sale)
        db.session.flush()
        visit = Activity(client_id=other.id, seller_id=manager.id, kind="visit", purpose="delivery", due_on=today,
                         sale_id=sale.id)
        link = FeedbackLink(client_id=other.id, expires_at=utcnow() + timedelta(days=7))
        specialist = ClientSpecialist(client_id=other.id, user_id=manager.id, product_line="Pinturas")
        db.session.add_all([visit, link, specialist])
        db.session.commit()
        ids = {"client_id": other.id, "sale_id": sale.id, "activity_id": visit.id, "link_id": link.id,
               "specialist_id": specialist.id}
    return dict(business=business, manager=manager, seller=seller, ids=ids)


def test_every_client_owned_route_is_a_404_for_another_sellers_client(app, book):
    """Generated from the url_map: every route whose ids all belong to a client, every
    method, answers 404 to a restricted seller for another seller's client; nothing in
    the list is written by hand."""
    ids = book["ids"]
    assert set(ids) == {name for name, rule in ID_ARGUMENTS.items() if isinstance(rule, ClientOwned)}
    http = app.test_client()
    login(http, book["seller"].email)
    token = csrf_token(http, "/clients")
    checked = 0
    for rule in app.url_map.iter_rules():
        arguments = [name for name, c in rule._converters.items() if c.__class__ is app.url_map.converters["id"]]
        if not arguments or not all(isinstance(ID_ARGUMENTS.get(name), ClientOwned) for name in arguments):
            continue
        if set(rule.arguments) - set(arguments):
            continue  # another kind of argument (a token, a slug): not ours to fill
        path = rule.build({name: ids[name] for name in arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            answer = http.open(path, method=method, data=data)
            assert answer.status_code == 404, (method, path, answer.status_code)
            checked += 1
    assert checked >= 30  # every client page, its sales' plans, visits, links and specialists


def test_the_manager_and_the_responsible_seller_still_open_them(app, book):
    ids = book["ids"]
    with app.test_request_context(), bound(book["business"].id):
        assert clients_in_view_args(ids) == {ids["client_id"]}  # every kind leads to the same client
        assert clients_in_view_args({"complaint_id": 1, "import_id": 2}) == set()
    http = app.test_client()
    login(http, book["manager"].email)
    for path in (f"/clients/{ids['client_id']}", f"/sales/{ids['sale_id']}/plan", f"/agenda/{ids['activity_id']}"):
        assert http.get(path).status_code == 200, path


def test_a_row_named_under_another_client_is_the_plain_404(app, book):
    """``get_child_or_404``: a sale, a feedback link or a specialist addressed under a
    client it does not belong to is a 404 even for a manager, and nothing changes."""
    from pymes.clients.models import Client, ClientSpecialist
    from pymes.feedback.models import FeedbackLink
    from pymes.sales.models import Sale

    ids = book["ids"]
    with app.app_context(), bound(book["business"].id):
        second = Client(name="Otra Clienta", seller_id=book["manager"].id)
        db.session.add(second)
        db.session.commit()
        second_id = second.id
    http = app.test_client()
    login(http, book["manager"].email)
    token = csrf_token(http, "/clients")
    for path in (f"/clients/{second_id}/sales/{ids['sale_id']}/delete",
                 f"/clients/{second_id}/feedback-links/{ids['link_id']}/revoke",
                 f"/clients/{second_id}/specialists/{ids['specialist_id']}/delete"):
        assert http.post(path, data={"csrf_token": token}).status_code == 404, path
    with app.app_context(), bound(book["business"].id):
        assert db.session.get(Sale, ids["sale_id"]) is not None
        assert db.session.get(FeedbackLink, ids["link_id"]).revoked_at is None
        assert db.session.get(ClientSpecialist, ids["specialist_id"]) is not None
