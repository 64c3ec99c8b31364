"""The loyalty ladder: Comprador → Esporádico → Frecuente → Incondicional (apóstol).

``compute_tier`` is a pure function of the sales history, the latest satisfaction
score and the converted referrals, with thresholds a business can edit. It returns
the facts it used, so the client page can say in one sentence why the client has
that tier and what would move them up (``explain``)."""
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
    buying makes a sporadic client, regular buying a frequent one, and recommending
    the business (a high score and a converted referral) an apostle."""

    sporadic_min_purchases: int = 2      # purchases ever
    frequent_min_purchases: int = 4      # purchases in the last 12 months
    frequent_max_gap_days: int = 120     # average days between them, and since the last one
    lapsed_after_days: int = 365         # no purchase for longer: back to one-off buyer
    apostle_min_score: int = 9           # latest satisfaction score (0-10)
    apostle_min_referrals: int = 1       # referrals that became clients

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
                 rules: TierRules = TierRules(), imported: int = 0) -> TierResult:
    """``imported`` says how many of ``purchase_dates`` came from an imported summary
    (``opening_dates``); the why-sentence names them."""
    dates = sorted(d for d in purchase_dates if d <= today)
    facts = dict(purchases=len(dates), score=score, referrals=converted_referrals, imported=imported)
    if not dates:
        return TierResult(None, purchases_12m=0, average_gap_days=None, days_since_last=None, reason="no_sales",
                          **facts)
    since_last = (today - dates[-1]).days
    window = [d for d in dates if d > today - timedelta(days=WINDOW_DAYS)]
    gaps = [(b - a).days for a, b in zip(window, window[1:])]
    average_gap = round(sum(gaps) / len(gaps)) if gaps else None
    facts.update(purchases_12m=len(window), average_gap_days=average_gap, days_since_last=since_last)

    if since_last > rules.lapsed_after_days:
        return TierResult(BUYER, reason="lapsed", **facts)
    regular = (len(window) >= rules.frequent_min_purchases and average_gap is not None
               and average_gap <= rules.frequent_max_gap_days)
    if regular and since_last <= rules.frequent_max_gap_days:
        if (score is not None and score >= rules.apostle_min_score
                and converted_referrals >= rules.apostle_min_referrals):
            return TierResult(APOSTLE, reason="apostle", **facts)
        return TierResult(FREQUENT, reason="frequent", **facts)
    if len(dates) >= rules.sporadic_min_purchases:
        return TierResult(SPORADIC, reason="not_recent" if regular else "irregular", **facts)
    return TierResult(BUYER, reason="single", **facts)


def explain(result: TierResult, rules: TierRules = TierRules()) -> str:
    """One sentence: why the client has this tier, then what would move them up. The
    friends they referred who became clients are credited at every tier, not only at
    the top."""
    why = _why(result, rules)
    if result.referrals and result.reason != "apostle":  # the apostle's sentence names them already
        converted = ngettext("%(num)d referral converted", "%(num)d referrals converted", result.referrals)
        why = _("%(why)s %(referrals)s so far.", why=why, referrals=converted)
    if result.imported and result.reason != "no_sales":
        why = _("%(why)s (%(source)s)", why=why, source=ngettext(
            "%(num)d purchase according to the imported spreadsheet, until real sales replace it",
            "%(num)d purchases according to the imported spreadsheet, until real sales replace them",
            result.imported))
    return why


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
        if r.reason == "not_recent":
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
    regular = _("%(num)d purchases in the last 12 months, every %(avg)d days on average",
                num=r.purchases_12m, avg=r.average_gap_days or 0)
    if r.reason == "frequent":
        wants = []
        if r.score is None or r.score < rules.apostle_min_score:
            wants.append(_("a satisfaction score of %(min)d or more", min=rules.apostle_min_score))
        if r.referrals < rules.apostle_min_referrals:
            wants.append(ngettext("%(num)d referral who becomes a client", "%(num)d referrals who become clients",
                                  rules.apostle_min_referrals - r.referrals))
        return _("%(regular)s. To become an apostle: %(wants)s.", regular=regular, wants=_(" and ").join(wants))
    referrals = ngettext("%(num)d referral converted", "%(num)d referrals converted", r.referrals)
    return _("%(regular)s, a satisfaction score of %(score)d and %(referrals)s: the top of the ladder.",
             regular=regular, score=r.score, referrals=referrals)


def dropped(old: str | None, new: str | None) -> bool:
    return RANK[new] < RANK[old]
