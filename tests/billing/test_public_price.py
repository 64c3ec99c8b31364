"""Issue 19, point 6, with billing on: what the landing and sign-up pages promise is
what the billing flow does. Sign-up asks Stripe for nothing (no card), the trial runs
TRIAL_DAYS from sign-up, and 'pymes billing-check-prices' fails when the Stripe prices
charge something else than the page shows."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from pymes.accounts.models import Business, User
from pymes.billing import services as billing
from pymes.extensions import db
from pymes.tenancy import bound, identity_lookup

from ..factories import csrf_token
from .conftest import PRICE_MONTHLY, PRICE_YEARLY, FakeStripe


def test_sign_up_needs_no_card_and_starts_the_trial_the_page_promises(app, client, stripe_http):
    page = client.get("/signup").get_data(as_text=True).replace("\xa0", " ")
    assert "Gratis 14 días y sin tarjeta" in page
    response = client.post("/signup", data={
        "csrf_token": csrf_token(client, "/signup"), "business_name": "Panadería La Espiga", "name": "Rosa Díaz",
        "email": "rosa@example.com", "password": "una clave bien larga", "country": "CL", "currency": "CLP",
        "timezone": "America/Santiago", "language": "es"})
    assert response.status_code == 303
    assert stripe_http.requests == []  # no customer, no Checkout, no card: Stripe is not asked anything
    with app.app_context(), identity_lookup():
        user = db.session.execute(select(User).where(User.email == "rosa@example.com")).scalar_one()
        business = db.session.get(Business, user.tenant_id)
    with app.app_context(), bound(business.id):
        standing = billing.standing(business, None)
    assert standing.state == "trial" and not standing.read_only
    assert standing.trial_end - business.created_at == timedelta(days=app.config["TRIAL_DAYS"]) == timedelta(days=14)


class PricedStripe(FakeStripe):
    """The fake Stripe that also answers GET /v1/prices/<id>."""

    def __init__(self, prices: dict[str, dict]):
        super().__init__()
        self.prices = prices

    def _answer(self, method, path, params):
        if method == "GET" and path.startswith("/v1/prices/"):
            price = self.prices.get(path.rsplit("/", 1)[1])
            if price is not None:
                return json.dumps({"object": "price", **price}), 200, {}
        return super()._answer(method, path, params)


def _check(app, prices):
    app.extensions["stripe_http_client"] = PricedStripe(prices)
    return app.test_cli_runner().invoke(args=["pymes", "billing-check-prices"])


def test_the_price_check_passes_when_stripe_charges_what_the_page_shows(app):
    result = _check(app, {
        PRICE_MONTHLY: {"id": PRICE_MONTHLY, "unit_amount": 2900, "currency": "usd", "recurring": {"interval": "month"}},
        PRICE_YEARLY: {"id": PRICE_YEARLY, "unit_amount": 29000, "currency": "usd", "recurring": {"interval": "year"}},
    })
    assert result.exit_code == 0, result.output
    assert "match Stripe: $29 a month, $290 a year" in result.output


def test_the_price_check_fails_when_stripe_charges_something_else(app):
    result = _check(app, {
        PRICE_MONTHLY: {"id": PRICE_MONTHLY, "unit_amount": 3500, "currency": "usd", "recurring": {"interval": "month"}},
        PRICE_YEARLY: {"id": PRICE_YEARLY, "unit_amount": 29000, "currency": "usd", "recurring": {"interval": "year"}},
    })
    assert result.exit_code == 1
    assert "STRIPE_PRICE_MONTHLY charges 3500 (minor units), the page shows 2900" in result.output


def test_the_price_check_says_when_stripe_cannot_be_read(app):
    result = _check(app, {})  # Stripe answers 404 for both prices
    assert result.exit_code != 0 and "nothing was checked" in result.output


def test_the_billing_page_shows_the_same_price_on_its_buttons(app, client, make, stripe_http):
    from ..factories import login

    business = make.business()
    owner = make.user(business)
    login(client, owner.email)
    html = client.get("/billing").get_data(as_text=True).replace("\xa0", " ")
    monthly = re.search(r'data-testid="checkout-monthly">([^<]+)<', html).group(1)
    yearly = re.search(r'data-testid="checkout-yearly">([^<]+)<', html).group(1)
    assert monthly.endswith("· 29 US$") and yearly.endswith("· 290 US$")
