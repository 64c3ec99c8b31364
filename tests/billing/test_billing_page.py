"""The owner's billing page, Checkout (PAY-4) and the Portal, with Stripe's HTTP
replaced by a fake at the library's client boundary; and billing switched off."""
from __future__ import annotations

from datetime import timedelta

import pytest
from markupsafe import escape

from pymes import create_app
from pymes.billing.models import Subscription
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import csrf_token, login
from .conftest import PRICE_MONTHLY, PRICE_YEARLY, stored, subscription


@pytest.fixture
def owner(app, make):
    business = make.business("Ferretería Pago")
    user = make.user(business, "owner")
    http = app.test_client()
    login(http, user.email)
    return http, business, user


def _post(http, path, **data):
    return http.post(path, data={"csrf_token": csrf_token(http, "/billing"), **data})


def test_the_owner_sees_plan_state_and_both_plans(owner):
    http, business, _user = owner
    html = http.get("/billing").get_data(as_text=True)
    assert 'data-testid="billing-page"' in html
    assert 'data-testid="checkout-monthly"' in html and 'data-testid="checkout-yearly"' in html
    assert 'data-testid="portal"' not in html  # no Stripe customer yet
    assert 'data-testid="billing-state"' in html
    # The forms redirect to Stripe: this page's policy lets the browser follow.
    assert "https://checkout.stripe.com" in http.get("/billing").headers["Content-Security-Policy"]


@pytest.mark.parametrize("role", ["manager", "seller", "service"])
def test_only_the_owner_reaches_billing(app, make, role):
    business = make.business()
    user = make.user(business, role)
    http = app.test_client()
    login(http, user.email)
    assert http.get("/billing").status_code == 403
    token = csrf_token(http, "/")
    assert http.post("/billing/checkout", data={"csrf_token": token, "plan": "monthly"}).status_code == 403
    assert "/billing" not in http.get("/").get_data(as_text=True)


def test_checkout_creates_a_customer_and_a_session_with_our_key(app, owner, stripe_http):
    http, business, user = owner
    response = _post(http, "/billing/checkout", plan="yearly")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    [customer] = stripe_http.calls("POST", "/v1/customers")
    assert customer.params["email"] == user.email
    assert customer.params["metadata[business_id]"] == str(business.id)
    assert customer.headers["Idempotency-Key"] == f"pymes-customer-{business.id}"
    [session] = stripe_http.calls("POST", "/v1/checkout/sessions")
    assert session.params["mode"] == "subscription"
    assert session.params["line_items[0][price]"] == PRICE_YEARLY
    assert session.params["line_items[0][quantity]"] == "1"
    assert session.params["customer"] == stored(app, business).stripe_customer_id
    assert session.params["success_url"] == "http://fideliza.test/billing?checkout=done"
    assert session.params["cancel_url"] == "http://fideliza.test/billing"
    assert session.headers["Idempotency-Key"].startswith("pymes-checkout-")
    # The trial's remaining days are kept: Stripe charges when the trial ends.
    trial_end = int(stored(app, business).trial_end.timestamp())
    assert session.params["subscription_data[trial_end]"] == str(trial_end)
    assert session.headers["Authorization"] == "Bearer sk_test_not_a_real_key"


def test_a_double_click_makes_one_checkout_session(app, owner, stripe_http):
    """PAY-4: the second click gets the same session, without asking Stripe again."""
    http, business, _user = owner
    first = _post(http, "/billing/checkout", plan="monthly")
    second = _post(http, "/billing/checkout", plan="monthly")
    assert first.headers["Location"] == second.headers["Location"]
    assert len(stripe_http.calls("POST", "/v1/checkout/sessions")) == 1
    assert len(stripe_http.calls("POST", "/v1/customers")) == 1


def test_two_racing_clicks_send_the_same_idempotency_key(app, owner, stripe_http):
    """PAY-4 when both clicks pass the stored-session check at once: the same key and
    parameters, so Stripe answers both with one session."""
    http, business, _user = owner
    first = _post(http, "/billing/checkout", plan="monthly")
    with app.app_context(), bound(business.id):  # as if the second click had not seen the first's session
        row = db.session.query(Subscription).one()
        row.checkout_session_id = row.checkout_url = None
        db.session.commit()
    second = _post(http, "/billing/checkout", plan="monthly")
    calls = stripe_http.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2
    assert calls[0].headers["Idempotency-Key"] == calls[1].headers["Idempotency-Key"]
    assert calls[0].params == calls[1].params
    assert first.headers["Location"] == second.headers["Location"]


def test_another_plan_is_another_session(app, owner, stripe_http):
    http, _business, _user = owner
    monthly = _post(http, "/billing/checkout", plan="monthly")
    yearly = _post(http, "/billing/checkout", plan="yearly")
    assert monthly.headers["Location"] != yearly.headers["Location"]
    keys = {c.headers["Idempotency-Key"] for c in stripe_http.calls("POST", "/v1/checkout/sessions")}
    assert len(keys) == 2


@pytest.mark.parametrize("failure", ["down", "error"])
def test_a_stripe_outage_shows_a_retry_message_not_a_500(app, owner, stripe_http, failure):
    http, business, _user = owner
    stripe_http.fail = failure
    response = _post(http, "/billing/checkout", plan="monthly")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert 'data-testid="billing-problem"' in html
    assert 'data-testid="checkout-monthly"' in html  # the buttons are there to try again
    assert stored(app, business) is None or stored(app, business).checkout_session_id is None
    stripe_http.fail = None
    assert _post(http, "/billing/checkout", plan="monthly").status_code == 303


def test_an_unconfirmed_owner_confirms_her_email_before_paying(app, make, stripe_http):
    """AUTH-5: Checkout and the Portal wait for a confirmed e-mail address; nothing
    reaches Stripe and nothing is stored."""
    business = make.business("Ferretería Sin Confirmar")
    user = make.user(business, "owner", confirmed=False, language="en")
    http = app.test_client()
    login(http, user.email)
    for path, data in (("/billing/checkout", {"plan": "monthly"}), ("/billing/portal", {})):
        response = _post(http, path, **data)
        assert response.status_code == 303 and response.headers["Location"] == "/"
        assert "Confirm your e-mail address first" in http.get("/").get_data(as_text=True)
    assert stripe_http.requests == []
    assert stored(app, business) is None


def test_an_unknown_plan_is_a_404(owner, stripe_http):
    http, _b, _u = owner
    assert _post(http, "/billing/checkout", plan="lifetime").status_code == 404
    assert stripe_http.requests == []


def test_the_portal_opens_for_a_customer(app, owner, stripe_http):
    http, business, _user = owner
    response = _post(http, "/billing/portal")
    assert response.status_code == 303 and response.headers["Location"].endswith("/billing")
    assert stripe_http.requests == []
    subscription(app, business, status="active", stripe_subscription_id="sub_9",
                 current_period_end=utcnow() + timedelta(days=20), price_id=PRICE_MONTHLY)
    html = http.get("/billing").get_data(as_text=True)
    assert 'data-testid="portal"' in html and 'data-testid="checkout-monthly"' not in html
    assert "Monthly" in html or "Mensual" in html
    response = _post(http, "/billing/portal")
    assert response.headers["Location"].startswith("https://billing.stripe.com/p/session/")
    [call] = stripe_http.calls("POST", "/v1/billing_portal/sessions")
    assert call.params == {"customer": f"cus_{business.id}", "return_url": "http://fideliza.test/billing"}


@pytest.mark.parametrize("failure", ["down", "error"])
def test_a_stripe_outage_on_the_portal_shows_a_retry_message_not_a_500(app, owner, stripe_http, failure):
    http, business, _user = owner
    subscription(app, business, status="active", stripe_subscription_id="sub_9",
                 current_period_end=utcnow() + timedelta(days=20), price_id=PRICE_MONTHLY)
    before = stored(app, business)
    stripe_http.fail = failure
    response = _post(http, "/billing/portal")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert 'data-testid="billing-problem"' in html and str(escape(_retry_message(app, "es"))) in html
    assert 'data-testid="portal"' in html  # the button is there to try again
    assert stripe_http.calls("POST", "/v1/billing_portal/sessions")  # it did ask Stripe
    assert _fields(stored(app, business)) == _fields(before)  # nothing written
    stripe_http.fail = None
    assert _post(http, "/billing/portal").headers["Location"].startswith("https://billing.stripe.com/p/session/")


def _retry_message(app, locale: str) -> str:
    from flask_babel import force_locale

    from pymes.billing.routes import _retry_message as message

    with app.test_request_context(), force_locale(locale):
        return message()


def _fields(row) -> dict:
    return {k: v for k, v in vars(row).items() if not k.startswith("_")}


def test_a_subscribed_business_is_not_sent_to_checkout_again(app, owner, stripe_http):
    http, business, _user = owner
    subscription(app, business, status="active", stripe_subscription_id="sub_9")
    response = _post(http, "/billing/checkout", plan="monthly")
    assert response.status_code == 303 and response.headers["Location"].endswith("/billing")
    assert stripe_http.requests == []


def test_the_webhooks_are_the_only_csrf_exempt_routes(app, owner):
    """WEB-1: the two webhooks are the only routes without Flask-WTF's automatic CSRF
    check (Stripe and Meta sign them instead). Every other POST without the token is a 400, the client
    import's upload included (it raises its own body limit before the check runs)."""
    from pymes.extensions import csrf

    assert csrf._exempt_views == {"pymes.billing.routes.webhook", "pymes.whatsapp.webhook.receive"}
    assert csrf._exempt_blueprints == set()
    http, _b, _u = owner
    assert http.post("/clients/import", data={}).status_code == 400
    assert http.post("/billing/checkout", data={"plan": "monthly"}).status_code == 400
    assert http.post("/billing/portal").status_code == 400


def test_without_keys_billing_is_off(database, tmp_path, make):
    """A self-hosted installation: no billing pages, no banner, nothing read-only."""
    app_url, _owner = database
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app_url, "MAIL_OUTBOX_DIR": str(tmp_path),
                      "RATELIMIT_ENABLED": False})
    business = make.business()
    user = make.user(business, "owner")
    subscription(app, business, status="canceled")  # even a stale row from an earlier setup
    http = app.test_client()
    login(http, user.email)
    assert http.get("/billing").status_code == 404
    assert http.post("/billing/webhook", data="{}").status_code in (400, 404)
    html = http.get("/").get_data(as_text=True)
    assert 'data-testid="billing-banner"' not in html and "/billing" not in html
    token = csrf_token(http, "/")
    response = http.post("/clients/new", data={"csrf_token": token, "name": "Cliente libre"})
    assert response.status_code in (200, 303)
    from pymes.clients.models import Client

    with app.app_context(), bound(business.id):
        assert db.session.query(Client).filter_by(name="Cliente libre").count() == 1
        db.engine.dispose()
