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
