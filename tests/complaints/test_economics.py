"""Rule 6 (article 003): the economics of keeping a client, from the real sales."""
from datetime import date
from fractions import Fraction

from pymes.complaints.economics import SaleFact, compute, history_months


def monthly(amount, margin, months=12, as_of=date(2026, 11, 20)):
    """One sale a month for ``months`` months, the last one this month."""
    sales = []
    year, month = as_of.year, as_of.month
    for _ in range(months):
        sales.append(SaleFact(date(year, month, 5), amount, margin))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sales


def test_the_articles_worked_example_in_cents():
    # $10 a month with $3 margin; a new $10 product fixes the problem: $29 kept that year.
    econ = compute(monthly(1000, 300), date(2026, 11, 20), remedy_cost=1000, sale_margin=300)
    assert econ.monthly_spend == 1000
    assert econ.margin_rate == Fraction(3, 10)
    assert econ.annual_margin == 3600
    assert econ.recovery_loss == 700
    assert econ.value_kept == 2900
    assert econ.value_if_lost == 0
    # keeping her is worth a month of her margin ($3); winning a new client, five times that
    assert econ.retention_cost == 300
    assert econ.replacement_cost == 1500


def test_the_worked_example_in_pesos_with_no_minor_unit():
    econ = compute(monthly(10_000, 3_000), date(2026, 11, 20), remedy_cost=10_000, sale_margin=3_000, multiplier=7)
    assert (econ.annual_margin, econ.recovery_loss, econ.value_kept) == (36_000, 7_000, 29_000)
    assert (econ.retention_cost, econ.replacement_cost) == (3_000, 21_000)  # 7 × a month of margin


def test_a_client_without_history_has_nothing_at_stake_but_the_remedy():
    econ = compute([], date(2026, 11, 20), remedy_cost=5_000)
    assert not econ.has_history
    assert (econ.monthly_spend, econ.annual_margin, econ.value_kept) == (0, 0, -5_000)
    assert econ.margin_rate is None


def test_zero_margin_keeps_no_margin_and_an_unrecorded_margin_is_unknown():
    zero = compute(monthly(1000, 0), date(2026, 11, 20), remedy_cost=200)
    assert zero.margin_rate == 0 and zero.annual_margin == 0 and zero.value_kept == -200
    unknown = compute(monthly(1000, None), date(2026, 11, 20), remedy_cost=200)
    assert unknown.margin_rate is None and unknown.margin_percent is None and unknown.annual_margin == 0


def test_a_newer_client_is_averaged_over_the_months_they_have_been_buying():
    sales = monthly(1000, 300, months=3)  # September, October, November
    econ = compute(sales, date(2026, 11, 20))
    assert econ.months == 3 and econ.monthly_spend == 1000 and econ.annual_margin == 3600


def test_only_the_last_twelve_months_count_and_rounding_happens_once():
    old = [SaleFact(date(2024, 1, 10), 1_000_000, 500_000)]
    recent = [SaleFact(date(2026, 11, 1), 1000, 333)]
    econ = compute(old + recent, date(2026, 11, 20))
    assert econ.months == 12
    assert econ.monthly_spend == 83          # 1000 / 12 = 83.33
    assert econ.annual_margin == 333         # exact: 1000/12 × 0.333 × 12, not 83 × 0.333 × 12 = 331.67
    assert compute(old, date(2026, 11, 20)).annual_margin == 0  # bought long ago, nothing this year


def test_history_months_counts_calendar_months_capped_at_twelve():
    assert history_months(None, date(2026, 11, 20)) == 0
    assert history_months(date(2026, 11, 19), date(2026, 11, 20)) == 1
    assert history_months(date(2026, 10, 31), date(2026, 11, 1)) == 2
    assert history_months(date(2020, 1, 1), date(2026, 11, 20)) == 12


def test_replacing_the_client_is_not_free_when_the_remedy_is():
    """Rule 7: the replacement cost follows the client's value, never the remedy's cost."""
    apology = compute(monthly(1000, 300), date(2026, 11, 20), remedy_cost=0)
    refund = compute(monthly(1000, 300), date(2026, 11, 20), remedy_cost=80_000)
    assert apology.replacement_cost == refund.replacement_cost == 1500
    assert apology.value_kept == 3600
    bigger = compute(monthly(4000, 1000), date(2026, 11, 20), remedy_cost=0)
    assert bigger.replacement_cost == 5000  # $10 of margin a month × 5


def test_replacement_cost_rounds_once_and_is_zero_without_margin():
    sales = [SaleFact(date(2024, 1, 10), 5000, 1000), SaleFact(date(2026, 11, 1), 1000, 333)]
    # a client for years: 333 of margin in the last 12 months, 27.75 a month
    econ = compute(sales, date(2026, 11, 20), multiplier=5)
    assert econ.retention_cost == 28 and econ.replacement_cost == 139  # 5 × 27.75 = 138.75, not 5 × 28
    assert compute([], date(2026, 11, 20)).replacement_cost == 0
    assert compute(monthly(1000, None), date(2026, 11, 20)).replacement_cost == 0
