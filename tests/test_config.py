"""Settings: safe local defaults, a fast and clear failure in production."""
import pytest

from pymes import config


def test_development_needs_no_settings(monkeypatch):
    for name in ("PYMES_ENV", "SECRET_KEY", "DATABASE_URL", "MAIL_SERVER", "REDIS_URL", "BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    cfg = config.load()
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert cfg["RATELIMIT_STORAGE_URI"] == "memory://"
    assert cfg["SESSION_COOKIE_SECURE"] is False


def test_production_refuses_to_start_with_missing_settings(monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "MAIL_SERVER", "BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYMES_ENV", "production")
    with pytest.raises(config.ConfigError) as error:
        config.load()
    message = str(error.value)
    for name in ("SECRET_KEY", "DATABASE_URL", "BASE_URL", "MAIL_SERVER"):
        assert name in message


def test_production_starts_with_everything_set(monkeypatch):
    monkeypatch.setenv("PYMES_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/pymes")
    monkeypatch.setenv("BASE_URL", "https://app.fideliza.example")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example")
    cfg = config.load()
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["REMEMBER_COOKIE_SECURE"] and cfg["HSTS"]
    # no pre-ping round trip per request: closed connections are dropped at check-out
    # (pymes/db.py) and retired after pool_recycle seconds (tests/test_round_trips.py)
    options = cfg["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is False and 0 < options["pool_recycle"] <= 3600
    assert cfg["DEV_OUTBOX_PAGE"] is False


def test_redis_url_backs_the_rate_limits(monkeypatch):
    monkeypatch.delenv("PYMES_ENV", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    cfg = config.load()
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert cfg["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
