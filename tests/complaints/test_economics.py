"""Rule 6 (article 003): the economics of keeping a client, from the real sales.

Every expected figure below is worked out by hand in the comment beside it."""
from datetime import date
from fractions import Fraction

from pymes.complaints.economics import EARNED, NONE, RHYTHM, YEAR, SaleFact, article_example, compute, history_months


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
    assert econ.basis == YEAR and econ.purchases == 12
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


def test_the_pages_example_is_the_articles_case_in_the_currency():
    cents = article_example(2)
    assert (cents.remedy_cost, cents.sale_margin, cents.annual_margin, cents.recovery_loss, cents.value_kept,
            cents.value_if_lost) == (1000, 300, 3600, 700, 2900, 0)
    pesos = article_example(0)
    assert (pesos.annual_margin, pesos.recovery_loss, pesos.value_kept) == (36, 7, 29)


def test_a_single_purchase_is_never_extrapolated():
    # the bike of issue 19: one $1.250.000 sale a month ago with $250.000 margin
    bike = [SaleFact(date(2026, 10, 20), 1_250_000, 250_000)]
    econ = compute(bike, date(2026, 11, 20))
    assert econ.basis == EARNED and econ.purchases == 1 and econ.months == 2
    assert econ.annual_margin == 250_000      # what it left, not 1.250.000 / 2 × 12 × 20 %
    # two purchases show no rhythm either: 2 × 10.000 at 30 % = 6.000
    two = [SaleFact(date(2026, 9, 1), 10_000, 3_000), SaleFact(date(2026, 11, 1), 10_000, 3_000)]
    assert compute(two, date(2026, 11, 20)).annual_margin == 6_000


def test_three_purchases_in_two_months_show_a_rhythm_and_are_extrapolated():
    sales = [SaleFact(date(2026, 10, 3), 10_000, 3_000), SaleFact(date(2026, 10, 24), 10_000, 3_000),
             SaleFact(date(2026, 11, 14), 10_000, 3_000)]
    econ = compute(sales, date(2026, 11, 20))
    assert econ.basis == RHYTHM and econ.months == 2 and econ.purchases == 3
    # 30.000 in 2 months = 15.000 a month; × 12 = 180.000 a year; at 30 %: 54.000
    assert econ.monthly_spend == 15_000 and econ.annual_margin == 54_000


def test_a_year_of_history_uses_the_last_twelve_months_as_they_are():
    sales = [SaleFact(date(2025, 6, 1), 90_000, 30_000), SaleFact(date(2026, 8, 1), 20_000, 5_000)]
    econ = compute(sales, date(2026, 11, 20))
    # the June 2025 sale is older than 12 months: only the August sale's 5.000 is at stake
    assert econ.basis == YEAR and econ.purchases == 1 and econ.annual_margin == 5_000


def test_without_a_remedy_cost_nothing_is_counted_twice():
    # issue 19: with no cost typed the page showed a loss of -3.000 and 39.000 kept out of 36.000
    econ = compute(monthly(10_000, 3_000), date(2026, 11, 20), remedy_cost=None, sale_margin=3_000)
    assert econ.remedy_cost is None and econ.recovery_loss == 0
    assert econ.value_kept == econ.annual_margin == 36_000
    # a remedy cheaper than the affected sale's margin costs nothing extra, and adds nothing
    cheap = compute(monthly(10_000, 3_000), date(2026, 11, 20), remedy_cost=2_000, sale_margin=3_000)
    assert cheap.recovery_loss == 0 and cheap.value_kept == 36_000
    for cost in (None, 0, 1_000, 3_000, 5_000, 80_000):
        each = compute(monthly(10_000, 3_000), date(2026, 11, 20), remedy_cost=cost, sale_margin=3_000)
        assert each.value_kept <= each.annual_margin and each.recovery_loss >= 0


def test_the_recovery_budget_at_its_boundary():
    # 36.000 at stake + 3.000 of margin on the affected sale: recovering breaks even at 39.000
    sales = monthly(10_000, 3_000)
    econ = compute(sales, date(2026, 11, 20), sale_margin=3_000)
    assert econ.recovery_budget == 39_000 and econ.largest_remedy == 38_999
    at = compute(sales, date(2026, 11, 20), remedy_cost=39_000, sale_margin=3_000)
    below = compute(sales, date(2026, 11, 20), remedy_cost=38_999, sale_margin=3_000)
    above = compute(sales, date(2026, 11, 20), remedy_cost=39_001, sale_margin=3_000)
    assert (below.value_kept, at.value_kept, above.value_kept) == (1, 0, -1)
    assert at.recovery_budget == econ.recovery_budget  # the budget does not move with the cost typed


def test_a_client_without_history_has_nothing_at_stake_but_the_remedy():
    econ = compute([], date(2026, 11, 20), remedy_cost=5_000)
    assert not econ.has_history and econ.basis == NONE
    assert (econ.monthly_spend, econ.annual_margin, econ.value_kept, econ.recovery_budget) == (0, 0, -5_000, 0)
    assert econ.margin_rate is None


def test_zero_margin_keeps_no_margin_and_an_unrecorded_margin_is_unknown():
    zero = compute(monthly(1000, 0), date(2026, 11, 20), remedy_cost=200)
    assert zero.margin_rate == 0 and zero.annual_margin == 0 and zero.value_kept == -200
    unknown = compute(monthly(1000, None), date(2026, 11, 20), remedy_cost=200)
    assert unknown.margin_rate is None and unknown.margin_percent is None and unknown.annual_margin == 0


def test_a_newer_client_with_a_rhythm_is_averaged_over_the_months_they_have_been_buying():
    sales = monthly(1000, 300, months=3)  # September, October, November
    econ = compute(sales, date(2026, 11, 20))
    assert econ.basis == RHYTHM and econ.months == 3 and econ.monthly_spend == 1000 and econ.annual_margin == 3600


def test_only_the_last_twelve_months_count_and_rounding_happens_once():
    old = [SaleFact(date(2024, 1, 10), 1_000_000, 500_000)]
    recent = [SaleFact(date(2026, 11, 1), 1000, 333)]
    econ = compute(old + recent, date(2026, 11, 20))
    assert econ.months == 12 and econ.basis == YEAR
    assert econ.monthly_spend == 83          # 1000 / 12 = 83.33
    assert econ.annual_margin == 333         # exact: 1000 × 0.333, not 83 × 0.333 × 12 = 331.67
    assert compute(old, date(2026, 11, 20)).annual_margin == 0  # bought long ago, nothing this year


def test_a_rhythm_is_rounded_once():
    # three purchases in three months, 1000 at 33.3 %: 3000 / 3 × 12 × 0.333 = 3996 exactly
    sales = monthly(1000, 333, months=3)
    assert compute(sales, date(2026, 11, 20)).annual_margin == 3996


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


def test_imported_purchases_count_in_the_spend_at_the_rate_of_the_real_sales():
    # an opening balance: 4 purchases of 10.000 (no margin recorded), one real sale at 25 %
    imported = [SaleFact(date(2026, m, 10), 10_000, None, imported=True) for m in (1, 4, 7, 9)]
    real = [SaleFact(date(2026, 11, 2), 20_000, 5_000)]
    econ = compute(imported + real, date(2026, 11, 20))
    # 11 months (January to November), 5 purchases: a rhythm. 60.000 / 11 × 12 × 25 % = 16.363,6 → 16.364
    assert econ.basis == RHYTHM and econ.imported == 4 and econ.purchases == 5
    assert econ.annual_margin == 16_364


def test_a_negative_value_kept_reads_with_the_minus_sign_in_front_in_chile_and_spain():
    """A remedy above the budget: 36.000 at stake − (50.000 − 3.000) = −11.000 kept."""
    from pymes.i18n import format_money

    pesos = compute(monthly(10_000, 3_000), date(2026, 11, 20), remedy_cost=50_000, sale_margin=3_000)
    assert pesos.value_kept == -11_000
    assert format_money(pesos.value_kept, "CLP", "es_CL") == "-$11.000"      # not "$-11.000"
    cents = compute(monthly(1000, 300), date(2026, 11, 20), remedy_cost=5000, sale_margin=300)
    assert cents.value_kept == 3600 - 4700 == -1100
    assert format_money(cents.value_kept, "EUR", "es_ES") == "-11,00\xa0€"
