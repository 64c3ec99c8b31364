"""Issue 19, point 1: the complaint page's economics as a shop owner reads them, in
Spanish, for a Chilean shop (CLP, no minor unit). Figures worked out by hand."""
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from pymes.clients.models import Client, ClientOpening
from pymes.complaints import services
from pymes.complaints.models import Complaint
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound
from tests.factories import santiago_today

from .test_complaints import as_user, open_case

OPENED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 20 Nov 2026, midday in Santiago


def _section(html, testid):
    return html.split(f'data-testid="{testid}"')[1].split("</p>")[0]


def test_without_a_remedy_cost_the_page_counts_nothing_twice(app, shop):
    case_id = open_case(app, shop)  # about the last 10.000 sale, 3.000 of margin
    html = as_user(app, shop["seller"]).get(f"/complaints/{case_id}").get_data(as_text=True)
    economics = html.split('data-testid="economics"')[1].split("</article>")[0]
    assert "$-" not in economics and "-$" not in economics
    assert _section(economics, "annual").startswith(">$36.000")
    assert _section(economics, "loss").startswith(">$0")
    assert _section(economics, "kept").startswith(">$36.000")   # not 39.000: never above what is at stake
    assert "no se sabe aún" in _section(economics, "cost")
    # the budget, before any remedy is chosen: 36.000 at stake + 3.000 of the sale's margin
    budget = _section(html, "budget")
    assert "$39.000" in budget and "$36.000" in budget and "$3.000" in budget
    # the rule in one sentence, and the article's own case a click away
    assert "lo que la venta afectada ya te dejó" in _section(economics, "economics-rule")
    example = economics.split('data-testid="article-example"')[1].split("</details>")[0]
    for amount in ("$10", "$3", "$36", "$7", "$29", "$0"):
        assert amount in example, amount


def test_a_client_who_bought_once_is_not_extrapolated(app, shop):
    """The bike of issue 19: one 1.250.000 purchase a month before, 250.000 of margin."""
    with app.app_context(), bound(shop["business"].id):
        bike = Client(name="Rosa Pinto", phone="+56911112222", seller_id=shop["seller"].id)
        db.session.add(bike)
        db.session.flush()
        db.session.add(Sale(client_id=bike.id, seller_id=shop["seller"].id, sold_on=santiago_today() - timedelta(days=30),
                            description="Bicicleta", amount=1_250_000, margin=250_000))
        db.session.commit()
        client = db.session.get(Client, bike.id)
        case_id = services.open_complaint(client, None, category="quality", description="Frenos malos").id
    html = as_user(app, shop["seller"]).get(f"/complaints/{case_id}").get_data(as_text=True)
    assert "Ha comprado una vez: usamos lo que ya te dejó." in html
    assert _section(html, "annual").startswith(">$250.000")
    assert "$1.875.000" not in html and "$625.000" not in html  # the old "a month" and "a year" of one purchase


def test_the_referral_value_sits_beside_the_budget(app, shop):
    with app.app_context(), bound(shop["business"].id):
        friend = Client(name="Amiga de Jorge", phone="+56933334444", referred_by_id=shop["client_id"],
                        source="referral")
        stranger = Client(name="Sin relación", phone="+56955556666")
        db.session.add_all([friend, stranger])
        db.session.flush()
        today = santiago_today()
        db.session.add_all([
            Sale(client_id=friend.id, sold_on=today - timedelta(days=40), description="x", amount=20_000, margin=4_000),
            Sale(client_id=friend.id, sold_on=today - timedelta(days=400), description="x", amount=90_000, margin=9_000),
            Sale(client_id=stranger.id, sold_on=today - timedelta(days=3), description="x", amount=50_000,
                 margin=20_000)])
        db.session.commit()
    case_id = open_case(app, shop)
    html = as_user(app, shop["seller"]).get(f"/complaints/{case_id}").get_data(as_text=True)
    # only the friend's sale of the last 12 months: 4.000 (not 13.000, not the stranger's 20.000)
    assert "$4.000" in _section(html, "referral-value")


def test_a_negative_value_kept_reads_with_the_sign_in_front(app, shop):
    case_id = open_case(app, shop)
    http = as_user(app, shop["seller"])
    fragment = http.get(f"/complaints/{case_id}/economics?remedy_cost=50.000", headers={"HX-Request": "true"})
    # 36.000 − (50.000 − 3.000) = −11.000
    assert _section(fragment.get_data(as_text=True), "kept").startswith(">-$11.000")


def _client_with_opening(app, shop, total):
    """An imported client (issue 17): 4 purchases from 10 Jan to 10 Sep 2026 in the
    shop's sheet, then one real sale on 2 Nov of 20.000 with 5.000 of margin."""
    with app.app_context(), bound(shop["business"].id):
        client = Client(name="Taller Norte", phone="+56977778888", seller_id=shop["seller"].id)
        db.session.add(client)
        db.session.flush()
        db.session.add(ClientOpening(client_id=client.id, purchases=4, period="ever", first_purchase_on=date(2026, 1, 10),
                                     last_purchase_on=date(2026, 9, 10), total_amount=total, total_period="ever"))
        db.session.add(Sale(client_id=client.id, seller_id=shop["seller"].id, sold_on=date(2026, 11, 2),
                            description="Compresor", amount=20_000, margin=5_000))
        db.session.commit()
        case = services.open_complaint(db.session.get(Client, client.id), None, category="quality",
                                       description="Fuga de aire")
        db.session.execute(update(Complaint).where(Complaint.id == case.id).values(opened_at=OPENED))
        db.session.commit()
        return case.id


def test_an_imported_opening_balance_counts_in_the_value_at_stake(app, shop):
    case_id = _client_with_opening(app, shop, total=40_000)
    with app.app_context(), bound(shop["business"].id):
        econ = services.economics_for(db.session.get(Complaint, case_id))
    # the sheet's 4 purchases (10.000 each, 10 Jan, 1 Apr, 21 Jun, 10 Sep) and the real sale:
    # 5 purchases in 11 months (January to November), a rhythm; 60.000 spent, margin 25 %
    # of the real sale applied to all: 60.000 / 11 × 12 × 0,25 = 16.363,6 → 16.364
    assert (econ.basis, econ.purchases, econ.imported, econ.months) == ("rhythm", 5, 4, 11)
    assert econ.annual_margin == 16_364
    html = as_user(app, shop["seller"]).get(f"/complaints/{case_id}").get_data(as_text=True)
    assert "4 de ellas de la planilla importada" in _section(html, "basis")


def test_an_opening_balance_without_a_total_is_left_out(app, shop):
    case_id = _client_with_opening(app, shop, total=None)
    with app.app_context(), bound(shop["business"].id):
        econ = services.economics_for(db.session.get(Complaint, case_id))
    # nothing to value in the sheet: the real sale alone, once, 5.000 left
    assert (econ.basis, econ.purchases, econ.imported, econ.annual_margin) == ("earned", 1, 0, 5_000)
