"""The board's figures on a small data set, each computed by hand: median times to
acknowledge and to resolve, recovery rate, remedy cost versus margin kept, per period;
and a CLP business's case page (no minor unit) showing its economics without decimals."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pymes.accounts.models import User
from pymes.clients.models import Client
from pymes.complaints import queries, services
from pymes.complaints.models import Complaint
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.sales.models import Sale
from pymes.tenancy import bound

from .test_complaints import as_user, open_case, post

# (days ago opened, hours to acknowledge, days to resolve or None, remedy cost, value kept, outcome)
# outcome: "bought" again after it, a "score" after it (9 happy, 3 unhappy), or None (too early)
CASES = [
    (10, 2, 1, 1_000, 5_000, "bought"),
    (8, 6, 3, 2_000, 7_000, "unhappy"),
    (5, 4, 2, 500, 9_000, None),
    (3, None, None, None, None, None),          # still open, not acknowledged
    (60, 8, 5, 3_000, 4_000, "happy"),          # only in the 90-day period
]


@pytest.fixture
def book(app, shop):
    now = utcnow()
    with app.app_context(), bound(shop["business"].id):
        for n, (ago, ack_h, resolve_d, cost, kept, outcome) in enumerate(CASES):
            client = Client(name=f"Cliente {n}", email=f"c{n}@example.com")
            db.session.add(client)
            db.session.flush()
            opened = now - timedelta(days=ago)
            case = services.open_complaint(client, None, category="quality", description=f"Caso {n}", commit=False)
            case.opened_at = opened
            if ack_h is not None:
                case.acknowledged_at, case.status = opened + timedelta(hours=ack_h), "acknowledged"
            if resolve_d is not None:
                case.resolved_at, case.status = opened + timedelta(days=resolve_d), "resolved"
                case.remedy, case.remedy_cost, case.value_kept = "refund", cost, kept
            db.session.flush()
            if outcome == "bought":
                db.session.add(Sale(client_id=client.id, sold_on=(case.resolved_at + timedelta(days=2)).date(),
                                    description="Otra compra", amount=9_000))
            elif outcome in ("happy", "unhappy"):
                feedback.create_link(client, None, sent_by="email")
                link_id = db.session.execute(select(FeedbackLink.id).where(FeedbackLink.client_id == client.id)
                                             ).scalar_one()
                answer = FeedbackResponse(link_id=link_id, client_id=client.id,
                                          score=9 if outcome == "happy" else 3)
                db.session.add(answer)
                db.session.flush()
                answer.created_at = case.resolved_at + timedelta(days=1)
        db.session.commit()
    return shop


def _figures(app, shop, days):
    with app.app_context(), bound(shop["business"].id):
        return queries.figures(db.session.get(User, shop["manager"].id), days)


def test_the_last_30_days_by_hand(app, book):
    f = _figures(app, book, 30)
    assert (f.opened, f.resolved) == (4, 3)
    assert f.median_ack_hours == pytest.approx(4)        # 2, 4, 6 → 4
    assert f.median_resolve_days == pytest.approx(2)     # 1, 2, 3 → 2
    # known outcomes: bought again (recovered) and 3/10 again (not); the third is too early
    assert (f.recovered, f.recovery_known, f.recovery_rate) == (1, 2, 0.5)
    assert f.remedy_cost == 1_000 + 2_000 + 500          # every remedy of the period
    assert f.value_kept == 5_000                         # only the recovered client's margin is kept


def test_the_last_90_days_take_the_older_case_in(app, book):
    f = _figures(app, book, 90)
    assert (f.opened, f.resolved) == (5, 4)
    assert f.median_ack_hours == pytest.approx(5)        # 2, 4, 6, 8 → (4 + 6) / 2
    assert f.median_resolve_days == pytest.approx(2.5)   # 1, 2, 3, 5 → (2 + 3) / 2
    assert (f.recovered, f.recovery_known) == (2, 3)     # + the 9/10 after the older case
    assert f.recovery_rate == pytest.approx(2 / 3)
    assert (f.remedy_cost, f.value_kept) == (6_500, 9_000)


def test_the_board_shows_the_periods_figures(app, book):
    http = as_user(app, book["manager"])
    html = http.get("/complaints?days=30").get_data(as_text=True)
    figures = html.split('data-testid="complaint-figures"')[1].split("</section>")[0]
    assert "4 / 3" in figures and "50" in figures and "1 de 2" in figures
    assert "$3.500 / $5.000" in figures
    wider = http.get("/complaints?days=90").get_data(as_text=True).split('data-testid="complaint-figures"')[1]
    assert "5 / 4" in wider and "2,5" in wider and "$6.500 / $9.000" in wider


# --- CLP: no minor unit, end to end -------------------------------------------------------------

AMOUNT = re.compile(r"\$\s?\d(?:[\d.,]*\d)?")  # a full stop after an amount ends the sentence


def test_a_clp_case_page_shows_whole_pesos_everywhere(app, shop):
    """The shop sells in CLP: 10.000 a month, 3.000 margin; a 10.000 replacement."""
    case_id = open_case(app, shop)
    http = as_user(app, shop["seller"])
    base = f"/complaints/{case_id}"
    assert post(http, f"{base}/remedy", {"remedy": "replacement", "remedy_cost": "10.000"}, base).status_code == 303
    html = http.get(base).get_data(as_text=True)
    economics = html.split('data-testid="economics"')[1].split("</article>")[0]
    amounts = AMOUNT.findall(economics)
    assert amounts, economics
    bad = [a for a in amounts if not re.fullmatch(r"\$\d{1,3}(\.\d{3})*", a)]
    assert not bad, bad  # no ",00", no cents
    for shown in ("$10.000", "$36.000", "$3.000", "$7.000", "$29.000", "$0", "$15.000"):
        assert shown in amounts, shown
    replacement = economics.split('data-testid="replacement"')[1]
    assert "$3.000" in replacement and "$15.000" in replacement  # a month of margin, five times
    history = html.split('data-testid="history"')[1].split("</ol>")[0]
    assert "$10.000" in history and "10000" not in history
    assert 'value="10000"' in html  # the remedy form shows the stored cost in whole pesos, ready to edit
    with app.app_context(), bound(shop["business"].id):
        assert db.session.get(Complaint, case_id).remedy_cost == 10_000  # stored in whole pesos
