"""Issue 9: the dashboard's filters (period, seller, portfolio, territory), the NPS
response rate, the complaint figures and the 12-month trends, each on a small hand-made
book with the expected numbers worked out by hand in the comments.

The book: sellers S1 and S2; portfolio P, territory T.
    a: S1, P, T     b: S1     c: S2, P     d: S2, T
"""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pymes.clients.models import Client, TierChange
from pymes.complaints.models import Complaint
from pymes.dashboard import figures
from pymes.dashboard.figures import Filters
from pymes.extensions import db
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.referrals.models import Referral
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.territories.models import Portfolio, Territory
from pymes.visits.models import Activity

from ..factories import statements

SANTIAGO = ZoneInfo("America/Santiago")   # UTC-3 in November
TODAY = date(2026, 11, 25)


def utc(y, m, d, h=15):
    return datetime(y, m, d, h, tzinfo=UTC)


@pytest.fixture
def book(app, make):
    business, owner, _manager, s1 = make.team()
    s2 = make.user(business, "seller", name="Segunda")
    with app.app_context(), bound(business.id):
        p, t = Portfolio(name="P"), Territory(name="T")
        db.session.add_all([p, t])
        db.session.flush()
        a = Client(name="a", seller_id=s1.id, portfolio_id=p.id, territory_id=t.id)
        b = Client(name="b", seller_id=s1.id)
        c = Client(name="c", seller_id=s2.id, portfolio_id=p.id)
        d = Client(name="d", seller_id=s2.id, territory_id=t.id)
        db.session.add_all([a, b, c, d])
        db.session.commit()
        ids = dict(business=business.id, owner=owner, s1=s1.id, s2=s2.id, p=p.id, t=t.id,
                   a=a.id, b=b.id, c=c.id, d=d.id)
    return ids


def link(client_id, sent, score=None, answered=None, how="email"):
    """A feedback link made at ``sent``: e-mailed (sent then), "shared" from the seller's
    phone, "opened" by the customer without the seller marking it, or "unshared": shown to
    the seller and never sent (issue 19: not among the links sent unless answered)."""
    row = FeedbackLink(client_id=client_id, expires_at=sent + timedelta(days=30), created_at=sent,
                       sent_by="email" if how == "email" else "share",
                       sent_at=sent + timedelta(minutes=1) if how in ("email", "shared") else None,
                       opened_at=sent + timedelta(hours=1) if how == "opened" else None)
    db.session.add(row)
    db.session.flush()
    if score is not None:
        db.session.add(FeedbackResponse(link_id=row.id, client_id=client_id, score=score,
                                        created_at=answered or sent + timedelta(hours=2)))


def test_nps_and_response_rate_under_each_filter(app, book):
    k = book
    with app.app_context(), bound(k["business"]):
        # sent on 10 November: a twice (one e-mailed, answered 10; one shared from the phone),
        # b (never marked as shared, but answered 3: it reached them), c (opened, unanswered),
        # d (answered 9); and two links made for b and c and never sent, which do not count
        link(k["a"], utc(2026, 11, 10), 10)
        link(k["a"], utc(2026, 11, 10), how="shared")
        link(k["b"], utc(2026, 11, 10), 3, how="unshared")
        link(k["c"], utc(2026, 11, 10), how="opened")
        link(k["d"], utc(2026, 11, 10), 9)
        link(k["b"], utc(2026, 11, 10), how="unshared")
        link(k["c"], utc(2026, 11, 10), how="unshared")
        link(k["c"], utc(2026, 7, 1), 8)            # July: only in the 365 days
        db.session.commit()

        def fb(**kw):
            return figures.feedback(TODAY, SANTIAGO, Filters(**kw))

        month = fb(days=30)
        # answers 10, 3, 9: 2 promoters - 1 detractor of 3 → 33; links sent 5 (7 made, 2 never
        # sent), answered 3 → 60 % (counting every link made would have said 3 of 7, 43 %)
        assert (month.answers, month.nps, month.links, month.answered) == (3, 33, 5, 3)
        assert month.response_rate == pytest.approx(0.6)
        year = fb(days=365)                         # + the 8 (passive): (2 - 1) / 4 → 25; 4 of 6 links
        assert (year.nps, year.answered, year.links) == (25, 4, 6)
        s1 = fb(days=30, seller_id=k["s1"])          # a, b: 10 and 3 → 0; 2 of 3 links
        assert (s1.nps, s1.answered, s1.links) == (0, 2, 3)
        s2 = fb(days=30, seller_id=k["s2"])          # c, d: 9 → 100; 1 of 2 links
        assert (s2.nps, s2.answered, s2.links) == (100, 1, 2)
        p = fb(days=30, portfolio_id=k["p"])         # a, c: 10 → 100; 1 of 3 links
        assert (p.nps, p.answered, p.links) == (100, 1, 3)
        t = fb(days=30, territory_id=k["t"])         # a, d: 10 and 9 → 100; 2 of 3 links
        assert (t.nps, t.answered, t.links) == (100, 2, 3)
        assert fb(days=30, seller_id=k["s1"], territory_id=k["t"]).links == 2    # a only


def test_sales_figures_follow_the_sale_s_seller_and_the_client_s_portfolio_and_territory(app, book):
    k = book
    with app.app_context(), bound(k["business"]):
        for client, seller, back, amount in (("a", "s1", 10, 1000), ("a", "s1", 40, 1000), ("b", "s1", 5, 3000),
                                             ("c", "s2", 20, 6000), ("c", "s1", 100, 500), ("d", "s2", 200, 2000)):
            db.session.add(Sale(client_id=k[client], seller_id=k[seller], sold_on=TODAY - timedelta(days=back),
                                description="x", amount=amount))
        # d came referred by a (converted in June); c referred a prospect this month
        db.session.get(Client, k["d"]).referred_by_id = k["a"]
        e = Client(name="e", kind="prospect", seller_id=k["s2"])
        db.session.add(e)
        db.session.flush()
        db.session.add_all([
            Referral(referrer_id=k["a"], prospect_id=k["d"], name="d", email="d@example.com", status="converted",
                     created_at=utc(2026, 6, 1), converted_at=utc(2026, 6, 10)),
            Referral(referrer_id=k["c"], prospect_id=e.id, name="e", email="e@example.com",
                     created_at=utc(2026, 11, 20))])
        db.session.commit()

        def f(**kw):
            return Filters(**kw)

        # a 2 sales, b 1, c 2, d 1 → 2 of 4 bought twice
        assert figures.repeat_rate(TODAY, f()) == (2, 4)
        assert figures.repeat_rate(TODAY, f(days=90)) == (1, 3)       # a (10, 40 days), b, c (20 days)
        assert figures.repeat_rate(TODAY, f(days=30)) == (0, 3)       # a, b, c once each
        assert figures.repeat_rate(TODAY, f(seller_id=k["s1"])) == (1, 3)   # S1 sold to a ×2, b, c
        assert figures.repeat_rate(TODAY, f(seller_id=k["s2"])) == (0, 2)   # S2 sold to c, d
        assert figures.repeat_rate(TODAY, f(portfolio_id=k["p"])) == (2, 2)  # a, c
        assert figures.repeat_rate(TODAY, f(territory_id=k["t"])) == (1, 2)  # a ×2, d
        # key clients: c 6,500, b 3,000, a 2,000 (before d's 2,000: lower id) = 11,500 of 13,500 ≥ 80 %
        assert figures.key_share(TODAY, f()) == (3, pytest.approx(11500 / 13500))
        # S1's sales: b 3,000, a 2,000 = 5,000 of 5,500
        assert figures.key_share(TODAY, f(seller_id=k["s1"])) == (2, pytest.approx(5000 / 5500))
        assert figures.key_share(TODAY, f(days=30)) == (2, pytest.approx(9000 / 10000))   # c 6,000 + b 3,000 of 10,000
        # referrals: made (and converted) by the referrer's seller; revenue by the sale's seller
        r = figures.referrals(TODAY, SANTIAGO, f())
        assert (r.made, r.converted, r.revenue) == (2, 1, 2000)
        r = figures.referrals(TODAY, SANTIAGO, f(days=30))
        assert (r.made, r.converted, r.revenue) == (1, 0, 0)
        r = figures.referrals(TODAY, SANTIAGO, f(seller_id=k["s1"]))
        assert (r.made, r.converted, r.revenue) == (1, 1, 0)                # d's sale was S2's
        r = figures.referrals(TODAY, SANTIAGO, f(seller_id=k["s2"]))
        assert (r.made, r.converted, r.revenue) == (1, 0, 2000)
        r = figures.referrals(TODAY, SANTIAGO, f(portfolio_id=k["p"]))
        assert (r.made, r.converted, r.revenue) == (2, 1, 0)                # a and c referred; d is not in P
        r = figures.referrals(TODAY, SANTIAGO, f(territory_id=k["t"]))
        assert (r.made, r.converted, r.revenue) == (1, 1, 2000)


def test_follow_up_tier_moves_and_who_dropped_under_each_filter(app, book):
    k = book
    with app.app_context(), bound(k["business"]):
        def act(client, seller, due, status, done=None):
            db.session.add(Activity(client_id=k[client], seller_id=k[seller], kind="call", purpose="follow_up",
                                    due_on=due, status=status, done_at=done))

        act("a", "s1", date(2026, 11, 20), "done", utc(2026, 11, 20))          # on time
        act("a", "s1", date(2026, 11, 21), "done", utc(2026, 11, 22, 2))       # 21 Nov 23:00 in Santiago: on time
        act("b", "s1", date(2026, 11, 22), "planned")                           # due, not done
        act("c", "s2", date(2026, 11, 23), "done", utc(2026, 11, 24))          # late
        act("d", "s2", date(2026, 10, 1), "done", utc(2026, 10, 1))            # on time, 55 days ago
        act("c", "s2", date(2026, 11, 20), "cancelled")                         # not counted
        act("a", "s1", TODAY, "planned")                                        # due today: not yet counted
        # this month: a up, b down, c down, d up; last month another of a's moves (not counted)
        for client, old, new, when in (("a", "buyer", "sporadic", utc(2026, 11, 3)),
                                       ("b", "frequent", "sporadic", utc(2026, 11, 4)),
                                       ("c", "sporadic", "buyer", utc(2026, 11, 5)),
                                       ("d", "buyer", "sporadic", utc(2026, 11, 6)),
                                       ("a", "sporadic", "buyer", utc(2026, 10, 20))):
            db.session.add(TierChange(client_id=k[client], old_tier=old, new_tier=new, source="computed",
                                      created_at=when))
        for name in ("b", "c"):
            db.session.get(Client, k[name]).tier_dropped_at = utc(2026, 11, 5)
        db.session.commit()

        def fu(**kw):
            return figures.followup(TODAY, SANTIAGO, Filters(**kw))

        assert fu(days=30) == (2, 4)                         # a, a on time of a, a, b, c
        assert fu(days=90) == (3, 5)                         # + d's
        assert fu(days=30, seller_id=k["s1"]) == (2, 3)
        assert fu(days=30, seller_id=k["s2"]) == (0, 1)
        assert fu(days=90, territory_id=k["t"]) == (3, 3)    # a, a, d
        assert fu(days=90, portfolio_id=k["p"]) == (2, 3)    # a, a, c

        def moves(**kw):
            return figures.tier_moves(TODAY, SANTIAGO, Filters(**kw))

        assert moves() == (2, 2)
        assert moves(seller_id=k["s1"]) == (1, 1)
        assert moves(portfolio_id=k["p"]) == (1, 1)
        assert moves(territory_id=k["t"]) == (2, 0)
        assert figures.dropped(Filters()) == 2
        assert figures.dropped(Filters(seller_id=k["s1"])) == 1
        assert figures.dropped(Filters(territory_id=k["t"])) == 0


def test_complaints_median_time_to_resolve_and_recovery_under_each_filter(app, book):
    k = book
    with app.app_context(), bound(k["business"]):
        def case(client, opened, resolved=None, cost=0, kept=0):
            db.session.add(Complaint(client_id=k[client], opened_at=opened, ack_due_at=opened + timedelta(days=1),
                                     resolve_due_at=opened + timedelta(days=7), resolved_at=resolved,
                                     status="resolved" if resolved else "open",
                                     remedy="apology" if resolved else None, remedy_cost=cost, value_kept=kept))

        case("a", utc(2026, 11, 1), utc(2026, 11, 3), cost=1000, kept=5000)  # 2 days; bought on 15 Nov: recovered
        case("b", utc(2026, 11, 5), utc(2026, 11, 9), cost=500, kept=700)    # 4 days; answered 3 after: not recovered
        case("c", utc(2026, 11, 10), utc(2026, 11, 16))                      # 6 days; too early to say
        case("d", utc(2026, 11, 12))                                          # still open
        case("a", utc(2026, 7, 1), utc(2026, 7, 11))                         # 10 days; 90 days passed, nothing: lost
        db.session.add(Sale(client_id=k["a"], sold_on=date(2026, 11, 15), description="x", amount=100))
        link(k["b"], utc(2026, 11, 11), 3, answered=utc(2026, 11, 12))
        db.session.commit()

        def cs(**kw):
            return figures.complaints(TODAY, SANTIAGO, Filters(**kw))

        month = cs(days=30)
        # opened 4, resolved 3, median of 2, 4, 6 days = 4; a recovered, b not, c unknown → 1 of 2
        assert (month.opened, month.resolved, month.median_resolve_days) == (4, 3, pytest.approx(4))
        assert (month.recovered, month.recovery_known, month.recovery_rate) == (1, 2, 0.5)
        assert (month.remedy_cost, month.value_kept) == (1500, 5000)
        year = cs(days=365)                    # + July's: median of 2, 4, 6, 10 = 5; 1 of 3 recovered
        assert (year.median_resolve_days, year.recovered, year.recovery_known) == (pytest.approx(5), 1, 3)
        s1 = cs(days=30, seller_id=k["s1"])     # a, b: median 3, 1 of 2
        assert (s1.median_resolve_days, s1.recovery_rate) == (pytest.approx(3), 0.5)
        s2 = cs(days=30, seller_id=k["s2"])     # c resolved in 6, d open; nothing known yet
        assert (s2.opened, s2.median_resolve_days, s2.recovery_rate) == (2, pytest.approx(6), None)
        t = cs(days=30, territory_id=k["t"])    # a, d
        assert (t.opened, t.resolved, t.recovered, t.value_kept) == (2, 1, 1, 5000)


def _counted(app, call):
    with statements(app) as seen:
        result = call()
    return result, len(seen)


def test_each_trend_is_one_statement_and_buckets_by_the_business_s_months(app, book):
    k = book
    with app.app_context(), bound(k["business"]):
        link(k["a"], utc(2026, 11, 10), 10)
        link(k["b"], utc(2026, 11, 11), 6)
        link(k["c"], utc(2026, 11, 12))
        link(k["c"], utc(2026, 11, 12), how="unshared")  # made, never sent: not in the total
        link(k["d"], utc(2026, 11, 1, 1), 9, answered=utc(2026, 11, 1, 1))  # 31 October, 22:00 in Santiago
        link(k["d"], utc(2025, 11, 20), 9)          # 13 months ago: outside the trend
        for client, old, new, when in (("a", "buyer", "sporadic", utc(2026, 11, 3)),
                                       ("b", "frequent", "sporadic", utc(2026, 11, 4)),
                                       ("c", "sporadic", "buyer", utc(2026, 10, 5)),
                                       ("c", "frequent", "sporadic", utc(2026, 10, 6)),   # c down twice: once
                                       ("a", "buyer", "sporadic", utc(2026, 10, 7)),
                                       ("d", None, "buyer", utc(2026, 9, 15))):           # first tier: no move
            db.session.add(TierChange(client_id=k[client], old_tier=old, new_tier=new, source="computed",
                                      created_at=when))
        for client, seller, due, status, done in (
                ("a", "s1", date(2026, 11, 20), "done", utc(2026, 11, 20)),
                ("a", "s1", date(2026, 11, 21), "done", utc(2026, 11, 22, 2)),
                ("b", "s1", date(2026, 11, 22), "planned", None),
                ("c", "s2", date(2026, 10, 5), "done", utc(2026, 10, 7)),
                ("a", "s1", TODAY, "planned", None)):
            db.session.add(Activity(client_id=k[client], seller_id=k[seller], kind="visit", purpose="follow_up",
                                    due_on=due, status=status, done_at=done))
        db.session.add_all([
            Referral(referrer_id=k["a"], prospect_id=k["d"], name="d", email="d@example.com", status="converted",
                     created_at=utc(2026, 6, 1), converted_at=utc(2026, 8, 10)),
            Referral(referrer_id=k["c"], prospect_id=k["b"], name="b", email="b@example.com", created_at=utc(2026, 11, 20))])
        db.session.commit()
        nov, oct_, sep, aug, jun = (date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1), date(2026, 8, 1),
                                    date(2026, 6, 1))
        everyone, only_s2 = Filters(), Filters(seller_id=k["s2"])

        responses, n = _counted(app, lambda: {m.month: m for m in
                                               figures.response_trend(TODAY, SANTIAGO, everyone)})
        assert n == 1 and len(responses) == 12
        assert (responses[nov].part, responses[nov].total) == (2, 3)      # a and b of a, b, c
        assert responses[oct_].rate == 1 and responses[sep].rate is None
        assert figures.response_trend(TODAY, SANTIAGO, only_s2)[-1].total == 1   # c's, unanswered
        nps, n = _counted(app, lambda: {m.month: m for m in figures.nps_trend(TODAY, SANTIAGO, only_s2)})
        assert n == 1 and nps[oct_].nps == 100 and nps[nov].answers == 0   # d's 9 in October; c never answered

        moves, n = _counted(app, lambda: {m: (up, down) for m, up, down in
                                          figures.moves_trend(TODAY, SANTIAGO, everyone)})
        assert n == 1
        assert moves[nov] == (1, 1) and moves[oct_] == (1, 1) and moves[sep] == (0, 0)
        assert figures.moves_trend(TODAY, SANTIAGO, only_s2)[-2][1:] == (0, 1)   # October: c down once

        follow, n = _counted(app, lambda: {m.month: m for m in figures.followup_trend(TODAY, SANTIAGO, everyone)})
        assert n == 1
        assert (follow[nov].part, follow[nov].total) == (2, 3) and (follow[oct_].part, follow[oct_].total) == (0, 1)
        assert follow[sep].rate is None

        refs, n = _counted(app, lambda: {m: (made, won) for m, made, won in
                                         figures.referral_trend(TODAY, SANTIAGO, everyone)})
        assert n == 1
        assert refs[jun] == (1, 0) and refs[aug] == (0, 1) and refs[nov] == (1, 0)
        assert figures.referral_trend(TODAY, SANTIAGO, only_s2)[-1][1:] == (1, 0)   # c's referral
