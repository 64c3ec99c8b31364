"""Cached figures (pymes.cache): a committed change to a business's data bumps its data
version, so the next dashboard shows it; a second look with nothing changed runs fewer
statements; another business never reads the first one's answers."""
import re
from datetime import timedelta

from sqlalchemy import select, update

from pymes.accounts.models import Business
from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound

from .dashboard.test_figures import answer
from .factories import login, statements


def version(app, business_id):
    with app.app_context():
        return db.session.execute(select(Business.data_version).where(Business.id == business_id)).scalar_one()


def promoter(app, business_id, name: str) -> int:
    """A client who answered 10 yesterday; returns its id."""
    with app.app_context(), bound(business_id):
        c = Client(name=name, kind="client")
        db.session.add(c)
        db.session.flush()
        answer(c.id, 10, utcnow() - timedelta(days=1))
        db.session.commit()
        return c.id


def nps_on_dashboard(http) -> str:
    page = http.get("/dashboard").get_data(as_text=True)
    return re.search(r'data-testid="fig-nps"><small>NPS</small>\s*<strong>([^<]+)</strong>', page).group(1)


def test_every_committed_change_bumps_the_version_and_a_rollback_does_not(app, make):
    business, *_ = make.team()
    start = version(app, business.id)
    with app.app_context(), bound(business.id):
        db.session.add(Client(name="Uno"))
        db.session.commit()
    after_add = version(app, business.id)
    assert after_add == start + 1
    with app.app_context(), bound(business.id):  # a statement, not an object: counted too
        db.session.execute(update(Client).values(notes="visto"))
        db.session.commit()
    assert version(app, business.id) == after_add + 1
    with app.app_context(), bound(business.id):
        db.session.add(Client(name="Dos"))
        db.session.flush()
        db.session.rollback()
    assert version(app, business.id) == after_add + 1


def test_the_dashboard_shows_a_new_answer_at_once_and_reuses_its_figures_otherwise(app, make):
    business, owner, *_ = make.team()
    client_id = promoter(app, business.id, "Uno")
    http = app.test_client()
    login(http, owner.email)
    with statements(app) as first:
        assert nps_on_dashboard(http) == "100"
    with statements(app) as second:
        assert nps_on_dashboard(http) == "100"
    assert len(second) < len(first) - 5  # the figures' aggregates were not run again

    with app.app_context(), bound(business.id):  # a detractor answers: (1 − 1) / 2 → NPS 0
        answer(client_id, 2, utcnow() - timedelta(hours=1))
        db.session.commit()
    assert nps_on_dashboard(http) == "0"


def test_two_businesses_never_share_a_cached_figure(app, make):
    first, first_owner, *_ = make.team("Uno")
    second, second_owner, *_ = make.team("Dos")
    promoter(app, first.id, "Feliz")
    with app.app_context():  # even with the same version number, the business is in the key
        db.session.execute(update(Business).values(data_version=7))
        db.session.commit()
    http = app.test_client()
    login(http, first_owner.email)
    assert nps_on_dashboard(http) == "100"
    other = app.test_client()
    login(other, second_owner.email)
    assert nps_on_dashboard(other) != "100"


def test_a_kept_page_shows_a_new_sale_and_each_session_gets_its_own_form_token(app, make):
    from pymes.sales.models import Sale

    from .factories import santiago_today

    business, owner, *_ = make.team()
    client_id = make.client(business, "Ferretería Uno", kind="client").id
    first, second = app.test_client(), app.test_client()
    login(first, owner.email)
    login(second, owner.email)
    assert "Ferretería Uno" not in first.get("/clients/key").get_data(as_text=True)
    with app.app_context(), bound(business.id):
        db.session.add(Sale(client_id=client_id, sold_on=santiago_today(), description="x", amount=9000))
        db.session.commit()
    assert "Ferretería Uno" in first.get("/clients/key").get_data(as_text=True)  # not the kept empty page
    page = second.get("/clients/key").get_data(as_text=True)
    token = re.search(rf'action="/clients/{client_id}/key".*?name="csrf_token" value="([^"]+)"', page, re.S).group(1)
    done = second.post(f"/clients/{client_id}/key", data={"csrf_token": token, "is_key": "1"})
    assert done.status_code == 303  # the second session's own token, not the first one's kept copy


def test_a_new_or_revoked_token_bumps_the_version(app, make):
    """Pages show tokens too (the agenda's calendar link): making or retiring one is a
    change like any other."""
    from pymes.accounts import tokens

    business, owner, *_ = make.team()
    start = version(app, business.id)
    with app.app_context(), bound(business.id):
        tokens.issue("calendar_feed", business.id, owner.id, timedelta(days=365))
        db.session.commit()
    issued = version(app, business.id)
    assert issued == start + 1
    with app.app_context(), bound(business.id):
        tokens.retire("calendar_feed", business.id, owner.id)
        db.session.commit()
    assert version(app, business.id) == issued + 1


def test_a_seller_restricted_to_their_clients_sees_only_their_key_clients(app, make):
    from pymes.sales.models import Sale

    from .factories import santiago_today

    business, owner, _manager, seller = make.team()
    with app.app_context(), bound(business.id):
        db.session.get(Business, business.id).sellers_see_only_own = True
        mine = Client(name="Cliente De Marta", kind="client", seller_id=seller.id)
        theirs = Client(name="Cliente Del Dueño", kind="client", seller_id=owner.id)
        db.session.add_all([mine, theirs])
        db.session.flush()
        db.session.add_all([Sale(client_id=mine.id, sold_on=santiago_today(), description="x", amount=1000),
                            Sale(client_id=theirs.id, sold_on=santiago_today(), description="x", amount=9000)])
        db.session.commit()
    http = app.test_client()
    login(http, seller.email)
    page = http.get("/clients/key").get_data(as_text=True)
    assert "Cliente De Marta" in page and "Cliente Del Dueño" not in page
    boss = app.test_client()
    login(boss, owner.email)
    assert "Cliente Del Dueño" in boss.get("/clients/key").get_data(as_text=True)
