"""Password reset links after a reset or a password change, and the forgot-password
timing (issue 20, findings 6 and 7; AUTH-3, AUTH-4)."""
import re

from ..factories import PASSWORD, csrf_token, login, statements
from .test_reset import ask_reset, reset

BASE = "http://fideliza.test"


def _links(outbox, email):
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in outbox.messages() if m["To"] == email]
    return [link.removeprefix(BASE) for body in bodies for link in re.findall(r"https?://\S+/password/reset/\S+", body)]


def test_auth4_a_reset_kills_every_other_outstanding_reset_link(client, make, outbox, app):
    user = make.user(make.business())
    ask_reset(client, user.email)
    ask_reset(client, user.email)
    first, second = _links(outbox, user.email)
    assert reset(client, second).status_code == 303
    assert app.test_client().get(first).status_code == 410
    assert reset(app.test_client(), first, "someone else's new password").status_code == 410
    assert login(app.test_client(), user.email, "someone else's new password").status_code == 422


def test_auth4_a_password_change_kills_outstanding_reset_links(client, make, outbox, app):
    user = make.user(make.business())
    ask_reset(app.test_client(), user.email)
    [link] = _links(outbox, user.email)
    login(client, user.email)
    changed = client.post("/settings/password", data={
        "csrf_token": csrf_token(client, "/settings/profile"), "password-current_password": PASSWORD,
        "password-password": "a brand new password"})
    assert changed.status_code == 303
    assert reset(app.test_client(), link, "the attacker's new password").status_code == 410


def test_auth3_forgot_password_does_the_same_work_for_known_and_unknown_addresses(client, make, outbox, app):
    """The answer goes out after the same work (the form's check, a redirect); the
    look-up, the token and the e-mail run once it is sent. Counted in SQL statements
    and e-mails written before the answer, not in milliseconds."""
    user = make.user(make.business())
    token = csrf_token(client, "/password/forgot")
    seen = {}
    for email in (user.email, "nobody@example.com"):
        mails = len(outbox.messages())
        with statements(app) as sql:
            response = client.post("/password/forgot", data={"csrf_token": token, "email": email})
            seen[email] = (response.status_code, response.headers["Location"], len(sql),
                           len(outbox.messages()) - mails)
        response.close()  # the server, once the answer is sent
    assert seen[user.email] == seen["nobody@example.com"] == (303, "/check-email/reset", 0, 0)
    assert [m["To"] for m in outbox.messages()] == [user.email]  # sent after the answer
