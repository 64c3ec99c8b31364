"""The weekly key-client radar (issue 23, point 4): its figures against a small business
worked out by hand, the e-mail once per ISO week, the tenant's own clients only (TEN-1)
and a statement count that does not grow with the client book."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from pymes.accounts.models import Business, User
from pymes.clients import services as client_services
from pymes.clients.models import Client
from pymes.complaints.models import Complaint
from pymes.db import utcnow
from pymes.extensions import db
from pymes.radar.services import compute, send_radars, week_of
from pymes.referrals.models import ReferralAsk
from pymes.tenancy import bound
from tests.factories import santiago_today, statements


def _set(app, business, model, ident, **values):
    with app.app_context(), bound(business.id):
        row = db.session.get(model, ident)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()


def _radar(app, business, now=None):
    with app.app_context(), bound(business.id):
        return compute(db.session.get(Business, business.id), now or datetime.now(UTC))


def small_business(app, make, name="Ferretería Sur", tag=""):
    """The hand-worked business. Today T (Santiago):

    - Ana (frequent, pace 30): sales 1,000,000 at T-100 and T-40, a call done at T-35:
      last contact T-35, 35 days > 30: past her pace. Key (Pareto).
    - Bruno (frequent, pace 30): a sale of 800,000 at T-10: within his pace. Key
      (2,000,000 + 800,000 = 99.6 % of 2,810,000; Ana alone is 71 %).
    - Carla: a one-off buyer, 10,000 at T-200: not key, so not on the radar though
      200 days have gone by.
    - Dora: marked key by hand, no sale, never contacted: past her pace.
    - Eva: dropped from frequent to sporadic (not acknowledged); Fede dropped too but
      someone acknowledged it.
    - Gina answered 10 and was never asked; Hugo answered 9 and was asked at a visit;
      Inés answered 10 and referred a friend; Juan answered 10, then 7 (latest: not a promoter).
    - Complaints: Karla's to acknowledge within a day (close), Leo's acknowledged and
      to resolve in ten days (far), Mía's ten hours late (close: late).
    """
    today = santiago_today()
    now = utcnow()
    business = make.business(name)
    owner = make.user(business, "owner", language="en")
    make.user(business, "manager")
    seller = make.user(business, "seller")
    c = {}
    for who in ("Ana", "Bruno", "Carla", "Dora", "Eva", "Fede", "Gina", "Hugo", "Inés", "Juan", "Karla", "Leo",
                "Mía"):
        c[who] = make.client(business, f"{who}{tag} Soto", phone="+56 9 8765 43" + str(10 + len(c)),
                             seller_id=seller.id)
    make.sale(business, c["Ana"], 1_000_000, sold_on=today - timedelta(days=100))
    make.sale(business, c["Ana"], 1_000_000, sold_on=today - timedelta(days=40))
    make.call(business, c["Ana"], purpose="check_in", due_on=today - timedelta(days=35), status="done",
              done_on=today - timedelta(days=35))
    make.sale(business, c["Bruno"], 800_000, sold_on=today - timedelta(days=10))
    make.sale(business, c["Carla"], 10_000, sold_on=today - timedelta(days=200))
    for who in ("Ana", "Bruno"):
        _set(app, business, Client, c[who].id, tier="frequent")
    _set(app, business, Client, c["Dora"].id, is_key=True)
    for who in ("Eva", "Fede"):
        _set(app, business, Client, c[who].id, tier="frequent")
        with app.app_context(), bound(business.id):
            client_services.override_tier(db.session.get(User, owner.id), db.session.get(Client, c[who].id),
                                          "sporadic", "Dejó de venir")
    with app.app_context(), bound(business.id):
        client_services.acknowledge_drop(db.session.get(Client, c["Fede"].id))
    make.answer(business, client=c["Gina"], score=10)
    make.answer(business, client=c["Hugo"], score=9)
    visit = make.visit(business, c["Hugo"], purpose="delivery", status="done")
    with app.app_context(), bound(business.id):
        db.session.add(ReferralAsk(activity_id=visit.id, client_id=c["Hugo"].id, asked_by_id=seller.id))
        db.session.commit()
    make.answer(business, client=c["Inés"], score=10)
    make.referral(business, c["Inés"])
    make.answer(business, client=c["Juan"], score=10)
    make.answer(business, client=c["Juan"], score=7)
    make.complaint(business, c["Karla"], ack_due_at=now + timedelta(days=1), resolve_due_at=now + timedelta(days=5))
    make.complaint(business, c["Leo"], status="acknowledged", acknowledged_at=now,
                   ack_due_at=now - timedelta(days=1), resolve_due_at=now + timedelta(days=10))
    make.complaint(business, c["Mía"], ack_due_at=now - timedelta(hours=10), resolve_due_at=now + timedelta(days=3))
    return business, owner, c


def test_the_radar_s_figures_are_those_worked_out_by_hand(app, make):
    business, _owner, c = small_business(app, make)
    radar = _radar(app, business)
    today = santiago_today()

    assert radar.key_total == 3  # Ana and Bruno (Pareto), Dora (marked)
    assert radar.key_overdue_total == 2
    dora, ana = radar.key_overdue  # never contacted first
    assert (dora.reach.name, dora.last_contact, dora.days_since) == ("Dora Soto", None, None)
    assert (ana.reach.name, ana.tier, ana.last_contact, ana.days_since, ana.pace_days) == (
        "Ana Soto", "frequent", today - timedelta(days=35), 35, 30)
    assert ana.reach.client_url.endswith(f"/clients/{c['Ana'].id}")
    assert ana.reach.call_url == "tel:+56987654310"
    assert ana.reach.whatsapp_url == "https://wa.me/56987654310"

    assert radar.drops_total == 1
    (eva,) = radar.drops
    assert (eva.reach.name, eva.old_tier, eva.new_tier, eva.dropped_on) == ("Eva Soto", "frequent", "sporadic", today)

    assert radar.promoters_total == 1
    (gina,) = radar.promoters
    assert (gina.reach.name, gina.score) == ("Gina Soto", 10)

    assert radar.complaints_total == 2
    mia, karla = radar.complaints  # the nearest deadline first: Mía's is past
    assert (mia.client_name, mia.target, mia.late) == ("Mía Soto", "acknowledge", True)
    assert (karla.client_name, karla.target, karla.late) == ("Karla Soto", "acknowledge", False)
    with app.app_context(), bound(business.id):
        karla_case = db.session.execute(select(Complaint.id).where(Complaint.client_id == c["Karla"].id)).scalar_one()
    assert karla.url.endswith(f"/complaints/{karla_case}")


def test_another_business_s_clients_never_appear_on_the_radar(app, make):
    """TEN-1: two businesses with the same kinds of clients; each radar names only its own."""
    ours, _owner, _c = small_business(app, make, "Nuestra", tag="N")
    theirs, _other, _d = small_business(app, make, "Vecina", tag="V")
    for business, mine, other in ((ours, "N Soto", "V Soto"), (theirs, "V Soto", "N Soto")):
        radar = _radar(app, business)
        names = ([k.reach.name for k in radar.key_overdue] + [d.reach.name for d in radar.drops]
                 + [p.reach.name for p in radar.promoters] + [x.client_name for x in radar.complaints])
        assert len(names) == 2 + 1 + 1 + 2
        assert all(name.endswith(mine) for name in names) and not any(other in name for name in names)
        assert (radar.key_total, radar.key_overdue_total, radar.drops_total, radar.promoters_total,
                radar.complaints_total) == (3, 2, 1, 1, 2)


def _book(app, make, size: int):
    """A business of ``size`` clients, each with a sale, a done call, an answer, a drop
    and a complaint: every list of the radar has rows."""
    business = make.business()
    make.user(business, "owner")
    now = utcnow()
    today = santiago_today()
    with app.app_context(), bound(business.id):
        from pymes.clients.models import TierChange
        from pymes.feedback.models import FeedbackLink, FeedbackResponse
        from pymes.sales.models import Sale
        from pymes.visits.models import Activity

        for n in range(size):
            client = Client(name=f"Cliente {n}", phone=f"+569{80000000 + n}", tier="frequent", is_key=True,
                            sales_count=1, last_sale_on=today - timedelta(days=60), tier_dropped_at=now)
            db.session.add(client)
            db.session.flush()
            db.session.add_all([
                Sale(client_id=client.id, sold_on=today - timedelta(days=60), description="x", amount=1000 + n),
                Activity(client_id=client.id, kind="call", purpose="check_in", due_on=today - timedelta(days=50),
                         status="done", done_on=today - timedelta(days=50), done_at=now),
                TierChange(client_id=client.id, old_tier="apostle", new_tier="frequent", source="computed"),
                Complaint(client_id=client.id, description="x", opened_at=now, ack_due_at=now + timedelta(hours=n),
                          resolve_due_at=now + timedelta(days=2)),
            ])
            link = FeedbackLink(client_id=client.id, expires_at=now)
            db.session.add(link)
            db.session.flush()
            db.session.add(FeedbackResponse(link_id=link.id, client_id=client.id, score=10))
        db.session.commit()
    return business


def test_the_radar_reads_a_fixed_number_of_statements_whatever_the_book_s_size(app, make):
    small, large = _book(app, make, 5), _book(app, make, 50)
    counts, totals = [], []
    for business in (small, large):
        with app.app_context(), bound(business.id):
            row = db.session.get(Business, business.id)
            with statements(app) as seen:
                radar = compute(row, datetime.now(UTC))
            counts.append(len(seen))
            totals.append((radar.key_overdue_total, radar.drops_total, radar.promoters_total, radar.complaints_total))
    assert totals == [(5, 5, 5, 5), (50, 50, 50, 50)]
    # the cadence; the Pareto total, ranking and rows; the key clients; the drops; the promoters; the complaints
    assert counts[0] == counts[1] == 8, counts


def _radars(outbox):
    return [m for m in outbox.messages() if m["X-Pymes-Template"] == "radar"]


def test_the_radar_goes_to_each_owner_once_per_iso_week_in_their_language(app, make, outbox):
    business, owner, _c = small_business(app, make)
    second_owner = make.user(business, "owner", language="es")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["pymes", "send-radar"])
    assert first.exit_code == 0 and "2 radars sent" in first.output, first.output
    again = runner.invoke(args=["pymes", "send-radar"])
    assert again.exit_code == 0 and "0 radars sent" in again.output, again.output
    messages = _radars(outbox)
    assert sorted(m["To"] for m in messages) == sorted([owner.email, second_owner.email])  # no manager, no seller
    english = next(m for m in messages if m["To"] == owner.email)
    spanish = next(m for m in messages if m["To"] == second_owner.email)
    assert english["Subject"] == "Your week's radar at Ferretería Sur"
    assert "Ferretería Sur" in spanish["Subject"] and spanish["Subject"] != english["Subject"]
    text = english.get_body(preferencelist=("plain",)).get_content()
    html = english.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "Key clients past their contact pace: 2" in body
        assert "Ana Soto" in body and "Dora Soto" in body and "Bruno Soto" not in body and "Carla Soto" not in body
        assert "Clients who dropped a tier: 1" in body and "Eva Soto" in body and "Fede Soto" not in body
        assert "Promoters never asked for a referral: 1" in body and "Gina Soto" in body
        assert "Hugo Soto" not in body and "Inés Soto" not in body and "Juan Soto" not in body
        assert "Complaints close to their deadline: 2" in body and "Leo Soto" not in body
        assert "https://wa.me/56987654310" in body and "/complaints/" in body
    assert "Hello" in text and "Hola" in spanish.get_body(preferencelist=("plain",)).get_content()


def test_a_new_week_sends_a_new_radar_and_an_empty_one_sends_nothing(app, make, outbox):
    business, _owner, _c = small_business(app, make)
    quiet = make.business("Sin Novedades")
    make.user(quiet, "owner")
    with app.app_context():
        monday = datetime.combine(week_of(santiago_today()) + timedelta(days=7), datetime.min.time(), UTC)
        noon = monday + timedelta(hours=15)  # Monday noon in Santiago
        assert send_radars(now=noon) == 1  # the quiet business has nothing: no e-mail
        assert send_radars(now=noon + timedelta(days=3)) == 0  # Thursday, same ISO week
        assert send_radars(now=noon + timedelta(days=7)) == 1  # the next Monday
    assert len(_radars(outbox)) == 2


def test_a_business_that_fails_does_not_stop_the_others(app, make, outbox, monkeypatch):
    """Like send-digests: the failing business is logged, the next one still gets its
    radar, and the command exits 1 so cron notices."""
    from pymes.radar import services

    broken, _o1, _c1 = small_business(app, make, "Rota", tag="R")
    working, owner, _c2 = small_business(app, make, "Sana", tag="S")
    real = services.compute

    def compute_or_fail(business, now=None):
        if business.id == broken.id:
            raise RuntimeError("a bad row")
        return real(business, now)

    monkeypatch.setattr(services, "compute", compute_or_fail)
    result = app.test_cli_runner().invoke(args=["pymes", "send-radar"])
    assert result.exit_code == 1, result.output
    assert "1 radars sent" in result.output and str(broken.id) in result.output
    assert [m["To"] for m in _radars(outbox)] == [owner.email]


def test_a_radar_e_mail_holds_nothing_of_another_business(app, make, outbox):
    """TEN-3 for the radar: business B's distinctive strings appear 0 times in A's radar
    (headers and both parts decoded), and B's own radar carries them, so the check can bite."""
    canary = "CANARY" + "".join(random.choice("QXZJ") for _ in range(8))
    _a, a_owner, _ca = small_business(app, make, "Negocio A", tag="A")
    _b, b_owner, _cb = small_business(app, make, f"{canary} negocio", tag=canary)
    with app.app_context():
        assert send_radars() == 2
    mine = [m for m in _radars(outbox) if m["To"] == a_owner.email]
    theirs = [m for m in _radars(outbox) if m["To"] == b_owner.email]
    assert len(mine) == len(theirs) == 1
    text = " ".join([str(value) for value in mine[0].values()] + [
        part.get_content() for part in mine[0].walk() if not part.is_multipart()])
    assert "AnaA Soto" in text and canary.lower() not in text.lower()
    assert f"Ana{canary} Soto" in theirs[0].get_body(preferencelist=("plain",)).get_content()
