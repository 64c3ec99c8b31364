"""Billing tests: billing switched on with test keys, Stripe's HTTP replaced at the
library's own client boundary, events signed here with the test webhook secret."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from pymes.billing.models import Subscription
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound

WEBHOOK_SECRET = "whsec_test_secret_for_signing_only"
PRICE_MONTHLY = "price_monthly_test"
PRICE_YEARLY = "price_yearly_test"
_ids = itertools.count(1)


@pytest.fixture
def app_overrides():
    return {"STRIPE_SECRET_KEY": "sk_test_not_a_real_key", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_PRICE_MONTHLY": PRICE_MONTHLY, "STRIPE_PRICE_YEARLY": PRICE_YEARLY}


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    params: dict  # form fields, single values: {"line_items[0][price]": "price_…"}


class FakeStripe(stripe.HTTPClient):
    """Stands in for api.stripe.com: records every request, answers like Stripe (an
    idempotency key seen before returns the first answer again), or fails on demand."""

    name = "fake"

    def __init__(self):
        super().__init__()
        self.requests: list[Request] = []
        self.fail: str | None = None  # "down" (no connection) or "error" (Stripe answers 500)
        self.subscriptions: dict[str, dict] = {}  # customer → its latest subscription
        self._by_key: dict[str, tuple] = {}

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or parts.query)
        params = {k: v[0] for k, v in parse_qs(raw or "").items()}
        self.requests.append(Request(method.upper(), parts.path, dict(headers or {}), params))
        if self.fail == "down":
            raise stripe.APIConnectionError("connection refused (test)", should_retry=False)
        if self.fail == "error":
            return json.dumps({"error": {"type": "api_error", "message": "test outage"}}), 500, {}
        key = (headers or {}).get("Idempotency-Key")
        if method.upper() == "POST" and key and key in self._by_key:
            return self._by_key[key]
        response = self._answer(method.upper(), parts.path, params)
        if method.upper() == "POST" and key:
            self._by_key[key] = response
        return response

    def _answer(self, method, path, params):
        n = next(_ids)
        if (method, path) == ("POST", "/v1/customers"):
            body = {"id": f"cus_test_{n}", "object": "customer"}
        elif (method, path) == ("POST", "/v1/checkout/sessions"):
            body = {"id": f"cs_test_{n}", "object": "checkout.session",
                    "url": f"https://checkout.stripe.com/c/pay/cs_test_{n}"}
        elif (method, path) == ("POST", "/v1/billing_portal/sessions"):
            body = {"id": f"bps_{n}", "object": "billing_portal.session",
                    "url": f"https://billing.stripe.com/p/session/test_{n}"}
        elif (method, path) == ("GET", "/v1/subscriptions"):
            found = self.subscriptions.get(params.get("customer"))
            body = {"object": "list", "url": "/v1/subscriptions", "has_more": False,
                    "data": [found] if found else []}
        else:
            return json.dumps({"error": {"type": "invalid_request_error", "message": "unknown"}}), 404, {}
        return json.dumps(body), 200, {"Request-Id": f"req_{n}"}

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def close(self):
        pass


@pytest.fixture
def stripe_http(app):
    fake = FakeStripe()
    app.extensions["stripe_http_client"] = fake
    return fake


def subscription(app, business, **fields) -> Subscription:
    """Give ``business`` a stored subscription row (customer ``cus_<id>`` by default)."""
    values = dict(status="trialing", stripe_customer_id=f"cus_{business.id}",
                  trial_end=utcnow() + timedelta(days=10))
    values.update(fields)
    with app.app_context(), bound(business.id):
        row = Subscription(tenant_id=business.id, **values)
        db.session.add(row)
        db.session.commit()
        db.session.refresh(row)
        db.session.expunge(row)
        return row


def stored(app, business) -> Subscription | None:
    from sqlalchemy import select

    with app.app_context(), bound(business.id):
        row = db.session.execute(select(Subscription)).scalar_one_or_none()
        if row is not None:
            db.session.expunge(row)
        return row


def signature(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme: ``t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<body>")``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def deliver(http, event: dict, **sign):
    payload = json.dumps(event)
    return http.post("/billing/webhook", data=payload, content_type="application/json",
                     headers={"Stripe-Signature": signature(payload, **sign)})


def subscription_object(status: str, customer: str, sub: str = "sub_1", period_end: int | None = None,
                        price: str = PRICE_MONTHLY, **extra) -> dict:
    return {"id": sub, "object": "subscription", "customer": customer, "status": status,
            "cancel_at_period_end": False, "trial_end": None,
            "items": {"object": "list", "data": [{
                "id": "si_1", "object": "subscription_item", "current_period_end": period_end,
                "price": {"id": price, "object": "price"}}]},
            **extra}


def event(kind: str, obj: dict, created: int, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_{next(_ids)}", "object": "event", "type": kind, "created": created,
            "api_version": "2026-10-28.endive", "data": {"object": obj}}
