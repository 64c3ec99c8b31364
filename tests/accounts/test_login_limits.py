"""The per-account log-in limit (issue 20, finding 3; AUTH-2).

The per-account counter keys on the address as log-in normalises it (email-validator),
and it spares a browser that logged in to that account before (OWASP's device cookies):
ten wrong passwords typed by someone else lock out new devices, not the owner's phone."""
import itertools

from ..factories import PASSWORD, csrf_token
from .test_two_step import clock, send_code, turn_on  # noqa: F401  (clock: the fixture)

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



def test_auth2_a_password_without_its_two_step_code_earns_no_device_cookie(app, make, clock):  # noqa: F811
    """Only a complete log-in makes a known device: a password without the two-step code
    earns no device cookie, so someone who stole it stays limited like any new device."""
    user = make.user(make.business())
    owner_browser = app.test_client()
    assert _attempt(owner_browser, user.email, PASSWORD).status_code == 303
    secret, _codes = turn_on(owner_browser, clock)
    owner_browser.post("/logout", data={"csrf_token": csrf_token(owner_browser, "/")})

    other = app.test_client()
    step = _attempt(other, user.email, PASSWORD)
    assert step.status_code == 303 and step.headers["Location"].endswith("/login/code")
    assert other.get_cookie("device", path="/login") is None
    clock.advance(30)
    assert send_code(other, clock.code(secret)).status_code == 303  # with the code: a complete log-in
    assert other.get_cookie("device", path="/login") is not None
