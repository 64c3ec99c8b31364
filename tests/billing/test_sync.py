"""``flask pymes billing-sync``: re-reads subscriptions from Stripe and repairs a state
a missed webhook left stale."""
from __future__ import annotations

from pymes import create_app

from .conftest import stored, subscription, subscription_object


def test_sync_repairs_a_missed_cancellation(app, make, stripe_http):
    stale = make.business("Webhook perdido")
    fine = make.business("Al día")
    no_customer = make.business("Sin cliente")
    subscription(app, stale, status="active", stripe_subscription_id="sub_1")
    subscription(app, fine, status="active", stripe_subscription_id="sub_2")
    subscription(app, no_customer, stripe_customer_id=None)
    stripe_http.subscriptions[f"cus_{stale.id}"] = subscription_object("canceled", f"cus_{stale.id}", sub="sub_1")
    stripe_http.subscriptions[f"cus_{fine.id}"] = subscription_object("active", f"cus_{fine.id}", sub="sub_2")

    result = app.test_cli_runner().invoke(args=["pymes", "billing-sync"])
    assert result.exit_code == 0, result.output
    assert "2 subscriptions checked, 1 repaired" in result.output
    assert stored(app, stale).status == "canceled"
    assert stored(app, fine).status == "active"
    reads = stripe_http.calls("GET", "/v1/subscriptions")
    assert sorted(r.params["customer"] for r in reads) == sorted([f"cus_{stale.id}", f"cus_{fine.id}"])
    assert all(r.params["status"] == "all" for r in reads)


def test_sync_with_stripe_down_changes_nothing_and_says_so(app, make, stripe_http):
    business = make.business()
    subscription(app, business, status="active", stripe_subscription_id="sub_1")
    stripe_http.fail = "down"
    result = app.test_cli_runner().invoke(args=["pymes", "billing-sync"])
    assert result.exit_code == 1
    assert "could not be read" in result.output
    assert stored(app, business).status == "active"


def test_sync_refuses_without_keys(database, tmp_path):
    app_url, _owner = database
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app_url, "MAIL_OUTBOX_DIR": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["pymes", "billing-sync"])
    assert result.exit_code != 0 and "Billing is off" in result.output
