"""Rule 6, article 003: what keeping this client is worth, from their real sales.

    annual margin at stake = average monthly spend × margin rate × 12
    recovery loss          = remedy cost − margin of the affected sale
    value kept if recovered = annual margin at stake − recovery loss; if lost = 0
    cost of keeping them    = one month of their margin (annual margin at stake ÷ 12)
    cost of replacing them  = acquisition multiplier (rule 7: 5×) × the cost of keeping them

Why a month of margin (see ``retention_cost``): rule 7 (article 004, Kotler) compares the
cost of *selling* to a satisfied client with winning a new one. We do not know what a
business spends on selling, but we know what this client brings; a month of their margin
is what the ordinary effort of selling to them again is worth. It depends on the client,
never on the remedy: an apology costs nothing, yet replacing the client is not free.

All amounts are integers in the currency's minor unit; the arithmetic is exact
(fractions) and rounded once, at the end, half away from zero."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

WINDOW_DAYS = 365


@dataclass(frozen=True)
class SaleFact:
    sold_on: date
    amount: int
    margin: int | None


@dataclass(frozen=True)
class Economics:
    months: int                 # months of history the average is taken over (1..12)
    monthly_spend: int
    margin_rate: Fraction | None  # None: no margin recorded on any sale of the window
    annual_margin: int
    remedy_cost: int
    sale_margin: int
    recovery_loss: int
    value_kept: int
    value_if_lost: int
    retention_cost: int         # estimate: one month of the client's margin
    replacement_cost: int       # multiplier × retention_cost: winning a client who brings as much
    multiplier: int

    @property
    def has_history(self) -> bool:
        return self.months > 0

    @property
    def margin_percent(self) -> float | None:
        return None if self.margin_rate is None else float(self.margin_rate)


def _round(value: Fraction) -> int:
    sign = -1 if value < 0 else 1
    return sign * int(abs(value) + Fraction(1, 2))


def history_months(first_sale: date | None, as_of: date) -> int:
    """How many months the average spend is taken over: the last 12, or the calendar
    months since the first purchase (its own month included) for a newer client."""
    if first_sale is None:
        return 0
    spanned = (as_of.year * 12 + as_of.month) - (first_sale.year * 12 + first_sale.month) + 1
    return max(1, min(12, spanned))


def retention_cost(annual_margin: Fraction) -> Fraction:
    """The cost of keeping the client, estimated as one month of the margin they bring.

    Rule 7 says winning a new client costs ``multiplier`` times selling to a satisfied
    one; the replacement cost is that multiple of this estimate. In the article's
    example ($3 of margin a month) keeping the client is worth about $3 and replacing them
    about 5 × $3 = $15, whatever the remedy costs. A client with no margin recorded has
    no estimate (0): the page then states the ratio without an amount."""
    return max(annual_margin, Fraction(0)) / 12


def compute(sales: list[SaleFact], as_of: date, remedy_cost: int = 0, sale_margin: int | None = None,
            multiplier: int = 5) -> Economics:
    """The economics of one complaint. ``sales`` is the client's history; only the 12
    months before ``as_of`` count."""
    since = as_of - timedelta(days=WINDOW_DAYS)
    window = [s for s in sales if since < s.sold_on <= as_of]
    months = history_months(min((s.sold_on for s in sales if s.sold_on <= as_of), default=None), as_of)
    spend = sum(s.amount for s in window)
    with_margin = [s for s in window if s.margin is not None]
    margin_base = sum(s.amount for s in with_margin)
    rate = Fraction(sum(s.margin for s in with_margin), margin_base) if margin_base else None
    monthly = Fraction(spend, months) if months else Fraction(0)
    annual = monthly * (rate or 0) * 12
    loss = remedy_cost - (sale_margin or 0)
    kept = annual - loss
    keeping = retention_cost(annual)
    return Economics(months=months, monthly_spend=_round(monthly), margin_rate=rate, annual_margin=_round(annual),
                     remedy_cost=remedy_cost, sale_margin=sale_margin or 0, recovery_loss=loss,
                     value_kept=_round(kept), value_if_lost=0, retention_cost=_round(keeping),
                     replacement_cost=_round(multiplier * keeping), multiplier=multiplier)
