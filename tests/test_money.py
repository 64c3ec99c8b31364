"""Amounts stored in the minor unit read as Babel would format them, for currencies
with no minor unit (CLP, JPY), two (EUR, USD, MXN) and three (BHD)."""
import pytest
from babel.numbers import format_currency, get_currency_precision
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
        assert money(minor) == format_currency(minor / 10 ** digits, currency, locale=locale)


def test_clp_has_no_decimals_and_euros_have_cents(app):
    with app.test_request_context():
        g.business = _Business("CLP", "es_CL")
        assert money(10_000) == "$10.000"
        g.business = _Business("EUR", "es_ES")
        assert money(1050) == "10,50\xa0€"
