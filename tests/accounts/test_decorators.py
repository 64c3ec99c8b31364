"""The access vocabulary, tried on a throw-away route of each kind."""
import pytest

from pymes.accounts.decorators import confirmed_required, manager_required, owner_required, roles_required

from ..factories import login


@pytest.fixture
def guarded(app):
    @app.get("/_t/owner")
    @owner_required
    def only_owner():
        return "owner ok"

    @app.get("/_t/manager")
    @manager_required
    def only_manager():
        return "manager ok"

    @app.get("/_t/service")
    @roles_required("service", "owner")
    def service_desk():
        return "service ok"

    @app.get("/_t/confirmed")
    @confirmed_required
    def confirmed():
        return "confirmed ok"

    return app


@pytest.mark.parametrize("role, allowed", [
    ("owner", {"/_t/owner", "/_t/manager", "/_t/service"}),
    ("manager", {"/_t/manager"}),
    ("seller", set()),
    ("service", {"/_t/service"}),
])
def test_roles(guarded, make, role, allowed):
    business = make.business()
    user = make.user(business, role)
    client = guarded.test_client()
    login(client, user.email)
    for path in ("/_t/owner", "/_t/manager", "/_t/service"):
        assert client.get(path).status_code == (200 if path in allowed else 403), (role, path)


def test_anonymous_is_sent_to_log_in_and_back(guarded):
    response = guarded.test_client().get("/_t/manager")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_unconfirmed_email_waits_for_confirmation(guarded, make):
    business = make.business()
    pending = make.user(business, confirmed=False)
    done = make.user(business)
    c1, c2 = guarded.test_client(), guarded.test_client()
    login(c1, pending.email)
    login(c2, done.email)
    assert c1.get("/_t/confirmed").status_code == 303
    assert c2.get("/_t/confirmed").get_data(as_text=True) == "confirmed ok"
