"""Issue 19, point 2: the ladder as article 001 states it, through the real services.
A published testimonial (with consent, approved) counts like a converted referral on the
way to apostle, and a yearly buyer of three years is frequent by their own rhythm; each
change recomputes the tier and the tier history records it."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pymes.clients.models import Client, LoyaltySettings, TierChange
from pymes.extensions import db
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.referrals import services as referrals
from pymes.referrals.models import Testimonial
from pymes.sales.services import record_sale
from pymes.tenancy import bound

from ..factories import csrf_token, login, santiago_today


@pytest.fixture
def shop(app, make):
    business, owner, manager, seller = make.team("Ferretería La Tuerca")
    return dict(business=business, owner=owner, manager=manager, seller=seller)


def as_user(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


def _client_with_sales(app, shop, name, days_ago, score=None):
    with app.app_context(), bound(shop["business"].id):
        client = Client(name=name, phone=None, seller_id=shop["seller"].id)
        db.session.add(client)
        db.session.flush()
        if score is not None:
            link = FeedbackLink(client_id=client.id, sent_by="whatsapp",
                                expires_at=datetime.now(UTC) + timedelta(days=7))
            db.session.add(link)
            db.session.flush()
            db.session.add(FeedbackResponse(link_id=link.id, client_id=client.id, score=score))
        today = santiago_today()
        for back in sorted(days_ago, reverse=True):
            record_sale(client, sold_on=today - timedelta(days=back), description="Herramientas", product_line="",
                        amount=100_000, margin=30_000, seller_id=shop["seller"].id, delivery_on=None,
                        actor=shop["seller"], today=today)
        return client.id


def _history(app, shop, client_id):
    with app.app_context(), bound(shop["business"].id):
        return [(c.old_tier, c.new_tier, c.source) for c in db.session.execute(
            select(TierChange).where(TierChange.client_id == client_id).order_by(TierChange.id)).scalars()]


def _tier(app, shop, client_id):
    with app.app_context(), bound(shop["business"].id):
        return db.session.get(Client, client_id).tier


def test_a_published_testimonial_makes_a_frequent_promoter_an_apostle(app, shop):
    # every 30 days, the last one 10 days ago, a 10 in the feedback, no referral: frequent
    ana = _client_with_sales(app, shop, "Ana Taller", [100, 70, 40, 10], score=10)
    assert _tier(app, shop, ana) == "frequent"
    with app.app_context(), bound(shop["business"].id):
        typed, errors = referrals.add_by_seller(db.session.get(Client, ana), {
            "text": "Siempre tienen la pieza", "name_display": "first", "consent": "1", "may_publish": "1"})
        assert not errors
        tid = typed.id
    assert _tier(app, shop, ana) == "frequent"  # waiting for approval: not published yet
    http = as_user(app, shop["manager"])
    answer = http.post(f"/testimonials/{tid}/review", data={"csrf_token": csrf_token(http, "/testimonials"),
                                                             "decision": "approved"})
    assert answer.status_code == 303
    assert _tier(app, shop, ana) == "apostle"
    assert _history(app, shop, ana)[-1] == ("frequent", "apostle", "computed")
    page = http.get(f"/clients/{ana}").get_data(as_text=True)
    assert "1 testimonio publicado" in page  # the why-sentence names what was used
    # consent revoked: off the wall and off the top of the ladder, in the history too
    with app.app_context(), bound(shop["business"].id):
        referrals.revoke(db.session.get(Testimonial, tid))
    assert _tier(app, shop, ana) == "frequent"
    assert _history(app, shop, ana)[-1] == ("apostle", "frequent", "computed")


def test_a_testimonial_not_for_publishing_does_not_count(app, shop):
    ana = _client_with_sales(app, shop, "Ana Reservada", [100, 70, 40, 10], score=10)
    with app.app_context(), bound(shop["business"].id):
        typed, _ = referrals.add_by_seller(db.session.get(Client, ana), {
            "text": "Muy buenos", "name_display": "first", "consent": "1", "may_publish": ""})
        referrals.review(typed, "approved", shop["manager"].id)
    assert _tier(app, shop, ana) == "frequent"


def test_a_yearly_buyer_of_three_years_is_frequent_and_the_history_says_so(app, shop):
    # a workshop renewing its tools: 751, 374 and 13 days ago (gaps 377 and 361)
    taller = _client_with_sales(app, shop, "Taller Anual", [751, 374, 13])
    assert _tier(app, shop, taller) == "frequent"
    history = _history(app, shop, taller)
    # the first purchase made a one-off buyer; the second, 374 days after, still one (more
    # than 365 days ago and two purchases are no rhythm); the third a frequent client by their
    # own rhythm (738 days / 2 = 369 days apart, each gap within 25 %)
    assert history == [(None, "buyer", "computed"), ("buyer", "frequent", "computed")]
    page = as_user(app, shop["seller"]).get(f"/clients/{taller}").get_data(as_text=True)
    assert "su propio ritmo" in page and "369" in page


def test_the_own_rhythm_thresholds_are_editable_and_saving_recomputes(app, shop):
    taller = _client_with_sales(app, shop, "Taller Anual", [751, 374, 13])
    http = as_user(app, shop["manager"])
    values = {"sporadic_min_purchases": "2", "frequent_min_purchases": "4", "frequent_max_gap_days": "120",
              "lapsed_after_days": "365", "apostle_min_score": "9", "apostle_min_referrals": "1",
              "rhythm_min_purchases": "4", "rhythm_tolerance_percent": "25"}
    saved = http.post("/clients/settings", data=dict(values, csrf_token=csrf_token(http, "/clients/settings")))
    assert saved.status_code == 303
    assert _tier(app, shop, taller) == "sporadic"  # four purchases needed now: three are not a rhythm
    assert _history(app, shop, taller)[-1] == ("frequent", "sporadic", "computed")
    with app.app_context(), bound(shop["business"].id):
        row = db.session.execute(select(LoyaltySettings)).scalar_one()
        assert (row.rhythm_min_purchases, row.rhythm_tolerance_percent) == (4, 25)
    bad = http.post("/clients/settings", data=dict(values, rhythm_tolerance_percent="150",
                                                   csrf_token=csrf_token(http, "/clients/settings")))
    assert bad.status_code == 422 and 'value="150"' in bad.get_data(as_text=True)
