"""The development outbox (issue 20, finding 16): it lists every e-mail, reset links
included, so it exists only with PYMES_ENV=development and only for the machine itself."""
import pytest

from pymes import config as config_module


def test_development_from_loopback_sees_the_outbox(app, client):
    assert client.get("/dev/outbox").status_code == 200
    assert client.get("/dev/outbox", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_another_machine_never_sees_it_even_in_development(app, client):
    assert client.get("/dev/outbox", environ_base={"REMOTE_ADDR": "192.168.1.20"}).status_code == 404
    assert client.get("/dev/outbox/1-abcdef12", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404


@pytest.mark.parametrize("app_overrides", [{"TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_the_visitors_address_counts(app, client):
    """nginx on the same machine connects from 127.0.0.1: the visitor's address decides."""
    response = client.get("/dev/outbox", headers={"X-Forwarded-For": "203.0.113.9"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 404


@pytest.mark.parametrize("env", ["staging", "test", "demo"])
def test_any_other_environment_has_no_outbox(monkeypatch, env):
    monkeypatch.setenv("PYMES_ENV", env)
    assert config_module.load()["DEV_OUTBOX_PAGE"] is False


def test_the_outbox_is_not_cached(app, client):
    assert client.get("/dev/outbox").headers["Cache-Control"] == "no-store"
