"""Two-step log-in (TOTP + recovery codes; ASVS 5.0 L2, security.md's AUTH- section):
the session opens only after the code, a code counts once, a recovery code counts once,
codes are rate-limited per account and per address (AUTH-2's pattern), owners must
have it after a grace period they can see, and turning it off takes the password and a
code."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from pymes.accounts import mfa
from pymes.accounts.models import RecoveryCode, User, UserSession
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import PASSWORD, csrf_token, login, post


@pytest.fixture
def clock(monkeypatch):
    """The time the TOTP checks see, moved by the test (a code belongs to a 30-s step)."""

    class Clock:
        now = datetime.now(UTC).replace(microsecond=0)

        def advance(self, seconds: int) -> None:
            self.now += timedelta(seconds=seconds)

        def code(self, secret: str) -> str:
            return pyotp.TOTP(secret).at(self.now)

    clock = Clock()
    monkeypatch.setattr(mfa, "utcnow", lambda: clock.now)
    return clock


def turn_on(client, clock) -> tuple[str, list[str]]:
    """Through the settings pages, as a user would: scan (read the key), type a code."""
    page = client.get("/settings/security/setup")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="mfa-qr"' in html and 'src="data:image/svg+xml' in html
    secret = re.search(r'data-testid="mfa-secret">([^<]+)<', html).group(1).replace(" ", "")
    done = post(client, "/settings/security/setup", {"code": clock.code(secret), "password": PASSWORD},
                token_page="/settings/security/setup")
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>", done.get_data(as_text=True))
    assert len(set(codes)) == 10
    return secret, codes


def send_code(client, code: str, ip: str = "127.0.0.1"):
    return client.post("/login/code", data={"csrf_token": csrf_token(client, "/login/code"), "code": code},
                       environ_base={"REMOTE_ADDR": ip})


def logged_in(client) -> bool:
    return client.get("/settings/profile").status_code == 200


def sessions(app, user) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(UserSession)
                                  .where(UserSession.user_id == user.id)).scalar_one()


def test_happy_path_password_then_code_and_no_session_in_between(app, client, make, clock):
    _b, owner, _m, _s = make.team()
    login(client, owner.email)
    secret, _codes = turn_on(client, clock)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    before = sessions(app, owner)

    clock.advance(30)
    step = login(client, owner.email)
    assert step.status_code == 303 and step.headers["Location"].endswith("/login/code")
    # Half-way: the password is right but nothing opens, and no session row exists.
    assert not logged_in(client)
    assert client.get("/team").status_code == 302
    assert sessions(app, owner) == before
    assert client.get("/login/code").status_code == 200

    wrong = send_code(client, "000000" if clock.code(secret) != "000000" else "111111")
    assert wrong.status_code == 422 and "no es correcto" in wrong.get_data(as_text=True)
    assert not logged_in(client)

    ok = send_code(client, clock.code(secret))
    assert ok.status_code == 303
    assert logged_in(client)
    assert sessions(app, owner) == before + 1
    # The pending step is spent: its page now sends a logged-in user home.
    assert client.get("/login/code").status_code == 302


def test_the_secret_is_stored_encrypted_and_never_shown_again(app, client, make, clock):
    _b, owner, _m, _s = make.team()
    login(client, owner.email)
    secret, _codes = turn_on(client, clock)
    with app.app_context(), bound(owner.tenant_id):
        stored = db.session.get(User, owner.id)
        assert stored.mfa_secret.startswith("v1:") and secret not in stored.mfa_secret
        assert mfa.decrypt_secret(stored.mfa_secret) == secret
        hashes = db.session.execute(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == owner.id)).scalars()
        assert len(list(hashes)) == 10
    assert client.get("/settings/security/setup").status_code == 303  # no set-up page once it is on
    page = client.get("/settings/security").get_data(as_text=True)
    assert secret not in page and "10 códigos de recuperación" in page


def test_a_replayed_code_is_refused(app, make, clock):
    _b, owner, _m, _s = make.team()
    first = app.test_client()
    login(first, owner.email)
    secret, _codes = turn_on(first, clock)
    clock.advance(30)
    code = clock.code(secret)

    a = app.test_client()
    login(a, owner.email)
    assert send_code(a, code).status_code == 303

    # The same code again within its window (a second browser, a shoulder-surfer):
    b = app.test_client()
    login(b, owner.email)
    replay = send_code(b, code)
    assert replay.status_code == 422 and not logged_in(b)
    # The enrolment's code (the step before) is refused too: never an older step.
    clock.advance(29)
    assert send_code(b, pyotp.TOTP(secret).at(clock.now - timedelta(seconds=59))).status_code == 422
    # The next code works.
    clock.advance(1)
    assert send_code(b, clock.code(secret)).status_code == 303


def test_a_used_recovery_code_is_refused(app, make, clock):
    _b, owner, _m, _s = make.team()
    first = app.test_client()
    login(first, owner.email)
    _secret, codes = turn_on(first, clock)

    a = app.test_client()
    login(a, owner.email)
    used = send_code(a, codes[0].lower().replace("-", " "))  # as typed on a phone: lower case, spaces
    assert used.status_code == 303
    assert "9" in a.get("/settings/security").get_data(as_text=True)
    with app.app_context(), bound(owner.tenant_id):
        assert mfa.recovery_codes_left(db.session.get(User, owner.id)) == 9

    b = app.test_client()
    login(b, owner.email)
    again = send_code(b, codes[0])
    assert again.status_code == 422 and not logged_in(b)
    assert send_code(b, codes[1]).status_code == 303


def test_codes_are_limited_per_account_across_addresses(app, make, clock):
    _b, owner, _m, _s = make.team()
    first = app.test_client()
    login(first, owner.email)
    secret, _codes = turn_on(first, clock)
    clock.advance(30)
    wrong = "000000" if clock.code(secret) != "000000" else "111111"

    attacker = app.test_client()
    login(attacker, owner.email)
    for i in range(10):
        assert send_code(attacker, wrong, ip=f"10.2.0.{i}").status_code == 422
    # The eleventh try is refused whatever the address, even with the right code.
    assert send_code(attacker, clock.code(secret), ip="10.2.1.1").status_code == 429
    assert not logged_in(attacker)
    # The limit is the account's: another account's code step is not affected.
    _b2, other, _m2, _s2 = make.team()
    other_client = app.test_client()
    login(other_client, other.email)
    other_secret, _ = turn_on(other_client, clock)
    clock.advance(30)
    other_client.post("/logout", data={"csrf_token": csrf_token(other_client, "/")})
    login(other_client, other.email)
    assert send_code(other_client, clock.code(other_secret), ip="10.2.1.1").status_code == 303


def test_codes_are_limited_per_address(app, make, clock):
    _b, owner, _m, _s = make.team()
    first = app.test_client()
    login(first, owner.email)
    turn_on(first, clock)
    attacker = app.test_client()
    login(attacker, owner.email)
    statuses = [send_code(attacker, f"{i:06d}", ip="10.3.0.1").status_code for i in range(10)]
    assert 429 not in statuses
    assert send_code(attacker, "123456", ip="10.3.0.1").status_code == 429


def test_sellers_log_in_without_it_and_may_turn_it_on(app, client, make, clock):
    _b, _o, _m, seller = make.team()
    assert login(client, seller.email).headers["Location"].endswith("/")
    assert logged_in(client)
    page = client.get("/settings/security").get_data(as_text=True)
    assert "Activar la verificación en dos pasos" in page and "obligatoria" not in page
    secret, _ = turn_on(client, clock)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    clock.advance(30)
    assert login(client, seller.email).headers["Location"].endswith("/login/code")
    assert send_code(client, clock.code(secret)).status_code == 303


def test_owners_grace_period_is_shown_then_enforced(app, make, clock):
    business = make.business()
    due = clock.now + timedelta(days=5, hours=1)
    owner = make.user(business, "owner", mfa_due_at=due)
    client = app.test_client()
    # During the grace period: in with the password, told the date, and the days left shown.
    assert login(client, owner.email).headers["Location"].endswith("/")
    home = client.get("/").get_data(as_text=True)
    assert "verificación en dos pasos" in home
    security = client.get("/settings/security").get_data(as_text=True)
    assert 'data-testid="mfa-due"' in security and "Quedan 6 días." in security

    # The date passes while logged in: every page leads to the set-up first.
    clock.advance(int(timedelta(days=6).total_seconds()))
    blocked = client.get("/clients")
    assert blocked.status_code == 303 and blocked.headers["Location"].endswith("/settings/security/setup")

    # At the next log-in the session opens only once it is set up.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings/security")})
    fresh = app.test_client()
    step = login(fresh, owner.email)
    assert step.headers["Location"].endswith("/login/setup")
    assert not logged_in(fresh)
    html = fresh.get("/login/setup").get_data(as_text=True)
    secret = re.search(r'data-testid="mfa-secret">([^<]+)<', html).group(1).replace(" ", "")
    assert fresh.get("/clients").status_code == 302  # still not logged in
    done = fresh.post("/login/setup", data={"csrf_token": csrf_token(fresh, "/login/setup"),
                                            "code": clock.code(secret)})
    assert done.status_code == 200 and 'data-testid="recovery-codes"' in done.get_data(as_text=True)
    assert any(c.startswith("device=") for c in done.headers.getlist("Set-Cookie"))  # a known device from now on
    assert logged_in(fresh) and fresh.get("/clients").status_code == 200


def test_a_new_owner_gets_the_grace_period_and_a_promoted_one_too(app, client, make):
    from pymes.accounts import services

    business, owner, manager, _s = make.team()
    with app.app_context(), bound(business.id):
        before = datetime.now(UTC)
        actor, member = db.session.get(User, owner.id), db.session.get(User, manager.id)
        assert member.mfa_due_at is None  # managers are offered it, not required
        services.change_role(actor, member, "owner")
        member = db.session.get(User, manager.id)
        assert timedelta(days=13, hours=23) < member.mfa_due_at - before <= timedelta(days=14, seconds=5)
    page = client.get("/signup")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    client.post("/signup", data={"csrf_token": token, "business_name": "Nueva", "name": "Ana",
                                 "email": "ana-nueva@example.com", "password": "una frase larga y propia 42",
                                 "country": "CL", "currency": "CLP", "timezone": "America/Santiago",
                                 "language": "es"})
    with app.app_context():
        from pymes.accounts.services import find_user_by_email

        created = find_user_by_email("ana-nueva@example.com")
        assert created is not None and created.mfa_due_at - before > timedelta(days=13)


def test_turning_it_off_asks_for_the_password_and_a_code(app, client, make, clock):
    _b, owner, _m, _s = make.team()
    login(client, owner.email)
    secret, codes = turn_on(client, clock)
    clock.advance(30)

    def off(password, code):
        return client.post("/settings/security/disable", data={
            "csrf_token": csrf_token(client, "/settings/security"), "off-password": password, "off-code": code})

    wrong_password = off("not my password at all", clock.code(secret))
    assert wrong_password.status_code == 422 and "contraseña actual" in wrong_password.get_data(as_text=True)
    wrong_code = off(PASSWORD, "000000" if clock.code(secret) != "000000" else "111111")
    assert wrong_code.status_code == 422
    assert off(PASSWORD, "").status_code == 422
    with app.app_context(), bound(owner.tenant_id):
        assert mfa.enabled(db.session.get(User, owner.id))

    assert off(PASSWORD, codes[3]).status_code == 303  # a recovery code is enough as the second factor
    with app.app_context(), bound(owner.tenant_id):
        user = db.session.get(User, owner.id)
        assert not mfa.enabled(user) and user.mfa_secret is None
        assert db.session.execute(select(func.count()).select_from(RecoveryCode)
                                  .where(RecoveryCode.user_id == owner.id)).scalar_one() == 0
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, owner.email).headers["Location"].endswith("/")


def test_new_recovery_codes_replace_the_old_ones(app, client, make, clock):
    _b, owner, _m, _s = make.team()
    login(client, owner.email)
    secret, old = turn_on(client, clock)
    clock.advance(30)
    response = client.post("/settings/security/recovery-codes", data={
        "csrf_token": csrf_token(client, "/settings/security"), "codes-code": clock.code(secret)})
    new = re.findall(r"<code>([0-9A-Z-]{19})</code>", response.get_data(as_text=True))
    assert response.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, owner.email)
    assert send_code(client, old[0]).status_code == 422
    assert send_code(client, new[0]).status_code == 303


def test_an_old_secret_key_still_opens_the_secret(app):
    with app.app_context():
        sealed = mfa.encrypt_secret("JBSWY3DPEHPK3PXP")
        app.config["SECRET_KEY_FALLBACKS"] = [app.config["SECRET_KEY"]]
        app.config["SECRET_KEY"] = "a-new-secret-key-after-rotation-0123456789"
        assert mfa.decrypt_secret(sealed) == "JBSWY3DPEHPK3PXP"
        app.config["SECRET_KEY_FALLBACKS"] = []
        with pytest.raises(ValueError):
            mfa.decrypt_secret(sealed)


def test_an_owner_of_a_read_only_business_can_still_set_it_up_and_turn_it_off(app, make, clock):
    """A business scheduled for deletion is read-only (so is a lapsed one: the same list of
    allowed writes), but keeping the account secure stays possible."""
    from pymes.db import utcnow

    business = make.business(deletion_requested_at=utcnow())
    owner = make.user(business, "owner", mfa_due_at=clock.now - timedelta(days=1))
    client = app.test_client()
    assert login(client, owner.email).headers["Location"].endswith("/login/setup")
    html = client.get("/login/setup").get_data(as_text=True)
    secret = re.search(r'data-testid="mfa-secret">([^<]+)<', html).group(1).replace(" ", "")
    done = client.post("/login/setup", data={"csrf_token": csrf_token(client, "/login/setup"),
                                             "code": clock.code(secret)})
    assert done.status_code == 200 and logged_in(client)
    assert client.post("/settings/profile", data={"csrf_token": csrf_token(client, "/settings/profile"),
                                                   "profile-name": "X", "profile-language": "es"}).status_code == 403
    clock.advance(30)
    off = client.post("/settings/security/disable", data={
        "csrf_token": csrf_token(client, "/settings/security"), "off-password": PASSWORD,
        "off-code": clock.code(secret)})
    assert off.status_code == 303


def test_an_emailed_confirmation_link_is_no_second_factor(app, make, clock, outbox):
    """Confirming the address logs a user in, except one with two-step verification:
    the link proves the mailbox, not the phone."""
    business = make.business()
    owner = make.user(business, "owner", confirmed=False)
    client = app.test_client()
    login(client, owner.email)
    turn_on(client, clock)
    client.post("/confirm/resend", data={"csrf_token": csrf_token(client, "/")})
    path = outbox.link(owner.email, "/confirm/").removeprefix("http://fideliza.test")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    confirmed = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith("/login")
    assert not logged_in(client)
    with app.app_context(), bound(business.id):
        assert db.session.get(User, owner.id).email_confirmed


def test_turning_it_on_from_the_settings_asks_for_the_password_and_ends_other_sessions(app, make, clock):
    """AUTH-5: a session left open elsewhere cannot bind another phone without the
    password; once it is on, the account's other sessions must log in again."""
    _b, owner, _m, _s = make.team()
    elsewhere, here = app.test_client(), app.test_client()
    login(elsewhere, owner.email)
    login(here, owner.email)
    html = here.get("/settings/security/setup").get_data(as_text=True)
    secret = re.search(r'data-testid="mfa-secret">([^<]+)<', html).group(1).replace(" ", "")
    refused = post(here, "/settings/security/setup", {"code": clock.code(secret), "password": "not my password"},
                   token_page="/settings/security/setup")
    assert refused.status_code == 422 and "contraseña" in refused.get_data(as_text=True)
    with app.app_context(), bound(owner.tenant_id):
        assert not mfa.enabled(db.session.get(User, owner.id))
    assert post(here, "/settings/security/setup", {"code": clock.code(secret), "password": PASSWORD},
                token_page="/settings/security/setup").status_code == 200
    assert here.get("/agenda").status_code == 200
    assert elsewhere.get("/agenda").status_code in (302, 303)  # logged out there


def test_a_set_up_page_opened_by_someone_else_never_becomes_the_owner_s_secret(app, make, clock):
    """AUTH-5: whoever opens the set-up page (a stolen session, or a stolen password at the
    log-in's set-up step) sees a secret kept only in their own browser; the owner's own
    enrolment makes another, and nothing is stored on the account before a code confirms."""
    _b, owner, _m, _s = make.team()
    intruder, own = app.test_client(), app.test_client()
    login(intruder, owner.email)
    login(own, owner.email)
    seen = re.search(r'data-testid="mfa-secret">([^<]+)<',
                     intruder.get("/settings/security/setup").get_data(as_text=True)).group(1).replace(" ", "")
    with app.app_context(), bound(owner.tenant_id):
        assert db.session.get(User, owner.id).mfa_secret is None
    secret, _codes = turn_on(own, clock)
    assert secret != seen
    with app.app_context(), bound(owner.tenant_id):
        assert mfa.decrypt_secret(db.session.get(User, owner.id).mfa_secret) == secret
