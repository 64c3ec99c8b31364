"""Rule 6, article 003: what keeping this client is worth, from their real sales.

In one sentence, as the page says it: fixing the problem costs the remedy minus what
the affected sale already earned you; a client kept goes on leaving you their margin,
a client lost leaves nothing.

    value at stake (annual margin) = the client's expected margin over the next 12 months,
        from their own history (``basis``):
        - "year":   a year or more of history → the margin of the last 12 months;
        - "rhythm": newer, with at least three purchases → their months so far
                    extrapolated to twelve (a rhythm shows);
        - "earned": newer, one or two purchases → the margin they actually left
                    (a single purchase is never multiplied into a yearly stream);
        - "none":   no purchase before the complaint.
    recovery loss           = remedy cost − margin of the affected sale, never below zero,
                              and zero while no remedy cost is known (no double counting:
                              the affected sale's margin is already in the value at stake)
    value kept if recovered = value at stake − recovery loss (never more than what is at
                              stake); if lost = 0
    recovery budget         = value at stake + margin of the affected sale: the remedy cost
                              at which recovering the client breaks even. Any remedy that
                              costs less keeps value; the largest such cost is one minor unit
                              below it (``largest_remedy``).
    referral value          = margin the clients they referred left in the same 12 months
                              (article 003: "a lost client takes others with them"); shown
                              beside the budget, never added to it: a referred client does not
                              necessarily leave with the one who referred them.
    cost of keeping them    = one month of their margin (value at stake ÷ 12)
    cost of replacing them  = acquisition multiplier (rule 7: 5×) × the cost of keeping them

Why a month of margin (see ``retention_cost``): rule 7 (article 004, Kotler) compares the
cost of *selling* to a satisfied client with winning a new one. We do not know what a
business spends on selling, but we know what this client brings; a month of their margin
is what the ordinary effort of selling to them again is worth. It depends on the client,
never on the remedy: an apology costs nothing, yet replacing the client is not free.

The margin rate is taken from the purchases that record a margin and applied to all the
purchases of the period (a purchase without a recorded margin still says how much the
client buys). All amounts are integers in the currency's minor unit; the value at stake is
computed exactly (fractions) and rounded once, half away from zero; everything after it
is integer arithmetic, so value kept + recovery loss = value at stake to the unit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

WINDOW_DAYS = 365
RHYTHM_MIN_PURCHASES = 3  # fewer purchases than this in a first year show no rhythm to extrapolate

NONE, YEAR, RHYTHM, EARNED = "none", "year", "rhythm", "earned"


@dataclass(frozen=True)
class SaleFact:
    sold_on: date
    amount: int
    margin: int | None
    imported: bool = False  # a purchase of an imported opening balance (see services.sale_facts)


@dataclass(frozen=True)
class Economics:
    basis: str                  # none, year, rhythm, earned: how the value at stake was taken
    purchases: int              # purchases the value at stake is taken from
    imported: int               # how many of them come from an imported opening balance
    months: int                 # months of history (1..12; 12 = a year or more)
    monthly_spend: int          # spend per month over ``months`` (the rhythm extrapolated)
    margin_rate: Fraction | None  # None: no margin recorded on any purchase of the period
    annual_margin: int          # the value at stake
    remedy_cost: int | None     # None: no remedy cost known yet
    sale_margin: int
    recovery_loss: int
    value_kept: int
    value_if_lost: int
    recovery_budget: int        # remedy cost at which recovering breaks even
    referral_margin: int        # margin of the clients they referred, same 12 months
    retention_cost: int         # estimate: one month of the client's margin
    replacement_cost: int       # multiplier × retention_cost: winning a client who brings as much
    multiplier: int

    @property
    def has_history(self) -> bool:
        return self.purchases > 0

    @property
    def margin_percent(self) -> float | None:
        return None if self.margin_rate is None else float(self.margin_rate)

    @property
    def largest_remedy(self) -> int:
        """The largest remedy cost (in minor units) that still leaves value kept positive."""
        return self.recovery_budget - 1


def _round(value: Fraction) -> int:
    sign = -1 if value < 0 else 1
    return sign * int(abs(value) + Fraction(1, 2))


def history_months(first_sale: date | None, as_of: date) -> int:
    """How many months of history the client has: the calendar months since the first
    purchase (its own month included), capped at 12 (a year or more)."""
    if first_sale is None:
        return 0
    spanned = (as_of.year * 12 + as_of.month) - (first_sale.year * 12 + first_sale.month) + 1
    return max(1, min(12, spanned))


def retention_cost(annual_margin: Fraction | int) -> Fraction:
    """The cost of keeping the client, estimated as one month of the margin they bring.

    Rule 7 says winning a new client costs ``multiplier`` times selling to a satisfied
    one; the replacement cost is that multiple of this estimate. In the article's
    example ($3 of margin a month) keeping the client is worth about $3 and replacing them
    about 5 × $3 = $15, whatever the remedy costs. A client with no margin recorded has
    no estimate (0): the page then states the ratio without an amount."""
    return max(Fraction(annual_margin), Fraction(0)) / 12


def recovery_loss(remedy_cost: int | None, sale_margin: int | None) -> int:
    """Remedy cost − margin of the affected sale, never below zero; zero while the cost is
    unknown. The affected sale's margin is part of the value at stake already: a remedy
    cheaper than that margin costs nothing extra, it does not add value."""
    if remedy_cost is None:
        return 0
    return max(remedy_cost - (sale_margin or 0), 0)


def _basis(purchases: int, months: int) -> str:
    """How the margin at stake is counted: none bought in the window, a year of history,
    a rhythm to extrapolate, or only what a newer client actually left."""
    if not purchases:
        return NONE
    if months >= 12:
        return YEAR
    return RHYTHM if purchases >= RHYTHM_MIN_PURCHASES else EARNED


def compute(sales: list[SaleFact], as_of: date, remedy_cost: int | None = None, sale_margin: int | None = None,
            multiplier: int = 5, referral_margin: int = 0) -> Economics:
    """The economics of one complaint. ``sales`` is the client's history (imported
    purchases included, see ``services.sale_facts``); what happened after ``as_of`` is
    ignored, and only the 12 months before it count."""
    since = as_of - timedelta(days=WINDOW_DAYS)
    window = [s for s in sales if since < s.sold_on <= as_of]
    months = history_months(min((s.sold_on for s in sales if s.sold_on <= as_of), default=None), as_of)
    spend = sum(s.amount for s in window)
    with_margin = [s for s in window if s.margin is not None]
    margin_base = sum(s.amount for s in with_margin)
    rate = Fraction(sum(s.margin for s in with_margin), margin_base) if margin_base else None
    basis = _basis(len(window), months)
    monthly = Fraction(spend, months) if months else Fraction(0)
    # by rhythm a year of the client's months; otherwise the last 12 months, or what a newer
    # client actually left: no extrapolation
    annual = monthly * 12 * (rate or 0) if basis == RHYTHM else spend * (rate or 0)
    at_stake = _round(annual)
    margin = sale_margin or 0
    loss = recovery_loss(remedy_cost, margin)
    keeping = retention_cost(at_stake)
    return Economics(basis=basis, purchases=len(window), imported=sum(1 for s in window if s.imported),
                     months=months, monthly_spend=_round(monthly), margin_rate=rate, annual_margin=at_stake,
                     remedy_cost=remedy_cost, sale_margin=margin, recovery_loss=loss, value_kept=at_stake - loss,
                     value_if_lost=0, recovery_budget=at_stake + margin, referral_margin=referral_margin,
                     retention_cost=_round(keeping), replacement_cost=_round(multiplier * keeping),
                     multiplier=multiplier)


def article_example(digits: int = 0) -> Economics:
    """Article 003's own case, computed by ``compute`` so the page's example can never
    disagree with the page's figures: $10 a month at $3 of margin for a year, a new $10
    product to fix the problem → $7 lost that month, $29 kept. ``digits`` is the
    currency's minor unit (2 for cents), so the amounts read 10, 3, 36, 7 and 29."""
    unit = 10 ** digits
    as_of = date(2026, 12, 20)
    sales = [SaleFact(date(2026, month, 5), 10 * unit, 3 * unit) for month in range(1, 13)]
    return compute(sales, as_of, remedy_cost=10 * unit, sale_margin=3 * unit)
