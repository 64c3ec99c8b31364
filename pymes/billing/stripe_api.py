"""The one place the application talks to Stripe.

Calls go through a ``stripe.StripeClient`` built per call from the app's settings, with
short timeouts and one network retry (safe: every write carries an idempotency key).
Tests replace Stripe's HTTP at the library's own boundary by putting an
``stripe.HTTPClient`` in ``app.extensions["stripe_http_client"]``; nothing here
knows about tests."""
from __future__ import annotations

import stripe
from flask import current_app


class StripeUnavailable(RuntimeError):
    """Stripe could not be reached or refused the call: the page says "try again"."""


def _http_client() -> stripe.HTTPClient:
    injected = current_app.extensions.get("stripe_http_client")
    if injected is not None:
        return injected
    timeout = current_app.config["STRIPE_TIMEOUT"]
    return stripe.RequestsClient(timeout=(min(3.0, timeout), timeout))


def client() -> stripe.StripeClient:
    return stripe.StripeClient(current_app.config["STRIPE_SECRET_KEY"], http_client=_http_client(),
                               max_network_retries=1)


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as error:
        current_app.logger.warning("stripe call failed: %s %s", type(error).__name__,
                                   getattr(error, "code", None) or "")
        raise StripeUnavailable(str(type(error).__name__)) from error


def create_customer(*, business_id: int, name: str, email: str) -> str:
    """A Stripe customer for the business; the key makes a retry return the same one."""
    customer = _call(client().v1.customers.create,
                     params={"name": name, "email": email, "metadata": {"business_id": str(business_id)}},
                     options={"idempotency_key": f"pymes-customer-{business_id}"})
    return customer.id


def create_checkout_session(*, params: dict, idempotency_key: str):
    """PAY-4: our own idempotency key, so a repeated request returns the same session."""
    return _call(client().v1.checkout.sessions.create, params=params,
                 options={"idempotency_key": idempotency_key})


def create_portal_session(*, customer: str, return_url: str) -> str:
    session = _call(client().v1.billing_portal.sessions.create,
                    params={"customer": customer, "return_url": return_url})
    return session.url


def latest_subscription(customer: str):
    """The customer's most recent subscription in any status, or None."""
    page = _call(client().v1.subscriptions.list, params={"customer": customer, "status": "all", "limit": 1})
    return page.data[0] if page.data else None


def verify_event(payload: bytes, signature: str | None) -> stripe.Event:
    """PAY-1: raises ``stripe.SignatureVerificationError`` (or ``ValueError`` for a body
    that is not JSON) unless Stripe signed this exact body less than 300 s ago."""
    return stripe.Webhook.construct_event(payload, signature, current_app.config["STRIPE_WEBHOOK_SECRET"],
                                          tolerance=300, api_key=current_app.config["STRIPE_SECRET_KEY"])
