"""The public price: the flat monthly and yearly subscription and the trial, as the
landing page and the sign-up page say them.

The amounts come from configuration (``PRICE_CURRENCY``, ``PRICE_MONTHLY``,
``PRICE_YEARLY``, in the currency's major unit, e.g. ``29`` or ``24.90``) and the trial
from ``TRIAL_DAYS``, the same setting the billing rules use. Stripe charges what its
prices (``STRIPE_PRICE_MONTHLY``/``STRIPE_PRICE_YEARLY``) say: ``pymes billing-check-prices``
reads them from Stripe and fails when they differ from the amounts shown here, so the
page never promises a price Checkout does not charge. Production with billing refuses
to start without the amounts set explicitly (see ``config.check_production``)."""
from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import get_currency_precision
from flask import current_app
from flask_babel import get_locale


class PriceError(ValueError):
    pass


def parse_amount(text: str | None, name: str) -> Decimal | None:
    """A configured amount in major units ("29", "24.90"); empty means "not offered"."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise PriceError(f"{name} must be an amount like 29 or 24.90, not {text!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise PriceError(f"{name} must be an amount above zero, not {text!r}")
    return amount


def minor_units(amount: Decimal, currency: str) -> int:
    """The amount as Stripe stores it (unit_amount): cents for USD, pesos for CLP."""
    return int((amount * (10 ** get_currency_precision(currency))).to_integral_value())


def format_price(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """The amount in the reader's locale: "29 US$" (es), "$29" (en), "US$ 24,90" (pt).
    A whole amount is written without decimals, as price lists do."""
    loc = Locale.parse(locale or str(get_locale() or "es"))
    pattern = copy(loc.currency_formats["standard"])
    if amount == amount.to_integral_value():
        pattern.frac_prec = (0, 0)
    return pattern.apply(amount, loc, currency=currency, currency_digits=False)


@dataclass(frozen=True)
class Prices:
    currency: str
    monthly: Decimal
    yearly: Decimal | None
    trial_days: int

    def monthly_text(self, locale: str | None = None) -> str:
        return format_price(self.monthly, self.currency, locale)

    def yearly_text(self, locale: str | None = None) -> str:
        return format_price(self.yearly, self.currency, locale) if self.yearly is not None else ""

    @property
    def months_free(self) -> int:
        """Whole months the yearly price saves against twelve monthly payments."""
        if self.yearly is None:
            return 0
        return max(0, int((self.monthly * 12 - self.yearly) // self.monthly))


def read(config=None) -> Prices | None:
    """The configured prices, or None when no monthly price is set (a self-hosted
    install without a subscription shows no price)."""
    config = config if config is not None else current_app.config
    monthly = parse_amount(config.get("PRICE_MONTHLY"), "PRICE_MONTHLY")
    if monthly is None:
        return None
    currency = (config.get("PRICE_CURRENCY") or "USD").strip().upper()
    return Prices(currency=currency, monthly=monthly,
                  yearly=parse_amount(config.get("PRICE_YEARLY"), "PRICE_YEARLY"),
                  trial_days=int(config.get("TRIAL_DAYS") or 0))


def check(config: dict) -> list[str]:
    """Problems with the price settings, for the configuration's fail-fast check."""
    problems = []
    currency = (config.get("PRICE_CURRENCY") or "USD").strip().upper()
    if currency not in Locale.parse("en").currencies or len(currency) != 3:
        problems.append(f"PRICE_CURRENCY must be an ISO currency code like USD or CLP, not {currency!r}")
    for name in ("PRICE_MONTHLY", "PRICE_YEARLY"):
        try:
            parse_amount(config.get(name), name)
        except PriceError as error:
            problems.append(str(error))
    return problems


def compare_with_stripe(prices: Prices, stripe_prices: dict[str, object], config) -> list[str]:
    """Differences between the amounts shown and the Stripe prices Checkout charges.
    ``stripe_prices`` maps "monthly"/"yearly" to Stripe Price objects (unit_amount,
    currency, recurring.interval)."""
    wanted = {"monthly": (prices.monthly, "month"), "yearly": (prices.yearly, "year")}
    problems = []
    for plan, price in stripe_prices.items():
        amount, interval = wanted[plan]
        setting = f"STRIPE_PRICE_{plan.upper()}"
        if amount is None:
            problems.append(f"{setting} is set but PRICE_{plan.upper()} is not: the page does not show it")
            continue
        recurring = getattr(price, "recurring", None)
        seen_interval = getattr(recurring, "interval", None) if recurring is not None else None
        if (price.currency or "").upper() != prices.currency:
            problems.append(f"{setting} charges in {str(price.currency).upper()}, the page shows {prices.currency}")
        elif price.unit_amount != minor_units(amount, prices.currency):
            problems.append(f"{setting} charges {price.unit_amount} (minor units), the page shows "
                            f"{minor_units(amount, prices.currency)}")
        if seen_interval != interval:
            problems.append(f"{setting} recurs every {seen_interval}, the {plan} plan every {interval}")
    return problems
