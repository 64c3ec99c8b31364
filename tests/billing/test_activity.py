"""A subscription's change of state lands in the owner's activity log (issue 20); a
repeated or older event that changes nothing adds no line."""
from __future__ import annotations

from sqlalchemy import select

from pymes.audit.models import AuditEvent
from pymes.extensions import db
from pymes.tenancy import bound

from .conftest import deliver, event, subscription, subscription_object

T0 = 1_790_000_000


def _logged(app, business):
    with app.app_context(), bound(business.id):
        return [(e.action, e.subject, e.details) for e in db.session.execute(
            select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def test_billing_changes_are_in_the_activity_log(app, client, make):
    business = make.business("Suscriptora")
    make.user(business, "owner")
    cus = subscription(app, business).stripe_customer_id
    assert deliver(client, event("customer.subscription.updated",
                                 subscription_object("active", cus, period_end=T0 + 30 * 86400), T0)).status_code == 200
    assert _logged(app, business) == [("billing", "Stripe", {"status": "active", "was": "trialing"})]
    # Older news about the same subscription changes nothing, and logs nothing.
    deliver(client, event("customer.subscription.updated",
                          subscription_object("past_due", cus, period_end=T0 + 30 * 86400), T0 - 60))
    assert len(_logged(app, business)) == 1
    deliver(client, event("customer.subscription.updated",
                          subscription_object("past_due", cus, period_end=T0 + 30 * 86400), T0 + 60))
    assert _logged(app, business)[-1] == ("billing", "Stripe", {"status": "past_due", "was": "active"})
