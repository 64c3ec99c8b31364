"""Stripe events in any order (issue 20, finding 2; PAY-3).

The review: with the business on an earlier subscription, ``deleted`` (t+40) of a new
subscription, then its ``created`` (t+0), then ``updated`` to active (t+10) left the
business active on a cancelled subscription; and 30 of 240 orderings of a five-event
lifecycle ended ``past_due`` instead of ``canceled``, each delivery recorded as applied
so that no retry could repair it. Every event now lands on its own subscription's line
(``stripe_subscriptions``) and the business's row is derived from those lines."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from pymes.billing.models import StripeSubscription
from pymes.extensions import db
from pymes.tenancy import bound

from .conftest import deliver, event, stored, subscription, subscription_object

T0 = 1_790_000_000
OLD = T0 - 90 * 86400


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _business(app, make, earlier: str | None):
    """A business with a Stripe customer, and an earlier subscription ``sub_old`` in
    ``earlier`` status (or none)."""
    business = make.business()
    make.user(business, "owner")
    fields = {}
    if earlier:
        fields = dict(status=earlier, stripe_subscription_id="sub_old", state_at=_at(OLD),
                      price_id="price_monthly_test")
    row = subscription(app, business, **fields)
    return business, row.stripe_customer_id


LIFECYCLE = [  # created → active → paid → past_due → deleted, of a new subscription sub_1
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


@pytest.mark.parametrize("earlier", [None, "canceled", "incomplete"])
def test_pay3_all_120_orderings_of_the_lifecycle_end_canceled(app, client, make, earlier):
    """360 orderings in all: a first subscription, one after an earlier that ended, and one
    after an abandoned Checkout (the review's 30 wrong endings were there)."""
    finals = set()
    orderings = list(itertools.permutations(range(5)))
    assert len(orderings) == 120
    for n, order in enumerate(orderings):
        business, cus = _business(app, make, earlier)
        for i in order:
            kind, status, created = LIFECYCLE[i]
            response = deliver(client, _lifecycle_event(kind, status, created, cus, f"{earlier}{n}"))
            assert response.status_code == 200 and response.json == {"result": "applied"}
        row = stored(app, business)
        finals.add((row.status, row.stripe_subscription_id, row.state_at, row.last_paid_at, row.past_due_since))
    assert finals == {("canceled", "sub_1", _at(T0 + 4), _at(T0 + 2), None)}


THREE = [("customer.subscription.deleted", "canceled", T0 + 40),
         ("customer.subscription.created", "incomplete", T0),
         ("customer.subscription.updated", "active", T0 + 10)]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_pay3_a_new_subscription_deleted_before_it_was_created_stays_deleted(app, client, make, order):
    """The review's case (deleted, created, updated) and every other order of the three:
    after an earlier subscription that ended, the business ends on the new one, canceled
    (read-only), never active on a cancelled subscription."""
    business, cus = _business(app, make, "canceled")
    for i in order:
        kind, status, created = THREE[i]
        deliver(client, event(kind, subscription_object(status, cus, sub="sub_new"), created))
    row = stored(app, business)
    assert (row.status, row.stripe_subscription_id, row.state_at) == ("canceled", "sub_new", _at(T0 + 40))
    with app.app_context(), bound(business.id):
        lines = {s.subscription_id: s.status for s in db.session.execute(select(StripeSubscription)).scalars()}
    assert lines == {"sub_old": "canceled", "sub_new": "canceled"}


def test_pay3_a_live_earlier_subscription_is_not_ended_by_another_ones_deletion(app, client, make):
    """The earlier subscription still active: a second one created and deleted (in the
    worst order) leaves the business active on the earlier one, not on the deleted one."""
    business, cus = _business(app, make, "active")
    for kind, status, created in THREE:
        deliver(client, event(kind, subscription_object(status, cus, sub="sub_new"), created))
    row = stored(app, business)
    assert (row.status, row.stripe_subscription_id) == ("active", "sub_old")


def test_pay3_an_older_event_never_overrides_and_a_deleted_one_never_revives(app, client, make):
    business, cus = _business(app, make, None)
    deliver(client, event("customer.subscription.updated", subscription_object("past_due", cus), T0 + 20))
    deliver(client, event("customer.subscription.updated", subscription_object("active", cus), T0 + 10))
    assert stored(app, business).status == "past_due"
    deliver(client, event("customer.subscription.deleted", subscription_object("canceled", cus), T0 + 30))
    # Stripe never revives a canceled subscription; a (forged-looking) later "active" changes nothing.
    deliver(client, event("customer.subscription.updated", subscription_object("active", cus), T0 + 50))
    row = stored(app, business)
    assert (row.status, row.state_at, row.past_due_since) == ("canceled", _at(T0 + 30), None)
