"""The one place the application talks to Stripe.

Every call goes through a ``stripe.StripeClient`` built per call from the app's settings.
Stripe's own default would wait 80 s, and a gunicorn worker waiting on Stripe serves no
one else, so the waits are short and bounded:

- ``CONNECT_TIMEOUT`` (2 s) to open the connection, ``STRIPE_TIMEOUT`` (5 s by default)
  for Stripe's answer (requests' read timeout: the longest silence between two bytes);
- ``NETWORK_RETRIES`` (1): Stripe's library tries once more after a network failure or
  an answer Stripe marks retryable, after sleeping 0.5 s. Safe, because every write
  carries an idempotency key;
- ``REQUEST_BUDGET`` (9 s): all of one web request's Stripe attempts (Checkout makes two
  calls, each may retry) share one deadline. An attempt starts only with at least
  ``MIN_ATTEMPT`` (2 s) left, and its timeouts are cut to fit the time left. So a web
  request waits on Stripe at most about 9 s, whatever Stripe does; then the page says
  "try again" (``StripeUnavailable``). Outside a request (``billing-sync``) each call
  has a budget of its own.

Tests replace Stripe's HTTP at the library's own boundary by putting a
``stripe.HTTPClient`` in ``app.extensions["stripe_http_client"]``, or point the client at
a local server with ``STRIPE_API_BASE`` (as one would at stripe-mock); nothing here knows
about tests."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

import requests
import stripe
from flask import current_app, g, has_request_context

CONNECT_TIMEOUT = 2.0
NETWORK_RETRIES = 1
REQUEST_BUDGET = 9.0
MIN_ATTEMPT = 2.0

T = TypeVar("T")


class StripeUnavailable(RuntimeError):
    """Stripe could not be reached or refused the call: the page says "try again"."""


class OutOfTime(RuntimeError):
    """This request has spent its time on Stripe. Not a ``requests`` error, so Stripe's
    library does not retry it: it becomes an ``APIConnectionError`` at once."""


class BoundedSession(requests.Session):
    """The ``requests`` session Stripe's ``RequestsClient`` sends every attempt through:
    each attempt gets the connect and read timeouts, cut to what is left before the
    deadline, and none starts with less than ``MIN_ATTEMPT`` left."""

    def __init__(self, deadline: float, read_timeout: float):
        super().__init__()
        self.deadline = deadline
        self.read_timeout = read_timeout

    def request(self, method, url, *args, **kwargs):
        left = self.deadline - time.monotonic()
        if left < MIN_ATTEMPT:
            raise OutOfTime(f"{left:.1f} s left for Stripe in this request")
        connect = min(CONNECT_TIMEOUT, left / 2)
        kwargs["timeout"] = (connect, min(self.read_timeout, left - connect))
        return super().request(method, url, *args, **kwargs)


def _deadline() -> float:
    """When this web request stops waiting on Stripe (set by its first call)."""
    if not has_request_context():
        return time.monotonic() + REQUEST_BUDGET
    if "stripe_deadline" not in g:
        g.stripe_deadline = time.monotonic() + REQUEST_BUDGET
    return g.stripe_deadline


def _http_client() -> stripe.HTTPClient:
    injected = current_app.extensions.get("stripe_http_client")
    if injected is not None:
        return injected
    session = BoundedSession(_deadline(), float(current_app.config["STRIPE_TIMEOUT"]))
    return stripe.RequestsClient(session=session)


def _call(method: Callable[[stripe.StripeClient], T]) -> T:
    """Run ``method`` with a fresh client; any Stripe failure becomes ``StripeUnavailable``."""
    config = current_app.config
    http = _http_client()
    base = config.get("STRIPE_API_BASE")
    client = stripe.StripeClient(config["STRIPE_SECRET_KEY"], http_client=http, max_network_retries=NETWORK_RETRIES,
                                 base_addresses={"api": base} if base else None)
    try:
        return method(client)
    except stripe.StripeError as error:
        current_app.logger.warning("stripe call failed: %s %s", type(error).__name__,
                                   getattr(error, "code", None) or "")
        raise StripeUnavailable(str(type(error).__name__)) from error
    finally:
        if http is not current_app.extensions.get("stripe_http_client"):
            http.close()


def create_customer(*, business_id: int, name: str, email: str) -> str:
    """A Stripe customer for the business; the key makes a retry return the same one."""
    customer = _call(lambda stripe_client: stripe_client.v1.customers.create(
        params={"name": name, "email": email, "metadata": {"business_id": str(business_id)}},
        options={"idempotency_key": f"pymes-customer-{business_id}"}))
    return customer.id


def create_checkout_session(*, params: dict, idempotency_key: str):
    """PAY-4: our own idempotency key, so a repeated request returns the same session."""
    return _call(lambda stripe_client: stripe_client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": idempotency_key}))


def create_portal_session(*, customer: str, return_url: str) -> str:
    session = _call(lambda stripe_client: stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer, "return_url": return_url}))
    return session.url


def latest_subscription(customer: str):
    """The customer's most recent subscription in any status, or None."""
    page = _call(lambda stripe_client: stripe_client.v1.subscriptions.list(
        params={"customer": customer, "status": "all", "limit": 1}))
    return page.data[0] if page.data else None


def retrieve_price(price_id: str):
    """A Price (unit_amount, currency, recurring.interval): what Checkout charges for it."""
    return _call(lambda stripe_client: stripe_client.v1.prices.retrieve(price_id))


def verify_event(payload: bytes, signature: str | None) -> stripe.Event:
    """PAY-1: raises ``stripe.SignatureVerificationError`` (or ``ValueError`` for a body
    that is not a JSON object) unless Stripe signed this exact body less than 300 s ago.
    The signature is checked before the body is read: Stripe's ``construct_event`` fails
    with an AttributeError on a signed JSON array (a 500, issue 20, finding 16)."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    stripe.WebhookSignature.verify_header(text, signature or "", current_app.config["STRIPE_WEBHOOK_SECRET"],
                                          tolerance=300)
    if not isinstance(json.loads(text), dict):
        raise ValueError("a Stripe event is a JSON object")
    return stripe.Webhook.construct_event(payload, signature, current_app.config["STRIPE_WEBHOOK_SECRET"],
                                          tolerance=300, api_key=current_app.config["STRIPE_SECRET_KEY"])
