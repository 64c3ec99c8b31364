"""A lapsed account is read-only, yet a client's revoked consent is still honoured: the
testimonial leaves the wall at once."""
from __future__ import annotations

import pytest

from pymes.referrals import services as referrals
from pymes.tenancy import bound

from ..billing.conftest import subscription
from ..factories import csrf_token, login


@pytest.fixture
def app_overrides():
    from ..billing.conftest import PRICE_MONTHLY, PRICE_YEARLY, WEBHOOK_SECRET

    return {"STRIPE_SECRET_KEY": "sk_test_not_a_real_key", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_PRICE_MONTHLY": PRICE_MONTHLY, "STRIPE_PRICE_YEARLY": PRICE_YEARLY}


def test_a_lapsed_account_can_still_take_a_testimonial_down(app, make):
    business, _owner, manager, seller = make.team("Negocio Vencido")
    subscription(app, business, status="canceled", stripe_subscription_id="sub_1")
    ana = make.client(business, "Ana Fuentes", seller_id=seller.id)
    tid = make.testimonial(business, ana, "Muy buenos", status="approved").id
    with app.app_context(), bound(business.id):
        key = referrals.referral_settings().wall_key
    assert "Muy buenos" in app.test_client().get(f"/w/{key}").get_data(as_text=True)
    http = app.test_client()
    login(http, manager.email)
    token = csrf_token(http, "/testimonials")
    assert http.post(f"/testimonials/{tid}/review", data={"csrf_token": token, "decision": "rejected"}
                     ).status_code == 403  # read-only: an ordinary change is refused
    answer = http.post(f"/testimonials/{tid}/revoke", data={"csrf_token": token})
    assert answer.status_code == 303
    wall = app.test_client().get(f"/w/{key}").get_data(as_text=True)
    assert "Muy buenos" not in wall
