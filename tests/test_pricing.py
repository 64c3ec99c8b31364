"""Issue 19, point 6: the price is visible. The landing page shows the flat monthly and
yearly price and the trial, read from configuration and formatted by Babel in the
visitor's language; sign-up says how long the trial is and that no card is needed."""
from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from pymes import config as settings
from pymes import pricing


def _text(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True).replace("\xa0", " ").replace("\u202f", " ")


def _section(html: str) -> str:
    found = re.search(r'<section class="pricing"[^>]*data-testid="pricing">(.*?)</section>', html, re.S)
    assert found, "no pricing section on the landing page"
    return " ".join(found.group(1).split())


def test_the_landing_page_shows_the_default_price_in_spanish(client):
    section = _section(_text(client.get("/")))
    assert "29 US$" in section and "al mes" in section
    assert "290 US$" in section and "al año" in section
    assert "2 meses gratis frente al pago mensual" in section  # 12 × 29 = 348 against 290
    assert "Pruébalo gratis 14 días; no necesitas tarjeta para empezar." in section


def test_the_landing_page_shows_the_price_in_english(client):
    section = _section(_text(client.get("/", headers={"Accept-Language": "en"})))
    assert "$29" in section and "a month" in section
    assert "$290" in section and "a year" in section
    assert "Try it free for 14 days; no card needed to start." in section


@pytest.fixture
def app_overrides(request):
    """Settings for the app fixture: a test's own (indirect parametrize), else none."""
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_overrides", [
    {"PRICE_CURRENCY": "CLP", "PRICE_MONTHLY": "19990", "PRICE_YEARLY": "199900", "TRIAL_DAYS": 30},
], indirect=True)
def test_the_price_comes_from_configuration(client, app_overrides):
    es = _section(_text(client.get("/")))
    assert "19.990 CLP" in es and "199.900 CLP" in es
    assert "29 US$" not in es
    assert "Pruébalo gratis 30 días" in es
    en = _section(_text(client.get("/", headers={"Accept-Language": "en"})))
    assert "CLP19,990" in en and "CLP199,900" in en and "30 days" in en
    signup = _text(client.get("/signup"))
    assert "Gratis 30 días y sin tarjeta: pagas solo si te suscribes." in signup


@pytest.mark.parametrize("app_overrides", [{"PRICE_CURRENCY": "EUR", "PRICE_MONTHLY": "24.90", "PRICE_YEARLY": ""}],
                         indirect=True)
def test_cents_are_shown_and_a_missing_yearly_price_is_left_out(client, app_overrides):
    es = _section(_text(client.get("/")))
    assert "24,90 €" in es and 'data-testid="price-yearly"' not in es and "al año" not in es
    assert "€24.90" in _section(_text(client.get("/", headers={"Accept-Language": "en"})))


@pytest.mark.parametrize("app_overrides", [{"PRICE_MONTHLY": ""}], indirect=True)
def test_no_price_configured_shows_no_price(client, app_overrides):
    html = _text(client.get("/"))
    assert 'data-testid="pricing"' not in html
    assert "Pruébalo gratis. Después confirmarás tu correo." in _text(client.get("/signup"))


def test_sign_up_says_the_trial_length_and_that_no_card_is_needed(client):
    html = _text(client.get("/signup"))
    assert "Gratis 14 días y sin tarjeta: pagas solo si te suscribes. Después confirmarás tu correo." in html
    english = _text(client.get("/signup", headers={"Accept-Language": "en"}))
    assert "Free for 14 days, and no card needed: you pay only if you subscribe." in english


@pytest.mark.parametrize("name, value", [("PRICE_MONTHLY", "veinte"), ("PRICE_MONTHLY", "-5"),
                                         ("PRICE_YEARLY", "0"), ("PRICE_CURRENCY", "PESOS")])
def test_a_wrong_price_setting_stops_the_start_with_a_clear_message(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(settings.ConfigError) as error:
        settings.load()
    assert name in str(error.value)


def test_production_with_billing_needs_the_price_set_explicitly(monkeypatch):
    for name, value in {"PYMES_ENV": "production", "SECRET_KEY": "s" * 48, "BASE_URL": "https://app.example",
                        "DATABASE_URL": "postgres://app@db/pymes", "MAIL_SERVER": "smtp.example",
                        "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
                        "STRIPE_PRICE_MONTHLY": "price_m"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PRICE_MONTHLY", raising=False)
    with pytest.raises(settings.ConfigError) as error:
        settings.load()
    assert "PRICE_MONTHLY" in str(error.value)
    monkeypatch.setenv("PRICE_MONTHLY", "29")
    assert settings.load()["PRICE_MONTHLY"] == "29"


def _stripe_price(amount, currency, interval):
    return SimpleNamespace(unit_amount=amount, currency=currency, recurring=SimpleNamespace(interval=interval))


def test_the_shown_price_is_compared_with_what_stripe_charges():
    prices = pricing.Prices(currency="USD", monthly=Decimal("29"), yearly=Decimal("290"), trial_days=14)
    same = {"monthly": _stripe_price(2900, "usd", "month"), "yearly": _stripe_price(29000, "usd", "year")}
    assert pricing.compare_with_stripe(prices, same, {}) == []
    other = {"monthly": _stripe_price(3900, "usd", "month"), "yearly": _stripe_price(29000, "eur", "month")}
    problems = pricing.compare_with_stripe(prices, other, {})
    assert any("STRIPE_PRICE_MONTHLY charges 3900" in p for p in problems)
    assert any("STRIPE_PRICE_YEARLY charges in EUR" in p for p in problems)
    assert any("every month, the yearly plan every year" in p for p in problems)
    clp = pricing.Prices(currency="CLP", monthly=Decimal("19990"), yearly=None, trial_days=14)
    assert pricing.compare_with_stripe(clp, {"monthly": _stripe_price(19990, "clp", "month")}, {}) == []
