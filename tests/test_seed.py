"""The data-set generator: deterministic, consistent with the tier rules, usable by a person."""
from sqlalchemy import func, select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.seed import PASSWORD

from .factories import login


def _snapshot(app):
    from pymes.accounts.models import Business
    from pymes.tenancy import bound

    rows = []
    with app.app_context():
        for tenant in db.session.execute(select(Business.id).order_by(Business.id)).scalars().all():
            with bound(tenant):
                rows += db.session.execute(select(Client.name, Client.tier, Client.sales_count, Client.phone)
                                           .order_by(Client.id)).all()
    return rows


def test_seed_is_deterministic_and_consistent(app, database):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pymes", "seed", "--clients", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Created 1 businesses, 300 clients" in result.output
    first = _snapshot(app)
    assert len(first) == 300
    from .conftest import _empty_tables

    _empty_tables(database[1])
    runner.invoke(args=["pymes", "seed", "--clients", "300", "--seed", "7"])
    assert _snapshot(app) == first
    tiers = {row.tier for row in first}
    assert {"buyer", "sporadic"} <= tiers


def test_seeded_owner_can_log_in_and_counts_match(app, client):
    app.test_cli_runner().invoke(args=["pymes", "seed", "--clients", "50"])
    assert login(client, "seed1-owner0@example.com", PASSWORD).status_code == 303
    page = client.get("/clients?mine=0")
    assert page.status_code == 200
    from pymes.accounts.models import User
    from pymes.tenancy import bound, identity_lookup

    with app.app_context():
        with identity_lookup():
            tenant = db.session.execute(select(User.tenant_id).where(User.email == "seed1-owner0@example.com")
                                        ).scalar_one()
        with bound(tenant):
            counted = db.session.execute(select(func.count()).select_from(Sale)).scalar_one()
            cached = db.session.execute(select(func.sum(Client.sales_count))).scalar_one()
    assert counted == cached


def test_seeded_sales_carry_their_follow_up_and_answers(app, client):
    """Every seeded sale has its delivery visit for the seller who sold (rule 2); the
    last year's sales have follow-up calls and some feedback answers, so the agenda and
    the dashboard of a seeded business are not empty."""
    from pymes.feedback.models import FeedbackResponse
    from pymes.tenancy import bound
    from pymes.visits.models import Activity

    result = app.test_cli_runner().invoke(args=["pymes", "seed", "--scale", "small", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Created 1 businesses, 200 clients" in result.output
    with app.app_context():
        from pymes.accounts.models import Business

        tenant = db.session.execute(select(Business.id)).scalar_one()
        with bound(tenant):
            sales = db.session.execute(select(Sale.id, Sale.seller_id, Sale.delivery_on)).all()
            visits = {row.sale_id: row for row in db.session.execute(
                select(Activity.sale_id, Activity.seller_id, Activity.due_on)
                .where(Activity.purpose == "delivery")).all()}
            calls = db.session.execute(select(func.count()).select_from(Activity)
                                       .where(Activity.purpose == "follow_up")).scalar_one()
            answers = db.session.execute(select(func.count()).select_from(FeedbackResponse)).scalar_one()
    assert sales and len(visits) == len(sales)
    assert all(visits[s.id].seller_id == s.seller_id and visits[s.id].due_on == s.delivery_on for s in sales)
    assert calls > 0 and answers > 0
    assert login(client, "seed1-owner0@example.com", PASSWORD).status_code == 303
    assert client.get("/").status_code == 200
