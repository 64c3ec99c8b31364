"""The virtuous-circle funnel per territory on a hand-made data set: what counts as a
post-sale contact (a visit or call done in the period and linked to a sale) and each
step's number per territory, worked out by hand below."""
from datetime import timedelta
from zoneinfo import ZoneInfo

from pymes.clients.models import Client
from pymes.dashboard import services
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.referrals import models as referral_models
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.territories.models import Territory
from pymes.visits.models import Activity
from tests.factories import santiago_today

SANTIAGO = ZoneInfo("America/Santiago")


def answer(client_id, score, when):
    link = FeedbackLink(client_id=client_id, expires_at=when + timedelta(days=30))
    db.session.add(link)
    db.session.flush()
    db.session.add(FeedbackResponse(link_id=link.id, client_id=client_id, score=score, created_at=when))


def test_the_funnel_per_territory_counts_only_post_sale_contacts(app, make):
    business, _owner, _manager, seller = make.team()
    now, today = utcnow(), santiago_today()
    old = now - timedelta(days=100)
    with app.app_context(), bound(business.id):
        north, south = Territory(name="Norte"), Territory(name="Sur")
        db.session.add_all([north, south])
        db.session.flush()
        nora = Client(name="Nora", seller_id=seller.id, territory_id=north.id)
        sam = Client(name="Samuel", seller_id=seller.id, territory_id=south.id)
        xavi = Client(name="Xavi", seller_id=seller.id)                  # no territory
        db.session.add_all([nora, sam, xavi])
        db.session.flush()
        friend = Client(name="Fina", territory_id=north.id, referred_by_id=nora.id)
        prospect = Client(name="Pedro", kind="prospect", referred_by_id=nora.id)
        db.session.add_all([friend, prospect])
        db.session.flush()

        def sale(client, back, amount=1000):
            row = Sale(client_id=client.id, sold_on=today - timedelta(days=back), description="x", amount=amount)
            db.session.add(row)
            db.session.flush()
            return row.id

        n1, n2, s1, x1 = sale(nora, 3), sale(nora, 20), sale(sam, 10), sale(xavi, 1)
        sale(sam, 200)                                                   # before the 90 days: not counted
        sale(friend, 2, amount=7000)                                      # the referred friend's first sale

        def activity(client, status, sale_id, done_at, kind="visit"):
            db.session.add(Activity(client_id=client.id, seller_id=seller.id, kind=kind, purpose="follow_up",
                                    due_on=today, status=status, sale_id=sale_id, done_at=done_at))

        activity(nora, "done", n1, now)                                  # counts
        activity(nora, "done", n2, now, kind="call")                     # counts
        activity(nora, "done", None, now)                                # a check-in, no sale: not post-sale
        activity(nora, "planned", n1, None)                              # not done yet
        activity(nora, "done", n2, old)                                  # done before the period
        activity(sam, "done", s1, now, kind="call")                      # counts
        activity(sam, "no_answer", s1, now, kind="call")                 # nobody answered: not a contact
        activity(xavi, "done", x1, now)                                  # counts (no territory)

        answer(nora.id, 10, now)
        answer(nora.id, 7, now)
        answer(sam.id, 9, now)
        answer(xavi.id, 3, old)                                          # before the period
        db.session.add(referral_models.Testimonial(client_id=nora.id, text="Excelente", consent_at=now))
        db.session.add_all([
            Referral(referrer_id=nora.id, prospect_id=friend.id, name="Fina", email="fina@example.com",
                     status="converted", converted_at=now),
            Referral(referrer_id=nora.id, prospect_id=prospect.id, name="Pedro", phone="+56987654321")])
        db.session.commit()
        by_territory = services.funnel(today, 90, SANTIAGO, Client.territory_id)
        total = services.funnel(today, 90, SANTIAGO)[None]
        north_id, south_id = north.id, south.id
    # sales, post-sale contacts, answers, promoters, testimonials, referrals, converted, referred revenue
    assert by_territory[north_id] == [3, 2, 2, 1, 1, 2, 1, 7000]       # Nora's 2 sales + Fina's
    assert by_territory[south_id] == [1, 1, 1, 1, 0, 0, 0, 0]
    assert by_territory[None] == [1, 1, 0, 0, 0, 0, 0, 0]              # Xavi
    assert total == [5, 4, 3, 2, 1, 2, 1, 7000]
