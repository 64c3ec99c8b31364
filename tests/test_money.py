"""Amounts stored in the minor unit read as Babel would format them, for currencies
with no minor unit (CLP, JPY), two (EUR, USD, MXN) and three (BHD)."""
import pytest
from babel.numbers import format_currency, get_currency_precision, get_minus_sign_symbol
from flask import g

from pymes.i18n import money


class _Business:
    def __init__(self, currency, locale):
        self.currency, self.locale = currency, locale


@pytest.mark.parametrize("currency, locale", [("CLP", "es_CL"), ("EUR", "es_ES"), ("USD", "en_US"),
                                              ("MXN", "es_MX"), ("JPY", "en"), ("BHD", "ru_RU")])
@pytest.mark.parametrize("minor", [0, 1, 99, 100, 101, -250, 1_000_000, 123_456_789])
def test_money_matches_babel_format_currency(app, currency, locale, minor):
    with app.test_request_context():
        g.business = _Business(currency, locale)
        digits = get_currency_precision(currency)
        positive = format_currency(abs(minor) / 10 ** digits, currency, locale=locale)
        assert money(minor) == (positive if minor >= 0 else get_minus_sign_symbol(locale) + positive)


def test_a_negative_amount_puts_the_minus_sign_before_the_amount(app):
    """Issue 19: "Pérdida $-3.000" read as a typo; the sign goes in front, where a Chilean
    statement writes it, and where Spain's format already has it."""
    with app.test_request_context():
        g.business = _Business("CLP", "es_CL")
        assert money(-3_000) == "-$3.000"
        g.business = _Business("EUR", "es_ES")
        assert money(-3_050) == "-30,50\xa0€"


def test_clp_has_no_decimals_and_euros_have_cents(app):
    with app.test_request_context():
        g.business = _Business("CLP", "es_CL")
        assert money(10_000) == "$10.000"
        g.business = _Business("EUR", "es_ES")
        assert money(1050) == "10,50\xa0€"


@pytest.mark.parametrize("language, country, expected", [
    ("es", "CL", "es_CL"), ("en", "US", "en_US"), ("en", "CL", "en_001"), ("pt", "CL", "pt"), ("ru", "MX", "ru")])
def test_a_business_locale_babel_does_not_know_falls_back_to_its_language(language, country, expected):
    """English in Chile is no CLDR locale: amounts and dates still format (no 500)."""
    from pymes.accounts.models import Business

    business = Business(name="x", country=country, currency="CLP", timezone="America/Santiago", language=language)
    assert business.locale == expected
    with_babel = format_currency(10_000, "CLP", locale=business.locale)
    assert "10" in with_babel
