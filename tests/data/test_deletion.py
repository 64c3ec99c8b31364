"""DATA-3: an owner deletes the business: confirmation by name, a grace period with a
banner and a read-only account, then the purge leaves no row with its tenant id."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text

from pymes.accounts.models import Business
from pymes.data.services import dependent_tables, tenant_tables
from pymes.db import utcnow
from pymes.extensions import db

from ..factories import csrf_token, login
from .fill import filled_business


def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/settings/data"), **(data or {})}, **kwargs)


def requested_at(app, business):
    with app.app_context():
        return db.session.get(Business, business.id).deletion_requested_at


def counts(owner_engine, tenant_id) -> dict[str, int]:
    """Rows per tenant table for one tenant, read past row-level security (the owner role)."""
    with owner_engine.connect() as conn:
        found = {t.name: conn.execute(text(f'SELECT count(*) FROM "{t.name}" WHERE tenant_id = :t'),
                                      {"t": tenant_id}).scalar_one() for t in tenant_tables()}
        for table, column, parent, parent_column in dependent_tables():
            owned = (":t" if parent.name == "businesses" else
                     f'SELECT "{parent_column.name}" FROM "{parent.name}" WHERE tenant_id = :t')
            found[table.name] = conn.execute(text(
                f'SELECT count(*) FROM "{table.name}" WHERE "{column.name}" IN ({owned})'), {"t": tenant_id}
            ).scalar_one()
        found["businesses"] = conn.execute(text("SELECT count(*) FROM businesses WHERE id = :t"),
                                           {"t": tenant_id}).scalar_one()
    return found


def test_a_wrong_name_is_refused_beside_the_field(app, make, client):
    business, owner, _seller = filled_business(app, make, "Alfa")
    login(client, owner.email)

    response = post(client, "/settings/data/delete", {"confirm_name": "Negocio Beta"})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="confirm_name-error"' in html and "Negocio Alfa" in html
    assert 'value="Negocio Beta"' in html  # what was typed comes back
    assert requested_at(app, business) is None


def test_deletion_schedules_mails_the_owner_and_shows_a_banner_with_cancel(app, make, client, outbox):
    business, owner, seller = filled_business(app, make, "Alfa")
    login(client, owner.email)

    response = post(client, "/settings/data/delete", {"confirm_name": "  negocio alfa "}, follow_redirects=True)

    assert response.status_code == 200
    assert requested_at(app, business) is not None
    mail = outbox.last(owner.email)
    assert "Negocio Alfa" in mail["Subject"]
    assert "/settings/data" in mail.get_body(preferencelist=("plain",)).get_content()
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="deletion-banner"' in home and "/settings/data/cancel" in home

    http = app.test_client()
    login(http, seller.email)
    seller_home = http.get("/").get_data(as_text=True)
    assert 'data-testid="deletion-banner"' in seller_home and "/settings/data/cancel" not in seller_home

    post(client, "/settings/data/cancel")
    assert requested_at(app, business) is None
    assert 'data-testid="deletion-banner"' not in client.get("/").get_data(as_text=True)


def test_the_account_is_read_only_during_the_grace_period(app, make, client):
    business, owner, _seller = filled_business(app, make, "Alfa")
    login(client, owner.email)
    post(client, "/settings/data/delete", {"confirm_name": "Negocio Alfa"})

    refused = post(client, "/settings/business", {"name": "Otro nombre", "currency": "CLP",
                                                   "timezone": "America/Santiago", "language": "es"})
    assert refused.status_code == 403
    assert "read-only" in refused.get_data(as_text=True) or "solo lectura" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Business, business.id).name == "Negocio Alfa"
    assert client.get("/clients").status_code == 200
    assert client.get("/settings/data/export.zip").status_code == 200


def test_only_the_owner_may_delete(app, make):
    business, _owner, seller = filled_business(app, make, "Alfa")
    manager = make.user(business, "manager")
    for user in (seller, manager):
        http = app.test_client()
        login(http, user.email)
        token = csrf_token(http, "/")
        assert http.post("/settings/data/delete", data={"csrf_token": token,
                                                        "confirm_name": "Negocio Alfa"}).status_code == 403
    assert requested_at(app, business) is None


def test_purge_removes_every_row_of_the_business_after_the_grace_only(app, make, database):
    _app_url, owner_engine = database
    doomed, _o, _s = filled_business(app, make, "Alfa")
    kept, _o2, _s2 = filled_business(app, make, "Beta")
    before_doomed, before_kept = counts(owner_engine, doomed.id), counts(owner_engine, kept.id)
    empty = sorted(name for name, n in before_doomed.items() if n == 0)
    assert not empty, f"tests/data/fill.py puts no row in: {empty}"
    runner = app.test_cli_runner()

    with app.app_context():
        db.session.get(Business, doomed.id).deletion_requested_at = utcnow() - timedelta(days=13)
        db.session.get(Business, kept.id).deletion_requested_at = None
        db.session.commit()
    result = runner.invoke(args=["pymes", "purge-deleted"])
    assert result.exit_code == 0, result.output
    assert "0 businesses purged" in result.output
    assert counts(owner_engine, doomed.id) == before_doomed  # still in its grace period

    with app.app_context():
        db.session.get(Business, doomed.id).deletion_requested_at = utcnow() - timedelta(days=15)
        db.session.commit()
    result = runner.invoke(args=["pymes", "purge-deleted"])
    assert result.exit_code == 0, result.output
    assert "1 businesses purged" in result.output

    left = {name: n for name, n in counts(owner_engine, doomed.id).items() if n}
    assert left == {}
    assert counts(owner_engine, kept.id) == before_kept
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE email LIKE '%alfa%'")).scalar_one() == 0


def test_cancelled_request_is_not_purged(app, make, database):
    _app_url, owner_engine = database
    business, owner, _seller = filled_business(app, make, "Alfa")
    with app.app_context():
        db.session.get(Business, business.id).deletion_requested_at = utcnow() - timedelta(days=30)
        db.session.commit()
    http = app.test_client()
    login(http, owner.email)
    post(http, "/settings/data/cancel")

    assert "0 businesses purged" in app.test_cli_runner().invoke(args=["pymes", "purge-deleted"]).output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Business)).scalar_one() == 1
