"""A validly signed webhook whose body is not an event (issue 20, finding 16; PAY-1):
a JSON array, a string, a number, an event whose ``data`` is not an object. Stripe
never sends these; whoever holds the secret could. A 400 (or an ignored event), never a
500, and nothing written."""
import json

import pytest
from sqlalchemy import func, select

from pymes.billing.models import StripeEvent
from pymes.extensions import db
from pymes.tenancy import bound

from .conftest import signature, stored, subscription


@pytest.mark.parametrize("body", [[], [{"id": "evt_1"}], "evt", 5, None])
def test_pay1_a_signed_body_that_is_not_an_object_is_a_400(app, client, body):
    payload = json.dumps(body)
    response = client.post("/billing/webhook", data=payload, content_type="application/json",
                           headers={"Stripe-Signature": signature(payload)})
    assert response.status_code == 400


@pytest.mark.parametrize("data", [[], "x", {"object": [1, 2]}, {"object": "sub_1"}])
def test_pay1_a_signed_event_with_a_strange_data_field_is_ignored(app, client, make, data):
    business = make.business()
    row = subscription(app, business)
    payload = json.dumps({"id": "evt_odd", "object": "event", "type": "customer.subscription.updated",
                          "created": "yesterday", "data": data})
    response = client.post("/billing/webhook", data=payload, content_type="application/json",
                           headers={"Stripe-Signature": signature(payload)})
    assert response.status_code == 200 and response.json == {"result": "ignored"}
    assert stored(app, business).status == row.status
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(func.count()).select_from(StripeEvent)).scalar_one() == 0
