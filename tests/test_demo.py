"""Issue 17, point 9: ``flask pymes demo`` builds a shop with a year behind it (pymes/demo.py):
every rung of the ladder, a real NPS, two open complaints (one late) with their
economics, converted referrals, testimonials on the wall and work in today's agenda; a
second run changes nothing and ``--fresh`` builds the same shop again."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import func, select

from pymes.cli import DEMO_EMAIL, DEMO_PASSWORD
from pymes.extensions import db
from pymes.tenancy import bound, identity_lookup

from .factories import login


def _run(app, *args):
    result = app.test_cli_runner().invoke(args=["pymes", "demo", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _business_id(app) -> int:
    from pymes.accounts.models import User

    with app.app_context(), identity_lookup():
        return db.session.execute(select(User.tenant_id).where(User.email == DEMO_EMAIL)).scalar_one()


def _row_counts(app) -> dict[str, int]:
    """Rows of every table the business owns, and the businesses themselves."""
    from pymes.accounts.models import Business
    from pymes.data.services import tenant_tables

    business_id = _business_id(app)
    with app.app_context(), bound(business_id):
        counts = {table.name: db.session.execute(select(func.count()).select_from(table)
                                                 .where(table.c.tenant_id == business_id)).scalar_one()
                  for table in tenant_tables()}
        with identity_lookup():
            counts["businesses"] = db.session.execute(select(func.count()).select_from(Business)).scalar_one()
    return counts


def _fingerprint(app) -> list:
    """What a person sees of the book: names, contacts, tiers, sales, answers, cases."""
    from pymes.clients.models import Client
    from pymes.complaints.models import Complaint
    from pymes.feedback.models import FeedbackResponse
    from pymes.sales.models import Sale

    with app.app_context(), bound(_business_id(app)):
        clients = db.session.execute(select(Client.name, Client.company, Client.phone, Client.email, Client.tier,
                                            Client.kind).order_by(Client.name)).all()
        sales = db.session.execute(select(Sale.sold_on, Sale.description, Sale.amount, Sale.margin)
                                   .order_by(Sale.sold_on, Sale.amount)).all()
        scores = db.session.execute(select(FeedbackResponse.score, FeedbackResponse.comment)
                                    .order_by(FeedbackResponse.created_at)).all()
        cases = db.session.execute(select(Complaint.category, Complaint.status, Complaint.remedy_cost)
                                   .order_by(Complaint.opened_at)).all()
    return [clients, sales, scores, cases]


def test_the_demo_is_a_living_shop_and_a_second_run_changes_nothing(app, client):
    from pymes.accounts.models import Business, User
    from pymes.clients import loyalty
    from pymes.clients.models import Client
    from pymes.complaints import queries
    from pymes.complaints import services as complaints
    from pymes.complaints.models import Complaint
    from pymes.dashboard import figures
    from pymes.feedback.models import FeedbackResponse
    from pymes.i18n import business_today
    from pymes.referrals import services as referrals
    from pymes.referrals.models import Referral
    from pymes.sales.models import Sale
    from pymes.visits.services import agenda

    output = _run(app)
    assert DEMO_EMAIL in output and DEMO_PASSWORD in output
    assert re.search(r"created in [\d.]+ s: \d+ clients", output), output  # the command reports its time

    business_id = _business_id(app)
    with app.app_context(), bound(business_id):
        business = db.session.get(Business, business_id)
        today = business_today(business)
        assert (business.name, business.currency, business.timezone, business.language) == (
            "Ferretería El Roble", "CLP", "America/Santiago", "es")
        team = db.session.execute(select(User.role, func.count()).group_by(User.role)).all()
        assert dict(team) == {"owner": 1, "manager": 1, "seller": 2, "service": 1}

        # about sixty clients on every rung, each placed there by the ladder's own rules
        clients = db.session.execute(select(Client)).scalars().all()
        assert 50 <= len(clients) <= 70
        tiers = {t: sum(1 for c in clients if c.tier == t) for t in loyalty.TIERS}
        assert all(n >= 3 for n in tiers.values()), tiers
        assert sum(1 for c in clients if c.kind == "prospect") >= 3
        rules = loyalty.TierRules()
        from pymes.clients.services import loyalty_facts, published_testimonials

        for c in clients:
            dates = db.session.execute(select(Sale.sold_on).where(Sale.client_id == c.id)).scalars().all()
            score, converted = loyalty_facts(c.id)
            assert loyalty.compute_tier(dates, today, score, converted, rules,
                                        testimonials=published_testimonials(c.id)).tier == c.tier, c.name
        apostles = [c for c in clients if c.tier == "apostle"]
        # each recommends the shop (article 001): a friend who bought, or a testimonial on the wall
        assert all(loyalty_facts(c.id)[1] + published_testimonials(c.id) >= 1 for c in apostles)

        # Chilean people: accents, mobiles in E.164, some companies
        assert any(re.search(r"[áéíóúñÁÉÍÓÚÑ]", c.name) for c in clients)
        phones = [c.phone for c in clients if c.phone]
        assert len(phones) == len(clients)
        for phone in phones:
            number = phonenumbers.parse(phone)
            assert phone.startswith("+569") and phonenumbers.is_valid_number(number), phone
            assert phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.MOBILE,
                                                        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        assert sum(1 for c in clients if c.company) >= 5

        # a year of sales by several sellers, nothing in the future
        sales = db.session.execute(select(Sale)).scalars().all()
        assert max(s.sold_on for s in sales) == today and min(s.sold_on for s in sales) < today - timedelta(days=365)
        year = [s for s in sales if s.sold_on > today - timedelta(days=365)]
        assert len({(s.sold_on.year, s.sold_on.month) for s in year}) >= 12
        assert len({s.seller_id for s in year}) >= 3

        # a real NPS: promoters, passives and detractors
        scores = db.session.execute(select(FeedbackResponse.score)).scalars().all()
        assert any(s >= 9 for s in scores) and any(7 <= s <= 8 for s in scores) and any(s <= 6 for s in scores)
        owner = db.session.execute(select(User).where(User.role == "owner")).scalar_one()
        nps = figures.feedback(today, ZoneInfo(business.timezone), figures.Filters()).nps
        assert isinstance(nps, int) and -100 < nps < 100

        # two open complaints, one past its clock, both with what the remedy cost
        open_cases = db.session.execute(select(Complaint).where(Complaint.status != "resolved")).scalars().all()
        assert len(open_cases) == 2
        late = [c for c in open_cases if complaints.breached(c)]
        assert len(late) == 1 and late[0].remedy_cost > 0
        economics = complaints.economics_for(late[0])
        assert economics.annual_margin > 0 and economics.recovery_loss >= 0
        assert all(c.remedy_cost for c in open_cases)
        assert {k: v for k, v in queries.counts(owner).items() if k != "mine"} == {"open": 2, "breached": 1}
        resolved = db.session.execute(select(Complaint).where(Complaint.status == "resolved")).scalars().all()
        assert resolved and all(c.value_kept is not None for c in resolved)

        # converted referrals, open ones, and testimonials on the public wall
        statuses = dict(db.session.execute(select(Referral.status, func.count()).group_by(Referral.status)).all())
        assert statuses.get("converted", 0) >= 3 and sum(statuses.values()) > statuses["converted"]
        wall = db.session.execute(referrals.published("wall")).all()
        assert len(wall) >= 3

        # work in today's agenda: the owner's and the team's
        assert agenda(owner.id, today, overdue_page=1).today
        assert len(agenda(None, today, overdue_page=1).today) >= 4

    before = _row_counts(app)
    again = _run(app)
    assert "already exists" in again
    assert _row_counts(app) == before

    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert "Ferretería El Roble" in home and "Nothing planned for today." not in home
    assert client.get("/clients").status_code == 200
    assert client.get("/dashboard").status_code == 200


def test_an_old_empty_demo_is_filled_in_and_fresh_builds_the_same_shop(app, make):
    """A demo business made by the command's earlier version (owner and a teammate, no
    clients) gets its missing teammates and its book, nobody twice. ``--fresh`` then
    deletes it and, with the fixed seed and dates from the business's today, builds
    exactly the same book (and no second business)."""
    from pymes.accounts.models import User

    business = make.business("Ferretería El Roble")
    make.user(business, "owner", email=DEMO_EMAIL)
    make.user(business, "seller", email="marta@example.com")
    assert "created in" in _run(app)
    with app.app_context(), bound(business.id):
        emails = db.session.execute(select(User.email)).scalars().all()
    assert sorted(emails) == sorted([DEMO_EMAIL, "marta@example.com", "joaquin@example.com", "pedro@example.com",
                                     "sofia@example.com"])
    first, counts = _fingerprint(app), _row_counts(app)
    assert len(first[0]) >= 50
    output = _run(app, "--fresh")
    assert "Deleted the demo business" in output and "created in" in output
    assert _fingerprint(app) == first
    assert _row_counts(app)["businesses"] == counts["businesses"]
