"""A browser sends requests side by side: one that set out with the log-in page's cookie
(the favicon, a prefetch) and answers after the log-in must not replace the new session
cookie, or the user is logged out at once (SES-1; seen in CI as a flaky journey)."""
from ..factories import login


def test_a_late_anonymous_request_does_not_overwrite_the_login_cookie(app, client, make):
    user = make.user(make.business())
    client.get("/login")
    before_login = client.get_cookie("session").value  # what the favicon request carries
    assert login(client, user.email).status_code == 303

    late = app.test_client()
    late.set_cookie("session", before_login)
    for path in ("/favicon.ico", "/login", "/"):
        response = late.get(path)
        assert not response.headers.getlist("Set-Cookie"), f"{path} rewrote the cookie"
    assert client.get("/agenda").status_code == 200  # still logged in
