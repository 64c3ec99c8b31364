"""Languages, locales and formatting for the business's locale.

The UI speaks Spanish and English. A logged-in user sees their own language; a
visitor sees the language they picked, else the browser's best match, else Spanish.
Dates and money follow the *business's* locale (language + country) and time zone."""
from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache

from babel import Locale, support
from babel.core import get_global
from babel.numbers import get_currency_precision, get_minus_sign_symbol, get_territory_currencies
from flask import current_app, g, has_app_context, request, session
from flask_babel import Domain, get_locale
from flask_babel import gettext as _
from flask_login import current_user

UI_LANGUAGES = ("es", "en")

# Countries offered at sign-up: Spanish- and Portuguese-speaking America, Spain and a
# few more; any ISO country is accepted by the model, these are the form's list.
COUNTRIES = (
    "CL", "AR", "BO", "BR", "CO", "CR", "CU", "DO", "EC", "SV", "ES", "GT", "HN", "MX", "NI",
    "PA", "PY", "PE", "PR", "UY", "VE", "US", "CA", "GB", "PT", "FR", "DE", "IT",
)
SPANISH_SPEAKING = {"AR", "BO", "CL", "CO", "CR", "CU", "DO", "EC", "SV", "ES", "GQ", "GT", "HN", "MX", "NI",
                    "PA", "PY", "PE", "PR", "UY", "VE"}
CURRENCIES = ("CLP", "ARS", "BOB", "BRL", "COP", "CRC", "DOP", "USD", "EUR", "GTQ", "HNL", "MXN", "NIO",
              "PAB", "PYG", "PEN", "UYU", "VES", "CAD", "GBP")


def select_locale() -> str:
    user = current_user if current_app.login_manager else None
    if user is not None and getattr(user, "is_authenticated", False) and user.language in UI_LANGUAGES:
        return user.language
    chosen = session.get("lang")
    if chosen in UI_LANGUAGES:
        return chosen
    return request.accept_languages.best_match(UI_LANGUAGES) or "es"


# Regional catalogs: a small catalog of only the words that differ in a country
# (translations/regional/es_ES: "reclamación" for "reclamo", "móvil" for "celular"), read on top
# of the language's own catalog when the business is in that country. The UI locale
# stays the language ("es"): dates, numbers and the language menu do not change.
REGIONAL_CATALOGS = {("es", "ES"): "es_ES"}


def regional_catalog(language: str) -> str | None:
    """The regional catalog for ``language`` where the current business is (the
    logged-in user's, or the one a message is written for, see ``in_country``)."""
    country = g.get("region_country") if g else None
    if country is None and g:
        business = g.get("business")
        country = business.country if business is not None else None
    return REGIONAL_CATALOGS.get((language.split("_")[0], (country or "").upper()))


class in_country:
    """``with in_country(business.country):`` words for that country's regional catalog,
    for a message written outside the business's own request (a job, a public page)."""

    def __init__(self, country: str | None):
        self.country = country

    def __enter__(self):
        self.active = has_app_context()  # a worker outside any app context: nothing to set
        if self.active:
            self.previous = g.get("region_country")
            g.region_country = self.country
        return self

    def __exit__(self, *exc):
        if self.active:
            g.region_country = self.previous
        return False


class RegionalDomain(Domain):
    """Flask-Babel's message domain, plus the regional catalog of the business's country
    merged over the language's catalog (a msgid the regional catalog lacks reads as in
    the language's). Cached per (regional catalog) like Flask-Babel caches per locale."""

    def get_translations(self):
        base = super().get_translations()
        locale = get_locale()
        if locale is None or not isinstance(base, support.Translations):
            return base
        regional = regional_catalog(str(locale))
        if regional is None:
            return base
        cache = self.get_translations_cache(None)
        key = (regional, self.domain[0], "regional")
        merged = cache.get(key)
        if merged is None:
            merged = support.Translations()
            merged.merge(base)
            for dirname in self.translation_directories:
                # A folder of its own: beside translations/es, an es_ES folder would be what
                # gettext finds for plain "es" (it normalises "es" to "es_ES" first).
                overlay = support.Translations.load(os.path.join(dirname, "regional"), [regional], self.domain[0])
                if getattr(overlay, "files", None) and any(regional in f for f in overlay.files):
                    merged.merge(overlay)
            merged.plural = base.plural
            cache[key] = merged
        return merged


def select_timezone() -> str | None:
    business = g.get("business")
    return business.timezone if business is not None else None


def default_language(country: str) -> str:
    """Spanish for Spanish-speaking countries, English otherwise."""
    return "es" if country in SPANISH_SPEAKING else "en"


def default_currency(country: str) -> str:
    found = get_territory_currencies(country)
    return found[0] if found else "USD"


# CLDR lists a country's zones in no particular order (Chile's first is Easter Island):
# where most people of a country live decides the default, the owner can change it.
MAIN_ZONES = {
    "CL": "America/Santiago", "AR": "America/Argentina/Buenos_Aires", "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City", "US": "America/New_York", "CA": "America/Toronto", "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon", "EC": "America/Guayaquil", "CO": "America/Bogota", "PE": "America/Lima",
    "BO": "America/La_Paz", "PY": "America/Asuncion", "UY": "America/Montevideo", "VE": "America/Caracas",
    "DE": "Europe/Berlin",
}


def default_timezone(country: str) -> str:
    if country in MAIN_ZONES:
        return MAIN_ZONES[country]
    zones = get_global("territory_zones").get(country) or ["UTC"]
    return zones[0]


@lru_cache(maxsize=8)
def country_choices(language: str) -> list[tuple[str, str]]:
    names = Locale.parse(language).territories
    return sorted(((code, names.get(code, code)) for code in COUNTRIES), key=lambda item: item[1])


@lru_cache(maxsize=8)
def currency_choices(language: str) -> list[tuple[str, str]]:
    names = Locale.parse(language).currencies
    return [(code, f"{code} · {names.get(code, code)}") for code in CURRENCIES]


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    zones = set()
    for country in COUNTRIES:
        zones.update(get_global("territory_zones").get(country, []))
    zones.add("UTC")
    return [(z, z.replace("_", " ")) for z in sorted(zones)]


def language_choices() -> list[tuple[str, str]]:
    return [("es", "Español"), ("en", "English")]


def country_name(code: str | None, language: str | None = None) -> str:
    """The country's name in the reader's language, by CLDR ("Chile", "España", "Spain");
    the code itself only for a code CLDR does not know."""
    if not code:
        return ""
    names = Locale.parse(language or str(get_locale() or "es")).territories
    return names.get(code.upper(), code)


# What a tax id is called where the business is: the name a shop owner writes on an
# invoice. Acronyms are proper names, the same in every UI language. Countries not here
# get the generic "Tax id" of the catalogs ("Identificación fiscal").
TAX_ID_NAMES = {
    "CL": "RUT", "UY": "RUT", "ES": "NIF / CIF", "PT": "NIF", "MX": "RFC", "AR": "CUIT", "PE": "RUC", "EC": "RUC",
    "PY": "RUC", "PA": "RUC", "NI": "RUC", "CO": "NIT", "BO": "NIT", "GT": "NIT", "SV": "NIT", "VE": "RIF",
    "HN": "RTN", "DO": "RNC", "BR": "CNPJ / CPF",
}


def tax_id_label(country: str | None = None, optional: bool = False) -> str:
    """The tax id's label for a business of ``country`` (the current business's by
    default): "RUT" in Chile, "NIF / CIF" in Spain, "RFC" in Mexico…"""
    if country is None:
        business = g.get("business")
        country = business.country if business is not None else None
    name = TAX_ID_NAMES.get((country or "").upper())
    if name is None:
        return _("Tax id (optional)") if optional else _("Tax id")
    return _("%(name)s (optional)", name=name) if optional else name


def business_locale() -> str:
    business = g.get("business")
    if business is not None:
        return business.locale
    return str(get_locale() or "es")


def money(minor_units: int | None, currency: str | None = None) -> str:
    """Format an amount stored in the currency's minor unit (CLP has none, EUR cents)."""
    if minor_units is None:
        return ""
    business = g.get("business")
    currency = currency or (business.currency if business is not None else "USD")
    return format_money(minor_units, currency, business_locale())


def format_money(minor_units: int, currency: str, locale_name: str) -> str:
    """Babel's currency format for the locale; a negative amount is the positive one
    with the locale's minus sign in front: "-$3.000" in Chile, "-30,00 €" in Spain.
    CLDR's es-CL pattern puts the sign between the symbol and the digits ("$-3.000"),
    which is not how a Chilean invoice or bank statement writes a debit."""
    locale, pattern, digits = _currency_format(currency, locale_name)
    shown = pattern.apply(abs(Decimal(minor_units)).scaleb(-digits), locale, currency=currency)
    return shown if minor_units >= 0 else get_minus_sign_symbol(locale) + shown


@lru_cache(maxsize=64)
def _currency_format(currency: str, locale_name: str):
    """What ``babel.numbers.format_currency`` looks up on every call (the locale, its
    standard currency pattern, the currency's digits), looked up once: a list page
    formats fifty amounts."""
    locale = Locale.parse(locale_name)
    return locale, locale.currency_formats["standard"], get_currency_precision(currency)


def business_today(business=None):
    """Today's date where the business is (Santiago's Monday starts hours after Madrid's)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    business = business if business is not None else g.get("business")
    zone = ZoneInfo(business.timezone) if business is not None else ZoneInfo("UTC")
    return datetime.now(zone).date()


def business_timezone(business=None):
    from zoneinfo import ZoneInfo

    business = business if business is not None else g.get("business")
    return ZoneInfo(business.timezone if business is not None else "UTC")
