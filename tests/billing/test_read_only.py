"""PAY-5: a lapsed subscription makes the account read-only, over every route of the
app; reading and exporting stay open, customers' feedback links keep working; and the
banners of the trial's last days and of a failed payment."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pymes.billing.guard import write_allowed
from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import csrf_token, login
from ..security import routes
from ..security.test_isolation import _snapshot
from .conftest import subscription

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
READ_ONLY_TEXT = 'data-testid="read-only"'

LAPSED = {
    "canceled": dict(status="canceled", stripe_subscription_id="sub_1"),
    "unpaid": dict(status="unpaid", stripe_subscription_id="sub_1"),
    "trial over": dict(status="trialing", trial_end=utcnow() - timedelta(hours=1)),
    "past due beyond grace": dict(status="past_due", stripe_subscription_id="sub_1",
                                  past_due_since=utcnow() - timedelta(days=8)),
}


def _team(app, make, **fields):
    from pymes.extensions import limiter

    limiter.enabled = False
    business, owner, manager, seller = make.team("Negocio Vencido")
    subscription(app, business, **fields)
    return business, owner, manager, seller


def _logged_in(app, user):
    http = app.test_client()
    login(http, user.email)
    return http


@pytest.mark.parametrize("state", sorted(LAPSED))
def test_every_write_of_a_lapsed_account_is_refused_and_changes_nothing(app, make, state):
    business, owner, _m, _s = _team(app, make, **LAPSED[state])
    ids = {arg: factory(app, business, owner) for arg, factory in routes.registry(make).items()}
    http = _logged_in(app, owner)
    token = csrf_token(http, "/")
    before = _snapshot(app, business.id)
    refused = []
    for rule in routes.rules(app):
        if write_allowed(rule.endpoint):
            continue
        for method in sorted(set(rule.methods) & STATE_CHANGING):
            values = dict(ids, token="x" * 43)
            path = routes.build(rule, {arg: values.get(arg, "x") for arg in rule.arguments})
            response = http.open(path, method=method, data={"csrf_token": token, "name": "Nuevo", "score": "9",
                                                           "email": "nuevo@example.com", "role": "seller"})
            assert response.status_code == 403, (rule.rule, method, response.status_code)
            assert READ_ONLY_TEXT in response.get_data(as_text=True)
            refused.append(rule.endpoint)
    assert len(refused) >= 30, len(refused)
    assert _snapshot(app, business.id) == before


def test_the_refusal_explains_and_sends_the_owner_to_billing(app, make):
    business, owner, _m, seller = _team(app, make, **LAPSED["canceled"])
    for user, link in ((owner, True), (seller, False)):
        http = _logged_in(app, user)
        html = http.post("/clients/new", data={"csrf_token": csrf_token(http, "/"), "name": "X"}).get_data(
            as_text=True)
        assert READ_ONLY_TEXT in html and "solo lectura" in html
        assert ('href="/billing"' in html) is link
    http = _logged_in(app, owner)
    response = http.post("/clients/new", data={"name": "X"},
                         headers={"HX-Request": "true", "X-CSRFToken": csrf_token(http, "/")})
    assert response.status_code == 403 and response.headers["HX-Refresh"] == "true"
    assert "Tu cuenta es de solo lectura" in http.get("/").get_data(as_text=True)  # the flash after the reload


def test_a_lapsed_account_still_reads_exports_pays_and_logs_out(app, make, stripe_http):
    business, owner, _m, seller = _team(app, make, **LAPSED["canceled"])
    with app.app_context(), bound(business.id):
        db.session.add(Client(name="Cliente Guardado", seller_id=seller.id))
        db.session.commit()
    http = _logged_in(app, owner)
    for path in ("/", "/clients", "/agenda", "/complaints", "/territories", "/team", "/billing"):
        assert http.get(path).status_code == 200, path
    export = http.get("/clients/export.csv")
    assert export.status_code == 200 and "Cliente Guardado" in export.get_data(as_text=True)
    assert http.get("/clients/export.xlsx").status_code == 200
    token = csrf_token(http, "/")
    checkout = http.post("/billing/checkout", data={"csrf_token": token, "plan": "monthly"})
    assert checkout.status_code == 303 and "checkout.stripe.com" in checkout.headers["Location"]
    assert http.post("/language", data={"csrf_token": token, "lang": "en", "next": "/"}).status_code == 303
    assert http.post("/logout", data={"csrf_token": token}).status_code == 303
    assert http.get("/clients").status_code == 302  # logged out for real


def test_customers_feedback_links_keep_working(app, make):
    from pymes.feedback import services as feedback
    from pymes.feedback.models import FeedbackResponse

    business, owner, _m, seller = _team(app, make, **LAPSED["canceled"])
    client = make.client(business, "Rosa", email="rosa@example.com", seller_id=seller.id)
    path = "/f/" + make.feedback_link(business, client, actor=seller).secret
    customer = app.test_client()
    form = customer.get(path).get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1), "score": "9"}
    feedback.MIN_FILL_SECONDS, saved_min = 0, feedback.MIN_FILL_SECONDS
    try:
        assert customer.post(path, data=data).status_code == 200
    finally:
        feedback.MIN_FILL_SECONDS = saved_min
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackResponse.score)).scalar_one() == 9


@pytest.mark.parametrize("fields", [
    dict(status="active", stripe_subscription_id="sub_1"),
    dict(status="trialing", trial_end=utcnow() + timedelta(days=10)),
    dict(status="past_due", stripe_subscription_id="sub_1", past_due_since=utcnow() - timedelta(days=2)),
], ids=["active", "trial", "past due in grace"])
def test_a_business_in_good_standing_writes(app, make, fields):
    business, owner, _m, _s = _team(app, make, **fields)
    http = _logged_in(app, owner)
    response = http.post("/clients/new", data={"csrf_token": csrf_token(http, "/"), "name": "Cliente Nuevo"})
    assert response.status_code == 303
    with app.app_context(), bound(business.id):
        assert db.session.query(Client).filter_by(name="Cliente Nuevo").count() == 1


def _banner(html: str) -> str | None:
    match = re.search(r'data-testid="billing-banner"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(match.group(1).split()) if match else None


def test_the_trial_banner_shows_in_the_last_days_only(app, make):
    business, owner, _m, seller = _team(app, make, trial_end=utcnow() + timedelta(days=10))
    http = _logged_in(app, owner)
    assert _banner(http.get("/").get_data(as_text=True)) is None
    with app.app_context(), bound(business.id):
        from pymes.billing.models import Subscription

        db.session.query(Subscription).update({"trial_end": utcnow() + timedelta(days=3)})
        db.session.commit()
    for user in (owner, seller):
        session = _logged_in(app, user)
        for path in ("/", "/clients", "/agenda"):
            banner = _banner(session.get(path).get_data(as_text=True))
            assert banner and str((utcnow() + timedelta(days=3)).year) in banner, path  # "…ends on <date>"
            assert 'data-state="trial"' in session.get(path).get_data(as_text=True)
            assert ("/billing" in banner) is (user is owner)


def test_a_new_business_is_on_a_trial_from_its_sign_up(app, make):
    """No row yet: the trial runs TRIAL_DAYS from the business's creation."""
    from pymes.accounts.models import Business
    from pymes.billing.services import current_standing

    business = make.business()
    with app.test_request_context(), bound(business.id):
        standing = current_standing(db.session.get(Business, business.id))
    assert standing.state == "trial" and not standing.read_only
    assert standing.trial_end == business.created_at + timedelta(days=14)


def test_past_due_shows_the_grace_period(app, make):
    business, owner, _m, _s = _team(app, make, status="past_due", stripe_subscription_id="sub_1",
                                    past_due_since=utcnow() - timedelta(days=2))
    http = _logged_in(app, owner)
    banner = _banner(http.get("/clients").get_data(as_text=True))
    assert banner and "tarjeta" in banner


def test_a_lapsed_owner_can_still_ask_for_deletion_and_cancel_it(app, make):
    """DATA-3 beside PAY-5: a business whose subscription lapsed is not held hostage:
    its owner can schedule the deletion of its data, and take it back."""
    business, owner, _m, _s = _team(app, make, **LAPSED["canceled"])
    http = _logged_in(app, owner)
    token = csrf_token(http, "/settings/data")
    asked = http.post("/settings/data/delete", data={"csrf_token": token, "confirm_name": business.name})
    assert asked.status_code == 303
    with app.app_context():
        from pymes.accounts.models import Business

        assert db.session.get(Business, business.id).deletion_requested_at is not None
    cancelled = http.post("/settings/data/cancel", data={"csrf_token": csrf_token(http, "/settings/data")})
    assert cancelled.status_code == 303
    with app.app_context():
        from pymes.accounts.models import Business

        assert db.session.get(Business, business.id).deletion_requested_at is None


def test_a_business_still_paying_is_asked_to_cancel_the_subscription_before_deletion(app, make):
    """The purge removes our rows, not Stripe's subscription: while one would charge
    again, the deletion is refused beside the field with the way out."""
    business, owner, _m, _s = _team(app, make, status="active", stripe_subscription_id="sub_9")
    http = _logged_in(app, owner)
    token = csrf_token(http, "/settings/data")
    page = http.post("/settings/data/delete", data={"csrf_token": token, "confirm_name": business.name})
    assert page.status_code == 422
    assert "billing page first" in page.get_data(as_text=True) or "facturación" in page.get_data(as_text=True)
    with app.app_context():
        from pymes.accounts.models import Business

        assert db.session.get(Business, business.id).deletion_requested_at is None
