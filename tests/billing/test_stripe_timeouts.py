"""Short, bounded waits on Stripe: the real HTTP client Stripe's library uses (requests,
through ``stripe_api.BoundedSession``) pointed at a local server that accepts every
connection, reads the request and answers only much later. The page must give up on its
own timeouts, try exactly once more, and show the retry message."""
from __future__ import annotations

import contextlib
import json
import socket
import threading
from datetime import timedelta

import pytest

from pymes.billing import stripe_api
from pymes.db import utcnow

from ..factories import csrf_token, login
from .conftest import PRICE_MONTHLY, stored, subscription

LATE = 8.0  # seconds before the server finally answers: far beyond the test's timeouts


class SilentStripe:
    """Accepts, reads each request, stays silent for ``LATE`` seconds, then answers with
    a valid portal session (so a client without our timeouts would succeed, not hang).
    ``answers`` makes a path answer after a given delay instead."""

    def __init__(self):
        self.answers: dict[str, tuple[float, dict]] = {}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[str] = []  # request lines, in arrival order
        self.authorization: list[str] = []
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _addr = self.listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket):
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            self.requests.append(head[0])
            self.authorization += [h.split(":", 1)[1].strip() for h in head if h.lower().startswith("authorization:")]
            delay, answer = self.answers.get(head[0].split()[1], (LATE, {
                "id": "bps_late", "object": "billing_portal.session", "url": "https://billing.stripe.com/p/session/late"}))
            if self.stopped.wait(delay):
                return
            body = json.dumps(answer).encode()
            with contextlib.suppress(OSError):  # the client gave up long ago
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)

    def close(self):
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def silent_stripe(app):
    server = SilentStripe()
    app.config["STRIPE_API_BASE"] = server.url
    app.config["STRIPE_TIMEOUT"] = 0.6  # the read timeout, set short for the test
    yield server
    server.close()


@pytest.fixture
def customer_owner(app, make):
    business = make.business("Ferretería Lenta")
    user = make.user(business, "owner", language="en")
    subscription(app, business, status="active", stripe_subscription_id="sub_slow",
                 current_period_end=utcnow() + timedelta(days=20), price_id=PRICE_MONTHLY)
    http = app.test_client()
    login(http, user.email)
    return http, business


def _fields(row) -> dict:
    return {k: v for k, v in vars(row).items() if not k.startswith("_")}


def _portal(http):
    return http.post("/billing/portal", data={"csrf_token": csrf_token(http, "/billing")})


def test_defaults_are_short():
    """The documented bound: connect 2 s, answer 5 s, one retry, 9 s of Stripe per request."""
    from pymes.config import load

    assert load({})["STRIPE_TIMEOUT"] == 5
    assert (stripe_api.CONNECT_TIMEOUT, stripe_api.NETWORK_RETRIES, stripe_api.REQUEST_BUDGET) == (2.0, 1, 9.0)
    assert stripe_api.MIN_ATTEMPT + stripe_api.CONNECT_TIMEOUT + 5 <= stripe_api.REQUEST_BUDGET


def test_a_silent_stripe_times_out_retries_once_and_asks_to_try_again(app, silent_stripe, customer_owner):
    http, business = customer_owner
    before = stored(app, business)
    response = _portal(http)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert 'data-testid="billing-problem"' in html and "Try again in a minute" in html
    assert 'data-testid="portal"' in html  # the button is there to try again
    # Our client, our key, our retries: the first attempt and exactly one retry.
    assert silent_stripe.requests == ["POST /v1/billing_portal/sessions HTTP/1.1"] * 2
    assert silent_stripe.authorization == ["Bearer sk_test_not_a_real_key"] * 2
    assert _fields(stored(app, business)) == _fields(before)  # nothing written


def test_a_request_that_spent_its_stripe_budget_does_not_retry(app, silent_stripe, customer_owner, monkeypatch):
    """The first attempt (1.1 s) and the 0.5 s pause leave less than MIN_ATTEMPT (2 s) of
    a 3.5 s budget: no second attempt, the same retry message."""
    http, _business = customer_owner
    monkeypatch.setattr(stripe_api, "REQUEST_BUDGET", 3.5)
    app.config["STRIPE_TIMEOUT"] = 1.1
    response = _portal(http)
    assert response.status_code == 503
    assert 'data-testid="billing-problem"' in response.get_data(as_text=True)
    assert silent_stripe.requests == ["POST /v1/billing_portal/sessions HTTP/1.1"]


def test_checkout_calls_share_one_budget(app, silent_stripe, make, monkeypatch):
    """Checkout makes two calls (customer, then session) in one request. The customer
    comes back after 1.6 s, leaving less than MIN_ATTEMPT (2 s) of a 3.5 s budget: the
    session call is not even started, and nothing is stored."""
    monkeypatch.setattr(stripe_api, "REQUEST_BUDGET", 3.5)
    app.config["STRIPE_TIMEOUT"] = 2.5
    silent_stripe.answers["/v1/customers"] = (1.6, {"id": "cus_slow", "object": "customer"})
    business = make.business("Ferretería Nueva")
    user = make.user(business, "owner")
    http = app.test_client()
    login(http, user.email)
    response = http.post("/billing/checkout", data={"csrf_token": csrf_token(http, "/billing"), "plan": "monthly"})
    assert response.status_code == 503
    assert 'data-testid="billing-problem"' in response.get_data(as_text=True)
    assert silent_stripe.requests == ["POST /v1/customers HTTP/1.1"]
    row = stored(app, business)
    assert row is None or (row.stripe_customer_id is None and row.checkout_session_id is None)
