"""Referrals asked and obtained per delivery visit (article 004, rule 8) on the funnel, per
seller who made the visit, on a hand-made data set whose figures are worked out by hand
below; the page reads them in a fixed number of statements and shows a new ask at once."""
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from pymes.clients.models import Client
from pymes.dashboard import figures
from pymes.db import utcnow
from pymes.extensions import db
from pymes.referrals.models import Referral, ReferralAsk
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import login, santiago_today, statements

SANTIAGO = ZoneInfo("America/Santiago")


def _visit(client, seller_id, satisfaction, done_at, status="done", purpose="delivery", kind="visit"):
    visit = Activity(client_id=client.id, seller_id=seller_id, kind=kind, purpose=purpose, due_on=santiago_today(),
                     status=status, satisfaction=satisfaction, done_at=done_at)
    db.session.add(visit)
    db.session.flush()
    return visit


def _ask(visit, friends=0, asked=True):
    if asked:
        db.session.add(ReferralAsk(activity_id=visit.id, client_id=visit.client_id, asked_by_id=visit.seller_id))
    for i in range(friends):
        friend = Client(name=f"Amigo {visit.id}-{i}", kind="prospect", referred_by_id=visit.client_id)
        db.session.add(friend)
        db.session.flush()
        db.session.add(Referral(referrer_id=visit.client_id, prospect_id=friend.id, name=friend.name,
                                email=f"amigo{visit.id}-{i}@example.com", source="visit", friend_consent=True,
                                activity_id=visit.id))


def book(app, make):
    """Ana (seller A) and Beto (seller B) and a client with no seller, their delivery visits:

    A: 5★ asked, 2 referrals · 4★ asked, nobody · 2★ not asked · 5★ 100 days ago asked, 1
       referral (outside 90 days) · one still planned · a follow-up call with a referral
       (not a delivery)
    B: 5★ asked, 3 referrals · no satisfaction noted, not asked
    no seller: 5★ asked, 1 referral
    and a referral from the feedback page (no visit)."""
    business, owner, manager, a = make.team("Colchones Sur")
    b = make.user(business, "seller", name="Beto Vendedor")
    other, *_rest = make.team("Otra Tienda")
    now, old = utcnow(), utcnow() - timedelta(days=100)
    with app.app_context(), bound(business.id):
        ana = Client(name="Ana", seller_id=a.id)
        beto = Client(name="Beto", seller_id=b.id)
        nadie = Client(name="Nadie")
        db.session.add_all([ana, beto, nadie])
        db.session.flush()
        _ask(_visit(ana, a.id, 5, now), friends=2)
        _ask(_visit(ana, a.id, 4, now), friends=0)
        _ask(_visit(ana, a.id, 2, now), asked=False)
        _ask(_visit(ana, a.id, 5, old), friends=1)
        _visit(ana, a.id, None, None, status="planned")
        _ask(_visit(ana, a.id, 5, now, purpose="follow_up", kind="call"), friends=1)
        _ask(_visit(beto, b.id, 5, now), friends=3)
        _ask(_visit(beto, b.id, None, now), asked=False)
        _ask(_visit(nadie, None, 5, now), friends=1)
        friend = Client(name="Desde la encuesta", kind="prospect")
        db.session.add(friend)
        db.session.flush()
        db.session.add(Referral(referrer_id=ana.id, prospect_id=friend.id, name="x", email="x@example.com",
                                source="feedback"))
        db.session.commit()
    with app.app_context(), bound(other.id):  # another business's delivery asks count for nobody here
        carla = Client(name="Carla")
        db.session.add(carla)
        db.session.flush()
        _ask(_visit(carla, None, 5, now), friends=2)
        db.session.commit()
    return business, manager, a, b


def test_referrals_asked_and_obtained_per_delivery_visit_and_per_seller(app, make):
    business, _manager, a, b = book(app, make)
    with app.app_context(), bound(business.id):
        total, by_seller = figures.delivery_asks(santiago_today(), SANTIAGO, 90)
        year_total, year_by_seller = figures.delivery_asks(santiago_today(), SANTIAGO, 365)
    # (visits, satisfied, asked, obtained), by hand from the book above
    assert by_seller[a.id] == figures.DeliveryAsks(3, 2, 2, 2)
    assert by_seller[b.id] == figures.DeliveryAsks(2, 1, 1, 3)
    assert by_seller[None] == figures.DeliveryAsks(1, 1, 1, 1)
    assert total == figures.DeliveryAsks(6, 4, 4, 6)
    assert total.per_visit == 1.0 and by_seller[a.id].per_visit == 2 / 3 and by_seller[b.id].per_visit == 1.5
    assert by_seller[b.id].per_ask == 3.0
    # the visit of 100 days ago counts in the year
    assert year_by_seller[a.id] == figures.DeliveryAsks(4, 3, 3, 3)
    assert year_total == figures.DeliveryAsks(7, 5, 5, 7)


def _cells(page, testid):
    row = re.search(rf'data-testid="{testid}">(.*?)</tr>', page, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


def test_the_funnel_page_shows_them_per_seller_and_a_new_ask_at_once(app, make):
    business, manager, a, b = book(app, make)
    http = app.test_client()
    login(http, manager.email)
    page = http.get("/dashboard/funnel?days=90").get_data(as_text=True)
    assert re.search(r'data-testid="delivery-per-visit"><strong>1,0</strong>', page)
    assert _cells(page, f"delivery-seller-{a.id}") == [a.name, "3", "2", "2", "2", "0,7"]
    assert _cells(page, f"delivery-seller-{b.id}") == ["Beto Vendedor", "2", "1", "1", "3", "1,5"]
    assert _cells(page, "delivery-seller-none") == ["Sin vendedor", "1", "1", "1", "1", "1,0"]
    assert _cells(page, "delivery-total") == ["Total", "6", "4", "4", "6", "1,0"]
    # Ana's 2★ visit: the seller asks after all and gets one referral; the kept figure is not served
    with app.app_context(), bound(business.id):
        visit = db.session.execute(db.select(Activity).where(Activity.satisfaction == 2)).scalar_one()
        _ask(visit, friends=1)
        db.session.commit()
    page = http.get("/dashboard/funnel?days=90").get_data(as_text=True)
    assert _cells(page, f"delivery-seller-{a.id}") == [a.name, "3", "2", "3", "3", "1,0"]


def test_a_seller_cannot_read_the_team_figures(app, make):
    _business, _manager, a, _b = book(app, make)
    http = app.test_client()
    login(http, a.email)
    assert http.get("/dashboard/funnel").status_code == 403


def test_the_funnel_page_reads_the_same_number_of_statements_whatever_the_visits(app, make):
    counts = []
    for visits in (1, 40):
        business, owner, _manager, seller = make.team()
        with app.app_context(), bound(business.id):
            client = Client(name="Cliente", seller_id=seller.id)
            db.session.add(client)
            db.session.flush()
            for i in range(visits):
                _ask(_visit(client, seller.id, 5, utcnow()), friends=i % 3)
            db.session.commit()
        http = app.test_client()
        login(http, owner.email)
        with statements(app) as seen:
            assert http.get("/dashboard/funnel").status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
