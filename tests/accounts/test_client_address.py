"""The client's address behind a reverse proxy (issue 20, finding 1; AUTH-2, TOK-3).

Rate limits key on the client's address. Behind the README's nginx every request comes
from 127.0.0.1; with ``TRUSTED_PROXIES=1`` the address is the one nginx appended to
X-Forwarded-For, and with the default 0 a client's own X-Forwarded-For is ignored (it
cannot buy itself a fresh bucket)."""
import pytest

from pymes import config as config_module

from ..factories import csrf_token

NGINX = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture
def app_overrides(request):
    return {"TRUSTED_PROXIES": getattr(request, "param", 0)}


def _failed_login(app, forwarded_for: str | None, email: str = "nobody@example.com"):
    client = app.test_client()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = csrf_token(client)
    return client.post("/login", data={"csrf_token": token, "email": email, "password": "wrong password"},
                       headers=headers, environ_base=NGINX)


@pytest.mark.parametrize("app_overrides", [1], indirect=True)
def test_behind_one_trusted_proxy_each_visitor_has_their_own_login_bucket(app):
    """AUTH-2: one person hammering the log-in must not lock out everybody else."""
    for i in range(10):
        assert _failed_login(app, "203.0.113.7", f"a{i}@example.com").status_code == 422
    assert _failed_login(app, "203.0.113.7").status_code == 429
    assert _failed_login(app, "198.51.100.20").status_code == 422  # another visitor, behind the same nginx


@pytest.mark.parametrize("app_overrides", [1], indirect=True)
def test_trusted_proxy_takes_the_address_nginx_appended_not_the_clients_claim(app):
    """A client sends its own X-Forwarded-For; nginx appends the real address. Only the
    last (nginx's) entry counts, so a forged first entry changes nothing."""
    for i in range(10):
        assert _failed_login(app, f"10.9.9.{i}, 203.0.113.7", f"b{i}@example.com").status_code == 422
    assert _failed_login(app, "10.9.9.99, 203.0.113.7").status_code == 429


@pytest.mark.parametrize("app_overrides", [1], indirect=True)
def test_trusted_proxy_gives_the_app_the_clients_scheme_and_address(app):
    seen = {}

    @app.get("/_test/address")
    def address():
        from flask import request

        seen.update(addr=request.remote_addr, scheme=request.scheme)
        return "ok"

    app.test_client().get("/_test/address", headers={"X-Forwarded-For": "203.0.113.7",
                                                      "X-Forwarded-Proto": "https"}, environ_base=NGINX)
    assert seen == {"addr": "203.0.113.7", "scheme": "https"}


def test_without_trusted_proxies_a_forwarded_header_buys_no_fresh_bucket(app):
    """The default (0): X-Forwarded-For is the client's own claim and is ignored."""
    assert app.config["TRUSTED_PROXIES"] == 0
    for i in range(10):
        assert _failed_login(app, f"203.0.113.{i}", f"c{i}@example.com").status_code == 422
    assert _failed_login(app, "198.51.100.20").status_code == 429


def test_trusted_proxies_setting_is_a_small_whole_number(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    assert config_module.load()["TRUSTED_PROXIES"] == 1
    monkeypatch.setenv("TRUSTED_PROXIES", "nginx")
    with pytest.raises(config_module.ConfigError, match="TRUSTED_PROXIES"):
        config_module.load()
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert config_module.load()["TRUSTED_PROXIES"] == 0
