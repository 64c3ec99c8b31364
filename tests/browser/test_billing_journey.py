"""Issue 8 in the browser: the trial banner in its last days, the billing page, the
way to Stripe Checkout (intercepted: no test reaches the internet) and the state after
Stripe's webhook."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from pymes.db import utcnow

from ..billing.conftest import (
    FakeStripe,
    app_overrides,  # noqa: F401  (billing switched on with test keys)
    deliver,
    event,
    stored,
    subscription,
    subscription_object,
)
from .test_followup_journey import log_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_trial_banner_billing_page_and_checkout(browser, live_server, app, make, shoot, width):
    fake = FakeStripe()
    app.extensions["stripe_http_client"] = fake
    business = make.business("Librería Austral")
    owner = make.user(business, "owner", name="Ana Dueña")
    subscription(app, business, stripe_customer_id=None, trial_end=utcnow() + timedelta(days=3))
    context = browser.new_context(locale="es-CL", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.route("https://checkout.stripe.com/**",
               lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Stripe Checkout (test)</h1>"))
    prefix = f"billing-{width}"
    log_in(page, live_server, owner.email)

    banner = page.get_by_test_id("billing-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-state", "trial")
    expect(banner).to_contain_text(str((utcnow() + timedelta(days=3)).year))  # the trial's end date
    shoot(page, prefix, "trial-banner")
    page.goto(f"{live_server}/clients")
    expect(page.get_by_test_id("billing-banner")).to_be_visible()

    banner = page.get_by_test_id("billing-banner")
    banner.get_by_role("link").click()
    expect(page.get_by_test_id("billing-page")).to_be_visible()
    expect(page.get_by_test_id("billing-state")).to_have_attribute("data-state", "trial")
    shoot(page, prefix, "billing-page")

    page.get_by_test_id("checkout-monthly").click()
    expect(page.locator("h1")).to_have_text("Stripe Checkout (test)")
    assert page.url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert len(fake.calls("POST", "/v1/checkout/sessions")) == 1

    # Stripe confirms: the webhook makes the subscription active and the banner goes.
    customer = stored(app, business).stripe_customer_id
    obj = subscription_object("active", customer, period_end=int((utcnow() + timedelta(days=30)).timestamp()))
    assert deliver(app.test_client(), event("customer.subscription.created", obj,
                                            int(utcnow().timestamp()))).status_code == 200
    page.goto(f"{live_server}/billing")
    expect(page.get_by_test_id("billing-state")).to_have_attribute("data-state", "active")
    expect(page.get_by_test_id("billing-next")).to_be_visible()
    expect(page.get_by_test_id("portal")).to_be_visible()
    expect(page.get_by_test_id("billing-banner")).to_have_count(0)
    shoot(page, prefix, "subscribed")
    context.close()
