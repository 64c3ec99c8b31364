"""Table-driven tests of the loyalty ladder: every boundary and the "why" sentence."""
from datetime import date, timedelta

import pytest
from flask_babel import force_locale

from pymes.clients.loyalty import APOSTLE, BUYER, FREQUENT, SPORADIC, TierRules, compute_tier, dropped, explain

TODAY = date(2026, 11, 25)
RULES = TierRules()


def ago(*days):
    return [TODAY - timedelta(days=d) for d in days]


@pytest.mark.parametrize("name, dates, score, referrals, tier, reason", [
    ("no sales", [], None, 0, None, "no_sales"),
    ("one purchase", ago(10), None, 0, BUYER, "single"),
    ("one purchase long ago", ago(400), None, 0, BUYER, "lapsed"),
    ("two purchases is sporadic", ago(10, 300), None, 0, SPORADIC, "irregular"),
    ("lapsed exactly at the limit stays", ago(365, 700), None, 0, SPORADIC, "irregular"),
    ("lapsed one day past the limit", ago(366, 700), None, 0, BUYER, "lapsed"),
    ("three regular purchases are not enough", ago(10, 100, 200), None, 0, SPORADIC, "irregular"),
    ("four purchases every 90 days", ago(10, 100, 190, 280), None, 0, FREQUENT, "frequent"),
    ("average gap exactly 120", ago(0, 120, 240, 360), None, 0, FREQUENT, "frequent"),
    ("average gap 121 is irregular", ago(0, 121, 242, 363), None, 0, SPORADIC, "irregular"),
    ("regular but last purchase 121 days ago", ago(121, 151, 181, 211), None, 0, SPORADIC, "not_recent"),
    ("regular and last purchase 120 days ago", ago(120, 150, 180, 210), None, 0, FREQUENT, "frequent"),
    ("purchases older than 12 months do not count", ago(10, 40, 70, 366), None, 0, SPORADIC, "irregular"),
    ("frequent with score 9 but no referral", ago(10, 40, 70, 100), 9, 0, FREQUENT, "frequent"),
    ("frequent with a referral but score 8", ago(10, 40, 70, 100), 8, 1, FREQUENT, "frequent"),
    ("frequent, score 9 and a referral", ago(10, 40, 70, 100), 9, 1, APOSTLE, "apostle"),
    ("score 10 and two referrals", ago(10, 40, 70, 100), 10, 2, APOSTLE, "apostle"),
    ("sporadic with score 10 and referrals stays sporadic", ago(10, 200), 10, 3, SPORADIC, "irregular"),
    ("future-dated sales are ignored", [TODAY + timedelta(days=5)], None, 0, None, "no_sales"),
])
def test_ladder(name, dates, score, referrals, tier, reason):
    result = compute_tier(dates, TODAY, score, referrals, RULES)
    assert (result.tier, result.reason) == (tier, reason), name


def test_thresholds_are_editable():
    strict = TierRules(frequent_min_purchases=6, apostle_min_referrals=0)
    four = ago(10, 40, 70, 100)
    assert compute_tier(four, TODAY, rules=strict).tier == SPORADIC
    six = ago(5, 20, 35, 50, 65, 80)
    assert compute_tier(six, TODAY, score=9, rules=strict).tier == APOSTLE


def test_facts_used_are_reported():
    result = compute_tier(ago(10, 100, 190, 280), TODAY)
    assert (result.purchases, result.purchases_12m, result.average_gap_days, result.days_since_last) == (4, 4, 90, 10)


@pytest.mark.parametrize("dates, score, referrals, sentence", [
    ([], None, 0, "No sales recorded yet: the first sale makes a one-off buyer."),
    (ago(10), None, 0, "1 purchase so far. A second purchase makes them a sporadic client."),
    (ago(400), None, 0, "1 purchase, the last one 400 days ago (more than 365): a new purchase brings them back."),
    (ago(10, 300), None, 0, "2 purchases, 2 in the last 12 months, not yet regular. "
                            "To become frequent: 2 more purchases in 12 months, about every 120 days."),
    (ago(121, 151, 181, 211), None, 0, "4 purchases, 4 in the last 12 months, not yet regular. To become frequent: "
                                       "buying again within 120 days (the last purchase was 121 days ago)."),
    (ago(0, 121, 242, 363), None, 0, "4 purchases, 4 in the last 12 months, not yet regular. To become frequent: "
                                     "buying about every 120 days (now every 121)."),
    (ago(10, 100, 190, 280), None, 0, "4 purchases in the last 12 months, every 90 days on average. To become an "
                                      "apostle: a satisfaction score of 9 or more and 1 referral who becomes a client or "
                                      "testimonial published with consent."),
    (ago(10, 100, 190, 280), 9, 0, "4 purchases in the last 12 months, every 90 days on average. To become an "
                                   "apostle: 1 referral who becomes a client or testimonial published with consent."),
    (ago(10, 40, 70, 100), 10, 2, "4 purchases in the last 12 months, every 30 days on average, a satisfaction "
                                  "score of 10 and 2 referrals converted: the top of the ladder."),
])
def test_why_sentence_in_english(app, dates, score, referrals, sentence):
    with app.test_request_context(), force_locale("en"):
        assert explain(compute_tier(dates, TODAY, score, referrals)) == sentence


@pytest.mark.parametrize("dates, score, tier, before", [
    ([], None, None, "No sales recorded yet: the first sale makes a one-off buyer."),
    (ago(10), None, BUYER, "1 purchase so far. A second purchase makes them a sporadic client."),
    (ago(400), None, BUYER, "1 purchase, the last one 400 days ago (more than 365): a new purchase brings them back."),
    (ago(10, 300), 10, SPORADIC, "2 purchases, 2 in the last 12 months, not yet regular. "
                                 "To become frequent: 2 more purchases in 12 months, about every 120 days."),
    (ago(10, 40, 70, 100), 8, FREQUENT, "4 purchases in the last 12 months, every 30 days on average. To become an "
                                        "apostle: a satisfaction score of 9 or more."),
])
@pytest.mark.parametrize("referrals, credit", [(1, "1 referral converted so far."),
                                               (2, "2 referrals converted so far.")])
def test_converted_referrals_are_credited_at_every_tier(app, dates, score, tier, before, referrals, credit):
    result = compute_tier(dates, TODAY, score, referrals)
    assert result.tier == tier
    with app.test_request_context(), force_locale("en"):
        assert explain(result) == f"{before} {credit}"


@pytest.mark.parametrize("referrals, words", [(1, "1 referido que ya es cliente"),
                                              (2, "2 referidos que ya son clientes")])
def test_the_credit_is_plural_correct_in_spanish(app, referrals, words):
    with app.test_request_context(), force_locale("es"):
        assert words in explain(compute_tier(ago(10, 300), TODAY, None, referrals))


def test_no_credit_is_mentioned_without_converted_referrals(app):
    with app.test_request_context(), force_locale("en"):
        assert "referral" not in explain(compute_tier(ago(10, 300), TODAY, None, 0))


def test_a_drop_is_detected():
    assert dropped(FREQUENT, SPORADIC) and dropped(APOSTLE, BUYER)
    assert not dropped(SPORADIC, FREQUENT) and not dropped(None, BUYER) and not dropped(BUYER, BUYER)


# --- issue 19, point 2: article 001 as it is written ------------------------------------------

YEARLY = [date(2024, 11, 4), date(2025, 10, 31), date(2026, 11, 12)]  # a workshop renewing its tools each year


@pytest.mark.parametrize("name, dates, score, referrals, testimonials, tier", [
    ("a published testimonial counts like a converted referral", ago(10, 40, 70, 100), 9, 0, 1, APOSTLE),
    ("two testimonials, no referral", ago(10, 40, 70, 100), 10, 0, 2, APOSTLE),
    ("a testimonial without the score is not enough", ago(10, 40, 70, 100), 8, 0, 1, FREQUENT),
    ("a testimonial does not make a sporadic client an apostle", ago(10, 200), 10, 0, 1, SPORADIC),
])
def test_a_published_testimonial_counts_toward_apostle(name, dates, score, referrals, testimonials, tier):
    result = compute_tier(dates, TODAY, score, referrals, RULES, testimonials=testimonials)
    assert result.tier == tier, name


def test_with_two_recommendations_required_a_referral_and_a_testimonial_make_them():
    rules = TierRules(apostle_min_referrals=2)
    four = ago(10, 40, 70, 100)
    assert compute_tier(four, TODAY, 9, 1, rules).tier == FREQUENT
    assert compute_tier(four, TODAY, 9, 1, rules, testimonials=1).tier == APOSTLE


def test_a_yearly_buyer_of_three_years_is_frequent_by_their_own_rhythm():
    # gaps 361 and 377 days, average 738 / 2 = 369; 25 % slack: 92 days; today is 13 days after the last purchase
    result = compute_tier(YEARLY, TODAY, None, 0, RULES)
    assert (result.tier, result.reason, result.regular_by, result.rhythm_days) == (FREQUENT, "frequent", "own", 369)
    # by the business's thresholds alone they never would: one purchase in 12 months
    assert result.purchases_12m == 1


def test_the_yearly_buyer_is_not_lapsed_until_their_rhythm_is_overdue():
    # 369 × 1.25 = 461 days after the last purchase (12 Nov 2026)
    due = date(2026, 11, 12) + timedelta(days=461)
    assert compute_tier(YEARLY, due, rules=RULES).tier == FREQUENT
    late = compute_tier(YEARLY, due + timedelta(days=1), rules=RULES)
    assert (late.tier, late.reason) == (BUYER, "lapsed")  # and past 365 days, the business's lapse
    # between 365 and 461 days they are not lapsed by the business's rule: their rhythm says wait
    assert compute_tier(YEARLY, date(2026, 11, 12) + timedelta(days=400), rules=RULES).tier == FREQUENT


@pytest.mark.parametrize("name, dates, tier", [
    ("two yearly purchases are no rhythm yet", YEARLY[1:], SPORADIC),
    ("three purchases within a year prove nothing", ago(10, 100, 200), SPORADIC),
    # gaps 546 and 195 days against an average of 370.5: 175 days off, more than 25 % (92.6)
    ("an unsteady gap breaks the rhythm", [date(2024, 11, 1), date(2026, 5, 1), date(2026, 11, 12)], SPORADIC),
])
def test_what_is_not_an_own_rhythm(name, dates, tier):
    assert compute_tier(dates, TODAY, rules=RULES).tier == tier, name


def test_the_own_rhythm_thresholds_are_editable():
    assert compute_tier(YEARLY, TODAY, rules=TierRules(rhythm_min_purchases=4)).tier == SPORADIC
    # gaps 361 and 377 against an average of 369: 8 days off, 2.2 %; a 2 % slack refuses it
    assert compute_tier(YEARLY, TODAY, rules=TierRules(rhythm_tolerance_percent=2)).tier == SPORADIC
    assert compute_tier(YEARLY, TODAY, rules=TierRules(rhythm_tolerance_percent=3)).tier == FREQUENT


@pytest.mark.parametrize("dates, score, referrals, testimonials, sentence", [
    (YEARLY, None, 0, 0, "3 purchases, steadily about every 369 days: their own rhythm. To become an apostle: a "
                         "satisfaction score of 9 or more and 1 referral who becomes a client or testimonial "
                         "published with consent."),
    (ago(10, 40, 70, 100), 9, 0, 1, "4 purchases in the last 12 months, every 30 days on average, a satisfaction "
                                    "score of 9 and 1 testimonial published: the top of the ladder."),
    (ago(10, 40, 70, 100), 10, 1, 2, "4 purchases in the last 12 months, every 30 days on average, a satisfaction "
                                     "score of 10 and 1 referral converted and 2 testimonials published: the top of "
                                     "the ladder."),
    (ago(10, 300), None, 0, 1, "2 purchases, 2 in the last 12 months, not yet regular. To become frequent: 2 more "
                               "purchases in 12 months, about every 120 days. 1 testimonial published so far."),
])
def test_the_why_sentence_names_what_was_used(app, dates, score, referrals, testimonials, sentence):
    with app.test_request_context(), force_locale("en"):
        assert explain(compute_tier(dates, TODAY, score, referrals, testimonials=testimonials)) == sentence


def test_an_overdue_rhythm_is_explained_by_the_rhythm(app):
    # every 200 days (span 400: over a year), due by 250 days after the last; it has been 300,
    # which is not yet the business's lapse (365)
    every_200 = ago(700, 500, 300)
    result = compute_tier(every_200, TODAY, rules=RULES)
    assert (result.tier, result.reason, result.rhythm_days) == (SPORADIC, "not_recent", 200)
    with app.test_request_context(), force_locale("en"):
        assert explain(result) == ("3 purchases, 1 in the last 12 months, not yet regular. To become frequent: "
                                   "buying again: by their own rhythm (about every 200 days) the next purchase was "
                                   "due by day 250, and it has been 300 days.")
