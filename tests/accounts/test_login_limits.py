"""The per-account log-in limit (issue 20, finding 3; AUTH-2).

The per-account counter keys on the address as log-in normalises it (email-validator),
and it spares a browser that logged in to that account before (OWASP's device cookies):
ten wrong passwords typed by someone else lock out new devices, not the owner's phone."""
import itertools

from ..factories import PASSWORD, csrf_token

_ip = itertools.count(1)


def _attempt(client, email, password, ip=None):
    ip = ip or f"10.20.{next(_ip) // 250}.{next(_ip) % 250}"
    return client.post("/login", data={"csrf_token": csrf_token(client), "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def _phone_that_logged_in_before(app, email):
    phone = app.test_client()
    assert _attempt(phone, email, PASSWORD).status_code == 303
    phone.post("/logout", data={"csrf_token": csrf_token(phone, "/")})
    assert phone.get_cookie("device", path="/login") is not None
    return phone


def test_auth2_spellings_of_one_address_share_one_counter(app, make):
    """A full-width letter or capitals in the domain log in to the same account, so they
    count against it: no fresh counter per spelling."""
    user = make.user(make.business(), email="seller2@canaryb.example.com")
    spellings = ["seller2@ｃanaryb.example.com", "seller2@CANARYB.example.com", "Seller2@canaryb.example.com",
                 "seller2@canaryｂ.example.com", "seller2@ｃａｎａｒｙｂ.example.com"]
    for i in range(10):
        assert _attempt(app.test_client(), spellings[i % len(spellings)], "wrong password").status_code == 422
    assert _attempt(app.test_client(), user.email, PASSWORD).status_code == 429


def test_auth2_a_device_that_logged_in_before_is_not_locked_out(app, make):
    user = make.user(make.business())
    phone = _phone_that_logged_in_before(app, user.email)
    for _ in range(10):  # someone else, from many addresses
        assert _attempt(app.test_client(), user.email, "wrong password").status_code == 422
    assert _attempt(app.test_client(), user.email, PASSWORD).status_code == 429  # a new device waits
    assert _attempt(phone, user.email, PASSWORD).status_code == 303  # the owner's phone does not


def test_auth2_a_known_devices_own_failures_are_limited(app, make):
    user = make.user(make.business())
    phone = _phone_that_logged_in_before(app, user.email)
    for _ in range(10):
        assert _attempt(phone, user.email, "wrong password").status_code == 422
    assert _attempt(phone, user.email, PASSWORD).status_code == 429
    assert _attempt(app.test_client(), user.email, PASSWORD).status_code == 303  # others were not counted


def test_auth2_the_device_cookie_is_per_account_and_cannot_be_forged(app, make):
    business = make.business()
    mine, other = make.user(business), make.user(business)
    phone = _phone_that_logged_in_before(app, mine.email)
    for _ in range(10):
        assert _attempt(app.test_client(), other.email, "wrong password").status_code == 422
    assert _attempt(phone, other.email, PASSWORD).status_code == 429  # a device of another account
    forged = app.test_client()
    forged.set_cookie("device", phone.get_cookie("device", path="/login").value[:-3] + "abc", path="/login")
    assert _attempt(forged, other.email, PASSWORD).status_code == 429
