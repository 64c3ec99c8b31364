"""The loyalty ladder: Comprador → Esporádico → Frecuente → Incondicional (apóstol).

``compute_tier`` is a pure function of the sales history, the latest satisfaction
score, the converted referrals and the published testimonials, with thresholds a
business can edit. It returns the facts it used, so the client page can say in one
sentence why the client has that tier and what would move them up (``explain``).

Article 001 read as rule 11 of the domain: the apostle "recommends us and gives
testimony", so a testimonial published with the client's consent counts like a referral
who became a client; and a frequent client buys regularly *by their own rhythm* as well
as by the business's thresholds: a workshop that renews its tools every year, and has
done so three years running, is a frequent client of that shop (``own_rhythm``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

BUYER, SPORADIC, FREQUENT, APOSTLE = "buyer", "sporadic", "frequent", "apostle"
TIERS = (BUYER, SPORADIC, FREQUENT, APOSTLE)
RANK = {None: 0, BUYER: 1, SPORADIC: 2, FREQUENT: 3, APOSTLE: 4}

TIER_LABELS = {
    BUYER: _l("One-off buyer"),
    SPORADIC: _l("Sporadic client"),
    FREQUENT: _l("Frequent client"),
    APOSTLE: _l("Unconditional client (apostle)"),
}

WINDOW_DAYS = 365


@dataclass(frozen=True)
class TierRules:
    """Thresholds, editable per business. The defaults follow the articles: repeat
    buying makes a sporadic client, regular buying a frequent one (by the business's
    thresholds, or steadily by the client's own rhythm over a year or more), and
    recommending the business (a high score and a converted referral or a published
    testimonial) an apostle."""

    sporadic_min_purchases: int = 2      # purchases ever
    frequent_min_purchases: int = 4      # purchases in the last 12 months
    frequent_max_gap_days: int = 120     # average days between them, and since the last one
    lapsed_after_days: int = 365         # no purchase for longer: back to one-off buyer
    apostle_min_score: int = 9           # latest satisfaction score (0-10)
    apostle_min_referrals: int = 1       # referrals that became clients or testimonials published
    rhythm_min_purchases: int = 3        # own rhythm: this many purchases, the first and last a year apart or more
    rhythm_tolerance_percent: int = 25   # …each gap within this share of their average gap, and not overdue by more

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TierResult:
    tier: str | None
    purchases: int
    purchases_12m: int
    average_gap_days: int | None
    days_since_last: int | None
    score: int | None
    referrals: int
    reason: str  # a code: no_sales, lapsed, single, irregular, not_recent, frequent, apostle
    imported: int = 0  # purchases taken from an imported spreadsheet's summary (opening_dates)
    testimonials: int = 0  # testimonials published with consent: they count like converted referrals
    rhythm_days: int | None = None  # the client's own steady rhythm (average days between purchases), if any
    regular_by: str | None = None  # "business" (the thresholds), "own" (their own rhythm) or None

    @property
    def recommendations(self) -> int:
        """Converted referrals and published testimonials: what makes an apostle."""
        return self.referrals + self.testimonials


def own_rhythm(dates: list[date], rules: TierRules = TierRules()) -> int | None:
    """The client's own steady rhythm, in days, or None. Their last
    ``rhythm_min_purchases`` purchases must span a year or more (a rhythm proven over
    time, not three purchases in a month) and every gap between them must be within
    ``rhythm_tolerance_percent`` of their average gap. A yearly buyer who bought in
    March 2024, March 2025 and February 2026 has a rhythm of about 350 days."""
    if rules.rhythm_min_purchases < 2 or len(dates) < rules.rhythm_min_purchases:
        return None
    recent = dates[-rules.rhythm_min_purchases:]
    span = (recent[-1] - recent[0]).days
    if span < WINDOW_DAYS:
        return None
    average = span / (len(recent) - 1)
    slack = average * rules.rhythm_tolerance_percent / 100
    if any(abs((b - a).days - average) > slack for a, b in zip(recent, recent[1:], strict=False)):
        return None
    return round(average)


def _due_by(rhythm: int, rules: TierRules) -> int:
    """Days after the last purchase by which a client with this rhythm buys again."""
    return int(rhythm * (100 + rules.rhythm_tolerance_percent) / 100)


def opening_dates(purchases: int, last_on: date, first_on: date | None = None,
                  real_dates: list[date] | tuple = ()) -> list[date]:
    """The purchase dates an imported summary stands for ("12 purchases, the last on
    20/11"): ``purchases`` dates spread evenly from ``first_on`` to ``last_on`` or, when
    the sheet gives no first purchase, over the year before the last one (a shop's sheet
    of "N° compras" is a yearly rhythm more often than a lifetime count; a client whose
    count is lifetime and old shows as more regular than they are until real sales
    replace the figures). Real sales replace them: no date from the first real sale's
    date on is kept, so a sale the import itself made from "Monto" on the last purchase's
    day is that purchase, not one more."""
    if purchases <= 0:
        return []
    if purchases == 1:
        dates = [last_on]
    else:
        start = first_on if first_on is not None and first_on < last_on else last_on - timedelta(days=WINDOW_DAYS - 1)
        span = (last_on - start).days
        dates = [last_on - timedelta(days=round(i * span / (purchases - 1))) for i in range(purchases)]
    if real_dates:
        first_real = min(real_dates)
        dates = [d for d in dates if d < first_real]
    return sorted(dates)


def compute_tier(purchase_dates: list[date], today: date, score: int | None = None, converted_referrals: int = 0,
                 rules: TierRules = TierRules(), imported: int = 0, testimonials: int = 0) -> TierResult:
    """``imported`` says how many of ``purchase_dates`` came from an imported summary
    (``opening_dates``); the why-sentence names them. ``testimonials`` are the client's
    testimonials published with consent (approved, allowed, not revoked).

    Regular means either the business's thresholds (enough purchases in 12 months, close
    enough together, the last one recent enough) or the client's own steady rhythm
    (``own_rhythm``) with the next purchase not overdue by it. A client with their own
    rhythm is not lapsed while that rhythm says the next purchase is not due yet."""
    dates = sorted(d for d in purchase_dates if d <= today)
    facts = dict(purchases=len(dates), score=score, referrals=converted_referrals, imported=imported,
                 testimonials=testimonials)
    if not dates:
        return TierResult(None, purchases_12m=0, average_gap_days=None, days_since_last=None, reason="no_sales",
                          **facts)
    facts.update(_timing(dates, today, rules))
    since_last, rhythm = facts["days_since_last"], facts["rhythm_days"]
    on_rhythm = rhythm is not None and since_last <= _due_by(rhythm, rules)
    if since_last > rules.lapsed_after_days and not on_rhythm:
        return TierResult(BUYER, reason="lapsed", **facts)
    regular = _regular_by_thresholds(facts, rules)
    by = "business" if regular and since_last <= rules.frequent_max_gap_days else "own" if on_rhythm else None
    if by is not None:
        tier = APOSTLE if _recommends(score, converted_referrals + testimonials, rules) else FREQUENT
        return TierResult(tier, reason=tier, regular_by=by, **facts)
    if len(dates) >= rules.sporadic_min_purchases:
        return TierResult(SPORADIC, reason="not_recent" if regular or rhythm else "irregular", **facts)
    return TierResult(BUYER, reason="single", **facts)


def _timing(dates: list[date], today: date, rules: TierRules) -> dict:
    """How the client buys: purchases in the last 12 months, their average gap, the days
    since the last one and the client's own rhythm (``dates`` sorted, not empty)."""
    window = [d for d in dates if d > today - timedelta(days=WINDOW_DAYS)]
    gaps = [(b - a).days for a, b in zip(window, window[1:], strict=False)]
    return dict(purchases_12m=len(window), average_gap_days=round(sum(gaps) / len(gaps)) if gaps else None,
                days_since_last=(today - dates[-1]).days, rhythm_days=own_rhythm(dates, rules))


def _regular_by_thresholds(facts: dict, rules: TierRules) -> bool:
    """Enough purchases in 12 months, close enough together on average."""
    average_gap = facts["average_gap_days"]
    return (facts["purchases_12m"] >= rules.frequent_min_purchases and average_gap is not None
            and average_gap <= rules.frequent_max_gap_days)


def _recommends(score: int | None, recommendations: int, rules: TierRules) -> bool:
    """An apostle's mark: a high score and enough referrals converted or testimonials published."""
    return score is not None and score >= rules.apostle_min_score and recommendations >= rules.apostle_min_referrals


def explain(result: TierResult, rules: TierRules = TierRules()) -> str:
    """One sentence: why the client has this tier, then what would move them up. The
    friends they referred who became clients, and the testimonials they gave that are
    published, are credited at every tier, not only at the top."""
    why = _why(result, rules)
    if result.recommendations and result.reason != "apostle":  # the apostle's sentence names them already
        why = _("%(why)s %(referrals)s so far.", why=why, referrals=_recommendations(result))
    if result.imported and result.reason != "no_sales":
        why = _("%(why)s (%(source)s)", why=why, source=ngettext(
            "%(num)d purchase according to the imported spreadsheet, until real sales replace it",
            "%(num)d purchases according to the imported spreadsheet, until real sales replace them",
            result.imported))
    return why


def _recommendations(r: TierResult) -> str:
    """"2 referrals converted", "1 testimonial published" or both, joined."""
    parts = []
    if r.referrals:
        parts.append(ngettext("%(num)d referral converted", "%(num)d referrals converted", r.referrals))
    if r.testimonials:
        parts.append(ngettext("%(num)d testimonial published", "%(num)d testimonials published", r.testimonials))
    return _(" and ").join(parts)


def _regular(r: TierResult, rules: TierRules) -> str:
    """What made the client regular: the business's thresholds or their own rhythm."""
    if r.regular_by == "own":
        return ngettext("%(num)d purchases, steadily about every %(days)d days: their own rhythm",
                        "%(num)d purchases, steadily about every %(days)d days: their own rhythm",
                        rules.rhythm_min_purchases, days=r.rhythm_days or 0)
    return _("%(num)d purchases in the last 12 months, every %(avg)d days on average",
             num=r.purchases_12m, avg=r.average_gap_days or 0)


def _why(result: TierResult, rules: TierRules) -> str:
    r = result
    if r.reason == "no_sales":
        return _("No sales recorded yet: the first sale makes a one-off buyer.")
    bought = ngettext("%(num)d purchase", "%(num)d purchases", r.purchases)
    if r.reason == "lapsed":
        return _("%(bought)s, the last one %(days)d days ago (more than %(limit)d): a new purchase brings them back.",
                 bought=bought, days=r.days_since_last, limit=rules.lapsed_after_days)
    if r.reason == "single":
        return _("%(bought)s so far. A second purchase makes them a sporadic client.", bought=bought)
    if r.reason in ("irregular", "not_recent"):
        recent = ngettext("%(num)d in the last 12 months", "%(num)d in the last 12 months", r.purchases_12m)
        if r.reason == "not_recent" and r.rhythm_days is not None:
            need = _("buying again: by their own rhythm (about every %(rhythm)d days) the next purchase was due by "
                     "day %(due)d, and it has been %(days)d days",
                     rhythm=r.rhythm_days, due=_due_by(r.rhythm_days, rules), days=r.days_since_last)
        elif r.reason == "not_recent":
            need = _("buying again within %(gap)d days (the last purchase was %(days)d days ago)",
                     gap=rules.frequent_max_gap_days, days=r.days_since_last)
        else:
            missing = max(rules.frequent_min_purchases - r.purchases_12m, 0)
            need = ngettext("%(num)d more purchase in 12 months, about every %(gap)d days",
                            "%(num)d more purchases in 12 months, about every %(gap)d days", missing,
                            gap=rules.frequent_max_gap_days) if missing else \
                _("buying about every %(gap)d days (now every %(avg)d)", gap=rules.frequent_max_gap_days,
                  avg=r.average_gap_days or 0)
        return _("%(bought)s, %(recent)s, not yet regular. To become frequent: %(need)s.",
                 bought=bought, recent=recent, need=need)
    regular = _regular(r, rules)
    if r.reason == "frequent":
        wants = []
        if r.score is None or r.score < rules.apostle_min_score:
            wants.append(_("a satisfaction score of %(min)d or more", min=rules.apostle_min_score))
        if r.recommendations < rules.apostle_min_referrals:
            wants.append(ngettext("%(num)d referral who becomes a client or testimonial published with consent",
                                  "%(num)d referrals who become clients or testimonials published with consent",
                                  rules.apostle_min_referrals - r.recommendations))
        return _("%(regular)s. To become an apostle: %(wants)s.", regular=regular, wants=_(" and ").join(wants))
    return _("%(regular)s, a satisfaction score of %(score)d and %(referrals)s: the top of the ladder.",
             regular=regular, score=r.score, referrals=_recommendations(r))


def dropped(old: str | None, new: str | None) -> bool:
    return RANK[new] < RANK[old]
