"""PAY-1..3: the Stripe webhook, signed here with the test secret and delivered to the
real endpoint."""
from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from pymes.billing.models import StripeEvent
from pymes.extensions import db
from pymes.tenancy import bound

from .conftest import deliver, event, signature, stored, subscription, subscription_object

T0 = 1_790_000_000  # a fixed Stripe timestamp; the order of events is what matters


def _events(app, business) -> int:
    with app.app_context(), bound(business.id):
        return db.session.execute(select(func.count()).select_from(StripeEvent)).scalar_one()


@pytest.fixture
def customer(app, make):
    business = make.business("Suscriptora")
    make.user(business, "owner")
    row = subscription(app, business)
    return business, row.stripe_customer_id


def test_a_signed_event_updates_the_business(app, client, customer):
    business, cus = customer
    response = deliver(client, event("customer.subscription.updated",
                                     subscription_object("active", cus, period_end=T0 + 30 * 86400), T0))
    assert response.status_code == 200
    assert response.json == {"result": "applied"}
    row = stored(app, business)
    assert row.status == "active"
    assert row.stripe_subscription_id == "sub_1"
    assert row.current_period_end == datetime.fromtimestamp(T0 + 30 * 86400, UTC)
    assert row.price_id == "price_monthly_test"


def _tampered(kind: str, payload: str) -> tuple[str, str]:
    """(body, Stripe-Signature) for one kind of forgery."""
    if kind == "wrong secret":
        return payload, signature(payload, secret="whsec_someone_else")
    if kind == "changed byte":
        i = payload.index('"canceled"') + 1  # one byte: the status Stripe signed
        return payload[:i] + "C" + payload[i + 1:], signature(payload)
    if kind == "old timestamp":
        return payload, signature(payload, timestamp=int(time.time()) - 301)
    if kind == "no signature":
        return payload, ""
    if kind == "garbage header":
        return payload, "t=abc,v1=zzz"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["wrong secret", "changed byte", "old timestamp", "no signature",
                                  "garbage header"])
def test_a_forged_or_stale_delivery_is_refused_and_writes_nothing(app, client, customer, kind):
    """PAY-1: 400 and nothing written."""
    business, cus = customer
    payload = json.dumps(event("customer.subscription.deleted", subscription_object("canceled", cus), T0))
    body, header = _tampered(kind, payload)
    assert body != payload or kind != "changed byte"
    response = client.post("/billing/webhook", data=body, content_type="application/json",
                           headers={"Stripe-Signature": header} if header else {})
    assert response.status_code == 400
    assert stored(app, business).status == "trialing"
    assert _events(app, business) == 0


def test_a_timestamp_just_inside_the_tolerance_is_accepted(app, client, customer):
    business, cus = customer
    response = deliver(client, event("customer.subscription.updated", subscription_object("active", cus), T0),
                       timestamp=int(time.time()) - 240)
    assert response.status_code == 200
    assert stored(app, business).status == "active"


def test_unknown_events_and_customers_are_acknowledged_and_ignored(app, client, customer):
    business, cus = customer
    for evt in (event("charge.refunded", {"id": "ch_1", "object": "charge", "customer": cus}, T0),
                event("customer.subscription.updated", subscription_object("canceled", "cus_stranger"), T0),
                event("customer.subscription.updated", {"id": "sub_x", "object": "subscription"}, T0)):
        response = deliver(client, evt)
        assert response.status_code == 200
        assert response.json == {"result": "ignored"}
    assert stored(app, business).status == "trialing"
    assert _events(app, business) == 0


def test_a_replayed_event_has_one_effect(app, client, customer):
    """PAY-2: the same event three times → applied once, then recognised."""
    business, cus = customer
    evt = event("customer.subscription.updated", subscription_object("past_due", cus), T0)
    results = [deliver(client, evt).json["result"] for _ in range(3)]
    assert results == ["applied", "duplicate", "duplicate"]
    assert _events(app, business) == 1
    row = stored(app, business)
    assert row.status == "past_due"
    assert row.past_due_since == datetime.fromtimestamp(T0, UTC)


@pytest.mark.postgres
def test_ten_concurrent_deliveries_have_one_effect(app, customer, database):
    """PAY-2 under concurrency: ten simultaneous deliveries, one applies, none fails.
    Only on PostgreSQL: SQLite lets one writer in at a time, so nothing would race."""
    if database[1].dialect.name != "postgresql":
        pytest.skip("concurrent deliveries race only on PostgreSQL (set TEST_DATABASE_URL)")
    business, cus = customer
    evt = event("customer.subscription.updated", subscription_object("active", cus), T0)
    barrier = threading.Barrier(10)
    answers = []

    def send():
        http = app.test_client()
        barrier.wait()
        response = deliver(http, evt)
        answers.append((response.status_code, (response.json or {}).get("result")))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [code for code, _r in answers] == [200] * 10
    assert sorted(r for _c, r in answers) == ["applied"] + ["duplicate"] * 9
    assert _events(app, business) == 1
    assert stored(app, business).status == "active"


LIFECYCLE = [  # created → active → paid → past_due → deleted, one second apart
    ("customer.subscription.created", "incomplete", T0),
    ("customer.subscription.updated", "active", T0 + 1),
    ("invoice.paid", None, T0 + 2),
    ("customer.subscription.updated", "past_due", T0 + 3),
    ("customer.subscription.deleted", "canceled", T0 + 4),
]


def _lifecycle_event(kind, status, created, cus, tag):
    if status is None:
        obj = {"id": "in_1", "object": "invoice", "customer": cus, "status": "paid",
               "status_transitions": {"paid_at": created}}
    else:
        obj = subscription_object(status, cus, period_end=T0 + 30 * 86400)
    return event(kind, obj, created, event_id=f"evt_{tag}_{kind}_{status}")


def test_every_ordering_of_the_lifecycle_ends_canceled(app, client, customer):
    """PAY-3: all 120 orderings of the five events end in the same, right state."""
    business, cus = customer
    finals = set()
    orderings = list(itertools.permutations(range(5)))
    assert len(orderings) == 120
    for n, order in enumerate(orderings):
        with app.app_context(), bound(business.id):
            from pymes.billing.models import StripeSubscription, Subscription

            db.session.execute(StripeSubscription.__table__.delete())  # each ordering starts afresh
            row = db.session.execute(select(Subscription)).scalar_one()
            row.status, row.stripe_subscription_id, row.state_at = "trialing", None, None
            row.last_paid_at = row.past_due_since = row.current_period_end = None
            db.session.commit()
        for i in order:
            kind, status, created = LIFECYCLE[i]
            assert deliver(client, _lifecycle_event(kind, status, created, cus, n)).status_code == 200
        row = stored(app, business)
        finals.add((row.status, row.stripe_subscription_id, row.state_at, row.last_paid_at, row.past_due_since))
    assert finals == {("canceled", "sub_1", datetime.fromtimestamp(T0 + 4, UTC),
                       datetime.fromtimestamp(T0 + 2, UTC), None)}


def test_a_late_old_event_does_not_undo_a_newer_state(app, client, customer):
    business, cus = customer
    deliver(client, event("customer.subscription.updated", subscription_object("active", cus), T0 + 10))
    deliver(client, event("customer.subscription.updated", subscription_object("past_due", cus), T0))
    assert stored(app, business).status == "active"


def test_a_new_subscription_after_a_cancellation_takes_over(app, client, customer):
    business, cus = customer
    deliver(client, event("customer.subscription.deleted", subscription_object("canceled", cus, sub="sub_old"), T0))
    deliver(client, event("customer.subscription.created", subscription_object("active", cus, sub="sub_new"), T0 + 5))
    # The old subscription's cancellation, delivered again late with a later stamp, ends nothing.
    deliver(client, event("customer.subscription.deleted", subscription_object("canceled", cus, sub="sub_old"),
                          T0 + 9))
    row = stored(app, business)
    assert (row.status, row.stripe_subscription_id) == ("active", "sub_new")
